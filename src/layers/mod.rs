//! The building blocks of `docs/spec.md` ("Layers"), one file each, shared by the encoder
//! and the decoder and by every model shape (static or runtime): the only model code there
//! is.

pub(crate) mod attention;
pub(crate) mod embedding;
pub(crate) mod feed_forward;
#[cfg(feature = "llama")]
pub(crate) mod llama;
pub(crate) mod stem;
pub(crate) mod sublayer;
