//! The llama family (issue 16) against the reference: the golden cases
//! `tests/golden/llama_*` written by `tools/reference/llama_reference.py` (llama2.c
//! checkpoints of random models and the logits and greedy tokens PyTorch computed), through
//! the library's converter and the engine, and through the command line; then every bad
//! checkpoint and every bad version-3 header field, each with its own error.

mod common;

use common::{golden_root, max_abs_diff, TOLERANCE};
use picoformer::{Error, Model, Positional, SamplingParams, Source};
use picoformer_cli::llama2c::{convert_llama2c, rotate_half_rows, Llama2cOptions};
use picoformer_cli::llama2c_tokenizer::Tokenizer;
use picoformer_cli::AlignedBytes;
use serde::Deserialize;
use std::path::PathBuf;
use std::process::Command;

#[derive(Deserialize)]
struct LlamaConfig {
    n_heads: usize,
    n_kv_heads: usize,
    vocab_size: usize,
    shared_classifier: bool,
    rope_theta: f32,
}

#[derive(Deserialize)]
struct SampleCase {
    temperature: f32,
    top_p: f32,
    seed: u64,
    tokens: Vec<u32>,
}

#[derive(Deserialize)]
struct TokenizerCase {
    text: String,
    prompt: Vec<u32>,
    greedy_tokens: Vec<u32>,
    greedy_text: String,
}

#[derive(Deserialize)]
struct LlamaExpected {
    config: LlamaConfig,
    norm_eps: f32,
    bos_id: u32,
    eos_id: u32,
    prompt: Vec<u32>,
    prompt_logits: Vec<Vec<f32>>,
    steps: usize,
    greedy_tokens: Vec<u32>,
    samples: Vec<SampleCase>,
    tokenizer: TokenizerCase,
}

struct LlamaCase {
    name: String,
    dir: PathBuf,
    expected: LlamaExpected,
}

impl LlamaCase {
    fn checkpoint(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("model.bin")).unwrap()
    }

    fn options(&self, rotate_half: bool) -> Llama2cOptions {
        Llama2cOptions {
            rope_theta: self.expected.config.rope_theta,
            norm_eps: self.expected.norm_eps,
            bos_id: self.expected.bos_id,
            eos_id: self.expected.eos_id,
            rotate_half,
        }
    }

    fn blob(&self, rotate_half: bool) -> AlignedBytes {
        let blob = convert_llama2c(&self.checkpoint(), &self.options(rotate_half)).unwrap();
        AlignedBytes::copy_from(&blob)
    }
}

fn llama_cases() -> Vec<LlamaCase> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(golden_root())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("llama_")
        })
        .collect();
    dirs.sort();
    assert_eq!(
        dirs.len(),
        4,
        "expected the four llama golden cases, found {dirs:?}"
    );
    dirs.into_iter()
        .map(|dir| LlamaCase {
            name: dir.file_name().unwrap().to_string_lossy().into_owned(),
            expected: serde_json::from_str(
                &std::fs::read_to_string(dir.join("expected.json")).unwrap(),
            )
            .unwrap(),
            dir,
        })
        .collect()
}

/// The cases cover what the issue asks for: grouped-query, multi-query and multi-head
/// attention, shared and separate classifiers, two rope_theta values, and a greedy run
/// that stops at eos.
#[test]
fn golden_cases_cover_the_variants() {
    let cases = llama_cases();
    let kinds: Vec<(usize, usize)> = cases
        .iter()
        .map(|c| (c.expected.config.n_heads, c.expected.config.n_kv_heads))
        .collect();
    assert!(kinds.iter().any(|&(h, kv)| kv > 1 && kv < h), "GQA");
    assert!(kinds.iter().any(|&(_, kv)| kv == 1), "MQA");
    assert!(kinds.iter().any(|&(h, kv)| kv == h), "MHA");
    assert!(cases.iter().any(|c| c.expected.config.shared_classifier));
    assert!(cases.iter().any(|c| !c.expected.config.shared_classifier));
    let mut thetas: Vec<u32> = cases
        .iter()
        .map(|c| c.expected.config.rope_theta as u32)
        .collect();
    thetas.dedup();
    assert!(thetas.len() >= 2, "two rope_theta values");
    assert!(cases
        .iter()
        .any(|c| c.expected.greedy_tokens.last() == Some(&c.expected.eos_id)));
}

