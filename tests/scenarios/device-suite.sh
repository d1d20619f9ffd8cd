#!/bin/sh
# The device-level scenario suite: one script, the same expectations, run
# unchanged on both backends -- the kernel's device-mapper (in the QEMU guest,
# under busybox sh: tests/qemu/scenarios/11-device-suite.sh) and rlvm's
# userspace engine (on the host, through its mapper files or NBD:
# tests/cli/device_suite.rs). POSIX sh; uses only rdmsetup, rcow, dd, cmp,
# od, sync (plus nbdcopy and qemu-io when IO=nbd).
#
# What differs by nature is normalised, nothing else: the dm major number
# (printed as M) and how a backing device is printed (an image path on the
# engine, major:minor of a loop device or disk on the kernel; printed as
# BASE, COW, COW2).
#
# Environment:
#   BASE      backing device or image file, >= 9 MiB (origin in its first 8 MiB)
#   COW       backing device or image file, >= 4 MiB (the snapshot's COW)
#   COW2      backing device or image file, >= 32 KiB (a COW that fills up)
#   RDMSETUP  the rdmsetup command (default: rdmsetup); its backend is the one tested
#   RCOW      the rcow command (default: rcow)
#   NODE_DIR  where device NAME appears as NODE_DIR/NAME (default: $RLVM_DIR/mapper
#             when RLVM_DIR is set, else ${DM_DEV_DIR:-/dev}/mapper)
#   IO        node (default): data through the device nodes / mapper files;
#             nbd: through the engine's NBD exports (nbdcopy reads, qemu-io writes)
#   NBD_SOCKET  the NBD socket for IO=nbd (default: $RLVM_DIR/nbd.sock)
#   WORK      scratch directory for expected data (default: a new one in ${TMPDIR:-/tmp})
# Exits non-zero with "FAIL: ..." at the first mismatch.
set -eu

: "${BASE:?BASE: backing device or file}" "${COW:?COW: backing device or file}" "${COW2:?COW2: backing device or file}"
RDMSETUP=${RDMSETUP:-rdmsetup}
RCOW=${RCOW:-rcow}
IO=${IO:-node}
if [ -z "${NODE_DIR:-}" ]; then
    if [ -n "${RLVM_DIR:-}" ]; then NODE_DIR=$RLVM_DIR/mapper; else NODE_DIR=${DM_DEV_DIR:-/dev}/mapper; fi
fi
if [ -z "${WORK:-}" ]; then
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/device-suite.XXXXXX")
fi
mkdir -p "$WORK"
W=$WORK
CHUNK=4096

fail() {
    echo "FAIL: $*" >&2
    echo "FAIL: $*"
    exit 1
}
ok() { echo "ok: $*"; }
expect_eq() {
    [ "$1" = "$2" ] || fail "$3:
--- got
$1
--- expected
$2"
    ok "$3"
}
# shellcheck disable=SC2086 # RDMSETUP may carry arguments
dm() { $RDMSETUP "$@"; }

# The path device NAME appears at (asks for nodes once if it is missing).
node() {
    [ -e "$NODE_DIR/$1" ] || dm mknodes >/dev/null 2>&1 || true
    [ -e "$NODE_DIR/$1" ] || fail "$1: no node at $NODE_DIR/$1"
    echo "$NODE_DIR/$1"
}
uri() { echo "nbd+unix:///$1?socket=${NBD_SOCKET:-${RLVM_DIR:?RLVM_DIR}/nbd.sock}"; }
size_of() { wc -c <"$1" | tr -d ' '; }

