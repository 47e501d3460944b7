//! Every bad input gets its own `picoformer::Error` variant, never a panic, and an error
//! never leaves an output half-written.
//!
//! The blobs are the golden models (`tests/golden`), corrupted byte by byte at the offsets
//! documented at the top of `src/blob.rs`; the engine is never edited, only fed.

mod common;

use common::{golden_cases, GoldenCase};
use picoformer::blob::{self, TensorKind};
use picoformer::config::{MAX_DIM, MAX_LAYERS};
use picoformer::{
    Activation, BeamParams, Config, Dims, Error, Model, Norm, Positional, Scratch, StaticModel,
};
use picoformer_cli::{scratch, AlignedBytes};
use std::fmt::Debug;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::{Duration, Instant};

// ---- header offsets (src/blob.rs) ----
const VERSION: usize = 8;
const HEADER_LEN: usize = 12;
const BLOB_LEN: usize = 16;
const DTYPE: usize = 20;
const D_MODEL: usize = 24;
const N_HEADS: usize = 28;
const D_FF: usize = 32;
const N_ENC: usize = 36;
const N_DEC: usize = 40;
const SRC_VOCAB: usize = 44;
const TGT_VOCAB: usize = 48;
const MAX_SRC: usize = 52;
const MAX_TGT: usize = 56;
const NORM: usize = 60;
const ACTIVATION: usize = 64;
const POSITIONAL: usize = 68;
const EPS: usize = 72;
const FLAGS: usize = 76;
const BOS: usize = 80;
const EOS: usize = 84;
const PAD: usize = 88;
const TENSOR_COUNT: usize = 92;
const N_KV_HEADS: usize = 108;
const TABLE_OFFSET_FIELD: usize = 96;

/// Sentinel of token outputs.
const TOKEN_SENTINEL: u32 = u32::MAX;
/// Sentinel of f32 outputs: a NaN with a payload no computation produces.
const F32_SENTINEL: u32 = 0x7FC0_DEAD;

// ---- helpers ----

fn case(name: &str) -> GoldenCase {
    golden_cases()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("golden case {name} exists"))
}

fn blob_of(name: &str) -> AlignedBytes {
    case(name).blob
}

/// Elements of paper_small's source position table `[S, D]`.
fn paper_small_src_pos_len() -> usize {
    let dims = case("paper_small").config.dims;
    dims.max_src_len * dims.d_model
}

fn get_u32(bytes: &[u8], offset: usize) -> u32 {
    u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap())
}

fn put_u32(bytes: &mut [u8], offset: usize, value: u32) {
    bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
}

fn entry_offset(index: usize) -> usize {
    blob::TABLE_OFFSET + index * blob::TABLE_ENTRY_BYTES
}

/// Table entry `index` as `[kind, layer, offset, len]`.
fn entry(bytes: &[u8], index: usize) -> [u32; 4] {
    let at = entry_offset(index);
    [0, 1, 2, 3].map(|j| get_u32(bytes, at + 4 * j))
}

/// Sets field `field` (0 kind, 1 layer, 2 offset, 3 len) of table entry `index`.
fn put_entry(bytes: &mut [u8], index: usize, field: usize, value: u32) {
    put_u32(bytes, entry_offset(index) + 4 * field, value);
}

/// The error's `Display` is one non-empty line.
#[track_caller]
fn check_display(e: &Error) {
    let text = e.to_string();
    assert!(!text.trim().is_empty(), "{e:?} displays as an empty string");
    assert!(
        !text.contains('\n') && !text.contains('\r'),
        "{e:?} displays on several lines: {text:?}"
    );
}

/// `result` is exactly `Err(want)`, and that error displays as one line.
#[track_caller]
fn expect_err<T: Debug>(result: Result<T, Error>, want: Error) {
    match result {
        Ok(v) => panic!("expected Err({want:?}), got Ok({v:?})"),
        Err(got) => {
            assert_eq!(got, want);
            check_display(&got);
        }
    }
}

/// `Model::from_verified_blob` on a copy of golden blob `name` after `edit`: the
/// loader that skips the checksums, so that the edit, not the checksum it breaks, is
/// what is refused (`blob_checksums_name_the_corrupt_region` tests the checksums).
#[track_caller]
fn load_edited(name: &str, edit: impl FnOnce(&mut [u8])) -> Result<(), Error> {
    let mut bytes = blob_of(name);
    edit(bytes.as_mut_slice());
    Model::from_verified_blob(bytes.as_slice()).map(|_| ())
}

/// Greedy decoding that must fail with `want`; `out` (`out_len` tokens, sentinel-filled)
/// must be untouched afterwards.
#[track_caller]
fn greedy_fails(
    model: &Model,
    src: &[u32],
    max_len: usize,
    out_len: usize,
    scratch: &mut [u8],
    want: Error,
) {
    let mut out = vec![TOKEN_SENTINEL; out_len];
    expect_err(model.greedy(src, max_len, &mut out, scratch), want);
    assert!(
        out.iter().all(|&t| t == TOKEN_SENTINEL),
        "greedy wrote to `out` before failing with {want:?}: {out:?}"
    );
}

/// Teacher-forced forward that must fail with `want`; `logits` (`logits_len` floats,
/// sentinel-filled) must be untouched afterwards.
#[track_caller]
fn forward_fails(
    model: &Model,
    src: &[u32],
    tgt: &[u32],
    logits_len: usize,
    scratch: &mut [u8],
    want: Error,
) {
    let mut logits = vec![f32::from_bits(F32_SENTINEL); logits_len];
    expect_err(model.forward(src, tgt, &mut logits, scratch), want);
    assert!(
        logits.iter().all(|v| v.to_bits() == F32_SENTINEL),
        "forward wrote to `logits` before failing with {want:?}"
    );
}

/// Encoding that must fail with `want`; `out` must be untouched afterwards.
#[track_caller]
fn encode_fails(model: &Model, src: &[u32], out_len: usize, scratch: &mut [u8], want: Error) {
    let mut out = vec![f32::from_bits(F32_SENTINEL); out_len];
    expect_err(model.encode(src, &mut out, scratch), want);
    assert!(
        out.iter().all(|v| v.to_bits() == F32_SENTINEL),
        "encode wrote to `out` before failing with {want:?}"
    );
}

fn params(beam: usize, top: usize, alpha: f32, max_len: usize) -> BeamParams {
    BeamParams {
        beam,
        top,
        alpha,
        max_len,
    }
}

/// A 16-byte aligned buffer of `len + shift` bytes and the `len` bytes at `shift`.
fn shifted(len: usize, shift: usize) -> AlignedBytes {
    AlignedBytes::zeroed(len + shift)
}

// =====================================================================================
// Blob: header
// =====================================================================================

#[test]
fn blob_bad_magic() {
    for (at, value) in [(0, b'X'), (3, b'm'), (6, b'M'), (7, b'\n')] {
        expect_err(load_edited("tied", |b| b[at] = value), Error::BadMagic);
    }
    // A zeroed buffer of a plausible size is no blob.
    let zeros = AlignedBytes::zeroed(4096);
    expect_err(Model::from_blob(zeros.as_slice()), Error::BadMagic);
}

#[test]
fn blob_unsupported_version() {
    // 2 and 3 are the versions before the checksums: refused, with a message that says
    // to convert again.
    for found in [0, 1, 2, 3, 5, 0x0100_0000, u32::MAX] {
        expect_err(
            load_edited("tied", |b| put_u32(b, VERSION, found)),
            Error::UnsupportedVersion { found },
        );
    }
    let message = Error::UnsupportedVersion { found: 3 }.to_string();
    assert!(message.contains("convert the model again"), "{message}");
}

#[test]
fn blob_unsupported_dtype() {
    // 0 (f32), 1 (f16) and 2 (i8) are the known codes; anything else is unknown.
    for found in [3, 99, u32::MAX] {
        expect_err(
            load_edited("tied", |b| put_u32(b, DTYPE, found)),
            Error::UnsupportedDtype { found },
        );
    }
}

#[test]
fn blob_relabelled_dtype() {
    // An f32 blob whose dtype field says i8: the first matrix's "scales" are its first
    // weights, some of them negative.
    let err = load_edited("tied", |b| put_u32(b, DTYPE, 2));
    assert!(matches!(err, Err(Error::InvalidScale { .. })), "{err:?}");
    // ... says f16: every matrix would fit in the bytes it had, but tensors are packed,
    // so the first matrix spans twice the bytes its elements take in f16.
    let first_matrix = (0..)
        .find(|&i| {
            let present = entry(blob_of("tied").as_slice(), i)[3] != 0;
            present && blob::matrix_rows(&case("tied").config.dims, kind_of("tied", i)).is_some()
        })
        .unwrap();
    let [.., offset, len] = entry(blob_of("tied").as_slice(), first_matrix);
    let next = entry(blob_of("tied").as_slice(), first_matrix + 1)[2];
    expect_err(
        load_edited("tied", |b| put_u32(b, DTYPE, 1)),
        Error::TensorSize {
            index: first_matrix,
            expected: (2 * len as usize).next_multiple_of(16),
            found: (next - offset) as usize,
        },
    );
    assert_eq!(
        next - offset,
        4 * len,
        "the next tensor follows the f32 matrix"
    );
}

