//! Sampling (`docs/spec.md`, "Sampling"): at each step a token drawn from the softmax of
//! the logits divided by a temperature, optionally from its nucleus (top-p), with
//! llama2.c's generator and rules, so a seed gives the same tokens on every target and
//! as `run.c` on the same logits. Temperature 0 is greedy decoding.

use super::greedy::{check_decoding, decode_steps, Greedy};
use super::greedy_log_prob;
use crate::encoder::Source;
use crate::error::{Error, Result};
use crate::model::weights::Model;
use crate::scratch::{Arena, Plan};
use picoformer_kernels as k;

/// How to draw each token.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SamplingParams {
    /// Divides the logits before the softmax; 0 is greedy decoding (finite, `>= 0`).
    pub temperature: f32,
    /// Nucleus: draw only from the most likely tokens whose probabilities first exceed
    /// `top_p` in sum; `top_p <= 0` or `>= 1` draws from all of them (as llama2.c).
    /// Finite.
    pub top_p: f32,
    /// State of the generator; not 0 (xorshift stays at 0).
    pub seed: u64,
}

impl SamplingParams {
    fn check(&self) -> Result<()> {
        let bad = |reason| Err(Error::InvalidSampling { reason });
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return bad("temperature must be finite and >= 0");
        }
        if !self.top_p.is_finite() {
            return bad("top_p must be finite");
        }
        if self.seed == 0 {
            return bad("seed must not be 0");
        }
        Ok(())
    }
}

/// llama2.c's generator: xorshift64* (`random_u32`, `random_f32` in `run.c`).
struct Rng(u64);

impl Rng {
    fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }

    /// Uniform in `[0, 1)`, 24 bits.
    fn next_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 / 16_777_216.0
    }
}

/// A token and its probability, for the nucleus.
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub(crate) struct Candidate {
    index: u32,
    probability: f32,
}

/// Sampling behind [`Model::sample_with`](crate::Model::sample_with): greedy decoding's
/// step loop ([`decode_steps`]) with the token drawn by [`choose`]; the scratch is
/// greedy's, then `[V]` candidates. `on_token` sees each token as soon as it is chosen
/// (for streaming).
// The search's inputs, the output and the scratch, as `greedy` plus the parameters.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sample(
    model: &Model,
    source: &Source,
    prefix: &[u32],
    max_len: usize,
    params: &SamplingParams,
    out: &mut [u32],
    scratch: &mut [u8],
    on_token: &mut dyn FnMut(u32),
) -> Result<Greedy> {
    params.check()?;
    check_decoding(model, source, prefix, max_len, out)?;
    let config = model.config();
    let plan = Plan::decoding(&config.dims, model.dtype(), 1, false, prefix.len(), max_len);
    let session_bytes = plan.total_bytes().ok_or(Error::SizeOverflow)?;
    let needed = plan.sample_total_bytes().ok_or(Error::SizeOverflow)?;
    if !(scratch.as_ptr() as usize).is_multiple_of(16) {
        return Err(Error::ScratchMisaligned);
    }
    if scratch.len() < needed {
        return Err(Error::ScratchTooSmall {
            needed,
            got: scratch.len(),
        });
    }
    let (session_scratch, rest) = scratch
        .split_at_mut_checked(session_bytes)
        .ok_or(Error::SizeOverflow)?;
    let candidates: &mut [Candidate] = Arena::new(rest, Some(0))?.slice(Some(plan.v))?;
    let mut rng = Rng(params.seed);
    let choose_token = |logits: &mut [f32]| {
        let next = choose(logits, params, &mut rng, candidates)?;
        // The step loop stores every token it is given: streaming sees it now.
        on_token(next as u32);
        Ok((next, logits.get(next).copied().unwrap_or(f32::NEG_INFINITY)))
    };
    decode_steps(
        model,
        &plan,
        source,
        prefix,
        max_len,
        out,
        session_scratch,
        choose_token,
    )
}

/// The next token from `logits`, which are left as the log-probabilities it was drawn
/// from (those of the logits divided by the temperature). `NonFiniteLogits` when they
/// hold NaN or infinities (after the division by the temperature).
///
/// llama2.c's `sample`: temperature 0 is the arg max; otherwise one draw `coin` in
/// `[0, 1)` per token and the first token whose running sum of probabilities exceeds it,
/// in token order, or, with `0 < top_p < 1`, among the tokens of probability at least
/// `(1 - top_p) / (V - 1)` ordered by probability (descending; equal ones by token id),
/// cut after the first whose running sum exceeds `top_p`, with `coin` scaled by that
/// sum. Rounding that leaves `coin` past every sum takes the last token considered.
fn choose(
    logits: &mut [f32],
    params: &SamplingParams,
    rng: &mut Rng,
    candidates: &mut [Candidate],
) -> Result<usize> {
    if params.temperature == 0.0 {
        return greedy_log_prob(logits).map(|(next, _)| next);
    }
    for l in logits.iter_mut() {
        *l /= params.temperature;
    }
    let fallback = k::argmax(logits).unwrap_or(0);
    k::softmax(logits);
    // As in `chosen_log_prob`: NaN or +inf anywhere makes every probability NaN, an all
    // -inf row all zeros; the most likely one tells.
    if !logits.get(fallback).is_some_and(|&p| p > 0.0) {
        return Err(Error::NonFiniteLogits);
    }
    let coin = rng.next_f32();
    let n = logits.len();
    let chosen = if params.top_p <= 0.0 || params.top_p >= 1.0 {
        let mut cdf = 0.0f32;
        let mut chosen = n.saturating_sub(1);
        for (i, &p) in logits.iter().enumerate() {
            cdf += p;
            if coin < cdf {
                chosen = i;
                break;
            }
        }
        chosen
    } else {
        nucleus(logits, params.top_p, coin, candidates).unwrap_or(fallback)
    };
    for p in logits.iter_mut() {
        *p = libm::logf(*p);
    }
    Ok(chosen)
}

/// llama2.c's `sample_topp` over the probabilities `probs`; `None` when no token reaches
/// the cutoff.
fn nucleus(probs: &[f32], top_p: f32, coin: f32, candidates: &mut [Candidate]) -> Option<usize> {
    let cutoff = (1.0 - top_p) / (probs.len().saturating_sub(1).max(1)) as f32;
    let mut kept = 0;
    for (i, &p) in probs.iter().enumerate() {
        if p >= cutoff {
            let slot = candidates.get_mut(kept)?;
            *slot = Candidate {
                index: i as u32,
                probability: p,
            };
            kept += 1;
        }
    }
    let kept = candidates.get_mut(..kept)?;
    crate::sort::sort_by(kept, |a, b| {
        b.probability
            .total_cmp(&a.probability)
            .then(a.index.cmp(&b.index))
            .is_lt()
    });
    let mut cumulative = 0.0f32;
    let mut last = kept.len().checked_sub(1)?;
    for (i, c) in kept.iter().enumerate() {
        cumulative += c.probability;
        if cumulative > top_p {
            last = i;
            break;
        }
    }
    let r = coin * cumulative;
    let mut cdf = 0.0f32;
    let nucleus = kept.get(..=last)?;
    for c in nucleus {
        cdf += c.probability;
        if r < cdf {
            return Some(c.index as usize);
        }
    }
    nucleus.last().map(|c| c.index as usize)
}
