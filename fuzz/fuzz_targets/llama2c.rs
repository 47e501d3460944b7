#![no_main]
//! Fuzz target `llama2c`: see `picoformer_fuzz::targets::llama2c`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picoformer_fuzz::targets::llama2c(data));
