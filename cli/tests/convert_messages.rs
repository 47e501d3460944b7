//! `picoformer convert` speaks of the checkpoint in the user's terms (issue 19, item 0):
//! a safetensors file that does not parse is explained with the tensor at fault (never
//! the parser's internal names), a checkpoint with more layers than its config is refused
//! unless `--allow-extra-layers`, non-finite weights are reported by tensor name, and
//! F16 / BF16 tensors are read by every safetensors converter.

mod common;

use picoformer::Model;
use picoformer_cli::config_json::ConfigJson;
use picoformer_cli::convert::convert_torch;
use picoformer_cli::hf_llama::convert_hf_llama;
use picoformer_cli::llama2c::{convert_llama2c, Llama2cOptions};
use picoformer_cli::AlignedBytes;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use std::path::{Path, PathBuf};
use std::process::Command;

fn golden(path: &str) -> PathBuf {
    common::golden_root().join(path)
}

fn picoformer(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_picoformer"))
        .args(args)
        .output()
        .expect("the picoformer binary runs")
}

fn tmp(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("messages-{name}"))
}

/// `convert --from hf-llama WEIGHTS --config CONFIG [extra]`: (success, stderr).
fn convert_hf(weights: &Path, config: &Path, extra: &[&str]) -> (bool, String) {
    let out_file = tmp(&format!(
        "{}.pfm",
        weights.file_name().unwrap().to_string_lossy()
    ));
    let out = picoformer(
        &[
            &[
                "convert",
                "--from",
                "hf-llama",
                weights.to_str().unwrap(),
                "--config",
                config.to_str().unwrap(),
                "-o",
                out_file.to_str().unwrap(),
            ][..],
            extra,
        ]
        .concat(),
    );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The byte range of tensor `name`'s data inside the file.
fn data_range(bytes: &[u8], name: &str) -> std::ops::Range<usize> {
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    let offsets = &header[name]["data_offsets"];
    let start = 8 + header_len + offsets[0].as_u64().unwrap() as usize;
    let end = 8 + header_len + offsets[1].as_u64().unwrap() as usize;
    start..end
}

/// The file with its header's JSON text edited (`from` replaced by `to`, same length
/// kept by padding with spaces, which JSON ignores).
fn edit_header(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let text = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
    assert!(text.contains(from), "{from} not in the header");
    let mut edited = text.replacen(from, to, 1);
    assert!(edited.len() <= header_len);
    while edited.len() < header_len {
        edited.push(' ');
    }
    [&bytes[..8], edited.as_bytes(), &bytes[8 + header_len..]].concat()
}

/// Every way a safetensors file can be broken gets a sentence naming what is wrong (the
/// tensor, where one is at fault) on one line; none of the parser's variant names.
#[test]
fn broken_safetensors_files_are_explained() {
    let dir = golden("llama_gqa_tied/hf");
    let config = dir.join("config.json");
    let good = std::fs::read(dir.join("model.safetensors")).unwrap();
    let header_len = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let mut huge_header = good.clone();
    huge_header[..8].copy_from_slice(&(good.len() as u64).to_le_bytes());
    let cases: Vec<(&str, Vec<u8>, &str)> =
        vec![
        ("empty", Vec::new(), "fewer than the 8-byte header length"),
        ("huge header", huge_header, "not a safetensors file, or cut off"),
        (
            "not json",
            [&good[..8], &vec![b'x'; header_len][..], &good[8 + header_len..]].concat(),
            "header is not a JSON table",
        ),
        (
            "truncated",
            good[..good.len() - 10].to_vec(),
            "lies past the end of the file",
        ),
        (
            "trailing bytes",
            [&good[..], &[0u8; 12][..]].concat(),
            "12 bytes after the last tensor",
        ),
        (
            "shape edited",
            edit_header(&good, "[67,48]", "[66,48]"),
            "tensor `model.embed_tokens.weight`: a F32 tensor of shape [66, 48] needs 12672 bytes",
        ),
        (
            "unknown dtype",
            edit_header(&good, "\"F32\"", "\"Q4\""),
            "has the unknown dtype \"Q4\"",
        ),
    ];
    for (what, bytes, needle) in cases {
        let path = tmp(&format!("{}.safetensors", what.replace(' ', "-")));
        std::fs::write(&path, &bytes).unwrap();
        let (ok, stderr) = convert_hf(&path, &config, &[]);
        assert!(!ok, "{what}: converted");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{what}: {stderr}");
        assert!(
            stderr.contains("not a valid safetensors file") && stderr.contains(needle),
            "{what}: {stderr}"
        );
        for internal in [
            "TensorInvalidInfo",
            "MetadataIncompleteBuffer",
            "InvalidOffset",
            "HeaderTooSmall",
            "InvalidHeader",
        ] {
            assert!(!stderr.contains(internal), "{what}: {stderr}");
        }
    }
}

/// A config with fewer layers than the checkpoint: refused, naming a tensor of the first
/// extra layer; `--allow-extra-layers` converts the config's layers with a note. A config
/// with the checkpoint's layer count converts without either.
#[test]
fn checkpoints_with_more_layers_than_the_config_are_refused() {
    let dir = golden("llama_mqa_untied/hf");
    let weights = dir.join("model.safetensors");
    let text = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let layers = json["num_hidden_layers"].as_u64().unwrap();
    json["num_hidden_layers"] = (layers - 1).into();
    let shallow = tmp("shallow-config.json");
    std::fs::write(&shallow, json.to_string()).unwrap();

    let (ok, stderr) = convert_hf(&weights, &shallow, &[]);
    assert!(!ok);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("more layers than the config")
            && stderr.contains(&format!("`model.layers.{}.", layers - 1))
            && stderr.contains("--allow-extra-layers"),
        "{stderr}"
    );
    let (ok, stderr) = convert_hf(&weights, &shallow, &["--allow-extra-layers"]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("dropped (--allow-extra-layers)"),
        "{stderr}"
    );
    assert!(!stderr.contains("note: tensor `model.layers"), "{stderr}");
    let (ok, stderr) = convert_hf(&weights, &dir.join("config.json"), &[]);
    assert!(ok && !stderr.contains("layers"), "{stderr}");

    // The same rule for the torch converter (one encoder layer fewer than the file has).
    let tied = golden("tied");
    let mut json: ConfigJson =
        serde_json::from_str(&std::fs::read_to_string(tied.join("config.json")).unwrap()).unwrap();
    json.n_decoder_layers -= 1;
    let weights = std::fs::read(tied.join("weights.safetensors")).unwrap();
    let (_, report) = convert_torch(&json.to_config().unwrap(), &weights).unwrap();
    assert!(
        !report.extra_layers.is_empty()
            && report
                .extra_layers
                .iter()
                .all(|name| name.starts_with(&format!("decoder.layers.{}.", json.n_decoder_layers))),
        "{:?}",
        report.extra_layers
    );
}

