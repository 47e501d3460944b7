//! The scalar kernels on inputs whose results are known in closed form (the values are
//! the exact math, computed in double precision off-target).

use crate::check::{all_close, close, ensure, Check};
use picoformer_kernels as k;

/// Name and body of every kernel test.
pub(crate) const TESTS: &[(&str, fn() -> Check)] = &[
    ("kernel_dot_every_length", dot_every_length),
    ("kernel_linear", linear),
    ("kernel_softmax", softmax),
    ("kernel_log_softmax", log_softmax),
    ("kernel_layer_norm", layer_norm),
    ("kernel_relu_gelu", activations),
    ("kernel_argmax", argmax),
    ("kernel_attention", attention),
    ("kernel_active_vs_scalar", active_vs_scalar),
    ("kernel_exp_minus_max_vs_scalar", exp_minus_max_vs_scalar),
    ("kernel_exp_i8_vs_scalar", exp_i8_vs_scalar),
    ("kernel_log10_is_libms", log10_is_libms),
    ("kernel_softmax_scaled_vs_twin", softmax_scaled_vs_twin),
    ("kernel_gelu_vs_twin", gelu_vs_twin),
    ("kernel_layer_norm_vs_twin", layer_norm_vs_twin),
    (
        "kernel_axpy_strided_is_rows_of_axpy",
        axpy_strided_is_rows_of_axpy,
    ),
    ("kernel_conv1d_is_window_dots", conv1d_is_window_dots),
    ("kernel_int8_linear_vs_scalar", int8_linear_vs_scalar),
    ("kernel_int8_rounding_edges", int8_rounding_edges),
    (
        "kernel_int8_wide_rows_and_epilogue_edges",
        int8_wide_rows_and_epilogue_edges,
    ),
    ("kernel_int8_row_pairs_vs_scalar", int8_row_pairs_vs_scalar),
    ("kernel_f16_linear_vs_scalar", f16_linear_vs_scalar),
    ("kernel_int8_attention_vs_scalar", int8_attention_vs_scalar),
    (
        "kernel_int8_attention_all_vs_scalar",
        int8_attention_all_vs_scalar,
    ),
    (
        "kernel_int8_attention_rows_vs_scalar",
        int8_attention_rows_vs_scalar,
    ),
];

/// The dispatched f32 and int8 kernels are the board's `expected` ones (logged either
/// way), so that `kernel_active_vs_scalar` and `kernel_int8_linear_vs_scalar` test the
/// SIMD kernels the build was made for, not a silent fallback to the scalar reference.
pub(crate) fn active_is(expected: crate::Kernels) -> Check {
    let active = k::active_kernel();
    let int8 = k::active_kernel_for(k::Dtype::I8);
    defmt::println!(
        "active f32 kernel: {=str} (expected {=str}), int8 served by: {=str} (expected {=str}; its {=str} kernel)",
        active.name(),
        expected.f32.name(),
        int8.name(),
        expected.int8.name(),
        active.member_name(k::Dtype::I8)
    );
    ensure(active == expected.f32, "the active kernel is the board's")?;
    ensure(
        int8 == expected.int8,
        "the active int8 kernel is the board's",
    )
}

/// Every length 0..=33 covers empty, tail-only, whole-block and block-plus-tail inputs;
/// the products and partial sums are exact in f32, so any order must agree exactly.
fn dot_every_length() -> Check {
    let a: [f32; 33] = core::array::from_fn(|i| i as f32 * 0.5 - 3.0);
    let b: [f32; 33] = core::array::from_fn(|i| 1.0 - i as f32 * 0.25);
    for n in 0..=a.len() {
        let (a, b) = (a.get(..n).unwrap_or(&[]), b.get(..n).unwrap_or(&[]));
        let naive: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        close(k::dot(a, b), naive, 0.0, "dot vs in-order sum")?;
    }
    Ok(())
}

fn linear() -> Check {
    // x [2, 3], w [2, 3] (out 2, in 3)
    let x = [1.0, 2.0, 3.0, -1.0, 0.0, 1.0];
    let w = [1.0, 0.0, 0.0, 0.5, 0.5, 0.5];
    let mut y = [0.0; 4];
    k::linear(&x, &w, Some(&[10.0, -1.0]), 3, &mut y);
    all_close(&y, &[11.0, 2.0, 9.0, -1.0], 0.0, "x W^T + b")?;
    k::linear(&x, &w, None, 3, &mut y);
    all_close(&y, &[1.0, 3.0, -1.0, 0.0], 0.0, "x W^T")
}

fn softmax() -> Check {
    let mut x = [1.0, 2.0, 3.0];
    k::softmax(&mut x);
    all_close(
        &x,
        &[0.090_030_57, 0.244_728_47, 0.665_240_96],
        1e-6,
        "softmax",
    )?;
    // every key masked: no distribution, all zeros
    let mut masked = [f32::NEG_INFINITY; 4];
    k::softmax(&mut masked);
    all_close(&masked, &[0.0; 4], 0.0, "masked row")
}

fn log_softmax() -> Check {
    let mut x = [1.0, 2.0, 3.0];
    k::log_softmax(&mut x);
    all_close(
        &x,
        &[-2.407_606, -1.407_606, -0.407_606],
        1e-6,
        "log_softmax",
    )?;
    close(
        k::log_sum_exp(&[0.3, -1.0, 2.5, 0.0]),
        2.701_376_7,
        1e-5,
        "log_sum_exp",
    )
}

fn layer_norm() -> Check {
    // mean 2.5, biased variance 1.25
    let mut x = [1.0, 2.0, 3.0, 4.0];
    k::layer_norm(
        &mut x,
        &[1.0, 1.0, 2.0, 2.0],
        Some(&[0.0, 1.0, 0.0, 0.0]),
        0.0,
    );
    let inv_std = 0.894_427_2;
    let want = [-1.5 * inv_std, -0.5 * inv_std + 1.0, inv_std, 3.0 * inv_std];
    all_close(&x, &want, 1e-6, "layer_norm")
}

fn activations() -> Check {
    let mut x = [-1.0, 0.0, 2.0];
    k::relu(&mut x);
    all_close(&x, &[0.0, 0.0, 2.0], 0.0, "relu")?;
    // x * Phi(x), Phi the standard normal CDF
    let mut g = [-1.0, 0.0, 1.0, 2.5];
    k::gelu(&mut g);
    all_close(
        &g,
        &[-0.158_655_25, 0.0, 0.841_344_75, 2.484_475_8],
        1e-6,
        "gelu",
    )
}

fn argmax() -> Check {
    ensure(
        k::argmax(&[1.0, 3.0, 3.0, 2.0]) == Some(1),
        "ties go to the lowest index",
    )?;
    ensure(
        k::argmax(&[f32::NAN, 1.0]) == Some(1),
        "NaN is never chosen",
    )?;
    ensure(k::argmax(&[f32::NAN]).is_none(), "only NaN")?;
    ensure(k::argmax(&[]).is_none(), "empty")
}

fn attention() -> Check {
    // d 4, 2 heads, one key: softmax over one key is 1, so the output is its value
    let mut q = [1.0, 2.0, 3.0, 4.0];
    let mut scores = [0.0; 2];
    k::attention(
        &mut q,
        &[0.5; 4],
        &[9.0, 8.0, 7.0, 6.0],
        2,
        &mut scores[..1],
    );
    all_close(&q, &[9.0, 8.0, 7.0, 6.0], 0.0, "one key")?;
    // d 2, 1 head, keys (2, 0) and (0, 0): weights sigmoid(2 / sqrt 2) and the rest
    let mut q = [1.0, 0.0];
    k::attention(
        &mut q,
        &[2.0, 0.0, 0.0, 0.0],
        &[1.0, 0.0, 0.0, 1.0],
        1,
        &mut scores,
    );
    let p0 = 0.804_429_7;
    all_close(&q, &[p0, 1.0 - p0], 1e-6, "two keys")
}

/// Deterministic values in [-1, 1) (xorshift), scaled by `scale`.
fn fill(values: &mut [f32], seed: u32, scale: f32) {
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    for v in values {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        *v = ((s >> 8) as f32 / (1u32 << 23) as f32 - 1.0) * scale;
    }
}

