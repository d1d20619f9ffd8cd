# The kernel anchor for copy-out (issue 16): first writes through a
# snapshot-origin against writes to a plain linear LV of the same size on
# the same virtio disk, with dd oflag=direct,dsync at 4 KiB and 1 MiB, with
# 1 and 4 snapshots of 4 KiB and of 64 KiB chunks. Prints
# "anchor <cell>/c<chunk>/s<snapshots> <ratio>" lines (also left in
# $RESULTS/anchor.txt; the .check copies them to target/kernel-anchor.txt,
# where tests/bench/nbd-side-by-side.sh prints them beside the engine's
# ratios). A benchmark, not a test: it fails only if a snapshot loses its
# old bytes or dd fails.
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

# Seconds a dd took, from its own last line ("..., 1.23 s, ...").
dd_seconds() {
    "$INPUT/dd" "$@" 2>&1 >/dev/null | awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s," || $i == "s") print $(i - 1) }' | tr -d ','
}
: >"$RESULTS/anchor.txt"
# CELL BS COUNT SEEK: origin first writes over linear writes, same bytes,
# in four rounds that take turns (a quarter of the requests on each side
# per round), so a change of the host's load between the two sides does
# not decide the ratio.
cell() {
    per=$(($3 / 4)) lin_total=0 origin_total=0 round=0
    while [ "$round" -lt 4 ]; do
        at=$(($4 + round * per))
        lin=$(dd_seconds if=/dev/zero of=/dev/mapper/anchorvg-lin bs="$2" count="$per" seek="$at" oflag=direct,dsync)
        origin=$(dd_seconds if=/dev/zero of=/dev/mapper/anchorvg-base bs="$2" count="$per" seek="$at" oflag=direct,dsync)
        [ -n "$lin" ] && [ -n "$origin" ] || fail "$1: dd failed"
        lin_total=$(awk -v a="$lin_total" -v b="$lin" 'BEGIN { print a + b }')
        origin_total=$(awk -v a="$origin_total" -v b="$origin" 'BEGIN { print a + b }')
        round=$((round + 1))
    done
    ratio=$(awk -v l="$lin_total" -v o="$origin_total" 'BEGIN { printf "%.2f", l / o }')
    echo "$1: linear ${lin_total} s, origin first writes ${origin_total} s"
    echo "anchor $1 $ratio" | tee -a "$RESULTS/anchor.txt"
}
# CHUNK SNAPSHOTS: fresh snapshots of the seed, both cells, then every
# snapshot must still hold the seed.
config() {
    "$INPUT/dd" if=/tmp/seed of=/dev/mapper/anchorvg-base bs=1M oflag=direct 2>/dev/null
    i=0
    while [ "$i" -lt "$2" ]; do
        rlvcreate -L 28M -c "$1" --snapshot -n "snap$i" anchorvg/base >/dev/null
        i=$((i + 1))
    done
    dmsetup mknodes
    # 4 KiB requests over the first 2 MiB, 1 MiB requests over 8..24 MiB: every chunk a first write.
    cell "4K-dsync-QD1/c$1/s$2" 4096 512 0
    cell "1M-dsync-QD1/c$1/s$2" 1048576 16 8
    i=0
    while [ "$i" -lt "$2" ]; do
        "$INPUT/dd" if="/dev/mapper/anchorvg-snap$i" of=/tmp/kept bs=1M 2>/dev/null
        cmp /tmp/seed /tmp/kept || fail "c$1/s$2: snapshot $i lost its old bytes"
        case "$(dm_status "anchorvg-snap$i")" in
        Invalid*) fail "c$1/s$2: snapshot $i invalid" ;;
        esac
        rlvremove -f "anchorvg/snap$i" >/dev/null
        i=$((i + 1))
    done
    rm -f /tmp/kept
    echo "ok: c$1/s$2: every snapshot kept its old bytes"
}
for chunk in 4k 64k; do
    for snapshots in 1 4; do
        config "$chunk" "$snapshots"
    done
done
