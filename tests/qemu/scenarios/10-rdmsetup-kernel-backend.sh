# rdmsetup on the kernel backend: the documented four-device stack built
# with rdmsetup alone, every report printed exactly as real dmsetup prints it
# (diffed), devices indistinguishable from dmsetup's, and the fault cases.
. /guest/lib.sh
export RLVM_BACKEND=kernel

# same CMD...: rdmsetup and dmsetup print byte-identical stdout and agree on success.
same() {
    rc_r=0; rc_d=0
    rdmsetup "$@" >/tmp/r.out 2>/tmp/r.err || rc_r=$?
    dmsetup "$@" >/tmp/d.out 2>/tmp/d.err || rc_d=$?
    if ! cmp -s /tmp/r.out /tmp/d.out; then
        echo "--- dmsetup $*"; cat /tmp/d.out
        echo "--- rdmsetup $*"; cat /tmp/r.out
        diff /tmp/d.out /tmp/r.out || true
        fail "rdmsetup $* differs from dmsetup"
    fi
    [ "$rc_r" = "$rc_d" ] || fail "rdmsetup $* exited $rc_r, dmsetup $rc_d ($(cat /tmp/r.err))"
    echo "same: $*"
    n=$((n + 1))
    cp /tmp/d.out "$RESULTS/$(printf %02d $n)-$(echo "$*" | tr ' /,' '___').dmsetup"
}
n=0

# expect_fail WHAT TEXT CMD...: CMD exits 1 with one stderr line containing TEXT.
expect_fail() {
    what=$1 text=$2
    shift 2
    rc=0
    "$@" >/tmp/f.out 2>/tmp/f.err || rc=$?
    [ "$rc" = 1 ] || fail "$what: exit $rc, expected 1 ($(cat /tmp/f.err))"
    [ "$(wc -l </tmp/f.err)" = 1 ] || fail "$what: stderr is not one line: $(cat /tmp/f.err)"
    grep -qF -- "$text" /tmp/f.err || fail "$what: stderr lacks '$text': $(cat /tmp/f.err)"
    echo "ok: $what: $(cat /tmp/f.err)"
}

pv=$(new_loop pv 32M)
same ls
same ls --tree
same table
same info
rdmsetup version | tee "$RESULTS/version.txt"
grep -q "^Driver version:    $(dmsetup version | sed -n 's/^Driver version: *//p')\$" "$RESULTS/version.txt" || fail "driver version"
same targets

# --- the stack, rdmsetup only; nodes appear without dmsetup mknodes
rdmsetup create vg-base --table "0 16384 linear $pv 384" -u LVM-rdmsetupbase000000000000000000
[ -b /dev/mapper/vg-base ] || fail "rdmsetup create made no /dev/mapper/vg-base"
dd if="$INPUT/origin.bin" of=/dev/mapper/vg-base bs=1M conv=fsync 2>/dev/null
old3=$(blocks_sha /dev/mapper/vg-base 4096 3 1)
rdmsetup create vg-base-real --table "0 16384 linear $pv 384"
rdmsetup create vg-snap-cow --table "0 8192 linear $pv 16768"
dd if=/dev/zero of=/dev/mapper/vg-snap-cow bs=4096 count=1 conv=fsync 2>/dev/null
rdmsetup suspend vg-base
real=$(dm_number vg-base-real)
cow=$(dm_number vg-snap-cow)
rdmsetup create vg-snap --table "0 16384 snapshot $real $cow P 8" -u LVM-rdmsetupsnap000000000000000000
echo "0 16384 snapshot-origin $real" | rdmsetup load vg-base
# the origin suspended with an inactive table: LIsw
same info -c
same info vg-base
same table --inactive vg-base
same table vg-base
rdmsetup resume vg-snap
rdmsetup resume vg-base
expect_eq "$(rdmsetup info -c --noheadings -o attr vg-base)" "L--w" "origin live again"