/// The kind of table entry `index` of golden blob `name`.
fn kind_of(name: &str, index: usize) -> TensorKind {
    let code = entry(blob_of(name).as_slice(), index)[0];
    *blob::GLOBAL_TENSORS
        .iter()
        .chain(&blob::ENCODER_LAYER_TENSORS)
        .chain(&blob::DECODER_LAYER_TENSORS)
        .find(|k| **k as u32 == code)
        .unwrap()
}

#[test]
fn blob_tensor_bytes_must_fill_their_slots_exactly() {
    let blob = blob_of("paper_small");
    let bytes = blob.as_slice();
    let full = bytes.len();
    // Padding after the last tensor (blob and declared length grown by 16).
    let mut longer = bytes.to_vec();
    longer.resize(full + 16, 0);
    put_u32(&mut longer, BLOB_LEN, (full + 16) as u32);
    blob::seal(&mut longer).unwrap();
    let longer = AlignedBytes::copy_from(&longer);
    let last = get_u32(bytes, TENSOR_COUNT) as usize - 1;
    let [.., last_offset, last_len] = entry(bytes, last);
    let last_bytes = (4 * last_len as usize).next_multiple_of(16);
    expect_err(
        Model::from_blob(longer.as_slice()),
        Error::TensorSize {
            index: last,
            expected: last_bytes,
            found: full + 16 - last_offset as usize,
        },
    );
    // A gap before a tensor: the previous one's slot is larger than its data (the
    // optional OutBias, entry 9, dropped from the table but its bytes kept).
    let [.., out_weight_offset, out_weight_len] = entry(bytes, 8);
    assert_eq!(entry(bytes, 9)[2], out_weight_offset + 4 * out_weight_len);
    let next = (10..).find(|&i| entry(bytes, i)[3] != 0).unwrap();
    expect_err(
        load_edited("paper_small", |b| {
            put_entry(b, 9, 2, 0);
            put_entry(b, 9, 3, 0);
        }),
        Error::TensorSize {
            index: 8,
            expected: 4 * out_weight_len as usize,
            found: (entry(bytes, next)[2] - out_weight_offset) as usize,
        },
    );
    // A gap before the first tensor is not any slot's: that tensor is out of place.
    let first = (0..).find(|&i| entry(bytes, i)[3] != 0).unwrap();
    let header = get_u32(bytes, HEADER_LEN);
    assert_eq!(entry(bytes, first)[2], header);
    expect_err(
        load_edited("paper_small", |b| put_entry(b, first, 2, header + 16)),
        Error::TensorOutOfBounds { index: first },
    );
}

#[test]
fn blob_reserved_header_bytes_must_be_zero() {
    // Words 124, 136 and 140 (src/blob.rs).
    for at in [124, 136, 140] {
        for value in [1, 0x8000_0000] {
            expect_err(
                load_edited("paper_small", |b| put_u32(b, at, value)),
                Error::InvalidConfig {
                    reason: "reserved header bytes are not zero",
                },
            );
        }
    }
}

#[test]
fn blob_truncated() {
    let blob = blob_of("paper_small");
    let full = blob.as_slice().len();
    let header = get_u32(blob.as_slice(), HEADER_LEN) as usize;
    assert_eq!(
        header,
        blob::header_len(&case("paper_small").config.dims).unwrap()
    );
    // Shorter than the fixed header: the header's own length is what is missing.
    for got in [0, 1, 7, 8, 64, 127, 128, 143] {
        expect_err(
            Model::from_blob(&blob.as_slice()[..got]),
            Error::BlobTruncated {
                needed: blob::TABLE_OFFSET,
                got,
            },
        );
    }
    // The header is there: the declared length is what is missing.
    for got in [144, 160, header, header + 16, full - 16, full - 4, full - 1] {
        expect_err(
            Model::from_blob(&blob.as_slice()[..got]),
            Error::BlobTruncated { needed: full, got },
        );
    }
}

#[test]
fn blob_trailing_garbage_or_wrong_declared_length() {
    let blob = blob_of("tied");
    let full = blob.as_slice().len();
    for extra in [1, 4, 15, 16, 4096] {
        let mut longer = blob.as_slice().to_vec();
        longer.resize(full + extra, 0xAB);
        let longer = AlignedBytes::copy_from(&longer);
        expect_err(
            Model::from_blob(longer.as_slice()),
            Error::BlobLengthMismatch {
                declared: full,
                got: full + extra,
            },
        );
    }
    // Declared shorter than given.
    expect_err(
        load_edited("tied", |b| put_u32(b, BLOB_LEN, (full - 16) as u32)),
        Error::BlobLengthMismatch {
            declared: full - 16,
            got: full,
        },
    );
    // Declared length equal to the bytes given, but not a multiple of 16.
    let mut odd = blob.as_slice().to_vec();
    odd.resize(full + 4, 0);
    put_u32(&mut odd, BLOB_LEN, (full + 4) as u32);
    let odd = AlignedBytes::copy_from(&odd);
    expect_err(
        Model::from_blob(odd.as_slice()),
        Error::BlobLengthMismatch {
            declared: full + 4,
            got: full + 4,
        },
    );
}

#[test]
fn blob_misaligned() {
    let blob = blob_of("tied");
    let len = blob.as_slice().len();
    for shift in [1, 2, 4, 8, 12, 15] {
        let mut buf = shifted(len, shift);
        buf.as_mut_slice()[shift..].copy_from_slice(blob.as_slice());
        let bytes = &buf.as_slice()[shift..];
        assert_ne!(bytes.as_ptr() as usize % 16, 0);
        expect_err(Model::from_blob(bytes), Error::BlobMisaligned);
    }
    // Alignment is checked first: a misaligned empty or garbage slice says so too.
    let garbage = shifted(64, 1);
    expect_err(
        Model::from_blob(&garbage.as_slice()[1..]),
        Error::BlobMisaligned,
    );
}

#[test]
fn blob_invalid_config_fields() {
    let f = |v: f32| v.to_bits();
    let cases: &[(usize, u32, &str)] = &[
        (N_HEADS, 3, "d_model is not a multiple of n_heads"),
        (N_HEADS, 128, "d_model is not a multiple of n_heads"),
        (N_HEADS, 0, "n_heads is 0"),
        (D_MODEL, 0, "d_model is 0"),
        (D_FF, 0, "d_ff is 0"),
        (NORM, 2, "unknown norm code"),
        (NORM, u32::MAX, "unknown norm code"),
        (ACTIVATION, 3, "unknown activation code"),
        (POSITIONAL, 6, "unknown positional code"),
        (EPS, f(f32::NAN), "layer_norm_eps must be finite and >= 0"),
        (EPS, f(-f32::NAN), "layer_norm_eps must be finite and >= 0"),
        (
            EPS,
            f(f32::INFINITY),
            "layer_norm_eps must be finite and >= 0",
        ),
        (EPS, f(-1e-5), "layer_norm_eps must be finite and >= 0"),
        (BOS, 67, "bos_id or eos_id is not below tgt_vocab"),
        (BOS, u32::MAX, "bos_id or eos_id is not below tgt_vocab"),
        (EOS, 67, "bos_id or eos_id is not below tgt_vocab"),
        (PAD, 67, "pad_id is not below tgt_vocab"),
        (PAD, u32::MAX, "pad_id is not below tgt_vocab"),
        (FLAGS, 128, "unknown flag bits set"),
        (
            FLAGS,
            64,
            "an int8 stem needs int8 weights and a convolution stem",
        ),
        (
            FLAGS,
            16,
            "an int8 target embedding needs int8 weights and a tied output projection",
        ),
        (FLAGS, 0x8000_0000, "unknown flag bits set"),
        (
            TGT_VOCAB,
            1,
            "a decoder needs tgt_vocab >= 2 and max_tgt_len > 0",
        ),
        (
            MAX_TGT,
            0,
            "a decoder needs tgt_vocab >= 2 and max_tgt_len > 0",
        ),
        (MAX_SRC, 0, "an encoder needs max_src_len > 0"),
    ];
    for &(at, value, reason) in cases {
        let got = load_edited("paper_small", |b| put_u32(b, at, value));
        assert_eq!(
            got,
            Err(Error::InvalidConfig { reason }),
            "field at {at} = {value:#x}"
        );
        check_display(&got.unwrap_err());
    }
    // src_vocab 0 is an encoder fed with vectors: the blob's source embedding is then
    // a tensor the configuration has no slot for.
    expect_err(
        load_edited("paper_small", |b| put_u32(b, SRC_VOCAB, 0)),
        Error::TensorShape {
            index: 0,
            expected: 0,
            found: 61 * 64,
        },
    );
    // No layers at all.
    expect_err(
        load_edited("paper_small", |b| {
            put_u32(b, N_ENC, 0);
            put_u32(b, N_DEC, 0);
        }),
        Error::InvalidConfig {
            reason: "the model has neither encoder nor decoder layers",
        },
    );
    // Sinusoids need an even width (paper_small is sinusoidal).
    expect_err(
        load_edited("paper_small", |b| {
            put_u32(b, D_MODEL, 63);
            put_u32(b, N_HEADS, 1);
        }),
        Error::InvalidConfig {
            reason: "sinusoidal positions need an even d_model",
        },
    );
}

