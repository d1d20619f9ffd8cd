# Host-side helpers of the real-kernel test bed (sourced by run.sh).
# shellcheck shell=bash

qemu_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$qemu_dir/../.." && pwd)
cache_dir=${RLVM_QEMU_CACHE:-$qemu_dir/.cache}

# Modules the guest loads, in load order once their dependencies are added.
guest_modules=(virtio_pci virtio_blk loop dm-mod dm-bufio dm-snapshot dm-zero dm-flakey)

die() {
    echo "qemu: $*" >&2
    exit 1
}

# The kernel package linux-image-amd64 depends on today (e.g. linux-image-6.1.0-56-amd64).
resolve_kernel_package() {
    local package
    package=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    if [ -z "$package" ]; then
        apt-get update -qq >/dev/null 2>&1 || true
        package=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    fi
    [ -n "$package" ] || return 1
    echo "$package"
}

# Download (once) and unpack the kernel package; prints the unpacked root.
fetch_kernel() {
    local package=$1 root="$cache_dir/$1"
    if [ ! -f "$root/.ready" ]; then
        mkdir -p "$cache_dir"
        rm -rf "$root"
        (cd "$cache_dir" && apt-get download "$package" >/dev/null 2>&1) || return 1
        local deb
        deb=$(ls -t "$cache_dir/${package}"_*.deb | head -1)
        dpkg -x "$deb" "$root" || return 1
        local version
        version=$(ls "$root/lib/modules")
        depmod -b "$root" "$version" || return 1
        touch "$root/.ready"
    fi
    echo "$root"
}

# Every module file needed for $guest_modules, dependencies first, one per line
# (paths relative to the modules directory). Built-in modules are skipped.
module_load_order() {
    local moddir=$1
    python3 - "$moddir" "${guest_modules[@]}" <<'PY'
import os, sys
moddir, wanted = sys.argv[1], sys.argv[2:]
deps = {}
for line in open(os.path.join(moddir, "modules.dep")):
    path, _, rest = line.partition(":")
    deps[path] = rest.split()
by_name = {os.path.basename(p).split(".ko")[0].replace("_", "-"): p for p in deps}
builtin = {os.path.basename(l.strip()).split(".ko")[0].replace("_", "-")
           for l in open(os.path.join(moddir, "modules.builtin"))}
order = []
def visit(path):
    if path in order:
        return
    # modules.dep lists the full closure, deepest last: load those first.
    for dep in reversed(deps[path]):
        visit(dep)
    order.append(path)
for name in wanted:
    key = name.replace("_", "-")
    if key in builtin:
        continue
    if key not in by_name:
        sys.exit(f"module {name} is neither built in nor in modules.dep")
    visit(by_name[key])
print("\n".join(order))
PY
}

# Copy a binary and its shared-library closure into the initramfs tree $2.
copy_with_libs() {
    local binary=$1 root=$2 dest=${3:-/bin}
    mkdir -p "$root$dest"
    cp -L "$binary" "$root$dest/"
    ldd "$binary" 2>/dev/null | awk '/=> \// {print $3} /^[ \t]*\/lib/ {print $1}' | while read -r lib; do
        [ -f "$root$lib" ] && continue
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
}
