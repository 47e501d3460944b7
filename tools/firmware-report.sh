#!/usr/bin/env bash
# Prints the firmware figures as a Markdown table, one row per board (RISC-V: the
# soft-float RV32IMAC, RV32IMAFC scalar with hardware float for comparison, and RV32IMAFC
# + Zve32f running the RVV kernels, the last two in the same QEMU virt machine):
# - engine code: `.text` of the size probe that loads a model and calls greedy (and beam
#   search) minus `.text` of the probe with the same runtime and no model call; each probe
#   is built with the engine features of its configuration only (targets/cortex-m's
#   Cargo.toml: greedy = f32 encoder-decoder with positions none, learned or stored in
#   the blob; greedy + beam = the same with beam search and int8);
#   "f64" is the part of it that is double-precision math (libm sin/cos/pow/exp/log and
#   the soft-double routines), used for the sinusoid tables and the length penalty;
# - weights: the model blob in flash; scratch: the const fn values; "RAM added" is how
#   much `.data` + `.bss` grow when the engine is linked in (the scratch static plus
#   alignment), and no static of the engine's own crates may exist (checked by symbol);
# - stack: deepest stack use during a full decode, by stack painting on the target;
# - instructions per generated token, counted exactly by tools/qemu-icount's plugin:
#   (greedy decode of n tokens - greedy decode of 1 token) / (n - 1), and beside them the
#   estimated cycles of the same runs under the plugin's timing model of the board's core
#   (core=NAME: docs/cycles.md, zero wait states).
# Builds what it needs (release, as tools/test.d/20-firmware.sh does). Each table is printed
# between `<!-- firmware-report:NAME -->` markers; `--write DOC` (docs/firmware.md) replaces
# those sections of DOC, and the sections of tools/firmware-dtypes.sh and
# tools/firmware-large.sh, which it runs last (tools/firmware-doc.sh).
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

# suite binary, CPU, Rust target, firmware crate, build (the target directory's suffix:
# target/firmware-BUILD; empty: target/firmware), that build's rustflags, the cycle model
# (tools/qemu-icount core=..., docs/cycles.md)
boards=(
    "mps2-an385|Cortex-M0+ code on M3|thumbv6m-none-eabi|cortex-m|||cortex-m3"
    "mps2-an386|Cortex-M4F|thumbv7em-none-eabihf|cortex-m|||cortex-m4"
    "mps2-an500|Cortex-M7|thumbv7em-none-eabihf|cortex-m|||cortex-m7"
    "mps2-an505|Cortex-M33|thumbv8m.main-none-eabihf|cortex-m|m33|-C target-cpu=cortex-m33|cortex-m33"
    "mps3-an547|Cortex-M55|thumbv8m.main-none-eabihf|cortex-m|m55|-C target-cpu=cortex-m55|cortex-m55"
    "virt|RV32IMAC|riscv32imac-unknown-none-elf|riscv|||rv32"
    "virt|RV32IMAFC (scalar)|riscv32imafc-unknown-none-elf|riscv|||rv32"
    "virt-rvv|RV32IMAFC + Zve32f, VLEN 128|riscv32imafc-unknown-none-elf|riscv|rvv|-C target-feature=+zve32f|rv32"
)

build() { # crate, target, build, rustflags, cargo feature arguments, bins...
    local crate=$1 target=$2 build=$3 flags=$4
    local args=($5)
    shift 5
    for bin in "$@"; do args+=(--bin "$bin"); done
    if [ -n "$build" ]; then
        # -C target-cpu=cortex-m55 turns on the Helium kernels, -C target-feature=+zve32f
        # the RVV kernels (kernels/build.rs)
        local var=CARGO_TARGET_$(tr 'a-z.-' 'A-Z__' <<<"$target")_RUSTFLAGS
        (cd "targets/$crate" && env "$var=$flags" cargo build -q --release \
            --target "$target" --target-dir "$out-$build" "${args[@]}")
    else
        (cd "targets/$crate" && cargo build -q --release --target "$target" "${args[@]}")
    fi
}

section_bytes() { # elf, section names... : the sum of their sizes
    local elf=$1
    shift
    "$bin_dir/llvm-size" -A "$elf" | awk -v names=" $* " \
        'index(names, " " $1 " ") { sum += $2 } END { print sum + 0 }'
}

