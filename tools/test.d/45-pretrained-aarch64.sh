#!/usr/bin/env bash
# The pretrained models on 64-bit Arm Linux (qemu-aarch64, NEON kernels), with the
# release CLI built for aarch64-unknown-linux-gnu:
# - MiniLM: the models doc's ids and embedding values (1e-5), as on the host;
# - Whisper base: QEMU's emulated floating point makes the full 1500-position encoder
#   take over 15 minutes, so CI runs it on the first 400 mel frames (200 encoder rows)
#   and checks the aarch64 tokens are the host's; PICOFORMER_FULL_AARCH64=1 runs the full
#   3000 frames and checks the reference's greedy tokens and text.
# Skips (saying why) without the models or QEMU. Prints one line per check and
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
models=target/models
target=aarch64-unknown-linux-gnu
if [ ! -f "$models/minilm/model.safetensors" ] || [ ! -f "$models/whisper/model.bin" ]; then
    echo "SKIPPED: the pretrained models are absent (tools/setup.d/40-models.sh fetches them)"
    exit 0
fi
if ! command -v qemu-aarch64 >/dev/null; then
    echo "SKIPPED: qemu-aarch64 is absent (tools/setup.d/25-simd.sh installs it)"
    exit 0
fi
cargo build -q --release --bin picoformer || exit 1
cargo build -q --release --target "$target" --bin picoformer || exit 1
host=target/release/picoformer
arm="qemu-aarch64 -L /usr/aarch64-linux-gnu target/$target/release/picoformer"
out=target/pretrained-aarch64
mkdir -p "$out"
"$host" convert --from hf-bert "$models/minilm/model.safetensors" \
    --config "$models/minilm/config.json" -o "$out/minilm.pfm" 2>/dev/null || exit 1
"$host" convert --from ct2-whisper "$models/whisper/model.bin" -o "$out/whisper.pfm" 2>/dev/null || exit 1

passed=0
failed=0
check() { # NAME PYTHON-ASSERTION (reads the JSON output as `got`, the golden file as `want`)
    if python3 -c "import json, sys; got = json.load(open('$out/$1.json')); want = json.load(open('$3')); $2" \
        2>"$out/$1.err"; then
        echo "test aarch64/$1 ... ok"
        passed=$((passed + 1))
    else
        echo "test aarch64/$1 ... FAILED"; cat "$out/$1.err"
        failed=$((failed + 1))
    fi
}

fox="The quick brown fox jumps over the lazy dog."
$arm embed "$out/minilm.pfm" --tokenizer "$models/minilm/tokenizer.json" --text "$fox" --json \
    >"$out/minilm.json"
check minilm "assert got['ids'] == want['fox']['ids']; \
assert max(abs(a - b) for a, b in zip(got['embedding'], want['fox']['first8'])) <= 1e-5" \
    tests/pretrained/minilm/expected.json

short=(--mel tests/pretrained/whisper/mel.npy --frames 400 --max-len 12 --json)
"$host" transcribe "$out/whisper.pfm" "${short[@]}" >"$out/whisper-400-host.json"
start=$(date +%s)
$arm transcribe "$out/whisper.pfm" "${short[@]}" >"$out/whisper-400.json"
echo "whisper base, 400 frames, under qemu-aarch64: $(($(date +%s) - start)) s"
check whisper-400 "assert got['tokens'] == want['tokens'], (got, want)" "$out/whisper-400-host.json"

if [ "${PICOFORMER_FULL_AARCH64:-0}" = 1 ]; then
    start=$(date +%s)
    $arm transcribe "$out/whisper.pfm" --mel tests/pretrained/whisper/mel.npy \
        --tokenizer "$models/whisper/tokenizer.json" --json >"$out/whisper.json"
    echo "whisper base, 3000 frames, under qemu-aarch64: $(($(date +%s) - start)) s"
    check whisper "assert got['tokens'] == want['greedy']['tokens'], got; \
assert got['text'] == want['greedy']['text'], got" tests/pretrained/whisper/expected.json
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
