#!/usr/bin/env bash
# The real-kernel test bed: boots Debian's stock kernel under QEMU (TCG) with
# a busybox initramfs holding the device-mapper modules, real dmsetup and
# lvm, rlvm's release binaries and the scenarios, runs every scenario in one
# boot and reports per scenario.
#
#   tests/qemu/run.sh [SCENARIO...]     (default: every tests/qemu/scenarios/*.sh)
#
# Environment: RLVM_BIN_DIR (rlvm binaries, default target/release),
# RLVM_QEMU_CACHE (kernel download cache), RLVM_QEMU_RESULTS (where the
# guest's results are unpacked), RLVM_QEMU_TIMEOUT (seconds, default 2700: one boot runs every scenario),
# RLVM_QEMU_VERBOSE=1 (print the logs of passing scenarios too), RLVM_QEMU_SKIP=1 (skip loudly when QEMU or the kernel cannot be had; CI
# never sets it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/qemu/lib.sh
source "$here/lib.sh"

skip_or_die() {
    if [ "${RLVM_QEMU_SKIP:-}" = 1 ]; then
        echo "##############################################################"
        echo "# qemu: SKIPPED the real-kernel suite: $*"
        echo "##############################################################"
        exit 0
    fi
    die "$* (set RLVM_QEMU_SKIP=1 to skip the real-kernel suite)"
}

command -v qemu-system-x86_64 >/dev/null || skip_or_die "qemu-system-x86_64 is not installed"
command -v busybox >/dev/null || skip_or_die "busybox-static is not installed"
package=$(resolve_kernel_package) || skip_or_die "cannot resolve linux-image-amd64's kernel package"
kernel_root=$(fetch_kernel "$package") || skip_or_die "cannot download $package"
version=$(ls "$kernel_root/lib/modules")
moddir="$kernel_root/lib/modules/$version"
bin_dir=${RLVM_BIN_DIR:-$repo_dir/target/release}