/// The prompt's logits within 1e-4 of PyTorch's and the greedy tokens identical, with
/// adjacent-pair rotary embedding (llama2.c's) and with rotate-half on permuted q/k rows
/// (Hugging Face's).
#[test]
fn logits_and_greedy_tokens_match_the_reference() {
    for case in llama_cases() {
        for rotate_half in [false, true] {
            let blob = case.blob(rotate_half);
            let model = Model::from_blob(blob.as_slice()).unwrap();
            let pairing = model.config().positional;
            assert_eq!(
                pairing,
                if rotate_half {
                    Positional::RopeHalf
                } else {
                    Positional::Rope
                }
            );
            let e = &case.expected;
            let vocab = e.config.vocab_size;
            assert_eq!(model.config().dims.n_kv_heads, e.config.n_kv_heads);

            let mut logits = vec![0f32; e.prompt.len() * vocab];
            let mut scratch = picoformer_cli::scratch(model.forward_scratch_bytes().unwrap());
            model
                .forward(&[], &e.prompt, &mut logits, scratch.as_mut_slice())
                .unwrap();
            for (i, (got, want)) in logits.chunks(vocab).zip(&e.prompt_logits).enumerate() {
                let diff = max_abs_diff(got, want);
                assert!(
                    diff <= TOLERANCE,
                    "{} ({pairing:?}): logits of position {i} differ by {diff}",
                    case.name
                );
            }

            let mut scratch = picoformer_cli::scratch(model.greedy_scratch_bytes().unwrap());
            let mut out = vec![0u32; e.steps];
            let greedy = model
                .greedy_with(
                    &Source::Tokens(&[]),
                    &e.prompt,
                    e.steps,
                    &mut out,
                    scratch.as_mut_slice(),
                )
                .unwrap();
            assert_eq!(
                &out[..greedy.len],
                e.greedy_tokens.as_slice(),
                "{} ({pairing:?}): greedy tokens",
                case.name
            );
        }
    }
}

/// Sampling with llama2.c's sampler gives the reference's tokens for its seed (plain
/// multinomial and nucleus, several temperatures); temperature 0 is greedy decoding.
#[test]
fn sampled_tokens_match_the_reference() {
    // (llama_stories260k, the firmware's case, has no sampled runs: 256 draws each)
    let cases = llama_cases();
    assert!(cases.iter().any(|c| !c.expected.samples.is_empty()));
    for case in cases {
        let blob = case.blob(false);
        let model = Model::from_blob(blob.as_slice()).unwrap();
        let e = &case.expected;
        let mut scratch = picoformer_cli::scratch(model.sample_scratch_bytes().unwrap());
        let mut run = |params: &SamplingParams| {
            let mut out = vec![0u32; e.steps];
            let done = model
                .sample_with(
                    &Source::Tokens(&[]),
                    &e.prompt,
                    e.steps,
                    params,
                    &mut out,
                    scratch.as_mut_slice(),
                )
                .unwrap();
            out.truncate(done.len);
            out
        };
        for s in &e.samples {
            let params = SamplingParams {
                temperature: s.temperature,
                top_p: s.top_p,
                seed: s.seed,
            };
            assert_eq!(run(&params), s.tokens, "{} {params:?}", case.name);
        }
        let greedy = SamplingParams {
            temperature: 0.0,
            top_p: 0.9,
            seed: 1,
        };
        assert_eq!(run(&greedy), e.greedy_tokens, "{}", case.name);
    }
}

