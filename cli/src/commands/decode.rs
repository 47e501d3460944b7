//! `picoformer decode`: greedy decoding or beam search of a token sequence.

use super::{decode, Decoding, ModelFile};
use anyhow::{bail, Result};
use picoformer::{BeamParams, Source};
use serde_json::json;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
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
}

pub fn run(
    Args {
        model,
        src,
        beam,
        top,
        alpha,
        max_len,
        json,
    }: Args,
) -> Result<()> {
    let file = ModelFile::read(&model)?;
    let m = file.model()?;
    let max_len = max_len.unwrap_or(m.config().dims.max_tgt_len);
    let decoding = match beam {
        None => {
            if top.is_some() || alpha.is_some() {
                bail!("--top and --alpha need --beam");
            }
            Decoding::Greedy
        }
        Some(beam) => Decoding::Beam(BeamParams {
            beam,
            top: top.unwrap_or(1),
            alpha: alpha.unwrap_or(0.6),
            max_len,
        }),
    };
    let bos = m.config().bos_id;
    let hypotheses = decode(&m, &Source::Tokens(&src), &[bos], max_len, &decoding)?;
    if json {
        let list: Vec<_> = hypotheses
            .iter()
            .map(|(tokens, score)| json!({"tokens": tokens, "score": score}))
            .collect();
        outln!("{}", json!({ "hypotheses": list }));
    } else {
        for (tokens, score) in &hypotheses {
            let text: Vec<String> = tokens.iter().map(u32::to_string).collect();
            outln!("{score:>10.4}  {}", text.join(","));
        }
    }
    Ok(())
}
