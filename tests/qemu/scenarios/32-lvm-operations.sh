# rlvm's LVM operations (lib ops::lvm) on the real kernel: rename of an
# origin and its snapshot with all four devices checked by name and UUID, a
# deferred merge with an open origin, merging one of two snapshots, removing
# an open LV, and rvgremove -f of a VG with an active origin and snapshots.
. /guest/lib.sh
export RLVM_DIR=/tmp/rlvm RLVM_DEVICES=/dev/vdb RLVM_BACKEND=kernel
mkdir -p /run/lock/lvm /tmp/rlvm
dd if=/dev/zero of=/dev/vdb bs=1M count=2 2>/dev/null
rpvcreate /dev/vdb
rvgcreate opsvg /dev/vdb

uuid() { dmsetup info -c --noheadings -o uuid "$1"; }
devices() { dmsetup ls | awk '{print $1}' | grep '^opsvg-' | sort | tr '\n' ' '; }
top_target() { dmsetup table "$1" | cut -d' ' -f3; }

# 1. Rename renames every layer; remove finds them afterwards.
rlvcreate -L 16M -n org opsvg
rlvcreate -s -L 8M -n snap opsvg/org
u_top=$(uuid opsvg-org) u_real=$(uuid opsvg-org-real) u_snap=$(uuid opsvg-snap) u_cow=$(uuid opsvg-snap-cow)
rlvrename opsvg org org2
rlvrename opsvg/snap opsvg/snap2
expect_eq "$(devices)" "opsvg-org2 opsvg-org2-real opsvg-snap2 opsvg-snap2-cow " "all four devices renamed"
expect_eq "$(uuid opsvg-org2)" "$u_top" "origin keeps its UUID"
expect_eq "$(uuid opsvg-org2-real)" "$u_real" "-real keeps its UUID"
expect_eq "$(uuid opsvg-snap2)" "$u_snap" "snapshot keeps its UUID"
expect_eq "$(uuid opsvg-snap2-cow)" "$u_cow" "-cow keeps its UUID"
rlvremove -y opsvg/snap2
expect_eq "$(devices)" "opsvg-org2 " "removing the snapshot leaves only the origin"
rlvremove -y opsvg/org2
expect_eq "$(devices)" "" "removing the origin leaves nothing"

# 2. A deferred merge starts only at an activation where the origin is not open.
rlvcreate -L 8M -n base opsvg
dmsetup mknodes
dd if=/dev/urandom of=/tmp/a.bin bs=1M count=8 2>/dev/null
dd if=/tmp/a.bin of=/dev/mapper/opsvg-base bs=1M conv=fsync 2>/dev/null
rlvcreate -s -L 8M -n bs opsvg/base
dd if=/dev/urandom of=/dev/mapper/opsvg-base bs=4096 count=64 conv=fsync,notrunc 2>/dev/null
exec 3</dev/mapper/opsvg-base
out=$(rlvconvert --merge opsvg/bs)
echo "$out" | grep -q "Delaying merge since origin is open." || fail "no delay: $out"
out=$(rlvchange -ay opsvg/base)
echo "$out" | grep -q "Delaying merge since origin is open." || fail "activation did not delay: $out"
expect_eq "$(top_target opsvg-base)" "snapshot-origin" "no merge over an open origin"
exec 3<&-
rlvchange -ay opsvg/base
expect_eq "$(top_target opsvg-base)" "linear" "merged once the origin closed"
expect_eq "$(blocks_sha /dev/mapper/opsvg-base 4096 0 2048)" "$(blocks_sha /tmp/a.bin 4096 0 2048)" "origin rolled back"
rlvremove -y opsvg/base

# 3. Merging one of two snapshots keeps the other one whole (100%ORIGIN
# COWs hold a rewrite of the whole origin).
rlvcreate -L 8M -n o opsvg
dmsetup mknodes
dd if=/dev/urandom of=/tmp/b.bin bs=1M count=8 2>/dev/null
dd if=/tmp/a.bin of=/dev/mapper/opsvg-o bs=1M conv=fsync 2>/dev/null
rlvcreate -s -l 100%ORIGIN -n s1 opsvg/o
dd if=/tmp/b.bin of=/dev/mapper/opsvg-o bs=1M conv=fsync 2>/dev/null
rlvcreate -s -l 100%ORIGIN -n s2 opsvg/o
dmsetup mknodes
rlvconvert --merge -i 0.2 opsvg/s1
dmsetup mknodes
expect_eq "$(top_target opsvg-o)" "snapshot-origin" "origin stays snapshot-origin of s2"
expect_eq "$(blocks_sha /dev/mapper/opsvg-o 4096 0 2048)" "$(blocks_sha /tmp/a.bin 4096 0 2048)" "origin rolled back to s1"
expect_eq "$(blocks_sha /dev/mapper/opsvg-s2 4096 0 2048)" "$(blocks_sha /tmp/b.bin 4096 0 2048)" "s2 keeps its content"
dd if=/dev/urandom of=/dev/mapper/opsvg-o bs=4096 count=64 conv=fsync,notrunc 2>/dev/null
expect_eq "$(blocks_sha /dev/mapper/opsvg-s2 4096 0 2048)" "$(blocks_sha /tmp/b.bin 4096 0 2048)" "s2 still gets its copy-outs"
expect_eq "$(devices)" "opsvg-o opsvg-o-real opsvg-s2 opsvg-s2-cow " "s1's devices are gone"

# 4. An open LV is not removed.
rlvcreate -L 4M -n busy opsvg
dmsetup mknodes
exec 4</dev/mapper/opsvg-busy
if out=$(rlvremove -f opsvg/busy 2>&1); then fail "removed an open LV"; fi
echo "$out" | grep -q "Logical volume opsvg/busy in use." || fail "wrong refusal: $out"
exec 4<&-
rlvremove -f opsvg/busy

# 5. rvgremove -f with an active origin and snapshots takes everything down.
rlvcreate -s -L 4M -n s3 opsvg/o
rvgremove -f opsvg
expect_eq "$(devices)" "" "rvgremove -f leaves no device"
