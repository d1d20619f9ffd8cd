# Striped LVs on the real kernel: rlvm and lvm2 each make `-i 2 -I 64k`
# over /dev/vdb and /dev/vdc; the dm tables must have the same shape, and
# the bytes written through each LV must land on the PVs where dm-stripe
# puts them (chunk k on stripe k % 2, row k / 2). rlvm then extends its
# striped LV and snapshots it, and the snapshot keeps the old data.
. /guest/lib.sh
export RLVM_DIR=/tmp/rlvm RLVM_DEVICES=/dev/vdb:/dev/vdc RLVM_BACKEND=kernel LVM_SUPPRESS_FD_WARNINGS=1
mkdir -p /run/lock/lvm /tmp/rlvm
for d in /dev/vdb /dev/vdc; do dd if=/dev/zero of=$d bs=1M count=2 2>/dev/null; done
dd if=/dev/urandom of=/tmp/p.bin bs=1M count=16 2>/dev/null

# The table with device numbers replaced: its shape.
shape() { dmsetup table "$1" | sed 's/ [0-9]*:[0-9]* / DEV /g'; }

# check_placement DM-NAME: every 64 KiB chunk of /tmp/p.bin, written through
# the LV, is found on the stripe and at the offset the table says.
check_placement() {
    # The PVs' own page cache may hold what they read before the writes
    # that went to the disks through dm.
    sync
    echo 3 >/proc/sys/vm/drop_caches
    set -- $(dmsetup table "$1")
    # 0 LEN striped 2 128 DEV0 OFF0 DEV1 OFF1
    devs="$6 $8"
    offs="$7 $9"
    k=0
    while [ $k -lt 256 ]; do
        s=$((k % 2))
        row=$((k / 2))
        dev=$(echo $devs | cut -d' ' -f$((s + 1)))
        off=$(echo $offs | cut -d' ' -f$((s + 1)))
        node=/dev/$(grep -l "^$dev\$" /sys/block/*/dev | cut -d/ -f4)
        [ -b "$node" ] || fail "no node for $dev"
        got=$(blocks_sha "$node" 65536 $((off / 128 + row)) 1)
        want=$(blocks_sha /tmp/p.bin 65536 $k 1)
        [ "$got" = "$want" ] || fail "chunk $k not on stripe $s row $row of $node"
        k=$((k + 16))
    done
    echo "ok: chunks of $2 where dm-stripe puts them"
}

# rlvm.
rpvcreate /dev/vdb /dev/vdc
rvgcreate rsvg /dev/vdb /dev/vdc
rlvcreate -i 2 -I 64k -L 16M -n st rsvg
dmsetup mknodes
r_shape=$(shape rsvg-st)
dd if=/tmp/p.bin of=/dev/mapper/rsvg-st bs=1M conv=fsync 2>/dev/null
expect_eq "$(blocks_sha /dev/mapper/rsvg-st 65536 0 256)" "$(blocks_sha /tmp/p.bin 65536 0 256)" "rlvm's striped LV reads back"
check_placement rsvg-st rlvm
rlvextend -L +16M rsvg/st
expect_eq "$(shape rsvg-st)" "0 65536 striped 2 128 DEV 2048 DEV 2048" "rlvm's extension continues both stripes in one line"
expect_eq "$(blocks_sha /dev/mapper/rsvg-st 65536 0 256)" "$(blocks_sha /tmp/p.bin 65536 0 256)" "data kept over the extension"
rlvcreate -s -L 16M -n sn rsvg/st
dmsetup mknodes
dd if=/dev/urandom of=/dev/mapper/rsvg-st bs=64k count=64 conv=fsync,notrunc 2>/dev/null
expect_eq "$(blocks_sha /dev/mapper/rsvg-sn 65536 0 256)" "$(blocks_sha /tmp/p.bin 65536 0 256)" "snapshot of a striped origin keeps the old data"
expect_eq "$(dmsetup table rsvg-st-real | cut -d' ' -f3)" "striped" "the origin's -real is striped"
rlvremove -y rsvg/sn
rlvremove -y rsvg/st
rvgremove -f rsvg
rpvremove /dev/vdb /dev/vdc

# lvm2 on the same disks.
for d in /dev/vdb /dev/vdc; do dd if=/dev/zero of=$d bs=1M count=2 2>/dev/null; done
lvm pvcreate -q /dev/vdb /dev/vdc
lvm vgcreate -q lsvg /dev/vdb /dev/vdc
lvm lvcreate -q -i 2 -I 64k -L 16M -n st lsvg
dmsetup mknodes
l_shape=$(shape lsvg-st)
expect_eq "$r_shape" "$l_shape" "rlvm's striped table has lvm2's shape"
dd if=/tmp/p.bin of=/dev/mapper/lsvg-st bs=1M conv=fsync 2>/dev/null
check_placement lsvg-st lvm2
lvm lvextend -q -L +16M lsvg/st
expect_eq "$(shape lsvg-st)" "0 65536 striped 2 128 DEV 2048 DEV 2048" "lvm2's extension is the same single line"
lvm vgremove -q -f lsvg
