#!/usr/bin/env python3
"""`picoformer generate` vs PyTorch with a KV cache on a stories15M-shaped llama, one
thread each, side by side in one run (issue 16's host benchmark).

stories15M's shape (dim 288, hidden 768, 6 layers, 6 heads, 6 KV heads, vocab 32000,
seq_len 256) with random weights from tools/reference/llama_reference.py, written as a
llama2.c checkpoint and converted with `picoformer convert --from llama2c` (f32, and
int8 with --dtype i8). Greedy generation of --steps tokens after bos:
  picoformer: `picoformer generate M.pfm --prompt-tokens 1 --steps N --json`, timed as
      a whole for N = steps and N = 1; tokens/s = (steps - 1) / (t_steps - t_1), so that
      loading the blob and starting the process do not count;
  PyTorch: the reference's forward pass rewritten with a key/value cache (one position
      per step, float32, torch.set_num_threads(1)), the same weights; tokens/s =
      steps / time of the loop.
Medians of --iters runs. The two greedy continuations are compared token by token (a
random model's top-2 logits can be close, so the count of agreeing leading tokens is
reported rather than required).

Run from the repo root (torch in target/refenv; the release binary is built if missing):
    target/refenv/bin/python tools/bench/llama_host.py [--steps 255] [--iters 3] \
        [--write docs/llama.md]
--write replaces the table between the `<!-- llama-host-bench -->` markers of that page.
"""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse
import json
import math
import platform
import statistics
import subprocess
import sys
import time

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "reference"))
import llama_reference as ref  # noqa: E402

SHAPE = dict(name="stories15m_shape", seed=1501, dim=288, hidden_dim=768, n_layers=6,
             n_heads=6, n_kv_heads=6, vocab_size=32000, seq_len=256, shared_classifier=True,
             rope_theta=10000.0, embed_std=0.3, sub_scale=3.0)
BIN = os.path.join(ROOT, "target", "release", "picoformer")
WORK = os.path.join(ROOT, "target", "bench-llama")
BEGIN, END = "<!-- llama-host-bench -->", "<!-- /llama-host-bench -->"


def torch_generate(case, w, steps):
    """Greedy tokens after bos with a KV cache, and the seconds the loop took."""
    dim, heads, kv_heads = case["dim"], case["n_heads"], case["n_kv_heads"]
    dk, layers = dim // heads, case["n_layers"]
    cos, sin = ref.rope_freqs(dk, case["seq_len"], case["rope_theta"], torch.float32)
    k_cache = torch.zeros(layers, case["seq_len"], kv_heads, dk)
    v_cache = torch.zeros(layers, case["seq_len"], kv_heads, dk)
    group = heads // kv_heads
    token, out = ref.BOS, []
    start = time.perf_counter()
    with torch.no_grad():
        for pos in range(steps):
            x = w["tok_embeddings"][token]
            for layer in range(layers):
                h = ref.rms_norm(x, w["attention_norm"][layer])
                q = (w["wq"][layer] @ h).view(1, heads, dk)
                k = (w["wk"][layer] @ h).view(1, kv_heads, dk)
                v = (w["wv"][layer] @ h).view(1, kv_heads, dk)
                q = ref.rope_adjacent(q, cos[pos:pos + 1], sin[pos:pos + 1])[0]
                k = ref.rope_adjacent(k, cos[pos:pos + 1], sin[pos:pos + 1])[0]
                k_cache[layer, pos], v_cache[layer, pos] = k, v[0]
                keys = k_cache[layer, :pos + 1].repeat_interleave(group, dim=1)
                values = v_cache[layer, :pos + 1].repeat_interleave(group, dim=1)
                scores = torch.einsum("hd,shd->hs", q, keys) / math.sqrt(dk)
                z = torch.einsum("hs,shd->hd", torch.softmax(scores, dim=-1), values)
                x = x + w["wo"][layer] @ z.reshape(dim)
                h = ref.rms_norm(x, w["ffn_norm"][layer])
                gate = torch.nn.functional.silu(w["w1"][layer] @ h)
                x = x + w["w2"][layer] @ (gate * (w["w3"][layer] @ h))
            logits = w["output"] @ ref.rms_norm(x, w["norm"])
            token = int(torch.argmax(logits))
            out.append(token)
    return out, time.perf_counter() - start


