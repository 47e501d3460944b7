//! `--threads` (issue 18): the engine's forward pass and greedy decoding give the same
//! bits on 2 threads as on one, on every golden model in f32, f16 and int8, and the
//! command line takes the count.

mod common;

use common::golden_cases;
use picoformer::kernels::threads::with_threads;
use picoformer::{Model, WeightType};
use picoformer_cli::{convert, scratch, AlignedBytes};
use std::process::Command;

fn forward_bits(model: &Model, src: &[u32], tgt: &[u32]) -> Vec<u32> {
    let mut buf = scratch(model.forward_scratch_bytes().unwrap());
    let mut logits = vec![0.0f32; tgt.len() * model.config().dims.tgt_vocab];
    model
        .forward(src, tgt, &mut logits, buf.as_mut_slice())
        .unwrap();
    logits.iter().map(|v| v.to_bits()).collect()
}

fn greedy(model: &Model, src: &[u32], max_len: usize) -> Vec<u32> {
    let mut buf = scratch(model.greedy_scratch_bytes().unwrap());
    let mut out = vec![0; max_len];
    let len = model
        .greedy(src, max_len, &mut out, buf.as_mut_slice())
        .unwrap()
        .len;
    out.truncate(len);
    out
}

#[test]
fn golden_models_give_the_same_bits_on_two_threads() {
    for case in golden_cases() {
        for dtype in [WeightType::F32, WeightType::F16, WeightType::I8] {
            let blob = if dtype == WeightType::F32 {
                AlignedBytes::copy_from(case.blob.as_slice())
            } else {
                AlignedBytes::copy_from(
                    &convert::requantize(case.blob.as_slice(), dtype).unwrap().0,
                )
            };
            let model = Model::from_blob(blob.as_slice()).unwrap();
            let name = format!("{} {dtype:?}", case.name);
            for f in &case.expected.forward {
                let one = forward_bits(&model, &f.src, &f.tgt);
                let two = with_threads(2, || forward_bits(&model, &f.src, &f.tgt));
                assert_eq!(one, two, "{name} forward");
            }
            for g in &case.expected.greedy {
                let one = greedy(&model, &g.src, g.max_len);
                let two = with_threads(2, || greedy(&model, &g.src, g.max_len));
                assert_eq!(one, two, "{name} greedy");
            }
        }
    }
}

#[test]
fn the_command_line_takes_a_thread_count() {
    let bin = env!("CARGO_BIN_EXE_picoformer");
    let model = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/dates/dates.pfm");
    let run = |threads: &str| {
        let out = Command::new(bin)
            .args([
                "--threads",
                threads,
                "dates",
                "--model",
                model,
                "sat 28th of november, 2026",
            ])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, one) = run("1");
    assert_eq!(code, Some(0));
    assert_eq!(run("2"), (Some(0), one));
    let (code, _) = run("0");
    assert_eq!(code, Some(2), "0 threads is an argument error");
}
