#!/usr/bin/env python3
"""The paper base forward pass in int8 at 32 x 32, one thread: ONNX Runtime's dynamic int8
(host_peers.py's target/bench/peers/base-i8.onnx) and two picoformer binaries (an older
build and this one, on host_peers.py's base-i8.pfm), side by side in one run.

Each round runs ONNX Runtime `--iters` times, then each binary's `bench` with `--iters`
forward passes (its `forward_min_s`); the minimum over `--rounds` rounds is kept (the
machine is shared: other work only ever slows a run down). Prints a markdown table with
the ratios to ONNX Runtime and the load average before and after.

    target/benchenv/bin/python tools/bench/forward_i8_vs_ort.py OLD_BINARY \
        [target/release/picoformer] [--rounds 5] [--iters 20]
"""

import argparse
import json
import os
import subprocess
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

PEERS = "target/bench/peers"
N = 32


def ids(n, seed):
    return ",".join(str(3 + (i * seed) % 7990) for i in range(n))


def ours(binary, iters):
    src = ids(N, 7919)
    tgt = "1," + ids(N - 1, 104729)
    out = subprocess.run([binary, "--threads", "1", "bench", f"{PEERS}/base-i8.pfm", "--src", src,
                          "--tgt", tgt, "--max-len", "1", "--iters", str(iters)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["forward_min_s"]


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    import numpy as np
    import onnxruntime as ort

    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new", nargs="?", default="target/release/picoformer")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=20)
    args = ap.parse_args()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(f"{PEERS}/base-i8.onnx", opts, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {i.name: rng.integers(3, 7990, size=(1, N), dtype=np.int64) for i in sess.get_inputs()}
    sess.run(None, feeds)
    before = load()
    best = {"ort": float("inf"), "old": float("inf"), "new": float("inf")}
    for _ in range(args.rounds):
        for _ in range(args.iters):
            start = time.perf_counter()
            sess.run(None, feeds)
            best["ort"] = min(best["ort"], time.perf_counter() - start)
        best["old"] = min(best["old"], ours(args.old, args.iters))
        best["new"] = min(best["new"], ours(args.new, args.iters))
    ms = {k: v * 1e3 for k, v in best.items()}
    print(f"Run {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, onnxruntime {ort.__version__}, "
          f"load average before: {before}; minimum of {args.rounds} rounds x {args.iters} runs")
    print()
    print("| forward 32x32, int8, 1 thread | ONNX Runtime ms | old ms | new ms | old / ORT | new / ORT |")
    print("|---|---|---|---|---|---|")
    print(f"| wall clock | {ms['ort']:.1f} | {ms['old']:.1f} | {ms['new']:.1f} | "
          f"{ms['old'] / ms['ort']:.2f} | {ms['new'] / ms['ort']:.2f} |")
    print()
    print(f"Load average after: {load()}.")


if __name__ == "__main__":
    main()
