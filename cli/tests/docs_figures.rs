//! The figures the documentation states about the bundled and golden models are the ones
//! the engine computes: a change to the blob format, the scratch plan or the model makes
//! this test fail until the page says the new figure. (The firmware figures are written
//! into docs/firmware.md by tools/firmware-report.sh; the README's quickstart figures are
//! checked by tools/quickstart-figures.sh.)

mod common;

use picoformer::Model;
use picoformer_cli::read_model_file;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A docs page with every run of whitespace (line breaks, indentation) one space.
fn page(name: &str) -> String {
    let text = std::fs::read_to_string(repo().join("docs").join(name)).expect("the docs page");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `1234567` as the docs write it: `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn assert_states(page_name: &str, text: &str, figure: &str) {
    assert!(
        text.contains(figure),
        "docs/{page_name} should state \"{figure}\" (what the engine computes today)"
    );
}

#[test]
fn thousands_groups_digits() {
    assert_eq!(thousands(61967), "61,967");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1000), "1,000");
    assert_eq!(thousands(249616), "249,616");
}

#[test]
fn date_model_page_states_the_models_figures() {
    let text = page("date-model.md");
    let blob = read_model_file(&repo().join("models/dates/dates.pfm")).unwrap();
    let model = Model::from_blob(blob.as_slice()).unwrap();
    let figures = [
        format!("{} parameters", thousands(model.parameter_count())),
        format!("a {}-byte blob", thousands(model.blob_bytes())),
        format!(
            "{} bytes of greedy scratch",
            thousands(model.greedy_scratch_bytes().unwrap())
        ),
        format!(
            "({} for beam search of 4)",
            thousands(model.beam_scratch_bytes(4).unwrap())
        ),
    ];
    for figure in &figures {
        assert_states("date-model.md", &text, figure);
    }
    let int8 = std::fs::metadata(repo().join("models/dates/dates-i8.pfm"))
        .unwrap()
        .len();
    assert_states(
        "date-model.md",
        &text,
        &format!(
            "`models/dates/dates-i8.pfm`, {} bytes",
            thousands(int8 as usize)
        ),
    );
}

#[test]
fn memory_page_states_paper_smalls_scratch() {
    let text = page("memory.md");
    let case = common::golden_cases()
        .into_iter()
        .find(|case| case.name == "paper_small")
        .expect("the paper_small golden case");
    let model = Model::from_blob(case.blob.as_slice()).unwrap();
    let figure = format!(
        "{} bytes greedy, {} bytes for beam 4",
        thousands(model.greedy_scratch_bytes().unwrap()),
        thousands(model.beam_scratch_bytes(4).unwrap())
    );
    assert_states("memory.md", &text, &figure);
}

#[test]
fn hardening_page_states_the_validation_caps() {
    let text = page("hardening.md");
    let cap = picoformer::config::MAX_DIM;
    assert!(cap.is_power_of_two());
    assert_states(
        "hardening.md",
        &text,
        &format!(
            "Dimensions are capped at 2^{} and layers at {} per side",
            cap.trailing_zeros(),
            picoformer::config::MAX_LAYERS
        ),
    );
}
