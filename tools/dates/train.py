#!/usr/bin/env python3
"""Trains picoformer's date normaliser: human-written dates -> ISO 8601 (YYYY-MM-DD).

    "sat 28th of november, 2026" | "11/28/26" | "twenty-eighth nov 2026" -> "2026-11-28"

A character-level encoder-decoder `torch.nn.Transformer` (the paper's architecture:
post-norm, ReLU, interleaved sinusoids, scaled embeddings), small enough for a
Cortex-M4's flash. Everything is generated here from fixed seeds; CPU only, one thread
(Debian's torch is built with a generic BLAS, and two OpenMP threads on a busy 2-core
machine are many times slower than one), deterministic: the same torch build gives the
same weights, byte for byte.

Writes into --out (default target/dates/):
    weights.safetensors, config.json   what `picoformer convert --from torch` reads
    tokenizer.json                     the character tables (src/dates.rs must match it)
    heldout.tsv                        2,000 phrases never seen in training, with the
                                       true ISO date from the calendar (not from a model)
    train_log.txt                      loss and held-out accuracy as training went

tools/dates/train.sh runs this, converts to models/dates/dates.pfm and copies the
committed files into models/dates/. Setup: tools/reference/setup.sh (torch 1.13 from
Debian, safetensors in target/refenv).

Conventions the data follows (so every phrase has exactly one reading):
  * numbers with slashes or dashes and the year last are US order: M/D/Y, M-D-YYYY;
  * numbers with dots are European order: D.M.Y;
  * a four-digit year first is ISO order: YYYY-MM-DD, YYYY/MM/DD;
  * a two-digit year yy means 20yy when yy < 50, else 19yy (dates are 1950..2049);
  * letter case does not matter (the tokenizer folds A-Z to a-z).
"""

import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from safetensors.numpy import save_file

# The tokenizer tables and the data generator (tools/dates/phrases.py).
from phrases import (BOS, EOS, MAX_SRC, MAX_TGT, PAD, SPECIALS, SRC_CHARS, SRC_VOCAB,
                     TGT_CHARS, TGT_LEN, TGT_VOCAB, UNK, decode_tgt, encode_src,
                     encode_tgt, make_sets)


