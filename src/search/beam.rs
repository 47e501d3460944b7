//! Beam search exactly as `docs/spec.md` defines it (Hugging Face's with
//! `early_stopping=True` and the GNMT length penalty `lp(n) = ((5 + n) / 6)^alpha`).

use super::ScoredTokens;
use super::{
    best_log_prob, check_prefix_and_max_len, check_source, forced::feed_forced, need_decoder,
    start, Session,
};
use crate::decoder::{self, DecoderCaches, DecoderWork, Rows};
use crate::encoder::Source;
use crate::error::{Error, Result};
use crate::model::weights::Model;
use crate::scratch::{Plan, MAX_BEAM};
use picoformer_kernels as k;

/// Beam-search settings.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BeamParams {
    /// Beam size B: live hypotheses kept per step (1..=64, and below the vocabulary).
    pub beam: usize,
    /// Hypotheses returned, K (1..=B).
    pub top: usize,
    /// Length-penalty exponent alpha (>= 0; 0 means raw log-probability).
    pub alpha: f32,
    /// Most tokens generated, including eos (1..=max_tgt_len).
    pub max_len: usize,
}

/// One returned hypothesis, borrowed from the scratch buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Hypothesis<'s> {
    /// Generated tokens: excluding bos, including eos when it finished with one.
    pub tokens: &'s [u32],
    /// Length-normalised score `log P / lp(n)`.
    pub score: f32,
}

/// The best hypotheses, best first, borrowed from the scratch buffer.
#[derive(Debug)]
pub struct Hypotheses<'s> {
    /// `[B, T]` token rows.
    tokens: &'s [u32],
    done: &'s [Done],
    stride: usize,
    count: usize,
}

impl<'s> Hypotheses<'s> {
    /// Number of hypotheses (K, or fewer when fewer finished).
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when no hypothesis finished.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Hypothesis `i` (0 = best).
    pub fn get(&self, i: usize) -> Option<Hypothesis<'s>> {
        if i >= self.count {
            return None;
        }
        let done = self.done.get(i)?;
        let start = i.checked_mul(self.stride)?;
        Some(Hypothesis {
            tokens: self
                .tokens
                .get(start..start.checked_add(done.len as usize)?)?,
            score: done.score,
        })
    }

    /// The hypotheses, best first.
    pub fn iter(&self) -> impl Iterator<Item = Hypothesis<'s>> + '_ {
        (0..self.count).filter_map(move |i| self.get(i))
    }

    /// The best `K` hypotheses (all when fewer) copied out of the scratch into `heapless`
    /// vectors, so they outlive it: `OutputTooSmall` when one has more than `L` tokens.
    pub fn to_heapless<const K: usize, const L: usize>(
        &self,
    ) -> Result<heapless::Vec<ScoredTokens<L>, K>> {
        let mut best = heapless::Vec::new();
        for hypothesis in self.iter().take(K) {
            let tokens = heapless::Vec::from_slice(hypothesis.tokens).map_err(|_| {
                Error::OutputTooSmall {
                    needed: hypothesis.tokens.len(),
                    got: L,
                }
            })?;
            let scored = ScoredTokens {
                tokens,
                score: hypothesis.score,
            };
            best.push(scored).map_err(|_| Error::OutputTooSmall {
                needed: K + 1,
                got: K,
            })?;
        }
        Ok(best)
    }
}

/// One candidate extension: live hypothesis `beam` followed by `token`.
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Candidate {
    /// `live score + log_softmax(logits)[token]`.
    score: f32,
    beam: u32,
    token: u32,
}

/// A finished hypothesis' score and length (its tokens are a row of `done_tokens`).
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Done {
    /// Normalised score `log P / lp(n)`.
    score: f32,
    len: u32,
}

/// The beam-search state in the scratch buffer (B = beam size, T = the plan's positions): one
/// region of words, split into its parts (`BeamParts`) only while the bookkeeping between
/// two decoder steps runs, so that the slices are not on the stack during a step.
struct BeamState<'s> {
    /// The regions of `BeamParts`, in that order, each rounded up to 16 bytes as
    /// `Plan::beam_state` counts them.
    words: &'s mut [u32],
    /// B: live hypotheses.
    beams: usize,
    /// T: stride of the token rows.
    t: usize,
    /// `[T, D]`: elements of one cache slot.
    slot_len: usize,
    finished: Finished,
}

