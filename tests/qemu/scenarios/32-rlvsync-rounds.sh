# rlvsync rounds on the real kernel: a full copy, then export | apply rounds
# while a writer keeps rewriting random 4 KiB blocks of the origin, during the
# export too. After each round the copies (a file and an LV) equal NEW byte for
# byte, and NEW differs from the origin the writer moved on. Then the kernel's
# refusals: a damaged stream, an invalid snapshot, NEW or a COW of another
# origin, a transient (N) snapshot, a merging one.
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

# refuse WHAT NEEDLE CMD...: CMD fails with status 5 and one line naming NEEDLE.
refuse() {
    what=$1 needle=$2
    shift 2
    rc=0
    "$@" >/dev/null 2>/tmp/err || rc=$?
    [ "$rc" -eq 5 ] || fail "$what: exit $rc, not 5: $(cat /tmp/err)"
    grep -q "$needle" /tmp/err || fail "$what: $(cat /tmp/err)"
    [ "$(wc -l </tmp/err)" -eq 1 ] || fail "$what: not one line: $(cat /tmp/err)"
    echo "ok: $what refused: $(cat /tmp/err)"
}

# An invalid snapshot: its COW overflowed under the kernel.
rlvcreate -L 4M --snapshot -n tiny syncvg/base
dmsetup mknodes
dd if=/dev/urandom of=/dev/mapper/syncvg-base bs=1M count=8 conv=fsync 2>/dev/null
dmsetup status syncvg-tiny | grep -q Invalid || fail "tiny is not invalid: $(dmsetup status syncvg-tiny)"
refuse "an invalid snapshot" "syncvg/tiny is invalid" \
    rlvsync export --since syncvg/tiny --at "syncvg/$old" -o /dev/null
refuse "an invalid snapshot (full)" "syncvg/tiny is invalid" rlvsync full syncvg/tiny -o /dev/null
rlvremove -f syncvg/tiny

# A snapshot of another origin as NEW.
rlvcreate -L 8M -n other syncvg
rlvcreate -L 8M --snapshot -n othersnap syncvg/other
dmsetup mknodes
refuse "NEW of another origin" "is a snapshot of base" \
    rlvsync export --since "syncvg/$old" --at syncvg/othersnap -o /dev/null
# A COW of another origin, offline: the kernel's COW lists chunks past the end of a small image.
dd if="/dev/mapper/syncvg-$old-cow" of=/tmp/cow.img bs=1M 2>/dev/null
dd if=/dev/zero of=/tmp/small.img bs=64k count=1 2>/dev/null
refuse "a COW of another origin" "belongs to another origin" \
    rlvsync export --cow /tmp/cow.img --origin /tmp/small.img -o /dev/null
rm -f /tmp/cow.img /tmp/small.img

# A transient (N) snapshot: rebuilt as N over its COW (the origin suspended,
# as a snapshot table change needs), the kernel keeps its list in memory only.
table=$(dmsetup table syncvg-othersnap)
transient=$(echo "$table" | sed 's/ P / N /')
[ "$transient" != "$table" ] || fail "no P store in: $table"
dmsetup suspend syncvg-other
dmsetup remove syncvg-othersnap
echo "$transient" | dmsetup create syncvg-othersnap
dmsetup resume syncvg-other
dmsetup mknodes
dmsetup table syncvg-othersnap | grep -q ' N ' || fail "not transient: $(dmsetup table syncvg-othersnap)"
dd if=/dev/urandom of=/dev/mapper/syncvg-other bs=4k count=4 conv=fsync 2>/dev/null
refuse "a transient snapshot" "transient (N) snapshot" \
    rlvsync export --since syncvg/othersnap --at syncvg/othersnap -o /dev/null
lvs_before=$(rlvs --noheadings -o lv_name syncvg | tr -d ' ' | sort | tr '\n' ' ')
refuse "a transient snapshot taking NEW" "transient (N) snapshot" \
    rlvsync export --since syncvg/othersnap -o /dev/null
lvs_after=$(rlvs --noheadings -o lv_name syncvg | tr -d ' ' | sort | tr '\n' ' ')
[ "$lvs_after" = "$lvs_before" ] || fail "a refusal left a snapshot: $lvs_before -> $lvs_after"
echo "ok: no snapshot left behind by the refusal: $lvs_after"
rlvremove -f syncvg/othersnap
rlvremove -f syncvg/other

# A merging snapshot (deferred: the origin is inactive when the merge is asked for).
rlvchange -an syncvg/base
rlvconvert --merge "syncvg/$old"
refuse "a merging snapshot" "syncvg/$old is merging" rlvsync export --since "syncvg/$old" -o /dev/null
refuse "a merging snapshot (full)" "syncvg/$old is merging" rlvsync full "syncvg/$old" -o /dev/null
rvgchange -an syncvg
