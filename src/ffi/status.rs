//! Status codes of the C API: `PF_OK`, one code per [`Error`] variant, then the codes of
//! the C boundary itself (null, misaligned or overlapping pointers, a bad handle, ...).
//!
//! Codes are `int32_t` constants rather than a C `enum`: `sizeof(enum)` is 1 on
//! arm-none-eabi and 4 on the host, so an enum would not be one ABI.

use crate::error::{BlobRegion, Error};
use core::ffi::c_char;

/// Success.
pub const PF_OK: i32 = 0;
/// The blob is shorter than its header, its tensor table or the length it declares.
pub const PF_ERR_BLOB_TRUNCATED: i32 = 1;
/// The blob does not start with the magic bytes `PFMODEL\0`.
pub const PF_ERR_BAD_MAGIC: i32 = 2;
/// The blob's format version is not one this build reads.
pub const PF_ERR_UNSUPPORTED_VERSION: i32 = 3;
/// The blob's weight element type is not one this build computes with.
pub const PF_ERR_UNSUPPORTED_DTYPE: i32 = 4;
/// The blob does not start on a 16-byte boundary.
pub const PF_ERR_BLOB_MISALIGNED: i32 = 5;
/// The blob's declared length differs from the bytes given.
pub const PF_ERR_BLOB_LENGTH_MISMATCH: i32 = 6;
/// A configuration rule is broken.
pub const PF_ERR_INVALID_CONFIG: i32 = 7;
/// A tensor-table entry is not the tensor the configuration expects in that slot.
pub const PF_ERR_TENSOR_TABLE_CORRUPT: i32 = 8;
/// A tensor lies outside the blob, overlaps another or is misaligned.
pub const PF_ERR_TENSOR_OUT_OF_BOUNDS: i32 = 9;
/// A tensor's element count differs from the configuration's.
pub const PF_ERR_TENSOR_SHAPE: i32 = 10;
/// A tensor the configuration needs is absent.
pub const PF_ERR_MISSING_TENSOR: i32 = 11;
/// The blob's dimensions differ from a statically sized model's (Rust API only).
pub const PF_ERR_SHAPE_MISMATCH: i32 = 12;
/// A token id is not below the vocabulary size.
pub const PF_ERR_TOKEN_OUT_OF_RANGE: i32 = 13;
/// An empty source or target sequence.
pub const PF_ERR_EMPTY_SEQUENCE: i32 = 14;
/// A sequence longer than `max_src_len` / `max_tgt_len`.
pub const PF_ERR_SEQUENCE_TOO_LONG: i32 = 15;
/// `max_len` is 0 or above `max_tgt_len`.
pub const PF_ERR_MAX_LEN_OUT_OF_RANGE: i32 = 16;
/// Beam size 0, above `PF_MAX_BEAM`, or not below the target vocabulary.
pub const PF_ERR_BEAM_SIZE_OUT_OF_RANGE: i32 = 17;
/// Top beams 0 or above the beam size.
pub const PF_ERR_TOP_BEAMS_OUT_OF_RANGE: i32 = 18;
/// The length-penalty alpha is negative, NaN or infinite.
pub const PF_ERR_INVALID_LENGTH_PENALTY: i32 = 19;
/// The model lacks the encoder or the decoder the call needs.
pub const PF_ERR_WRONG_ARCHITECTURE: i32 = 20;
/// The scratch buffer is below the exact size the call needs.
pub const PF_ERR_SCRATCH_TOO_SMALL: i32 = 21;
/// The scratch buffer does not start on a 16-byte boundary.
pub const PF_ERR_SCRATCH_MISALIGNED: i32 = 22;
/// An output array is shorter than the call may write.
pub const PF_ERR_OUTPUT_TOO_SMALL: i32 = 23;
/// A size computed from the model dimensions overflows `size_t`.
pub const PF_ERR_SIZE_OVERFLOW: i32 = 24;
/// An input of vectors or frames is not a whole number of rows (Rust API only).
pub const PF_ERR_RAGGED_INPUT: i32 = 25;
/// An int8 weight matrix has a negative or non-finite row scale.
pub const PF_ERR_INVALID_SCALE: i32 = 26;
/// The blob's weight type is not the one the static model type expects (Rust API only).
pub const PF_ERR_WRONG_DTYPE: i32 = 27;
/// The model needs an engine feature (int8, f16, gelu, conv-stem, probe, sinusoid, llama) this
/// build was compiled without.
pub const PF_ERR_FEATURE_DISABLED: i32 = 28;
/// A sampling parameter is out of range: temperature negative or not finite, top-p not
/// finite, or seed 0.
pub const PF_ERR_INVALID_SAMPLING: i32 = 29;
/// A decoding step's logits hold NaN or infinities (broken weights or inputs): greedy
/// decoding, sampling and beam search stop rather than answer.
pub const PF_ERR_NON_FINITE_LOGITS: i32 = 30;
/// A tensor's bytes differ from the size of its elements in the blob's dtype (a
/// relabelled dtype or an edited tensor table).
pub const PF_ERR_TENSOR_SIZE: i32 = 31;
/// The blob's header (and tensor table) differs from its stored CRC-32C: corrupt or
/// edited.
pub const PF_ERR_HEADER_CHECKSUM: i32 = 32;
/// The blob's tensor data differs from its stored CRC-32C: corrupt or edited.
pub const PF_ERR_DATA_CHECKSUM: i32 = 33;

