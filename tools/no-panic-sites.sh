#!/usr/bin/env bash
# Lists the panic call sites left in the firmware build of targets/no-panic: builds it
# with the missing symbol defined, with debug lines and LLVM's tail merging off (so that
# each check keeps its own call and source line instead of sharing one), finds every call
# into core's panic functions in the disassembly and prints, per call, the innermost line
# of this repository it was inlined from, the callee, and the line the check itself is on
# when that is in a dependency (`core/src/iter/adapters/enumerate.rs:82`: an
# `.enumerate()` counter, `accum.rs`: a `.sum()`, `libm-…`: the math library).
# Arm shows the call targets; on RISC-V the calls go through registers and are not listed.
# The last line counts the sites. Usage: tools/no-panic-sites.sh TARGET [PROFILE]
set -euo pipefail
cd "$(dirname "$0")/.."
target=$1
profile=${2:-release}
root=$PWD
(cd targets/no-panic && CARGO_PROFILE_RELEASE_DEBUG=1 CARGO_PROFILE_RELEASE_SIZE_DEBUG=1 \
    CARGO_PROFILE_RELEASE_OVERFLOW_DEBUG=1 \
    RUSTFLAGS="-C link-arg=--defsym=picoformer_panic_is_reachable=_start -C llvm-args=-enable-tail-merge=false" \
    cargo build -q --profile "$profile" --target "$target" --target-dir "$root/target/no-panic-sites")
elf=target/no-panic-sites/$target/$profile/no-panic
bin_dir=$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin
objdump=$bin_dir/llvm-objdump
command -v llvm-objdump >/dev/null && [ ! -x "$objdump" ] && objdump=llvm-objdump
sites=$(mktemp)
trap 'rm -f "$sites"' EXIT
# address and callee of each call into a panic function (not from inside core's own)
"$objdump" -d --no-show-raw-insn -C "$elf" | awk '
    /^[0-9a-f]+ <.*>:$/ { fn = $0; next }
    /<core::panicking::|<core::slice::index::|<core::option::expect_failed|<core::result::unwrap_failed|<core::option::unwrap_failed/ && fn !~ /<core::panicking::/ {
        callee = $0; sub(/.*</, "", callee); sub(/>.*/, "", callee)
        address = $1; sub(/:$/, "", address)
        print "0x" address, callee
    }' >"$sites"
# each address: its inline chain, innermost first, one `file:line` per frame
awk '{ print $1 }' "$sites" | llvm-addr2line -i -a -e "$elf" | awk -v root="$root/" '
    /^0x/ { if (address != "") print address, chain; address = $1; chain = ""; next }
    {
        line = $0; sub(/ \(discriminator [0-9]+\)$/, "", line)
        sub(/^\/rustc\/[0-9a-f]+\/library\//, "", line)
        sub(/^\/root\/\.cargo\/registry\/src\/[^\/]+\//, "", line)
        if (index(line, root) == 1) line = substr(line, length(root) + 1)
        chain = chain (chain == "" ? "" : " ") line
    }
    END { if (address != "") print address, chain }' |
    awk 'NR == FNR { callee[$1] = $2; next }
        {
            ours = ""; for (i = 2; i <= NF; i++) if ($i ~ /^(src|kernels|ffi)\//) { ours = $i; break }
            check = ($2 ~ /^(src|kernels|ffi)\//) ? "" : "\t(at " $2 ")"
            print (ours == "" ? $2 : ours) "\t" callee[$1] check
        }' "$sites" - | sort | uniq -c | sed 's/^ *\([0-9]*\) /\1\t/' | sort -t$'\t' -k2,2 -k3 |
    awk -F'\t' '{ n += $1; print } END { printf "%d panic call sites\n", n }'
