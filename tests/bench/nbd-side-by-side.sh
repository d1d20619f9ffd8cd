#!/usr/bin/env bash
# Benchmark (not a test): rdmd's NBD export of a linear LV side by side with
# `nbdkit file` and `qemu-nbd` serving the same bytes of the same PV image
# (offset filter / raw offset), on the same file system, in one run.
#
# Cells (fio's nbd engine, page cache of the image dropped before each):
# 4 KiB random read and write at queue depth 1 and 32, 1 MiB sequential read
# and write at queue depth 8, each over 1 and 4 connections (half the time
# each server, then the other half in the reverse order), plus an nbdcopy
# of the whole export to null:. Each prints MiB/s, IOPS and the ratio to
# nbdkit (target: 0.9 on every cell).
#
# Then copy-out on the engine: the same LV layout with 1 and 4 snapshots of
# 4 KiB and 64 KiB chunks; first writes (each chunk written once) through
# the origin's export against the same workload on the plain linear LV, at
# 4 KiB QD1 (write + flush per request, as dd oflag=dsync does) and QD32,
# and 1 MiB QD1 with a flush per request: the ratio origin/linear beside its
# physical bound (n + 1 writes per chunk where the linear LV does one:
# 1/(n+1)) and, when given, the kernel's ratio from the QEMU bed (scenario
# 32-copy-out-anchor leaves its "anchor <cell>/c<chunk>/s<n> <ratio>" lines
# in target/kernel-anchor.txt; RLVM_KERNEL_ANCHOR names another file).
# Origin and linear run in four rounds over the LV's quarters, back to back
# in alternating order (as the QEMU scenario does), so a ratio compares
# figures taken over the same minutes.
#
# Nothing asserts a timing. Every export's bytes are checked after its cells
# (a pattern written through it and read back, and the same bytes seen
# through the image); a wrong byte exits 1.
#
# Usage: tests/bench/nbd-side-by-side.sh [--quick]
#   --quick (or RLVM_BENCH_QUICK=1): 16 MiB LV, 1 s a cell (CI).
#   RLVM_BENCH_DIR: where the images go (default: target/tmp; never tmpfs).
#   RLVM_BENCH_PROFILE=debug: use the debug build.
#   RLVM_BENCH_BIN: run the programs of this directory (another build, to
#   compare two) instead of building.
#   RLVM_BENCH_ONLY=linear or copy-out: run only that half.
#   RLVM_BENCH_CELLS='4K randwrite QD32/1,nbdcopy,4K-randwrite-QD32/c4k/s1':
#   only these cells (comma-separated; linear cells as name/connections,
#   "nbdcopy" for the copy, copy-out cells as printed).
set -euo pipefail
cd "$(dirname "$0")/../.."
quick=${RLVM_BENCH_QUICK:-0}
[ "${1:-}" = --quick ] && quick=1
if [ "$quick" != 0 ]; then
    lv_mib=16 runtime=1 profile=${RLVM_BENCH_PROFILE:-debug}
else
    lv_mib=512 runtime=10 profile=${RLVM_BENCH_PROFILE:-release}
fi
half=$((runtime * 500))ms
for tool in fio nbdkit qemu-nbd nbdcopy python3; do
    command -v "$tool" >/dev/null || { echo "nbd-side-by-side: $tool is missing (tests/setup.sh installs it)" >&2; exit 1; }
done
if [ -n "${RLVM_BENCH_BIN:-}" ]; then
    bin=$RLVM_BENCH_BIN
elif [ "$profile" = release ]; then
    cargo build --release -q -p rlvm-cmd --bins
    bin=${CARGO_TARGET_DIR:-$PWD/target}/$profile
else
    cargo build -q -p rlvm-cmd --bins
    bin=${CARGO_TARGET_DIR:-$PWD/target}/$profile
