//! `StaticLlama`: a decoder-only model of the llama family whose dimensions are part of
//! its type (feature `llama`).

use crate::config::{Dims, FeedForward};
use crate::encoder::Source;
use crate::error::Result;
use crate::model::Model;
use crate::scratch::{self, Scratch};
use crate::search::{Greedy, SamplingParams, ScoredTokens};
use crate::static_model::{check_blob_is_the_type, WeightElement};

/// A llama-family language model (RMSNorm, rotary positions, SwiGLU, grouped-query
/// attention; `picoformer convert --from llama2c`) whose dimensions are const generics:
/// `D` dim, `H` heads, `KV` key/value heads (`H` a multiple of it), `F` hidden_dim of the
/// SwiGLU network, `L` layers, `V` vocabulary, `T` seq_len, and `W` the element type of
/// the weight matrices (`f32`, [`f16`](crate::f16) or `i8`).
///
/// As [`StaticModel`](crate::StaticModel): the shape rules are checked at compile time,
/// the exact scratch sizes are associated constants and every call takes a
/// [`Scratch<N>`] (too small a buffer does not compile), the weights stay in the blob, and
/// the math is [`Model`]'s. Generation allocates nothing: every buffer is the scratch's or
/// the caller's.
///
/// ```
/// use picoformer::{Scratch, StaticLlama};
/// // stories260K: dim 64, 8 heads over 4 KV heads, hidden 172, 5 layers, vocab 512, seq 512.
/// type Stories260K = StaticLlama<'static, 64, 8, 4, 172, 5, 512, 512>;
/// static mut SCRATCH: Scratch<{ Stories260K::SAMPLE_SCRATCH_BYTES }> = Scratch::new();
/// // The KV cache: 5 layers x 512 positions x (4 x 8) values, keys and values, f32.
/// assert!(Stories260K::GREEDY_SCRATCH_BYTES > 2 * 5 * 512 * 32 * 4);
/// ```
///
/// Key/value heads that do not divide the heads do not compile:
///
/// ```compile_fail
/// # use picoformer::StaticLlama;
/// type Bad = StaticLlama<'static, 64, 8, 3, 172, 5, 512, 512>;
/// # static BLOB: picoformer::Scratch<16> = picoformer::Scratch::new();
/// let _ = Bad::from_blob(&BLOB.0);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct StaticLlama<
    'a,
    const D: usize,
    const H: usize,
    const KV: usize,
    const F: usize,
    const L: usize,
    const V: usize,
    const T: usize,
    W: WeightElement = f32,
> {
    model: Model<'a>,
    weights: core::marker::PhantomData<W>,
}

