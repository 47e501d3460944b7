//! How far quantized Whisper blobs move from the f32 blob, over many clips (issue 17's
//! quantization choices): for each clip, the f32 blob's greedy transcript is the
//! teacher-forcing sequence; at every position after the prompt each variant's
//! next-token distribution is compared with f32's: the KL divergence `KL(f32 || variant)`
//! (nats) and whether the variant's argmax is f32's token. The f32 blob itself is held to
//! PyTorch's logits within 1e-4 by `tests/pretrained.rs`.
//!
//! One clip's 13 tokens cannot tell such choices apart: on the pretrained test's audio a
//! 3e-5 relative change of the int8 attention's exponential moves its next-token agreement
//! from 13 to 11 of 13. Hundreds of positions can (`tools/whisper-accuracy.sh` speaks a
//! fixed list of sentences with `espeak-ng` and runs this).
//!
//! `cargo run --release -p picoformer-cli --example whisper_accuracy -- F32.pfm VARIANT.pfm... -- CLIP.wav...`
use anyhow::{bail, Context, Result};
use picoformer::{Model, Source};
use picoformer_cli::{pretrained, scratch, wav, AlignedBytes};
use std::path::Path;

/// Whisper's decoder context (448 positions) less the prompt.
const MAX_TOKENS: usize = 440;

/// Per variant: positions compared, argmax equal to f32's, the KL sum, the clips whose
/// own greedy transcript equals f32's.
#[derive(Default)]
struct Tally {
    positions: usize,
    agree: usize,
    kl: f64,
    clips_equal: usize,
}

fn load(path: &str) -> Result<AlignedBytes> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
    Ok(AlignedBytes::copy_from(&bytes))
}

fn greedy(model: &Model, source: &Source, prompt: &[u32]) -> Result<Vec<u32>> {
    let mut out = vec![0u32; MAX_TOKENS];
    let mut work = scratch(model.greedy_scratch_bytes()?);
    let result = model.greedy_with(source, prompt, MAX_TOKENS, &mut out, work.as_mut_slice())?;
    out.truncate(result.len);
    Ok(out)
}

/// Teacher-forced logits `[tgt.len(), V]`.
fn logits(model: &Model, source: &Source, tgt: &[u32]) -> Result<Vec<f32>> {
    let v = model.config().dims.tgt_vocab;
    let mut out = vec![0.0f32; tgt.len() * v];
    let mut work = scratch(model.forward_scratch_bytes()?);
    model.forward_with(source, tgt, &mut out, work.as_mut_slice())?;
    Ok(out)
}

/// `ln sum exp(row)`.
fn log_sum_exp(row: &[f32]) -> f64 {
    let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    m + row.iter().map(|&x| (x as f64 - m).exp()).sum::<f64>().ln()
}

/// `KL(p || q)` of the softmaxes of two logit rows.
fn kl(p: &[f32], q: &[f32]) -> f64 {
    let (lp, lq) = (log_sum_exp(p), log_sum_exp(q));
    p.iter()
        .zip(q)
        .map(|(&a, &b)| {
            let log_p = a as f64 - lp;
            log_p.exp() * (log_p - (b as f64 - lq))
        })
        .sum()
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(split) = args.iter().position(|a| a == "--") else {
        bail!("usage: whisper_accuracy F32.pfm VARIANT.pfm... -- CLIP.wav...");
    };
    let (blobs, clips) = (&args[..split], &args[split + 1..]);
    if blobs.len() < 2 || clips.is_empty() {
        bail!("usage: whisper_accuracy F32.pfm VARIANT.pfm... -- CLIP.wav...");
    }
    let bytes: Vec<AlignedBytes> = blobs.iter().map(|b| load(b)).collect::<Result<_>>()?;
    let models: Vec<Model> = bytes
        .iter()
        .map(|b| Model::from_blob(b.as_slice()).map_err(anyhow::Error::from))
        .collect::<Result<_>>()?;
    let (reference, variants) = models.split_first().context("no blob")?;
    let prompt = pretrained::whisper_prompt(reference);
    let mut tallies: Vec<Tally> = variants.iter().map(|_| Tally::default()).collect();
    for clip in clips {
        let samples = wav::read_16k_mono(Path::new(clip))?;
        let windows = wav::mel_windows(&samples, 80)?;
        let frames = windows.first().context("no window")?;
        let source = Source::Frames(frames);
        let transcript = greedy(reference, &source, &prompt)?;
        let mut tgt = prompt.clone();
        tgt.extend_from_slice(&transcript[..transcript.len().saturating_sub(1)]);
        let v = reference.config().dims.tgt_vocab;
        let base = logits(reference, &source, &tgt)?;
        // Row `prompt - 1` is the distribution after the whole prompt.
        let skip = prompt.len() - 1;
        for (model, tally) in variants.iter().zip(&mut tallies) {
            let rows = logits(model, &source, &tgt)?;
            for (i, (p, q)) in base.chunks(v).zip(rows.chunks(v)).skip(skip).enumerate() {
                tally.positions += 1;
                tally.kl += kl(p, q);
                let want = transcript.get(i).copied().map(|t| t as usize);
                tally.agree += usize::from(picoformer::kernels::argmax(q) == want);
            }
            tally.clips_equal += usize::from(greedy(model, &source, &prompt)? == transcript);
        }
        eprintln!("{clip}: {} tokens", transcript.len());
    }
    println!("| blob | positions | next token as f32's | mean KL(f32 \u{2016} blob), nats | clips transcribed as f32 |");
    println!("|---|---|---|---|---|");
    for (name, t) in blobs.iter().skip(1).zip(&tallies) {
        let name = Path::new(name)
            .file_name()
            .map_or(name.as_str(), |n| n.to_str().unwrap_or(""));
        println!(
            "| {name} | {} | {:.2} % | {:.2e} | {} of {} |",
            t.positions,
            100.0 * t.agree as f64 / t.positions.max(1) as f64,
            t.kl / t.positions.max(1) as f64,
            t.clips_equal,
            clips.len()
        );
    }
    Ok(())
}
