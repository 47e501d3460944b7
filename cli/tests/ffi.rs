//! The C API called from Rust: the `extern "C"` functions give the golden results (the
//! same as the Rust API's, PyTorch's within 1e-4) and check every pointer.
#![allow(unsafe_code)] // calling the C API is the point of this file
#![allow(clippy::undocumented_unsafe_blocks)] // each call's pointers are local buffers

mod common;

use common::{golden_cases, max_abs_diff, TOLERANCE};
use picoformer::ffi::*;
use picoformer::Model;
use picoformer_cli::AlignedBytes;
use std::ffi::{CStr, CString};
use std::mem::MaybeUninit;
use std::ptr::{null, null_mut};

fn handle(blob: &[u8]) -> pf_model {
    let mut m = MaybeUninit::<pf_model>::uninit();
    let s = unsafe { pf_model_init(m.as_mut_ptr(), blob.as_ptr(), blob.len()) };
    assert_eq!(s, PF_OK, "{}", message(s));
    unsafe { m.assume_init() }
}

fn message(status: i32) -> String {
    unsafe { CStr::from_ptr(pf_status_message(status)) }
        .to_string_lossy()
        .into_owned()
}

fn greedy_bytes(m: &pf_model) -> usize {
    let mut n = 0;
    assert_eq!(unsafe { pf_greedy_scratch_bytes(m, &mut n) }, PF_OK);
    n
}

fn forward_bytes(m: &pf_model) -> usize {
    let mut n = 0;
    assert_eq!(unsafe { pf_forward_scratch_bytes(m, &mut n) }, PF_OK);
    n
}

/// [`pf_greedy`] over safe buffers: its status, the tokens it wrote and their score.
fn greedy_via_c(
    m: &pf_model,
    src: &[u32],
    max_len: usize,
    scratch: &mut AlignedBytes,
) -> (i32, Vec<u32>, f32) {
    let mut tokens = vec![0u32; max_len];
    let (mut len, mut score) = (0usize, 0f32);
    let s = unsafe {
        pf_greedy(
            m,
            src.as_ptr(),
            src.len(),
            max_len,
            tokens.as_mut_ptr(),
            tokens.len(),
            &mut len,
            &mut score,
            scratch.as_mut_slice().as_mut_ptr().cast(),
            scratch.as_slice().len(),
        )
    };
    tokens.truncate(len);
    (s, tokens, score)
}

#[test]
fn golden_cases_through_the_c_api() {
    for case in golden_cases() {
        let name = &case.name;
        let m = handle(case.blob.as_slice());
        let mut config = MaybeUninit::<pf_config>::uninit();
        assert_eq!(unsafe { pf_model_config(&m, config.as_mut_ptr()) }, PF_OK);
        let config = unsafe { config.assume_init() };
        let dims = &case.config.dims;
        assert_eq!(config.d_model as usize, dims.d_model, "{name}");
        assert_eq!(config.tgt_vocab as usize, dims.tgt_vocab, "{name}");
        assert_eq!(config.max_tgt_len as usize, dims.max_tgt_len, "{name}");
        assert_eq!(config.eos_id, case.config.eos_id, "{name}");
        let v = dims.tgt_vocab;

        let mut scratch = AlignedBytes::zeroed(forward_bytes(&m).max(greedy_bytes(&m)));
        for (i, f) in case.expected.forward.iter().enumerate() {
            let mut logits = vec![0f32; f.tgt.len() * v];
            let s = unsafe {
                pf_forward(
                    &m,
                    f.src.as_ptr(),
                    f.src.len(),
                    f.tgt.as_ptr(),
                    f.tgt.len(),
                    logits.as_mut_ptr(),
                    logits.len(),
                    scratch.as_mut_slice().as_mut_ptr().cast(),
                    scratch.as_slice().len(),
                )
            };
            assert_eq!(s, PF_OK, "{name} forward {i}: {}", message(s));
            for (row, want) in logits.chunks(v).zip(&f.logits) {
                assert!(max_abs_diff(row, want) <= TOLERANCE, "{name} forward {i}");
            }
        }
        for (i, g) in case.expected.greedy.iter().enumerate() {
            let (s, tokens, score) = greedy_via_c(&m, &g.src, g.max_len, &mut scratch);
            assert_eq!(s, PF_OK, "{name} greedy {i}: {}", message(s));
            assert_eq!(tokens, g.tokens, "{name} greedy {i}");
            assert!((score - g.score).abs() <= TOLERANCE, "{name} greedy {i}");
        }
        for (i, b) in case.expected.beam.iter().enumerate() {
            let mut bytes = 0;
            assert_eq!(
                unsafe { pf_beam_scratch_bytes(&m, b.beam, &mut bytes) },
                PF_OK
            );
            let mut scratch = AlignedBytes::zeroed(bytes);
            let mut tokens = vec![0u32; b.top * b.max_len];
            let mut lengths = vec![0usize; b.top];
            let mut scores = vec![0f32; b.top];
            let mut count = 0;
            let params = pf_beam_params {
                beam: b.beam as u32,
                top: b.top as u32,
                max_len: b.max_len as u32,
                alpha: b.alpha,
            };
            let s = unsafe {
                pf_beam_search(
                    &m,
                    b.src.as_ptr(),
                    b.src.len(),
                    params,
                    tokens.as_mut_ptr(),
                    tokens.len(),
                    lengths.as_mut_ptr(),
                    lengths.len(),
                    scores.as_mut_ptr(),
                    scores.len(),
                    &mut count,
                    scratch.as_mut_slice().as_mut_ptr().cast(),
                    bytes,
                )
            };
            assert_eq!(s, PF_OK, "{name} beam {i}: {}", message(s));
            assert_eq!(count, b.hypotheses.len(), "{name} beam {i}");
            for (k, h) in b.hypotheses.iter().enumerate() {
                let row = &tokens[k * b.max_len..][..lengths[k]];
                assert_eq!(row, &h.tokens[..], "{name} beam {i} hypothesis {k}");
                assert!((scores[k] - h.score).abs() <= TOLERANCE, "{name} beam {i}");
            }
        }
    }
}

