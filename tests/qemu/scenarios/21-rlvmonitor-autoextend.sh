# rlvmonitor's autoextend on the real kernel: with the policy at 70 %/20 %, a
# snapshot written past its original COW size stays valid because the monitor
# grows the COW in steps; once the VG is full it says so at the threshold,
# and then reports the invalidation.
. /guest/lib.sh
export RLVM_DIR=/tmp/rlvm RLVM_DEVICES=/dev/vdb
mkdir -p /tmp/rlvm /run/lock/lvm
dd if=/dev/zero of=/dev/vdb bs=1M count=2 2>/dev/null
rpvcreate /dev/vdb
rvgcreate -s 1M vgm /dev/vdb
rlvcreate -L 64M -n base vgm
rlvcreate -L 4M -s -n snap vgm/base
dd if=/dev/urandom of=/tmp/block bs=4096 count=1 2>/dev/null
policy='activation { snapshot_autoextend_threshold = 70 snapshot_autoextend_percent = 20 }'
next=0
write_chunks() {
    end=$((next + $1))
    while [ "$next" -lt "$end" ]; do
        write_block /tmp/block /dev/mapper/vgm-base 4096 0 "$next"
        next=$((next + 1))
    done
}
look() {
    rlvmonitor --once --json --state-file /tmp/monitor.json --config "$policy" | tee -a "$RESULTS/events.jsonl"
}
# 4 MiB holds about 1000 chunks; write 3000 in steps, looking after each.
round=0
while [ $round -lt 30 ]; do
    write_chunks 100
    look >/dev/null
    round=$((round + 1))
done
status=$(dm_status vgm-snap)
echo "after 3000 chunks: $status, COW $(dmsetup table vgm-snap-cow | awk '{s += $2} END {print s}') sectors"
[ "$status" != Invalid ] || fail "the snapshot was invalidated despite the policy"
extended=$(grep -c '"action":"extended"' "$RESULTS/events.jsonl")
[ "$extended" -ge 3 ] || fail "only $extended extensions"
echo "ok: $extended extensions kept the snapshot valid"
expect_eq "$(blocks_sha /dev/mapper/vgm-snap 4096 0 1)" "$(blocks_sha /dev/zero 4096 0 1)" "the snapshot still shows the old (zero) data"
rlvs -o lv_name,lv_size,data_percent vgm

# Fill the VG: the next steps cannot extend, and the monitor says so before the snapshot is lost.
rlvcreate -an -l 100%FREE -n filler vgm
while [ "$(dm_status vgm-snap)" != Invalid ]; do
    write_chunks 100
    look >/dev/null
done
look >/dev/null
grep -q '"action":"no-space"' "$RESULTS/events.jsonl" || fail "no no-space event before the invalidation"
expect_eq "$(grep -c '"action":"invalid"' "$RESULTS/events.jsonl")" "1" "the invalidation is reported once"
first_nospace=$(grep -n '"action":"no-space"' "$RESULTS/events.jsonl" | head -1 | cut -d: -f1)
invalid_at=$(grep -n '"action":"invalid"' "$RESULTS/events.jsonl" | cut -d: -f1)
[ "$first_nospace" -lt "$invalid_at" ] || fail "no-space came after the invalidation"
echo "ok: no-space reported before the invalidation"
