//! The weights blob: a little-endian file the host writes (`picoformer-cli`'s
//! `blob_writer`) and the engine validates, then reads in place.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "PFMODEL\0"
//!      8     4  version (4)
//!     12     4  header_len: bytes before the first tensor (multiple of 16)
//!     16     4  blob_len: total bytes, multiple of 16
//!     20     4  dtype of the weight matrices: 0 = f32, 1 = f16, 2 = i8 (see below)
//!     24    36  d_model, n_heads, d_ff, n_encoder_layers, n_decoder_layers,
//!               src_vocab, tgt_vocab, max_src_len, max_tgt_len      (u32 each)
//!     60     4  norm: 0 post, 1 pre
//!     64     4  activation: 0 relu, 1 gelu, 2 silu
//!     68     4  positional: 0 none, 1 sinusoidal, 2 sinusoidal-concat, 3 learned,
//!               4 rope (adjacent pairs), 5 rope (rotate-half)
//!     72     4  layer_norm_eps (f32)
//!     76     4  flags: bit 0 scale_embeddings, bit 1 tie_output, bit 2 final_norm,
//!               bit 3 src_embed_norm, bit 4 the target embedding is int8 (int8 blobs of
//!               a tied model only: [`FLAG_I8_EMBEDDING`]), bit 5 int8 key/value cache
//!               ([`FLAG_I8_KV_CACHE`]), bit 6 the stem's convolutions are int8 (int8 blobs
//!               of a model with a stem only: [`FLAG_I8_STEM`])
//!     80    12  bos_id, eos_id, pad_id
//!     92     4  tensor_count
//!     96     4  table_offset (= 144)
//!    100     4  type_vocab (0: no token-type embedding)
//!    104     4  stem_channels (0: no convolution stem)
//!    108     4  n_kv_heads (= n_heads but for grouped/multi-query attention)
//!    112     4  norm kind: 0 LayerNorm, 1 RMSNorm
//!    116     4  feed-forward: 0 plain, 1 gated
//!    120     4  rope_theta (f32; 0 without rotary positions)
//!    124     4  reserved, zero
//!    128     4  header_crc: CRC-32C of bytes [0, 128) then [132, header_len)
//!    132     4  data_crc: CRC-32C of bytes [header_len, blob_len)
//!    136     8  reserved, zero
//!    144  16*n  tensor table: n x {kind u32, layer u32, offset u32, len u32}
//!                 offset in bytes from the blob start, 16-byte aligned; len in elements;
//!                 an absent optional tensor has offset 0 and len 0
//! header_len  tensor data, row-major, `[out, in]` for weight matrices, packed in table
//!             order, each tensor padded with zeros to 16 bytes
//! ```
//!
//! The checksums are CRC-32C (Castagnoli: reflected polynomial `0x82F63B78`, initial
//! value `0xFFFFFFFF`, final XOR `0xFFFFFFFF`; the CRC of `"123456789"` is `0xE3069283`),
//! as [`crc32c`] computes it. The header's covers everything before the tensor data
//! except its own word, so it also protects `data_crc`. Loading verifies both;
//! [`Model::from_verified_blob`](crate::Model::from_verified_blob) skips them for an
//! image a bootloader has already verified. `docs/blob.md` describes the format for
//! other readers.
//!
//! The table lists every tensor slot of the configuration in one canonical order (the
//! globals, then each encoder layer, then each decoder layer, see [`TensorKind`]), so the
//! engine finds any tensor by arithmetic, and validation proves the whole table once.
//!
//! Tensor shapes (`D` d_model, `F` d_ff, `S`/`T` max source/target length, `C` stem
//! channels, `K` = 3 the stem's kernel):
//!
//! ```text
//! SrcEmbed [src_vocab, D]      SrcTypeEmbed [type_vocab, D]   SrcEmbedNorm{Gamma,Beta} [D]
//! StemConv1Weight [D, K, C]    StemConv1Bias [D]   (PyTorch's Conv1d [out, in, K] stored
//! StemConv2Weight [D, K, D]    StemConv2Bias [D]    kernel-major: [out, K, in])
//! SrcPos [S, D]   TgtEmbed [tgt_vocab, D]   TgtPos [T, D]   {Enc,Dec}Norm{Gamma,Beta} [D]
//! (SrcPos/TgtPos: the learned tables, or, optional with sinusoidal positions, the
//! sinusoids stored so that the engine needs no sin/cos: `convert --positions-table`)
//! OutWeight [tgt_vocab, D]     OutBias [tgt_vocab]
//! attention Q/K/V/Out weights [D, D], biases [D]; FfnW1 [F, D], FfnB1 [F], FfnW2 [D, F],
//! FfnB2 [D]; every LayerNorm gamma/beta [D] (RMSNorm: gamma only)
//! decoder self-attention K/V weights [Dkv, D], biases [Dkv], Dkv = n_kv_heads D / H;
//! gated feed-forward: FfnW1 [2F, D] (W1 then W3 stacked), FfnB1 [2F]
//! ```
//!
//! Weight matrices and the dtype: the linear layers' weights (attention Q/K/V/Out of every
//! block, FfnW1, FfnW2, and OutWeight; see [`matrix_rows`]) are stored in the blob's
//! dtype; every other tensor (embeddings, position tables, biases, LayerNorm parameters,
//! the convolution stem) is f32 in every blob. Embeddings stay f32 because they are
//! looked up, not multiplied (a tied output projection therefore runs in f32 too), and the
//! stem runs once per input. The exception: an int8 blob of a tied model may store its
//! target embedding as an int8 matrix ([`FLAG_I8_EMBEDDING`], `convert --dtype i8`), so
//! that the classifier runs on the int8 kernels too; and an int8 blob of a model with a
//! stem may store both convolution weights as int8 matrices, tap-major `[K D, C]` and
//! `[K D, D]` (row `k D + o` holds output channel `o`'s weights of tap `k`, with its own
//! scale; [`FLAG_I8_STEM`], `convert --i8-stem`). `len` is always the element count
//! `rows * cols`; the bytes at `offset` are:
//!
//! ```text
//! f32   len x f32 (little-endian)
//! f16   len x IEEE binary16 (little-endian)
//! i8    rows x f32 scales (finite, >= 0), zero padding to 16 bytes,
//!       then len x i8 values, row-major: w[o][i] = scale[o] * q[o][i]
//! ```
//!
//! Version history: 1 = the paper's options; 2 adds `type_vocab`, `stem_channels`, the
//! `src_embed_norm` flag and their global tensors; 3 adds the llama family's fields
//! (`n_kv_heads`, the norm kind, the feed-forward shape, `rope_theta`) in what were
//! reserved words, and the SiLU and rotary codes; 4 adds the two checksums, moves the
//! table to 144, always writes version 3's fields and requires tensors packed exactly.
//! Blobs before version 4 carry no checksum and are refused
//! ([`Error::UnsupportedVersion`]): convert the model again.

