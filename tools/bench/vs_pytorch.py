#!/usr/bin/env python3
"""picoformer vs PyTorch, side by side in one run, one thread each.

The paper's base shape (D 512, 8 heads, F 2048, 6 + 6 layers, vocab 8000), random
weights, the same weights in both:
  (a) teacher-forced forward, source and target length 32;
  (b) greedy decoding of up to 32 tokens with a key/value cache (PyTorch: a hand-written
      KV-cache loop over nn.Transformer's own modules).
Reports the median times, the ratio, GFLOP/s against this CPU's peak, and decode
bandwidth against the measured single-thread read bandwidth.

Then (c), quantized weights: greedy decoding with the same weights stored as f32, f16
and int8 (`picoformer convert --dtype`), beside PyTorch f32 and PyTorch's dynamic int8
quantization (`torch.ao.quantization.quantize_dynamic` on every Linear layer, one
thread). nn.Transformer's attention projections are not nn.Linear modules (the fused
in_proj_weight is a plain parameter and out_proj a NonDynamicallyQuantizableLinear), so
the int8 loop re-expresses every projection as an nn.Linear first: all the linear layers
picoformer quantizes are quantized in PyTorch too.

Setup: tools/reference/setup.sh (Debian's python3-torch + a venv with safetensors), and
Debian's libopenblas0-pthread so that torch's BLAS is OpenBLAS, not the reference BLAS.
Run from the repo root:
    target/refenv/bin/python tools/bench/vs_pytorch.py [--iters 5]
"""

import os

# One thread everywhere, before torch loads its BLAS (OpenBLAS does not follow
# torch.set_num_threads).
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse
import json
import math
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.numpy import save_file

D, H, FF, LAYERS, VOCAB, SRC_LEN, TGT_LEN = 512, 8, 2048, 6, 8000, 32, 32
BOS, EOS = 1, 2