/// How many hypotheses finished.
#[derive(Clone, Copy)]
struct Finished {
    /// How many rows of `done` hold a hypothesis.
    stored: usize,
    /// How many finished in all (the stopping rule counts them).
    total: usize,
}

/// The parts of the beam-search state.
struct BeamParts<'p> {
    /// `[B, T]` generated tokens of each live hypothesis.
    live_tokens: &'p mut [u32],
    /// `[B]` log-probability of each live hypothesis.
    live_scores: &'p mut [f32],
    /// `[B]` live index each new hypothesis extends.
    parents: &'p mut [u32],
    /// `[B]` working copy of `parents` while reordering.
    reorder: &'p mut [u32],
    /// `[B]` tokens fed at this step, then the tokens chosen for the new live set.
    step_tokens: &'p mut [u32],
    /// `[2B]` the best candidates of this step, best first.
    candidates: &'p mut [Candidate],
    /// `[B, T]` tokens of the best finished hypotheses, best first.
    done_tokens: &'p mut [u32],
    /// `[B]` their scores and lengths.
    done: &'p mut [Done],
    /// `[T]` temporary token row for in-place reordering.
    token_temp: &'p mut [u32],
    /// `[T, D]` temporary cache slot for in-place reordering (as f32 bits).
    slot_temp: &'p mut [u32],
}

/// The next `words` words of `rest`, which then starts past them rounded up to 16 bytes
/// (as `Arena` carves). `None` past the end (the carving is sized so that it is not).
/// Out of line: `split` calls it for each part.
#[inline(never)]
fn take<'p>(rest: &mut &'p mut [u32], words: usize) -> Option<&'p mut [u32]> {
    let rounded = words.checked_add(3)? / 4 * 4;
    let (head, tail) = core::mem::take(rest).split_at_mut_checked(rounded)?;
    *rest = tail;
    head.get_mut(..words)
}

impl<'s> BeamState<'s> {
    /// The state over `words`, the region `Plan::beam_state` counts (carved by `start`).
    fn carve(plan: &Plan, words: &'s mut [u32]) -> Result<Self> {
        Ok(BeamState {
            words,
            beams: plan.beams,
            t: plan.t,
            slot_len: plan.slot_len().ok_or(Error::SizeOverflow)?,
            finished: Finished {
                stored: 0,
                total: 0,
            },
        })
    }

    /// The parts, borrowed from the state.
    fn parts(&mut self) -> Result<BeamParts<'_>> {
        split(&mut *self.words, self.beams, self.t, self.slot_len)
    }

    /// The finished hypotheses' token rows and entries, for as long as the scratch is
    /// borrowed (they outlive the search). Out of line: the parts are not in the caller's
    /// frame, which is on the stack during the search.
    #[inline(never)]
    fn into_finished(self) -> Result<(&'s [u32], &'s [Done])> {
        let parts = split(self.words, self.beams, self.t, self.slot_len)?;
        Ok((parts.done_tokens, parts.done))
    }

    /// The tokens to feed at `step`: the prefix's last token (bos) first, then each live
    /// hypothesis' last token. At step 0 the one live hypothesis gets its score, 0.
    #[inline(never)]
    fn step_inputs(&mut self, live: usize, step: usize, start: u32) -> Result<&[u32]> {
        let t = self.t;
        let parts = self.parts()?;
        if step == 0 {
            parts.live_scores.fill(0.0);
        }
        for (b, input) in parts.step_tokens.iter_mut().take(live).enumerate() {
            *input = match step.checked_sub(1) {
                None => start,
                Some(last) => parts
                    .live_tokens
                    .get(b.wrapping_mul(t).wrapping_add(last))
                    .copied()
                    .unwrap_or(start),
            };
        }
        Ok(parts.step_tokens.get(..live).unwrap_or(&[]))
    }
}

