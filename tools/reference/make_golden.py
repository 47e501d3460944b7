#!/usr/bin/env python3
"""PyTorch reference / golden-vector generator for picoformer.

Writes tests/golden/<case>/{config.json, weights.safetensors, expected.json} for the
cases in CASES below. The numerical contract is docs/spec.md (the engine's spec, in
this repository); this script is an independent implementation of it
on top of PyTorch's nn.Transformer, cross-checked by a hand-written numpy (float64)
forward pass.

CI does NOT run this script (CI has no torch); its outputs are committed.

Setup (Debian 12; see tools/reference/setup.sh, which does this idempotently):
    sudo apt-get install -y python3-torch python3-numpy        # torch 1.13, numpy 1.24
    /usr/bin/python3 -m venv --system-site-packages target/refenv
    target/refenv/bin/pip install safetensors

Regenerate (from the repo root):
    target/refenv/bin/python tools/reference/make_golden.py            # writes tests/golden/
    target/refenv/bin/python tools/reference/make_golden.py --out DIR  # writes elsewhere

Everything is deterministic (fixed seeds, one CPU thread); running twice gives
byte-identical files.

Decoding conventions (binding, the Rust engine implements the same):
  bos=1, eos=2, pad=0; source tokens are drawn from [3, src_vocab).
  Greedy: from [bos], append argmax (ties: lowest id) of the last position's logits until
  eos is emitted or max_len tokens were generated. tokens exclude bos, include eos.
  score = float32 sum of float32 log_softmax of the chosen tokens.
  Beam: docs/spec.md "Beam search"; reported score = normalized score score / lp(n),
  lp(n) = ((5+n)/6)^alpha, n = generated tokens including eos. When finished reaches B at
  the same step as max_len is reached, the search is over and live hypotheses do NOT
  join (Hugging Face semantics); sources for which the other reading would change the
  answer are rejected, so the golden vectors do not depend on it.
  Decoding here recomputes the full prefix every step (no KV cache), so it is an
  independent reference for the engine's cached decoder.
  Robustness: any source where a decision (greedy argmax; beam candidate ranking at the
  walk's cut points; final top-K order) has a margin < 1e-3 is rejected and redrawn.

Notes on torch 1.13's nn.Transformer:
  * It initialises attention in/out biases to 0 and LayerNorm to gamma=1/beta=0; every
    parameter is re-initialised here so those terms are exercised.
  * In eval mode under torch.no_grad() the encoder/MHA may take the fused "fast path"
    kernels. This script keeps autograd enabled (parameters require grad, no no_grad), so
    the reference is the plain composite math; the fast path agrees to ~6e-6 anyway.
  * With tie_output, generator.weight IS tgt_embed.weight (one Parameter); it is written
    once, as tgt_embed.weight.
  * Random post-norm decoders tend to repeat one token forever (the cross-attention term
    dominates the residual stream). The knobs dec_sub_scale / xattn_scale shrink or grow
    the decoder's sub-layer output projections so outputs vary; eos_shift pushes the eos
    logit so that some decodes stop early and some run to max_len.
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from safetensors.numpy import save_file

BOS, EOS, PAD = 1, 2, 0
MARGIN = 1e-3

DIMENSIONS = ["d_model", "n_heads", "d_ff", "n_encoder_layers", "n_decoder_layers",
              "src_vocab", "tgt_vocab", "max_src_len", "max_tgt_len"]
# The options of a case that does not name them (post-norm ReLU with sinusoids, as in the
# paper), and its generation knobs:
#   gen_scale: generator weight std multiplier (peaky outputs)
#   eos_shift: added to the eos logit (bias if the generator has one, otherwise through the
#              direction of the last LayerNorm's beta)
#   dec_sub_scale / xattn_scale: see the notes on nn.Transformer above
DEFAULT_OPTIONS = dict(norm="post", activation="relu", positional="sinusoidal",
                       layer_norm_eps=1e-5, scale_embeddings=True, tie_output=False,
                       final_norm=True)
DEFAULT_KNOBS = dict(gen_bias=True, gen_scale=4.0, eos_shift=6.0, dec_sub_scale=0.3,
                     xattn_scale=0.5)


def case(name, seed, dims, options=None, **knobs):
    """A case: `dims` in the order of DIMENSIONS, `options` and `knobs` over the defaults."""
    assert len(dims) == len(DIMENSIONS) and set(options or {}) <= set(DEFAULT_OPTIONS)
    assert set(knobs) <= set(DEFAULT_KNOBS)
    return dict(name=name, seed=seed,
                cfg=dict(zip(DIMENSIONS, dims), **dict(DEFAULT_OPTIONS, **(options or {}))),
                **dict(DEFAULT_KNOBS, **knobs))


CASES = [
    case("paper_small", 1001, (64, 4, 256, 2, 2, 61, 67, 24, 16)),
    case("odd", 1002, (48, 3, 80, 3, 1, 53, 53, 20, 12),
         dict(positional="sinusoidal-concat")),
    case("prenorm_gelu", 1003, (32, 2, 64, 2, 2, 40, 45, 16, 14),
         dict(norm="pre", activation="gelu", positional="learned", layer_norm_eps=1e-6,
              scale_embeddings=False),
         gen_bias=False, eos_shift=4.0),
    case("tied", 1004, (32, 4, 48, 1, 2, 50, 50, 12, 12),
         dict(positional="none", scale_embeddings=False, tie_output=True, final_norm=False),
         gen_bias=False, gen_scale=1.0, eos_shift=2.0, dec_sub_scale=2.0, xattn_scale=2.0),
    case("concat_prenorm_nofinal", 1005, (40, 5, 72, 2, 1, 37, 41, 16, 10),
         dict(norm="pre", positional="sinusoidal-concat", final_norm=False),
         gen_scale=2.0, eos_shift=5.0, dec_sub_scale=2.0, xattn_scale=1.0),
]

# A firmware model where the matrix products dominate the work (issue 15: int8 against f32
# per generated token on the microcontrollers): 0.99 M parameters, a 3.97 MB f32 blob
# (about 1 MB as int8).
CASES.append(
    case("firmware_large", 1006, (128, 4, 512, 2, 2, 256, 256, 16, 16),
         dict(tie_output=True),
         gen_bias=False, gen_scale=1.0, eos_shift=2.0, dec_sub_scale=1.0, xattn_scale=1.0))

BEAM_SETTINGS = [(4, 2, 0.6), (3, 3, 0.0), (1, 1, 1.0), (5, 1, 0.6)]

CONFIG_KEYS = ["d_model", "n_heads", "d_ff", "n_encoder_layers", "n_decoder_layers",
               "src_vocab", "tgt_vocab", "max_src_len", "max_tgt_len", "norm",
               "activation", "positional", "layer_norm_eps", "scale_embeddings",
               "tie_output", "final_norm", "bos_id", "eos_id", "pad_id"]


class Rejected(Exception):
    pass


# ----------------------------------------------------------------------------- positions
def positional_table(kind, length, d):
    """float64 table [length, d] for the fixed kinds, cast to float32 by the caller."""
    p = np.arange(length, dtype=np.float64)[:, None]
    if kind == "sinusoidal":
        t = np.zeros((length, d), dtype=np.float64)
        i2 = np.arange(0, d, 2, dtype=np.float64)            # 2i
        ang = p / np.power(10000.0, i2 / d)
        t[:, 0::2] = np.sin(ang)
        t[:, 1::2] = np.cos(ang)[:, : d // 2]
        return t
    if kind == "sinusoidal-concat":
        n = d // 2
        inc = math.log(10000.0) / max(n - 1, 1)
        w = np.exp(-np.arange(n, dtype=np.float64) * inc)
        t = np.zeros((length, d), dtype=np.float64)
        t[:, :n] = np.sin(p * w)
        t[:, n:2 * n] = np.cos(p * w)
        return t
    raise ValueError(kind)


# ----------------------------------------------------------------------------- torch model
class Model(nn.Module):
    def __init__(self, c, gen_bias):
        super().__init__()
        D = c["d_model"]
        self.c = c
        self.transformer = nn.Transformer(
            d_model=D, nhead=c["n_heads"], num_encoder_layers=c["n_encoder_layers"],
            num_decoder_layers=c["n_decoder_layers"], dim_feedforward=c["d_ff"],
            dropout=0.0, activation=c["activation"], layer_norm_eps=c["layer_norm_eps"],
            batch_first=True, norm_first=(c["norm"] == "pre"))
        if not c["final_norm"]:
            self.transformer.encoder.norm = None
            self.transformer.decoder.norm = None
        self.src_embed = nn.Embedding(c["src_vocab"], D)
        self.tgt_embed = nn.Embedding(c["tgt_vocab"], D)
        self.generator = nn.Linear(D, c["tgt_vocab"], bias=gen_bias)
        if c["tie_output"]:
            self.generator.weight = self.tgt_embed.weight
        if c["positional"] == "learned":
            self.src_pos = nn.Embedding(c["max_src_len"], D)
            self.tgt_pos = nn.Embedding(c["max_tgt_len"], D)
        elif c["positional"] in ("sinusoidal", "sinusoidal-concat"):
            self.register_buffer("src_pe", torch.from_numpy(
                positional_table(c["positional"], c["max_src_len"], D).astype(np.float32)))
            self.register_buffer("tgt_pe", torch.from_numpy(
                positional_table(c["positional"], c["max_tgt_len"], D).astype(np.float32)))
        self.scale = math.sqrt(D) if c["scale_embeddings"] else 1.0
        mask = nn.Transformer.generate_square_subsequent_mask(c["max_tgt_len"])
        self.register_buffer("causal", mask)

    def _embed(self, emb, tokens, side):
        L = tokens.shape[1]
        x = emb(tokens)
        if self.c["scale_embeddings"]:
            x = x * self.scale
        kind = self.c["positional"]
        if kind == "learned":
            pos = (self.src_pos if side == "src" else self.tgt_pos).weight[:L]
            x = x + pos
        elif kind != "none":
            x = x + (self.src_pe if side == "src" else self.tgt_pe)[:L]
        return x

    def encode(self, src):
        return self.transformer.encoder(self._embed(self.src_embed, src, "src"))

    def decode_logits(self, tgt, memory):
        L = tgt.shape[1]
        y = self._embed(self.tgt_embed, tgt, "tgt")
        h = self.transformer.decoder(y, memory, tgt_mask=self.causal[:L, :L])
        return self.generator(h)


def reinit(model, case, gen):
    """Random values for every parameter, so no term is a no-op (zero bias, unit gamma)."""
    c = case["cfg"]
    D = c["d_model"]

    def normal(t, std, mean=0.0):
        with torch.no_grad():
            t.copy_(torch.randn(t.shape, generator=gen) * std + mean)

    named = dict(model.named_parameters())   # tied weight appears once (as tgt_embed)
    for name in sorted(named):
        p = named[name]
        leaf = name.split(".")[-1]
        if name.startswith(("src_embed", "tgt_embed", "src_pos", "tgt_pos")):
            std = 1.0
            if name.startswith(("src_embed", "tgt_embed")) and c["scale_embeddings"]:
                std = 1.0 / math.sqrt(D)
            normal(p, std)
        elif ".norm" in name or name.startswith(("encoder.norm", "decoder.norm")) \
                or name.split(".")[-2].startswith("norm"):
            if leaf == "weight":
                normal(p, 0.1, 1.0)
            else:
                normal(p, 0.1)
        elif name.startswith("generator"):
            if leaf == "weight":
                normal(p, case["gen_scale"] / math.sqrt(D))
            else:
                normal(p, 0.1)
        elif leaf.endswith("weight"):
            std = 1.0 / math.sqrt(p.shape[1])
            # Shrink the decoder's sub-layer outputs relative to the residual stream so
            # the next token depends on the current token and position, not only on the
            # memory (otherwise random post-norm models repeat one token forever).
            if name.startswith("transformer.decoder"):
                if "multihead_attn.out_proj" in name:
                    std *= case["xattn_scale"]
                elif "self_attn.out_proj" in name or "linear2" in name:
                    std *= case["dec_sub_scale"]
            normal(p, std)
        elif leaf.endswith("bias"):
            normal(p, 0.1)
        else:
            raise ValueError(name)
    # Push eos up so that some decodes stop early.
    with torch.no_grad():
        if model.generator.bias is not None:
            model.generator.bias[EOS] += case["eos_shift"]
        else:
            # logit_eos = w_eos . (gamma*z + beta): shifting w_eos along beta/|beta|^2 adds
            # about eos_shift to the eos logit.
            if c["final_norm"]:
                ln = model.transformer.decoder.norm
            else:
                ln = model.transformer.decoder.layers[-1].norm3
            beta = ln.bias.detach().clone()
            model.generator.weight[EOS] += case["eos_shift"] * beta / beta.dot(beta)


def export_weights(model):
    """Spec names: transformer.state_dict() names without prefix, plus extra modules."""
    out = {}
    for k, v in model.transformer.state_dict().items():
        out[k] = v.detach().numpy().astype(np.float32)
    out["src_embed.weight"] = model.src_embed.weight.detach().numpy()
    out["tgt_embed.weight"] = model.tgt_embed.weight.detach().numpy()
    if not model.c["tie_output"]:
        out["generator.weight"] = model.generator.weight.detach().numpy()
    if model.generator.bias is not None:
        out["generator.bias"] = model.generator.bias.detach().numpy()
    if model.c["positional"] == "learned":
        out["src_pos.weight"] = model.src_pos.weight.detach().numpy()
        out["tgt_pos.weight"] = model.tgt_pos.weight.detach().numpy()
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


# ----------------------------------------------------------------------------- numpy spec
def np_forward(w, c, src, tgt):
    """Independent float64 implementation of docs/spec.md; returns logits [len(tgt), V]."""
    D, H = c["d_model"], c["n_heads"]
    Dk = D // H
    eps = c["layer_norm_eps"]
    W = {k: v.astype(np.float64) for k, v in w.items()}

    def ln(x, p):
        m = x.mean(-1, keepdims=True)
        var = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(var + eps) * W[p + ".weight"] + W[p + ".bias"]

    def attn(x, y, p, causal):
        wi, bi = W[p + ".in_proj_weight"], W[p + ".in_proj_bias"]
        q = x @ wi[:D].T + bi[:D]
        k = y @ wi[D:2 * D].T + bi[D:2 * D]
        v = y @ wi[2 * D:].T + bi[2 * D:]
        z = np.zeros((x.shape[0], D))
        for h in range(H):
            sl = slice(h * Dk, (h + 1) * Dk)
            s = q[:, sl] @ k[:, sl].T / math.sqrt(Dk)
            if causal:
                s = s + np.triu(np.full(s.shape, -np.inf), 1)
            s = np.exp(s - s.max(-1, keepdims=True))
            s = s / s.sum(-1, keepdims=True)
            z[:, sl] = s @ v[:, sl]
        return z @ W[p + ".out_proj.weight"].T + W[p + ".out_proj.bias"]

    def ffn(x, p):
        a = x @ W[p + ".linear1.weight"].T + W[p + ".linear1.bias"]
        if c["activation"] == "relu":
            a = np.maximum(a, 0.0)
        else:
            from math import erf
            a = a * 0.5 * (1.0 + np.vectorize(erf)(a / math.sqrt(2.0)))
        return a @ W[p + ".linear2.weight"].T + W[p + ".linear2.bias"]

    def sub(x, p_norm, f):
        if c["norm"] == "post":
            return ln(x + f(x), p_norm)
        return x + f(ln(x, p_norm))

    def embed(E, toks, side):
        x = E[np.array(toks)] * (math.sqrt(D) if c["scale_embeddings"] else 1.0)
        L = len(toks)
        if c["positional"] == "learned":
            x = x + W[side + "_pos.weight"][:L]
        elif c["positional"] != "none":
            x = x + positional_table(c["positional"], L, D)
        return x

    x = embed(W["src_embed.weight"], src, "src")
    for i in range(c["n_encoder_layers"]):
        p = "encoder.layers.%d" % i
        x = sub(x, p + ".norm1", lambda t: attn(t, t, p + ".self_attn", False))
        x = sub(x, p + ".norm2", lambda t: ffn(t, p))
    if c["final_norm"]:
        x = ln(x, "encoder.norm")
    mem = x
    y = embed(W["tgt_embed.weight"], tgt, "tgt")
    for i in range(c["n_decoder_layers"]):
        p = "decoder.layers.%d" % i
        y = sub(y, p + ".norm1", lambda t: attn(t, t, p + ".self_attn", True))
        y = sub(y, p + ".norm2", lambda t: attn(t, mem, p + ".multihead_attn", False))
        y = sub(y, p + ".norm3", lambda t: ffn(t, p))
    if c["final_norm"]:
        y = ln(y, "decoder.norm")
    wout = W["tgt_embed.weight"] if c["tie_output"] else W["generator.weight"]
    logits = y @ wout.T
    if "generator.bias" in W:
        logits = logits + W["generator.bias"]
    return logits


# ----------------------------------------------------------------------------- decoding
class Decoder:
    def __init__(self, model, src):
        self.model = model
        self.memory = model.encode(torch.tensor([src]))

    def logprobs(self, prefix):
        """float32 log_softmax of the last position, full recomputation of the prefix."""
        logits = self.model.decode_logits(torch.tensor([prefix]), self.memory)[0, -1]
        return logits.detach(), torch.log_softmax(logits, -1).detach().numpy()


def greedy(dec, max_len):
    prefix = [BOS]
    score = np.float32(0.0)
    for _ in range(max_len):
        logits, lp = dec.logprobs(prefix)
        top2 = torch.topk(logits, 2)
        if float(top2.values[0] - top2.values[1]) < MARGIN:
            raise Rejected("greedy margin")
        tok = int(top2.indices[0])
        assert tok == int(np.argmax(lp))
        score = np.float32(score + lp[tok])
        prefix.append(tok)
        if tok == EOS:
            break
    return prefix[1:], score


def lp_norm(n, alpha):
    return np.float32(((5.0 + n) / 6.0) ** alpha)


def beam_search(dec, B, K, alpha, max_len):
    live = [([BOS], np.float32(0.0))]
    finished = []            # (tokens without bos, normalized score), in finishing order
    step = 0
    both = False
    while True:
        cands = []
        for i, (toks, s) in enumerate(live):
            _, lp = dec.logprobs(toks)
            sc = (s + lp).astype(np.float32)   # float32 h.score + log_softmax
            for v in range(len(sc)):
                cands.append((float(sc[v]), i, v))
        cands.sort(key=lambda t: (-t[0], t[1], t[2]))
        step += 1
        new_live = []
        walked = 0
        for rank, (s, i, v) in enumerate(cands):
            walked = rank + 1
            if v == EOS:
                if rank < B:
                    toks = live[i][0][1:] + [EOS]
                    finished.append((toks, np.float32(np.float32(s) / lp_norm(step, alpha))))
                continue
            new_live.append((live[i][0] + [v], np.float32(s)))
            if len(new_live) == B:
                break
        # Cut points of the walk: the rank-B boundary (eos eligibility) and the end.
        for cut in (B, walked):
            if cut < len(cands) and cands[cut - 1][0] - cands[cut][0] < MARGIN:
                raise Rejected("beam cut margin")
        live = new_live
        if len(finished) >= B:
            both = step == max_len and bool(live)
            break
        if step == max_len:
            for toks, s in live:
                finished.append((toks[1:], np.float32(s / lp_norm(step, alpha))))
            break
        if not live:
            break

    def top(fin):
        order = sorted(range(len(fin)), key=lambda j: (-float(fin[j][1]), j))
        return [fin[j] for j in order]

    ranked = top(finished)
    # The reported order and the K/K+1 boundary must be robust too.
    for j in range(min(K, len(ranked) - 1)):
        if float(ranked[j][1]) - float(ranked[j + 1][1]) < MARGIN:
            raise Rejected("final ranking margin")
    if both:
        # Other reading of step 4: live hypotheses also join at max_len. Reject if it
        # would change the answer.
        alt = top(finished + [(t[1:], np.float32(s / lp_norm(step, alpha))) for t, s in live])
        if [h[0] for h in alt[:K]] != [h[0] for h in ranked[:K]]:
            raise Rejected("finished>=B at max_len is ambiguous here")
    return ranked[:K]


# ----------------------------------------------------------------------------- driver
def f32list(a):
    return [float(x) for x in np.asarray(a, dtype=np.float32).ravel()]


def build_case(case, outdir):
    c = dict(case["cfg"])
    c.update(bos_id=BOS, eos_id=EOS, pad_id=PAD)
    assert list(c.keys()) == CONFIG_KEYS, list(c.keys())
    torch.manual_seed(case["seed"])
    gen = torch.Generator().manual_seed(case["seed"])
    rng = np.random.RandomState(case["seed"])
    model = Model(c, case["gen_bias"])
    reinit(model, case, gen)
    model.eval()
    weights = export_weights(model)

    S, T, SV, TV = c["max_src_len"], c["max_tgt_len"], c["src_vocab"], c["tgt_vocab"]
    rejected = 0
    worst = 0.0

    def draw_src(length):
        return [int(t) for t in rng.randint(3, SV, size=length)]

    # forward cases
    forward = []
    for src_len, tgt_len in [(1, T), (S, 1), (int(rng.randint(2, S)), int(rng.randint(2, T)))]:
        src = draw_src(src_len)
        tgt = [BOS] + [int(t) for t in rng.randint(3, TV, size=tgt_len - 1)]
        mem = model.encode(torch.tensor([src]))
        logits = model.decode_logits(torch.tensor([tgt]), mem)[0].detach().numpy()
        ref = np_forward(weights, c, src, tgt)
        err = float(np.abs(logits.astype(np.float64) - ref).max())
        worst = max(worst, err)
        if err > 1e-4:
            raise SystemExit("%s: torch vs numpy spec mismatch %.3g" % (case["name"], err))
        forward.append(dict(src=src, tgt=tgt, logits=[f32list(r) for r in logits]))

    def solve(src_len, fn):
        nonlocal rejected
        while True:
            src = draw_src(src_len)
            try:
                return src, fn(Decoder(model, src))
            except Rejected:
                rejected += 1

    greedy_out = []
    small = 3
    for src_len, max_len in [(S, T), (1, T), (int(rng.randint(2, S)), small),
                             (int(rng.randint(2, S)), int(rng.randint(small + 1, T)))]:
        src, (toks, score) = solve(src_len, lambda d: greedy(d, max_len))
        greedy_out.append(dict(src=src, max_len=max_len, tokens=toks, score=float(score)))

    beam_out = []
    beam_lens = [(int(rng.randint(2, S)), T), (S, T), (1, T), (int(rng.randint(2, S)), small)]
    for (B, K, alpha), (src_len, max_len) in zip(BEAM_SETTINGS, beam_lens):
        src, hyps = solve(src_len, lambda d: beam_search(d, B, K, alpha, max_len))
        beam_out.append(dict(src=src, beam=B, top=K, alpha=alpha, max_len=max_len,
                             hypotheses=[dict(tokens=t, score=float(s)) for t, s in hyps]))

    expected = dict(forward=forward, greedy=greedy_out, beam=beam_out,
                    rejected_sources=rejected, torch_version=torch.__version__)

    d = os.path.join(outdir, case["name"])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
        f.write("\n")
    save_file(weights, os.path.join(d, "weights.safetensors"))
    os.chmod(os.path.join(d, "weights.safetensors"), 0o644)   # save_file creates it 0600
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")

    g_eos = sum(1 for g in greedy_out if g["tokens"][-1:] == [EOS])
    b_hyps = [h for b in beam_out for h in b["hypotheses"]]
    b_eos = sum(1 for h in b_hyps if h["tokens"][-1:] == [EOS])
    early = sum(1 for b in beam_out for h in b["hypotheses"]
                if h["tokens"][-1:] == [EOS] and len(h["tokens"]) < b["max_len"])
    full = sum(1 for b in beam_out for h in b["hypotheses"] if len(h["tokens"]) == b["max_len"]
               and h["tokens"][-1] != EOS)
    print("%-24s greedy eos %d/%d  beam hyps eos %d/%d (early eos %d, ran to max_len %d)  "
          "rejected %d  torch-vs-numpy max|d| %.2e" % (
              case["name"], g_eos, len(greedy_out), b_eos, len(b_hyps), early, full,
              rejected, worst))
    print("%-24s greedy lens %s  beam lens %s" % (
        "", [len(g["tokens"]) for g in greedy_out],
        [[len(h["tokens"]) for h in b["hypotheses"]] for b in beam_out]))
    ok = 0 < g_eos < len(greedy_out) and early > 0 and full > 0
    if not ok:
        print("  WARNING: eos coverage incomplete for %s" % case["name"])
    return ok


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "tests", "golden"))
    ap.add_argument("--only", action="append", metavar="NAME",
                    help="write only this case (repeatable); default: every case")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    ok = True
    unknown = set(args.only or []) - {c["name"] for c in CASES}
    if unknown:
        raise SystemExit("unknown case(s): %s" % ", ".join(sorted(unknown)))
    for case in CASES:
        if args.only and case["name"] not in args.only:
            continue
        ok &= build_case(case, os.path.normpath(args.out))
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
