#!/usr/bin/env python3
"""The 30 s window's estimated cycles on the Cortex-M55, extrapolated from the measured runs
of tools/firmware-whisper.sh (stdin: its `data DTYPE POSITIONS FRAMES FRONTEND ENCODER
SETUP PER_TOKEN` lines, estimated cycles of tools/qemu-icount core=cortex-m55, `-` where a
run did not measure it). Prints a Markdown table for docs/whisper-m55.md.

Method, per weight type:
- front end: linear in the feature frames (every frame is the same FFT and filterbank):
  the measured cycles per frame times 3000;
- encoder: a + b N + c N^2 in the positions N (the projections, feed-forward and stem are
  linear in N, the attention scores and weighted sums quadratic), fitted through the measured
  contexts (exact through three);
- decoder setup (cross-attention keys and values of N positions, the prompt, the first
  token): linear in N through two measured contexts;
- each further token: its cross attention reads N keys in each of the 6 layers, the same
  work per query-key pair as the encoder's f32 self-attention (for i8att and i8stem, whose
  encoder attention is int8, the i8 runs' coefficient: the cross-attention stays f32), so the per-token cost measured
  at N0 plus the encoder's quadratic coefficient (cycles per query-key pair over all layers)
  times (N - N0); linear through two contexts instead where two were measured;
- whole window = front end + encoder + setup + (tokens - 1) x per token, for the clip's own
  transcript in a full window (9 tokens: 8 and end of text) and for 100 tokens (dense
  speech fills a 30 s window with roughly that many).

Measured instead of extrapolated where the runs include the window itself (audio context
1500, 3000 frames: the clip padded to 30 s): its encoder (an `--encoder-only` run) replaces
the fit, and a whole run of 9 tokens replaces the 9-token sum (the 100-token window is then
that run plus 91 extrapolated tokens). The quadratic fit through short contexts understated
the 1500-position encoder by ~13 % (session 10), so the measured figures are the ones to quote.

Input lines: `data DTYPE POSITIONS FRAMES FRONTEND ENCODER SETUP PER_TOKEN [WHOLE TOKENS]`
(WHOLE: front end plus the whole greedy decode, encoder included).
"""
import sys

WINDOW_FRAMES = 3000
WINDOW_POSITIONS = 1500
TOKEN_COUNTS = (9, 100)
GOAL = 12e9
CLOCK = 400e6


