#!/usr/bin/env python3
"""picoformer against the runtimes users install from the Python package index, side by
side in one run: PyTorch, ONNX Runtime and CTranslate2 (issue 18).

  (a) the paper's base shape (D 512, 8 heads, F 2048, 6 + 6 layers, vocab 8000, random
      weights, the same in every runtime): the teacher-forced forward pass at source =
      target = 16 / 32 / 64 / 128 positions against PyTorch; at 32 against ONNX Runtime
      (the model exported once by this script; int8: onnxruntime's dynamic quantization
      beside ours); greedy decoding of 32 tokens, f32 and int8 (PyTorch: its dynamic
      quantization of every linear layer, the loop of tools/bench/vs_pytorch.py); and
      ours with f16 weights against ours in f32 (the f16 decode's goal: <= 0.65x).
  (b) Whisper base (target/models/whisper, CTranslate2's own model; ours converted from
      it): the encoder on the repo's clip (tests/pretrained/whisper/mel.npy) and one
      greedy decode step, CTranslate2 float32 and int8 (`intra_threads` = ours); ours in
      int8 twice: the tied classifier f32 (our default) and int8 (`--i8-embedding`, as
      CTranslate2's int8 quantizes its embeddings).

Timings: the minimum over `--rounds` rounds; each round runs every peer once, one after
another, so that all of them see the same load (the machine is shared: other work only
ever slows a run down, so the minimum is the closest to the unloaded figure). The load
average before and after is printed. One table per thread count (`--threads 1,2`).

Setup: sh tools/bench/setup.sh (target/benchenv), then from the repo root:
    cargo build --release -p picoformer-cli
    target/benchenv/bin/python tools/bench/host_peers.py [--rounds 5] [--threads 1,2]
        [--write docs/host.md]
"""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse
import json
import re
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vs_pytorch as vp  # noqa: E402  (the model, its export and the int8 loop)

LENGTHS = (16, 32, 64, 128)
GREEDY = 32
OUT = "target/bench/peers"
WHISPER_CT2 = "target/models/whisper"
MEL = "tests/pretrained/whisper/mel.npy"
# <|startoftranscript|> <|en|> <|transcribe|> <|notimestamps|>
WHISPER_PROMPT = [50258, 50259, 50359, 50363]
WHISPER_TOKENS = 24
MARK_BEGIN = "<!-- host_peers.py: begin -->"
MARK_END = "<!-- host_peers.py: end -->"


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


class Best:
    """The minimum per key over every round."""

    def __init__(self):
        self.t = {}

    def add(self, key, seconds):
        self.t[key] = min(self.t.get(key, float("inf")), seconds)

    def __getitem__(self, key):
        return self.t.get(key)


def build_paper_base(args):
    vp.SRC_LEN = vp.TGT_LEN = max(LENGTHS)
    torch.manual_seed(0)
    model = vp.Seq2Seq().eval()
    with torch.no_grad():
        model.generator.weight.mul_(4.0)
    vp.export(model, OUT)
    blobs = {}
    for dtype in ("f32", "i8", "f16"):
        blobs[dtype] = os.path.join(OUT, f"base-{dtype}.pfm")
        run([args.bin, "convert", "--from", "torch", "--config",
             os.path.join(OUT, "config.json"), os.path.join(OUT, "weights.safetensors"),
             "-o", blobs[dtype], "--dtype", dtype])
    gen = torch.Generator().manual_seed(1)
    inputs = {}
    for n in LENGTHS:
        src = torch.randint(3, vp.VOCAB, (1, n), generator=gen)
        tgt = torch.cat([torch.tensor([[vp.BOS]]),
                         torch.randint(3, vp.VOCAB, (1, n - 1), generator=gen)], 1)
        inputs[n] = (src, tgt)
    return model, blobs, inputs


def export_onnx(model, src, tgt):
    """The forward pass at 32 x 32 as ONNX (fixed shapes), and its dynamic int8 twin."""
    import onnxruntime.quantization as oq

    f32_path, i8_path = os.path.join(OUT, "base.onnx"), os.path.join(OUT, "base-i8.onnx")
    if not os.path.exists(f32_path):
        # With gradients on, nn.Transformer takes its plain path (its inference fast
        # path, _transformer_encoder_layer_fwd, has no ONNX form).
        torch.onnx.export(model, (src, tgt), f32_path, input_names=["src", "tgt"],
                          output_names=["logits"], dynamo=False, opset_version=17)
    if not os.path.exists(i8_path):
        oq.quantize_dynamic(f32_path, i8_path, weight_type=oq.QuantType.QInt8)
    return f32_path, i8_path


