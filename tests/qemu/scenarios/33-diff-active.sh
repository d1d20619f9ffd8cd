# Proof by difference where activation matters (issue 12): every invocation
# of tests/diff/active-cases.txt runs through real lvm2 (or dmsetup) and
# through rlvm's program (or rdmsetup) on identical disks. The disks are made
# once by lvm2 and saved; before each side they are restored, every dm
# device of the other side is gone, and the side's own tool activates dvg.
# Read-only cases run in one batch per side; a mutating case (`!`) gets a
# fresh copy per side and real lvm2's and dmsetup's view afterwards.
# Raw outputs go to $RESULTS/NNN/; the host's .check compares them.
. /guest/lib.sh
set -f
export LVM_SUPPRESS_FD_WARNINGS=1 RLVM_BACKEND=kernel
work=/tmp/diffq
mkdir -p $work/etc $work/saved /run/lock/lvm
PV0=$(new_loop pv0 16M)
PV1=$(new_loop pv1 16M)
PV2=$(new_loop pv2 16M)
PV3=$(new_loop pv3 16M)
disks="$PV0 $PV1 $PV2 $PV3"
printf '%s\n' $disks >"$RESULTS/disks"
cat >$work/etc/lvm.conf <<CONF
devices { filter = [ "a|^$PV0\$|", "a|^$PV1\$|", "a|^$PV2\$|", "a|^$PV3\$|", "r|.*|" ] obtain_device_list_from_udev = 0 scan = [ "/dev" ] use_devicesfile = 0 hints = "none" }
activation { udev_sync = 0 udev_rules = 0 verify_udev_operations = 1 monitoring = 0 }
global { use_lvmpolld = 0 event_activation = 0 }
CONF
export LVM_SYSTEM_DIR=$work/etc RLVM_DIR=$work/rlvm RLVM_LOCK_DIR=$work/rlvm/locks
export RLVM_DEVICES="$PV0:$PV1:$PV2:$PV3"

# The starting state, by lvm2: chunks copied to dvg/snap and dvg2/dsnap by
# writes through their origins and to snap itself; dvg/empty made after.
lvm pvcreate -q $disks
lvm vgcreate -q -s 1M dvg $PV0 $PV1
lvm lvcreate -q -L 4M -n base dvg $PV0
lvm lvcreate -q -L 4M -n span --addtag web --addtag db dvg $PV0
lvm lvextend -q -L +4M dvg/span $PV1
lvm vgchange -q --addtag prod dvg
lvm lvcreate -q -s -L 2M -n snap dvg/base
dd if=/dev/urandom of=/dev/mapper/dvg-base bs=4k count=24 conv=fsync 2>/dev/null
dd if=/dev/urandom of=/dev/mapper/dvg-snap bs=4k seek=100 count=8 conv=fsync 2>/dev/null
lvm lvcreate -q -s -L 2M -n empty dvg/base
lvm vgcreate -q -s 1M dvg2 $PV2
lvm lvcreate -q -L 4M -n data dvg2
lvm lvcreate -q -s -L 2M -n dsnap dvg2/data
dd if=/dev/urandom of=/dev/mapper/dvg2-data bs=4k count=40 conv=fsync 2>/dev/null
lvm vgchange -q -an dvg dvg2
i=0
for disk in $disks; do
    dd if=$disk of=$work/saved/$i bs=1M 2>/dev/null
    i=$((i + 1))
done

teardown() {
    dmsetup remove_all -f >/dev/null 2>&1 || true
    expect_quiet=$(dmsetup ls 2>&1)
    [ "$expect_quiet" = "No devices found" ] || fail "devices left: $expect_quiet"
    rm -rf /dev/dvg /dev/dvg2 /dev/dvgx $RLVM_DIR $work/etc/archive $work/etc/backup /run/lock/lvm/* /run/lvm
    mkdir -p $RLVM_LOCK_DIR
}

restore() {
    i=0
    for disk in $disks; do
        dd if=$work/saved/$i of=$disk bs=1M conv=fsync 2>/dev/null
        i=$((i + 1))
    done
}

# start SIDE: the disks as saved, nothing else active, dvg activated by SIDE.
start() {
    teardown
    restore
    if [ "$1" = lvm ]; then
        lvm vgchange -ay dvg </dev/null >$work/activate 2>&1 || fail "lvm vgchange -ay dvg: $(cat $work/activate)"
    else
        rvgchange -ay dvg </dev/null >$work/activate 2>&1 || fail "rvgchange -ay dvg: $(cat $work/activate)"
    fi
}

# run SIDE DIR LINE: the case's outputs and exit status in DIR/SIDE.*
run() {
    side=$1 dir=$2
    if [ "$1" = rlvm ]; then
        command="r$3"
    else
        case "$3" in
            dmsetup*) command="$3" ;;
            *) command="lvm $3" ;;
        esac
    fi
    eval "set -- $command"
    rc=0
    # A hung command must not hang the bed: busybox timeout kills it (status 143).
    timeout 60 "$@" </dev/null >"$dir/$side.out" 2>"$dir/$side.err" || rc=$?
    echo $rc >"$dir/$side.rc"
}

# after SIDE DIR: real lvm2's and dmsetup's view once a mutating case ran.
after() {
    {
        lvm lvs -a -o vg_name,lv_name,lv_attr,lv_size,origin,data_percent,lv_tags,devices 2>&1 || true
        dmsetup table 2>&1 | sort
    } </dev/null >"$2/$1.after"
}

grep -v '^#' "$INPUT/active-cases.txt" | grep . >$work/cases
n=0
while IFS= read -r line; do
    n=$((n + 1))
    dir=$RESULTS/$(printf %03d $n)
    mkdir -p "$dir"
    printf '%s\n' "$line" >"$dir/case"
done <$work/cases
total=$n

started=$(cut -d' ' -f1 /proc/uptime)
for side in lvm rlvm; do
    echo "diffq: read-only cases, $side, at $(cut -d' ' -f1 /proc/uptime)s" >/dev/console
    start $side
    n=0
    while IFS= read -r line; do
        n=$((n + 1))
        case "$line" in '!'*) continue ;; esac
        run $side "$RESULTS/$(printf %03d $n)" "$line"
    done <$work/cases
done
echo "read-only cases done at $(cut -d' ' -f1 /proc/uptime)s (from ${started}s)"

n=0
while IFS= read -r line; do
    n=$((n + 1))
    case "$line" in '!'*) ;; *) continue ;; esac
    line=${line#!}
    line=${line# }
    for side in lvm rlvm; do
        start $side
        echo "diffq: case $n $side at $(cut -d' ' -f1 /proc/uptime)s" >/dev/console
        run $side "$RESULTS/$(printf %03d $n)" "$line"
        after $side "$RESULTS/$(printf %03d $n)"
    done
done <$work/cases
teardown
echo "$total cases ran, done at $(cut -d' ' -f1 /proc/uptime)s"
