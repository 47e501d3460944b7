//! `picoformer dates`: the bundled date model (tools/dates/train.py), or another date
//! model blob, normalising phrases to ISO dates. Each answer is checked
//! (`picoformer::dates::doubt`); a phrase without an answer is an error for that phrase
//! only: the others are still read, and the exit status is 1 at the end.

use super::{scratch, ModelFile};
use anyhow::{bail, Result};
use picoformer::dates::{self, Doubt, Search, FIRST_YEAR, LAST_YEAR, MIN_SCORE};
use serde_json::json;
use std::path::PathBuf;

#[repr(C, align(16))]
struct Aligned<T: ?Sized>(T);
/// The bundled date model, built into the binary.
static DATE_MODEL: &Aligned<[u8]> = &Aligned(*include_bytes!("../../../models/dates/dates.pfm"));

/// The bundled date model, as a [`ModelFile`].
pub fn bundled() -> ModelFile {
    ModelFile::Bundled {
        blob: &DATE_MODEL.0,
        name: "the bundled date model",
    }
}

#[derive(clap::Args)]
pub struct Args {
    /// Phrases, one date each.
    #[arg(required = true)]
    phrases: Vec<String>,
    /// Beam search with this beam size (greedy decoding when absent).
    #[arg(long)]
    beam: Option<usize>,
    /// A date model blob to use instead of the bundled one.
    #[arg(long)]
    model: Option<PathBuf>,
    /// One JSON array: per phrase {"input", "date" or "error", "score"} (the answer's
    /// log-probability; null when the phrase was not read).
    #[arg(long)]
    json: bool,
    /// The least log-probability of an answer that is given (default: the bundled
    /// model's threshold, chosen by tools/dates/threshold.py; see docs/dates.md).
    #[arg(long, allow_hyphen_values = true)]
    min_score: Option<f32>,
}

/// What became of one phrase.
struct Outcome {
    date: Option<String>,
    error: Option<String>,
    score: Option<f32>,
}

pub fn run(
    Args {
        phrases,
        beam,
        model,
        json,
        min_score,
    }: Args,
) -> Result<()> {
    let file = match &model {
        Some(path) => ModelFile::read(path)?,
        None => bundled(),
    };
    let m = file.model()?;
    // Sized for the date's tokens after bos, not the model's `max_tgt_len` (capped by it:
    // a model too short for a date then fails each phrase, as the search refuses it).
    let max_len = dates::MAX_TOKENS.min(m.config().dims.max_tgt_len);
    let (search, bytes) = match beam {
        None => (Search::Greedy, m.greedy_scratch_bytes_for_len(1, max_len)),
        Some(b) => (Search::Beam(b), m.beam_scratch_bytes_for_len(b, 1, max_len)),
    };
    let mut scratch = scratch(bytes)?;
    // The longest phrase the model reads: its source length, at most the tokenizer's.
    let mut src = vec![0u32; m.config().dims.max_src_len.min(MAX_PHRASE_CHARS)];
    let min_score = min_score.unwrap_or(MIN_SCORE);
    let mut failed = 0;
    let mut records = Vec::new();
    for phrase in &phrases {
        let outcome = match dates::normalise(&m, phrase, search, &mut src, scratch.as_mut_slice()) {
            Ok(reading) => match dates::doubt(phrase, &reading.date, reading.score, min_score) {
                None => Outcome {
                    date: Some(reading.date.to_string()),
                    error: None,
                    score: Some(reading.score),
                },
                Some(doubt) => Outcome {
                    date: None,
                    error: Some(doubt_message(
                        phrase,
                        doubt,
                        &reading.date,
                        reading.score,
                        min_score,
                    )),
                    score: Some(reading.score),
                },
            },
            Err(picoformer::Error::EmptySequence) => Outcome {
                date: None,
                error: Some(format!("no date found in {phrase:?} (it is empty)")),
                score: None,
            },
            Err(e) => Outcome {
                date: None,
                error: Some(format!("reading {phrase:?}: {e}")),
                score: None,
            },
        };
        if outcome.error.is_some() {
            failed += 1;
        }
        if json {
            records.push(match (&outcome.date, &outcome.error) {
                (Some(date), _) => json!({"input": phrase, "date": date, "score": outcome.score}),
                (None, error) => json!({"input": phrase, "error": error, "score": outcome.score}),
            });
        } else if let Some(date) = &outcome.date {
            outln!("{date}  <-  {phrase}");
        } else if let Some(error) = &outcome.error {
            eprintln!("error: {error}");
        }
    }
    if json {
        outln!("{}", serde_json::Value::Array(records));
    }
    if failed > 0 {
        bail!(
            "{failed} of {} phrase{} without a date",
            phrases.len(),
            if phrases.len() == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// The tokenizer's longest phrase (`max_src_chars` in models/dates/tokenizer.json); a
/// blob with a longer source reads no more.
const MAX_PHRASE_CHARS: usize = 48;

/// The one-line message of a phrase without an answer.
fn doubt_message(
    phrase: &str,
    doubt: Doubt,
    date: &dates::IsoDate,
    score: f32,
    min: f32,
) -> String {
    match doubt {
        Doubt::OutsideRange => format!("{phrase:?} is outside {FIRST_YEAR}\u{2013}{LAST_YEAR}"),
        Doubt::NoDigit => format!("no date found in {phrase:?} (no year in digits)"),
        Doubt::NotACalendarDate => {
            format!("no date found in {phrase:?} (the model's reading {date:?} is not a calendar date)", date = date.as_str())
        }
        Doubt::NoSuchDay => format!("no date found in {phrase:?} (no such day in the calendar)"),
        Doubt::Unsure => format!(
            "no date found in {phrase:?} (the model is unsure: log-probability {score:.3} of {date} is below {min})"
        ),
    }
}
