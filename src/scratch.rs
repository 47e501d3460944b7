//! The caller's scratch buffer: its exact size as a `const fn`, and the carving of it into
//! the working buffers of a call (`docs/spec.md`, "Memory").
//!
//! Layout (every region starts on a 16-byte boundary; lengths in elements):
//!
//! ```text
//! persistent for the whole call
//!   cross_k, cross_v   [Ld, S, D]        encoder-decoder K/V, computed once per source
//!   self_k, self_v     [Ld, B, T, Dkv]   decoder self-attention cache, one slot per beam
//!                                        (Dkv = n_kv_heads D / H; D without grouped heads;
//!                                        an int8 cache: ceil(Dkv / 4) + n_kv_heads words)
//!   beam state         (beam search only, see `BeamRegions`)
//!   int8 activations   (int8 blobs only) values [A, max(D, F, C)] bytes, scales [A]
//! work (one region, reused: first by the encoder, then by the decoder)
//!   encoder:  x [S, D], then either (stem only, first) conv1 output [2S, D]
//!             (and, int8 blobs, an int8 stem's block [8, W])
//!             or normed, q, k, v [S, D] · ffn hidden [R, F] · scores [S]
//!   decoder:  y, normed, q, tmp [N, D] · ffn hidden [R, F] · scores [max(S, T)] · logits [N, V]
//! ```
//! with `N` decoder rows per step (`B`, or `min(FORWARD_ROW_BLOCK, T)` target positions
//! for the teacher-forced forward) and `R = min(FFN_ROW_BLOCK, rows)` rows of the
//! feed-forward network at a time. `A = min(8, max(S, N))` activation rows are quantized
//! together by the int8 linear layers (`picoformer_kernels::quant::I8_ROW_BLOCK`); `W =
//! max(C, D) + D` in an int8 blob with a stem of `C` channels (an int8 stem's gathered
//! input row and one tap's products), else 0 (and `C` counts there only).

use crate::config::{Dims, WeightType};
use crate::error::{Error, Result};
use picoformer_kernels::quant;

/// Rows of the feed-forward network computed together: the hidden activations of this
/// many rows are live at once (`R x F` floats), and each FFN weight row is read once per
/// block.
pub const FFN_ROW_BLOCK: usize = 8;

/// Target positions the teacher-forced [`Model::forward`](crate::Model::forward) computes
/// together: each decoder weight is read once per block of this many positions.
pub const FORWARD_ROW_BLOCK: usize = 32;

/// Largest beam size any call accepts.
pub const MAX_BEAM: usize = 64;

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Some(v) => v,
            None => return None,
        }
    };
}

const fn mul(a: usize, b: usize) -> Option<usize> {
    a.checked_mul(b)
}

const fn mul3(a: usize, b: usize, c: usize) -> Option<usize> {
    match a.checked_mul(b) {
        Some(ab) => ab.checked_mul(c),
        None => None,
    }
}

/// Elements rounded up so the next region starts 16-byte aligned (4-byte elements).
const fn round(n: usize) -> Option<usize> {
    match n.checked_add(3) {
        Some(v) => Some(v / 4 * 4),
        None => None,
    }
}

const fn add(a: usize, n: usize) -> Option<usize> {
    a.checked_add(tri!(round(n)))
}

const fn min(a: usize, b: usize) -> usize {
    if a < b {
        a
    } else {
        b
    }
}

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

