//! Greedy decoding (`docs/spec.md`, "Greedy"): at each step the most likely token.

use super::{check_prefix_and_max_len, check_source, forced::feed_forced, need_decoder, start};
use crate::decoder::{self, DecoderWork, Rows};
use crate::encoder::Source;
use crate::error::{Error, Result};
use crate::model::weights::Model;
use crate::scratch::{used, Plan};
use picoformer_kernels as k;

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
    need_decoder(model)?;
    check_source(model, source)?;
    check_prefix_and_max_len(model, prefix, max_len)?;
    if out.len() < max_len {
        return Err(Error::OutputTooSmall {
            needed: max_len,
            got: out.len(),
        });
    }
    let config = model.config();
    let plan = Plan::new(&config.dims, model.dtype(), 1, false);
    let mut session = start(model, &plan, source, scratch, None)?;
    let mut work = DecoderWork::carve(&plan, session.work)?;
    let (&last, forced) = prefix.split_last().ok_or(Error::EmptySequence)?;
    feed_forced(
        model,
        &plan,
        forced,
        &mut session.caches,
        &mut session.act,
        &mut work,
    )?;
    let mut token = last;
    let mut score = 0.0f32;
    let mut len = 0;
    for (i, slot) in out.iter_mut().take(max_len).enumerate() {
        let position = forced.len() + i;
        let input = core::slice::from_ref(&token);
        let rows = Rows::Hypotheses { position };
        decoder::step(
            model,
            &plan,
            input,
            rows,
            &mut session.caches,
            &mut session.act,
            &mut work,
            None,
        )?;
        let logits = used(work.logits, plan.v);
        let next = k::argmax(logits).unwrap_or(config.eos_id as usize);
        k::log_softmax(logits);
        score += logits.get(next).copied().unwrap_or(f32::NEG_INFINITY);
        token = next as u32;
        *slot = token;
        len += 1;
        if token == config.eos_id {
            break;
        }
    }
    Ok(Greedy { len, score })
}
