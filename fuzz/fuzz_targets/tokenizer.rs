#![no_main]
//! Fuzz target `tokenizer`: see `picoformer_fuzz::targets::tokenizer`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picoformer_fuzz::targets::tokenizer(data));