if [ $# -gt 0 ]; then
    scenarios=("$@")
else
    scenarios=()
    for path in "$here"/scenarios/*.sh; do
        scenarios+=("$(basename "$path" .sh)")
    done
fi

work=$(mktemp -d /tmp/rlvm-qemu.XXXXXX)
trap 'rm -rf "$work"' EXIT
tree=$work/root
mkdir -p "$tree"/{bin,sbin,etc,proc,sys,dev,tmp,run,modules,scenarios,guest,input,lib64}

# busybox and its applets
cp "$(command -v busybox)" "$tree/bin/busybox"
for applet in $("$tree/bin/busybox" --list); do
    [ -e "$tree/bin/$applet" ] || ln -s busybox "$tree/bin/$applet"
done

# modules, dependencies first
module_load_order "$moddir" >"$tree/modules.order"
while read -r module; do
    mkdir -p "$tree/modules/$(dirname "$module")"
    cp "$moddir/$module" "$tree/modules/$module"
done <"$tree/modules.order"

# the real peers, with lvm configured for a machine without udev
copy_with_libs /usr/sbin/dmsetup "$tree" /sbin
copy_with_libs /usr/sbin/lvm "$tree" /sbin
mkdir -p "$tree/etc/lvm"
cat >"$tree/etc/lvm/lvm.conf" <<'CONF'
devices { obtain_device_list_from_udev = 0 scan = [ "/dev" ] }
activation { udev_sync = 0 udev_rules = 0 verify_udev_operations = 1 monitoring = 0 }
global { use_lvmpolld = 0 event_activation = 0 }
CONF

# rlvm's one binary and a symlink per program, as installed (rlvm dispatches
# on argv[0]); the registry behind `rlvm --list-programs` names every program.
found_bins=()
if [ -x "$bin_dir/rlvm" ]; then
    copy_with_libs "$bin_dir/rlvm" "$tree" /bin
    found_bins+=(rlvm)
    for program in $("$bin_dir/rlvm" --list-programs); do
        ln -sf rlvm "$tree/bin/$program"
        found_bins+=("$program")
    done
fi

# scenarios: each may have a host-side NAME.prepare (fills $INPUT before boot)
# and NAME.check (checks $RESULTS after boot)
cp "$here/guest/lib.sh" "$tree/guest/lib.sh"
install -m 0755 "$here/guest/init" "$tree/init"
: >"$tree/scenarios.list"
for name in "${scenarios[@]}"; do
    [ -f "$here/scenarios/$name.sh" ] || die "no scenario $name"
    cp "$here/scenarios/$name.sh" "$tree/scenarios/"
    mkdir -p "$tree/input/$name"
    if [ -x "$here/scenarios/$name.prepare" ]; then
        INPUT="$tree/input/$name" RLVM_BIN_DIR="$bin_dir" REPO="$repo_dir" "$here/scenarios/$name.prepare"
    fi
    echo "$name" >>"$tree/scenarios.list"
done

(cd "$tree" && find . | cpio -o -H newc --quiet) | gzip -1 >"$work/initrd"
truncate -s 256M "$work/results.img"
truncate -s 2G "$work/scratch1.img" "$work/scratch2.img"

echo "qemu: $package ($version), ${#scenarios[@]} scenarios, rlvm binaries: ${found_bins[*]:-none}"
started=$(date +%s)
status=0
timeout "${RLVM_QEMU_TIMEOUT:-2700}" qemu-system-x86_64 -accel tcg -m 1536 -nographic -no-reboot \
    -kernel "$kernel_root/boot/vmlinuz-$version" -initrd "$work/initrd" \
    -append "console=ttyS0 panic=-1 loglevel=3 quiet no_timer_check" \
    -drive "file=$work/results.img,format=raw,if=virtio" \
    -drive "file=$work/scratch1.img,format=raw,if=virtio" \
    -drive "file=$work/scratch2.img,format=raw,if=virtio" \
    </dev/null >"$work/console.log" 2>&1 || status=$?
elapsed=$(($(date +%s) - started))
tr -d '\r' <"$work/console.log" >"$work/console.txt"
boot=$(sed -n 's/.*RLVM-BOOTED \([0-9.]*\).*/\1/p' "$work/console.txt" | head -1)
echo "qemu: exited $status after ${elapsed}s (guest booted in ${boot:-?}s)"

results=${RLVM_QEMU_RESULTS:-$cache_dir/results}
rm -rf "$results"
mkdir -p "$results"
tar -xf "$work/results.img" -C "$results" 2>/dev/null || true

passed=0
failed=0
for name in "${scenarios[@]}"; do
    log=$(awk -v n="$name" '$0 == "RLVM-BEGIN " n {on=1; next} $1 == "RLVM-END" && $2 == n {on=0} on' "$work/console.txt")
    rc=$(awk -v n="$name" '$1 == "RLVM-END" && $2 == n {print $3}' "$work/console.txt")
    verdict=FAIL
    if [ "$rc" = 0 ]; then
        verdict=PASS
        if [ -x "$here/scenarios/$name.check" ]; then
            if ! check_out=$(RESULTS="$results/results/$name" REPO="$repo_dir" RLVM_KERNEL="$package" RLVM_BIN_DIR="$bin_dir" "$here/scenarios/$name.check" 2>&1); then
                verdict=FAIL
            fi
            log="$log"$'\n'"--- host check"$'\n'"$check_out"
        fi
    fi
    if [ "$verdict" = PASS ]; then
        passed=$((passed + 1))
        echo "PASS $name"
        if [ -n "${RLVM_QEMU_VERBOSE:-}" ]; then
            echo "$log" | sed 's/^/    /'
        fi
    else
        failed=$((failed + 1))
        echo "FAIL $name (${rc:-did not finish})"
        echo "$log" | sed 's/^/    /'
    fi
done
if ! grep -q '^RLVM-DONE' "$work/console.txt"; then
    echo "qemu: the guest did not finish; last console lines:"
    tail -30 "$work/console.txt" | sed 's/^/    /'
    failed=$((failed + 1))
fi
echo "qemu: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
