#!/usr/bin/env bash
# `make install` into a temporary DESTDIR: one executable (rlvm, without
# debug info) and a symlink to it per program, every link resolving; man
# pages that `man -l` renders; bash/zsh/fish completions; units whose
# ExecStart is the installed path; `make uninstall` leaves no file behind.
# Then an install under a temporary PREFIX, whose units (ExecStart pointing
# into it, so the programs exist) must pass `systemd-analyze verify`.
# Needs a release build (made here if missing) and tests/setup.sh's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/rlvm-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() {
    echo "install test: FAIL: $*" >&2
    exit 1
}

# The build tests/run-all.sh makes (a no-op after it; `make build` alone
# selects other features and would rebuild): make install then installs it.
cargo build --release --workspace --bins --examples --locked -q
programs=$(target/release/rlvm --list-programs)
[ -n "$programs" ] || fail "rlvm --list-programs listed nothing"
count=$(echo "$programs" | wc -w)

echo "== make install PREFIX=/usr DESTDIR=$work/dest"
dest=$work/dest
make -s install PREFIX=/usr DESTDIR="$dest"
sbin=$dest/usr/sbin
[ -f "$sbin/rlvm" ] && [ ! -L "$sbin/rlvm" ] || fail "no rlvm binary in $sbin"
executables=$(find "$dest" -type f -perm -u+x)
[ "$executables" = "$sbin/rlvm" ] || fail "executables other than rlvm: $executables"
# (.debug_gdb_scripts is not debug info: rustc's pretty-printer hint, loaded.)
if readelf -SW "$sbin/rlvm" | grep -Eq '\.debug_(info|line|str|abbrev|aranges|ranges|rnglists|loc)'; then
    fail "the installed rlvm carries debug sections"
fi
for p in $programs; do
    [ -L "$sbin/$p" ] || fail "$sbin/$p is not a symlink"
    [ "$(readlink "$sbin/$p")" = rlvm ] || fail "$sbin/$p -> $(readlink "$sbin/$p"), not rlvm"
    [ -x "$sbin/$p" ] || fail "$sbin/$p does not resolve to an executable"
    [ -f "$dest/usr/share/man/man8/$p.8" ] || fail "no man page $p.8"
    [ -f "$dest/usr/share/bash-completion/completions/$p" ] || fail "no bash completion for $p"
    [ -f "$dest/usr/share/zsh/site-functions/_$p" ] || fail "no zsh completion for $p"
    [ -f "$dest/usr/share/fish/vendor_completions.d/$p.fish" ] || fail "no fish completion for $p"
done
links=$(find "$sbin" -type l | wc -l)
[ "$links" -eq "$count" ] || fail "$links links in $sbin for $count programs"

# The programs run from there, by their link names.
version=$("$sbin/rlvs" --version)
grep -q '^  LVM version:     rlvm ' <<<"$version" || fail "rlvs --version said: $version"
"$sbin/rcow" --version | grep -q '^rcow ' || fail "rcow --version"
page=$(MANPAGER=cat MANWIDTH=80 man -l "$dest/usr/share/man/man8/rlvs.8" 2>&1)
grep -q 'rlvs' <<<"$page" || fail "man -l rlvs.8 rendered: $page"
grep -qi 'synopsis' <<<"$page" || fail "man -l rlvs.8 has no SYNOPSIS: $page"
complete=$(bash -c "source '$dest/usr/share/bash-completion/completions/rlvs' && complete -p rlvs")
grep -q 'rlvs' <<<"$complete" || fail "the bash completion registers nothing for rlvs"
for unit in rdmd rlvmonitor; do
    file=$dest/usr/lib/systemd/system/$unit.service
    grep -q "^ExecStart=/usr/sbin/$unit " "$file" || fail "$file: ExecStart is not /usr/sbin/$unit"
done
echo "installed: $(du -sh --apparent-size "$dest" | cut -f1) in all, rlvm $(du -h --apparent-size "$sbin/rlvm" | cut -f1), $count links"

make -s uninstall PREFIX=/usr DESTDIR="$dest"
left=$(find "$dest" ! -type d)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "uninstalled: no file left under $dest"

echo "== make install PREFIX=$work/prefix; systemd-analyze verify"
prefix=$work/prefix
make -s install PREFIX="$prefix"
units=("$prefix/lib/systemd/system/rdmd.service" "$prefix/lib/systemd/system/rlvmonitor.service")
grep -q "^ExecStart=$prefix/sbin/rdmd " "${units[0]}" || fail "rdmd.service: ExecStart is not under $prefix"
# No systemd runs as PID 1 in a container, and verify needs none: it loads
# the units offline, checks every setting, that ExecStart is an executable
# and (through MANPATH) that each Documentation= man page exists.
if ! out=$(MANPATH=$prefix/share/man systemd-analyze verify "${units[@]}" 2>&1) || [ -n "$out" ]; then
    fail "systemd-analyze verify: $out"
fi
echo "systemd-analyze verify: rdmd.service rlvmonitor.service: no complaint"
make -s uninstall PREFIX="$prefix"
left=$(find "$prefix" ! -type d)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "install test: PASS"
