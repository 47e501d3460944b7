#!/usr/bin/env bash
# The date model on an emulated Cortex-M4F (QEMU mps2-an386):
#
#   bash tools/dates/on-qemu.sh ["PHRASE" ...]      # no phrases: the firmware's own list
#   bash tools/dates/on-qemu.sh --held-out          # the on-target held-out check
#
# First use installs what it needs (Rust targets, QEMU, the plugin header: the firmware
# setup, tools/setup.d/20-firmware.sh), then builds targets/dates (release), boots it with
# the phrases on the semihosting command line and QEMU's instruction-count plugin
# (tools/qemu-icount/) around each decode, and prints each ISO date, the guest
# instructions per generated token with the estimated Cortex-M4 cycles beside them
# (docs/cycles.md), and the flash and RAM the firmware uses.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

mkdir -p target
# The first use says what it installs and builds, one line per step with the time since it
# began (tools/setup-step.sh); once everything is there, nothing.
source tools/setup-step.sh
bash tools/setup.d/20-firmware.sh
elf=$root/target/firmware/thumbv7em-none-eabihf/release/dates
setup_part dates
if [ -e "$elf" ]; then
    (cd targets/dates && cargo build -q --release)
else
    step "building the engine and the date firmware for the Cortex-M4F (targets/dates, release)" \
        bash -c 'cd targets/dates && cargo build -q --release'
fi
bin_dir=$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin
plugin=$(bash tools/qemu-icount/build.sh)

qemu() { # extra semihosting arguments...
    local config=enable=on,target=native,arg=dates
    for arg in "$@"; do config+=",arg=${arg//,/,,}"; done # QEMU escapes ',' as ',,'
    timeout -k 5 "${QEMU_TIMEOUT:-600}" qemu-system-arm -machine mps2-an386 -nographic \
        -monitor none -serial none -semihosting-config "$config" "${extra[@]}" -kernel "$elf"
}

extra=()
if [ "${1:-}" = --held-out ]; then
    qemu --held-out
    exit
fi

# Phrases go to the firmware as one ';'-separated line.
line=""
for phrase in "$@"; do
    case $phrase in *";"*) echo "a phrase may not contain ';': $phrase" >&2; exit 2 ;; esac
    line+="${line:+;}$phrase"
done
marker() { "$bin_dir/llvm-nm" -C "$elf" | awk -v name="dates::icount_$1" 'index($0, name) { print "0x" $1 }'; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
extra=(-plugin "$plugin,start=$(marker start),stop=$(marker stop),core=cortex-m4" -d plugin -D "$log")
set +e
out=$(if [ -n "$line" ]; then qemu "$line"; else qemu; fi)
status=$?
set -e
grep -v '^date \|^figure ' <<<"$out" || true

section() { "$bin_dir/llvm-size" -A "$elf" | awk -v names=" $* " 'index(names, " " $1 " ") { s += $2 } END { print s + 0 }'; }
figure() { awk -v name="$1" '$1 == "figure" && $2 == name { print $3 }' <<<"$out"; }
echo "Cortex-M4F (QEMU mps2-an386), greedy decoding:"
# date lines and instruction-count regions come in the same order
paste <(grep '^date ' <<<"$out") <(awk '$1 == "picoformer-icount" && $2 == "region" { print $5 "\t" $7 }' "$log") |
    awk -F'\t' '{
        split($1, f, " "); iso = f[2]; tokens = f[4]
        phrase = $1; sub(/^date [^ ]* tokens [0-9]+ phrase /, "", phrase)
        printf "  %-10s  <-  %-34s %9d instructions, %7d per generated token (~%d cycles) (%d tokens)\n",
            iso, "\"" phrase "\"", $2, $2 / tokens, $3 / tokens, tokens
    }'
flash=$(section .vector_table .text .rodata .data)
ram=$(section .data .bss .uninit)
stack=$(figure stack_greedy_bytes)
printf '  flash: %d bytes (model blob %d, code and tables %d)\n' \
    "$flash" "$(figure blob_bytes)" $((flash - $(figure blob_bytes)))
printf '  RAM:   %d bytes (statics %d, of which scratch %d; stack %d at most)\n' \
    $((ram + stack)) "$ram" "$(figure scratch_buffer_bytes)" "$stack"
exit "$status"
