//! `picoformer`: the host command line (convert, info, forward, decode, bench, embed,
//! transcribe, and the bundled date model: dates, attention).

use anyhow::{bail, ensure, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use picoformer::dates::{self, Search};
#[cfg(feature = "pretrained")]
use picoformer::host::pretrained::{self, load_tokenizer};
use picoformer::host::{
    self, config_json::ConfigJson, convert, ct2_whisper, heatmap::Heatmap, hf_bert,
};
#[cfg(feature = "pretrained")]
use picoformer::Source;
use picoformer::{AttentionKind, AttentionProbe, BeamParams, Model};
use serde_json::json;
use std::path::{Path, PathBuf};
#[cfg(feature = "pretrained")]
use std::time::Instant;

/// The bundled date model (tools/dates/train.py), built into the binary.
#[repr(C, align(16))]
struct Aligned<T: ?Sized>(T);
static DATE_MODEL: &Aligned<[u8]> = &Aligned(*include_bytes!("../../models/dates/dates.pfm"));

#[derive(Parser)]
#[command(
    name = "picoformer",
    version,
    about = "The Transformer of \"Attention Is All You Need\", no_std and allocation-free: host tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// PyTorch `nn.Transformer` state_dict names in a safetensors file (needs --config).
    Torch,
    /// Hugging Face BERT (`BertModel`) safetensors, with its config.json as --config.
    HfBert,
    /// A CTranslate2 Whisper `model.bin` (its vocabulary.txt, when beside it, names the
    /// special tokens).
    Ct2Whisper,
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    /// Encoder self-attention (source over source).
    Encoder,
    /// Masked decoder self-attention (target over target).
    Decoder,
    /// Encoder-decoder attention (target over source).
    Cross,
}

/// `convert --dtype`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Dtype {
    F32,
    F16,
    I8,
}