/// Records live hypothesis `parent`'s first `prefix` tokens, then `last` (if any), as
/// finished with normalised score `score`. Keeps the best B; ties keep finishing order.
#[inline(never)]
fn finish(
    parts: &mut BeamParts,
    finished: &mut Finished,
    t: usize,
    parent: usize,
    prefix: usize,
    last: Option<u32>,
    score: f32,
) {
    finished.total = finished.total.wrapping_add(1);
    let before = finished.stored;
    let entry = Done {
        score,
        len: prefix.wrapping_add(usize::from(last.is_some())) as u32,
    };
    let (stored, at) = insert_sorted(parts.done, before, entry, |d| d.score);
    finished.stored = stored;
    let Some(at) = at else {
        return; // not among the best B
    };
    // Move the token rows the same way `insert_sorted` moved the entries: the row
    // at `end` (dropped, or the free one past the stored) comes round to `at`.
    let end = before.min(parts.done.len().saturating_sub(1));
    for column in 0..t {
        let mut carry = parts
            .done_tokens
            .get(end.wrapping_mul(t).wrapping_add(column))
            .copied()
            .unwrap_or(0);
        for row in at..=end {
            if let Some(slot) = parts
                .done_tokens
                .get_mut(row.wrapping_mul(t).wrapping_add(column))
            {
                core::mem::swap(slot, &mut carry);
            }
        }
    }
    let source = parts
        .live_tokens
        .get(span(parent, t, prefix))
        .unwrap_or(&[]);
    if let Some(row) = parts.done_tokens.get_mut(span(at, t, t)) {
        copy(row, source);
        if let (Some(slot), Some(token)) = (row.get_mut(prefix), last) {
            *slot = token;
        }
    }
}

/// Splits the state's `words` into its parts (see [`BeamState`]).
#[inline(never)]
fn split(words: &mut [u32], b: usize, t: usize, slot_len: usize) -> Result<BeamParts<'_>> {
    let history = b.checked_mul(t).ok_or(Error::SizeOverflow)?;
    let candidates = b.checked_mul(2).ok_or(Error::SizeOverflow)?;
    let mut rest = words;
    let mut next = |words| take(&mut rest, words).ok_or(Error::SizeOverflow);
    Ok(BeamParts {
        live_tokens: next(history)?,
        live_scores: bytemuck::must_cast_slice_mut(next(b)?),
        parents: next(b)?,
        reorder: next(b)?,
        step_tokens: next(b)?,
        candidates: cast(next(candidates.saturating_mul(3))?)?,
        done_tokens: next(history)?,
        done: cast(next(b.saturating_mul(2))?)?,
        token_temp: next(t)?,
        slot_temp: next(slot_len)?,
    })
}

/// Words as elements of `T`, a type made of 4-byte words.
fn cast<T: bytemuck::Pod>(words: &mut [u32]) -> Result<&mut [T]> {
    bytemuck::try_cast_slice_mut(words).map_err(|_| Error::SizeOverflow)
}

/// Scores every (live hypothesis, token) from the logits `[live, V]` (turned into
/// log-probabilities in place) and keeps the best 2B in `candidates`, sorted. Returns
/// how many, or `NonFiniteLogits` when a row holds NaN or infinities.
fn collect_candidates(
    candidates: &mut [Candidate],
    live_scores: &[f32],
    logits: &mut [f32],
    live: usize,
    vocab: usize,
) -> Result<usize> {
    let mut count = 0;
    let rows = logits.chunks_exact_mut(vocab.max(1)).zip(live_scores);
    // (a range, not `.enumerate()`: its counter is overflow-checked where checks are on)
    for (beam, (row, &base)) in (0..live).zip(rows) {
        best_log_prob(row)?;
        for (token, &log_p) in row.iter().enumerate() {
            let candidate = Candidate {
                score: base + log_p,
                beam: beam as u32,
                token: token as u32,
            };
            // Visiting order is (live index, token), so an equal score ranks after
            // the ones already kept: the spec's tie-break.
            (count, _) = insert_sorted(candidates, count, candidate, |c| c.score);
        }
    }
    Ok(count)
}

