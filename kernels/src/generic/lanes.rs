//! Scalar twins of Helium's own definitions (`arch::arm_mve`): operations whose
//! definition on that kernel set differs from the reference by rounding only, because
//! the reference does not vectorise (a running sum in key order, one division per key;
//! libm's `erff`, with its divisions and branches). Each twin repeats the kernel's operations in the kernel's order, so the
//! kernel gives its bits on every input (firmware suite, `mps3-an547`); the host keeps
//! the reference (docs/spec.md, "Helium's attention softmax").
//!
//! Helium's vector instructions flush subnormal inputs and results to (signed) zero:
//! the twins flush where the kernel's operations can meet one ([`flush`]).

use super::f32::{exp_fast_nonpositive, max, sum_compensated};

/// Lanes of the lane-ordered sums (softmax, LayerNorm): element `j` is summed in lane
/// `j % LANES`.
pub const LANES: usize = 4;

/// `v`, or zero of `v`'s sign where `v` is subnormal: Helium's flush to zero.
#[inline]
pub fn flush(v: f32) -> f32 {
    if v.abs() < f32::MIN_POSITIVE {
        f32::from_bits(v.to_bits() & 0x8000_0000)
    } else {
        v
    }
}

/// The attention's softmax of `x * scale` in place, in Helium's lane order (the twin of
/// its kernel): every `x[j] * scale`; their maximum `m`; `e_j = exp_fast(x[j] - m)`,
/// summed by four compensated (Neumaier) running sums, key `j` in lane `j % 4` in key
/// order; the lanes' sums `s_l + c_l` combined by one more compensated sum in lane
/// order; then one reciprocal `r = 1 / sum` and `x[j] = e_j * r`. Subnormal values flush
/// to zero, as on Helium. A row whose elements are all `-inf` or NaN becomes zeros.
pub fn softmax_scaled_lanes(x: &mut [f32], scale: f32) {
    for v in x.iter_mut() {
        *v = flush(flush(*v) * scale);
    }
    let largest = max(x);
    if largest == f32::NEG_INFINITY {
        x.fill(0.0);
        return;
    }
    for v in x.iter_mut() {
        // (the exponential is 0 or at least 2^-126: it never meets a subnormal result)
        *v = exp_fast_nonpositive(flush(*v - largest));
    }
    let (sums, compensations) = lane_sums(x.iter().copied());
    let inverse = 1.0 / combine_lanes(&sums, &compensations);
    for v in x.iter_mut() {
        *v = flush(*v * inverse);
    }
}

/// `erf(z) = 1 - exp(-z P(z))` for `0 <= z <= GELU_Z_MAX`: `P`'s coefficients, highest
/// degree first (`tools/reference/erf_poly.py` fits `-ln(erfc(z)) / z`; the erf's
/// error is at most `-ln(erfc)`'s, about 4e-8 with an exact exponential).
pub const GELU_P: [f32; 11] = [
    -9.94628e-08,
    2.5187376e-06,
    -2.83903e-05,
    1.8635797e-04,
    -7.6670694e-04,
    1.8134171e-03,
    -2.4718294e-04,
    -1.9128649e-02,
    1.02775835e-01,
    6.366192e-01,
    // the fit's constant term: g'(0) = 2 / sqrt(pi), to f32
    core::f32::consts::FRAC_2_SQRT_PI,
];

/// Above this `z = |x| / sqrt 2`, `erfc(z) < 1.6e-8` is taken as 0 (`1 + erf` is then 2,
/// or 0 for negative `x`, as libm's `1 + erff` rounds it from a little above 3.9).
pub const GELU_Z_MAX: f32 = 4.0;

/// GELU in place as Helium computes it (the twin of its kernel; no division): with
/// `z = |x| * (1 / sqrt 2)` and `e = erfc(z) = exp_fast(-(z P(z)))` (Horner's rule with
/// fused multiply-adds, [`GELU_P`]; `e = 0` above [`GELU_Z_MAX`]),
/// `1 + erf(x / sqrt 2)` is `2 - e` for `x >= 0` and `e` for `x < 0` (no cancellation for
/// negative `x`), and `gelu(x) = (0.5 x) (1 + erf)`. Subnormal values flush to zero, as
/// on Helium.
pub fn gelu_poly(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = gelu_poly_one(*v);
    }
}

