#!/usr/bin/env bash
# Greedy decode of the paper base on the host, one thread: two picoformer binaries side by
# side (an older build against this one) on the f16 blob, and the newer one's f32 blob as
# the reference, alternating, for a shared machine where one run is noise (issue 18: f16
# decode <= 0.65x our f32).
#
#   bash tools/bench/decode_greedy.sh OLD_BINARY [NEW_BINARY] [RUNS]
#
# Each run: `bench` with --max-len 32 --iters 5 on host_peers.py's blobs
# (target/bench/peers/base-f16.pfm with OLD then NEW, base-f32.pfm with NEW; run
# tools/bench/host_peers.py once to make them), source and target 32 token ids of a fixed
# formula (as forward_cpu.sh's). Prints greedy_min_s and forward_min_s per run and binary
# as a markdown table; fails when the binaries' f16 greedy tokens differ.
set -euo pipefail
cd "$(dirname "$0")/../.."
old=${1:?usage: decode_greedy.sh OLD_BINARY [NEW_BINARY] [RUNS]}
new=${2:-target/release/picoformer}
runs=${3:-3}
peers=target/bench/peers
for blob in base-f16.pfm base-f32.pfm; do
    [ -f "$peers/$blob" ] || { echo "no $peers/$blob: run tools/bench/host_peers.py once" >&2; exit 1; }
done
n=32
src=$(seq 0 $((n - 1)) | awk '{ printf "%s%d", (NR > 1 ? "," : ""), 3 + ($1 * 7919) % 7990 }')
tgt=$(seq 0 $((n - 2)) | awk 'BEGIN { printf "1" } { printf ",%d", 3 + ($1 * 104729) % 7990 }')
# one run: "GREEDY_S FORWARD_S F16_KERNEL TOKENS"
run() {
    "$1" --threads 1 bench "$peers/$2" --src "$src" --tgt "$tgt" --max-len 32 --iters 5 |
        python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["greedy_min_s"], d["forward_min_s"], d["f16_kernel"], ",".join(map(str, d["greedy_tokens"])))'
}
echo "Run $(date -u +%Y-%m-%d), $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg); greedy 32 tokens, 1 thread, $runs runs alternating"
echo
echo "| run | f16 old greedy | f16 new greedy | f32 greedy (new) | new / old | new / f32 | f16 old forward | f16 new forward | f32 forward |"
echo "|---|---|---|---|---|---|---|---|---|"
for r in $(seq "$runs"); do
    read -r og of ok otok < <(run "$old" base-f16.pfm)
    read -r ng nf nk ntok < <(run "$new" base-f16.pfm)
    read -r fg ff _ _ < <(run "$new" base-f32.pfm)
    [ "$otok" = "$ntok" ] || { echo "f16 greedy tokens differ: old $otok, new $ntok" >&2; exit 1; }
    awk -v r="$r" -v og="$og" -v ng="$ng" -v fg="$fg" -v of="$of" -v nf="$nf" -v ff="$ff" 'BEGIN {
        printf "| %d | %.3f s | %.3f s | %.3f s | %.2f | %.2f | %.1f ms | %.1f ms | %.1f ms |\n",
            r, og, ng, fg, ng / og, ng / fg, of * 1e3, nf * 1e3, ff * 1e3 }'
done
echo
echo "f16 kernels: old $ok, new $nk; f16 greedy tokens identical in every run"
