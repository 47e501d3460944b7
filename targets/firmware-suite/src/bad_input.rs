//! Bad input on target: each case must return its error variant (never fault, never
//! panic), exactly as on the host.

use crate::check::{fails_with, loaded, Check};
use crate::golden::{self, WiderNet};
use crate::{blob, Aligned, Net, SuiteScratch};
use picoformer::{BeamParams, Error, Model};

/// Name and body of every bad-input test.
pub(crate) const TESTS: &[(&str, fn(&mut SuiteScratch) -> Check)] = &[
    ("blob_bad_magic", bad_magic),
    ("blob_unsupported_version", unsupported_version),
    ("blob_truncated", truncated),
    ("blob_misaligned", misaligned),
    ("blob_shape_mismatch", shape_mismatch),
    ("token_out_of_range", token_out_of_range),
    ("max_len_out_of_range", max_len_out_of_range),
    ("scratch_too_small_runtime", scratch_too_small),
    ("scratch_misaligned_runtime", scratch_misaligned),
    ("beam_size_out_of_range_runtime", beam_size_out_of_range),
];

/// Bytes of the blob header that come before the tensor table.
const HEADER_BYTES: usize = picoformer::blob::TABLE_OFFSET;

/// An aligned RAM copy of the blob's header, to corrupt (the blob itself is in flash).
fn header_copy() -> Aligned<[u8; HEADER_BYTES]> {
    let mut header = Aligned([0u8; HEADER_BYTES]);
    for (dst, src) in header.0.iter_mut().zip(blob()) {
        *dst = *src;
    }
    header
}

fn bad_magic(_: &mut SuiteScratch) -> Check {
    let mut header = header_copy();
    if let Some(first) = header.0.first_mut() {
        *first ^= 0xff;
    }
    fails_with(
        Model::from_blob(&header.0),
        Error::BadMagic,
        "flipped magic",
    )
}

fn unsupported_version(_: &mut SuiteScratch) -> Check {
    let mut header = header_copy();
    // the version is the little-endian u32 at offset 8; the first one after this build's
    // (version 3 is read since the llama family's fields)
    let newer = picoformer::blob::VERSION + 1;
    if let Some(version) = header.0.get_mut(8..12) {
        version.copy_from_slice(&newer.to_le_bytes());
    }
    fails_with(
        Model::from_blob(&header.0),
        Error::UnsupportedVersion { found: newer },
        "a newer version",
    )
}

fn truncated(_: &mut SuiteScratch) -> Check {
    let len = blob().len();
    let short = blob().get(..len.saturating_sub(16)).unwrap_or(&[]);
    fails_with(
        Net::from_blob(short),
        Error::BlobTruncated {
            needed: len,
            got: len.saturating_sub(16),
        },
        "last 16 bytes cut",
    )?;
    // the header alone: the table and the tensors are missing
    let header = header_copy();
    fails_with(
        Model::from_blob(&header.0),
        Error::BlobTruncated {
            needed: len,
            got: HEADER_BYTES,
        },
        "header only",
    )
}

fn misaligned(_: &mut SuiteScratch) -> Check {
    let shifted = blob().get(4..).unwrap_or(&[]);
    fails_with(Model::from_blob(shifted), Error::BlobMisaligned, "blob + 4")
}

fn shape_mismatch(_: &mut SuiteScratch) -> Check {
    let dims = Net::DIMS;
    fails_with(
        WiderNet::from_blob(blob()),
        Error::ShapeMismatch {
            field: "d_model",
            expected: WiderNet::DIMS.d_model,
            found: dims.d_model,
        },
        "a type wider than the blob",
    )
}

fn token_out_of_range(scratch: &mut SuiteScratch) -> Check {
    let net = loaded(Net::from_blob(blob()), "Net::from_blob")?;
    let vocab = Net::DIMS.src_vocab;
    let mut out = [0u32; golden::MAX_TGT_LEN];
    let bad = vocab as u32;
    fails_with(
        net.greedy(&[3, bad, 4], golden::MAX_TGT_LEN, &mut out, scratch),
        Error::TokenOutOfRange { token: bad, vocab },
        "source id = src_vocab",
    )
}

fn max_len_out_of_range(scratch: &mut SuiteScratch) -> Check {
    let net = loaded(Net::from_blob(blob()), "Net::from_blob")?;
    let limit = Net::DIMS.max_tgt_len;
    let mut out = [0u32; golden::MAX_TGT_LEN];
    fails_with(
        net.greedy(&[3], 0, &mut out, scratch),
        Error::MaxLenOutOfRange { max_len: 0, limit },
        "max_len 0",
    )
}

fn scratch_too_small(scratch: &mut SuiteScratch) -> Check {
    let model = loaded(Model::from_blob(blob()), "Model::from_blob")?;
    let needed = Net::GREEDY_SCRATCH_BYTES;
    let short = scratch
        .0
        .get_mut(..needed.saturating_sub(16))
        .unwrap_or(&mut []);
    let got = short.len();
    let mut out = [0u32; golden::MAX_TGT_LEN];
    // Scratch is sized for the request: one for every target position needs the
    // model's whole greedy size, the const fn's.
    let max_len = Net::DIMS.max_tgt_len;
    fails_with(
        model.greedy(&[3], max_len, &mut out, short),
        Error::ScratchTooSmall { needed, got },
        "16 bytes short of the greedy size",
    )
}

fn scratch_misaligned(scratch: &mut SuiteScratch) -> Check {
    let model = loaded(Model::from_blob(blob()), "Model::from_blob")?;
    let shifted = scratch.0.get_mut(4..).unwrap_or(&mut []);
    let mut out = [0u32; golden::MAX_TGT_LEN];
    fails_with(
        model.greedy(&[3], 1, &mut out, shifted),
        Error::ScratchMisaligned,
        "scratch + 4",
    )
}

fn beam_size_out_of_range(scratch: &mut SuiteScratch) -> Check {
    let model = loaded(Model::from_blob(blob()), "Model::from_blob")?;
    let params = BeamParams {
        beam: 0,
        top: 1,
        alpha: 0.6,
        max_len: 1,
    };
    let limit = picoformer::MAX_BEAM.min(Net::DIMS.tgt_vocab.saturating_sub(1));
    fails_with(
        model.beam_search(&[3], &params, &mut scratch.0),
        Error::BeamSizeOutOfRange { beam: 0, limit },
        "beam 0",
    )
}
