"""Whisper base reference: the golden mel input and what PyTorch / CTranslate2 make of it.

1. Speech: espeak-ng says SENTENCE into a wav (22050 Hz), resampled to 16 kHz (FFT).
2. Log-mel: transformers' WhisperFeatureExtractor (Whisper's own filterbank, 30 s padding)
   -> tests/pretrained/whisper/mel.npy, float32 [80, 3000]. This file is the golden
   input: espeak output changes between versions, so CI never re-synthesises it.
3. PyTorch: transformers' WhisperForConditionalGeneration with the weights of the
   CTranslate2 file (target/models/whisper/model.bin, parsed here by hand; f16 -> f32):
   - the encoder output (rows ROWS in full, plus whole-tensor statistics),
   - plain greedy decoding from PROMPT (argmax, no token suppression), whole prefix
     recomputed each step,
   - the spec's beam search (docs/spec.md; the same algorithm as make_golden.py)
     with B = 5, K = 1, alpha = 0.6, starting from the live set {(PROMPT, 0)}.
4. CTranslate2 itself: greedy with no suppression must give the same tokens.

    target/refenv/bin/python tools/reference/whisper_reference.py [--bench]
      -> tests/pretrained/whisper/{mel.npy, expected.json}
    --bench: also time the PyTorch encoder + 10 greedy tokens on one thread.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import wave

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "target/models/whisper")
OUT = os.path.join(ROOT, "tests/pretrained/whisper")
SENTENCE = "The quick brown fox jumps over the lazy dog"
PROMPT = [50258, 50259, 50359, 50363]  # <|startoftranscript|><|en|><|transcribe|><|notimestamps|>
EOS = 50257
ROWS = [0, 1, 2, 100, 749, 750, 1000, 1499]
BEAM, TOP, ALPHA, MAX_LEN = 5, 1, 0.6, 64


def synthesize():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "speech.wav")
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", path, SENTENCE], check=True)
        version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.strip()
        with wave.open(path) as w:
            rate = w.getframerate()
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    audio = pcm.astype(np.float64) / 32768.0
    n = int(round(len(audio) * 16000 / rate))
    spectrum = np.fft.rfft(audio)
    keep = n // 2 + 1
    resampled = np.fft.irfft(spectrum[:keep], n) * (n / len(audio))
    return resampled.astype(np.float32), version


def log_mel(audio):
    from transformers import WhisperFeatureExtractor
    fe = WhisperFeatureExtractor(feature_size=80, sampling_rate=16000)
    return fe(audio, sampling_rate=16000, return_tensors="np").input_features[0].astype(np.float32)


def read_ct2(path):
    b = open(path, "rb").read()
    o = 0

    def take(fmt):
        nonlocal o
        v = struct.unpack_from(fmt, b, o)
        o += struct.calcsize(fmt)
        return v

    def string():
        nonlocal o
        (n,) = take("<H")
        s = b[o:o + n].split(b"\0")[0].decode()
        o += n
        return s

    (version,) = take("<I")
    assert version == 6, version
    spec = string()
    take("<I")
    (count,) = take("<I")
    dtypes = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
    out = {}
    for _ in range(count):
        name = string()
        (rank,) = take("<B")
        dims = take(f"<{rank}I") if rank else ()
        (dt,) = take("<B")
        (nbytes,) = take("<I")
        out[name] = np.frombuffer(b, dtype=dtypes[dt], count=nbytes // np.dtype(dtypes[dt]).itemsize,
                                  offset=o).reshape(dims)
        o += nbytes
    (aliases,) = take("<I")
    for _ in range(aliases):
        alias, target = string(), string()
        out[alias] = out[target]
    return spec, out


def hf_model(ct2):
    from transformers import WhisperConfig, WhisperForConditionalGeneration
    W = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in ct2.items() if v.dtype == np.float16}
    D = W["decoder/embeddings/weight"].shape[1]
    cfg = WhisperConfig(vocab_size=W["decoder/embeddings/weight"].shape[0], num_mel_bins=80, d_model=D,
                        encoder_layers=6, decoder_layers=6, encoder_attention_heads=8,
                        decoder_attention_heads=8, encoder_ffn_dim=2048, decoder_ffn_dim=2048,
                        max_source_positions=1500, max_target_positions=448)
    model = WhisperForConditionalGeneration(cfg).eval()
    sd = {}

    def lin(dst, src, rows=None):
        w, bias = W[src + "/weight"], W.get(src + "/bias")
        if rows is not None:
            w = w[rows]
            bias = None if bias is None else bias[rows]
        sd[dst + ".weight"] = w
        if bias is not None and bool(bias.abs().sum() > 0):
            sd[dst + ".bias"] = bias

    def ln(dst, src):
        sd[dst + ".weight"], sd[dst + ".bias"] = W[src + "/gamma"], W[src + "/beta"]

    q, k, v = slice(0, D), slice(D, 2 * D), slice(2 * D, 3 * D)
    e, d = "model.encoder", "model.decoder"
    lin(f"{e}.conv1", "encoder/conv1")
    lin(f"{e}.conv2", "encoder/conv2")
    sd[f"{e}.embed_positions.weight"] = W["encoder/position_encodings/encodings"]
    ln(f"{e}.layer_norm", "encoder/layer_norm")
    sd[f"{d}.embed_tokens.weight"] = W["decoder/embeddings/weight"]
    sd[f"{d}.embed_positions.weight"] = W["decoder/position_encodings/encodings"]
    ln(f"{d}.layer_norm", "decoder/layer_norm")
    for side, n in (("encoder", 6), ("decoder", 6)):
        for i in range(n):
            dst, src = f"model.{side}.layers.{i}", f"{side}/layer_{i}"
            for name, rows in (("q_proj", q), ("k_proj", k), ("v_proj", v)):
                lin(f"{dst}.self_attn.{name}", f"{src}/self_attention/linear_0", rows)
            lin(f"{dst}.self_attn.out_proj", f"{src}/self_attention/linear_1")
            ln(f"{dst}.self_attn_layer_norm", f"{src}/self_attention/layer_norm")
            lin(f"{dst}.fc1", f"{src}/ffn/linear_0")
            lin(f"{dst}.fc2", f"{src}/ffn/linear_1")
            ln(f"{dst}.final_layer_norm", f"{src}/ffn/layer_norm")
            if side == "decoder":
                lin(f"{dst}.encoder_attn.q_proj", f"{src}/attention/linear_0")
                lin(f"{dst}.encoder_attn.k_proj", f"{src}/attention/linear_1", slice(0, D))
                lin(f"{dst}.encoder_attn.v_proj", f"{src}/attention/linear_1", slice(D, 2 * D))
                lin(f"{dst}.encoder_attn.out_proj", f"{src}/attention/linear_2")
                ln(f"{dst}.encoder_attn_layer_norm", f"{src}/attention/layer_norm")
    missing, unexpected = model.load_state_dict(sd, strict=False)
    # k_proj has no bias in Whisper; proj_out is tied to embed_tokens.
    assert not unexpected, unexpected
    assert all(m.endswith("k_proj.bias") or m == "proj_out.weight" for m in missing), missing
    for name, p in model.named_parameters():
        if name.endswith("k_proj.bias"):
            assert float(p.abs().sum()) == 0.0, name
    model.tie_weights()
    return model


class Decoder:
    def __init__(self, model, memory):
        self.model, self.memory = model, memory

    def logits(self, prefix):
        with torch.no_grad():
            out = self.model(encoder_outputs=(self.memory,), decoder_input_ids=torch.tensor([prefix]))
        return out.logits[0, -1]

    def logprobs(self, prefix):
        return torch.log_softmax(self.logits(prefix), -1).numpy()


def greedy(dec, max_len):
    """Tokens, float32 sum of their log-probabilities, smallest top-1/top-2 logit gap."""
    prefix, margins, score = list(PROMPT), [], np.float32(0.0)
    for _ in range(max_len):
        logits = dec.logits(prefix)
        top2 = torch.topk(logits, 2)
        margins.append(float(top2.values[0] - top2.values[1]))
        prefix.append(int(top2.indices[0]))
        score = np.float32(score + float(torch.log_softmax(logits, -1)[prefix[-1]]))
        if prefix[-1] == EOS:
            break
    return prefix[len(PROMPT):], float(score), min(margins)


def lp_norm(n, alpha):
    return np.float32(((5.0 + n) / 6.0) ** alpha)


def beam_search(dec, B, K, alpha, max_len):
    """The spec's beam search (make_golden.py's, from a prompt instead of [bos])."""
    p = len(PROMPT)
    live = [(list(PROMPT), np.float32(0.0))]
    finished = []
    margins = []
    step = 0
    while True:
        cands = []
        for i, (toks, s) in enumerate(live):
            sc = (s + dec.logprobs(toks)).astype(np.float32)
            best = np.argsort(-sc, kind="stable")[:2 * B]  # at most 2B candidates can matter
            cands.extend((float(sc[v]), i, int(v)) for v in best)
        cands.sort(key=lambda t: (-t[0], t[1], t[2]))
        step += 1
        new_live, walked = [], 0
        for rank, (s, i, v) in enumerate(cands):
            walked = rank + 1
            if v == EOS:
                if rank < B:
                    finished.append((live[i][0][p:] + [EOS], np.float32(np.float32(s) / lp_norm(step, alpha))))
                continue
            new_live.append((live[i][0] + [v], np.float32(s)))
            if len(new_live) == B:
                break
        for cut in (B, walked):
            if cut < len(cands):
                margins.append(cands[cut - 1][0] - cands[cut][0])
        live = new_live
        if len(finished) >= B:
            break
        if step == max_len:
            finished.extend((t[p:], np.float32(s / lp_norm(step, alpha))) for t, s in live)
            break
        if not live:
            break
    order = sorted(range(len(finished)), key=lambda j: (-float(finished[j][1]), j))
    ranked = [finished[j] for j in order]
    if len(ranked) > 1:
        margins.append(float(ranked[0][1]) - float(ranked[1][1]))
    return [{"tokens": t, "score": float(s)} for t, s in ranked[:K]], min(margins)


def ctranslate2_greedy(mel):
    import ctranslate2
    model = ctranslate2.models.Whisper(MODEL, device="cpu", compute_type="float32", intra_threads=1)
    features = ctranslate2.StorageView.from_array(mel[None])
    result = model.generate(features, [PROMPT], beam_size=1, suppress_blank=False, suppress_tokens=[],
                            max_length=448, return_no_speech_prob=False)
    return [t for t in result[0].sequences_ids[0]]


def main():
    torch.set_num_threads(1)
    bench = "--bench" in sys.argv
    audio, espeak = synthesize()
    mel = log_mel(audio)
    os.makedirs(OUT, exist_ok=True)
    np.save(os.path.join(OUT, "mel.npy"), mel)
    spec, ct2 = read_ct2(os.path.join(MODEL, "model.bin"))
    model = hf_model(ct2)
    with torch.no_grad():
        memory = model.model.encoder(torch.from_numpy(mel[None])).last_hidden_state
    enc = memory[0].numpy()
    dec = Decoder(model, memory)
    tokens, greedy_score, greedy_margin = greedy(dec, 448 - len(PROMPT) + 1)
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    text = tok.decode(tokens, skip_special_tokens=True)
    ct2_tokens = ctranslate2_greedy(mel)
    # CTranslate2 returns the generated tokens without the prompt and without eos.
    assert ct2_tokens == [t for t in tokens if t != EOS], (ct2_tokens, tokens)
    beam, beam_margin = beam_search(dec, BEAM, TOP, ALPHA, MAX_LEN)
    print(f"greedy {tokens} {text!r} (min margin {greedy_margin:.3f}); beam {beam} (min margin {beam_margin:.3f})",
          file=sys.stderr)
    out = {
        "sentence": SENTENCE,
        "espeak": espeak,
        "prompt": PROMPT,
        "greedy": {"tokens": tokens, "text": text, "score": greedy_score, "min_logit_margin": greedy_margin,
                   "ctranslate2_tokens": ct2_tokens},
        "beam": {"beam": BEAM, "top": TOP, "alpha": ALPHA, "max_len": MAX_LEN, "hypotheses": beam,
                 "min_score_margin": beam_margin},
        "encoder": {
            "shape": list(enc.shape),
            "rows": {str(r): [float(v) for v in enc[r]] for r in ROWS},
            "mean": float(enc.astype(np.float64).mean()),
            "mean_abs": float(np.abs(enc.astype(np.float64)).mean()),
            "std": float(enc.astype(np.float64).std()),
        },
        "reference": "transformers %s WhisperForConditionalGeneration (torch %s) with the CTranslate2 weights; "
                     "ctranslate2 greedy agrees (tools/reference/whisper_reference.py)" % (
                         __import__("transformers").__version__, torch.__version__),
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    if bench:
        t0 = time.perf_counter()
        with torch.no_grad():
            memory = model.model.encoder(torch.from_numpy(mel[None])).last_hidden_state
            t1 = time.perf_counter()
            out = model.generate(encoder_outputs=(memory,), decoder_input_ids=torch.tensor([PROMPT]),
                                 max_new_tokens=10, do_sample=False, num_beams=1,
                                 suppress_tokens=None, begin_suppress_tokens=None)
        t2 = time.perf_counter()
        print(f"bench torch 1 thread: encoder {t1 - t0:.3f} s, encoder + 10 tokens {t2 - t0:.3f} s "
              f"({out.shape[1] - len(PROMPT)} tokens)", file=sys.stderr)


if __name__ == "__main__":
    main()