def sinusoidal(length, d):
    pos = np.arange(length, dtype=np.float64)[:, None]
    i = np.arange(d // 2, dtype=np.float64)[None, :]
    angle = pos / np.power(10000.0, 2 * i / d)
    table = np.zeros((length, d))
    table[:, 0::2], table[:, 1::2] = np.sin(angle), np.cos(angle)
    return torch.tensor(table, dtype=torch.float32)


class Seq2Seq(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = torch.nn.Transformer(D, H, LAYERS, LAYERS, FF, dropout=0.0,
                                                batch_first=True)
        self.src_embed = torch.nn.Embedding(VOCAB, D)
        self.tgt_embed = torch.nn.Embedding(VOCAB, D)
        self.generator = torch.nn.Linear(D, VOCAB)
        self.register_buffer("pe", sinusoidal(max(SRC_LEN, TGT_LEN), D))

    def embed(self, table, tokens, first=0):
        return table(tokens) * math.sqrt(D) + self.pe[first:first + tokens.shape[-1]]

    def forward(self, src, tgt):
        mask = self.transformer.generate_square_subsequent_mask(tgt.shape[1])
        h = self.transformer(self.embed(self.src_embed, src), self.embed(self.tgt_embed, tgt),
                             tgt_mask=mask)
        return self.generator(h)

    def greedy(self, src, max_len):
        """KV-cache greedy decoding written against nn.Transformer's own modules."""
        memory = self.transformer.encoder(self.embed(self.src_embed, src))[0]  # [S, D]
        layers = self.transformer.decoder.layers
        dk = D // H
        cross = []
        for layer in layers:
            w, b = layer.multihead_attn.in_proj_weight, layer.multihead_attn.in_proj_bias
            k = F.linear(memory, w[D:2 * D], b[D:2 * D]).view(-1, H, dk).transpose(0, 1)
            v = F.linear(memory, w[2 * D:], b[2 * D:]).view(-1, H, dk).transpose(0, 1)
            cross.append((k, v))
        caches = [([], []) for _ in layers]

        def attend(q, k, v, mha):
            q = q.view(H, 1, dk)
            z = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(dk), dim=-1) @ v
            return mha.out_proj(z.transpose(0, 1).reshape(1, D))

        tokens, token = [], BOS
        for pos in range(max_len):
            x = self.embed(self.tgt_embed, torch.tensor([token]), pos)  # [1, D]
            for layer, (ks, vs), (ck, cv) in zip(layers, caches, cross):
                sa = layer.self_attn
                q, k, v = F.linear(x, sa.in_proj_weight, sa.in_proj_bias).chunk(3, dim=-1)
                ks.append(k.view(H, 1, dk))
                vs.append(v.view(H, 1, dk))
                x = layer.norm1(x + attend(q, torch.cat(ks, 1), torch.cat(vs, 1), sa))
                ma = layer.multihead_attn
                q = F.linear(x, ma.in_proj_weight[:D], ma.in_proj_bias[:D])
                x = layer.norm2(x + attend(q, ck, cv, ma))
                x = layer.norm3(x + layer.linear2(F.relu(layer.linear1(x))))
            x = self.transformer.decoder.norm(x)
            token = int(torch.argmax(self.generator(x)[0]))
            tokens.append(token)
            if token == EOS:
                break
        return tokens


def linear_from(weight, bias):
    lin = torch.nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        lin.weight.copy_(weight)
        lin.bias.copy_(bias)
    return lin


class LinearLoop(torch.nn.Module):
    """The same model and KV-cache greedy loop with every projection an nn.Linear, so
    that quantize_dynamic({nn.Linear}) quantizes all of them (PyTorch's int8 baseline)."""

    def __init__(self, m):
        super().__init__()
        t = m.transformer
        self.m = m
        enc, dec = torch.nn.ModuleList(), torch.nn.ModuleList()
        for layer in t.encoder.layers:
            sa = layer.self_attn
            enc.append(torch.nn.ModuleDict(dict(
                qkv=linear_from(sa.in_proj_weight, sa.in_proj_bias),
                out=linear_from(sa.out_proj.weight, sa.out_proj.bias),
                linear1=linear_from(layer.linear1.weight, layer.linear1.bias),
                linear2=linear_from(layer.linear2.weight, layer.linear2.bias),
                norm1=layer.norm1, norm2=layer.norm2)))
        for layer in t.decoder.layers:
            sa, ma = layer.self_attn, layer.multihead_attn
            dec.append(torch.nn.ModuleDict(dict(
                qkv=linear_from(sa.in_proj_weight, sa.in_proj_bias),
                out=linear_from(sa.out_proj.weight, sa.out_proj.bias),
                cq=linear_from(ma.in_proj_weight[:D], ma.in_proj_bias[:D]),
                ckv=linear_from(ma.in_proj_weight[D:], ma.in_proj_bias[D:]),
                cout=linear_from(ma.out_proj.weight, ma.out_proj.bias),
                linear1=linear_from(layer.linear1.weight, layer.linear1.bias),
                linear2=linear_from(layer.linear2.weight, layer.linear2.bias),
                norm1=layer.norm1, norm2=layer.norm2, norm3=layer.norm3)))
        self.enc, self.dec = enc, dec
        self.enc_norm, self.dec_norm = t.encoder.norm, t.decoder.norm
        self.generator = linear_from(m.generator.weight, m.generator.bias)

    def greedy(self, src, max_len):
        dk = D // H

        def heads(t):
            return t.view(-1, H, dk).transpose(0, 1)

        def attend(q, k, v):
            z = torch.softmax(heads(q) @ k.transpose(1, 2) / math.sqrt(dk), dim=-1) @ v
            return z.transpose(0, 1).reshape(-1, D)

        x = self.m.embed(self.m.src_embed, src)[0]  # [S, D]
        for l in self.enc:
            q, k, v = l["qkv"](x).chunk(3, dim=-1)
            x = l["norm1"](x + l["out"](attend(q, heads(k), heads(v))))
            x = l["norm2"](x + l["linear2"](F.relu(l["linear1"](x))))
        memory = self.enc_norm(x)
        cross = [tuple(heads(t) for t in l["ckv"](memory).chunk(2, dim=-1)) for l in self.dec]
        caches = [([], []) for _ in self.dec]
        tokens, token = [], BOS
        for pos in range(max_len):
            x = self.m.embed(self.m.tgt_embed, torch.tensor([token]), pos)  # [1, D]
            for l, (ks, vs), (ck, cv) in zip(self.dec, caches, cross):
                q, k, v = l["qkv"](x).chunk(3, dim=-1)
                ks.append(heads(k))
                vs.append(heads(v))
                x = l["norm1"](x + l["out"](attend(q, torch.cat(ks, 1), torch.cat(vs, 1))))
                x = l["norm2"](x + l["cout"](attend(l["cq"](x), ck, cv)))
                x = l["norm3"](x + l["linear2"](F.relu(l["linear1"](x))))
            token = int(torch.argmax(self.generator(self.dec_norm(x))[0]))
            tokens.append(token)
            if token == EOS:
                break
        return tokens


def export(model, out_dir):
    tensors = {k: v.detach().numpy().copy() for k, v in model.transformer.state_dict().items()}
    tensors["src_embed.weight"] = model.src_embed.weight.detach().numpy().copy()
    tensors["tgt_embed.weight"] = model.tgt_embed.weight.detach().numpy().copy()
    tensors["generator.weight"] = model.generator.weight.detach().numpy().copy()
    tensors["generator.bias"] = model.generator.bias.detach().numpy().copy()
    os.makedirs(out_dir, exist_ok=True)
    save_file(tensors, os.path.join(out_dir, "weights.safetensors"))
    config = dict(d_model=D, n_heads=H, d_ff=FF, n_encoder_layers=LAYERS,
                  n_decoder_layers=LAYERS, src_vocab=VOCAB, tgt_vocab=VOCAB,
                  max_src_len=SRC_LEN, max_tgt_len=TGT_LEN, norm="post", activation="relu",
                  positional="sinusoidal", layer_norm_eps=1e-5, scale_embeddings=True,
                  tie_output=False, final_norm=True, bos_id=BOS, eos_id=EOS, pad_id=0)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f)


