#!/usr/bin/env bash
# Accuracy of Whisper base's quantized blobs against its f32 blob over many spoken clips
# (issue 17's quantization choices; cli/examples/whisper_accuracy.rs says what is
# measured): the sentences of tools/whisper-accuracy/sentences.txt spoken by espeak-ng
# (Debian's `espeak-ng`; two voices, so 2 clips a sentence), each clip's f32 greedy
# transcript the teacher-forcing sequence, every variant's next-token distributions
# compared with f32's.
#
#   bash tools/whisper-accuracy.sh [--write DOC] [DTYPE...]     (default: i8 i8att i8stem)
#       (also i8emb: int8 weights and the int8 tied classifier, `--i8-embedding`;
#       i8stememb: i8stem with it)
#
# --write DOC replaces the table between DOC's `<!-- whisper-accuracy:table -->` markers
# (docs/quantization.md) through tools/firmware-doc.sh's writer.
# Blobs: target/whisper-m55/whisper-base-DTYPE.pfm, converted as
# tools/firmware-whisper.sh converts them (run it once per DTYPE, or let this convert);
# clips cached under target/whisper-accuracy/. A host tool: not part of tools/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v espeak-ng >/dev/null || { echo "whisper-accuracy: needs espeak-ng (apt-get install espeak-ng)" >&2; exit 2; }
model=target/models/whisper/model.bin
[ -f "$model" ] || { echo "whisper-accuracy: $model is absent (tools/setup.d/40-models.sh)" >&2; exit 2; }
doc=
if [ "${1:-}" = --write ]; then doc=$2; shift 2; fi
dtypes=("$@")
[ ${#dtypes[@]} -gt 0 ] || dtypes=(i8 i8att i8stem)
export RUSTC_WRAPPER=${RUSTC_WRAPPER:-sccache}
command -v "$RUSTC_WRAPPER" >/dev/null || unset RUSTC_WRAPPER
cargo build -q --release -p picoformer-cli --bin picoformer --example whisper_accuracy
picoformer=target/release/picoformer
blobs=target/whisper-m55
mkdir -p "$blobs" target/whisper-accuracy
blob() {
    local dtype=$1 path=$blobs/whisper-base-$1.pfm
    local args=(--dtype "$dtype")
    case $dtype in
        i8att) args=(--dtype i8 --kv-cache i8) ;;
        i8stem) args=(--dtype i8 --kv-cache i8 --i8-stem) ;;
        i8emb) args=(--dtype i8 --i8-embedding) ;;
        i8stememb) args=(--dtype i8 --kv-cache i8 --i8-stem --i8-embedding) ;;
    esac
    if [ ! -f "$path" ] || [ "$model" -nt "$path" ] || ! "$picoformer" info "$path" >/dev/null 2>&1; then
        "$picoformer" convert --from ct2-whisper "$model" -o "$path.tmp" "${args[@]}" >/dev/null
        mv "$path.tmp" "$path"
        rm -f "$path.tmp.tokenizer.json"
    fi
    echo "$path"
}
list=("$(blob f32)")
for d in "${dtypes[@]}"; do list+=("$(blob "$d")"); done
clips=()
n=0
while IFS= read -r sentence; do
    [ -n "$sentence" ] || continue
    n=$((n + 1))
    for voice in en-us en-gb; do
        clip=target/whisper-accuracy/$n-$voice.wav
        [ -f "$clip" ] || espeak-ng -v "$voice" -s 150 -w "$clip" "$sentence"
        clips+=("$clip")
    done
done <tools/whisper-accuracy/sentences.txt
out=$(mktemp)
trap 'rm -f "$out"' EXIT
{
    echo "<!-- whisper-accuracy:table -->"
    echo "Run $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD): $(espeak-ng --version | awk '{print $1, $2, $4}'), ${#clips[@]} clips ($n sentences x voices en-us, en-gb), each teacher-forced along the f32 blob's greedy transcript."
    echo
    target/release/examples/whisper_accuracy "${list[@]}" -- "${clips[@]}"
    echo "<!-- /whisper-accuracy:table -->"
} >"$out"
cat "$out"
[ -z "$doc" ] || bash tools/firmware-doc.sh write "$doc" <"$out"
