#!/usr/bin/env bash
# Whisper base's encoder on the host: two picoformer binaries side by side (an older build
# against this one), by CPU time, for a shared machine where wall-clock is noise.
#
#   bash tools/bench/encoder_cpu.sh OLD_BINARY [NEW_BINARY] [RUNS]
#
# Each case runs `transcribe BLOB --mel tests/pretrained/whisper/mel.npy --max-len 1` (a
# 30 s window: the stem, the encoder of 1500 positions, the prompt and one token) RUNS
# times (default 3) with each binary, alternating, and keeps the minimum of `perf stat -e
# task-clock` (the process's CPU time: other work on the machine stalls a run, it does not
# add CPU time to it, though a busy sibling core still slows it down) and of the encoder's
# own wall-clock time (`--timings`). Cases: the f32 and int8 blobs on the AVX-512 and
# the AVX2 kernels (`PICOFORMER_KERNEL`), one thread, and f32 on two; last, the part of
# every run that is not the encoder (`--audio-context 16`: loading the blob, the features,
# an encoder of 16 positions, the prompt and one token); CASES (an environment variable:
# cases "KERNEL DTYPE THREADS POSITIONS" separated by ';') picks others, e.g.
# CASES="avx512 i8 1 1500;avx2 i8 1 1500". Prints a markdown table. The blobs are target/whisper-m55's (tools/firmware-whisper.sh), converted from
# target/models/whisper/model.bin where absent.
set -euo pipefail
cd "$(dirname "$0")/../.."
old=${1:?usage: encoder_cpu.sh OLD_BINARY [NEW_BINARY] [RUNS]}
new=${2:-target/release/picoformer}
runs=${3:-3}
mel=tests/pretrained/whisper/mel.npy
blob() {
    local dtype=$1 path=target/whisper-m55/whisper-base-$1.pfm
    if [ ! -f "$path" ]; then
        mkdir -p target/whisper-m55
        "$new" convert --from ct2-whisper target/models/whisper/model.bin -o "$path" --dtype "$dtype" >/dev/null
    fi
    echo "$path"
}
# one run: "CPU_MS ENCODER_S"
run() {
    local bin=$1 kernel=$2 dtype=$3 threads=$4 context=$5 stat encoder
    stat=$(mktemp)
    encoder=$(PICOFORMER_KERNEL=$kernel perf stat -x, -e task-clock -o "$stat" \
        "$bin" --threads "$threads" transcribe "$(blob "$dtype")" --mel "$mel" --max-len 1 \
        --audio-context "$context" --timings 2>&1 >/dev/null |
        sed -n 's/.*encoder \([0-9.]*\) s per window.*/\1/p')
    echo "$(grep task-clock "$stat" | cut -d, -f1) $encoder"
    rm -f "$stat"
}
min() { sort -g | head -1; }
echo "Run $(date -u +%Y-%m-%d), $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg); minimum of $runs runs each, alternating"
echo
echo "| case | old CPU s | new CPU s | CPU ratio (new/old) | old encoder s (wall) | new encoder s (wall) |"
echo "|---|---|---|---|---|---|"
cases=${CASES:-"avx512 f32 1 1500;avx512 i8 1 1500;avx2 f32 1 1500;avx512 f32 2 1500;avx512 f32 1 16"}
IFS=';' read -ra case_list <<<"$cases"
for case in "${case_list[@]}"; do
    read -r kernel dtype threads context <<<"$case"
    : >/tmp/encoder_cpu.old
    : >/tmp/encoder_cpu.new
    for _ in $(seq "$runs"); do
        run "$old" "$kernel" "$dtype" "$threads" "$context" >>/tmp/encoder_cpu.old
        run "$new" "$kernel" "$dtype" "$threads" "$context" >>/tmp/encoder_cpu.new
    done
    oc=$(cut -d' ' -f1 /tmp/encoder_cpu.old | min)
    nc=$(cut -d' ' -f1 /tmp/encoder_cpu.new | min)
    ow=$(cut -d' ' -f2 /tmp/encoder_cpu.old | min)
    nw=$(cut -d' ' -f2 /tmp/encoder_cpu.new | min)
    awk -v k="$kernel" -v d="$dtype" -v t="$threads" -v c="$context" -v oc="$oc" -v nc="$nc" -v ow="$ow" -v nw="$nw" \
        'BEGIN { printf "| %s %s, %d thread%s%s | %.2f | %.2f | %.2f | %.2f | %.2f |\n", k, d, t, (t > 1 ? "s" : ""), (c == 1500 ? "" : ", " c " positions (not the encoder)"), oc / 1000, nc / 1000, nc / oc, ow, nw }'
done
echo
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