/// Flag bit 5 on an encoder-decoder model is its int8 attention: refused, with its reason,
/// where the heads are too narrow for the packed rows (or the llama family's layers).
#[test]
fn blob_int8_attention_needs_its_head_width() {
    for (heads, reason) in [
        (
            16,
            "int8 attention needs a head width d_model / n_heads of 8 to 512",
        ),
        (
            32,
            "int8 attention needs a head width d_model / n_heads of 8 to 512",
        ),
    ] {
        let got = load_edited("paper_small", |b| {
            put_u32(b, FLAGS, get_u32(b, FLAGS) | 32);
            put_u32(b, N_HEADS, heads);
            put_u32(b, N_KV_HEADS, heads);
        });
        assert_eq!(got, Err(Error::InvalidConfig { reason }), "{heads} heads");
        check_display(&got.unwrap_err());
    }
    let with_flag = |b: &mut [u8]| put_u32(b, FLAGS, get_u32(b, FLAGS) | 32);
    assert_eq!(load_edited("paper_small", with_flag), Ok(()));
}

/// The int8 attention (flag bit 5 on an encoder-decoder model, the encoder self-attention
/// under the int8 cache rule) decodes the reference's greedy tokens on the golden
/// encoder-decoder cases (post-norm and pre-norm), as the f32 attention does.
#[test]
fn int8_attention_keeps_the_golden_greedy_tokens() {
    for name in ["paper_small", "prenorm_gelu"] {
        let case = case(name);
        let mut bytes = case.blob;
        let flags = get_u32(bytes.as_slice(), FLAGS);
        put_u32(bytes.as_mut_slice(), FLAGS, flags | 32);
        let model = Model::from_verified_blob(bytes.as_slice()).expect("loads with the flag");
        assert_eq!(model.config().dims.kv_cache, picoformer::CacheType::I8);
        let mut buf = scratch(model.greedy_scratch_bytes().expect("scratch size"));
        for greedy in &case.expected.greedy {
            let mut out = vec![TOKEN_SENTINEL; greedy.max_len];
            let got = model
                .greedy(&greedy.src, greedy.max_len, &mut out, buf.as_mut_slice())
                .expect("decodes");
            assert_eq!(
                &out[..got.len],
                &greedy.tokens[..],
                "{name} {:?}",
                greedy.src
            );
        }
    }
}

#[test]
fn blob_table_structure_fields() {
    // Count, header length and table offset must all be the configuration's.
    for (at, delta) in [
        (TENSOR_COUNT, 1i64),
        (TENSOR_COUNT, -1),
        (HEADER_LEN, 16),
        (HEADER_LEN, -16),
        (TABLE_OFFSET_FIELD, 16),
        (TABLE_OFFSET_FIELD, -128),
    ] {
        let got = load_edited("paper_small", |b| {
            let v = get_u32(b, at) as i64 + delta;
            put_u32(b, at, v as u32);
        });
        assert_eq!(
            got,
            Err(Error::TensorTableCorrupt { index: 0 }),
            "field {at} {delta:+}"
        );
    }
}

// =====================================================================================
// Blob: tensor table entries
// =====================================================================================

#[test]
fn blob_table_wrong_kind_or_layer() {
    let blob = blob_of("paper_small");
    let count = get_u32(blob.as_slice(), TENSOR_COUNT) as usize;
    for index in [0, 2, 9, 17, 33, 49, 75, count - 1] {
        let [kind, layer, ..] = entry(blob.as_slice(), index);
        for bad_kind in [0, kind + 1, kind ^ 0x40, 1000, u32::MAX] {
            expect_err(
                load_edited("paper_small", |b| put_entry(b, index, 0, bad_kind)),
                Error::TensorTableCorrupt { index },
            );
        }
        for bad_layer in [layer + 1, 7, u32::MAX] {
            expect_err(
                load_edited("paper_small", |b| put_entry(b, index, 1, bad_layer)),
                Error::TensorTableCorrupt { index },
            );
        }
    }
    // Two entries swapped: the first one out of canonical order is reported.
    expect_err(
        load_edited("paper_small", |b| {
            let (e17, e19) = (entry(b, 17), entry(b, 19));
            for j in 0..4 {
                put_entry(b, 17, j, e19[j]);
                put_entry(b, 19, j, e17[j]);
            }
        }),
        Error::TensorTableCorrupt { index: 17 },
    );
    // Sanity of the canonical codes used above.
    assert_eq!(entry(blob.as_slice(), 0)[0], TensorKind::SrcEmbed as u32);
    assert_eq!(
        entry(blob.as_slice(), 17)[0],
        TensorKind::EncSelfQWeight as u32
    );
}

#[test]
fn blob_table_offsets_out_of_bounds() {
    let blob = blob_of("paper_small");
    let bytes = blob.as_slice();
    let full = bytes.len() as u32;
    let last = get_u32(bytes, TENSOR_COUNT) as usize - 1;
    let oob = |index: usize, offset: u32| {
        expect_err(
            load_edited("paper_small", |b| put_entry(b, index, 2, offset)),
            Error::TensorOutOfBounds { index },
        );
    };
    // Past the end, at the end, and where offset + len overflows 32 bits.
    for index in [0, 2, 8, 9, 10, last] {
        oob(index, full);
        oob(index, full + 16);
        oob(index, 0xFFFF_FFF0);
        oob(index, 0x8000_0000);
    }
    // The last tensor moved up by one 16-byte step runs past the end.
    let [.., last_offset, _] = entry(bytes, last);
    oob(last, last_offset + 16);
    // Misaligned offsets.
    for index in [0, 2, 10, last] {
        let [.., offset, _] = entry(bytes, index);
        for delta in [1, 4, 8, 12] {
            oob(index, offset + delta);
        }
    }
    // Into the header / table.
    oob(0, 0);
    oob(0, 128);
    oob(0, get_u32(bytes, HEADER_LEN) - 16);
    // Overlapping the previous tensor: same start as entry 0, and one step back.
    oob(2, entry(bytes, 0)[2]);
    oob(2, entry(bytes, 2)[2] - 16);
    // Moved forward by 16 bytes, it would overlap its successor, but the gap it leaves
    // behind its predecessor (entry 9) is found first.
    assert_eq!(
        entry(bytes, 17)[2] + 4 * entry(bytes, 17)[3],
        entry(bytes, 18)[2]
    );
    let [.., offset_9, len_9] = entry(bytes, 9);
    expect_err(
        load_edited("paper_small", |b| {
            put_entry(b, 17, 2, entry(bytes, 17)[2] + 16)
        }),
        Error::TensorSize {
            index: 9,
            expected: (4 * len_9 as usize).next_multiple_of(16),
            found: (entry(bytes, 17)[2] + 16 - offset_9) as usize,
        },
    );

    // An absent tensor (len 0) must also have offset 0: SrcPos is absent
    // (sinusoidal), OutBias optional.
    assert_eq!(entry(bytes, 1), [TensorKind::SrcPos as u32, 0, 0, 0]);
    oob(1, 16);
    expect_err(
        load_edited("paper_small", |b| put_entry(b, 9, 3, 0)),
        Error::TensorOutOfBounds { index: 9 },
    );
    // ... and with offset 0 too an optional tensor may be absent, but then the blob has
    // no bytes for it: its bytes left in place are a gap after entry 8 (entries 10 to 16
    // are absent in paper_small).
    assert!((10..17).all(|i| entry(bytes, i)[3] == 0));
    expect_err(
        load_edited("paper_small", |b| {
            put_entry(b, 9, 2, 0);
            put_entry(b, 9, 3, 0);
        }),
        Error::TensorSize {
            index: 8,
            expected: 4 * entry(bytes, 8)[3] as usize,
            found: (entry(bytes, 17)[2] - entry(bytes, 8)[2]) as usize,
        },
    );
}

#[test]
fn blob_table_wrong_lengths() {
    let blob = blob_of("paper_small");
    let bytes = blob.as_slice();
    for index in [0, 2, 8, 9, 17, 18, 27, 28, 100] {
        let [.., len] = entry(bytes, index);
        let expected = len as usize;
        for found in [len + 1, len - 1, len * 2, len + 4, u32::MAX] {
            expect_err(
                load_edited("paper_small", |b| put_entry(b, index, 3, found)),
                Error::TensorShape {
                    index,
                    expected,
                    found: found as usize,
                },
            );
        }
    }
    // A tensor the configuration has no use for must be absent: SrcPos (positions none).
    expect_err(
        load_edited("tied", |b| put_entry(b, 1, 3, 24 * 64)),
        Error::TensorShape {
            index: 1,
            expected: 0,
            found: 24 * 64,
        },
    );
    // A sinusoidal model may store its table (optional), but only whole: SrcPos [S, D].
    let half = paper_small_src_pos_len() / 2;
    expect_err(
        load_edited("paper_small", |b| put_entry(b, 1, 3, half as u32)),
        Error::TensorShape {
            index: 1,
            expected: paper_small_src_pos_len(),
            found: half,
        },
    );
    // tied: OutWeight (the target embedding is the output projection).
    let tied = blob_of("tied");
    assert_eq!(
        entry(tied.as_slice(), 8),
        [TensorKind::OutWeight as u32, 0, 0, 0]
    );
    expect_err(
        load_edited("tied", |b| put_entry(b, 8, 3, 50 * 32)),
        Error::TensorShape {
            index: 8,
            expected: 0,
            found: 50 * 32,
        },
    );
}

