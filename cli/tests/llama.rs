//! The llama family (issue 16) against the reference: the golden cases
//! `tests/golden/llama_*` written by `tools/reference/llama_reference.py` (llama2.c
//! checkpoints of random models and the logits and greedy tokens PyTorch computed), through
//! the library's converter and the engine, and through the command line; then every bad
//! checkpoint and every bad version-3 header field, each with its own error.

mod common;

use common::{golden_root, max_abs_diff, TOLERANCE};
use picoformer::{Error, Model, Positional, SamplingParams, Source};
use picoformer_cli::hf_llama::convert_hf_llama;
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

    /// The blob of the Hugging Face checkpoint in `hf` (or `hf_bfloat16`, …).
    fn hf_blob(&self, hf: &str) -> AlignedBytes {
        let dir = self.dir.join(hf);
        let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
        let weights = std::fs::read(dir.join("model.safetensors")).unwrap();
        let (blob, report) = convert_hf_llama(&config, &weights).unwrap();
        assert!(
            report.unused.is_empty(),
            "{}: {:?}",
            self.name,
            report.unused
        );
        AlignedBytes::copy_from(&blob)
    }

    /// The half-precision checkpoints beside the case: (directory name, expectations).
    fn hf_half_cases(&self) -> Vec<(String, HalfExpected)> {
        let mut out: Vec<(String, HalfExpected)> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("hf_"))
            .map(|name| {
                let text =
                    std::fs::read_to_string(self.dir.join(&name).join("expected.json")).unwrap();
                (name, serde_json::from_str(&text).unwrap())
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// `hf_<dtype>/expected.json`: the reference's logits and greedy tokens of the weights
/// rounded to that dtype.
#[derive(Deserialize)]
struct HalfExpected {
    dtype: String,
    prompt: Vec<u32>,
    prompt_logits: Vec<Vec<f32>>,
    steps: usize,
    greedy_tokens: Vec<u32>,
}

/// The prompt's logits `[len, vocab]` and the greedy continuation of a blob.
fn logits_and_greedy(blob: &AlignedBytes, prompt: &[u32], steps: usize) -> (Vec<f32>, Vec<u32>) {
    let model = Model::from_blob(blob.as_slice()).unwrap();
    let vocab = model.config().dims.tgt_vocab;
    let mut logits = vec![0f32; prompt.len() * vocab];
    let mut scratch = picoformer_cli::scratch(model.forward_scratch_bytes().unwrap());
    model
        .forward(&[], prompt, &mut logits, scratch.as_mut_slice())
        .unwrap();
    let mut scratch = picoformer_cli::scratch(model.greedy_scratch_bytes().unwrap());
    let mut out = vec![0u32; steps];
    let greedy = model
        .greedy_with(
            &Source::Tokens(&[]),
            prompt,
            steps,
            &mut out,
            scratch.as_mut_slice(),
        )
        .unwrap();
    out.truncate(greedy.len);
    (logits, out)
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

/// The Hugging Face checkpoint of every case (`hf/`: safetensors and config.json, q/k
/// rows in rotate-half order) converts to the model of the llama2.c checkpoint: the
/// config's theta, eps, ids, heads and classifier sharing, logits within 1e-4 of the
/// llama2.c path's and of the reference's, the reference's greedy tokens.
#[test]
fn hf_checkpoints_give_the_llama2c_paths_logits_and_tokens() {
    for case in llama_cases() {
        let e = &case.expected;
        let hf = case.hf_blob("hf");
        let llama2c = case.blob(false);
        let hf_model = Model::from_blob(hf.as_slice()).unwrap();
        let llama2c_model = Model::from_blob(llama2c.as_slice()).unwrap();
        let mut want = *llama2c_model.config();
        want.positional = Positional::RopeHalf;
        assert_eq!(*hf_model.config(), want, "{}: config", case.name);
        let (hf_logits, hf_tokens) = logits_and_greedy(&hf, &e.prompt, e.steps);
        let (llama2c_logits, llama2c_tokens) = logits_and_greedy(&llama2c, &e.prompt, e.steps);
        let diff = max_abs_diff(&hf_logits, &llama2c_logits);
        assert!(
            diff <= TOLERANCE,
            "{}: hf vs llama2c logits differ by {diff}",
            case.name
        );
        let reference: Vec<f32> = e.prompt_logits.concat();
        let diff = max_abs_diff(&hf_logits, &reference);
        assert!(
            diff <= TOLERANCE,
            "{}: hf vs reference logits differ by {diff}",
            case.name
        );
        assert_eq!(hf_tokens, e.greedy_tokens, "{}: greedy tokens", case.name);
        assert_eq!(hf_tokens, llama2c_tokens, "{}", case.name);
    }
}

/// BF16 and F16 checkpoints (`hf_bfloat16/`, `hf_float16/`) convert exactly: the
/// reference's logits (within 1e-4) and greedy tokens of the rounded weights; there is
/// one of each.
#[test]
fn half_precision_hf_checkpoints_match_their_reference() {
    let mut dtypes = Vec::new();
    for case in llama_cases() {
        for (dir, e) in case.hf_half_cases() {
            let blob = case.hf_blob(&dir);
            let (logits, tokens) = logits_and_greedy(&blob, &e.prompt, e.steps);
            let diff = max_abs_diff(&logits, &e.prompt_logits.concat());
            assert!(
                diff <= TOLERANCE,
                "{} {dir}: logits differ by {diff}",
                case.name
            );
            assert_eq!(
                tokens, e.greedy_tokens,
                "{} {dir}: greedy tokens",
                case.name
            );
            dtypes.push(e.dtype);
        }
    }
    dtypes.sort();
    assert_eq!(dtypes, ["bfloat16", "float16"]);
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
    // The calls below: prompt [1, 5], 4 tokens.
    let needed = model.sample_scratch_bytes_for_len(2, 4).unwrap();
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

/// `generate` prints each token as it is drawn: the streamed text (with a tokenizer)
/// adds up to the reference's text of the whole continuation and to `--json`'s, the ids
/// (without one) to the reference's tokens; through the library, `sample_streaming` hands
/// over the tokens it writes, in order, greedy and sampled.
#[test]
fn generate_streams_what_it_finally_returns() {
    let dir = std::env::temp_dir().join(format!("picoformer-llama-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for case in llama_cases() {
        let e = &case.expected;
        let t = &e.tokenizer;
        let pfm = dir.join(format!("{}.pfm", case.name));
        std::fs::write(&pfm, case.blob(false).as_slice()).unwrap();
        let tokenizer = case.dir.join("tokenizer.bin");
        let steps = e.steps.to_string();
        let text_args = [
            "generate",
            pfm.to_str().unwrap(),
            "--tokenizer",
            tokenizer.to_str().unwrap(),
            "--prompt",
            &t.text,
            "--steps",
            &steps,
        ];
        let streamed = picoformer(&text_args);
        assert!(
            streamed.status.success(),
            "{}",
            String::from_utf8_lossy(&streamed.stderr)
        );
        let streamed = String::from_utf8(streamed.stdout).unwrap();
        assert_eq!(streamed, format!("{}\n", t.greedy_text), "{}", case.name);
        let json = picoformer(&[&text_args[..], &["--json"]].concat());
        let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(json["text"].as_str(), Some(streamed.trim_end_matches('\n')));

        let prompt: Vec<String> = e.prompt.iter().map(u32::to_string).collect();
        let ids = picoformer(&[
            "generate",
            pfm.to_str().unwrap(),
            "--prompt-tokens",
            &prompt.join(","),
            "--steps",
            &steps,
        ]);
        let want: Vec<String> = e.greedy_tokens.iter().map(u32::to_string).collect();
        assert_eq!(
            String::from_utf8(ids.stdout).unwrap(),
            want.join(" ") + "\n"
        );

        let blob = case.blob(false);
        let model = Model::from_blob(blob.as_slice()).unwrap();
        let mut scratch = picoformer_cli::scratch(model.sample_scratch_bytes().unwrap());
        let runs = std::iter::once((0.0, 0.9, 1))
            .chain(e.samples.iter().map(|s| (s.temperature, s.top_p, s.seed)));
        for (temperature, top_p, seed) in runs {
            let params = SamplingParams {
                temperature,
                top_p,
                seed,
            };
            let mut out = vec![0u32; e.steps];
            let mut seen = Vec::new();
            let done = model
                .sample_streaming(
                    &Source::Tokens(&[]),
                    &e.prompt,
                    e.steps,
                    &params,
                    &mut out,
                    scratch.as_mut_slice(),
                    &mut |token| seen.push(token),
                )
                .unwrap();
            assert_eq!(seen, &out[..done.len], "{} T={temperature}", case.name);
            assert!(!seen.is_empty());
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Beam search on the grouped- and multi-query models (cached K/V heads shared by query
/// heads, reordered between hypotheses): beam 1 gives the reference's greedy tokens, and
/// every hypothesis of beam 4 (alpha 0) scores the sum of its tokens' log-probabilities
/// under the teacher-forced logits of prompt + tokens; the llama2c and Hugging Face
/// blobs (adjacent and rotate-half pairs) find the same hypotheses.
#[test]
fn beam_search_on_grouped_query_models() {
    let mut checked = 0;
    for case in llama_cases() {
        let e = &case.expected;
        if e.config.n_kv_heads == e.config.n_heads || e.steps > 32 {
            continue; // multi-head, or the firmware case's 256 steps
        }
        checked += 1;
        let mut found = Vec::new();
        for blob in [case.blob(false), case.hf_blob("hf")] {
            let model = Model::from_blob(blob.as_slice()).unwrap();
            let vocab = e.config.vocab_size;
            let beam = |b: usize, top: usize| -> Vec<(Vec<u32>, f32)> {
                let params = picoformer::BeamParams {
                    beam: b,
                    top,
                    alpha: 0.0,
                    max_len: e.steps,
                };
                let mut scratch = picoformer_cli::scratch(model.beam_scratch_bytes(b).unwrap());
                let hyps = model
                    .beam_search_with(
                        &Source::Tokens(&[]),
                        &e.prompt,
                        &params,
                        scratch.as_mut_slice(),
                    )
                    .unwrap();
                hyps.iter().map(|h| (h.tokens.to_vec(), h.score)).collect()
            };
            let one = beam(1, 1);
            assert_eq!(one[0].0, e.greedy_tokens, "{}: beam 1", case.name);
            let four = beam(4, 4);
            assert_eq!(four.len(), 4, "{}", case.name);
            for (tokens, score) in &four {
                let tgt: Vec<u32> = e
                    .prompt
                    .iter()
                    .chain(&tokens[..tokens.len() - 1])
                    .copied()
                    .collect();
                let mut logits = vec![0f32; tgt.len() * vocab];
                let mut scratch = picoformer_cli::scratch(model.forward_scratch_bytes().unwrap());
                model
                    .forward(&[], &tgt, &mut logits, scratch.as_mut_slice())
                    .unwrap();
                let mut want = 0f64;
                for (j, &token) in tokens.iter().enumerate() {
                    let row = &logits[(e.prompt.len() - 1 + j) * vocab..][..vocab];
                    let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
                    let sum: f64 = row.iter().map(|&v| (v as f64 - max).exp()).sum();
                    want += row[token as usize] as f64 - max - sum.ln();
                }
                assert!(
                    (f64::from(*score) - want).abs() <= 1e-4 * tokens.len() as f64,
                    "{}: beam score {score} vs {want} from the logits",
                    case.name
                );
            }
            assert!(
                four.windows(2).all(|w| w[0].1 >= w[1].1),
                "{}: best first",
                case.name
            );
            found.push(four.into_iter().map(|(t, _)| t).collect::<Vec<_>>());
        }
        assert_eq!(found[0], found[1], "{}: llama2c vs hf blob", case.name);
    }
    assert_eq!(checked, 2, "the GQA and MQA cases");
}

/// An attention probe on a llama model's decoder self-attention is refused with
/// `WrongArchitecture` before anything is written (its grouped-query attention has no
/// probed kernel yet) instead of returning an empty matrix.
#[test]
fn attention_probe_on_llama_is_refused() {
    let case = &llama_cases()[0];
    let blob = case.blob(false);
    let model = Model::from_blob(blob.as_slice()).unwrap();
    let e = &case.expected;
    let vocab = e.config.vocab_size;
    let mut logits = vec![0f32; e.prompt.len() * vocab];
    let mut weights = vec![7f32; e.prompt.len() * e.prompt.len()];
    let mut probe =
        picoformer::AttentionProbe::new(picoformer::AttentionKind::DecoderSelf, 0, 0, &mut weights);
    let mut scratch = picoformer_cli::scratch(model.forward_scratch_bytes().unwrap());
    let result = model.forward_with_probe(
        &[],
        &e.prompt,
        &mut logits,
        scratch.as_mut_slice(),
        Some(&mut probe),
    );
    assert!(
        matches!(result, Err(Error::WrongArchitecture { .. })),
        "{result:?}"
    );
    assert!(weights.iter().all(|&w| w == 7.0));
    // Without a probe the same call works.
    model
        .forward_with_probe(&[], &e.prompt, &mut logits, scratch.as_mut_slice(), None)
        .unwrap();
}

/// The scratch sizes are exact: one byte less is refused before anything runs.
#[test]
fn scratch_sizes_are_exact() {
    for case in llama_cases() {
        let blob = case.blob(false);
        let model = Model::from_blob(blob.as_slice()).unwrap();
        let e = &case.expected;
        let needed = model
            .greedy_scratch_bytes_for_len(e.prompt.len(), e.steps)
            .unwrap();
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
            picoformer::scratch::greedy_scratch_bytes_for(&full, model.dtype()).unwrap()
                - model.greedy_scratch_bytes().unwrap(),
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

/// Converts `case`'s Hugging Face checkpoint in `hf` with the command line and returns
/// the generated tokens of `generate --json` for `prompt`.
fn cli_hf_greedy(
    case: &LlamaCase,
    hf: &str,
    dtype: &str,
    prompt: &[u32],
    steps: usize,
) -> serde_json::Value {
    let dir = std::env::temp_dir().join(format!("picoformer-hf-llama-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pfm = dir.join(format!("{}-{hf}-{dtype}.pfm", case.name));
    let source = case.dir.join(hf);
    let out = picoformer(&[
        "convert",
        "--from",
        "hf-llama",
        source.join("model.safetensors").to_str().unwrap(),
        "--config",
        source.join("config.json").to_str().unwrap(),
        "--dtype",
        dtype,
        "-o",
        pfm.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prompt: Vec<String> = prompt.iter().map(u32::to_string).collect();
    let out = picoformer(&[
        "generate",
        pfm.to_str().unwrap(),
        "--prompt-tokens",
        &prompt.join(","),
        "--steps",
        &steps.to_string(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(&pfm).ok();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["tokens"].clone()
}

/// `picoformer convert --from hf-llama` then `generate`: the reference's greedy tokens for
/// every case; the F16 checkpoint also stored as f16 (no rounding: the same tokens), the
/// BF16 one as f32.
#[test]
fn cli_converts_hf_checkpoints() {
    for case in llama_cases() {
        let e = &case.expected;
        assert_eq!(
            cli_hf_greedy(&case, "hf", "f32", &e.prompt, e.steps),
            serde_json::json!(e.greedy_tokens),
            "{}",
            case.name
        );
        for (dir, half) in case.hf_half_cases() {
            let dtypes: &[&str] = if half.dtype == "float16" {
                &["f32", "f16"]
            } else {
                &["f32"]
            };
            for dtype in dtypes {
                assert_eq!(
                    cli_hf_greedy(&case, &dir, dtype, &half.prompt, half.steps),
                    serde_json::json!(half.greedy_tokens),
                    "{} {dir} as {dtype}",
                    case.name
                );
            }
        }
    }
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
        // The request (this prompt, `steps` tokens) needs its own size, at most `bytes`.
        let request = model
            .sample_scratch_bytes_for_len(e.prompt.len(), e.steps)
            .unwrap();
        assert_eq!(run(greedy, request - 1).0, PF_ERR_SCRATCH_TOO_SMALL);
    }
}

/// `StaticLlama`, the firmware form: the reference's greedy and sampled tokens through
/// the const-generic type (scratch sized by its constants, tokens in `heapless` vectors),
/// and a type whose key/value heads or dtype differ from the blob's is refused by name.
#[test]
fn static_llama_generates_the_reference_tokens() {
    use picoformer::{Scratch, StaticLlama};
    type Gqa = StaticLlama<'static, 48, 6, 2, 88, 2, 67, 32>;
    type GqaAsMha = StaticLlama<'static, 48, 6, 6, 88, 2, 67, 32>;
    type GqaInt8 = StaticLlama<'static, 48, 6, 2, 88, 2, 67, 32, i8>;
    let case = llama_cases()
        .into_iter()
        .find(|c| c.name == "llama_gqa_tied")
        .unwrap();
    let e = &case.expected;
    let blob: &'static AlignedBytes = Box::leak(Box::new(case.blob(false)));
    let model = Gqa::from_blob(blob.as_slice()).unwrap();
    let dynamic = model.model();
    assert_eq!(
        Gqa::GREEDY_SCRATCH_BYTES,
        dynamic.greedy_scratch_bytes().unwrap()
    );
    assert_eq!(
        Gqa::SAMPLE_SCRATCH_BYTES,
        dynamic.sample_scratch_bytes().unwrap()
    );
    let mut scratch = Box::new(Scratch::<{ Gqa::SAMPLE_SCRATCH_BYTES }>::new());
    let mut out = [0u32; 32];
    let greedy = model
        .greedy(&e.prompt, e.steps, &mut out, &mut scratch)
        .unwrap();
    assert_eq!(&out[..greedy.len], e.greedy_tokens.as_slice());
    for s in &e.samples {
        let params = SamplingParams {
            temperature: s.temperature,
            top_p: s.top_p,
            seed: s.seed,
        };
        let sampled = model
            .generate_vec::<32, _>(&e.prompt, e.steps, &params, &mut scratch)
            .unwrap();
        assert_eq!(sampled.tokens.as_slice(), s.tokens.as_slice(), "{params:?}");
    }
    // A heapless output shorter than the steps asked for is refused before decoding.
    let params = SamplingParams {
        temperature: 0.0,
        top_p: 0.0,
        seed: 1,
    };
    assert_eq!(
        model.generate_vec::<4, _>(&e.prompt, 5, &params, &mut scratch),
        Err(Error::OutputTooSmall { needed: 5, got: 4 })
    );
    assert_eq!(
        GqaAsMha::from_blob(blob.as_slice()).unwrap_err(),
        Error::ShapeMismatch {
            field: "n_kv_heads",
            expected: 6,
            found: 2
        }
    );
    assert!(matches!(
        GqaInt8::from_blob(blob.as_slice()),
        Err(Error::WrongDtype { .. })
    ));
}

/// A llama2.c tokenizer file from (score, piece) pairs.
fn tokenizer_file(max_token_length: i32, pieces: &[(f32, &[u8])]) -> Vec<u8> {
    let mut file = max_token_length.to_le_bytes().to_vec();
    for (score, piece) in pieces {
        file.extend(score.to_le_bytes());
        file.extend((piece.len() as i32).to_le_bytes());
        file.extend(*piece);
    }
    file
}

/// The engine's no_std tokenizer, as firmware uses it (file and index borrowed, text in
/// a `heapless::String`): the reference's tokens and text on every golden tokenizer,
/// byte tokens and the leading-space rule, and every malformed file or call its own error.
#[test]
fn engine_tokenizer_reads_in_place_with_distinct_errors() {
    use picoformer::tokenizer::{index_len, Llama2cTokenizer, TokenizerError as E};
    for case in llama_cases() {
        let e = &case.expected;
        let bytes = std::fs::read(case.dir.join("tokenizer.bin")).unwrap();
        let mut index = vec![0u32; index_len(e.config.vocab_size).unwrap()];
        let tokenizer =
            Llama2cTokenizer::new(&bytes[..], e.config.vocab_size, &mut index[..]).unwrap();
        let t = &e.tokenizer;
        let mut tokens = [0u32; 64];
        let n = tokenizer.encode(&t.text, &mut tokens).unwrap();
        assert_eq!(&tokens[..n], t.prompt.as_slice(), "{}", case.name);
        let last = *t.prompt.last().unwrap();
        let text = tokenizer
            .decode_text::<4096>(last, &t.greedy_tokens)
            .unwrap();
        assert_eq!(text.as_str(), t.greedy_text, "{}", case.name);
        assert!(t.greedy_text.len() > 4);
        assert!(matches!(
            tokenizer.decode_text::<4>(last, &t.greedy_tokens),
            Err(E::OutputTooSmall { got: 4, .. })
        ));
    }

    let pieces: &[(f32, &[u8])] = &[
        (0.0, b"<unk>"),
        (0.0, b"\n<s>\n"),
        (0.0, b"\n</s>\n"),
        (0.0, b"<0x0A>"),
        (0.0, b"<0xC3>"),
        (0.0, b"<0xA9>"),
        (0.0, b" "),
        (0.0, b"a"),
        (0.0, b"b"),
        (1.0, b"ab"),
        (2.0, b" a"),
        (0.5, b" ab"),
    ];
    let file = tokenizer_file(6, pieces);
    let mut index = [0u32; 24];
    let tok = Llama2cTokenizer::new(&file[..], pieces.len(), &mut index[..]).unwrap();
    // " a" (score 2) merges before "ab" (score 1), then " ab" (0.5) joins " a" and "b".
    let mut out = [0u32; 8];
    let n = tok.encode("ab", &mut out).unwrap();
    assert_eq!(&out[..n], &[1, 11]);
    assert_eq!(tok.encode("", &mut out), Ok(1));
    assert_eq!(
        tok.encode("abab", &mut out[..5]),
        Err(E::OutputTooSmall { needed: 6, got: 5 })
    );
    // "é" has no piece: its two UTF-8 bytes fall back to tokens 0xC3 + 3 and 0xA9 + 3,
    // outside this 12-token vocabulary.
    assert_eq!(
        tok.encode("é", &mut out),
        Err(E::NoByteFallback {
            character: 'é',
            token: 0xC3 + 3
        })
    );
    // Decode: the space after bos goes, byte tokens are their byte (é across two).
    assert_eq!(tok.decode(1, 11), Ok(&b"ab"[..]));
    assert_eq!(tok.decode(7, 11), Ok(&b" ab"[..]));
    assert_eq!(tok.decode(7, 3), Ok(&b"\n"[..]));
    assert_eq!(
        tok.decode_text::<16>(1, &[10, 4, 5, 3]).unwrap().as_str(),
        "aé\n"
    );
    // A character cut short is U+FFFD, as the host's lossy text.
    assert_eq!(
        tok.decode_text::<16>(1, &[10, 4]).unwrap().as_str(),
        "a\u{FFFD}"
    );
    assert_eq!(
        tok.decode(1, 12),
        Err(E::TokenOutOfRange {
            token: 12,
            vocab: 12
        })
    );
    let mut bytes = [0u8; 2];
    assert_eq!(
        tok.decode_into(1, &[11, 7], &mut bytes),
        Err(E::OutputTooSmall { needed: 3, got: 2 })
    );
    let no_space = tokenizer_file(6, &pieces[..6]);
    let tok = Llama2cTokenizer::new(&no_space[..], 6, &mut index[..]).unwrap();
    assert_eq!(tok.encode("a", &mut out), Err(E::NoSpacePiece));

    // Malformed files, each its own error.
    let mut index = [0u32; 24];
    let new = |file: &[u8], vocab: usize, index: &mut [u32]| {
        Llama2cTokenizer::new(file, vocab, index).map(|_| ())
    };
    assert_eq!(
        new(&file[..3], 12, &mut index),
        Err(E::Truncated {
            what: "max_token_length",
            start: 0,
            end: 4,
            len: 3
        })
    );
    assert_eq!(
        new(&tokenizer_file(0, pieces), 12, &mut index),
        Err(E::MaxTokenLength { found: 0 })
    );
    assert_eq!(
        new(&tokenizer_file(2, pieces), 12, &mut index),
        Err(E::TokenLength {
            token: 0,
            len: 5,
            max: 2
        })
    );
    assert_eq!(
        new(&file[..file.len() - 1], 12, &mut index),
        Err(E::Truncated {
            what: "a token's bytes",
            start: file.len() - 3,
            end: file.len(),
            len: file.len() - 1
        })
    );
    assert_eq!(
        new(&file[..file.len() - 3 - 2], 12, &mut index),
        Err(E::Truncated {
            what: "a length",
            start: file.len() - 3 - 4,
            end: file.len() - 3,
            len: file.len() - 5
        })
    );
    assert_eq!(
        new(&file, 11, &mut index),
        Err(E::TrailingBytes {
            extra: 4 + 4 + 3,
            vocab: 11
        })
    );
    assert_eq!(
        new(&file, 12, &mut index[..23]),
        Err(E::IndexTooSmall {
            needed: 24,
            got: 23
        })
    );
    let mut negative = file.clone();
    negative[8..12].copy_from_slice(&(-1i32).to_le_bytes());
    assert_eq!(
        new(&negative, 12, &mut index),
        Err(E::TokenLength {
            token: 0,
            len: -1,
            max: 6
        })
    );
}

/// The int8 key/value cache (`convert --kv-cache i8`, f32 weights) against the
/// reference's f32 goldens: the prompt's logits, the next-token agreement teacher-forced
/// along the reference's greedy continuation, and the greedy tokens themselves. Figures in
/// docs/quantization.md ("int8 key/value cache").
#[test]
fn int8_kv_cache_stays_close_to_the_reference() {
    use picoformer::CacheType;
    let (mut all_agree, mut all_total) = (0, 0);
    for case in llama_cases() {
        let e = &case.expected;
        let f32_blob = case.blob(false);
        let blob = AlignedBytes::copy_from(
            &picoformer_cli::convert::with_kv_cache(f32_blob.as_slice(), CacheType::I8).unwrap(),
        );
        let model = Model::from_blob(blob.as_slice()).unwrap();
        let dims = model.config().dims;
        assert_eq!(dims.kv_cache, CacheType::I8);
        // The cache's RAM: a quarter of the f32 cache's values, plus the scales.
        let f32_model = Model::from_blob(f32_blob.as_slice()).unwrap();
        let cache_words =
            |d: &picoformer::Dims| 2 * d.n_decoder_layers * d.max_tgt_len * d.kv_row_words();
        assert_eq!(
            f32_model.greedy_scratch_bytes().unwrap() - model.greedy_scratch_bytes().unwrap(),
            4 * (cache_words(&f32_model.config().dims) - cache_words(&dims)),
            "{}",
            case.name
        );
        let (prompt_logits, greedy) = logits_and_greedy(&blob, &e.prompt, e.steps);
        let prompt_err = prompt_logits
            .iter()
            .zip(e.prompt_logits.iter().flatten())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        // Teacher-forced along the reference's tokens: how often the int8-cache model's
        // next token is the reference's.
        let vocab = dims.tgt_vocab;
        let mut sequence = e.prompt.clone();
        sequence.extend(&e.greedy_tokens);
        sequence.truncate(dims.max_tgt_len);
        let mut logits = vec![0f32; sequence.len() * vocab];
        let mut scratch = picoformer_cli::scratch(model.forward_scratch_bytes().unwrap());
        model
            .forward(&[], &sequence, &mut logits, scratch.as_mut_slice())
            .unwrap();
        let predicted = (e.prompt.len() - 1..sequence.len() - 1).map(|p| {
            let row = &logits[p * vocab..(p + 1) * vocab];
            picoformer::kernels::argmax(row).unwrap() as u32
        });
        let (agree, total) = predicted
            .zip(&sequence[e.prompt.len()..])
            .fold((0, 0), |(a, t), (p, &want)| {
                (a + usize::from(p == want), t + 1)
            });
        let same_prefix = greedy
            .iter()
            .zip(&e.greedy_tokens)
            .take_while(|(a, b)| a == b)
            .count();
        let largest = e
            .prompt_logits
            .iter()
            .flatten()
            .fold(0.0f32, |m, v| m.max(v.abs()));
        println!(
            "{}: prompt logits max abs error {prompt_err:.5} (largest |logit| {largest:.2}), teacher-forced agreement \
             {agree}/{total}, greedy tokens equal for {same_prefix}/{}",
            case.name,
            e.greedy_tokens.len()
        );
        // Within 1 % of the largest logit (measured: 0.26 % to 0.76 %).
        assert!(prompt_err < 0.01 * largest, "{}: {prompt_err}", case.name);
        all_agree += agree;
        all_total += total;
    }
    // Measured: 291 of 291 (and every greedy token equal).
    assert!(all_agree * 100 >= all_total * 98, "{all_agree}/{all_total}");
}