def picoformer_generate(model, steps):
    start = time.perf_counter()
    result = subprocess.run([BIN, "generate", model, "--prompt-tokens", "1", "--steps",
                             str(steps), "--json"], check=True, capture_output=True)
    return json.loads(result.stdout)["tokens"], time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=255)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--write", help="docs page whose table to replace")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not os.path.exists(BIN):
        subprocess.run(["cargo", "build", "-q", "--release", "-p", "picoformer-cli"],
                       check=True, cwd=ROOT)
    os.makedirs(WORK, exist_ok=True)
    case = SHAPE
    w = ref.random_weights(case, torch.Generator().manual_seed(case["seed"]))
    checkpoint = os.path.join(WORK, "model.bin")
    ref.write_llama2c_bin(checkpoint, case, w)
    models = {}
    for dtype in ("f32", "i8"):
        models[dtype] = os.path.join(WORK, f"model-{dtype}.pfm")
        subprocess.run([BIN, "convert", "--from", "llama2c", checkpoint, "-o", models[dtype],
                        "--dtype", dtype], check=True, capture_output=True)

    steps = args.steps
    load_before = os.getloadavg()[0]
    rows = []
    torch_tokens, _ = torch_generate(case, w, 8)  # warm-up
    torch_times = []
    for _ in range(args.iters):
        torch_tokens, seconds = torch_generate(case, w, steps)
        torch_times.append(seconds)
    torch_rate = steps / statistics.median(torch_times)
    rows.append(("PyTorch %s, KV cache, f32" % torch.__version__, torch_rate, None))
    for dtype, model in models.items():
        whole, one = [], []
        for _ in range(args.iters):
            tokens, seconds = picoformer_generate(model, steps)
            whole.append(seconds)
            one.append(picoformer_generate(model, 1)[1])
        rate = (steps - 1) / (statistics.median(whole) - statistics.median(one))
        agree = next((i for i, (a, b) in enumerate(zip(tokens, torch_tokens)) if a != b),
                     min(len(tokens), len(torch_tokens)))
        rows.append((f"picoformer generate, {dtype}", rate, agree))

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    lines = [
        BEGIN,
        f"stories15M's shape (dim 288, hidden 768, 6 layers, 6 heads, vocab 32000, "
        f"seq_len 256), random weights, greedy, {steps} tokens after bos, one thread, "
        f"median of {args.iters}; {cpu}, load average {load_before:.1f} / "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs before / after (a busy machine "
        f"slows both sides). The i8 model's tokens differ from f32 PyTorch's where "
        f"quantization moves a near-tie of the random model. Command: "
        f"`target/refenv/bin/python tools/bench/llama_host.py --write docs/llama.md`.",
        "",
        "| implementation | tokens/s | vs PyTorch | greedy tokens equal to PyTorch f32's |",
        "|---|---|---|---|",
    ]
    for name, rate, agree in rows:
        same = "—" if agree is None else f"first {agree} of {steps}"
        lines.append(f"| {name} | {rate:.1f} | {rate / torch_rate:.2f}x | {same} |")
    lines.append(END)
    table = "\n".join(lines)
    print(table)
    if args.write:
        with open(args.write) as f:
            page = f.read()
        if BEGIN in page and END in page:
            page = page[:page.index(BEGIN)] + table + page[page.index(END) + len(END):]
        else:
            page = page.rstrip("\n") + "\n\n" + table + "\n"
        with open(args.write, "w") as f:
            f.write(page)


if __name__ == "__main__":
    main()