/// The error budget of a dot product computed in another order (the kernels' tests on
/// the host use the same): `(k + 2) eps sum |a_i b_i|`, plus `(k + 1)` times the smallest
/// normal: Helium's floating point flushes subnormal inputs and results to zero (it runs
/// with the standard FPSCR value, FZ set), so each subnormal product may be lost.
fn budget(a: &[f32], b: &[f32]) -> f32 {
    let magnitude: f32 = a.iter().zip(b).map(|(x, y)| (x * y).abs()).sum();
    let k = a.len().min(b.len()) as f32;
    (k + 2.0) * f32::EPSILON * magnitude + (k + 1.0) * f32::MIN_POSITIVE
}

/// The property test of the host suite, on the target: the dispatched kernel (the Arm
/// FPU kernel on M4F/M7/M33, Helium on M55, RVV on the rv32 board with the vector
/// extension) against the scalar reference, for `dot`,
/// `axpy`, `linear` and `linear_acc` over every length `0..=17`, the model shapes, and
/// 1–4 input rows by 1–9 weight rows, with small, large and denormal values.
fn active_vs_scalar() -> Check {
    const MAX_K: usize = 64;
    const MAX_ROWS: usize = 4;
    const MAX_N: usize = 9;
    let mut x = [0f32; MAX_ROWS * MAX_K];
    let mut w = [0f32; MAX_N * (MAX_K + 3)];
    let mut want = [0f32; MAX_ROWS * MAX_N];
    let mut got = [0f32; MAX_ROWS * MAX_N];
    let lengths = (0..=17).chain([32, 48, MAX_K]);
    for (case, k) in lengths.enumerate() {
        let seed = case as u32 * 8 + 1;
        for (scale, salt) in [(1.0, 0), (1e15, 1), (f32::MIN_POSITIVE / 4.0, 2)] {
            fill(&mut x, seed + salt, scale);
            fill(&mut w, seed + 100 + salt, 1.0);
            let (a, b) = (x.get(..k).unwrap_or(&[]), w.get(..k).unwrap_or(&[]));
            close(
                k::dot(a, b),
                k::generic::f32::dot(a, b),
                budget(a, b),
                "dot",
            )?;
            let mut y_want = [0f32; MAX_K];
            fill(&mut y_want, seed + 200, 1.0);
            let mut y_got = y_want;
            k::generic::f32::axpy(0.75, a, &mut y_want);
            k::axpy(0.75, a, &mut y_got);
            // a fused multiply-add rounds once where the reference rounds twice
            for ((&g, &e), &xi) in y_got.iter().zip(&y_want).zip(a) {
                let tolerance = f32::EPSILON * ((0.75 * xi).abs() + e.abs()) + f32::MIN_POSITIVE;
                close(g, e, tolerance, "axpy")?;
            }
            for rows in 1..=MAX_ROWS {
                for n in [1, 3, 4, 5, 8, MAX_N] {
                    let xs = x.get(..rows * k).unwrap_or(&[]);
                    let ws = w.get(..n * k).unwrap_or(&[]);
                    let (Some(yw), Some(yg)) = (want.get_mut(..rows * n), got.get_mut(..rows * n))
                    else {
                        return ensure(false, "buffers");
                    };
                    k::generic::f32::linear(xs, ws, None, k, yw);
                    k::linear(xs, ws, None, k, yg);
                    check_rows(xs, ws, k, k, yg, yw, "linear")?;
                    // the same weights as columns 3..3 + k of [n, k + 3]
                    let stride = k + 3;
                    let ws = w.get(3..).unwrap_or(&[]);
                    fill(yw, seed + 300, 1.0);
                    for (g, &e) in yg.iter_mut().zip(yw.iter()) {
                        *g = e;
                    }
                    k::generic::f32::linear_acc(xs, ws, stride, k, yw);
                    k::linear_acc(xs, ws, stride, k, yg);
                    check_rows(xs, ws, k, stride, yg, yw, "linear_acc")?;
                }
            }
        }
    }
    Ok(())
}

/// The dispatched attention softmax (scaling, maximum, exponentials, sum, normalising)
/// against its scalar twin, bit for bit: Helium's lane-ordered rule
/// (`generic::lanes::softmax_scaled_lanes`) where the kernel names it, else the
/// reference (`generic::f32::softmax` of the scaled row). Every length `0..=17`, 64 and
/// 300 (long rows: the lanes' compensation), scores at several scales down to subnormal
/// ones, with `-inf` and NaN elements and an all-`-inf` row; NaN must stay NaN.
fn softmax_scaled_vs_twin() -> Check {
    const MAX_N: usize = 300;
    let lanes = k::dispatch::softmax_is_lane_ordered();
    defmt::println!("attention softmax: lane-ordered {=bool}", lanes);
    let lengths = (0..=17).chain([64, MAX_N]);
    for (case, n) in lengths.enumerate() {
        for (salt, spread) in [1.0, 10.0, 50.0, 1000.0, 1e30, f32::MIN_POSITIVE * 4.0]
            .into_iter()
            .enumerate()
        {
            let mut want = [0f32; MAX_N];
            fill(&mut want, (case * 8 + salt) as u32 + 11, spread);
            if salt == 2 {
                if let Some(v) = want.get_mut(n / 2) {
                    *v = f32::NEG_INFINITY;
                }
                if let Some(v) = want.get_mut(n / 3) {
                    *v = f32::NAN;
                }
            }
            if salt == 3 && n % 2 == 1 {
                want.fill(f32::NEG_INFINITY);
            }
            let mut got = want;
            let (Some(want), Some(got)) = (want.get_mut(..n), got.get_mut(..n)) else {
                return ensure(false, "buffers");
            };
            if lanes {
                k::generic::lanes::softmax_scaled_lanes(want, 0.125);
            } else {
                for v in want.iter_mut() {
                    *v *= 0.125;
                }
                k::softmax(want);
            }
            k::dispatch::softmax_scaled(got, 0.125);
            for (&g, &w) in got.iter().zip(want.iter()) {
                if !(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan())) {
                    defmt::println!("n {=usize} spread {=f32}", n, spread);
                    return close(g, w, 0.0, "softmax_scaled bits");
                }
            }
        }
    }
    Ok(())
}

/// The dispatched GELU against its scalar twin, bit for bit: Helium's polynomial erf
/// (`generic::lanes::gelu_poly`) where the kernel names it, else the reference (libm's
/// `erff`). Every length `0..=9` (tails) and rows of 64 values at several scales (the
/// polynomial's whole range and past it), with zeros, subnormals, infinities and NaN.
fn gelu_vs_twin() -> Check {
    const MAX_N: usize = 64;
    let polynomial = k::dispatch::gelu_is_polynomial();
    defmt::println!("gelu: polynomial erf {=bool}", polynomial);
    let lengths = (0..=9).chain([MAX_N]);
    for (case, n) in lengths.enumerate() {
        for (salt, spread) in [1.0, 4.0, 6.0, 12.0, 1e30, f32::MIN_POSITIVE * 4.0]
            .into_iter()
            .enumerate()
        {
            let mut want = [0f32; MAX_N];
            fill(&mut want, (case * 8 + salt) as u32 + 13, spread);
            if salt == 1 {
                let edges = [
                    0.0,
                    -0.0,
                    f32::INFINITY,
                    f32::NEG_INFINITY,
                    f32::NAN,
                    5.6568,
                    -5.6568,
                    5.657,
                    -5.657,
                ];
                for (v, &e) in want.iter_mut().zip(edges.iter()).skip(n / 3) {
                    *v = e;
                }
            }
            let mut got = want;
            let (Some(want), Some(got)) = (want.get_mut(..n), got.get_mut(..n)) else {
                return ensure(false, "buffers");
            };
            if polynomial {
                k::generic::lanes::gelu_poly(want);
            } else {
                k::generic::f32::gelu(want);
            }
            k::dispatch::gelu(got);
            for (&g, &w) in got.iter().zip(want.iter()) {
                if !(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan())) {
                    defmt::println!("n {=usize} spread {=f32}", n, spread);
                    return close(g, w, 0.0, "gelu bits");
                }
            }
        }
    }
    Ok(())
}

