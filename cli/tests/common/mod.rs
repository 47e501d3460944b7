//! Shared helpers of the integration tests: the golden cases made by
//! `tools/reference/make_golden.py` (PyTorch), converted with the library's converter.
#![allow(dead_code)]

use picoformer::Config;
use picoformer_cli::{config_json::ConfigJson, convert, AlignedBytes};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Tolerance on logits and scores against PyTorch (f32).
pub const TOLERANCE: f32 = 1e-4;

#[derive(Deserialize)]
pub struct ForwardCase {
    pub src: Vec<u32>,
    pub tgt: Vec<u32>,
    pub logits: Vec<Vec<f32>>,
}

#[derive(Deserialize)]
pub struct GreedyCase {
    pub src: Vec<u32>,
    pub max_len: usize,
    pub tokens: Vec<u32>,
    pub score: f32,
}

#[derive(Deserialize)]
pub struct ExpectedHypothesis {
    pub tokens: Vec<u32>,
    pub score: f32,
}

#[derive(Deserialize)]
pub struct BeamCase {
    pub src: Vec<u32>,
    pub beam: usize,
    pub top: usize,
    pub alpha: f32,
    pub max_len: usize,
    pub hypotheses: Vec<ExpectedHypothesis>,
}

#[derive(Deserialize)]
pub struct Expected {
    pub forward: Vec<ForwardCase>,
    pub greedy: Vec<GreedyCase>,
    pub beam: Vec<BeamCase>,
}

pub struct GoldenCase {
    pub name: String,
    pub dir: PathBuf,
    pub config: Config,
    pub blob: AlignedBytes,
    pub expected: Expected,
}

pub fn golden_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden")
}

/// Every golden case, converted from its safetensors with `convert_torch`.
pub fn golden_cases() -> Vec<GoldenCase> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(golden_root())
        .expect("tests/golden exists")
        .map(|e| e.unwrap().path())
        // (The llama cases, `llama_*`, are llama2.c checkpoints: cli/tests/llama.rs.)
        .filter(|p| p.join("expected.json").exists() && p.join("weights.safetensors").exists())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 5, "expected the golden cases, found {dirs:?}");
    dirs.into_iter()
        .map(|dir| {
            let config =
                ConfigJson::parse(&std::fs::read_to_string(dir.join("config.json")).unwrap())
                    .unwrap();
            let weights = std::fs::read(dir.join("weights.safetensors")).unwrap();
            let (blob, _) = convert::convert_torch(&config, &weights).unwrap();
            let expected: Expected =
                serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                    .unwrap();
            GoldenCase {
                name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                dir,
                config,
                blob: AlignedBytes::copy_from(&blob),
                expected,
            }
        })
        .collect()
}

/// Largest absolute difference of two equally long rows.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "row lengths differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
