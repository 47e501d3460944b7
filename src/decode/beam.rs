//! Beam search exactly as `spec.md` defines it (Hugging Face's with
//! `early_stopping=True` and the GNMT length penalty `lp(n) = ((5 + n) / 6)^alpha`).

use super::{check_max_len, check_source, need_decoder, start};
use crate::decoder::{self, DecoderWork};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::scratch::{Arena, Plan, MAX_BEAM};
use picoformer_kernels as k;

/// Beam-search settings.
#[derive(Debug, Clone, Copy, PartialEq)]
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
pub struct Hypothesis<'s> {
    /// Generated tokens: excluding bos, including eos when it finished with one.
    pub tokens: &'s [u32],
    /// Length-normalised score `log P / lp(n)`.
    pub score: f32,
}

/// The best hypotheses, best first, borrowed from the scratch buffer.
#[derive(Debug)]
pub struct Hypotheses<'s> {
    tokens: &'s [u32],
    lens: &'s [u32],
    scores: &'s [f32],
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
        let len = *self.lens.get(i)? as usize;
        let start = i.checked_mul(self.stride)?;
        Some(Hypothesis {
            tokens: self.tokens.get(start..start.checked_add(len)?)?,
            score: *self.scores.get(i)?,
        })
    }

    /// The hypotheses, best first.
    pub fn iter(&self) -> impl Iterator<Item = Hypothesis<'s>> + '_ {
        (0..self.count).filter_map(move |i| self.get(i))
    }
}

/// The beam-search state in the scratch buffer (B = beam size, T = max_tgt_len).
struct BeamRegions<'s> {
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
    /// `[2B]` best candidates, sorted: score, live index, token.
    cand_scores: &'s mut [f32],
    cand_beams: &'s mut [u32],
    cand_tokens: &'s mut [u32],
    /// `[B, T]` tokens of the best finished hypotheses, sorted by normalised score.
    done_tokens: &'s mut [u32],
    /// `[B]` their lengths.
    done_lens: &'s mut [u32],
    /// `[B]` their normalised scores.
    done_scores: &'s mut [f32],
    /// `[T]` temporary token row for in-place reordering.
    token_temp: &'s mut [u32],
    /// `[T, D]` temporary cache slot for in-place reordering.
    slot_temp: &'s mut [f32],
}

impl<'s> BeamRegions<'s> {
    fn carve(plan: &Plan, arena: &mut Arena<'s>) -> Result<Self> {
        let b = Some(plan.beams);
        let candidates = plan.beams.checked_mul(2);
        Ok(BeamRegions {
            live_tokens: arena.u32s(plan.history_len())?,
            live_scores: arena.f32s(b)?,
            parents: arena.u32s(b)?,
            reorder: arena.u32s(b)?,
            step_tokens: arena.u32s(b)?,
            cand_scores: arena.f32s(candidates)?,
            cand_beams: arena.u32s(candidates)?,
            cand_tokens: arena.u32s(candidates)?,
            done_tokens: arena.u32s(plan.history_len())?,
            done_lens: arena.u32s(b)?,
            done_scores: arena.f32s(b)?,
            token_temp: arena.u32s(Some(plan.t))?,
            slot_temp: arena.f32s(plan.slot_len())?,
        })
    }
}

/// Finished hypotheses: the best `B` kept sorted, plus how many finished in all.
struct Finished<'r, 's> {
    regions: &'r mut BeamRegions<'s>,
    stored: usize,
    total: usize,
}

impl Finished<'_, '_> {
    /// Records live hypothesis `parent`'s first `prefix` tokens plus `last` (if any) as
    /// finished with normalised score `score`; ties keep finishing order.
    fn push(&mut self, plan: &Plan, parent: usize, prefix: usize, last: Option<u32>, score: f32) {
        self.total += 1;
        let r = &mut *self.regions;
        let capacity = plan.beams;
        let at = r.done_scores[..self.stored]
            .iter()
            .take_while(|&&s| s >= score)
            .count();
        if at >= capacity || score.is_nan() {
            return;
        }
        let t = plan.t;
        // Shift the worse entries down one place (the last falls off when full).
        let keep = self.stored.min(capacity - 1);
        for i in (at..keep).rev() {
            r.done_scores[i + 1] = r.done_scores[i];
            r.done_lens[i + 1] = r.done_lens[i];
            r.done_tokens.copy_within(i * t..(i + 1) * t, (i + 1) * t);
        }
        let row = &mut r.done_tokens[at * t..(at + 1) * t];
        row[..prefix].copy_from_slice(&r.live_tokens[parent * t..parent * t + prefix]);
        let mut len = prefix;
        if let Some(token) = last {
            row[prefix] = token;
            len += 1;
        }
        r.done_lens[at] = len as u32;
        r.done_scores[at] = score;
        self.stored = (keep + 1).max(at + 1).min(capacity);
    }
}