/// Each bad sampling parameter has its own reason, checked before anything runs; the
/// scratch size is exact.
#[test]
fn bad_sampling_parameters_are_refused() {
    let case = &llama_cases()[0];
    let blob = case.blob(false);
    let model = Model::from_blob(blob.as_slice()).unwrap();
    let needed = model.sample_scratch_bytes().unwrap();
    let mut scratch = picoformer_cli::scratch(needed);
    let mut out = vec![0u32; 4];
    let good = SamplingParams {
        temperature: 0.8,
        top_p: 0.9,
        seed: 5,
    };
    let cases = [
        (
            SamplingParams {
                temperature: -0.1,
                ..good
            },
            "temperature must be finite and >= 0",
        ),
        (
            SamplingParams {
                temperature: f32::NAN,
                ..good
            },
            "temperature must be finite and >= 0",
        ),
        (
            SamplingParams {
                temperature: f32::INFINITY,
                ..good
            },
            "temperature must be finite and >= 0",
        ),
        (
            SamplingParams {
                top_p: f32::NAN,
                ..good
            },
            "top_p must be finite",
        ),
        (SamplingParams { seed: 0, ..good }, "seed must not be 0"),
    ];
    for (params, reason) in cases {
        assert_eq!(
            model.sample_with(
                &Source::Tokens(&[]),
                &[1, 5],
                4,
                &params,
                &mut out,
                scratch.as_mut_slice()
            ),
            Err(Error::InvalidSampling { reason })
        );
    }
    let mut small = picoformer_cli::scratch(needed - 1);
    assert_eq!(
        model.sample_with(
            &Source::Tokens(&[]),
            &[1, 5],
            4,
            &good,
            &mut out,
            small.as_mut_slice()
        ),
        Err(Error::ScratchTooSmall {
            needed,
            got: needed - 1
        })
    );
    model
        .sample_with(
            &Source::Tokens(&[]),
            &[1, 5],
            4,
            &good,
            &mut out,
            scratch.as_mut_slice(),
        )
        .unwrap();
}