for cmd in ls "ls --tree" table status info "info -c" deps "info -c -o name,major,minor --noheadings" \
    "info -c --separator ," "info -c -o uuid,name,devno" "table vg-snap" "status vg-snap" \
    "info vg-snap" "info -c vg-snap" "deps vg-snap" "status vg-base"; do
    # shellcheck disable=SC2086
    same $cmd
done
expect_eq "$(dm_status vg-snap)" "16/8192 16" "fresh snapshot status"

# --- the snapshot keeps the old data
write_block "$INPUT/new.bin" /dev/mapper/vg-base 4096 0 3
write_block "$INPUT/new.bin" /dev/mapper/vg-base 4096 1 10
expect_eq "$(blocks_sha /dev/mapper/vg-snap 4096 3 1)" "$old3" "snapshot keeps the old chunk 3"
expect_eq "$(blocks_sha /dev/mapper/vg-base 4096 3 1)" "$(blocks_sha "$INPUT/new.bin" 4096 0 1)" "origin has the new chunk 3"
expect_eq "$(blocks_sha /dev/mapper/vg-snap 4096 0 2048)" "$(blocks_sha "$INPUT/origin.bin" 4096 0 2048)" "whole snapshot equals the old origin"
same status
same info -c

# --- indistinguishable from dmsetup-created devices
dmsetup create d-twin -r -u TWIN-by-dmsetup --table "0 2048 linear $pv 30000"
rdmsetup create r-twin -r -u TWIN-by-rdmsetup --table "0 2048 linear $pv 30000"
[ -b /dev/mapper/d-twin ] || dmsetup mknodes d-twin
expect_eq "$(rdmsetup table r-twin)" "$(dmsetup table d-twin)" "twin tables"
expect_eq "$(dmsetup info -c --noheadings -o attr,open,segments,events r-twin)" \
    "$(dmsetup info -c --noheadings -o attr,open,segments,events d-twin)" "twin attr/open/segments/events"
expect_eq "$(dmsetup info -c --noheadings -o name,uuid r-twin)" "r-twin:TWIN-by-rdmsetup" "rdmsetup name and uuid as dmsetup sees them"
expect_eq "$(dmsetup info -c --noheadings -o attr r-twin)" "L--r" "read-only as dmsetup sees it"
expect_eq "$(blockdev --getro /dev/mapper/r-twin)" "1" "read-only block device"
expect_eq "$(stat -c '%t:%T %a' /dev/mapper/r-twin)" "$(stat -c '%t:%T' /dev/mapper/r-twin) 600" "node mode 0600"
same info r-twin
exec 3</dev/mapper/r-twin
expect_eq "$(rdmsetup info -c --noheadings -o open r-twin)" "1" "open count seen by rdmsetup"
same info -c r-twin
exec 3<&-
dmsetup remove d-twin
rdmsetup rename r-twin r-twin2
[ -b /dev/mapper/r-twin2 ] && [ ! -e /dev/mapper/r-twin ] || fail "rename did not move the node"
same ls
rdmsetup remove r-twin2
[ ! -e /dev/mapper/r-twin2 ] || fail "remove left the node"

# --- clear, --noflush, and a private node directory (DM_DEV_DIR, as dmsetup)
rdmsetup suspend --noflush vg-base
expect_eq "$(rdmsetup info -c --noheadings -o attr vg-base)" "L-sw" "suspended with --noflush"
rdmsetup load vg-base --table "0 16384 snapshot-origin $real"
expect_eq "$(rdmsetup info -c --noheadings -o attr vg-base)" "LIsw" "inactive table loaded"
rdmsetup clear vg-base
expect_eq "$(rdmsetup info -c --noheadings -o attr vg-base)" "L-sw" "clear dropped the inactive table"
same info vg-base
rdmsetup resume vg-base
mkdir -p /tmp/devdir
DM_DEV_DIR=/tmp/devdir rdmsetup create p-node --table "0 2048 linear $pv 52000"
[ -b /tmp/devdir/mapper/p-node ] || fail "DM_DEV_DIR node missing"
[ ! -e /dev/mapper/p-node ] || fail "node made outside DM_DEV_DIR"
DM_DEV_DIR=/tmp/devdir rdmsetup remove p-node
[ ! -e /tmp/devdir/mapper/p-node ] || fail "DM_DEV_DIR node left behind"