# read_chunks NAME FIRST COUNT OUT: COUNT 4 KiB chunks of device NAME from chunk FIRST into file OUT.
read_chunks() {
    case $IO in
    nbd)
        rm -f "$W/nbd.img"
        nbdcopy "$(uri "$1")" "$W/nbd.img" || return 1
        dd if="$W/nbd.img" of="$4" bs=$CHUNK skip="$2" count="$3" 2>/dev/null
        ;;
    *) dd if="$(node "$1")" of="$4" bs=$CHUNK skip="$2" count="$3" 2>/dev/null ;;
    esac
}
# write_at NAME SECTOR FILE: FILE's bytes to device NAME at 512-byte sector SECTOR, flushed.
write_at() {
    case $IO in
    nbd) qemu-io -f raw -c "write -q -s $3 $(($2 * 512)) $(size_of "$3")" -c flush "$(uri "$1")" >/dev/null ;;
    *) dd if="$3" of="$(node "$1")" bs=512 seek="$2" conv=notrunc,fsync 2>/dev/null ;;
    esac
}
# write_chunk NAME CHUNK FILE: a 4 KiB FILE over chunk CHUNK of device NAME.
write_chunk() { write_at "$1" $(($2 * 8)) "$3"; }
# patch FILE OFFSET_BYTES SRC: the model of a write, applied to an expected image.
patch() { dd if="$3" of="$1" bs=512 seek=$(($2 / 512)) conv=notrunc 2>/dev/null; }
# piece SRC FIRST COUNT OUT: COUNT 4 KiB chunks of file SRC from FIRST into OUT.
piece() { dd if="$1" of="$4" bs=$CHUNK skip="$2" count="$3" 2>/dev/null; }

# same_file GOT EXPECTED WHAT
same_file() {
    cmp "$1" "$2" >"$W/cmp.out" 2>&1 || fail "$3: contents differ ($(cat "$W/cmp.out"))"
    ok "$3"
}
# expect_chunks NAME FIRST COUNT EXPECTED_FILE EXPECTED_FIRST WHAT
expect_chunks() {
    read_chunks "$1" "$2" "$3" "$W/got.img" || fail "$6: reading $1 failed"
    piece "$4" "$5" "$3" "$W/want.img"
    same_file "$W/got.img" "$W/want.img" "$6"
}
# expect_device NAME EXPECTED_FILE CHUNKS WHAT: the whole device, byte for byte.
expect_device() { expect_chunks "$1" 0 "$3" "$2" 0 "$4"; }

# expect_refused WHAT TEXT CMD...: CMD exits 1, with one stderr line containing TEXT.
expect_refused() {
    what=$1 text=$2
    shift 2
    rc=0
    "$@" >"$W/err.out" 2>"$W/err.txt" || rc=$?
    [ "$rc" = 1 ] || fail "$what: exit $rc, expected 1 ($(cat "$W/err.txt"))"
    [ "$(wc -l <"$W/err.txt" | tr -d ' ')" = 1 ] || fail "$what: stderr is not one line: $(cat "$W/err.txt")"
    grep -qF -- "$text" "$W/err.txt" || fail "$what: stderr lacks '$text': $(cat "$W/err.txt")"
    ok "$what: $(cat "$W/err.txt")"
}

devno() { dm info -c --noheadings -o major,minor "$1" | tr -d ' '; }
attr() { dm info -c --noheadings -o attr "$1" | tr -d ' '; }
events() { dm info -c --noheadings -o events "$1" | tr -d ' '; }
opens() { dm info -c --noheadings -o open "$1" | tr -d ' '; }
params() { dm status "$1" | cut -d' ' -f4-; }

# Normalise reports: the dm major as M; in info -c also the column padding;
# in tables the backing devices by role. Tables and statuses keep their
# trailing spaces.
norm_info() {
    sed -e 's/  */ /g' -e "s|^\([^ ]*\) $MAJOR |\1 M |" -e 's/ *$//'
}
norm_table() {
    sed -e "s| $base_shown | BASE |g" -e "s| $cow_shown | COW |g" -e "s| $cow2_shown | COW2 |g" -e "s| $MAJOR:| M:|g"
}

# Test data: a random origin and new chunks, with the expected contents kept as files.
dd if=/dev/urandom of="$W/origin.img" bs=$CHUNK count=2048 2>/dev/null
dd if=/dev/urandom of="$W/new.img" bs=$CHUNK count=32 2>/dev/null
i=0
while [ $i -lt 32 ]; do
    piece "$W/new.img" $i 1 "$W/new$i"
    i=$((i + 1))
done
dd if="$W/new.img" of="$W/sector" bs=512 skip=100 count=1 2>/dev/null

