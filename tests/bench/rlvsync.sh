#!/bin/bash
# rlvsync's speed against dd on the same bytes, in the same run, on the
# userspace engine (mapper files). Prints figures and ratios; fails only on a
# wrong byte, never on a timing.
#
#   bash tests/bench/rlvsync.sh            # 1 GiB volume, every chunk changed
#   RLVM_BENCH_QUICK=1 bash tests/bench/rlvsync.sh   # 64 MiB, for CI
#   RLVM_BENCH_REPEAT=N                    # timings per cell, the best is kept (default 3, quick 1)
#
# export: `rlvsync export --since OLD --at NEW -o /dev/null` with OLD of 4 KiB
#   and of 64 KiB chunks (every chunk of NEW read once, sealed, written once),
#   against dd reading the same bytes of NEW's device to /dev/null with the
#   chunk's block size and with 1 MiB blocks.
# apply: `rlvsync apply STREAM COPY` of each stream to an existing file of the
#   volume's size, against dd copying the same stream file over an existing
#   file of the same size (conv=notrunc,fsync: apply syncs its target too, at
#   checkpoints and at the end), with the chunk's block size and with 1 MiB.
# overhead: stream bytes beyond the data, at 4 KiB and 64 KiB chunks.
set -euo pipefail
cd "$(dirname "$0")/../.."
profile=${RLVM_BENCH_PROFILE:-release}
if [ "$profile" = release ]; then cargo build -q --locked --release -p rlvm-cmd; else cargo build -q --locked -p rlvm-cmd; fi
bin=$PWD/target/$profile
bash tests/links.sh "$bin" # every program is a symlink to rlvm
mib=1024 repeat=${RLVM_BENCH_REPEAT:-3}
if [ -n "${RLVM_BENCH_QUICK:-}" ]; then mib=64 repeat=${RLVM_BENCH_REPEAT:-1}; fi
work=$(mktemp -d)
export RLVM_DIR=$work/state RLVM_BACKEND=userspace RLVM_RDMD=$bin/rdmd PATH=$bin:$PATH
cleanup() { rdmd --stop --force --dir "$RLVM_DIR" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

now() { date +%s.%N; }
# secs CMD...: run it $repeat times, print the best elapsed seconds.
secs() {
    local best="" t0 t i
    for ((i = 0; i < repeat; i++)); do
        t0=$(now)
        "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
        t=$(awk -v a="$(now)" -v b="$t0" 'BEGIN { print a - b }')
        best=$(awk -v t="$t" -v b="$best" 'BEGIN { print (b == "" || t < b) ? t : b }')
    done
    echo "$best"
}
rate() { awk -v m="$mib" -v t="$1" 'BEGIN { printf "%.1f", m / t }'; }
# ratio OURS BASELINE: the baseline's time over ours (1.00 = as fast as dd).
ratio() { awk -v o="$1" -v b="$2" 'BEGIN { printf "%.2f", b / o }'; }

truncate -s $((mib * 4 + 512))M "$work/pv.img"
# Only this PV is scanned: the timings leave out reading other users' devices.
export RLVM_DEVICES=$work/pv.img
rpvcreate -q "$work/pv.img" >/dev/null
rvgcreate -q vg "$work/pv.img" >/dev/null
rlvcreate -q -L "${mib}M" -n base vg >/dev/null
map=$RLVM_DIR/mapper
dd if=/dev/urandom of="$map/vg-base" bs=1M count=$mib conv=notrunc,fsync status=none
cow=$((mib + mib / 16 + 8))
rlvcreate -q -s -c 4k -L "${cow}M" -n old4 vg/base >/dev/null
rlvcreate -q -s -c 64k -L "${cow}M" -n old64 vg/base >/dev/null
# Every chunk changes: both OLDs list the whole volume.
dd if=/dev/urandom of="$map/vg-base" bs=1M count=$mib conv=notrunc,fsync status=none
rlvcreate -q -s -c 64k -L 8M -n new vg/base >/dev/null

echo "rlvsync benchmark: ${mib} MiB volume, every chunk changed, engine mapper files ($profile build), best of $repeat"
echo "load before: $(uptime)"
# CPU time this VM's host took from it (steal) during the timings, as a share
# of all CPU time: a run with much of it measured a busy host, not rlvsync.
cpu_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t }' /proc/stat; }
read -r steal0 total0 < <(cpu_ticks)
# One untimed read first, so every timed reader finds NEW's pages in the same state.
dd if="$map/vg-new" of=/dev/null bs=1M status=none
dd4=$(secs dd if="$map/vg-new" of=/dev/null bs=4k)
dd64=$(secs dd if="$map/vg-new" of=/dev/null bs=64k)
dd1m=$(secs dd if="$map/vg-new" of=/dev/null bs=1M)
ex4=$(secs rlvsync export --since vg/old4 --at vg/new -o /dev/null)
ex64=$(secs rlvsync export --since vg/old64 --at vg/new -o /dev/null)
row() { # LABEL OURS SAME-BS-LABEL SAME-BS 1M
    printf '%-24s %8.1f MiB/s   dd %-10s %8.1f MiB/s  ratio %s   dd bs=1M %8.1f MiB/s  ratio %s\n' \
        "$1" "$(rate "$2")" "$3" "$(rate "$4")" "$(ratio "$2" "$4")" "$(rate "$5")" "$(ratio "$2" "$5")"
}
row "export 4 KiB chunks" "$ex4" "bs=4k" "$dd4" "$dd1m"
row "export 64 KiB chunks" "$ex64" "bs=64k" "$dd64" "$dd1m"

