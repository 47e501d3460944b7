//! Acceptance against PyTorch through the library API: teacher-forced logits within 1e-4,
//! greedy tokens identical, beam hypotheses identical with scores within 1e-4, for every
//! golden case (`tools/reference/make_golden.py`).

mod common;

use common::{golden_cases, max_abs_diff, TOLERANCE};
use picoformer::{BeamParams, Error, Model, Scratch, Source, StaticModel};
use picoformer_cli::scratch;

#[test]
fn forward_logits_match_pytorch() {
    for case in golden_cases() {
        let model = Model::from_blob(case.blob.as_slice()).unwrap();
        let vocab = case.config.dims.tgt_vocab;
        let mut buf = scratch(model.forward_scratch_bytes().unwrap());
        for (i, f) in case.expected.forward.iter().enumerate() {
            let mut logits = vec![f32::NAN; f.tgt.len() * vocab];
            model
                .forward(&f.src, &f.tgt, &mut logits, buf.as_mut_slice())
                .unwrap();
            assert_eq!(f.logits.len(), f.tgt.len());
            for (row, (got, want)) in logits.chunks(vocab).zip(&f.logits).enumerate() {
                let diff = max_abs_diff(got, want);
                assert!(
                    diff <= TOLERANCE,
                    "{} forward case {i} row {row}: max |diff| {diff:e}",
                    case.name
                );
            }
        }
    }
}

/// `forward_with` from a token source is `forward`, bit for bit; a source the model cannot
/// read is refused before anything is written.
#[test]
fn forward_with_any_source() {
    for case in golden_cases() {
        let model = Model::from_blob(case.blob.as_slice()).unwrap();
        let vocab = case.config.dims.tgt_vocab;
        let mut buf = scratch(model.forward_scratch_bytes().unwrap());
        let f = &case.expected.forward[2];
        let mut want = vec![f32::NAN; f.tgt.len() * vocab];
        model
            .forward(&f.src, &f.tgt, &mut want, buf.as_mut_slice())
            .unwrap();
        let mut got = vec![f32::NAN; f.tgt.len() * vocab];
        model
            .forward_with(
                &Source::Tokens(&f.src),
                &f.tgt,
                &mut got,
                buf.as_mut_slice(),
            )
            .unwrap();
        assert_eq!(
            got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            "{}",
            case.name
        );
        let mut untouched = vec![f32::NAN; f.tgt.len() * vocab];
        let frames = [0.0f32; 8];
        assert!(matches!(
            model.forward_with(
                &Source::Frames(&frames),
                &f.tgt,
                &mut untouched,
                buf.as_mut_slice()
            ),
            Err(Error::WrongArchitecture { .. })
        ));
        assert!(untouched.iter().all(|v| v.is_nan()));
    }
}

#[test]
fn greedy_tokens_match_pytorch() {
    for case in golden_cases() {
        let model = Model::from_blob(case.blob.as_slice()).unwrap();
        let mut buf = scratch(model.greedy_scratch_bytes().unwrap());
        for (i, g) in case.expected.greedy.iter().enumerate() {
            let mut out = vec![u32::MAX; g.max_len];
            let result = model
                .greedy(&g.src, g.max_len, &mut out, buf.as_mut_slice())
                .unwrap();
            assert_eq!(
                out[..result.len],
                g.tokens[..],
                "{} greedy case {i}",
                case.name
            );
            assert!(
                (result.score - g.score).abs() <= TOLERANCE,
                "{} greedy case {i}: score {} vs {}",
                case.name,
                result.score,
                g.score
            );
        }
    }
}

#[test]
fn beam_search_matches_pytorch() {
    for case in golden_cases() {
        let model = Model::from_blob(case.blob.as_slice()).unwrap();
        for (i, b) in case.expected.beam.iter().enumerate() {
            let mut buf = scratch(model.beam_scratch_bytes(b.beam).unwrap());
            let params = BeamParams {
                beam: b.beam,
                top: b.top,
                alpha: b.alpha,
                max_len: b.max_len,
            };
            let found = model
                .beam_search(&b.src, &params, buf.as_mut_slice())
                .unwrap();
            let got: Vec<(Vec<u32>, f32)> =
                found.iter().map(|h| (h.tokens.to_vec(), h.score)).collect();
            assert_eq!(got.len(), b.hypotheses.len(), "{} beam case {i}", case.name);
            for (rank, ((tokens, score), want)) in got.iter().zip(&b.hypotheses).enumerate() {
                assert_eq!(
                    tokens, &want.tokens,
                    "{} beam case {i} rank {rank}",
                    case.name
                );
                assert!(
                    (score - want.score).abs() <= TOLERANCE,
                    "{} beam case {i} rank {rank}: score {score} vs {}",
                    case.name,
                    want.score
                );
            }
        }
    }
}

