"""Coefficients of the Helium GELU's erf (kernels/src/generic/lanes.rs, GELU_P).

The Helium kernels have no vector division, so the GELU's erf is written with a
polynomial and the exponential the softmax already vectorises:

    erfc(z) = exp(-g(z)),   g(z) = -ln(erfc(z)) = z P(z),   0 <= z <= Z_MAX

g is smooth and grows like z^2, so a polynomial P of degree 10 fits it on [0, 4] to
about 1e-7 (the erf's absolute error is erfc(z) times g's error, at most g's error).
Fitted here in double precision (least squares on Chebyshev nodes, mpmath's erfc as the
truth), rounded to f32 and printed highest degree first, then checked by evaluating the
f32 Horner scheme with fused multiply-adds (as Helium's VFMAS and the twin's fmaf do) over
a dense grid. Run: target/refenv/bin/python tools/reference/erf_poly.py
"""
import mpmath
import numpy as np
from numpy.polynomial import chebyshev as C

mpmath.mp.dps = 40
Z_MAX = 4.0
DEGREE = 10


def g_over_z(z):
    if z == 0:
        return 2 / mpmath.sqrt(mpmath.pi)
    return -mpmath.log(mpmath.erfc(z)) / z


def fit():
    nodes = np.cos(np.pi * (np.arange(4000) + 0.5) / 4000)  # Chebyshev nodes in (-1, 1)
    zs = (nodes + 1) / 2 * Z_MAX
    ys = np.array([float(g_over_z(mpmath.mpf(float(z)))) for z in zs])
    cheb = C.chebfit(nodes, ys, DEGREE)
    # to the monomial basis in z: u = 2 z / Z_MAX - 1
    mono = C.cheb2poly(cheb)  # in u
    coeffs = np.zeros(DEGREE + 1)
    for k, a in enumerate(mono):
        term = np.array([1.0])
        for _ in range(k):
            term = np.polynomial.polynomial.polymul(term, [-1.0, 2.0 / Z_MAX])
        coeffs[: len(term)] += a * term
    return [np.float32(c) for c in coeffs[::-1]]  # highest degree first


def horner_f32(coeffs, z):
    p = np.full_like(z, coeffs[0], dtype=np.float32)
    for c in coeffs[1:]:
        # a fused multiply-add: the exact product and sum (float64 holds both exactly
        # enough here: 24 x 24 bits of product plus the addend), rounded once to f32
        p = (p.astype(np.float64) * z.astype(np.float64) + np.float64(c)).astype(np.float32)
    return (p * z).astype(np.float32)


def main():
    coeffs = fit()
    zs = np.linspace(0, Z_MAX, 200001).astype(np.float32)
    g = horner_f32(coeffs, zs).astype(np.float64)
    erf_fit = 1 - np.exp(-g)
    erf_true = np.array([float(mpmath.erf(mpmath.mpf(float(z)))) for z in zs[::50]])
    err = np.max(np.abs(erf_fit[::50] - erf_true))
    print(f"// degree {DEGREE} on [0, {Z_MAX}]: erf's largest absolute error {err:.3e} "
          "(f32 polynomial, exact exponential)")
    print("pub const GELU_P: [f32; %d] = [" % len(coeffs))
    for c in coeffs:
        print(f"    {np.format_float_scientific(c, unique=True, trim='-')},")
    print("];")


if __name__ == "__main__":
    main()