/// The dispatched LayerNorm against its scalar twin, bit for bit: Helium's lane-ordered
/// sums (`generic::lanes::layer_norm_lanes`) where the kernel names it, else the
/// reference. Every length `0..=17`, 64 and 300, rows around several offsets (the mean's
/// sum cancelling) and scales down to subnormal values, with and without `beta`, a short
/// `gamma`, and a NaN.
fn layer_norm_vs_twin() -> Check {
    const MAX_N: usize = 300;
    let lanes = k::dispatch::layer_norm_is_lane_ordered();
    defmt::println!("layer norm: lane-ordered {=bool}", lanes);
    let mut gamma = [0f32; MAX_N];
    let mut beta = [0f32; MAX_N];
    fill(&mut gamma, 5, 2.0);
    fill(&mut beta, 6, 0.5);
    let lengths = (0..=17).chain([64, MAX_N]);
    for (case, n) in lengths.enumerate() {
        for (salt, (spread, offset)) in [
            (1.0, 0.0),
            (3.0, 100.0),
            (0.01, -1000.0),
            (1e30, 0.0),
            (f32::MIN_POSITIVE * 4.0, 0.0),
            (1.0, 0.0),
        ]
        .into_iter()
        .enumerate()
        {
            let mut want = [0f32; MAX_N];
            fill(&mut want, (case * 8 + salt) as u32 + 17, spread);
            for v in want.iter_mut() {
                *v += offset;
            }
            if salt == 5 {
                if let Some(v) = want.get_mut(n / 3) {
                    *v = f32::NAN;
                }
            }
            let mut got = want;
            let (Some(want), Some(got)) = (want.get_mut(..n), got.get_mut(..n)) else {
                return ensure(false, "buffers");
            };
            let gamma = gamma
                .get(..n.saturating_sub(usize::from(salt == 3)))
                .unwrap_or(&[]);
            let beta = (salt % 2 == 0).then_some(beta.get(..n).unwrap_or(&[]));
            if lanes {
                k::generic::lanes::layer_norm_lanes(want, gamma, beta, 1e-5);
            } else {
                k::generic::f32::layer_norm(want, gamma, beta, 1e-5);
            }
            k::dispatch::layer_norm(got, gamma, beta, 1e-5);
            for (&g, &w) in got.iter().zip(want.iter()) {
                if !(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan())) {
                    defmt::println!("n {=usize} salt {=usize}", n, salt);
                    return close(g, w, 0.0, "layer_norm bits");
                }
            }
        }
    }
    Ok(())
}

/// The dispatched softmax exponentials (Helium's four lanes on M55) against the scalar
/// `exp_fast` row, bit for bit: every length `0..=17` and 64, rows of scores at several
/// scales (spanning the whole range down to the threshold where the result is 0, and
/// subnormal scores), with `-inf` and NaN elements; NaN must stay NaN.
fn exp_minus_max_vs_scalar() -> Check {
    const MAX_N: usize = 64;
    let lengths = (0..=17).chain([MAX_N]);
    for (case, n) in lengths.enumerate() {
        for (salt, scale) in [1.0, 10.0, 50.0, 100.0, 1e30, f32::MIN_POSITIVE * 4.0]
            .into_iter()
            .enumerate()
        {
            let mut want = [0f32; MAX_N];
            fill(&mut want, (case * 8 + salt) as u32 + 7, scale);
            if salt == 2 {
                if let Some(v) = want.get_mut(n / 2) {
                    *v = f32::NEG_INFINITY;
                }
                if let Some(v) = want.get_mut(n / 3) {
                    *v = f32::NAN;
                }
            }
            let mut got = want;
            let (Some(want), Some(got)) = (want.get_mut(..n), got.get_mut(..n)) else {
                return ensure(false, "buffers");
            };
            let largest = k::max(want);
            k::generic::f32::exp_minus_max(want, largest);
            k::dispatch::exp_minus_max(got, largest);
            for (&g, &w) in got.iter().zip(want.iter()) {
                if !(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan())) {
                    return close(g, w, 0.0, "exp_minus_max bits");
                }
            }
        }
    }
    Ok(())
}

/// The dispatched int8 rule's exponentials (`exp_i8_minus_max`: Helium's four lanes on
/// the M55, which its int8 attention kernels share) against the scalar `exp_i8`, bit for
/// bit: every f32 in `[-90, 0]` whose bit pattern is a multiple of a step prime to 2
/// (some 9,000 of them), each `-(k + 1/2) ln 2` (`t` a tie) and its 16 neighbours either
/// side for `k < 127` (so `n`'s ties and the threshold's edge), the threshold and its
/// neighbours, +-0, -inf and NaN; rows of 251 (whole passes and a tail), around
/// maxima 0, 2.5 and -1e-3 (`x - largest` rounds as the scalar's does).
fn exp_i8_vs_scalar() -> Check {
    const N: usize = 251;
    let zero_below = k::attention_i8::EXP_I8_ZERO_BELOW;
    let mut values = [0f32; N];
    let mut filled = 0usize;
    let mut rows = 0usize;
    // one row at a time: `push` fills `values`, `flush` checks it
    let check = |values: &mut [f32; N], n: usize| -> Check {
        for largest in [0.0f32, 2.5, -1e-3] {
            let mut want = [0f32; N];
            let (Some(src), Some(want)) = (values.get(..n), want.get_mut(..n)) else {
                return ensure(false, "buffers");
            };
            for (w, &d) in want.iter_mut().zip(src) {
                *w = d + largest;
            }
            let mut got = [0f32; N];
            let Some(got) = got.get_mut(..n) else {
                return ensure(false, "buffers");
            };
            got.copy_from_slice(want);
            k::attention_i8::exp_i8_minus_max(want, largest);
            k::exp_i8_minus_max(got, largest);
            for (&g, &w) in got.iter().zip(want.iter()) {
                if !(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan())) {
                    return close(g, w, 0.0, "exp_i8 bits");
                }
            }
        }
        Ok(())
    };
    let mut push = |v: f32, values: &mut [f32; N], filled: &mut usize| -> Check {
        if let Some(slot) = values.get_mut(*filled) {
            *slot = v;
        }
        *filled += 1;
        if *filled == N {
            check(values, N)?;
            *filled = 0;
            rows += 1;
        }
        Ok(())
    };
    // [-90, 0]: bit patterns 0x8000_0000 ..= bits(-90.0) in steps prime to 2
    let last = (-90.0f32).to_bits();
    let mut bits = 0x8000_0000u32;
    while bits <= last {
        push(f32::from_bits(bits), &mut values, &mut filled)?;
        bits += 0x0001_fc8b;
    }
    for kk in 0..127u32 {
        let tie = -(kk as f32 + 0.5) * core::f32::consts::LN_2;
        for delta in 0..33u32 {
            let b = tie.to_bits().wrapping_add(delta).wrapping_sub(16);
            push(f32::from_bits(b), &mut values, &mut filled)?;
        }
    }
    for delta in 0..9u32 {
        let b = zero_below.to_bits().wrapping_add(delta).wrapping_sub(4);
        push(f32::from_bits(b), &mut values, &mut filled)?;
    }
    for v in [0.0, -0.0, f32::NEG_INFINITY, f32::NAN, -1e-30, -1e30] {
        push(v, &mut values, &mut filled)?;
    }
    ensure(rows >= 50, "the rows were checked")?;
    let n = filled;
    check(&mut values, n)
}

/// The dispatched `log10` (Helium's four lanes on M55) against libm's `log10f`
/// ([`k::generic::f32::log10`]), bit for bit: rows of every length `0..=17` and 80 (one
/// frame's mel bins), over positive normal values of every exponent (bit patterns
/// stepped through the whole range), near 1, the smallest and largest; and rows holding
/// a value outside the kernel's domain (zero, negative, subnormal, infinite, NaN), which
/// take libm's own branches.
fn log10_is_libms() -> Check {
    const MAX_N: usize = 80;
    // bit patterns 0x00800000 .. 0x7f800000 in steps prime to every power of two
    const STEP: u32 = 0x0001_fc8b;
    let mut bits = 0x0080_0000u32;
    let mut next = move || {
        bits = bits.wrapping_add(STEP);
        if bits >= 0x7f80_0000 {
            bits = 0x0080_0000 + (bits - 0x7f80_0000);
        }
        f32::from_bits(bits)
    };
    let special = [
        1.0,
        f32::from_bits(0x3f80_0001),
        f32::from_bits(0x3f7f_ffff),
        f32::MIN_POSITIVE,
        f32::MAX,
        10.0,
        1e-10,
        0.5,
        2.0,
        f32::from_bits(0x3f35_04f3),
        f32::from_bits(0x3f35_04f2),
    ];
    let outside = [
        0.0,
        -0.0,
        -1.0,
        f32::MIN_POSITIVE / 2.0,
        f32::INFINITY,
        f32::NAN,
    ];
    for round in 0..40u32 {
        for n in (0..=17).chain([MAX_N]) {
            let mut want = [0f32; MAX_N];
            for v in want.iter_mut() {
                *v = next();
            }
            let at = round as usize % MAX_N.max(1);
            if round < special.len() as u32 {
                if let (Some(v), Some(&s)) =
                    (want.get_mut(at % n.max(1)), special.get(round as usize))
                {
                    *v = s;
                }
            }
            if round >= 30 {
                let o = outside
                    .get(round as usize % outside.len())
                    .copied()
                    .unwrap_or(0.0);
                if let Some(v) = want.get_mut(at % n.max(1)) {
                    *v = o;
                }
            }
            let mut got = want;
            let (Some(want), Some(got)) = (want.get_mut(..n), got.get_mut(..n)) else {
                return ensure(false, "buffers");
            };
            k::generic::f32::log10(want);
            k::dispatch::log10(got);
            for (&g, &w) in got.iter().zip(want.iter()) {
                if !(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan())) {
                    return close(g, w, 0.0, "log10 bits");
                }
            }
        }
    }
    Ok(())
}

