//! The scalar reference of the quantized products: plain Rust, always compiled.

use super::{dequantize, f16, quantize_row, I8Dot, I8Matrix};
use crate::scalar::DOT_LANES;
use crate::simd::MR;

/// Exact dot product of two int8 vectors over their common length (i32, wrapping: no
/// sum of a product the engine accepts can wrap, see [`super::I8_MAX_K`]).
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).fold(0i32, |acc, (&x, &y)| {
        acc.wrapping_add(i32::from(x) * i32::from(y))
    })
}

/// The scalar int8 kernel: [`dot_i8`] for each row of the tile.
#[derive(Debug, Clone, Copy)]
pub struct ScalarI8;

impl I8Dot for ScalarI8 {
    const NAME: &'static str = "scalar";
    const BLOCK: usize = 1;

    fn detect() -> Option<Self> {
        Some(ScalarI8)
    }

    fn dot_tile(self, x: &[i8], w: [&[i8]; MR], blocks: usize) -> [i32; MR] {
        let x = x.get(..blocks).unwrap_or(x);
        w.map(|w_row| dot_i8(x, w_row))
    }
}

/// Dot product of f32 `a` with f16 `b` over the common length, each `b` widened to f32;
/// the summation order of [`crate::scalar::dot`].
#[inline]
pub fn dot_f16(a: &[f32], b: &[f16]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (a.get(..n).unwrap_or(&[]), b.get(..n).unwrap_or(&[]));
    let mut lanes = [0.0f32; DOT_LANES];
    let a_blocks = a.chunks_exact(DOT_LANES);
    let b_blocks = b.chunks_exact(DOT_LANES);
    let (a_tail, b_tail) = (a_blocks.remainder(), b_blocks.remainder());
    for (a_block, b_block) in a_blocks.zip(b_blocks) {
        for ((lane, &x), &y) in lanes.iter_mut().zip(a_block).zip(b_block) {
            *lane += x * y.to_f32();
        }
    }
    let [l0, l1, l2, l3, l4, l5, l6, l7] = lanes;
    let mut sum = ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7));
    for (&x, &y) in a_tail.iter().zip(b_tail) {
        sum += x * y.to_f32();
    }
    sum
}

/// Linear layer with f16 weights: `y[r][o] = dot_f16(x[r], w[o]) + bias[o]` (shapes as
/// [`crate::scalar::linear`]).
pub fn linear_f16(x: &[f32], w: &[f16], bias: Option<&[f32]>, k: usize, y: &mut [f32]) {
    if k == 0 {
        y.fill(0.0);
        return;
    }
    let rows = x.len() / k;
    let n = w.len() / k;
    debug_assert_eq!(y.len(), rows * n, "y must be [rows, n]");
    if n == 0 {
        return;
    }
    for (o, w_row) in w.chunks_exact(k).enumerate() {
        let b = bias.and_then(|b| b.get(o)).copied().unwrap_or(0.0);
        for r in 0..rows {
            if let (Some(x_row), Some(out)) = (x.get(r * k..(r + 1) * k), y.get_mut(r * n + o)) {
                *out = dot_f16(x_row, w_row) + b;
            }
        }
    }
}

/// The int8 linear layer written plainly, row by row: each input row quantized by
/// [`quantize_row`], exact [`dot_i8`], then [`dequantize`]. `q` is a `[k]` temporary.
/// Every int8 kernel must reproduce it bit for bit.
pub fn linear_i8(
    x: &[f32],
    w: I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    q: &mut [i8],
) {
    if k == 0 {
        y.fill(0.0);
        return;
    }
    let n = w.values.len() / k;
    let Some(q) = q.get_mut(..k) else { return };
    if n == 0 {
        return;
    }
    for (x_row, y_row) in x.chunks_exact(k).zip(y.chunks_exact_mut(n)) {
        let sx = quantize_row(x_row, q);
        for (o, (w_row, dst)) in w.values.chunks_exact(k).zip(y_row).enumerate() {
            let sw = w.scales.get(o).copied().unwrap_or(0.0);
            let b = bias.and_then(|b| b.get(o)).copied().unwrap_or(0.0);
            *dst = dequantize(dot_i8(q, w_row), sx, sw, b);
        }
    }
}

/// Int8 weights with f32 activations and f32 accumulation (no activation quantization):
/// `y[r][o] = scale[o] * sum_i x[r][i] * q[o][i] + bias[o]`. The reference the accuracy
/// tests measure the int8-activation path against.
pub fn linear_i8_f32(x: &[f32], w: I8Matrix, bias: Option<&[f32]>, k: usize, y: &mut [f32]) {
    if k == 0 {
        y.fill(0.0);
        return;
    }
    let n = w.values.len() / k;
    if n == 0 {
        return;
    }
    for (x_row, y_row) in x.chunks_exact(k).zip(y.chunks_exact_mut(n)) {
        for (o, (w_row, dst)) in w.values.chunks_exact(k).zip(y_row).enumerate() {
            let sw = w.scales.get(o).copied().unwrap_or(0.0);
            let b = bias.and_then(|b| b.get(o)).copied().unwrap_or(0.0);
            let sum = x_row
                .iter()
                .zip(w_row)
                .fold(0.0f32, |s, (&a, &q)| s + a * f32::from(q));
            *dst = sum * sw + b;
        }
    }
}
