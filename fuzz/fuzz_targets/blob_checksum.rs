#![no_main]
//! Fuzz target `blob_checksum`: see `picoformer_fuzz::targets::blob_checksum`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picoformer_fuzz::targets::blob_checksum(data));