use crate::config::{
    Activation, Config, Dims, FeedForward, Norm, NormKind, Positional, WeightType, STEM_KERNEL,
};
use crate::error::{BlobRegion, Error, Result};

/// The magic bytes that open every blob.
pub const MAGIC: [u8; 8] = *b"PFMODEL\0";
/// The format version this build reads and writes.
pub const VERSION: u32 = crate::version::BLOB_VERSION;
/// The oldest format version this build reads (its fields of later versions take their
/// defaults).
pub const MIN_VERSION: u32 = crate::version::MIN_BLOB_VERSION;
/// Byte offset of the tensor table.
pub const TABLE_OFFSET: usize = 144;
/// Byte offset of the header's checksum (CRC-32C of the header but this word).
pub const HEADER_CRC_OFFSET: usize = 128;
/// Byte offset of the tensor data's checksum (CRC-32C of bytes `[header_len, blob_len)`).
pub const DATA_CRC_OFFSET: usize = 132;
/// The header's reserved words (zero): byte offsets of each.
const RESERVED_WORDS: [usize; 3] = [124, 136, 140];
/// Bytes per tensor table entry.
pub const TABLE_ENTRY_BYTES: usize = 16;
/// Alignment of the blob itself and of every tensor in it.
pub const ALIGN: usize = 16;
/// Dtype code of f32 weights.
pub const DTYPE_F32: u32 = WeightType::F32 as u32;
/// Dtype code of f16 weight matrices.
pub const DTYPE_F16: u32 = WeightType::F16 as u32;
/// Dtype code of int8 weight matrices with per-row scales.
pub const DTYPE_I8: u32 = WeightType::I8 as u32;

/// Header flag bit: the embeddings are scaled by `sqrt(d_model)`.
pub const FLAG_SCALE_EMBEDDINGS: u32 = 1;
/// Header flag bit: the output projection is the target embedding.
pub const FLAG_TIE_OUTPUT: u32 = 2;
/// Header flag bit: LayerNorm on the top encoder and decoder outputs.
pub const FLAG_FINAL_NORM: u32 = 4;
/// Header flag bit: LayerNorm on the source embedding (BERT).
pub const FLAG_SRC_EMBED_NORM: u32 = 8;
/// Header flag bit: the target embedding is stored as an int8 weight matrix (per-row
/// scales, the layout of the other int8 matrices), looked up a dequantized row at a time
/// and multiplied as the tied output projection by the int8 kernels. Only in int8 blobs
/// of a tied model; blobs without it read as before.
pub const FLAG_I8_EMBEDDING: u32 = 16;
/// Header flag bit: the decoder's self-attention cache holds int8 keys and values with a
/// scale per key/value head and position ([`crate::config::CacheType::I8`]); in an
/// encoder-decoder model, the encoder self-attention's keys and values are int8 rows of
/// the same rule. Read by builds with the `int8` and `llama` features (llama-family
/// models) or `int8-attention` (encoder-decoder models); others refuse it as an unknown
/// flag. The weights are unchanged by it.
pub const FLAG_I8_KV_CACHE: u32 = 32;
/// Header flag bit: the convolution stem's two weight tensors are stored as int8 matrices,
/// tap-major `[3 D, C]` and `[3 D, D]` (one scale per output channel and tap, the layout
/// of the other int8 matrices), and each tap is the int8 linear rule over its input rows
/// (docs/spec.md, "int8 convolution stem"; `convert --i8-stem`). Only in int8 blobs of a model with a stem. Read
/// by builds with the `int8` and `conv-stem` features; others refuse it as an unknown
/// flag.
pub const FLAG_I8_STEM: u32 = 64;

#[cfg(target_endian = "big")]
compile_error!(
    "picoformer reads little-endian weights in place: big-endian targets are not supported"
);

/// Every kind of tensor a model can hold; the discriminant is the blob's `kind` code.
///
/// Within each group the discriminants follow the canonical table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
#[allow(missing_docs)] // the names are the documentation; shapes are in `expected_len`
pub enum TensorKind {
    // Globals, in this order, once per model.
    SrcEmbed = 1,
    SrcPos,
    TgtEmbed,
    TgtPos,
    EncNormGamma,
    EncNormBeta,
    DecNormGamma,
    DecNormBeta,
    OutWeight,
    OutBias,
    // Version 2: BERT's embedding extras and Whisper's convolution stem.
    SrcTypeEmbed,
    SrcEmbedNormGamma,
    SrcEmbedNormBeta,
    StemConv1Weight,
    StemConv1Bias,
    StemConv2Weight,
    StemConv2Bias,
    // Per encoder layer, in this order.
    EncSelfQWeight = 32,
    EncSelfQBias,
    EncSelfKWeight,
    EncSelfKBias,
    EncSelfVWeight,
    EncSelfVBias,
    EncSelfOutWeight,
    EncSelfOutBias,
    EncNorm1Gamma,
    EncNorm1Beta,
    EncFfnW1,
    EncFfnB1,
    EncFfnW2,
    EncFfnB2,
    EncNorm2Gamma,
    EncNorm2Beta,
    // Per decoder layer, in this order.
    DecSelfQWeight = 64,
    DecSelfQBias,
    DecSelfKWeight,
    DecSelfKBias,
    DecSelfVWeight,
    DecSelfVBias,
    DecSelfOutWeight,
    DecSelfOutBias,
    DecNorm1Gamma,
    DecNorm1Beta,
    DecCrossQWeight,
    DecCrossQBias,
    DecCrossKWeight,
    DecCrossKBias,
    DecCrossVWeight,
    DecCrossVBias,
    DecCrossOutWeight,
    DecCrossOutBias,
    DecNorm2Gamma,
    DecNorm2Beta,
    DecFfnW1,
    DecFfnB1,
    DecFfnW2,
    DecFfnB2,
    DecNorm3Gamma,
    DecNorm3Beta,
}

use TensorKind as K;

