//! Acceptance through the command line: `convert`, `info`, `forward` and `decode` on every
//! golden case, compared with PyTorch's results; bad input gives a one-line error.

mod common;

use common::{golden_cases, max_abs_diff, GoldenCase, TOLERANCE};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn picoformer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_picoformer"))
        .args(args)
        .output()
        .expect("the picoformer binary runs")
}

fn json_of(args: &[&str]) -> Value {
    let out = picoformer(args);
    assert!(
        out.status.success(),
        "picoformer {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON on stdout")
}

fn ids(tokens: &[u32]) -> String {
    tokens
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Converts a golden case with the CLI; returns the .pfm path.
fn convert(case: &GoldenCase) -> PathBuf {
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let model = out_dir.join(format!("{}.pfm", case.name));
    let (config, weights) = (
        case.dir.join("config.json"),
        case.dir.join("weights.safetensors"),
    );
    let out = picoformer(&[
        "convert",
        "--from",
        "torch",
        "--config",
        config.to_str().unwrap(),
        weights.to_str().unwrap(),
        "-o",
        model.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The CLI's blob is byte-identical to the library converter's.
    assert_eq!(std::fs::read(&model).unwrap(), case.blob.as_slice());
    model
}

#[test]
fn cli_matches_pytorch_on_every_golden_case() {
    for case in golden_cases() {
        let model = convert(&case);
        let model = model.to_str().unwrap();

        let info = json_of(&["info", model, "--json", "--beam", "3"]);
        assert_eq!(info["config"]["d_model"], case.config.dims.d_model);
        assert!(info["scratch_bytes"]["greedy"].as_u64().unwrap() > 0);

        for f in &case.expected.forward {
            let out = json_of(&[
                "forward",
                model,
                "--src",
                &ids(&f.src),
                "--tgt",
                &ids(&f.tgt),
                "--json",
            ]);
            let rows = out["logits"].as_array().unwrap();
            assert_eq!(rows.len(), f.logits.len());
            for (got, want) in rows.iter().zip(&f.logits) {
                let got: Vec<f32> = got
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap() as f32)
                    .collect();
                assert!(
                    max_abs_diff(&got, want) <= TOLERANCE,
                    "{} forward",
                    case.name
                );
            }
        }
        for g in &case.expected.greedy {
            let max_len = g.max_len.to_string();
            let out = json_of(&[
                "decode",
                model,
                "--src",
                &ids(&g.src),
                "--max-len",
                &max_len,
                "--json",
            ]);
            let hyp = &out["hypotheses"][0];
            let tokens: Vec<u32> = serde_json::from_value(hyp["tokens"].clone()).unwrap();
            assert_eq!(tokens, g.tokens, "{} greedy", case.name);
            let score = hyp["score"].as_f64().unwrap() as f32;
            assert!(
                (score - g.score).abs() <= TOLERANCE,
                "{} greedy score",
                case.name
            );
        }
        for b in &case.expected.beam {
            let (beam, top, alpha, max_len) = (
                b.beam.to_string(),
                b.top.to_string(),
                b.alpha.to_string(),
                b.max_len.to_string(),
            );
            let out = json_of(&[
                "decode",
                model,
                "--src",
                &ids(&b.src),
                "--beam",
                &beam,
                "--top",
                &top,
                "--alpha",
                &alpha,
                "--max-len",
                &max_len,
                "--json",
            ]);
            let hyps = out["hypotheses"].as_array().unwrap();
            assert_eq!(hyps.len(), b.hypotheses.len(), "{} beam", case.name);
            for (got, want) in hyps.iter().zip(&b.hypotheses) {
                let tokens: Vec<u32> = serde_json::from_value(got["tokens"].clone()).unwrap();
                assert_eq!(tokens, want.tokens, "{} beam", case.name);
                let score = got["score"].as_f64().unwrap() as f32;
                assert!(
                    (score - want.score).abs() <= TOLERANCE,
                    "{} beam score",
                    case.name
                );
            }
        }
    }
}

/// Bad input: a one-line `error: ...` on stderr, a non-zero exit, never a panic.
#[test]
fn cli_bad_input_is_a_one_line_error() {
    let case = golden_cases()
        .into_iter()
        .find(|c| c.name == "paper_small")
        .unwrap();
    let model = convert(&case);
    let model = model.to_str().unwrap();
    let garbage = Path::new(env!("CARGO_TARGET_TMPDIR")).join("garbage.pfm");
    std::fs::write(&garbage, b"definitely not a model").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["decode", model, "--src", "5,999"],
            "token id 999 out of range",
        ),
        (
            vec!["decode", model, "--src", "5", "--beam", "0"],
            "beam size 0",
        ),
        (
            vec!["decode", model, "--src", "5", "--beam", "2", "--top", "3"],
            "top beams 3",
        ),
        (
            vec!["decode", model, "--src", "5", "--max-len", "17"],
            "max_len 17",
        ),
        (
            vec!["forward", model, "--src", "5", "--tgt", "1,70"],
            "token id 70",
        ),
        (
            vec!["decode", garbage.to_str().unwrap(), "--src", "5"],
            "truncated",
        ),
        (
            vec!["decode", "/nonexistent.pfm", "--src", "5"],
            "reading /nonexistent.pfm",
        ),
    ];
    for (args, needle) in cases {
        let out = picoformer(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(needle),
            "{args:?}: {stderr}"
        );
    }
}

/// Missing or wrongly shaped tensors are reported by name.
#[test]
fn convert_names_missing_and_misshapen_tensors() {
    use picoformer_cli::{config_json::ConfigJson, convert::convert_torch};
    let case = golden_cases()
        .into_iter()
        .find(|c| c.name == "tied")
        .unwrap();
    let weights = std::fs::read(case.dir.join("weights.safetensors")).unwrap();
    let config_text = std::fs::read_to_string(case.dir.join("config.json")).unwrap();
    // A config asking for learned positions needs tensors the file lacks.
    let mut json: ConfigJson = serde_json::from_str(&config_text).unwrap();
    json.positional = "learned".into();
    let err = convert_torch(&json.to_config().unwrap(), &weights).unwrap_err();
    assert!(
        err.to_string().contains("missing tensor `src_pos.weight`"),
        "{err}"
    );
    // A config with another d_ff sees the FFN weights with the wrong shape.
    let mut json: ConfigJson = serde_json::from_str(&config_text).unwrap();
    json.d_ff += 1;
    let err = convert_torch(&json.to_config().unwrap(), &weights).unwrap_err();
    assert!(
        err.to_string()
            .contains("tensor `encoder.layers.0.linear1.weight` has shape"),
        "{err}"
    );
    assert!(ConfigJson::parse(&config_text.replace("\"post\"", "\"middle\"")).is_err());
}
