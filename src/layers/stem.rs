//! The convolution stem in front of the encoder (Whisper's front end):
//! `x = gelu(conv2(gelu(conv1(frames))))`, both convolutions of kernel 3 and padding 1,
//! conv1 of stride 1 (`C` channels in, `D` out), conv2 of stride 2 (`D` in, `D` out).
//! The positional signal is added afterwards, as for any vector input.

use crate::config::{STEM_KERNEL, STEM_STRIDE};
use crate::model::weights::StemWeights;
use picoformer_kernels as k;

/// Zero padding of both convolutions, on each end.
const STEM_PADDING: usize = 1;

/// Encoder rows the stem makes of `frames` input frames: `ceil(frames / 2)`.
pub(crate) const fn stem_rows(frames: usize) -> usize {
    k::conv1d_out_len(frames, STEM_KERNEL, STEM_STRIDE, STEM_PADDING)
}

/// Runs the stem.
///
/// - `frames`: `[n, C]` time-major input frames
/// - `hidden`: `[>= n, D]` the first convolution's output
/// - `x`: `[stem_rows(n), D]` the encoder input, overwritten
pub(crate) fn stem(
    weights: &StemWeights,
    channels: usize,
    d: usize,
    frames: &[f32],
    hidden: &mut [f32],
    x: &mut [f32],
) {
    // Without the feature, stem models are refused at load (`Error::FeatureDisabled`)
    // and neither convolution nor GELU is linked.
    if !cfg!(feature = "conv-stem") {
        return;
    }
    let n = frames.len() / channels.max(1);
    let Some(hidden) = n.checked_mul(d).and_then(|len| hidden.get_mut(..len)) else {
        return;
    };
    k::conv1d(
        frames,
        channels,
        weights.conv1,
        weights.conv1_bias,
        STEM_KERNEL,
        1,
        STEM_PADDING,
        hidden,
    ); // [n, D]
    k::gelu(hidden);
    k::conv1d(
        hidden,
        d,
        weights.conv2,
        weights.conv2_bias,
        STEM_KERNEL,
        STEM_STRIDE,
        STEM_PADDING,
        x,
    ); // [ceil(n / 2), D]
    k::gelu(x);
}
