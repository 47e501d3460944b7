//! Every kernel of every dtype against the scalar reference.
//!
//! One macro ([`kernel_tests`]) expands into the same property tests for each kernel set
//! of this target ([`sets`]: its f32, f16 and int8 members); a member the set lacks
//! ([`picoformer_kernels::dispatch::Absent`]) or this CPU cannot run is reported as
//! skipped on stderr (its tests still pass, so a plain `cargo test` works on any machine);
//! CI proves each path runs with `PICOFORMER_KERNEL` (see `forced.rs`). Test names start
//! with their dtype (`f32_`, `f16_`, `i8_`), so a run can pick one.
//!
//! - f32 (the sum of squares: bit for bit the kernel's dot of a row with itself; RMSNorm's
//!   scaling and SwiGLU's gate bit for bit): lengths
//!   `0..=4 x lanes + 1` and the model shapes, row counts across the tile
//!   sizes, and edge values (zeros, large magnitudes, denormals, mixed signs). Error
//!   budget: a SIMD kernel sums the same products in another order, so for a dot product
//!   of length k the difference from the reference is bounded by
//!   `(k + 2) * eps * sum|a_i * b_i|` (plus the smallest normal, for denormal inputs);
//!   `axpy` is exact up to fused-multiply-add rounding: `eps * |alpha * x| `. A kernel
//!   that declares `ROW_BY_ROW` (the frame then computes row by row) gives the same bits
//!   from a tile of rows as from each row alone.
//! - f16: the frame with the set's kernel against [`generic::f16::linear_f16`] within the
//!   f32 budget (the widening is exact, only the order of the sums differs), odd `k` and
//!   rows off word boundaries included; the kernel's whole tiles alone too. On x86_64 the
//!   AVX2 and AVX-512 f16 kernels give the bits of the kernel before issue 18
//!   (`Avx2F16Plain`), input rows 1–9 and `n % 4 != 0` included.
//! - int8: the frame with the set's kernel must reproduce [`generic::i8::linear_i8`]
//!   **bit for bit** (the integer sums are exact and the epilogue is shared), for
//!   reduction lengths `0..=4 x BLOCK + 1` and the model shapes, 1–9 weight rows and 1–9
//!   input rows, and edge values (weights at -128 and 127, all-zero rows, huge, tiny and
//!   denormal activations); the raw integer tiles against [`generic::i8::dot_i8`].

use picoformer_kernels::dispatch::{sets, KernelSet};
use picoformer_kernels::frame::crc32c::Crc32cKernel;
use picoformer_kernels::frame::f16::F16Dot;
use picoformer_kernels::frame::f32::{self as simd, F32Simd, MR};
use picoformer_kernels::frame::i8::I8Dot;
use picoformer_kernels::generic::{self, attention_i8, f32 as scalar};
use picoformer_kernels::quant::{self, f16, quantize_row, Activations, I8Matrix, Matrix};
use picoformer_kernels::{active_kernel_for, last_kernel, Dtype, Kernel};

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
            // SwiGLU's gate, bit for bit (the cases' 1e15 and 1e20 scales reach exp's 0
            // and infinity; -88..=89 in steps of 1/8 crosses both edges)
            let mut gates = a.clone();
            gates.extend((0..1416).map(|i| -88.0 + i as f32 / 8.0));
            let ups: Vec<f32> = b
                .iter()
                .copied()
                .chain((0..1416).map(|i| 0.5 - (i % 3) as f32))
                .collect();
            let (mut got_gates, mut want_gates) = (gates.clone(), gates);
            kernel.silu_gate(&mut got_gates, &ups);
            scalar::silu_gate(&mut want_gates, &ups);
            assert_eq!(
                got_gates.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                want_gates.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "{} silu_gate n={n}",
                K::NAME
            );
            // RMSNorm's output, bit for bit
            let (mut got_scaled, mut want_scaled) = (a.clone(), a.clone());
            kernel.scale_by_gamma(&mut got_scaled, &b, 0.375);
            scalar::scale_by_gamma(&mut want_scaled, &b, 0.375);
            assert_eq!(
                got_scaled.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                want_scaled.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "{} scale_by_gamma n={n}",
                K::NAME
            );
            // the sum of squares (RMSNorm): the scalar reference's dot of `a` with
            // itself, bit for bit on every kernel (an int8 llama model's tokens must not
            // depend on the kernel: its activations are quantized after each norm)
            assert_eq!(
                simd::square_sum(kernel, &a).to_bits(),
                scalar::dot(&a, &a).to_bits(),
                "{} square_sum n={n}",
                K::NAME
            );
        }
    }
}

