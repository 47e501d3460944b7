#!/usr/bin/env bash
# Cargo runner and test driver: boots ELF on QEMU's rv32 virt machine, decodes the
# defmt log with defmt-print, and exits with the firmware's semihosting status (timeout:
# 124). The CPU follows the binary's name ($QEMU_CPU overrides): `virt-rvv` gets the
# vector extension at VLEN 128, everything else QEMU's plain rv32. Extra QEMU arguments:
# $QEMU_EXTRA.
set -uo pipefail
elf=$1
machine=virt
case $(basename "$elf") in
    virt-rvv) cpu=rv32,v=true,vlen=128 ;;
    *) cpu=rv32 ;;
esac
cpu=${QEMU_CPU:-$cpu}
root=$(cd "$(dirname "$0")/../.." && pwd)
defmt_print=${DEFMT_PRINT:-$root/target/tools/bin/defmt-print}
# shellcheck disable=SC2086 # QEMU_EXTRA is a list of arguments
timeout -k 5 "${QEMU_TIMEOUT:-300}" qemu-system-riscv32 -machine virt -cpu "$cpu" -bios none \
    -nographic -monitor none -serial none -semihosting-config enable=on,target=native \
    ${QEMU_EXTRA:-} -kernel "$elf" | "$defmt_print" -e "$elf" --log-format '{s}'
status=${PIPESTATUS[0]}
# the statuses of the board glue (targets/board), by name
source "$root/tools/firmware-exit-status.sh"
case $(exit_status_name "$status") in
    Passed) ;;
    Failed) echo "$machine: a test failed" ;;
    Fault) echo "$machine: unexpected trap" ;;
    UnexpectedException) echo "$machine: unexpected exception" ;;
    Panic) echo "$machine: panic" ;;
    *) case $status in
           124 | 137) echo "$machine: timed out" ;;
           *) echo "$machine: exit status $status" ;;
       esac ;;
esac
exit "$status"
