//! Beam search exactly as `docs/spec.md` defines it (Hugging Face's with
//! `early_stopping=True` and the GNMT length penalty `lp(n) = ((5 + n) / 6)^alpha`).

use super::{
    check_prefix_and_max_len, check_source, forced::feed_forced, need_decoder, start, Session,
};
use crate::decoder::{self, DecoderWork, Rows};
use crate::encoder::Source;
use crate::error::{Error, Result};
use crate::model::weights::Model;
use crate::scratch::{Arena, Plan, MAX_BEAM};
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

/// The beam-search state in the scratch buffer (B = beam size, T = max_tgt_len).
struct BeamState<'s> {
    /// T: stride of the token rows.
    t: usize,
    /// `[B, T]` generated tokens of each live hypothesis.
    live_tokens: &'s mut [u32],
    /// `[B]` log-probability of each live hypothesis.
    live_scores: &'s mut [f32],
    /// `[B]` live index each new hypothesis extends.
    parents: &'s mut [u32],
    /// `[B]` working copy of `parents` while reordering.
    reorder: &'s mut [u32],
    /// `[B]` tokens fed at this step, then the tokens chosen for the new live set.
    step_tokens: &'s mut [u32],
    /// `[2B]` the best candidates of this step, best first.
    candidates: &'s mut [Candidate],
    /// `[B, T]` tokens of the best finished hypotheses, best first.
    done_tokens: &'s mut [u32],
    /// `[B]` their scores and lengths.
    done: &'s mut [Done],
    /// How many rows of `done` hold a hypothesis.
    done_stored: usize,
    /// How many hypotheses finished in all (the stopping rule counts them).
    done_total: usize,
    /// `[T]` temporary token row for in-place reordering.
    token_temp: &'s mut [u32],
    /// `[T, D]` temporary cache slot for in-place reordering.
    slot_temp: &'s mut [f32],
}

impl<'s> BeamState<'s> {
    fn carve(plan: &Plan, arena: &mut Arena<'s>) -> Result<Self> {
        let b = Some(plan.beams);
        Ok(BeamState {
            t: plan.t,
            live_tokens: arena.u32s(plan.history_len())?,
            live_scores: arena.f32s(b)?,
            parents: arena.u32s(b)?,
            reorder: arena.u32s(b)?,
            step_tokens: arena.u32s(b)?,
            candidates: arena.slice(plan.beams.checked_mul(2))?,
            done_tokens: arena.u32s(plan.history_len())?,
            done: arena.slice(b)?,
            done_stored: 0,
            done_total: 0,
            token_temp: arena.u32s(Some(plan.t))?,
            slot_temp: arena.f32s(plan.slot_len())?,
        })
    }

    /// The tokens to feed at `step`: the prefix's last token (bos) first, then each live
    /// hypothesis' last token.
    fn step_inputs(&mut self, live: usize, step: usize, start: u32) -> &[u32] {
        let t = self.t;
        for (b, input) in self.step_tokens.iter_mut().take(live).enumerate() {
            *input = match step.checked_sub(1) {
                None => start,
                Some(last) => self.live_tokens.get(b * t + last).copied().unwrap_or(start),
            };
        }
        self.step_tokens.get(..live).unwrap_or(&[])
    }

    /// Scores every (live hypothesis, token) from the logits `[live, V]` (turned into
    /// log-probabilities in place) and keeps the best 2B, sorted. Returns how many.
    fn collect_candidates(&mut self, logits: &mut [f32], live: usize, vocab: usize) -> usize {
        let mut count = 0;
        let rows = logits
            .chunks_exact_mut(vocab.max(1))
            .zip(self.live_scores.iter());
        for (beam, (row, &base)) in rows.take(live).enumerate() {
            k::log_softmax(row);
            for (token, &log_p) in row.iter().enumerate() {
                let candidate = Candidate {
                    score: base + log_p,
                    beam: beam as u32,
                    token: token as u32,
                };
                // Visiting order is (live index, token), so an equal score ranks after
                // the ones already kept: the spec's tie-break.
                (count, _) = insert_sorted(self.candidates, count, candidate, |c| c.score);
            }
        }
        count
    }

