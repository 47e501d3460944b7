#!/usr/bin/env bash
# Cargo runner and test driver: boots ELF on the QEMU machine its binary is named after
# (mps2-an386, ...; $QEMU_MACHINE overrides), decodes the defmt log with defmt-print, and exits with the
# firmware's semihosting status (timeout: 124). Extra QEMU arguments: $QEMU_EXTRA.
set -uo pipefail
elf=$1
machine=${QEMU_MACHINE:-$(basename "$elf")}
root=$(cd "$(dirname "$0")/../.." && pwd)
defmt_print=${DEFMT_PRINT:-$root/target/tools/bin/defmt-print}
# shellcheck disable=SC2086 # QEMU_EXTRA is a list of arguments
timeout -k 5 "${QEMU_TIMEOUT:-300}" qemu-system-arm -machine "$machine" -nographic \
    -monitor none -serial none -semihosting-config enable=on,target=native \
    ${QEMU_EXTRA:-} -kernel "$elf" | "$defmt_print" -e "$elf" --log-format '{s}'
status=${PIPESTATUS[0]}
# the statuses of the board glue (targets/board), by name
source "$root/tools/firmware-exit-status.sh"
case $(exit_status_name "$status") in
    Passed) ;;
    Failed) echo "$machine: a test failed" ;;
    Fault) echo "$machine: HardFault" ;;
    UnexpectedException) echo "$machine: unexpected exception" ;;
    Panic) echo "$machine: panic" ;;
    *) case $status in
           124 | 137) echo "$machine: timed out" ;;
           *) echo "$machine: exit status $status" ;;
       esac ;;
esac
exit "$status"
