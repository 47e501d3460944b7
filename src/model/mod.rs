//! `Model`'s public entry points: encode, teacher-forced forward, greedy decoding and beam
//! search, each a thin call into `crate::search`, and the exact scratch sizes they need.
//! The type itself, the validated blob it reads in place and the per-layer weight views
//! are in `weights.rs`, which the layer and search code import: this module sits on top
//! of them, so no import runs back to it.

pub(crate) mod weights;

pub use weights::Model;

use crate::encoder::Source;
use crate::error::{Error, Result};
use crate::probe::AttentionProbe;
use crate::scratch::Plan;
use crate::search::{self, BeamParams, Greedy, Hypotheses, SamplingParams};

impl<'a> Model<'a> {
    /// Exact scratch bytes of [`greedy`](Self::greedy) (enough for [`encode`](Self::encode)
    /// too).
    ///
    /// # Example
    ///
    /// ```
    /// # #[repr(C, align(16))] struct Aligned<T: ?Sized>(T);
    /// # static BLOB: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/dates/dates.pfm")));
    /// # fn main() -> Result<(), picoformer::Error> {
    /// use picoformer::{dates, Model, Scratch};
    /// // The bundled date model (phrase characters in, ISO date characters out).
    /// let model = Model::from_blob(&BLOB.0)?;
    /// let mut src = [0u32; 48];
    /// let n = dates::encode_source("11/28/26", &mut src)?;
    /// let src = &src[..n];
    /// assert_eq!(model.greedy_scratch_bytes()?, 65_728);
    /// assert_eq!(model.beam_scratch_bytes(4)?, 86_320);
    /// let _ = src;
    /// # Ok(()) }
    /// ```
    pub fn greedy_scratch_bytes(&self) -> Result<usize> {
        crate::scratch::greedy_scratch_bytes_for(&self.config().dims, self.dtype())
            .ok_or(Error::SizeOverflow)
    }