/// A NaN or an infinity in a weight: the tensor is named, with the count and the first
/// position; in a safetensors file (each converter) and in a llama2.c checkpoint.
#[test]
fn non_finite_weights_are_reported_by_tensor_name() {
    let dir = golden("llama_gqa_tied/hf");
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let good = std::fs::read(dir.join("model.safetensors")).unwrap();
    let name = "model.layers.1.mlp.down_proj.weight";
    let range = data_range(&good, name);
    let mut bad = good.clone();
    bad[range.start + 4 * 17..range.start + 4 * 18].copy_from_slice(&f32::NAN.to_le_bytes());
    bad[range.start + 4 * 30..range.start + 4 * 31].copy_from_slice(&f32::INFINITY.to_le_bytes());
    let err = format!("{:#}", convert_hf_llama(&config, &bad).unwrap_err());
    assert!(
        err.contains(&format!("tensor `{name}` holds 2 non-finite values"))
            && err.contains("NaN, at element 17"),
        "{err}"
    );
    let path = tmp("nan.safetensors");
    std::fs::write(&path, &bad).unwrap();
    let (ok, stderr) = convert_hf(&path, &dir.join("config.json"), &[]);
    assert!(!ok && stderr.contains(name), "{stderr}");

    // llama2.c: the header, the embedding [67, 48], then rms_att [2, 48]: an infinity in
    // rms_att's element 5.
    let mut bin = std::fs::read(golden("llama_gqa_tied/model.bin")).unwrap();
    let at = 28 + 4 * (67 * 48 + 5);
    bin[at..at + 4].copy_from_slice(&f32::NEG_INFINITY.to_le_bytes());
    let err = format!(
        "{:#}",
        convert_llama2c(&bin, &Llama2cOptions::default()).unwrap_err()
    );
    assert!(
        err.contains("tensor `rms_att` holds 1 non-finite values (the first, -inf, at element 5)"),
        "{err}"
    );
}

