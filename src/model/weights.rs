//! `Model`: a validated weights blob, read in place, and the weights the layer code
//! computes with, found through the blob's tensor table: single tensors and per-layer
//! views. (Its public entry points are in `model/mod.rs`.)

use crate::blob::{self, TableEntry, TensorKind as K};
use crate::config::{Config, WeightType};
use crate::error::{Error, Result};
#[cfg(feature = "f16")]
use picoformer_kernels::quant::f16;
#[cfg(feature = "int8")]
use picoformer_kernels::quant::I8Matrix;
use picoformer_kernels::quant::Matrix;

/// A runtime-shaped model: the configuration plus the weights, borrowed from the blob.
///
/// Creating one validates the blob completely; afterwards no access can fall outside it.
/// Nothing is copied: a blob in flash stays in flash.
#[derive(Clone, Copy)]
pub struct Model<'a> {
    config: Config,
    /// Element type of the weight matrices.
    dtype: WeightType,
    /// The whole blob; tensors are found through the table.
    bytes: &'a [u8],
    /// The same bytes as f32 words (the f32 tensors).
    words: &'a [f32],
    table: &'a [TableEntry],
}

impl core::fmt::Debug for Model<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Model")
            .field("config", &self.config)
            .field("dtype", &self.dtype)
            .finish()
    }
}

impl<'a> Model<'a> {
    /// Validates `blob`, its checksums included, and wraps it. The blob must start on a
    /// 16-byte boundary.
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
    /// let config = model.config();
    /// assert_eq!((config.dims.d_model, config.dims.n_heads), (32, 4));
    /// let _ = src;
    /// # Ok(()) }
    /// ```
    pub fn from_blob(blob: &'a [u8]) -> Result<Self> {
        Self::load(blob, blob::Checksums::Verify)
    }

    /// As [`Self::from_blob`], but without computing the blob's two CRC-32C checksums:
    /// for an image whose integrity the caller has already proven (a bootloader that
    /// verified the checksums, or a signature, of the flash it lives in). Every other
    /// check remains, so a corrupt blob still cannot make the engine read out of bounds;
    /// it can only compute garbage.
    pub fn from_verified_blob(blob: &'a [u8]) -> Result<Self> {
        Self::load(blob, blob::Checksums::Trusted)
    }

    pub(crate) fn load(blob: &'a [u8], checksums: blob::Checksums) -> Result<Self> {
        let (config, dtype, table) = blob::validate(blob, checksums)?;
        // validate() proved the length is a multiple of 16 and the start is aligned.
        let words = bytemuck::try_cast_slice(blob).map_err(|_| Error::BlobMisaligned)?;
        Ok(Model {
            config,
            dtype,
            bytes: blob,
            words,
            table,
        })
    }

    /// Element type of the weight matrices.
    pub fn dtype(&self) -> WeightType {
        self.dtype
    }

    /// Bytes of the blob (the flash it takes).
    pub fn blob_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Total number of weight elements (parameters) stored in the blob.
    pub fn parameter_count(&self) -> usize {
        // Saturating: each length is validated against the blob, so the sum cannot
        // overflow; saturating keeps overflow-checked builds free of a panic here.
        self.table
            .iter()
            .fold(0usize, |sum, e| sum.saturating_add(e[3] as usize))
    }