/// GNMT length penalty `((5 + n) / 6)^alpha`, in f64, rounded once.
fn length_penalty(n: usize, alpha: f32) -> f32 {
    libm::pow((5.0 + n as f64) / 6.0, f64::from(alpha)) as f32
}

impl<'a> Model<'a> {
    /// Beam search (`spec.md`, "Beam search"). The best `params.top` hypotheses, best
    /// first, are returned as a view into `scratch`, whose size must be at least
    /// [`beam_scratch_bytes`](Self::beam_scratch_bytes)`(params.beam)`.
    ///
    /// The decoder caches of the hypotheses are reordered in place inside `scratch`.
    pub fn beam_search<'s>(
        &self,
        src: &[u32],
        params: &BeamParams,
        scratch: &'s mut [u8],
    ) -> Result<Hypotheses<'s>> {
        need_decoder(self)?;
        check_source(self, src)?;
        check_max_len(self, params.max_len)?;
        let config = *self.config();
        let vocab = config.dims.tgt_vocab;
        let limit = MAX_BEAM.min(vocab - 1);
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
        let plan = Plan::new(&config.dims, params.beam, true);
        let (mut session, mut regions) = start(self, &plan, src, scratch, |arena| {
            BeamRegions::carve(&plan, arena)
        })?;
        let mut work = DecoderWork::carve(&plan, session.work)?;
        let (b_max, t, v, d) = (params.beam, plan.t, vocab, plan.d);
        let eos = config.eos_id;
        let mut finished = Finished {
            regions: &mut regions,
            stored: 0,
            total: 0,
        };
        let mut live = 1;
        finished.regions.live_scores[0] = 0.0;
        for step in 0..params.max_len {
            let r = &mut *finished.regions;
            // Feed each live hypothesis its last token (bos at the first step).
            for b in 0..live {
                r.step_tokens[b] = if step == 0 {
                    config.bos_id
                } else {
                    r.live_tokens[b * t + step - 1]
                };
            }
            let step_tokens = &r.step_tokens[..live];
            decoder::step(
                self,
                &plan,
                step_tokens,
                step,
                &mut session.caches,
                &mut work,
            )?;

            // Candidates: every (live hypothesis, token), keeping the best 2B sorted by
            // score descending, ties by lower live index then lower token (the order in
            // which they are visited, so an equal score goes after the ones already kept).
            let capacity = 2 * b_max;
            let mut count = 0;
            for b in 0..live {
                let row = &mut work.logits[b * v..(b + 1) * v];
                k::log_softmax(row);
                let base = r.live_scores[b];
                for (token, &log_p) in row.iter().enumerate() {
                    let score = base + log_p;
                    if score.is_nan() || (count == capacity && score <= r.cand_scores[count - 1]) {
                        continue;
                    }
                    let at = r.cand_scores[..count]
                        .iter()
                        .take_while(|&&s| s >= score)
                        .count();
                    let end = count.min(capacity - 1);
                    for i in (at..end).rev() {
                        r.cand_scores[i + 1] = r.cand_scores[i];
                        r.cand_beams[i + 1] = r.cand_beams[i];
                        r.cand_tokens[i + 1] = r.cand_tokens[i];
                    }
                    r.cand_scores[at] = score;
                    r.cand_beams[at] = b as u32;
                    r.cand_tokens[at] = token as u32;
                    count = (count + 1).min(capacity);
                }
            }

            // Walk the candidates: eos in the top B finishes, others fill the new live set.
            let mut next_live = 0;
            for rank in 0..count {
                if next_live == b_max {
                    break;
                }
                let r = &mut *finished.regions;
                let (score, parent, token) = (
                    r.cand_scores[rank],
                    r.cand_beams[rank] as usize,
                    r.cand_tokens[rank],
                );
                if token == eos {
                    if rank < b_max {
                        let n = step + 1;
                        let normalised = score / length_penalty(n, params.alpha);
                        finished.push(&plan, parent, step, Some(eos), normalised);
                    }
                } else {
                    r.parents[next_live] = parent as u32;
                    r.step_tokens[next_live] = token;
                    r.live_scores[next_live] = score;
                    next_live += 1;
                }
            }
            if finished.total >= b_max || next_live == 0 {
                break;
            }

            // The new live set: reorder histories and caches in place, append the tokens.
            let r = &mut *finished.regions;
            let parents = &r.parents[..next_live];
            gather_in_place(r.live_tokens, t, step, parents, r.reorder, r.token_temp)?;
            let layer_len = b_max * t * d;
            for layer in 0..plan.ld {
                let range = layer * layer_len..(layer + 1) * layer_len;
                let used = (step + 1) * d;
                for cache in [&mut *session.caches.self_k, &mut *session.caches.self_v] {
                    let slots = cache.get_mut(range.clone()).ok_or(Error::SizeOverflow)?;
                    gather_in_place(slots, t * d, used, parents, r.reorder, r.slot_temp)?;
                }
            }
            for i in 0..next_live {
                r.live_tokens[i * t + step] = r.step_tokens[i];
            }
            live = next_live;

            // Out of length: every live hypothesis finishes, normalised by its length.
            if step + 1 == params.max_len {
                for i in 0..live {
                    let score = finished.regions.live_scores[i];
                    let normalised = score / length_penalty(params.max_len, params.alpha);
                    finished.push(&plan, i, params.max_len, None, normalised);
                }
            }
        }
        let count = finished.stored.min(params.top);
        let BeamRegions {
            done_tokens,
            done_lens,
            done_scores,
            ..
        } = regions;
        Ok(Hypotheses {
            tokens: done_tokens,
            lens: done_lens,
            scores: done_scores,
            stride: t,
            count,
        })
    }
}