/// [`gelu_poly`] of one value.
#[inline]
pub fn gelu_poly_one(x: f32) -> f32 {
    let x = flush(x);
    flush(flush(0.5 * x) * one_plus_erf_poly(x))
}

/// `1 + erf(x / sqrt 2)` as [`gelu_poly`] computes it (`x` not subnormal).
#[inline]
pub fn one_plus_erf_poly(x: f32) -> f32 {
    let z = flush(x.abs() * core::f32::consts::FRAC_1_SQRT_2);
    let [first, rest @ ..] = GELU_P;
    let mut p = first;
    for c in rest {
        p = flush(libm::fmaf(p, z, c));
    }
    let g = flush(p * z);
    // (-g >= -18.2 on [0, GELU_Z_MAX]: the exponential is normal, never below its
    // threshold; above GELU_Z_MAX it is replaced)
    let e = if z > GELU_Z_MAX {
        0.0
    } else {
        exp_fast_nonpositive(-g)
    };
    if x >= 0.0 {
        -(e - 2.0)
    } else {
        e
    }
}

/// The lane-ordered softmax's total: `sum_compensated(s_l + c_l)` over the lanes in
/// order (scalar code, shared by the kernel and its twin).
#[inline]
pub fn combine_lanes(sums: &[f32; LANES], compensations: &[f32; LANES]) -> f32 {
    sum_compensated(sums.iter().zip(compensations).map(|(&s, &c)| s + c))
}

/// LayerNorm of one row in place as Helium computes it (the twin of its kernel): the
/// reference's formula (`generic::f32::layer_norm`) with both compensated sums taken in
/// lanes ([`lane_sums`]: element `i` in lane `i % 4`, combined by [`combine_lanes`]):
/// `mean = sum(x) * (1 / n)`, `var = sum((x - mean)^2) * (1 / n)`,
/// `x = (x - mean) * (1 / sqrt(var + eps)) * gamma + beta` (unfused, as the reference).
/// Subnormal values flush to zero, as on Helium. Elements past `gamma` are left as
/// they are and a missing or short `beta` adds 0, as in the reference.
pub fn layer_norm_lanes(x: &mut [f32], gamma: &[f32], beta: Option<&[f32]>, eps: f32) {
    let n = x.len();
    if n == 0 {
        return;
    }
    let inv_n = 1.0 / n as f32;
    let (sums, compensations) = lane_sums(x.iter().map(|&v| flush(v)));
    let mean = combine_lanes(&sums, &compensations) * inv_n;
    let (sums, compensations) = lane_sums(x.iter().map(|&v| {
        let d = flush(flush(v) - mean);
        flush(d * d)
    }));
    let var = combine_lanes(&sums, &compensations) * inv_n;
    let inv_std = 1.0 / super::f32::sqrt(var + eps);
    for (i, (v, &g)) in x.iter_mut().zip(gamma).enumerate() {
        let b = beta.and_then(|b| b.get(i)).copied().unwrap_or(0.0);
        let centred = flush(flush(*v) - mean);
        *v = flush(flush(flush(centred * inv_std) * flush(g)) + flush(b));
    }
}

