//! `StaticModel`: a model whose dimensions are part of its type.

use crate::blob::TensorKind;
use crate::config::{Dims, WeightType};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::scratch::{self, Scratch};
use crate::search::{BeamParams, Greedy, Hypotheses, ScoredTokens};

/// The element type of a static model's weight matrices: `f32` (the default),
/// [`f16`](crate::f16), or `i8` (int8 with a scale per output row).
pub trait WeightElement: sealed::Sealed + Copy + core::fmt::Debug + 'static {
    /// The blob dtype of this element type.
    const DTYPE: WeightType;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for crate::f16 {}
    impl Sealed for i8 {}
}

impl WeightElement for f32 {
    const DTYPE: WeightType = WeightType::F32;
}

impl WeightElement for crate::f16 {
    const DTYPE: WeightType = WeightType::F16;
}

impl WeightElement for i8 {
    const DTYPE: WeightType = WeightType::I8;
}

/// A model whose dimensions are const generics: `D` d_model, `H` heads, `F` d_ff, `LE`/`LD`
/// encoder/decoder layers, `SV`/`TV` source/target vocabulary, `S`/`T` longest
/// source/target sequence. (No token-type embedding and no convolution stem: models
/// with those use [`Model`].)
///
/// - The shape rules (`D % H == 0`, …) are checked at compile time.
/// - The exact scratch sizes are associated constants, and every method takes a
///   [`Scratch<N>`]: a buffer too small for the model is a compile error.
/// - The weights stay where the blob is (flash); [`Self::from_blob`] only validates them
///   and checks that the blob's dimensions are the type's.
/// - The math is [`Model`]'s: there is one implementation of every layer.
/// - `W` is the element type of the weight matrices (`f32` by default, [`f16`](crate::f16)
///   or `i8`); [`Self::from_blob`] refuses a blob of another dtype, and the scratch sizes
///   include the int8 activation buffer for `i8`.
///
/// ```
/// use picoformer::{Scratch, StaticModel};
/// // The paper's base shape with a small vocabulary.
/// type Base = StaticModel<'static, 512, 8, 2048, 6, 6, 8000, 8000, 32, 32>;
/// static mut SCRATCH: Scratch<{ Base::GREEDY_SCRATCH_BYTES }> = Scratch::new();
/// assert!(Base::GREEDY_SCRATCH_BYTES > 2 * 6 * 32 * 512 * 4);
/// ```
///
/// A scratch buffer that is too small does not compile:
///
/// ```compile_fail
/// # use picoformer::{Scratch, StaticModel};
/// type Small = StaticModel<'static, 64, 4, 256, 2, 2, 61, 67, 24, 16>;
/// fn run(model: &Small) {
///     let mut scratch = Scratch::<1024>::new(); // far below Small::GREEDY_SCRATCH_BYTES
///     let mut out = [0u32; 16];
///     let _ = model.greedy(&[5, 6], 16, &mut out, &mut scratch);
/// }
/// # static BLOB: Scratch<16> = Scratch::new();
/// if let Ok(model) = Small::from_blob(&BLOB.0) {
///     run(&model);
/// }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct StaticModel<
    'a,
    const D: usize,
    const H: usize,
    const F: usize,
    const LE: usize,
    const LD: usize,
    const SV: usize,
    const TV: usize,
    const S: usize,
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
        const F: usize,
        const LE: usize,
        const LD: usize,
        const SV: usize,
        const TV: usize,
        const S: usize,
        const T: usize,
        W: WeightElement,
    > StaticModel<'a, D, H, F, LE, LD, SV, TV, S, T, W>
{
    /// The dimensions of this type.
    pub const DIMS: Dims = Dims {
        d_model: D,
        n_heads: H,
        d_ff: F,
        n_encoder_layers: LE,
        n_decoder_layers: LD,
        src_vocab: SV,
        tgt_vocab: TV,
        max_src_len: S,
        max_tgt_len: T,
        type_vocab: 0,
        stem_channels: 0,
        // (Multi-head attention and the plain feed-forward network; llama-shaped blobs
        // are `StaticLlama`'s and refused here with `ShapeMismatch`.)
        n_kv_heads: H,
        feed_forward: crate::config::FeedForward::Plain,
        kv_cache: crate::config::CacheType::F32,
    };

    /// Exact scratch bytes of `encode`.
    pub const ENCODE_SCRATCH_BYTES: usize =
        match scratch::encode_scratch_bytes_for(&Self::DIMS, W::DTYPE) {
            Some(n) => n,
            None => usize::MAX,
        };

    /// Exact scratch bytes of `forward`.
    pub const FORWARD_SCRATCH_BYTES: usize =
        match scratch::forward_scratch_bytes_for(&Self::DIMS, W::DTYPE) {
            Some(n) => n,
            None => usize::MAX,
        };

    /// Exact scratch bytes of `greedy`.
    pub const GREEDY_SCRATCH_BYTES: usize =
        match scratch::greedy_scratch_bytes_for(&Self::DIMS, W::DTYPE) {
            Some(n) => n,
            None => usize::MAX, // cannot be allocated: every call fails to compile
        };

    /// Exact scratch bytes of `beam_search` with beam size `beam` (`usize::MAX`, which no
    /// buffer can satisfy, when `beam` is 0 or above [`MAX_BEAM`](crate::MAX_BEAM) or the
    /// size overflows).
    pub const fn beam_scratch_bytes(beam: usize) -> usize {
        match scratch::beam_scratch_bytes_for(&Self::DIMS, W::DTYPE, beam) {
            Some(n) => n,
            None => usize::MAX,
        }
    }

    /// Validates `blob` (16-byte aligned), its checksums included, and checks its
    /// dimensions are this type's.
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
            assert!(D > 0 && H > 0 && F > 0, "D, H and F must be non-zero");
            assert!(
                D.is_multiple_of(H),
                "d_model (D) must be a multiple of n_heads (H)"
            );
            assert!(LE + LD > 0, "a model needs encoder or decoder layers");
            assert!(
                LE == 0 || (SV > 0 && S > 0),
                "an encoder needs SV > 0 and S > 0"
            );
            assert!(
                LD == 0 || (TV >= 2 && T > 0),
                "a decoder needs TV >= 2 and T > 0"
            );
        }
        let model = Model::load(blob, checksums)?;
        check_blob_is_the_type(&model, &Self::DIMS, W::DTYPE)?;
        Ok(StaticModel {
            model,
            weights: core::marker::PhantomData,
        })
    }

    /// The runtime-shaped view (same weights, same math).
    pub fn model(&self) -> &Model<'a> {
        &self.model
    }

    /// The source embedding matrix `[SV][D]`, in place in the blob (`None` without encoder).
    pub fn src_embedding(&self) -> Option<&'a [[f32; D]; SV]> {
        let (rows, _) = self.model.global(TensorKind::SrcEmbed)?.as_chunks::<D>();
        rows.try_into().ok()
    }

    /// The target embedding matrix `[TV][D]`, in place in the blob (`None` without decoder).
    pub fn tgt_embedding(&self) -> Option<&'a [[f32; D]; TV]> {
        let (rows, _) = self.model.global(TensorKind::TgtEmbed)?.as_chunks::<D>();
        rows.try_into().ok()
    }

    /// [`Model::encode`] into `out` `[S][D]` (rows past `src.len()` are left untouched).
    pub fn encode<const N: usize>(
        &self,
        src: &[u32],
        out: &mut [[f32; D]; S],
        scratch: &mut Scratch<N>,
    ) -> Result<()> {
        const { assert!(N >= Self::ENCODE_SCRATCH_BYTES, "scratch buffer too small") };
        self.model
            .encode(src, out.as_flattened_mut(), &mut scratch.0)
    }

    /// [`Model::forward`]: teacher-forced logits, one `[TV]` row per target position.
    pub fn forward<const N: usize>(
        &self,
        src: &[u32],
        tgt: &[u32],
        logits: &mut [[f32; TV]; T],
        scratch: &mut Scratch<N>,
    ) -> Result<()> {
        const { assert!(N >= Self::FORWARD_SCRATCH_BYTES, "scratch buffer too small") };
        self.model
            .forward(src, tgt, logits.as_flattened_mut(), &mut scratch.0)
    }

    /// [`Model::greedy`] into `out` (room for the longest output, `T` tokens).
    pub fn greedy<const N: usize>(
        &self,
        src: &[u32],
        max_len: usize,
        out: &mut [u32; T],
        scratch: &mut Scratch<N>,
    ) -> Result<Greedy> {
        const { assert!(N >= Self::GREEDY_SCRATCH_BYTES, "scratch buffer too small") };
        self.model.greedy(src, max_len, out, &mut scratch.0)
    }

    /// [`greedy`](Self::greedy) into a `heapless::Vec` of capacity `T`.
    pub fn greedy_vec<const N: usize>(
        &self,
        src: &[u32],
        max_len: usize,
        scratch: &mut Scratch<N>,
    ) -> Result<ScoredTokens<T>> {
        const { assert!(N >= Self::GREEDY_SCRATCH_BYTES, "scratch buffer too small") };
        ScoredTokens::filled(max_len, |out| {
            let run = self.model.greedy(src, max_len, out, &mut scratch.0)?;
            Ok((run.len, run.score))
        })
    }

    /// [`beam_search`](Self::beam_search) keeping the best `K` hypotheses, copied into
    /// `heapless` vectors (tokens of each at most `T`), so they outlive the scratch.
    pub fn beam_search_top<const B: usize, const K: usize, const N: usize>(
        &self,
        src: &[u32],
        alpha: f32,
        max_len: usize,
        scratch: &mut Scratch<N>,
    ) -> Result<heapless::Vec<ScoredTokens<T>, K>> {
        const { assert!(K > 0 && K <= B, "K must be in 1..=B") };
        self.beam_search::<B, N>(src, K, alpha, max_len, scratch)?
            .to_heapless::<K, T>()
    }

    /// [`Model::beam_search`] with beam size `B` fixed at compile time.
    pub fn beam_search<'s, const B: usize, const N: usize>(
        &self,
        src: &[u32],
        top: usize,
        alpha: f32,
        max_len: usize,
        scratch: &'s mut Scratch<N>,
    ) -> Result<Hypotheses<'s>> {
        const {
            assert!(B > 0, "beam size must be at least 1");
            assert!(N >= Self::beam_scratch_bytes(B), "scratch buffer too small");
        };
        let params = BeamParams {
            beam: B,
            top,
            alpha,
            max_len,
        };
        self.model.beam_search(src, &params, &mut scratch.0)
    }
}

