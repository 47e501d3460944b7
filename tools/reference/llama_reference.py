#!/usr/bin/env python3
"""Reference / golden-vector generator for picoformer's llama-family models (issue 16).

Builds random small llama models (odd sizes; multi-head, grouped-query and multi-query
attention; shared and separate classifier; two rope_theta values) and writes each case to
tests/golden/llama_<case>/:

  model.bin      the model in llama2.c's legacy checkpoint format (see write_llama2c_bin)
  hf/            the same model as Hugging Face writes a LlamaForCausalLM: model.safetensors
                 (float32, HF's names, q/k rows permuted for rotate-half, no lm_head when
                 the classifier is shared) and config.json (see write_hf)
  hf_<dtype>/    (some cases) the model stored as bfloat16 or float16 safetensors, with its
                 own expected.json: logits and greedy tokens of the weights rounded to that
                 type (computed in float32 as above), since rounding changes them
  expected.json  config, prompt, the prompt's logits [len(prompt), vocab] (row i: the
                 distribution after prompt[..=i]), and the greedy continuation

CI does NOT run this script (no torch there); its outputs are committed.

Setup and regeneration (from the repo root; torch 1.13 from Debian, see setup.sh):
    target/refenv/bin/python tools/reference/llama_reference.py            # tests/golden/
    target/refenv/bin/python tools/reference/llama_reference.py --out DIR
    target/refenv/bin/python tools/reference/llama_reference.py --case stories260k

The forward pass is written here in PyTorch from the definition in llama2.c's model.py
(Meta's llama: RMSNorm, rotary embedding applied as complex multiplication of adjacent
pairs (2i, 2i+1) of each head, SwiGLU, grouped key/value heads repeated over query heads,
no biases), since `transformers` is not installed with torch 1.13 here. It recomputes the
whole prefix at every step (no KV cache), so it is independent of the engine's cached
decoder. As a cross-check every case is evaluated a second time in float64 the way
Hugging Face's LlamaForCausalLM does it: q/k weight rows permuted as HF's
convert_llama_weights_to_hf.py permutes them, then "rotate-half" rotary embedding on
pairs (i, i + dk/2); both must agree within 1e-4 before anything is written.

Conventions (the engine implements the same):
  bos = 1, eos = 2 (llama's sentencepiece ids); the prompt starts with bos.
  Greedy: append argmax (ties: lowest id) of the last position's logits until eos is
  emitted (it is included) or `steps` tokens were generated. Any step whose top-2 margin
  is below 1e-3 makes the case redraw its prompt; so does eos in the continuation of a
  case with `no_eos` (stories260k: the firmware suite generates all its 256 tokens).
  norm eps = 1e-5 (llama2.c's, which its checkpoint does not store).
  Sampling: llama2.c's `sample` (run.c), emulated here in float32 with numpy: logits
  divided by the temperature, softmax, one xorshift64* draw per token, then the first
  token whose running sum of probabilities exceeds it, or, with 0 < top_p < 1, the
  nucleus (tokens of probability >= (1 - top_p) / (V - 1), by probability descending,
  equal ones by id, cut after the running sum first exceeds top_p, the draw scaled by
  that sum). A seed whose draws come within 1e-4 of a decision boundary (a probability
  within 1% of the nucleus cutoff) is replaced by the next one, so float rounding cannot
  change the golden tokens.
"""

import argparse
import json
import math
import os
import struct

import numpy as np
import torch

BOS, EOS = 1, 2
MARGIN = 1e-3
SAMPLE_MARGIN = 1e-4
NORM_EPS = 1e-5