/// A required pointer is NULL (a NULL array is accepted only with length 0).
pub const PF_ERR_NULL_POINTER: i32 = 100;
/// A pointer is not aligned for its element type (`pf_model`: 8 bytes).
pub const PF_ERR_MISALIGNED_POINTER: i32 = 101;
/// An array length whose byte size exceeds `PTRDIFF_MAX` or wraps the address space.
pub const PF_ERR_BAD_LENGTH: i32 = 102;
/// Two arrays of one call overlap and at least one of them is written (or an output
/// overlaps the model blob).
pub const PF_ERR_OVERLAP: i32 = 103;
/// The `pf_model` was not set up by a successful `pf_model_init`.
pub const PF_ERR_INVALID_HANDLE: i32 = 104;
/// Reading a file failed (host builds only).
pub const PF_ERR_IO: i32 = 105;
/// A Rust panic was caught at the boundary (host builds; a bug, please report it).
pub const PF_ERR_PANIC: i32 = 106;

/// The status code of an engine error.
pub(crate) const fn code(error: &Error) -> i32 {
    match error {
        Error::BlobTruncated { .. } => PF_ERR_BLOB_TRUNCATED,
        Error::BadMagic => PF_ERR_BAD_MAGIC,
        Error::UnsupportedVersion { .. } => PF_ERR_UNSUPPORTED_VERSION,
        Error::UnsupportedDtype { .. } => PF_ERR_UNSUPPORTED_DTYPE,
        Error::BlobMisaligned => PF_ERR_BLOB_MISALIGNED,
        Error::BlobLengthMismatch { .. } => PF_ERR_BLOB_LENGTH_MISMATCH,
        Error::InvalidConfig { .. } => PF_ERR_INVALID_CONFIG,
        Error::TensorTableCorrupt { .. } => PF_ERR_TENSOR_TABLE_CORRUPT,
        Error::TensorOutOfBounds { .. } => PF_ERR_TENSOR_OUT_OF_BOUNDS,
        Error::TensorShape { .. } => PF_ERR_TENSOR_SHAPE,
        Error::TensorSize { .. } => PF_ERR_TENSOR_SIZE,
        Error::Checksum {
            region: BlobRegion::Header,
            ..
        } => PF_ERR_HEADER_CHECKSUM,
        Error::Checksum {
            region: BlobRegion::TensorData,
            ..
        } => PF_ERR_DATA_CHECKSUM,
        Error::MissingTensor { .. } => PF_ERR_MISSING_TENSOR,
        Error::ShapeMismatch { .. } => PF_ERR_SHAPE_MISMATCH,
        Error::TokenOutOfRange { .. } => PF_ERR_TOKEN_OUT_OF_RANGE,
        Error::EmptySequence => PF_ERR_EMPTY_SEQUENCE,
        Error::SequenceTooLong { .. } => PF_ERR_SEQUENCE_TOO_LONG,
        Error::MaxLenOutOfRange { .. } => PF_ERR_MAX_LEN_OUT_OF_RANGE,
        Error::BeamSizeOutOfRange { .. } => PF_ERR_BEAM_SIZE_OUT_OF_RANGE,
        Error::TopBeamsOutOfRange { .. } => PF_ERR_TOP_BEAMS_OUT_OF_RANGE,
        Error::InvalidLengthPenalty => PF_ERR_INVALID_LENGTH_PENALTY,
        Error::WrongArchitecture { .. } => PF_ERR_WRONG_ARCHITECTURE,
        Error::ScratchTooSmall { .. } => PF_ERR_SCRATCH_TOO_SMALL,
        Error::ScratchMisaligned => PF_ERR_SCRATCH_MISALIGNED,
        Error::OutputTooSmall { .. } => PF_ERR_OUTPUT_TOO_SMALL,
        Error::SizeOverflow => PF_ERR_SIZE_OVERFLOW,
        Error::RaggedInput { .. } => PF_ERR_RAGGED_INPUT,
        Error::InvalidScale { .. } => PF_ERR_INVALID_SCALE,
        Error::WrongDtype { .. } => PF_ERR_WRONG_DTYPE,
        Error::FeatureDisabled { .. } => PF_ERR_FEATURE_DISABLED,
        Error::InvalidSampling { .. } => PF_ERR_INVALID_SAMPLING,
        Error::NonFiniteLogits => PF_ERR_NON_FINITE_LOGITS,
    }
}

