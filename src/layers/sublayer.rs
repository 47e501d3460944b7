//! Sub-layer wiring: residual connection plus LayerNorm, post-norm (paper) or pre-norm
//! (`docs/spec.md`, "LayerNorm and sub-layer wiring").

use crate::config::{Config, Norm, NormKind};
use crate::model::weights::NormWeights;
use picoformer_kernels as k;

/// LayerNorm of every `d`-wide row of `x` in place.
pub(crate) fn layer_norm_rows(x: &mut [f32], norm: &NormWeights, eps: f32, d: usize) {
    k::layer_norm_rows(x, d, norm.gamma, norm.beta, eps);
}

/// The model's norm (LayerNorm, or RMSNorm with the `llama` feature) of every row of `x`
/// in place.
pub(crate) fn norm_rows(config: &Config, x: &mut [f32], norm: &NormWeights) {
    let (eps, d) = (config.layer_norm_eps, config.dims.d_model);
    match config.norm_kind {
        NormKind::LayerNorm => layer_norm_rows(x, norm, eps, d),
        #[cfg(feature = "llama")]
        NormKind::RmsNorm => crate::layers::llama::rms_norm_rows(x, norm.gamma, eps, d),
        // Refused at load (`Error::FeatureDisabled`).
        #[cfg(not(feature = "llama"))]
        NormKind::RmsNorm => {}
    }
}

/// What a sub-layer reads: `x` itself (post-norm) or `LN(x)` written into `normed`
/// (pre-norm). Both `[n, D]`.
pub(crate) fn input<'b>(
    config: &Config,
    norm: &NormWeights,
    x: &'b [f32],
    normed: &'b mut [f32],
) -> &'b [f32] {
    match config.norm {
        Norm::Post => x,
        Norm::Pre => {
            for (dst, &src) in normed.iter_mut().zip(x) {
                *dst = src;
            }
            norm_rows(config, normed, norm);
            normed
        }
    }
}

/// Adds the sub-layer's output to the residual stream: `x = LN(x + out)` (post-norm) or
/// `x = x + out` (pre-norm). Both `[n, D]`.
pub(crate) fn residual(config: &Config, norm: &NormWeights, x: &mut [f32], out: &[f32]) {
    k::add_assign(x, out);
    if config.norm == Norm::Post {
        norm_rows(config, x, norm);
    }
}
