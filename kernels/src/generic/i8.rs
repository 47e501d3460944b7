//! The scalar reference of the int8 products: plain Rust, always compiled.

use crate::frame::f32::MR;
use crate::frame::i8::{dequantize, I8Dot};
use crate::quant::{quantize_row, I8Matrix};

/// Exact dot product of two int8 vectors over their common length (i32, wrapping: no
/// sum of a product the engine accepts can wrap, see [`crate::quant::I8_MAX_K`]).
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
