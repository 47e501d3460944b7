# Sourced by the firmware measuring scripts (firmware-report.sh, firmware-dtypes.sh,
# firmware-large.sh, firmware-llama.sh) from the repository root: the LLVM tools, the
# qemu-icount plugin, a work directory removed on exit, and the readers of a suite's log.
# shellcheck shell=bash
bin_dir=$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin
plugin=$(bash tools/qemu-icount/build.sh)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

figure() { # log, name
    awk -v name="$2" '$1 == "figure" && $2 == name { print $3 }' "$1"
}

region() { # log, n: instructions
    awk -v n="$2" '$1 == "picoformer-icount" && $2 == "region" && $3 == n { print $5 }' "$1"
}

region_cycles() { # log, n: estimated cycles
    awk -v n="$2" '$1 == "picoformer-icount" && $2 == "region" && $3 == n { print $7 }' "$1"
}

thousands() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }

kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }

run_counted() { # crate, elf, core, log: runs the firmware on QEMU (targets/CRATE/qemu-run.sh)
    # with the qemu-icount plugin counting between its figures::icount_start and
    # figures::icount_stop markers on CORE's timing model; writes its output, then the
    # plugin's counts, to LOG. Returns QEMU's exit status.
    local crate=$1 elf=$2 core=$3 log=$4 start stop status=0
    start=$("$bin_dir/llvm-nm" -C "$elf" | awk '/figures::icount_start/ { print "0x" $1 }')
    stop=$("$bin_dir/llvm-nm" -C "$elf" | awk '/figures::icount_stop/ { print "0x" $1 }')
    QEMU_EXTRA="-plugin $plugin,start=$start,stop=$stop,core=$core -d plugin -D $log.icount" \
        bash "targets/$crate/qemu-run.sh" "$elf" >"$log" || status=$?
    cat "$log.icount" >>"$log" 2>/dev/null || true
    return "$status"
}
