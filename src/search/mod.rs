//! The search algorithms over a `Model`: greedy decoding (`greedy.rs`) and beam search
//! (`beam.rs`), both after the forced part of the decoder prefix (`forced.rs`, which also
//! holds the teacher-forced forward pass), and the encoder-only call. `Model`'s public
//! methods call these. Each checks all of its inputs before it writes anything.

mod beam;
mod forced;
mod greedy;
mod sample;

pub use beam::{BeamParams, Hypotheses, Hypothesis};
pub use greedy::{Greedy, ScoredTokens};
pub use sample::SamplingParams;

pub(crate) use beam::{beam_search, check_beam_size};
pub(crate) use forced::forward;
pub(crate) use greedy::greedy;
pub(crate) use sample::sample;

use crate::decoder::{self, DecoderCaches};
use crate::encoder::{self, EncoderWork, Source};
use crate::error::{Error, Result};
use crate::model::weights::Model;
use crate::probe::AttentionProbe;
use crate::scratch::{used, Arena, Plan};
use picoformer_kernels::{self as k, Activations};

/// Turns a row of logits into log-probabilities in place and returns the most likely
/// token (ties: the lowest id) with its log-probability, or `NonFiniteLogits` when the
/// row holds NaN or `+inf` or is all `-inf`. One test of the chosen token suffices: a NaN
/// or `+inf` anywhere makes every log-probability NaN, and an all `-inf` row stays so.
fn best_log_prob(logits: &mut [f32]) -> Result<(usize, f32)> {
    let best = k::argmax(logits).unwrap_or(0);
    k::log_softmax(logits);
    match logits.get(best) {
        Some(&log_p) if log_p.is_finite() => Ok((best, log_p)),
        _ => Err(Error::NonFiniteLogits),
    }
}

/// Checks the source: present for an encoder (1..=S token ids below `src_vocab`, 1..=S
/// vectors of D, or 1..=2S frames of `stem_channels` for a model with a stem), absent for
/// a decoder-only model.
fn check_source(model: &Model, source: &Source) -> Result<()> {
    let dims = &model.config().dims;
    if !model.config().has_encoder() {
        return if source.is_empty() {
            Ok(())
        } else {
            Err(Error::WrongArchitecture {
                needs: "encoder, but source tokens were given",
            })
        };
    }
    match *source {
        Source::Tokens(_) if dims.src_vocab == 0 => Err(Error::WrongArchitecture {
            needs: "source embedding (its encoder reads vectors or frames)",
        }),
        Source::Tokens(src) => check_tokens(src, dims.max_src_len, dims.src_vocab),
        Source::Vectors(vectors) => {
            let rows = check_rows(vectors, dims.d_model)?;
            if rows > dims.max_src_len {
                return Err(Error::SequenceTooLong {
                    len: rows,
                    max: dims.max_src_len,
                });
            }
            Ok(())
        }
        Source::Frames(_) if dims.stem_channels == 0 => Err(Error::WrongArchitecture {
            needs: "convolution stem to read frames",
        }),
        Source::Frames(frames) => {
            let rows = check_rows(frames, dims.stem_channels)?;
            let max = dims.max_src_len.saturating_mul(crate::config::STEM_STRIDE);
            if rows > max {
                return Err(Error::SequenceTooLong { len: rows, max });
            }
            Ok(())
        }
    }
}

/// Rows of `row` elements in `input` (at least one, and no partial row).
fn check_rows(input: &[f32], row: usize) -> Result<usize> {
    let len = input.len();
    if len == 0 {
        return Err(Error::EmptySequence);
    }
    if row == 0 || !len.is_multiple_of(row) {
        return Err(Error::RaggedInput { len, row });
    }
    Ok(len / row)
}

fn check_tokens(tokens: &[u32], max: usize, vocab: usize) -> Result<()> {
    if tokens.is_empty() {
        return Err(Error::EmptySequence);
    }
    if tokens.len() > max {
        return Err(Error::SequenceTooLong {
            len: tokens.len(),
            max,
        });
    }
    match tokens.iter().find(|&&t| t as usize >= vocab) {
        Some(&token) => Err(Error::TokenOutOfRange { token, vocab }),
        None => Ok(()),
    }
}

/// Checks the decoder prefix (bos, or a longer forced start such as Whisper's task
/// tokens) and `max_len`: the prefix and every generated token but the last are fed, so
/// `prefix.len() + max_len - 1 <= max_tgt_len`.
pub(crate) fn check_prefix_and_max_len(
    model: &Model,
    prefix: &[u32],
    max_len: usize,
) -> Result<()> {
    let dims = &model.config().dims;
    check_tokens(prefix, dims.max_tgt_len, dims.tgt_vocab)?;
    check_max_len(model, prefix.len(), max_len)
}