/// The global tensors, in table order.
pub const GLOBAL_TENSORS: [TensorKind; 17] = [
    K::SrcEmbed,
    K::SrcPos,
    K::TgtEmbed,
    K::TgtPos,
    K::EncNormGamma,
    K::EncNormBeta,
    K::DecNormGamma,
    K::DecNormBeta,
    K::OutWeight,
    K::OutBias,
    K::SrcTypeEmbed,
    K::SrcEmbedNormGamma,
    K::SrcEmbedNormBeta,
    K::StemConv1Weight,
    K::StemConv1Bias,
    K::StemConv2Weight,
    K::StemConv2Bias,
];

/// The tensors of one encoder layer, in table order.
pub const ENCODER_LAYER_TENSORS: [TensorKind; 16] = [
    K::EncSelfQWeight,
    K::EncSelfQBias,
    K::EncSelfKWeight,
    K::EncSelfKBias,
    K::EncSelfVWeight,
    K::EncSelfVBias,
    K::EncSelfOutWeight,
    K::EncSelfOutBias,
    K::EncNorm1Gamma,
    K::EncNorm1Beta,
    K::EncFfnW1,
    K::EncFfnB1,
    K::EncFfnW2,
    K::EncFfnB2,
    K::EncNorm2Gamma,
    K::EncNorm2Beta,
];

/// The tensors of one decoder layer, in table order.
pub const DECODER_LAYER_TENSORS: [TensorKind; 26] = [
    K::DecSelfQWeight,
    K::DecSelfQBias,
    K::DecSelfKWeight,
    K::DecSelfKBias,
    K::DecSelfVWeight,
    K::DecSelfVBias,
    K::DecSelfOutWeight,
    K::DecSelfOutBias,
    K::DecNorm1Gamma,
    K::DecNorm1Beta,
    K::DecCrossQWeight,
    K::DecCrossQBias,
    K::DecCrossKWeight,
    K::DecCrossKBias,
    K::DecCrossVWeight,
    K::DecCrossVBias,
    K::DecCrossOutWeight,
    K::DecCrossOutBias,
    K::DecNorm2Gamma,
    K::DecNorm2Beta,
    K::DecFfnW1,
    K::DecFfnB1,
    K::DecFfnW2,
    K::DecFfnB2,
    K::DecNorm3Gamma,
    K::DecNorm3Beta,
];

/// Whether a table slot must hold a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// The configuration needs it.
    Required,
    /// May be present (biases, LayerNorm betas): absent means zero.
    Optional,
    /// Must be absent (the configuration has no use for it).
    Absent,
}

/// One slot of the canonical tensor table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// What the tensor is.
    pub kind: TensorKind,
    /// Layer index within its stack (0 for globals).
    pub layer: usize,
    /// Element count when present.
    pub len: usize,
    /// Whether it must, may or must not be present.
    pub presence: Presence,
}

/// Number of table slots of a configuration: `17 + 16 Le + 26 Ld` (saturating at
/// `usize::MAX`, which no table has: [`header_len`] then reports the overflow).
pub const fn slot_count(dims: &Dims) -> usize {
    let enc = ENCODER_LAYER_TENSORS
        .len()
        .saturating_mul(dims.n_encoder_layers);
    let dec = DECODER_LAYER_TENSORS
        .len()
        .saturating_mul(dims.n_decoder_layers);
    GLOBAL_TENSORS.len().saturating_add(enc).saturating_add(dec)
}

/// Table index of a global tensor.
pub(crate) const fn global_index(kind: TensorKind) -> usize {
    kind as usize - K::SrcEmbed as usize
}

/// Table index of a tensor of encoder layer `layer`.
///
/// Wrapping arithmetic, which cannot wrap: layer counts are validated at load (at most
/// `MAX_LAYERS`), so the index stays below the table's length; and a wrapped index would
/// only miss the table (`MissingTensor`), never read outside it.
pub(crate) const fn encoder_index(layer: usize, kind: TensorKind) -> usize {
    GLOBAL_TENSORS
        .len()
        .wrapping_add(layer.wrapping_mul(ENCODER_LAYER_TENSORS.len()))
        .wrapping_add((kind as usize).wrapping_sub(K::EncSelfQWeight as usize))
}

/// Table index of a tensor of decoder layer `layer` (wrapping, as [`encoder_index`]).
pub(crate) const fn decoder_index(dims: &Dims, layer: usize, kind: TensorKind) -> usize {
    GLOBAL_TENSORS
        .len()
        .wrapping_add(
            dims.n_encoder_layers
                .wrapping_mul(ENCODER_LAYER_TENSORS.len()),
        )
        .wrapping_add(layer.wrapping_mul(DECODER_LAYER_TENSORS.len()))
        .wrapping_add((kind as usize).wrapping_sub(K::DecSelfQWeight as usize))
}

/// The kind of tensor at table index `index`, or `None` past the end.
pub(crate) fn kind_at(dims: &Dims, index: usize) -> Option<TensorKind> {
    if let Some(&kind) = GLOBAL_TENSORS.get(index) {
        return Some(kind);
    }
    let rest = index - GLOBAL_TENSORS.len();
    let enc_slots = ENCODER_LAYER_TENSORS
        .len()
        .saturating_mul(dims.n_encoder_layers);
    if rest < enc_slots {
        return ENCODER_LAYER_TENSORS
            .get(rest % ENCODER_LAYER_TENSORS.len())
            .copied();
    }
    let rest = rest - enc_slots;
    if rest / DECODER_LAYER_TENSORS.len() >= dims.n_decoder_layers {
        return None;
    }
    DECODER_LAYER_TENSORS
        .get(rest % DECODER_LAYER_TENSORS.len())
        .copied()
}

