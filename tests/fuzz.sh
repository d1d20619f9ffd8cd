#!/usr/bin/env bash
# Runs every cargo-fuzz target briefly (RLVM_FUZZ_SECONDS each, default 15).
# libFuzzer needs unstable compiler flags; RUSTC_BOOTSTRAP lets the stable
# toolchain, the one every machine of this kind has, accept them.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
seconds=${RLVM_FUZZ_SECONDS:-15}
targets=$(cargo fuzz list)
failed=0
passed=0
for target in $targets; do
    echo "== fuzz $target (${seconds}s)"
    # Seeds made by real lvm2 (fuzz/make-seeds.sh) and inputs that once
    # crashed the target (seeds/<target>/crash-*) join its corpus, so each
    # run replays them first.
    corpus=()
    if [ -d "seeds/$target" ]; then
        mkdir -p "corpus/$target"
        corpus=("corpus/$target" "seeds/$target")
    fi
    if cargo fuzz run "$target" "${corpus[@]}" -- -max_total_time="$seconds" >"/tmp/rlvm-fuzz-$target.log" 2>&1; then
        tail -1 "/tmp/rlvm-fuzz-$target.log"
        passed=$((passed + 1))
    else
        tail -40 "/tmp/rlvm-fuzz-$target.log"
        failed=$((failed + 1))
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
