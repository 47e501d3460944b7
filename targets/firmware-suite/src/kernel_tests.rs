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
    ("kernel_int8_linear_vs_scalar", int8_linear_vs_scalar),
];

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

/// The dispatched int8 linear layer (SMLAD on the DSP cores, the scalar twin elsewhere)
/// against `quant::scalar::linear_i8`, bit for bit: every reduction length 0..=41 (the
/// SMLAD block is 8 bytes, so heads, whole blocks and tails), 1..=5 weight rows (tiles of
/// 4 and the leftover rows), weights across the whole i8 range including -128.
fn int8_linear_vs_scalar() -> Check {
    const K: usize = 41;
    const N: usize = 5;
    let values: [i8; N * K] = core::array::from_fn(|i| {
        (i as u32).wrapping_mul(2_654_435_761).wrapping_shr(13) as u8 as i8
    });
    let scales: [f32; N] = [0.01, 0.5, 0.0, 2.0, 1e-3];
    let x: [f32; 2 * K] = core::array::from_fn(|i| ((i * 37 % 23) as f32 - 11.0) * 0.37);
    let bias: [f32; N] = [0.5, -1.0, 0.0, 3.0, 0.25];
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
            k::quant::scalar::linear_i8(x, w, bias.get(..n), k, want, &mut q);
            let mut got = [0f32; 2 * N];
            let got = got.get_mut(..2 * n).unwrap_or(&mut []);
            let mut qv = [0i8; 2 * K];
            let mut qs = [0f32; 2];
            let mut act = k::Activations {
                values: &mut qv,
                scales: &mut qs,
            };
            k::quant::linear(x, k::Matrix::I8(w), bias.get(..n), k, got, &mut act);
            let same = got
                .iter()
                .zip(want.iter())
                .all(|(g, w)| g.to_bits() == w.to_bits());
            ensure(same, "int8 kernel vs scalar, bit for bit")?;
        }
    }
    Ok(())
}