/// The sizes of one call's regions, derived from the dimensions and the beam size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub d: usize,
    pub f: usize,
    /// Words of a decoder self-attention key/value row: `n_kv_heads * D / H` floats (`D`
    /// for multi-head attention), or an int8 cache's row ([`Dims::kv_row_words`]).
    pub kv: usize,
    /// Width of a row of the feed-forward hidden buffer: `F`, or `2F` for a gated network.
    pub hidden: usize,
    /// Source positions (0 without encoder).
    pub s: usize,
    /// Target positions (0 without decoder).
    pub t: usize,
    /// Target vocabulary (0 without decoder).
    pub v: usize,
    /// Decoder layers.
    pub ld: usize,
    /// Hypotheses decoded side by side: decoder cache slots (1 for greedy and forward).
    pub beams: usize,
    /// Rows the decoder computes per step (`beams`, or a block of target positions for
    /// the teacher-forced forward).
    pub rows: usize,
    /// Whether the beam-search state is needed.
    pub beam_search: bool,
    /// Whether the encoder has a convolution stem (its first convolution's output needs
    /// `[2S, D]`).
    pub stem: bool,
    /// Values per output row of an int8 stem's block, `max(C, D) + D` (int8 blobs with a
    /// stem, which may set `FLAG_I8_STEM`; else 0): a gathered input row of its widest
    /// convolution (the reduction length of its int8 products) and one tap's products.
    #[cfg(all(feature = "conv-stem", feature = "int8"))]
    pub stem_window: usize,
    /// Element type of the weight matrices (int8 needs the activation buffer).
    pub weights: WeightType,
}

impl Plan {
    pub const fn new(dims: &Dims, weights: WeightType, beams: usize, beam_search: bool) -> Plan {
        let has_enc = dims.n_encoder_layers > 0;
        let has_dec = dims.n_decoder_layers > 0;
        Plan {
            d: dims.d_model,
            f: dims.d_ff,
            kv: dims.kv_row_words(),
            hidden: dims.d_ff.saturating_mul(dims.feed_forward.hidden_factor()),
            s: if has_enc { dims.max_src_len } else { 0 },
            t: if has_dec { dims.max_tgt_len } else { 0 },
            v: if has_dec { dims.tgt_vocab } else { 0 },
            ld: dims.n_decoder_layers,
            beams,
            rows: beams,
            beam_search,
            // (builds without `conv-stem` refuse a stem's blob: the stem's terms fold away)
            stem: cfg!(feature = "conv-stem") && has_enc && dims.stem_channels > 0,
            #[cfg(all(feature = "conv-stem", feature = "int8"))]
            stem_window: if has_enc && dims.stem_channels > 0 && matches!(weights, WeightType::I8) {
                max(dims.stem_channels, dims.d_model).saturating_add(dims.d_model)
            } else {
                0
            },
            weights,
        }
    }

    /// The plan of one decoding request (greedy, sampling or beam search with `beams`
    /// hypotheses) that starts from a `prefix_len`-token decoder prefix and generates at
    /// most `max_len` tokens: the prefix and every generated token but the last are fed,
    /// so the caches and token rows hold `T = prefix_len + max_len - 1` positions, capped
    /// at `max_tgt_len` (the search refuses a longer request before carving). The one
    /// plan of both the request's size ([`Model::greedy_scratch_bytes_for_len`],
    /// [`Model::beam_scratch_bytes_for_len`]) and its carving, so they cannot disagree;
    /// never larger than the model's maximum ([`greedy_scratch_bytes_for`]).
    ///
    /// [`Model::greedy_scratch_bytes_for_len`]: crate::Model::greedy_scratch_bytes_for_len
    /// [`Model::beam_scratch_bytes_for_len`]: crate::Model::beam_scratch_bytes_for_len
    pub const fn decoding(
        dims: &Dims,
        weights: WeightType,
        beams: usize,
        beam_search: bool,
        prefix_len: usize,
        max_len: usize,
    ) -> Plan {
        let mut plan = Plan::new(dims, weights, beams, beam_search);
        plan.t = min(plan.t, prefix_len.saturating_add(max_len).saturating_sub(1));
        plan
    }

    /// Total bytes of sampling's scratch: the session's ([`total_bytes`](Self::total_bytes)),
    /// then `[V]` (token, probability) candidates of the nucleus.
    pub const fn sample_total_bytes(&self) -> Option<usize> {
        let session = tri!(self.total_bytes());
        let candidates = tri!(mul(tri!(round(tri!(mul(2, self.v)))), 4));
        session.checked_add(candidates)
    }

