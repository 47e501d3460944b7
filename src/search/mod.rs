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

/// Turns a row of logits into log-probabilities in place ([`k::log_softmax`]'s values)
/// and returns the most likely token with its log-probability, as [`chosen_log_prob`].
fn best_log_prob(logits: &mut [f32]) -> Result<(usize, f32)> {
    let (best, log_p, largest, log_sum) = chosen_log_prob(logits)?;
    for v in logits.iter_mut() {
        *v = *v - largest - log_sum;
    }
    Ok((best, log_p))
}

/// The most likely token of a row of logits (ties: the lowest id) and its log-probability
/// (bit for bit its [`k::log_softmax`] value, `x - largest - log_sum`: the chosen logit
/// is the row's largest), with `largest` and `log_sum`, without writing the row (greedy
/// needs no other token's); `NonFiniteLogits` when the row holds NaN or `+inf` or is all
/// `-inf`. One test of the chosen token suffices: a NaN or `+inf` anywhere makes every
/// log-probability NaN, and so does an all `-inf` row (`-inf - -inf`).
fn chosen_log_prob(logits: &[f32]) -> Result<(usize, f32, f32, f32)> {
    let best = k::argmax(logits).ok_or(Error::NonFiniteLogits)?;
    let logit = *logits.get(best).ok_or(Error::NonFiniteLogits)?;
    // the log-softmax's `max`: the chosen logit (both take the first largest, no NaN)
    let largest = logit;
    let log_sum = k::log_sum_exp_below(logits, largest);
    let log_p = logit - largest - log_sum;
    if !log_p.is_finite() {
        return Err(Error::NonFiniteLogits);
    }
    Ok((best, log_p, largest, log_sum))
}

/// Greedy's chooser: [`chosen_log_prob`] (the logits stay as they are).
fn greedy_log_prob(logits: &mut [f32]) -> Result<(usize, f32)> {
    chosen_log_prob(logits).map(|(best, log_p, _, _)| (best, log_p))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Greedy's chooser reports, bit for bit, the log-probability the full log-softmax
    /// gives the chosen token (and the row written by `best_log_prob` is the
    /// log-softmax), and the same errors, on rows with ties, zeros of both signs and
    /// every non-finite case.
    #[test]
    fn chosen_log_prob_is_the_log_softmax_value() {
        let rows: [&[f32]; 6] = [
            &[0.5, -3.25, 7.0, 7.0, -0.0, 1e-3],
            &[-0.0, 0.0, -0.0],
            &[-120.0, 3.0, -90.0, 2.999_999_8, f32::NEG_INFINITY],
            &[1.0e30, -1.0e30, 0.1],
            &[-1.5],
            &[
                4.0,
                -7.5,
                2.25,
                4.0 - f32::EPSILON,
                -0.5,
                3.75,
                1.0 / 3.0,
                100.0,
                -100.0,
            ],
        ];
        for row in rows {
            let mut full = row.to_vec();
            let best = k::argmax(&full).unwrap();
            k::log_softmax(&mut full);
            let (chosen, log_p) = greedy_log_prob(&mut row.to_vec()).unwrap();
            assert_eq!(
                (chosen, log_p.to_bits()),
                (best, full[best].to_bits()),
                "{row:?}"
            );
            let mut written = row.to_vec();
            assert_eq!(best_log_prob(&mut written).unwrap(), (chosen, log_p));
            let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&written), bits(&full), "{row:?}");
        }
        let inf = f32::INFINITY;
        let bad: [&[f32]; 5] = [
            &[],
            &[f32::NAN],
            &[1.0, f32::NAN],
            &[0.0, inf],
            &[-inf, -inf],
        ];
        for row in bad {
            assert_eq!(
                greedy_log_prob(&mut row.to_vec()),
                Err(Error::NonFiniteLogits),
                "{row:?}"
            );
            assert_eq!(
                best_log_prob(&mut row.to_vec()),
                Err(Error::NonFiniteLogits),
                "{row:?}"
            );
        }
    }
}
