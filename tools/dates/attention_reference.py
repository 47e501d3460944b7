#!/usr/bin/env python3
"""PyTorch's attention probabilities of the trained date model, the reference that
tests/attention.rs holds `picoformer`'s attention probe to.

    target/refenv/bin/python tools/dates/attention_reference.py \
        [--weights target/dates/weights.safetensors] [--out models/dates/attention_reference.json]

Loads the checkpoint train.py wrote into its `nn.Transformer`, runs the layers one by one
asking each `nn.MultiheadAttention` for its per-head weights (need_weights=True,
average_attn_weights=False), checks that this walk gives the same logits as the model's
own forward, and writes, for a few phrases, every (kind, layer, head) matrix:
    {"cases": [{"src": PHRASE, "tgt": ISO, "encoder": [layer][head][row][col],
                "decoder": ..., "cross": ...}]}
tools/dates/train.sh runs it after training.
"""

import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402  (the model, tokenizer and data of the training script)

PHRASES = [("sat 28th of november, 2026", "2026-11-28"), ("Twenty-Eighth Nov 2026", "2026-11-28")]


def rounded(w):
    """[heads, rows, cols] as lists, 7 decimals (the test's tolerance is 1e-5)."""
    return [[[round(v, 7) for v in row] for row in head] for head in w.tolist()]


def load(weights, config):
    c = json.load(open(config))
    model = train.DateModel(dict(c, dropout=0.0))
    tensors = load_file(weights)
    state = {"transformer." + k: v for k, v in tensors.items()
             if k.startswith(("encoder.", "decoder."))}
    for name in ("src_embed.weight", "tgt_embed.weight", "generator.weight", "generator.bias"):
        state[name] = tensors[name]
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(m in ("src_pe", "tgt_pe", "causal") for m in missing), \
        (missing, unexpected)
    return model.eval()


@torch.no_grad()
def maps(model, phrase, iso):
    src = torch.tensor([train.encode_src(phrase)])
    tgt = torch.tensor([[train.BOS] + train.encode_tgt(iso)])
    out = {"src": phrase, "tgt": iso, "encoder": [], "decoder": [], "cross": []}
    x = model.src_embed(src) * model.scale + model.src_pe[: src.shape[1]]
    for layer in model.transformer.encoder.layers:
        a, w = layer.self_attn(x, x, x, need_weights=True, average_attn_weights=False)
        out["encoder"].append(rounded(w[0]))
        x = layer.norm1(x + a)
        x = layer.norm2(x + layer.linear2(F.relu(layer.linear1(x))))
    memory = model.transformer.encoder.norm(x)
    L = tgt.shape[1]
    y = model.tgt_embed(tgt) * model.scale + model.tgt_pe[:L]
    for layer in model.transformer.decoder.layers:
        a, w = layer.self_attn(y, y, y, attn_mask=model.causal[:L, :L], need_weights=True,
                               average_attn_weights=False)
        out["decoder"].append(rounded(w[0]))
        y = layer.norm1(y + a)
        a, w = layer.multihead_attn(y, memory, memory, need_weights=True,
                                    average_attn_weights=False)
        out["cross"].append(rounded(w[0]))
        y = layer.norm2(y + a)
        y = layer.norm3(y + layer.linear2(F.relu(layer.linear1(y))))
    logits = model.generator(model.transformer.decoder.norm(y))
    reference = model(src, tgt)
    assert torch.allclose(logits, reference, atol=1e-5), (logits - reference).abs().max()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", default="target/dates/weights.safetensors")
    ap.add_argument("--config", default="target/dates/config.json")
    ap.add_argument("--out", default="models/dates/attention_reference.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = load(args.weights, args.config)
    cases = [maps(model, p, t) for p, t in PHRASES]
    with open(args.out, "w") as f:
        json.dump({"cases": cases}, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", args.out)


if __name__ == "__main__":
    sys.exit(main())
