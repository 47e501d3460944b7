#![no_main]
//! Fuzz target `convert`: see `picoformer_fuzz::targets::convert`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picoformer_fuzz::targets::convert(data));
