# Helpers for guest scenarios (busybox sh). Sourced as /guest/lib.sh.

fail() {
    echo "FAIL: $*"
    exit 1
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
    if [ "$1" != "$2" ]; then
        fail "$3: got '$1', expected '$2'"
    fi
    echo "ok: $3"
}

# A loop device over a new file of SIZE (truncate syntax), printed.
new_loop() {
    file=/tmp/$1.img
    truncate -s "$2" "$file"
    # busybox losetup has no --show: take the next free device, then attach.
    loop_device=$(losetup -f)
    losetup "$loop_device" "$file"
    echo "$loop_device"
}

# major:minor of a dm device.
dm_number() {
    dmsetup info -c --noheadings -o major,minor "$1" | tr -d ' '
}

# sha256 of COUNT blocks of BS bytes at block SKIP of DEVICE.
blocks_sha() {
    dd if="$1" bs="$2" skip="$3" count="$4" 2>/dev/null | sha256sum | cut -d' ' -f1
}

# Write SOURCE file's block SRC_INDEX (BS bytes) to block DST_INDEX of DEVICE, synchronously.
write_block() {
    dd if="$1" of="$2" bs="$3" skip="$4" seek="$5" count=1 conv=notrunc,fsync 2>/dev/null
}

# The status params of a dm device (after "<start> <len> <target> ").
dm_status() {
    dmsetup status "$1" | cut -d' ' -f4-
}
