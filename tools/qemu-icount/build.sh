#!/usr/bin/env bash
# Builds the instruction-count plugin (with its cycle models, cycles.h) into
# target/qemu-icount/ (prints its path). Needs gcc, glib's headers and qemu-plugin.h
# (target/tools/include), all installed by tools/setup.d/20-firmware.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
tools=$PWD/target/tools
out_dir=$PWD/target/qemu-icount
out=$out_dir/libpicoformer_icount.so
src=tools/qemu-icount/picoformer_icount.c
header=tools/qemu-icount/cycles.h
mkdir -p "$out_dir"
if [ ! -f "$out" ] || [ "$src" -nt "$out" ] || [ "$header" -nt "$out" ]; then
    # shellcheck disable=SC2046 # pkg-config prints a list of flags
    gcc -shared -fPIC -O2 -Wall -Wextra -Werror -I "$tools/include" \
        $(pkg-config --cflags glib-2.0) "$src" -o "$out.tmp"
    mv "$out.tmp" "$out"
fi
echo "$out"
