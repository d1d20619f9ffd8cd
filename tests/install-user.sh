#!/usr/bin/env bash
# rlvm for a user without root: installs under a temporary PREFIX, creates
# a fresh unprivileged user, and as that user runs the demo (tests/demo.sh
# with RLVM_DEMO_BIN: image files in their home, the engine's devices as
# FUSE files through fusermount3) and then the main commands with no
# RLVM_DIR at all, checking by content: state and locks in
# ~/.local/state/rlvm, an origin and its snapshot holding the right bytes
# (through FUSE files and over NBD on the user's socket),
# one clear line where root is truly required, and no file of theirs
# anywhere but their home. Needs root (useradd, runuser).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "install-user test: needs root (useradd)" >&2; exit 1; }
fail() {
    echo "install-user test: FAIL: $*" >&2
    exit 1
}

work=$(mktemp -d /tmp/rlvm-install-user.XXXXXX)
chmod 0755 "$work"
user=rlvmu$$
home=/home/$user
fuse_mode=$(stat -c %a /dev/fuse 2>/dev/null || true)
as_user() {
    runuser -u "$user" -- env -i HOME="$home" USER="$user" LOGNAME="$user" \
        PATH="$work/prefix/sbin:/usr/bin:/bin" "$@"
}
cleanup() {
    if id "$user" >/dev/null 2>&1; then
        as_user rdmd --stop --force >/dev/null 2>&1 || true
        as_user env RLVM_DIR="$home/demo/state" rdmd --stop --force >/dev/null 2>&1 || true
        userdel -r -f "$user" >/dev/null 2>&1 || true
    fi
    [ -z "$fuse_mode" ] || chmod "$fuse_mode" /dev/fuse
    rm -rf "$work"
}
trap cleanup EXIT

# The build tests/run-all.sh makes (a no-op after it; `make build` alone
# selects other features and would rebuild): make install then installs it.
cargo build --release --workspace --bins --examples --locked -q
make -s install PREFIX="$work/prefix"
# A reused UID may own files an earlier user left behind: only what this
# run makes counts (anything newer than this mark).
touch "$work/started"
useradd -m -s /bin/bash "$user"
# fusermount3 opens /dev/fuse as the calling user: Debian's udev makes it
# 0666 (50-udev-default.rules); a container's static /dev may have 0600.
case $fuse_mode in
666 | "") fuse_mode= ;;
*) chmod 0666 /dev/fuse ;;
esac

echo "== the demo as $user (no root), programs from $work/prefix/sbin"
if ! demo=$(as_user env RLVM_DEMO_BIN="$work/prefix/sbin" RLVM_DEMO_WORK="$home/demo" bash tests/demo.sh 2>&1); then
    echo "$demo" >&2
    fail "the demo failed as an ordinary user"
fi
grep -q '^snapshot == origin before the write; origin == zeros$' <<<"$demo" || fail "the demo compared nothing: $demo"
grep -Eq '^  snap +swi-a-s--- +100\.00m +base +[1-9][0-9]*\.[0-9]+ ' <<<"$demo" ||
    fail "rlvs shows no filling snapshot: $demo"
grep -Eq '/vg-snap-cow: clean, [1-9][0-9]* exceptions$' <<<"$demo" || fail "rcow check: $demo"
echo "demo: PASS (the snapshot kept the old bytes, the origin has the new, rcow check clean)"

echo "== the main commands as $user with no RLVM_DIR: state in ~/.local/state/rlvm"
cat >"$work/steps.sh" <<'EOF'
set -euo pipefail
cd "$HOME"
state=$HOME/.local/state/rlvm
truncate -s 64M pv.img
head -c 1M /dev/urandom >before
rpvcreate pv.img
rvgcreate vgu pv.img
rlvcreate -L 8M -n lv vgu
dd if=before of="$state/mapper/vgu-lv" bs=1M conv=notrunc,fsync status=none
rlvcreate -s -L 4M -n snap vgu/lv
dd if=/dev/zero of="$state/mapper/vgu-lv" bs=1M count=1 conv=notrunc,fsync status=none
cmp -n 1048576 "$state/mapper/vgu-snap" before
cmp -n 1048576 "$state/mapper/vgu-lv" /dev/zero
rlvs --noheadings -o lv_name,origin vgu
# The same devices over NBD on the user's own socket.
size=$(nbdinfo --size "nbd+unix:///vgu-snap?socket=$state/nbd.sock")
[ "$size" = 8388608 ] || { echo "vgu-snap over NBD is $size bytes" >&2; exit 1; }
nbdcopy "nbd+unix:///vgu-snap?socket=$state/nbd.sock" snap.nbd
cmp -n 1048576 snap.nbd before
rdmsetup ls
test -d "$state/lock" || { echo "no lock directory in $state" >&2; exit 1; }
# Root is truly needed here: each says so in one line and fails.
if RLVM_BACKEND=kernel rdmsetup ls >kernel.out 2>&1; then
    echo "the kernel backend worked without root" >&2; exit 1
fi
cat kernel.out
if [ -b /dev/loop0 ]; then
    if rpvcreate /dev/loop0 >loop.out 2>&1; then
        echo "rpvcreate /dev/loop0 worked without root" >&2; exit 1
    fi
    cat loop.out
fi
rlvremove -y vgu/snap
rvgchange -an vgu
rdmd --stop
EOF
chmod 0644 "$work/steps.sh"
if ! steps=$(as_user bash "$work/steps.sh" 2>&1); then
    echo "$steps" >&2
    fail "the main commands failed as an ordinary user"
fi
echo "$steps"
grep -Eq '^ +lv *$' <<<"$steps" && grep -Eq '^ +snap +lv *$' <<<"$steps" || fail "rlvs did not list lv and its snapshot"
for out in "$home/kernel.out" "$home/loop.out"; do
    [ -f "$out" ] || continue
    [ "$(grep -c . "$out")" -eq 1 ] || fail "a refusal of more than one line: $(cat "$out")"
done
# (Where the kernel has no device-mapper at all, that is what it says instead.)
[ ! -e /dev/mapper/control ] || grep -q 'needs root' "$home/kernel.out" ||
    fail "the kernel backend's refusal: $(cat "$home/kernel.out")"
[ ! -f "$home/loop.out" ] || grep -q 'needs root' "$home/loop.out" || fail "rpvcreate /dev/loop0: $(cat "$home/loop.out")"
[ -f "$home/.local/state/rlvm/pvfiles" ] || fail "no state in ~/.local/state/rlvm"
owned=$(find /run /var /tmp /etc /dev/shm -xdev -user "$user" -newer "$work/started" 2>/dev/null || true)
[ -z "$owned" ] || fail "$user wrote outside their home: $owned"
others=$(find "$home" ! -user "$user" 2>/dev/null || true)
[ -z "$others" ] || fail "files in $home not owned by $user: $others"
echo "install-user test: PASS"
