//! The decoder stack, one position at a time for `n` hypotheses side by side: embedding,
//! then `Ld` layers of masked self-attention (through the key/value cache),
//! encoder-decoder attention and FFN, then the optional final LayerNorm and the output
//! projection.

use crate::blob::TensorKind;
use crate::error::{Error, Result};
use crate::layers::attention::{self, KvCache};
use crate::layers::embedding::Positions;
use crate::layers::{embedding, feed_forward, sublayer};
use crate::model::weights::{Model, NormWeights};
use crate::probe::{AttentionKind, AttentionProbe, ProbeSite};
use crate::scratch::{used, Arena, Plan};
use picoformer_kernels as k;
use picoformer_kernels::Activations;

/// The state that lives for a whole decode.
pub(crate) struct DecoderCaches<'s> {
    /// `[Ld, S, D]` encoder-decoder keys, computed once per source.
    pub cross_k: &'s mut [f32],
    /// `[Ld, S, D]` encoder-decoder values.
    pub cross_v: &'s mut [f32],
    /// `[Ld, B, T, Dkv]` self-attention keys of every past position of every hypothesis.
    pub self_k: &'s mut [f32],
    /// `[Ld, B, T, Dkv]` self-attention values.
    pub self_v: &'s mut [f32],
    /// Source positions in the cross K/V (0 for a decoder-only model).
    pub src_len: usize,
}

impl<'s> DecoderCaches<'s> {
    pub fn carve(plan: &Plan, arena: &mut Arena<'s>) -> Result<Self> {
        Ok(DecoderCaches {
            cross_k: arena.f32s(plan.cross_len())?,
            cross_v: arena.f32s(plan.cross_len())?,
            self_k: arena.f32s(plan.cache_len())?,
            self_v: arena.f32s(plan.cache_len())?,
            src_len: 0,
        })
    }

    /// Layer `layer`'s part of the self-attention cache: `[B, T, Dkv]` keys and values.
    pub fn self_attention(&mut self, plan: &Plan, layer: usize) -> Result<KvCache<'_>> {
        let slot_len = plan.slot_len().ok_or(Error::SizeOverflow)?;
        let layer_len = slot_len
            .checked_mul(plan.beams)
            .ok_or(Error::SizeOverflow)?;
        let start = layer.checked_mul(layer_len).ok_or(Error::SizeOverflow)?;
        let end = start.checked_add(layer_len).ok_or(Error::SizeOverflow)?;
        let (Some(keys), Some(values)) = (
            self.self_k.get_mut(start..end),
            self.self_v.get_mut(start..end),
        ) else {
            return Err(Error::SizeOverflow);
        };
        Ok(KvCache {
            keys,
            values,
            slot_len,
        })
    }
}

/// The decoder's working set for one step, carved from the work region.
pub(crate) struct DecoderWork<'s> {
    /// `[N, D]` residual stream of each row (hypothesis or target position).
    pub y: &'s mut [f32],
    /// `[B, D]` LayerNorm'd input (pre-norm).
    pub normed: &'s mut [f32],
    /// `[B, D]` queries, then attention output Z; also the FFN output.
    pub q: &'s mut [f32],
    /// `[B, D]` new keys / values / sub-layer output.
    pub tmp: &'s mut [f32],
    /// `[R, F]` FFN hidden activations.
    pub hidden: &'s mut [f32],
    /// `[max(S, T)]` attention scores of one query.
    pub scores: &'s mut [f32],
    /// `[B, V]` logits of each hypothesis.
    pub logits: &'s mut [f32],
}

impl<'s> DecoderWork<'s> {
    pub fn carve(plan: &Plan, work: &'s mut [f32]) -> Result<Self> {
        let mut arena = Arena::over(work);
        let bd = plan.rows.checked_mul(plan.d);
        Ok(DecoderWork {
            y: arena.f32s(bd)?,
            normed: arena.f32s(bd)?,
            q: arena.f32s(bd)?,
            tmp: arena.f32s(bd)?,
            hidden: arena.f32s(plan.decoder_rows_block().checked_mul(plan.hidden))?,
            scores: arena.f32s(Some(plan.s.max(plan.t)))?,
            logits: arena.f32s(plan.rows.checked_mul(plan.v))?,
        })
    }
}

