//! The scalar reference of the f16-weight products: plain Rust, always compiled
//! (`half`'s software widening).

use crate::frame::f16::F16Dot;
use crate::frame::f32::MR;
use crate::generic::f32::DOT_LANES;
use half::f16;

/// Dot product of f32 `a` with f16 `b` over the common length, each `b` widened to f32;
/// the summation order of [`crate::generic::f32::dot`].
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
/// [`crate::generic::f32::linear`]).
pub fn linear_f16(x: &[f32], w: &[f16], bias: Option<&[f32]>, k: usize, y: &mut [f32]) {
    let Some((rows, n)) = super::linear_shape(x.len(), w.len(), k, y) else {
        return;
    };
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

/// The scalar f16 kernel for the frame ([`crate::frame::f16::linear_f16`]): [`dot_f16`]
/// over whole blocks of [`DOT_LANES`], so the frame's result equals [`linear_f16`] bit
/// for bit (the frame adds the tail in `dot_f16`'s order).
#[derive(Debug, Clone, Copy)]
pub struct ScalarF16;

impl F16Dot for ScalarF16 {
    const NAME: &'static str = "scalar";
    const BLOCK: usize = DOT_LANES;

    fn detect() -> Option<Self> {
        Some(ScalarF16)
    }

    fn dot_rows(self, x: &[f32], w: &[f16], w_stride: usize, blocks: usize, out: &mut [f32]) {
        let whole = out.len() / MR * MR;
        for (o, dst) in out.iter_mut().take(whole).enumerate() {
            let row = w.get(o * w_stride..).unwrap_or(&[]);
            *dst = self.dot_blocks(x, row, blocks);
        }
    }

    fn dot_blocks(self, x: &[f32], w: &[f16], blocks: usize) -> f32 {
        let n = (blocks * DOT_LANES).min(x.len()).min(w.len());
        dot_f16(x.get(..n).unwrap_or(&[]), w.get(..n).unwrap_or(&[]))
    }
}
