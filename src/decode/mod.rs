//! The public entry points: encode, teacher-forced forward, greedy decoding and beam
//! search. Each checks all of its inputs before it writes anything.

mod beam;

pub use beam::{BeamParams, Hypotheses, Hypothesis};

use crate::decoder::{self, DecoderCaches, DecoderWork, Rows};
use crate::encoder::{self, EncoderWork, Source};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::probe::AttentionProbe;
use crate::scratch::{Arena, Plan};
use picoformer_kernels as k;
use picoformer_kernels::Activations;

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
fn check_prefix_and_max_len(model: &Model, prefix: &[u32], max_len: usize) -> Result<()> {
    let dims = &model.config().dims;
    check_tokens(prefix, dims.max_tgt_len, dims.tgt_vocab)?;
    let limit = dims.max_tgt_len + 1 - prefix.len();
    if max_len == 0 || max_len > limit {
        return Err(Error::MaxLenOutOfRange { max_len, limit });
    }
    Ok(())
}

fn need_decoder(model: &Model) -> Result<()> {
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
    /// The int8 activation buffer (empty for f32 and f16 weights).
    pub act: Activations<'s>,
    pub work: &'s mut [f32],
}

/// Carves the scratch (the beam state through `carve_beam`), runs the encoder on the
/// source and precomputes the cross K/V of every decoder layer (`probe`: see
/// [`Model::forward_with_probe`]).
pub(crate) fn start<'s, B>(
    model: &Model,
    plan: &Plan,
    source: &Source,
    scratch: &'s mut [u8],
    probe: Option<&mut AttentionProbe>,
    carve_beam: impl FnOnce(&mut Arena<'s>) -> Result<B>,
) -> Result<(Session<'s>, B)> {
    let mut arena = Arena::new(scratch, plan.total_bytes())?;
    let mut caches = DecoderCaches::carve(plan, &mut arena)?;
    let beam = carve_beam(&mut arena)?;
    let mut act = arena.activations(plan)?;
    let work = arena.f32s(plan.work_len())?;
    if model.config().has_encoder() {
        let mut enc = EncoderWork::carve(plan, &mut *work)?;
        let rows = encoder::encode(model, plan, source, &mut enc, probe, &mut act)?;
        let memory = encoder::prefix(enc.x, rows * plan.d);
        decoder::precompute_cross(model, plan, memory, &mut caches, &mut act)?;
    }
    Ok((Session { caches, act, work }, beam))
}

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

impl<'a> Model<'a> {
    /// Exact scratch bytes of [`greedy`](Self::greedy) (enough for [`encode`](Self::encode)
    /// too).
    pub fn greedy_scratch_bytes(&self) -> Result<usize> {
        crate::scratch::greedy_scratch_bytes_for(&self.config().dims, self.dtype())
            .ok_or(Error::SizeOverflow)
    }

    /// Exact scratch bytes of [`forward`](Self::forward).
    pub fn forward_scratch_bytes(&self) -> Result<usize> {
        crate::scratch::forward_scratch_bytes_for(&self.config().dims, self.dtype())
            .ok_or(Error::SizeOverflow)
    }

    /// Exact scratch bytes of [`encode`](Self::encode).
    pub fn encode_scratch_bytes(&self) -> Result<usize> {
        crate::scratch::encode_scratch_bytes_for(&self.config().dims, self.dtype())
            .ok_or(Error::SizeOverflow)
    }

    /// Exact scratch bytes of [`beam_search`](Self::beam_search) with `beam` hypotheses.
    pub fn beam_scratch_bytes(&self, beam: usize) -> Result<usize> {
        crate::scratch::beam_scratch_bytes_for(&self.config().dims, self.dtype(), beam)
            .ok_or(Error::SizeOverflow)
    }

    /// Runs the encoder on source tokens: `out` `[src.len(), D]` receives the top encoder
    /// output (after the final norm, when configured).
    pub fn encode(&self, src: &[u32], out: &mut [f32], scratch: &mut [u8]) -> Result<()> {
        self.encode_source(&Source::Tokens(src), out, scratch)
            .map(|_| ())
    }

    /// Runs the encoder on any [`Source`] (tokens, vectors, or frames through the stem):
    /// `out` `[n, D]` receives the top encoder output, and `n` is returned. Scratch:
    /// [`encode_scratch_bytes`](Self::encode_scratch_bytes).
    pub fn encode_source(
        &self,
        source: &Source,
        out: &mut [f32],
        scratch: &mut [u8],
    ) -> Result<usize> {
        if !self.config().has_encoder() {
            return Err(Error::WrongArchitecture { needs: "encoder" });
        }
        check_source(self, source)?;
        let d = self.config().dims.d_model;
        let rows = encoder::source_rows(self, source);
        let needed = rows.checked_mul(d).ok_or(Error::SizeOverflow)?;
        if out.len() < needed {
            return Err(Error::OutputTooSmall {
                needed,
                got: out.len(),
            });
        }
        let plan = Plan::encoder_only(&self.config().dims, self.dtype());
        let mut arena = Arena::new(scratch, plan.total_bytes())?;
        let mut act = arena.activations(&plan)?;
        let work = arena.f32s(plan.work_len())?;
        let mut enc = EncoderWork::carve(&plan, work)?;
        encoder::encode(self, &plan, source, &mut enc, None, &mut act)?;
        for (dst, &v) in out.iter_mut().zip(enc.x.iter().take(needed)) {
            *dst = v;
        }
        Ok(rows)
    }

