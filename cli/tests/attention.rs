//! The attention probe and `picoformer attention`: the probabilities the probe reads are
//! the attention the engine computes (rows are distributions, the decoder's future is
//! masked, watching changes no logit, every head equals PyTorch's attention weights, and
//! encoder layer 0 equals a from-scratch computation from the blob's weights), and the
//! heatmap SVG renders in headless Chromium.

use picoformer::blob::TensorKind;
use picoformer::dates;
use picoformer::{AttentionKind, AttentionProbe, Error, Model};
use std::process::Command;

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/dates/dates.pfm");
const PHRASE: &str = "sat 28th of november, 2026";
const ANSWER: &str = "2026-11-28";
const REFERENCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../models/dates/attention_reference.json"
);

fn ids(model: &Model) -> (Vec<u32>, Vec<u32>) {
    ids_of(model, PHRASE, ANSWER)
}

/// Source ids of `phrase`, and bos followed by the ids of `iso`.
fn ids_of(model: &Model, phrase: &str, iso: &str) -> (Vec<u32>, Vec<u32>) {
    let mut src = vec![0u32; model.config().dims.max_src_len];
    let n = dates::encode_source(phrase, &mut src).unwrap();
    src.truncate(n);
    let mut tgt = vec![model.config().bos_id];
    tgt.extend(iso.chars().map(|c| dates::target_id(c).unwrap()));
    (src, tgt)
}

/// One head's matrix and the logits of the same forward pass.
fn probe(
    model: &Model,
    kind: AttentionKind,
    layer: usize,
    head: usize,
) -> Result<(Vec<f32>, Vec<f32>), Error> {
    let (src, tgt) = ids(model);
    probe_with(model, &src, &tgt, kind, layer, head)
}

fn probe_with(
    model: &Model,
    src: &[u32],
    tgt: &[u32],
    kind: AttentionKind,
    layer: usize,
    head: usize,
) -> Result<(Vec<f32>, Vec<f32>), Error> {
    let (rows, columns) = kind.shape(src.len(), tgt.len());
    let mut weights = vec![f32::NAN; rows * columns];
    let mut logits = vec![0f32; tgt.len() * model.config().dims.tgt_vocab];
    let mut scratch = picoformer_cli::scratch(model.forward_scratch_bytes()?);
    let mut probe = AttentionProbe::new(kind, layer, head, &mut weights);
    model.forward_with_probe(
        src,
        tgt,
        &mut logits,
        scratch.as_mut_slice(),
        Some(&mut probe),
    )?;
    Ok((weights, logits))
}

#[test]
fn every_head_gives_distributions_and_the_decoder_future_is_masked() {
    let blob = picoformer_cli::read_model_file(MODEL.as_ref()).unwrap();
    let model = Model::from_blob(blob.as_slice()).unwrap();
    let (src, tgt) = ids(&model);
    let dims = model.config().dims;
    let mut plain = vec![0f32; tgt.len() * dims.tgt_vocab];
    let mut scratch = picoformer_cli::scratch(model.forward_scratch_bytes().unwrap());
    model
        .forward(&src, &tgt, &mut plain, scratch.as_mut_slice())
        .unwrap();
    for (kind, layers) in [
        (AttentionKind::EncoderSelf, dims.n_encoder_layers),
        (AttentionKind::DecoderSelf, dims.n_decoder_layers),
        (AttentionKind::EncoderDecoder, dims.n_decoder_layers),
    ] {
        let (_, columns) = kind.shape(src.len(), tgt.len());
        for layer in 0..layers {
            for head in 0..dims.n_heads {
                let (weights, logits) = probe(&model, kind, layer, head).unwrap();
                assert_eq!(logits, plain, "watching {kind:?} changed the logits");
                for (i, row) in weights.chunks(columns).enumerate() {
                    let sum: f32 = row.iter().sum();
                    assert!(
                        (sum - 1.0).abs() < 1e-5,
                        "{kind:?} {layer}.{head} row {i}: {sum}"
                    );
                    assert!(row.iter().all(|p| (0.0..=1.0).contains(p)));
                    if kind == AttentionKind::DecoderSelf {
                        assert!(row[i + 1..].iter().all(|&p| p == 0.0), "future not masked");
                    }
                }
            }
        }
    }
}