/// A static, NUL-terminated message for a status code.
pub(crate) const fn message(status: i32) -> &'static core::ffi::CStr {
    match status {
        PF_OK => c"ok",
        PF_ERR_BLOB_TRUNCATED => {
            c"model blob truncated: shorter than its header, tensor table or declared length"
        }
        PF_ERR_BAD_MAGIC => c"not a picoformer model blob (bad magic)",
        PF_ERR_UNSUPPORTED_VERSION => c"unsupported model blob version",
        PF_ERR_UNSUPPORTED_DTYPE => c"unsupported weight dtype",
        PF_ERR_BLOB_MISALIGNED => c"model blob is not 16-byte aligned in memory",
        PF_ERR_BLOB_LENGTH_MISMATCH => c"model blob length differs from the length it declares",
        PF_ERR_INVALID_CONFIG => c"invalid model config",
        PF_ERR_TENSOR_TABLE_CORRUPT => {
            c"tensor table entry is not the tensor this config expects there"
        }
        PF_ERR_TENSOR_OUT_OF_BOUNDS => {
            c"tensor points outside the blob, overlaps another tensor or is misaligned"
        }
        PF_ERR_TENSOR_SHAPE => c"tensor element count differs from the config's",
        PF_ERR_MISSING_TENSOR => c"a tensor required by this config is absent",
        PF_ERR_SHAPE_MISMATCH => c"model blob dimensions differ from the static model type's",
        PF_ERR_TOKEN_OUT_OF_RANGE => c"token id out of range (not below the vocabulary size)",
        PF_ERR_EMPTY_SEQUENCE => c"input sequence is empty",
        PF_ERR_SEQUENCE_TOO_LONG => c"input sequence is longer than the model's maximum",
        PF_ERR_MAX_LEN_OUT_OF_RANGE => c"max_len is 0 or above max_tgt_len",
        PF_ERR_BEAM_SIZE_OUT_OF_RANGE => {
            c"beam size is 0, above 64, or not below the target vocabulary"
        }
        PF_ERR_TOP_BEAMS_OUT_OF_RANGE => c"top beams is 0 or above the beam size",
        PF_ERR_INVALID_LENGTH_PENALTY => c"length penalty alpha must be finite and >= 0",
        PF_ERR_WRONG_ARCHITECTURE => c"the model lacks the encoder or decoder this call needs",
        PF_ERR_SCRATCH_TOO_SMALL => c"scratch buffer is smaller than the call needs",
        PF_ERR_SCRATCH_MISALIGNED => c"scratch buffer is not 16-byte aligned",
        PF_ERR_OUTPUT_TOO_SMALL => c"output array is shorter than the call may write",
        PF_ERR_SIZE_OVERFLOW => c"a size computed from the model dimensions overflows",
        PF_ERR_RAGGED_INPUT => c"an input of vectors or frames is not a whole number of rows",
        PF_ERR_INVALID_SCALE => c"an int8 weight row scale is negative or not finite",
        PF_ERR_WRONG_DTYPE => c"model blob weight type differs from the static model type's",
        PF_ERR_FEATURE_DISABLED => {
            c"the model needs an engine feature this build was compiled without"
        }
        PF_ERR_INVALID_SAMPLING => c"sampling temperature, top-p or seed out of range",
        PF_ERR_NON_FINITE_LOGITS => c"the model's logits are NaN or infinite",
        PF_ERR_TENSOR_SIZE => {
            c"tensor bytes differ from its elements' size in the blob's dtype (dtype edited?)"
        }
        PF_ERR_HEADER_CHECKSUM => c"model blob header checksum mismatch (corrupt or edited blob)",
        PF_ERR_DATA_CHECKSUM => {
            c"model blob tensor data checksum mismatch (corrupt or edited blob)"
        }
        PF_ERR_NULL_POINTER => c"a required pointer is NULL",
        PF_ERR_MISALIGNED_POINTER => c"a pointer is not aligned for its element type",
        PF_ERR_BAD_LENGTH => c"an array length is too large for the address space",
        PF_ERR_OVERLAP => c"arrays of one call overlap and one of them is written",
        PF_ERR_INVALID_HANDLE => c"pf_model was not set up by a successful pf_model_init",
        PF_ERR_IO => c"reading the file failed",
        PF_ERR_PANIC => c"internal error: a Rust panic was caught at the C boundary",
        _ => c"unknown picoformer status code",
    }
}

/// Pointer to the static message (`char` is `i8` or `u8` by target).
pub(crate) const fn message_ptr(status: i32) -> *const c_char {
    message(status).as_ptr()
}
