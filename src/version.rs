//! The weights-blob format version, in a module of its own: the blob reader checks it and
//! the error type quotes it, and neither needs the other to know it.

/// The blob format version this build reads and writes (re-exported as
/// [`blob::VERSION`](crate::blob::VERSION)).
pub(crate) const BLOB_VERSION: u32 = 4;

/// The oldest blob format version this build reads (re-exported as
/// [`blob::MIN_VERSION`](crate::blob::MIN_VERSION)): version 4 added the checksums, so
/// older blobs cannot be verified and are refused (convert the model again).
pub(crate) const MIN_BLOB_VERSION: u32 = 4;