def ort_session(path, threads):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def ids(t):
    return ",".join(str(int(v)) for v in t.flatten())


def ours_bench(args, blob, src, tgt, max_len, threads):
    out = run([args.bin, "--threads", str(threads), "bench", blob, "--src", ids(src),
               "--tgt", ids(tgt), "--max-len", str(max_len), "--iters", str(args.iters)]).stdout
    return json.loads(out)


# Our Whisper blobs: f32, int8 (the tied classifier kept f32, our default) and int8 with
# the classifier int8 too ("i8emb": as CTranslate2's int8, which quantizes its embeddings,
# the classifier's weights, the same way as the linear layers).
WHISPER_VARIANTS = {"f32": ["--dtype", "f32"], "i8": ["--dtype", "i8"],
                    "i8emb": ["--dtype", "i8", "--i8-embedding"]}
# The CTranslate2 compute type each is timed against.
WHISPER_PEER = {"f32": "float32", "i8": "int8", "i8emb": "int8"}


def whisper_blobs(args):
    blobs = {}
    for name, flags in WHISPER_VARIANTS.items():
        blobs[name] = os.path.join(OUT, f"whisper-{name}.pfm")
        if not os.path.exists(blobs[name]):
            run([args.bin, "convert", "--from", "ct2-whisper",
                 os.path.join(WHISPER_CT2, "model.bin"), "-o", blobs[name], *flags])
    return blobs


def ours_whisper(args, blob, threads, max_len):
    """(encoder s, whole run s, tokens) from `transcribe --timings`."""
    res = run([args.bin, "--threads", str(threads), "transcribe", blob, "--mel", MEL,
               "--max-len", str(max_len), "--timings", "--json"])
    m = re.search(r"encoder ([0-9.]+) s per window, (\d+) window\(s\) \+ (\d+) tokens ([0-9.]+) s",
                  res.stderr)
    return float(m[1]), float(m[4]), json.loads(res.stdout)["tokens"]