    /// Records live hypothesis `parent`'s first `prefix` tokens, then `last` (if any), as
    /// finished with normalised score `score`. Keeps the best B; ties keep finishing order.
    fn finish(&mut self, parent: usize, prefix: usize, last: Option<u32>, score: f32) {
        self.done_total += 1;
        let before = self.done_stored;
        let entry = Done {
            score,
            len: (prefix + usize::from(last.is_some())) as u32,
        };
        let (stored, at) = insert_sorted(self.done, before, entry, |d| d.score);
        self.done_stored = stored;
        let Some(at) = at else {
            return; // not among the best B
        };
        let t = self.t;
        // Move the token rows the same way `insert_sorted` moved the entries.
        let end = before.min(self.done.len().saturating_sub(1));
        let rows = self.done_tokens.get_mut(at * t..(end + 1) * t);
        // `at <= end`, so the window holds at least the one row it rotates by.
        if let Some(rows) = rows.filter(|rows| rows.len() >= t) {
            rows.rotate_right(t);
        }
        let source = self
            .live_tokens
            .get(parent * t..parent * t + prefix)
            .unwrap_or(&[]);
        if let Some(row) = self.done_tokens.get_mut(at * t..(at + 1) * t) {
            for (dst, &src) in row.iter_mut().zip(source) {
                *dst = src;
            }
            if let (Some(slot), Some(token)) = (row.get_mut(prefix), last) {
                *slot = token;
            }
        }
    }
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
    let end = count.min(list.len().saturating_sub(1));
    // `at <= end`, so the window is never empty (the pattern says so to `rotate_right`).
    if let Some(window @ [_, ..]) = list.get_mut(at..=end) {
        window.rotate_right(1);
        if let Some(first) = window.first_mut() {
            *first = item;
        }
    }
    ((count + 1).min(list.len()), Some(at))
}

/// GNMT length penalty `((5 + n) / 6)^alpha` (f32: n is at most 2^20, exact).
fn length_penalty(n: usize, alpha: f32) -> f32 {
    libm::powf((5.0 + n as f32) / 6.0, alpha)
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
    let config = model.config();
    let vocab = config.dims.tgt_vocab;
    let limit = MAX_BEAM.min(vocab.saturating_sub(1));
    if params.beam == 0 || params.beam > limit {
        return Err(Error::BeamSizeOutOfRange {
            beam: params.beam,
            limit,
        });
    }
    if params.top == 0 || params.top > params.beam {
        return Err(Error::TopBeamsOutOfRange {
            top: params.top,
            beam: params.beam,
        });
    }
    if !(params.alpha.is_finite() && params.alpha >= 0.0) {
        return Err(Error::InvalidLengthPenalty);
    }
    let plan = Plan::new(&config.dims, model.dtype(), params.beam, true);
    let (mut session, mut state) = start(model, &plan, source, scratch, None, |arena| {
        BeamState::carve(&plan, arena)
    })?;
    let count = decode_beams(model, &plan, prefix, params, &mut session, &mut state)?;
    Ok(Hypotheses {
        tokens: state.done_tokens,
        done: state.done,
        stride: plan.t,
        count,
    })
}

