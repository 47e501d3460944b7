//! picoformer's host tools, beside the no_std engine (`picoformer`): the checkpoint
//! converters, the blob writer, the model-file loader, the JSON config format, `.npy`,
//! tokenizer and heatmap glue, shared by the `picoformer` command line, the tests, the
//! fuzz targets and the firmware suite's build script.
#![deny(missing_docs)]

pub mod blob_writer;
pub mod checkpoint;
pub mod config_json;
pub mod convert;
pub mod ct2_whisper;
pub mod heatmap;
pub mod hf_bert;
pub mod hf_llama;
pub mod llama2c;
pub mod llama2c_tokenizer;
#[cfg(feature = "pretrained")]
pub mod npy;
#[cfg(feature = "pretrained")]
pub mod pretrained;
pub mod text_stream;
#[cfg(feature = "wav")]
pub mod wav;

use std::path::Path;

/// Where `picoformer convert` puts the tokenizer of a converted model and
/// `picoformer transcribe` looks for it: `M.pfm.tokenizer.json` beside `M.pfm`. A file
/// beside the blob, not a section in it: the blob is what firmware flashes and validates
/// tensor by tensor, and Whisper's 2 MB `tokenizer.json` is of no use on a target that
/// prints token ids.
pub fn tokenizer_sidecar(model: &Path) -> std::path::PathBuf {
    let mut path = model.as_os_str().to_owned();
    path.push(".tokenizer.json");
    path.into()
}

/// Sixteen bytes on a 16-byte boundary (`u128` is only 8-aligned on some targets).
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C, align(16))]
struct Block([u8; 16]);

/// Bytes with 16-byte alignment, as [`picoformer::Model::from_blob`] and the scratch need.
#[derive(Clone)]
pub struct AlignedBytes {
    blocks: Vec<Block>,
    len: usize,
}

impl AlignedBytes {
    /// `len` zero bytes.
    pub fn zeroed(len: usize) -> Self {
        AlignedBytes {
            blocks: vec![Block([0; 16]); len.div_ceil(16)],
            len,
        }
    }

    /// A 16-byte aligned copy of `bytes`.
    pub fn copy_from(bytes: &[u8]) -> Self {
        let mut out = Self::zeroed(bytes.len());
        out.as_mut_slice().copy_from_slice(bytes);
        out
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &bytemuck::cast_slice(&self.blocks)[..self.len]
    }

    /// The bytes, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut(&mut self.blocks)[..self.len]
    }
}

/// Reads a model file into aligned memory (validate it with [`picoformer::Model::from_blob`]),
/// with a progress bar on a terminal for big files.
pub fn read_model_file(path: &Path) -> std::io::Result<AlignedBytes> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let len = usize::try_from(file.metadata()?.len())
        .map_err(|_| std::io::Error::other("model file larger than memory"))?;
    let mut out = AlignedBytes::zeroed(len);
    let progress = progress_bar(len as u64, "loading");
    for chunk in out.as_mut_slice().chunks_mut(1 << 22) {
        file.read_exact(chunk)?;
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    Ok(out)
}

/// A scratch buffer of exactly `bytes` bytes, 16-byte aligned.
pub fn scratch(bytes: usize) -> AlignedBytes {
    AlignedBytes::zeroed(bytes)
}

/// A progress bar on stderr for a long load or conversion of `len` steps (drawn only
/// when stderr is a terminal).
pub fn progress_bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg:>12} [{bar:40}] {percent:>3}% {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}
