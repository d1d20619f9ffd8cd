# The device-level scenario suite (tests/scenarios/device-suite.sh) on the
# real kernel through rdmsetup's kernel backend: the same script and the same
# expectations the userspace engine meets in tests/cli/device_suite.rs.
# Backing devices are loop devices; nodes come from rdmsetup (and
# rdmsetup mknodes when one is missing).
. /guest/lib.sh
export RLVM_BACKEND=kernel
base=$(new_loop suite-base 10M)
cow=$(new_loop suite-cow 4M)
cow2=$(new_loop suite-cow2 32K)
rc=0
RDMSETUP=rdmsetup RCOW=rcow NODE_DIR=/dev/mapper BASE=$base COW=$cow COW2=$cow2 WORK=/tmp/device-suite \
    sh -eu "$INPUT/device-suite.sh" || rc=$?
dmsetup table >"$RESULTS/table-at-exit.txt" 2>&1 || true
[ "$rc" = 0 ] || fail "device-suite.sh exited $rc"
echo "PASS: device-suite on the kernel"
