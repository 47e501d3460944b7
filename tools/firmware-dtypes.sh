#!/usr/bin/env bash
# Weight dtypes (issue 6) on the M4F (mps2-an386), the M33 (mps2-an505), the M55
# (mps3-an547) and RV32IMAFC + Zve32f (virt-rvv, the RVV kernels): the firmware
# suite with the weight matrices stored as f32, f16 and int8 (PICOFORMER_FIRMWARE_DTYPE),
# as Markdown tables: model blob size (flash), greedy scratch, exact guest instructions
# per generated token (tools/qemu-icount, (decode of n tokens - decode of 1) / (n - 1)),
# and instructions per multiply-accumulate of int8 matrix-vector products at [64, 256],
# [256, 256] and [512, 512] (the suite prints `figure matvec_i8_shape REGION ROWS COLS`);
# beside each, the estimated cycles of the plugin's timing model of the core
# (docs/cycles.md). The M33 and M55 build with -C target-cpu=cortex-m33 / cortex-m55 (the
# DSP and MVE instructions need it on Armv8-M), virt-rvv with -C target-feature=+zve32f,
# each in its own target directory. Then the larger model's table
# (tools/firmware-large.sh). Also run by tools/firmware-report.sh.
# Tables between `<!-- firmware-dtypes:NAME -->` markers; `--write DOC` replaces those
# sections of DOC (and tools/firmware-large.sh's).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --write ]; then
    bash "$0" | tee /dev/stderr | bash tools/firmware-doc.sh write "$2"
    exit "${PIPESTATUS[0]}"
fi
root=$PWD
out=$root/target/firmware
# bin_dir, plugin, work, figure, region, region_cycles, thousands, kib, run_counted
source tools/firmware-lib.sh
notes=()
dtype_rows=()
i8_rows=()
shape_rows=()
# board, CPU, Rust target, build (target directory suffix), rustflags, cycle model,
# firmware crate (targets/CRATE, its qemu-run.sh)
for entry in "mps2-an386|Cortex-M4F|thumbv7em-none-eabihf|||cortex-m4|cortex-m" \
    "mps2-an505|Cortex-M33|thumbv8m.main-none-eabihf|m33|-C target-cpu=cortex-m33|cortex-m33|cortex-m" \
    "mps3-an547|Cortex-M55|thumbv8m.main-none-eabihf|m55|-C target-cpu=cortex-m55|cortex-m55|cortex-m" \
    "virt-rvv|RV32IMAFC + Zve32f, VLEN 128|riscv32imafc-unknown-none-elf|rvv|-C target-feature=+zve32f|rv32|riscv"; do
    IFS='|' read -r board cpu target build flags core crate <<<"$entry"
    target_dir=$out${build:+-$build}
    flags_var=CARGO_TARGET_$(tr 'a-z.-' 'A-Z__' <<<"$target")_RUSTFLAGS
    f32_per_token=
    f32_cycles_per_token=
    for dtype in f32 f16 i8; do
        (cd "targets/$crate" && env "$flags_var=$flags" PICOFORMER_FIRMWARE_DTYPE=$dtype \
            CARGO_TARGET_DIR="$target_dir" cargo build -q --release --target "$target" --bin "$board")
        elf=$target_dir/$target/release/$board
        log=$work/$board-$dtype.log
        run_counted "$crate" "$elf" "$core" "$log"
        grep -q '^[0-9]* passed, 0 failed' "$log" || notes+=("$board $dtype: the suite failed")
        tokens=$(figure "$log" greedy_tokens)
        per_token=$((($(region "$log" 2) - $(region "$log" 1)) / (tokens - 1)))
        cycles_per_token=$((($(region_cycles "$log" 2) - $(region_cycles "$log" 1)) / (tokens - 1)))
        [ "$dtype" = f32 ] && f32_per_token=$per_token && f32_cycles_per_token=$cycles_per_token
        dtype_rows+=("$(printf '| %s | %s | %s | %s | %s B | %s | %s | %s | %s |' "$board" "$cpu" "$dtype" \
            "$(kib "$(figure "$log" blob_bytes)")" "$(figure "$log" scratch_greedy_bytes)" \
            "$(thousands "$per_token")" \
            "$(awk -v a="$per_token" -v b="$f32_per_token" 'BEGIN { printf "%.2f", a / b }')" \
            "$(thousands "$cycles_per_token")" \
            "$(awk -v a="$cycles_per_token" -v b="$f32_cycles_per_token" 'BEGIN { printf "%.2f", a / b }')")")
        if [ "$dtype" = i8 ]; then
            macs=$(figure "$log" matvec_macs)
            i8_rows+=("$(awk -v b="$board" -v c="$cpu" -v k="$(figure "$log" matvec_i8_kernel)" \
                -v fast="$(region "$log" 6)" -v slow="$(region "$log" 7)" -v f="$(region "$log" 4)" -v m="$macs" \
                -v fast_c="$(region_cycles "$log" 6)" -v slow_c="$(region_cycles "$log" 7)" -v f_c="$(region_cycles "$log" 4)" \
                'BEGIN { printf "| %s | %s | %.3f / %.3f | %.3f / %.3f | %s | %.3f / %.3f |", b, c, f / m, f_c / m, slow / m, slow_c / m, k, fast / m, fast_c / m }')")
            shape_row="| $board | $cpu | $(figure "$log" matvec_i8_kernel) |"
            while read -r n rows cols; do
                shape_row+=$(awk -v r="$(region "$log" "$n")" -v c="$(region_cycles "$log" "$n")" \
                    -v m="$((rows * cols))" 'BEGIN { printf " %.3f / %.3f |", r / m, c / m }')
            done < <(awk '$1 == "figure" && $2 == "matvec_i8_shape" { print $3, $4, $5 }' "$log")
            shape_rows+=("$shape_row")
        fi
    done
