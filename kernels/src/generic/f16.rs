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
    crate::generic::f32::dot_widened(a, b, f16::to_f32)
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