/// Computes the encoder-decoder keys and values of every decoder layer from the encoder
/// output `memory` `[s, D]`: once per source, never per step.
pub(crate) fn precompute_cross(
    model: &Model,
    plan: &Plan,
    memory: &[f32],
    caches: &mut DecoderCaches,
    act: &mut Activations,
) -> Result<()> {
    let d = plan.d;
    let s = memory.len() / d.max(1);
    // Cache offsets in wrapping arithmetic, which cannot wrap (the plan's sizes are
    // validated at load); a wrapped range would only miss the cache (`get` is `None`).
    let per_layer = plan.s.wrapping_mul(d);
    for layer in 0..plan.ld {
        if !model.config().has_encoder() {
            return Ok(());
        }
        // Borrowed where it lies, not moved out of the `Result`: the move was the
        // firmware's only `memcpy` call (and `memcpy` ~0.9 KiB of code).
        let found = model.decoder_cross_attention(layer);
        let cross = match &found {
            Ok((cross, _)) => cross,
            Err(e) => return Err(*e),
        };
        let start = layer.wrapping_mul(per_layer);
        let (Some(keys), Some(values)) = (
            caches
                .cross_k
                .get_mut(start..start.wrapping_add(s.wrapping_mul(d))),
            caches
                .cross_v
                .get_mut(start..start.wrapping_add(s.wrapping_mul(d))),
        ) else {
            return Err(Error::SizeOverflow);
        };
        attention::project_keys_values(cross, memory, d, keys, values, act);
    }
    caches.src_len = s;
    Ok(())
}

/// Which cache slot and position each row of a decoder step is.
#[derive(Clone, Copy)]
pub(crate) enum Rows {
    /// Row `b` is hypothesis `b` (cache slot `b`); all are at `position`.
    Hypotheses { position: usize },
    /// Row `i` is position `first + i` of the one sequence in cache slot 0 (teacher
    /// forcing: the causal mask lets row `i` see positions `..= first + i`).
    Sequence { first: usize },
}

impl Rows {
    /// (cache slot, position) of row `row`.
    fn at(self, row: usize) -> (usize, usize) {
        match self {
            Rows::Hypotheses { position } => (row, position),
            // Cannot wrap: both count rows of one target slice.
            Rows::Sequence { first } => (0, first.wrapping_add(row)),
        }
    }
}

/// One decoder step over `n = tokens.len()` rows: embeds `tokens[i]` at row `i`'s position,
/// appends each row's keys/values to its cache slot, and leaves the logits in
/// `work.logits[..n * V]`. `probe`, if it watches a decoder attention, receives its
/// head's probabilities (meaningful for [`Rows::Sequence`]: row = target position).
// The arguments are the step's input and four separately borrowed buffers (caches,
// activation scratch, work, probe) with different lifetimes; bundling them would only
// move the list into a struct built at every call site.
#[allow(clippy::too_many_arguments)]
pub(crate) fn step(
    model: &Model,
    plan: &Plan,
    tokens: &[u32],
    rows: Rows,
    caches: &mut DecoderCaches,
    act: &mut Activations,
    work: &mut DecoderWork,
    mut probe: Option<&mut AttentionProbe>,
) -> Result<()> {
    let config = model.config();
    let (d, t) = (plan.d, plan.t);
    let n = tokens.len();
    let (_, last_position) = rows.at(n.saturating_sub(1));
    if last_position >= t {
        return Err(Error::SequenceTooLong {
            len: last_position.saturating_add(1),
            max: t,
        });
    }
    // Cannot wrap: `n` rows of `d` fit the validated scratch.
    let nd = n.wrapping_mul(d);
    let (y, normed, q, tmp) = (
        used(work.y, nd),
        used(work.normed, nd),
        used(work.q, nd),
        used(work.tmp, nd),
    );
    #[cfg(all(feature = "int8", feature = "llama"))]
    embed_targets(model, tokens, rows, y)?;
    #[cfg(not(all(feature = "int8", feature = "llama")))]
    embedding::embed(
        config,
        &model.required_global(TensorKind::TgtEmbed)?,
        None,
        model.global(TensorKind::TgtPos),
        tokens,
        match rows {
            Rows::Hypotheses { position } => Positions::All(position),
            Rows::Sequence { first } => Positions::From(first),
        },
        y,
    )?;
    let (_, first_position) = rows.at(0);
    // The rows' RoPE sines and cosines, once for all layers, in the logits buffer (which
    // the step writes only at its end).
    #[cfg(feature = "llama")]
    let rope_angles = llama_rope_angles(config, plan, rows, n, &mut *work.logits);
    for layer_index in 0..plan.ld {
        // Each sub-layer out of line, fetching its own weights: only one sub-layer's
        // weight views are on the stack while it computes (the FFN's call chain is the
        // engine's deepest).
        // One set of buffers for both attention sub-layers, lent to each (one copy in
        // this frame, on the deepest stack path).
        let mut buffers = StepBuffers {
            y: &mut *y,
            normed: &mut *normed,
            q: &mut *q,
            tmp: &mut *tmp,
            scores: &mut *work.scores,
            #[cfg(feature = "llama")]
            rope_angles,
        };
        let site = ProbeSite::at(
            probe.as_deref_mut(),
            AttentionKind::DecoderSelf,
            layer_index,
            first_position,
        );
        self_attention_sublayer(
            model,
            plan,
            layer_index,
            rows,
            &mut buffers,
            caches,
            site,
            act,
        )?;
        if config.has_encoder() {
            let site = ProbeSite::at(
                probe.as_deref_mut(),
                AttentionKind::EncoderDecoder,
                layer_index,
                first_position,
            );
            cross_attention_sublayer(model, plan, layer_index, &mut buffers, caches, site, act)?;
        }
        ffn_sublayer(model, plan, layer_index, y, normed, q, work.hidden, act)?;
    }
    if config.final_norm {
        let norm = NormWeights {
            gamma: model.required_global(TensorKind::DecNormGamma)?,
            beta: model.global(TensorKind::DecNormBeta),
        };
        sublayer::norm_rows(config, y, &norm);
    }
    // logits = y Wout^T + bout, Wout = target embedding when tied.
    let w_out = model.output_projection()?;
    let logits = used(work.logits, n.wrapping_mul(plan.v));
    let bias = model.global(TensorKind::OutBias);
    k::quant::linear(y, &w_out, bias, d, logits, act);
    Ok(())
}