/// The scratch sizes are exact: the computed size for the request (bos, then at most
/// `max_len` tokens) works and one byte less is refused; the model's maximum
/// (`greedy_scratch_bytes`) is never less.
#[test]
fn scratch_sizes_are_exact() {
    for case in golden_cases() {
        let model = Model::from_blob(case.blob.as_slice()).unwrap();
        let g = &case.expected.greedy[0];
        let bytes = model.greedy_scratch_bytes_for_len(1, g.max_len).unwrap();
        assert!(bytes <= model.greedy_scratch_bytes().unwrap());
        let mut out = vec![0; g.max_len];
        let mut exact = scratch(bytes);
        model
            .greedy(&g.src, g.max_len, &mut out, exact.as_mut_slice())
            .unwrap();
        let mut short = scratch(bytes - 1);
        let err = model.greedy(&g.src, g.max_len, &mut out, short.as_mut_slice());
        assert_eq!(
            err,
            Err(picoformer::Error::ScratchTooSmall {
                needed: bytes,
                got: bytes - 1
            })
        );
        for b in &case.expected.beam {
            let bytes = model
                .beam_scratch_bytes_for_len(b.beam, 1, b.max_len)
                .unwrap();
            assert!(bytes <= model.beam_scratch_bytes(b.beam).unwrap());
            let params = BeamParams {
                beam: b.beam,
                top: b.top,
                alpha: b.alpha,
                max_len: b.max_len,
            };
            let mut exact = scratch(bytes);
            model
                .beam_search(&b.src, &params, exact.as_mut_slice())
                .unwrap();
            let mut short = scratch(bytes - 1);
            assert!(model
                .beam_search(&b.src, &params, short.as_mut_slice())
                .is_err());
        }
    }
}

/// With `PICOFORMER_KERNEL` set, the golden decodes above ran on exactly that kernel
/// (CI runs this suite once per kernel the CPU has).
#[test]
fn golden_decodes_run_on_the_forced_kernel() {
    use picoformer::kernels::{active_kernel, kernel_calls, Dtype, Kernel};
    let case = golden_cases().into_iter().next().unwrap();
    let model = Model::from_blob(case.blob.as_slice()).unwrap();
    let g = &case.expected.greedy[0];
    let mut buf = scratch(model.greedy_scratch_bytes().unwrap());
    let mut out = vec![0; g.max_len];
    let result = model
        .greedy(&g.src, g.max_len, &mut out, buf.as_mut_slice())
        .unwrap();
    assert_eq!(out[..result.len], g.tokens[..]);
    if let Ok(name) = std::env::var("PICOFORMER_KERNEL") {
        let forced = Kernel::from_name(&name).expect("PICOFORMER_KERNEL names a kernel");
        assert_eq!(
            active_kernel(),
            forced,
            "the forced kernel {name} is not active"
        );
    }
    // (`scalar-fma`'s products are the scalar reference's: it serves them)
    assert!(kernel_calls(Dtype::F32, active_kernel().serving(Dtype::F32)) > 0);
}

type PaperSmall = StaticModel<'static, 64, 4, 256, 2, 2, 61, 67, 24, 16>;

/// The statically sized model computes the same tokens as the runtime one, with scratch
/// sized by its associated constants.
#[test]
fn static_model_matches_pytorch() {
    let case = golden_cases()
        .into_iter()
        .find(|c| c.name == "paper_small")
        .unwrap();
    let blob: &'static [u8] = Box::leak(Box::new(case.blob)).as_slice();
    let model = PaperSmall::from_blob(blob).unwrap();
    assert_eq!(model.src_embedding().unwrap().len(), 61);
    let mut greedy_scratch = Box::new(Scratch::<{ PaperSmall::GREEDY_SCRATCH_BYTES }>::new());
    for g in &case.expected.greedy {
        let mut out = [0u32; 16];
        let result = model
            .greedy(&g.src, g.max_len, &mut out, &mut greedy_scratch)
            .unwrap();
        assert_eq!(out[..result.len], g.tokens[..]);
    }
    let mut beam_scratch = Box::new(Scratch::<{ PaperSmall::beam_scratch_bytes(4) }>::new());
    for b in case.expected.beam.iter().filter(|b| b.beam == 4) {
        let found = model
            .beam_search::<4, _>(&b.src, b.top, b.alpha, b.max_len, &mut beam_scratch)
            .unwrap();
        let tokens: Vec<Vec<u32>> = found.iter().map(|h| h.tokens.to_vec()).collect();
        let want: Vec<Vec<u32>> = b.hypotheses.iter().map(|h| h.tokens.clone()).collect();
        assert_eq!(tokens, want);
    }
    // The same outputs as `heapless` vectors: greedy tokens and score, and the best K
    // hypotheses with their scores, copied out of the scratch.
    for g in &case.expected.greedy {
        let mut out = [0u32; 16];
        let want = model
            .greedy(&g.src, g.max_len, &mut out, &mut greedy_scratch)
            .unwrap();
        let got = model
            .greedy_vec(&g.src, g.max_len, &mut greedy_scratch)
            .unwrap();
        assert_eq!(got.tokens.as_slice(), &g.tokens[..]);
        assert_eq!(got.score, want.score);
    }
    for b in case
        .expected
        .beam
        .iter()
        .filter(|b| b.beam == 4 && b.top == 2)
    {
        let best = model
            .beam_search_top::<4, 2, _>(&b.src, b.alpha, b.max_len, &mut beam_scratch)
            .unwrap();
        assert_eq!(best.len(), b.hypotheses.len());
        for (got, want) in best.iter().zip(&b.hypotheses) {
            assert_eq!(got.tokens.as_slice(), &want.tokens[..]);
            assert!((got.score - want.score).abs() <= TOLERANCE);
        }
    }
    assert!(case.expected.beam.iter().any(|b| b.beam == 4 && b.top == 2));
    // A blob of another shape is refused with the field that differs.
    let other = golden_cases()
        .into_iter()
        .find(|c| c.name == "odd")
        .unwrap();
    let other: &'static [u8] = Box::leak(Box::new(other.blob)).as_slice();
    assert_eq!(
        PaperSmall::from_blob(other).unwrap_err(),
        picoformer::Error::ShapeMismatch {
            field: "d_model",
            expected: 64,
            found: 48
        }
    );
}
