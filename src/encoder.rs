//! The encoder stack: the input (token embedding, vectors, or the convolution stem), then
//! `Le` layers of self-attention and FFN, then the optional final LayerNorm.

use crate::blob::TensorKind;
use crate::error::{Error, Result};
use crate::layers::embedding::Positions;
use crate::layers::{attention, embedding, feed_forward, stem, sublayer};
use crate::model::weights::{Model, NormWeights};
use crate::probe::{AttentionKind, AttentionProbe, ProbeSite};
use crate::scratch::{used, Arena, Plan};
use picoformer_kernels::Activations;

/// What the encoder reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Source<'x> {
    /// Token ids, embedded with the source embedding (plus the token-type row 0 and the
    /// positional signal).
    Tokens(&'x [u32]),
    /// `[n, D]` row-major input vectors: no embedding; the positional signal is added.
    /// `n <= max_src_len`.
    Vectors(&'x [f32]),
    /// `[n, C]` time-major input frames (`C` = `stem_channels`) through the convolution
    /// stem, which makes `ceil(n / 2)` rows of D-vectors; the positional signal is added.
    /// `n <= 2 max_src_len`.
    Frames(&'x [f32]),
}

impl Source<'_> {
    /// True when there is no input at all (what a decoder-only model takes).
    pub fn is_empty(&self) -> bool {
        match self {
            Source::Tokens(t) => t.is_empty(),
            Source::Vectors(v) | Source::Frames(v) => v.is_empty(),
        }
    }
}

/// The encoder's working set, carved from the work region.
pub(crate) struct EncoderWork<'s> {
    /// `[S, D]` residual stream; holds the encoder output at the end.
    pub x: &'s mut [f32],
    /// The rest of the work region: first the stem's `[2S, D]` (when there is a stem),
    /// then the layers' buffers ([`LayerWork`]).
    rest: &'s mut [f32],
}

/// The encoder layers' buffers.
struct LayerWork<'s> {
    /// `[S, D]` LayerNorm'd input (pre-norm) or sub-layer output.
    normed: &'s mut [f32],
    /// `[S, D]` queries, then the attention output Z; also the FFN output.
    q: &'s mut [f32],
    /// `[S, D]` keys.
    k: &'s mut [f32],
    /// `[S, D]` values.
    v: &'s mut [f32],
    /// `[R, F]` FFN hidden activations of one block of rows.
    hidden: &'s mut [f32],
    /// `[S]` attention scores of one query.
    scores: &'s mut [f32],
}

impl<'s> EncoderWork<'s> {
    pub fn carve(plan: &Plan, work: &'s mut [f32]) -> Result<Self> {
        let mut arena = Arena::over(work);
        let x = arena.f32s(plan.s.checked_mul(plan.d))?;
        let rest = arena.f32s(plan.layer_work().max(plan.stem_work()))?;
        Ok(EncoderWork { x, rest })
    }
}

impl<'s> LayerWork<'s> {
    fn carve(plan: &Plan, rest: &'s mut [f32]) -> Result<Self> {
        let mut arena = Arena::over(rest);
        let sd = plan.s.checked_mul(plan.d);
        Ok(LayerWork {
            normed: arena.f32s(sd)?,
            q: arena.f32s(sd)?,
            k: arena.f32s(sd)?,
            v: arena.f32s(sd)?,
            hidden: arena.f32s(plan.encoder_rows_block().checked_mul(plan.f))?,
            scores: arena.f32s(Some(plan.s))?,
        })
    }
}

/// Encoder rows the source makes (its tokens, vectors, or the stem's output rows).
/// The source must have passed `check_source`.
pub(crate) fn source_rows(model: &Model, source: &Source) -> usize {
    let dims = &model.config().dims;
    match source {
        Source::Tokens(t) => t.len(),
        Source::Vectors(v) => v.len() / dims.d_model.max(1),
        Source::Frames(f) => stem::stem_rows(f.len() / dims.stem_channels.max(1)),
    }
}