#[test]
fn blob_required_tensor_missing() {
    // Required: embeddings, final norm gammas, output weight, every weight matrix and
    // LayerNorm gamma of every layer.
    for index in [
        0, 2, 4, 6, 8, 17, 19, 25, 27, 29, 31, 49, 57, 59, 67, 75, 99,
    ] {
        for keep_offset in [false, true] {
            expect_err(
                load_edited("paper_small", |b| {
                    put_entry(b, index, 3, 0);
                    if !keep_offset {
                        put_entry(b, index, 2, 0);
                    }
                }),
                Error::MissingTensor { index },
            );
        }
    }
}

/// The configuration switches decide which tensors must, may or must not be present;
/// flipping one in the header without changing the table is reported exactly.
#[test]
fn blob_switches_inconsistent_with_table() {
    const TIE: u32 = 2;
    const FINAL_NORM: u32 = 4;
    let flags = |name: &str| get_u32(blob_of(name).as_slice(), FLAGS);
    // paper_small: untied, final norm. Tying makes its output weight superfluous.
    let f = flags("paper_small");
    assert_eq!(f & (TIE | FINAL_NORM), FINAL_NORM);
    expect_err(
        load_edited("paper_small", |b| put_u32(b, FLAGS, f | TIE)),
        Error::TensorShape {
            index: 8,
            expected: 0,
            found: 67 * 64,
        },
    );
    // Without the final norm its gammas (4, 6) are superfluous.
    expect_err(
        load_edited("paper_small", |b| put_u32(b, FLAGS, f & !FINAL_NORM)),
        Error::TensorShape {
            index: 4,
            expected: 0,
            found: 64,
        },
    );
    // tied: untying it needs an output weight; a final norm needs gammas.
    let f = flags("tied");
    assert_eq!(f & (TIE | FINAL_NORM), TIE);
    expect_err(
        load_edited("tied", |b| put_u32(b, FLAGS, f & !TIE)),
        Error::MissingTensor { index: 8 },
    );
    expect_err(
        load_edited("tied", |b| put_u32(b, FLAGS, f | FINAL_NORM)),
        Error::MissingTensor { index: 4 },
    );
    // Learned positions need their tables (SrcPos is entry 1).
    expect_err(
        load_edited("paper_small", |b| put_u32(b, POSITIONAL, 3)),
        Error::MissingTensor { index: 1 },
    );
    // prenorm_gelu has learned positions: without positions they are superfluous (a
    // sinusoidal kind takes them as its stored table).
    load_edited("prenorm_gelu", |b| put_u32(b, POSITIONAL, 1)).unwrap();
    expect_err(
        load_edited("prenorm_gelu", |b| put_u32(b, POSITIONAL, 0)),
        Error::TensorShape {
            index: 1,
            expected: 0,
            found: 16 * 32,
        },
    );
    // Switches that do not touch the table are accepted.
    load_edited("paper_small", |b| put_u32(b, POSITIONAL, 0)).unwrap();
    load_edited("paper_small", |b| put_u32(b, POSITIONAL, 2)).unwrap();
    load_edited("paper_small", |b| put_u32(b, NORM, 1)).unwrap();
    load_edited("paper_small", |b| put_u32(b, ACTIVATION, 1)).unwrap();
    load_edited("paper_small", |b| put_u32(b, EPS, 0)).unwrap();
}

// =====================================================================================
// Blob: huge dimensions fail fast, without overflow or allocation
// =====================================================================================

#[test]
fn blob_huge_dimensions_fail_fast() {
    let start = Instant::now();
    let too_big = "a dimension exceeds 2^20";
    let too_deep = "more than 256 layers on one side";
    let one = |at: usize, value: u32, reason: &'static str| {
        expect_err(
            load_edited("paper_small", |b| put_u32(b, at, value)),
            Error::InvalidConfig { reason },
        );
    };
    for at in [
        D_MODEL, N_HEADS, D_FF, SRC_VOCAB, TGT_VOCAB, MAX_SRC, MAX_TGT,
    ] {
        one(at, 1 << 31, too_big);
        one(at, u32::MAX, too_big);
        one(at, MAX_DIM as u32 + 1, too_big);
    }
    for at in [N_ENC, N_DEC] {
        one(at, 1_000_000, too_deep);
        one(at, u32::MAX, too_deep);
        one(at, MAX_LAYERS as u32 + 1, too_deep);
    }
    // Every field at its largest valid value, header length and count consistent:
    // the sizes (2^40 elements) are computed without overflow and refused by shape.
    let dims = Dims {
        d_model: MAX_DIM,
        n_heads: 1,
        d_ff: MAX_DIM,
        n_encoder_layers: MAX_LAYERS,
        n_decoder_layers: MAX_LAYERS,
        src_vocab: MAX_DIM,
        tgt_vocab: MAX_DIM,
        max_src_len: MAX_DIM,
        max_tgt_len: MAX_DIM,
        type_vocab: 0,
        stem_channels: 0,
        n_kv_heads: 1,
        feed_forward: picoformer::config::FeedForward::Plain,
        kv_cache: picoformer::config::CacheType::F32,
    };
    let header = blob::header_len(&dims).unwrap();
    let huge = |b: &mut [u8]| {
        for (i, v) in [
            dims.d_model,
            dims.n_heads,
            dims.d_ff,
            dims.n_encoder_layers,
            dims.n_decoder_layers,
            dims.src_vocab,
            dims.tgt_vocab,
            dims.max_src_len,
            dims.max_tgt_len,
        ]
        .into_iter()
        .enumerate()
        {
            put_u32(b, D_MODEL + 4 * i, v as u32);
        }
        put_u32(b, N_KV_HEADS, dims.n_heads as u32);
        put_u32(b, TENSOR_COUNT, blob::slot_count(&dims) as u32);
        put_u32(b, HEADER_LEN, header as u32);
    };
    // paper_small is long enough to hold that table: the first entry's shape is wrong.
    #[cfg(target_pointer_width = "64")]
    expect_err(
        load_edited("paper_small", huge),
        Error::TensorShape {
            index: 0,
            expected: 1 << 40,
            found: 61 * 64,
        },
    );
    // tied is shorter than that table.
    let tied_len = blob_of("tied").as_slice().len();
    assert!(tied_len < header);
    expect_err(
        load_edited("tied", huge),
        Error::BlobTruncated {
            needed: header,
            got: tied_len,
        },
    );
    // The scratch-size functions report overflow as None rather than wrapping.
    let max = Dims {
        d_model: usize::MAX,
        n_heads: 1,
        d_ff: usize::MAX,
        n_encoder_layers: usize::MAX,
        n_decoder_layers: usize::MAX,
        src_vocab: usize::MAX,
        tgt_vocab: usize::MAX,
        max_src_len: usize::MAX,
        max_tgt_len: usize::MAX,
        type_vocab: usize::MAX,
        stem_channels: usize::MAX,
        n_kv_heads: 1,
        feed_forward: picoformer::config::FeedForward::Plain,
        kv_cache: picoformer::config::CacheType::F32,
    };
    assert_eq!(picoformer::greedy_scratch_bytes(&max), None);
    assert_eq!(picoformer::beam_scratch_bytes(&max, 4), None);
    let small = case("paper_small").config.dims;
    assert_eq!(picoformer::beam_scratch_bytes(&small, usize::MAX), None);
    let model_blob = blob_of("paper_small");
    let model = Model::from_blob(model_blob.as_slice()).unwrap();
    // A beam past MAX_BEAM is refused by the search's rule before any size is computed.
    expect_err(
        model.beam_scratch_bytes(usize::MAX),
        Error::BeamSizeOutOfRange {
            beam: usize::MAX,
            limit: picoformer::MAX_BEAM,
        },
    );
    // A liveness guard, not a speed figure: walking a 2^40-element shape would take
    // hours, while the ~30 checksummed loads above take ~4 s in a debug build on an idle
    // core; the bound leaves room for a loaded CI machine.
    assert!(
        start.elapsed() < Duration::from_secs(120),
        "huge dimensions took {:?}",
        start.elapsed()
    );
}

// =====================================================================================
// Blob: brute force
// =====================================================================================

/// Largest scratch the brute force allocates (zeroed, so untouched pages cost nothing).
const BRUTE_FORCE_SCRATCH_CAP: usize = 512 << 20;

/// Loads `blob`; when it loads, decodes greedy and beam with small lengths, checking the
/// results are in range. Returns (loaded, decoded). Panics are the caller's to catch.
fn load_and_decode(blob: &[u8]) -> (bool, bool) {
    let Ok(model) = Model::from_blob(blob) else {
        return (false, false);
    };
    let dims = model.config().dims;
    let src = [3u32, 4, 5, 6, 7];
    let src = &src[..src.len().min(dims.max_src_len)];
    let Ok(bytes) = model.greedy_scratch_bytes() else {
        return (true, false);
    };
    if bytes > BRUTE_FORCE_SCRATCH_CAP {
        return (true, false);
    }
    let mut buf = scratch(bytes);
    let max_len = dims.max_tgt_len.min(4);
    let mut out = vec![TOKEN_SENTINEL; max_len + 1];
    if let Ok(g) = model.greedy(src, max_len, &mut out, buf.as_mut_slice()) {
        assert!(g.len >= 1 && g.len <= max_len, "greedy len {}", g.len);
        assert!(out[..g.len].iter().all(|&t| (t as usize) < dims.tgt_vocab));
        assert!(out[g.len..].iter().all(|&t| t == TOKEN_SENTINEL));
    }
    let beam = 2.min(dims.tgt_vocab - 1);
    let p = params(beam, beam, 0.6, dims.max_tgt_len.min(3));
    match model.beam_scratch_bytes(beam) {
        Ok(bytes) if bytes <= BRUTE_FORCE_SCRATCH_CAP => {
            let mut buf = scratch(bytes);
            if let Ok(h) = model.beam_search(src, &p, buf.as_mut_slice()) {
                assert!(h.len() <= beam);
                assert!(h.iter().all(|h| h.tokens.len() <= p.max_len));
            }
        }
        _ => return (true, false),
    }
    (true, true)
}