fi
bash tests/links.sh "$bin" # every program is a symlink to rlvm
parent=${RLVM_BENCH_DIR:-${CARGO_TARGET_DIR:-$PWD/target}/tmp}
mkdir -p "$parent"
work=$(mktemp -d "$parent/nbd-bench.XXXXXX")
export RLVM_DIR=$work/state RLVM_BACKEND=userspace RLVM_RDMD=$bin/rdmd RLVM_LOCK_DIR=$work/locks
export RLVM_CONFIG=$work/lvm.conf
: >"$RLVM_CONFIG"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    "$bin/rdmd" --stop --force --dir "$RLVM_DIR" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

pv=$work/pv.img
# Only our image: other work's loop devices on the machine stay out of every scan.
export RLVM_DEVICES=$pv
# Room for lin, base and four snapshots of base.
truncate -s $((7 * lv_mib + 128))M "$pv"
"$bin/rpvcreate" "$pv" >/dev/null
"$bin/rvgcreate" -s 1M benchvg "$pv" >/dev/null
"$bin/rlvcreate" -L "${lv_mib}M" -n lin benchvg >/dev/null
# Where the LV's bytes lie in the PV: "0 <len> linear <pv> <sector>".
read -r _ len_sectors _ _ start_sector < <("$bin/rdmsetup" table benchvg-lin)
offset=$((start_sector * 512)) size=$((len_sectors * 512))
# Allocated, non-zero content, so reads cost what reads of data cost.
head -c "$size" /dev/urandom >"$work/seed.img"
dd if="$work/seed.img" of="$pv" bs=1M seek="$offset" oflag=seek_bytes conv=notrunc,fsync status=none

nbdkit_sock=$work/nbdkit.sock qemu_sock=$work/qemu.sock rdmd_sock=$RLVM_DIR/nbd.sock
nbdkit -f -U "$nbdkit_sock" --filter=offset file "file=$pv" "offset=$offset" "range=$size" &
pids+=($!)
qemu-nbd -t -e 8 -k "$qemu_sock" -x lin --cache=writeback --image-opts \
    "driver=raw,offset=$offset,size=$size,file.driver=file,file.filename=$pv" &
pids+=($!)
for sock in "$nbdkit_sock" "$qemu_sock" "$rdmd_sock"; do
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
    [ -S "$sock" ] || { echo "nbd-side-by-side: no server on $sock" >&2; exit 1; }
done
uri_rdmd="nbd+unix:///benchvg-lin?socket=$rdmd_sock"
uri_nbdkit="nbd+unix:///?socket=$nbdkit_sock"
uri_qemu="nbd+unix:///lin?socket=$qemu_sock"

# Write back what the previous run left dirty first, outside every timing:
# dropping the cache only starts that writeback, and the next run would
# wait for it (a commit's flush of the image does), paying for the last
# run's writes.
drop_cache() {
    sync -d "$pv"
    dd if="$pv" iflag=nocache count=0 status=none
}

# fio CELL URI RW BS QD JOBS [extra fio args] -> "MiB/s IOPS"
fio_cell() {
    local uri=$1 rw=$2 bs=$3 qd=$4 jobs=$5
    shift 5
    drop_cache
    fio --name=cell --ioengine=nbd --uri="$uri" --rw="$rw" --bs="$bs" --iodepth="$qd" \
        --numjobs="$jobs" --size="$size" --runtime="$half" --time_based --group_reporting \
        --output-format=json "$@" 2>/dev/null | python3 -c '
import json, sys
text = sys.stdin.read()
job = json.loads(text[text.index("{"):])["jobs"][0]
side = job["read"] if job["read"]["io_bytes"] > 0 else job["write"]
print("%.1f %.0f" % (side["bw"] / 1024.0, side["iops"]))'
}

# Every byte: a pattern through the export, read back through it and seen in the image.
verify() { # LABEL URI
    local pattern=$work/pattern.img back=$work/back.img
    head -c "$size" /dev/urandom >"$pattern"
    nbdcopy --flush "$pattern" "$2"
    nbdcopy "$2" "$back"
    if ! cmp -s "$pattern" "$back"; then
        echo "nbd-side-by-side: $1: wrong bytes read back: $(cmp "$pattern" "$back" | head -1)" >&2
        exit 1
    fi
    if ! cmp -s "$pattern" <(dd if="$pv" bs=1M skip="$offset" count="$size" iflag=skip_bytes,count_bytes status=none); then
        echo "nbd-side-by-side: $1: the image does not hold what was written" >&2
        exit 1
    fi
}

