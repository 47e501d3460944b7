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
/// - `work`: the first convolution's output `[>= n, D]`, then (int8 stem only) a block
///   of output rows' gathered input rows `[STEM_ROW_BLOCK, max(C, D)]` and one tap's
///   products `[STEM_ROW_BLOCK, D]`
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
    let Some((hidden, block)) = n
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
        block,
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
        block,
        act,
    ); // [ceil(n / 2), D]
    k::gelu(x);
}

/// One convolution of the stem (kernel 3, padding 1, `stride`) of `input` (`[n, c_in]`)
/// into `out`: f32 weights by the kernels' `conv1d`; int8 weights (`FLAG_I8_STEM`) by
/// [`conv_i8`] (`block`: its work buffer).
#[allow(clippy::too_many_arguments)]
fn conv(
    weight: &Matrix,
    bias: Option<&[f32]>,
    input: &[f32],
    c_in: usize,
    stride: usize,
    out: &mut [f32],
    block: &mut [f32],
    act: &mut Activations,
) {
    match *weight {
        Matrix::F32(w) => k::conv1d(input, c_in, w, bias, STEM_KERNEL, stride, STEM_PADDING, out),
        #[cfg(feature = "int8")]
        Matrix::I8(_) => conv_i8(weight, bias, input, c_in, stride, out, block, act),
        #[allow(unreachable_patterns)]
        _ => {
            let _ = (block, act);
        }
    }
}

/// Output rows of the int8 stem computed together.
pub(crate) const STEM_ROW_BLOCK: usize = 8;