done
echo
echo "<!-- firmware-dtypes:dtypes -->"
echo "Weight dtypes (the suite's model with its weight matrices stored as f32, f16, int8;"
echo "embeddings and norms stay f32), greedy decoding:"
echo
echo "| board (QEMU) | CPU | weights | model blob (flash) | greedy scratch | instructions per token | vs f32 | estimated cycles per token | vs f32 |"
echo "|---|---|---|---|---|---|---|---|---|"
for row in "${dtype_rows[@]}"; do echo "$row"; done
echo
echo "Model: tests/golden/tied (D 32, 4 heads, F 48, 1 + 2 layers, vocab 50, 12 positions)."
echo "<!-- /firmware-dtypes:dtypes -->"
echo
echo "<!-- firmware-dtypes:matvec-i8 -->"
echo "int8 matrix-vector product [64, 256] (activations quantized on the fly), exact guest"
echo "instructions / estimated cycles per multiply-accumulate, beside the f32 kernel:"
echo
echo "| board (QEMU) | CPU | f32 kernel, per MAC | int8 scalar, per MAC | int8 kernel | int8 kernel, per MAC |"
echo "|---|---|---|---|---|---|"
for row in "${i8_rows[@]}"; do echo "$row"; done
echo "<!-- /firmware-dtypes:matvec-i8 -->"
echo
echo "<!-- firmware-dtypes:matvec-i8-shapes -->"
echo "int8 matrix-vector products by shape [rows, columns] (activations quantized on the fly,"
echo "everything included), exact guest instructions / estimated cycles per multiply-accumulate:"
echo
echo "| board (QEMU) | CPU | int8 kernel | [64, 256] | [256, 256] | [512, 512] |"
echo "|---|---|---|---|---|---|"
for row in "${shape_rows[@]}"; do echo "$row"; done
echo "<!-- /firmware-dtypes:matvec-i8-shapes -->"
echo
bash tools/firmware-large.sh || notes+=("tools/firmware-large.sh: a suite or an enforced budget failed")
for note in "${notes[@]}"; do echo "WARNING: $note"; done
[ "${#notes[@]}" -eq 0 ]
