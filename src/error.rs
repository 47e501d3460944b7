//! The one error type of the engine: every public entry returns `Result<_, Error>`.

use core::fmt;

/// A region of the weights blob that has its own checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
// A word, as every other field of `Error`: a byte-sized field makes LLVM copy errors with
// `memcpy`, which the greedy firmware does not link otherwise (~900 bytes).
#[repr(u32)]
pub enum BlobRegion {
    /// The header and tensor table: bytes `[0, header_len)` but the header checksum.
    Header,
    /// The tensor data: bytes `[header_len, blob_len)`.
    TensorData,
}

impl BlobRegion {
    /// Its name in messages: `header` or `tensor data`.
    pub const fn name(self) -> &'static str {
        match self {
            BlobRegion::Header => "header",
            BlobRegion::TensorData => "tensor data",
        }
    }
}

/// Everything that can go wrong, each cause with its own variant.
///
/// `Display` gives a one-line message under every configuration (it is `core::fmt`);
/// `std::error::Error` is implemented under the `std` feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    // ---- the weights blob ----
    /// The blob is shorter than its header, its tensor table or the length it declares.
    BlobTruncated {
        /// Bytes the blob must have.
        needed: usize,
        /// Bytes it has.
        got: usize,
    },
    /// The blob does not start with the magic bytes `PFMODEL\0`.
    BadMagic,
    /// The blob's format version is not one this build reads.
    UnsupportedVersion {
        /// Version found in the blob.
        found: u32,
    },
    /// The blob's weight element type is not one this build computes with.
    UnsupportedDtype {
        /// Dtype code found in the blob.
        found: u32,
    },
    /// The blob's first byte is not on a 16-byte boundary.
    BlobMisaligned,
    /// The blob's declared length differs from the bytes given (trailing garbage).
    BlobLengthMismatch {
        /// Length the header declares.
        declared: usize,
        /// Bytes given.
        got: usize,
    },
    /// A configuration field is out of its valid range.
    InvalidConfig {
        /// Which rule was broken.
        reason: &'static str,
    },
    /// The tensor table does not list the tensors this configuration needs, in order.
    TensorTableCorrupt {
        /// Index of the offending table entry.
        index: usize,
    },
    /// A tensor lies (partly) outside the blob, overlaps another or is not 16-byte aligned.
    TensorOutOfBounds {
        /// Index of the offending table entry.
        index: usize,
    },
    /// A tensor's element count differs from what the configuration implies.
    TensorShape {
        /// Index of the offending table entry.
        index: usize,
        /// Element count the configuration implies.
        expected: usize,
        /// Element count the table gives.
        found: usize,
    },
    /// A tensor's bytes in the blob (from its offset to the next tensor, or to the blob's
    /// end) differ from the size its element count takes in the blob's dtype, padded to
    /// 16: tensors are packed, so this is a relabelled dtype or an edited table.
    TensorSize {
        /// Index of the offending table entry.
        index: usize,
        /// Bytes its elements take in the blob's dtype, padded to 16.
        expected: usize,
        /// Bytes the blob gives it.
        found: usize,
    },
    /// A checksum stored in the blob differs from its bytes: the blob is corrupt (a bit
    /// flipped in flash, a truncated transfer) or was edited.
    Checksum {
        /// The region whose checksum failed.
        region: BlobRegion,
        /// The checksum stored in the header.
        stored: u32,
        /// The checksum of the bytes.
        computed: u32,
    },
    /// A tensor required by this configuration is absent from the blob.
    MissingTensor {
        /// Index of the table entry.
        index: usize,
    },
    /// A scale of an int8 weight matrix is negative, NaN or infinite.
    InvalidScale {
        /// Index of the tensor table entry.
        index: usize,
    },
    /// The blob's weight type differs from the one of the statically sized model type.
    WrongDtype {
        /// Dtype code of the type (`WeightType as u32`).
        expected: u32,
        /// Dtype code in the blob.
        found: u32,
    },
    /// The blob (or the call) needs a cargo feature of the engine that this build was
    /// compiled without (firmware enables only what its model uses).
    FeatureDisabled {
        /// The feature to enable: `int8`, `f16`, `gelu`, `conv-stem`, `probe`, `sinusoid`
        /// or `llama`.
        feature: &'static str,
    },
    /// The blob's dimensions differ from the ones of the statically sized model type.
    ShapeMismatch {
        /// Name of the dimension.
        field: &'static str,
        /// Value in the type.
        expected: usize,
        /// Value in the blob.
        found: usize,
    },

    // ---- inputs ----
    /// A token id is not below the vocabulary size.
    TokenOutOfRange {
        /// The token.
        token: u32,
        /// The vocabulary size.
        vocab: usize,
    },
    /// An input sequence is empty.
    EmptySequence,
    /// An input of vectors or frames is not a whole number of rows.
    RaggedInput {
        /// Its length in elements.
        len: usize,
        /// Elements per row (`d_model` for vectors, `stem_channels` for frames).
        row: usize,
    },
    /// An input sequence is longer than the model allows.
    SequenceTooLong {
        /// Its length.
        len: usize,
        /// The maximum (`max_src_len` or `max_tgt_len`).
        max: usize,
    },
    /// `max_len` for decoding is 0 or exceeds `max_tgt_len`.
    MaxLenOutOfRange {
        /// Requested maximum.
        max_len: usize,
        /// Largest allowed (`max_tgt_len`).
        limit: usize,
    },
    /// Beam size is 0 or larger than the model or the scratch allows.
    BeamSizeOutOfRange {
        /// Requested beam size.
        beam: usize,
        /// Largest allowed.
        limit: usize,
    },
    /// Top beams is 0 or larger than the beam size.
    TopBeamsOutOfRange {
        /// Requested number of returned hypotheses.
        top: usize,
        /// The beam size.
        beam: usize,
    },
    /// The length-penalty exponent is negative or not finite.
    InvalidLengthPenalty,
    /// A sampling parameter is out of range (temperature, top-p or seed).
    InvalidSampling {
        /// Which rule was broken.
        reason: &'static str,
    },
    /// A decoding step's logits hold NaN or `+inf`, or are all `-inf`: the model's weights
    /// (or its input vectors) are broken, and no token can be chosen from them. Greedy
    /// decoding, sampling and beam search stop with this rather than answer; unlike an
    /// input error it comes after the checks, so the tokens of earlier steps may already
    /// be in the output.
    NonFiniteLogits,
    /// The model has no encoder, or no decoder, and the call needs one.
    WrongArchitecture {
        /// What the call needs.
        needs: &'static str,
    },

    // ---- buffers ----
    /// The scratch buffer is smaller than the exact size the call needs.
    ScratchTooSmall {
        /// Bytes needed (the `scratch_bytes` value).
        needed: usize,
        /// Bytes given.
        got: usize,
    },
    /// The scratch buffer does not start on a 16-byte boundary.
    ScratchMisaligned,
    /// An output buffer is shorter than the call may write.
    OutputTooSmall {
        /// Elements needed.
        needed: usize,
        /// Elements given.
        got: usize,
    },
    /// A size computed from the dimensions overflows `usize`.
    SizeOverflow,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::BlobTruncated { needed, got } => {
                write!(f, "model blob truncated: needs {needed} bytes, has {got}")
            }
            Error::BadMagic => write!(f, "not a picoformer model blob (bad magic)"),
            Error::UnsupportedVersion { found } => {
                write!(f, "unsupported model blob version {found} (this build reads version {}: convert the model again with this picoformer)", crate::version::BLOB_VERSION)
            }
            Error::UnsupportedDtype { found } => {
                write!(f, "unsupported weight dtype code {found} (this build reads f32 = 0, f16 = 1, i8 = 2)")
            }
            Error::BlobMisaligned => write!(f, "model blob is not 16-byte aligned in memory"),
            Error::BlobLengthMismatch { declared, got } => {
                write!(f, "model blob declares {declared} bytes but {got} were given")
            }
            Error::InvalidConfig { reason } => write!(f, "invalid model config: {reason}"),
            Error::TensorTableCorrupt { index } => {
                write!(f, "tensor table entry {index} is not the tensor this config expects there")
            }
            Error::TensorOutOfBounds { index } => write!(
                f,
                "tensor table entry {index} points outside the blob, overlaps another tensor or is misaligned"
            ),
            Error::TensorShape { index, expected, found } => write!(
                f,
                "tensor table entry {index} has {found} elements, the config implies {expected}"
            ),
            Error::TensorSize { index, expected, found } => write!(
                f,
                "tensor table entry {index} spans {found} bytes but its elements take {expected} in the blob's dtype (was the dtype edited?)"
            ),
            Error::Checksum { region, stored, computed } => write!(
                f,
                "model blob checksum mismatch in the {}: stored {stored:#010x}, computed {computed:#010x} (corrupt or edited blob)",
                region.name()
            ),
            Error::MissingTensor { index } => {
                write!(f, "tensor table entry {index} is required by this config but absent")
            }
            Error::InvalidScale { index } => write!(
                f,
                "tensor table entry {index} has a negative or non-finite int8 row scale"
            ),
            Error::WrongDtype { expected, found } => write!(
                f,
                "model blob has weight dtype code {found} but the static model type has {expected}"
            ),
            Error::FeatureDisabled { feature } => write!(
                f,
                "this model needs the engine's cargo feature `{feature}`, which this build lacks"
            ),
            Error::ShapeMismatch { field, expected, found } => write!(
                f,
                "model blob has {field} = {found} but the static model type has {expected}"
            ),
            Error::TokenOutOfRange { token, vocab } => {
                write!(f, "token id {token} out of range (vocabulary size {vocab})")
            }
            Error::EmptySequence => write!(f, "input sequence is empty"),
            Error::RaggedInput { len, row } => {
                write!(f, "input of {len} elements is not a whole number of {row}-element rows")
            }
            Error::SequenceTooLong { len, max } => {
                write!(f, "input sequence of {len} tokens is longer than the maximum {max}")
            }
            Error::MaxLenOutOfRange { max_len, limit } => {
                write!(f, "max_len {max_len} out of range 1..={limit}")
            }
            Error::BeamSizeOutOfRange { beam, limit } => {
                write!(f, "beam size {beam} out of range 1..={limit}")
            }
            Error::TopBeamsOutOfRange { top, beam } => {
                write!(f, "top beams {top} out of range 1..={beam} (the beam size)")
            }
            Error::InvalidLengthPenalty => {
                write!(f, "length penalty alpha must be finite and >= 0")
            }
            Error::InvalidSampling { reason } => write!(f, "invalid sampling parameters: {reason}"),
            Error::NonFiniteLogits => write!(
                f,
                "the model's logits are NaN or infinite (broken weights or inputs)"
            ),
            Error::WrongArchitecture { needs } => write!(f, "this model has no {needs}"),
            Error::ScratchTooSmall { needed, got } => {
                write!(f, "scratch buffer too small: needs {needed} bytes, has {got}")
            }
            Error::ScratchMisaligned => write!(f, "scratch buffer is not 16-byte aligned"),
            Error::OutputTooSmall { needed, got } => {
                write!(f, "output buffer too small: needs {needed} elements, has {got}")
            }
            Error::SizeOverflow => write!(f, "a size computed from the model dimensions overflows"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

/// Shorthand for `core::result::Result<T, Error>`.
pub type Result<T> = core::result::Result<T, Error>;
