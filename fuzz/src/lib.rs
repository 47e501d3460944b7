//! The fuzz targets' bodies (see `targets.rs`), as a library the target binaries call.
pub mod targets;