def solve(rows, degree):
    """Least-squares polynomial of `degree` through (x, y) rows (normal equations)."""
    n = degree + 1
    a = [[sum(x ** (i + j) for x, _ in rows) for j in range(n)] for i in range(n)]
    b = [sum(y * x ** i for x, y in rows) for i in range(n)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        b[col], b[pivot] = b[pivot], b[col]
        for r in range(n):
            if r != col and a[col][col] != 0:
                f = a[r][col] / a[col][col]
                a[r] = [x - f * y for x, y in zip(a[r], a[col])]
                b[r] -= f * b[col]
    return [b[i] / a[i][i] for i in range(n)]


def fit(points, want_degree):
    """(polynomial, description) through the distinct measured points."""
    distinct = sorted({x: y for x, y in points}.items())
    degree = min(want_degree, len(distinct) - 1)
    if degree < 0:
        return None, "not measured"
    coefficients = solve(distinct, degree)
    kind = {0: "constant", 1: "linear", 2: "quadratic"}[degree]
    at = ", ".join(str(x) for x, _ in distinct)
    return coefficients, f"{kind} through N = {at}"


def value(coefficients, x):
    return sum(c * x ** i for i, c in enumerate(coefficients))


def main():
    runs = {}
    for line in sys.stdin:
        fields = line.split()
        if len(fields) not in (8, 10) or fields[0] != "data":
            continue
        fields += ["-", "-"][: 10 - len(fields)]
        dtype, positions, frames = fields[1], int(fields[2]), int(fields[3])
        numbers = [None if f == "-" else int(f) for f in fields[4:]]
        runs.setdefault(dtype, []).append((positions, frames, *numbers))
    print("Estimated cycles of one 30 s window (3000 feature frames, 1500 encoder positions) on")
    print("the Cortex-M55, from the runs above by `tools/whisper-m55-estimate.py`: measured where the")
    print("window itself was run (1500 positions), extrapolated otherwise (method in its header);")
    print("seconds at 400 MHz. **Estimated cycles**, from QEMU's instruction")
    print(f"stream through the cycle model of docs/cycles.md; goal: at most {GOAL / 1e9:.0f} × 10⁹ cycles.")
    print()
    print("| weights | front end | encoder | decoder setup + 1st token | per further token | "
          f"window, {TOKEN_COUNTS[0]} tokens | window, {TOKEN_COUNTS[1]} tokens | how |")
    print("|---|---|---|---|---|---|---|---|")
    # Each dtype's encoder N^2 coefficient: the per-token extrapolation needs the f32
    # attention's (the decoder's cross-attention is f32 in every blob, also where flag bit 5
    # makes the encoder's self-attention int8: i8att takes the i8 runs' coefficient)
    pair_of = {}
    for dtype, rows in runs.items():
        encoder, _ = fit([(r[0], r[3]) for r in rows if r[3] is not None], 2)
        if encoder is not None and len(encoder) == 3:
            pair_of[dtype] = encoder[2]
    for dtype, rows in runs.items():
        per_frame = max(rows, key=lambda r: r[1])
        front = per_frame[2] / per_frame[1] * WINDOW_FRAMES
        encoder, enc_how = fit([(r[0], r[3]) for r in rows if r[3] is not None], 2)
        setup, setup_how = fit([(r[0], r[4]) for r in rows if r[4] is not None], 1)
        token, token_how = fit([(r[0], r[5]) for r in rows if r[5] is not None], 1)
        if token is not None and encoder is not None and len(token) == 1 and len(encoder) == 3:
            at = next(r[0] for r in rows if r[5] is not None)
            if dtype in ("i8att", "i8stem") and "i8" in pair_of:
                pair = pair_of["i8"]
                whose = "the i8 encoder's N^2 coefficient: the cross-attention stays f32"
            else:
                pair = encoder[2]
                whose = "the encoder's N^2 coefficient"
            token = [token[0] - pair * at, pair]
            token_how += f" + {pair:,.0f} cycles per added key ({whose})"
        if encoder is None or setup is None or token is None:
            print(f"| {dtype} | {front / 1e9:.2f} e9 | - | - | - | - | - | encoder and decoder not measured apart at two contexts or more |")
            continue
        e = value(encoder, WINDOW_POSITIONS)
        s = value(setup, WINDOW_POSITIONS)
        t = value(token, WINDOW_POSITIONS)
        # the window itself, where it was run (positions 1500, 3000 frames)
        in_window = [r for r in rows if r[0] == WINDOW_POSITIONS and r[1] == WINDOW_FRAMES]
        measured_encoder = [r[3] for r in in_window if r[3] is not None]
        if measured_encoder:
            e = measured_encoder[0]
            shorter, shorter_how = fit([(r[0], r[3]) for r in rows
                                        if r[3] is not None and r[0] < WINDOW_POSITIONS], 2)
            enc_how = f"measured at N = {WINDOW_POSITIONS}"
            if shorter is not None:
                enc_how += f" (the {shorter_how} gave {value(shorter, WINDOW_POSITIONS) / 1e9:.2f} e9)"
        whole_runs = [r for r in in_window if r[6] is not None and r[7] == TOKEN_COUNTS[0]]
        measured_whole = whole_runs[0][6] if whole_runs else None
        cells = []
        for count in TOKEN_COUNTS:
            if measured_whole is not None:
                total = measured_whole + (count - TOKEN_COUNTS[0]) * t
                how_total = "measured" if count == TOKEN_COUNTS[0] else f"the measured {TOKEN_COUNTS[0]} + {count - TOKEN_COUNTS[0]} estimated tokens"
            else:
                total = front + e + s + (count - 1) * t
                how_total = "estimate"
            verdict = "within" if total <= GOAL else "over"
            cells.append(f"{total / 1e9:.2f} e9 ({how_total}; {total / CLOCK:.1f} s; {verdict} the goal)")
        if per_frame[1] == WINDOW_FRAMES:
            front_how = f"front end measured over {WINDOW_FRAMES} frames"
        else:
            front_how = f"front end {per_frame[2] / per_frame[1]:,.0f} cycles/frame x 3000"
        how = (f"{front_how}; "
               f"encoder {enc_how}; setup {setup_how}; per token {token_how}")
        print(f"| {dtype} | {front / 1e9:.2f} e9 | {e / 1e9:.2f} e9 | {s / 1e9:.3f} e9 | "
              f"{t / 1e6:.1f} e6 | {cells[0]} | {cells[1]} | {how} |")


if __name__ == "__main__":
    main()
