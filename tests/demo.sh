#!/usr/bin/env bash
# The main job, end to end on this machine: build rlvm, write a persistent
# COW store through the library exactly as a snapshot target would, and
# read it back with rcow. (Grows into the full snapshot demo as the LVM
# commands land.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
cargo build --release --locked -q --workspace --bins --examples
bin=target/release
work=$(mktemp -d /tmp/rlvm-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

echo "== a COW store written through the library: origin chunks 0, 5 and 300 saved"
step "$bin/examples/cow_write" "$work/snap.cow" --chunk-size 8 --origin 4096 --chunks 0,5,300 --seed 7
step "$bin/rcow" check "$work/snap.cow"
step "$bin/rcow" dump "$work/snap.cow"

echo
echo "== the snapshot's view, rebuilt offline over a zeroed origin"
truncate -s 2M "$work/origin.img"
step "$bin/rcow" cat --origin "$work/origin.img" "$work/snap.cow" -o "$work/view.img"
printf 'chunk 5 of the view starts with: '
od -A n -t x8 -j $((5 * 4096)) -N 16 "$work/view.img"
