//! `picoformer transcribe`: speech to text with a Whisper model, from a log-mel
//! spectrogram.

use super::{decode, scratch, Decoding, ModelFile};
use anyhow::{ensure, Result};
use picoformer::{BeamParams, Source};
use picoformer_cli::pretrained::{self, load_tokenizer};
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
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
}

pub fn run(
    Args {
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
    }: Args,
) -> Result<()> {
    let file = ModelFile::read(&model)?;
    let m = file.model()?;
    let bins = m.config().dims.stem_channels;
    let mut frames = pretrained::mel_frames(&mel, bins)?;
    if let Some(n) = first_frames {
        frames.truncate(n.saturating_mul(bins));
    }
    let source = Source::Frames(&frames);
    let prompt = prompt.unwrap_or_else(|| pretrained::whisper_prompt(&m));
    let dims = m.config().dims;
    let max_len = max_len.unwrap_or((dims.max_tgt_len + 1).saturating_sub(prompt.len()));
    let decoding = match beam {
        None => {
            ensure!(alpha.is_none(), "--alpha needs --beam");
            Decoding::Greedy
        }
        Some(beam) => Decoding::Beam(BeamParams {
            beam,
            top: 1,
            alpha: alpha.unwrap_or(0.6),
            max_len,
        }),
    };
    let start = Instant::now();
    let tokens = decode(&m, &source, &prompt, max_len, &decoding)?
        .into_iter()
        .next()
        .map(|(tokens, _score)| tokens)
        .unwrap_or_default();
    let elapsed = start.elapsed();
    if timings {
        let mut out = vec![0f32; dims.max_src_len * dims.d_model];
        let mut scratch = scratch(m.encode_scratch_bytes())?;
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
            eprintln!("note: no --tokenizer given, so no text (the .pfm holds no vocabulary)");
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
    Ok(())
}
