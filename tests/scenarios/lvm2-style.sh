#!/bin/sh
# What lvm2's own test scripts about snapshots and basic LV commands rely
# on, written as such a script would be: lvm2's command names and
# arguments (-aey, --type snapshot, -V, @tag, a VG as argument,
# pvcreate --metadatacopies 0), and lvm2's exact messages grepped for.
# Every command is rlvm's, through `$RLVM <command>` as `lvm <command>`.
#
# Environment: RLVM (the rlvm binary), RLVM_DIR (state; the engine's
# devices appear in $RLVM_DIR/mapper), WORK (an empty directory for the
# image files). POSIX sh.
set -eu

for c in pvcreate pvs vgcreate vgs vgremove lvcreate lvs lvremove lvrename \
    lvextend lvreduce lvchange lvconvert; do
    eval "$c() { \"\$RLVM\" $c \"\$@\"; }"
done

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# `not CMD...`: CMD must fail with an exit status (never 0, never a signal);
# its stderr is left in $WORK/err.
not() {
    if "$@" >"$WORK/out" 2>"$WORK/err"; then
        fail "succeeded: $*"
    else
        rc=$?
    fi
    [ "$rc" -lt 128 ] || fail "killed by a signal ($rc): $*"
}

# `ok CMD...`: CMD must succeed; its stdout and stderr stay in $WORK.
ok() {
    "$@" >"$WORK/out" 2>"$WORK/err" || {
        cat "$WORK/err" >&2
        fail "failed: $*"
    }
}

# `said FILE TEXT`: FILE has a line containing TEXT, exactly.
said() {
    grep -F -- "$2" "$WORK/$1" >/dev/null || {
        cat "$WORK/$1" >&2
        fail "no \"$2\" in $1"
    }
}

attr() {
    lvs --noheadings -o lv_attr "$1" | tr -d ' '
}

field() {
    lvs --noheadings --nosuffix --units m -o "$2" "$1" | tr -d ' '
}

# The 5th attribute character is the state: a for active.
active() {
    case "$(attr "$1")" in
    ????a*) return 0 ;;
    *) return 1 ;;
    esac
}

mapper() {
    echo "$RLVM_DIR/mapper/$1"
}

# `pattern BYTE MIB`: MIB MiB of BYTE (octal), for writing and comparing.
pattern() {
    dd if=/dev/zero bs=1048576 count="$2" 2>/dev/null | tr '\000' "\\$1"
}

sum() {
    dd if="$1" bs=1048576 count="$2" 2>/dev/null | cksum
}

for i in 1 2 3; do
    dd if=/dev/zero of="$WORK/dev$i" bs=1 count=0 seek=64M 2>/dev/null
done
dev1=$WORK/dev1 dev2=$WORK/dev2 dev3=$WORK/dev3
# Only these disks, as lvm2's tests filter devices: the machine's own block
# devices may carry other VGs (of other tests) that tags would reach.
RLVM_DEVICES=$dev1:$dev2:$dev3
export RLVM_DEVICES

echo "== PVs, one without metadata areas"
ok pvcreate "$dev1" "$dev2"
ok pvcreate --metadatacopies 0 "$dev3"
[ "$(pvs --noheadings -o pv_mda_count "$dev3" | tr -d ' ')" = 0 ] || fail "dev3 has metadata areas"
ok vgcreate vg "$dev1" "$dev2" "$dev3"

echo "== lvcreate -aey, and lvm2's refusals"
ok lvcreate -aey -L 8M -n origin vg
said out 'Logical volume "origin" created.'
active vg/origin || fail "vg/origin is not active: $(attr vg/origin)"
not lvcreate -aey -L 8M -n origin vg
said err 'Logical Volume "origin" already exists in volume group "vg"'
not lvcreate -l 1 -L 4M -n both vg
said err 'Please specify either size or extents (not both).'
not lvextend -l +1 -L +4M vg/origin
said err 'Please specify either size or extents but not both.'
not lvcreate -l 10%LV -n share vg
said err 'Please express size as %FREE, %PVS or %VG.'
not lvcreate -s -l 10%LV -n share vg/origin
said err 'Please express size as %FREE, %ORIGIN, %PVS or %VG.'
not lvcreate -L 4M -n pvmove0 vg
said err 'Names starting "pvmove" are reserved. Please choose a different LV name.'
not lvextend -L +4M vg/nosuch
said err 'Logical volume nosuch not found in volume group vg.'