# embed_std: the token embedding's std; sub_scale: multiplies the sub-layers' output
# projections (wo, w2), so that with a shared classifier the residual stream is not just
# the input token's own embedding (which makes greedy repeat its input).
CASES = [
    # grouped-query attention (6 query heads over 2 key/value heads), shared classifier
    dict(name="gqa_tied", seed=1601, dim=48, hidden_dim=88, n_layers=2, n_heads=6,
         n_kv_heads=2, vocab_size=67, seq_len=32, shared_classifier=True,
         rope_theta=10000.0, prompt_len=5, steps=20, embed_std=0.3, sub_scale=3.0,
         samples=[dict(temperature=0.8, top_p=0.9, seed=42), dict(temperature=1.0, top_p=1.0, seed=7)],
         hf_dtypes=["bfloat16"]),
    # multi-query attention (one key/value head), separate classifier, llama 3's theta
    dict(name="mqa_untied", seed=1602, dim=40, hidden_dim=76, n_layers=3, n_heads=5,
         n_kv_heads=1, vocab_size=53, seq_len=24, shared_classifier=False,
         rope_theta=500000.0, prompt_len=4, steps=16, embed_std=1.0, sub_scale=1.0,
         samples=[dict(temperature=1.2, top_p=0.8, seed=1234)], hf_dtypes=["float16"]),
    # multi-head attention (as many key/value heads as query heads), separate classifier
    dict(name="mha_untied", seed=1603, dim=36, hidden_dim=97, n_layers=2, n_heads=3,
         n_kv_heads=3, vocab_size=61, seq_len=20, shared_classifier=False,
         rope_theta=10000.0, prompt_len=6, steps=12, embed_std=1.0, sub_scale=1.0,
         samples=[dict(temperature=0.5, top_p=0.95, seed=99)]),
    # stories260K's shape (Karpathy's tinyllamas) with random weights, for the firmware
    # suite (tools/firmware-llama.sh): 256 greedy tokens, none of them eos (a prompt whose
    # continuation emits eos is redrawn), so every board generates the whole 256.
    dict(name="stories260k", seed=2601, dim=64, hidden_dim=172, n_layers=5, n_heads=8,
         n_kv_heads=4, vocab_size=512, seq_len=512, shared_classifier=True,
         rope_theta=10000.0, prompt_len=4, steps=256, embed_std=0.3, sub_scale=3.0,
         no_eos=True, samples=[]),
]


def random_weights(case, gen):
    """The model's parameters in llama2.c's names and [out, in] layouts, float32."""
    dim, hidden, layers = case["dim"], case["hidden_dim"], case["n_layers"]
    heads, kv_heads, vocab = case["n_heads"], case["n_kv_heads"], case["vocab_size"]
    dk = dim // heads
    sub = 0.5 * case["sub_scale"]

    def normal(*shape, std):
        return torch.randn(*shape, generator=gen, dtype=torch.float32) * std

    def norm_weight(n):
        return 1.0 + normal(n, std=0.2)

    w = dict(
        tok_embeddings=normal(vocab, dim, std=case["embed_std"]),
        attention_norm=[norm_weight(dim) for _ in range(layers)],
        wq=[normal(dim, dim, std=1.0 / math.sqrt(dim)) for _ in range(layers)],
        wk=[normal(kv_heads * dk, dim, std=1.0 / math.sqrt(dim)) for _ in range(layers)],
        wv=[normal(kv_heads * dk, dim, std=1.0 / math.sqrt(dim)) for _ in range(layers)],
        wo=[normal(dim, dim, std=sub / math.sqrt(dim)) for _ in range(layers)],
        ffn_norm=[norm_weight(dim) for _ in range(layers)],
        w1=[normal(hidden, dim, std=1.0 / math.sqrt(dim)) for _ in range(layers)],
        w2=[normal(dim, hidden, std=sub / math.sqrt(hidden)) for _ in range(layers)],
        w3=[normal(hidden, dim, std=1.0 / math.sqrt(dim)) for _ in range(layers)],
        norm=norm_weight(dim),
    )
    if case["shared_classifier"]:
        w["output"] = w["tok_embeddings"]
    else:
        w["output"] = normal(vocab, dim, std=2.0 / math.sqrt(dim))
    return w


def rms_norm(x, weight):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + NORM_EPS))