def ct2_whisper(model, mel):
    import ctranslate2

    features = ctranslate2.StorageView.from_array(mel[None].astype(np.float32))
    t_enc, encoded = timed(lambda: model.encode(features))
    t_gen, res = timed(lambda: model.generate(
        encoded, [WHISPER_PROMPT], beam_size=1, max_length=WHISPER_TOKENS + len(WHISPER_PROMPT),
        suppress_blank=False, suppress_tokens=[]))
    tokens = list(res[0].sequences_ids[0])
    return t_enc, t_gen, tokens


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def measure(args, threads, model, qloop, blobs, inputs, onnx_paths, wblobs, mel):
    import ctranslate2

    torch.set_num_threads(threads)
    sessions = {k: ort_session(p, threads) for k, p in onnx_paths.items()}
    ct2 = {ct: ctranslate2.models.Whisper(WHISPER_CT2, device="cpu", compute_type=ct,
                                          intra_threads=threads, inter_threads=1)
           for ct in ("float32", "int8")} if not args.no_whisper else {}
    src32, tgt32 = inputs[32]
    feeds = {"src": src32.numpy(), "tgt": tgt32.numpy()}
    best, notes = Best(), {}
    for round_ in range(args.rounds):
        for n in LENGTHS:
            src, tgt = inputs[n]
            greedy = GREEDY if n == 32 else 1
            res = ours_bench(args, blobs["f32"], src, tgt, greedy, threads)
            best.add(("ours", "forward", n), res["forward_min_s"])
            if n == 32:
                best.add(("ours", "greedy"), res["greedy_min_s"])
                notes["ours_tokens"] = res["greedy_tokens"]
                notes["kernel"] = res["kernel"]
                if res.get("fma_peak_gflop_s"):
                    notes["peak"] = max(notes.get("peak", 0.0), res["fma_peak_gflop_s"])
                res = ours_bench(args, blobs["i8"], src, tgt, greedy, threads)
                best.add(("ours", "forward-i8", n), res["forward_min_s"])
                best.add(("ours", "greedy-i8"), res["greedy_min_s"])
                res = ours_bench(args, blobs["f16"], src, tgt, greedy, threads)
                best.add(("ours", "greedy-f16"), res["greedy_min_s"])
            with torch.inference_mode():
                for _ in range(args.iters):
                    best.add(("torch", "forward", n), timed(lambda: model(src, tgt))[0])
        with torch.inference_mode():
            for _ in range(args.iters):
                t, notes["torch_tokens"] = timed(lambda: model.greedy(src32, GREEDY))
                best.add(("torch", "greedy"), t)
                best.add(("torch", "greedy-i8"), timed(lambda: qloop.greedy(src32, GREEDY))[0])
        for key, sess in sessions.items():
            for _ in range(args.iters):
                best.add(("ort", key), timed(lambda: sess.run(None, feeds))[0])
        if ct2 and round_ < args.whisper_rounds:
            for dtype, ct in WHISPER_PEER.items():
                # Our decode step: the whole run to WHISPER_TOKENS tokens less the whole
                # run to 1 (the encoder and the prompt), per token in between.
                enc, whole, tokens = ours_whisper(args, wblobs[dtype], threads, WHISPER_TOKENS)
                best.add(("ours", "w-enc", dtype), enc)
                best.add(("ours", "w-whole", dtype), whole)
                notes[f"ours_w_{dtype}"] = tokens
                enc, one, _ = ours_whisper(args, wblobs[dtype], threads, 1)
                best.add(("ours", "w-enc", dtype), enc)
                best.add(("ours", "w-one", dtype), one)
                enc, gen, tokens = ct2_whisper(ct2[ct], mel)
                best.add(("ct2", "w-enc", dtype), enc)
                best.add(("ct2", "w-step", dtype), gen / max(1, len(tokens)))
                best.add(("ct2", "w-whole", dtype), enc + gen)
                notes[f"ct2_w_{dtype}"] = tokens
    for dtype in WHISPER_PEER:
        if best["ours", "w-whole", dtype] is not None:
            steps = max(1, len(notes[f"ours_w_{dtype}"]) - 1)
            step = (best["ours", "w-whole", dtype] - best["ours", "w-one", dtype]) / steps
            # Under heavy load the difference of two whole runs can be noise, even < 0:
            # then no figure (the table shows a dash).
            if step > 0:
                best.add(("ours", "w-step", dtype), step)
    return best, notes


def forward_flops(n):
    """Floating-point operations of the paper base's teacher-forced forward pass at source
    = target = n positions: the linear layers (per position: each encoder layer's 4 D^2 +
    2 D F, each decoder layer's 8 D^2 + 2 D F with the cross-attention's keys and values
    of one source position, the vocabulary's D V) and the attention's scores and weighted
    sums (2 n^2 D a layer: the encoder's, the decoder's own and its cross-attention's),
    two operations a multiply-add."""
    d, f, layers, vocab = vp.D, vp.FF, vp.LAYERS, vp.VOCAB
    linear = n * (layers * (4 * d * d + 2 * d * f) + layers * (8 * d * d + 2 * d * f) + d * vocab)
    attention = 3 * layers * 2 * n * n * d
    return 2 * (linear + attention)


def whisper_encoder_flops():
    """Floating-point operations of Whisper base's encoder on a 30 s window (1500
    positions after the stem): the stem's two convolutions (80 -> 512 over 3000 frames,
    512 -> 512 stride 2, 3 taps each), 6 layers' linear layers (4 D^2 + 2 D F a
    position) and attention (2 n^2 D a layer)."""
    d, f, layers, n = 512, 2048, 6, 1500
    stem = 2 * n * 3 * 80 * d + n * 3 * d * d
    linear = layers * n * (4 * d * d + 2 * d * f)
    attention = layers * 2 * n * n * d
    return 2 * (stem + linear + attention)


