//! The CLI holds to the library's bounds: a beam size or a length the engine refuses is
//! refused before anything is allocated for it (one bound, `picoformer::MAX_BEAM`, shared
//! by the library, the C API and the CLI), with a one-line error, never a panic or an
//! abort; and a reader closing the pipe ends a command quietly.

mod common;

use common::{golden_cases, GoldenCase};
use picoformer::{Error, Model, WeightType, MAX_BEAM};
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// Virtual memory the binary may map, in KiB: far above what the small golden models need
/// for any valid request, far below what a request sized from an unchecked argument takes.
const MEMORY_LIMIT_KIB: u64 = 2 * 1024 * 1024;

/// The paper_small golden blob, written to a file of its own for each test (`test`: its
/// name), as the tests run in parallel.
fn paper_small(test: &str) -> (PathBuf, GoldenCase) {
    let case = golden_cases()
        .into_iter()
        .find(|c| c.name == "paper_small")
        .expect("the paper_small golden case");
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bounds-{test}.pfm"));
    std::fs::write(&path, case.blob.as_slice()).expect("writing the model");
    (path, case)
}

/// Runs the binary under `ulimit -v`, so an allocation sized from an unchecked argument
/// fails (an abort) instead of quietly zero-filling gigabytes.
fn picoformer_limited(args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {MEMORY_LIMIT_KIB} && exec \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_picoformer"))
        .args(args)
        .output()
        .expect("sh runs")
}

fn assert_one_line_error(args: &[&str], needle: &str) {
    let out = picoformer_limited(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(needle),
        "{args:?}: {stderr}"
    );
}

/// `Model::beam_scratch_bytes` and the const `beam_scratch_bytes_for` refuse a beam the
/// search refuses, so no caller sizes (and allocates) scratch for one.
#[test]
fn library_beam_scratch_refuses_what_the_search_refuses() {
    let (_, case) = paper_small("library_beam_scratch_refuses_what_the_search_refuses");
    let m = Model::from_blob(case.blob.as_slice()).unwrap();
    let limit = MAX_BEAM.min(m.config().dims.tgt_vocab - 1);
    assert!(m.beam_scratch_bytes(limit).is_ok());
    for beam in [0, limit + 1, MAX_BEAM + 1, 1_000_000, usize::MAX] {
        assert_eq!(
            m.beam_scratch_bytes(beam),
            Err(Error::BeamSizeOutOfRange { beam, limit }),
            "beam {beam}"
        );
    }
    let dims = &m.config().dims;
    assert!(picoformer::beam_scratch_bytes_for(dims, WeightType::F32, MAX_BEAM).is_some());
    for beam in [0, MAX_BEAM + 1, 1_000_000] {
        assert_eq!(
            picoformer::beam_scratch_bytes_for(dims, WeightType::F32, beam),
            None,
            "beam {beam}"
        );
    }
}

/// Beam sizes far above the bound: before, `--beam 1000000` zero-filled 17.9 GB of
/// scratch before the search refused it, and `--beam 1000000000000000` panicked with
/// "capacity overflow".
#[test]
fn cli_refuses_huge_beams_before_allocating() {
    let (model, _) = paper_small("cli_refuses_huge_beams_before_allocating");
    let model = model.to_str().unwrap();
    for beam in ["65", "1000000", "1000000000000000"] {
        assert_one_line_error(
            &["decode", model, "--src", "5,9", "--beam", beam],
            &format!("beam size {beam} out of range"),
        );
        assert_one_line_error(
            &["dates", "1 may 2020", "--beam", beam],
            &format!("beam size {beam} out of range"),
        );
    }
}

/// Lengths far above `max_tgt_len`: before, `--max-len 1099511627776` aborted on
/// allocating the output and `--max-len 2305843009213693952` panicked.
#[test]
fn cli_refuses_huge_max_len_before_allocating() {
    let (model, _) = paper_small("cli_refuses_huge_max_len_before_allocating");
    let model = model.to_str().unwrap();
    for max_len in ["1099511627776", "2305843009213693952"] {
        let needle = format!("max_len {max_len} out of range");
        assert_one_line_error(
            &["decode", model, "--src", "5,9", "--max-len", max_len],
            &needle,
        );
        assert_one_line_error(
            &[
                "decode",
                model,
                "--src",
                "5,9",
                "--beam",
                "2",
                "--max-len",
                max_len,
            ],
            &needle,
        );
        assert_one_line_error(
            &[
                "bench",
                model,
                "--src",
                "5,9",
                "--tgt",
                "1,5",
                "--max-len",
                max_len,
                "--iters",
                "1",
            ],
            &needle,
        );
    }
}