/// Inserts `item` into the sorted (descending `key`) first `count` entries of `list`,
/// after every entry with an equal or greater key; the last entry falls off when `list`
/// is full, and an item that would land past the end (or whose key is NaN) is dropped.
/// Returns the new count and where the item went.
fn insert_sorted<T: Copy>(
    list: &mut [T],
    count: usize,
    item: T,
    key: impl Fn(&T) -> f32,
) -> (usize, Option<usize>) {
    let value = key(&item);
    let count = count.min(list.len());
    let full = count == list.len();
    if value.is_nan() || (full && list.last().is_none_or(|last| key(last) >= value)) {
        return (count, None);
    }
    let at = list
        .iter()
        .take(count)
        .take_while(|e| key(e) >= value)
        .count();
    // Shift `at..` down by one, the last entry (or the free one past `count`) falling off:
    // one carried entry, not `rotate_right` (whose `memmove` is 1.5 KiB of firmware code).
    let mut carry = item;
    let end = (count + 1).min(list.len());
    for entry in list.get_mut(at..end).unwrap_or(&mut []) {
        core::mem::swap(entry, &mut carry);
    }
    ((count + 1).min(list.len()), Some(at))
}

/// GNMT length penalty `((5 + n) / 6)^alpha` (f32: n is at most 2^20, exact), as
/// `exp(alpha ln x)` with the softmax's exp ([`k::exp_fast`], the same bits on every
/// target) and `logf` (linked for `log_softmax` anyway): `powf` would add 1.5 KiB of
/// firmware code, libm's `expf` some hundreds of bytes. The base is at least 1 and alpha
/// finite and >= 0, so both are in range; alpha = 0 gives exactly 1, and otherwise the
/// result is within a few ulps of `powf`'s.
#[inline(never)] // two callers; inlined, each would carry the exp and the libm call
fn length_penalty(n: usize, alpha: f32) -> f32 {
    k::exp_fast(alpha * libm::logf((5.0 + n as f32) / 6.0))
}

/// The one beam-size rule of the search, its scratch size and the C API: 1 to
/// [`MAX_BEAM`], and below the target vocabulary (a beam needs that many distinct
/// continuations besides eos).
pub(crate) fn check_beam_size(model: &Model, beam: usize) -> Result<()> {
    let limit = MAX_BEAM.min(model.config().dims.tgt_vocab.saturating_sub(1));
    if beam == 0 || beam > limit {
        return Err(Error::BeamSizeOutOfRange { beam, limit });
    }
    Ok(())
}

/// Beam search behind [`Model::beam_search`] and [`Model::beam_search_with`].
pub(crate) fn beam_search<'s>(
    model: &Model,
    source: &Source,
    prefix: &[u32],
    params: &BeamParams,
    scratch: &'s mut [u8],
) -> Result<Hypotheses<'s>> {
    need_decoder(model)?;
    check_source(model, source)?;
    check_prefix_and_max_len(model, prefix, params.max_len)?;
    check_beam_size(model, params.beam)?;
    let config = model.config();
    if params.top == 0 || params.top > params.beam {
        return Err(Error::TopBeamsOutOfRange {
            top: params.top,
            beam: params.beam,
        });
    }
    if !(params.alpha.is_finite() && params.alpha >= 0.0) {
        return Err(Error::InvalidLengthPenalty);
    }
    let plan = Plan::decoding(
        &config.dims,
        model.dtype(),
        params.beam,
        true,
        prefix.len(),
        params.max_len,
    );
    // Borrowed where they lie, not moved out of the `Result`: a move would give the
    // session and the state a second place in this frame, on the stack during the search.
    let mut started = start(model, &plan, source, scratch, None);
    let session = match &mut started {
        Ok(session) => session,
        Err(e) => return Err(*e),
    };
    let mut state = BeamState::carve(&plan, core::mem::take(&mut session.beam_words))?;
    decode_beams(model, &plan, prefix, params, session, &mut state)?;
    let count = state.finished.stored.min(params.top);
    let (tokens, done) = state.into_finished()?;
    Ok(Hypotheses {
        tokens,
        done,
        stride: plan.t,
        count,
    })
}