def goals_table(best, peak):
    """What the one-thread forward goals need: the time (goal ratio x the peer's), the
    GFLOP/s that is, as a share of this core's FMA peak, beside ours now."""
    rows = [(f"forward {n}x{n} <= 0.6x PyTorch", n, 0.6, best["torch", "forward", n])
            for n in LENGTHS]
    rows.append(("forward 32x32 <= 0.8x ONNX Runtime f32", 32, 0.8, best["ort", "f32"]))
    lines = [f"| goal (1 thread) | GFLOP | needed time | needed GFLOP/s | of the FMA peak "
             f"({peak:.0f} GFLOP/s) | ours now |", "|---|---|---|---|---|---|"]
    for label, n, ratio, peer in rows:
        ours = best["ours", "forward", n]
        if peer is None or ours is None:
            continue
        flops = forward_flops(n)
        need = ratio * peer
        lines.append(f"| {label} | {flops / 1e9:.2f} | {ms(need)} | {flops / need / 1e9:.0f} | "
                     f"{100 * flops / need / 1e9 / peak:.0f} % | {ms(ours)}, "
                     f"{flops / ours / 1e9:.0f} GFLOP/s ({100 * flops / ours / 1e9 / peak:.0f} %) |")
    ours_enc, ours_whole = best["ours", "w-enc", "f32"], best["ours", "w-whole", "f32"]
    ct2_whole = best["ct2", "w-whole", "f32"]
    if None not in (ours_enc, ours_whole, ct2_whole):
        # the goal's time less our decoding (the whole run less its encoder): the encoder's
        flops = whisper_encoder_flops()
        need = 0.8 * ct2_whole - (ours_whole - ours_enc)
        if need > 0:
            lines.append(f"| Whisper base f32, encoder + {WHISPER_TOKENS} tokens <= 0.8x "
                         f"CTranslate2: its encoder | {flops / 1e9:.1f} | {ms(need)} | "
                         f"{flops / need / 1e9:.0f} | {100 * flops / need / 1e9 / peak:.0f} % | "
                         f"{ms(ours_enc)}, {flops / ours_enc / 1e9:.0f} GFLOP/s "
                         f"({100 * flops / ours_enc / 1e9 / peak:.0f} %) |")
    return lines


def ms(s):
    return f"{s * 1e3:.1f} ms" if s < 10 else f"{s:.2f} s"


def table(best, threads):
    rows = []
    for n in LENGTHS:
        rows.append((f"paper base forward {n}x{n}, f32", best["ours", "forward", n],
                     "PyTorch", best["torch", "forward", n]))
    rows += [
        ("paper base forward 32x32, f32", best["ours", "forward", 32], "ONNX Runtime",
         best["ort", "f32"]),
        ("paper base forward 32x32, int8", best["ours", "forward-i8", 32],
         "ONNX Runtime (dynamic int8)", best["ort", "i8"]),
        (f"paper base greedy {GREEDY} tokens, f32", best["ours", "greedy"], "PyTorch",
         best["torch", "greedy"]),
        (f"paper base greedy {GREEDY} tokens, int8", best["ours", "greedy-i8"],
         "PyTorch (dynamic int8)", best["torch", "greedy-i8"]),
        (f"paper base greedy {GREEDY} tokens, f16 weights", best["ours", "greedy-f16"],
         "picoformer f32", best["ours", "greedy"]),
    ]
    for dtype, ct in WHISPER_PEER.items():
        if best["ours", "w-enc", dtype] is None:
            continue
        what = {"f32": "f32", "i8": "i8", "i8emb": "i8, int8 classifier"}[dtype]
        rows.append((f"Whisper base encoder (30 s window), {what}", best["ours", "w-enc", dtype],
                     f"CTranslate2 {ct}", best["ct2", "w-enc", dtype]))
        rows.append((f"Whisper base decode step, {what}", best["ours", "w-step", dtype],
                     f"CTranslate2 {ct}", best["ct2", "w-step", dtype]))
        rows.append((f"Whisper base, encoder + {WHISPER_TOKENS} tokens, {what}",
                     best["ours", "w-whole", dtype], f"CTranslate2 {ct}",
                     best["ct2", "w-whole", dtype]))
    lines = [f"| work ({threads} thread{'s' if threads > 1 else ''}) | picoformer | peer | "
             "peer time | ratio (ours/peer) |", "|---|---|---|---|---|"]
    for work, ours, peer, theirs in rows:
        if ours is None or theirs is None:
            lines.append(f"| {work} | {ms(ours) if ours else '—'} | {peer} | "
                         f"{ms(theirs) if theirs else '—'} | — |")
            continue
        lines.append(f"| {work} | {ms(ours)} | {peer} | {ms(theirs)} | {ours / theirs:.2f} |")
    return lines