/// The length rule of [`check_prefix_and_max_len`] alone, for a prefix of `prefix_len`
/// tokens (1..=`max_tgt_len`): what the request-sized scratch queries check.
pub(crate) fn check_lengths(model: &Model, prefix_len: usize, max_len: usize) -> Result<()> {
    let max = model.config().dims.max_tgt_len;
    if prefix_len == 0 {
        return Err(Error::EmptySequence);
    }
    if prefix_len > max {
        return Err(Error::SequenceTooLong {
            len: prefix_len,
            max,
        });
    }
    check_max_len(model, prefix_len, max_len)
}

/// `max_len` after a prefix of `prefix_len <= max_tgt_len` tokens: 1 to
/// `max_tgt_len + 1 - prefix_len`.
fn check_max_len(model: &Model, prefix_len: usize, max_len: usize) -> Result<()> {
    // `prefix_len <= max_tgt_len` (checked by the callers): no underflow.
    let limit = (model.config().dims.max_tgt_len - prefix_len).saturating_add(1);
    if max_len == 0 || max_len > limit {
        return Err(Error::MaxLenOutOfRange { max_len, limit });
    }
    Ok(())
}

pub(crate) fn need_decoder(model: &Model) -> Result<()> {
    if model.config().has_decoder() {
        Ok(())
    } else {
        Err(Error::WrongArchitecture { needs: "decoder" })
    }
}

/// Scratch of a decoding call, carved: persistent caches, (beam state), then the shared
/// work region.
pub(crate) struct Session<'s> {
    pub caches: DecoderCaches<'s>,
    /// The beam-search state's words (`Plan::beam_state`; empty unless the plan is a
    /// beam search's).
    pub beam_words: &'s mut [u32],
    /// The int8 activation buffer (empty for f32 and f16 weights).
    pub act: Activations<'s>,
    pub work: &'s mut [f32],
}

/// Carves the scratch (the beam state's words too), runs the encoder on the source and
/// precomputes the cross K/V of every decoder layer (`probe`: see
/// [`Model::forward_with_probe`]).
///
/// Not generic over the search: one copy serves greedy decoding and beam search alike.
pub(crate) fn start<'s>(
    model: &Model,
    plan: &Plan,
    source: &Source,
    scratch: &'s mut [u8],
    probe: Option<&mut AttentionProbe>,
) -> Result<Session<'s>> {
    let mut arena = Arena::new(scratch, plan.total_bytes())?;
    let mut caches = DecoderCaches::carve(plan, &mut arena)?;
    let beam_words = arena.u32s(plan.beam_state())?;
    let mut act = arena.activations(plan)?;
    let work = arena.f32s(plan.work_len())?;
    if model.config().has_encoder() {
        let mut enc = EncoderWork::carve(plan, &mut *work)?;
        let rows = encoder::encode(model, plan, source, &mut enc, probe, &mut act)?;
        // Wrapping, which cannot wrap: `rows * d` is the encoder output's length.
        let memory = used(enc.x, rows.wrapping_mul(plan.d));
        decoder::precompute_cross(model, plan, memory, &mut caches, &mut act)?;
    }
    Ok(Session {
        caches,
        beam_words,
        act,
        work,
    })
}

/// Runs the encoder alone on `source` (behind [`Model::encode_source`]): `out` `[n, D]`
/// receives its output; returns `n`.
pub(crate) fn encode(
    model: &Model,
    source: &Source,
    out: &mut [f32],
    scratch: &mut [u8],
) -> Result<usize> {
    if !model.config().has_encoder() {
        return Err(Error::WrongArchitecture { needs: "encoder" });
    }
    check_source(model, source)?;
    let d = model.config().dims.d_model;
    let rows = encoder::source_rows(model, source);
    let needed = rows.checked_mul(d).ok_or(Error::SizeOverflow)?;
    if out.len() < needed {
        return Err(Error::OutputTooSmall {
            needed,
            got: out.len(),
        });
    }
    let plan = Plan::encoder_only(&model.config().dims, model.dtype());
    let mut arena = Arena::new(scratch, plan.total_bytes())?;
    let mut act = arena.activations(&plan)?;
    let work = arena.f32s(plan.work_len())?;
    let mut enc = EncoderWork::carve(&plan, work)?;
    encoder::encode(model, &plan, source, &mut enc, None, &mut act)?;
    for (dst, &v) in out.iter_mut().zip(enc.x.iter().take(needed)) {
        *dst = v;
    }
    Ok(rows)
}
