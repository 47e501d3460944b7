//! The subcommands, one module each, and what they share: reading and validating a model
//! blob, sizing scratch buffers, and decoding greedily or with beam search.

pub mod attention;
pub mod bench;
pub mod convert;
pub mod dates;
pub mod decode;
#[cfg(feature = "pretrained")]
pub mod embed;
pub mod forward;
pub mod generate;
pub mod info;
#[cfg(feature = "pretrained")]
pub mod transcribe;

use anyhow::{Context, Result};
use picoformer::{BeamParams, Model, Source};
use picoformer_cli::AlignedBytes;
use std::path::{Path, PathBuf};

/// A model blob in 16-byte aligned memory: read from a file, or built into the binary.
pub enum ModelFile {
    /// Read from `path` (which the error messages name).
    Read { blob: AlignedBytes, path: PathBuf },
    /// Built into the binary; `name` says which model in the error messages.
    Bundled {
        blob: &'static [u8],
        name: &'static str,
    },
}

impl ModelFile {
    /// Reads the model file at `path` (not yet validated: see [`ModelFile::model`]).
    pub fn read(path: &Path) -> Result<Self> {
        let blob = picoformer_cli::read_model_file(path)
            .with_context(|| format!("reading {}", path.display()))?;
        Ok(ModelFile::Read {
            blob,
            path: path.to_path_buf(),
        })
    }

    /// The blob's bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            ModelFile::Read { blob, .. } => blob.as_slice(),
            ModelFile::Bundled { blob, .. } => blob,
        }
    }

    /// The validated model, borrowing the blob.
    pub fn model(&self) -> Result<Model<'_>> {
        Model::from_blob(self.bytes()).with_context(|| match self {
            ModelFile::Read { path, .. } => format!("loading {}", path.display()),
            ModelFile::Bundled { name, .. } => format!("loading {name}"),
        })
    }
}

/// A zeroed, 16-byte aligned scratch buffer of the size the engine computed for a call
/// (`Model::*_scratch_bytes`).
pub fn scratch(bytes: picoformer::Result<usize>) -> Result<AlignedBytes> {
    Ok(picoformer_cli::scratch(bytes?))
}

/// How to decode.
pub enum Decoding {
    /// One hypothesis, the most likely token at each step.
    Greedy,
    /// Beam search.
    Beam(BeamParams),
}

/// Decodes `source` after the decoder `prompt`, at most `max_len` tokens (beam search
/// reads its limit from its parameters), with a scratch buffer sized for the search:
/// the hypotheses found (one for greedy decoding) with their scores, best first.
///
/// The request is checked by the engine's own rules before anything is allocated: the
/// length by [`Model::check_decoding`], the beam size by `Model::beam_scratch_bytes_for_len`;
/// the scratch is sized for the request's positions, not the model's `max_tgt_len`.
pub fn decode(
    m: &Model,
    source: &Source,
    prompt: &[u32],
    max_len: usize,
    decoding: &Decoding,
) -> Result<Vec<(Vec<u32>, f32)>> {
    match decoding {
        Decoding::Greedy => {
            m.check_decoding(prompt, max_len)?;
            let mut scratch = scratch(m.greedy_scratch_bytes_for_len(prompt.len(), max_len))?;
            let mut out = vec![0u32; max_len];
            let greedy =
                m.greedy_with(source, prompt, max_len, &mut out, scratch.as_mut_slice())?;
            out.truncate(greedy.len);
            Ok(vec![(out, greedy.score)])
        }
        Decoding::Beam(params) => {
            m.check_decoding(prompt, params.max_len)?;
            let mut scratch =
                scratch(m.beam_scratch_bytes_for_len(params.beam, prompt.len(), params.max_len))?;
            let found = m.beam_search_with(source, prompt, params, scratch.as_mut_slice())?;
            Ok(found.iter().map(|h| (h.tokens.to_vec(), h.score)).collect())
        }
    }
}