    /// The plan of [`encode_scratch_bytes`]: the encoder's work region alone.
    pub const fn encoder_only(dims: &Dims, weights: WeightType) -> Plan {
        let mut plan = Plan::new(dims, weights, 1, false);
        plan.ld = 0;
        plan.t = 0;
        plan.v = 0;
        plan.rows = 0;
        plan
    }

    /// The plan of [`forward_scratch_bytes`]: one cache slot, blocks of target positions.
    pub const fn forward(dims: &Dims, weights: WeightType) -> Plan {
        let mut plan = Plan::new(dims, weights, 1, false);
        plan.rows = max(1, min(FORWARD_ROW_BLOCK, plan.t));
        plan
    }

    /// The plan of a teacher-forced forward over `tgt_len` target positions: the caches
    /// hold those positions (capped at `max_tgt_len`, at least 1); the blocks of positions
    /// stay [`forward`](Self::forward)'s, so the computation is the same. The one plan of
    /// [`Model::forward_scratch_bytes_for_len`](crate::Model::forward_scratch_bytes_for_len)
    /// and of the carving.
    pub const fn forward_for(dims: &Dims, weights: WeightType, tgt_len: usize) -> Plan {
        let mut plan = Plan::forward(dims, weights);
        plan.t = min(plan.t, max(1, tgt_len));
        plan
    }

    /// `[Ld, S, D]`, one of cross K / cross V.
    pub const fn cross_len(&self) -> Option<usize> {
        mul3(self.ld, self.s, self.d)
    }

    /// `[Ld, B, T, Dkv]`, one of self K / self V.
    pub const fn cache_len(&self) -> Option<usize> {
        mul(tri!(mul3(self.ld, self.beams, self.t)), self.kv)
    }

    /// `[B, T]` token histories.
    pub const fn history_len(&self) -> Option<usize> {
        mul(self.beams, self.t)
    }

    /// `[T, Dkv]`: one beam's cache slot, the temporary of in-place reordering.
    pub const fn slot_len(&self) -> Option<usize> {
        mul(self.t, self.kv)
    }

    pub const fn encoder_rows_block(&self) -> usize {
        max(1, min(FFN_ROW_BLOCK, self.s))
    }

    pub const fn decoder_rows_block(&self) -> usize {
        max(1, min(FFN_ROW_BLOCK, self.rows))
    }

    /// Elements of the encoder's working set: `x [S, D]`, then the larger of the layers'
    /// buffers and the stem's.
    pub const fn encoder_work(&self) -> Option<usize> {
        if self.s == 0 {
            return Some(0);
        }
        let sd = tri!(mul(self.s, self.d));
        add(
            tri!(round(sd)),
            max(tri!(self.layer_work()), tri!(self.stem_work())),
        )
    }

    /// Elements of the encoder layers' buffers after `x`: normed, q, k, v `[S, D]`,
    /// FFN hidden `[R, F]`, scores `[S]`.
    pub const fn layer_work(&self) -> Option<usize> {
        let sd = tri!(mul(self.s, self.d));
        let mut n = 0;
        let mut i = 0;
        while i < 4 {
            n = tri!(add(n, sd));
            i += 1;
        }
        n = tri!(add(n, tri!(mul(self.encoder_rows_block(), self.f))));
        add(n, self.s)
    }

    /// Values per output row of an int8 stem's block, `max(C, D) + D` (0 where there is
    /// none, and in builds without `conv-stem` and `int8`, whose plans do not carry the
    /// field: the stack of every firmware holds a plan).
    pub const fn stem_window(&self) -> usize {
        #[cfg(all(feature = "conv-stem", feature = "int8"))]
        return self.stem_window;
        #[cfg(not(all(feature = "conv-stem", feature = "int8")))]
        0
    }

