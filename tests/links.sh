#!/usr/bin/env bash
# Makes a PROGRAM -> rlvm symlink for every program beside a built rlvm
# (`bash tests/links.sh target/release`), as `make install` does in SBINDIR:
# scripts that put target/<profile> on PATH run the programs as installed.
# The list is the registry's (`rlvm --list-programs`), so a new program needs
# no change here.
set -euo pipefail
dir=${1:?usage: tests/links.sh DIR-WITH-RLVM}
[ -x "$dir/rlvm" ] || { echo "links: no $dir/rlvm (cargo build -p rlvm-cmd --bin rlvm)" >&2; exit 1; }
for program in $("$dir/rlvm" --list-programs); do
    ln -sfn rlvm "$dir/$program"
done
