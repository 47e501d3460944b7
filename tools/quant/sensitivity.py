"""How sensitive the random golden models are to weight rounding (issue 6).

The int8 budget (>= 99 % next-token agreement with f32) is met on the trained date model
but not on the random golden models of tests/golden/ (docs/quantization.md). This script asks
whether any reasonable 8-bit weight scheme could meet it there. It perturbs only the
weight matrices of the linear layers (activations stay float64: the spec's numpy
implementation `np_forward` of tools/reference/make_golden.py), decodes greedily with the
f32 weights from random sources, and counts how often the perturbed model's next token,
teacher-forced on that path, is the same -- the metric of tests/quantized.rs.

Schemes: f16; int8 with one scale per row (the converter's rule, max|w|/127); per row with
the scale clipped to minimise the squared error; one scale per group of 32, 16 or 8
weights; per-row int8 on one family of matrices only; and plain Gaussian noise of a
given relative size, which shows the models' sensitivity without any quantizer.

    target/refenv/bin/python tools/quant/sensitivity.py [--sources 60] [--write DOC]

prints a Markdown table (about 3 minutes on one core); --write DOC (docs/quantization.md)
also puts it between DOC's `<!-- sensitivity:table -->` markers (with --sources 60 only,
the figure the page describes).
"""
import argparse
import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "reference"))
import make_golden as mg  # noqa: E402  (the numpy spec and the golden cases)


def is_linear(name):
    """Weight matrices the converter quantizes (embeddings stay f32)."""
    return name.endswith(("proj_weight", "proj.weight")) or ".linear" in name \
        or name == "generator.weight"


def int8_groups(w, group=None):
    """Symmetric int8 with one max|w|/127 scale per row (or per `group` columns)."""
    k = w.shape[1]
    g = group or k
    out = np.empty_like(w)
    for s in range(0, k, g):
        block = w[:, s:s + g]
        scale = np.abs(block).max(1, keepdims=True) / 127.0
        scale[scale == 0] = 1.0
        out[:, s:s + g] = np.clip(np.round(block / scale), -127, 127) * scale
    return out


def int8_mse(w):
    """Per-row int8 whose scale is clipped (60..100 % of max|w|) to the least squared error."""
    out = np.empty_like(w)
    for r, row in enumerate(w):
        best = None
        for clip in np.linspace(0.6, 1.0, 41):
            scale = np.abs(row).max() * clip / 127.0 or 1.0
            q = np.clip(np.round(row / scale), -127, 127) * scale
            err = float(((q - row) ** 2).sum())
            if best is None or err < best[0]:
                best = (err, q)
        out[r] = best[1]
    return out


def noise(relative):
    rng = np.random.RandomState(11)
    return lambda w: w + rng.randn(*w.shape).astype(w.dtype) * relative * w.std()


SCHEMES = [
    ("f16", lambda w: w.astype(np.float16).astype(np.float32), None),
    ("int8, one scale per row (the converter)", int8_groups, None),
    ("int8 per row, MSE-clipped scale", int8_mse, None),
    ("int8, one scale per 32 weights", lambda w: int8_groups(w, 32), None),
    ("int8, one scale per 16 weights", lambda w: int8_groups(w, 16), None),
    ("int8, one scale per 8 weights", lambda w: int8_groups(w, 8), None),
    ("int8 per row, attention in-projections only", int8_groups, "in_proj"),
    ("int8 per row, attention out-projections only", int8_groups, "out_proj"),
    ("int8 per row, FFN only", int8_groups, ".linear"),
    ("int8 per row, output projection only", int8_groups, "generator"),
    ("Gaussian noise, 0.1 % of the weights' std", noise(0.001), None),
    ("Gaussian noise, 0.2 %", noise(0.002), None),
    ("Gaussian noise, 0.4 %", noise(0.004), None),
    ("Gaussian noise, 0.8 %", noise(0.008), None),
]


def load_cases():
    cases = []
    for case in mg.CASES:
        d = os.path.join(ROOT, "tests", "golden", case["name"])
        with open(os.path.join(d, "config.json")) as f:
            config = json.load(f)
        cases.append((config, load_file(os.path.join(d, "weights.safetensors"))))
    return cases


def greedy_paths(cases, sources):
    """Per case: (src, f32 greedy path as teacher-forced input, f32 argmax per position)."""
    out = []
    for config, weights in cases:
        rng = np.random.RandomState(7)
        paths = []
        for _ in range(sources):
            n = rng.randint(1, config["max_src_len"] + 1)
            src = [int(t) for t in rng.randint(3, config["src_vocab"], size=n)]
            tgt = [config["bos_id"]]
            for _ in range(config["max_tgt_len"] - 1):
                token = int(mg.np_forward(weights, config, src, tgt)[-1].argmax())
                tgt.append(token)
                if token == config["eos_id"]:
                    break
            paths.append((src, tgt, mg.np_forward(weights, config, src, tgt).argmax(1)))
        out.append(paths)
    return out


def agreement(cases, paths, perturb, only):
    agree = total = 0
    errors = []
    for (config, weights), case_paths in zip(cases, paths):
        perturbed = dict(weights)
        for name, w in weights.items():
            if is_linear(name) and w.ndim == 2 and (only is None or only in name):
                perturbed[name] = perturb(w).astype(np.float32)
                errors.append(np.sqrt(((perturbed[name] - w) ** 2).mean()) / w.std())
        for src, tgt, want in case_paths:
            got = mg.np_forward(perturbed, config, src, tgt).argmax(1)
            agree += int((got == want).sum())
            total += len(want)
    return agree, total, float(np.mean(errors))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=int, default=60, help="random sources per case")
    parser.add_argument("--write", metavar="DOC",
                        help="also write the table into DOC's sensitivity:table section")
    args = parser.parse_args()
    if args.write and args.sources != 60:
        parser.error("--write describes 60 sources per case: leave --sources at 60")
    cases = load_cases()
    paths = greedy_paths(cases, args.sources)
    lines = ["| weights (activations float64) | mean relative RMS weight error | next-token agreement |",
             "|---|---|---|"]
    print("\n".join(lines), flush=True)
    for name, perturb, only in SCHEMES:
        agree, total, err = agreement(cases, paths, perturb, only)
        lines.append(f"| {name} | {100 * err:.3f} % | {agree}/{total} = {100 * agree / total:.2f} % |")
        print(lines[-1], flush=True)
    if args.write:
        write_section(args.write, "sensitivity:table", lines)
        print(f"wrote the table into {args.write}")


def write_section(doc, name, lines):
    """Replaces the lines between `<!-- NAME -->` and `<!-- /NAME -->` of DOC."""
    with open(doc) as f:
        text = f.read()
    open_marker, close_marker = f"<!-- {name} -->\n", f"<!-- /{name} -->"
    start = text.index(open_marker) + len(open_marker)
    end = text.index(close_marker, start)
    with open(doc, "w") as f:
        f.write(text[:start] + "\n".join(lines) + "\n" + text[end:])


if __name__ == "__main__":
    main()
