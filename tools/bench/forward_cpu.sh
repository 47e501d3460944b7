#!/usr/bin/env bash
# The paper base forward pass on the host: two picoformer binaries side by side (an older
# build against this one), by CPU time, for a shared machine where wall-clock is noise.
#
#   bash tools/bench/forward_cpu.sh OLD_BINARY [NEW_BINARY] [RUNS] [KERNEL]
#
# Each case runs `bench` on host_peers.py's f32 blob (target/bench/peers/base-f32.pfm:
# the paper's base shape with random weights; run tools/bench/host_peers.py once to make
# it) at source = target = 16, 32, 64 and 128 positions, one thread, RUNS times (default
# 3) with each binary, alternating, and keeps the minimum of `forward_cpu_s` (this
# thread's mean CPU time per forward pass over the bench's iterations: other work on the
# machine stalls a run, it does not add CPU time to it, though a busy sibling core still
# slows it down) and of `forward_min_s` (wall clock). Both binaries need `bench`'s
# `forward_cpu_s` (this commit's CLI; an older kernel build: check out its kernels/src
# only). KERNEL (default: the best this CPU runs) goes to PICOFORMER_KERNEL. BLOB (an
# environment variable; default the f32 blob) picks another of host_peers.py's blobs, e.g.
# BLOB=target/bench/peers/base-i8.pfm for the int8 forward. Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/../.."
old=${1:?usage: forward_cpu.sh OLD_BINARY [NEW_BINARY] [RUNS] [KERNEL]}
new=${2:-target/release/picoformer}
runs=${3:-3}
kernel=${4:-}
blob=${BLOB:-target/bench/peers/base-f32.pfm}
[ -f "$blob" ] || { echo "no $blob: run tools/bench/host_peers.py once" >&2; exit 1; }
# one run: "CPU_MS WALL_MS"
run() {
    local bin=$1 n=$2 iters=$3 src tgt
    src=$(seq 0 $((n - 1)) | awk '{ printf "%s%d", (NR > 1 ? "," : ""), 3 + ($1 * 7919) % 7990 }')
    tgt=$(seq 0 $((n - 2)) | awk 'BEGIN { printf "1" } { printf ",%d", 3 + ($1 * 104729) % 7990 }')
    # (an empty PICOFORMER_KERNEL would pick the scalar kernel: set it only when given)
    env ${kernel:+PICOFORMER_KERNEL=$kernel} "$bin" --threads 1 bench "$blob" --src "$src" --tgt "$tgt" \
        --max-len 1 --iters "$iters" |
        python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["forward_cpu_s"] * 1e3, d["forward_min_s"] * 1e3)'
}
min() { sort -g | head -1; }
echo "Run $(date -u +%Y-%m-%d), $(nproc) cores, $(basename "$blob"), kernel ${kernel:-default}, load average before: $(cut -d' ' -f1-3 /proc/loadavg); minimum of $runs runs each, alternating"
echo
echo "| forward, 1 thread | old CPU ms | new CPU ms | CPU ratio (new/old) | old wall ms | new wall ms |"
echo "|---|---|---|---|---|---|"
for n in 16 32 64 128; do
    iters=$((n <= 32 ? 10 : n <= 64 ? 6 : 4))
    : >/tmp/forward_cpu.old
    : >/tmp/forward_cpu.new
    for _ in $(seq "$runs"); do
        run "$old" "$n" "$iters" >>/tmp/forward_cpu.old
        run "$new" "$n" "$iters" >>/tmp/forward_cpu.new
    done
    oc=$(cut -d' ' -f1 /tmp/forward_cpu.old | min)
    nc=$(cut -d' ' -f1 /tmp/forward_cpu.new | min)
    ow=$(cut -d' ' -f2 /tmp/forward_cpu.old | min)
    nw=$(cut -d' ' -f2 /tmp/forward_cpu.new | min)
    awk -v n="$n" -v oc="$oc" -v nc="$nc" -v ow="$ow" -v nw="$nw" \
        'BEGIN { printf "| %dx%d | %.1f | %.1f | %.2f | %.1f | %.1f |\n", n, n, oc, nc, nc / oc, ow, nw }'
done
echo
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
