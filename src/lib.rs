//! # picoformer
//!
//! The Transformer of "Attention Is All You Need" as a `no_std`, allocation-free
//! inference kernel, small and strict enough to live inside microcontroller firmware.
//!
//! Data flow: a validated weights blob ([`Model::from_blob`], read in place) → source
//! tokens are embedded and run through the encoder → each decoder layer computes its
//! encoder-decoder keys/values once → the decoder runs one position at a time for every
//! live hypothesis, appending to a key/value cache → logits → greedy choice or beam
//! search. Every byte of working memory is the caller's scratch buffer, whose exact size
//! is a `const fn` ([`greedy_scratch_bytes`], [`beam_scratch_bytes`]).
//!
//! Two ways to hold a model, one implementation of the math:
//! - [`Model`]: runtime-shaped, any blob (host tools, C API).
//! - [`StaticModel`]: the dimensions are const generics, checked at compile time, and a
//!   scratch buffer that is too small is a compile error; `StaticLlama` (feature
//!   `llama`) is the same for the llama family's decoder-only language models.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
// Unsafe code is confined to the C boundary (`ffi`, the one module allowed it); every
// unsafe block there carries a `// SAFETY:` note.
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

#[cfg(feature = "audio")]
pub mod audio;
pub mod blob;
pub mod config;
pub mod dates;
mod decoder;
mod encoder;
pub mod error;
#[cfg(feature = "ffi")]
#[allow(unsafe_code)]
pub mod ffi;
mod layers;
mod model;
pub mod probe;
pub mod scratch;
mod search;
mod sort;
#[cfg(feature = "llama")]
mod static_llama;
mod static_model;
#[cfg(feature = "llama")]
pub mod tokenizer;
mod version;

/// The numerical kernels (scalar reference, SIMD kernels, dispatch).
pub use picoformer_kernels as kernels;

pub use config::{
    Activation, CacheType, Config, Dims, FeedForward, Norm, NormKind, Positional, WeightType,
};
pub use encoder::Source;
pub use error::{BlobRegion, Error, Result};
pub use model::Model;
/// IEEE half precision, the element type of f16 blobs (`half::f16`).
pub use picoformer_kernels::quant::f16;
pub use probe::{AttentionKind, AttentionProbe};
pub use scratch::{
    beam_scratch_bytes, beam_scratch_bytes_for, encode_scratch_bytes, encode_scratch_bytes_for,
    forward_scratch_bytes, forward_scratch_bytes_for, greedy_scratch_bytes,
    greedy_scratch_bytes_for, sample_scratch_bytes_for, Scratch, FFN_ROW_BLOCK, FORWARD_ROW_BLOCK,
    MAX_BEAM,
};
pub use search::{BeamParams, Greedy, Hypotheses, Hypothesis, SamplingParams, ScoredTokens};
#[cfg(feature = "llama")]
pub use static_llama::StaticLlama;
pub use static_model::{StaticModel, WeightElement};
