# The kernel anchor for copy-out (issue 16): first writes through a
# snapshot-origin against writes to a plain linear LV of the same size on
# the same virtio disk, with dd oflag=direct,dsync at 4 KiB and 1 MiB, one
# snapshot with 4 KiB chunks. Prints "anchor <cell> <ratio>" lines (also
# left in $RESULTS/anchor.txt; the .check copies them to
# target/kernel-anchor.txt, where tests/bench/nbd-side-by-side.sh prints
# them beside the engine's ratios). A benchmark, not a test: it fails only
# if the snapshot loses its old bytes or dd fails.
. /guest/lib.sh
export RLVM_DIR=/tmp/rlvm RLVM_DEVICES=/dev/vdc
mkdir -p /run/lock/lvm /tmp/rlvm
dd if=/dev/zero of=/dev/vdc bs=1M count=2 2>/dev/null
rpvcreate /dev/vdc
rvgcreate anchorvg /dev/vdc
rlvcreate -L 24M -n lin anchorvg
rlvcreate -L 24M -n base anchorvg
dmsetup mknodes
# Allocated, known old bytes on both LVs.
"$INPUT/dd" if=/dev/urandom of=/tmp/seed bs=1M count=24 2>/dev/null
"$INPUT/dd" if=/tmp/seed of=/dev/mapper/anchorvg-lin bs=1M oflag=direct 2>/dev/null
"$INPUT/dd" if=/tmp/seed of=/dev/mapper/anchorvg-base bs=1M oflag=direct 2>/dev/null
rlvcreate -L 28M -c 4k --snapshot -n snap anchorvg/base
dmsetup mknodes

# Seconds a dd took, from its own last line ("..., 1.23 s, ...").
dd_seconds() {
    "$INPUT/dd" "$@" 2>&1 >/dev/null | awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s," || $i == "s") print $(i - 1) }' | tr -d ','
}
: >"$RESULTS/anchor.txt"
# CELL BS COUNT SEEK: origin first writes over linear writes, same bytes.
cell() {
    lin=$(dd_seconds if=/dev/zero of=/dev/mapper/anchorvg-lin bs="$2" count="$3" seek="$4" oflag=direct,dsync)
    origin=$(dd_seconds if=/dev/zero of=/dev/mapper/anchorvg-base bs="$2" count="$3" seek="$4" oflag=direct,dsync)
    [ -n "$lin" ] && [ -n "$origin" ] || fail "$1: dd failed"
    ratio=$(awk -v l="$lin" -v o="$origin" 'BEGIN { printf "%.2f", l / o }')
    echo "$1: linear ${lin} s, origin first writes ${origin} s"
    echo "anchor $1 $ratio" | tee -a "$RESULTS/anchor.txt"
}
# 4 KiB requests over the first 4 MiB, 1 MiB requests over 8..24 MiB: every chunk a first write.
cell 4K-dsync-QD1 4096 1024 0
cell 1M-dsync-QD1 1048576 16 8
# The snapshot kept every old byte.
"$INPUT/dd" if=/dev/mapper/anchorvg-snap of=/tmp/kept bs=1M 2>/dev/null
cmp /tmp/seed /tmp/kept || fail "the snapshot lost its old bytes"
echo "ok: the snapshot kept its old bytes"
case "$(dm_status anchorvg-snap)" in
Invalid*) fail "snapshot invalid" ;;
*) echo "ok: snapshot status $(dm_status anchorvg-snap)" ;;
esac
