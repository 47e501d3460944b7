//! The decoder fed given tokens: the forced part of a decoder prefix before a search
//! generates, and the teacher-forced forward pass (logits along a given target).

use super::{check_source, check_tokens, need_decoder, start};
use crate::decoder::{self, DecoderCaches, DecoderWork, Rows};
use crate::encoder::{self, Source};
use crate::error::{Error, Result};
use crate::model::weights::Model;
use crate::probe::{AttentionKind, AttentionProbe};
use crate::scratch::{used, Plan};
use picoformer_kernels::Activations;

/// Feeds the forced part of a decoder prefix (every token but the last, e.g. Whisper's
/// task tokens before `<|notimestamps|>`) at positions `0..p-1`: hypothesis 0's self-
/// attention caches hold them before the first generated step.
pub(crate) fn feed_forced(
    model: &Model,
    plan: &Plan,
    forced: &[u32],
    caches: &mut DecoderCaches,
    act: &mut Activations,
    work: &mut DecoderWork,
) -> Result<()> {
    for (position, token) in forced.iter().enumerate() {
        let input = core::slice::from_ref(token);
        let rows = Rows::Hypotheses { position };
        decoder::step(model, plan, input, rows, caches, act, work, None)?;
    }
    Ok(())
}

/// The teacher-forced decoder behind [`Model::forward`], [`Model::forward_with`] and
/// [`Model::forward_with_probe`].
pub(crate) fn forward(
    model: &Model,
    source: &Source,
    tgt: &[u32],
    logits: &mut [f32],
    scratch: &mut [u8],
    mut probe: Option<&mut AttentionProbe>,
) -> Result<()> {
    need_decoder(model)?;
    check_source(model, source)?;
    let dims = &model.config().dims;
    check_tokens(tgt, dims.max_tgt_len, dims.tgt_vocab)?;
    let v = dims.tgt_vocab;
    let needed = tgt.len().checked_mul(v).ok_or(Error::SizeOverflow)?;
    if logits.len() < needed {
        return Err(Error::OutputTooSmall {
            needed,
            got: logits.len(),
        });
    }
    if let Some(probe) = probe.as_deref_mut() {
        // The llama family's attention (grouped key/value heads) has no probed kernel:
        // refused rather than leaving the probe silently empty.
        if matches!(probe.kind(), AttentionKind::DecoderSelf) && model.config().uses_llama_layers()
        {
            return Err(Error::WrongArchitecture {
                needs:
                    "decoder self-attention the probe can record (not yet llama-family attention)",
            });
        }
        let layers = match probe.kind() {
            AttentionKind::EncoderSelf => dims.n_encoder_layers,
            _ => dims.n_decoder_layers,
        };
        let source_rows = encoder::source_rows(model, source);
        probe.start(layers, dims.n_heads, source_rows, tgt.len())?;
    }
    let plan = Plan::forward_for(dims, model.dtype(), tgt.len());
    let mut session = start(model, &plan, source, scratch, probe.as_deref_mut())?;
    let mut work = DecoderWork::carve(&plan, session.work)?;
    // Blocks of target positions at once: each reads the decoder weights once.
    // (`Plan::forward_for` makes `rows >= 1`; `max(1)` shows it to `chunks`.)
    let rows = plan.rows.max(1);
    let mut written = 0;
    // (a range, not `.enumerate()`: its counter is overflow-checked where checks are on)
    for (i, tokens) in (0..tgt.len()).zip(tgt.chunks(rows)) {
        // Wrapping, which cannot wrap: positions and logits stay below the validated
        // max_tgt_len and the caller's `logits` (`needed`).
        let first = i.wrapping_mul(rows);
        let at = Rows::Sequence { first };
        let probe = probe.as_deref_mut();
        decoder::step(
            model,
            &plan,
            tokens,
            at,
            &mut session.caches,
            &mut session.act,
            &mut work,
            probe,
        )?;
        let block = used(work.logits, tokens.len().wrapping_mul(v));
        let out = logits.get_mut(written..needed).unwrap_or(&mut []);
        for (dst, &src) in out.iter_mut().zip(block.iter()) {
            *dst = src;
        }
        written = written.wrapping_add(block.len());
    }
    Ok(())
}