/// LayerNorm of many rows at once gives every row the bits the kernel's one-row
/// LayerNorm gives it (blocks of rows in lanes and the rows left over; special values in
/// some rows must not reach the others).
fn check_layer_norm_rows<K: F32Simd>(kernel: K) {
    for d in [1, 7, 16, 33, 512] {
        let gamma = values(d, 40, 1.0);
        let beta = values(d, 41, 1.0);
        for rows in [1, 15, 16, 17, 40] {
            let mut x: Vec<f32> = values(rows * d, 42 + rows as u32, 1.0)
                .iter()
                .enumerate()
                .map(|(i, v)| v * (1 + i % 5) as f32 * 37.0)
                .collect();
            // A row with a NaN, a constant row (zero variance), a row that overflows.
            if rows > 3 {
                x[d] = f32::NAN;
                x[2 * d..3 * d].fill(-0.0);
                x[3 * d] = 3.0e38;
            }
            for beta in [Some(&beta[..]), None] {
                let mut all = x.clone();
                kernel.layer_norm_rows(&mut all, d, &gamma, beta, 1e-5);
                for (r, row) in x.chunks_exact(d).enumerate() {
                    let mut alone = row.to_vec();
                    kernel.layer_norm(&mut alone, &gamma, beta, 1e-5);
                    for (i, (g, w)) in all[r * d..(r + 1) * d].iter().zip(&alone).enumerate() {
                        // (a NaN's sign and payload are not specified: any NaN for a NaN)
                        assert!(
                            g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                            "{} layer_norm_rows d {d} rows {rows} row {r} [{i}]: {g} against {w}",
                            K::NAME
                        );
                    }
                }
            }
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

/// A kernel that declares [`F32Simd::ROW_BY_ROW`] must keep its promise, on which the
/// frame's row-by-row products rest: a tile of two input rows gives, bit for bit, what
/// each row gives alone and what [`F32Simd::dot_rows`] gives; `axpy_tile` what `MR`
/// `axpy_blocks` calls give.
fn check_row_by_row<K: F32Simd>(kernel: K) {
    if !K::ROW_BY_ROW {
        return;
    }
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for blocks in [0, 1, 2, 5, 8] {
        // rows longer than the blocks, as the frame passes them (it adds the tails)
        let k = blocks * K::LANES + 3;
        for (scale, seed) in [(1.0, 41), (1e15, 42), (f32::MIN_POSITIVE / 4.0, 43)] {
            let x = values(2 * k, seed, scale);
            let w = values(MR * k, seed + 100, 1.0);
            let (x0, x1) = x.split_at(k);
            let w_tile: [&[f32]; MR] = core::array::from_fn(|m| &w[m * k..(m + 1) * k]);
            let [pair0, pair1] = kernel.dot_tile::<2>([x0, x1], w_tile, blocks);
            for (x_row, pair) in [(x0, pair0), (x1, pair1)] {
                let [alone] = kernel.dot_tile::<1>([x_row], w_tile, blocks);
                let mut rows = [f32::NAN; MR];
                kernel.dot_rows(x_row, &w, k, blocks, &mut rows);
                assert_eq!(bits(&pair), bits(&alone), "{} dot_tile k={k}", K::NAME);
                assert_eq!(bits(&pair), bits(&rows), "{} dot_rows k={k}", K::NAME);
            }

            let alpha: [f32; MR] = core::array::from_fn(|m| 0.25 - m as f32);
            let y0 = values(k, seed + 200, scale);
            let (mut tile, mut one_by_one) = (y0.clone(), y0);
            kernel.axpy_tile(alpha, w_tile, &mut tile, blocks);
            for (a, w_row) in alpha.into_iter().zip(w_tile) {
                kernel.axpy_blocks(a, w_row, &mut one_by_one, blocks);
            }
            assert_eq!(
                bits(&tile),
                bits(&one_by_one),
                "{} axpy_tile k={k}",
                K::NAME
            );
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

/// The fused attention's 8-column loops (`scores_head8`, `weighted_sum_head8`) against
/// the scalar reference **bit for bit** (both round every product and every sum in the
/// same order; the `_fma` twins for a kernel that declares `HEAD8_FMA`), the pass of
/// exponentials and weighted sum too (scores past exp's zero and a NaN), with the head at an offset inside rows `stride` apart, row counts from 0,
/// large, denormal and NaN values; then the whole dispatched `attention_grouped_fused`
/// against the scalar one (head widths 8 and 5, grouped and not).
fn check_fused<K: F32Simd>(kernel: K) {
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for (stride, col) in [(8, 0), (11, 3), (32, 16)] {
        for m in [0, 1, 2, 7, 13, 40] {
            for (scale, seed) in [(1.0, 41), (1e15, 42), (f32::MIN_POSITIVE / 4.0, 43)] {
                let q: [f32; 8] = core::array::from_fn(|i| values(8, seed, scale)[i]);
                let mut rows_full = values(m * stride + col + 8, seed + 100, 1.0);
                if m > 2 {
                    rows_full[col + stride + 1] = f32::NAN;
                }
                let rows = &rows_full[col..];
                let mut want = vec![-1.0; m + 2];
                let mut got = want.clone();
                let want_max = if K::HEAD8_FMA {
                    scalar::scores_head8_fma(&q, rows, stride, &mut want)
                } else {
                    scalar::scores_head8(&q, rows, stride, &mut want)
                };
                let got_max = kernel.scores_head8(&q, rows, stride, &mut got);
                assert_eq!(
                    bits(&got),
                    bits(&want),
                    "{} scores_head8 stride={stride} m={m}",
                    K::NAME
                );
                assert_eq!(
                    got_max.to_bits(),
                    want_max.to_bits(),
                    "{} max m={m}",
                    K::NAME
                );
                let weights = values(m, seed + 200, 1.0);
                let (mut got_sum, mut want_sum) = ([f32::NAN; 8], [f32::NAN; 8]);
                kernel.weighted_sum_head8(&weights, rows, stride, &mut got_sum);
                if K::HEAD8_FMA {
                    scalar::weighted_sum_head8_fma(&weights, rows, stride, &mut want_sum);
                } else {
                    scalar::weighted_sum_head8(&weights, rows, stride, &mut want_sum);
                }
                assert_eq!(
                    bits(&got_sum),
                    bits(&want_sum),
                    "{} weighted_sum_head8 stride={stride} m={m}",
                    K::NAME
                );
                // The exponentials' pass: scores from 0 down past exp's zero (-87.33),
                // a NaN among them when m > 2.
                let mut scores: Vec<f32> = (0..m).map(|j| -3.0 * j as f32 + 0.25).collect();
                if m > 2 {
                    scores[2] = f32::NAN;
                }
                let largest = 0.25;
                let (mut got_ws, mut want_ws) = ([f32::NAN; 8], [f32::NAN; 8]);
                let got_total = kernel.exp_weighted_sum_head8(
                    &mut scores.clone(),
                    largest,
                    rows,
                    stride,
                    &mut got_ws,
                );
                let want_total = if K::HEAD8_FMA {
                    scalar::exp_weighted_sum_head8_fma(
                        &mut scores,
                        largest,
                        rows,
                        stride,
                        &mut want_ws,
                    )
                } else {
                    scalar::exp_weighted_sum_head8(&mut scores, largest, rows, stride, &mut want_ws)
                };
                assert_eq!(
                    (bits(&got_ws), got_total.to_bits()),
                    (bits(&want_ws), want_total.to_bits()),
                    "{} exp_weighted_sum_head8 stride={stride} m={m}",
                    K::NAME
                );
            }
        }
    }
    for (dk, heads, kv_heads) in [(8, 8, 4), (8, 3, 3), (8, 6, 1), (5, 4, 2)] {
        for m in [0, 1, 9, 33] {
            let d = dk * heads;
            let kv_d = dk * kv_heads;
            let keys = values(m * kv_d, 51, 2.0);
            let vals = values(m * kv_d, 52, 1.0);
            let mut want = values(d, 53, 1.0);
            let mut got = want.clone();
            let (mut s1, mut s2) = (vec![0.0; m], vec![0.0; m]);
            // the dispatched call runs the active kernel: the fused twin where that is an
            // Arm kernel (this set, under qemu-arm) or the forced `scalar-fma`
            let active_fma = matches!(
                picoformer_kernels::active_kernel(),
                Kernel::ArmFpu | Kernel::Mve | Kernel::ScalarFma
            );
            if active_fma {
                scalar::attention_grouped_fused_fma(
                    &mut want, &keys, &vals, heads, kv_heads, &mut s1,
                );
            } else {
                scalar::attention_grouped_fused(&mut want, &keys, &vals, heads, kv_heads, &mut s1);
            }
            picoformer_kernels::attention_grouped_fused(
                &mut got, &keys, &vals, heads, kv_heads, &mut s2,
            );
            assert_eq!(
                bits(&got),
                bits(&want),
                "{} attention_grouped_fused dk={dk} m={m}",
                K::NAME
            );
        }
    }
}

fn xorshift(seed: u32) -> impl FnMut() -> u32 {
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    move || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        s
    }
}

fn f32s(n: usize, seed: u32, scale: f32) -> Vec<f32> {
    let mut next = xorshift(seed);
    (0..n)
        .map(|_| ((next() >> 8) as f32 / (1u32 << 23) as f32 - 1.0) * scale)
        .collect()
}

fn i8s(n: usize, seed: u32) -> Vec<i8> {
    let mut next = xorshift(seed);
    (0..n).map(|_| (next() >> 13) as u8 as i8).collect()
}

fn block_lengths(block: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..=4 * block + 1).collect();
    v.extend([48, 64, 80, 256, 384, 512, 1024, 2048]);
    v
}

/// Weight matrices of every kind for `n` rows of `k`: (values, scales).
fn weight_cases(n: usize, k: usize) -> Vec<(Vec<i8>, Vec<f32>)> {
    let scales = f32s(n, 11, 0.05)
        .iter()
        .map(|s| s.abs())
        .collect::<Vec<_>>();
    vec![
        (i8s(n * k, 1), scales.clone()),
        (vec![-128; n * k], scales.clone()),
        (vec![127; n * k], scales.clone()),
        (vec![0; n * k], scales.clone()),
        (i8s(n * k, 2), vec![0.0; n]),
    ]
}

/// Activations of every kind for `rows` rows of `k`.
fn activation_cases(rows: usize, k: usize) -> Vec<Vec<f32>> {
    let denormal = f32::MIN_POSITIVE / 8.0;
    vec![
        f32s(rows * k, 3, 1.0),
        vec![0.0; rows * k],
        f32s(rows * k, 4, 1e30),
        f32s(rows * k, 5, denormal),
        vec![-2.5; rows * k],
        f32s(rows * k, 6, 1e-3)
            .iter()
            .enumerate()
            .map(|(i, v)| if i % 7 == 0 { v * 1e4 } else { *v })
            .collect(),
    ]
}

fn check_i8_linear<K: I8Dot>(kern: K) {
    for k in block_lengths(K::BLOCK) {
        let (rows_list, n_list): (&[usize], &[usize]) = if k <= 4 * K::BLOCK + 1 {
            (&[1, 2, 3], &[1, 4, 5, 9])
        } else {
            (&[1, 9], &[1, 4, 7])
        };
        for &n in n_list {
            for &rows in rows_list {
                for (values, scales) in weight_cases(n, k) {
                    let w = I8Matrix {
                        values: &values,
                        scales: &scales,
                    };
                    let bias = f32s(n, 9, 1.0);
                    for x in activation_cases(rows, k) {
                        let mut want = vec![f32::NAN; rows * n];
                        let mut q = vec![0i8; k];
                        generic::i8::linear_i8(&x, w, Some(&bias), k, &mut want, &mut q);
                        // The buffer the engine gives (`activation_values`), misaligned by
                        // 0, 1 and 3 bytes (kernels that store the row as 16-bit pairs
                        // align inside it), and one smaller than the row count (blocks of
                        // rows; too small for the pairs, so the generic frame).
                        let cap = rows.min(2);
                        let needed = quant::activation_values(rows, k).expect("small sizes");
                        for (offset, len, scales) in [
                            (0, needed, rows),
                            (1, needed, rows),
                            (3, needed, rows),
                            (0, cap * k, cap),
                        ] {
                            let mut values = vec![0i8; offset + len];
                            let mut act_scales = vec![0.0f32; quant::activation_scales(scales)];
                            let mut act = Activations {
                                values: &mut values[offset..],
                                scales: &mut act_scales,
                            };
                            let mut got = vec![f32::NAN; rows * n];
                            // The kernel's whole product: its own pass where it has one,
                            // else the frame over its tiles.
                            kern.linear(&x, w, Some(&bias), k, &mut got, &mut act);
                            for (i, (g, r)) in got.iter().zip(&want).enumerate() {
                                assert!(
                                    g.to_bits() == r.to_bits() || (g.is_nan() && r.is_nan()),
                                    "{} int8 linear k={k} n={n} rows={rows} offset={offset} \
                                     len={len} i={i}: {g} vs {r}",
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

/// The SMLAD kernel's pair layout holds exactly `quantize_row`'s integers and scale, NaN,
/// infinity and the one rounding edge included.
#[cfg(target_arch = "arm")]
#[test]
fn i8_quantize_row_pairs_matches_quantize_row() {
    use picoformer_kernels::arch::arm_fpu::i8::{pair_value, quantize_row_pairs};
    let mut cases = activation_cases(1, 37);
    cases.push((0..37).map(|i| i as f32 * 0.25 - 4.0).collect());
    let mut with_nan = f32s(37, 7, 3.0);
    with_nan[5] = f32::NAN;
    cases.push(with_nan);
    let mut with_inf = f32s(37, 8, 3.0);
    with_inf[9] = f32::NEG_INFINITY;
    cases.push(with_inf);
    // 0.5 - 2^-25 times 127 / amax: the one product where `p + 0.5` rounds up to 1.0.
    cases.push(vec![
        127.0,
        0.5 - 1.0 / 33_554_432.0,
        -(0.5 - 1.0 / 33_554_432.0),
        -0.0,
    ]);
    // With `amax` 127 the products are the values: the neighbours of half-integers, of
    // the one rounding edge and of powers of two (where `p + 0.5` or the kernels' nudge
    // of `p` could cross a rounding boundary), each with both signs.
    let mut edges = vec![127.0f32];
    for base in [0.25f32, 0.5, 1.0, 1.5, 2.0, 2.5, 63.5, 64.0, 126.5, 127.0] {
        let mut v = base;
        for _ in 0..3 {
            v = f32::from_bits(v.to_bits() - 1);
            edges.extend([v, -v]);
        }
        let mut v = base;
        for _ in 0..3 {
            edges.extend([v, -v]);
            v = f32::from_bits(v.to_bits() + 1);
        }
    }
    edges.retain(|v| v.abs() <= 127.0);
    cases.push(edges);
    for x in cases {
        let mut want = vec![0i8; x.len()];
        let want_scale = quant::quantize_row(&x, &mut want);
        let mut pairs = vec![0xdead_beefu32; 2 * x.len().div_ceil(4)];
        let scale = quantize_row_pairs(&x, &mut pairs);
        assert_eq!(scale.to_bits(), want_scale.to_bits(), "{x:?}");
        for (i, &q) in want.iter().enumerate() {
            assert_eq!(pair_value(&pairs, i), q, "element {i} of {x:?}");
        }
    }
}

fn check_i8_tiles<K: I8Dot>(kern: K) {
    for k in block_lengths(K::BLOCK) {
        let blocks = k / K::BLOCK;
        let head = blocks * K::BLOCK;
        for seed in 0..4u32 {
            // Activations never reach -128 (the quantizer's range is symmetric).
            let x: Vec<i8> = i8s(k, 100 + seed).iter().map(|&v| v.max(-127)).collect();
            let w: Vec<Vec<i8>> = (0..MR as u32).map(|m| i8s(k, 200 + 7 * seed + m)).collect();
            let got = kern.dot_tile(&x, core::array::from_fn(|m| &w[m][..]), blocks);
            for (m, g) in got.iter().enumerate() {
                let want = generic::i8::dot_i8(&x[..head], &w[m][..head]);
                assert_eq!(*g, want, "{} dot_tile k={k} row {m}", K::NAME);
            }
        }
        // Several input rows `k` apart at once (`dot_tiles`), -128 weights included.
        for rows in [1, 2, 3, 4, 5, 7, 8] {
            let x: Vec<i8> = i8s(rows * k, 300 + rows as u32)
                .iter()
                .map(|&v| v.max(-127))
                .collect();
            let w: Vec<Vec<i8>> = (0..MR as u32).map(|m| i8s(k, 400 + m)).collect();
            let mut got = vec![[i32::MIN; MR]; rows];
            kern.dot_tiles(&x, k, core::array::from_fn(|m| &w[m][..]), blocks, &mut got);
            for (r, sums) in got.iter().enumerate() {
                for (m, g) in sums.iter().enumerate() {
                    let want = generic::i8::dot_i8(&x[r * k..r * k + head], &w[m][..head]);
                    assert_eq!(
                        *g,
                        want,
                        "{} dot_tiles k={k} rows={rows} row {r} weight row {m}",
                        K::NAME
                    );
                }
            }
        }
    }
}

/// The one-row product over all weight rows (`dot_rows_i8`, a greedy decoding step's
/// sums) against the scalar dot product: row counts around the kernels' passes (4, 8, 16
/// rows) and tiles, every block length with a tail, extreme weights and inputs (the
/// activations' range is symmetric: -127..=127).
fn check_i8_dot_rows<K: I8Dot>(kern: K) {
    for k in block_lengths(K::BLOCK) {
        let blocks = k / K::BLOCK;
        let head = blocks * K::BLOCK;
        for n in [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 20, 21, 33, 37] {
            let random = i8s(n * k, 500 + n as u32);
            let x_random: Vec<i8> = i8s(k, 600 + n as u32)
                .iter()
                .map(|&v| v.max(-127))
                .collect();
            for (x, w) in [
                (x_random.clone(), random.clone()),
                (vec![127; k], vec![-128; n * k]),
                (vec![-127; k], vec![-128; n * k]),
                (vec![127; k], vec![127; n * k]),
                (vec![-127; k], random),
                (x_random, vec![127; n * k]),
            ] {
                let mut got = vec![i32::MIN; n];
                kern.dot_rows_i8(&x, &w, k, blocks, &mut got);
                for (o, g) in got.iter().enumerate() {
                    let want = generic::i8::dot_i8(&x[..head], &w[o * k..o * k + head]);
                    assert_eq!(*g, want, "{} dot_rows_i8 k={k} n={n} row {o}", K::NAME);
                }
            }
        }
    }
}

/// One input row through the whole layer (the frame's one-row path, the kernel's own pass
/// where it has one, and the tile-by-tile path it replaces) against the reference, bit for
/// bit: output counts over the kernels' passes and the frame's chunks of rows, lengths
/// with a tail, every weight and activation case.
fn check_i8_linear_one_row<K: I8Dot>(kern: K) {
    let mut shapes: Vec<(usize, usize)> = Vec::new();
    for k in [1, 63, 64, 65, 100, 128, 129] {
        for n in [1, 3, 4, 5, 15, 16, 17, 21, 37, 255, 256, 257, 300, 531] {
            shapes.push((k, n));
        }
    }
    for k in [512, 512 + 17, 2048, 2048 + 63] {
        for n in [1, 9, 16, 21, 37] {
            shapes.push((k, n));
        }
    }
    for (k, n) in shapes {
        let bias = f32s(n, 9, 1.0);
        for (values, scales) in weight_cases(n, k) {
            let w = I8Matrix {
                values: &values,
                scales: &scales,
            };
            for x in activation_cases(1, k) {
                let mut want = vec![f32::NAN; n];
                let mut q = vec![0i8; k];
                generic::i8::linear_i8(&x, w, Some(&bias), k, &mut want, &mut q);
                let mut values = vec![0i8; quant::activation_values(1, k).expect("small")];
                let mut act_scales = vec![0.0f32; quant::activation_scales(1)];
                let mut act = Activations {
                    values: &mut values,
                    scales: &mut act_scales,
                };
                for path in 0..3 {
                    let mut got = vec![f32::NAN; n];
                    match path {
                        0 => kern.linear(&x, w, Some(&bias), k, &mut got, &mut act),
                        1 => picoformer_kernels::frame::i8::linear_i8(
                            kern,
                            &x,
                            w,
                            Some(&bias),
                            k,
                            &mut got,
                            &mut act,
                        ),
                        _ => picoformer_kernels::frame::i8::linear_i8_by_tiles(
                            kern,
                            &x,
                            w,
                            Some(&bias),
                            k,
                            &mut got,
                            &mut act,
                        ),
                    }
                    for (i, (g, r)) in got.iter().zip(&want).enumerate() {
                        assert!(
                            g.to_bits() == r.to_bits() || (g.is_nan() && r.is_nan()),
                            "{} int8 one-row linear (path {path}) k={k} n={n} i={i}: {g} vs {r}",
                            K::NAME
                        );
                    }
                }
            }
        }
    }
}

/// The kernel's `quantize_row` against the reference's, bit for bit: every activation case,
/// the smallest subnormals (an infinite `127 / amax`), NaN and infinite values, each length
/// around the vector widths.
fn check_i8_quantize_row<K: I8Dot>(kern: K) {
    for n in [0, 1, 7, 15, 16, 17, 31, 33, 64, 100, 513] {
        let mut cases = activation_cases(1, n);
        let tiny: Vec<f32> = (0..n)
            .map(|i| f32::from_bits(i as u32 % 3) * if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        cases.push(tiny);
        for special in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, 127.5] {
            for at in [0, n / 2, n.saturating_sub(1)] {
                let mut x = f32s(n, 8, 3.0);
                if let Some(v) = x.get_mut(at) {
                    *v = special;
                }
                cases.push(x);
            }
        }
        for x in cases {
            let mut want = vec![0i8; n];
            let mut got = vec![99i8; n];
            let ws = quantize_row(&x, &mut want);
            let gs = kern.quantize_row(&x, &mut got);
            assert_eq!(
                gs.to_bits(),
                ws.to_bits(),
                "{} quantize_row scale n={n}: {x:?}",
                K::NAME
            );
            assert_eq!(got, want, "{} quantize_row n={n}: {x:?}", K::NAME);
        }
    }
}

/// The int8 linear layer over many input rows (the kernel's tiles of several rows at once,
/// blocks of rows, buffers larger than `I8_ROW_BLOCK` rows) against the reference, bit for bit.
fn check_i8_linear_rows<K: I8Dot>(kern: K) {
    let mut shapes: Vec<(usize, usize, &[usize])> = Vec::new();
    for k in [64, 3 * K::BLOCK, 3 * K::BLOCK + 5, 512 + 17] {
        for n in [4, 9] {
            shapes.push((k, n, &[4, 5, 8, 11, 16, 21]));
        }
    }
    // Weights over the hosts' 256 KiB blocks of weight rows (several blocks, the last
    // one short, a leftover row).
    shapes.push((1024 + 3, 301, &[11]));
    for (k, n, rows_list) in shapes {
        for &rows in rows_list {
            let values = i8s(n * k, 7 + rows as u32);
            let scales: Vec<f32> = f32s(n, 11, 0.05).iter().map(|s| s.abs()).collect();
            let w = I8Matrix {
                values: &values,
                scales: &scales,
            };
            let bias = f32s(n, 9, 1.0);
            let x = f32s(rows * k, 5 + rows as u32, 2.0);
            let mut want = vec![f32::NAN; rows * n];
            let mut q = vec![0i8; k];
            generic::i8::linear_i8(&x, w, Some(&bias), k, &mut want, &mut q);
            let needed = quant::activation_values(rows, k).expect("small sizes");
            for (len, scales) in [
                (needed, rows.min(quant::I8_ROW_BLOCK)),
                (rows * k, rows),
                (3 * k, 3),
            ] {
                let mut values = vec![0i8; len];
                let mut act_scales = vec![0.0f32; scales];
                let mut act = Activations {
                    values: &mut values,
                    scales: &mut act_scales,
                };
                let mut got = vec![f32::NAN; rows * n];
                kern.linear(&x, w, Some(&bias), k, &mut got, &mut act);
                for (i, (g, r)) in got.iter().zip(&want).enumerate() {
                    assert_eq!(
                        g.to_bits(),
                        r.to_bits(),
                        "{} int8 linear rows k={k} n={n} rows={rows} len={len} i={i}: {g} vs {r}",
                        K::NAME
                    );
                }
            }
        }
    }
}

/// The int8 linear layer over 1-40 input rows (and 130: more than one packed chunk of a
/// kernel's own pass, `I8Dot::linear_rows`) against the reference, bit for bit: partial
/// groups of rows, weight rows not a multiple of the tiles, reductions with a tail (of
/// 4 bytes and of the kernel's block), extreme weights and inputs of +-127, with the
/// engine's buffer of activation rows; and the frame without the kernel's pass
/// (`linear_i8_by_row_blocks`) alike.
fn check_i8_linear_many_rows<K: I8Dot>(kern: K) {
    let mut shapes: Vec<(usize, usize, Vec<usize>)> = Vec::new();
    for (k, n) in [(64, 13), (68, 8), (3 * K::BLOCK + 5, 21), (7, 9)] {
        shapes.push((k, n, (1..=40).collect()));
    }
    for k in [3, 4, 5, 130, 512 + 17] {
        shapes.push((k, 1, vec![16, 17]));
        shapes.push((k, 12, vec![8, 9, 31, 33]));
    }
    shapes.push((256, 17, vec![130]));
    for (k, n, rows_list) in shapes {
        let scales: Vec<f32> = f32s(n, 11, 0.05).iter().map(|s| s.abs()).collect();
        let mixed: Vec<i8> = (0..n * k)
            .map(|i| if i % 3 == 0 { 127 } else { -128 })
            .collect();
        let weights = [i8s(n * k, 17), vec![-128; n * k], vec![127; n * k], mixed];
        for &rows in &rows_list {
            let alternate: Vec<f32> = (0..rows * k)
                .map(|i| if (i / 3) % 2 == 0 { 1.5 } else { -1.5 })
                .collect();
            let inputs = [f32s(rows * k, 5 + rows as u32, 2.0), alternate];
            for (wi, values) in weights.iter().enumerate() {
                let w = I8Matrix {
                    values,
                    scales: &scales,
                };
                let bias = f32s(n, 9, 1.0);
                for (xi, x) in inputs.iter().enumerate() {
                    if (wi > 0 || xi > 0) && rows % 4 != 1 && rows < 40 {
                        continue;
                    }
                    let mut want = vec![f32::NAN; rows * n];
                    let mut q = vec![0i8; k];
                    generic::i8::linear_i8(x, w, Some(&bias), k, &mut want, &mut q);
                    for (way, bias) in [(0, Some(&bias[..])), (1, Some(&bias[..])), (0, None)] {
                        if bias.is_none() {
                            generic::i8::linear_i8(x, w, None, k, &mut want, &mut q);
                        }
                        let needed = quant::activation_values(rows, k).expect("small sizes");
                        let mut values = vec![0i8; needed];
                        let mut act_scales = vec![0.0f32; quant::activation_scales(rows)];
                        let mut act = Activations {
                            values: &mut values,
                            scales: &mut act_scales,
                        };
                        let mut got = vec![f32::NAN; rows * n];
                        if way == 0 {
                            kern.linear(x, w, bias, k, &mut got, &mut act);
                        } else {
                            picoformer_kernels::frame::i8::linear_i8_by_row_blocks(
                                kern, x, w, bias, k, &mut got, &mut act,
                            );
                        }
                        for (i, (g, r)) in got.iter().zip(&want).enumerate() {
                            assert_eq!(
                                g.to_bits(),
                                r.to_bits(),
                                "{} int8 linear many rows k={k} n={n} rows={rows} weights {wi} \
                                 inputs {xi} way {way} i={i}: {g} vs {r}",
                                K::NAME
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn i8_quantize_row_is_symmetric_and_within_half_a_step() {
    for n in [0, 1, 7, 64, 513] {
        for x in activation_cases(1, n) {
            let mut q = vec![0i8; n];
            let s = quantize_row(&x, &mut q);
            assert!(s.is_finite() && s >= 0.0);
            for (&v, &qi) in x.iter().zip(&q) {
                assert!((-127..=127).contains(&qi));
                assert!((v - s * f32::from(qi)).abs() <= 0.5 * s * (1.0 + 1e-5) + 1e-37);
            }
        }
    }
}

#[test]
fn i8_weights_with_f32_activations_are_close_to_dequantized_f32() {
    let (n, k) = (5, 70);
    let values = i8s(n * k, 1);
    let scales = vec![0.01, 0.02, 0.0, 0.5, 1e-3];
    let x = f32s(2 * k, 2, 1.0);
    let mut got = vec![0.0; 2 * n];
    let w = I8Matrix {
        values: &values,
        scales: &scales,
    };
    generic::i8::linear_i8_f32(&x, w, None, k, &mut got);
    let deq: Vec<f32> = values
        .chunks(k)
        .zip(&scales)
        .flat_map(|(r, s)| r.iter().map(move |&v| s * f32::from(v)))
        .collect();
    let mut want = vec![0.0; 2 * n];
    scalar::linear(&x, &deq, None, k, &mut want);
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-4 * (1.0 + w.abs()), "{g} vs {w}");
    }
}

fn f16s(n: usize, seed: u32, scale: f32) -> Vec<f16> {
    f32s(n, seed, scale)
        .into_iter()
        .map(f16::from_f32)
        .collect()
}

/// An f16 linear layer under test: `(x, w, bias, k, y)`.
type F16Linear<'a> = &'a dyn Fn(&[f32], &[f16], Option<&[f32]>, usize, &mut [f32]);

/// `run` against [`generic::f16::linear_f16`] within the f32 budget (`(k + 2) eps` of the
/// products' magnitude): the widening is exact, only the order of the sums differs.
/// Lengths `0..=4 x block + 1` and the model shapes, 1–9 weight rows, 1–3 input rows,
/// weights from f16's subnormals to its largest values, a matrix that starts on an odd
/// half (its rows not word-aligned) and odd `k`.
fn check_f16_linear(name: &str, block: usize, run: F16Linear) {
    // f16 subnormals (2^-24 .. 2^-14) and values near f16::MAX (65504)
    let weight_scales = [(1.0, 1.0), (60000.0, 1e-3), (1e-6, 1e3), (6e-5, 1.0)];
    for k in block_lengths(block) {
        let (n_list, rows_list): (&[usize], &[usize]) = if k <= 4 * block + 1 {
            (&[1, 4, 5, 9], &[1, 2, 3])
        } else {
            (&[1, 4, 7], &[1, 3])
        };
        for &n in n_list {
            for &rows in rows_list {
                for (wscale, xscale) in weight_scales {
                    // one spare half in front: `&w_all[1..]` starts off a word boundary
                    let w_all = f16s(n * k + 1, 7 + k as u32, wscale);
                    let x = f32s(rows * k, 8, xscale);
                    let bias = f32s(n, 9, 1.0);
                    for w in [&w_all[..n * k], &w_all[1..]] {
                        let mut want = vec![0.0; rows * n];
                        generic::f16::linear_f16(&x, w, Some(&bias), k, &mut want);
                        let mut got = vec![f32::NAN; rows * n];
                        run(&x, w, Some(&bias), k, &mut got);
                        for r in 0..rows {
                            for o in 0..n {
                                let xr = &x[r * k..(r + 1) * k];
                                let wr = &w[o * k..(o + 1) * k];
                                let magnitude: f32 =
                                    xr.iter().zip(wr).map(|(a, b)| (a * b.to_f32()).abs()).sum();
                                let budget = (k as f32 + 2.0) * f32::EPSILON * (magnitude + 1.0)
                                    + f32::MIN_POSITIVE;
                                let (g, wv) = (got[r * n + o], want[r * n + o]);
                                assert!(
                                    (g - wv).abs() <= budget,
                                    "{name} f16 k={k} n={n} rows={rows}: {g} vs {wv}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn f16_dispatched_linear_matches_scalar_on_the_active_kernel() {
    let active = active_kernel_for(Dtype::F16);
    eprintln!("f16 kernel: {}", active.name());
    check_f16_linear(active.name(), 8, &|x, w, b, k, y| {
        quant::linear(x, &Matrix::F16(w), b, k, y, &mut Activations::none());
        assert_eq!(
            last_kernel(Dtype::F16),
            Some(active),
            "the f16 kernel that ran"
        );
    });
}

/// The kernel's whole tiles alone ([`F16Dot::dot_rows`]), close to the scalar sums of
/// the same blocks.
fn check_f16_tiles<K: F16Dot>(kern: K) {
    let (n, k) = (8, 40);
    let w = f16s(n * k, 3, 2.0);
    let x = f32s(k, 4, 1.0);
    let blocks = k / K::BLOCK;
    let head = blocks * K::BLOCK;
    let mut out = vec![f32::NAN; n];
    kern.dot_rows(&x, &w, k, blocks, &mut out);
    for (o, g) in out.iter().enumerate() {
        let want = generic::f16::dot_f16(&x[..head], &w[o * k..o * k + head]);
        assert!(
            (g - want).abs() <= 1e-5 * (1.0 + want.abs()),
            "{} f16 tile row {o}: {g} vs {want}",
            K::NAME
        );
    }
}

/// The x86_64 f16 kernels of issue 18 (prefetching decode passes, tiles of several input
/// rows) against the kernel before it ([`Avx2F16Plain`]) **bit for bit**, through the
/// frame: `k` with tails, `n % 4 != 0`, 1–9 input rows (every tile remainder), rows off
/// word boundaries; and `dot_rows` alone with a matrix too short for its last tile.
#[cfg(target_arch = "x86_64")]
fn check_f16_same_bits_as_plain<K: F16Dot>(kern: K) {
    use picoformer_kernels::arch::x86_64::f16::Avx2F16Plain;
    use picoformer_kernels::frame::f16::linear_f16;
    let Some(plain) = Avx2F16Plain::detect() else {
        return;
    };
    let mut ks = block_lengths(8);
    ks.extend([509, 515, 2047]);
    for k in ks {
        let (n_list, rows_list): (&[usize], &[usize]) = if k <= 33 {
            (
                &[1, 3, 4, 5, 7, 8, 9, 12, 13, 16, 17, 23, 24, 33],
                &[1, 2, 3, 4, 5, 7, 9],
            )
        } else {
            (&[5, 13, 24, 33], &[1, 3, 5, 9])
        };
        for &n in n_list {
            for &rows in rows_list {
                for scale in [1.0, 6e-5] {
                    let w_all = f16s(n * k + 1, 17 + k as u32, scale);
                    let x = f32s(rows * k, 18, 1.0);
                    let bias = f32s(n, 19, 1.0);
                    for w in [&w_all[..n * k], &w_all[1..]] {
                        let mut want = vec![f32::NAN; rows * n];
                        linear_f16(plain, &x, w, Some(&bias), k, &mut want);
                        let mut got = vec![f32::NAN; rows * n];
                        linear_f16(kern, &x, w, Some(&bias), k, &mut got);
                        for (i, (g, wv)) in got.iter().zip(&want).enumerate() {
                            assert_eq!(
                                g.to_bits(),
                                wv.to_bits(),
                                "{} f16 k={k} n={n} rows={rows} [{i}]: {g} vs plain {wv}",
                                K::NAME
                            );
                        }
                    }
                }
            }
        }
    }
    // `dot_rows` alone: whole tiles, and a matrix whose last tile does not fit.
    let (n, k) = (12, 40);
    let w = f16s(n * k, 21, 1.0);
    let x = f32s(k, 22, 1.0);
    for len in [n * k, n * k - 3, 8 * k + 2, 3] {
        let mut want = vec![f32::NAN; n];
        plain.dot_rows(&x, &w[..len], k, k / 8, &mut want);
        let mut got = vec![f32::NAN; n];
        kern.dot_rows(&x, &w[..len], k, k / 8, &mut got);
        assert_eq!(
            got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            "{} f16 dot_rows over {len} weights",
            K::NAME
        );
    }
}

#[test]
#[cfg(target_arch = "x86_64")]
fn f16_x86_kernels_match_the_plain_kernel_bit_for_bit() {
    use picoformer_kernels::arch::x86_64::f16::{Avx2F16, Avx512F16};
    match Avx2F16::detect() {
        Some(kern) => check_f16_same_bits_as_plain(kern),
        None => eprintln!("skipped: this CPU cannot run avx2-f16c"),
    }
    match Avx512F16::detect() {
        Some(kern) => check_f16_same_bits_as_plain(kern),
        None => eprintln!("skipped: this CPU cannot run avx512-f16c"),
    }
}

/// The CRC-32C kernel against the scalar table, bit for bit: every length 0..=64 and
/// random ones up to 4 KiB, from every start offset 0..8 (unaligned loads), from random
/// running registers, in one piece and split in two at every point of a short run (the
/// header checksum covers two ranges); and the standard check value.
fn check_crc32c<K: Crc32cKernel>(kern: K) {
    use generic::crc32c::crc32c_update as scalar_crc;
    assert_eq!(
        !kern.update(!0, b"123456789"),
        0xE306_9283,
        "{} check value",
        K::NAME
    );
    assert_eq!(
        kern.update(0x1234_5678, &[]),
        0x1234_5678,
        "{} empty",
        K::NAME
    );
    let mut next = xorshift(0xC0FF_EE11);
    let buffer: Vec<u8> = (0..4096 + 8).map(|_| next() as u8).collect();
    let mut lengths: Vec<usize> = (0..=64).collect();
    lengths.extend((0..48).map(|_| next() as usize % 4097));
    for &len in &lengths {
        for offset in 0..8 {
            let bytes = &buffer[offset..offset + len];
            for crc in [!0, 0, next()] {
                assert_eq!(
                    kern.update(crc, bytes),
                    scalar_crc(crc, bytes),
                    "{}: length {len}, offset {offset}, register {crc:#010x}",
                    K::NAME
                );
            }
        }
    }
    let bytes = &buffer[3..3 + 40];
    for cut in 0..=bytes.len() {
        let (head, tail) = bytes.split_at(cut);
        assert_eq!(
            kern.update(kern.update(!0, head), tail),
            scalar_crc(!0, bytes)
        );
    }
}

/// An int8 key/value cache of `t` rows of `n_kv * dk` values (`kind`: 0 random bytes,
/// 1 all -128, 2 all 127) with positive random scales, as `kv_row_words` words a row.
fn i8_cache(t: usize, n_kv: usize, dk: usize, kind: u32, seed: u32) -> (Vec<u32>, usize) {
    let row_words = attention_i8::kv_row_words(n_kv * dk, n_kv);
    let value_words = (n_kv * dk).div_ceil(4);
    let mut next = xorshift(seed);
    let mut cache = vec![0u32; t * row_words];
    for row in cache.chunks_exact_mut(row_words) {
        let (values, scales) = row.split_at_mut(value_words);
        for w in values.iter_mut() {
            *w = match kind {
                0 => next(),
                1 => 0x8080_8080,
                _ => 0x7f7f_7f7f,
            };
        }
        for s in scales.iter_mut() {
            *s = (0.001 + (next() >> 8) as f32 / (1u32 << 24) as f32 * 0.05).to_bits();
        }
    }
    (cache, row_words)
}

/// The int8 key/value cache's attention steps on `kern` (`cache_scores`,
/// `cache_weighted_sum`) against the reference's ([`attention_i8::head_scores`],
/// [`attention_i8::head_round_weighted_sum`]) bit for bit: head sizes 8 (the `SMLAD` kernels')
/// and others (the fallback), 1-4 key/value heads, 1 to 1100 positions (over the
/// 512-position i32 blocks), int16 queries and weights at their extremes (32767,
/// -32767) against int8 values at -128 and 127; then the whole attention on the kernel
/// and the dispatched `attention_grouped_i8` against the reference.
fn check_i8_cache_attention<K: I8Dot>(kern: K) {
    use attention_i8::CacheHead;
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for (dk, n_kv) in [(8, 1), (8, 2), (8, 4), (4, 2), (6, 1), (12, 2), (16, 1)] {
        for t in [1, 2, 3, 7, 64, 255, 512, 513, 1100] {
            for kind in 0..3 {
                let (keys, row_words) = i8_cache(t, n_kv, dk, kind, 7 + t as u32);
                let (values, _) = i8_cache(t, n_kv, dk, kind, 9 + t as u32);
                let value_words = (n_kv * dk).div_ceil(4);
                let mut next = xorshift(t as u32 + kind);
                for head in 0..n_kv {
                    let at = CacheHead {
                        row_words,
                        value_words,
                        head,
                        dk,
                    };
                    // int8 queries (`QUERY_MAX`, as the bits of floats): random, or at the
                    // extremes
                    let q: Vec<f32> = (0..dk)
                        .map(|i| {
                            let v = match kind {
                                0 => (next() % 255) as i32 - 127,
                                1 => 127,
                                _ => {
                                    if i % 2 == 0 {
                                        -127
                                    } else {
                                        127
                                    }
                                }
                            };
                            f32::from_bits(v as u32)
                        })
                        .collect();
                    let sq = 1.0 / attention_i8::QUERY_MAX;
                    let mut want = vec![0.0f32; t];
                    let largest = attention_i8::head_scores(&q, sq, &keys, at, &mut want);
                    let mut got = vec![0.0f32; t];
                    let got_largest = kern.cache_scores(&mut q.clone(), sq, &keys, at, &mut got);
                    assert_eq!(bits(&got), bits(&want), "{} scores dk={dk} t={t}", K::NAME);
                    assert_eq!(got_largest.to_bits(), largest.to_bits());
                    // the exponentials and weights of those scores, and of scores spread
                    // past exp's zero (-87.33)
                    for spread in [1.0f32, 1000.0] {
                        let mut want_w: Vec<f32> = want.iter().map(|s| s * spread).collect();
                        let mut got_w = want_w.clone();
                        let m = largest * spread;
                        let want_sums = attention_i8::head_exp_weights(&mut want_w, m, &values, at);
                        let got_sums = kern.cache_exp_weights(&mut got_w, m, &values, at);
                        assert_eq!(bits(&got_w), bits(&want_w), "{} weights t={t}", K::NAME);
                        assert_eq!(
                            (got_sums.0.to_bits(), got_sums.1.to_bits()),
                            (want_sums.0.to_bits(), want_sums.1.to_bits())
                        );
                    }
                    // weights as step 4 leaves them, rounded to int16 by the step: in
                    // [0, 1] with 1 among them, all 1 (every int16 weight 32767, against
                    // the extreme values), or with NaN, negative and infinite ones (the
                    // rounding's clamp) and halves (its ties)
                    let w: Vec<f32> = (0..t)
                        .map(|j| match (kind, j % 7) {
                            (1, _) | (_, 0) => 1.0,
                            (0, _) => (next() >> 8) as f32 / (1u32 << 24) as f32,
                            (_, 1) => f32::NAN,
                            (_, 2) => -0.25,
                            (_, 3) => f32::INFINITY,
                            (_, 4) => 0.5 / 32767.0,
                            (_, 5) => 2.5 / 32767.0,
                            _ => 1.0 + f32::EPSILON,
                        })
                        .collect();
                    let inv = 32767.0f32;
                    let factor = 1.0 / (3.0 * 32767.0);
                    let mut want = vec![0.0f32; dk];
                    let mut want_w = w.clone();
                    attention_i8::head_round_weighted_sum(
                        &mut want_w,
                        inv,
                        &values,
                        at,
                        factor,
                        &mut want,
                    );
                    let mut got = vec![0.0f32; dk];
                    kern.cache_weighted_sum(&mut w.clone(), inv, &values, at, factor, &mut got);
                    assert_eq!(bits(&got), bits(&want), "{} sum dk={dk} t={t}", K::NAME);
                }
                // the whole attention of 2 query heads per key/value head
                let heads = 2 * n_kv;
                let query = f32s(heads * dk, t as u32 + kind, 4.0);
                let mut want = query.clone();
                let mut scores = vec![0.0f32; t];
                attention_i8::attention_grouped_i8(
                    &mut want,
                    &keys,
                    &values,
                    heads,
                    n_kv,
                    row_words,
                    &mut scores,
                );
                let mut got = query.clone();
                attention_i8::attention_grouped_i8_using(
                    |q, sq, k, at, s| kern.cache_scores(q, sq, k, at, s),
                    |s, largest, v, at| kern.cache_exp_weights(s, largest, v, at),
                    |w, inv, v, at, f, out| kern.cache_weighted_sum(w, inv, v, at, f, out),
                    &mut got,
                    &keys,
                    &values,
                    heads,
                    n_kv,
                    row_words,
                    &mut scores,
                );
                assert_eq!(
                    bits(&got),
                    bits(&want),
                    "{} attention dk={dk} t={t}",
                    K::NAME
                );
                let mut dispatched = query.clone();
                picoformer_kernels::attention_grouped_i8(
                    &mut dispatched,
                    &keys,
                    &values,
                    heads,
                    n_kv,
                    row_words,
                    &mut scores,
                );
                assert_eq!(bits(&dispatched), bits(&want), "dispatched dk={dk} t={t}");
            }
        }
    }
}

/// The set's member, or `None` (reported) where it has none or this CPU cannot run it.
fn member<K>(found: Option<K>, set: &str, dtype: &str, name: &str) -> Option<K> {
    if found.is_none() {
        if name == "absent" {
            eprintln!(
                "skipped: the {set} set has no {dtype} kernel (the scalar reference serves it)"
            );
        } else {
            eprintln!("skipped: this CPU cannot run the {set} set's {dtype} kernel {name}");
        }
    }
    found
}

/// Every test of every dtype for one kernel set.
macro_rules! kernel_tests {
    ($module:ident, $set:ty) => {
        mod $module {
            use super::*;

            type F32Kernel = <$set as KernelSet>::F32;
            type F16Kernel = <$set as KernelSet>::F16;
            type I8Kernel = <$set as KernelSet>::I8;
            type CrcKernel = <$set as KernelSet>::Crc32c;
            const SET: &str = stringify!($module);

            fn f32_kernel() -> Option<F32Kernel> {
                member(
                    <F32Kernel as F32Simd>::detect(),
                    SET,
                    "f32",
                    <F32Kernel as F32Simd>::NAME,
                )
            }

            fn f16_kernel() -> Option<F16Kernel> {
                member(
                    <F16Kernel as F16Dot>::detect(),
                    SET,
                    "f16",
                    <F16Kernel as F16Dot>::NAME,
                )
            }

            fn i8_kernel() -> Option<I8Kernel> {
                member(
                    <I8Kernel as I8Dot>::detect(),
                    SET,
                    "i8",
                    <I8Kernel as I8Dot>::NAME,
                )
            }

            fn crc32c_kernel() -> Option<CrcKernel> {
                member(
                    <CrcKernel as Crc32cKernel>::detect(),
                    SET,
                    "crc32c",
                    <CrcKernel as Crc32cKernel>::NAME,
                )
            }

            #[test]
            fn crc32c_matches_scalar() {
                if let Some(kern) = crc32c_kernel() {
                    check_crc32c(kern);
                }
            }

            #[test]
            fn f32_dot_matches_scalar() {
                if let Some(k) = f32_kernel() {
                    check_dot(k);
                }
            }

            #[test]
            fn f32_layer_norm_rows_match_rows_alone() {
                if let Some(k) = f32_kernel() {
                    check_layer_norm_rows(k);
                }
            }

            #[test]
            fn f32_axpy_matches_scalar() {
                if let Some(k) = f32_kernel() {
                    check_axpy(k);
                }
            }

            #[test]
            fn f32_linear_matches_scalar() {
                if let Some(k) = f32_kernel() {
                    check_linear(k);
                    check_row_by_row(k);
                }
            }

            #[test]
            fn f32_attention_products_match_scalar() {
                if let Some(k) = f32_kernel() {
                    check_strided(k);
                }
            }

            #[test]
            fn f32_fused_attention_matches_scalar_bit_for_bit() {
                if let Some(k) = f32_kernel() {
                    check_fused(k);
                }
            }

            #[test]
            fn f32_linear_acc_matches_scalar() {
                if let Some(k) = f32_kernel() {
                    check_linear_acc(k);
                }
            }

            #[test]
            fn f16_linear_matches_scalar() {
                if let Some(kern) = f16_kernel() {
                    check_f16_linear(
                        <F16Kernel as F16Dot>::NAME,
                        <F16Kernel as F16Dot>::BLOCK,
                        &|x, w, b, k, y| {
                            picoformer_kernels::frame::f16::linear_f16(kern, x, w, b, k, y)
                        },
                    );
                    check_f16_tiles(kern);
                }
            }

            #[test]
            fn i8_tiles_match_scalar() {
                if let Some(kern) = i8_kernel() {
                    check_i8_tiles(kern);
                    check_i8_dot_rows(kern);
                    check_i8_quantize_row(kern);
                }
            }

            #[test]
            fn i8_cache_attention_matches_scalar_bit_for_bit() {
                if let Some(kern) = i8_kernel() {
                    check_i8_cache_attention(kern);
                }
            }

            #[test]
            fn i8_linear_matches_scalar() {
                if let Some(kern) = i8_kernel() {
                    check_i8_linear(kern);
                    check_i8_linear_rows(kern);
                    check_i8_linear_many_rows(kern);
                    check_i8_linear_one_row(kern);
                }
            }
        }
    };
}

kernel_tests!(scalar_set, sets::Scalar);
#[cfg(target_arch = "x86_64")]
kernel_tests!(avx2, sets::Avx2);
#[cfg(target_arch = "x86_64")]
kernel_tests!(avx512, sets::Avx512);
#[cfg(target_arch = "aarch64")]
kernel_tests!(neon, sets::Neon);
#[cfg(pf_arm_fpu)]
kernel_tests!(arm_fpu, sets::ArmFpu);
#[cfg(pf_arm_mve)]
kernel_tests!(mve, sets::Mve);
#[cfg(pf_rvv)]
kernel_tests!(rvv, sets::Rvv);

/// The dispatched GELU (AVX-512: a vector `erff` and `expf`) gives libm's bits on every
/// input where the active kernel's GELU is not Helium's polynomial: a sweep over the bit
/// patterns of f32 (every 4093rd, both signs), a dense sweep over the range each branch of
/// `erff` covers, and the special values; lengths that leave a tail.
#[test]
fn f32_gelu_is_bit_for_bit_the_reference() {
    if picoformer_kernels::dispatch::gelu_is_polynomial() {
        eprintln!("skipped: the active kernel's GELU is Helium's polynomial");
        return;
    }
    let mut inputs: Vec<f32> = (0..u32::MAX / 4093)
        .map(|i| f32::from_bits(i * 4093))
        .collect();
    let mut v = -12.0f32;
    while v < 12.0 {
        inputs.push(v);
        v += 1.0 / 4096.0 + v.abs() * 1e-5;
    }
    inputs.extend([
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        1e-40,
        -1e-40,
        f32::MAX,
        f32::MIN,
        0.84375 * core::f32::consts::SQRT_2,
        1.25 * core::f32::consts::SQRT_2,
        6.0 * core::f32::consts::SQRT_2,
    ]);
    for len in [inputs.len(), 17, 15] {
        let mut want = inputs[..len].to_vec();
        scalar::gelu(&mut want);
        let mut got = inputs[..len].to_vec();
        picoformer_kernels::dispatch::gelu(&mut got);
        for ((&x, &w), &g) in inputs.iter().zip(&want).zip(&got) {
            assert!(
                w.to_bits() == g.to_bits() || (w.is_nan() && g.is_nan()),
                "gelu({x:e} = {:#x}): {w:e} ({:#x}), kernel {g:e} ({:#x})",
                x.to_bits(),
                w.to_bits(),
                g.to_bits()
            );
        }
    }
}

/// The dispatched convolution gives, for every output whose window lies inside the input,
/// the bits of the active kernel's `dot` over the window plus the bias, or, where the
/// kernel runs convolutions on its linear tiles (`conv1d_on_tiles`: AVX-512), those of a
/// one-row `linear` of the window; a row touching the padding, the sum of its taps' `dot`s
/// plus the bias. Channel counts that leave a tail, windows with and without a tail of
/// elements, strides 1 and 2, runs of rows longer than a run of the tiles.
#[test]
fn f32_conv1d_is_its_dots_bit_for_bit() {
    let on_tiles = picoformer_kernels::dispatch::conv1d_on_tiles();
    for (c_in, c_out, taps, stride, padding, l_in) in [
        (80, 10, 3, 1, 1, 23),
        (64, 8, 3, 2, 1, 20),
        (20, 13, 3, 1, 1, 9),
        (16, 4, 1, 1, 0, 7),
        (512, 9, 3, 2, 1, 205),
    ] {
        let input = values(l_in * c_in, 31, 1.0);
        let weight = values(c_out * taps * c_in, 32, 0.5);
        let bias = values(c_out, 33, 0.1);
        let l_out = scalar::conv1d_out_len(l_in, taps, stride, padding);
        let mut got = vec![0.0; l_out * c_out];
        picoformer_kernels::conv1d(
            &input,
            c_in,
            &weight,
            Some(&bias),
            taps,
            stride,
            padding,
            &mut got,
        );
        let window = taps * c_in;
        for r in 0..l_out {
            for o in 0..c_out {
                let w = &weight[o * window..(o + 1) * window];
                let start = r * stride;
                let want = if start >= padding && start - padding + taps <= l_in {
                    let at = (start - padding) * c_in;
                    let x = &input[at..at + window];
                    if on_tiles {
                        let mut row = vec![0.0; c_out];
                        picoformer_kernels::linear(x, &weight, Some(&bias), window, &mut row);
                        row[o]
                    } else {
                        picoformer_kernels::dot(x, w) + bias[o]
                    }
                } else {
                    let mut sum = 0.0;
                    for tap in 0..taps {
                        if let Some(row) =
                            (start + tap).checked_sub(padding).filter(|&row| row < l_in)
                        {
                            sum += picoformer_kernels::dot(
                                &input[row * c_in..(row + 1) * c_in],
                                &w[tap * c_in..(tap + 1) * c_in],
                            );
                        }
                    }
                    sum + bias[o]
                };
                assert_eq!(
                    got[r * c_out + o].to_bits(),
                    want.to_bits(),
                    "conv {c_in}x{c_out}x{taps}/{stride} row {r} channel {o}"
                );
            }
        }
    }
}