/// The int8 convolution (docs/spec.md, "int8 convolution stem"): the weight is stored
/// tap-major, `[3 D, c_in]` (rows `k D ..` the `[D, c_in]` matrix `W_k` of tap `k`, one
/// scale per output channel and tap), and output row `t` is
/// `((Y_0 + Y_1) + Y_2) + bias`, `Y_k` the int8 linear layer (zero bias) of `W_k` over
/// input row `stride t + k - 1` (zero for the rows outside the input, the padding).
/// Blocks of [`STEM_ROW_BLOCK`] output rows: for each tap its input rows are gathered
/// into `work` and go through the int8 linear layer together (into the output block for
/// tap 0, into `work`'s second part for taps 1 and 2, then added), so every kernel gives
/// the scalar reference's bits.
#[cfg(feature = "int8")]
#[allow(clippy::too_many_arguments)]
fn conv_i8(
    weight: &Matrix,
    bias: Option<&[f32]>,
    input: &[f32],
    c_in: usize,
    stride: usize,
    out: &mut [f32],
    work: &mut [f32],
    act: &mut Activations,
) {
    let Matrix::I8(w) = *weight else {
        return;
    };
    let Some(width) = c_in.checked_mul(STEM_KERNEL) else {
        return;
    };
    let n = input.len() / c_in.max(1);
    let d = w.values.len() / width.max(1);
    let rows = k::conv1d_out_len(n, STEM_KERNEL, stride, STEM_PADDING);
    if width == 0 || d == 0 {
        return;
    }
    let span = |start: usize, len: usize, per: usize| {
        let from = start.checked_mul(per)?;
        Some(from..from.checked_add(len.checked_mul(per)?)?)
    };
    let Some((gather_all, sums_all)) = STEM_ROW_BLOCK
        .checked_mul(c_in)
        .and_then(|len| work.split_at_mut_checked(len))
    else {
        return;
    };
    let Some(tap_len) = d.checked_mul(c_in) else {
        return;
    };
    let mut t0 = 0;
    while t0 < rows {
        let block = STEM_ROW_BLOCK.min(rows - t0);
        let (Some(gathered), Some(sums), Some(y)) = (
            span(0, block, c_in).and_then(|r| gather_all.get_mut(r)),
            span(0, block, d).and_then(|r| sums_all.get_mut(r)),
            span(t0, block, d).and_then(|r| out.get_mut(r)),
        ) else {
            return;
        };
        for tap in 0..STEM_KERNEL {
            let (Some(values), Some(scales)) = (
                span(tap, 1, tap_len).and_then(|r| w.values.get(r)),
                span(tap, 1, d).and_then(|r| w.scales.get(r)),
            ) else {
                return;
            };
            // Checked index arithmetic, no zipped chunks (the link-time no-panic proof).
            for r in 0..block {
                let Some(dst) = span(r, 1, c_in).and_then(|r| gathered.get_mut(r)) else {
                    return;
                };
                // input row `stride t + tap - padding` of output row `t`, zeros outside
                let src = t0
                    .checked_add(r)
                    .and_then(|t| t.checked_mul(stride)?.checked_add(tap))
                    .and_then(|row| row.checked_sub(STEM_PADDING))
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
            let w_tap = Matrix::I8(k::quant::I8Matrix { values, scales });
            if tap == 0 {
                k::quant::linear(gathered, &w_tap, None, c_in, y, act);
            } else {
                k::quant::linear(gathered, &w_tap, None, c_in, sums, act);
                // `y += 1 * sums` on the active kernel: the sums' bits, vectorized
                k::axpy(1.0, sums, y);
            }
        }
        if let Some(bias) = bias {
            for r in 0..block {
                let Some(row) = span(r, 1, d).and_then(|r| y.get_mut(r)) else {
                    return;
                };
                k::axpy(1.0, bias, row);
            }
        }
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

    /// `w` `[D, 3, c]` (kernel-major, as the f32 stem) stored as the int8 stem's
    /// tap-major `[3 D, c]`, one scale per output channel and tap.
    fn quantized(w: &[f32], d: usize) -> (Vec<i8>, Vec<f32>) {
        let c = w.len() / (3 * d);
        let mut tap_major = vec![0.0f32; w.len()];
        for o in 0..d {
            for tap in 0..3 {
                tap_major[(tap * d + o) * c..(tap * d + o + 1) * c]
                    .copy_from_slice(&w[(o * 3 + tap) * c..(o * 3 + tap + 1) * c]);
            }
        }
        let mut q = vec![0i8; w.len()];
        let scales = tap_major
            .chunks_exact(c)
            .zip(q.chunks_exact_mut(c))
            .map(|(w_row, q_row)| quantize_weight_row(w_row, q_row))
            .collect();
        (q, scales)
    }

    /// docs/spec.md's int8 stem written plainly: for each output row and tap, the input
    /// row (zeros for the padding rows) through the scalar int8 linear layer of that
    /// tap's `[D, c]` weights, the three summed in tap order, then the bias, then the
    /// scalar GELU.
    fn reference(w: I8Matrix, bias: &[f32], input: &[f32], c_in: usize, stride: usize) -> Vec<f32> {
        let n = input.len() / c_in;
        let d = bias.len();
        let rows = k::conv1d_out_len(n, STEM_KERNEL, stride, STEM_PADDING);
        let mut out = vec![0.0; rows * d];
        let mut q = vec![0i8; c_in];
        for t in 0..rows {
            let mut sum = vec![0.0f32; d];
            for tap in 0..3 {
                let mut x = vec![0.0f32; c_in];
                let row = (t * stride + tap).wrapping_sub(1);
                if row < n {
                    x.copy_from_slice(&input[row * c_in..(row + 1) * c_in]);
                }
                let w_tap = I8Matrix {
                    values: &w.values[tap * d * c_in..(tap + 1) * d * c_in],
                    scales: &w.scales[tap * d..(tap + 1) * d],
                };
                let mut y = vec![0.0f32; d];
                scalar::linear_i8(&x, w_tap, None, c_in, &mut y, &mut q);
                for (s, v) in sum.iter_mut().zip(&y) {
                    *s = if tap == 0 { *v } else { *s + v };
                }
            }
            for ((dst, s), b) in out[t * d..(t + 1) * d].iter_mut().zip(&sum).zip(bias) {
                *dst = s + b;
            }
        }
        picoformer_kernels::generic::f32::gelu(&mut out);
        out
    }

    /// The engine's int8 stem (every row block, the dispatched int8 kernels, odd and even
    /// frame counts) gives the plain reference's bits.
    #[test]
    fn int8_stem_is_the_taps_through_the_scalar_int8_linear() {
        let (c, d) = (24, 128); // rows of 24 and 128 values: both int8 kernel paths
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
            let mut work = vec![f32::NAN; n * d + STEM_ROW_BLOCK * 2 * d];
            let mut x = vec![f32::NAN; rows * d];
            let values_len = picoformer_kernels::quant::activation_values(8, d).unwrap();
            let (mut values_buf, mut scales_buf) = (vec![0i8; values_len], vec![0.0f32; 8]);
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