# How each backing device is printed, once known (placeholders never match).
base_shown=/BASE/ cow_shown=/COW/ cow2_shown=/COW2/

echo "== device-suite: $RDMSETUP, nodes in $NODE_DIR, I/O through $IO"

# --- 1. create, load, resume; I/O through the node --------------------------
# t-lin maps 2048 sectors of BASE from sector 16384 (past the origin's 8 MiB).
dm create t-lin --table "0 2048 linear $BASE 16384"
expect_eq "$(attr t-lin)" "L--w" "created device is live"
base_shown=$(dm table t-lin | cut -d' ' -f4)
MAJOR=$(dm info -c --noheadings -o major t-lin | tr -d ' ')
expect_eq "$(dm table t-lin | norm_table)" "0 2048 linear BASE 16384" "linear table reads back"
piece "$W/origin.img" 0 256 "$W/lin.img"
write_at t-lin 0 "$W/lin.img"
expect_device t-lin "$W/lin.img" 256 "linear device reads what was written"
# it went to BASE at sector 16384 (= chunk 2048)
dd if="$BASE" of="$W/got.img" bs=$CHUNK skip=2048 count=256 2>/dev/null
same_file "$W/got.img" "$W/lin.img" "the write landed in BASE at the table's offset"

# --notable, then load (inactive until resume), then resume
dm create t-two --notable
expect_eq "$(dm table t-two)" "" "a device created without a table has none"
dm load t-two --table "0 1024 linear $BASE 16384"
expect_eq "$(dm table --inactive t-two | norm_table)" "0 1024 linear BASE 16384" "loaded table is inactive"
dm resume t-two
expect_eq "$(attr t-two)" "L--w" "resumed device is live"
expect_device t-two "$W/lin.img" 128 "loaded and resumed device maps BASE"
dm remove t-two

# --- 2. suspend holds I/O ----------------------------------------------------
node t-lin >/dev/null
dm suspend t-lin
expect_eq "$(attr t-lin)" "L-sw" "suspended"
write_chunk t-lin 5 "$W/new0" &
writer=$!
sleep 1
kill -0 "$writer" 2>/dev/null || fail "a write to a suspended device finished before resume"
sleep 1
kill -0 "$writer" 2>/dev/null || fail "a write to a suspended device finished before resume (2 s)"
ok "a write to the suspended device is held"
dm resume t-lin
wait "$writer" || fail "the held write failed after resume"
expect_eq "$(attr t-lin)" "L--w" "resumed"
patch "$W/lin.img" $((5 * CHUNK)) "$W/new0"
expect_device t-lin "$W/lin.img" 256 "the held write landed after resume"

# --- 3. reload + resume swaps the table -------------------------------------
dm load t-lin --table "0 2048 linear $BASE 16392"
expect_eq "$(attr t-lin)" "LI-w" "inactive table loaded on a live device"
expect_eq "$(dm table t-lin | norm_table)" "0 2048 linear BASE 16384" "live table unchanged by load"
expect_eq "$(dm table --inactive t-lin | norm_table)" "0 2048 linear BASE 16392" "inactive table"
expect_chunks t-lin 0 1 "$W/lin.img" 0 "data still through the old table before resume"
dm resume t-lin
expect_eq "$(attr t-lin)" "L--w" "resume made the new table live"
expect_eq "$(dm table t-lin | norm_table)" "0 2048 linear BASE 16392" "new live table"
expect_chunks t-lin 0 255 "$W/lin.img" 1 "data through the new table (shifted by one chunk)"

# --- 4. snapshot of an active origin, lvm2's order, raw rdmsetup --------------
dm create vg-base --table "0 16384 linear $BASE 0" -u LVM-suitebase00000000000000000000000
write_at vg-base 0 "$W/origin.img"
cp "$W/origin.img" "$W/exp-origin.img"
expect_device vg-base "$W/origin.img" 2048 "origin written"
dm create vg-base-real --table "0 16384 linear $BASE 0"
dm create vg-snap-cow --table "0 8192 linear $COW 0"
dd if=/dev/zero of="$W/zero" bs=$CHUNK count=1 2>/dev/null
write_chunk vg-snap-cow 0 "$W/zero"
cow_shown=$(dm table vg-snap-cow | cut -d' ' -f4)
dm suspend vg-base
real=$(devno vg-base-real)
cow=$(devno vg-snap-cow)
dm create vg-snap --table "0 16384 snapshot $real $cow P 8" -u LVM-suitesnap00000000000000000000000
dm load vg-base --table "0 16384 snapshot-origin $real"
expect_eq "$(attr vg-base)" "LIsw" "origin suspended with the snapshot-origin table inactive"
dm resume vg-snap
dm resume vg-base
expect_eq "$(attr vg-base)" "L--w" "origin live again"