# ----------------------------------------------------------------------------- the model
def sinusoids(length, d):
    """The paper's interleaved table (docs/spec.md "Positional signal", `sinusoidal`;
    float64, cast by the caller)."""
    p = np.arange(length, dtype=np.float64)[:, None]
    t = np.zeros((length, d), dtype=np.float64)
    ang = p / np.power(10000.0, np.arange(0, d, 2, dtype=np.float64) / d)
    t[:, 0::2] = np.sin(ang)
    t[:, 1::2] = np.cos(ang)[:, : d // 2]
    return t


class DateModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        D = c["d_model"]
        self.c = c
        self.transformer = nn.Transformer(
            d_model=D, nhead=c["n_heads"], num_encoder_layers=c["n_encoder_layers"],
            num_decoder_layers=c["n_decoder_layers"], dim_feedforward=c["d_ff"],
            dropout=c["dropout"], activation="relu", layer_norm_eps=c["layer_norm_eps"],
            batch_first=True, norm_first=False)
        self.src_embed = nn.Embedding(c["src_vocab"], D)
        self.tgt_embed = nn.Embedding(c["tgt_vocab"], D)
        self.generator = nn.Linear(D, c["tgt_vocab"])
        nn.init.normal_(self.src_embed.weight, std=D ** -0.5)
        nn.init.normal_(self.tgt_embed.weight, std=D ** -0.5)
        self.scale = math.sqrt(D)
        self.register_buffer("src_pe", torch.from_numpy(
            sinusoids(c["max_src_len"], D).astype(np.float32)))
        self.register_buffer("tgt_pe", torch.from_numpy(
            sinusoids(c["max_tgt_len"], D).astype(np.float32)))
        self.register_buffer("causal", nn.Transformer.generate_square_subsequent_mask(
            c["max_tgt_len"]))

    def forward(self, src, tgt_in):
        src_pad, tgt_pad = src == PAD, tgt_in == PAD
        x = self.src_embed(src) * self.scale + self.src_pe[: src.shape[1]]
        y = self.tgt_embed(tgt_in) * self.scale + self.tgt_pe[: tgt_in.shape[1]]
        L = tgt_in.shape[1]
        memory = self.transformer.encoder(x, src_key_padding_mask=src_pad)
        h = self.transformer.decoder(y, memory, tgt_mask=self.causal[:L, :L],
                                     tgt_key_padding_mask=tgt_pad,
                                     memory_key_padding_mask=src_pad)
        return self.generator(h)

    @torch.no_grad()
    def greedy(self, src):
        src_pad = src == PAD
        x = self.src_embed(src) * self.scale + self.src_pe[: src.shape[1]]
        memory = self.transformer.encoder(x, src_key_padding_mask=src_pad)
        out = torch.full((src.shape[0], 1), BOS, dtype=torch.long)
        for _ in range(TGT_LEN + 1):
            L = out.shape[1]
            y = self.tgt_embed(out) * self.scale + self.tgt_pe[:L]
            h = self.transformer.decoder(y, memory, tgt_mask=self.causal[:L, :L],
                                         memory_key_padding_mask=src_pad)
            out = torch.cat([out, self.generator(h[:, -1]).argmax(-1, keepdim=True)], 1)
        return out[:, 1:]


def export_weights(model):
    """`convert --from torch` names: nn.Transformer's state_dict plus the extra modules."""
    out = {k: v for k, v in model.transformer.state_dict().items()}
    out["src_embed.weight"] = model.src_embed.weight
    out["tgt_embed.weight"] = model.tgt_embed.weight
    out["generator.weight"] = model.generator.weight
    out["generator.bias"] = model.generator.bias
    return {k: np.ascontiguousarray(v.detach().numpy(), dtype=np.float32)
            for k, v in out.items()}


def batch_tensors(pairs):
    src = [encode_src(s) for s, _ in pairs]
    tgt = [encode_tgt(t) for _, t in pairs]
    S = max(len(s) for s in src)
    src_t = torch.tensor([s + [PAD] * (S - len(s)) for s in src], dtype=torch.long)
    tgt_t = torch.tensor([[BOS] + t + [EOS] for t in tgt], dtype=torch.long)
    return src_t, tgt_t[:, :-1], tgt_t[:, 1:]


def length_bucketed_batches(pairs, batch, rng):
    """Endless batches of phrases of similar length (less padding: about half the work).

    Each pass shuffles the phrases, sorts them by length within windows of 64 batches,
    cuts the windows into batches and shuffles the batches' order."""
    index = list(range(len(pairs)))
    window = 64 * batch
    while True:
        rng.shuffle(index)
        cut = []
        for w in range(0, len(index) - batch + 1, window):
            chunk = sorted(index[w:w + window], key=lambda i: len(pairs[i][0]))
            cut += [chunk[b:b + batch] for b in range(0, len(chunk) - batch + 1, batch)]
        rng.shuffle(cut)
        for b in cut:
            yield [pairs[i] for i in b]


def accuracy(model, pairs, batch=500):
    model.eval()
    right = 0
    for i in range(0, len(pairs), batch):
        chunk = pairs[i:i + batch]
        src, _, _ = batch_tensors(chunk)
        out = model.greedy(src)
        right += sum(decode_tgt(o.tolist()) == t for o, (_, t) in zip(out, chunk))
    model.train()
    return right / len(pairs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="target/dates")
    ap.add_argument("--d-model", type=int, default=32)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--d-ff", type=int, default=128)
    ap.add_argument("--enc-layers", type=int, default=2)
    ap.add_argument("--dec-layers", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=400)
    ap.add_argument("--train-size", type=int, default=400_000)
    ap.add_argument("--heldout-size", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--heldout-seed", type=int, default=80008)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-every", type=int, default=1000)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    log_file = open(os.path.join(args.out, "train_log.txt"), "w")

    def log(msg):
        line = "[%6.1fs] %s" % (time.time() - started, msg)
        print(line, flush=True)
        log_file.write(line + "\n")

    train, heldout = make_sets(args.train_size, args.heldout_size, args.seed,
                               args.heldout_seed)
    log("data: %d training phrases, %d held-out; e.g. %s" % (
        len(train), len(heldout), "; ".join("%r -> %s" % p for p in heldout[:4])))

    c = dict(d_model=args.d_model, n_heads=args.heads, d_ff=args.d_ff,
             n_encoder_layers=args.enc_layers, n_decoder_layers=args.dec_layers,
             src_vocab=SRC_VOCAB, tgt_vocab=TGT_VOCAB, max_src_len=MAX_SRC,
             max_tgt_len=MAX_TGT, norm="post", activation="relu", positional="sinusoidal",
             layer_norm_eps=1e-5, scale_embeddings=True, tie_output=False,
             final_norm=True, bos_id=BOS, eos_id=EOS, pad_id=PAD)
    model = DateModel(dict(c, dropout=0.0))
    params = sum(p.numel() for p in model.parameters())
    log("model: %s; %d parameters (%.1f KiB f32)" % (
        json.dumps({k: c[k] for k in ("d_model", "n_heads", "d_ff", "n_encoder_layers",
                                      "n_decoder_layers")}), params, params * 4 / 1024))

    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-9)

    def lr_at(step):   # linear warm-up, then cosine decay to 2 % of the peak
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        t = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * t)))

    # Label smoothing over the characters only: eos (and pad, bos, unknown) get none of
    # the smoothing mass, so the model learns that a date never ends early. (With plain
    # smoothing every wrong token, eos included, gets the same small probability, eos
    # then ranks among the top candidates of beam search at every step, and beam search
    # stops on short hypotheses: HF early stopping.)
    smooth, chars = 0.05, torch.arange(len(SPECIALS), TGT_VOCAB)

    def loss_fn(logits, target):
        keep = target != PAD
        logp = torch.log_softmax(logits[keep], -1)
        nll = -logp.gather(1, target[keep].unsqueeze(1)).squeeze(1)
        return ((1 - smooth) * nll - smooth * logp[:, chars].mean(-1)).mean()

    batches = length_bucketed_batches(train, args.batch, random.Random(args.seed + 1))
    running = 0.0
    model.train()
    for step in range(args.steps):
        pairs = next(batches)
        src, tgt_in, tgt_out = batch_tensors(pairs)
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        logits = model(src, tgt_in)
        loss = loss_fn(logits.reshape(-1, TGT_VOCAB), tgt_out.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running += loss.item()
        if (step + 1) % 200 == 0:
            log("step %d  loss %.4f  lr %.2e" % (step + 1, running / 200, lr_at(step)))
            running = 0.0
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            log("step %d  held-out greedy exact match %.2f %%" % (
                step + 1, 100 * accuracy(model, heldout)))

    model.eval()
    misses = []
    for i in range(0, len(heldout), 500):
        chunk = heldout[i:i + 500]
        out = model.greedy(batch_tensors(chunk)[0])
        misses += [(s, t, decode_tgt(o.tolist())) for o, (s, t) in zip(out, chunk)
                   if decode_tgt(o.tolist()) != t]
    for s, t, got in misses[:20]:
        log("miss: %r -> %s (true %s)" % (s, got, t))

    save_file(export_weights(model), os.path.join(args.out, "weights.safetensors"))
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
        f.write("\n")
    with open(os.path.join(args.out, "tokenizer.json"), "w") as f:
        json.dump(dict(specials=SPECIALS, pad_id=PAD, bos_id=BOS, eos_id=EOS, unk_id=UNK,
                       fold_case=True, src_chars=SRC_CHARS, tgt_chars=TGT_CHARS,
                       max_src_chars=MAX_SRC), f, indent=2)
        f.write("\n")
    with open(os.path.join(args.out, "heldout.tsv"), "w") as f:
        f.write("# phrase\tISO date (from the calendar). tools/dates/train.py, seed %d; "
                "none of these phrases is in the training set\n" % args.heldout_seed)
        for s, t in heldout:
            f.write("%s\t%s\n" % (s, t))
    log("done: greedy exact match %.2f %% on %d held-out phrases (torch); %.0f s CPU time" % (
        100 * (1 - len(misses) / len(heldout)), len(heldout), time.process_time()))


if __name__ == "__main__":
    sys.exit(main())
