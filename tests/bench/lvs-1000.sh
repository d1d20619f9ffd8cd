#!/usr/bin/env bash
# Benchmark (not a test): rlvs against lvm2's lvs on the very same VG of
# 1000 LVs, and rlvcreate+rlvremove against lvcreate+lvremove, measured in
# one run on one loop device. Prints each as a ratio (rlvm / lvm2). Needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q -p rlvm-cmd --bin rlvm
bin=$PWD/target/release
bash tests/links.sh "$bin"
export LVM_SUPPRESS_FD_WARNINGS=1
work=$(mktemp -d /tmp/rlvm-bench.XXXXXX)
truncate -s 8G "$work/pv.img"
dev=$(losetup -f --show "$work/pv.img")
trap 'lvm vgremove -f --driverloaded n benchvg >/dev/null 2>&1 || true; losetup -d "$dev"; rm -rf "$work"' EXIT
export RLVM_DIR=$work/state RLVM_DEVICES=$dev RLVM_LOCK_DIR=$work/locks
"$bin/rpvcreate" -q "$dev" >/dev/null 2>&1 || "$bin/rpvcreate" "$dev" >/dev/null
"$bin/rvgcreate" -s 4M benchvg "$dev" >/dev/null
for i in $(seq 1 1000); do
    "$bin/rlvcreate" -an -l 1 -n "lv$i" benchvg >/dev/null
done
# Each measured command once, untimed: it must succeed (a failing command
# would time as fast as its error), and caches are warm for both tools.
"$bin/rlvs" benchvg >/dev/null
lvm lvs --driverloaded n benchvg >/dev/null 2>&1
"$bin/rlvcreate" -an -l 1 -n tmp benchvg >/dev/null && "$bin/rlvremove" benchvg/tmp >/dev/null
lvm lvcreate -q -an -Zn --driverloaded n -l 1 -n tmp benchvg >/dev/null 2>&1
lvm lvremove -q -f --driverloaded n benchvg/tmp >/dev/null 2>&1
now() { date +%s.%N; }
time_it() { # runs "$@" N times, prints seconds per run
    local n=$1; shift
    local start end
    start=$(now)
    for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1; done
    end=$(now)
    echo "($end - $start) / $n" | bc -l
}
# Like with like: lvm2 with --driverloaded n asks no driver and reports
# activation unknown (XX); rlvm does the same with no backend, which is what
# RLVM_BACKEND=kernel gives on a host without kernel device-mapper (as the
# lvm2 comparison tests run it). The default backend (here the userspace
# engine, no rdmd running: one device list answered locally) is shown too.
rlvs_s=$(
    [ -e /dev/mapper/control ] || export RLVM_BACKEND=kernel
    time_it 10 "$bin/rlvs" benchvg
)
rlvs_default_s=$(time_it 10 "$bin/rlvs" benchvg)
lvs_s=$(time_it 10 lvm lvs --driverloaded n benchvg)
create_r=$(time_it 10 sh -c "'$bin/rlvcreate' -an -l 1 -n tmp benchvg && '$bin/rlvremove' benchvg/tmp")
create_l=$(time_it 10 sh -c "lvm lvcreate -q -an -Zn --driverloaded n -l 1 -n tmp benchvg && lvm lvremove -q -f --driverloaded n benchvg/tmp")
printf 'lvs on 1000 LVs:        rlvs %.4fs  lvm2 %.4fs  ratio %.3f\n' "$rlvs_s" "$lvs_s" "$(echo "$rlvs_s / $lvs_s" | bc -l)"
printf '  (default backend):    rlvs %.4fs  lvm2 %.4fs  ratio %.3f\n' "$rlvs_default_s" "$lvs_s" "$(echo "$rlvs_default_s / $lvs_s" | bc -l)"
printf 'lvcreate + lvremove:    rlvm %.4fs  lvm2 %.4fs  ratio %.3f\n' "$create_r" "$create_l" "$(echo "$create_r / $create_l" | bc -l)"
