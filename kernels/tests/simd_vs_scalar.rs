//! Every SIMD kernel against the scalar reference.
//!
//! One macro expands into the same property tests for each kernel: lengths `0..=4 x
//! lanes + 1` and the model shapes, row counts across the tile sizes, and edge values
//! (zeros, large magnitudes, denormals, mixed signs). A kernel this CPU cannot run is
//! reported as skipped on stderr (its tests still pass, so a plain `cargo test` works on
//! any machine); CI proves each path runs with `PICOFORMER_KERNEL` (see `forced.rs`).
//!
//! Error budget (f32): a SIMD kernel sums the same products in another order, so for a
//! dot product of length k the difference from the reference is bounded by
//! `(k + 2) * eps * sum|a_i * b_i|` (plus the smallest normal, for denormal inputs);
//! `axpy` is exact up to fused-multiply-add rounding: `eps * |alpha * x| `.

use picoformer_kernels::scalar;
use picoformer_kernels::simd::{self, F32Simd};

/// Deterministic values in [-1, 1) (xorshift), scaled by `scale`.
fn values(n: usize, seed: u32, scale: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            ((s >> 8) as f32 / (1u32 << 23) as f32 - 1.0) * scale
        })
        .collect()
}

fn budget(a: &[f32], b: &[f32]) -> f32 {
    let magnitude: f32 = a.iter().zip(b).map(|(x, y)| (x * y).abs()).sum();
    (a.len().min(b.len()) as f32 + 2.0) * f32::EPSILON * magnitude + f32::MIN_POSITIVE
}

/// Inputs of every kind for one length: (a, b).
fn cases(n: usize) -> Vec<(Vec<f32>, Vec<f32>)> {
    let denormal = f32::MIN_POSITIVE / 8.0;
    vec![
        (values(n, 1, 1.0), values(n, 2, 1.0)),
        (vec![0.0; n], values(n, 3, 1.0)),
        (values(n, 4, 1e15), values(n, 5, 1e15)),
        (values(n, 6, denormal), values(n, 7, 1.0)),
        (vec![denormal; n], vec![2.0; n]),
        (values(n, 8, 1e-20), values(n, 9, 1e20)),
    ]
}

fn lengths<K: F32Simd>() -> Vec<usize> {
    let mut lengths: Vec<usize> = (0..=4 * K::LANES + 1).collect();
    lengths.extend([48, 64, 80, 256, 384, 512, 2048]);
    lengths
}

fn check_dot<K: F32Simd>(kernel: K) {
    for n in lengths::<K>() {
        for (a, b) in cases(n) {
            let want = scalar::dot(&a, &b);
            let got = simd::dot(kernel, &a, &b);
            assert!(
                (got - want).abs() <= budget(&a, &b),
                "{} dot n={n}: {got} vs {want}",
                K::NAME
            );
        }
    }
}

fn check_axpy<K: F32Simd>(kernel: K) {
    for n in lengths::<K>() {
        for (x, y) in cases(n) {
            let alpha = 0.75;
            let mut want = y.clone();
            scalar::axpy(alpha, &x, &mut want);
            let mut got = y.clone();
            simd::axpy(kernel, alpha, &x, &mut got);
            for (i, ((g, w), xi)) in got.iter().zip(&want).zip(&x).enumerate() {
                let tolerance = f32::EPSILON * (alpha * xi).abs().max(w.abs()) + f32::MIN_POSITIVE;
                assert!(
                    (g - w).abs() <= tolerance,
                    "{} axpy n={n} i={i}: {g} vs {w}",
                    K::NAME
                );
            }
        }
    }
}

