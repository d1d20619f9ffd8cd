# rlvsync rounds on the real kernel: a full copy, then export | apply rounds
# while a writer keeps rewriting random 4 KiB blocks of the origin, during the
# export too. After each round the copies (a file and an LV) equal NEW byte for
# byte, and NEW differs from the origin the writer moved on. Then the kernel's
# refusals: an invalid snapshot, a damaged stream.
. /guest/lib.sh
export RLVM_DIR=/tmp/rlvm RLVM_DEVICES=/dev/vdc
mkdir -p /run/lock/lvm /tmp/rlvm
dd if=/dev/zero of=/dev/vdc bs=1M count=2 2>/dev/null
rpvcreate /dev/vdc
rvgcreate syncvg /dev/vdc
rlvcreate -L 64M -n base syncvg
rlvcreate -L 64M -n copy syncvg
dmsetup mknodes
dd if=/dev/urandom of=/dev/mapper/syncvg-base bs=1M count=64 conv=fsync 2>/dev/null
rlvcreate -L 32M --snapshot -n mon syncvg/base
dmsetup mknodes

rlvsync full syncvg/mon -o /tmp/full.stream
rlvsync apply /tmp/full.stream /tmp/copy.img
rlvsync apply /tmp/full.stream syncvg/copy
cmp /tmp/copy.img /dev/mapper/syncvg-mon || fail "full: file copy differs from syncvg/mon"
cmp /dev/mapper/syncvg-copy /dev/mapper/syncvg-mon || fail "full: LV copy differs from syncvg/mon"
rm -f /tmp/full.stream
echo "ok: full stream to a file and to an LV"

writer() {
    while [ ! -e /tmp/stop ]; do
        n=$(od -An -tu2 -N2 /dev/urandom | tr -d ' ')
        dd if=/dev/urandom of=/dev/mapper/syncvg-base bs=4096 seek=$((n % 16384)) count=1 conv=notrunc,fsync 2>/dev/null
    done
}

old=mon
round=1
while [ "$round" -le 3 ]; do
    rm -f /tmp/stop
    writer &
    pid=$!
    sleep 1
    # rlvsync takes NEW itself; the writer goes on during the export.
    rlvsync export --since "syncvg/$old" -o - 2>/tmp/new.name | rlvsync apply - /tmp/copy.img
    sleep 1
    touch /tmp/stop
    wait "$pid"
    new=$(sed -n 's|^syncvg/||p' /tmp/new.name)
    [ -n "$new" ] || fail "round $round: export did not name NEW: $(cat /tmp/new.name)"
    dmsetup mknodes
    cmp /tmp/copy.img "/dev/mapper/syncvg-$new" || fail "round $round: file copy differs from syncvg/$new"
    if cmp -s "/dev/mapper/syncvg-$new" /dev/mapper/syncvg-base; then
        fail "round $round: the origin took no write after NEW"
    fi
    rlvsync export --since "syncvg/$old" --at "syncvg/$new" -o /tmp/round.stream
    rlvsync apply /tmp/round.stream syncvg/copy
    rlvsync verify /tmp/round.stream syncvg/copy
    cmp /dev/mapper/syncvg-copy "/dev/mapper/syncvg-$new" || fail "round $round: LV copy differs"
    echo "ok: round $round: file and LV copies equal syncvg/$new ($(rlvsync info /tmp/round.stream | sed -n 's/^ *records *//p') records), origin moved on"
    rlvremove -f "syncvg/$old"
    old=$new
    round=$((round + 1))
done

# A damaged stream: apply stops, naming the record, and the copy keeps whole records only.
rlvsync info /tmp/round.stream >/dev/null
cp /tmp/round.stream /tmp/bad.stream
size=$(wc -c </tmp/bad.stream)
printf '\377' | dd of=/tmp/bad.stream bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
if rlvsync apply --force /tmp/bad.stream /tmp/copy.img 2>/tmp/err; then
    fail "a flipped byte was applied"
fi
grep -q "record" /tmp/err || fail "error does not name the record: $(cat /tmp/err)"
echo "ok: damaged stream refused: $(cat /tmp/err)"

# An invalid snapshot is refused.
rlvcreate -L 4M --snapshot -n tiny syncvg/base
dmsetup mknodes
dd if=/dev/urandom of=/dev/mapper/syncvg-base bs=1M count=8 conv=fsync 2>/dev/null
if rlvsync export --since syncvg/tiny --at "syncvg/$old" -o /dev/null 2>/tmp/err; then
    fail "an invalid snapshot was exported"
fi
grep -q "is invalid" /tmp/err || fail "invalid: $(cat /tmp/err)"
echo "ok: invalid snapshot refused: $(cat /tmp/err)"
rlvremove -f syncvg/tiny
rlvremove -f "syncvg/$old"
rvgchange -an syncvg
