#!/usr/bin/env bash
# The main job on the embedded default (grows with the project).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
cargo build --release --locked -q
echo "demo: not yet"