/// Every byte of the header and tensor table of `name` mutated 10 ways (each single bit
/// flipped, 0x00, 0xFF), and every 32-bit word set to boundary values: loading either
/// fails, or the model decodes (greedy and beam) to `Ok` or `Err` without panicking.
fn brute_force(name: &str) {
    let start = Instant::now();
    let original = blob_of(name);
    let header = get_u32(original.as_slice(), HEADER_LEN) as usize;
    let mut panics = Vec::new();
    let (mut tried, mut loaded, mut decoded) = (0usize, 0usize, 0usize);
    let mut work = original.clone();
    let mut attempt = |work: &AlignedBytes, what: String| {
        tried += 1;
        // As mutated, the header's checksum refuses it (or an earlier check does) ...
        let first_check = Model::from_blob(work.as_slice());
        assert!(first_check.is_err(), "{what} loads without being sealed");
        // ... and sealed again, the mutation itself must be refused or be harmless.
        let mut sealed = work.clone();
        let _ = blob::seal(sealed.as_mut_slice());
        match catch_unwind(AssertUnwindSafe(|| load_and_decode(sealed.as_slice()))) {
            Ok((l, d)) => {
                loaded += l as usize;
                decoded += d as usize;
            }
            Err(_) => panics.push(what),
        }
    };
    for at in 0..header {
        let byte = original.as_slice()[at];
        let mutations = (0..8)
            .map(|bit| byte ^ (1 << bit))
            .chain([0x00, 0xFF])
            .filter(|&m| m != byte);
        for value in mutations {
            work.as_mut_slice()[at] = value;
            attempt(
                &work,
                format!("{name} byte {at}: {byte:#04x} -> {value:#04x}"),
            );
        }
        work.as_mut_slice()[at] = byte;
    }
    for at in (0..header).step_by(4) {
        let word = get_u32(original.as_slice(), at);
        let values = [
            0,
            1,
            2,
            word.wrapping_add(1),
            word.wrapping_sub(1),
            word.wrapping_add(16),
            word.wrapping_sub(16),
            word.wrapping_mul(2),
            word / 2,
            MAX_DIM as u32,
            MAX_DIM as u32 + 1,
            0x7FFF_FFFF,
            0x8000_0000,
            u32::MAX,
            f32::NAN.to_bits(),
            f32::MIN_POSITIVE.to_bits(),
        ];
        for value in values.into_iter().filter(|&v| v != word) {
            put_u32(work.as_mut_slice(), at, value);
            attempt(&work, format!("{name} word {at}: {word:#x} -> {value:#x}"));
        }
        put_u32(work.as_mut_slice(), at, word);
    }
    assert!(panics.is_empty(), "panics: {panics:#?}");
    // The reserved bytes, pad_id, eps, ... are free, so some mutations load and decode.
    assert!(decoded > 0 && loaded >= decoded);
    eprintln!(
        "brute force {name}: {tried} mutations, {loaded} loaded, {decoded} decoded, {:?}",
        start.elapsed()
    );
}

#[test]
fn blob_header_and_table_mutations_never_panic_tied() {
    assert_eq!(
        get_u32(blob_of("tied").as_slice(), HEADER_LEN),
        144 + 16 * 85
    );
    brute_force("tied");
}

/// The same over a pre-norm, GELU model with learned positions.
#[test]
fn blob_header_and_table_mutations_never_panic_prenorm_gelu() {
    brute_force("prenorm_gelu");
}

// =====================================================================================
// Inputs
// =====================================================================================

struct Fixture {
    blob: AlignedBytes,
    config: Config,
}

impl Fixture {
    fn new(name: &str) -> Self {
        let c = case(name);
        Fixture {
            blob: c.blob,
            config: c.config,
        }
    }

    fn model(&self) -> Model<'_> {
        Model::from_blob(self.blob.as_slice()).unwrap()
    }
}

#[test]
fn inputs_token_out_of_range() {
    let fx = Fixture::new("paper_small");
    let model = fx.model();
    let (sv, tv) = (fx.config.dims.src_vocab, fx.config.dims.tgt_vocab);
    assert_eq!((sv, tv), (61, 67));
    let mut buf = scratch(model.greedy_scratch_bytes().unwrap());
    let s = buf.as_mut_slice();
    // Source tokens: checked against the source vocabulary (64 is a valid target id).
    for token in [61, 64, 67, 1000, u32::MAX] {
        let src = [5, 6, token, 7];
        let want = Error::TokenOutOfRange { token, vocab: sv };
        greedy_fails(&model, &src, 8, 8, s, want);
        forward_fails(&model, &src, &[1, 5], 2 * tv, s, want);
        encode_fails(&model, &src, 4 * 64, s, want);
        expect_err(model.beam_search(&src, &params(4, 2, 0.6, 8), s), want);
    }
    // Target tokens of forward: checked against the target vocabulary.
    for token in [67, 68, 1000, u32::MAX] {
        let want = Error::TokenOutOfRange { token, vocab: tv };
        forward_fails(&model, &[5, 6], &[1, token], 2 * tv, s, want);
        forward_fails(&model, &[5, 6], &[token], tv, s, want);
    }
    // 61..67 are valid target ids.
    let mut logits = vec![0.0; 2 * tv];
    model.forward(&[5, 6], &[1, 66], &mut logits, s).unwrap();
}

#[test]
fn inputs_empty_sequences() {
    let fx = Fixture::new("paper_small");
    let model = fx.model();
    let tv = fx.config.dims.tgt_vocab;
    let mut buf = scratch(model.greedy_scratch_bytes().unwrap());
    let s = buf.as_mut_slice();
    greedy_fails(&model, &[], 8, 8, s, Error::EmptySequence);
    forward_fails(&model, &[], &[1, 5], 2 * tv, s, Error::EmptySequence);
    forward_fails(&model, &[5, 6], &[], tv, s, Error::EmptySequence);
    encode_fails(&model, &[], 64, s, Error::EmptySequence);
    expect_err(
        model.beam_search(&[], &params(4, 2, 0.6, 8), s),
        Error::EmptySequence,
    );
}

#[test]
fn inputs_sequences_too_long() {
    let fx = Fixture::new("paper_small");
    let model = fx.model();
    let d = fx.config.dims;
    let (sl, tl, tv) = (d.max_src_len, d.max_tgt_len, d.tgt_vocab);
    assert_eq!((sl, tl), (24, 16));
    let mut buf = scratch(model.greedy_scratch_bytes().unwrap());
    let s = buf.as_mut_slice();
    for len in [sl + 1, sl * 4] {
        let src = vec![5u32; len];
        let want = Error::SequenceTooLong { len, max: sl };
        greedy_fails(&model, &src, 8, 8, s, want);
        forward_fails(&model, &src, &[1, 5], 2 * tv, s, want);
        encode_fails(&model, &src, len * 64, s, want);
        expect_err(model.beam_search(&src, &params(4, 2, 0.6, 8), s), want);
    }
    for len in [tl + 1, 100] {
        let tgt = vec![5u32; len];
        forward_fails(
            &model,
            &[5, 6],
            &tgt,
            len * tv,
            s,
            Error::SequenceTooLong { len, max: tl },
        );
    }
    // The limits themselves are fine.
    let mut logits = vec![0.0; tl * tv];
    model
        .forward(&vec![5; sl], &vec![5; tl], &mut logits, s)
        .unwrap();
}

#[test]
fn inputs_max_len_out_of_range() {
    let fx = Fixture::new("paper_small");
    let model = fx.model();
    let limit = fx.config.dims.max_tgt_len;
    let mut buf = scratch(model.greedy_scratch_bytes().unwrap());
    for max_len in [0, limit + 1, usize::MAX] {
        let want = Error::MaxLenOutOfRange { max_len, limit };
        greedy_fails(&model, &[5, 6], max_len, 64, buf.as_mut_slice(), want);
        let mut beam = scratch(model.beam_scratch_bytes(4).unwrap());
        expect_err(
            model.beam_search(&[5, 6], &params(4, 2, 0.6, max_len), beam.as_mut_slice()),
            want,
        );
    }
}

