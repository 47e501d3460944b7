//! `picoformer generate`: continue a prompt with a decoder-only language model.
//!
//! The prompt (token ids; it should start with bos) is fed, then `--steps` tokens are
//! generated, stopping early only at the model's eos id. Temperature 0 is greedy decoding
//! (the most likely token, ties to the lowest id); otherwise each token is drawn with
//! llama2.c's sampler (`--top-p`, `--seed`: the engine's `Model::sample_with`).

use super::{scratch, ModelFile};
use anyhow::{bail, ensure, Context, Result};
use picoformer::{SamplingParams, Source};
use picoformer_cli::llama2c_tokenizer::Tokenizer;
use picoformer_cli::text_stream::Utf8Stream;
use serde_json::json;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    model: PathBuf,
    /// Prompt token ids, comma separated (llama: starting with bos = 1).
    #[arg(
        long,
        value_delimiter = ',',
        required_unless_present = "prompt",
        conflicts_with = "prompt"
    )]
    prompt_tokens: Vec<u32>,
    /// Prompt text, encoded with --tokenizer (bos first, as llama2.c's run.c).
    #[arg(long)]
    prompt: Option<String>,
    /// llama2.c's tokenizer.bin: encodes --prompt and decodes the generated tokens.
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// Tokens to generate (fewer when eos comes first); default: up to the model's
    /// sequence length.
    #[arg(long)]
    steps: Option<usize>,
    /// Sampling temperature; 0 (the default) is greedy decoding.
    #[arg(long, default_value_t = 0.0)]
    temperature: f32,
    /// Nucleus sampling: draw from the most likely tokens whose probabilities first
    /// exceed this in sum; 1 (or <= 0) draws from all (llama2.c's default 0.9).
    #[arg(long, default_value_t = 0.9)]
    top_p: f32,
    /// Seed of the generator (not 0): the same seed gives the same tokens.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Print `{"tokens": [...], "text": ...}`: the generated ids after the prompt, and
    /// their text (null without --tokenizer).
    #[arg(long)]
    json: bool,
}

pub fn run(
    Args {
        model,
        prompt_tokens,
        prompt,
        tokenizer,
        steps,
        temperature,
        top_p,
        seed,
        json,
    }: Args,
) -> Result<()> {
    let file = ModelFile::read(&model)?;
    let m = file.model()?;
    let dims = &m.config().dims;
    let tokenizer = match &tokenizer {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            Some(
                Tokenizer::parse(&bytes, dims.tgt_vocab)
                    .with_context(|| format!("reading {}", path.display()))?,
            )
        }
        None => None,
    };
    let prompt_tokens = match (&prompt, &tokenizer) {
        (Some(text), Some(t)) => t.encode(text)?,
        (Some(_), None) => bail!("--prompt needs --tokenizer (or give --prompt-tokens)"),
        (None, _) => prompt_tokens,
    };
    ensure!(
        !m.config().has_encoder(),
        "generate needs a decoder-only model; this one has an encoder (use decode)"
    );
    // The prompt and every generated token but the last are fed: p + steps - 1 <= T.
    let room = (dims.max_tgt_len + 1).saturating_sub(prompt_tokens.len());
    let steps = steps.unwrap_or(room);
    let params = SamplingParams {
        temperature,
        top_p,
        seed,
    };
    // Checked before `tokens` is allocated for it.
    m.check_decoding(&prompt_tokens, steps)?;
    let mut scratch = scratch(m.sample_scratch_bytes_for_len(prompt_tokens.len(), steps))?;
    let mut tokens = vec![0u32; steps];
    let last = prompt_tokens.last().copied().unwrap_or(0);
    // Without --json each token is printed as soon as it is drawn: its text with a
    // tokenizer (whole characters only, see Utf8Stream), else its id.
    let mut prev = last;
    let mut printed = 0usize;
    let mut stream = Utf8Stream::default();
    let mut decode_error = None;
    let mut print_token = |token: u32| {
        if json || decode_error.is_some() {
            return;
        }
        match &tokenizer {
            Some(t) => match t.decode(prev, token) {
                Ok(bytes) => crate::write_stdout_now(&stream.push(&bytes)),
                Err(e) => decode_error = Some(e),
            },
            None if printed == 0 => crate::write_stdout_now(&token.to_string()),
            None => crate::write_stdout_now(&format!(" {token}")),
        }
        prev = token;
        printed += 1;
    };
    let done = m.sample_streaming(
        &Source::Tokens(&[]),
        &prompt_tokens,
        steps,
        &params,
        &mut tokens,
        scratch.as_mut_slice(),
        &mut print_token,
    )?;
    tokens.truncate(done.len);
    if let Some(e) = decode_error {
        return Err(e);
    }
    if json {
        let text = match &tokenizer {
            Some(t) => Some(t.decode_all(last, &tokens)?),
            None => None,
        };
        outln!("{}", json!({ "tokens": tokens, "text": text }));
    } else {
        outln!("{}", stream.finish());
    }
    Ok(())
}
