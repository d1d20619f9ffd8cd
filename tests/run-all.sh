#!/usr/bin/env bash
# Runs every rlvm test: formatting, lints, unit, property and command-line
# tests, the real-lvm2 suite and the real-kernel suite under QEMU.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/setup.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
RLVM_REQUIRE_LVM2=1 cargo test --workspace --locked
echo "== engine bench, quick (prints ratios; fails only on a wrong byte)"
RLVM_BENCH_QUICK=1 cargo bench -p rlvm --bench engine --locked
echo "== fuzz targets"
bash tests/fuzz.sh
echo "== real-kernel suite (QEMU)"
cargo build --release --workspace --bins --examples --locked
echo "== rlvsync bench, quick (prints ratios against dd; fails only on a wrong byte)"
RLVM_BENCH_QUICK=1 bash tests/bench/rlvsync.sh
bash tests/qemu/run.sh
