#!/bin/bash
# rlvsync's speed against dd on the same bytes, in the same run, on the
# userspace engine (mapper files). Prints figures and ratios; fails only on a
# wrong byte, never on a timing.
#
#   bash tests/bench/rlvsync.sh            # 1 GiB volume, every chunk changed
#   RLVM_BENCH_QUICK=1 bash tests/bench/rlvsync.sh   # 64 MiB, for CI
#
# export: `rlvsync export --since OLD --at NEW -o /dev/null` with OLD of 4 KiB
#   and of 64 KiB chunks, against dd reading NEW's device with the same block
#   size and with 1 MiB blocks.
# apply: `rlvsync apply` of the 64 KiB stream to a file, against dd writing the
#   same bytes to a file with conv=fsync (apply flushes once at the end too).
# overhead: stream bytes beyond the data, at 64 KiB chunks.
set -euo pipefail
cd "$(dirname "$0")/../.."
profile=${RLVM_BENCH_PROFILE:-release}
if [ "$profile" = release ]; then cargo build -q --locked --release -p rlvm-cmd; else cargo build -q --locked -p rlvm-cmd; fi
bin=$PWD/target/$profile
bash tests/links.sh "$bin" # every program is a symlink to rlvm
mib=1024
[ -n "${RLVM_BENCH_QUICK:-}" ] && mib=64
work=$(mktemp -d)
export RLVM_DIR=$work/state RLVM_BACKEND=userspace RLVM_RDMD=$bin/rdmd PATH=$bin:$PATH
cleanup() { rdmd --stop --force --dir "$RLVM_DIR" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

now() { date +%s.%N; }
# secs CMD...: run, print elapsed seconds.
secs() { local t0; t0=$(now); "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }; awk -v a="$(now)" -v b="$t0" 'BEGIN { print a - b }'; }
rate() { awk -v m="$mib" -v t="$1" 'BEGIN { printf "%.1f", m / t }'; }
# ratio OURS BASELINE: the baseline's time over ours (1.00 = as fast as dd).
ratio() { awk -v o="$1" -v b="$2" 'BEGIN { printf "%.2f", b / o }'; }

truncate -s $((mib * 4 + 512))M "$work/pv.img"
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

echo "rlvsync benchmark: ${mib} MiB volume, every chunk changed, engine mapper files ($profile build)"
# One untimed read first, so every timed reader finds NEW's pages in the same state.
dd if="$map/vg-new" of=/dev/null bs=1M status=none
dd4=$(secs dd if="$map/vg-new" of=/dev/null bs=4k)
dd64=$(secs dd if="$map/vg-new" of=/dev/null bs=64k)
dd1m=$(secs dd if="$map/vg-new" of=/dev/null bs=1M)
ex4=$(secs rlvsync export --since vg/old4 --at vg/new -o /dev/null)
ex64=$(secs rlvsync export --since vg/old64 --at vg/new -o /dev/null)
rlvsync export --since vg/old64 --at vg/new -o "$work/s64"
printf 'export 4 KiB chunks   %8.1f MiB/s   dd bs=4k %8.1f MiB/s  ratio %s   dd bs=1M %8.1f MiB/s  ratio %s\n' \
    "$(rate "$ex4")" "$(rate "$dd4")" "$(ratio "$ex4" "$dd4")" "$(rate "$dd1m")" "$(ratio "$ex4" "$dd1m")"
printf 'export 64 KiB chunks  %8.1f MiB/s   dd bs=64k %7.1f MiB/s  ratio %s   dd bs=1M %8.1f MiB/s  ratio %s\n' \
    "$(rate "$ex64")" "$(rate "$dd64")" "$(ratio "$ex64" "$dd64")" "$(rate "$dd1m")" "$(ratio "$ex64" "$dd1m")"

sync
ddw=$(secs dd if="$map/vg-new" of="$work/dd-copy.img" bs=64k conv=fsync)
rm -f "$work/dd-copy.img"
# The copy starts as OLD (a full stream of old64 is its previous round).
rlvsync full vg/old64 -o "$work/full"
rlvsync apply "$work/full" "$work/copy.img"
rm -f "$work/full"
sync
ap=$(secs rlvsync apply "$work/s64" "$work/copy.img")
printf 'apply 64 KiB chunks   %8.1f MiB/s   dd write bs=64k %8.1f MiB/s  ratio %s\n' \
    "$(rate "$ap")" "$(rate "$ddw")" "$(ratio "$ap" "$ddw")"
stream=$(stat -c %s "$work/s64")
data=$((mib * 1024 * 1024))
printf 'stream overhead at 64 KiB chunks: %d bytes over %d data bytes = %s %%\n' \
    $((stream - data)) $data "$(awk -v s="$stream" -v d="$data" 'BEGIN { printf "%.4f", (s - d) * 100 / d }')"
if ! cmp -s "$work/copy.img" "$map/vg-new"; then
    echo "FAIL: the applied copy differs from vg/new"
    exit 1
fi
echo "ok: the applied copy equals vg/new byte for byte"