/// The slot at table index `index`, or `None` past the end. Sizes use checked arithmetic.
pub fn slot(config: &Config, index: usize) -> Result<Option<Slot>> {
    let d = &config.dims;
    let (kind, layer) = if let Some(&kind) = GLOBAL_TENSORS.get(index) {
        (kind, 0)
    } else {
        let rest = index - GLOBAL_TENSORS.len();
        let enc_slots = ENCODER_LAYER_TENSORS
            .len()
            .saturating_mul(d.n_encoder_layers);
        if rest < enc_slots {
            let layer = rest / ENCODER_LAYER_TENSORS.len();
            let within = rest % ENCODER_LAYER_TENSORS.len();
            match ENCODER_LAYER_TENSORS.get(within) {
                Some(&kind) => (kind, layer),
                None => return Ok(None),
            }
        } else {
            let rest = rest - enc_slots;
            let layer = rest / DECODER_LAYER_TENSORS.len();
            if layer >= d.n_decoder_layers {
                return Ok(None);
            }
            match DECODER_LAYER_TENSORS.get(rest % DECODER_LAYER_TENSORS.len()) {
                Some(&kind) => (kind, layer),
                None => return Ok(None),
            }
        }
    };
    let mul = |a: usize, b: usize| a.checked_mul(b).ok_or(Error::SizeOverflow);
    let (dm, f) = (d.d_model, d.d_ff);
    let (kv_width, gate) = (kv_rows(d), gate_factor(d));
    let mul3 = |a: usize, b: usize, c: usize| mul(a, b).and_then(|ab| mul(ab, c));
    let (enc, dec) = (config.has_encoder(), config.has_decoder());
    let stem = enc && d.stem_channels > 0;
    // Learned tables are required; sinusoidal models may store theirs (the converter's
    // `--positions-table`), so firmware built without `sinusoid` needs no sin/cos.
    let positions = match config.positional {
        Positional::None | Positional::Rope | Positional::RopeHalf => Presence::Absent,
        Positional::Learned => Req,
        Positional::Sinusoidal | Positional::SinusoidalConcat => Opt,
    };
    use Presence::{Optional as Opt, Required as Req};
    let when = |cond: bool, presence: Presence| if cond { presence } else { Presence::Absent };
    let (len, presence) = match kind {
        K::SrcEmbed => (mul(d.src_vocab, dm)?, when(enc && d.src_vocab > 0, Req)),
        K::SrcTypeEmbed => (mul(d.type_vocab, dm)?, when(enc && d.type_vocab > 0, Req)),
        K::SrcEmbedNormGamma => (dm, when(enc && config.src_embed_norm, Req)),
        K::SrcEmbedNormBeta => (dm, when(enc && config.src_embed_norm, Opt)),
        K::StemConv1Weight => (mul3(dm, STEM_KERNEL, d.stem_channels)?, when(stem, Req)),
        K::StemConv2Weight => (mul3(dm, STEM_KERNEL, dm)?, when(stem, Req)),
        K::StemConv1Bias | K::StemConv2Bias => (dm, when(stem, Opt)),
        K::SrcPos => (mul(d.max_src_len, dm)?, when(enc, positions)),
        K::TgtEmbed => (mul(d.tgt_vocab, dm)?, when(dec, Req)),
        K::TgtPos => (mul(d.max_tgt_len, dm)?, when(dec, positions)),
        K::EncNormGamma => (dm, when(enc && config.final_norm, Req)),
        K::EncNormBeta => (dm, when(enc && config.final_norm, Opt)),
        K::DecNormGamma => (dm, when(dec && config.final_norm, Req)),
        K::DecNormBeta => (dm, when(dec && config.final_norm, Opt)),
        K::OutWeight => (mul(d.tgt_vocab, dm)?, when(dec && !config.tie_output, Req)),
        K::OutBias => (d.tgt_vocab, when(dec, Opt)),
        K::EncSelfQWeight
        | K::EncSelfKWeight
        | K::EncSelfVWeight
        | K::EncSelfOutWeight
        | K::DecSelfQWeight
        | K::DecSelfOutWeight => (mul(dm, dm)?, Req),
        // Grouped-query attention: `n_kv_heads` key/value heads.
        K::DecSelfKWeight | K::DecSelfVWeight => (mul(kv_width, dm)?, Req),
        K::DecSelfKBias | K::DecSelfVBias => (kv_width, Opt),
        K::DecCrossQWeight | K::DecCrossKWeight | K::DecCrossVWeight | K::DecCrossOutWeight => {
            (mul(dm, dm)?, when(enc, Req))
        }
        K::DecCrossQBias | K::DecCrossKBias | K::DecCrossVBias | K::DecCrossOutBias => {
            (dm, when(enc, Opt))
        }
        K::DecNorm2Gamma => (dm, when(enc, Req)),
        K::DecNorm2Beta => (dm, when(enc, Opt)),
        K::EncNorm1Gamma | K::EncNorm2Gamma | K::DecNorm1Gamma | K::DecNorm3Gamma => (dm, Req),
        K::EncSelfQBias
        | K::EncSelfKBias
        | K::EncSelfVBias
        | K::EncSelfOutBias
        | K::DecSelfQBias
        | K::DecSelfOutBias
        | K::EncNorm1Beta
        | K::EncNorm2Beta
        | K::DecNorm1Beta
        | K::DecNorm3Beta
        | K::EncFfnB2
        | K::DecFfnB2 => (dm, Opt),
        K::EncFfnW1 | K::DecFfnW1 => (mul3(gate, f, dm)?, Req),
        K::EncFfnW2 | K::DecFfnW2 => (mul(f, dm)?, Req),
        K::EncFfnB1 | K::DecFfnB1 => (mul(gate, f)?, Opt),
    };
    Ok(Some(Slot {
        kind,
        layer,
        len,
        presence,
    }))
}

/// Rows of the decoder's self-attention key/value projections: [`Dims::kv_width`]. A
/// build without the `llama` feature loads only models with as many key/value heads as
/// query heads (validation refuses others), where that is `d_model`: no division linked.
const fn kv_rows(dims: &Dims) -> usize {
    if cfg!(feature = "llama") {
        dims.kv_width()
    } else {
        dims.d_model
    }
}

/// Rows of the first feed-forward matrix per `d_ff`: 2 for a gated network (feature
/// `llama`; builds without it load only plain networks, as [`kv_rows`]).
const fn gate_factor(dims: &Dims) -> usize {
    if cfg!(feature = "llama") {
        dims.feed_forward.hidden_factor()
    } else {
        1
    }
}

/// Rows (output features) of a weight matrix stored in the blob's dtype, `None` for every
/// other tensor (which is f32 in every blob).
pub const fn matrix_rows(dims: &Dims, kind: TensorKind) -> Option<usize> {
    match kind {
        K::EncSelfQWeight
        | K::EncSelfKWeight
        | K::EncSelfVWeight
        | K::EncSelfOutWeight
        | K::DecSelfQWeight
        | K::DecSelfOutWeight
        | K::DecCrossQWeight
        | K::DecCrossKWeight
        | K::DecCrossVWeight
        | K::DecCrossOutWeight
        | K::EncFfnW2
        | K::DecFfnW2 => Some(dims.d_model),
        K::DecSelfKWeight | K::DecSelfVWeight => Some(kv_rows(dims)),
        K::EncFfnW1 | K::DecFfnW1 => Some(dims.d_ff.saturating_mul(gate_factor(dims))),
        K::OutWeight => Some(dims.tgt_vocab),
        _ => None,
    }
}

