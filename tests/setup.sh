#!/usr/bin/env bash
# Installs everything rlvm's build and tests need on a fresh Debian machine of
# this kind (idempotent; a no-op when all is present). Needs root for apt.
set -euo pipefail

packages=(
    # build: devicemapper-sys runs bindgen over libdevmapper's headers; udev's -sys crate wants libudev
    pkg-config libclang-dev libdevmapper-dev libudev-dev libfuse3-dev
    # runtime peers used by the tests
    lvm2 dmsetup fuse3 libnbd-bin qemu-utils e2fsprogs util-linux
    # the NBD side-by-side bench (tests/bench/nbd-side-by-side.sh): peers and load
    nbdkit fio python3
    # the real-kernel test bed: QEMU (TCG), a busybox initramfs, Debian's kernel package
    qemu-system-x86 busybox-static cpio zstd xz-utils kmod
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
