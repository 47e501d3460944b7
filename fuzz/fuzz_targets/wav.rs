#![no_main]
//! Fuzz target `wav`: see `picoformer_fuzz::targets::wav`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picoformer_fuzz::targets::wav(data));