    /// The f32 tensor in table slot `index`, `None` when absent (or when it is a weight
    /// matrix of an f16 or int8 blob: those are read by [`Self::matrix`]).
    pub(crate) fn tensor(&self, index: usize) -> Option<&'a [f32]> {
        let &[_, _, offset, len] = self.table.get(index)?;
        if len == 0 || (self.dtype != WeightType::F32 && self.matrix_rows(index).is_some()) {
            return None;
        }
        let start = offset as usize / 4;
        self.words.get(start..start.checked_add(len as usize)?)
    }

    /// Rows of the weight matrix at table index `index` (`None`: not a matrix).
    fn matrix_rows(&self, index: usize) -> Option<usize> {
        let dims = &self.config.dims;
        // (Read from the header, not kept in `Model`: builds without int8 target
        // embeddings or stems fold it away, and `Model` keeps its size.)
        let flags = blob::stored_flags(self.bytes);
        blob::stored_matrix_rows(dims, blob::kind_at(dims, index)?, flags)
    }

    /// The weight matrix in table slot `index`, in the blob's dtype; `None` when absent.
    pub(crate) fn matrix(&self, index: usize) -> Option<Matrix<'a>> {
        let &[_, _, offset, len] = self.table.get(index)?;
        if len == 0 {
            return None;
        }
        // (f16 and int8 matrices are found by bytes; f32 ones by the word view.)
        #[cfg_attr(not(any(feature = "f16", feature = "int8")), allow(unused_variables))]
        let (offset, len) = (offset as usize, len as usize);
        match self.dtype {
            WeightType::F32 => self.tensor(index).map(Matrix::F32),
            // Without the feature such blobs are refused at load (`Error::FeatureDisabled`).
            #[cfg(not(feature = "f16"))]
            WeightType::F16 => None,
            #[cfg(not(feature = "int8"))]
            WeightType::I8 => None,
            #[cfg(feature = "f16")]
            WeightType::F16 => {
                let bytes = self
                    .bytes
                    .get(offset..offset.checked_add(len.checked_mul(2)?)?)?;
                bytemuck::try_cast_slice::<u8, f16>(bytes)
                    .ok()
                    .map(Matrix::F16)
            }
            #[cfg(feature = "int8")]
            WeightType::I8 => {
                let rows = self.matrix_rows(index)?;
                let start = offset / 4;
                let scales = self.words.get(start..start.checked_add(rows)?)?;
                let values_at =
                    offset.checked_add(rows.checked_mul(4)?.checked_next_multiple_of(16)?)?;
                let values = self.bytes.get(values_at..values_at.checked_add(len)?)?;
                Some(Matrix::I8(I8Matrix {
                    values: bytemuck::try_cast_slice(values).ok()?,
                    scales,
                }))
            }
        }
    }

    fn required(&self, index: usize) -> Result<&'a [f32]> {
        self.tensor(index).ok_or(Error::MissingTensor { index })
    }

    fn required_matrix(&self, index: usize) -> Result<Matrix<'a>> {
        self.matrix(index).ok_or(Error::MissingTensor { index })
    }

    /// The output projection `[V, D]`: the target embedding when tied (f32, or int8 with
    /// `blob::FLAG_I8_EMBEDDING`), else the output weight matrix in the blob's dtype.
    pub(crate) fn output_projection(&self) -> Result<Matrix<'a>> {
        if self.config.tie_output {
            self.target_embedding()
        } else {
            self.required_matrix(blob::global_index(K::OutWeight))
        }
    }

    /// The target embedding `[V, D]`: f32, or int8 in a blob with
    /// `blob::FLAG_I8_EMBEDDING`.
    pub(crate) fn target_embedding(&self) -> Result<Matrix<'a>> {
        if blob::i8_embedding(self.bytes) {
            self.required_matrix(blob::global_index(K::TgtEmbed))
        } else {
            self.required_global(K::TgtEmbed).map(Matrix::F32)
        }
    }

    /// A global tensor, `None` when absent.
    pub(crate) fn global(&self, kind: K) -> Option<&'a [f32]> {
        self.tensor(blob::global_index(kind))
    }

    /// A global tensor this call cannot do without.
    pub(crate) fn required_global(&self, kind: K) -> Result<&'a [f32]> {
        self.required(blob::global_index(kind))
    }

    /// The weights of the convolution stem: f32, or int8 matrices in a blob with
    /// `blob::FLAG_I8_STEM`.
    pub(crate) fn stem(&self) -> Result<StemWeights<'a>> {
        let conv = |kind| {
            if blob::i8_stem(self.bytes) {
                self.required_matrix(blob::global_index(kind))
            } else {
                self.required_global(kind).map(Matrix::F32)
            }
        };
        Ok(StemWeights {
            conv1: conv(K::StemConv1Weight)?,
            conv1_bias: self.global(K::StemConv1Bias),
            conv2: conv(K::StemConv2Weight)?,
            conv2_bias: self.global(K::StemConv2Bias),
        })
    }

    /// The self-attention of encoder layer `layer` and its LayerNorm (norm1).
    ///
    /// As for the decoder, one sub-layer's weights at a time: only those views are live
    /// on the stack while it computes.
    pub(crate) fn encoder_self_attention(
        &self,
        layer: usize,
    ) -> Result<(AttentionWeights<'a>, NormWeights<'a>)> {
        self.attention_at(blob::encoder_index(layer, K::EncSelfQWeight))
    }

    /// The feed-forward network of encoder layer `layer` and its LayerNorm (norm2).
    pub(crate) fn encoder_ffn(&self, layer: usize) -> Result<(FfnWeights<'a>, NormWeights<'a>)> {
        self.ffn_at(blob::encoder_index(layer, K::EncFfnW1))
    }

    /// The masked self-attention of decoder layer `layer` and its LayerNorm (norm1).
    ///
    /// The decoder asks for one sub-layer's weights at a time: only those views are live
    /// on the stack while it computes (the decode step is the engine's deepest frame).
    pub(crate) fn decoder_self_attention(
        &self,
        layer: usize,
    ) -> Result<(AttentionWeights<'a>, NormWeights<'a>)> {
        let dims = &self.config.dims;
        self.attention_at(blob::decoder_index(dims, layer, K::DecSelfQWeight))
    }

    /// The encoder-decoder attention of decoder layer `layer` and its LayerNorm (norm2)
    /// (a model with an encoder: the callers check).
    pub(crate) fn decoder_cross_attention(
        &self,
        layer: usize,
    ) -> Result<(AttentionWeights<'a>, NormWeights<'a>)> {
        let dims = &self.config.dims;
        self.attention_at(blob::decoder_index(dims, layer, K::DecCrossQWeight))
    }

    /// The feed-forward network of decoder layer `layer` and its LayerNorm (norm3).
    pub(crate) fn decoder_ffn(&self, layer: usize) -> Result<(FfnWeights<'a>, NormWeights<'a>)> {
        let dims = &self.config.dims;
        self.ffn_at(blob::decoder_index(dims, layer, K::DecFfnW1))
    }

    /// The attention block whose Q weight is at table index `first`, and the LayerNorm
    /// after it: every attention block stores its ten tensors in the same order
    /// ([`ATTENTION_BLOCK`]). Out of line: one copy serves the three kinds of attention
    /// (an int8 `Matrix` is five words, and each view is built in place).
    /// (`first` plus a block offset cannot wrap: `first` is a table index, below the
    /// validated table length; a wrapped index would only miss the table.)
    #[inline(never)]
    fn attention_at(&self, first: usize) -> Result<(AttentionWeights<'a>, NormWeights<'a>)> {
        let get = |kind| self.tensor(first.wrapping_add(block_offset(ATTENTION_BLOCK, kind)));
        let req = |kind| self.required(first.wrapping_add(block_offset(ATTENTION_BLOCK, kind)));
        let mat =
            |kind| self.required_matrix(first.wrapping_add(block_offset(ATTENTION_BLOCK, kind)));
        Ok((
            AttentionWeights {
                q: mat(K::EncSelfQWeight)?,
                q_bias: get(K::EncSelfQBias),
                k: mat(K::EncSelfKWeight)?,
                k_bias: get(K::EncSelfKBias),
                v: mat(K::EncSelfVWeight)?,
                v_bias: get(K::EncSelfVBias),
                out: mat(K::EncSelfOutWeight)?,
                out_bias: get(K::EncSelfOutBias),
            },
            NormWeights {
                gamma: req(K::EncNorm1Gamma)?,
                beta: get(K::EncNorm1Beta),
            },
        ))
    }

    /// The feed-forward network whose W1 is at table index `first`, and the LayerNorm
    /// after it ([`FFN_BLOCK`], the same order in both stacks). Out of line, as
    /// [`Self::attention_at`].
    #[inline(never)]
    fn ffn_at(&self, first: usize) -> Result<(FfnWeights<'a>, NormWeights<'a>)> {
        let get = |kind| self.tensor(first.wrapping_add(block_offset(FFN_BLOCK, kind)));
        let req = |kind| self.required(first.wrapping_add(block_offset(FFN_BLOCK, kind)));
        let mat = |kind| self.required_matrix(first.wrapping_add(block_offset(FFN_BLOCK, kind)));
        Ok((
            FfnWeights {
                w1: mat(K::EncFfnW1)?,
                b1: get(K::EncFfnB1),
                w2: mat(K::EncFfnW2)?,
                b2: get(K::EncFfnB2),
            },
            NormWeights {
                gamma: req(K::EncNorm2Gamma)?,
                beta: get(K::EncNorm2Beta),
            },
        ))
    }
}