    /// Elements of the stem's buffer after `x`: the first convolution's output `[2S, D]`
    /// (0 without a stem), then in an int8 blob an int8 stem's block of output rows,
    /// `[STEM_ROW_BLOCK, stem_window]` (gathered input rows, then one tap's products).
    pub const fn stem_work(&self) -> Option<usize> {
        if !cfg!(feature = "conv-stem") || !self.stem {
            return Some(0);
        }
        let hidden = tri!(round(tri!(mul3(
            crate::config::STEM_STRIDE,
            self.s,
            self.d
        ))));
        add(
            hidden,
            tri!(mul(crate::layers::stem::STEM_ROW_BLOCK, self.stem_window())),
        )
    }

    /// Elements of the decoder's working set.
    pub const fn decoder_work(&self) -> Option<usize> {
        if self.t == 0 {
            return Some(0);
        }
        let bd = tri!(mul(self.rows, self.d));
        let mut n = 0;
        let mut i = 0;
        while i < 4 {
            n = tri!(add(n, bd));
            i += 1;
        }
        n = tri!(add(n, tri!(mul(self.decoder_rows_block(), self.hidden))));
        n = tri!(add(n, max(self.s, self.t)));
        add(n, tri!(mul(self.rows, self.v)))
    }

    /// Elements of the beam-search state (see `BeamRegions`).
    pub const fn beam_state(&self) -> Option<usize> {
        if !self.beam_search {
            return Some(0);
        }
        let b = self.beams;
        let history = tri!(self.history_len());
        let mut n = 0;
        n = tri!(add(n, history)); // live token histories [B, T]
        n = tri!(add(n, b)); // live scores [B]
        n = tri!(add(n, b)); // parents [B]
        n = tri!(add(n, b)); // reorder work [B]
        n = tri!(add(n, b)); // step input tokens [B]
        n = tri!(add(n, tri!(mul(6, b)))); // candidates [2B] x (score, beam, token)
        n = tri!(add(n, history)); // finished token histories [B, T]
        n = tri!(add(n, tri!(mul(2, b)))); // finished [B] x (score, length)
        n = tri!(add(n, self.t)); // token-row temporary [T]
        add(n, tri!(self.slot_len())) // cache-slot temporary [T, Dkv]
    }

    /// Bytes of quantized activation values (int8 weights only, else 0): `A` rows of
    /// `max(D, F)` (and of an int8 stem's widest input row `max(C, D)`, its `stem_window`
    /// less `D`).
    pub const fn act_values(&self) -> Option<usize> {
        match self.weights {
            WeightType::I8 => quant::activation_values(
                max(self.s, self.rows),
                max(
                    max(self.d, self.f),
                    self.stem_window().saturating_sub(self.d),
                ),
            ),
            WeightType::F32 | WeightType::F16 => Some(0),
        }
    }

    /// Scales of the quantized activation rows (int8 weights only, else 0): `A`.
    pub const fn act_scales(&self) -> usize {
        match self.weights {
            WeightType::I8 => quant::activation_scales(max(self.s, self.rows)),
            WeightType::F32 | WeightType::F16 => 0,
        }
    }

    /// Total bytes of the scratch buffer.
    pub const fn total_bytes(&self) -> Option<usize> {
        let cross = tri!(self.cross_len());
        let cache = tri!(self.cache_len());
        let mut n = 0;
        n = tri!(add(n, cross));
        n = tri!(add(n, cross));
        n = tri!(add(n, cache));
        n = tri!(add(n, cache));
        n = tri!(add(n, tri!(self.beam_state())));
        n = tri!(add(n, tri!(tri!(self.act_values()).checked_add(3)) / 4)); // i8 values, in words
        n = tri!(add(n, self.act_scales()));
        n = tri!(add(
            n,
            max(tri!(self.encoder_work()), tri!(self.decoder_work()))
        ));
        mul(n, 4)
    }

    pub const fn work_len(&self) -> Option<usize> {
        match (self.encoder_work(), self.decoder_work()) {
            (Some(e), Some(d)) => Some(max(e, d)),
            _ => None,
        }
    }
}