/// The decoding loop of [`beam_search`], out of line: its frame (the beam bookkeeping)
/// is not on the stack while the encoder runs, nor the encoder's while it runs.
/// Returns how many hypotheses to hand out.
#[inline(never)]
fn decode_beams(
    model: &Model,
    plan: &Plan,
    prefix: &[u32],
    params: &BeamParams,
    session: &mut Session,
    state: &mut BeamState,
) -> Result<usize> {
    let plan = *plan;
    let config = model.config();
    let vocab = config.dims.tgt_vocab;
    let mut work = DecoderWork::carve(&plan, &mut *session.work)?;
    // `d`: the width of a cached key/value row (`n_kv_heads D / H`).
    let (beam, t, d) = (params.beam, plan.t, plan.kv);
    let eos = config.eos_id;
    // The forced part of the prefix fills hypothesis 0's cache at positions 0..p-1.
    let (&first, forced) = prefix.split_last().ok_or(Error::EmptySequence)?;
    feed_forced(
        model,
        &plan,
        forced,
        &mut session.caches,
        &mut session.act,
        &mut work,
    )?;
    let mut live = 1;
    state.live_scores.fill(0.0);
    for step in 0..params.max_len {
        // One decoder step for every live hypothesis.
        let inputs = state.step_inputs(live, step, first);
        let position = forced.len() + step;
        let rows = Rows::Hypotheses { position };
        decoder::step(
            model,
            &plan,
            inputs,
            rows,
            &mut session.caches,
            &mut session.act,
            &mut work,
            None,
        )?;
        let count = state.collect_candidates(work.logits, live, vocab);

        // Walk the candidates: eos in the top B finishes, others fill the new live set.
        let mut next_live = 0;
        for rank in 0..count {
            let Some(&c) = state.candidates.get(rank) else {
                break;
            };
            if next_live == beam {
                break;
            }
            if c.token == eos {
                if rank < beam {
                    let score = c.score / length_penalty(step + 1, params.alpha);
                    state.finish(c.beam as usize, step, Some(eos), score);
                }
            } else {
                // The walk has read every live score it needs: overwrite in place.
                let slots = (
                    state.parents.get_mut(next_live),
                    state.step_tokens.get_mut(next_live),
                    state.live_scores.get_mut(next_live),
                );
                if let (Some(parent), Some(token), Some(score)) = slots {
                    (*parent, *token, *score) = (c.beam, c.token, c.score);
                }
                next_live += 1;
            }
        }
        if state.done_total >= beam || next_live == 0 {
            break;
        }

        // The new live set: reorder histories and caches in place, append the tokens.
        let parents = state.parents.get(..next_live).unwrap_or(&[]);
        let (reorder, token_temp, slot_temp) = (
            &mut *state.reorder,
            &mut *state.token_temp,
            &mut *state.slot_temp,
        );
        gather_in_place(state.live_tokens, t, step, parents, reorder, token_temp)?;
        let layer_len = beam * t * d;
        let used = (position + 1) * d;
        for cache in [&mut *session.caches.self_k, &mut *session.caches.self_v] {
            for layer in cache.chunks_exact_mut(layer_len.max(1)).take(plan.ld) {
                gather_in_place(layer, t * d, used, parents, reorder, slot_temp)?;
            }
        }
        let rows = state.live_tokens.chunks_exact_mut(t.max(1));
        for (row, &token) in rows.zip(state.step_tokens.iter()).take(next_live) {
            if let Some(slot) = row.get_mut(step) {
                *slot = token;
            }
        }
        live = next_live;

        // Out of length: every live hypothesis finishes, normalised by its length.
        if step + 1 == params.max_len {
            let penalty = length_penalty(params.max_len, params.alpha);
            for i in 0..live {
                let score = state.live_scores.get(i).copied().unwrap_or(f32::NAN);
                state.finish(i, params.max_len, None, score / penalty);
            }
        }
    }
    Ok(state.done_stored.min(params.top))
}

/// In place, for each `i < parents.len()`: slot `i` := old slot `parents[i]`, where a slot
/// is `stride` elements of `buf` of which the first `used` matter.
///
/// Several new slots may share a parent and parents may form cycles, so a slot is
/// overwritten only once nothing still needs its old content; a cycle is broken by
/// parking one slot in `temp`. `work` is `[>= parents.len()]`.
fn gather_in_place<T: Copy>(
    buf: &mut [T],
    stride: usize,
    used: usize,
    parents: &[u32],
    work: &mut [u32],
    temp: &mut [T],
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
    for (w, &p) in work.iter_mut().zip(parents) {
        *w = p;
    }
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
            let dst = buf.get_mut(i * stride..i * stride + used);
            if source == PARKED {
                copy(dst, Some(temp));
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
            copy(Some(&mut *temp), buf.get(i * stride..i * stride + used));
            for (j, w) in work.iter_mut().enumerate() {
                if j != i && *w == i as u32 {
                    *w = PARKED;
                }
            }
        }
    }
}

fn copy<T: Copy>(dst: Option<&mut [T]>, src: Option<&[T]>) {
    if let (Some(dst), Some(src)) = (dst, src) {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = s;
        }
    }
}

/// Copies the first `used` elements of slot `from` over slot `to` (distinct slots).
fn copy_slot<T: Copy>(buf: &mut [T], from: usize, to: usize, stride: usize, used: usize) {
    let (low, high) = (from.min(to), from.max(to));
    if low == high {
        return;
    }
    let Some((head, tail)) = buf.split_at_mut_checked(high * stride) else {
        return;
    };
    let low_slot = head.get_mut(low * stride..low * stride + used);
    let high_slot = tail.get_mut(..used);
    if from < to {
        copy(high_slot, low_slot.map(|s| &*s));
    } else {
        copy(low_slot, high_slot.map(|s| &*s));
    }
}

#[cfg(test)]
mod tests {
    use super::{gather_in_place, insert_sorted};

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
