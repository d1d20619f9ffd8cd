# The documented four-device stack, built with real dmsetup: writes to the
# origin land in the COW, the snapshot keeps the old data, status follows
# the kernel's usage arithmetic, and rcow reads what the kernel wrote.
. /guest/lib.sh
pv=$(new_loop pv 32M)
dmsetup create vg-base --table "0 16384 linear $pv 384"
dmsetup mknodes
dd if="$INPUT/origin.bin" of=/dev/mapper/vg-base bs=1M conv=fsync 2>/dev/null
old3=$(blocks_sha /dev/mapper/vg-base 4096 3 1)

dmsetup create vg-base-real --table "0 16384 linear $pv 384"
dmsetup create vg-snap-cow --table "0 8192 linear $pv 16768"
dmsetup mknodes
dd if=/dev/zero of=/dev/mapper/vg-snap-cow bs=4096 count=1 conv=fsync 2>/dev/null
dmsetup suspend vg-base
dmsetup create vg-snap --table "0 16384 snapshot $(dm_number vg-base-real) $(dm_number vg-snap-cow) P 8"
dmsetup load vg-base --table "0 16384 snapshot-origin $(dm_number vg-base-real)"
dmsetup resume vg-snap
dmsetup resume vg-base
dmsetup mknodes
dmsetup table
expect_eq "$(dm_status vg-snap)" "16/8192 16" "fresh snapshot status"
expect_eq "$(dmsetup table vg-snap | cut -d' ' -f3,6-)" "snapshot P 8" "snapshot table"

write_block "$INPUT/new.bin" /dev/mapper/vg-base 4096 0 3
write_block "$INPUT/new.bin" /dev/mapper/vg-base 4096 1 10
expect_eq "$(blocks_sha /dev/mapper/vg-snap 4096 3 1)" "$old3" "snapshot keeps the old chunk 3"
expect_eq "$(blocks_sha /dev/mapper/vg-base 4096 3 1)" "$(blocks_sha "$INPUT/new.bin" 4096 0 1)" "origin has the new chunk 3"
expect_eq "$(dm_status vg-snap)" "32/8192 16" "status after two copied chunks"
expect_eq "$(blocks_sha /dev/mapper/vg-snap 4096 0 2048)" "$(blocks_sha "$INPUT/origin.bin" 4096 0 2048)" "whole snapshot equals the old origin"

# rcow reads the live COW the kernel is writing.
rcow check /dev/mapper/vg-snap-cow
rcow dump /dev/mapper/vg-snap-cow | tee "$RESULTS/dump.txt"
grep -q "3 -> 2" "$RESULTS/dump.txt" || grep -Eq "\b3\b.*\b2\b" "$RESULTS/dump.txt" || fail "rcow dump does not show origin chunk 3 at COW chunk 2"

dmsetup remove vg-base
dmsetup remove vg-snap
dmsetup remove vg-snap-cow
dmsetup remove vg-base-real