#[test]
fn inputs_beam_and_top_out_of_range() {
    for (name, limit) in [("paper_small", 64), ("tied", 49)] {
        let fx = Fixture::new(name);
        let model = fx.model();
        assert_eq!(limit, 64.min(fx.config.dims.tgt_vocab - 1));
        // Parameters are checked before the scratch: a tiny one is enough.
        let mut s = scratch(16);
        for beam in [0, limit + 1, 1000, usize::MAX] {
            expect_err(
                model.beam_search(&[5, 6], &params(beam, 1, 0.6, 8), s.as_mut_slice()),
                Error::BeamSizeOutOfRange { beam, limit },
            );
        }
        for (beam, top) in [(4, 0), (4, 5), (1, 2), (4, usize::MAX)] {
            expect_err(
                model.beam_search(&[5, 6], &params(beam, top, 0.6, 8), s.as_mut_slice()),
                Error::TopBeamsOutOfRange { top, beam },
            );
        }
        // The largest beam is accepted.
        let mut big = scratch(model.beam_scratch_bytes(limit).unwrap());
        model
            .beam_search(&[5, 6], &params(limit, limit, 0.6, 3), big.as_mut_slice())
            .unwrap();
    }
}

#[test]
fn inputs_invalid_length_penalty() {
    let fx = Fixture::new("paper_small");
    let model = fx.model();
    let mut s = scratch(16);
    for alpha in [
        -1.0,
        -f32::MIN_POSITIVE,
        f32::NAN,
        -f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ] {
        expect_err(
            model.beam_search(&[5, 6], &params(4, 2, alpha, 8), s.as_mut_slice()),
            Error::InvalidLengthPenalty,
        );
    }
    // 0 (raw log-probability) and large finite values are accepted.
    let mut buf = scratch(model.beam_scratch_bytes(2).unwrap());
    for alpha in [0.0, 10.0, f32::MAX] {
        model
            .beam_search(&[5, 6], &params(2, 2, alpha, 4), buf.as_mut_slice())
            .unwrap();
    }
}

// =====================================================================================
// Buffers
// =====================================================================================

#[test]
fn buffers_scratch_too_small() {
    let fx = Fixture::new("paper_small");
    let model = fx.model();
    let tv = fx.config.dims.tgt_vocab;
    // Each call needs the scratch of its request (bos then 8 tokens; 2 target tokens).
    let needed = model.greedy_scratch_bytes_for_len(1, 8).unwrap();
    for got in [0, 16, needed / 2, needed - 16, needed - 1] {
        let mut s = scratch(got);
        let want = Error::ScratchTooSmall { needed, got };
        greedy_fails(&model, &[5, 6], 8, 8, s.as_mut_slice(), want);
    }
    let needed = model.forward_scratch_bytes_for_len(2).unwrap();
    for got in [0, 16, needed / 2, needed - 16, needed - 1] {
        let mut s = scratch(got);
        let want = Error::ScratchTooSmall { needed, got };
        forward_fails(&model, &[5, 6], &[1, 5], 2 * tv, s.as_mut_slice(), want);
    }
    for beam in [1, 4, 64] {
        let needed = model.beam_scratch_bytes_for_len(beam, 1, 8).unwrap();
        for got in [0, needed - 1] {
            let mut s = scratch(got);
            expect_err(
                model.beam_search(&[5, 6], &params(beam, 1, 0.6, 8), s.as_mut_slice()),
                Error::ScratchTooSmall { needed, got },
            );
        }
    }
    // encode needs no decoder state: its exact need is encode_scratch_bytes, at most
    // greedy_scratch_bytes.
    let mut empty = scratch(0);
    let mut out = vec![0.0; 2 * 64];
    let Err(Error::ScratchTooSmall {
        needed: encode_needed,
        got: 0,
    }) = model.encode(&[5, 6], &mut out, empty.as_mut_slice())
    else {
        panic!("encode with an empty scratch must report ScratchTooSmall");
    };
    assert_eq!(encode_needed, model.encode_scratch_bytes().unwrap());
    assert!(encode_needed <= needed);
    let mut short = scratch(encode_needed - 1);
    encode_fails(
        &model,
        &[5, 6],
        2 * 64,
        short.as_mut_slice(),
        Error::ScratchTooSmall {
            needed: encode_needed,
            got: encode_needed - 1,
        },
    );
    let mut exact = scratch(encode_needed);
    model
        .encode(&[5, 6], &mut out, exact.as_mut_slice())
        .unwrap();
}

#[test]
fn buffers_scratch_misaligned() {
    let fx = Fixture::new("paper_small");
    let model = fx.model();
    let tv = fx.config.dims.tgt_vocab;
    let needed = model.greedy_scratch_bytes().unwrap();
    for shift in [1, 4, 8, 15] {
        // Large enough after the shift: only the alignment is wrong.
        let mut buf = shifted(needed, shift);
        let s = &mut buf.as_mut_slice()[shift..];
        assert_eq!(s.len(), needed);
        greedy_fails(&model, &[5, 6], 8, 8, s, Error::ScratchMisaligned);
        forward_fails(
            &model,
            &[5, 6],
            &[1, 5],
            2 * tv,
            s,
            Error::ScratchMisaligned,
        );
        encode_fails(&model, &[5, 6], 2 * 64, s, Error::ScratchMisaligned);
        let beam_needed = model.beam_scratch_bytes(4).unwrap();
        let mut buf = shifted(beam_needed, shift);
        expect_err(
            model.beam_search(
                &[5, 6],
                &params(4, 2, 0.6, 8),
                &mut buf.as_mut_slice()[shift..],
            ),
            Error::ScratchMisaligned,
        );
    }
}

#[test]
fn buffers_output_too_small() {
    let fx = Fixture::new("paper_small");
    let model = fx.model();
    let (d, tv) = (fx.config.dims.d_model, fx.config.dims.tgt_vocab);
    let mut buf = scratch(model.greedy_scratch_bytes().unwrap());
    let s = buf.as_mut_slice();
    for (max_len, got) in [(8, 7), (8, 0), (16, 15), (1, 0)] {
        greedy_fails(
            &model,
            &[5, 6],
            max_len,
            got,
            s,
            Error::OutputTooSmall {
                needed: max_len,
                got,
            },
        );
    }
    for (tgt_len, got) in [(3, 3 * tv - 1), (3, tv), (1, 0), (16, 16 * tv - 1)] {
        let tgt = vec![5u32; tgt_len];
        forward_fails(
            &model,
            &[5, 6],
            &tgt,
            got,
            s,
            Error::OutputTooSmall {
                needed: tgt_len * tv,
                got,
            },
        );
    }
    for (src_len, got) in [(2, 2 * d - 1), (5, d), (1, 0)] {
        let src = vec![5u32; src_len];
        encode_fails(
            &model,
            &src,
            got,
            s,
            Error::OutputTooSmall {
                needed: src_len * d,
                got,
            },
        );
    }
}

/// A successful call writes only what it returns: the rest of each output keeps its fill.
#[test]
fn buffers_success_writes_only_its_part() {
    let fx = Fixture::new("paper_small");
    let model = fx.model();
    let (d, tv) = (fx.config.dims.d_model, fx.config.dims.tgt_vocab);
    let bytes = model.greedy_scratch_bytes().unwrap();
    let mut buf = scratch(bytes.max(model.forward_scratch_bytes().unwrap()));
    let s = buf.as_mut_slice();
    for max_len in [1, 3, 16] {
        let mut out = vec![TOKEN_SENTINEL; 32];
        let g = model.greedy(&[5, 6, 7], max_len, &mut out, s).unwrap();
        assert!((1..=max_len).contains(&g.len));
        assert!(out[..g.len].iter().all(|&t| (t as usize) < tv));
        assert!(out[g.len..].iter().all(|&t| t == TOKEN_SENTINEL), "{out:?}");
    }
    let mut logits = vec![f32::from_bits(F32_SENTINEL); 5 * tv];
    model.forward(&[5, 6], &[1, 5, 6], &mut logits, s).unwrap();
    assert!(logits[..3 * tv].iter().all(|v| v.is_finite()));
    assert!(logits[3 * tv..].iter().all(|v| v.to_bits() == F32_SENTINEL));
    let mut out = vec![f32::from_bits(F32_SENTINEL); 4 * d];
    model.encode(&[5, 6], &mut out, s).unwrap();
    assert!(out[..2 * d].iter().all(|v| v.is_finite()));
    assert!(out[2 * d..].iter().all(|v| v.to_bits() == F32_SENTINEL));
}

/// When several things are wrong at once, the inputs are reported before the buffers,
/// and still nothing is written.
#[test]
fn buffers_untouched_when_several_things_are_wrong() {
    let fx = Fixture::new("paper_small");
    let model = fx.model();
    let mut misaligned = shifted(64, 1);
    let s = &mut misaligned.as_mut_slice()[1..];
    greedy_fails(
        &model,
        &[99],
        0,
        0,
        s,
        Error::TokenOutOfRange {
            token: 99,
            vocab: 61,
        },
    );
    greedy_fails(
        &model,
        &[5],
        0,
        0,
        s,
        Error::MaxLenOutOfRange {
            max_len: 0,
            limit: 16,
        },
    );
    greedy_fails(
        &model,
        &[5],
        4,
        3,
        s,
        Error::OutputTooSmall { needed: 4, got: 3 },
    );
    greedy_fails(&model, &[5], 4, 4, s, Error::ScratchMisaligned);
    forward_fails(
        &model,
        &[5],
        &[1, 99],
        0,
        s,
        Error::TokenOutOfRange {
            token: 99,
            vocab: 67,
        },
    );
    forward_fails(
        &model,
        &[5],
        &[1, 2],
        1,
        s,
        Error::OutputTooSmall {
            needed: 2 * 67,
            got: 1,
        },
    );
}

// =====================================================================================
// Architecture (synthetic encoder-only and decoder-only models)
// =====================================================================================