def median_time(fn, iters):
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cpu_peak_gflops():
    """AVX2 + FMA: 2 FMA pipes x 8 lanes x 2 flops per cycle, at the highest clock seen."""
    mhz = 0.0
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("cpu MHz"):
                mhz = max(mhz, float(line.split(":")[1]))
    return mhz / 1000 * 32, mhz


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--bin", default="target/release/picoformer")
    ap.add_argument("--no-quant", action="store_true", help="skip (c), the dtype table")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = Seq2Seq().eval()
    # Peakier outputs so greedy decoding is not a chain of near-ties.
    with torch.no_grad():
        model.generator.weight.mul_(4.0)
    out_dir = "target/bench/base"
    export(model, out_dir)
    pfm = os.path.join(out_dir, "base.pfm")
    subprocess.run([args.bin, "convert", "--from", "torch", "--config",
                    os.path.join(out_dir, "config.json"),
                    os.path.join(out_dir, "weights.safetensors"), "-o", pfm], check=True)

    gen = torch.Generator().manual_seed(1)
    src = torch.randint(3, VOCAB, (1, SRC_LEN), generator=gen)
    tgt = torch.cat([torch.tensor([[BOS]]), torch.randint(3, VOCAB, (1, TGT_LEN - 1),
                                                          generator=gen)], 1)
    with torch.inference_mode():
        torch_logits = model(src, tgt)[0]
        torch_forward = median_time(lambda: model(src, tgt), args.iters)
        torch_tokens = model.greedy(src, TGT_LEN)
        torch_greedy = median_time(lambda: model.greedy(src, TGT_LEN), args.iters)
        torch_encode = median_time(
            lambda: model.transformer.encoder(model.embed(model.src_embed, src)), args.iters)

    ids = lambda t: ",".join(str(int(v)) for v in t.flatten())
    ours = json.loads(subprocess.run(
        [args.bin, "bench", pfm, "--src", ids(src), "--tgt", ids(tgt), "--max-len",
         str(TGT_LEN), "--iters", str(args.iters)],
        check=True, capture_output=True, text=True).stdout)
    ours_logits = json.loads(subprocess.run(
        [args.bin, "forward", pfm, "--src", ids(src), "--tgt", ids(tgt), "--json"],
        check=True, capture_output=True, text=True).stdout)["logits"]
    max_diff = float(np.abs(np.array(ours_logits) - torch_logits.numpy()).max())

    # Work: multiply-adds of the linear layers and attention, 2 flops each.
    enc_token = LAYERS * (4 * D * D + 2 * D * FF) + LAYERS * 2 * SRC_LEN * D
    dec_token = LAYERS * (8 * D * D + 2 * D * FF) + D * VOCAB \
        + LAYERS * 2 * (SRC_LEN + TGT_LEN / 2) * D
    forward_flops = 2 * (SRC_LEN * enc_token + TGT_LEN * dec_token)
    peak, mhz = cpu_peak_gflops()
    n_tokens = len(ours["greedy_tokens"])
    # Bytes a decode step must stream: decoder weights, output projection, cross K/V.
    step_bytes = 4 * (LAYERS * (8 * D * D + 2 * D * FF) + D * VOCAB + LAYERS * 2 * SRC_LEN * D)
    ours_step = (ours["greedy_s"] - ours["encode_s"]) / n_tokens
    torch_step = (torch_greedy - torch_encode) / len(torch_tokens)
    rows = [
        ("(a) forward 32x32", ours["forward_s"], torch_forward),
        ("(b) greedy decode", ours["greedy_s"], torch_greedy),
        ("    per decode step", ours_step, torch_step),
    ]
    print(f"kernel: {ours['kernel']}; torch {torch.__version__}, 1 thread; "
          f"CPU peak {peak:.0f} GFLOP/s (AVX2 FMA at {mhz:.0f} MHz); "
          f"read bandwidth {ours['read_bandwidth_gb_s']:.1f} GB/s (1 thread)")
    print(f"tokens: picoformer {n_tokens}, torch {len(torch_tokens)}, identical: "
          f"{ours['greedy_tokens'] == torch_tokens}; forward max |logit diff| {max_diff:.2e}")
    print("| benchmark | picoformer | PyTorch | ratio (ours/torch) |")
    print("|---|---|---|---|")
    for name, a, b in rows:
        print(f"| {name} | {a * 1e3:.2f} ms | {b * 1e3:.2f} ms | {a / b:.2f} |")
    print(f"| (a) GFLOP/s | {forward_flops / ours['forward_s'] / 1e9:.1f} "
          f"({forward_flops / ours['forward_s'] / 1e9 / peak:.0%} of peak) | "
          f"{forward_flops / torch_forward / 1e9:.1f} | |")
    print(f"| decode GB/s | {step_bytes / ours_step / 1e9:.1f} "
          f"({step_bytes / ours_step / 1e9 / ours['read_bandwidth_gb_s']:.0%} of measured) | "
          f"{step_bytes / torch_step / 1e9:.1f} | |")
    if not args.no_quant:
        quantized(args, model, src, tgt, ids, ours, torch_greedy, torch_tokens)


