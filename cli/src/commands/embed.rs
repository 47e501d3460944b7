//! `picoformer embed`: a sentence embedding from an encoder-only model.

use super::ModelFile;
use anyhow::Result;
use picoformer_cli::pretrained::{self, load_tokenizer};
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
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
}

pub fn run(
    Args {
        model,
        tokenizer,
        text,
        timings,
        json,
    }: Args,
) -> Result<()> {
    let file = ModelFile::read(&model)?;
    let m = file.model()?;
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
        outln!("{}", json!({ "ids": ids, "embedding": embedding }));
    } else {
        outln!("ids: {ids:?}");
        outln!(
            "embedding ({} values): {:?} ...",
            embedding.len(),
            &embedding[..8.min(embedding.len())]
        );
    }
    Ok(())
}