expect_eq "$(dm table | norm_table)" "t-lin: 0 2048 linear BASE 16392
vg-base: 0 16384 snapshot-origin M:2
vg-base-real: 0 16384 linear BASE 0
vg-snap: 0 16384 snapshot M:2 M:3 P 8
vg-snap-cow: 0 8192 linear COW 0" "rdmsetup table"
expect_eq "$(dm status)" "t-lin: 0 2048 linear 
vg-base: 0 16384 snapshot-origin 
vg-base-real: 0 16384 linear 
vg-snap: 0 16384 snapshot 16/8192 16
vg-snap-cow: 0 8192 linear " "rdmsetup status (fresh snapshot)"
expect_eq "$(dm info -c | norm_info)" "Name Maj Min Stat Open Targ Event UUID
t-lin M 0 L--w 0 1 0
vg-base M 1 L--w 0 1 0 LVM-suitebase00000000000000000000000
vg-base-real M 2 L--w 2 1 0
vg-snap M 4 L--w 0 1 0 LVM-suitesnap00000000000000000000000
vg-snap-cow M 3 L--w 1 1 0" "rdmsetup info -c"
expect_device vg-snap "$W/origin.img" 2048 "fresh snapshot equals the origin"

# --- 5. writes on the origin land in the COW; the snapshot keeps the old data -
cp "$W/origin.img" "$W/exp-snap.img"
write_chunk vg-base 3 "$W/new1"
patch "$W/exp-origin.img" $((3 * CHUNK)) "$W/new1"
expect_eq "$(params vg-snap)" "24/8192 16" "one origin chunk written: +8 sectors"
write_chunk vg-base 10 "$W/new2"
patch "$W/exp-origin.img" $((10 * CHUNK)) "$W/new2"
expect_eq "$(params vg-snap)" "32/8192 16" "two origin chunks written"
write_chunk vg-base 10 "$W/new3"
patch "$W/exp-origin.img" $((10 * CHUNK)) "$W/new3"
expect_eq "$(params vg-snap)" "32/8192 16" "a chunk copied once: rewriting it costs nothing"
# 512 bytes inside chunk 4: the whole chunk is preserved
write_at vg-base $((4 * 8 + 2)) "$W/sector"
patch "$W/exp-origin.img" $((4 * CHUNK + 1024)) "$W/sector"
expect_eq "$(params vg-snap)" "40/8192 16" "a partial-chunk origin write copies the whole chunk"
expect_device vg-base "$W/exp-origin.img" 2048 "origin has the new data"
expect_device vg-snap "$W/exp-snap.img" 2048 "snapshot keeps the old data byte for byte"

# --- 6. writes on the snapshot go to the COW; the origin is unchanged ---------
write_chunk vg-snap 20 "$W/new4"
patch "$W/exp-snap.img" $((20 * CHUNK)) "$W/new4"
expect_eq "$(params vg-snap)" "48/8192 16" "a snapshot chunk write allocates a chunk"
write_at vg-snap $((21 * 8 + 5)) "$W/sector"
patch "$W/exp-snap.img" $((21 * CHUNK + 2560)) "$W/sector"
expect_eq "$(params vg-snap)" "56/8192 16" "a partial snapshot write allocates a chunk"
write_chunk vg-snap 3 "$W/new5"
patch "$W/exp-snap.img" $((3 * CHUNK)) "$W/new5"
expect_eq "$(params vg-snap)" "56/8192 16" "a snapshot write to a copied chunk reuses it"
expect_device vg-snap "$W/exp-snap.img" 2048 "snapshot reads its own writes over the old data"
expect_device vg-base "$W/exp-origin.img" 2048 "origin unchanged by snapshot writes"
write_chunk vg-base 20 "$W/new6"
patch "$W/exp-origin.img" $((20 * CHUNK)) "$W/new6"
expect_eq "$(params vg-snap)" "56/8192 16" "an origin write over a snapshot-written chunk copies nothing"
expect_chunks vg-snap 20 1 "$W/exp-snap.img" 20 "the snapshot's chunk 20 is still its own"
expect_chunks vg-base 20 1 "$W/exp-origin.img" 20 "the origin's chunk 20 is new"

