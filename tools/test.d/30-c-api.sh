#!/usr/bin/env bash
# The C API: the committed header is what cbindgen makes now; the static library builds
# for the host, thumbv7em and riscv32imac; the C test program (every golden case plus bad
# input, under AddressSanitizer and UndefinedBehaviorSanitizer) and the C example run on
# the host, the Python ctypes example runs, and the C firmware decodes a golden case on
# QEMU mps2-an386. Each program prints "N passed, N failed"; this script adds one line
# for its own checks (a program that dies before its summary counts as a failure here).
set -uo pipefail
cd "$(dirname "$0")/../.."

out=target/c-api
mkdir -p "$out"
passed=0
failed=0
check() { # NAME COMMAND...: run, report, count
    local name=$1
    shift
    if "$@"; then
        echo "test c-api/$name ... ok"
        passed=$((passed + 1))
    else
        echo "test c-api/$name ... FAILED"
        failed=$((failed + 1))
    fi
}
program() { # NAME COMMAND...: a program with its own summary; count only a crash/exit
    local name=$1
    shift
    if ! "$@"; then
        echo "test c-api/$name ... FAILED (exit status)"
        failed=$((failed + 1))
    fi
}

# ---- the header is current
header_is_current() {
    local cbindgen=target/tools/bin/cbindgen
    [ -x "$cbindgen" ] || { echo "cbindgen missing: run tools/setup.d/30-c-api.sh"; return 1; }
    "$cbindgen" -q --config include/cbindgen.toml --output "$out/picoformer.h" src/ffi/mod.rs &&
        diff -u include/picoformer.h "$out/picoformer.h" ||
        { echo "include/picoformer.h is stale: regenerate it (see include/cbindgen.toml)"; return 1; }
}
check header_is_current header_is_current

# ---- the libraries
check lint_no_std cargo clippy -q -p picoformer --no-default-features --features ffi \
    --target thumbv7em-none-eabihf -- -D warnings
check host_libraries cargo build -q --release -p picoformer-ffi -p picoformer-cli
for t in thumbv7em-none-eabihf riscv32imac-unknown-none-elf; do
    check "staticlib_$t" cargo rustc -q -p picoformer-ffi --release --no-default-features \
        --target "$t" --crate-type staticlib
done

# ---- the golden models and their cases
cases=()
for name in paper_small odd tied prenorm_gelu concat_prenorm_nofinal; do # paper_small first
    dir=tests/golden/$name
    target/release/picoformer convert --from torch --config "$dir/config.json" \
        "$dir/weights.safetensors" -o "$out/$name.pfm" >/dev/null &&
        python3 tests/c/golden_cases.py text "$dir/expected.json" >"$out/$name.txt" ||
        { echo "cannot prepare golden case $name"; exit 1; }
    cases+=("$out/$name.pfm" "$out/$name.txt")
done
# llama: the llama2c checkpoints, and gqa_tied's Hugging Face one (pf_generate's cases)
for name in gqa_tied mqa_untied mha_untied; do
    dir=tests/golden/llama_$name
    target/release/picoformer convert --from llama2c "$dir/model.bin" -o "$out/llama_$name.pfm" \
        --rope-theta "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["rope_theta"])' "$dir/expected.json")" \
        2>/dev/null &&
        python3 tests/c/golden_cases.py text "$dir/expected.json" >"$out/llama_$name.txt" ||
        { echo "cannot prepare golden case llama_$name"; exit 1; }
    cases+=("$out/llama_$name.pfm" "$out/llama_$name.txt")
done
dir=tests/golden/llama_gqa_tied
target/release/picoformer convert --from hf-llama "$dir/hf/model.safetensors" \
    --config "$dir/hf/config.json" -o "$out/llama_gqa_tied_hf.pfm" 2>/dev/null ||
    { echo "cannot prepare golden case llama_gqa_tied_hf"; exit 1; }
cases+=("$out/llama_gqa_tied_hf.pfm" "$out/llama_gqa_tied.txt")

# ---- host C: the test program and the example, with ASan and UBSan
cflags=(-std=c11 -Wall -Wextra -Werror -g -Iinclude
        -fsanitize=address,undefined -fno-sanitize-recover=all)
libs=(-lpthread -ldl -lm)
check build_test_api gcc "${cflags[@]}" tests/c/test_api.c \
    target/release/libpicoformer_ffi.a "${libs[@]}" -o "$out/test_api"
program test_api "$out/test_api" "${cases[@]}"
# The example links the shared library.
check build_example gcc "${cflags[@]}" examples/c/decode.c -Ltarget/release \
    -lpicoformer_ffi "${libs[@]}" -o "$out/decode"
check example_runs env LD_LIBRARY_PATH=target/release "$out/decode" "$out/paper_small.pfm" 5,9,12,40

# ---- Python through ctypes (the machine's python3, standard library only)
for name in paper_small tied; do
    program "python_$name" python3 examples/c/decode.py target/release/libpicoformer_ffi.so \
        "$out/$name.pfm" --expect "tests/golden/$name/expected.json"
done

# ---- the C firmware on QEMU (Cortex-M4F)
program firmware_mps2_an386 make -s -C targets/c-firmware run \
    MODEL="$PWD/$out/paper_small.pfm" GOLDEN="$PWD/tests/golden/paper_small/expected.json"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
