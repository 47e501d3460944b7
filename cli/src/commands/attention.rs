//! `picoformer attention`: one attention head of a date model as an SVG heatmap, read
//! from the engine's forward pass through an `AttentionProbe`.

use super::{scratch, ModelFile};
use anyhow::{Context, Result};
use picoformer::dates::{self, Search};
use picoformer::{AttentionKind, AttentionProbe, Model};
use picoformer_cli::heatmap::Heatmap;
use std::path::PathBuf;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    /// Encoder self-attention (source over source).
    Encoder,
    /// Masked decoder self-attention (target over target).
    Decoder,
    /// Encoder-decoder attention (target over source).
    Cross,
}

#[derive(clap::Args)]
pub struct Args {
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
}

pub fn run(
    Args {
        model,
        src,
        tgt,
        layer,
        head,
        kind,
        output,
    }: Args,
) -> Result<()> {
    let file = ModelFile::read(&model)?;
    let m = file.model()?;
    let svg = attention_svg(&m, &src, tgt.as_deref(), layer, head, kind)?;
    std::fs::write(&output, svg).with_context(|| format!("writing {}", output.display()))?;
    eprintln!("wrote {}", output.display());
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
            let max_len = dates::MAX_TOKENS.min(dims.max_tgt_len);
            let mut scratch = scratch(m.greedy_scratch_bytes_for_len(1, max_len))?;
            let mut ids = vec![0u32; dims.max_src_len];
            dates::normalise(
                m,
                src_text,
                Search::Greedy,
                &mut ids,
                scratch.as_mut_slice(),
            )?
            // what the model wrote, doubted or not: the heatmap shows how it read
            .date
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
    let mut scratch = scratch(m.forward_scratch_bytes_for_len(tgt.len()))?;
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