/// Runs the encoder on a checked `source`. Returns the rows `n`; on return
/// `work.x[..n * D]` holds the encoder output `[n, D]`. `probe`, if it watches encoder
/// self-attention, receives its head's probabilities.
pub(crate) fn encode(
    model: &Model,
    plan: &Plan,
    source: &Source,
    work: &mut EncoderWork,
    mut probe: Option<&mut AttentionProbe>,
    act: &mut Activations,
) -> Result<usize> {
    let config = model.config();
    let d = config.dims.d_model;
    let rows = source_rows(model, source);
    // (rows <= max_src_len, checked with the source; saturating keeps it so regardless)
    let n = rows.saturating_mul(d);
    let x = used(work.x, n);
    let positions = model.global(TensorKind::SrcPos);
    match *source {
        Source::Tokens(src) => {
            let token_type = model
                .global(TensorKind::SrcTypeEmbed)
                .and_then(|t| t.get(..d));
            embedding::embed(
                config,
                &embedding::f32_table(model.required_global(TensorKind::SrcEmbed)?),
                token_type,
                positions,
                src,
                Positions::From(0),
                x,
            )?;
        }
        Source::Vectors(vectors) => {
            let vectors = vectors.get(..n).ok_or(Error::SizeOverflow)?;
            for (dst, &v) in x.iter_mut().zip(vectors) {
                *dst = v;
            }
            embedding::add_positions(config, positions, x)?;
        }
        Source::Frames(frames) => {
            let channels = config.dims.stem_channels;
            stem::stem(&model.stem()?, channels, d, frames, work.rest, x, act);
            embedding::add_positions(config, positions, x)?;
        }
    }
    if config.src_embed_norm {
        let norm = NormWeights {
            gamma: model.required_global(TensorKind::SrcEmbedNormGamma)?,
            beta: model.global(TensorKind::SrcEmbedNormBeta),
        };
        sublayer::layer_norm_rows(x, &norm, config.layer_norm_eps, d);
    }

    let work = LayerWork::carve(plan, work.rest)?;
    let (normed, q, k, v) = (
        used(work.normed, n),
        used(work.q, n),
        used(work.k, n),
        used(work.v, n),
    );
    let mut work = LayerWork {
        normed,
        q,
        k,
        v,
        hidden: work.hidden,
        scores: work.scores,
    };
    for layer_index in 0..config.dims.n_encoder_layers {
        let site = ProbeSite::at(
            probe.as_deref_mut(),
            AttentionKind::EncoderSelf,
            layer_index,
            0,
        );
        self_attention_sublayer(model, layer_index, x, &mut work, site, act)?;
        ffn_sublayer(model, plan, layer_index, x, &mut work, act)?;
    }
    if config.final_norm {
        let norm = NormWeights {
            gamma: model.required_global(TensorKind::EncNormGamma)?,
            beta: model.global(TensorKind::EncNormBeta),
        };
        sublayer::layer_norm_rows(x, &norm, config.layer_norm_eps, d);
    }
    Ok(rows)
}

/// The self-attention sub-layer of encoder layer `layer` on `x` `[n, D]` (the `work`
/// buffers cut to `n` rows): every position attends to every position.
///
/// Each sub-layer is out of line and fetches its own weights: only one sub-layer's weight
/// views are on the stack while it computes (the FFN's call chain is the engine's
/// deepest).
#[inline(never)]
fn self_attention_sublayer(
    model: &Model,
    layer: usize,
    x: &mut [f32],
    work: &mut LayerWork,
    site: ProbeSite,
    act: &mut Activations,
) -> Result<()> {
    let config = model.config();
    let d = config.dims.d_model;
    // Borrowed where it lies, not moved out of the `Result` (a move copies the views
    // through `memcpy`, which firmware does not otherwise link).
    let found = model.encoder_self_attention(layer);
    let (self_attn, norm1) = match &found {
        Ok(weights) => weights,
        Err(e) => return Err(*e),
    };
    let input = sublayer::input(config, norm1, x, work.normed);
    attention::project_queries(self_attn, input, d, work.q, act);
    attention::project_keys_values(self_attn, input, d, work.k, work.v, act);
    let heads = config.dims.n_heads;
    // The int8 attention (blob flag bit 5) packs the keys and values into `normed`, free
    // until the output projection; a watched head keeps the f32 attention, whose
    // probabilities the probe reads.
    #[cfg(feature = "int8-attention")]
    if config.dims.kv_cache == crate::config::CacheType::I8 && !site.watches() {
        attention::attend_all_i8(work.q, work.k, work.v, work.normed, heads, d, work.scores)?;
        attention::project_output(self_attn, work.q, d, work.normed, act);
        sublayer::residual(config, norm1, x, work.normed);
        return Ok(());
    }
    attention::attend_all(work.q, work.k, work.v, heads, d, work.scores, site);
    attention::project_output(self_attn, work.q, d, work.normed, act);
    sublayer::residual(config, norm1, x, work.normed);
    Ok(())
}

/// The feed-forward sub-layer of encoder layer `layer` on `x` (see
/// [`self_attention_sublayer`]).
#[inline(never)]
fn ffn_sublayer(
    model: &Model,
    plan: &Plan,
    layer: usize,
    x: &mut [f32],
    work: &mut LayerWork,
    act: &mut Activations,
) -> Result<()> {
    let config = model.config();
    let (ffn, norm2) = model.encoder_ffn(layer)?;
    let input = sublayer::input(config, &norm2, x, work.normed);
    let rows_block = plan.encoder_rows_block();
    feed_forward::feed_forward(config, &ffn, input, work.hidden, rows_block, work.q, act);
    sublayer::residual(config, &norm2, x, work.q);
    Ok(())
}
