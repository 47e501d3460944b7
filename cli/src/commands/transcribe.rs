//! `picoformer transcribe`: speech to text with a Whisper model, from a WAV file or a
//! log-mel spectrogram.

use super::{decode, scratch, Decoding, ModelFile};
use anyhow::{ensure, Context, Result};
use picoformer::{BeamParams, Source};
use picoformer_cli::pretrained::{self, load_tokenizer};
use picoformer_cli::{tokenizer_sidecar, wav};
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["wav", "mel"])))]
pub struct Args {
    model: PathBuf,
    /// Audio: a WAV file, any rate, channels and sample format (integer PCM or 32-bit
    /// float); downmixed to mono, resampled to 16 kHz, transcribed in 30 s windows.
    #[arg(long)]
    wav: Option<PathBuf>,
    /// A log-mel spectrogram instead: `[mel bins, frames]` or `[1, mel bins, frames]`
    /// (`<f4` or `<f2` .npy, as Hugging Face's feature extractor writes it).
    #[arg(long)]
    mel: Option<PathBuf>,
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
    /// Whisper's tokenizer.json, to turn the tokens into text (default: the
    /// `MODEL.tokenizer.json` that `convert` writes beside the model).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// Use only the first N frames of the spectrogram (Whisper itself always reads
    /// 3000; fewer make a quicker, different computation, e.g. for slow emulators).
    #[arg(long)]
    frames: Option<usize>,
    /// Encoder positions to compute per window, as whisper.cpp's `audio_ctx`: N (1 to the
    /// model's 1500; the encoder reads the first 2N feature frames), or `auto`, the fewest
    /// that cover the audio in each window. Default: the whole window, as Whisper. Fewer
    /// are quicker and can change the tokens (docs/whisper-m55.md measures how).
    #[arg(long, conflicts_with = "frames", value_parser = parse_audio_context)]
    audio_context: Option<AudioContext>,
    /// Print the encoder and decoder times on stderr.
    #[arg(long)]
    timings: bool,
    /// Print the token ids (one line) instead of the text.
    #[arg(long)]
    tokens: bool,
    /// Print {"tokens", "text", "windows"} as JSON ("windows": each 30 s window's tokens).
    #[arg(long)]
    json: bool,
}

/// `--audio-context`: encoder positions per window.
#[derive(Clone, Copy, Debug)]
pub enum AudioContext {
    /// The fewest positions that cover the audio of each window.
    Auto,
    /// This many positions.
    Positions(usize),
}

fn parse_audio_context(text: &str) -> Result<AudioContext, String> {
    match text {
        "auto" => Ok(AudioContext::Auto),
        _ => match text.parse::<usize>() {
            Ok(n) if n > 0 => Ok(AudioContext::Positions(n)),
            _ => Err(format!(
                "`{text}`: give a number of positions (at least 1) or `auto`"
            )),
        },
    }
}

pub fn run(
    Args {
        model,
        wav,
        mel,
        beam,
        alpha,
        prompt,
        max_len,
        tokenizer,
        frames: first_frames,
        audio_context,
        timings,
        tokens: print_tokens,
        json,
    }: Args,
) -> Result<()> {
    let file = ModelFile::read(&model)?;
    let m = file.model()?;
    let dims = m.config().dims;
    let bins = dims.stem_channels;
    ensure!(
        bins > 0,
        "{} has no convolution stem: not a Whisper model",
        model.display()
    );
    // Feature frames of audio (the clip's `samples / 160`, or the spectrogram's).
    let audio_frames;
    let mut windows = match (&wav, &mel) {
        (Some(path), _) => {
            let samples = wav::read_16k_mono(path)?;
            audio_frames = samples.len() / picoformer::audio::HOP_LENGTH;
            wav::mel_windows(&samples, bins).with_context(|| format!("{}", path.display()))?
        }
        (None, Some(path)) => {
            let frames = pretrained::mel_frames(path, bins)?;
            // The stem halves the frames into the encoder's positions.
            let most = dims.max_src_len.saturating_mul(2);
            ensure!(
                frames.len() / bins <= most,
                "{}: {} frames; the model reads at most {most} (one 30 s window): cut the spectrogram, or give the audio with --wav, which is read window by window",
                path.display(),
                frames.len() / bins
            );
            audio_frames = frames.len() / bins;
            vec![frames]
        }
        (None, None) => anyhow::bail!("give --wav or --mel"),
    };
    if let Some(n) = first_frames {
        ensure!(n > 0, "--frames must be at least 1");
        for window in &mut windows {
            window.truncate(n.saturating_mul(bins));
        }
    }
    if let Some(context) = audio_context {
        let most = dims.max_src_len;
        for (w, window) in windows.iter_mut().enumerate() {
            let positions = match context {
                AudioContext::Positions(n) => {
                    ensure!(
                        n <= most,
                        "--audio-context {n}: the model's encoder has {most} positions"
                    );
                    n
                }
                AudioContext::Auto => {
                    let frames_here = audio_frames
                        .saturating_sub(w * picoformer::audio::FRAMES_30S)
                        .min(window.len() / bins);
                    frames_here.div_ceil(2).clamp(1, most)
                }
            };
            window.truncate(positions.saturating_mul(2).saturating_mul(bins));
        }
    }
    // Read before the (slow) decoding, so that a bad tokenizer fails at once.
    let tokenizer = match tokenizer {
        Some(path) => Some(load_tokenizer(&path)?),
        None => {
            let sidecar = tokenizer_sidecar(&model);
            if sidecar.exists() {
                Some(load_tokenizer(&sidecar)?)
            } else {
                eprintln!(
                    "note: no tokenizer ({} is absent and no --tokenizer given), so token ids only",
                    sidecar.display()
                );
                None
            }
        }
    };
    let prompt = prompt.unwrap_or_else(|| pretrained::whisper_prompt(&m));
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
    let mut window_tokens = Vec::with_capacity(windows.len());
    for frames in &windows {
        let source = Source::Frames(frames);
        let tokens = decode(&m, &source, &prompt, max_len, &decoding)?
            .into_iter()
            .next()
            .map(|(tokens, _score)| tokens)
            .unwrap_or_default();
        window_tokens.push(tokens);
    }
    let elapsed = start.elapsed();
    let tokens: Vec<u32> = window_tokens.concat();
    if timings {
        let mut out = vec![0f32; dims.max_src_len * dims.d_model];
        let mut scratch = scratch(m.encode_scratch_bytes())?;
        let start = Instant::now();
        m.encode_source(
            &Source::Frames(&windows[0]),
            &mut out,
            scratch.as_mut_slice(),
        )?;
        let encoder = start.elapsed();
        eprintln!(
            "timings: encoder {:.3} s per window, {} window(s) + {} tokens {:.3} s",
            encoder.as_secs_f64(),
            windows.len(),
            tokens.len(),
            elapsed.as_secs_f64()
        );
    }
    let text = match &tokenizer {
        Some(tokenizer) => Some(
            tokenizer
                .decode(&tokens, true)
                .map_err(anyhow::Error::msg)?,
        ),
        None => None,
    };
    if json {
        outln!(
            "{}",
            json!({ "tokens": tokens, "text": text, "windows": window_tokens })
        );
    } else {
        match text {
            Some(text) if !print_tokens => outln!("{}", text.trim()),
            _ => outln!("{tokens:?}"),
        }
    }
    Ok(())
}
