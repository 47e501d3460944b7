#!/usr/bin/env bash
# Lists the panic call sites left in the firmware build of targets/no-panic: builds it
# with the missing symbol defined, disassembles it with the source lines and prints, for
# each call into core's panic functions, the function and the last line of this
# repository it came from (Arm shows the call targets; on RISC-V the calls go through
# registers and are not listed). Usage: tools/no-panic-sites.sh TARGET [PROFILE]
set -euo pipefail
cd "$(dirname "$0")/.."
target=$1
profile=${2:-release}
root=$PWD
(cd targets/no-panic && CARGO_PROFILE_RELEASE_DEBUG=1 CARGO_PROFILE_RELEASE_SIZE_DEBUG=1 \
    CARGO_PROFILE_RELEASE_OVERFLOW_DEBUG=1 \
    RUSTFLAGS="-C link-arg=--defsym=picoformer_panic_is_reachable=_start" \
    cargo build -q --profile "$profile" --target "$target" --target-dir "$root/target/no-panic-sites")
elf=target/no-panic-sites/$target/$profile/no-panic
llvm-objdump -d -l -C --no-show-raw-insn "$elf" | awk -v root="$root/" '
    /^[0-9a-f]+ <.*>:$/ { fn = $0; sub(/^[0-9a-f]+ </, "", fn); sub(/>:$/, "", fn); next }
    index($0, "; " root) == 1 { src = substr($0, length(root) + 3); next }
    /<core::panicking::|<core::slice::index::|<core::option::expect_failed|<core::result::unwrap_failed|<core::option::unwrap_failed/ {
        callee = $0; sub(/.*</, "", callee); sub(/>.*/, "", callee)
        if (fn !~ /^core::panicking::/) print src "\t" callee "\t(in " fn ")"
    }' | sort -u
