#!/usr/bin/env bash
# The llama golden case of stories260K's shape, tests/golden/llama_stories260k (dim 64,
# hidden 172, 5 layers, 8 heads over 4 key/value heads, vocab 512, 512 positions, tied
# classifier; random weights of tools/reference/llama_reference.py), generating its 256
# greedy tokens on the Cortex-M4F (mps2-an386), the Cortex-M33 (mps2-an505), the
# Cortex-M55 (mps3-an547: blob and RAM in DDR, targets/cortex-m/memory/mps3-an547-llama.x)
# and RISC-V with vectors (virt-rvv),
# f32 and int8 weights (PICOFORMER_FIRMWARE_DTYPE; int8's expected tokens are the host
# engine's on the same quantized blob). Each build runs the whole firmware suite with the
# llama case first (targets/firmware-suite/src/llama_tests.rs), under tools/qemu-icount
# with the board's timing model. Prints a Markdown table: blob and scratch bytes, painted
# stack, exact guest instructions and estimated cycles per generated token ((decode of 256
# tokens - decode of 1) / 255) and per token over the whole decode of 256 (prompt included).
#
#   firmware-llama.sh [BOARD...] [--dtype f32|i8]   default: the four boards, both types
#   firmware-llama.sh --figures FILE                 also appends `BOARD figure
#                                                    llama_token_instr_f32 N`, `...
#                                                    llama_token_cycles_DTYPE N` and
#                                                    `... llama_stack_bytes_DTYPE N` lines to FILE
#                                                    (tools/firmware-budgets.txt)
#   firmware-llama.sh --write DOC                    replaces the `<!-- firmware-llama:NAME -->`
#                                                    section of DOC (tools/firmware-doc.sh)
#
# Builds into the boards' usual target directories (as tools/firmware-large.sh does), so
# the next plain build there rebuilds the suite without the llama case. Exits 1 when a
# suite fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if [ "${1:-}" = --write ]; then
    bash "$0" | tee /dev/stderr | bash tools/firmware-doc.sh write "$2"
    exit "${PIPESTATUS[0]}"
fi
dtypes=(f32 i8)
selected=()
figures_out=
while [ $# -gt 0 ]; do
    case $1 in
        --dtype) dtypes=("$2"); shift 2 ;;
        --figures) figures_out=$2; shift 2 ;;
        *) selected+=("$1"); shift ;;
    esac
done
# bin_dir, plugin, work, figure, region, region_cycles, thousands, kib, run_counted
source tools/firmware-lib.sh

# board, CPU, Rust target, build (target directory suffix), rustflags, cycle model, crate
# under targets/: the builds of tools/test.d/20-firmware.sh
boards=(
    "mps2-an386|Cortex-M4F|thumbv7em-none-eabihf|||cortex-m4|cortex-m"
    "mps2-an505|Cortex-M33|thumbv8m.main-none-eabihf|m33|-C target-cpu=cortex-m33|cortex-m33|cortex-m"
    "mps3-an547|Cortex-M55|thumbv8m.main-none-eabihf|m55|-C target-cpu=cortex-m55|cortex-m55|cortex-m"
    "virt-rvv|RV32IMAFC + Zve32f|riscv32imafc-unknown-none-elf|rvv|-C target-feature=+zve32f|rv32|riscv"
)
rows=()
failures=()
for entry in "${boards[@]}"; do
    IFS='|' read -r board cpu target build flags core crate <<<"$entry"
    if [ "${#selected[@]}" -gt 0 ] && ! printf '%s\n' "${selected[@]}" | grep -qx "$board"; then
        continue
    fi
    target_dir=$root/target/firmware${build:+-$build}
    flags_var=CARGO_TARGET_$(tr 'a-z.-' 'A-Z__' <<<"$target")_RUSTFLAGS
    for dtype in "${dtypes[@]}"; do
        (cd "targets/$crate" && env "$flags_var=$flags" PICOFORMER_FIRMWARE_LLAMA=llama_stories260k \
            PICOFORMER_FIRMWARE_DTYPE=$dtype CARGO_TARGET_DIR="$target_dir" \
            cargo build -q --release --target "$target" --bin "$board")
        elf=$target_dir/$target/release/$board
        log=$work/$board-$dtype.log
        status=0
        run_counted "$crate" "$elf" "$core" "$log" || status=$?
        passed=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" || echo "no summary")
        if [ "$status" -ne 0 ] || ! grep -q "test llama_greedy_golden ... ok" "$log"; then
            failures+=("$board $dtype: $passed (exit status $status): $(grep -A1 'FAILED' "$log" | tr '\n' ' ' | cut -c1-200)")
        fi
        tokens=$(figure "$log" llama_tokens)
        if [ -z "$tokens" ] || [ -z "$(region_cycles "$log" 2)" ]; then
            continue
        fi
        instr=$((($(region "$log" 2) - $(region "$log" 1)) / (tokens - 1)))
        cycles=$((($(region_cycles "$log" 2) - $(region_cycles "$log" 1)) / (tokens - 1)))
        if [ -n "$figures_out" ]; then
            {
                echo "$board figure llama_token_instr_$dtype $instr"
                echo "$board figure llama_token_cycles_$dtype $cycles"
                echo "$board figure llama_stack_bytes_$dtype $(figure "$log" llama_stack_bytes)"
            } >>"$figures_out"
        fi
        instr_all=$(($(region "$log" 2) / tokens))
        cycles_all=$(($(region_cycles "$log" 2) / tokens))
        rows+=("$(printf '| %s | %s | %s | %s | %s | %s B | %s | %s | %s | %s |' "$board" "$cpu" \
            "$dtype" "$(kib "$(figure "$log" llama_blob_bytes)")" \
            "$(kib "$(figure "$log" llama_scratch_bytes)")" "$(figure "$log" llama_stack_bytes)" \
            "$(thousands "$instr")" "$(thousands "$cycles")" \
            "$(thousands "$instr_all")" "$(thousands "$cycles_all")")")
    done
done
echo "<!-- firmware-llama:llama -->"
echo "tests/golden/llama_stories260k (stories260K's shape, random weights): 256 greedy tokens"
echo "after a 4-token prompt, checked against the reference's (f32) or the host engine's (int8):"
echo
echo "| board (QEMU) | CPU | weights | model blob | scratch | stack | instructions per token | estimated cycles per token | instructions per token, whole decode | estimated cycles per token, whole decode |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for row in "${rows[@]}"; do echo "$row"; done
for failure in "${failures[@]}"; do echo "- suite FAILED: $failure"; done
echo "<!-- /firmware-llama:llama -->"
[ "${#failures[@]}" -eq 0 ]