# --- mknodes repairs
rm /dev/mapper/vg-snap-cow
mknod /dev/mapper/stale-node b 7 99
rdmsetup mknodes
[ -b /dev/mapper/vg-snap-cow ] || fail "mknodes did not recreate vg-snap-cow"
[ ! -e /dev/mapper/stale-node ] || fail "mknodes left a stale node"
expect_eq "$(stat -c '%t:%T' /dev/mapper/vg-snap-cow)" "$(printf '%x:%x' $(echo "$cow" | tr : ' '))" "recreated node number"

# --- fault cases
expect_fail "remove an open device" "vg-base-real: device is busy" rdmsetup remove vg-base-real
dmsetup info vg-base-real >/dev/null || fail "vg-base-real gone after a refused remove"
expect_fail "load over a missing device" "vg-nosuch: no such device" rdmsetup load vg-nosuch --table "0 8 linear $pv 0"
expect_fail "status of a missing device" "vg-nosuch: no such device" rdmsetup status vg-nosuch
expect_fail "create an existing device" "vg-base: device or UUID already exists" rdmsetup create vg-base --table "0 8 linear $pv 0"
expect_fail "table over a missing device" "vg-bad: table refused" rdmsetup create vg-bad --table "0 8 linear 254:200 0"
cat /tmp/f.err >"$RESULTS/missing-device-error.txt"
dmsetup info vg-bad >/dev/null 2>&1 && fail "failed create left vg-bad behind"
[ ! -e /dev/mapper/vg-bad ] || fail "failed create left a node behind"
dmsetup create c2-cow --table "0 64 linear $pv 40000"
dmsetup mknodes
dd if=/dev/zero of=/dev/mapper/c2-cow bs=4096 count=1 conv=fsync 2>/dev/null
expect_fail "chunk size not a power of 2" "vg-snap2: table refused" \
    rdmsetup create vg-snap2 --table "0 16384 snapshot $real $(dm_number c2-cow) P 7"
cat /tmp/f.err >"$RESULTS/chunk-error.txt"
grep -q "exception store" /tmp/f.err || fail "chunk error does not carry the kernel's reason"
dmsetup info vg-snap2 >/dev/null 2>&1 && fail "failed create left vg-snap2 behind"
expect_fail "message to a snapshot" "vg-snap: message refused" rdmsetup message vg-snap 0 hello
expect_fail "wait times out" "vg-base: no event" rdmsetup wait vg-base 0 --timeout 1

# remove -f on an open device: still refused, but its table now fails all I/O
dmsetup create f-open --table "0 2048 linear $pv 50000"
dmsetup mknodes f-open
exec 4</dev/mapper/f-open
expect_fail "remove -f an open device" "f-open: device is busy" rdmsetup remove -f f-open
expect_eq "$(rdmsetup table f-open)" "0 2048 error " "remove -f swapped in an error table"
exec 4<&-
rdmsetup remove f-open

# --- a COW that fills up: 64 sectors = header + metadata + 6 data chunks
rdmsetup suspend vg-base
rdmsetup create vg-small --table "0 16384 snapshot $real $(dm_number c2-cow) P 8"
rdmsetup resume vg-base
same status vg-small
for i in 0 1 2 3 4; do write_block "$INPUT/new.bin" /dev/mapper/vg-base 4096 "$i" "$((i * 2 + 50))"; done
for i in 0 1 2 3 4; do write_block "$INPUT/new.bin" /dev/mapper/vg-base 4096 "$i" "$((i * 2 + 100))"; done
expect_eq "$(dm_status vg-small)" "Invalid" "overfilled snapshot is Invalid"
same status
same info -c
same ls --tree
same info vg-small
expect_eq "$(rdmsetup info -c --noheadings -o events vg-small)" "1" "invalidation raised the event counter"
rdmsetup wait vg-small 0 --timeout 5
expect_eq "$(dm_status vg-snap)" "$(dmsetup status vg-snap | cut -d' ' -f4-)" "the other snapshot still reports usage"
expect_eq "$(blocks_sha /dev/mapper/vg-base 4096 100 1)" "$(blocks_sha "$INPUT/new.bin" 4096 0 1)" "origin still takes writes"
expect_eq "$(blocks_sha /dev/mapper/vg-snap 4096 3 1)" "$old3" "the healthy snapshot still has the old chunk 3"

