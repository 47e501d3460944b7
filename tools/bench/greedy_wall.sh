#!/usr/bin/env bash
# Greedy decoding of the paper base on the host: two picoformer binaries side by side (an
# older build against this one), alternating, one thread.
#
#   bash tools/bench/greedy_wall.sh OLD_BINARY [NEW_BINARY] [RUNS] [KERNEL]
#
# Each run is `bench` on host_peers.py's int8 blob (target/bench/peers/base-i8.pfm; BLOB, an
# environment variable, picks another, e.g. base-f32.pfm) at 32 source positions with
# `--max-len 32 --iters 5`, RUNS times (default 3) with each binary, alternating; it keeps
# the minimum of `greedy_min_s` (wall clock: on a shared machine, compare only within one
# run of this script) and checks that both binaries decode the same tokens. SRC and TGT
# (environment) override the token ids (comma-separated; default: fixed ids as
# forward_cpu.sh makes them). KERNEL (default: the best this CPU runs) goes to
# PICOFORMER_KERNEL. Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/../.."
old=${1:?usage: greedy_wall.sh OLD_BINARY [NEW_BINARY] [RUNS] [KERNEL]}
new=${2:-target/release/picoformer}
runs=${3:-3}
kernel=${4:-}
blob=${BLOB:-target/bench/peers/base-i8.pfm}
[ -f "$blob" ] || { echo "no $blob: run tools/bench/host_peers.py once" >&2; exit 1; }
src=${SRC:-$(seq 0 31 | awk '{ printf "%s%d", (NR > 1 ? "," : ""), 3 + ($1 * 7919) % 7990 }')}
tgt=${TGT:-$(seq 0 30 | awk 'BEGIN { printf "1" } { printf ",%d", 3 + ($1 * 104729) % 7990 }')}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# one run: "GREEDY_MS TOKENS"
run() {
    env ${kernel:+PICOFORMER_KERNEL=$kernel} "$1" --threads 1 bench "$blob" --src "$src" --tgt "$tgt" \
        --max-len 32 --iters 5 |
        python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["greedy_min_s"] * 1e3, ",".join(map(str, d["greedy_tokens"])))'
}
echo "Run $(date -u +%Y-%m-%d), $(nproc) cores, $(basename "$blob"), kernel ${kernel:-default}, load average before: $(cut -d' ' -f1-3 /proc/loadavg); minimum of $runs runs each, alternating"
echo
for i in $(seq "$runs"); do
    run "$old" >>"$tmp/old"
    run "$new" >>"$tmp/new"
done
old_tokens=$(cut -d' ' -f2 "$tmp/old" | sort -u)
new_tokens=$(cut -d' ' -f2 "$tmp/new" | sort -u)
[ "$old_tokens" = "$new_tokens" ] || { echo "the binaries decode different tokens" >&2; exit 1; }
o=$(cut -d' ' -f1 "$tmp/old" | sort -g | head -1)
n=$(cut -d' ' -f1 "$tmp/new" | sort -g | head -1)
echo "| greedy 32 tokens, 1 thread | old ms | new ms | ratio (new/old) | tokens |"
echo "|---|---|---|---|---|"
awk -v o="$o" -v n="$n" -v t="$(echo "$new_tokens" | tr ',' '\n' | wc -l)" \
    'BEGIN { printf "| %s | %.1f | %.1f | %.2f | %d, the same |\n", "'"$(basename "$blob")"'", o, n, n / o, t }'
echo
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
