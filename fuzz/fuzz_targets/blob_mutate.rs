#![no_main]
//! Fuzz target `blob_mutate`: see `picoformer_fuzz::targets::blob_mutate`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picoformer_fuzz::targets::blob_mutate(data));
