#!/usr/bin/env bash
# The blob checksum's cost on the Cortex-M4F (issue 19 item 1), for docs/blob.md: the
# firmware suite times CRC-32C over its test blob in flash (region `crc_region` of
# targets/firmware-suite/src/figures.rs) under tools/qemu-icount's plugin with the
# Cortex-M4 timing model (docs/cycles.md), and tools/firmware-budgets.sh turns the region
# into `figure crc_instr_per_kib` and `figure crc_cycles_per_kib`.
#
#   firmware-crc.sh [--write DOC]     builds and runs the mps2-an386 suite, prints the
#                                     docs section (`--write`: replaces it in DOC,
#                                     docs/blob.md, through tools/firmware-doc.sh)
#   firmware-crc.sh section FIGURES   the section from budget figures (`BOARD figure NAME
#                                     VALUE` lines: tools/test.d/20-firmware.sh's)
#   firmware-crc.sh check FIGURES DOC DOC's section is the one FIGURES give (exit 1 if not)
set -euo pipefail
cd "$(dirname "$0")/.."
readonly BOARD=mps2-an386

section() { # figures file
    local instr cycles
    instr=$(awk -v b="$BOARD" '$1 == b && $3 == "crc_instr_per_kib" { print $4 }' "$1")
    cycles=$(awk -v b="$BOARD" '$1 == b && $3 == "crc_cycles_per_kib" { print $4 }' "$1")
    if [ -z "$instr" ] || [ -z "$cycles" ]; then
        echo "firmware-crc: no crc figures of $BOARD in $1" >&2
        return 1
    fi
    echo "<!-- firmware-crc:cost -->"
    echo "Measured by \`tools/firmware-crc.sh --write docs/blob.md\`: CRC-32C over the firmware"
    echo "suite's test blob in flash on the Cortex-M4F (QEMU $BOARD), exact guest"
    echo "instructions and estimated cycles of tools/qemu-icount's Cortex-M4 model"
    echo "(docs/cycles.md, zero wait states):"
    echo
    echo "| board (QEMU) | instructions per KiB | estimated cycles per KiB |"
    echo "|---|---|---|"
    echo "| Cortex-M4F ($BOARD) | $instr | $cycles |"
    echo "<!-- /firmware-crc:cost -->"
}

check() { # figures file, doc
    local want got
    want=$(section "$1")
    got=$(awk '/^<!-- firmware-crc:cost -->$/ { on = 1 } on { print } /^<!-- \/firmware-crc:cost -->$/ { on = 0 }' "$2")
    if [ "$want" != "$got" ]; then
        echo "firmware-crc: $2's checksum cost is stale: run bash tools/firmware-crc.sh --write $2" >&2
        diff <(echo "$got") <(echo "$want") >&2 || true
        return 1
    fi
}

measure() {
    local out=target/firmware/thumbv7em-none-eabihf/release nm plugin start stop work
    (cd targets/cortex-m && cargo build -q --release --target thumbv7em-none-eabihf --bin "$BOARD")
    nm="$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/llvm-nm"
    plugin=$(bash tools/qemu-icount/build.sh)
    start=$("$nm" -C "$out/$BOARD" | awk '/figures::icount_start/ { print "0x" $1 }')
    stop=$("$nm" -C "$out/$BOARD" | awk '/figures::icount_stop/ { print "0x" $1 }')
    work=$(mktemp -d)
    trap 'rm -rf "$work"' RETURN
    QEMU_EXTRA="-plugin $plugin,start=$start,stop=$stop,core=cortex-m4 -d plugin -D $work/icount" \
        bash targets/cortex-m/qemu-run.sh "$out/$BOARD" >"$work/log"
    cat "$work/icount" >>"$work/log"
    bash tools/firmware-budgets.sh figures "$BOARD" "$work/log" | sed "s/^/$BOARD /" >"$work/figures"
    section "$work/figures"
}

case ${1:-} in
    section) section "$2" ;;
    check) check "$2" "$3" ;;
    --write) measure | tee /dev/stderr | bash tools/firmware-doc.sh write "$2" ;;
    "") measure ;;
    *) echo "usage: $0 [--write DOC] | section FIGURES | check FIGURES DOC" >&2 && exit 2 ;;
esac