    /// Teacher-forced decoder logits: row `i` of `logits` `[tgt.len(), V]` is the
    /// distribution after reading `tgt[..=i]` (give `tgt` starting with bos).
    pub fn forward(
        &self,
        src: &[u32],
        tgt: &[u32],
        logits: &mut [f32],
        scratch: &mut [u8],
    ) -> Result<()> {
        self.forward_source(&Source::Tokens(src), tgt, logits, scratch, None)
    }

    /// [`forward`](Self::forward) from any [`Source`] (tokens, vectors, or frames through
    /// the stem): e.g. Whisper's logits along a given transcript, for scoring it or
    /// measuring next-token agreement. Scratch:
    /// [`forward_scratch_bytes`](Self::forward_scratch_bytes).
    pub fn forward_with(
        &self,
        source: &Source,
        tgt: &[u32],
        logits: &mut [f32],
        scratch: &mut [u8],
    ) -> Result<()> {
        self.forward_source(source, tgt, logits, scratch, None)
    }

    /// [`forward`](Self::forward) that also copies one attention head's probabilities
    /// into `probe` (a `[rows, columns]` matrix, [`AttentionKind::shape`]). Errors, before
    /// anything is computed or written: the probe's layer or head out of range
    /// (`InvalidConfig`), its matrix too small (`OutputTooSmall`).
    ///
    /// [`AttentionKind::shape`]: crate::AttentionKind::shape
    pub fn forward_with_probe(
        &self,
        src: &[u32],
        tgt: &[u32],
        logits: &mut [f32],
        scratch: &mut [u8],
        probe: Option<&mut AttentionProbe>,
    ) -> Result<()> {
        self.forward_source(&Source::Tokens(src), tgt, logits, scratch, probe)
    }

    /// The teacher-forced decoder behind [`forward`](Self::forward),
    /// [`forward_with`](Self::forward_with) and
    /// [`forward_with_probe`](Self::forward_with_probe).
    fn forward_source(
        &self,
        source: &Source,
        tgt: &[u32],
        logits: &mut [f32],
        scratch: &mut [u8],
        mut probe: Option<&mut AttentionProbe>,
    ) -> Result<()> {
        need_decoder(self)?;
        check_source(self, source)?;
        let dims = &self.config().dims;
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
            let layers = match probe.kind() {
                crate::AttentionKind::EncoderSelf => dims.n_encoder_layers,
                _ => dims.n_decoder_layers,
            };
            let source_rows = encoder::source_rows(self, source);
            probe.start(layers, dims.n_heads, source_rows, tgt.len())?;
        }
        let plan = Plan::forward(dims, self.dtype());
        let (mut session, ()) = start(self, &plan, source, scratch, probe.as_deref_mut(), |_| {
            Ok(())
        })?;
        let mut work = DecoderWork::carve(&plan, session.work)?;
        // Blocks of target positions at once: each reads the decoder weights once.
        // (`Plan::forward` makes `rows >= 1`; `max(1)` shows it to `chunks`.)
        let rows = plan.rows.max(1);
        let mut written = 0;
        for (i, tokens) in tgt.chunks(rows).enumerate() {
            let first = i * rows;
            let at = Rows::Sequence { first };
            let probe = probe.as_deref_mut();
            decoder::step(
                self,
                &plan,
                tokens,
                at,
                &mut session.caches,
                &mut session.act,
                &mut work,
                probe,
            )?;
            let block = encoder::prefix(work.logits, tokens.len() * v);
            let out = logits.get_mut(written..needed).unwrap_or(&mut []);
            for (dst, &src) in out.iter_mut().zip(block.iter()) {
                *dst = src;
            }
            written += block.len();
        }
        Ok(())
    }

    /// Greedy decoding: from bos, append the most likely token (ties: lowest id) until eos
    /// or `max_len` tokens. Writes the tokens (excluding bos, including eos) to `out`,
    /// which must hold `max_len` tokens.
    ///
    /// A step whose logits are all NaN emits eos, so a broken model ends rather than
    /// loops.
    pub fn greedy(
        &self,
        src: &[u32],
        max_len: usize,
        out: &mut [u32],
        scratch: &mut [u8],
    ) -> Result<Greedy> {
        let bos = self.config().bos_id;
        self.greedy_with(&Source::Tokens(src), &[bos], max_len, out, scratch)
    }

    /// Greedy decoding from any [`Source`], starting from the decoder `prefix` instead of
    /// `[bos]` (e.g. Whisper's `<|startoftranscript|><|en|><|transcribe|><|notimestamps|>`).
    /// The prefix is fed at positions `0..p`; `out` receives the generated tokens only, and
    /// `prefix.len() + max_len - 1 <= max_tgt_len`. Otherwise as [`greedy`](Self::greedy).
    pub fn greedy_with(
        &self,
        source: &Source,
        prefix: &[u32],
        max_len: usize,
        out: &mut [u32],
        scratch: &mut [u8],
    ) -> Result<Greedy> {
        need_decoder(self)?;
        check_source(self, source)?;
        check_prefix_and_max_len(self, prefix, max_len)?;
        if out.len() < max_len {
            return Err(Error::OutputTooSmall {
                needed: max_len,
                got: out.len(),
            });
        }
        let config = self.config();
        let plan = Plan::new(&config.dims, self.dtype(), 1, false);
        let (mut session, ()) = start(self, &plan, source, scratch, None, |_| Ok(()))?;
        let mut work = DecoderWork::carve(&plan, session.work)?;
        let (&last, forced) = prefix.split_last().ok_or(Error::EmptySequence)?;
        feed_forced(
            self,
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
                self,
                &plan,
                input,
                rows,
                &mut session.caches,
                &mut session.act,
                &mut work,
                None,
            )?;
            let logits = encoder::prefix(work.logits, plan.v);
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
}