    /// Exact scratch bytes of [`sample_with`](Self::sample_with).
    pub fn sample_scratch_bytes(&self) -> Result<usize> {
        crate::scratch::sample_scratch_bytes_for(&self.config().dims, self.dtype())
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
    ///
    /// Errors, before any size is computed, for a beam the search refuses: a model without
    /// decoder (`WrongArchitecture`), `beam` 0, above [`MAX_BEAM`](crate::MAX_BEAM) or not
    /// below the target vocabulary (`BeamSizeOutOfRange`). A caller allocating the scratch
    /// thus never allocates for a beam it cannot use.
    pub fn beam_scratch_bytes(&self, beam: usize) -> Result<usize> {
        search::need_decoder(self)?;
        search::check_beam_size(self, beam)?;
        crate::scratch::beam_scratch_bytes_for(&self.config().dims, self.dtype(), beam)
            .ok_or(Error::SizeOverflow)
    }

    /// Exact scratch bytes of [`forward`](Self::forward) (and its `_with` variants) over
    /// `tgt_len` target tokens: the caches hold those positions, not `max_tgt_len`. Never
    /// above [`forward_scratch_bytes`](Self::forward_scratch_bytes), equal at
    /// `max_tgt_len`. Errors for no decoder (`WrongArchitecture`), `tgt_len` 0
    /// (`EmptySequence`) or above `max_tgt_len` (`SequenceTooLong`).
    pub fn forward_scratch_bytes_for_len(&self, tgt_len: usize) -> Result<usize> {
        search::need_decoder(self)?;
        let max = self.config().dims.max_tgt_len;
        if tgt_len == 0 {
            return Err(Error::EmptySequence);
        }
        if tgt_len > max {
            return Err(Error::SequenceTooLong { len: tgt_len, max });
        }
        Plan::forward_for(&self.config().dims, self.dtype(), tgt_len)
            .total_bytes()
            .ok_or(Error::SizeOverflow)
    }

    /// Exact scratch bytes of [`greedy`](Self::greedy) (and
    /// [`greedy_with`](Self::greedy_with)) for one request: a decoder prefix of
    /// `prefix_len` tokens (1 for bos) and at most `max_len` generated tokens. The caches
    /// are sized for the `prefix_len + max_len - 1` positions the request feeds, not for
    /// `max_tgt_len`: a host asking for 20 tokens of a model that allows a million
    /// allocates for 20. Never above [`greedy_scratch_bytes`](Self::greedy_scratch_bytes).
    ///
    /// Errors, before any size is computed, for a request the search refuses: no decoder
    /// (`WrongArchitecture`), `prefix_len` 0 (`EmptySequence`) or above `max_tgt_len`
    /// (`SequenceTooLong`), `max_len` out of range (`MaxLenOutOfRange`).
    ///
    /// ```
    /// # #[repr(C, align(16))] struct Aligned<T: ?Sized>(T);
    /// # static BLOB: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/dates/dates.pfm")));
    /// # fn main() -> Result<(), picoformer::Error> {
    /// let model = picoformer::Model::from_blob(&BLOB.0)?;
    /// let short = model.greedy_scratch_bytes_for_len(1, 4)?;
    /// assert!(short < model.greedy_scratch_bytes()?);
    /// # Ok(()) }
    /// ```
    pub fn greedy_scratch_bytes_for_len(&self, prefix_len: usize, max_len: usize) -> Result<usize> {
        search::need_decoder(self)?;
        self.decoding_plan_for_len(1, false, prefix_len, max_len)?
            .total_bytes()
            .ok_or(Error::SizeOverflow)
    }

    /// Exact scratch bytes of [`sample_with`](Self::sample_with) for one request, as
    /// [`greedy_scratch_bytes_for_len`](Self::greedy_scratch_bytes_for_len).
    pub fn sample_scratch_bytes_for_len(&self, prefix_len: usize, max_len: usize) -> Result<usize> {
        search::need_decoder(self)?;
        self.decoding_plan_for_len(1, false, prefix_len, max_len)?
            .sample_total_bytes()
            .ok_or(Error::SizeOverflow)
    }

    /// Exact scratch bytes of [`beam_search`](Self::beam_search) (and
    /// [`beam_search_with`](Self::beam_search_with)) with `beam` hypotheses for one
    /// request, sized as [`greedy_scratch_bytes_for_len`](Self::greedy_scratch_bytes_for_len)
    /// for its positions. Errors as [`beam_scratch_bytes`](Self::beam_scratch_bytes) and
    /// [`greedy_scratch_bytes_for_len`](Self::greedy_scratch_bytes_for_len).
    pub fn beam_scratch_bytes_for_len(
        &self,
        beam: usize,
        prefix_len: usize,
        max_len: usize,
    ) -> Result<usize> {
        search::need_decoder(self)?;
        search::check_beam_size(self, beam)?;
        self.decoding_plan_for_len(beam, true, prefix_len, max_len)?
            .total_bytes()
            .ok_or(Error::SizeOverflow)
    }

    /// The scratch plan of one decoding request of a checked decoder model, for the
    /// `*_scratch_bytes_for_len` queries: errors as
    /// [`greedy_scratch_bytes_for_len`](Self::greedy_scratch_bytes_for_len) for lengths
    /// the search refuses.
    fn decoding_plan_for_len(
        &self,
        beam: usize,
        is_beam: bool,
        prefix_len: usize,
        max_len: usize,
    ) -> Result<Plan> {
        search::check_lengths(self, prefix_len, max_len)?;
        Ok(Plan::decoding(
            &self.config().dims,
            self.dtype(),
            beam,
            is_beam,
            prefix_len,
            max_len,
        ))
    }

    /// Checks a decoding call's decoder prefix (bos, or a longer forced start) and
    /// `max_len` by the rule of [`greedy`](Self::greedy), [`beam_search`](Self::beam_search)
    /// and [`sample_with`](Self::sample_with) (`prefix.len() + max_len - 1 <= max_tgt_len`),
    /// so that a caller can refuse a request before allocating its `max_len` output.
    pub fn check_decoding(&self, prefix: &[u32], max_len: usize) -> Result<()> {
        search::need_decoder(self)?;
        search::check_prefix_and_max_len(self, prefix, max_len)
    }

    /// Runs the encoder on source tokens: `out` `[src.len(), D]` receives the top encoder
    /// output (after the final norm, when configured).
    ///
    /// # Example
    ///
    /// ```
    /// # #[repr(C, align(16))] struct Aligned<T: ?Sized>(T);
    /// # static BLOB: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/dates/dates.pfm")));
    /// # fn main() -> Result<(), picoformer::Error> {
    /// use picoformer::{dates, Model, Scratch};
    /// // The bundled date model (phrase characters in, ISO date characters out).
    /// let model = Model::from_blob(&BLOB.0)?;
    /// let mut src = [0u32; 48];
    /// let n = dates::encode_source("11/28/26", &mut src)?;
    /// let src = &src[..n];
    /// let d = model.config().dims.d_model;
    /// let mut out = vec![0f32; src.len() * d];
    /// let mut scratch = Scratch::<{ 96 * 1024 }>::new(); // at least model.encode_scratch_bytes()
    /// model.encode(src, &mut out, scratch.as_bytes_mut())?;
    /// assert!(out.iter().all(|x| x.is_finite()));
    /// # Ok(()) }
    /// ```
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
        search::encode(self, source, out, scratch)
    }