/// Rows of `kind` when it is stored as a weight matrix in the blob's dtype: the
/// [`matrix_rows`] tensors, the target embedding in a blob with [`FLAG_I8_EMBEDDING`] and
/// the stem's two convolution weights in a blob with [`FLAG_I8_STEM`] (`flags`: the
/// header's flag word, the bits `FLAG_I8_EMBEDDING | FLAG_I8_STEM` of it matter).
pub const fn stored_matrix_rows(dims: &Dims, kind: TensorKind, flags: u32) -> Option<usize> {
    if flags & FLAG_I8_EMBEDDING != 0 && matches!(kind, K::TgtEmbed) {
        Some(dims.tgt_vocab)
    } else if flags & FLAG_I8_STEM != 0 && matches!(kind, K::StemConv1Weight | K::StemConv2Weight) {
        // tap-major `[K D, C]` and `[K D, D]`: one row per output channel and tap
        Some(dims.d_model.saturating_mul(STEM_KERNEL))
    } else {
        matrix_rows(dims, kind)
    }
}

/// Whether this build reads int8 target embeddings ([`FLAG_I8_EMBEDDING`]): with the
/// `int8` and `llama` features (the tied classifier of the llama int8 path). Without
/// them such blobs are refused at load, and the encoder-decoder firmware links none of it.
pub(crate) const I8_EMBEDDING_BUILT: bool = cfg!(all(feature = "int8", feature = "llama"));

/// Whether this build reads [`FLAG_I8_KV_CACHE`]: the llama family's int8 cache
/// ([`I8_EMBEDDING_BUILT`]) or an encoder-decoder model's int8 attention (feature
/// `int8-attention`, the Whisper firmware's). Other builds refuse the flag as unknown.
pub(crate) const I8_KV_CACHE_BUILT: bool = I8_EMBEDDING_BUILT || cfg!(feature = "int8-attention");

/// Whether this build reads [`FLAG_I8_STEM`]: with the `int8` and `conv-stem` features.
/// Other builds refuse the flag as unknown.
pub(crate) const I8_STEM_BUILT: bool = cfg!(all(feature = "int8", feature = "conv-stem"));

/// The flags of a blob's header (validated) that change which tensors are stored as
/// weight matrices ([`stored_matrix_rows`]): [`FLAG_I8_EMBEDDING`] and [`FLAG_I8_STEM`],
/// each only in builds that read it (0 for the others, which fold the tests away).
pub(crate) fn stored_flags(blob: &[u8]) -> u32 {
    let built = if I8_EMBEDDING_BUILT {
        FLAG_I8_EMBEDDING
    } else {
        0
    } | if I8_STEM_BUILT { FLAG_I8_STEM } else { 0 };
    if built == 0 {
        return 0;
    }
    read_u32(blob, 76).map_or(0, |flags| flags & built)
}

/// Whether a blob's header sets [`FLAG_I8_STEM`] (the header was validated); always
/// `false` in builds without [`I8_STEM_BUILT`].
pub(crate) fn i8_stem(blob: &[u8]) -> bool {
    stored_flags(blob) & FLAG_I8_STEM != 0
}

/// Whether a blob's header sets [`FLAG_I8_EMBEDDING`] (the header was validated); always
/// `false` in builds without [`I8_EMBEDDING_BUILT`].
pub(crate) fn i8_embedding(blob: &[u8]) -> bool {
    I8_EMBEDDING_BUILT && read_u32(blob, 76).is_ok_and(|flags| flags & FLAG_I8_EMBEDDING != 0)
}

/// Bytes the tensor of `slot` takes at its offset in a blob of `dtype` (before padding;
/// `flags`: the header's flag word, of which [`stored_matrix_rows`] reads two bits).
pub fn stored_bytes(dims: &Dims, dtype: WeightType, slot: &Slot, flags: u32) -> Option<usize> {
    match stored_matrix_rows(dims, slot.kind, flags) {
        Some(rows) => dtype.matrix_bytes(rows, slot.len),
        None => slot.len.checked_mul(4),
    }
}

/// Bytes of header plus tensor table for a configuration.
pub fn header_len(dims: &Dims) -> Result<usize> {
    slot_count(dims)
        .checked_mul(TABLE_ENTRY_BYTES)
        .and_then(|t| t.checked_add(TABLE_OFFSET))
        .ok_or(Error::SizeOverflow)
}

fn read_u32(bytes: &[u8], offset: usize) -> Result<u32> {
    let field = offset
        .checked_add(4)
        .and_then(|end| bytes.get(offset..end))
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .ok_or(Error::BlobTruncated {
            needed: offset.saturating_add(4),
            got: bytes.len(),
        })?;
    Ok(u32::from_le_bytes(field))
}

fn read_usize(bytes: &[u8], offset: usize) -> Result<usize> {
    usize::try_from(read_u32(bytes, offset)?).map_err(|_| Error::SizeOverflow)
}

/// The weight type code of a blob's header (the header must be long enough).
pub fn read_dtype(blob: &[u8]) -> Result<WeightType> {
    let dtype = read_u32(blob, 20)?;
    WeightType::from_code(dtype).ok_or(Error::UnsupportedDtype { found: dtype })
}

/// Checks the blob opens as one this build reads: long enough for the fixed header,
/// the magic, a supported version.
fn check_preamble(blob: &[u8]) -> Result<()> {
    if blob.len() < TABLE_OFFSET {
        return Err(Error::BlobTruncated {
            needed: TABLE_OFFSET,
            got: blob.len(),
        });
    }
    // Compared as two 32-bit words: a slice comparison would link `memcmp` into
    // firmware, and a 64-bit one makes LLVM fail on RV32 with Zve32f ("Do not know how to
    // scalarize the result of this operator").
    let word = |at: usize| {
        MAGIC
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
    };
    let expected = (
        word(0).map(u32::from_le_bytes),
        word(4).map(u32::from_le_bytes),
    );
    if (read_u32(blob, 0).ok(), read_u32(blob, 4).ok()) != expected {
        return Err(Error::BadMagic);
    }
    let version = read_u32(blob, 8)?;
    if !(MIN_VERSION..=VERSION).contains(&version) {
        return Err(Error::UnsupportedVersion { found: version });
    }
    Ok(())
}

