//! `picoformer generate`: continue a prompt with a decoder-only language model.
//!
//! The prompt (token ids; it should start with bos) is fed, then `--steps` tokens are
//! generated, stopping early only at the model's eos id. Temperature 0 is greedy decoding
//! (the most likely token, ties to the lowest id), through the same search code as
//! `decode`.

use super::{decode, Decoding, ModelFile};
use anyhow::{bail, ensure, Result};
use picoformer::Source;
use serde_json::json;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    model: PathBuf,
    /// Prompt token ids, comma separated (llama: starting with bos = 1).
    #[arg(long, value_delimiter = ',', required = true)]
    prompt_tokens: Vec<u32>,
    /// Tokens to generate (fewer when eos comes first); default: up to the model's
    /// sequence length.
    #[arg(long)]
    steps: Option<usize>,
    /// Sampling temperature; 0 (the default) is greedy decoding, the only one so far.
    #[arg(long, default_value_t = 0.0)]
    temperature: f32,
    /// Print `{"tokens": [...], "text": null}` (the generated ids after the prompt; text
    /// needs a tokenizer, not supported yet).
    #[arg(long)]
    json: bool,
}

pub fn run(
    Args {
        model,
        prompt_tokens,
        steps,
        temperature,
        json,
    }: Args,
) -> Result<()> {
    if temperature != 0.0 {
        bail!("--temperature {temperature}: only greedy decoding (temperature 0) is implemented");
    }
    let file = ModelFile::read(&model)?;
    let m = file.model()?;
    let dims = &m.config().dims;
    ensure!(
        !m.config().has_encoder(),
        "generate needs a decoder-only model; this one has an encoder (use decode)"
    );
    // The prompt and every generated token but the last are fed: p + steps - 1 <= T.
    let room = (dims.max_tgt_len + 1).saturating_sub(prompt_tokens.len());
    let steps = steps.unwrap_or(room);
    let found = decode(
        &m,
        &Source::Tokens(&[]),
        &prompt_tokens,
        steps,
        &Decoding::Greedy,
    )?;
    let tokens = found.into_iter().next().map(|(t, _)| t).unwrap_or_default();
    if json {
        println!("{}", json!({ "tokens": tokens, "text": null }));
    } else {
        let ids: Vec<String> = tokens.iter().map(u32::to_string).collect();
        println!("{}", ids.join(" "));
    }
    Ok(())
}
