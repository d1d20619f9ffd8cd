# Golden COW images made by the real kernel: for each config, a snapshot of
# a patterned origin, known chunks written through the origin in a known
# order, a clean teardown, and the COW handed back with its status, table
# and the sha256 of what the snapshot showed.
. /guest/lib.sh
grep -v '^#' "$INPUT/configs" | while read -r name chunk origin_bytes cow_bytes step count; do
    chunk_bytes=$((chunk * 512))
    origin_sectors=$((origin_bytes / 512))
    origin=$(new_loop "origin-$name" "$origin_bytes")
    cow=$(new_loop "cow-$name" "$cow_bytes")
    dd if="$INPUT/origin.bin" of="$origin" bs="$origin_bytes" count=1 conv=fsync 2>/dev/null
    dmsetup create "snap-$name" --table "0 $origin_sectors snapshot $origin $cow P $chunk"
    dmsetup create "base-$name" --table "0 $origin_sectors snapshot-origin $origin"
    dmsetup mknodes
    index=0
    for target in $(cat "$INPUT/$name.list"); do
        write_block "$INPUT/$name.new" "/dev/mapper/base-$name" "$chunk_bytes" "$index" "$target"
        index=$((index + 1))
    done
    status=$(dm_status "snap-$name")
    echo "$name: $status"
    echo "$status" >"$RESULTS/$name.status"
    dmsetup table "snap-$name" | cut -d' ' -f3- >"$RESULTS/$name.table"
    if [ "$status" != Invalid ]; then
        blocks_sha "/dev/mapper/snap-$name" "$chunk_bytes" 0 $((origin_bytes / chunk_bytes)) >"$RESULTS/$name.snapshot.sha256"
        expect_eq "$(cat "$RESULTS/$name.snapshot.sha256")" "$(blocks_sha "$INPUT/origin.bin" "$chunk_bytes" 0 $((origin_bytes / chunk_bytes)))" "$name: snapshot shows the origin as it was"
    fi
    blocks_sha "/dev/mapper/base-$name" "$chunk_bytes" 0 $((origin_bytes / chunk_bytes)) >"$RESULTS/$name.origin.sha256"
    dmsetup remove "base-$name"
    dmsetup remove "snap-$name"
    cp "/tmp/cow-$name.img" "$RESULTS/$name.cow"
    rcow check "$RESULTS/$name.cow" || [ "$status" = Invalid ]
done
expect_eq "$(cat "$RESULTS/c4k.status")" "4832/8192 32" "600 exceptions at 4 KiB fill three areas"
expect_eq "$(cat "$RESULTS/full4k.status")" "Invalid" "an overfilled COW is invalidated"