# --- 7. rcow reads the exceptions from the live COW ---------------------------
sync
"$RCOW" check "$(node vg-snap-cow)" >"$W/check.txt" 2>&1 || fail "rcow check of the live COW: $(cat "$W/check.txt")"
ok "rcow check of the live COW"
"$RCOW" dump "$(node vg-snap-cow)" >"$W/dump.txt" || fail "rcow dump of the live COW"
grep -q "^status: 56/8192 16\$" "$W/dump.txt" || fail "rcow dump status: $(cat "$W/dump.txt")"
grep -q "^exceptions: 5\$" "$W/dump.txt" || fail "rcow dump count: $(cat "$W/dump.txt")"
"$RCOW" dump --json "$(node vg-snap-cow)" | tr -d ' \n' >"$W/dump.json"
for pair in 3:2 10:3 4:4 20:5 21:6; do
    grep -q "\"old_chunk\":${pair%:*},\"new_chunk\":${pair#*:}[,}]" "$W/dump.json" ||
        fail "rcow dump lacks origin chunk ${pair%:*} at COW chunk ${pair#*:}: $(cat "$W/dump.txt")"
done
ok "rcow dump shows the five exceptions in allocation order"

# --- 8. a full COW invalidates only its snapshot ------------------------------
# 64 sectors: header, one metadata area, six data chunks.
dm create vg-small-cow --table "0 64 linear $COW2 0"
write_chunk vg-small-cow 0 "$W/zero"
cow2_shown=$(dm table vg-small-cow | cut -d' ' -f4)
dm suspend vg-base
dm create vg-small --table "0 16384 snapshot $real $(devno vg-small-cow) P 8"
dm resume vg-base
expect_eq "$(params vg-small)" "16/64 16" "small snapshot fresh"
cp "$W/exp-origin.img" "$W/exp-small.img"
for c in 40 41 42 43 44 45; do
    write_chunk vg-base $c "$W/new$((c - 30))"
    patch "$W/exp-origin.img" $((c * CHUNK)) "$W/new$((c - 30))"