uptime
printf 'NBD side by side: %s MiB linear LV, %s s a cell, %s build, files in %s%s\n' \
    "$lv_mib" "$runtime" "$profile" "$work" "$([ "$quick" != 0 ] && echo ' (quick)')"
echo "(numbers taken while other work shares the machine are noisy; compare ratios of one run)"
printf '%-26s %5s %12s %12s %12s %9s %9s %7s %5s\n' cell conns rdmd nbdkit qemu-nbd "rdmd/kit" "qemu/kit" target ""
missed=0 cells=0
# Whether a linear cell is among RLVM_BENCH_CELLS (every cell when unset).
picked() { # NAME
    [ -z "${RLVM_BENCH_CELLS:-}" ] && return 0
    local want
    IFS=, read -ra want <<<"$RLVM_BENCH_CELLS"
    for w in "${want[@]}"; do [ "$w" = "$1" ] && return 0; done
    return 1
}
cell() { # NAME CONNS RW BS QD
    local name=$1 conns=$2 rw=$3 bs=$4 qd=$5 r k q
    picked "$name/$conns" || return 0
    # Half the time each in the order rdmd, nbdkit, qemu-nbd, qemu-nbd,
    # nbdkit, rdmd: a load that rises or falls during the cell weighs on
    # every server alike. Each column is the mean of its two halves.
    local a1 a2 b1 b2 c1 c2 d1 d2 e1 e2 f1 f2
    read -r a1 a2 < <(fio_cell "$uri_rdmd" "$rw" "$bs" "$qd" "$conns")
    read -r b1 b2 < <(fio_cell "$uri_nbdkit" "$rw" "$bs" "$qd" "$conns")
    read -r c1 c2 < <(fio_cell "$uri_qemu" "$rw" "$bs" "$qd" "$conns")
    read -r d1 d2 < <(fio_cell "$uri_qemu" "$rw" "$bs" "$qd" "$conns")
    read -r e1 e2 < <(fio_cell "$uri_nbdkit" "$rw" "$bs" "$qd" "$conns")
    read -r f1 f2 < <(fio_cell "$uri_rdmd" "$rw" "$bs" "$qd" "$conns")
    mean() { python3 -c "print('%.${3:-1}f' % (($1 + $2) / 2))"; }
    r_bw=$(mean "$a1" "$f1") r_iops=$(mean "$a2" "$f2" 0)
    k_bw=$(mean "$b1" "$e1") k_iops=$(mean "$b2" "$e2" 0)
    q_bw=$(mean "$c1" "$d1") q_iops=$(mean "$c2" "$d2" 0)
    r=$(python3 -c "print('%.2f' % ($r_bw / $k_bw))")
    q=$(python3 -c "print('%.2f' % ($q_bw / $k_bw))")
    local verdict=PASS
    python3 -c "import sys; sys.exit(0 if $r >= 0.9 else 1)" || { verdict=MISS; missed=$((missed + 1)); }
    cells=$((cells + 1))
    printf '%-26s %5s %6s %5s %6s %5s %6s %5s %9s %9s %7s %5s\n' "$name" "$conns" \
        "$r_bw" "$r_iops" "$k_bw" "$k_iops" "$q_bw" "$q_iops" "$r" "$q" 0.9 "$verdict"
}
only=${RLVM_BENCH_ONLY:-}
if [ "$only" != copy-out ]; then
echo "  (each server column: MiB/s IOPS)"
for conns in 1 4; do
    cell "4K randread QD1" "$conns" randread 4k 1
    cell "4K randread QD32" "$conns" randread 4k 32
    cell "4K randwrite QD1" "$conns" randwrite 4k 1
    cell "4K randwrite QD32" "$conns" randwrite 4k 32
    cell "1M read QD8" "$conns" read 1m 8
    cell "1M write QD8" "$conns" write 1m 8