/// `len` tensors of a layer's `table` from `start`: one block of the layer.
const fn layer_block(table: &[K], start: usize, len: usize) -> &[K] {
    table.split_at(start).1.split_at(len).0
}

/// The tensors of an attention block and its LayerNorm, in table order (the encoder's
/// self-attention; the decoder's two attention blocks are laid out the same way, which
/// the assertions below check at compile time).
const ATTENTION_BLOCK: &[K] = layer_block(&blob::ENCODER_LAYER_TENSORS, 0, 10);

/// The tensors of a feed-forward network and its LayerNorm, in table order (the
/// encoder's; the decoder's are laid out the same way).
const FFN_BLOCK: &[K] = layer_block(&blob::ENCODER_LAYER_TENSORS, 10, 6);

/// Offset of `kind` from the first tensor of `block` in the table (the tensors of a
/// block are consecutive kinds).
const fn block_offset(block: &[K], kind: K) -> usize {
    kind as usize - block[0] as usize
}

/// Whether `other` is laid out as `block`: consecutive kinds, one by one.
const fn same_layout(block: &[K], other: &[K]) -> bool {
    if block.len() != other.len() {
        return false;
    }
    let mut i = 0;
    while i < block.len() {
        if block[i] as usize != block[0] as usize + i || other[i] as usize != other[0] as usize + i
        {
            return false;
        }
        i += 1;
    }
    true
}

