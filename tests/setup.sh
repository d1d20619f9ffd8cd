#!/usr/bin/env bash
# Installs everything rlvm's build and tests need on a fresh Debian machine of
# this kind (idempotent; a no-op when all is present). Needs root for apt.
set -euo pipefail

packages=(
    # build: devicemapper-sys runs bindgen over libdevmapper's headers; udev's -sys crate wants libudev
    pkg-config libclang-dev libdevmapper-dev libudev-dev libfuse3-dev
    # runtime peers used by the tests
    lvm2 dmsetup fuse3 libnbd-bin qemu-utils e2fsprogs xfsprogs util-linux
    # the NBD side-by-side bench (tests/bench/nbd-side-by-side.sh): peers and load
    nbdkit fio python3
    # the real-kernel test bed: QEMU (TCG), a busybox initramfs, Debian's kernel package
    qemu-system-x86 busybox-static cpio zstd xz-utils kmod
    # make install and its tests: strip/readelf, man -l, systemd-analyze verify, useradd
    make binutils man-db systemd passwd
)

find_missing() {
    missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
}
export DEBIAN_FRONTEND=noninteractive
find_missing
updated=
# Two passes: installing one package can remove another (this image's
# backported qemu-utils gives way to qemu-system-x86's own version), so what
# the first pass took away the second puts back; anything still missing then
# fails here, not as a puzzling test failure later.
for pass in 1 2; do
    [ ${#missing[@]} -gt 0 ] || break
    echo "setup: installing ${missing[*]} (pass $pass)"
    [ -n "$updated" ] || { apt-get update -qq; updated=1; }
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    find_missing
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: could not install ${missing[*]}" >&2
    exit 1
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