/// Four compensated (Neumaier) running sums of `values`, element `i` in lane `i % 4` in
/// order: each lane's `(sum, compensation)`, every step flushed as on Helium.
pub fn lane_sums(values: impl Iterator<Item = f32>) -> ([f32; LANES], [f32; LANES]) {
    let mut sums = [0.0f32; LANES];
    let mut compensations = [0.0f32; LANES];
    for (lane, v) in (0..LANES).cycle().zip(values) {
        if let (Some(s), Some(c)) = (sums.get_mut(lane), compensations.get_mut(lane)) {
            let t = flush(*s + v);
            let lost = if s.abs() >= v.abs() {
                flush(*s - t) + v
            } else {
                flush(v - t) + *s
            };
            *c = flush(*c + flush(lost));
            *s = t;
        }
    }
    (sums, compensations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generic::f32::softmax;

    fn row(n: usize, seed: u32, spread: f32) -> [f32; 300] {
        let mut state = seed;
        core::array::from_fn(|i| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            if i < n {
                spread * ((state >> 8) as f32 / (1u32 << 23) as f32 - 1.0)
            } else {
                0.0
            }
        })
    }

    /// Within a few ulp of the reference softmax (key-order sum, one division per key)
    /// on rows of every length up to 300 and several spreads, and summing to 1.
    #[test]
    fn lane_softmax_is_the_reference_within_rounding() {
        for n in 1..300 {
            for (salt, spread) in [1.0f32, 8.0, 40.0, 200.0].into_iter().enumerate() {
                let mut want = row(n, n as u32 * 4 + salt as u32, spread);
                let mut got = want;
                for v in want.iter_mut() {
                    *v *= 0.125;
                }
                softmax(&mut want[..n]);
                softmax_scaled_lanes(&mut got[..n], 0.125);
                let mut total = 0.0f64;
                for (&g, &w) in got[..n].iter().zip(&want[..n]) {
                    let tolerance = 4.0 * f32::EPSILON * w + f32::MIN_POSITIVE;
                    assert!(
                        (g - w).abs() <= tolerance,
                        "n {n} spread {spread}: {g} vs {w}"
                    );
                    total += g as f64;
                }
                assert!((total - 1.0).abs() < 1e-5, "n {n}: sums to {total}");
            }
        }
    }

    /// The per-lane compensation keeps a long row of small terms: 1 and 2^20 terms of
    /// 2^-24 each (half an ulp of the running sum, which a plain f32 sum drops) give the
    /// largest probability 1 / (1 + 2^-4), not 1.
    #[test]
    fn lane_softmax_keeps_small_terms_of_long_rows() {
        let small = libm::logf(libm::ldexpf(1.0, -24));
        let mut x = [small; 1 << 12];
        x[0] = 0.0;
        // 2^12 keys of e^small: 2^-12 in all, so the largest is 1 / (1 + 2^-12)
        softmax_scaled_lanes(&mut x, 1.0);
        let want = 1.0 / (1.0 + libm::ldexpf(1.0, -12) * (1.0 - libm::ldexpf(1.0, -12)));
        assert!(
            (x[0] - want).abs() <= 2.0 * f32::EPSILON,
            "{} vs {want}",
            x[0]
        );
        let mut plain = 1.0f32;
        for _ in 1..(1 << 12) {
            plain += crate::generic::f32::exp_fast(small);
        }
        assert_eq!(
            plain, 1.0,
            "the plain sum drops the terms (the test's premise)"
        );
    }

    /// The Helium GELU against the reference's (libm's `erff`), over every f32 in
    /// `[-8, 8]` one in 257 (every exponent, mantissas spread; the full sweep, `--ignored`,
    /// checks the same bounds): `1 + erf` (the bracket of `0.5 x (1 + erf(x / sqrt 2))`)
    /// within 1.2e-7 of libm's `1 + erff` (an ulp of `[1, 2)`) and 1.5e-7 of the exact (f64
    /// `erf`), so `gelu` within 0.7e-7 `|x|` plus 2 ulp of libm's; exactly 0 at 0 and for
    /// `x <= -5.66`, `x` for `x >= 5.66`.
    #[test]
    fn gelu_poly_is_libm_gelu_within_its_bound() {
        // Miri interprets libm's erf: ~2,000 values instead of ~8 million.
        gelu_sweep(if cfg!(miri) { 1_000_003 } else { 257 });
    }

    #[test]
    #[ignore = "every f32 in [-8, 8] (about 2.1e9 values): minutes in release"]
    fn gelu_poly_is_libm_gelu_within_its_bound_everywhere() {
        gelu_sweep(1);
    }

    fn gelu_sweep(step: usize) {
        let (mut vs_libm, mut vs_exact) = (0.0f64, 0.0f64);
        for sign in [0u32, 0x8000_0000] {
            for bits in (0..=8.0f32.to_bits()).step_by(step) {
                let x = f32::from_bits(bits | sign);
                if flush(x) != x || x == 0.0 {
                    continue;
                }
                let ours = one_plus_erf_poly(x);
                let libm_bracket = 1.0 + libm::erff(x * core::f32::consts::FRAC_1_SQRT_2);
                let exact = 1.0 + libm::erf(f64::from(x) * core::f64::consts::FRAC_1_SQRT_2);
                vs_libm = vs_libm.max(f64::from(ours - libm_bracket).abs());
                vs_exact = vs_exact.max((f64::from(ours) - exact).abs());
                let (got, want) = (gelu_poly_one(x), 0.5 * x * libm_bracket);
                if flush(want) == want {
                    let error = f64::from(got - want).abs();
                    let bound = 0.7e-7 * f64::from(x.abs())
                        + 2.0 * f64::from(f32::EPSILON) * f64::from(want.abs());
                    assert!(error <= bound, "gelu({x}) = {got}, libm's {want}");
                }
            }
        }
        std::println!("1 + erf: largest error {vs_libm:e} against libm's, {vs_exact:e} exact");
        assert!(vs_libm <= 1.2e-7 && vs_exact <= 1.5e-7);
        assert_eq!(gelu_poly_one(0.0), 0.0);
        assert_eq!(gelu_poly_one(-5.7), 0.0);
        assert_eq!(gelu_poly_one(5.7), 5.7);
        assert!(gelu_poly_one(f32::NAN).is_nan());
        assert_eq!(gelu_poly_one(f32::INFINITY), f32::INFINITY);
    }

    /// Within a few ulp of the reference LayerNorm (key-order compensated sums) on rows of
    /// every length up to 300, with offsets that make the mean's sum cancel, with and
    /// without `beta`; a short `gamma` leaves the rest of the row, as the reference does.
    #[test]
    fn lane_layer_norm_is_the_reference_within_rounding() {
        use crate::generic::f32::layer_norm;
        for n in 1..300 {
            for (salt, offset) in [0.0f32, 3.0, -1000.0].into_iter().enumerate() {
                let mut want = row(n, n as u32 * 3 + salt as u32, 2.0);
                for v in want.iter_mut() {
                    *v += offset;
                }
                let gamma = row(n, 77, 1.5);
                let beta = row(n, 78, 0.5);
                let beta = (salt != 1).then_some(&beta[..n]);
                let mut got = want;
                layer_norm(&mut want[..n], &gamma[..n], beta, 1e-5);
                layer_norm_lanes(&mut got[..n], &gamma[..n], beta, 1e-5);
                // the mean's rounding, times 1 / std (up to ~600 at offset -1000), then
                // times gamma
                let slack = if offset == -1000.0 { 2e-3 } else { 1e-5 };
                for (&g, &w) in got[..n].iter().zip(&want[..n]) {
                    assert!((g - w).abs() <= slack, "n {n} offset {offset}: {g} vs {w}");
                }
            }
        }
        let mut x = [1.0, 2.0, 3.0, 4.0];
        layer_norm_lanes(&mut x, &[1.0, 1.0], None, 0.0);
        assert_eq!(&x[2..], &[3.0, 4.0]);
        assert!((x[0] + 1.341_640_8).abs() < 1e-6 && (x[1] + 0.447_213_6).abs() < 1e-6);
    }

    /// All `-inf` (or NaN) rows give zeros; a NaN among numbers gives NaN; `-inf` keys get 0.
    #[test]
    fn lane_softmax_edges() {
        let mut x = [f32::NEG_INFINITY; 5];
        softmax_scaled_lanes(&mut x, 0.125);
        assert_eq!(x, [0.0; 5]);
        let mut x = [f32::NAN; 3];
        softmax_scaled_lanes(&mut x, 0.125);
        assert_eq!(x, [0.0; 3]);
        let mut x = [1.0, f32::NEG_INFINITY, 1.0, f32::NEG_INFINITY, 1.0, 1.0];
        softmax_scaled_lanes(&mut x, 1.0);
        assert_eq!(x, [0.25, 0.0, 0.25, 0.0, 0.25, 0.25]);
        let mut x = [1.0, f32::NAN, 2.0];
        softmax_scaled_lanes(&mut x, 1.0);
        assert!(x.iter().all(|v| v.is_nan()));
        assert_eq!(flush(f32::MIN_POSITIVE / 2.0), 0.0);
        assert_eq!(
            flush(-f32::MIN_POSITIVE / 2.0).to_bits(),
            (-0.0f32).to_bits()
        );
        assert_eq!(flush(f32::MIN_POSITIVE), f32::MIN_POSITIVE);
    }
}