/// llama2.c's tokenizer: the reference's tokens for the text, and the text of the
/// greedy continuation, through the library and `generate --prompt --tokenizer`.
#[test]
fn tokenizer_encodes_and_decodes_as_the_reference() {
    let dir = std::env::temp_dir().join(format!("picoformer-llama-tok-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for case in llama_cases() {
        let e = &case.expected;
        let tok_path = case.dir.join("tokenizer.bin");
        let bytes = std::fs::read(&tok_path).unwrap();
        let tokenizer = Tokenizer::parse(&bytes, e.config.vocab_size).unwrap();
        let t = &e.tokenizer;
        assert_eq!(
            tokenizer.encode(&t.text).unwrap(),
            t.prompt,
            "{}",
            case.name
        );
        let last = *t.prompt.last().unwrap();
        assert_eq!(
            tokenizer.decode_all(last, &t.greedy_tokens).unwrap(),
            t.greedy_text,
            "{}",
            case.name
        );

        let pfm = dir.join(format!("{}.pfm", case.name));
        std::fs::write(&pfm, case.blob(false).as_slice()).unwrap();
        let steps = e.steps.to_string();
        let out = picoformer(&[
            "generate",
            pfm.to_str().unwrap(),
            "--tokenizer",
            tok_path.to_str().unwrap(),
            "--prompt",
            &t.text,
            "--steps",
            &steps,
            "--json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "tokens": t.greedy_tokens, "text": t.greedy_text }),
            "{}",
            case.name
        );

        // A tokenizer of another vocabulary size, or cut short, is refused by name.
        let err = Tokenizer::parse(&bytes, e.config.vocab_size - 1).unwrap_err();
        assert!(format!("{err:#}").contains("bytes after its"), "{err:#}");
        let err = Tokenizer::parse(&bytes[..bytes.len() - 1], e.config.vocab_size).unwrap_err();
        assert!(
            format!("{err:#}").contains("tokenizer file truncated"),
            "{err:#}"
        );
    }
    let case = &llama_cases()[0];
    let pfm = dir.join(format!("{}.pfm", case.name));
    let out = picoformer(&["generate", pfm.to_str().unwrap(), "--prompt", "the cat"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--prompt needs --tokenizer"));
    std::fs::remove_dir_all(&dir).ok();
}

/// The scratch sizes are exact: one byte less is refused before anything runs.
#[test]
fn scratch_sizes_are_exact() {
    for case in llama_cases() {
        let blob = case.blob(false);
        let model = Model::from_blob(blob.as_slice()).unwrap();
        let e = &case.expected;
        let needed = model.greedy_scratch_bytes().unwrap();
        let mut scratch = picoformer_cli::scratch(needed - 1);
        let mut out = vec![0u32; e.steps];
        assert_eq!(
            model.greedy_with(
                &Source::Tokens(&[]),
                &e.prompt,
                e.steps,
                &mut out,
                scratch.as_mut_slice()
            ),
            Err(Error::ScratchTooSmall {
                needed,
                got: needed - 1
            })
        );
        // The cache holds n_kv_heads * dk values per position and layer, not D.
        let dims = &model.config().dims;
        let full = picoformer::Dims {
            n_kv_heads: dims.n_heads,
            ..*dims
        };
        let cache_saving =
            2 * dims.n_decoder_layers * dims.max_tgt_len * (dims.d_model - dims.kv_width()) * 4;
        assert_eq!(
            picoformer::scratch::greedy_scratch_bytes_for(&full, model.dtype()).unwrap() - needed,
            cache_saving,
            "{}",
            case.name
        );
    }
}

fn picoformer(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_picoformer"))
        .args(args)
        .output()
        .expect("the picoformer binary runs")
}

/// `picoformer convert --from llama2c` then `picoformer generate --json`: the reference's
/// greedy tokens; and the plain output lists the same ids.
#[test]
fn cli_converts_and_generates_the_reference_tokens() {
    let dir = std::env::temp_dir().join(format!("picoformer-llama-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for case in llama_cases() {
        let e = &case.expected;
        let pfm = dir.join(format!("{}.pfm", case.name));
        let theta = e.config.rope_theta.to_string();
        let out = picoformer(&[
            "convert",
            "--from",
            "llama2c",
            case.dir.join("model.bin").to_str().unwrap(),
            "-o",
            pfm.to_str().unwrap(),
            "--rope-theta",
            &theta,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let prompt: Vec<String> = e.prompt.iter().map(u32::to_string).collect();
        let prompt = prompt.join(",");
        let steps = e.steps.to_string();
        let args = [
            "generate",
            pfm.to_str().unwrap(),
            "--prompt-tokens",
            &prompt,
            "--steps",
            &steps,
        ];
        let out = picoformer(&[&args[..], &["--json"]].concat());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "tokens": e.greedy_tokens, "text": null }),
            "{}",
            case.name
        );
        let out = picoformer(&args);
        assert!(out.status.success());
        let ids: Vec<String> = e.greedy_tokens.iter().map(u32::to_string).collect();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), ids.join(" "));
    }
    // Sampling: the reference's tokens from the same seed.
    for case in llama_cases() {
        let e = &case.expected;
        let pfm = dir.join(format!("{}.pfm", case.name));
        let prompt: Vec<String> = e.prompt.iter().map(u32::to_string).collect();
        let prompt = prompt.join(",");
        let steps = e.steps.to_string();
        for s in &e.samples {
            let (t, p, seed) = (
                s.temperature.to_string(),
                s.top_p.to_string(),
                s.seed.to_string(),
            );
            let out = picoformer(&[
                "generate",
                pfm.to_str().unwrap(),
                "--prompt-tokens",
                &prompt,
                "--steps",
                &steps,
                "--temperature",
                &t,
                "--top-p",
                &p,
                "--seed",
                &seed,
                "--json",
            ]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(json["tokens"], serde_json::json!(s.tokens), "{}", case.name);
        }
    }
    let pfm = dir.join(format!("{}.pfm", llama_cases()[0].name));
    let out = picoformer(&[
        "generate",
        pfm.to_str().unwrap(),
        "--prompt-tokens",
        "1,5",
        "--temperature",
        "0.8",
        "--seed",
        "0",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("seed must not be 0"));
    std::fs::remove_dir_all(&dir).ok();
}

fn convert_err(bytes: &[u8], options: &Llama2cOptions) -> String {
    format!("{:#}", convert_llama2c(bytes, options).unwrap_err())
}

/// Each malformed checkpoint has its own message.
#[test]
fn bad_checkpoints_are_refused_with_specific_errors() {
    let case = &llama_cases()[0];
    let good = case.checkpoint();
    let options = case.options(false);
    let put = |at: usize, v: i32| {
        let mut b = good.clone();
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
        b
    };
    // export.py writes the magic as struct.pack("I", 0x616b3432).
    let mut versioned = 0x616b_3432u32.to_le_bytes().to_vec();
    versioned.extend_from_slice(&2i32.to_le_bytes());
    versioned.resize(256, 0);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            versioned,
            "versioned checkpoint (magic \"ak42\", version 2) is not supported",
        ),
        (
            good[..20].to_vec(),
            "the header needs 28 bytes, the file has 20",
        ),
        (good[..100].to_vec(), "(tensor token_embedding is cut off)"),
        (good[..good.len() - 4].to_vec(), "is cut off"),
        ([&good[..], &[0u8; 8]].concat(), "has 8 bytes after the"),
        (put(0, 0), "field dim is 0, must be positive"),
        (put(8, -2), "field n_layers is -2, must be positive"),
        (put(20, 0), "field vocab_size is 0, must be non-zero"),
        (put(0, 50), "dim 50 is not a multiple of n_heads 6"),
        (put(16, 4), "n_heads 6 is not a multiple of n_kv_heads 4"),
        (put(12, 16), "the head width dim / n_heads = 3 is odd"),
    ];
    for (bytes, message) in &cases {
        let got = convert_err(bytes, &options);
        assert!(got.contains(message), "expected {message:?} in {got:?}");
    }
    let wrong_theta = Llama2cOptions {
        rope_theta: 20000.0,
        ..options
    };
    let got = convert_err(&good, &wrong_theta);
    assert!(
        got.contains("rotary tables do not match rope_theta = 20000"),
        "{got}"
    );
}

/// A llama header field (version 3's, in version 4 too) out of range: its own
/// `InvalidConfig` reason.
#[test]
fn bad_version_3_fields_are_refused() {
    let case = &llama_cases()[0];
    let good = case.blob(false);
    let edit = |at: usize, v: u32| {
        let mut b = AlignedBytes::copy_from(good.as_slice());
        b.as_mut_slice()[at..at + 4].copy_from_slice(&v.to_le_bytes());
        picoformer::blob::seal(b.as_mut_slice()).unwrap();
        b
    };
    let reasons = [
        (108, 0, "n_kv_heads is 0"),
        (108, 4, "n_heads is not a multiple of n_kv_heads"),
        (108, 12, "n_heads is not a multiple of n_kv_heads"),
        (112, 2, "unknown norm kind code"),
        (116, 2, "unknown feed-forward code"),
        (120, f32::NAN.to_bits(), "rope_theta must be finite and > 0"),
        (120, 0, "rope_theta must be finite and > 0"),
        (
            120,
            (-1.0f32).to_bits(),
            "rope_theta must be finite and > 0",
        ),
        (124, 1, "reserved header bytes are not zero"),
        (136, 1, "reserved header bytes are not zero"),
        (
            64,
            0,
            "a gated feed-forward network needs the silu activation",
        ),
    ];
    for (at, value, reason) in reasons {
        let blob = edit(at, value);
        assert_eq!(
            Model::from_blob(blob.as_slice()).map(|_| ()),
            Err(Error::InvalidConfig { reason }),
            "field at {at} = {value:#x}"
        );
    }
    // Versions 2 and 3 (no checksums) are refused as such.
    for found in [2, 3] {
        assert_eq!(
            Model::from_blob(edit(8, found).as_slice()).map(|_| ()),
            Err(Error::UnsupportedVersion { found })
        );
    }
}

/// Every model, llama or not, is written as version 4 (the checksummed format), and
/// the committed blobs are version 4 and load.
#[test]
fn every_blob_is_written_as_version_4() {
    let version = picoformer::blob::VERSION.to_le_bytes();
    assert_eq!(picoformer::blob::VERSION, 4);
    let dates = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/dates");
    let mut seen = 0;
    for entry in std::fs::read_dir(dates).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pfm") {
            let blob = AlignedBytes::copy_from(&std::fs::read(&path).unwrap());
            assert_eq!(&blob.as_slice()[8..12], &version, "{path:?}");
            Model::from_blob(blob.as_slice()).unwrap();
            seen += 1;
        }
    }
    assert!(seen > 0);
    for case in common::golden_cases() {
        assert_eq!(&case.blob.as_slice()[8..12], &version, "{}", case.name);
    }
    let llama = llama_cases()[0].blob(false);
    assert_eq!(&llama.as_slice()[8..12], &version);
}

