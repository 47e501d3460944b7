//! Greedy decoding (`docs/spec.md`, "Greedy"): at each step the most likely token; logits
//! with NaN or infinities are `Error::NonFiniteLogits`. Its step loop, [`decode_steps`],
//! is sampling's too, with another token chooser.

use super::{
    check_prefix_and_max_len, check_source, forced::feed_forced, greedy_log_prob, need_decoder,
    start,
};
use crate::decoder::{self, DecoderWork, Rows};
use crate::encoder::Source;
use crate::error::{Error, Result};
use crate::model::weights::Model;
use crate::scratch::{used, Plan};

/// Result of [`Model::greedy`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Greedy {
    /// Tokens written to the output (excluding bos or the prefix, including eos when
    /// emitted).
    pub len: usize,
    /// Sum of the log-probabilities of the generated tokens.
    pub score: f32,
}

/// Tokens in a `heapless::Vec` of capacity `N` with their score: the output of the
/// calls that hand firmware a bounded token list (`StaticModel::greedy_vec`,
/// `StaticLlama::generate_vec`, `Hypotheses::to_heapless`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredTokens<const N: usize> {
    /// The tokens (generated ones only: no bos or prefix; eos included when emitted).
    pub tokens: heapless::Vec<u32, N>,
    /// Their score: the sum of log-probabilities (greedy, sampling) or beam search's
    /// length-normalised one.
    pub score: f32,
}

impl<const N: usize> ScoredTokens<N> {
    /// `len` tokens from `fill`, which receives a zeroed buffer of `len` and returns how
    /// many it wrote and their score (`OutputTooSmall` when `len > N`).
    pub(crate) fn filled(
        len: usize,
        fill: impl FnOnce(&mut [u32]) -> Result<(usize, f32)>,
    ) -> Result<Self> {
        let mut tokens = heapless::Vec::new();
        tokens.resize(len, 0).map_err(|_| Error::OutputTooSmall {
            needed: len,
            got: N,
        })?;
        let (written, score) = fill(&mut tokens)?;
        tokens.truncate(written);
        Ok(ScoredTokens { tokens, score })
    }
}

/// Greedy decoding behind [`Model::greedy`] and [`Model::greedy_with`].
pub(crate) fn greedy(
    model: &Model,
    source: &Source,
    prefix: &[u32],
    max_len: usize,
    out: &mut [u32],
    scratch: &mut [u8],
) -> Result<Greedy> {
    check_decoding(model, source, prefix, max_len, out)?;
    let plan = Plan::decoding(
        &model.config().dims,
        model.dtype(),
        1,
        false,
        prefix.len(),
        max_len,
    );
    decode_steps(
        model,
        &plan,
        source,
        prefix,
        max_len,
        out,
        scratch,
        greedy_log_prob,
    )
}

/// The checks of greedy decoding and sampling, before anything is written: a decoder, the
/// source, the prefix and `max_len`, and room for `max_len` tokens in `out`.
pub(crate) fn check_decoding(
    model: &Model,
    source: &Source,
    prefix: &[u32],
    max_len: usize,
    out: &[u32],
) -> Result<()> {
    need_decoder(model)?;
    check_source(model, source)?;
    check_prefix_and_max_len(model, prefix, max_len)?;
    if out.len() < max_len {
        return Err(Error::OutputTooSmall {
            needed: max_len,
            got: out.len(),
        });
    }
    Ok(())
}

/// The step loop of greedy decoding and sampling (after [`check_decoding`]): the encoder,
/// the forced prefix, then one token per step from `choose`, which turns the step's
/// logits into the log-probabilities it chose from and returns the token with its
/// log-probability, until eos or `max_len` tokens. `scratch` is the plan's session.
// The search's inputs, the output, the scratch and the chooser.
#[allow(clippy::too_many_arguments)]
pub(crate) fn decode_steps(
    model: &Model,
    plan: &Plan,
    source: &Source,
    prefix: &[u32],
    max_len: usize,
    out: &mut [u32],
    scratch: &mut [u8],
    mut choose: impl FnMut(&mut [f32]) -> Result<(usize, f32)>,
) -> Result<Greedy> {
    let eos = model.config().eos_id;
    let mut session = start(model, plan, source, scratch, None)?;
    let mut work = DecoderWork::carve(plan, session.work)?;
    let (&last, forced) = prefix.split_last().ok_or(Error::EmptySequence)?;
    feed_forced(
        model,
        plan,
        forced,
        &mut session.caches,
        &mut session.act,
        &mut work,
    )?;
    let mut token = last;
    let mut score = 0.0f32;
    let mut len = 0;
    for (i, slot) in out.iter_mut().take(max_len).enumerate() {
        // Wrapping, which cannot wrap: both are below the validated max_tgt_len.
        let position = forced.len().wrapping_add(i);
        let input = core::slice::from_ref(&token);
        let rows = Rows::Hypotheses { position };
        decoder::step(
            model,
            plan,
            input,
            rows,
            &mut session.caches,
            &mut session.act,
            &mut work,
            None,
        )?;
        let (next, log_p) = choose(used(work.logits, plan.v))?;
        score += log_p;
        token = next as u32;
        *slot = token;
        len += 1;
        if token == eos {
            break;
        }
    }
    Ok(Greedy { len, score })
}