/// Reads and checks the fixed header (not the table, not the checksums): magic, version,
/// dtype, config.
pub fn read_config(blob: &[u8]) -> Result<Config> {
    check_preamble(blob)?;
    parse_config(blob)
}

/// [`read_config`] after the preamble: inlined into validation, as a `Config` returned
/// out of line is copied with `memcpy`, which the greedy firmware otherwise does not link.
#[inline(always)]
fn parse_config(blob: &[u8]) -> Result<Config> {
    read_dtype(blob)?;
    // The llama family's words (norm kind, feed-forward, rope_theta): without the
    // feature they must hold the defaults (0), and are not parsed (firmware code size).
    let llama_word = |offset| {
        let word = read_u32(blob, offset)?;
        if !cfg!(feature = "llama") && word != 0 {
            return Err(Error::FeatureDisabled { feature: "llama" });
        }
        Ok(word)
    };
    let dims = Dims {
        d_model: read_usize(blob, 24)?,
        n_heads: read_usize(blob, 28)?,
        d_ff: read_usize(blob, 32)?,
        n_encoder_layers: read_usize(blob, 36)?,
        n_decoder_layers: read_usize(blob, 40)?,
        src_vocab: read_usize(blob, 44)?,
        tgt_vocab: read_usize(blob, 48)?,
        max_src_len: read_usize(blob, 52)?,
        max_tgt_len: read_usize(blob, 56)?,
        type_vocab: read_usize(blob, 100)?,
        stem_channels: read_usize(blob, 104)?,
        n_kv_heads: read_usize(blob, 108)?,
        feed_forward: FeedForward::from_code(llama_word(116)?).ok_or(Error::InvalidConfig {
            reason: "unknown feed-forward code",
        })?,
        kv_cache: crate::config::CacheType::F32,
    };
    let invalid = |reason| Error::InvalidConfig { reason };
    let flags = read_u32(blob, 76)?;
    // (Builds without int8 target embeddings refuse their flag as unknown: the
    // encoder-decoder firmware's code stays as it was before the flag.)
    let i8_embedding_flag = if I8_EMBEDDING_BUILT {
        FLAG_I8_EMBEDDING | FLAG_I8_KV_CACHE
    } else if I8_KV_CACHE_BUILT {
        FLAG_I8_KV_CACHE
    } else {
        0
    };
    let i8_stem_flag = if I8_STEM_BUILT { FLAG_I8_STEM } else { 0 };
    let known = FLAG_SCALE_EMBEDDINGS
        | FLAG_TIE_OUTPUT
        | FLAG_FINAL_NORM
        | FLAG_SRC_EMBED_NORM
        | i8_embedding_flag
        | i8_stem_flag;
    if flags & !known != 0 {
        return Err(invalid("unknown flag bits set"));
    }
    // Reserved words are zero, so that a later version can give them a meaning.
    for at in RESERVED_WORDS {
        if read_u32(blob, at)? != 0 {
            return Err(invalid("reserved header bytes are not zero"));
        }
    }
    let mut dims = dims;
    if I8_KV_CACHE_BUILT && flags & FLAG_I8_KV_CACHE != 0 {
        dims.kv_cache = crate::config::CacheType::I8;
    }
    let config = Config {
        dims,
        norm: Norm::from_code(read_u32(blob, 60)?).ok_or(invalid("unknown norm code"))?,
        activation: Activation::from_code(read_u32(blob, 64)?)
            .ok_or(invalid("unknown activation code"))?,
        positional: Positional::from_code(read_u32(blob, 68)?)
            .ok_or(invalid("unknown positional code"))?,
        layer_norm_eps: f32::from_bits(read_u32(blob, 72)?),
        norm_kind: NormKind::from_code(llama_word(112)?)
            .ok_or(invalid("unknown norm kind code"))?,
        rope_theta: f32::from_bits(llama_word(120)?),
        scale_embeddings: flags & FLAG_SCALE_EMBEDDINGS != 0,
        tie_output: flags & FLAG_TIE_OUTPUT != 0,
        final_norm: flags & FLAG_FINAL_NORM != 0,
        src_embed_norm: flags & FLAG_SRC_EMBED_NORM != 0,
        bos_id: read_u32(blob, 80)?,
        eos_id: read_u32(blob, 84)?,
        pad_id: read_u32(blob, 88)?,
    };
    config.validate()?;
    Ok(config)
}

/// A tensor table entry as stored: `[kind, layer, offset, len]`.
pub(crate) type TableEntry = [u32; 4];

