#!/usr/bin/env bash
# Benchmark (not a test): what an idle rlvmonitor costs on the userspace
# engine. One origin with N snapshots (file-backed, default 100), no writes;
# rlvmonitor --foreground at its default interval idles for SECONDS; its CPU
# time (utime+stime from /proc/PID/stat) over the wall time is printed as a
# percentage of one CPU, against the 1 % target, with rdmd's share beside it
# (the daemon answers the monitor's questions). Prints, never asserts.
# Usage: tests/bench/monitor-idle.sh [SNAPSHOTS] [SECONDS] [INTERVAL]
# RLVM_BENCH_BASELINE=/path/to/rlvmonitor measures that one too, on the
# same snapshots, and prints the ratio; RLVM_BENCH_PROFILE=debug uses a
# debug build.
set -euo pipefail
cd "$(dirname "$0")/../.."
snapshots=${1:-100}
seconds=${2:-30}
interval=${3:-}
profile=${RLVM_BENCH_PROFILE:-release}
if [ "$profile" = release ]; then
    cargo build --release -q -p rlvm-cmd --bin rlvm
else
    cargo build -q -p rlvm-cmd --bin rlvm
fi
bin=${CARGO_TARGET_DIR:-$PWD/target}/$profile
bash tests/links.sh "$bin"
work=$(mktemp -d /tmp/rlvm-monitor-bench.XXXXXX)
export RLVM_DIR=$work/state RLVM_BACKEND=userspace RLVM_RDMD=$bin/rdmd RLVM_LOCK_DIR=$work/locks
export RLVM_CONFIG=$work/lvm.conf
: >"$RLVM_CONFIG"
monitor=
cleanup() {
    [ -z "$monitor" ] || kill "$monitor" 2>/dev/null || true
    "$bin/rdmd" --stop --force --dir "$RLVM_DIR" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
truncate -s 4G "$work/pv.img"
"$bin/rpvcreate" "$work/pv.img" >/dev/null
"$bin/rvgcreate" -s 1M benchvg "$work/pv.img" >/dev/null
"$bin/rlvcreate" -L 64M -n base benchvg >/dev/null
for i in $(seq 1 "$snapshots"); do
    "$bin/rlvcreate" -L 4M -s -n "snap$i" benchvg/base >/dev/null
done
active=$("$bin/rdmsetup" status | grep -c ' snapshot ' || true)
echo "active snapshots: $active"
ticks=$(getconf CLK_TCK)
daemon=$(pgrep -f -- "rdmd --foreground --dir $RLVM_DIR" | head -1)
cpu_ticks() { # utime + stime of PID: fields 14 and 15, counted after the ") "
    sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}
measure() { # PROGRAM LABEL: prints "monitor% rdmd% threads"
    local args=(--foreground)
    [ -z "$interval" ] || args+=(--interval "$interval")
    rm -f "$RLVM_DIR/monitor-state.json"
    "$1" "${args[@]}" >"$work/$2.out" 2>"$work/$2.err" &
    monitor=$!
    # Let it settle (first look, waiters started) before measuring.
    sleep 3
    local m0 d0 t0 m1 d1 t1 threads
    m0=$(cpu_ticks "$monitor"); d0=$(cpu_ticks "$daemon"); t0=$(date +%s.%N)
    sleep "$seconds"
    m1=$(cpu_ticks "$monitor"); d1=$(cpu_ticks "$daemon"); t1=$(date +%s.%N)
    threads=$(ls "/proc/$monitor/task" | wc -l)
    kill "$monitor"; wait "$monitor" 2>/dev/null || true; monitor=
    echo "($m1 - $m0) / $ticks / ($t1 - $t0) * 100" | bc -l
    echo "($d1 - $d0) / $ticks / ($t1 - $t0) * 100" | bc -l
    echo "$threads"
}
report() { # LABEL monitor% rdmd% threads
    printf '  %-22s rlvmonitor %6.2f %% of one CPU, rdmd %6.2f %%, %s threads\n' "$1" "$2" "$3" "$4"
}
printf 'idle rlvmonitor, %s snapshots, interval %s, %ss per measurement (%s build); target: at most 1 %%\n' \
    "$active" "${interval:-default (1 s)}" "$seconds" "$profile"
mapfile -t this < <(measure "$bin/rlvmonitor" this)
report "this build" "${this[@]}"
if [ -n "${RLVM_BENCH_BASELINE:-}" ]; then
    # Another rlvmonitor (say, an older build) on the same snapshots, for a ratio.
    mapfile -t base < <(measure "$RLVM_BENCH_BASELINE" baseline)
    report "baseline" "${base[@]}"
    printf '  ratio this/baseline: rlvmonitor %.2f, rdmd %.2f\n' \
        "$(echo "${this[0]} / ${base[0]}" | bc -l)" "$(echo "${this[1]} / ${base[1]}" | bc -l)"
fi
printf '  ratio to the 1 %% target: %.2f\n' "${this[0]}"