#[test]
fn encode_matches_the_rust_api() {
    let case = golden_cases().remove(0);
    let model = Model::from_blob(case.blob.as_slice()).unwrap();
    let m = handle(case.blob.as_slice());
    let src = [5u32, 9, 12];
    let d = case.config.dims.d_model;
    let mut bytes = 0;
    assert_eq!(unsafe { pf_encode_scratch_bytes(&m, &mut bytes) }, PF_OK);
    assert_eq!(bytes, model.encode_scratch_bytes().unwrap());
    let mut scratch = AlignedBytes::zeroed(bytes);
    let mut want = vec![0f32; src.len() * d];
    model
        .encode(&src, &mut want, scratch.as_mut_slice())
        .unwrap();
    let mut got = vec![0f32; src.len() * d];
    let s = unsafe {
        pf_encode(
            &m,
            src.as_ptr(),
            src.len(),
            got.as_mut_ptr(),
            got.len(),
            scratch.as_mut_slice().as_mut_ptr().cast(),
            bytes,
        )
    };
    assert_eq!(s, PF_OK);
    assert_eq!(got, want);
}

#[test]
fn every_status_has_its_own_message() {
    let unknown = message(-1);
    let codes: Vec<i32> = (0..=33).chain(100..=106).collect();
    let mut seen = std::collections::HashSet::new();
    for c in codes {
        let msg = message(c);
        assert_ne!(msg, unknown, "status {c}");
        assert!(seen.insert(msg), "status {c} shares its message");
    }
    assert_eq!(message(PF_OK), "ok");
    let version = unsafe { CStr::from_ptr(pf_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

/// NaN weights: greedy decoding is `PF_ERR_NON_FINITE_LOGITS`, not an empty answer.
#[test]
fn nan_logits_are_an_error_status() {
    let case = golden_cases().into_iter().next().expect("a golden case");
    let mut blob = case.blob.clone();
    let bytes = blob.as_mut_slice();
    // Word 3 of the header: where the tensor data starts.
    let data = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    for word in bytes[data..].chunks_exact_mut(4) {
        word.copy_from_slice(&f32::NAN.to_le_bytes());
    }
    // Sealed again: the checksums are right, the weights are what is wrong.
    picoformer::blob::seal(bytes).unwrap();
    let m = handle(blob.as_slice());
    let mut scratch = AlignedBytes::zeroed(greedy_bytes(&m));
    let (s, _, _) = greedy_via_c(&m, &[5, 6, 7], 4, &mut scratch);
    assert_eq!(s, PF_ERR_NON_FINITE_LOGITS, "{}", message(s));
    assert_eq!(message(s), "the model's logits are NaN or infinite");
}

#[test]
fn pointers_are_checked() {
    let case = golden_cases().remove(0);
    let blob = case.blob.as_slice();
    let m = handle(blob);
    let need = greedy_bytes(&m);
    let mut scratch = AlignedBytes::zeroed(need + 64);
    let sp = scratch.as_mut_slice().as_mut_ptr();
    let src = [5u32, 9, 12];
    let mut tokens = [0xabu32; 8];
    let (mut len, mut score) = (99usize, 9.0f32);
    let greedy = |m: *const pf_model,
                  src: *const u32,
                  src_len: usize,
                  tokens: *mut u32,
                  out_len: *mut usize,
                  scratch: *mut u8,
                  scratch_len: usize| unsafe {
        pf_greedy(
            m,
            src,
            src_len,
            8,
            tokens,
            8,
            out_len,
            &mut 0f32,
            scratch.cast(),
            scratch_len,
        )
    };
    let t = tokens.as_mut_ptr();
    let l: *mut usize = &mut len;
    let sp16 = sp.wrapping_add(16);
    assert_eq!(
        greedy(null(), src.as_ptr(), 3, t, l, sp, need),
        PF_ERR_NULL_POINTER
    );
    assert_eq!(greedy(&m, null(), 3, t, l, sp, need), PF_ERR_NULL_POINTER);
    assert_eq!(greedy(&m, null(), 0, t, l, sp, need), PF_ERR_EMPTY_SEQUENCE);
    assert_eq!(
        greedy(&m, src.as_ptr(), 3, null_mut(), l, sp, need),
        PF_ERR_NULL_POINTER
    );
    assert_eq!(
        greedy(&m, src.as_ptr(), 3, t, null_mut(), sp, need),
        PF_ERR_NULL_POINTER
    );
    assert_eq!(
        greedy(&m, src.as_ptr(), 3, t, l, null_mut(), need),
        PF_ERR_NULL_POINTER
    );
    assert_eq!(
        greedy(&m, src.as_ptr(), 3, t, l, null_mut(), 0),
        PF_ERR_SCRATCH_TOO_SMALL
    );
    assert_eq!(
        greedy(&m, src.as_ptr(), 3, t, l, sp.wrapping_add(4), need),
        PF_ERR_SCRATCH_MISALIGNED
    );
    assert_eq!(
        greedy(
            &m,
            src.as_ptr(),
            3,
            t.cast::<u8>().wrapping_add(2).cast(),
            l,
            sp,
            need
        ),
        PF_ERR_MISALIGNED_POINTER
    );
    assert_eq!(
        greedy(&m, src.as_ptr(), usize::MAX / 2, t, l, sp, need),
        PF_ERR_BAD_LENGTH
    );
    // An output inside the scratch buffer, the scratch buffer over the weights.
    assert_eq!(
        greedy(&m, src.as_ptr(), 3, sp.cast(), l, sp16, need),
        PF_ERR_OVERLAP
    );
    assert_eq!(
        greedy(&m, src.as_ptr(), 3, t, l, blob.as_ptr().cast_mut(), need),
        PF_ERR_OVERLAP
    );
    // None of that wrote an output.
    assert_eq!(tokens, [0xab; 8]);
    assert_eq!((len, score), (99, 9.0));
    let _ = &mut score;

    // Handles: all zero, misaligned, a failed init.
    let zero: pf_model = unsafe { std::mem::zeroed() };
    let mut n = 0;
    assert_eq!(
        unsafe { pf_greedy_scratch_bytes(&zero, &mut n) },
        PF_ERR_INVALID_HANDLE
    );
    let mut raw = AlignedBytes::zeroed(PF_MODEL_SIZE + 8);
    let odd = raw
        .as_mut_slice()
        .as_mut_ptr()
        .wrapping_add(4)
        .cast::<pf_model>();
    assert_eq!(
        unsafe { pf_model_init(odd, blob.as_ptr(), blob.len()) },
        PF_ERR_MISALIGNED_POINTER
    );
    let mut bad = handle(blob);
    assert_eq!(
        unsafe { pf_model_init(&mut bad, blob.as_ptr(), blob.len() - 16) },
        PF_ERR_BLOB_TRUNCATED
    );
    assert_eq!(
        unsafe { pf_greedy_scratch_bytes(&bad, &mut n) },
        PF_ERR_INVALID_HANDLE
    );
    // A handle over its own blob.
    let mut copy = AlignedBytes::copy_from(blob);
    let p = copy.as_mut_slice().as_mut_ptr();
    assert_eq!(
        unsafe { pf_model_init(p.cast(), p, blob.len()) },
        PF_ERR_OVERLAP
    );
}

#[test]
fn files_are_read_into_caller_memory() {
    let dir = std::env::temp_dir().join(format!("picoformer-ffi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.pfm");
    let case = golden_cases().remove(0);
    std::fs::write(&path, case.blob.as_slice()).unwrap();
    let cpath = CString::new(path.to_str().unwrap()).unwrap();
    let mut size = 0;
    assert_eq!(unsafe { pf_file_size(cpath.as_ptr(), &mut size) }, PF_OK);
    assert_eq!(size, case.blob.as_slice().len());
    let mut buf = AlignedBytes::zeroed(size);
    let mut got = 0;
    let s = unsafe {
        pf_read_file(
            cpath.as_ptr(),
            buf.as_mut_slice().as_mut_ptr().cast(),
            size,
            &mut got,
        )
    };
    assert_eq!(s, PF_OK);
    assert_eq!(got, size);
    assert_eq!(buf.as_slice(), case.blob.as_slice());
    let s = unsafe {
        pf_read_file(
            cpath.as_ptr(),
            buf.as_mut_slice().as_mut_ptr().cast(),
            size - 1,
            &mut got,
        )
    };
    assert_eq!(s, PF_ERR_OUTPUT_TOO_SMALL);
    let missing = CString::new("/nonexistent/picoformer.pfm").unwrap();
    assert_eq!(
        unsafe { pf_file_size(missing.as_ptr(), &mut size) },
        PF_ERR_IO
    );
    assert_eq!(
        unsafe { pf_file_size(null(), &mut size) },
        PF_ERR_NULL_POINTER
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// f16 and int8 blobs go through the C API unchanged: the scratch query includes the
/// int8 activation buffer, and the decode equals the Rust API's on the same blob.
#[test]
fn quantized_blobs_through_the_c_api() {
    for case in golden_cases() {
        for dtype in [picoformer::WeightType::F16, picoformer::WeightType::I8] {
            let (blob, _) =
                picoformer_cli::convert::requantize(case.blob.as_slice(), dtype).unwrap();
            let blob = AlignedBytes::copy_from(&blob);
            let m = handle(blob.as_slice());
            let model = Model::from_blob(blob.as_slice()).unwrap();
            let bytes = greedy_bytes(&m);
            assert_eq!(bytes, model.greedy_scratch_bytes().unwrap());
            let mut scratch = AlignedBytes::zeroed(bytes);
            for g in &case.expected.greedy {
                let mut want = vec![0u32; g.max_len];
                let r = model
                    .greedy(&g.src, g.max_len, &mut want, scratch.as_mut_slice())
                    .unwrap();
                let (s, tokens, score) = greedy_via_c(&m, &g.src, g.max_len, &mut scratch);
                assert_eq!(s, PF_OK, "{}: {}", case.name, message(s));
                assert_eq!(tokens[..], want[..r.len], "{} {dtype:?}", case.name);
                assert_eq!(score, r.score);
            }
        }
    }
}

#[test]
fn a_relabelled_dtype_is_refused_through_the_c_api() {
    // An f32 blob whose dtype field says f16: its matrices span twice their f16 bytes.
    let case = golden_cases().remove(0);
    let mut blob = case.blob.as_slice().to_vec();
    blob[20..24].copy_from_slice(&1u32.to_le_bytes());
    let blob = AlignedBytes::copy_from(&blob);
    let mut m = MaybeUninit::<pf_model>::uninit();
    let (p, n) = (blob.as_slice().as_ptr(), blob.as_slice().len());
    // Its header checksum says so first; past it (a loader trusting the image), the
    // tensor sizes do.
    let s = unsafe { pf_model_init(m.as_mut_ptr(), p, n) };
    assert_eq!(s, PF_ERR_HEADER_CHECKSUM, "{}", message(s));
    let s = unsafe { pf_model_init_verified(m.as_mut_ptr(), p, n) };
    assert_eq!(s, PF_ERR_TENSOR_SIZE, "{}", message(s));
}

#[test]
fn checksums_through_the_c_api() {
    let case = golden_cases().remove(0);
    let bytes = case.blob.as_slice();
    let header = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let init = |blob: &AlignedBytes, verified: bool| {
        let mut m = MaybeUninit::<pf_model>::uninit();
        let (p, n) = (blob.as_slice().as_ptr(), blob.as_slice().len());
        unsafe {
            if verified {
                pf_model_init_verified(m.as_mut_ptr(), p, n)
            } else {
                pf_model_init(m.as_mut_ptr(), p, n)
            }
        }
    };
    let flipped = |at: usize| {
        let mut b = case.blob.clone();
        b.as_mut_slice()[at] ^= 1;
        b
    };
    assert_eq!(init(&flipped(72), false), PF_ERR_HEADER_CHECKSUM);
    assert_eq!(init(&flipped(header + 4), false), PF_ERR_DATA_CHECKSUM);
    assert_eq!(init(&flipped(header + 4), true), PF_OK);
    assert_eq!(init(&case.blob, true), PF_OK);
    assert_eq!(init(&case.blob, false), PF_OK);
}