/// The decoding loop of [`beam_search`], out of line: its frame is not on the stack
/// while the encoder runs, nor the encoder's while it runs. The bookkeeping between two
/// steps ([`advance`]) is out of line too: only this loop's few locals are on the stack
/// during a decoder step.
#[inline(never)]
fn decode_beams(
    model: &Model,
    plan: &Plan,
    prefix: &[u32],
    params: &BeamParams,
    session: &mut Session,
    state: &mut BeamState,
) -> Result<()> {
    // Borrowed where it lies, as in `beam_search`.
    let mut carved = DecoderWork::carve(plan, &mut *session.work);
    let work = match &mut carved {
        Ok(work) => work,
        Err(e) => return Err(*e),
    };
    // The forced part of the prefix fills hypothesis 0's cache at positions 0..p-1.
    let (&first, forced) = prefix.split_last().ok_or(Error::EmptySequence)?;
    feed_forced(
        model,
        plan,
        forced,
        &mut session.caches,
        &mut session.act,
        work,
    )?;
    let mut live = 1;
    for step in 0..params.max_len {
        // One decoder step for every live hypothesis.
        let inputs = state.step_inputs(live, step, first)?;
        let position = forced.len().wrapping_add(step);
        let rows = Rows::Hypotheses { position };
        decoder::step(
            model,
            plan,
            inputs,
            rows,
            &mut session.caches,
            &mut session.act,
            work,
            None,
        )?;
        let eos = model.config().eos_id;
        let at = Advance {
            live,
            step,
            position,
            eos,
        };
        live = advance(
            plan,
            params,
            at,
            &mut *work.logits,
            &mut session.caches,
            state,
        )?;
        if live == 0 {
            break;
        }
    }
    Ok(())
}

/// Where the search stands after a decoder step.
#[derive(Clone, Copy)]
struct Advance {
    /// Live hypotheses the step decoded.
    live: usize,
    /// Tokens generated before this step.
    step: usize,
    /// The step's position in the decoder (after the forced prefix).
    position: usize,
    eos: u32,
}

/// The bookkeeping after a decoder step (out of line, see [`decode_beams`]): scores the
/// candidates from the step's logits, finishes the hypotheses that end, and reorders the
/// histories and caches into the new live set. Returns how many hypotheses stay live (0
/// when the search is over).
#[inline(never)]
fn advance(
    plan: &Plan,
    params: &BeamParams,
    at: Advance,
    logits: &mut [f32],
    caches: &mut DecoderCaches,
    state: &mut BeamState,
) -> Result<usize> {
    // `d`: the width of a cached key/value row (`n_kv_heads D / H`).
    let (beam, t, d) = (params.beam, plan.t, plan.kv);
    let Advance {
        live,
        step,
        position,
        eos,
    } = at;
    let BeamState {
        words,
        beams,
        slot_len,
        finished,
        ..
    } = state;
    let mut parts = split(words, *beams, t, *slot_len)?;
    let count = collect_candidates(parts.candidates, parts.live_scores, logits, live, plan.v)?;

    // Walk the candidates: eos in the top B finishes, others fill the new live set.
    let mut next_live = 0;
    for rank in 0..count {
        let Some(&c) = parts.candidates.get(rank) else {
            break;
        };
        if next_live == beam {
            break;
        }
        if c.token == eos {
            if rank < beam {
                let score = c.score / length_penalty(step.wrapping_add(1), params.alpha);
                finish(
                    &mut parts,
                    finished,
                    t,
                    c.beam as usize,
                    step,
                    Some(eos),
                    score,
                );
            }
        } else {
            // The walk has read every live score it needs: overwrite in place.
            let slots = (
                parts.parents.get_mut(next_live),
                parts.step_tokens.get_mut(next_live),
                parts.live_scores.get_mut(next_live),
            );
            if let (Some(parent), Some(token), Some(score)) = slots {
                (*parent, *token, *score) = (c.beam, c.token, c.score);
            }
            next_live = next_live.wrapping_add(1);
        }
    }
    if finished.total >= beam || next_live == 0 {
        return Ok(0);
    }

    // The new live set: reorder histories and caches in place, append the tokens.
    let parents = parts.parents.get(..next_live).unwrap_or(&[]);
    gather_in_place(
        parts.live_tokens,
        t,
        step,
        parents,
        parts.reorder,
        parts.token_temp,
    )?;
    // Wrapping, which cannot wrap (see `span`): cache sizes the plan validated.
    let layer_len = beam.wrapping_mul(t).wrapping_mul(d);
    let used = position.wrapping_add(1).wrapping_mul(d);
    for cache in [&mut *caches.self_k, &mut *caches.self_v] {
        let cache: &mut [u32] = bytemuck::must_cast_slice_mut(cache);
        for layer in cache.chunks_exact_mut(layer_len.max(1)).take(plan.ld) {
            let stride = t.wrapping_mul(d);
            gather_in_place(layer, stride, used, parents, parts.reorder, parts.slot_temp)?;
        }
    }
    let rows = parts.live_tokens.chunks_exact_mut(t.max(1));
    for (row, &token) in rows.zip(parts.step_tokens.iter()).take(next_live) {
        if let Some(slot) = row.get_mut(step) {
            *slot = token;
        }
    }

    // Out of length: every live hypothesis finishes, normalised by its length.
    if step.wrapping_add(1) == params.max_len {
        let penalty = length_penalty(params.max_len, params.alpha);
        for i in 0..next_live {
            let score = parts.live_scores.get(i).copied().unwrap_or(f32::NAN);
            finish(
                &mut parts,
                finished,
                t,
                i,
                params.max_len,
                None,
                score / penalty,
            );
        }
        return Ok(0);
    }
    Ok(next_live)
}