/// The file rewritten with every F32 tensor stored as `dtype` (F16 or BF16).
fn to_half(bytes: &[u8], dtype: Dtype) -> Vec<u8> {
    rewrite_f32(bytes, dtype, |v, out| match dtype {
        Dtype::F16 => out.extend(half::f16::from_f32(v).to_le_bytes()),
        _ => out.extend(half::bf16::from_f32(v).to_le_bytes()),
    })
}

/// The file with every F32 value rounded through `dtype` and back (still F32).
fn rounded(bytes: &[u8], dtype: Dtype) -> Vec<u8> {
    rewrite_f32(bytes, Dtype::F32, |v, out| {
        let v = match dtype {
            Dtype::F16 => half::f16::from_f32(v).to_f32(),
            _ => half::bf16::from_f32(v).to_f32(),
        };
        out.extend(v.to_le_bytes());
    })
}

/// The F32 file with each tensor's values written by `write` as a `dtype` tensor.
fn rewrite_f32(bytes: &[u8], dtype: Dtype, write: impl Fn(f32, &mut Vec<u8>)) -> Vec<u8> {
    let file = SafeTensors::deserialize(bytes).unwrap();
    let tensors: Vec<(String, Vec<u8>, Vec<usize>)> = file
        .tensors()
        .into_iter()
        .map(|(name, t)| {
            let mut data = Vec::new();
            for b in t.data().chunks_exact(4) {
                write(f32::from_le_bytes(b.try_into().unwrap()), &mut data);
            }
            (name, data, t.shape().to_vec())
        })
        .collect();
    let views: Vec<(&str, TensorView)> = tensors
        .iter()
        .map(|(name, data, shape)| {
            (
                name.as_str(),
                TensorView::new(dtype, shape.clone(), data).unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, &None).unwrap()
}

/// The torch converter (and so hf-bert, which shares its reader) takes F16 and BF16
/// files: the blob is the one of the F32 file holding the same rounded values.
#[test]
fn half_precision_files_convert_in_every_safetensors_converter() {
    let tied = golden("tied");
    let config =
        ConfigJson::parse(&std::fs::read_to_string(tied.join("config.json")).unwrap()).unwrap();
    let weights = std::fs::read(tied.join("weights.safetensors")).unwrap();
    for dtype in [Dtype::F16, Dtype::BF16] {
        let (from_half, _) = convert_torch(&config, &to_half(&weights, dtype)).unwrap();
        let (from_rounded, _) = convert_torch(&config, &rounded(&weights, dtype)).unwrap();
        assert_eq!(from_half, from_rounded, "{dtype:?}");
        let (from_f32, _) = convert_torch(&config, &weights).unwrap();
        assert_ne!(from_half, from_f32, "{dtype:?}: rounding changed nothing");
        Model::from_blob(AlignedBytes::copy_from(&from_half).as_slice()).unwrap();
    }
}
