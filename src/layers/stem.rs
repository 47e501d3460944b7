//! The convolution stem in front of the encoder (Whisper's front end):
//! `x = gelu(conv2(gelu(conv1(frames))))`, both convolutions of kernel 3 and padding 1,
//! conv1 of stride 1 (`C` channels in, `D` out), conv2 of stride 2 (`D` in, `D` out).
//! The positional signal is added afterwards, as for any vector input.

use crate::config::{STEM_KERNEL, STEM_STRIDE};
use crate::model::weights::StemWeights;
use picoformer_kernels as k;
use picoformer_kernels::{Activations, Matrix};

/// Zero padding of both convolutions, on each end.
const STEM_PADDING: usize = 1;

/// Encoder rows the stem makes of `frames` input frames: `ceil(frames / 2)`.
pub(crate) const fn stem_rows(frames: usize) -> usize {
    k::conv1d_out_len(frames, STEM_KERNEL, STEM_STRIDE, STEM_PADDING)
}

/// Runs the stem.
///
/// - `frames`: `[n, C]` time-major input frames
/// - `work`: the first convolution's output `[>= n, D]`, then (int8 stem only) the
///   windows of a block of output rows `[STEM_ROW_BLOCK, 3 max(C, D)]`
/// - `x`: `[stem_rows(n), D]` the encoder input, overwritten
/// - `act`: the int8 activation buffer (int8 stem only)
pub(crate) fn stem(
    weights: &StemWeights,
    channels: usize,
    d: usize,
    frames: &[f32],
    work: &mut [f32],
    x: &mut [f32],
    act: &mut Activations,
) {
    // Without the feature, stem models are refused at load (`Error::FeatureDisabled`)
    // and neither convolution nor GELU is linked.
    if !cfg!(feature = "conv-stem") {
        return;
    }
    let n = frames.len() / channels.max(1);
    let Some((hidden, windows)) = n
        .checked_mul(d)
        .and_then(|len| work.split_at_mut_checked(len))
    else {
        return;
    };
    conv(
        &weights.conv1,
        weights.conv1_bias,
        frames,
        channels,
        1,
        hidden,
        windows,
        act,
    ); // [n, D]
    k::gelu(hidden);
    conv(
        &weights.conv2,
        weights.conv2_bias,
        hidden,
        d,
        STEM_STRIDE,
        x,
        windows,
        act,
    ); // [ceil(n / 2), D]
    k::gelu(x);
}

/// One convolution of the stem (kernel 3, padding 1, `stride`) of `input` (`[n, c_in]`)
/// into `out`: f32 weights by the kernels' `conv1d`; int8 weights (`FLAG_I8_STEM`) by
/// [`conv_i8`].
#[allow(clippy::too_many_arguments)]
fn conv(
    weight: &Matrix,
    bias: Option<&[f32]>,
    input: &[f32],
    c_in: usize,
    stride: usize,
    out: &mut [f32],
    windows: &mut [f32],
    act: &mut Activations,
) {
    match *weight {
        Matrix::F32(w) => k::conv1d(input, c_in, w, bias, STEM_KERNEL, stride, STEM_PADDING, out),
        #[cfg(feature = "int8")]
        Matrix::I8(_) => conv_i8(weight, bias, input, c_in, stride, out, windows, act),
        #[allow(unreachable_patterns)]
        _ => {
            let _ = (windows, act);
        }
    }
}

/// Output rows of the int8 stem whose windows are gathered and multiplied together.
pub(crate) const STEM_ROW_BLOCK: usize = 8;

/// The int8 convolution (docs/spec.md, "Weight types"): output row `t`'s window, the
/// `3 c_in` values of input rows `stride t - 1 ..= stride t + 1` (kernel-major, zeros
/// for rows outside the input), is one input row of the int8 linear layer over the
/// `[D, 3 c_in]` weight matrix, with the convolution's bias. Blocks of
/// [`STEM_ROW_BLOCK`] windows are gathered into `windows` and go through the int8
/// linear layer together, so every kernel gives the scalar reference's bits.
#[cfg(feature = "int8")]
#[allow(clippy::too_many_arguments)]
fn conv_i8(
    weight: &Matrix,
    bias: Option<&[f32]>,
    input: &[f32],
    c_in: usize,
    stride: usize,
    out: &mut [f32],
    windows: &mut [f32],
    act: &mut Activations,
) {
    let Some(width) = c_in.checked_mul(STEM_KERNEL) else {
        return;
    };
    let n = input.len() / c_in.max(1);
    let d = weight.len() / width.max(1);
    let rows = k::conv1d_out_len(n, STEM_KERNEL, stride, STEM_PADDING);
    if width == 0 || d == 0 {
        return;
    }
    let mut t0 = 0;
    while t0 < rows {
        let block = STEM_ROW_BLOCK.min(rows - t0);
        let span = |start: usize, len: usize, per: usize| {
            let from = start.checked_mul(per)?;
            Some(from..from.checked_add(len.checked_mul(per)?)?)
        };
        let (Some(gathered), Some(y)) = (
            span(0, block, width).and_then(|r| windows.get_mut(r)),
            span(t0, block, d).and_then(|r| out.get_mut(r)),
        ) else {
            return;
        };
        // Checked index arithmetic, no zipped chunks (the link-time no-panic proof).
        let mut at = 0;
        for r in 0..block {
            // input row `stride t + tap - padding` of output row `t`, zeros outside
            let first = t0.checked_add(r).and_then(|t| t.checked_mul(stride));
            for tap in 0..STEM_KERNEL {
                let Some(dst) = span(at, 1, c_in).and_then(|r| gathered.get_mut(r)) else {
                    return;
                };
                at += 1;
                let src = first
                    .and_then(|f| f.checked_add(tap)?.checked_sub(STEM_PADDING))
                    .filter(|&row| row < n)
                    .and_then(|row| span(row, 1, c_in))
                    .and_then(|r| input.get(r));
                match src {
                    Some(src) => {
                        for (v, &s) in dst.iter_mut().zip(src) {
                            *v = s;
                        }
                    }
                    None => {
                        for v in dst.iter_mut() {
                            *v = 0.0;
                        }
                    }
                }
            }
        }
        k::quant::linear(gathered, weight, bias, width, y, act);
        t0 += block;
    }
}