def main():
    import ctranslate2
    import onnxruntime

    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=2, help="runs per peer per round")
    ap.add_argument("--threads", default="1", help="comma-separated thread counts")
    ap.add_argument("--bin", default="target/release/picoformer")
    ap.add_argument("--no-whisper", action="store_true")
    ap.add_argument("--whisper-rounds", type=int, default=2,
                    help="rounds that include Whisper (its encoder takes seconds)")
    ap.add_argument("--write", metavar="MD", help="replace the marked section of this page")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    model, blobs, inputs = build_paper_base(args)
    loop = vp.LinearLoop(model).eval()
    qloop = torch.ao.quantization.quantize_dynamic(loop, {torch.nn.Linear}, dtype=torch.qint8)
    onnx_paths = dict(zip(("f32", "i8"), export_onnx(model, *inputs[32])))
    wblobs = whisper_blobs(args) if not args.no_whisper else {}
    mel = np.load(MEL)
    load_before = load_average()
    out = [f"Run {time.strftime('%Y-%m-%d')}: torch {torch.__version__} (quantized engine "
           f"{torch.backends.quantized.engine}), onnxruntime {onnxruntime.__version__}, "
           f"ctranslate2 {ctranslate2.__version__}; minimum of {args.rounds} rounds x "
           f"{args.iters} runs (Whisper: {min(args.rounds, args.whisper_rounds)} rounds x 1); "
           f"{os.cpu_count()} cores, load average before: {load_before}"]
    per_threads = {}
    for threads in [int(t) for t in args.threads.split(",")]:
        best, notes = measure(args, threads, model, qloop, blobs, inputs, onnx_paths, wblobs, mel)
        per_threads[threads] = best
        out.append("")
        out += table(best, threads)
        out.append("")
        same = notes["ours_tokens"] == notes["torch_tokens"]
        out.append(f"Kernel {notes['kernel']}; paper base greedy tokens identical to PyTorch's: "
                   f"{same}." + "".join(
                       f" Whisper {d}: our {len(notes[f'ours_w_{d}'])} tokens, CTranslate2's "
                       f"{len(notes[f'ct2_w_{d}'])}, equal prefix "
                       f"{common_prefix(notes[f'ours_w_{d}'], notes[f'ct2_w_{d}'])}."
                       for d in WHISPER_PEER if f"ours_w_{d}" in notes))
        if threads == 1 and notes.get("peak"):
            out.append("")
            out += goals_table(best, notes["peak"])
    if len(per_threads) > 1:
        first, *others = sorted(per_threads)
        out.append("")
        out.append("| our speedup over 1 thread | " + " | ".join(f"{t} threads" for t in others)
                   + " |")
        out.append("|---|" + "---|" * len(others))
        for label, key in (("forward 32x32 f32", ("ours", "forward", 32)),
                           ("forward 128x128 f32", ("ours", "forward", 128)),
                           ("greedy f32", ("ours", "greedy")),
                           ("greedy int8", ("ours", "greedy-i8")),
                           ("Whisper encoder f32", ("ours", "w-enc", "f32"))):
            if per_threads[first][key] is None:
                continue
            out.append(f"| {label} | " + " | ".join(
                f"{per_threads[first][key] / per_threads[t][key]:.2f}x" for t in others) + " |")
    out.append("")
    out.append(f"Load average after: {load_average()}.")
    text = "\n".join(out)
    print(text)
    if args.write:
        write_section(args.write, text)


def common_prefix(a, b):
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def write_section(path, text):
    with open(path) as f:
        page = f.read()
    block = f"{MARK_BEGIN}\n{text}\n{MARK_END}"
    if MARK_BEGIN in page:
        head, rest = page.split(MARK_BEGIN, 1)
        page = head + block + rest.split(MARK_END, 1)[1]
    else:
        page = page.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(page)


if __name__ == "__main__":
    sys.exit(main())
