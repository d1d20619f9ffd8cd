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
# A command run by a test once replaced /dev/null by renaming a file over
# it (vgcfgbackup -f /dev/null); every later step would then write into a
# regular file. Fail here, loudly, if anything does that again.
[ -c /dev/null ] || { echo "run-all: /dev/null is no longer a character device: a test replaced it" >&2; exit 1; }
echo "== engine bench, quick (prints ratios; fails only on a wrong byte)"
RLVM_BENCH_QUICK=1 cargo bench -p rlvm --bench engine --locked
echo "== NBD side by side, quick (rdmd vs nbdkit and qemu-nbd; fails only on a wrong byte)"
bash tests/bench/nbd-side-by-side.sh --quick
echo "== fuzz targets"
bash tests/fuzz.sh
cargo build --release --workspace --bins --examples --locked
echo "== make install into a DESTDIR and a PREFIX; systemd-analyze verify on the units"
bash tests/install.sh
echo "== an ordinary user, no root: the demo and the main commands"
bash tests/install-user.sh
echo "== rlvsync bench, quick (prints ratios against dd; fails only on a wrong byte)"
RLVM_BENCH_QUICK=1 bash tests/bench/rlvsync.sh
echo "== real-kernel suite (QEMU)"
bash tests/qemu/run.sh
[ -c /dev/null ] || { echo "run-all: /dev/null is no longer a character device" >&2; exit 1; }
