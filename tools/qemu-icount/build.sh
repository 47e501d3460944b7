#!/usr/bin/env bash
# Builds the instruction-count plugin into target/tools/ (prints its path). Needs gcc,
# glib's headers and qemu-plugin.h, all installed by tools/setup.d/20-firmware.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
tools=$PWD/target/tools
out=$tools/libpicoformer_icount.so
src=tools/qemu-icount/picoformer_icount.c
if [ ! -f "$out" ] || [ "$src" -nt "$out" ]; then
    # shellcheck disable=SC2046 # pkg-config prints a list of flags
    gcc -shared -fPIC -O2 -Wall -Wextra -Werror -I "$tools/include" \
        $(pkg-config --cflags glib-2.0) "$src" -o "$out"
fi
echo "$out"
