//! The encoder stack: embedding, then `Le` layers of self-attention and FFN, then the
//! optional final LayerNorm.

use crate::blob::TensorKind;
use crate::error::Result;
use crate::layers::embedding::Positions;
use crate::layers::{attention, embedding, feed_forward, sublayer};
use crate::model::{Model, NormWeights};
use crate::scratch::{Arena, Plan};

/// The encoder's working set, carved from the work region.
pub(crate) struct EncoderWork<'s> {
    /// `[S, D]` residual stream; holds the encoder output at the end.
    pub x: &'s mut [f32],
    /// `[S, D]` LayerNorm'd input (pre-norm) or sub-layer output.
    pub normed: &'s mut [f32],
    /// `[S, D]` queries, then the attention output Z; also the FFN output.
    pub q: &'s mut [f32],
    /// `[S, D]` keys.
    pub k: &'s mut [f32],
    /// `[S, D]` values.
    pub v: &'s mut [f32],
    /// `[R, F]` FFN hidden activations of one block of rows.
    pub hidden: &'s mut [f32],
    /// `[S]` attention scores of one query.
    pub scores: &'s mut [f32],
}

impl<'s> EncoderWork<'s> {
    pub fn carve(plan: &Plan, work: &'s mut [f32]) -> Result<Self> {
        let mut arena = Arena::over(work);
        let sd = plan.s.checked_mul(plan.d);
        Ok(EncoderWork {
            x: arena.f32s(sd)?,
            normed: arena.f32s(sd)?,
            q: arena.f32s(sd)?,
            k: arena.f32s(sd)?,
            v: arena.f32s(sd)?,
            hidden: arena.f32s(plan.encoder_rows_block().checked_mul(plan.f))?,
            scores: arena.f32s(Some(plan.s))?,
        })
    }
}

/// Runs the encoder on `src` (ids already checked against the vocabulary).
/// On return `work.x[..src.len() * D]` holds the encoder output `[s, D]`.
pub(crate) fn encode(
    model: &Model,
    plan: &Plan,
    src: &[u32],
    work: &mut EncoderWork,
) -> Result<()> {
    let config = model.config();
    let d = config.dims.d_model;
    let n = src.len() * d;
    let (x, normed, q, k, v) = (
        prefix(work.x, n),
        prefix(work.normed, n),
        prefix(work.q, n),
        prefix(work.k, n),
        prefix(work.v, n),
    );
    embedding::embed(
        config,
        model.required_global(TensorKind::SrcEmbed)?,
        model.global(TensorKind::SrcPos),
        src,
        Positions::From(0),
        x,
    )?;
    for layer in 0..config.dims.n_encoder_layers {
        let layer = model.encoder_layer(layer)?;

        // Self-attention sub-layer: every position attends to every position.
        let input = sublayer::input(config, &layer.norm1, x, normed);
        attention::project_queries(&layer.self_attn, input, d, q);
        attention::project_keys_values(&layer.self_attn, input, d, k, v);
        attention::attend_all(q, k, v, config.dims.n_heads, d, work.scores);
        attention::project_output(&layer.self_attn, q, d, normed);
        sublayer::residual(config, &layer.norm1, x, normed);

        // Feed-forward sub-layer.
        let input = sublayer::input(config, &layer.norm2, x, normed);
        let rows = plan.encoder_rows_block();
        feed_forward::feed_forward(config, &layer.ffn, input, work.hidden, rows, q);
        sublayer::residual(config, &layer.norm2, x, q);
    }
    if config.final_norm {
        let norm = NormWeights {
            gamma: model.required_global(TensorKind::EncNormGamma)?,
            beta: model.global(TensorKind::EncNormBeta),
        };
        sublayer::layer_norm_rows(x, &norm, config.layer_norm_eps, d);
    }
    Ok(())
}

/// The first `n` elements (all of them if shorter; callers size buffers for the maximum).
pub(crate) fn prefix(buf: &mut [f32], n: usize) -> &mut [f32] {
    let len = buf.len().min(n);
    buf.get_mut(..len).unwrap_or(&mut [])
}