/// Every (kind, layer, head) matrix the probe reads equals PyTorch's
/// (`nn.MultiheadAttention` weights of the same checkpoint, from
/// `tools/dates/attention_reference.py`).
#[test]
fn every_head_matches_pytorchs_attention_weights() {
    let blob = picoformer_cli::read_model_file(MODEL.as_ref()).unwrap();
    let model = Model::from_blob(blob.as_slice()).unwrap();
    let text = std::fs::read_to_string(REFERENCE).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = reference["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    let mut compared = 0;
    for case in cases {
        let (phrase, iso) = (case["src"].as_str().unwrap(), case["tgt"].as_str().unwrap());
        let (src, tgt) = ids_of(&model, phrase, iso);
        for (kind, name) in [
            (AttentionKind::EncoderSelf, "encoder"),
            (AttentionKind::DecoderSelf, "decoder"),
            (AttentionKind::EncoderDecoder, "cross"),
        ] {
            let layers: Vec<Vec<Vec<Vec<f32>>>> =
                serde_json::from_value(case[name].clone()).unwrap();
            for (layer, heads) in layers.iter().enumerate() {
                for (head, expected) in heads.iter().enumerate() {
                    let (weights, _) = probe_with(&model, &src, &tgt, kind, layer, head).unwrap();
                    let (_, columns) = kind.shape(src.len(), tgt.len());
                    for (i, row) in expected.iter().enumerate() {
                        for (j, &want) in row.iter().enumerate() {
                            let got = weights[i * columns + j];
                            assert!(
                                (got - want).abs() < 1e-5,
                                "{phrase:?} {name} layer {layer} head {head} [{i},{j}]: {got} vs {want}"
                            );
                            compared += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(compared > 10_000, "{compared} values compared");
}

/// The f32 elements of the first tensor of `kind` in the blob's table (layout in
/// `src/blob.rs`: 16-byte entries `{kind, layer, offset, len}` from byte 144).
fn tensor(blob: &[u8], kind: u32) -> Vec<f32> {
    let word = |at: usize| u32::from_le_bytes(blob[at..at + 4].try_into().unwrap()) as usize;
    let count = word(92);
    let entry = (0..count)
        .map(|i| picoformer::blob::TABLE_OFFSET + i * picoformer::blob::TABLE_ENTRY_BYTES)
        .find(|&at| word(at) == kind as usize && word(at + 4) == 0)
        .expect("tensor in the table");
    let (offset, len) = (word(entry + 8), word(entry + 12));
    blob[offset..offset + 4 * len]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

/// Encoder layer 0, head h, recomputed here from the blob's tensors in f64 (docs/spec.md:
/// embedding * sqrt(D) + sinusoids, Q = X Wq^T + bq, K likewise, softmax(Q K^T / sqrt(Dk))).
#[test]
fn encoder_layer_0_matches_a_recomputation_from_the_weights() {
    let blob = picoformer_cli::read_model_file(MODEL.as_ref()).unwrap();
    let model = Model::from_blob(blob.as_slice()).unwrap();
    let dims = model.config().dims;
    let (d, heads) = (dims.d_model, dims.n_heads);
    let dk = d / heads;
    let (src, _) = ids(&model);
    let tensor = |kind: TensorKind| tensor(blob.as_slice(), kind as u32);
    let embed = tensor(TensorKind::SrcEmbed);
    let x: Vec<Vec<f64>> = src
        .iter()
        .enumerate()
        .map(|(p, &t)| {
            (0..d)
                .map(|j| {
                    let angle = p as f64 / 10000f64.powf((j / 2 * 2) as f64 / d as f64);
                    let pos = if j % 2 == 0 { angle.sin() } else { angle.cos() };
                    embed[t as usize * d + j] as f64 * (d as f64).sqrt() + pos
                })
                .collect()
        })
        .collect();
    let project = |w: &[f32], b: &[f32]| -> Vec<Vec<f64>> {
        x.iter()
            .map(|row| {
                (0..d)
                    .map(|o| {
                        b[o] as f64 + (0..d).map(|i| w[o * d + i] as f64 * row[i]).sum::<f64>()
                    })
                    .collect()
            })
            .collect()
    };
    let q = project(
        &tensor(TensorKind::EncSelfQWeight),
        &tensor(TensorKind::EncSelfQBias),
    );
    let k = project(
        &tensor(TensorKind::EncSelfKWeight),
        &tensor(TensorKind::EncSelfKBias),
    );
    for head in 0..heads {
        let (weights, _) = probe(&model, AttentionKind::EncoderSelf, 0, head).unwrap();
        let cols = src.len();
        for i in 0..cols {
            let scores: Vec<f64> = (0..cols)
                .map(|j| {
                    (head * dk..(head + 1) * dk)
                        .map(|c| q[i][c] * k[j][c])
                        .sum::<f64>()
                        / (dk as f64).sqrt()
                })
                .collect();
            let max = scores.iter().cloned().fold(f64::MIN, f64::max);
            let total: f64 = scores.iter().map(|s| (s - max).exp()).sum();
            for j in 0..cols {
                let expected = (scores[j] - max).exp() / total;
                let got = weights[i * cols + j] as f64;
                assert!(
                    (got - expected).abs() < 1e-4,
                    "head {head} [{i},{j}]: {got} vs {expected}"
                );
            }
        }
    }
}

#[test]
fn a_probe_out_of_range_is_an_error_before_any_work() {
    let blob = picoformer_cli::read_model_file(MODEL.as_ref()).unwrap();
    let model = Model::from_blob(blob.as_slice()).unwrap();
    let dims = model.config().dims;
    for (kind, layer, head) in [
        (AttentionKind::EncoderSelf, dims.n_encoder_layers, 0),
        (AttentionKind::EncoderDecoder, dims.n_decoder_layers, 0),
        (AttentionKind::DecoderSelf, 0, dims.n_heads),
    ] {
        assert!(matches!(
            probe(&model, kind, layer, head),
            Err(Error::InvalidConfig { .. })
        ));
    }
    let (src, tgt) = ids(&model);
    let mut small = vec![0f32; src.len() * tgt.len() - 1];
    let mut logits = vec![0f32; tgt.len() * dims.tgt_vocab];
    let mut scratch = picoformer_cli::scratch(model.forward_scratch_bytes().unwrap());
    let mut probe = AttentionProbe::new(AttentionKind::EncoderDecoder, 0, 0, &mut small);
    let result = model.forward_with_probe(
        &src,
        &tgt,
        &mut logits,
        scratch.as_mut_slice(),
        Some(&mut probe),
    );
    assert!(matches!(result, Err(Error::OutputTooSmall { .. })));
    // A scratch buffer too small fails after the probe's checks: the matrix is untouched.
    let mut weights = vec![7f32; src.len() * tgt.len()];
    let mut probe = AttentionProbe::new(AttentionKind::EncoderDecoder, 0, 0, &mut weights);
    let mut small = picoformer_cli::scratch(16);
    let result = model.forward_with_probe(
        &src,
        &tgt,
        &mut logits,
        small.as_mut_slice(),
        Some(&mut probe),
    );
    assert!(matches!(result, Err(Error::ScratchTooSmall { .. })));
    assert!(weights.iter().all(|&w| w == 7.0));
}

/// `picoformer attention` writes an SVG that headless Chromium renders into a picture
/// with a real heatmap in it: many colours, white background, dark cells.
#[test]
fn attention_svg_renders_in_headless_chromium() {
    let dir = std::env::temp_dir().join(format!("picoformer-attention-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("attention.svg");
    let status = Command::new(env!("CARGO_BIN_EXE_picoformer"))
        .args(["attention", MODEL, "--src", PHRASE, "--tgt", ANSWER])
        .args(["--layer", "1", "--head", "0", "--kind", "cross", "-o"])
        .arg(&svg)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.contains("encoder-decoder attention"));

    // the page is the SVG's own size
    let size = |name: &str| -> u32 {
        let at = text.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        text[at..].split('"').next().unwrap().parse().unwrap()
    };
    let (width, height) = (size("width"), size("height"));
    let png = dir.join("attention.png");
    let profile = dir.join("profile");
    let chromium = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", svg.display()))
        .output()
        .expect("chromium is not installed: run tools/setup.d/50-dates.sh");
    assert!(png.exists(), "no screenshot: {chromium:?}");

    let decoder = png::Decoder::new(std::fs::File::open(&png).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), (width, height));
    let channels = info.color_type.samples();
    let colours: std::collections::HashSet<&[u8]> = pixels[..info.buffer_size()]
        .chunks(channels)
        .map(|p| &p[..3])
        .collect();
    let dark = pixels[..info.buffer_size()]
        .chunks(channels)
        .filter(|p| p[0] < 60 && p[1] < 90 && p[2] > 90)
        .count();
    let white = pixels[..info.buffer_size()]
        .chunks(channels)
        .filter(|p| p[..3] == [255, 255, 255])
        .count();
    let total = (info.width * info.height) as usize;
    assert!(colours.len() > 50, "{} colours", colours.len());
    assert!(dark > 400, "{dark} dark-blue pixels");
    assert!(
        white > total / 4 && white < total * 19 / 20,
        "{white} white of {total}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
