//! `picoformer dates`: the bundled date model (tools/dates/train.py), or another date
//! model blob, normalising phrases to ISO dates.

use super::{scratch, ModelFile};
use anyhow::{Context, Result};
use picoformer::dates::{self, Search};
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
}

pub fn run(
    Args {
        phrases,
        beam,
        model,
    }: Args,
) -> Result<()> {
    let file = match &model {
        Some(path) => ModelFile::read(path)?,
        None => bundled(),
    };
    let m = file.model()?;
    let (search, bytes) = match beam {
        None => (Search::Greedy, m.greedy_scratch_bytes()),
        Some(b) => (Search::Beam(b), m.beam_scratch_bytes(b)),
    };
    let mut scratch = scratch(bytes)?;
    let mut src = vec![0u32; m.config().dims.max_src_len];
    for phrase in &phrases {
        let date = dates::normalise(&m, phrase, search, &mut src, scratch.as_mut_slice())
            .with_context(|| format!("normalising {phrase:?}"))?;
        outln!("{date}  <-  {phrase}");
    }
    Ok(())
}