/// In place, for each `i < parents.len()`: slot `i` := old slot `parents[i]`, where a slot
/// is `stride` elements of `buf` of which the first `used` matter (f32 caches go through
/// as their bits: one copy of this code).
///
/// Several new slots may share a parent and parents may form cycles, so a slot is
/// overwritten only once nothing still needs its old content; a cycle is broken by
/// parking one slot in `temp`. `work` is `[>= parents.len()]`.
fn gather_in_place(
    buf: &mut [u32],
    stride: usize,
    used: usize,
    parents: &[u32],
    work: &mut [u32],
    temp: &mut [u32],
) -> Result<()> {
    const PARKED: u32 = u32::MAX;
    let n = parents.len();
    let slots = buf.len() / stride.max(1);
    let (Some(work), Some(temp)) = (work.get_mut(..n), temp.get_mut(..used)) else {
        return Err(Error::SizeOverflow);
    };
    if used > stride || n > slots || parents.iter().any(|&p| p as usize >= slots) {
        return Err(Error::SizeOverflow);
    }
    copy(work, parents);
    let is_pending = |work: &[u32], i: usize| work.get(i).is_some_and(|&w| w != i as u32);
    loop {
        let mut pending = false;
        let mut progressed = false;
        for i in 0..n {
            if !is_pending(work, i) {
                continue; // done, or already in place
            }
            pending = true;
            let still_needed = work
                .iter()
                .enumerate()
                .any(|(j, &w)| j != i && w == i as u32);
            if still_needed {
                continue;
            }
            let source = work.get(i).copied().unwrap_or(i as u32);
            if source == PARKED {
                if let Some(dst) = buf.get_mut(span(i, stride, used)) {
                    copy(dst, temp);
                }
            } else {
                copy_slot(buf, source as usize, i, stride, used);
            }
            if let Some(w) = work.get_mut(i) {
                *w = i as u32;
            }
            progressed = true;
        }
        if !pending {
            return Ok(());
        }
        if !progressed {
            // Only cycles remain: park the first pending slot and redirect its readers.
            let Some(i) = (0..n).find(|&i| is_pending(work, i)) else {
                return Ok(());
            };
            if let Some(src) = buf.get(span(i, stride, used)) {
                copy(temp, src);
            }
            for (j, w) in work.iter_mut().enumerate() {
                if j != i && *w == i as u32 {
                    *w = PARKED;
                }
            }
        }
    }
}

/// The first `len` elements of row `row` of rows `width` long: `row * width ..
/// row * width + len`, in wrapping arithmetic. It cannot wrap (the plan's sizes, validated
/// at load, keep every buffer's length far below `usize::MAX`), and a wrapped range would
/// only miss the buffer (`get` is `None`), never reach outside it; overflow-checked
/// builds get no panic path from it.
#[inline(always)]
fn span(row: usize, width: usize, len: usize) -> core::ops::Range<usize> {
    let start = row.wrapping_mul(width);
    start..start.wrapping_add(len)
}