/// Without the `llama` feature such a blob is refused at load, naming the feature.
#[test]
fn llama_blobs_need_the_llama_feature() {
    let case = &llama_cases()[0];
    let blob = case.blob(false);
    let model = Model::from_blob(blob.as_slice()).unwrap();
    assert_eq!(
        picoformer::blob::Features::NONE.missing_for(
            model.config(),
            picoformer::WeightType::F32,
            true
        ),
        Some("llama")
    );
}

/// The q/k row permutation is Hugging Face's: head by head, even rows then odd rows.
#[test]
fn rotate_half_rows_is_hf_permute() {
    // 2 heads of width 4, 1 column: rows [0..8) -> per head [0, 2, 1, 3].
    let w: Vec<f32> = (0..8).map(|v| v as f32).collect();
    assert_eq!(
        rotate_half_rows(&w, 2, 1),
        vec![0.0, 2.0, 1.0, 3.0, 4.0, 6.0, 5.0, 7.0]
    );
}

/// The C API's `pf_generate`: every case's greedy tokens (temperature 0) and sampled
/// tokens, with the scratch `pf_generate_scratch_bytes` gives (the Rust API's); a seed of
/// 0 is refused with its own status, and a scratch one byte short too.
#[test]
#[allow(unsafe_code)] // calling the C API is the point of this test
fn generate_through_the_c_api() {
    use picoformer::ffi::*;
    for case in llama_cases() {
        let aligned = case.blob(false);
        let blob = aligned.as_slice();
        let e = &case.expected;
        let mut handle = std::mem::MaybeUninit::<pf_model>::uninit();
        // SAFETY: a writable handle and the live blob, which outlives it.
        let status = unsafe { pf_model_init(handle.as_mut_ptr(), blob.as_ptr(), blob.len()) };
        assert_eq!(status, PF_OK, "{}", case.name);
        // SAFETY: pf_model_init returned PF_OK, so it wrote the handle.
        let handle = unsafe { handle.assume_init() };
        let mut bytes = 0usize;
        // SAFETY: a valid handle and a writable size_t.
        assert_eq!(
            unsafe { pf_generate_scratch_bytes(&handle, &mut bytes) },
            PF_OK
        );
        let model = Model::from_blob(blob).unwrap();
        assert_eq!(
            bytes,
            model.sample_scratch_bytes().unwrap(),
            "{}",
            case.name
        );
        let mut scratch = picoformer_cli::scratch(bytes);
        let mut run = |params: pf_sampling_params, scratch_len: usize| {
            let mut tokens = vec![0u32; e.steps];
            let mut len = usize::MAX;
            let scratch = scratch.as_mut_slice();
            // SAFETY: every array is a live local buffer of the length passed with it.
            let status = unsafe {
                pf_generate(
                    &handle,
                    e.prompt.as_ptr(),
                    e.prompt.len(),
                    e.steps,
                    params,
                    tokens.as_mut_ptr(),
                    tokens.len(),
                    &mut len,
                    scratch.as_mut_ptr().cast(),
                    scratch_len,
                )
            };
            tokens.truncate(len.min(tokens.len()));
            (status, tokens)
        };
        let greedy = pf_sampling_params {
            temperature: 0.0,
            top_p: 0.9,
            seed: 1,
        };
        assert_eq!(
            run(greedy, bytes),
            (PF_OK, e.greedy_tokens.clone()),
            "{}",
            case.name
        );
        for s in &e.samples {
            let params = pf_sampling_params {
                temperature: s.temperature,
                top_p: s.top_p,
                seed: s.seed,
            };
            assert_eq!(
                run(params, bytes),
                (PF_OK, s.tokens.clone()),
                "{}",
                case.name
            );
        }
        let zero_seed = pf_sampling_params { seed: 0, ..greedy };
        assert_eq!(run(zero_seed, bytes).0, PF_ERR_INVALID_SAMPLING);
        assert_eq!(run(greedy, bytes - 1).0, PF_ERR_SCRATCH_TOO_SMALL);
    }
}
