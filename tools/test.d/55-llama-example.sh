#!/usr/bin/env bash
# The llama example firmware (targets/llama-example) on the Cortex-M33 (QEMU mps2-an505)
# with tests/golden/llama_stories260k (stories260K's shape, random weights): converts its
# llama2.c model.bin with the host's `picoformer convert --from llama2c` into
# target/llama-example/ beside its tokenizer.bin, as docs/llama.md tells a user to, builds
# the firmware (32 tokens), boots it, and checks that its tokens and text, greedy and
# sampled, are the host's `picoformer generate` for the same prompt and sampler.
# Prints "test ... ok|FAILED" lines and "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
golden=tests/golden/llama_stories260k
out=target/llama-example
prompt="Once upon a time"
steps=32
(cd targets/llama-example && cargo fmt --check)
cargo build -q -p picoformer-cli --bin picoformer
picoformer=$root/target/debug/picoformer
mkdir -p "$out"
"$picoformer" convert --from llama2c "$golden/model.bin" -o "$out/model.pfm" >/dev/null
cp "$golden/tokenizer.bin" "$out/tokenizer.bin"
(cd targets/llama-example &&
    export PICOFORMER_LLAMA_PROMPT="$prompt" PICOFORMER_LLAMA_STEPS=$steps &&
    cargo clippy -q --release -- -D warnings && cargo build -q --release)
elf=$root/target/firmware-llama-example/thumbv8m.main-none-eabihf/release/llama-example
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
set +e
timeout -k 5 300 qemu-system-arm -machine mps2-an505 -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$elf" >"$log/firmware.txt"
status=$?
set -e
cat "$log/firmware.txt"

passed=0
failed=0
check() { # name, command...
    local name=$1
    shift
    if "$@"; then
        echo "test $name ... ok"
        passed=$((passed + 1))
    else
        echo "test $name ... FAILED"
        failed=$((failed + 1))
    fi
}
# The firmware's tokens / text of one run (greedy or sampled).
firmware_tokens() { sed -n "s/^$1 tokens: //p" "$log/firmware.txt"; }
firmware_text() { sed -n "/^=== $1 text ===\$/,/^=== end ===\$/p" "$log/firmware.txt" | sed '1d;$d'; }
# The host's, for the same prompt and sampler: generated ids (from --json) and text.
host() { # run name, generate arguments...
    local name=$1
    shift
    "$picoformer" generate "$out/model.pfm" --tokenizer "$out/tokenizer.bin" \
        --prompt "$prompt" --steps "$steps" "$@" >"$log/$name-text.txt"
    "$picoformer" generate "$out/model.pfm" --tokenizer "$out/tokenizer.bin" \
        --prompt "$prompt" --steps "$steps" "$@" --json |
        sed 's/.*"tokens":\[\([0-9,]*\)\].*/\1/' | tr ',' ' ' >"$log/$name-tokens.txt"
}
host greedy --temperature 0
host sampled --temperature 0.8 --top-p 0.9 --seed 42
check llama_example_exits_passed test "$status" -eq 0
for run in greedy sampled; do
    check "llama_example_${run}_${steps}_tokens_are_the_hosts" \
        test "$(firmware_tokens "$run")" = "$(cat "$log/$run-tokens.txt")"
    check "llama_example_${run}_text_is_the_hosts" \
        diff <(firmware_text "$run") "$log/$run-text.txt"
    check "llama_example_${run}_made_${steps}_tokens" \
        test "$(wc -w <"$log/$run-tokens.txt")" -eq "$steps"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
