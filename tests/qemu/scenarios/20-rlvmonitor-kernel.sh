# rlvmonitor on the real kernel: a snapshot filling up in steps is warned
# about once per 5 % level from 80 %, a restarted monitor remembers what it
# already reported, and the invalidation is reported once.
. /guest/lib.sh
pv=$(new_loop pv 64M)
dmsetup create vg-base-real --table "0 16384 linear $pv 384"
dmsetup create vg-snap-cow --table "0 1024 linear $pv 16768"
dmsetup mknodes
dd if=/dev/zero of=/dev/mapper/vg-snap-cow bs=4096 count=1 conv=fsync 2>/dev/null
dmsetup create vg-snap --table "0 16384 snapshot $(dm_number vg-base-real) $(dm_number vg-snap-cow) P 8"
dmsetup create vg-base --table "0 16384 snapshot-origin $(dm_number vg-base-real)"
dmsetup mknodes
dd if=/dev/urandom of=/tmp/block bs=4096 count=1 2>/dev/null
next=0
write_chunks() {
    end=$((next + $1))
    while [ "$next" -lt "$end" ]; do
        write_block /tmp/block /dev/mapper/vg-base 4096 0 "$next"
        next=$((next + 1))
    done
}
look() {
    RLVM_BACKEND=kernel rlvmonitor --once --json --state-file /tmp/monitor.json "$@" | tee -a "$RESULTS/events.jsonl"
}
levels() {
    grep '"action":"warning"' | sed 's/.*is now \([0-9]*\)\..*/\1/' | tr '\n' ' '
}

expect_eq "$(look)" "" "a fresh snapshot: nothing to report"
write_chunks 100                                  # 102 chunks of 128: 79.7 %
expect_eq "$(look | levels)" "" "below 80 %: no warning"
write_chunks 5                                    # 83.6 %
out=$(look)
expect_eq "$(echo "$out" | grep -c '"action":"warning"')" "1" "one warning on crossing 80 %"
echo "$out" | grep -q '"vg":"vg","lv":"snap"' || fail "event does not name vg/snap: $out"
expect_eq "$(look)" "" "a restarted monitor does not repeat the 80 % warning"
write_chunks 10                                   # 91.4 %: crosses 85 and 90 at once
expect_eq "$(look | grep -c '"action":"warning"')" "2" "a jump over two levels warns twice"
out=$(look --config 'activation/snapshot_autoextend_threshold=70')
echo "$out" | grep -q '"action":"extend-failed"' && fail "policy acted without a new step: $out"
write_chunks 30                                   # overflows: the kernel invalidates the snapshot
expect_eq "$(dm_status vg-snap)" "Invalid" "the kernel invalidated the full snapshot"
expect_eq "$(look | grep -c '"action":"invalid"')" "1" "the invalidation is reported"
expect_eq "$(look)" "" "and only once"
dmsetup remove vg-base
dmsetup remove vg-snap
dmsetup remove vg-snap-cow
dmsetup remove vg-base-real
