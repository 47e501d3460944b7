#![no_main]
//! Fuzz target `hf_llama`: see `picoformer_fuzz::targets::hf_llama`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| picoformer_fuzz::targets::hf_llama(data));