fn synthetic(n_encoder_layers: usize, n_decoder_layers: usize) -> AlignedBytes {
    let enc = n_encoder_layers > 0;
    let dec = n_decoder_layers > 0;
    let config = Config {
        dims: Dims {
            d_model: 8,
            n_heads: 2,
            d_ff: 16,
            n_encoder_layers,
            n_decoder_layers,
            src_vocab: if enc { 11 } else { 0 },
            tgt_vocab: if dec { 13 } else { 0 },
            max_src_len: if enc { 6 } else { 0 },
            max_tgt_len: if dec { 5 } else { 0 },
            type_vocab: 0,
            stem_channels: 0,
            n_kv_heads: 2,
            feed_forward: picoformer::config::FeedForward::Plain,
            kv_cache: picoformer::config::CacheType::F32,
        },
        norm: Norm::Post,
        activation: Activation::Relu,
        positional: Positional::Sinusoidal,
        layer_norm_eps: 1e-5,
        norm_kind: picoformer::config::NormKind::LayerNorm,
        rope_theta: 0.0,
        scale_embeddings: false,
        tie_output: false,
        final_norm: true,
        src_embed_norm: false,
        bos_id: 1,
        eos_id: 2,
        pad_id: 0,
    };
    let data: Vec<f32> = (0..4096)
        .map(|i| ((i * 7919) % 97) as f32 / 97.0 - 0.5)
        .collect();
    let bytes = picoformer_cli::blob_writer::write_blob(&config, |_, slot| Some(&data[..slot.len]))
        .unwrap();
    AlignedBytes::copy_from(&bytes)
}

#[test]
fn wrong_architecture() {
    // Encoder-only: nothing that needs a decoder.
    let blob = synthetic(1, 0);
    let model = Model::from_blob(blob.as_slice()).unwrap();
    let mut s = scratch(model.greedy_scratch_bytes().unwrap());
    let want = Error::WrongArchitecture { needs: "decoder" };
    greedy_fails(&model, &[3, 4], 4, 4, s.as_mut_slice(), want);
    forward_fails(&model, &[3, 4], &[1], 16, s.as_mut_slice(), want);
    expect_err(
        model.beam_search(&[3, 4], &params(2, 1, 0.6, 4), s.as_mut_slice()),
        want,
    );
    let mut out = vec![0.0; 2 * 8];
    model.encode(&[3, 4], &mut out, s.as_mut_slice()).unwrap();

    // Decoder-only: no encoder, and source tokens are refused.
    let blob = synthetic(0, 1);
    let model = Model::from_blob(blob.as_slice()).unwrap();
    let mut s = scratch(model.greedy_scratch_bytes().unwrap());
    encode_fails(
        &model,
        &[3, 4],
        16,
        s.as_mut_slice(),
        Error::WrongArchitecture { needs: "encoder" },
    );
    encode_fails(
        &model,
        &[],
        16,
        s.as_mut_slice(),
        Error::WrongArchitecture { needs: "encoder" },
    );
    let want = Error::WrongArchitecture {
        needs: "encoder, but source tokens were given",
    };
    greedy_fails(&model, &[3], 4, 4, s.as_mut_slice(), want);
    forward_fails(&model, &[3], &[1], 13, s.as_mut_slice(), want);
    let mut b = scratch(model.beam_scratch_bytes(2).unwrap());
    expect_err(
        model.beam_search(&[3], &params(2, 1, 0.6, 4), b.as_mut_slice()),
        want,
    );
    // Without source tokens it decodes.
    let mut out = [0u32; 5];
    let g = model.greedy(&[], 5, &mut out, s.as_mut_slice()).unwrap();
    assert!((1..=5).contains(&g.len));
    model
        .beam_search(&[], &params(2, 2, 0.6, 5), b.as_mut_slice())
        .unwrap();
    // Its target-side checks still apply.
    greedy_fails(
        &model,
        &[],
        6,
        6,
        s.as_mut_slice(),
        Error::MaxLenOutOfRange {
            max_len: 6,
            limit: 5,
        },
    );
    forward_fails(
        &model,
        &[],
        &[1, 13],
        26,
        s.as_mut_slice(),
        Error::TokenOutOfRange {
            token: 13,
            vocab: 13,
        },
    );
}

// =====================================================================================
// Static model
// =====================================================================================

type PaperSmall<'a> = StaticModel<'a, 64, 4, 256, 2, 2, 61, 67, 24, 16>;

#[test]
fn static_model_shape_mismatch() {
    let fx = Fixture::new("paper_small");
    let blob = fx.blob.as_slice();
    PaperSmall::from_blob(blob).unwrap();
    // Each row: a type that differs from the blob, the field reported, the type's value
    // and the blob's.
    macro_rules! mismatches {
        ($($ty:ty, $field:literal, $expected:expr, $found:expr;)*) => {$(
            expect_err(
                <$ty>::from_blob(blob),
                Error::ShapeMismatch {
                    field: $field,
                    expected: $expected,
                    found: $found,
                },
            );
        )*};
    }
    mismatches! {
        StaticModel<'_, 32, 4, 256, 2, 2, 61, 67, 24, 16>, "d_model", 32, 64;
        StaticModel<'_, 64, 8, 256, 2, 2, 61, 67, 24, 16>, "n_heads", 8, 4;
        StaticModel<'_, 64, 4, 128, 2, 2, 61, 67, 24, 16>, "d_ff", 128, 256;
        StaticModel<'_, 64, 4, 256, 1, 2, 61, 67, 24, 16>, "n_encoder_layers", 1, 2;
        StaticModel<'_, 64, 4, 256, 2, 3, 61, 67, 24, 16>, "n_decoder_layers", 3, 2;
        StaticModel<'_, 64, 4, 256, 2, 2, 67, 67, 24, 16>, "src_vocab", 67, 61;
        StaticModel<'_, 64, 4, 256, 2, 2, 61, 61, 24, 16>, "tgt_vocab", 61, 67;
        StaticModel<'_, 64, 4, 256, 2, 2, 61, 67, 16, 16>, "max_src_len", 16, 24;
        StaticModel<'_, 64, 4, 256, 2, 2, 61, 67, 24, 17>, "max_tgt_len", 17, 16;
        // The first differing field is reported.
        StaticModel<'_, 32, 2, 64, 1, 1, 10, 10, 8, 8>, "d_model", 32, 64;
    }
    // Blob errors come through unchanged.
    let mut bad = fx.blob.clone();
    put_u32(bad.as_mut_slice(), VERSION, 9);
    expect_err(
        PaperSmall::from_blob(bad.as_slice()),
        Error::UnsupportedVersion { found: 9 },
    );
    // And so do input errors, with the output untouched.
    let model = PaperSmall::from_blob(blob).unwrap();
    let mut s = Box::new(Scratch::<{ PaperSmall::GREEDY_SCRATCH_BYTES }>::new());
    let mut out = [TOKEN_SENTINEL; 16];
    expect_err(
        model.greedy(&[5, 61], 8, &mut out, &mut s),
        Error::TokenOutOfRange {
            token: 61,
            vocab: 61,
        },
    );
    expect_err(
        model.greedy(&[5], 17, &mut out, &mut s),
        Error::MaxLenOutOfRange {
            max_len: 17,
            limit: 16,
        },
    );
    assert_eq!(out, [TOKEN_SENTINEL; 16]);
}

// =====================================================================================
// Display
// =====================================================================================

#[test]
fn every_error_displays_as_one_line() {
    let all = [
        Error::BlobTruncated {
            needed: 128,
            got: 0,
        },
        Error::BadMagic,
        Error::UnsupportedVersion { found: 2 },
        Error::UnsupportedDtype { found: 3 },
        Error::InvalidScale { index: 3 },
        Error::WrongDtype {
            expected: 0,
            found: 2,
        },
        Error::BlobMisaligned,
        Error::BlobLengthMismatch {
            declared: 16,
            got: 32,
        },
        Error::InvalidConfig { reason: "x" },
        Error::TensorTableCorrupt { index: 3 },
        Error::TensorOutOfBounds { index: 3 },
        Error::TensorShape {
            index: 3,
            expected: 4,
            found: 5,
        },
        Error::MissingTensor { index: 3 },
        Error::ShapeMismatch {
            field: "d_model",
            expected: 64,
            found: 32,
        },
        Error::TokenOutOfRange {
            token: u32::MAX,
            vocab: 61,
        },
        Error::EmptySequence,
        Error::SequenceTooLong { len: 25, max: 24 },
        Error::MaxLenOutOfRange {
            max_len: 0,
            limit: 16,
        },
        Error::BeamSizeOutOfRange { beam: 0, limit: 64 },
        Error::TopBeamsOutOfRange { top: 5, beam: 4 },
        Error::InvalidLengthPenalty,
        Error::WrongArchitecture { needs: "decoder" },
        Error::ScratchTooSmall {
            needed: usize::MAX,
            got: 0,
        },
        Error::ScratchMisaligned,
        Error::OutputTooSmall { needed: 8, got: 7 },
        Error::SizeOverflow,
        Error::RaggedInput { len: 7, row: 4 },
        Error::NonFiniteLogits,
    ];
    let mut texts = std::collections::HashSet::new();
    for e in &all {
        check_display(e);
        assert!(texts.insert(e.to_string()), "{e:?} shares its message");
        // The std error trait is there for `?` into `Box<dyn Error>`.
        let boxed: Box<dyn std::error::Error> = Box::new(*e);
        assert_eq!(boxed.to_string(), e.to_string());
    }
    // Every InvalidConfig reason the validator can give is one line too.
    for reason in [
        "d_model is not a multiple of n_heads",
        "layer_norm_eps must be finite and >= 0",
    ] {
        check_display(&Error::InvalidConfig { reason });
    }
}

