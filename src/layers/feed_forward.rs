//! Position-wise feed-forward network: `ffn(x) = W2 act(W1 x + b1) + b2`.

use crate::config::{Activation, Config};
use crate::model::FfnWeights;
use picoformer_kernels as k;
use picoformer_kernels::Activations;

/// `out = ffn(input)` for `[n, D]` rows, `rows_block` rows at a time through
/// `hidden` `[rows_block, F]`.
pub(crate) fn feed_forward(
    config: &Config,
    ffn: &FfnWeights,
    input: &[f32],
    hidden: &mut [f32],
    rows_block: usize,
    out: &mut [f32],
    act: &mut Activations,
) {
    let (d, f) = (config.dims.d_model, config.dims.d_ff);
    // Non-zero and without overflow (the scratch plan sized `hidden` from the same
    // numbers); the check also shows `chunks` its non-zero chunk size.
    let Some(block) = rows_block.max(1).checked_mul(d).filter(|&b| b > 0) else {
        return;
    };
    for (x_rows, out_rows) in input.chunks(block).zip(out.chunks_mut(block)) {
        let rows = x_rows.len() / d.max(1);
        let Some(h) = rows.checked_mul(f).and_then(|n| hidden.get_mut(..n)) else {
            return;
        };
        k::quant::linear(x_rows, ffn.w1, ffn.b1, d, h, act); // [rows, F]
        match config.activation {
            Activation::Relu => k::relu(h),
            Activation::Gelu => k::gelu(h),
        }
        k::quant::linear(h, ffn.w2, ffn.b2, f, out_rows, act); // [rows, D]
    }
}