fn check_linear<K: F32Simd>(kernel: K) {
    let shapes = lengths::<K>();
    for &k in shapes
        .iter()
        .filter(|&&k| k <= 2 * K::LANES + 3 || k == 64 || k == 512)
    {
        for rows in [1, 2, 3, 4, 5, 7, 9] {
            for n in [1, 3, 4, 5, 8, 9, 13] {
                for (scale, seed) in [(1.0, 11), (1e15, 12), (f32::MIN_POSITIVE / 4.0, 13)] {
                    let x = values(rows * k, seed, scale);
                    let w = values(n * k, seed + 100, 1.0);
                    let bias = values(n, seed + 200, 1.0);
                    let mut want = vec![f32::NAN; rows * n];
                    let mut got = vec![f32::NAN; rows * n];
                    scalar::linear(&x, &w, Some(&bias), k, &mut want);
                    simd::linear(kernel, &x, &w, Some(&bias), k, &mut got);
                    for r in 0..rows {
                        for o in 0..n {
                            let (xr, wo) = (&x[r * k..(r + 1) * k], &w[o * k..(o + 1) * k]);
                            let tolerance = budget(xr, wo) + f32::EPSILON * bias[o].abs();
                            let (g, e) = (got[r * n + o], want[r * n + o]);
                            assert!(
                                (g - e).abs() <= tolerance,
                                "{} linear rows={rows} n={n} k={k} [{r},{o}]: {g} vs {e}",
                                K::NAME
                            );
                        }
                    }
                }
            }
        }
    }
}