/// In place, for each `i < parents.len()`: slot `i` := old slot `parents[i]`, where a slot
/// is `stride` elements of `buf` of which the first `used` matter.
///
/// Several new slots may share a parent and parents may form cycles, so slots are copied
/// only once nothing still needs their old content; a cycle is broken by parking one
/// slot in `temp`. `work` is `[>= parents.len()]`.
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
    let (Some(work), Some(temp)) = (work.get_mut(..n), temp.get_mut(..used)) else {
        return Err(Error::SizeOverflow);
    };
    if used > stride || n.checked_mul(stride).is_none_or(|end| end > buf.len()) {
        return Err(Error::SizeOverflow);
    }
    work.copy_from_slice(parents);
    if work
        .iter()
        .any(|&p| p as usize >= buf.len() / stride.max(1))
    {
        return Err(Error::SizeOverflow);
    }
    loop {
        let mut pending = false;
        let mut progressed = false;
        for i in 0..n {
            let source = work[i];
            if source == i as u32 {
                continue; // done, or already in place
            }
            pending = true;
            let still_needed = (0..n).any(|j| j != i && work[j] == i as u32);
            if still_needed {
                continue;
            }
            let dst = i * stride;
            if source == PARKED {
                buf[dst..dst + used].copy_from_slice(temp);
            } else {
                let src = source as usize * stride;
                buf.copy_within(src..src + used, dst);
            }
            work[i] = i as u32;
            progressed = true;
        }
        if !pending {
            return Ok(());
        }
        if !progressed {
            // Only cycles remain: park the first pending slot and redirect its readers.
            let Some(i) = (0..n).find(|&i| work[i] != i as u32) else {
                return Ok(());
            };
            temp.copy_from_slice(&buf[i * stride..i * stride + used]);
            for (j, w) in work.iter_mut().enumerate() {
                if j != i && *w == i as u32 {
                    *w = PARKED;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::gather_in_place;

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
