# rlvcreate --snapshot on the real kernel while a writer keeps rewriting the
# origin: the snapshot must be one instant. The writer stamps chunks 0..31 in
# order with a generation number, each write synchronous, so at any instant
# the origin reads G for chunks 0..k-1 and G-1 for the rest.
. /guest/lib.sh
export RLVM_DIR=/tmp/rlvm RLVM_DEVICES=/dev/vdc
mkdir -p /run/lock/lvm /tmp/rlvm
dd if=/dev/zero of=/dev/vdc bs=1M count=2 2>/dev/null
rpvcreate /dev/vdc
rvgcreate loadvg /dev/vdc
rlvcreate -L 64M -n base loadvg
dmsetup mknodes

rm -f /tmp/stop /tmp/generations
(
    g=1
    while [ "$g" -le 250 ] && [ ! -e /tmp/stop ]; do
        i=0
        while [ "$i" -lt 32 ]; do
            dd if="$INPUT/gens.bin" of=/dev/mapper/loadvg-base bs=4096 skip="$g" seek="$i" count=1 conv=notrunc,fsync 2>/dev/null
            i=$((i + 1))
        done
        g=$((g + 1))
    done
    echo "$g" >/tmp/generations
) &
writer=$!
sleep 2
rlvcreate -L 16M --snapshot -n snap loadvg/base
dmsetup mknodes
sleep 2
touch /tmp/stop
wait "$writer"
generations=$(cat /tmp/generations)
echo "writer reached generation $generations"
[ "$generations" -gt 3 ] || fail "the write load did not run across the snapshot"

stamps=""
i=0
while [ "$i" -lt 32 ]; do
    stamps="$stamps $(dd if=/dev/mapper/loadvg-snap bs=4096 skip="$i" count=1 2>/dev/null | od -An -tu1 -N1 | tr -d ' ')"
    i=$((i + 1))
done
echo "snapshot stamps:$stamps"
first=${stamps# }
first=${first%% *}
[ "$first" -ge 1 ] || fail "the snapshot predates the load"
seen_older=no
for s in $stamps; do
    if [ "$s" = "$first" ] && [ "$seen_older" = no ]; then
        continue
    fi
    [ "$s" = "$((first - 1))" ] || fail "snapshot mixes instants: $stamps"
    seen_older=yes
done
echo "ok: the snapshot is one instant (generation $first, then $((first - 1)))"
case "$(dm_status loadvg-snap)" in
*/32768\ *) echo "ok: snapshot valid: $(dm_status loadvg-snap)" ;;
*) fail "snapshot status: $(dm_status loadvg-snap)" ;;
esac
rlvremove -y loadvg/snap
rvgchange -an loadvg
