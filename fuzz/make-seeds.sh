#!/usr/bin/env bash
# Makes the fuzz seeds with real lvm2 (2.03.16 here) on loop devices, with
# no device-mapper (--driverloaded n): the first 16 KiB of PVs as lvm2 wrote
# them (a bare PV, a VG with linear and striped LVs over two PVs, a PV
# with two metadata areas; lvm2 makes no snapshot without device-mapper) for lvm2_label_mda, and their
# metadata texts for lvm2_metadata. Needs root. The seeds are committed;
# run this again only to remake them.
set -euo pipefail
cd "$(dirname "$0")"
export LVM_SUPPRESS_FD_WARNINGS=1
disks=seeds/lvm2_label_mda
texts=seeds/lvm2_metadata
mkdir -p "$disks" "$texts"
work=$(mktemp -d /tmp/rlvm-seeds.XXXXXX)
loops=()
cleanup() {
    for l in "${loops[@]}"; do losetup -d "$l" || true; done
    rm -rf "$work"
}
trap cleanup EXIT
for i in 0 1 2; do
    truncate -s 64M "$work/pv$i.img"
    loops+=("$(losetup -f --show "$work/pv$i.img")")
done
a=${loops[0]} b=${loops[1]} c=${loops[2]}
lvm() { command lvm "$1" --driverloaded n --devices "$a,$b,$c" "${@:2}" >/dev/null 2>&1; }
take() { # device name
    dd if="$1" bs=16K count=1 status=none >"$disks/$2.img"
    python3 - "$1" "$texts/$2.txt" <<'PY'
import struct, sys
with open(sys.argv[1], 'rb') as f:
    f.seek(512); label = f.read(512)
    off = struct.unpack_from('<I', label, 20)[0]
    mda = struct.unpack_from('<Q', label, off + 40 + 16 * 2)[0]  # first mda after one data area
    f.seek(mda); h = f.read(512)
    o, s = struct.unpack_from('<QQ', h, 40)
    if o:
        f.seek(mda + o); open(sys.argv[2], 'wb').write(f.read(s).rstrip(b'\0'))
PY
}
lvm pvcreate "$c" && take "$c" bare-pv
lvm vgcreate seedvg "$a" "$b"
lvm lvcreate -an -Zn -L 8M -n lin seedvg
lvm lvcreate -an -Zn -i 2 -I 64k -L 16M -n str seedvg
take "$a" vg-linear-striped
lvm vgremove -f seedvg
lvm pvremove -ff -y "$c"
lvm pvcreate --pvmetadatacopies 2 "$c"
lvm vgcreate seedvg2 "$c"
lvm lvcreate -an -Zn -L 4M -n one seedvg2
take "$c" two-mdas
lvm vgremove -f seedvg2
rm -f "$texts/bare-pv.txt"
ls -l "$disks" "$texts"