/// The dispatched weighted sum of rows (Helium's four rows per pass on M55) against one
/// dispatched `axpy` per row, bit for bit: row lengths `0..=17` and 64, 0 to 9 rows.
fn axpy_strided_is_rows_of_axpy() -> Check {
    const MAX_N: usize = 64;
    const MAX_ROWS: usize = 9;
    let mut x = [0f32; MAX_ROWS * (MAX_N + 3)];
    let mut alpha = [0f32; MAX_ROWS];
    // 16, 32, 48, 64: Helium's whole-head loop (`axpy_rows`); the others its tiles
    for (case, n) in (0..=17).chain([32, 48, MAX_N]).enumerate() {
        let stride = n + 3;
        fill(&mut x, case as u32 + 11, 1.0);
        fill(&mut alpha, case as u32 + 29, 1.0);
        for rows in 0..=MAX_ROWS {
            let mut want = [0f32; MAX_N];
            fill(&mut want, case as u32 + 41, 1.0);
            let mut got = want;
            let (Some(want), Some(got), Some(alpha)) =
                (want.get_mut(..n), got.get_mut(..n), alpha.get(..rows))
            else {
                return ensure(false, "buffers");
            };
            for (j, &a) in alpha.iter().enumerate() {
                k::axpy(a, x.get(j * stride..j * stride + n).unwrap_or(&[]), want);
            }
            k::dispatch::axpy_strided(alpha, &x, stride, got);
            for (&g, &w) in got.iter().zip(want.iter()) {
                if g.to_bits() != w.to_bits() {
                    return close(g, w, 0.0, "axpy_strided bits");
                }
            }
        }
        // more weights than rows: `x` ends inside its fourth row, so only 3 are added
        let (mut want, mut got) = ([0f32; MAX_N], [0f32; MAX_N]);
        let (Some(want), Some(got), Some(short_x)) = (
            want.get_mut(..n),
            got.get_mut(..n),
            x.get(..(3 * stride + n).saturating_sub(1)),
        ) else {
            return ensure(false, "buffers");
        };
        for (j, &a) in alpha.iter().take(3).enumerate() {
            k::axpy(a, x.get(j * stride..j * stride + n).unwrap_or(&[]), want);
        }
        k::dispatch::axpy_strided(&alpha, short_x, stride, got);
        if n > 0 && got != want {
            return ensure(false, "axpy_strided past the end of x");
        }
    }
    Ok(())
}

/// The dispatched convolution, bit for bit, against its definition on the dispatched
/// [`k::dot`]: an output whose window lies inside the input is one dot product of the
/// window with the weight row plus the bias; one that touches the padding adds one dot
/// product per tap inside, in tap order (Helium takes the inside windows as
/// matrix-vector products: `DOT_ROWS_ARE_DOTS`, two inside rows in one pass where the
/// window is whole blocks of 16 and the channels whole tiles). Channels 5 (a window with a
/// tail), 8 and 16 (windows of 48), 6 output channels (a tile of 4 and 2 more) and 8,
/// strides 1 and 2.
fn conv1d_is_window_dots() -> Check {
    const L_IN: usize = 7;
    const TAPS: usize = 3;
    const MAX_C_OUT: usize = 8;
    const MAX_C_IN: usize = 16;
    let mut input = [0f32; L_IN * MAX_C_IN];
    let mut weight = [0f32; MAX_C_OUT * TAPS * MAX_C_IN];
    let mut bias = [0f32; MAX_C_OUT];
    let mut out = [0f32; L_IN * MAX_C_OUT];
    let cases = [
        (5, 1, 6),
        (8, 1, 6),
        (5, 2, 6),
        (8, 2, 6),
        (16, 1, 8),
        (16, 2, 8),
        (16, 1, 6),
    ];
    for (case, (c_in, stride, c_out)) in cases.into_iter().enumerate() {
        fill(&mut input, case as u32 + 3, 1.0);
        fill(&mut weight, case as u32 + 7, 1.0);
        fill(&mut bias, case as u32 + 13, 1.0);
        let l_out = k::conv1d_out_len(L_IN, TAPS, stride, 1);
        let window = TAPS * c_in;
        let (Some(input), Some(weight), Some(out), Some(bias)) = (
            input.get(..L_IN * c_in),
            weight.get(..c_out * window),
            out.get_mut(..l_out * c_out),
            bias.get(..c_out),
        ) else {
            return ensure(false, "buffers");
        };
        k::conv1d(input, c_in, weight, Some(bias), TAPS, stride, 1, out);
        for (r, out_row) in out.chunks_exact(c_out).enumerate() {
            for ((w_row, &got), &b) in weight.chunks_exact(window).zip(out_row).zip(bias) {
                let mut sum = 0.0;
                let start = r * stride;
                if start >= 1 && start - 1 + TAPS <= L_IN {
                    let at = (start - 1) * c_in;
                    sum = k::dot(input.get(at..at + window).unwrap_or(&[]), w_row);
                } else {
                    for (tap, w_tap) in w_row.chunks_exact(c_in).enumerate() {
                        if let Some(row) = (start + tap).checked_sub(1) {
                            if let Some(x) = input.get(row * c_in..(row + 1) * c_in) {
                                sum += k::dot(x, w_tap);
                            }
                        }
                    }
                }
                let want = sum + b;
                if got.to_bits() != want.to_bits() {
                    return close(got, want, 0.0, "conv1d bits");
                }
            }
        }
    }
    Ok(())
}

/// Element `[r, o]` of `got` against `want` within the budget of its dot product (plus
/// one rounding of what was there before).
fn check_rows(
    x: &[f32],
    w: &[f32],
    k: usize,
    stride: usize,
    got: &[f32],
    want: &[f32],
    what: &'static str,
) -> Check {
    let n = got.len() / (x.len() / k.max(1)).max(1);
    for (i, (&g, &e)) in got.iter().zip(want).enumerate() {
        let (r, o) = (i / n.max(1), i % n.max(1));
        let xr = x.get(r * k..(r + 1) * k).unwrap_or(&[]);
        let wo = w.get(o * stride..o * stride + k).unwrap_or(&[]);
        close(g, e, budget(xr, wo) + 2.0 * f32::EPSILON * e.abs(), what)?;
    }
    Ok(())
}