impl From<Dtype> for picoformer::WeightType {
    fn from(d: Dtype) -> Self {
        match d {
            Dtype::F32 => picoformer::WeightType::F32,
            Dtype::F16 => picoformer::WeightType::F16,
            Dtype::I8 => picoformer::WeightType::I8,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Convert trained weights into a picoformer model blob (.pfm).
    Convert {
        /// Checkpoint format.
        #[arg(long, value_enum)]
        from: Format,
        /// torch: CONFIG.json with the model's dimensions and switches; hf-bert: the
        /// model's Hugging Face config.json.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Weights file (.safetensors, or CTranslate2's model.bin).
        weights: PathBuf,
        /// Output model blob.
        #[arg(short, long)]
        output: PathBuf,
        /// Element type of the weight matrices: f32, f16, or i8 (int8 with one scale per
        /// output row). Prints each matrix's quantization error.
        #[arg(long, value_enum, default_value_t = Dtype::F32)]
        dtype: Dtype,
    },
    /// Show a model's configuration, size and scratch needs.
    Info {
        model: PathBuf,
        /// Also report the scratch bytes of beam search with this beam size.
        #[arg(long, default_value_t = 4)]
        beam: usize,
        #[arg(long)]
        json: bool,
    },
    /// Teacher-forced decoder logits, one row per target position.
    Forward {
        model: PathBuf,
        /// Source token ids, comma separated.
        #[arg(long, value_delimiter = ',', required = true)]
        src: Vec<u32>,
        /// Target token ids (starting with bos), comma separated.
        #[arg(long, value_delimiter = ',', required = true)]
        tgt: Vec<u32>,
        #[arg(long)]
        json: bool,
    },
    /// Decode a source sequence: greedy, or beam search with --beam.
    Decode {
        model: PathBuf,
        /// Source token ids, comma separated.
        #[arg(long, value_delimiter = ',', required = true)]
        src: Vec<u32>,
        /// Beam size (greedy decoding when absent).
        #[arg(long)]
        beam: Option<usize>,
        /// Hypotheses to return (beam search; default 1).
        #[arg(long)]
        top: Option<usize>,
        /// Length-penalty exponent (beam search; default 0.6).
        #[arg(long)]
        alpha: Option<f32>,
        /// Most tokens to generate (default: the model's max_tgt_len).
        #[arg(long)]
        max_len: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// Normalise dates with the bundled model: "sat 28th of november, 2026" -> 2026-11-28.
    Dates {
        /// Phrases, one date each.
        #[arg(required = true)]
        phrases: Vec<String>,
        /// Beam search with this beam size (greedy decoding when absent).
        #[arg(long)]
        beam: Option<usize>,
        /// A date model blob to use instead of the bundled one.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Draw one attention head of a date model as an SVG heatmap (rows: target tokens,
    /// columns: source tokens), computed by the engine's forward pass.
    Attention {
        /// The date model blob (models/dates/dates.pfm).
        model: PathBuf,
        /// Source phrase.
        #[arg(long)]
        src: String,
        /// Target ISO date (default: the model's own greedy answer).
        #[arg(long)]
        tgt: Option<String>,
        /// Layer, from 0.
        #[arg(long, default_value_t = 0)]
        layer: usize,
        /// Head, from 0.
        #[arg(long, default_value_t = 0)]
        head: usize,
        /// Which attention.
        #[arg(long, value_enum, default_value_t = Kind::Cross)]
        kind: Kind,
        /// Output SVG file.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Time teacher-forced forward and greedy decoding (median of --iters runs), and
    /// measure this machine's memory read bandwidth: the figures of tools/bench.
    Bench {
        model: PathBuf,
        /// Source token ids, comma separated.
        #[arg(long, value_delimiter = ',', required = true)]
        src: Vec<u32>,
        /// Target token ids for the forward pass (starting with bos), comma separated.
        #[arg(long, value_delimiter = ',', required = true)]
        tgt: Vec<u32>,
        /// Tokens to generate greedily.
        #[arg(long)]
        max_len: usize,
        /// Repetitions (the median is reported).
        #[arg(long, default_value_t = 5)]
        iters: usize,
    },
    #[cfg(feature = "pretrained")]
    /// Sentence embedding with an encoder-only model: mean of the encoder output over the
    /// tokens, L2-normalised (sentence-transformers' pooling).
    Embed {
        model: PathBuf,
        /// The model's tokenizer.json (padding is turned off).
        #[arg(long)]
        tokenizer: PathBuf,
        /// The sentence.
        #[arg(long)]
        text: String,
        /// Print the time of the embedding (tokens to vector, model loaded) on stderr.
        #[arg(long)]
        timings: bool,
        /// Print {"ids", "embedding"} as JSON.
        #[arg(long)]
        json: bool,
    },
    #[cfg(feature = "pretrained")]
    /// Speech to text with a Whisper model from a log-mel spectrogram.
    Transcribe {
        model: PathBuf,
        /// The log-mel spectrogram, `[mel bins, frames]` (`<f4` or `<f2` .npy).
        #[arg(long)]
        mel: PathBuf,
        /// Beam size (greedy decoding when absent).
        #[arg(long)]
        beam: Option<usize>,
        /// Length-penalty exponent of beam search (default 0.6).
        #[arg(long)]
        alpha: Option<f32>,
        /// Decoder prompt token ids (default: multilingual 50258,50259,50359,50363 =
        /// start, English, transcribe, no timestamps; English-only 50257,50362).
        #[arg(long, value_delimiter = ',')]
        prompt: Option<Vec<u32>>,
        /// Most tokens to generate (default: as many as the decoder's positions allow).
        #[arg(long)]
        max_len: Option<usize>,
        /// Whisper's tokenizer.json, to turn the tokens into text.
        #[arg(long)]
        tokenizer: Option<PathBuf>,
        /// Use only the first N frames of the spectrogram (Whisper itself always reads
        /// 3000; fewer make a quicker, different computation, e.g. for slow emulators).
        #[arg(long)]
        frames: Option<usize>,
        /// Print the encoder and decoder times on stderr.
        #[arg(long)]
        timings: bool,
        /// Print {"tokens", "text"} as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn load(path: &Path) -> Result<host::AlignedBytes> {
    host::read_model_file(path).with_context(|| format!("reading {}", path.display()))
}

fn model_from<'b>(blob: &'b host::AlignedBytes, path: &Path) -> Result<Model<'b>> {
    Model::from_blob(blob.as_slice()).with_context(|| format!("loading {}", path.display()))
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Dates {
            phrases,
            beam,
            model,
        } => {
            let owned = model.as_deref().map(load).transpose()?;
            let m = match (&owned, &model) {
                (Some(blob), Some(path)) => model_from(blob, path)?,
                _ => Model::from_blob(&DATE_MODEL.0).context("loading the bundled date model")?,
            };
            let (search, bytes) = match beam {
                None => (Search::Greedy, m.greedy_scratch_bytes()?),
                Some(b) => (Search::Beam(b), m.beam_scratch_bytes(b)?),
            };
            let mut scratch = host::scratch(bytes);
            let mut src = vec![0u32; m.config().dims.max_src_len];
            for phrase in &phrases {
                let date = dates::normalise(&m, phrase, search, &mut src, scratch.as_mut_slice())
                    .with_context(|| format!("normalising {phrase:?}"))?;
                println!("{date}  <-  {phrase}");
            }
        }
        Command::Attention {
            model,
            src,
            tgt,
            layer,
            head,
            kind,
            output,
        } => {
            let blob = load(&model)?;
            let m = model_from(&blob, &model)?;
            let svg = attention_svg(&m, &src, tgt.as_deref(), layer, head, kind)?;
            std::fs::write(&output, svg)
                .with_context(|| format!("writing {}", output.display()))?;
            eprintln!("wrote {}", output.display());
        }
        Command::Convert {
            from,
            config,
            weights,
            output,
            dtype,
        } => {
            let read_config = || -> Result<String> {
                let path = config.as_ref().context("this format needs --config")?;
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
            };
            let bytes = std::fs::read(&weights)
                .with_context(|| format!("reading {}", weights.display()))?;
            let converting = || format!("converting {}", weights.display());
            let (blob, unused) = match from {
                Format::Torch => {
                    let config = ConfigJson::parse(&read_config()?).context("parsing --config")?;
                    let (blob, report) =
                        convert::convert_torch(&config, &bytes).with_context(converting)?;
                    (blob, report.unused)
                }
                Format::HfBert => {
                    let (blob, report) = hf_bert::convert_hf_bert(&read_config()?, &bytes)
                        .with_context(converting)?;
                    (blob, report.unused)
                }
                Format::Ct2Whisper => {
                    ensure!(
                        config.is_none(),
                        "ct2-whisper reads its config from model.bin"
                    );
                    let vocabulary = weights
                        .parent()
                        .map(|dir| dir.join("vocabulary.txt"))
                        .and_then(|path| std::fs::read_to_string(path).ok());
                    let (_, blob) = ct2_whisper::convert_ct2_whisper(&bytes, vocabulary.as_deref())
                        .with_context(converting)?;
                    (blob, Vec::new())
                }
            };
            let blob = if dtype == Dtype::F32 {
                blob
            } else {
                let dtype = picoformer::WeightType::from(dtype);
                let (blob, errors) =
                    convert::requantize(&blob, dtype).context("quantizing the weights")?;
                eprintln!("{} weight matrices, quantization error:", dtype.name());
                for line in convert::quant_report_lines(&errors) {
                    eprintln!("  {line}");
                }
                blob
            };
            // Check what we wrote is what the engine accepts before writing it out.
            Model::from_blob(host::AlignedBytes::copy_from(&blob).as_slice())
                .context("the converted blob does not validate")?;
            // Nothing half-written: a temporary beside the output, renamed when complete.
            let mut partial = output.clone().into_os_string();
            partial.push(".partial");
            let partial = PathBuf::from(partial);
            let written =
                std::fs::write(&partial, &blob).and_then(|()| std::fs::rename(&partial, &output));
            if let Err(e) = written {
                let _ = std::fs::remove_file(&partial);
                return Err(e).with_context(|| format!("writing {}", output.display()));
            }
            for name in &unused {
                eprintln!("note: tensor `{name}` is not used by this config");
            }
            eprintln!("wrote {} ({} bytes)", output.display(), blob.len());
        }
        Command::Info { model, beam, json } => {
            let blob = load(&model)?;
            let m = model_from(&blob, &model)?;
            let params = m.parameter_count();
            let greedy = m.greedy_scratch_bytes()?;
            let forward = m.forward_scratch_bytes()?;
            let beam_bytes = m.beam_scratch_bytes(beam)?;
            let config = ConfigJson::from(m.config());
            let weight_bytes =
                blob.as_slice().len() - picoformer::blob::header_len(&m.config().dims).unwrap_or(0);
            if json {
                let out = json!({
                    "config": config,
                    "dtype": m.dtype().name(),
                    "parameters": params,
                    "weight_bytes": weight_bytes,
                    "blob_bytes": blob.as_slice().len(),
                    "scratch_bytes": {
                        "greedy": greedy,
                        "forward": forward,
                        "beam": {"beam": beam, "bytes": beam_bytes},
                    },
                });
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!("{}", serde_json::to_string_pretty(&config)?);
                println!("parameters:            {params}");
                println!("weight dtype:          {}", m.dtype().name());
                println!("weight bytes:          {weight_bytes}");
                println!("blob bytes:            {}", blob.as_slice().len());
                println!("scratch, greedy:       {greedy}");
                println!("scratch, forward:      {forward}");
                println!("scratch, beam {beam:<3}:     {beam_bytes}");
            }
        }
        Command::Forward {
            model,
            src,
            tgt,
            json,
        } => {
            let blob = load(&model)?;
            let m = model_from(&blob, &model)?;
            let vocab = m.config().dims.tgt_vocab;
            let mut logits = vec![0f32; tgt.len() * vocab];
            let mut scratch = host::scratch(m.forward_scratch_bytes()?);
            m.forward(&src, &tgt, &mut logits, scratch.as_mut_slice())?;
            let rows: Vec<&[f32]> = logits.chunks(vocab).collect();
            if json {
                println!("{}", json!({ "logits": rows }));
            } else {
                for (i, row) in rows.iter().enumerate() {
                    let best = picoformer_kernels::argmax(row).unwrap_or(0);
                    println!("position {i}: argmax {best} ({:.4})", row[best]);
                }
            }
        }
        Command::Decode {
            model,
            src,
            beam,
            top,
            alpha,
            max_len,
            json,
        } => {
            let blob = load(&model)?;
            let m = model_from(&blob, &model)?;
            let max_len = max_len.unwrap_or(m.config().dims.max_tgt_len);
            let mut hypotheses: Vec<(Vec<u32>, f32)> = Vec::new();
            match beam {
                None => {
                    if top.is_some() || alpha.is_some() {
                        bail!("--top and --alpha need --beam");
                    }
                    let mut scratch = host::scratch(m.greedy_scratch_bytes()?);
                    let mut out = vec![0u32; max_len];
                    let greedy = m.greedy(&src, max_len, &mut out, scratch.as_mut_slice())?;
                    out.truncate(greedy.len);
                    hypotheses.push((out, greedy.score));
                }
                Some(beam) => {
                    let params = BeamParams {
                        beam,
                        top: top.unwrap_or(1),
                        alpha: alpha.unwrap_or(0.6),
                        max_len,
                    };
                    let bytes = m.beam_scratch_bytes(beam)?;
                    let mut scratch = host::scratch(bytes);
                    let found = m.beam_search(&src, &params, scratch.as_mut_slice())?;
                    for h in found.iter() {
                        hypotheses.push((h.tokens.to_vec(), h.score));
                    }
                }
            }
            if json {
                let list: Vec<_> = hypotheses
                    .iter()
                    .map(|(tokens, score)| json!({"tokens": tokens, "score": score}))
                    .collect();
                println!("{}", json!({ "hypotheses": list }));
            } else {
                for (tokens, score) in &hypotheses {
                    let text: Vec<String> = tokens.iter().map(u32::to_string).collect();
                    println!("{score:>10.4}  {}", text.join(","));
                }
            }
        }
        Command::Bench {
            model,
            src,
            tgt,
            max_len,
            iters,
        } => {
            let blob = load(&model)?;
            let m = model_from(&blob, &model)?;
            let vocab = m.config().dims.tgt_vocab;
            let mut logits = vec![0f32; tgt.len() * vocab];
            let mut forward_scratch = host::scratch(m.forward_scratch_bytes()?);
            let mut greedy_scratch = host::scratch(m.greedy_scratch_bytes()?);
            let mut encode_scratch = host::scratch(m.encode_scratch_bytes()?);
            let mut encoded = vec![0f32; src.len() * m.config().dims.d_model];
            let mut out = vec![0u32; max_len];
            let mut encode_s = Vec::new();
            let mut forward_s = Vec::new();
            let mut greedy_s = Vec::new();
            let mut tokens = 0;
            for _ in 0..iters.max(1) {
                let start = std::time::Instant::now();
                m.encode(&src, &mut encoded, encode_scratch.as_mut_slice())?;
                encode_s.push(start.elapsed().as_secs_f64());
                let start = std::time::Instant::now();
                m.forward(&src, &tgt, &mut logits, forward_scratch.as_mut_slice())?;
                forward_s.push(start.elapsed().as_secs_f64());
                let start = std::time::Instant::now();
                tokens = m
                    .greedy(&src, max_len, &mut out, greedy_scratch.as_mut_slice())?
                    .len;
                greedy_s.push(start.elapsed().as_secs_f64());
            }
            let out = json!({
                "kernel": picoformer_kernels::active_kernel().name(),
                "quant_kernel": picoformer_kernels::active_kernel().member_name(picoformer_kernels::Dtype::I8),
                "f16_kernel": picoformer_kernels::active_kernel().member_name(picoformer_kernels::Dtype::F16),
                "dtype": m.dtype().name(),
                "encode_s": median(&mut encode_s),
                "forward_s": median(&mut forward_s),
                "greedy_s": median(&mut greedy_s),
                "greedy_tokens": out[..tokens],
                "read_bandwidth_gb_s": read_bandwidth_gb_s(),
            });
            println!("{out}");
        }
        #[cfg(feature = "pretrained")]
        Command::Embed {
            model,
            tokenizer,
            text,
            timings,
            json,
        } => {
            let blob = load(&model)?;
            let m = model_from(&blob, &model)?;
            let ids = pretrained::tokenize(&load_tokenizer(&tokenizer)?, &text)?;
            let start = Instant::now();
            let embedding = pretrained::sentence_embedding(&m, &ids)?;
            if timings {
                eprintln!(
                    "timings: embedding of {} tokens {:.4} s",
                    ids.len(),
                    start.elapsed().as_secs_f64()
                );
            }
            if json {
                println!("{}", json!({ "ids": ids, "embedding": embedding }));
            } else {
                println!("ids: {ids:?}");
                println!(
                    "embedding ({} values): {:?} ...",
                    embedding.len(),
                    &embedding[..8.min(embedding.len())]
                );
            }
        }
        #[cfg(feature = "pretrained")]
        Command::Transcribe {
            model,
            mel,
            beam,
            alpha,
            prompt,
            max_len,
            tokenizer,
            frames: first_frames,
            timings,
            json,
        } => {
            let blob = load(&model)?;
            let m = model_from(&blob, &model)?;
            let bins = m.config().dims.stem_channels;
            let mut frames = pretrained::mel_frames(&mel, bins)?;
            if let Some(n) = first_frames {
                frames.truncate(n.saturating_mul(bins));
            }
            let source = Source::Frames(&frames);
            let prompt = prompt.unwrap_or_else(|| pretrained::whisper_prompt(&m));
            let dims = m.config().dims;
            let max_len = max_len.unwrap_or((dims.max_tgt_len + 1).saturating_sub(prompt.len()));
            let start = Instant::now();
            let tokens = match beam {
                None => {
                    ensure!(alpha.is_none(), "--alpha needs --beam");
                    let mut scratch = host::scratch(m.greedy_scratch_bytes()?);
                    let mut out = vec![0u32; max_len];
                    let greedy =
                        m.greedy_with(&source, &prompt, max_len, &mut out, scratch.as_mut_slice())?;
                    out.truncate(greedy.len);
                    out
                }
                Some(beam) => {
                    let params = BeamParams {
                        beam,
                        top: 1,
                        alpha: alpha.unwrap_or(0.6),
                        max_len,
                    };
                    let mut scratch = host::scratch(m.beam_scratch_bytes(beam)?);
                    let found =
                        m.beam_search_with(&source, &prompt, &params, scratch.as_mut_slice())?;
                    found.get(0).map(|h| h.tokens.to_vec()).unwrap_or_default()
                }
            };
            let elapsed = start.elapsed();
            if timings {
                let mut out = vec![0f32; dims.max_src_len * dims.d_model];
                let mut scratch = host::scratch(m.encode_scratch_bytes()?);
                let start = Instant::now();
                m.encode_source(&source, &mut out, scratch.as_mut_slice())?;
                let encoder = start.elapsed();
                eprintln!(
                    "timings: encoder {:.3} s, encoder + {} tokens {:.3} s",
                    encoder.as_secs_f64(),
                    tokens.len(),
                    elapsed.as_secs_f64()
                );
            }
            let text = match &tokenizer {
                Some(path) => Some(
                    load_tokenizer(path)?
                        .decode(&tokens, true)
                        .map_err(anyhow::Error::msg)?,
                ),
                None => {
                    eprintln!(
                        "note: no --tokenizer given, so no text (the .pfm holds no vocabulary)"
                    );
                    None
                }
            };
            if json {
                println!("{}", json!({ "tokens": tokens, "text": text }));
            } else {
                println!("tokens: {tokens:?}");
                if let Some(text) = text {
                    println!("text: {text}");
                }
            }
        }
    }
    Ok(())
}

/// A token as a one-glyph label: the character, `␣` for space, or the special's name.
fn label(character: Option<char>, id: u32) -> String {
    match character {
        Some(' ') => "␣".to_string(),
        Some(c) => c.to_string(),
        None => dates::SPECIAL_NAMES
            .get(id as usize)
            .map_or_else(|| id.to_string(), |s| s.to_string()),
    }
}

/// The heatmap of one head of a date model: the teacher-forced forward pass over
/// `src` -> `[bos] + tgt` (the model's greedy answer when `tgt` is absent) with a probe.
fn attention_svg(
    m: &Model,
    src_text: &str,
    tgt_text: Option<&str>,
    layer: usize,
    head: usize,
    kind: Kind,
) -> Result<String> {
    let dims = m.config().dims;
    let mut src = vec![0u32; dims.max_src_len];
    let n = dates::encode_source(src_text, &mut src).context("the source phrase")?;
    src.truncate(n);
    let answer = match tgt_text {
        Some(text) => text.to_string(),
        None => {
            let mut scratch = host::scratch(m.greedy_scratch_bytes()?);
            let mut ids = vec![0u32; dims.max_src_len];
            dates::normalise(
                m,
                src_text,
                Search::Greedy,
                &mut ids,
                scratch.as_mut_slice(),
            )?
            .to_string()
        }
    };
    // Decoder input: bos, then the answer; row i is the step that writes answer[i]
    // (eos after the last character).
    let mut tgt = vec![m.config().bos_id];
    for c in answer.chars() {
        tgt.push(dates::target_id(c).with_context(|| format!("{c:?} is not in an ISO date"))?);
    }
    let kind = match kind {
        Kind::Encoder => AttentionKind::EncoderSelf,
        Kind::Decoder => AttentionKind::DecoderSelf,
        Kind::Cross => AttentionKind::EncoderDecoder,
    };
    let (rows, columns) = kind.shape(src.len(), tgt.len());
    let mut weights = vec![0f32; rows * columns];
    let mut logits = vec![0f32; tgt.len() * dims.tgt_vocab];
    let mut scratch = host::scratch(m.forward_scratch_bytes()?);
    let mut probe = AttentionProbe::new(kind, layer, head, &mut weights);
    m.forward_with_probe(
        &src,
        &tgt,
        &mut logits,
        scratch.as_mut_slice(),
        Some(&mut probe),
    )?;

    let source_labels: Vec<String> = src
        .iter()
        .map(|&id| label(dates::source_char(id), id))
        .collect();
    let written: Vec<String> = answer
        .chars()
        .map(|c| c.to_string())
        .chain(std::iter::once("<eos>".to_string()))
        .collect();
    let read: Vec<String> = tgt
        .iter()
        .map(|&id| label(dates::target_char(id), id))
        .collect();
    let (row_labels, column_labels, axes, name) = match kind {
        AttentionKind::EncoderSelf => (
            source_labels.clone(),
            source_labels,
            ("source position", "source position it attends to"),
            "encoder self-attention",
        ),
        AttentionKind::DecoderSelf => (
            written,
            read,
            (
                "step, by the character it writes",
                "target input it attends to",
            ),
            "decoder self-attention",
        ),
        AttentionKind::EncoderDecoder => (
            written,
            source_labels,
            (
                "step, by the character it writes",
                "source character it attends to",
            ),
            "encoder-decoder attention",
        ),
    };
    let title = format!("{name}, layer {layer}, head {head}: {src_text:?} -> {answer}");
    Heatmap {
        title: &title,
        values: &weights,
        row_labels: &row_labels,
        column_labels: &column_labels,
        axes,
    }
    .to_svg()
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Single-thread read bandwidth: the best of a few passes summing a 512 MiB buffer.
fn read_bandwidth_gb_s() -> f64 {
    let words = vec![1u64; 64 << 20];
    let mut best = f64::INFINITY;
    let mut checksum = 0u64;
    for _ in 0..5 {
        let start = std::time::Instant::now();
        // Eight independent lanes so the loop is bound by loads, not by one add chain.
        let mut lanes = [0u64; 8];
        for chunk in words.chunks_exact(8) {
            for (lane, &w) in lanes.iter_mut().zip(chunk) {
                *lane = lane.wrapping_add(w);
            }
        }
        checksum = checksum.wrapping_add(lanes.iter().sum::<u64>());
        best = best.min(start.elapsed().as_secs_f64());
    }
    std::hint::black_box(checksum);
    (words.len() * 8) as f64 / best / 1e9
}