/// Embeds the target `tokens` at their `rows` positions into `y` `[n, D]`. Out of line:
/// the embedding's view (an int8 one is five words) stays off the decode step's frame,
/// which is on the engine's deepest call chain.
#[cfg(all(feature = "int8", feature = "llama"))]
#[inline(never)]
fn embed_targets(model: &Model, tokens: &[u32], rows: Rows, y: &mut [f32]) -> Result<()> {
    embedding::embed(
        model.config(),
        &model.target_embedding()?,
        None,
        model.global(TensorKind::TgtPos),
        tokens,
        match rows {
            Rows::Hypotheses { position } => Positions::All(position),
            Rows::Sequence { first } => Positions::From(first),
        },
        y,
    )
}

/// The rows a decoder sub-layer computes on: `y` (the residual stream), `normed`, `q`
/// and `tmp` `[n, D]`, and one query's attention `scores`.
struct StepBuffers<'b> {
    y: &'b mut [f32],
    normed: &'b mut [f32],
    q: &'b mut [f32],
    tmp: &'b mut [f32],
    scores: &'b mut [f32],
    /// The rows' RoPE tables (`dk` each, [`crate::layers::llama::rope_angles`]), if any.
    #[cfg(feature = "llama")]
    rope_angles: Option<&'b [f32]>,
}

/// The RoPE sines and cosines of the step's `n` rows (`dk` per row, row `r`'s position
/// `rows.at(r)`) written into `table` when the model is rotary and `table` holds them:
/// computed once per step instead of once per layer.
#[cfg(feature = "llama")]
#[inline(never)] // its locals off the decode step's frame, the deepest stack path
fn llama_rope_angles<'t>(
    config: &crate::config::Config,
    plan: &Plan,
    rows: Rows,
    n: usize,
    table: &'t mut [f32],
) -> Option<&'t [f32]> {
    let dk = plan.d.checked_div(config.dims.n_heads)?;
    if !config.uses_llama_layers() || !config.positional.is_rope() || dk < 2 {
        return None;
    }
    let table = table.get_mut(..n.checked_mul(dk)?)?;
    // (a range, not `.enumerate()`: its counter is overflow-checked)
    for (r, angles) in (0..n).zip(table.chunks_exact_mut(dk)) {
        let (_, position) = rows.at(r);
        crate::layers::llama::rope_angles(angles, dk, position, config.rope_theta);
    }
    Some(table)
}

