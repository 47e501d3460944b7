#!/usr/bin/env bash
# The larger firmware model, tests/golden/firmware_large (D 128, 4 heads, F 512, 2 + 2
# layers, vocab 256, tied output, 16 positions: the matrix products dominate), as f32 and
# int8 weights (PICOFORMER_FIRMWARE_GOLDEN, PICOFORMER_FIRMWARE_DTYPE) on the Cortex-M4F
# (mps2-an386), the Cortex-M33 (mps2-an505) and the Cortex-M55 (mps3-an547; its blob lies
# in DDR, targets/cortex-m/memory/mps3-an547.x). Each build runs the whole firmware suite,
# whose golden tests check the greedy tokens and beam hypotheses exactly (f32: PyTorch's;
# int8: the host engine's on the same quantized blob), under tools/qemu-icount with the
# board's timing model. Prints a Markdown table: blob size, exact guest instructions and
# estimated cycles per generated token ((decode of n tokens - decode of 1) / (n - 1)) and
# the int8 / f32 ratios; then checks the token budgets (tools/firmware-budgets.txt).
#
#   firmware-large.sh [--figures FILE]   also appends `BOARD figure token_cycles_f32 N`,
#                                        `... token_cycles_i8 N` lines to FILE
#   firmware-large.sh --write DOC        replaces the `<!-- firmware-large:NAME -->`
#                                        sections of DOC (tools/firmware-doc.sh)
#
# Builds into the boards' usual target directories (as tools/firmware-dtypes.sh does), so
# the next plain build there rebuilds the suite for the small model. Exits 1 when a suite
# fails or an enforced budget is not met.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
figures_out=
case ${1:-} in
    --figures) figures_out=$2 ;;
    --write)
        bash "$0" | tee /dev/stderr | bash tools/firmware-doc.sh write "$2"
        exit "${PIPESTATUS[0]}"
        ;;
esac
# bin_dir, plugin, work, figure, region, region_cycles, thousands, kib, run_counted
source tools/firmware-lib.sh
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# board, CPU, Rust target, build (target directory suffix), rustflags, cycle model:
# the builds of tools/test.d/20-firmware.sh
boards=(
    "mps2-an386|Cortex-M4F|thumbv7em-none-eabihf|||cortex-m4"
    "mps2-an505|Cortex-M33|thumbv8m.main-none-eabihf|m33|-C target-cpu=cortex-m33|cortex-m33"
    "mps3-an547|Cortex-M55|thumbv8m.main-none-eabihf|m55|-C target-cpu=cortex-m55|cortex-m55"
)
rows=()
failures=()
for entry in "${boards[@]}"; do
    IFS='|' read -r board cpu target build flags core <<<"$entry"
    target_dir=$root/target/firmware${build:+-$build}
    flags_var=CARGO_TARGET_$(tr 'a-z.-' 'A-Z__' <<<"$target")_RUSTFLAGS
    declare -A instr=() cycles=()
    for dtype in f32 i8; do
        (cd targets/cortex-m && env "$flags_var=$flags" PICOFORMER_FIRMWARE_GOLDEN=firmware_large \
            PICOFORMER_FIRMWARE_DTYPE=$dtype CARGO_TARGET_DIR="$target_dir" \
            cargo build -q --release --target "$target" --bin "$board")
        elf=$target_dir/$target/release/$board
        log=$work/$board-$dtype.log
        status=0
        run_counted cortex-m "$elf" "$core" "$log" || status=$?
        passed=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" || echo "no summary")
        if [ "$status" -ne 0 ] || ! grep -q "model firmware_large" "$log"; then
            failures+=("$board $dtype: $passed (exit status $status): $(grep -A1 'FAILED' "$log" | tr '\n' ' ' | cut -c1-200)")
        fi
        # a failed check still leaves the counts of a run that reached the figures
        if [ -z "$(figure "$log" greedy_tokens)" ] || [ -z "$(region_cycles "$log" 2)" ]; then
            continue
        fi
        tokens=$(figure "$log" greedy_tokens)
        instr[$dtype]=$((($(region "$log" 2) - $(region "$log" 1)) / (tokens - 1)))
        cycles[$dtype]=$((($(region_cycles "$log" 2) - $(region_cycles "$log" 1)) / (tokens - 1)))
        if [ -n "$figures_out" ]; then
            echo "== $board, firmware_large $dtype: $passed"
            echo "figure token_cycles_$dtype ${cycles[$dtype]}"
            echo "$board figure token_cycles_$dtype ${cycles[$dtype]}" >>"$figures_out"
        fi
        echo "$board figure token_cycles_$dtype ${cycles[$dtype]}" >>"$work/figures"
        instr_ratio=
        cycle_ratio=
        if [ "$dtype" = i8 ] && [ -n "${instr[f32]:-}" ]; then
            instr_ratio=$(ratio "${instr[i8]}" "${instr[f32]}")
            cycle_ratio=$(ratio "${cycles[i8]}" "${cycles[f32]}")
        fi
        rows+=("$(printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |' "$board" "$cpu" "$dtype" \
            "$(kib "$(figure "$log" blob_bytes)")" "${passed%%,*}" \
            "$(thousands "${instr[$dtype]}")" "$(thousands "${cycles[$dtype]}")" \
            "${instr_ratio:--}" "${cycle_ratio:--}")")
    done
    unset instr cycles
done
echo "<!-- firmware-large:large -->"
echo "Larger model tests/golden/firmware_large (D 128, 4 heads, F 512, 2 + 2 layers, vocab 256,"
echo "tied output, 16 + 16 positions), greedy decoding; the suite checks every golden decode:"
echo
echo "| board (QEMU) | CPU | weights | model blob | suite | instructions per token | estimated cycles per token | i8 / f32, instructions | i8 / f32, cycles |"
echo "|---|---|---|---|---|---|---|---|---|"
for row in "${rows[@]}"; do echo "$row"; done
echo
budget_status=0
touch "$work/figures"
bash tools/firmware-budgets.sh check "$work/figures" >"$work/budgets" || budget_status=$?
echo "Budgets (tools/firmware-budgets.txt):"
echo
grep -v '^budget not measured' "$work/budgets" | sed 's/^/- /' || true
for failure in "${failures[@]}"; do echo "- suite FAILED: $failure"; done
echo "<!-- /firmware-large:large -->"
[ "${#failures[@]}" -eq 0 ] && [ "$budget_status" -eq 0 ]