    /// Teacher-forced decoder logits: row `i` of `logits` `[tgt.len(), V]` is the
    /// distribution after reading `tgt[..=i]` (give `tgt` starting with bos).
    ///
    /// # Example
    ///
    /// ```
    /// # #[repr(C, align(16))] struct Aligned<T: ?Sized>(T);
    /// # static BLOB: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/dates/dates.pfm")));
    /// # fn main() -> Result<(), picoformer::Error> {
    /// use picoformer::{dates, Model, Scratch};
    /// // The bundled date model (phrase characters in, ISO date characters out).
    /// let model = Model::from_blob(&BLOB.0)?;
    /// let mut src = [0u32; 48];
    /// let n = dates::encode_source("11/28/26", &mut src)?;
    /// let src = &src[..n];
    /// // Teacher forcing: bos, then the first characters of the answer "2026-11-28".
    /// let tgt = [model.config().bos_id, dates::target_id('2').unwrap(), dates::target_id('0').unwrap()];
    /// let vocab = model.config().dims.tgt_vocab;
    /// let mut logits = vec![0f32; tgt.len() * vocab];
    /// let mut scratch = Scratch::<{ 96 * 1024 }>::new(); // at least model.forward_scratch_bytes()
    /// model.forward(src, &tgt, &mut logits, scratch.as_bytes_mut())?;
    /// // After "2", the model's most likely next character is "0".
    /// let row = &logits[vocab..2 * vocab];
    /// let best = (0..vocab).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
    /// assert_eq!(dates::target_char(best as u32), Some('0'));
    /// # Ok(()) }
    /// ```
    pub fn forward(
        &self,
        src: &[u32],
        tgt: &[u32],
        logits: &mut [f32],
        scratch: &mut [u8],
    ) -> Result<()> {
        search::forward(self, &Source::Tokens(src), tgt, logits, scratch, None)
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
        search::forward(self, source, tgt, logits, scratch, None)
    }

