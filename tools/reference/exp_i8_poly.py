"""Coefficients of the int8 attention's exponential (docs/spec.md, "int8 key/value cache",
step 3; kernels/src/generic/attention_i8.rs, `exp_i8` and `EXP_I8_P`).

Step 4 rounds the weights to int16 against their largest (a relative step of 3e-5 at the
top), so step 3's exponential needs no more than some 1e-5 of relative accuracy:

    e^d = 2^t,  t = d log2 e (one rounding),  n = round(t),  f = t - n (exact, |f| <= 1/2),
    e^d ~ p(f) 2^n,  p(f) = 1 + f (c1 + f (c2 + f (c3 + f c4)))

p is degree 4 with p(0) = 1 (so the largest score's weight is exactly 1), fitted here to
the minimax relative error of 2^f on [-1/2, 1/2] (Lawson's iteratively reweighted least
squares on a dense grid, float64), its coefficients rounded to f32 and printed highest
degree first. Then the f32 rule itself (plain multiplies and adds, each rounded, as the
kernels do; numpy's float32 operations round each to nearest even) is evaluated over
every f32 `d` in [EXP_I8_ZERO_BELOW, 0] against float64's exp: the largest relative error
is the bound docs/spec.md states (the Rust test `exp_i8_is_within_its_bound_everywhere`
measures the same over the same floats).

Run: target/benchenv/bin/python tools/reference/exp_i8_poly.py   (numpy only; ~1 minute)
"""
import numpy as np

DEGREE = 4
LOG2E = np.float32(1.4426950408889634)
ROUND = np.float32(12582912.0)  # 1.5 2^23: adding it rounds to an integer
ZERO_BELOW = np.float32(-87.33)


def fit():
    f = np.linspace(-0.5, 0.5, 20001)
    target = np.exp2(f)
    # p(f) - 1 = sum_k c_k f^k (k = 1..4); relative error (p - 2^f) / 2^f
    basis = np.stack([f**k for k in range(1, DEGREE + 1)], axis=1) / target[:, None]
    rhs = (target - 1.0) / target
    w = np.ones_like(f)
    for _ in range(2000):
        sw = np.sqrt(w)
        c, *_ = np.linalg.lstsq(basis * sw[:, None], rhs * sw, rcond=None)
        err = np.abs(basis @ c - rhs)
        w = w * err
        w = w / w.sum()
    return [np.float32(x) for x in c[::-1]]  # c4, c3, c2, c1


def exp_i8(d, coeffs):
    """The f32 rule over a float32 array `d` (every `d <= 0`)."""
    c4, c3, c2, c1 = coeffs
    one = np.float32(1.0)
    t = d * LOG2E
    n = (t + ROUND) - ROUND
    f = t - n
    p = (((c4 * f + c3) * f + c2) * f + c1) * f + one
    scale = np.ldexp(np.float32(1.0), n.astype(np.int32)).astype(np.float32)
    out = p * scale
    return np.where(d < ZERO_BELOW, np.float32(0.0), out)


def worst_over_every_float(coeffs):
    # every f32 in [ZERO_BELOW, -0.0]: the bit patterns 0x80000000 ..= bits(ZERO_BELOW),
    # and +0.0
    last = int(np.array(ZERO_BELOW).view(np.uint32))
    worst, at = 0.0, 0.0
    step = 1 << 24
    for start in range(0x8000_0000, last + 1, step):
        bits = np.arange(start, min(start + step, last + 1), dtype=np.uint64).astype(np.uint32)
        d = bits.view(np.float32)
        got = exp_i8(d, coeffs).astype(np.float64)
        want = np.exp(d.astype(np.float64))
        rel = np.abs(got - want) / want
        i = int(np.argmax(rel))
        if rel[i] > worst:
            worst, at = float(rel[i]), float(d[i])
    zero = exp_i8(np.array([0.0], dtype=np.float32), coeffs)[0]
    assert zero == 1.0
    return worst, at


def main():
    coeffs = fit()
    f = np.linspace(-0.5, 0.5, 200001)
    c4, c3, c2, c1 = (float(c) for c in coeffs)
    p = 1 + f * (c1 + f * (c2 + f * (c3 + f * c4)))
    print(f"minimax fit (float64 evaluation, f32 coefficients): {np.max(np.abs(p / np.exp2(f) - 1)):.3e}")
    print("EXP_I8_P (highest degree first):")
    for c in coeffs:
        print(f"    {np.format_float_scientific(c, unique=True)},  # {float(c).hex()}")
    worst, at = worst_over_every_float(coeffs)
    print(f"largest relative error of the f32 rule over every f32 in [{ZERO_BELOW}, 0]: "
          f"{worst:.4e} (at d = {at!r})")


if __name__ == "__main__":
    main()