done
copy_cell() { # URI -> seconds
    drop_cache
    python3 - "$1" <<'EOF'
import subprocess, sys, time
start = time.monotonic()
subprocess.run(["nbdcopy", sys.argv[1], "null:"], check=True)
print("%.3f" % (time.monotonic() - start))
EOF
}
# Twice each, in turns (rdmd, nbdkit, qemu-nbd, then back): the times are sums.
if picked nbdcopy; then
t_r=$(copy_cell "$uri_rdmd") t_k=$(copy_cell "$uri_nbdkit") t_q=$(copy_cell "$uri_qemu")
t_q=$(python3 -c "print($t_q + $(copy_cell "$uri_qemu"))")
t_k=$(python3 -c "print($t_k + $(copy_cell "$uri_nbdkit"))")
t_r=$(python3 -c "print($t_r + $(copy_cell "$uri_rdmd"))")
mib() { python3 -c "print('%.1f' % (2 * $size / 1048576 / $1))"; }
r=$(python3 -c "print('%.2f' % ($t_k / $t_r))")
q=$(python3 -c "print('%.2f' % ($t_k / $t_q))")
verdict=PASS
python3 -c "import sys; sys.exit(0 if $r >= 0.9 else 1)" || { verdict=MISS; missed=$((missed + 1)); }
cells=$((cells + 1))
printf '%-26s %5s %12s %12s %12s %9s %9s %7s %5s\n' "nbdcopy to null:" auto \
    "$(mib "$t_r")" "$(mib "$t_k")" "$(mib "$t_q")" "$r" "$q" 0.9 "$verdict"
fi
verify rdmd "$uri_rdmd"
verify nbdkit "$uri_nbdkit"
verify qemu-nbd "$uri_qemu"
echo "$missed of $cells cells below 0.9 of nbdkit; every byte written through each export was checked."
fi
[ "$only" = linear ] && exit 0

