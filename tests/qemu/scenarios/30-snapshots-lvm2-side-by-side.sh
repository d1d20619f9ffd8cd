# The seed's scenario, done by real lvm2 on /dev/vdb and by rlvm on /dev/vdc
# in the same guest: the four devices, their tables and status lines, lvs and
# rlvs on both VGs, writes, extension and merge each done by the other tool.
. /guest/lib.sh
export RLVM_DIR=/tmp/rlvm RLVM_DEVICES=/dev/vdb:/dev/vdc LVM_SUPPRESS_FD_WARNINGS=1
mkdir -p /run/lock/lvm /tmp/rlvm
dd if=/dev/zero of=/dev/vdb bs=1M count=2 2>/dev/null
dd if=/dev/zero of=/dev/vdc bs=1M count=2 2>/dev/null

lvm pvcreate -q /dev/vdb
lvm vgcreate -q volumeGroup /dev/vdb
lvm lvcreate -q -L 1G -n base volumeGroup
rpvcreate /dev/vdc
rvgcreate rvolumeGroup /dev/vdc
rlvcreate -L 1G -n base rvolumeGroup
dmsetup mknodes
dd if="$INPUT/origin.bin" of=/dev/mapper/volumeGroup-base bs=1M conv=fsync 2>/dev/null
dd if="$INPUT/origin.bin" of=/dev/mapper/rvolumeGroup-base bs=1M conv=fsync 2>/dev/null

lvm lvcreate -q -L 100M --snapshot -n snap volumeGroup/base
rlvcreate -L 100M --snapshot -n snap rvolumeGroup/base
dmsetup mknodes
lvm vgcfgbackup -q -f "$RESULTS/volumeGroup.vg" volumeGroup
sed -n "/logical_volumes/,\$p" "$RESULTS/volumeGroup.vg"
dmsetup table | sort | tee "$RESULTS/tables.txt"
dmsetup status | sort | tee "$RESULTS/status.txt"

# Same tables and status lines, names, major:minor and PV offsets aside.
shape() {
    grep "^$1-" | sed -e "s/^$1-//" -e 's/[0-9]*:[0-9]*/D/g' | awk '{ if ($4 == "linear") $6 = "O"; print }'
}
expect_eq "$(shape volumeGroup <"$RESULTS/tables.txt")" "$(shape rvolumeGroup <"$RESULTS/tables.txt")" "tables match lvm2's"
expect_eq "$(shape volumeGroup <"$RESULTS/status.txt")" "$(shape rvolumeGroup <"$RESULTS/status.txt")" "status lines match lvm2's"
expect_eq "$(dmsetup table rvolumeGroup-snap | cut -d' ' -f3,6-)" "snapshot P 8" "rlvm's snapshot table"
expect_eq "$(dmsetup info -c --noheadings -o uuid rvolumeGroup-base-real | cut -c1-4,69-)" "LVM--real" "-real UUID"

fields=lv_name,lv_attr,lv_size,origin,data_percent,snap_percent,chunk_size,lv_uuid,seg_count
for vg in volumeGroup rvolumeGroup; do
    lvm lvs --reportformat json -o $fields $vg >"$RESULTS/lvs-$vg.json"
    rlvs --reportformat json -o $fields $vg >"$RESULTS/rlvs-$vg.json"
    expect_eq "$(cat "$RESULTS/rlvs-$vg.json")" "$(cat "$RESULTS/lvs-$vg.json")" "rlvs equals lvs on $vg"
done

# Writes to both origins: the snapshots keep the old data, Data% grows alike.
for vg in volumeGroup rvolumeGroup; do
    write_block "$INPUT/new.bin" /dev/mapper/$vg-base 4096 0 3
    write_block "$INPUT/new.bin" /dev/mapper/$vg-base 4096 1 100
    expect_eq "$(blocks_sha /dev/mapper/$vg-snap 4096 3 1)" "$(blocks_sha "$INPUT/origin.bin" 4096 3 1)" "$vg snapshot keeps chunk 3"
done
expect_eq "$(dm_status rvolumeGroup-snap)" "$(dm_status volumeGroup-snap)" "same fill after the same writes"
for vg in volumeGroup rvolumeGroup; do
    expect_eq "$(rlvs --reportformat json -o $fields $vg)" "$(lvm lvs --reportformat json -o $fields $vg)" "rlvs equals lvs on $vg after writes"
done

# Each tool extends the other's snapshot, live.
lvm lvextend -q -L +20M rvolumeGroup/snap
rlvextend -L +20M volumeGroup/snap
for vg in volumeGroup rvolumeGroup; do
    expect_eq "$(dmsetup table $vg-snap-cow | awk '{s += $2} END {print s}')" "245760" "$vg COW grown to 120 MiB live"
    expect_eq "$(rlvs --reportformat json -o $fields $vg)" "$(lvm lvs --reportformat json -o $fields $vg)" "rlvs equals lvs on $vg after extend"
done
lvm vgck volumeGroup
lvm vgck rvolumeGroup

# Each tool merges the other's snapshot: the origins roll back.
lvm lvconvert -q --merge rvolumeGroup/snap
rlvconvert --merge -i 0.2 volumeGroup/snap
dmsetup mknodes
for vg in volumeGroup rvolumeGroup; do
    expect_eq "$(blocks_sha /dev/mapper/$vg-base 4096 0 2048)" "$(blocks_sha "$INPUT/origin.bin" 4096 0 2048)" "$vg origin rolled back"
    expect_eq "$(dmsetup table $vg-base | cut -d' ' -f3)" "linear" "$vg origin back to linear"
    expect_eq "$(lvm lvs --noheadings -o lv_name $vg | tr -d ' ')" "base" "$vg has only its origin left"
done

# And removal across tools; lvm2 checks what rlvm left.
rlvcreate -L 8M -s -n s2 volumeGroup/base
lvm lvremove -q -f volumeGroup/s2
lvm lvcreate -q -L 8M -s -n s3 rvolumeGroup/base
rlvremove -y rvolumeGroup/s3
expect_eq "$(dmsetup ls | grep -c -- '-real')" "0" "no -real layer left"
lvm vgck volumeGroup
lvm vgck rvolumeGroup