const _: () = assert!(same_layout(
    ATTENTION_BLOCK,
    layer_block(&blob::DECODER_LAYER_TENSORS, 0, 10)
));
const _: () = assert!(same_layout(
    ATTENTION_BLOCK,
    layer_block(&blob::DECODER_LAYER_TENSORS, 10, 10)
));
const _: () = assert!(same_layout(
    FFN_BLOCK,
    layer_block(&blob::DECODER_LAYER_TENSORS, 20, 6)
));

/// Weights of one multi-head attention block. Matrices are `[D, D]` (in the blob's
/// dtype), biases `[D]`.
pub(crate) struct AttentionWeights<'a> {
    pub q: Matrix<'a>,
    pub q_bias: Option<&'a [f32]>,
    pub k: Matrix<'a>,
    pub k_bias: Option<&'a [f32]>,
    pub v: Matrix<'a>,
    pub v_bias: Option<&'a [f32]>,
    pub out: Matrix<'a>,
    pub out_bias: Option<&'a [f32]>,
}

/// LayerNorm parameters, `[D]` each.
pub(crate) struct NormWeights<'a> {
    pub gamma: &'a [f32],
    pub beta: Option<&'a [f32]>,
}

/// Position-wise feed-forward weights: `w1 [F, D]`, `b1 [F]`, `w2 [D, F]`, `b2 [D]`.
pub(crate) struct FfnWeights<'a> {
    pub w1: Matrix<'a>,
    pub b1: Option<&'a [f32]>,
    pub w2: Matrix<'a>,
    pub b2: Option<&'a [f32]>,
}

/// The convolution stem: `conv1 [D, 3, C]`, `conv2 [D, 3, D]` (kernel-major; f32, or
/// int8 matrices `[D, 3 C]`, `[D, 3 D]` with `blob::FLAG_I8_STEM`), biases `[D]`.
pub(crate) struct StemWeights<'a> {
    pub conv1: Matrix<'a>,
    pub conv1_bias: Option<&'a [f32]>,
    pub conv2: Matrix<'a>,
    pub conv2_bias: Option<&'a [f32]>,
}