# Copy-out: origin first writes against the plain linear LV, with 1 and 4
# snapshots of 4 KiB and 64 KiB chunks.
echo
echo "copy-out on the engine: origin first writes / linear writes (cell/c<chunk>/s<snapshots>)"
"$bin/rlvcreate" -L "${lv_mib}M" -n base benchvg >/dev/null
kernel_anchor=${RLVM_KERNEL_ANCHOR:-${CARGO_TARGET_DIR:-$PWD/target}/kernel-anchor.txt}
anchor() { # CELL -> the kernel's ratio, if the QEMU scenario left one
    [ -f "$kernel_anchor" ] || { echo "-"; return; }
    awk -v c="$1" '$1 == "anchor" && $2 == c { print $3; found = 1 } END { if (!found) print "-" }' "$kernel_anchor"
}
printf '%-28s %10s %10s %7s %7s %8s %7s %s\n' cell "origin" "linear" ratio bound "vs bnd" kernel ""
below_kernel=0 anchored=0
first_write_cell() { # NAME CHUNK SNAPSHOTS BS QD IO_BYTES [fio args]
    local name=$1 chunk=$2 snaps=$3 bs=$4 qd=$5 io=$6 i
    shift 6
    picked "$name" || return 0
    # Fresh snapshots of known bytes each time, so every chunk written is
    # a first write and every snapshot must keep the seed.
    for i in 0 1 2 3; do "$bin/rlvremove" -f "benchvg/snap$i" >/dev/null 2>&1 || true; done
    nbdcopy --flush "$work/seed.img" "nbd+unix:///benchvg-base?socket=$rdmd_sock"
    for ((i = 0; i < snaps; i++)); do
        "$bin/rlvcreate" -s -L "$((lv_mib + 8))M" -c "$chunk" -n "snap$i" benchvg/base >/dev/null
    done
    # Like for like: four rounds, each over its own quarter of the LV,
    # origin and linear back to back (which goes first alternates), so both
    # figures of the ratio come from the same minutes of this VM's disk,
    # whose speed swings severalfold between minutes. Each chunk once:
    # sequential, or random without repeats, inside each quarter.
    local quarter=$((size / 4)) round ob=0 ous=0 lb=0 lus=0 b us
    local origin_uri="nbd+unix:///benchvg-base?socket=$rdmd_sock"
    for round in 0 1 2 3; do
        local at=$((round * quarter)) first=origin second=linear side
        [ $((round % 2)) = 1 ] && first=linear second=origin
        for side in $first $second; do
            if [ "$side" = origin ]; then
                read -r b us < <(fio_nontimed "$origin_uri" "$bs" "$qd" "$at" "$quarter" "$((io / 4))" "$@")
                ob=$((ob + b)) ous=$((ous + us))
            else
                read -r b us < <(fio_nontimed "$uri_rdmd" "$bs" "$qd" "$at" "$quarter" "$((io / 4))" "$@")
                lb=$((lb + b)) lus=$((lus + us))
            fi
        done
    done
    local o l
    o=$(python3 -c "print('%.1f' % ($ob / 1048576 / ($ous / 1e6)))")
    l=$(python3 -c "print('%.1f' % ($lb / 1048576 / ($lus / 1e6)))")
    local ratio bound vs kernel verdict=""
    ratio=$(python3 -c "print('%.2f' % ($o / $l))")
    # n snapshots: n + 1 writes per chunk where the linear LV does one.
    bound=$(python3 -c "print('%.2f' % (1 / ($snaps + 1)))")
    vs=$(python3 -c "print('%.2f' % ($ratio / $bound))")
    kernel=$(anchor "$name")
    if [ "$kernel" != - ]; then
        anchored=$((anchored + 1))
        if python3 -c "import sys; sys.exit(0 if $ratio >= $kernel else 1)"; then
            verdict=">=kernel"
        else
            verdict="<kernel" below_kernel=$((below_kernel + 1))
        fi
    fi
    printf '%-28s %10s %10s %7s %7s %8s %7s %s\n' "$name" "$o" "$l" "$ratio" "$bound" "$vs" "$kernel" "$verdict"
    # Every snapshot still holds the origin's old bytes.
    for ((i = 0; i < snaps; i++)); do
        if ! cmp -s <(nbdcopy "nbd+unix:///benchvg-snap$i?socket=$rdmd_sock" -) "$work/seed.img"; then
            echo "nbd-side-by-side: $name: snapshot $i lost its old bytes" >&2
            exit 1
        fi
    done
}
fio_nontimed() { # URI BS QD OFFSET SIZE IO_BYTES [fio args] -> "bytes microseconds"
    local uri=$1 bs=$2 qd=$3 at=$4 region=$5 io=$6
    shift 6
    drop_cache
    fio --name=cell --ioengine=nbd --uri="$uri" --bs="$bs" --iodepth="$qd" --offset="$at" \
        --size="$region" --io_size="$io" --output-format=json "$@" 2>/dev/null | python3 -c '
import json, sys
text = sys.stdin.read()
side = json.loads(text[text.index("{"):])["jobs"][0]["write"]
print("%d %d" % (side["io_bytes"], max(1, round(side["io_bytes"] * 1e6 / max(side["bw_bytes"], 1)))))'
}
# A flush per 4 KiB request costs milliseconds: those cells write a part of the LV.
if [ "$quick" != 0 ]; then small=$((1 << 20)) big=$size; else small=$((16 << 20)) big=$((256 << 20)); fi
for chunk in 4k 64k; do
    for snaps in 1 4; do
        first_write_cell "4K-dsync-QD1/c$chunk/s$snaps" "$chunk" "$snaps" 4k 1 "$small" --rw=write --fsync=1
        first_write_cell "4K-randwrite-QD32/c$chunk/s$snaps" "$chunk" "$snaps" 4k 32 "$((size / 2))" --rw=randwrite
        first_write_cell "1M-dsync-QD1/c$chunk/s$snaps" "$chunk" "$snaps" 1m 1 "$big" --rw=write --fsync=1
    done
done
echo "ratio: engine origin first writes over linear writes, same workload, same run; bound: n + 1"
echo "writes per chunk where the linear LV does one (1/(n+1)); kernel: the same cell on dm-snapshot in"
echo "the QEMU bed ($kernel_anchor); $below_kernel of $anchored cells with a kernel figure below it."
uptime