/// Validates a whole blob; on success returns its config, weight type and tensor table.
///
/// After this returns `Ok`, every table entry is the canonical slot of its index, every
/// present tensor lies 16-byte aligned inside the blob without overlapping another, and
/// every int8 row scale is finite and `>= 0`.
pub(crate) fn validate(
    blob: &[u8],
    checksums: Checksums,
) -> Result<(Config, WeightType, &[TableEntry])> {
    if !(blob.as_ptr() as usize).is_multiple_of(ALIGN) {
        return Err(Error::BlobMisaligned);
    }
    check_preamble(blob)?;
    let declared_len = read_usize(blob, 16)?;
    if declared_len > blob.len() {
        return Err(Error::BlobTruncated {
            needed: declared_len,
            got: blob.len(),
        });
    }
    if declared_len != blob.len() || !declared_len.is_multiple_of(ALIGN) {
        return Err(Error::BlobLengthMismatch {
            declared: declared_len,
            got: blob.len(),
        });
    }
    // Before any field is believed: a corrupt header is reported as such, not as the
    // field the corruption happened to hit.
    if checksums == Checksums::Verify {
        verify_checksums(blob)?;
    }
    let config = parse_config(blob)?;
    let dtype = read_dtype(blob)?;
    let dims = &config.dims;
    let flags = stored_flags(blob);
    if flags & FLAG_I8_EMBEDDING != 0
        && !(dtype == WeightType::I8 && config.tie_output && config.has_decoder())
    {
        return Err(Error::InvalidConfig {
            reason: "an int8 target embedding needs int8 weights and a tied output projection",
        });
    }
    if I8_STEM_BUILT && flags & FLAG_I8_STEM != 0 {
        let widest = dims.stem_channels.max(dims.d_model);
        if dtype != WeightType::I8 || dims.stem_channels == 0 || !config.has_encoder() {
            return Err(Error::InvalidConfig {
                reason: "an int8 stem needs int8 weights and a convolution stem",
            });
        }
        if widest > picoformer_kernels::quant::I8_MAX_K {
            return Err(Error::InvalidConfig {
                reason: "an int8 stem needs stem_channels <= 131072 (i32 sums)",
            });
        }
    }
    if dtype == WeightType::I8 && dims.d_model.max(dims.d_ff) > picoformer_kernels::quant::I8_MAX_K
    {
        return Err(Error::InvalidConfig {
            reason: "int8 weights need d_model and d_ff <= 131072 (i32 sums)",
        });
    }
    let header_len = header_len(&config.dims)?;
    let count = read_usize(blob, 92)?;
    if count != slot_count(&config.dims)
        || read_usize(blob, 12)? != header_len
        || read_usize(blob, 96)? != TABLE_OFFSET
    {
        return Err(Error::TensorTableCorrupt { index: 0 });
    }
    let table_bytes = blob
        .get(TABLE_OFFSET..header_len)
        .ok_or(Error::BlobTruncated {
            needed: header_len,
            got: blob.len(),
        })?;
    let table: &[TableEntry] =
        bytemuck::try_cast_slice(table_bytes).map_err(|_| Error::BlobMisaligned)?;
    // Tensors are packed in table order, each padded to 16 bytes: every present tensor
    // starts exactly where the previous one's padding ends (the first at `header_len`),
    // and the last one's padding ends the blob. So each tensor fills its slot exactly,
    // and a relabelled dtype (an f32 blob read as f16) shows as a tensor whose bytes
    // differ from its slot's.
    let mut data_end = header_len;
    // The previous present tensor: its table index and offset.
    let mut previous: Option<(usize, usize)> = None;
    // Sinusoidal models: whether every side stores its position table.
    let mut positions_stored = true;
    // (a range, not `.enumerate()`: its counter is overflow-checked)
    for (index, entry) in (0..table.len()).zip(table) {
        let [kind, layer, offset, len] = *entry;
        let slot = slot(&config, index)?.ok_or(Error::TensorTableCorrupt { index })?;
        if kind != slot.kind as u32 || usize::try_from(layer).ok() != Some(slot.layer) {
            return Err(Error::TensorTableCorrupt { index });
        }
        let (offset, len) = (offset as usize, len as usize);
        match (slot.presence, len) {
            (Presence::Required, 0) => return Err(Error::MissingTensor { index }),
            (Presence::Absent, 0) | (Presence::Optional, 0) => {
                if offset != 0 {
                    return Err(Error::TensorOutOfBounds { index });
                }
                if slot.presence == Presence::Optional && matches!(slot.kind, K::SrcPos | K::TgtPos)
                {
                    positions_stored = false;
                }
                continue;
            }
            (Presence::Absent, found) => {
                return Err(Error::TensorShape {
                    index,
                    expected: 0,
                    found,
                })
            }
            (_, found) if found != slot.len => {
                return Err(Error::TensorShape {
                    index,
                    expected: slot.len,
                    found,
                })
            }
            _ => {}
        }
        let end = stored_bytes(dims, dtype, &slot, flags)
            .and_then(|bytes| bytes.checked_add(offset))
            .ok_or(Error::TensorOutOfBounds { index })?;
        if offset % ALIGN != 0 || offset < data_end || end > blob.len() {
            return Err(Error::TensorOutOfBounds { index });
        }
        if offset != data_end {
            return Err(gap_error(previous, data_end, offset, index));
        }
        if dtype == WeightType::I8 {
            if let Some(rows) = stored_matrix_rows(dims, slot.kind, flags) {
                check_scales(blob, offset, rows, index)?;
            }
        }
        // Cannot wrap: `end <= blob.len()`, and the blob's length is a multiple of 16
        // (ALIGN is a power of two).
        data_end = match end % ALIGN {
            0 => end,
            rest => end.wrapping_add(ALIGN - rest),
        };
        previous = Some((index, offset));
    }
    if data_end != blob.len() {
        return Err(gap_error(previous, data_end, blob.len(), 0));
    }
    if let Some(feature) = BUILD_FEATURES.missing_for(&config, dtype, positions_stored) {
        return Err(Error::FeatureDisabled { feature });
    }
    Ok((config, dtype, table))
}

/// Whether loading verifies the blob's checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Checksums {
    /// Verify both (the default of every loading entry point).
    Verify,
    /// The caller verified the image already (a bootloader): skip them.
    Trusted,
}

/// A CRC-32C computation over one or more byte ranges, in order: on the host the CPU's
/// CRC instructions (x86_64 SSE4.2, aarch64 `crc`), on firmware the kernels crate's
/// 16-entry table (64 bytes of flash; [`picoformer_kernels::crc32c_update`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crc32c(u32);

impl Default for Crc32c {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc32c {
    /// A computation over no bytes yet.
    pub const fn new() -> Self {
        Crc32c(!0)
    }

    /// Continues the computation over `bytes`.
    #[inline(never)]
    pub fn update(&mut self, bytes: &[u8]) {
        self.0 = picoformer_kernels::crc32c_update(self.0, bytes);
    }

