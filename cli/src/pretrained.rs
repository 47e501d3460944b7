//! The host pipelines around the engine for pretrained models: tokenization and mean
//! pooling for sentence embeddings (BERT / MiniLM), log-mel input and prompts for
//! speech recognition (Whisper).

use crate::npy;
use anyhow::{ensure, Context};
use picoformer::Model;
use std::path::Path;

/// A Hugging Face `tokenizer.json` with padding turned off (the MiniLM one pads to 128
/// tokens otherwise, which silently changes the mean pooling).
pub fn load_tokenizer(path: &Path) -> anyhow::Result<tokenizers::Tokenizer> {
    let mut tokenizer = tokenizers::Tokenizer::from_file(path)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("reading {}", path.display()))?;
    tokenizer.with_padding(None);
    Ok(tokenizer)
}

/// Token ids of `text`, with the special tokens (`[CLS] ... [SEP]` for BERT).
pub fn tokenize(tokenizer: &tokenizers::Tokenizer, text: &str) -> anyhow::Result<Vec<u32>> {
    let encoding = tokenizer.encode(text, true).map_err(anyhow::Error::msg)?;
    Ok(encoding.get_ids().to_vec())
}

/// Sentence embedding as sentence-transformers computes it: the mean of the encoder
/// output over the tokens, then L2-normalised. `[D]`.
pub fn sentence_embedding(model: &Model, ids: &[u32]) -> anyhow::Result<Vec<f32>> {
    let d = model.config().dims.d_model;
    let mut out = vec![0f32; ids.len() * d]; // [n, D] encoder output
    let mut scratch = super::scratch(model.encode_scratch_bytes()?);
    model.encode(ids, &mut out, scratch.as_mut_slice())?;
    let mut mean = vec![0f32; d]; // [D]
    for row in out.chunks_exact(d) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v;
        }
    }
    for m in &mut mean {
        *m /= ids.len() as f32;
    }
    let norm = mean.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
    Ok(mean.into_iter().map(|v| v / norm).collect())
}

/// Cosine similarity of two vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

/// A log-mel spectrogram `.npy` as the engine's time-major frames `[frames, bins]`:
/// Whisper's layout `[bins, frames]`, or `[1, bins, frames]` as Hugging Face's
/// `WhisperFeatureExtractor` writes it (a batch of one); `bins` must be the model's
/// `stem_channels`.
pub fn mel_frames(path: &Path, bins: usize) -> anyhow::Result<Vec<f32>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let array = npy::read_npy(&bytes).with_context(|| format!("reading {}", path.display()))?;
    mel_array_frames(&array, bins).with_context(|| format!("{}", path.display()))
}

/// [`mel_frames`] of an array already read.
pub fn mel_array_frames(array: &npy::Array, bins: usize) -> anyhow::Result<Vec<f32>> {
    let (rows, frames) = match array.shape[..] {
        [rows, frames] | [1, rows, frames] => (rows, frames),
        [batch, _, _] => anyhow::bail!(
            "shape {:?} is a batch of {batch} spectrograms; give one ([1, mel bins, frames] or [mel bins, frames])",
            array.shape
        ),
        _ => anyhow::bail!(
            "shape {:?}, expected [mel bins, frames] or [1, mel bins, frames]",
            array.shape
        ),
    };
    ensure!(
        rows == bins,
        "{rows} mel bins (shape {:?}), the model's stem reads {bins}",
        array.shape
    );
    ensure!(frames > 0, "no frames (shape {:?})", array.shape);
    ensure!(
        rows.checked_mul(frames) == Some(array.data.len()),
        "{} values for shape {:?}",
        array.data.len(),
        array.shape
    );
    let mut out = vec![0f32; rows * frames]; // [frames, bins]
    for (bin, row) in array.data.chunks_exact(frames).enumerate() {
        for (frame, &v) in row.iter().enumerate() {
            out[frame * bins + bin] = v;
        }
    }
    Ok(out)
}

/// Whisper's transcription prompt: `<|startoftranscript|><|en|><|transcribe|>
/// <|notimestamps|>` for multilingual models (`50258, 50259, 50359, 50363`), or
/// `<|startoftranscript|><|notimestamps|>` for English-only ones (`50257, 50362`).
pub fn whisper_prompt(model: &Model) -> Vec<u32> {
    let sot = model.config().bos_id;
    if model.config().dims.tgt_vocab >= 51865 {
        vec![sot, sot + 1, sot + 101, sot + 105]
    } else {
        vec![sot, sot + 105]
    }
}
