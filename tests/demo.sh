#!/usr/bin/env bash
# The main job, end to end on the embedded userspace engine (the default on
# a machine without kernel device-mapper): a file-backed VG, a base LV, a
# snapshot of it, a write to the origin, rlvs showing Data%, and the four
# dm devices LVM2 stacks for a snapshot.
#
# RLVM_DEMO_BIN=DIR runs the programs installed in DIR (`make install`)
# instead of building them, so it runs as any user, no root needed;
# RLVM_DEMO_WORK=DIR puts the image files (and RLVM_DIR, unless set) there
# instead of a new directory under /tmp. tests/install-user.sh runs it so.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${RLVM_DEMO_BIN:-}" ]; then
    bin=$RLVM_DEMO_BIN
else
    bash tests/setup.sh
    # The release build tests/run-all.sh makes, so neither rebuilds the other's.
    cargo build --release --locked -q --workspace --bins --examples
    bin=$PWD/target/release
    bash tests/links.sh "$bin" # every program is a symlink to rlvm, as installed
fi
if [ -n "${RLVM_DEMO_WORK:-}" ]; then
    work=$RLVM_DEMO_WORK
    mkdir -p "$work"
else
    work=$(mktemp -d /tmp/rlvm-demo.XXXXXX)
fi
export RLVM_DIR=${RLVM_DIR:-$work/state} PATH=$bin:$PATH
cleanup() {
    rdmd --stop --force >/dev/null 2>&1 || true
    [ -n "${RLVM_DEMO_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

echo "== a volume group on a 2 GiB sparse image file (state in $RLVM_DIR)"
truncate -s 2G "$work/pv0.img"
step rpvcreate "$work/pv0.img"
step rvgcreate vg "$work/pv0.img"
step rlvcreate -L 1G -n base vg
echo
echo "== the LV is a file under \$RLVM_DIR/mapper (rdmd's FUSE twin of /dev/mapper); fill 8 MiB"
step dd if=/dev/urandom of="$RLVM_DIR/mapper/vg-base" bs=1M count=8 conv=fsync,notrunc status=none
head -c 8M "$RLVM_DIR/mapper/vg-base" >"$work/base-before"

echo
echo "== a 100 MiB snapshot: lvcreate -L 100M --snapshot -n snap vg/base"
step rlvcreate -L 100M --snapshot -n snap vg/base
step rlvs

echo
echo "== write 20 MiB to the origin: every chunk is copied to the COW first"
step dd if=/dev/zero of="$RLVM_DIR/mapper/vg-base" bs=1M count=20 conv=fsync,notrunc status=none
step rlvs -o lv_name,lv_attr,lv_size,origin,data_percent,chunk_size
step rdmsetup table
step rdmsetup status
step rdmsetup ls --tree

echo
echo "== the snapshot still holds the old bytes; the origin has the new"
step cmp -n $((8 << 20)) "$RLVM_DIR/mapper/vg-snap" "$work/base-before"
step cmp -n $((8 << 20)) "$RLVM_DIR/mapper/vg-base" /dev/zero
echo "snapshot == origin before the write; origin == zeros"

echo
echo "== the COW is the kernel's persistent format"
step rcow check "$RLVM_DIR/mapper/vg-snap-cow"