/// The dispatched int8 linear layer (SMLAD on the DSP cores, MVE on the M55, the
/// scalar twin elsewhere; `kernel_active_is_expected` checks it is the board's) against
/// `generic::i8::linear_i8`, bit for bit, and it must have served the products
/// (`last_kernel(Dtype::I8)`): every reduction length 0..=41 (the SMLAD block is 8 bytes, so
/// heads, whole blocks and tails), 1..=5 weight rows (tiles of 4 and the leftover rows),
/// weights across the whole i8 range including -128.
fn int8_linear_vs_scalar() -> Check {
    const K: usize = 41;
    // 9 rows: two whole groups of 4 and a leftover row (the one-pass kernels' row-group
    // loop, whose row pointers must advance by `k` whatever `k % 16`).
    const N: usize = 9;
    let values: [i8; N * K] = core::array::from_fn(|i| {
        (i as u32).wrapping_mul(2_654_435_761).wrapping_shr(13) as u8 as i8
    });
    let scales: [f32; N] = [0.01, 0.5, 0.0, 2.0, 1e-3, 0.02, 0.7, 1.5, 0.125];
    let x: [f32; 2 * K] = core::array::from_fn(|i| ((i * 37 % 23) as f32 - 11.0) * 0.37);
    let bias: [f32; N] = [0.5, -1.0, 0.0, 3.0, 0.25, -0.5, 1.0, 0.0, 2.0];
    for k in 0..=K {
        for n in 1..=N {
            let w = k::I8Matrix {
                values: values.get(..n * k).unwrap_or(&[]),
                scales: scales.get(..n).unwrap_or(&[]),
            };
            let x = x.get(..2 * k).unwrap_or(&[]);
            let mut want = [0f32; 2 * N];
            let mut q = [0i8; K];
            let want = want.get_mut(..2 * n).unwrap_or(&mut []);
            k::generic::i8::linear_i8(x, w, bias.get(..n), k, want, &mut q);
            let mut got = [0f32; 2 * N];
            let got = got.get_mut(..2 * n).unwrap_or(&mut []);
            let mut qv = [0i8; 2 * K];
            let mut qs = [0f32; 2];
            let mut act = k::Activations {
                values: &mut qv,
                scales: &mut qs,
            };
            k::quant::linear(x, &k::Matrix::I8(w), bias.get(..n), k, got, &mut act);
            let same = got
                .iter()
                .zip(want.iter())
                .all(|(g, w)| g.to_bits() == w.to_bits());
            ensure(same, "int8 kernel vs scalar, bit for bit")?;
        }
    }
    ensure(
        k::last_kernel(k::Dtype::I8) == Some(k::active_kernel_for(k::Dtype::I8)),
        "the dispatched int8 kernel ran",
    )
}

/// Reduction length of [`int8_wide_rows_and_epilogue_edges`]'s widest products.
const WIDE_K: usize = 128;
/// Weight rows of [`int8_wide_rows_and_epilogue_edges`].
const WIDE_N: usize = 14;
/// Its weights: pseudo-random bytes, with rows 3 and 10 all zero (sums of 0).
/// 7 weight rows of 512 int8 values for [`int8_row_pairs_vs_scalar`]'s `k = 512` (the
/// unrolled tiles): [`WIDE_VALUES`]' formula, row 3 zeros.
static VALUES_512: [i8; 7 * 512] = {
    let mut values = [0i8; 7 * 512];
    let mut i = 0;
    while i < values.len() {
        if i / 512 != 3 {
            values[i] = ((i as u32).wrapping_mul(2_654_435_761) >> 13) as u8 as i8;
        }
        i += 1;
    }
    values
};

static WIDE_VALUES: [i8; WIDE_N * WIDE_K] = {
    let mut values = [0i8; WIDE_N * WIDE_K];
    let mut i = 0;
    while i < values.len() {
        let row = i / WIDE_K;
        if row != 3 && row != 10 {
            values[i] = ((i as u32).wrapping_mul(2_654_435_761) >> 13) as u8 as i8;
        }
        i += 1;
    }
    values
};

/// The dispatched int8 linear layer against `generic::i8::linear_i8`, bit for bit, where
/// the one-pass kernels change their loops and epilogues: reduction lengths 64 and 128
/// (Helium's 64-byte loop) with 1..=14 weight rows (its groups of 6 and 4 and the odd
/// last row), 2 input rows, with and without a bias; then the outputs a vector
/// epilogue that flushes subnormals to zero must hand to the FPU (reduction lengths 41,
/// 64 and 128: Helium's single rows and row pairs): tiny, zero, subnormal and huge
/// scales (also among normal ones), zero sums with subnormal and signed-zero biases, a NaN
/// bias with a payload and infinite biases.
fn int8_wide_rows_and_epilogue_edges() -> Check {
    // each 64 values a larger range: rows of different scales
    let x: [f32; 2 * WIDE_K] = core::array::from_fn(|i| {
        ((i * 37 % 23) as f32 - 11.0) * 0.37 * (1.0 + (i / 64) as f32 * 0.1)
    });
    let bias: [f32; WIDE_N] = core::array::from_fn(|i| (i as f32 - 6.5) * 0.75);
    let mut act_values = [0i8; 2 * WIDE_K];
    let mut act_scales = [0f32; 2];
    let compare = |k: usize,
                   n: usize,
                   scales: &[f32],
                   bias: Option<&[f32]>,
                   what: &'static str,
                   act_values: &mut [i8],
                   act_scales: &mut [f32]| {
        let w = k::I8Matrix {
            values: WIDE_VALUES.get(..n * k).unwrap_or(&[]),
            scales: scales.get(..n).unwrap_or(&[]),
        };
        let x = x.get(..2 * k).unwrap_or(&[]);
        let mut want = [0f32; 2 * WIDE_N];
        let want = want.get_mut(..2 * n).unwrap_or(&mut []);
        let mut q = [0i8; WIDE_K];
        k::generic::i8::linear_i8(x, w, bias, k, want, q.get_mut(..k).unwrap_or(&mut []));
        let mut got = [0f32; 2 * WIDE_N];
        let got = got.get_mut(..2 * n).unwrap_or(&mut []);
        let mut act = k::Activations {
            values: act_values,
            scales: act_scales,
        };
        k::quant::linear(x, &k::Matrix::I8(w), bias, k, got, &mut act);
        let same = got
            .iter()
            .zip(want.iter())
            .all(|(g, w)| g.to_bits() == w.to_bits());
        ensure(same, what)
    };
    let scales: [f32; WIDE_N] = core::array::from_fn(|i| 0.004 + i as f32 * 0.003);
    for k in [64, WIDE_K] {
        for n in 1..=WIDE_N {
            for bias in [None, bias.get(..n)] {
                compare(
                    k,
                    n,
                    &scales,
                    bias,
                    "int8 kernel vs scalar, 64-byte rows, bit for bit",
                    &mut act_values,
                    &mut act_scales,
                )?;
            }
        }
    }
    // sx is about 4 / 127: 1e-29 gives scales below 2^-96, 1e-38 subnormal ones
    let edge_scales: [f32; WIDE_N] = [
        0.01, 1e-29, 0.0, 0.5, 1e-38, 3e38, 0.02, 1e-45, 0.7, 1.5, 0.125, 2.0, 1e-3, 0.25,
    ];
    let edge_bias: [f32; WIDE_N] = [
        1e-40,
        -0.0,
        0.5,
        1e-41,
        0.0,
        1.0,
        f32::from_bits(0x7fc0_1234),
        -1e-39,
        f32::INFINITY,
        2.0,
        -0.0,
        -f32::INFINITY,
        1e-44,
        0.25,
    ];
    // positive normal scales (Helium's row pairs decide them from the least and the
    // largest) with one product below 2^-96, and with one that overflows
    let mut tiny = scales;
    let mut huge = scales;
    if let (Some(t), Some(h)) = (tiny.get_mut(4), huge.get_mut(7)) {
        (*t, *h) = (1e-30, 3e38);
    }
    for k in [41, 64, WIDE_K] {
        for n in [6, 9, 12, 13, WIDE_N] {
            for (scales, bias) in [
                (&edge_scales, None),
                (&edge_scales, edge_bias.get(..n)),
                (&scales, edge_bias.get(..n)),
                (&tiny, None),
                (&tiny, bias.get(..n)),
                (&huge, bias.get(..n)),
            ] {
                compare(
                    k,
                    n,
                    scales,
                    bias,
                    "int8 kernel vs scalar, epilogue edges, bit for bit",
                    &mut act_values,
                    &mut act_scales,
                )?;
            }
        }
    }
    Ok(())
}