/// Masked self-attention of decoder layer `layer`: appends each row's K/V to its cache
/// slot, then attends over positions 0..=its own (the mask is the cache's extent).
// The buffers and the caches are borrowed separately (the caches outlive the step).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn self_attention_sublayer(
    model: &Model,
    plan: &Plan,
    layer: usize,
    rows: Rows,
    b: &mut StepBuffers,
    caches: &mut DecoderCaches,
    site: ProbeSite,
    act: &mut Activations,
) -> Result<()> {
    let config = model.config();
    let (d, heads) = (plan.d, config.dims.n_heads);
    // Borrowed where it lies, not moved out of the `Result` (a move copies the views
    // through `memcpy`, which firmware does not otherwise link).
    let found = model.decoder_self_attention(layer);
    let (self_attn, norm1) = match &found {
        Ok(weights) => weights,
        Err(e) => return Err(*e),
    };
    let input = sublayer::input(config, norm1, b.y, b.normed);
    let mut cache = caches.self_attention(plan, layer)?;
    let at = |row| rows.at(row);
    #[cfg(feature = "llama")]
    if config.uses_llama_layers() {
        let (q, tmp) = (&mut *b.q, &mut *b.tmp);
        crate::layers::llama::self_attention(
            config,
            self_attn,
            input,
            &mut cache,
            at,
            b.rope_angles,
            q,
            tmp,
            b.scores,
            act,
        )?;
        sublayer::residual(config, norm1, b.y, tmp);
        return Ok(());
    }
    attention::project_queries(self_attn, input, d, b.q, act);
    attention::append_keys_values(self_attn, input, d, &mut cache, at, b.tmp, act)?;
    attention::attend_cached(b.q, &cache, at, heads, d, b.scores, site)?;
    attention::project_output(self_attn, b.q, d, b.tmp, act);
    sublayer::residual(config, norm1, b.y, b.tmp);
    Ok(())
}

/// Encoder-decoder attention of decoder layer `layer` over the precomputed cross K/V.
#[inline(never)]
fn cross_attention_sublayer(
    model: &Model,
    plan: &Plan,
    layer: usize,
    b: &mut StepBuffers,
    caches: &DecoderCaches,
    site: ProbeSite,
    act: &mut Activations,
) -> Result<()> {
    let config = model.config();
    let (d, heads) = (plan.d, config.dims.n_heads);
    if !config.has_encoder() {
        return Ok(());
    }
    let found = model.decoder_cross_attention(layer);
    let (cross, norm2) = match &found {
        Ok(weights) => weights,
        Err(e) => return Err(*e),
    };
    let input = sublayer::input(config, norm2, b.y, b.normed);
    attention::project_queries(cross, input, d, b.q, act);
    // Wrapping, as in `precompute_cross`: cannot wrap, and would only miss the cache.
    let start = layer.wrapping_mul(plan.s).wrapping_mul(d);
    let len = caches.src_len.wrapping_mul(d);
    let (Some(keys), Some(values)) = (
        caches.cross_k.get(start..start.wrapping_add(len)),
        caches.cross_v.get(start..start.wrapping_add(len)),
    ) else {
        return Err(Error::SizeOverflow);
    };
    attention::attend_all(b.q, keys, values, heads, d, b.scores, site);
    attention::project_output(cross, b.q, d, b.tmp, act);
    sublayer::residual(config, norm2, b.y, b.tmp);
    Ok(())
}

/// The feed-forward sub-layer of decoder layer `layer` on `y`.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn ffn_sublayer(
    model: &Model,
    plan: &Plan,
    layer: usize,
    y: &mut [f32],
    normed: &mut [f32],
    q: &mut [f32],
    hidden: &mut [f32],
    act: &mut Activations,
) -> Result<()> {
    let config = model.config();
    let (ffn, norm3) = model.decoder_ffn(layer)?;
    let input = sublayer::input(config, &norm3, y, normed);
    let rows = plan.decoder_rows_block();
    #[cfg(feature = "llama")]
    if config.dims.feed_forward == crate::config::FeedForward::Gated {
        crate::layers::llama::gated_feed_forward(config, &ffn, input, hidden, rows, q, act);
        sublayer::residual(config, &norm3, y, q);
        return Ok(());
    }
    feed_forward::feed_forward(config, &ffn, input, hidden, rows, q, act);
    sublayer::residual(config, &norm3, y, q);
    Ok(())
}