echo "== --type snapshot keeps the origin's old data"
pattern 101 4 >"$(mapper vg-origin)"
old=$(sum "$(mapper vg-origin)" 4)
ok lvcreate --type snapshot -L 4M -n snap vg/origin
said out 'Logical volume "snap" created.'
case "$(attr vg/snap)" in
s*) ;;
*) fail "vg/snap is not a snapshot: $(attr vg/snap)" ;;
esac
[ "$(field vg/snap origin)" = origin ] || fail "vg/snap has origin $(field vg/snap origin)"
pattern 102 2 | dd of="$(mapper vg-origin)" conv=notrunc 2>/dev/null
[ "$(sum "$(mapper vg-snap)" 4)" = "$old" ] || fail "the snapshot changed with its origin"
[ "$(sum "$(mapper vg-origin)" 4)" != "$old" ] || fail "the origin did not change"
not lvcreate -s -L 4M -n snap2 vg/snap
not lvcreate -s -Zn -L 4M -n snap2 vg/origin
said err 'Option --zero is unsupported with snapshots.'

echo "== -V: a sparse snapshot reads zeros"
ok lvcreate --type snapshot -V 32M -L 4M -n sparse vg
[ "$(field vg/sparse origin_size)" = 32.00 ] || fail "vg/sparse is $(field vg/sparse origin_size) over its zero origin"
[ "$(sum "$(mapper vg-sparse)" 4)" = "$(pattern 000 4 | cksum)" ] || fail "vg/sparse is not zero"
pattern 103 1 | dd of="$(mapper vg-sparse)" conv=notrunc 2>/dev/null
[ "$(sum "$(mapper vg-sparse)" 1)" = "$(pattern 103 1 | cksum)" ] || fail "vg/sparse did not keep a write"

echo "== @tag and a VG as arguments"
ok lvcreate -aey -L 4M -n tagged --addtag web vg
[ "$(lvs --noheadings -o lv_name @web | tr -d ' ')" = tagged ] || fail "@web lists $(lvs --noheadings -o lv_name @web)"
ok lvchange -an @web
active vg/tagged && fail "lvchange -an @web left vg/tagged active"
active vg/origin || fail "lvchange -an @web took vg/origin down"
ok lvchange -ay @web
active vg/tagged || fail "lvchange -ay @web did not activate vg/tagged"
ok lvremove -f @web
said out 'Logical volume "tagged" successfully removed.'
not lvs vg/tagged
ok lvchange -an vg
for lv in origin snap sparse; do
    active "vg/$lv" && fail "lvchange -an vg left vg/$lv active"
done
ok lvchange -aey vg/origin
active vg/snap || fail "vg/snap did not come up with its origin"
[ "$(sum "$(mapper vg-snap)" 4)" = "$old" ] || fail "the snapshot lost its data across deactivation"

echo "== inactive LVs are not zeroed"
ok lvcreate -an -L 8M -n cold vg
said err 'WARNING: Logical volume vg/cold not zeroed.'
active vg/cold && fail "lvcreate -an made vg/cold active"
ok lvcreate -an -Zy -L 4M -n cold2 vg
said err 'Cannot zero inactive logical volume with option -Zy or -Wy.'
not lvs vg/cold2
ok lvreduce -L -4M vg/cold -f
grep -F 'Reducing' "$WORK/err" && fail "lvreduce warned about an inactive LV"
ok lvcreate -aey -L 8M -n warm vg
ok lvreduce -f -L 4M vg/warm
said err 'WARNING: Reducing active logical volume to 4.00 MiB.'
said err 'THIS MAY DESTROY YOUR DATA (filesystem etc.)'
not lvrename vg/warm other/name
said err 'Logical volume names must have the same volume group ("vg" or "other")'
ok lvrename vg/warm hot
said out 'Renamed "warm" to "hot" in volume group "vg"'

echo "== lvconvert --merge puts the old data back"
ok lvconvert --merge vg/snap
[ "$(sum "$(mapper vg-origin)" 4)" = "$old" ] || fail "the merge did not restore the origin"
not lvs vg/snap

echo "== a VG as lvremove's argument"
ok lvremove -f vg
said out 'Logical volume "origin" successfully removed.'
said out 'Logical volume "sparse" successfully removed.'
[ -z "$(lvs --noheadings -o lv_name vg)" ] || fail "LVs left in vg"
ok vgremove vg
echo "== lvm2-style: all passed"
