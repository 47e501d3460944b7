"""Host time of the pretrained models, picoformer beside PyTorch on one thread.

- MiniLM: one sentence ("The quick brown fox jumps over the lazy dog.", 12 tokens) to its
  embedding; PyTorch = transformers' BertModel + mean pooling, model already loaded.
- Whisper base: the encoder (1500 positions) + 10 greedy tokens from the committed mel;
  PyTorch = transformers' WhisperForConditionalGeneration, a greedy loop with its
  key/value cache.
picoformer: `picoformer embed|transcribe --timings` (release build, scalar kernels,
one thread); the model load is not timed on either side. Best of REPEATS runs.

    cargo build --release && target/refenv/bin/python tools/reference/bench_pretrained.py [--write DOC]

--write DOC (docs/pretrained.md) also puts the table between DOC's
`<!-- bench-pretrained:table -->` markers, with the date of the run.
"""
import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import whisper_reference as wr  # noqa: E402

ROOT = wr.ROOT
BIN = os.path.join(ROOT, "target/release/picoformer")
MODELS = os.path.join(ROOT, "target/models")
SENTENCE = "The quick brown fox jumps over the lazy dog."
REPEATS = 3


def ours(args, pattern):
    best = None
    for _ in range(REPEATS):
        err = subprocess.run([BIN] + args, capture_output=True, text=True, check=True).stderr
        value = float(re.search(pattern, err).group(1))
        best = value if best is None else min(best, value)
    return best


def best_of(fn):
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def write_section(doc, name, lines):
    """Replaces the lines between `<!-- NAME -->` and `<!-- /NAME -->` of DOC."""
    with open(doc) as f:
        text = f.read()
    open_marker, close_marker = f"<!-- {name} -->\n", f"<!-- /{name} -->"
    start = text.index(open_marker) + len(open_marker)
    end = text.index(close_marker, start)
    with open(doc, "w") as f:
        f.write(text[:start] + "\n".join(lines) + "\n" + text[end:])


def main():
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", metavar="DOC", help="also write the table into DOC")
    args = parser.parse_args()
    torch.set_num_threads(1)
    tmp = os.path.join(ROOT, "target")
    minilm_pfm, whisper_pfm = os.path.join(tmp, "minilm.pfm"), os.path.join(tmp, "whisper.pfm")
    subprocess.run([BIN, "convert", "--from", "hf-bert", f"{MODELS}/minilm/model.safetensors",
                    "--config", f"{MODELS}/minilm/config.json", "-o", minilm_pfm], check=True, capture_output=True)
    subprocess.run([BIN, "convert", "--from", "ct2-whisper", f"{MODELS}/whisper/model.bin", "-o", whisper_pfm],
                   check=True, capture_output=True)

    # MiniLM
    from safetensors.torch import load_file
    from tokenizers import Tokenizer
    from transformers import BertConfig, BertModel
    cfg = BertConfig(**json.load(open(f"{MODELS}/minilm/config.json")))
    bert = BertModel(cfg, add_pooling_layer=False).eval()
    bert.load_state_dict(load_file(f"{MODELS}/minilm/model.safetensors"), strict=False)
    tok = Tokenizer.from_file(f"{MODELS}/minilm/tokenizer.json")
    tok.no_padding()
    ids = torch.tensor([tok.encode(SENTENCE).ids])

    def torch_embed():
        with torch.no_grad():
            h = bert(input_ids=ids).last_hidden_state[0].mean(0)
            return h / h.norm()

    torch_embed()
    t_torch = best_of(torch_embed)
    t_ours = ours(["embed", minilm_pfm, "--tokenizer", f"{MODELS}/minilm/tokenizer.json", "--text", SENTENCE,
                   "--timings"], r"embedding of \d+ tokens ([0-9.]+) s")
    print(f"MiniLM, one sentence ({ids.shape[1]} tokens): picoformer {t_ours * 1e3:.1f} ms, "
          f"PyTorch 1 thread {t_torch * 1e3:.1f} ms, ratio {t_ours / t_torch:.2f}")

    # Whisper
    mel = np.load(os.path.join(ROOT, "tests/pretrained/whisper/mel.npy"))
    _, ct2 = wr.read_ct2(f"{MODELS}/whisper/model.bin")
    model = wr.hf_model(ct2)
    features = torch.from_numpy(mel[None])

    def torch_whisper():
        """Encoder, then 10 greedy tokens with the decoder's key/value cache."""
        with torch.no_grad():
            memory = model.model.encoder(features).last_hidden_state
            ids, past, tokens = torch.tensor([wr.PROMPT]), None, []
            for _ in range(10):
                out = model(encoder_outputs=(memory,), decoder_input_ids=ids, past_key_values=past,
                            use_cache=True)
                past = out.past_key_values
                tokens.append(int(out.logits[0, -1].argmax()))
                ids = torch.tensor([[tokens[-1]]])
            return tokens

    def torch_encoder():
        with torch.no_grad():
            return model.model.encoder(features).last_hidden_state

    t_torch_enc = best_of(torch_encoder)
    t_torch = best_of(torch_whisper)
    t_ours_all = ours(["transcribe", whisper_pfm, "--mel", os.path.join(ROOT, "tests/pretrained/whisper/mel.npy"),
                       "--max-len", "10", "--timings"], r"encoder \+ 10 tokens ([0-9.]+) s")
    t_ours_enc = ours(["transcribe", whisper_pfm, "--mel", os.path.join(ROOT, "tests/pretrained/whisper/mel.npy"),
                       "--max-len", "1", "--timings"], r"encoder ([0-9.]+) s")
    print(f"Whisper base, encoder: picoformer {t_ours_enc:.2f} s, PyTorch 1 thread {t_torch_enc:.2f} s, "
          f"ratio {t_ours_enc / t_torch_enc:.2f}")
    print(f"Whisper base, encoder + 10 tokens: picoformer {t_ours_all:.2f} s, PyTorch 1 thread {t_torch:.2f} s, "
          f"ratio {t_ours_all / t_torch:.2f}")
    if args.write:
        write_section(args.write, "bench-pretrained:table", [
            "| | picoformer | PyTorch | ratio |",
            "|---|---|---|---|",
            f"| MiniLM, one sentence ({ids.shape[1]} tokens) | {t_ours * 1e3:.1f} ms | {t_torch * 1e3:.1f} ms "
            f"| {t_ours / t_torch:.2f} |",
            f"| Whisper base encoder (1500 positions) | {t_ours_enc:.2f} s | {t_torch_enc:.2f} s "
            f"| {t_ours_enc / t_torch_enc:.2f} |",
            f"| Whisper base encoder + 10 greedy tokens | {t_ours_all:.2f} s | {t_torch:.2f} s "
            f"| {t_ours_all / t_torch:.2f} |",
            "",
            f"Measured {time.strftime('%Y-%m-%d', time.gmtime())}, torch {torch.__version__}, "
            f"{os.cpu_count()} cores.",
        ])
        print(f"wrote the table into {args.write}")


if __name__ == "__main__":
    main()