def rope_freqs(dk, length, theta, dtype):
    """Meta's precompute_freqs_cis: cos and sin [length, dk/2] of position * theta_i."""
    freqs = 1.0 / (theta ** (torch.arange(0, dk, 2)[: dk // 2].to(dtype) / dk))
    angles = torch.outer(torch.arange(length, dtype=dtype), freqs)
    return torch.cos(angles), torch.sin(angles)


def rope_adjacent(x, cos, sin):
    """x [T, heads, dk]: pairs (2i, 2i+1) turned by the angle of their position (Meta)."""
    a, b = x[..., 0::2], x[..., 1::2]
    cos, sin = cos[:, None, :], sin[:, None, :]
    out = torch.empty_like(x)
    out[..., 0::2] = a * cos - b * sin
    out[..., 1::2] = a * sin + b * cos
    return out


def rope_half(x, cos, sin):
    """x [T, heads, dk]: pairs (i, i + dk/2) turned (Hugging Face's rotate_half)."""
    cos = torch.cat([cos, cos], dim=-1)[:, None, :]
    sin = torch.cat([sin, sin], dim=-1)[:, None, :]
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


def hf_permute(w, heads):
    """convert_llama_weights_to_hf.py's permute: adjacent-pair rows to rotate-half rows."""
    rows, cols = w.shape
    return w.view(heads, rows // heads // 2, 2, cols).transpose(1, 2).reshape(rows, cols)


def forward(case, w, tokens, pairing="adjacent", dtype=torch.float32):
    """Logits [len(tokens), vocab] of the whole sequence, causal, no cache."""
    dim, heads, kv_heads = case["dim"], case["n_heads"], case["n_kv_heads"]
    dk = dim // heads
    t = len(tokens)
    cast = lambda v: v.to(dtype)  # noqa: E731
    cos, sin = rope_freqs(dk, t, case["rope_theta"], dtype)
    rope = rope_adjacent if pairing == "adjacent" else rope_half
    x = cast(w["tok_embeddings"])[torch.tensor(tokens)]
    mask = torch.full((t, t), float("-inf"), dtype=dtype).triu(1)
    for layer in range(case["n_layers"]):
        wq, wk = cast(w["wq"][layer]), cast(w["wk"][layer])
        if pairing == "half":
            wq, wk = hf_permute(wq, heads), hf_permute(wk, kv_heads)
        h = rms_norm(x, cast(w["attention_norm"][layer]))
        q = rope((h @ wq.T).view(t, heads, dk), cos, sin)
        k = rope((h @ wk.T).view(t, kv_heads, dk), cos, sin)
        v = (h @ cast(w["wv"][layer]).T).view(t, kv_heads, dk)
        # repeat_kv: query head j reads key/value head j // (heads / kv_heads)
        k = k.repeat_interleave(heads // kv_heads, dim=1)
        v = v.repeat_interleave(heads // kv_heads, dim=1)
        scores = torch.einsum("thd,shd->hts", q, k) / math.sqrt(dk) + mask
        z = torch.einsum("hts,shd->thd", torch.softmax(scores, dim=-1), v).reshape(t, dim)
        x = x + z @ cast(w["wo"][layer]).T
        h = rms_norm(x, cast(w["ffn_norm"][layer]))
        gate = torch.nn.functional.silu(h @ cast(w["w1"][layer]).T)
        x = x + (gate * (h @ cast(w["w3"][layer]).T)) @ cast(w["w2"][layer]).T
    x = rms_norm(x, cast(w["norm"]))
    return x @ cast(w["output"]).T


def greedy(case, w, prompt):
    """Greedy continuation and the smallest top-2 margin of its decisions."""
    tokens, out, margin = list(prompt), [], float("inf")
    while len(out) < case["steps"]:
        logits = forward(case, w, tokens)[-1]
        top = torch.topk(logits, 2).values
        margin = min(margin, float(top[0] - top[1]))
        nxt = int(torch.argmax(logits))
        out.append(nxt)
        if nxt == EOS:
            break
        tokens.append(nxt)
    return out, margin


class Rng:
    """llama2.c's xorshift64* (random_u32, random_f32)."""

    def __init__(self, seed):
        self.state = seed

    def u32(self):
        mask = (1 << 64) - 1
        self.state ^= self.state >> 12
        self.state ^= (self.state << 25) & mask
        self.state ^= self.state >> 27
        return ((self.state * 0x2545F4914F6CDD1D) & mask) >> 32

    def f32(self):
        return np.float32(self.u32() >> 8) / np.float32(16777216.0)


def sample_token(logits, temperature, top_p, rng):
    """One draw of llama2.c's sampler in float32; returns (token, distance of the draw
    and of the probabilities to the nearest decision boundary)."""
    f32 = np.float32
    l = logits.numpy().astype(np.float32) / f32(temperature)
    e = np.exp(l - l.max()).astype(np.float32)
    probs = (e / e.sum(dtype=np.float32)).astype(np.float32)
    coin = rng.f32()
    n = len(probs)
    margin = float("inf")
    if top_p <= 0 or top_p >= 1:
        cdf = f32(0)
        for i, p in enumerate(probs):
            cdf = f32(cdf + p)
            margin = min(margin, abs(float(coin) - float(cdf)))
            if coin < cdf:
                return i, margin
        return n - 1, margin
    cutoff = f32((f32(1) - f32(top_p)) / f32(n - 1))
    # (relative to the cutoff: the probabilities near it are small)
    margin = min(margin, float(np.min(np.abs(probs - cutoff))) / float(cutoff) * 1e-2)
    kept = sorted((i for i in range(n) if probs[i] >= cutoff), key=lambda i: (-probs[i], i))
    cumulative, last = f32(0), len(kept) - 1
    for j, i in enumerate(kept):
        cumulative = f32(cumulative + probs[i])
        margin = min(margin, abs(float(cumulative) - top_p))
        if cumulative > f32(top_p):
            last = j
            break
    r = f32(coin * cumulative)
    cdf = f32(0)
    for i in kept[: last + 1]:
        cdf = f32(cdf + probs[i])
        margin = min(margin, abs(float(r) - float(cdf)))
        if r < cdf:
            return i, margin
    return kept[last], margin


def sample(case, w, prompt, temperature, top_p, seed):
    """Sampled continuation (stops after eos) and its smallest decision margin."""
    rng, tokens, out, margin = Rng(seed), list(prompt), [], float("inf")
    while len(out) < case["steps"]:
        nxt, m = sample_token(forward(case, w, tokens)[-1], temperature, top_p, rng)
        margin = min(margin, m)
        out.append(nxt)
        if nxt == EOS:
            break
        tokens.append(nxt)
    return out, margin


TOKENIZER_TEXT = "the cat sat on the mat"


def make_tokenizer(vocab_size, gen):
    """A small llama2.c tokenizer of `vocab_size` pieces: llama's three specials, a byte
    piece, single characters, then merged pieces (scores rise with the merge's rank, as
    sentencepiece's do not matter here: only their order does)."""
    pieces = ["<unk>", "\n<s>\n", "\n</s>\n", "<0x0A>"]
    pieces += list(" abcdefghijklmnopqrstuvwxyz.,")
    merges = [" t", "th", "he", " th", " the", "at", " c", " cat", " s", " sat", " o", "on",
              " on", " m", " mat", "an", "in", "er", " a", "re", "ou", "it", "is", "ed", "nd",
              "ing", " w", "ar", "en", "es", "or", "ll", "st", "le", "al"]
    pieces += [m for m in merges if m not in pieces]
    # larger vocabularies (stories260k's 512): letter pairs, then triples, as more merges
    letters = "abcdefghijklmnopqrstuvwxyz"
    extra = (a + b for a in letters for b in letters)
    extra2 = (a + b + c for a in letters for b in letters for c in letters)
    for piece in (p for source in (extra, extra2) for p in source):
        if len(pieces) >= vocab_size:
            break
        if piece not in pieces:
            pieces.append(piece)
    pieces = pieces[:vocab_size]
    assert len(pieces) == vocab_size, (len(pieces), vocab_size)
    scores = [0.0] * 4 + [-1000.0 - i for i in range(vocab_size - 4)]
    # merged pieces score higher the earlier they are listed, plus a little noise
    for i, p in enumerate(pieces):
        if len(p) > 1 and i >= 4:
            scores[i] = -float(i) + float(torch.rand(1, generator=gen)) * 0.5
    return pieces, scores


def write_tokenizer_bin(path, pieces, scores):
    """llama2.c's tokenizer.bin: int32 max_token_length, then per piece float32 score,
    int32 byte length, the UTF-8 bytes."""
    data = [p.encode("utf-8") for p in pieces]
    with open(path, "wb") as f:
        f.write(struct.pack("<i", max(len(d) for d in data)))
        for d, sc in zip(data, scores):
            f.write(struct.pack("<fi", sc, len(d)))
            f.write(d)


def bpe_encode(pieces, scores, text):
    """llama2.c's encode (bos, no eos): the dummy-prefix space, one piece per UTF-8
    character (byte fallback: byte + 3), then merge the adjacent pair whose concatenation
    is a piece with the highest score (first such pair on ties) until none is."""
    lookup = {p: i for i, p in enumerate(pieces)}
    tokens = [BOS]
    if text:
        tokens.append(lookup[" "])
    for ch in text:
        if ch in lookup:
            tokens.append(lookup[ch])
        else:
            tokens.extend(b + 3 for b in ch.encode("utf-8"))
    body = tokens[1:]
    while True:
        best = None
        for i in range(len(body) - 1):
            merged = pieces[body[i]] + pieces[body[i + 1]]
            j = lookup.get(merged)
            if j is not None and (best is None or scores[j] > best[0]):
                best = (scores[j], j, i)
        if best is None:
            break
        _, j, i = best
        body[i:i + 2] = [j]
    return [BOS] + body


def bpe_decode(pieces, prev, token):
    """llama2.c's decode: a piece after bos loses its leading space; <0xXX> is that byte."""
    piece = pieces[token]
    if prev == BOS and piece.startswith(" "):
        piece = piece[1:]
    if len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
        return bytes([int(piece[3:5], 16)])
    return piece.encode("utf-8")


def write_llama2c_bin(path, case, w):
    """llama2.c's legacy checkpoint (export.py's legacy_export, "version 0"): seven int32
    dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size (negative: separate
    classifier), seq_len; then float32 tensors: token embedding, every layer's
    attention_norm, wq, wk, wv, wo, ffn_norm, w1, w2, w3 (each kind for all layers before
    the next kind), the final norm, freq_cis_real and freq_cis_imag [seq_len, dk/2], and
    the classifier when it is not shared."""
    vocab = case["vocab_size"] if case["shared_classifier"] else -case["vocab_size"]
    header = struct.pack(
        "7i", case["dim"], case["hidden_dim"], case["n_layers"], case["n_heads"],
        case["n_kv_heads"], vocab, case["seq_len"])
    parts = [w["tok_embeddings"]]
    for kind in ["attention_norm", "wq", "wk", "wv", "wo", "ffn_norm", "w1", "w2", "w3"]:
        parts.extend(w[kind])
    parts.append(w["norm"])
    cos, sin = rope_freqs(case["dim"] // case["n_heads"], case["seq_len"], case["rope_theta"],
                          torch.float32)
    parts += [cos, sin]
    if not case["shared_classifier"]:
        parts.append(w["output"])
    with open(path, "wb") as f:
        f.write(header)
        for p in parts:
            f.write(p.contiguous().numpy().astype("<f4").tobytes())


HF_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def hf_tensors(case, w, dtype):
    """LlamaForCausalLM's state_dict names and layouts (convert_llama_weights_to_hf.py):
    q/k rows permuted for rotate-half, w1/w3/w2 as gate/up/down, no lm_head.weight when the
    classifier is shared (tie_word_embeddings)."""
    t = {"model.embed_tokens.weight": w["tok_embeddings"], "model.norm.weight": w["norm"]}
    for i in range(case["n_layers"]):
        at = f"model.layers.{i}."
        t[at + "self_attn.q_proj.weight"] = hf_permute(w["wq"][i], case["n_heads"])
        t[at + "self_attn.k_proj.weight"] = hf_permute(w["wk"][i], case["n_kv_heads"])
        t[at + "self_attn.v_proj.weight"] = w["wv"][i]
        t[at + "self_attn.o_proj.weight"] = w["wo"][i]
        t[at + "mlp.gate_proj.weight"] = w["w1"][i]
        t[at + "mlp.up_proj.weight"] = w["w3"][i]
        t[at + "mlp.down_proj.weight"] = w["w2"][i]
        t[at + "input_layernorm.weight"] = w["attention_norm"][i]
        t[at + "post_attention_layernorm.weight"] = w["ffn_norm"][i]
    if not case["shared_classifier"]:
        t["lm_head.weight"] = w["output"]
    return {k: v.to(HF_DTYPES[dtype]).contiguous() for k, v in t.items()}


def hf_config(case, dtype):
    """The config.json transformers writes for LlamaConfig (the fields a reader needs)."""
    return dict(
        architectures=["LlamaForCausalLM"], model_type="llama", hidden_act="silu",
        hidden_size=case["dim"], intermediate_size=case["hidden_dim"],
        num_hidden_layers=case["n_layers"], num_attention_heads=case["n_heads"],
        num_key_value_heads=case["n_kv_heads"], vocab_size=case["vocab_size"],
        max_position_embeddings=case["seq_len"], rms_norm_eps=NORM_EPS,
        rope_theta=case["rope_theta"], rope_scaling=None, attention_bias=False,
        mlp_bias=False, tie_word_embeddings=case["shared_classifier"], bos_token_id=BOS,
        eos_token_id=EOS, torch_dtype=dtype, initializer_range=0.02, use_cache=True)


def write_hf(directory, case, w, dtype):
    """model.safetensors + config.json of a LlamaForCausalLM in `directory`."""
    from safetensors.torch import save_file
    os.makedirs(directory, exist_ok=True)
    save_file(hf_tensors(case, w, dtype), os.path.join(directory, "model.safetensors"),
              metadata={"format": "pt"})
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(hf_config(case, dtype), f, indent=1)
        f.write("\n")


def rounded_weights(w, dtype):
    """The weights as a `dtype` checkpoint holds them, back in float32."""
    round_trip = lambda v: v.to(HF_DTYPES[dtype]).to(torch.float32)  # noqa: E731
    return {k: [round_trip(x) for x in v] if isinstance(v, list) else round_trip(v)
            for k, v in w.items()}


def make_hf_dtype_case(case, w, prompt, directory, dtype):
    """hf_<dtype>/: the checkpoint rounded to `dtype` and the logits and greedy tokens of
    those rounded weights (the prompt of the float32 case)."""
    rounded = rounded_weights(w, dtype)
    if case["shared_classifier"]:
        rounded["output"] = rounded["tok_embeddings"]
    logits = forward(case, rounded, prompt)
    tokens, margin = greedy(case, rounded, prompt)
    assert margin >= MARGIN, f"{case['name']} {dtype}: greedy margin {margin}"
    out = os.path.join(directory, "hf_" + dtype)
    write_hf(out, case, w, dtype)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(dict(dtype=dtype, prompt=prompt,
                       prompt_logits=[[float(v) for v in row] for row in logits],
                       steps=case["steps"], greedy_tokens=tokens, greedy_min_margin=margin),
                  f, indent=1)
        f.write("\n")
    print(f"  {dtype}: prompt {prompt} -> {tokens} (margin {margin:.4f})")


def make_case(case, out_dir):
    gen = torch.Generator().manual_seed(case["seed"])
    w = random_weights(case, gen)
    for attempt in range(100):
        body = torch.randint(3, case["vocab_size"], (case["prompt_len"] - 1,), generator=gen)
        prompt = [BOS] + body.tolist()
        tokens, margin = greedy(case, w, prompt)
        if margin >= MARGIN and not (case.get("no_eos") and EOS in tokens):
            break
    else:
        raise SystemExit(f"{case['name']}: no prompt with a greedy margin >= {MARGIN}")
    logits = forward(case, w, prompt)
    # Cross-check: Hugging Face's formulation (permuted q/k rows, rotate-half), float64.
    hf = forward(case, w, prompt, pairing="half", dtype=torch.float64)
    diff = float((logits.double() - hf).abs().max())
    assert diff < 1e-4, f"{case['name']}: Meta and HF formulations differ by {diff}"
    whole = prompt + tokens[:-1] if tokens else prompt
    diff_all = float((forward(case, w, whole).double()
                      - forward(case, w, whole, "half", torch.float64)).abs().max())
    assert diff_all < 1e-4, f"{case['name']}: formulations differ by {diff_all} on the continuation"

    samples = []
    for spec in case["samples"]:
        for seed in range(spec["seed"], spec["seed"] + 100):
            tokens_s, margin_s = sample(case, w, prompt, spec["temperature"], spec["top_p"], seed)
            if margin_s >= SAMPLE_MARGIN:
                break
        else:
            raise SystemExit(f"{case['name']}: no seed with a sampling margin >= {SAMPLE_MARGIN}")
        samples.append(dict(temperature=spec["temperature"], top_p=spec["top_p"], seed=seed,
                            tokens=tokens_s, min_margin=margin_s))
        print(f"  sampled T={spec['temperature']} top_p={spec['top_p']} seed={seed}: {tokens_s}")

    directory = os.path.join(out_dir, "llama_" + case["name"])
    os.makedirs(directory, exist_ok=True)
    write_llama2c_bin(os.path.join(directory, "model.bin"), case, w)
    write_hf(os.path.join(directory, "hf"), case, w, "float32")
    for dtype in case.get("hf_dtypes", []):
        make_hf_dtype_case(case, w, prompt, directory, dtype)
    # The tokenizer: the text's tokens, their greedy continuation, and its text.
    pieces, scores = make_tokenizer(case["vocab_size"], gen)
    write_tokenizer_bin(os.path.join(directory, "tokenizer.bin"), pieces, scores)
    text_prompt = bpe_encode(pieces, scores, TOKENIZER_TEXT)
    text_tokens, text_margin = greedy(case, w, text_prompt)
    assert text_margin >= MARGIN, f"{case['name']}: tokenizer prompt margin {text_margin}"
    assert not (case.get("no_eos") and EOS in text_tokens), f"{case['name']}: text emits eos"
    decoded, prev = b"", text_prompt[-1]
    for t in text_tokens:
        decoded += bpe_decode(pieces, prev, t)
        prev = t
    text = dict(text=TOKENIZER_TEXT, prompt=text_prompt, greedy_tokens=text_tokens,
                greedy_text=decoded.decode("utf-8", errors="replace"))
    print(f"  text {TOKENIZER_TEXT!r} -> {text_prompt} -> {text_tokens} = {text['greedy_text']!r}")
    expected = dict(
        config={k: case[k] for k in ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads",
                                      "vocab_size", "seq_len", "shared_classifier",
                                      "rope_theta"]},
        norm_eps=NORM_EPS, bos_id=BOS, eos_id=EOS,
        prompt=prompt,
        prompt_logits=[[float(v) for v in row] for row in logits],
        steps=case["steps"],
        greedy_tokens=tokens,
        greedy_min_margin=margin,
        samples=samples,
        tokenizer=text,
        meta_vs_hf_max_abs_diff=max(diff, diff_all),
    )
    with open(os.path.join(directory, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print(f"max |logit| {float(logits.abs().max()):.2f}")
    print(f"{case['name']}: prompt {prompt} -> {tokens} (margin {margin:.4f}, "
          f"meta/hf diff {max(diff, diff_all):.2e})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="tests/golden")
    parser.add_argument("--case", action="append",
                        help="only this case (repeatable; default: all)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for case in CASES:
        if args.case is None or case["name"] in args.case:
            make_case(case, args.out)


if __name__ == "__main__":
    main()