/// Exact scratch bytes for [`Model::greedy`](crate::Model::greedy) (enough for
/// [`Model::encode`](crate::Model::encode) too) of an f32 or f16 blob; int8 blobs need
/// [`greedy_scratch_bytes_for`].
///
/// `None` when the size overflows `usize`.
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
/// // Sized at compile time for a model's dimensions: here the date model's.
/// let dims = model.config().dims;
/// assert_eq!(picoformer::greedy_scratch_bytes(&dims), Some(65_728));
/// let _ = src;
/// # Ok(()) }
/// ```
pub const fn greedy_scratch_bytes(dims: &Dims) -> Option<usize> {
    greedy_scratch_bytes_for(dims, WeightType::F32)
}

/// Exact scratch bytes for [`Model::greedy`](crate::Model::greedy) with weight matrices of
/// type `weights`. `None` when the size overflows `usize`.
pub const fn greedy_scratch_bytes_for(dims: &Dims, weights: WeightType) -> Option<usize> {
    Plan::new(dims, weights, 1, false).total_bytes()
}

/// Exact scratch bytes for [`Model::forward`](crate::Model::forward) (f32 or f16 blob).
/// `None` when the size overflows `usize`.
pub const fn forward_scratch_bytes(dims: &Dims) -> Option<usize> {
    forward_scratch_bytes_for(dims, WeightType::F32)
}

/// Exact scratch bytes for [`Model::forward`](crate::Model::forward) with weight matrices
/// of type `weights`. `None` when the size overflows `usize`.
pub const fn forward_scratch_bytes_for(dims: &Dims, weights: WeightType) -> Option<usize> {
    Plan::forward(dims, weights).total_bytes()
}

/// Exact scratch bytes for [`Model::encode`](crate::Model::encode) (f32 or f16 blob).
/// `None` when the size overflows `usize`.
pub const fn encode_scratch_bytes(dims: &Dims) -> Option<usize> {
    encode_scratch_bytes_for(dims, WeightType::F32)
}

/// Exact scratch bytes for [`Model::encode`](crate::Model::encode) with weight matrices of
/// type `weights`. `None` when the size overflows `usize`.
pub const fn encode_scratch_bytes_for(dims: &Dims, weights: WeightType) -> Option<usize> {
    Plan::encoder_only(dims, weights).total_bytes()
}

/// Exact scratch bytes for [`Model::beam_search`](crate::Model::beam_search) with beam
/// size `beam` (f32 or f16 blob). `None` when `beam` is 0 or above [`MAX_BEAM`], or the
/// size overflows `usize`.
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
/// let dims = model.config().dims;
/// assert_eq!(picoformer::beam_scratch_bytes(&dims, 4), Some(86_320));
/// assert_eq!(picoformer::beam_scratch_bytes(&dims, 0), None); // no such search
/// let _ = src;
/// # Ok(()) }
/// ```
pub const fn beam_scratch_bytes(dims: &Dims, beam: usize) -> Option<usize> {
    beam_scratch_bytes_for(dims, WeightType::F32, beam)
}

/// Exact scratch bytes for [`Model::beam_search`](crate::Model::beam_search) with beam
/// size `beam` and weight matrices of type `weights`. `None` when `beam` is 0 or above
/// [`MAX_BEAM`], or the size overflows.
pub const fn beam_scratch_bytes_for(
    dims: &Dims,
    weights: WeightType,
    beam: usize,
) -> Option<usize> {
    if beam == 0 || beam > MAX_BEAM {
        return None;
    }
    Plan::new(dims, weights, beam, true).total_bytes()
}

/// Exact scratch bytes for [`Model::sample_with`](crate::Model::sample_with) with weight
/// matrices of type `weights`: greedy decoding's, then `[V]` (token, probability)
/// candidates of the nucleus. `None` when the size overflows `usize`.
pub const fn sample_scratch_bytes_for(dims: &Dims, weights: WeightType) -> Option<usize> {
    Plan::new(dims, weights, 1, false).sample_total_bytes()
}

/// A 16-byte aligned scratch buffer of `N` bytes, for firmware to place in a `static`.
///
/// ```
/// use picoformer::Scratch;
/// static mut SCRATCH: Scratch<4096> = Scratch::new();
/// ```
#[repr(C, align(16))]
pub struct Scratch<const N: usize>(pub [u8; N]);

