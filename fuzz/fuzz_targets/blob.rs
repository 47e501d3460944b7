#![no_main]
//! Fuzz target `blob`: see `picoformer_fuzz::targets::blob`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picoformer_fuzz::targets::blob(data));