/// `dst[i] = src[i]` over the shorter of the two, element by element: the compiler
/// fence keeps the loop from becoming a `memcpy` call (0.9 KiB of firmware code that
/// nothing else links) and emits no instruction.
#[inline(never)]
fn copy(dst: &mut [u32], src: &[u32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s;
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
    }
}

/// Copies the first `used` elements of slot `from` over slot `to` (distinct slots).
fn copy_slot(buf: &mut [u32], from: usize, to: usize, stride: usize, used: usize) {
    let (low, high) = (from.min(to), from.max(to));
    if low == high {
        return;
    }
    let Some((head, tail)) = buf.split_at_mut_checked(high.wrapping_mul(stride)) else {
        return;
    };
    let (Some(low_slot), Some(high_slot)) =
        (head.get_mut(span(low, stride, used)), tail.get_mut(..used))
    else {
        return;
    };
    if from < to {
        copy(high_slot, low_slot);
    } else {
        copy(low_slot, high_slot);
    }
}

#[cfg(test)]
mod tests {
    use super::{gather_in_place, insert_sorted, split};
    use crate::config::WeightType;
    use crate::scratch::Plan;

    #[test]
    fn the_state_splits_into_exactly_the_region_the_scratch_formula_counts() {
        let mut words = [0u32; 4096];
        for (beams, t, d) in [(1, 1, 1), (4, 7, 8), (5, 12, 16), (3, 10, 6)] {
            let plan = Plan {
                d,
                kv: d,
                f: 4,
                hidden: 4,
                s: 3,
                t,
                v: 10,
                ld: 2,
                beams,
                rows: beams,
                beam_search: true,
                stem: false,
                #[cfg(all(feature = "conv-stem", feature = "int8"))]
                stem_window: 0,
                weights: WeightType::F32,
            };
            let len = plan.beam_state().unwrap();
            let slot_len = plan.slot_len().unwrap();
            assert!(split(&mut words[..len], beams, t, slot_len).is_ok());
            assert!(split(&mut words[..len - 1], beams, t, slot_len).is_err());
        }
    }

    #[test]
    fn insert_sorted_keeps_ties_in_arrival_order_and_drops_the_worst() {
        let mut list = [(0.0f32, 0u8); 3];
        let key = |e: &(f32, u8)| e.0;
        let mut count = 0;
        for (i, score) in [1.0, 3.0, 1.0, 3.0, 0.5, f32::NAN, 2.0]
            .into_iter()
            .enumerate()
        {
            (count, _) = insert_sorted(&mut list, count, (score, i as u8), key);
        }
        assert_eq!(count, 3);
        assert_eq!(list, [(3.0, 1), (3.0, 3), (2.0, 6)]);
        assert_eq!(insert_sorted(&mut list, 3, (2.0, 9), key), (3, None));
        assert_eq!(insert_sorted(&mut list, 3, (2.5, 9), key), (3, Some(2)));
    }

    fn check(parents: &[u32], slots: usize) {
        let stride = 3;
        let mut buf: [u32; 24] = core::array::from_fn(|i| i as u32);
        let before = buf;
        let mut work = [0u32; 8];
        let mut temp = [0u32; 3];
        gather_in_place(
            &mut buf[..slots * stride],
            stride,
            2,
            parents,
            &mut work,
            &mut temp,
        )
        .unwrap();
        for (i, &p) in parents.iter().enumerate() {
            let p = p as usize;
            assert_eq!(
                buf[i * 3..i * 3 + 2],
                before[p * 3..p * 3 + 2],
                "{parents:?} slot {i}"
            );
        }
    }

    #[test]
    fn gathers_any_parent_mapping_in_place() {
        check(&[0, 1, 2, 3], 4);
        check(&[1, 0], 2);
        check(&[1, 2, 0], 3);
        check(&[0, 0, 0, 0], 4);
        check(&[3, 3, 1, 0], 4);
        check(&[1, 0, 3, 2], 4);
        check(&[2, 2], 4);
        check(&[1, 2, 3, 4, 5, 6, 7, 0], 8);
        check(&[7, 6, 5, 4, 3, 2, 1, 0], 8);
    }
}