/// The dispatched int8 linear layer against `generic::i8::linear_i8`, bit for bit, on 1 to
/// 3 input rows (Helium's tiles of 2 rows by 3 weight rows and the odd last row): reduction
/// lengths 64 (no tiles), 128, 256 and 384 (0 to 2 of the tile loop's 128-byte
/// iterations) and 512 (the unrolled tiles of `k == 512`), 4 to 9 weight rows (whole tiles
/// and the last 3 rows again) as many as [`WIDE_VALUES`] (k = 512: [`VALUES_512`]) holds,
/// with and without a bias, and with the first or the second row all zeros (a row the
/// scalar quantizer takes: the pair goes row by row).
fn int8_row_pairs_vs_scalar() -> Check {
    const K: usize = 512;
    const ROWS: usize = 3;
    const N: usize = 9;
    let bias: [f32; N] = core::array::from_fn(|i| (i as f32 - 4.5) * 0.5);
    let scales: [f32; N] = core::array::from_fn(|i| 0.004 + i as f32 * 0.003);
    for zero_row in [None, Some(0), Some(1)] {
        let x: [f32; ROWS * K] = core::array::from_fn(|i| {
            if Some(i / K) == zero_row {
                0.0
            } else {
                // each 64 values a larger range: rows of different scales
                ((i * 29 % 31) as f32 - 15.0) * 0.21 * (1.0 + (i / 64) as f32 * 0.1)
            }
        });
        for k in [64, 128, 256, 384, K] {
            let values: &[i8] = if k == 512 { &VALUES_512 } else { &WIDE_VALUES };
            for n in 4..=N.min(values.len() / k) {
                for rows in 1..=ROWS {
                    for bias in [None, bias.get(..n)] {
                        let w = k::I8Matrix {
                            values: values.get(..n * k).unwrap_or(&[]),
                            scales: scales.get(..n).unwrap_or(&[]),
                        };
                        let x = x.get(..rows * k).unwrap_or(&[]);
                        let mut want = [0f32; ROWS * N];
                        let want = want.get_mut(..rows * n).unwrap_or(&mut []);
                        let mut q = [0i8; K];
                        let q = q.get_mut(..k).unwrap_or(&mut []);
                        k::generic::i8::linear_i8(x, w, bias, k, want, q);
                        let mut got = [0f32; ROWS * N];
                        let got = got.get_mut(..rows * n).unwrap_or(&mut []);
                        let mut qv = [0i8; 2 * K];
                        let mut qs = [0f32; ROWS];
                        let mut act = k::Activations {
                            values: &mut qv,
                            scales: &mut qs,
                        };
                        k::quant::linear(x, &k::Matrix::I8(w), bias, k, got, &mut act);
                        let same = got
                            .iter()
                            .zip(want.iter())
                            .all(|(g, w)| g.to_bits() == w.to_bits());
                        ensure(same, "int8 kernel vs scalar, row pairs, bit for bit")?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// The dispatched int8 linear layer against `generic::i8::linear_i8` on activations whose
/// products with the quantizer's `127 / amax` are the values themselves (`amax` 127): the
/// neighbours of half-integers, of powers of two and `0.5 - 2^-25` (where `p + 0.5`
/// rounds up to 1.0), both signs, 64 of them (the quantizers' unrolled loops), against 4
/// weight rows of unit vectors, so each output is one activation's integer.
fn int8_rounding_edges() -> Check {
    const K: usize = 64;
    const N: usize = 4;
    const ACT: usize = match k::quant::activation_values(1, K) {
        Some(bytes) => bytes,
        None => K,
    };
    let mut x = [0f32; K];
    let mut len = 0;
    for base in [0.25f32, 0.5, 1.0, 1.5, 2.5, 63.5, 126.5, 127.0] {
        for steps in [-2i32, -1, 0, 1] {
            let v = f32::from_bits(base.to_bits().wrapping_add_signed(steps));
            for signed in [v, -v] {
                if let Some(slot) = x.get_mut(len) {
                    if signed.abs() <= 127.0 {
                        *slot = signed;
                        len += 1;
                    }
                }
            }
        }
    }
    if let Some(first) = x.first_mut() {
        *first = 127.0;
    }
    for rotate in 0..K / N {
        // weight row m picks activation `rotate * N + m`
        let values: [i8; N * K] = core::array::from_fn(|i| i8::from(i % K == rotate * N + i / K));
        let scales = [1.0f32; N];
        let w = k::I8Matrix {
            values: &values,
            scales: &scales,
        };
        let mut want = [0f32; N];
        let mut q = [0i8; K];
        k::generic::i8::linear_i8(&x, w, None, K, &mut want, &mut q);
        let mut got = [0f32; N];
        // the engine-sized buffer: the SMLAD kernel's pairs need `activation_values`
        let mut qv = [0i8; ACT];
        let mut qs = [0f32; 1];
        let mut act = k::Activations {
            values: &mut qv,
            scales: &mut qs,
        };
        k::quant::linear(&x, &k::Matrix::I8(w), None, K, &mut got, &mut act);
        let same = got
            .iter()
            .zip(want.iter())
            .all(|(g, w)| g.to_bits() == w.to_bits());
        ensure(same, "int8 kernel vs scalar at rounding edges, bit for bit")?;
    }
    Ok(())
}

/// The dispatched f16 linear layer against `generic::f16::linear_f16`: the kernel must be
/// the f16 twin of the active f32 kernel (the FPU's `vcvtb`/`vcvtt` kernel with
/// `arm-fpu` on M4F/M7/M33, the MVE one with `mve` on M55, the scalar one elsewhere)
/// and must have served the products (`last_kernel(Dtype::F16)`); its results within the f32
/// budget of [`budget`] (the widening is exact, only the order of the sums differs).
/// Every reduction length 0..=41 (the FPU kernel's block is 8 elements), 1..=9 weight
/// rows (tiles of 4 and the leftover rows), 1 and 2 input rows, weights from f16's
/// subnormals to 6e4, and a matrix that starts off a word boundary (odd half).
fn f16_linear_vs_scalar() -> Check {
    const K: usize = 41;
    const N: usize = 9;
    const ROWS: usize = 2;
    let expected = match k::active_kernel() {
        k::Kernel::ArmFpu => k::Kernel::ArmFpu,
        k::Kernel::Mve => k::Kernel::Mve,
        _ => k::Kernel::Scalar,
    };
    ensure(
        k::active_kernel_for(k::Dtype::F16) == expected,
        "the f16 twin of the active f32 kernel is dispatched",
    )?;
    let mut x = [0f32; ROWS * K];
    let mut w32 = [0f32; N * K + 1];
    let bias: [f32; N] = core::array::from_fn(|o| o as f32 * 0.25 - 1.0);
    for (case, (wscale, xscale)) in [(1.0, 1.0), (6e4, 1e-3), (6e-5, 1.0)]
        .into_iter()
        .enumerate()
    {
        let seed = case as u32 * 16 + 5;
        fill(&mut x, seed, xscale);
        fill(&mut w32, seed + 1, wscale);
        let w_all: [k::quant::f16; N * K + 1] =
            core::array::from_fn(|i| k::quant::f16::from_f32(w32.get(i).copied().unwrap_or(0.0)));
        for start in [0, 1] {
            for kk in 0..=K {
                for n in 1..=N {
                    for rows in 1..=ROWS {
                        let w = w_all.get(start..start + n * kk).unwrap_or(&[]);
                        let xs = x.get(..rows * kk).unwrap_or(&[]);
                        let mut want = [0f32; ROWS * N];
                        let mut got = [f32::NAN; ROWS * N];
                        let (Some(want), Some(got)) =
                            (want.get_mut(..rows * n), got.get_mut(..rows * n))
                        else {
                            return ensure(false, "buffers");
                        };
                        k::generic::f16::linear_f16(xs, w, bias.get(..n), kk, want);
                        k::quant::linear(
                            xs,
                            &k::Matrix::F16(w),
                            bias.get(..n),
                            kk,
                            got,
                            &mut k::Activations::none(),
                        );
                        ensure(
                            k::last_kernel(k::Dtype::F16) == Some(expected),
                            "the dispatched f16 kernel ran",
                        )?;
                        for (i, (&g, &e)) in got.iter().zip(want.iter()).enumerate() {
                            let (r, o) = (i / n, i % n);
                            let xr = xs.get(r * kk..(r + 1) * kk).unwrap_or(&[]);
                            let wo = w.get(o * kk..(o + 1) * kk).unwrap_or(&[]);
                            let magnitude: f32 =
                                xr.iter().zip(wo).map(|(a, b)| (a * b.to_f32()).abs()).sum();
                            let len = kk as f32;
                            let tolerance = (len + 2.0) * f32::EPSILON * magnitude
                                + (len + 1.0) * f32::MIN_POSITIVE
                                + 2.0 * f32::EPSILON * e.abs();
                            close(g, e, tolerance, "f16 kernel vs scalar")?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Rows of [`int8_attention_vs_scalar`]'s long caches: past one 512-key i32 block.
const I8_CACHE_ROWS: usize = 520;
/// Words of one of its long caches' rows: 1 key/value head of 16 values (the tables are
/// flash: with the larger model, `tools/firmware-large.sh`'s M4F image has no room for
/// more).
const I8_CACHE_ROW_WORDS: usize = k::attention_i8::kv_row_words(16, 1);
/// Words of one of its wide caches' rows (Whisper's head width): 2 heads of 64 values.
const I8_WIDE_ROW_WORDS: usize = k::attention_i8::kv_row_words(128, 2);
/// Rows of its wide caches.
const I8_WIDE_ROWS: usize = 40;

/// An int8 cache of `N / row_words` rows: `kind` 0 pseudo-random bytes, 1 all 127, 2 all
/// -128; each head's scale a positive normal float that varies with the row.
const fn i8_cache<const N: usize>(
    row_words: usize,
    heads: usize,
    kind: u32,
    seed: u32,
) -> [u32; N] {
    let mut words = [0u32; N];
    let value_words = row_words - heads;
    let mut i = 0;
    while i < N {
        let at = i % row_words;
        words[i] = if at >= value_words {
            // 2^-7 to about 2^-6 (0x3c00_0000 is 2^-7)
            0x3c00_0000 | ((i as u32).wrapping_mul(2_654_435_761) >> 9)
        } else {
            match kind {
                0 => (i as u32 ^ seed).wrapping_mul(2_654_435_761).rotate_left(7),
                1 => 0x7f7f_7f7f,
                _ => 0x8080_8080,
            }
        };
        i += 1;
    }
    words
}

/// Its long caches, used as keys and as values: pseudo-random bytes, all 127, all -128.
static I8_LONG: [[u32; I8_CACHE_ROWS * I8_CACHE_ROW_WORDS]; 3] = [
    i8_cache(I8_CACHE_ROW_WORDS, 1, 0, 1),
    i8_cache(I8_CACHE_ROW_WORDS, 1, 1, 2),
    i8_cache(I8_CACHE_ROW_WORDS, 1, 2, 3),
];
static I8_WIDE_KEYS: [u32; I8_WIDE_ROWS * I8_WIDE_ROW_WORDS] = i8_cache(I8_WIDE_ROW_WORDS, 2, 0, 7);
static I8_WIDE_VALUES: [u32; I8_WIDE_ROWS * I8_WIDE_ROW_WORDS] =
    i8_cache(I8_WIDE_ROW_WORDS, 2, 0, 8);

/// The dispatched int8 attention (`attention_grouped_i8`: Helium's `VMLADAVA.S16` scores
/// and `VMLA.S32` weighted sums on the M55) against the scalar reference
/// (`attention_i8::attention_grouped_i8`), bit for bit: heads of 16 values over 1 to 520
/// keys (past one 512-key i32 block; keys of 127 give near-equal scores, so weights near
/// 32767, against values of -128), heads of 64 (Whisper's) over 1 to 40 keys, one and two
/// query heads per key/value head.
fn int8_attention_vs_scalar() -> Check {
    let mut want_scores = [0f32; I8_CACHE_ROWS];
    let mut got_scores = [0f32; I8_CACHE_ROWS];
    let [random, ones, minus] = &I8_LONG;
    // (keys, values): random both; keys of 127 (near-equal scores, so weights near 32767)
    // against values of -128; random keys against values of 127
    let long = [(random, random), (ones, minus), (random, ones)];
    let cases = long
        .into_iter()
        .map(|(keys, values)| (&keys[..], &values[..], 16usize, I8_CACHE_ROW_WORDS, 1))
        .chain(core::iter::once((
            &I8_WIDE_KEYS[..],
            &I8_WIDE_VALUES[..],
            64,
            I8_WIDE_ROW_WORDS,
            2,
        )));
    for (case, (keys, values, dk, row_words, kv_heads)) in cases.enumerate() {
        let rows = keys.len() / row_words;
        for t in [1, 2, 3, 17, 40, 511, 512, 513, 520] {
            if t > rows {
                continue;
            }
            let (Some(keys), Some(values)) =
                (keys.get(..t * row_words), values.get(..t * row_words))
            else {
                return ensure(false, "the caches hold their rows");
            };
            // one and two query heads per key/value head
            for heads in [kv_heads, 2 * kv_heads] {
                let mut query = [0f32; 4 * 64];
                let query = query.get_mut(..heads * dk).unwrap_or(&mut []);
                fill(query, (t * 7 + heads + case) as u32, 3.0);
                let mut want = [0f32; 4 * 64];
                let want = want.get_mut(..query.len()).unwrap_or(&mut []);
                want.copy_from_slice(query);
                k::attention_i8::attention_grouped_i8(
                    want,
                    keys,
                    values,
                    heads,
                    kv_heads,
                    row_words,
                    &mut want_scores,
                );
                k::attention_grouped_i8(
                    query,
                    keys,
                    values,
                    heads,
                    kv_heads,
                    row_words,
                    &mut got_scores,
                );
                let same = query
                    .iter()
                    .zip(want.iter())
                    .all(|(g, w)| g.to_bits() == w.to_bits());
                ensure(same, "int8 attention vs scalar, bit for bit")?;
                ensure(
                    want.iter().any(|&v| v != 0.0),
                    "the attention is not all zeros",
                )?;
            }
        }
    }
    Ok(())
}

/// Words of [`int8_attention_all_vs_scalar`]'s encoder layout: the long caches' 520
/// positions of one 16-value head.
const I8_ALL_WORDS: usize = k::attention_i8::all_head_words(I8_CACHE_ROWS, 16);

/// `t` cache rows (`row_words` words, `heads` heads of `dk`) in the encoder's layout
/// (`pack_all_kv`'s: per head keys by rows, values transposed, key scales, value
/// scales), key scales times `key_scale`, value scales times `value_scale`; `false`
/// where `out` is short.
#[allow(clippy::too_many_arguments)] // the two caches' shape and the scales' factors
fn to_all_layout(
    keys: &[u32],
    values: &[u32],
    t: usize,
    row_words: usize,
    heads: usize,
    dk: usize,
    key_scale: f32,
    value_scale: f32,
    out: &mut [u32],
) -> bool {
    use k::attention_i8::{all_head_words, all_stride, cached_value};
    let words = all_head_words(t, dk);
    let stride = all_stride(t);
    if out.len() < heads * words {
        return false;
    }
    let value_words = row_words - heads;
    for h in 0..heads {
        let block = &mut out[h * words..(h + 1) * words];
        block.fill(0);
        for j in 0..t {
            let (k_row, v_row) = (
                &keys[j * row_words..(j + 1) * row_words],
                &values[j * row_words..(j + 1) * row_words],
            );
            for c in 0..dk {
                let (kb, vb) = (
                    cached_value(k_row, h * dk + c) as u8,
                    cached_value(v_row, h * dk + c) as u8,
                );
                let ki = j * dk + c;
                block[ki / 4] |= u32::from(kb) << (8 * (ki % 4));
                let vi = t * dk + c * stride + j;
                block[vi / 4] |= u32::from(vb) << (8 * (vi % 4));
            }
            let scales = t * dk / 4 + dk * stride / 4;
            block[scales + j] = (f32::from_bits(k_row[value_words + h]) * key_scale).to_bits();
            block[scales + t + j] =
                (f32::from_bits(v_row[value_words + h]) * value_scale).to_bits();
        }
    }
    true
}

/// The dispatched encoder int8 attention (`attention_all_i8`: Helium's steps 2-5 on the
/// M55, keys by rows and values transposed) against the scalar reference
/// (`attention_i8::attention_all_i8`) and, with the caches' own scales, the cache rows'
/// reference (`attention_i8::attention_grouped_i8`), bit for bit: the long caches' heads
/// of 16 values over 1 to 520 keys, the wide caches' two heads of 64 over 1 to 40;
/// scales as stored, key scales times 2^-120 (products `sq * sk` below the normal
/// range), value scales times 2^-130 (subnormal), so the kernels' flush-to-zero guards
/// are taken.
fn int8_attention_all_vs_scalar() -> Check {
    let mut want_scores = [0f32; I8_CACHE_ROWS];
    let mut got_scores = [0f32; I8_CACHE_ROWS];
    let mut packed = [0u32; I8_ALL_WORDS];
    let [random, ones, minus] = &I8_LONG;
    let long = [(random, random), (ones, minus), (random, ones)];
    let cases = long
        .into_iter()
        .map(|(keys, values)| (&keys[..], &values[..], 16usize, I8_CACHE_ROW_WORDS, 1))
        .chain(core::iter::once((
            &I8_WIDE_KEYS[..],
            &I8_WIDE_VALUES[..],
            64,
            I8_WIDE_ROW_WORDS,
            2,
        )));
    let tiny_keys = f32::from_bits(0x0380_0000); // 2^-120
    let tiny_values = f32::from_bits(0x0000_8000); // 2^-134 (x 2^-7 scales: subnormal)
    for (case, (keys, values, dk, row_words, heads)) in cases.enumerate() {
        let rows = keys.len() / row_words;
        for t in [1, 2, 3, 4, 5, 17, 40, 511, 512, 513, 520] {
            if t > rows {
                continue;
            }
            for (variant, (ks, vs)) in [(1.0, 1.0), (tiny_keys, 1.0), (1.0, tiny_values)]
                .into_iter()
                .enumerate()
            {
                if !to_all_layout(keys, values, t, row_words, heads, dk, ks, vs, &mut packed) {
                    return ensure(false, "the encoder layout fits its buffer");
                }
                let mut query = [0f32; 2 * 64];
                let query = query.get_mut(..heads * dk).unwrap_or(&mut []);
                fill(query, (t * 7 + heads + case + variant) as u32, 3.0);
                let mut want = [0f32; 2 * 64];
                let want = want.get_mut(..query.len()).unwrap_or(&mut []);
                want.copy_from_slice(query);
                let mut rows_want = [0f32; 2 * 64];
                let rows_want = rows_want.get_mut(..query.len()).unwrap_or(&mut []);
                rows_want.copy_from_slice(query);
                let ok =
                    k::attention_i8::attention_all_i8(want, &packed, heads, t, &mut want_scores);
                ensure(ok, "the reference takes the encoder layout")?;
                let ok = k::attention_all_i8(query, &packed, heads, t, &mut got_scores);
                ensure(ok, "the kernel takes the encoder layout")?;
                let same = query
                    .iter()
                    .zip(want.iter())
                    .all(|(g, w)| g.to_bits() == w.to_bits());
                ensure(same, "encoder int8 attention vs scalar, bit for bit")?;
                if variant == 0 {
                    k::attention_i8::attention_grouped_i8(
                        rows_want,
                        &keys[..t * row_words],
                        &values[..t * row_words],
                        heads,
                        heads,
                        row_words,
                        &mut want_scores,
                    );
                    let same = rows_want
                        .iter()
                        .zip(want.iter())
                        .all(|(g, w)| g.to_bits() == w.to_bits());
                    ensure(same, "encoder layout vs cache rows, bit for bit")?;
                    ensure(
                        want.iter().any(|&v| v != 0.0),
                        "the attention is not all zeros",
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// The long caches' rows `2 j` and `2 j + 1` joined into position `j` of one 32-value
/// head in the encoder's layout ([`to_all_layout`]'s, `t` positions), the first row's
/// scales times `key_scale` and `value_scale`; `false` where `out` is short.
fn to_all_layout_joined(
    keys: &[u32],
    values: &[u32],
    t: usize,
    key_scale: f32,
    value_scale: f32,
    out: &mut [u32],
) -> bool {
    use k::attention_i8::{all_head_words, all_stride, cached_value};
    let (dk, row_words) = (32, I8_CACHE_ROW_WORDS);
    let words = all_head_words(t, dk);
    let stride = all_stride(t);
    if out.len() < words || 2 * t * row_words > keys.len().min(values.len()) {
        return false;
    }
    let block = &mut out[..words];
    block.fill(0);
    for j in 0..t {
        for c in 0..dk {
            let row = (2 * j + c / 16) * row_words;
            let (kb, vb) = (
                cached_value(&keys[row..row + row_words], c % 16) as u8,
                cached_value(&values[row..row + row_words], c % 16) as u8,
            );
            let ki = j * dk + c;
            block[ki / 4] |= u32::from(kb) << (8 * (ki % 4));
            let vi = t * dk + c * stride + j;
            block[vi / 4] |= u32::from(vb) << (8 * (vi % 4));
        }
        let scales = t * dk / 4 + dk * stride / 4;
        let first = 2 * j * row_words + row_words - 1;
        block[scales + j] = (f32::from_bits(keys[first]) * key_scale).to_bits();
        block[scales + t + j] = (f32::from_bits(values[first]) * value_scale).to_bits();
    }
    true
}

/// The dispatched encoder int8 attention of several query rows (`attention_all_i8_rows`:
/// on the M55 two rows at a time, each value load shared, where the scores hold
/// `pair_scores_len(t)` floats; else one) against the scalar reference of each row
/// (`attention_i8::attention_all_i8`), bit for bit: 1 to 3 rows, the long caches' heads of
/// 16 values over 1 to 520 keys, the wide caches' two heads of 64 over 1 to 40, and heads
/// of 32 values (two long cache rows a position) over 2 to 260 keys (both sides of the
/// 32-key passes); scales as stored, key scales times 2^-120 and value scales times
/// 2^-134 (the flush-to-zero guards); queries of ordinary size, times 2^-110 (below the
/// two-row path's query floor) and times 1000 (scores far below the largest: the
/// exponentials' zero threshold).
fn int8_attention_rows_vs_scalar() -> Check {
    let mut want_scores = [0f32; I8_CACHE_ROWS];
    let mut got_scores = [0f32; k::attention_i8::pair_scores_len(I8_CACHE_ROWS)];
    let mut packed = [0u32; I8_ALL_WORDS];
    let [random, ones, minus] = &I8_LONG;
    let tiny_keys = f32::from_bits(0x0380_0000); // 2^-120
    let tiny_values = f32::from_bits(0x0000_8000); // 2^-134 (x 2^-7 scales: subnormal)
    let tiny_query = f32::from_bits(0x0880_0000); // 2^-110
                                                  // (keys, values, layout: 0 long, 1 wide, 2 joined)
    let caches: [(&[u32], &[u32], usize); 5] = [
        (&random[..], &random[..], 0),
        (&ones[..], &minus[..], 0),
        (&I8_WIDE_KEYS[..], &I8_WIDE_VALUES[..], 1),
        (&random[..], &random[..], 2),
        (&random[..], &ones[..], 2),
    ];
    for (case, &(keys, values, layout)) in caches.iter().enumerate() {
        let (dk, heads, row_words) = match layout {
            0 => (16, 1, I8_CACHE_ROW_WORDS),
            1 => (64, 2, I8_WIDE_ROW_WORDS),
            _ => (32, 1, I8_CACHE_ROW_WORDS),
        };
        let rows = match layout {
            2 => keys.len() / row_words / 2,
            _ => keys.len() / row_words,
        };
        let keys_n = [
            1, 2, 3, 4, 5, 17, 31, 32, 33, 40, 63, 64, 65, 255, 256, 257, 260, 511, 512, 513, 520,
        ];
        for t in keys_n {
            if t > rows {
                continue;
            }
            for (variant, (ks, vs, qs)) in [
                (1.0, 1.0, 3.0),
                (tiny_keys, 1.0, 3.0),
                (1.0, tiny_values, 3.0),
                (1.0, 1.0, 3.0 * tiny_query),
                (1.0, 1.0, 3000.0),
            ]
            .into_iter()
            .enumerate()
            {
                let fits = match layout {
                    2 => to_all_layout_joined(keys, values, t, ks, vs, &mut packed),
                    _ => to_all_layout(keys, values, t, row_words, heads, dk, ks, vs, &mut packed),
                };
                ensure(fits, "the encoder layout fits its buffer")?;
                let d = heads * dk;
                for m in 1..=3 {
                    let mut query = [0f32; 3 * 128];
                    let query = &mut query[..m * d];
                    fill(query, (t * 5 + m + case * 3 + variant) as u32, qs);
                    let mut want = [0f32; 3 * 128];
                    let want = &mut want[..m * d];
                    want.copy_from_slice(query);
                    for row in want.chunks_exact_mut(d) {
                        let ok = k::attention_i8::attention_all_i8(
                            row,
                            &packed,
                            heads,
                            t,
                            &mut want_scores,
                        );
                        ensure(ok, "the reference takes the encoder layout")?;
                    }
                    let scores = &mut got_scores[..k::attention_i8::pair_scores_len(t)];
                    let ok = k::attention_all_i8_rows(query, d, &packed, heads, t, scores);
                    ensure(ok, "the kernel takes the encoder layout")?;
                    let same = query
                        .iter()
                        .zip(want.iter())
                        .all(|(g, w)| g.to_bits() == w.to_bits());
                    ensure(
                        same,
                        "encoder int8 attention of rows vs scalar, bit for bit",
                    )?;
                    if variant == 0 {
                        ensure(want.iter().any(|&v| v != 0.0), "not all zeros")?;
                    }
                }
            }
        }
    }
    Ok(())
}