/// A reader that stops reading (`… | head -c 300`) ends the command quietly, exit 0: the
/// pipe is closed before the binary writes anything, so every line it writes fails.
#[test]
fn closed_stdout_ends_quietly() {
    let (model, _) = paper_small("closed_stdout_ends_quietly");
    let model = model.to_str().unwrap();
    for args in [
        vec!["info", model],
        vec!["decode", model, "--src", "5,9", "--beam", "3", "--top", "3"],
        vec!["dates", "1 may 2020", "2 june 2021"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_picoformer"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the picoformer binary runs");
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}

/// `max_tgt_len` of [`long_target_blob`]: the million positions the blob claimed.
const LONG_TARGET: usize = 1_000_000;

/// An encoder-decoder blob (sinusoidal positions, so no table of `max_tgt_len` rows)
/// whose `max_tgt_len` is [`LONG_TARGET`]: scratch sized for that maximum is 4 decoder
/// layers x 2 caches x 10^6 positions x 128 floats, 4 GB, over [`MEMORY_LIMIT_KIB`].
fn long_target_blob(test: &str) -> (PathBuf, Vec<u8>) {
    use picoformer::config::{FeedForward, NormKind};
    use picoformer::{Activation, Config, Dims, Norm, Positional};
    let config = Config {
        dims: Dims {
            d_model: 128,
            n_heads: 4,
            d_ff: 32,
            n_encoder_layers: 1,
            n_decoder_layers: 4,
            src_vocab: 11,
            tgt_vocab: 13,
            max_src_len: 6,
            max_tgt_len: LONG_TARGET,
            type_vocab: 0,
            stem_channels: 0,
            n_kv_heads: 4,
            feed_forward: FeedForward::Plain,
            kv_cache: picoformer::config::CacheType::F32,
        },
        norm: Norm::Pre,
        activation: Activation::Relu,
        positional: Positional::Sinusoidal,
        layer_norm_eps: 1e-5,
        norm_kind: NormKind::LayerNorm,
        rope_theta: 0.0,
        scale_embeddings: false,
        tie_output: false,
        final_norm: true,
        src_embed_norm: false,
        bos_id: 1,
        eos_id: 2,
        pad_id: 0,
    };
    // Every tensor but the optional stored position tables (`[10^6, 128]`), which the
    // slice is too short for: the sinusoids are computed instead.
    let data: Vec<f32> = (0..128 * 128)
        .map(|i| ((i * 7919) % 97) as f32 / 97.0 - 0.5)
        .collect();
    let blob = picoformer_cli::blob_writer::write_blob(&config, |_, slot| data.get(..slot.len))
        .expect("the long-target blob is valid");
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bounds-{test}.pfm"));
    std::fs::write(&path, &blob).expect("writing the model");
    (path, blob)
}

/// The request-sized scratch is the carving's own size: exactly enough for the call
/// (one byte less is refused), the model's maximum at `max_tgt_len`, and smaller below.
#[test]
fn request_sized_scratch_is_exact() {
    let (_, case) = paper_small("request_sized_scratch_is_exact");
    let m = Model::from_blob(case.blob.as_slice()).unwrap();
    let t = m.config().dims.max_tgt_len;
    assert_eq!(
        m.greedy_scratch_bytes_for_len(1, t),
        m.greedy_scratch_bytes()
    );
    assert_eq!(
        m.beam_scratch_bytes_for_len(4, 1, t),
        m.beam_scratch_bytes(4)
    );
    assert_eq!(
        m.sample_scratch_bytes_for_len(1, t),
        m.sample_scratch_bytes()
    );
    assert_eq!(
        m.forward_scratch_bytes_for_len(t),
        m.forward_scratch_bytes()
    );
    let tgt = [m.config().bos_id, 5, 6];
    let needed = m.forward_scratch_bytes_for_len(tgt.len()).unwrap();
    assert!(needed < m.forward_scratch_bytes().unwrap());
    let mut logits = vec![0.0; tgt.len() * m.config().dims.tgt_vocab];
    let mut scratch = picoformer_cli::scratch(needed);
    m.forward(&[5, 9, 7], &tgt, &mut logits, scratch.as_mut_slice())
        .unwrap();
    assert!(matches!(
        m.forward(
            &[5, 9, 7],
            &tgt,
            &mut logits,
            &mut scratch.as_mut_slice()[..needed - 1]
        ),
        Err(Error::ScratchTooSmall { .. })
    ));
    assert!(m.greedy_scratch_bytes_for_len(1, 3).unwrap() < m.greedy_scratch_bytes().unwrap());
    let src = picoformer::Source::Tokens(&[5, 9, 7]);
    let prefix = [m.config().bos_id, 5];
    for max_len in [1, 3, t - 1] {
        let needed = m.greedy_scratch_bytes_for_len(2, max_len).unwrap();
        let mut out = vec![0; max_len];
        let mut scratch = picoformer_cli::scratch(needed);
        m.greedy_with(&src, &prefix, max_len, &mut out, scratch.as_mut_slice())
            .unwrap();
        assert_eq!(
            m.greedy_with(
                &src,
                &prefix,
                max_len,
                &mut out,
                &mut scratch.as_mut_slice()[..needed - 1]
            ),
            Err(Error::ScratchTooSmall {
                needed,
                got: needed - 1
            }),
            "max_len {max_len}"
        );
        let params = picoformer::BeamParams {
            beam: 3,
            top: 2,
            alpha: 0.6,
            max_len,
        };
        let needed = m.beam_scratch_bytes_for_len(3, 2, max_len).unwrap();
        let mut scratch = picoformer_cli::scratch(needed);
        m.beam_search_with(&src, &prefix, &params, scratch.as_mut_slice())
            .unwrap();
        let mut short = picoformer_cli::scratch(needed - 1);
        assert!(matches!(
            m.beam_search_with(&src, &prefix, &params, short.as_mut_slice()),
            Err(Error::ScratchTooSmall { .. })
        ));
    }
    // The request is checked by the search's rules before any size is computed.
    assert_eq!(
        m.greedy_scratch_bytes_for_len(1, t + 1),
        Err(Error::MaxLenOutOfRange {
            max_len: t + 1,
            limit: t
        })
    );
    assert_eq!(
        m.greedy_scratch_bytes_for_len(0, 1),
        Err(Error::EmptySequence)
    );
    assert_eq!(
        m.beam_scratch_bytes_for_len(4, t + 1, 1),
        Err(Error::SequenceTooLong { len: t + 1, max: t })
    );
    assert!(matches!(
        m.beam_scratch_bytes_for_len(MAX_BEAM + 1, 1, 1),
        Err(Error::BeamSizeOutOfRange { .. })
    ));
}

/// A blob claiming a million target positions decodes a short request in a few
/// megabytes: before, `decode` and `dates --model` sized scratch for `max_tgt_len` (4 GB
/// here) whatever the request asked for, and aborted under the memory limit (`bench`'s
/// teacher-forced forward too).
#[test]
fn short_request_of_a_long_model_allocates_for_the_request() {
    let (path, blob) = long_target_blob("short_request_of_a_long_model");
    let m = Model::from_blob(&blob).unwrap();
    assert!(m.greedy_scratch_bytes().unwrap() > MEMORY_LIMIT_KIB as usize * 1024);
    assert!(m.greedy_scratch_bytes_for_len(1, 20).unwrap() < 1 << 20);
    let model = path.to_str().unwrap();
    for args in [
        vec!["decode", model, "--src", "3,4,5", "--max-len", "20"],
        vec![
            "decode",
            model,
            "--src",
            "3,4,5",
            "--max-len",
            "20",
            "--beam",
            "4",
        ],
        vec!["forward", model, "--src", "3,4", "--tgt", "1,5,6"],
        vec![
            "bench",
            model,
            "--src",
            "3,4",
            "--tgt",
            "1,5",
            "--max-len",
            "20",
            "--iters",
            "1",
        ],
    ] {
        let out = picoformer_limited(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}
