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
use crate::search::{self, BeamParams, Greedy, Hypotheses, SamplingParams};

impl<'a> Model<'a> {
    /// Exact scratch bytes of [`greedy`](Self::greedy) (enough for [`encode`](Self::encode)
    /// too).
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
        search::forward(self, &Source::Tokens(src), tgt, logits, scratch, probe)
    }

    /// Greedy decoding: from bos, append the most likely token (ties: lowest id) until eos
    /// or `max_len` tokens. Writes the tokens (excluding bos, including eos) to `out`,
    /// which must hold `max_len` tokens.
    ///
    /// A step whose logits hold NaN or `+inf`, or are all `-inf` (a broken model), is
    /// [`Error::NonFiniteLogits`]: no answer is made up from them.
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
    pub fn sample_with(
        &self,
        source: &Source,
        prefix: &[u32],
        max_len: usize,
        params: &SamplingParams,
        out: &mut [u32],
        scratch: &mut [u8],
    ) -> Result<Greedy> {
        search::sample(self, source, prefix, max_len, params, out, scratch)
    }

    /// Beam search (`docs/spec.md`, "Beam search"). The best `params.top` hypotheses, best
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
        let bos = self.config().bos_id;
        search::beam_search(self, &Source::Tokens(src), &[bos], params, scratch)
    }

    /// Beam search from any [`Source`], starting from the decoder `prefix` instead of
    /// `[bos]`: the live set starts as `{(prefix, 0)}`; hypotheses hold (and the length
    /// penalty counts) the generated tokens only, and
    /// `prefix.len() + params.max_len - 1 <= max_tgt_len`.
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