/// `linear_acc` over a column block `c..c + k` of `[n, stride]` weights, onto a `y`
/// that already holds values: same budget as `linear`, plus one rounding of `y`.
fn check_linear_acc<K: F32Simd>(kernel: K) {
    let shapes = lengths::<K>();
    for &k in shapes
        .iter()
        .filter(|&&k| k <= 2 * K::LANES + 3 || k == 64 || k == 512)
    {
        for (stride, col) in [(k, 0), (k + 5, 3), (2 * k + 1, k)] {
            for rows in [1, 2, 3, 4, 5, 7, 9] {
                for n in [1, 3, 4, 5, 8, 9, 13] {
                    for (scale, seed) in [(1.0, 21), (1e15, 22), (f32::MIN_POSITIVE / 4.0, 23)] {
                        let x = values(rows * k, seed, scale);
                        let w_full = values(n * stride, seed + 100, 1.0);
                        let w = &w_full[col..];
                        let y0 = values(rows * n, seed + 200, scale);
                        let mut want = y0.clone();
                        let mut got = y0.clone();
                        scalar::linear_acc(&x, w, stride, k, &mut want);
                        simd::linear_acc(kernel, &x, w, stride, k, &mut got);
                        for r in 0..rows {
                            for o in 0..n {
                                let xr = &x[r * k..(r + 1) * k];
                                let wo = &w[o * stride..o * stride + k];
                                let (g, e) = (got[r * n + o], want[r * n + o]);
                                let tolerance = budget(xr, wo)
                                    + 2.0 * f32::EPSILON * (y0[r * n + o].abs() + e.abs());
                                assert!(
                                    (g - e).abs() <= tolerance,
                                    "{} linear_acc rows={rows} n={n} k={k} stride={stride} \
                                     [{r},{o}]: {g} vs {e}",
                                    K::NAME
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Attention's per-head products: one query against the key rows of a head
/// (`dot_strided`) and the weighted sum of the value rows (`axpy_strided`), with the head
/// at an offset inside rows `stride` apart, for head widths across the block sizes and
/// row counts across `MR`.
fn check_strided<K: F32Simd>(kernel: K) {
    for &dk in lengths::<K>()
        .iter()
        .filter(|&&k| (1..=2 * K::LANES + 3).contains(&k) || k == 64)
    {
        for (stride, col) in [(dk, 0), (dk + 3, 2), (4 * dk, dk)] {
            for m in [0, 1, 3, 4, 5, 8, 13] {
                for (scale, seed) in [(1.0, 31), (1e15, 32), (f32::MIN_POSITIVE / 4.0, 33)] {
                    let q = values(dk, seed, scale);
                    let rows_full = values(m * stride + col, seed + 100, 1.0);
                    let rows = &rows_full[col..];
                    let mut want = vec![f32::NAN; m];
                    let mut got = vec![f32::NAN; m];
                    scalar::dot_strided(&q, rows, stride, &mut want);
                    simd::dot_strided(kernel, &q, rows, stride, &mut got);
                    for o in 0..m {
                        let tolerance = budget(&q, &rows[o * stride..o * stride + dk]);
                        assert!(
                            (got[o] - want[o]).abs() <= tolerance,
                            "{} dot_strided dk={dk} stride={stride} m={m} [{o}]: {} vs {}",
                            K::NAME,
                            got[o],
                            want[o]
                        );
                    }

                    // Weighted sum: the same as one simd::axpy per row, bit for bit, and
                    // within the rounding of every step from the scalar reference.
                    let alpha = values(m, seed + 200, 1.0);
                    let y0 = values(dk, seed + 300, scale);
                    let mut want = y0.clone();
                    let mut got = y0.clone();
                    let mut one_by_one = y0.clone();
                    scalar::axpy_strided(&alpha, rows, stride, &mut want);
                    simd::axpy_strided(kernel, &alpha, rows, stride, &mut got);
                    for (j, &a) in alpha.iter().enumerate() {
                        simd::axpy(
                            kernel,
                            a,
                            &rows[j * stride..j * stride + dk],
                            &mut one_by_one,
                        );
                    }
                    assert_eq!(
                        got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                        one_by_one.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                        "{} axpy_strided vs axpy per row, dk={dk} m={m}",
                        K::NAME
                    );
                    for i in 0..dk {
                        let magnitude: f32 = y0[i].abs()
                            + (0..m)
                                .map(|j| (alpha[j] * rows[j * stride + i]).abs())
                                .sum::<f32>();
                        let tolerance =
                            (m as f32 + 1.0) * f32::EPSILON * magnitude + f32::MIN_POSITIVE;
                        assert!(
                            (got[i] - want[i]).abs() <= tolerance,
                            "{} axpy_strided dk={dk} stride={stride} m={m} [{i}]: {} vs {}",
                            K::NAME,
                            got[i],
                            want[i]
                        );
                    }
                }
            }
        }
    }
}

macro_rules! kernel_tests {
    ($module:ident, $kernel:ty) => {
        mod $module {
            use super::*;

            fn kernel() -> Option<$kernel> {
                let found = <$kernel>::detect();
                if found.is_none() {
                    eprintln!(
                        "skipped: this CPU cannot run the {} kernel",
                        <$kernel>::NAME
                    );
                }
                found
            }

            #[test]
            fn dot_matches_scalar() {
                if let Some(k) = kernel() {
                    check_dot(k);
                }
            }

            #[test]
            fn axpy_matches_scalar() {
                if let Some(k) = kernel() {
                    check_axpy(k);
                }
            }

            #[test]
            fn linear_matches_scalar() {
                if let Some(k) = kernel() {
                    check_linear(k);
                }
            }

            #[test]
            fn attention_products_match_scalar() {
                if let Some(k) = kernel() {
                    check_strided(k);
                }
            }

            #[test]
            fn linear_acc_matches_scalar() {
                if let Some(k) = kernel() {
                    check_linear_acc(k);
                }
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
kernel_tests!(avx2, picoformer_kernels::x86_64::Avx2Fma);
#[cfg(target_arch = "x86_64")]
kernel_tests!(avx512, picoformer_kernels::x86_64::Avx512);
#[cfg(target_arch = "aarch64")]
kernel_tests!(neon, picoformer_kernels::aarch64::Neon);
#[cfg(pf_arm_fpu)]
kernel_tests!(arm_fpu, picoformer_kernels::arm::ArmFpu);
#[cfg(target_arch = "riscv64")]
kernel_tests!(rvv, picoformer_kernels::riscv::Rvv);
