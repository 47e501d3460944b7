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