    /// [`forward`](Self::forward) that also copies one attention head's probabilities
    /// into `probe` (a `[rows, columns]` matrix, [`AttentionKind::shape`]). Errors, before
    /// anything is computed or written: the probe's layer or head out of range
    /// (`InvalidConfig`), its matrix too small (`OutputTooSmall`), a decoder self-attention
    /// probe on a llama-family model, whose attention it cannot record yet
    /// (`WrongArchitecture`).
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
        search::forward(self, &Source::Tokens(src), tgt, logits, scratch, probe)
    }

    /// Greedy decoding: from bos, append the most likely token (ties: lowest id) until eos
    /// or `max_len` tokens. Writes the tokens (excluding bos, including eos) to `out`,
    /// which must hold `max_len` tokens.
    ///
    /// A step whose logits hold NaN or `+inf`, or are all `-inf` (a broken model), is
    /// [`Error::NonFiniteLogits`]: no answer is made up from them.
    ///
    /// # Example
    ///
    /// ```
    /// # #[repr(C, align(16))] struct Aligned<T: ?Sized>(T);
    /// # static BLOB: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/dates/dates.pfm")));
    /// # fn main() -> Result<(), picoformer::Error> {
    /// use picoformer::{dates, Model, Scratch};
    /// // The bundled date model (phrase characters in, ISO date characters out).
    /// let model = Model::from_blob(&BLOB.0)?;
    /// let mut src = [0u32; 48];
    /// let n = dates::encode_source("11/28/26", &mut src)?;
    /// let src = &src[..n];
    /// let mut out = [0u32; 12];
    /// let mut scratch = Scratch::<{ 96 * 1024 }>::new(); // at least model.greedy_scratch_bytes()
    /// let greedy = model.greedy(src, dates::MAX_TOKENS, &mut out, scratch.as_bytes_mut())?;
    /// let date = dates::IsoDate::from_tokens(&out[..greedy.len]);
    /// assert_eq!(date.as_str(), "2026-11-28");
    /// # Ok(()) }
    /// ```
    pub fn greedy(
        &self,
        src: &[u32],
        max_len: usize,
        out: &mut [u32],
        scratch: &mut [u8],
    ) -> Result<Greedy> {
        let bos = self.config().bos_id;
        search::greedy(self, &Source::Tokens(src), &[bos], max_len, out, scratch)
    }

    /// Greedy decoding from any [`Source`], starting from the decoder `prefix` instead of
    /// `[bos]` (e.g. Whisper's `<|startoftranscript|><|en|><|transcribe|><|notimestamps|>`).
    /// The prefix is fed at positions `0..p`; `out` receives the generated tokens only, and
    /// `prefix.len() + max_len - 1 <= max_tgt_len`. Otherwise as [`greedy`](Self::greedy).
    ///
    /// # Example
    ///
    /// ```
    /// # #[repr(C, align(16))] struct Aligned<T: ?Sized>(T);
    /// # static BLOB: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/dates/dates.pfm")));
    /// # fn main() -> Result<(), picoformer::Error> {
    /// use picoformer::{dates, Model, Scratch};
    /// // The bundled date model (phrase characters in, ISO date characters out).
    /// let model = Model::from_blob(&BLOB.0)?;
    /// let mut src = [0u32; 48];
    /// let n = dates::encode_source("11/28/26", &mut src)?;
    /// let src = &src[..n];
    /// use picoformer::Source;
    /// // The decoder starts from a forced prefix: bos and the century "20".
    /// let prefix = [model.config().bos_id, dates::target_id('2').unwrap(), dates::target_id('0').unwrap()];
    /// let mut out = [0u32; 12];
    /// let mut scratch = Scratch::<{ 96 * 1024 }>::new();
    /// let greedy = model.greedy_with(&Source::Tokens(src), &prefix, 9, &mut out, scratch.as_bytes_mut())?;
    /// // out holds the generated tokens only: "26-11-28" and eos.
    /// assert_eq!(dates::IsoDate::from_tokens(&out[..greedy.len]).as_str(), "26-11-28");
    /// # Ok(()) }
    /// ```
    pub fn greedy_with(
        &self,
        source: &Source,
        prefix: &[u32],
        max_len: usize,
        out: &mut [u32],
        scratch: &mut [u8],
    ) -> Result<Greedy> {
        search::greedy(self, source, prefix, max_len, out, scratch)
    }

    /// Sampling (`docs/spec.md`, "Sampling"): as [`greedy_with`](Self::greedy_with), each
    /// token drawn from the logits with `params` (temperature 0: greedy decoding); the
    /// same seed gives the same tokens. For a decoder-only language model `source` is
    /// `Source::Tokens(&[])` and `prefix` the prompt. The score is the sum of the chosen
    /// tokens' log-probabilities under the tempered distribution. Scratch:
    /// [`sample_scratch_bytes`](Self::sample_scratch_bytes).
    ///
    /// # Example
    ///
    /// ```
    /// # #[repr(C, align(16))] struct Aligned<T: ?Sized>(T);
    /// # static BLOB: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/dates/dates.pfm")));
    /// # fn main() -> Result<(), picoformer::Error> {
    /// use picoformer::{dates, Model, Scratch};
    /// // The bundled date model (phrase characters in, ISO date characters out).
    /// let model = Model::from_blob(&BLOB.0)?;
    /// let mut src = [0u32; 48];
    /// let n = dates::encode_source("11/28/26", &mut src)?;
    /// let src = &src[..n];
    /// use picoformer::{SamplingParams, Source};
    /// let params = SamplingParams { temperature: 0.8, top_p: 0.9, seed: 42 };
    /// let bos = [model.config().bos_id];
    /// let mut scratch = Scratch::<{ 96 * 1024 }>::new(); // at least model.sample_scratch_bytes()
    /// let mut first = [0u32; 12];
    /// let a = model.sample_with(&Source::Tokens(src), &bos, 11, &params, &mut first, scratch.as_bytes_mut())?;
    /// let mut again = [0u32; 12];
    /// let b = model.sample_with(&Source::Tokens(src), &bos, 11, &params, &mut again, scratch.as_bytes_mut())?;
    /// assert_eq!(first[..a.len], again[..b.len]); // the same seed draws the same tokens
    /// # Ok(()) }
    /// ```
    pub fn sample_with(
        &self,
        source: &Source,
        prefix: &[u32],
        max_len: usize,
        params: &SamplingParams,
        out: &mut [u32],
        scratch: &mut [u8],
    ) -> Result<Greedy> {
        search::sample(
            self,
            source,
            prefix,
            max_len,
            params,
            out,
            scratch,
            &mut |_| {},
        )
    }

    /// [`sample_with`](Self::sample_with), calling `on_token` with each token as soon as
    /// it is chosen (and written to `out`), so that a caller can print a long generation
    /// as it goes.
    // The search's inputs, the output, the scratch and the callback.
    #[allow(clippy::too_many_arguments)]
    pub fn sample_streaming(
        &self,
        source: &Source,
        prefix: &[u32],
        max_len: usize,
        params: &SamplingParams,
        out: &mut [u32],
        scratch: &mut [u8],
        on_token: &mut dyn FnMut(u32),
    ) -> Result<Greedy> {
        search::sample(
            self, source, prefix, max_len, params, out, scratch, on_token,
        )
    }

    /// Beam search (`docs/spec.md`, "Beam search"). The best `params.top` hypotheses, best
    /// first, are returned as a view into `scratch`, whose size must be at least
    /// [`beam_scratch_bytes`](Self::beam_scratch_bytes)`(params.beam)`.
    ///
    /// The decoder caches of the hypotheses are reordered in place inside `scratch`.
    ///
    /// # Example
    ///
    /// ```
    /// # #[repr(C, align(16))] struct Aligned<T: ?Sized>(T);
    /// # static BLOB: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/dates/dates.pfm")));
    /// # fn main() -> Result<(), picoformer::Error> {
    /// use picoformer::{dates, Model, Scratch};
    /// // The bundled date model (phrase characters in, ISO date characters out).
    /// let model = Model::from_blob(&BLOB.0)?;
    /// let mut src = [0u32; 48];
    /// let n = dates::encode_source("11/28/26", &mut src)?;
    /// let src = &src[..n];
    /// use picoformer::BeamParams;
    /// let params = BeamParams { beam: 4, top: 2, alpha: 0.6, max_len: dates::MAX_TOKENS };
    /// let mut scratch = Scratch::<{ 96 * 1024 }>::new(); // at least model.beam_scratch_bytes(4)
    /// let best = model.beam_search(src, &params, scratch.as_bytes_mut())?;
    /// let first = best.get(0).unwrap();
    /// assert_eq!(dates::IsoDate::from_tokens(first.tokens).as_str(), "2026-11-28");
    /// assert!(best.iter().all(|h| h.score <= first.score)); // best first
    /// # Ok(()) }
    /// ```
    pub fn beam_search<'s>(
        &self,
        src: &[u32],
        params: &BeamParams,
        scratch: &'s mut [u8],
    ) -> Result<Hypotheses<'s>> {
        let bos = self.config().bos_id;
        search::beam_search(self, &Source::Tokens(src), &[bos], params, scratch)
    }

    /// Beam search from any [`Source`], starting from the decoder `prefix` instead of
    /// `[bos]`: the live set starts as `{(prefix, 0)}`; hypotheses hold (and the length
    /// penalty counts) the generated tokens only, and
    /// `prefix.len() + params.max_len - 1 <= max_tgt_len`.
    ///
    /// # Example
    ///
    /// ```
    /// # #[repr(C, align(16))] struct Aligned<T: ?Sized>(T);
    /// # static BLOB: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/dates/dates.pfm")));
    /// # fn main() -> Result<(), picoformer::Error> {
    /// use picoformer::{dates, Model, Scratch};
    /// // The bundled date model (phrase characters in, ISO date characters out).
    /// let model = Model::from_blob(&BLOB.0)?;
    /// let mut src = [0u32; 48];
    /// let n = dates::encode_source("11/28/26", &mut src)?;
    /// let src = &src[..n];
    /// use picoformer::{BeamParams, Source};
    /// let prefix = [model.config().bos_id, dates::target_id('2').unwrap()];
    /// let params = BeamParams { beam: 4, top: 1, alpha: 0.0, max_len: 10 };
    /// let mut scratch = Scratch::<{ 96 * 1024 }>::new();
    /// let best = model.beam_search_with(&Source::Tokens(src), &prefix, &params, scratch.as_bytes_mut())?;
    /// // Hypotheses hold the generated tokens only, after the prefix.
    /// assert_eq!(dates::IsoDate::from_tokens(best.get(0).unwrap().tokens).as_str(), "026-11-28");
    /// # Ok(()) }
    /// ```
    pub fn beam_search_with<'s>(
        &self,
        source: &Source,
        prefix: &[u32],
        params: &BeamParams,
        scratch: &'s mut [u8],
    ) -> Result<Hypotheses<'s>> {
        search::beam_search(self, source, prefix, params, scratch)
    }
}