    /// The CRC of the bytes so far.
    pub const fn finish(self) -> u32 {
        !self.0
    }
}

/// The CRC-32C of `bytes` (`crc32c(b"123456789") == 0xE3069283`).
pub fn crc32c(bytes: &[u8]) -> u32 {
    let mut crc = Crc32c::new();
    crc.update(bytes);
    crc.finish()
}

/// The checksums a blob should store, `[header_crc, data_crc]`, computed from its
/// declared header length (the rest of the header is not read). The writer stores them
/// at [`HEADER_CRC_OFFSET`] and [`DATA_CRC_OFFSET`]; loading compares them.
pub fn compute_checksums(blob: &[u8]) -> Result<[u32; 2]> {
    let [header, _] = checksums_of(blob, false)?;
    let [_, data] = checksums_of(blob, true)?;
    Ok([header, data])
}

/// One of [`compute_checksums`]' two (the other 0): the data's if `with_data`, else the
/// header's.
fn checksums_of(blob: &[u8], with_data: bool) -> Result<[u32; 2]> {
    let header_len = read_usize(blob, 12)?;
    if header_len > blob.len() {
        return Err(Error::BlobTruncated {
            needed: header_len,
            got: blob.len(),
        });
    }
    let data_crc_at = DATA_CRC_OFFSET;
    let (Some(before), Some(after), Some(data)) = (
        blob.get(..HEADER_CRC_OFFSET),
        blob.get(data_crc_at..header_len),
        blob.get(header_len..),
    ) else {
        // A header length inside the fixed header: no table could be there.
        return Err(Error::TensorTableCorrupt { index: 0 });
    };
    if with_data {
        return Ok([0, crc32c(data)]);
    }
    let mut header = Crc32c::new();
    header.update(before);
    header.update(after);
    Ok([header.finish(), 0])
}

/// Writes a blob's checksums into its header (after any edit of it: the writer, tests).
pub fn seal(blob: &mut [u8]) -> Result<()> {
    let header_len = read_usize(blob, 12)?;
    // A header ending before the table would put the data checksum's own field inside
    // the data it covers: no checksum written there could verify.
    if header_len < TABLE_OFFSET {
        return Err(Error::TensorTableCorrupt { index: 0 });
    }
    // The data checksum is covered by the header's: store it first.
    let data = crc32c(blob.get(header_len..).ok_or(Error::BlobTruncated {
        needed: header_len,
        got: blob.len(),
    })?);
    write_u32(blob, DATA_CRC_OFFSET, data)?;
    let [header, _] = checksums_of(blob, false)?;
    write_u32(blob, HEADER_CRC_OFFSET, header)
}

fn write_u32(bytes: &mut [u8], offset: usize, value: u32) -> Result<()> {
    let field = bytes
        .get_mut(offset..offset.saturating_add(4))
        .ok_or(Error::BlobTruncated {
            needed: offset.saturating_add(4),
            got: 0,
        })?;
    field.copy_from_slice(&value.to_le_bytes());
    Ok(())
}

/// Compares the stored checksums with the blob's bytes: the header's first (it covers
/// the data's checksum and the header length that delimits the data).
#[inline(never)]
fn verify_checksums(blob: &[u8]) -> Result<()> {
    let [header, _] = checksums_of(blob, false)?;
    let stored = read_u32(blob, HEADER_CRC_OFFSET)?;
    if stored != header {
        return Err(Error::Checksum {
            region: BlobRegion::Header,
            stored,
            computed: header,
        });
    }
    let [_, data] = checksums_of(blob, true)?;
    let stored = read_u32(blob, DATA_CRC_OFFSET)?;
    if stored != data {
        return Err(Error::Checksum {
            region: BlobRegion::TensorData,
            stored,
            computed: data,
        });
    }
    Ok(())
}

/// The error for a tensor whose successor (or the blob's end) lies at `next` rather
/// than at `expected`, the end of its padding: its bytes are not its slot's size.
/// Before the first tensor there is no slot to blame: that tensor is out of place.
#[inline(never)]
fn gap_error(
    previous: Option<(usize, usize)>,
    expected: usize,
    next: usize,
    first: usize,
) -> Error {
    match previous {
        Some((index, offset)) => Error::TensorSize {
            index,
            expected: expected.saturating_sub(offset),
            found: next.saturating_sub(offset),
        },
        None => Error::TensorOutOfBounds { index: first },
    }
}

/// The engine's model features (its cargo features of the same names) that decide
/// which blobs a build loads. (`probe` is checked by the call that takes a probe.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// int8 weight matrices.
    pub int8: bool,
    /// f16 weight matrices.
    pub f16: bool,
    /// The GELU activation.
    pub gelu: bool,
    /// The convolution stem (`conv-stem`).
    pub conv_stem: bool,
    /// Sinusoidal positions computed at run time (without it, sinusoidal blobs must
    /// store their tables).
    pub sinusoid: bool,
    /// The llama family's layers: RMSNorm, rotary positions, SiLU and the gated
    /// feed-forward network, grouped key/value heads.
    pub llama: bool,
}

/// The features of this build.
pub const BUILD_FEATURES: Features = Features {
    int8: cfg!(feature = "int8"),
    f16: cfg!(feature = "f16"),
    gelu: cfg!(feature = "gelu"),
    conv_stem: cfg!(feature = "conv-stem"),
    sinusoid: cfg!(feature = "sinusoid"),
    llama: cfg!(feature = "llama"),
};

impl Features {
    /// None of them: the engine with default features.
    pub const NONE: Features = Features {
        int8: false,
        f16: false,
        gelu: false,
        conv_stem: false,
        sinusoid: false,
        llama: false,
    };

    /// The feature a model needs that these lack, if any, by its cargo name (checked at
    /// load, so no call can reach code that is not there). `positions_stored`: a
    /// sinusoidal model stores its position tables.
    #[inline(always)]
    pub const fn missing_for(
        self,
        config: &Config,
        dtype: WeightType,
        positions_stored: bool,
    ) -> Option<&'static str> {
        let sinusoids = matches!(
            config.positional,
            Positional::Sinusoidal | Positional::SinusoidalConcat
        );
        if matches!(dtype, WeightType::I8) && !self.int8 {
            Some("int8")
        } else if matches!(dtype, WeightType::F16) && !self.f16 {
            Some("f16")
        } else if matches!(config.activation, Activation::Gelu) && !self.gelu {
            Some("gelu")
        } else if config.has_encoder() && config.dims.stem_channels > 0 && !self.conv_stem {
            Some("conv-stem")
        } else if sinusoids && !positions_stored && !self.sinusoid {
            Some("sinusoid")
        } else if config.uses_llama_layers() && !self.llama {
            Some("llama")
        } else {
            None
        }
    }
}

/// Every one of the `rows` f32 scales at `offset` is finite and `>= 0`.
fn check_scales(blob: &[u8], offset: usize, rows: usize, index: usize) -> Result<()> {
    let bytes = rows
        .checked_mul(4)
        .and_then(|n| n.checked_add(offset))
        .and_then(|end| blob.get(offset..end))
        .ok_or(Error::TensorOutOfBounds { index })?;
    for word in bytes.chunks_exact(4) {
        let bits = <[u8; 4]>::try_from(word).map_err(|_| Error::InvalidScale { index })?;
        let scale = f32::from_le_bytes(bits);
        if !(scale.is_finite() && scale >= 0.0) {
            return Err(Error::InvalidScale { index });
        }
    }
    Ok(())
}