/// Checks that a loaded blob has the dtype `dtype` and the dimensions `expected` of a
/// static type ([`StaticModel`], `StaticLlama`): `WrongDtype`, or `ShapeMismatch` naming
/// the first field that differs. Inlined: with the expected dimensions constant, the
/// comparisons fold into the caller's code (measured: out of line it costs the greedy
/// size probe 36 B).
#[inline(always)]
pub(crate) fn check_blob_is_the_type(
    model: &Model,
    expected: &Dims,
    dtype: WeightType,
) -> Result<()> {
    if model.dtype() != dtype {
        return Err(Error::WrongDtype {
            expected: dtype as u32,
            found: model.dtype() as u32,
        });
    }
    let found = model.config().dims;
    let fields = [
        ("d_model", expected.d_model, found.d_model),
        ("n_heads", expected.n_heads, found.n_heads),
        ("d_ff", expected.d_ff, found.d_ff),
        (
            "n_encoder_layers",
            expected.n_encoder_layers,
            found.n_encoder_layers,
        ),
        (
            "n_decoder_layers",
            expected.n_decoder_layers,
            found.n_decoder_layers,
        ),
        ("src_vocab", expected.src_vocab, found.src_vocab),
        ("tgt_vocab", expected.tgt_vocab, found.tgt_vocab),
        ("max_src_len", expected.max_src_len, found.max_src_len),
        ("max_tgt_len", expected.max_tgt_len, found.max_tgt_len),
        ("type_vocab", expected.type_vocab, found.type_vocab),
        ("stem_channels", expected.stem_channels, found.stem_channels),
        ("n_kv_heads", expected.n_kv_heads, found.n_kv_heads),
        (
            "feed-forward rows per d_ff",
            expected.feed_forward.hidden_factor(),
            found.feed_forward.hidden_factor(),
        ),
    ];
    for (field, expected, found) in fields {
        if expected != found {
            return Err(Error::ShapeMismatch {
                field,
                expected,
                found,
            });
        }
    }
    Ok(())
}