# --- dmsetup's global options (issue 12): the same invocations, the same bytes
same -v table vg-base
same table -v vg-snap
same -v info vg-base
same -v status
same -v table
same -u LVM-rdmsetupbase000000000000000000 table
same -u LVM-rdmsetupsnap000000000000000000 info
same --noudevsync -y table vg-base
same --verifyudev info -c vg-base
# -v after a change: the device's information (names and numbers aside)
rdmsetup -v --noudevsync create o-r -r --table "0 8 zero" | sed -e '/^Name:/d' -e '/^Major, minor:/d' >/tmp/r.out
dmsetup -v --noudevsync create o-d -r --table "0 8 zero" | sed -e '/^Name:/d' -e '/^Major, minor:/d' >/tmp/d.out
cmp -s /tmp/r.out /tmp/d.out || { diff /tmp/d.out /tmp/r.out; fail "create -v differs"; }
grep -q "READ-ONLY" /tmp/d.out || fail "create -r made no read-only device"
same -v --nolockfs suspend o-d
same -v resume o-d
same --noflush -v suspend o-d
same -v resume o-d
rdmsetup -f remove o-r
dmsetup -f remove o-d
# --manglename: auto (dmsetup's default) gives the kernel \xNN for a space
rdmsetup create "m r" --table "0 8 zero"
expect_eq "$(dmsetup --manglename none info -c --noheadings -o name 'm\x20r')" 'm\x20r' "auto-mangled name"
same --manglename none table 'm\x20r'
rdmsetup remove "m r"
expect_fail "--minor on the kernel backend" "--major/--minor" rdmsetup create o-m -m 200 --table "0 8 zero"

# --- table numbers (issue 11 item 9): what the kernel says, and rdmsetup's one line
: >"$RESULTS/table-numbers.txt"
check_numbers() {
    what=$1 table=$2
    rc=0
    printf '%s\n' "$table" | dmsetup create numchk >/tmp/k.out 2>&1 || rc=$?
    dmsetup remove numchk >/dev/null 2>&1 || true
    echo "kernel: $what: rc=$rc: $(tr '\n' ' ' </tmp/k.out) dmesg: $(dmesg | tail -n 3 | grep -v "unable to set up device queue\|error adding target" | tr "\n" " ")" >>"$RESULTS/table-numbers.txt"
    [ "$rc" != 0 ] || fail "$what: the kernel took it"
    expect_fail "$what" "$3" rdmsetup create numchk2 --table "$table"
    echo "rdmsetup: $what: $(cat /tmp/f.err)" >>"$RESULTS/table-numbers.txt"
}
check_numbers "zero of 2^63-1 sectors" "0 9223372036854775807 zero" "too large device"
check_numbers "linear offset 2^64-1" "0 8 linear $pv 18446744073709551615" "offset 18446744073709551615"
check_numbers "linear past its device" "0 65537 linear $pv 0" "table refused"
check_numbers "snapshot past its origin" "0 65537 snapshot $pv $(dm_number c2-cow) P 8" "table refused"
cat "$RESULTS/table-numbers.txt"

# --- teardown with rdmsetup, origin first
rdmsetup suspend vg-base
rdmsetup remove vg-small
rdmsetup remove vg-snap
rdmsetup load vg-base --table "0 16384 linear $pv 384"
rdmsetup resume vg-base
rdmsetup remove_all
same ls
expect_eq "$(rdmsetup ls)" "No devices found" "all gone"