notes=()
size_rows=()
token_rows=()
matvec_rows=()
for entry in "${boards[@]}"; do
    IFS='|' read -r board cpu target crate build_name flags core <<<"$entry"
    suite_bin=$board
    build "$crate" "$target" "$build_name" "$flags" "" "$suite_bin" size-runtime
    # Each size probe alone, with only the engine features its configuration needs (the
    # suite's features would link everything).
    for probe in size-greedy size-engine; do
        build "$crate" "$target" "$build_name" "$flags" "--no-default-features --features $probe" "$probe"
    done
    dir=$out${build_name:+-$build_name}/$target/release
    runtime_text=$(section_bytes "$dir/size-runtime" .text)
    greedy_text=$(($(section_bytes "$dir/size-greedy" .text) - runtime_text))
    engine_text=$(($(section_bytes "$dir/size-engine" .text) - runtime_text))
    ram_delta=$(($(section_bytes "$dir/size-engine" .data .bss) - $(section_bytes "$dir/size-runtime" .data .bss)))
    # (soft-double routines by their `__` names only: a Rust symbol's hash suffix may
    # contain "df2" or "df3")
    f64_text=$("$bin_dir/llvm-nm" -C -S --radix=d "$dir/size-engine" | awk '
        $3 ~ /^[tT]$/ && ($4 ~ /^libm::math::(sin|cos|k_sin|k_cos|rem_pio2|pow|sqrt::sqrt|floor|scalbn|fabs|exp::exp|log::log)::/ ||
                          $4 ~ /(^|::)__[a-z0-9_]*(df3|df2|sidf|sfdf|dfsf|dfsi)$|__aeabi_d|__aeabi_[iu]2d|__aeabi_f2d/) { sum += $2 }
        END { print sum + 0 }')
    engine_statics=$("$bin_dir/llvm-nm" -C "$dir/size-engine" |
        awk '$2 ~ /^[bBdD]$/ && $3 ~ /^<?picoformer(_kernels)?::/' | wc -l)
    if [ "$engine_statics" -ne 0 ]; then
        notes+=("$board: the engine's crates define $engine_statics static(s) in RAM")
    fi

    elf=$dir/$suite_bin
    log=$work/$board-$target${build_name:+-$build_name}.log
    run_counted "$crate" "$elf" "$core" "$log"

    tokens=$(figure "$log" greedy_tokens)
    one=$(region "$log" 1)
    all=$(region "$log" 2)
    beam=$(region "$log" 3)
    per_token=$(((all - one) / (tokens - 1)))
    cycles_per_token=$((($(region_cycles "$log" 2) - $(region_cycles "$log" 1)) / (tokens - 1)))
    scratch=$(figure "$log" scratch_buffer_bytes)
    macs=$(figure "$log" matvec_macs)
    matvec_rows+=("$(awk -v b="$board" -v c="$cpu" -v k="$(figure "$log" matvec_kernel)" \
        -v fast="$(region "$log" 4)" -v slow="$(region "$log" 5)" -v m="$macs" \
        -v fast_cycles="$(region_cycles "$log" 4)" -v slow_cycles="$(region_cycles "$log" 5)" \
        'BEGIN { printf "| %s | %s | %.3f | %.3f | %s | %.3f | %.3f |", b, c, slow / m, slow_cycles / m, k, fast / m, fast_cycles / m }')")
    size_rows+=("$(printf '| %s | %s | %s | %s (%s) | %s | %s | %s / %s / %s B | %s B | %s / %s B |' \
        "$board" "$cpu" "$target" "$(kib "$engine_text")" "$(kib "$greedy_text")" \
        "$(kib "$f64_text")" "$(kib "$(figure "$log" blob_bytes)")" \
        "$(figure "$log" scratch_greedy_bytes)" "$(figure "$log" scratch_beam_bytes)" "$scratch" "$ram_delta" \
        "$(figure "$log" stack_greedy_bytes)" "$(figure "$log" stack_beam_bytes)")")
    token_rows+=("$(printf '| %s | %s | %s | %s | %s |' "$board" "$cpu" \
        "$(thousands "$per_token")" "$(thousands "$cycles_per_token")" "$(thousands "$beam")")")
done
echo "<!-- firmware-report:size -->"
echo "Code, flash, RAM and stack (test model tests/golden/tied):"
echo
echo "| board (QEMU) | CPU | Rust target | engine code: greedy + beam (greedy only) | of which f64 math | weights (flash) | scratch: greedy / beam-4 / static buffer (beam-5) | RAM added | max stack: greedy / beam-4 |"
echo "|---|---|---|---|---|---|---|---|---|"
for row in "${size_rows[@]}"; do echo "$row"; done
echo "<!-- /firmware-report:size -->"
echo
echo "<!-- firmware-report:token -->"
echo "Per generated token (greedy) and per beam-4 decode, exact guest instructions and"
echo "estimated cycles (test model tests/golden/tied):"
echo
echo "| board (QEMU) | CPU | instructions per token (greedy) | estimated cycles per token | beam-4 decode, instructions |"
echo "|---|---|---|---|---|"
for row in "${token_rows[@]}"; do echo "$row"; done
echo "<!-- /firmware-report:token -->"
echo
echo "<!-- firmware-report:matvec-f32 -->"
echo "f32 matrix-vector product [64, 256] (16,384 multiply-accumulates), exact guest"
echo "instructions and estimated cycles per multiply-accumulate:"
echo
echo "| board (QEMU) | CPU | scalar reference, instructions | scalar reference, cycles | kernel | kernel, instructions | kernel, cycles |"
echo "|---|---|---|---|---|---|---|"
for row in "${matvec_rows[@]}"; do echo "$row"; done
echo "<!-- /firmware-report:matvec-f32 -->"

echo
echo "<!-- firmware-report:notes -->"
echo "Model: tests/golden/tied (D 32, 4 heads, F 48, 1 + 2 layers, vocab 50, 12 positions)."
echo "No static of the engine's crates exists in RAM (checked by symbol): the scratch buffer"
echo "is all the RAM it uses besides the stack. Instruction counts are exact and repeatable;"
echo "cycles are estimates of the plugin's timing model of each core (docs/cycles.md: the"
echo "Technical Reference Manuals' tables, zero wait states), so M4F and M7 (one binary)"
echo "count the same instructions and different cycles."
echo "Paper base shape (D 512, F 2048, 6 + 6 layers, vocab 37000, 64 positions): greedy scratch"
echo "$(figure "$log" paper_base_greedy_scratch_bytes) bytes; its ~63 M f32 weights (~250 MB) fit no board here."
for note in "${notes[@]}"; do echo "WARNING: $note"; done
echo "<!-- /firmware-report:notes -->"
echo
bash tools/firmware-dtypes.sh