// =====================================================================================
// Non-finite weights
// =====================================================================================

/// `picoformer decode` on a model with NaN weights: a one-line error and exit status 1,
/// where it printed `{"hypotheses":[]}` with exit 0 before.
#[test]
fn decode_with_nan_weights_is_an_error() {
    let case = golden_cases().into_iter().next().expect("a golden case");
    let mut blob = case.blob.clone();
    let bytes = blob.as_mut_slice();
    let header = get_u32(bytes, HEADER_LEN) as usize;
    for word in bytes[header..].chunks_exact_mut(4) {
        word.copy_from_slice(&f32::NAN.to_le_bytes());
    }
    // Sealed again: the checksums are right, the weights are what is wrong.
    picoformer::blob::seal(bytes).unwrap();
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("nan-weights.pfm");
    std::fs::write(&path, blob.as_slice()).unwrap();
    for extra in [&["--json"][..], &["--beam", "3", "--json"][..]] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_picoformer"))
            .args(["decode", path.to_str().unwrap(), "--src", "5,6,7"])
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "", "{extra:?}");
        assert_eq!(stderr.lines().count(), 1, "{extra:?}: {stderr}");
        assert!(
            stderr.contains("the model's logits are NaN or infinite"),
            "{extra:?}: {stderr}"
        );
    }
}

/// A golden blob whose whole tensor data region is `fill(i)` decodes (greedy and beam,
/// plus forward and encode) without panicking or hanging: within `max_len` tokens, or
/// with `NonFiniteLogits` when the logits are not finite (always so with NaN weights:
/// before, an all-NaN step emitted eos and a broken model gave an empty answer).
#[test]
fn non_finite_weights_decode_without_panic_or_hang() {
    type Fill = fn(usize) -> f32;
    let fills: [(&str, Fill); 5] = [
        ("NaN", |_| f32::NAN),
        ("+inf", |_| f32::INFINITY),
        ("-inf", |_| f32::NEG_INFINITY),
        ("+-inf", |i| {
            if i % 2 == 0 {
                f32::INFINITY
            } else {
                f32::NEG_INFINITY
            }
        }),
        (
            "max / NaN",
            |i| if i % 3 == 0 { f32::NAN } else { f32::MAX },
        ),
    ];
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        for case in golden_cases() {
            for (label, fill) in fills {
                let mut blob = case.blob.clone();
                let bytes = blob.as_mut_slice();
                let header = get_u32(bytes, HEADER_LEN) as usize;
                for (i, word) in bytes[header..].chunks_exact_mut(4).enumerate() {
                    word.copy_from_slice(&fill(i).to_le_bytes());
                }
                blob::seal(bytes).unwrap();
                let what = format!("{} {label}", case.name);
                let model = Model::from_blob(blob.as_slice()).unwrap();
                let dims = model.config().dims;
                let max_len = dims.max_tgt_len;
                let src: Vec<u32> = (3..3 + dims.max_src_len.min(6) as u32).collect();
                let bytes = model.greedy_scratch_bytes().unwrap();
                let mut s = scratch(bytes.max(model.forward_scratch_bytes().unwrap()));
                let mut out = vec![TOKEN_SENTINEL; max_len];
                match model.greedy(&src, max_len, &mut out, s.as_mut_slice()) {
                    Ok(g) => {
                        assert!(label != "NaN", "{what}: NaN weights gave an answer");
                        assert!(
                            (1..=max_len).contains(&g.len),
                            "{what}: greedy len {}",
                            g.len
                        );
                        assert!(g.score.is_finite(), "{what}: score {}", g.score);
                        assert!(
                            out[..g.len].iter().all(|&t| (t as usize) < dims.tgt_vocab),
                            "{what}: {out:?}"
                        );
                    }
                    Err(e) => assert_eq!(e, Error::NonFiniteLogits, "{what}: greedy"),
                }
                // Sampling: tempered (top-p on and off) and temperature 0.
                let mut t = scratch(model.sample_scratch_bytes().unwrap());
                let source = picoformer::Source::Tokens(&src);
                let bos = [model.config().bos_id];
                for (temperature, top_p) in [(0.0, 1.0), (0.8, 1.0), (0.8, 0.9)] {
                    let params = picoformer::SamplingParams {
                        temperature,
                        top_p,
                        seed: 7,
                    };
                    let sampled = model.sample_with(
                        &source,
                        &bos,
                        max_len,
                        &params,
                        &mut out,
                        t.as_mut_slice(),
                    );
                    match sampled {
                        Ok(g) => {
                            assert!(label != "NaN", "{what}: sampling answered");
                            assert!((1..=max_len).contains(&g.len), "{what}: {}", g.len);
                        }
                        Err(e) => assert_eq!(e, Error::NonFiniteLogits, "{what}: sampling"),
                    }
                }
                let mut logits = vec![0.0; 3 * dims.tgt_vocab];
                model
                    .forward(&src, &[1, 5, 6], &mut logits, s.as_mut_slice())
                    .unwrap_or_else(|e| panic!("{what}: forward {e}"));
                let mut enc = vec![0.0; src.len() * dims.d_model];
                model
                    .encode(&src, &mut enc, s.as_mut_slice())
                    .unwrap_or_else(|e| panic!("{what}: encode {e}"));
                for beam in [1, 4] {
                    let mut b = scratch(model.beam_scratch_bytes(beam).unwrap());
                    let p = params(beam, beam, 0.6, max_len);
                    match model.beam_search(&src, &p, b.as_mut_slice()) {
                        Ok(h) => {
                            assert!(label != "NaN", "{what}: beam {beam} answered");
                            assert!(h.len() <= beam, "{what}: {} hypotheses", h.len());
                            for hyp in h.iter() {
                                assert!(hyp.tokens.len() <= max_len, "{what}: {:?}", hyp.tokens);
                            }
                        }
                        Err(e) => assert_eq!(e, Error::NonFiniteLogits, "{what}: beam {beam}"),
                    }
                }
            }
        }
        tx.send(()).unwrap();
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => worker.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The worker panicked: surface its message.
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("decoding a model with non-finite weights hangs (> 60 s)")
        }
    }
}

#[test]
fn blob_checksums_name_the_corrupt_region() {
    let blob = blob_of("tied");
    let bytes = blob.as_slice();
    let header = get_u32(bytes, HEADER_LEN) as usize;
    let stored = |at| get_u32(bytes, at);
    let [header_crc, data_crc] = blob::compute_checksums(bytes).unwrap();
    assert_eq!(stored(blob::HEADER_CRC_OFFSET), header_crc);
    assert_eq!(stored(blob::DATA_CRC_OFFSET), data_crc);
    let flipped = |at: usize| {
        let mut b = blob.clone();
        b.as_mut_slice()[at] ^= 0x10;
        b
    };
    // A bit flipped in a field the other checks would accept (eps), in the table, or in
    // the stored data checksum: the header's checksum fails.
    for at in [
        EPS,
        blob::TABLE_OFFSET + 5,
        header - 1,
        blob::DATA_CRC_OFFSET,
    ] {
        let b = flipped(at);
        let got = Model::from_blob(b.as_slice()).unwrap_err();
        assert!(
            matches!(got, Error::Checksum { region: picoformer::BlobRegion::Header, stored, .. } if stored == get_u32(b.as_slice(), blob::HEADER_CRC_OFFSET)),
            "byte {at}: {got:?}"
        );
        check_display(&got);
    }
    // A bit flipped in the weights: the data's checksum fails, with both values.
    for at in [header, header + 1000, bytes.len() - 1] {
        let b = flipped(at);
        let computed = crc32c_of(&b.as_slice()[header..]);
        expect_err(
            Model::from_blob(b.as_slice()),
            Error::Checksum {
                region: picoformer::BlobRegion::TensorData,
                stored: data_crc,
                computed,
            },
        );
        // A loader told the image is verified does not look: the weights load as they are.
        Model::from_verified_blob(b.as_slice()).unwrap();
    }
    // Every other check still runs without the checksums.
    let mut b = blob.clone();
    put_u32(b.as_mut_slice(), DTYPE, 1);
    assert!(matches!(
        Model::from_verified_blob(b.as_slice()),
        Err(Error::TensorSize { .. })
    ));
}

/// CRC-32C written out bit by bit from its definition (reflected polynomial 0x82F63B78),
/// to check the engine's table-driven one against.
fn crc32c_of(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn crc32c_is_castagnolis() {
    // The standard check value (RFC 3720, iSCSI) and the bit-by-bit definition.
    assert_eq!(blob::crc32c(b"123456789"), 0xE306_9283);
    assert_eq!(blob::crc32c(b""), 0);
    let data: Vec<u8> = (0..4099u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert_eq!(blob::crc32c(&data), crc32c_of(&data));
    let mut split = blob::Crc32c::new();
    split.update(&data[..1000]);
    split.update(&data[1000..]);
    assert_eq!(split.finish(), crc32c_of(&data));
}