done
expect_eq "$(params vg-small)" "64/64 16" "small COW holds six chunks"
expect_chunks vg-small 40 6 "$W/exp-small.img" 40 "small snapshot keeps the old data while it fits"
expect_eq "$(events vg-small)" "0" "no event before the COW fills"
write_chunk vg-base 46 "$W/new16"
patch "$W/exp-origin.img" $((46 * CHUNK)) "$W/new16"
expect_eq "$(params vg-small)" "Invalid" "overfilled snapshot is Invalid"
expect_eq "$(dm status vg-small)" "0 16384 snapshot Invalid" "status line of the invalid snapshot"
expect_eq "$(events vg-small)" "1" "invalidation raised the event counter"
expect_eq "$(events vg-base)" "0" "the origin's event counter is unchanged"
expect_eq "$(events vg-snap)" "0" "the other snapshot's event counter is unchanged"
dm wait vg-small 0 --timeout 5 >/dev/null || fail "wait for event 0 of vg-small did not return"
ok "wait returns after the invalidation event"
if read_chunks vg-small 0 1 "$W/got.img" 2>/dev/null; then fail "reading an invalid snapshot succeeded"; fi
ok "reads of the invalid snapshot fail"
if write_chunk vg-small 0 "$W/new0" 2>/dev/null; then fail "writing an invalid snapshot succeeded"; fi
ok "writes to the invalid snapshot fail"
od -An -tx1 -N8 "$(node vg-small-cow)" | tr -d ' \n' >"$W/hdr"
expect_eq "$(cat "$W/hdr")" "536e417000000000" "the full COW's header is marked invalid on disk"
expect_device vg-base "$W/exp-origin.img" 2048 "the origin took the write that overfilled the COW"
expect_eq "$(params vg-snap)" "112/8192 16" "the other snapshot stays valid (5 + 7 chunks)"
expect_device vg-snap "$W/exp-snap.img" 2048 "the other snapshot keeps its data"
expect_eq "$(dm info -c | norm_info)" "Name Maj Min Stat Open Targ Event UUID
t-lin M 0 L--w 0 1 0
vg-base M 1 L--w 0 1 0 LVM-suitebase00000000000000000000000
vg-base-real M 2 L--w 3 1 0
vg-small M 6 L--w 0 1 1
vg-small-cow M 5 L--w 1 1 0
vg-snap M 4 L--w 0 1 0 LVM-suitesnap00000000000000000000000
vg-snap-cow M 3 L--w 1 1 0" "rdmsetup info -c with an invalid snapshot"
expect_eq "$(dm status | norm_table)" "t-lin: 0 2048 linear 
vg-base: 0 16384 snapshot-origin 
vg-base-real: 0 16384 linear 
vg-small: 0 16384 snapshot Invalid
vg-small-cow: 0 64 linear 
vg-snap: 0 16384 snapshot 112/8192 16
vg-snap-cow: 0 8192 linear " "rdmsetup status with an invalid snapshot"

# --- 9. table errors name the device ------------------------------------------
expect_refused "chunk size not a power of 2" "vg-bad: table refused" \
    dm create vg-bad --table "0 16384 snapshot $real $cow P 7"
if dm info vg-bad >/dev/null 2>&1; then fail "a refused create left vg-bad behind"; fi
[ ! -e "$NODE_DIR/vg-bad" ] || fail "a refused create left a node behind"
expect_refused "table over a missing device" "vg-bad: table refused" \
    dm create vg-bad --table "0 8 linear $MAJOR:200 0"
if dm info vg-bad >/dev/null 2>&1; then fail "a refused create left vg-bad behind"; fi
expect_refused "load over a missing device" "vg-nosuch: no such device" \
    dm load vg-nosuch --table "0 8 linear $BASE 0"
expect_refused "a bad reload" "t-lin: table refused" \
    dm load t-lin --table "0 8 linear $MAJOR:200 0"
expect_eq "$(attr t-lin)" "L--w" "a refused reload leaves no inactive table"

# --- 10. remove refuses what is open or held, then everything goes in order ---
exec 3<"$(node t-lin)"
expect_refused "remove an open device" "t-lin: device is busy (it is open or in use by another device)" dm remove t-lin
expect_eq "$(opens t-lin)" "1" "the open descriptor is counted"
exec 3<&-
expect_eq "$(opens t-lin)" "0" "closed again"
expect_refused "remove a device tables hold" "vg-base-real: device is busy (it is open or in use by another device)" dm remove vg-base-real
expect_refused "remove a held COW" "vg-snap-cow: device is busy (it is open or in use by another device)" dm remove vg-snap-cow
dm info vg-base-real >/dev/null || fail "vg-base-real gone after a refused remove"
expect_device vg-snap "$W/exp-snap.img" 2048 "snapshot intact after refused removes"

dm suspend vg-base
dm remove vg-small
dm remove vg-snap
dm load vg-base --table "0 16384 linear $BASE 0"
dm resume vg-base
dm remove vg-small-cow
dm remove vg-snap-cow
dm remove vg-base-real
expect_device vg-base "$W/exp-origin.img" 2048 "the origin as a plain linear device keeps every write"
dm remove vg-base
dm remove t-lin
expect_eq "$(dm ls)" "No devices found" "every device removed"
for name in t-lin t-two vg-base vg-base-real vg-snap vg-snap-cow vg-small vg-small-cow; do
    [ ! -e "$NODE_DIR/$name" ] || fail "node $NODE_DIR/$name left behind"
done
ok "no node left behind"
echo "== device-suite: all scenarios passed"
