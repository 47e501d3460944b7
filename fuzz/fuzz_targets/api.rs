#![no_main]
//! Fuzz target `api`: see `picoformer_fuzz::targets::api`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picoformer_fuzz::targets::api(data));
