# A COW written by rlvm's library, loaded under a real snapshot table: the
# kernel accepts it, reports the usage rlvm computed, shows exactly the data
# rlvm put there, appends to it, and rlvm reads what the kernel appended.
. /guest/lib.sh
origin=$(new_loop origin 8M)
cp "$INPUT/rlvm.cow" /tmp/rlvm.cow
# cow_write sizes the store to fit exactly; give the kernel room to append.
truncate -s $(($(stat -c %s /tmp/rlvm.cow) + 1048576)) /tmp/rlvm.cow
cow_loop=$(losetup -f)
losetup "$cow_loop" /tmp/rlvm.cow
dmsetup create snap --table "0 16384 snapshot $origin $cow_loop P 8"
dmsetup create base --table "0 16384 snapshot-origin $origin"
dmsetup mknodes
expect_eq "$(dm_status snap | cut -d/ -f1)" "$(cut -d/ -f1 "$INPUT/expected.status")" "kernel's allocated sectors equal rlvm's"
expect_eq "$(dm_status snap | cut -d' ' -f2)" "$(cut -d' ' -f2 "$INPUT/expected.status")" "kernel's metadata sectors equal rlvm's"
expect_eq "$(blocks_sha /dev/mapper/snap 4096 0 2048)" "$(cat "$INPUT/expected.sha256")" "snapshot shows rlvm's chunks over the origin"
expect_eq "$(blocks_sha /dev/mapper/snap 4096 1 1)" "$(blocks_sha /dev/zero 4096 0 1)" "an unlisted chunk reads from the origin"

# The kernel carries on appending to rlvm's store.
dd if=/dev/urandom of=/tmp/new bs=4096 count=1 2>/dev/null
write_block /tmp/new /dev/mapper/base 4096 0 2047
expect_eq "$(blocks_sha /dev/mapper/snap 4096 2047 1)" "$(blocks_sha /dev/zero 4096 0 1)" "snapshot keeps the zero chunk 2047"
dmsetup remove base
dmsetup remove snap
losetup -d "$cow_loop"
rcow check /tmp/rlvm.cow
rcow dump /tmp/rlvm.cow >"$RESULTS/dump.txt"
expect_eq "$(sed -n 's/^exceptions: //p' "$RESULTS/dump.txt")" "301" "rlvm reads the kernel's appended exception"
tail -1 "$RESULTS/dump.txt" | grep -q "2047 ->" || fail "last exception is not origin chunk 2047: $(tail -1 "$RESULTS/dump.txt")"