rlvsync export --since vg/old4 --at vg/new -o "$work/s4"
rlvsync export --since vg/old64 --at vg/new -o "$work/s64"
# The copies start as OLD (a full stream of old64 is their previous round).
rlvsync full vg/old64 -o "$work/full"
rlvsync apply "$work/full" "$work/copy.img"
rm -f "$work/full"
cp "$work/copy.img" "$work/dd-copy.img"
prog=$work/.copy.img.rlvsync
cp "$prog" "$work/progress.old"
# apply_once STREAM [OPTION]: the copy's progress back at OLD's round each time (the same bytes are
# overwritten again). The 4 KiB stream starts from old4, not the copy's old64: --force, no other effect.
apply_once() { cp "$work/progress.old" "$prog"; rlvsync apply ${2:-} "$1" "$work/copy.img"; }
sync
ddw4=$(secs dd if="$work/s4" of="$work/dd-copy.img" bs=4k conv=notrunc,fsync)
ap4=$(secs apply_once "$work/s4" --force)
ddw64=$(secs dd if="$work/s64" of="$work/dd-copy.img" bs=64k conv=notrunc,fsync)
ddw1m=$(secs dd if="$work/s64" of="$work/dd-copy.img" bs=1M conv=notrunc,fsync)
ap64=$(secs apply_once "$work/s64")
echo "apply: the stream file to an existing file; dd: the same stream file over an existing file, conv=notrunc,fsync"
row "apply 4 KiB chunks" "$ap4" "bs=4k" "$ddw4" "$ddw1m"
row "apply 64 KiB chunks" "$ap64" "bs=64k" "$ddw64" "$ddw1m"
data=$((mib * 1024 * 1024))
for s in 4 64; do
    stream=$(stat -c %s "$work/s$s")
    printf 'stream overhead at %2d KiB chunks: %d bytes over %d data bytes = %s %%\n' \
        "$s" $((stream - data)) $data "$(awk -v s="$stream" -v d="$data" 'BEGIN { printf "%.4f", (s - d) * 100 / d }')"
done
echo "load after: $(uptime)"
read -r steal1 total1 < <(cpu_ticks)
echo "cpu steal during the timings: $(awk -v s=$((steal1 - steal0)) -v t=$((total1 - total0)) 'BEGIN { printf "%.1f", t ? 100 * s / t : 0 }') %"
if ! cmp -s "$work/copy.img" "$map/vg-new"; then
    echo "FAIL: the applied copy differs from vg/new"
    exit 1
fi
echo "ok: the applied copy equals vg/new byte for byte"