#[cfg(all(test, feature = "int8", feature = "conv-stem"))]
mod tests {
    use super::*;
    use picoformer_kernels::generic::i8 as scalar;
    use picoformer_kernels::quant::{quantize_weight_row, I8Matrix};

    /// Deterministic values in [-1, 1).
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state >> 8) as f32 / (1u32 << 23) as f32 - 1.0
            })
            .collect()
    }

    fn quantized(w: &[f32], rows: usize) -> (Vec<i8>, Vec<f32>) {
        let cols = w.len() / rows;
        let mut q = vec![0i8; w.len()];
        let scales = w
            .chunks_exact(cols)
            .zip(q.chunks_exact_mut(cols))
            .map(|(w_row, q_row)| quantize_weight_row(w_row, q_row))
            .collect();
        (q, scales)
    }

    /// docs/spec.md's int8 stem written plainly: each output row's window (zeros for the
    /// padding rows) through the scalar int8 linear layer, then the scalar GELU.
    fn reference(w: I8Matrix, bias: &[f32], input: &[f32], c_in: usize, stride: usize) -> Vec<f32> {
        let n = input.len() / c_in;
        let d = bias.len();
        let rows = k::conv1d_out_len(n, STEM_KERNEL, stride, STEM_PADDING);
        let mut out = vec![0.0; rows * d];
        let mut q = vec![0i8; 3 * c_in];
        for t in 0..rows {
            let mut window = vec![0.0f32; 3 * c_in];
            for tap in 0..3 {
                let row = (t * stride + tap).wrapping_sub(1);
                if row < n {
                    window[tap * c_in..(tap + 1) * c_in]
                        .copy_from_slice(&input[row * c_in..(row + 1) * c_in]);
                }
            }
            let y = &mut out[t * d..(t + 1) * d];
            scalar::linear_i8(&window, w, Some(bias), 3 * c_in, y, &mut q);
        }
        picoformer_kernels::generic::f32::gelu(&mut out);
        out
    }

    /// The engine's int8 stem (every row block, the dispatched int8 kernels, odd and even
    /// frame counts) gives the plain reference's bits.
    #[test]
    fn int8_stem_is_the_windows_through_the_scalar_int8_linear() {
        let (c, d) = (24, 128); // windows of 72 and 384 values: both int8 kernel paths
        let (w1, w2) = (values(d * 3 * c, 1), values(d * 3 * d, 2));
        let (b1, b2) = (values(d, 3), values(d, 4));
        let ((q1, s1), (q2, s2)) = (quantized(&w1, d), quantized(&w2, d));
        let (m1, m2) = (
            I8Matrix {
                values: &q1,
                scales: &s1,
            },
            I8Matrix {
                values: &q2,
                scales: &s2,
            },
        );
        let weights = StemWeights {
            conv1: Matrix::I8(m1),
            conv1_bias: Some(&b1),
            conv2: Matrix::I8(m2),
            conv2_bias: Some(&b2),
        };
        for n in [1, 2, 5, 16, 19, 37] {
            let frames = values(n * c, 10 + n as u32);
            let mut hidden_ref = reference(m1, &b1, &frames, c, 1);
            let want = reference(m2, &b2, &hidden_ref, d, 2);
            hidden_ref.clear();
            let rows = stem_rows(n);
            let mut work = vec![f32::NAN; n * d + STEM_ROW_BLOCK * 3 * d];
            let mut x = vec![f32::NAN; rows * d];
            let (mut values_buf, mut scales_buf) = (vec![0i8; 8 * 3 * d], vec![0.0f32; 8]);
            let mut act = Activations {
                values: &mut values_buf,
                scales: &mut scales_buf,
            };
            stem(&weights, c, d, &frames, &mut work, &mut x, &mut act);
            let same = x.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{n} frames");
        }
    }
}