impl<const N: usize> Scratch<N> {
    /// A zeroed buffer (usable in a `static` initialiser).
    pub const fn new() -> Self {
        Scratch([0; N])
    }

    /// The bytes, for the runtime-shaped API.
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

impl<const N: usize> Default for Scratch<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Hands out consecutive, 16-byte aligned regions of the scratch buffer.
pub(crate) struct Arena<'s> {
    rest: &'s mut [u8],
}

impl<'s> Arena<'s> {
    /// Checks alignment and that `buf` holds `needed` bytes.
    pub fn new(buf: &'s mut [u8], needed: Option<usize>) -> Result<Self> {
        let needed = needed.ok_or(Error::SizeOverflow)?;
        if !(buf.as_ptr() as usize).is_multiple_of(16) {
            return Err(Error::ScratchMisaligned);
        }
        if buf.len() < needed {
            return Err(Error::ScratchTooSmall {
                needed,
                got: buf.len(),
            });
        }
        Ok(Arena { rest: buf })
    }

    /// An arena over a region already carved (alignment and size hold by construction).
    pub fn over(region: &'s mut [f32]) -> Self {
        Arena {
            rest: bytemuck::must_cast_slice_mut(region),
        }
    }

    fn bytes(&mut self, elements: Option<usize>) -> Result<&'s mut [u8]> {
        let elements = elements.ok_or(Error::SizeOverflow)?;
        let used = round(elements)
            .and_then(|n| n.checked_mul(4))
            .ok_or(Error::SizeOverflow)?;
        let rest = core::mem::take(&mut self.rest);
        let got = rest.len();
        let (head, tail) = rest
            .split_at_mut_checked(used)
            .ok_or(Error::ScratchTooSmall { needed: used, got })?;
        self.rest = tail;
        head.get_mut(..elements * 4).ok_or(Error::SizeOverflow)
    }

    /// The next `n` f32 elements.
    pub fn f32s(&mut self, n: Option<usize>) -> Result<&'s mut [f32]> {
        self.slice(n)
    }

    /// The next `n` i8 elements (rounded up to whole 4-byte words, then to 16 bytes).
    pub fn i8s(&mut self, n: Option<usize>) -> Result<&'s mut [i8]> {
        let n = n.ok_or(Error::SizeOverflow)?;
        let words = n.checked_add(3).ok_or(Error::SizeOverflow)? / 4;
        let bytes = self.bytes(Some(words))?;
        let bytes = bytes.get_mut(..n).ok_or(Error::SizeOverflow)?;
        bytemuck::try_cast_slice_mut(bytes).map_err(|_| Error::ScratchMisaligned)
    }

    /// The int8 activation buffer of `plan` (empty slices unless its weights are int8).
    pub fn activations(&mut self, plan: &Plan) -> Result<quant::Activations<'s>> {
        Ok(quant::Activations {
            values: self.i8s(plan.act_values())?,
            scales: self.f32s(Some(plan.act_scales()))?,
        })
    }

    /// The next `n` u32 elements.
    pub fn u32s(&mut self, n: Option<usize>) -> Result<&'s mut [u32]> {
        self.slice(n)
    }

    /// The next `n` elements of a plain-data type made of 4-byte words.
    pub fn slice<T: bytemuck::Pod>(&mut self, n: Option<usize>) -> Result<&'s mut [T]> {
        let words = core::mem::size_of::<T>() / 4;
        let bytes = self.bytes(n.and_then(|n| n.checked_mul(words)))?;
        bytemuck::try_cast_slice_mut(bytes).map_err(|_| Error::ScratchMisaligned)
    }
}

/// The first `n` elements of a working buffer, the part one call uses (all of it if
/// shorter: buffers are carved for the largest call, so that does not happen).
pub(crate) fn used(buf: &mut [f32], n: usize) -> &mut [f32] {
    let len = buf.len().min(n);
    buf.get_mut(..len).unwrap_or(&mut [])
}