def quantized(args, model, src, tgt, ids, ours_f32, torch_greedy, torch_tokens):
    """(c) Greedy decoding per weight dtype, beside PyTorch f32 and dynamic int8."""
    out_dir = "target/bench/base"
    loop = LinearLoop(model).eval()
    with torch.inference_mode():
        assert loop.greedy(src, TGT_LEN) == torch_tokens, "the nn.Linear loop differs"
        qloop = torch.ao.quantization.quantize_dynamic(loop, {torch.nn.Linear},
                                                       dtype=torch.qint8)
        q_tokens = qloop.greedy(src, TGT_LEN)
        q_greedy = median_time(lambda: qloop.greedy(src, TGT_LEN), args.iters)
    rows = []
    for dtype in ("f32", "f16", "i8"):
        pfm = os.path.join(out_dir, f"base-{dtype}.pfm")
        subprocess.run([args.bin, "convert", "--from", "torch", "--config",
                        os.path.join(out_dir, "config.json"),
                        os.path.join(out_dir, "weights.safetensors"), "-o", pfm,
                        "--dtype", dtype], check=True, capture_output=True)
        res = json.loads(subprocess.run(
            [args.bin, "bench", pfm, "--src", ids(src), "--tgt", ids(tgt), "--max-len",
             str(TGT_LEN), "--iters", str(args.iters)],
            check=True, capture_output=True, text=True).stdout)
        rows.append((dtype, os.path.getsize(pfm), res))
    n = len(torch_tokens)
    print()
    print(f"(c) greedy decode of {n} tokens by weight dtype (engine {torch.backends.quantized.engine}"
          f" for PyTorch int8; int8 tokens: picoformer "
          f"{sum(a == b for a, b in zip(rows[2][2]['greedy_tokens'], torch_tokens))}/{n} equal "
          f"to f32 PyTorch's, PyTorch int8 {sum(a == b for a, b in zip(q_tokens, torch_tokens))}/{n})")
    print("| weights | blob | picoformer greedy | per token | PyTorch greedy | ratio (ours/torch) |")
    print("|---|---|---|---|---|---|")
    for dtype, size, res in rows:
        torch_t = {"f32": torch_greedy, "i8": q_greedy}.get(dtype)
        per_token = res["greedy_s"] / max(1, len(res["greedy_tokens"]))
        torch_col = f"{torch_t * 1e3:.1f} ms" if torch_t else "—"
        ratio = f"{res['greedy_s'] / torch_t:.2f}" if torch_t else "—"
        print(f"| {dtype} | {size / 2**20:.1f} MiB | {res['greedy_s'] * 1e3:.1f} ms | "
              f"{per_token * 1e3:.2f} ms | {torch_col} | {ratio} |")


if __name__ == "__main__":
    sys.exit(main())