impl<
        'a,
        const D: usize,
        const H: usize,
        const KV: usize,
        const F: usize,
        const L: usize,
        const V: usize,
        const T: usize,
        W: WeightElement,
    > StaticLlama<'a, D, H, KV, F, L, V, T, W>
{
    /// The dimensions of this type (a decoder of `L` layers, no encoder).
    pub const DIMS: Dims = Dims {
        d_model: D,
        n_heads: H,
        d_ff: F,
        n_encoder_layers: 0,
        n_decoder_layers: L,
        src_vocab: 0,
        tgt_vocab: V,
        max_src_len: 0,
        max_tgt_len: T,
        type_vocab: 0,
        stem_channels: 0,
        n_kv_heads: KV,
        feed_forward: FeedForward::Gated,
        kv_cache: crate::config::CacheType::F32,
    };

    /// Exact scratch bytes of [`greedy`](Self::greedy).
    pub const GREEDY_SCRATCH_BYTES: usize =
        match scratch::greedy_scratch_bytes_for(&Self::DIMS, W::DTYPE) {
            Some(n) => n,
            None => usize::MAX, // cannot be allocated: every call fails to compile
        };

    /// Exact scratch bytes of [`generate`](Self::generate): greedy decoding's and the
    /// nucleus' `[V]` candidates.
    pub const SAMPLE_SCRATCH_BYTES: usize =
        match scratch::sample_scratch_bytes_for(&Self::DIMS, W::DTYPE) {
            Some(n) => n,
            None => usize::MAX,
        };

    /// Validates `blob` (16-byte aligned), its checksums included, and checks its
    /// dimensions and dtype are this type's (`ShapeMismatch` naming the first field that
    /// differs, `WrongDtype`).
    pub fn from_blob(blob: &'a [u8]) -> Result<Self> {
        Self::load(blob, crate::blob::Checksums::Verify)
    }

    /// As [`Self::from_blob`], without the checksums: for an image a bootloader has
    /// already verified ([`Model::from_verified_blob`]).
    pub fn from_verified_blob(blob: &'a [u8]) -> Result<Self> {
        Self::load(blob, crate::blob::Checksums::Trusted)
    }

    fn load(blob: &'a [u8], checksums: crate::blob::Checksums) -> Result<Self> {
        const {
            assert!(
                D > 0 && H > 0 && KV > 0 && F > 0,
                "D, H, KV and F must be non-zero"
            );
            assert!(
                D.is_multiple_of(H),
                "dim (D) must be a multiple of n_heads (H)"
            );
            assert!(
                H.is_multiple_of(KV),
                "n_heads (H) must be a multiple of n_kv_heads (KV)"
            );
            assert!(L > 0, "a model needs layers");
            assert!(V >= 2 && T > 0, "V must be at least 2 and T non-zero");
        }
        let model = Model::load(blob, checksums)?;
        check_blob_is_the_type(&model, &Self::DIMS, W::DTYPE)?;
        Ok(StaticLlama {
            model,
            weights: core::marker::PhantomData,
        })
    }

    /// The runtime-shaped view (same weights, same math).
    pub fn model(&self) -> &Model<'a> {
        &self.model
    }

    /// Greedy generation: feeds `prompt` (bos first, as the model was trained) and writes
    /// up to `steps` generated tokens to `out` (which must hold `steps`), stopping early
    /// at the blob's eos id. `prompt.len() + steps - 1 <= T`.
    pub fn greedy<const N: usize>(
        &self,
        prompt: &[u32],
        steps: usize,
        out: &mut [u32],
        scratch: &mut Scratch<N>,
    ) -> Result<Greedy> {
        const { assert!(N >= Self::GREEDY_SCRATCH_BYTES, "scratch buffer too small") };
        self.model
            .greedy_with(&Source::Tokens(&[]), prompt, steps, out, &mut scratch.0)
    }

    /// Generation with sampling (llama2.c's sampler, [`Model::sample_with`]): as
    /// [`greedy`](Self::greedy), each token drawn with `params`; the same seed gives
    /// the same tokens on every target.
    pub fn generate<const N: usize>(
        &self,
        prompt: &[u32],
        steps: usize,
        params: &SamplingParams,
        out: &mut [u32],
        scratch: &mut Scratch<N>,
    ) -> Result<Greedy> {
        const { assert!(N >= Self::SAMPLE_SCRATCH_BYTES, "scratch buffer too small") };
        self.model.sample_with(
            &Source::Tokens(&[]),
            prompt,
            steps,
            params,
            out,
            &mut scratch.0,
        )
    }

    /// [`generate`](Self::generate) into a `heapless::Vec` of capacity `M` (`steps <= M`,
    /// else `OutputTooSmall`).
    ///
    /// ```no_run
    /// # use picoformer::{SamplingParams, Scratch, StaticLlama};
    /// type Net = StaticLlama<'static, 64, 8, 4, 172, 5, 512, 512>;
    /// # fn run(net: &Net, scratch: &mut Scratch<{ Net::SAMPLE_SCRATCH_BYTES }>) {
    /// let params = SamplingParams { temperature: 1.0, top_p: 0.9, seed: 42 };
    /// let story = net.generate_vec::<32, _>(&[1], 32, &params, scratch);
    /// # }
    /// ```
    pub fn generate_vec<const M: usize, const N: usize>(
        &self,
        prompt: &[u32],
        steps: usize,
        params: &SamplingParams,
        scratch: &mut Scratch<N>,
    ) -> Result<ScoredTokens<M>> {
        ScoredTokens::filled(steps, |out| {
            let run = self.generate(prompt, steps, params, out, scratch)?;
            Ok((run.len, run.score))
        })
    }
}
