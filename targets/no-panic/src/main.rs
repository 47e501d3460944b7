//! A firmware image that calls every public entry of the engine, for the link-time
//! no-panic proof (see `Cargo.toml`).
//!
//! Every input comes through [`core::hint::black_box`], so the optimiser knows nothing
//! about the blob, the tokens, the lengths or the buffers: a panic path it keeps is one
//! some input reaches. The panic handler calls `picoformer_panic_is_reachable`, which no
//! library defines: if any panic path survives, the link fails with that name.
#![no_std]
#![no_main]
// Every result goes to `black_box`: what matters is the code that computes it.
#![allow(unused_must_use)]

use core::hint::black_box;
use picoformer::ffi::*;
use picoformer::{BeamParams, Model, Scratch, Source, StaticModel};

extern "C" {
    /// Defined nowhere, on purpose.
    fn picoformer_panic_is_reachable() -> !;
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: never called when the proof holds; when it does not, the link fails before
    // anything can run.
    unsafe { picoformer_panic_is_reachable() }
}

#[repr(C, align(16))]
struct Aligned<const N: usize>([u8; N]);

/// Stand-in for a blob in flash: its contents are unknown to the optimiser.
static BLOB: Aligned<4096> = Aligned([0; 4096]);

/// A small statically shaped model.
type Net = StaticModel<'static, 8, 2, 16, 1, 1, 11, 13, 6, 5>;
/// The same shape with int8 weight matrices (the int8 activation buffer in its scratch).
type Net8 = StaticModel<'static, 8, 2, 16, 1, 1, 11, 13, 6, 5, i8>;

fn tokens(buf: &[u32; 8]) -> &[u32] {
    let len = black_box(buf.len()).min(buf.len());
    black_box(buf.get(..len).unwrap_or(&[]))
}

fn rust_api(scratch: &mut [u8]) {
    let blob: &[u8] = black_box(&BLOB.0[..]);
    let src_buf = black_box([3u32; 8]);
    let tgt_buf = black_box([1u32; 8]);
    let (src, tgt) = (tokens(&src_buf), tokens(&tgt_buf));
    // Both loaders: with the checksums (CRC-32C) and without (a verified image).
    black_box(Model::from_verified_blob(blob).is_ok());
    black_box(picoformer::blob::compute_checksums(blob).is_ok());
    let Ok(model) = Model::from_blob(blob) else {
        return;
    };
    black_box(model.config());
    black_box(model.parameter_count());
    black_box(model.greedy_scratch_bytes());
    black_box(model.forward_scratch_bytes());
    black_box(model.encode_scratch_bytes());
    black_box(model.beam_scratch_bytes(black_box(4)));

    let mut out = [0f32; 256];
    let out_len = black_box(out.len());
    black_box(model.encode(src, out.get_mut(..out_len).unwrap_or(&mut []), scratch));
    black_box(model.forward(src, tgt, &mut out, scratch));

    let mut tokens_out = [0u32; 16];
    let max_len = black_box(16);
    black_box(model.greedy(src, max_len, &mut tokens_out, scratch));

    let params = BeamParams {
        beam: black_box(4),
        top: black_box(2),
        alpha: black_box(0.6),
        max_len: black_box(16),
    };
    // The pretrained models' entries: vector and frame sources, a decoder prefix.
    let vectors_buf = black_box([0.5f32; 64]);
    let len = black_box(vectors_buf.len());
    let input = vectors_buf.get(..len).unwrap_or(&[]);
    for source in [
        Source::Tokens(src),
        Source::Vectors(input),
        Source::Frames(input),
    ] {
        black_box(model.encode_source(&source, &mut out, scratch));
        black_box(model.greedy_with(&source, tgt, max_len, &mut tokens_out, scratch));
        if let Ok(found) = model.beam_search_with(&source, tgt, &params, scratch) {
            black_box(found.get(black_box(0)));
        }
    }
    if let Ok(found) = model.beam_search(src, &params, scratch) {
        black_box(found.len());
        black_box(found.is_empty());
        black_box(found.get(black_box(1)));
        for h in found.iter() {
            black_box(h.tokens);
            black_box(h.score);
        }
    }
}

fn static_api() {
    let blob: &'static [u8] = black_box(&BLOB.0[..]);
    let src_buf = black_box([3u32; 8]);
    let src = tokens(&src_buf);
    let Ok(net) = Net::from_blob(blob) else {
        return;
    };
    black_box(net.model());
    black_box(net.src_embedding());
    black_box(net.tgt_embedding());
    let mut scratch = Scratch::<{ Net::beam_scratch_bytes(3) }>::new();
    let mut out = [[0f32; 8]; 6];
    black_box(net.encode(src, &mut out, &mut scratch));
    let mut logits = [[0f32; 13]; 5];
    black_box(net.forward(src, src, &mut logits, &mut scratch));
    let mut tokens_out = [0u32; 5];
    black_box(net.greedy(src, black_box(5), &mut tokens_out, &mut scratch));
    if let Ok(found) = net.beam_search::<3, _>(src, black_box(2), black_box(0.0), 5, &mut scratch) {
        for h in found.iter() {
            black_box(h.tokens);
        }
    }
    if let Ok(net) = Net8::from_blob(blob) {
        let mut scratch = Scratch::<{ Net8::GREEDY_SCRATCH_BYTES }>::new();
        let mut tokens_out = [0u32; 5];
        black_box(net.greedy(src, black_box(5), &mut tokens_out, &mut scratch));
    }
}

/// The llama family's firmware entries: `StaticLlama` generation, the llama2.c tokenizer
/// read in place, and the `heapless` outputs, on a file and lengths the optimiser cannot
/// see.
fn llama_api() {
    use picoformer::tokenizer::{index_len, Llama2cTokenizer};
    use picoformer::{SamplingParams, StaticLlama};
    type Llama = StaticLlama<'static, 8, 2, 1, 12, 1, 13, 6>;
    let blob: &'static [u8] = black_box(&BLOB.0[..]);
    let prompt_buf = black_box([1u32; 8]);
    let prompt = tokens(&prompt_buf);
    let params = SamplingParams {
        temperature: black_box(0.8),
        top_p: black_box(0.9),
        seed: black_box(7),
    };
    if let Ok(net) = Llama::from_blob(blob) {
        let mut scratch = Scratch::<{ Llama::SAMPLE_SCRATCH_BYTES }>::new();
        let mut out = [0u32; 6];
        black_box(net.greedy(prompt, black_box(5), &mut out, &mut scratch));
        black_box(net.generate(prompt, black_box(5), &params, &mut out, &mut scratch));
        black_box(net.generate_vec::<6, _>(prompt, black_box(5), &params, &mut scratch));
    }
    if let Ok(net) = Net::from_blob(blob) {
        let mut scratch = Scratch::<{ Net::beam_scratch_bytes(3) }>::new();
        black_box(net.greedy_vec(prompt, black_box(5), &mut scratch));
        black_box(net.beam_search_top::<3, 2, _>(prompt, black_box(0.6), 5, &mut scratch));
    }
    let mut index = [0u32; 26];
    let index_words = black_box(index_len(13).unwrap_or(0));
    let index = index.get_mut(..index_words).unwrap_or(&mut []);
    let file: &[u8] = black_box(&BLOB.0[..]);
    if let Ok(tokenizer) = Llama2cTokenizer::new(file, black_box(13), index) {
        let text_buf = black_box(*b"once upon a time");
        let text_len = black_box(16).min(text_buf.len());
        let text = core::str::from_utf8(text_buf.get(..text_len).unwrap_or(&[])).unwrap_or("");
        let mut encoded = [0u32; 18];
        black_box(tokenizer.encode(text, &mut encoded));
        black_box(tokenizer.decode(black_box(1), black_box(5)));
        let mut bytes = [0u8; 32];
        black_box(tokenizer.decode_into(black_box(1), prompt, &mut bytes));
        black_box(tokenizer.decode_text::<32>(black_box(1), prompt));
        black_box(tokenizer.score(black_box(4)));
    }
}

/// The log-mel front end on samples, frame and mel counts the optimiser cannot see.
fn audio_api() {
    use picoformer::audio::{log_mel_scratch_len, log_mel_spectrogram, mel_filterbank};
    let samples_buf = black_box([0.25f32; 480]);
    let samples = samples_buf.get(..black_box(480)).unwrap_or(&[]);
    let mut scratch = [0f32; log_mel_scratch_len(128)];
    let mut out = [0f32; 128 * 4];
    let out_len = black_box(out.len());
    black_box(log_mel_spectrogram(
        samples,
        black_box(3),
        black_box(80),
        out.get_mut(..out_len).unwrap_or(&mut []),
        black_box(&mut scratch[..]),
    ));
    black_box(mel_filterbank(black_box(128), black_box(&mut out[..])));
}

/// The C API, with pointers and lengths the optimiser cannot see through.
fn c_api(scratch: &mut [u8]) {
    let mut model = core::mem::MaybeUninit::<pf_model>::uninit();
    let m = black_box(model.as_mut_ptr());
    let blob = black_box(BLOB.0.as_ptr());
    let scratch_len = black_box(scratch.len());
    let scratch = black_box(scratch.as_mut_ptr().cast::<core::ffi::c_void>());
    let src = black_box([3u32; 8]);
    let (src_ptr, src_len) = (black_box(src.as_ptr()), black_box(src.len()));
    let mut bytes = 0usize;
    let mut config = core::mem::MaybeUninit::<pf_config>::uninit();
    let mut out = [0f32; 256];
    let mut tokens = [0u32; 64];
    let mut lengths = [0usize; 4];
    let mut scores = [0f32; 4];
    let (mut len, mut score, mut count) = (0usize, 0f32, 0usize);
    // SAFETY: every pointer is a live local or static array of the length passed with it
    // (or an uninitialised handle the library writes before reading).
    unsafe {
        black_box(pf_status_message(black_box(7)));
        black_box(pf_version());
        black_box(pf_model_init_verified(m, blob, black_box(BLOB.0.len())));
        black_box(pf_model_init(m, blob, black_box(BLOB.0.len())));
        black_box(pf_model_config(m, config.as_mut_ptr()));
        black_box(pf_greedy_scratch_bytes(m, &mut bytes));
        black_box(pf_forward_scratch_bytes(m, &mut bytes));
        black_box(pf_encode_scratch_bytes(m, &mut bytes));
        black_box(pf_beam_scratch_bytes(m, black_box(4), &mut bytes));
        black_box(pf_encode(
            m,
            src_ptr,
            src_len,
            out.as_mut_ptr(),
            black_box(out.len()),
            scratch,
            scratch_len,
        ));
        black_box(pf_forward(
            m,
            src_ptr,
            src_len,
            src_ptr,
            src_len,
            out.as_mut_ptr(),
            black_box(out.len()),
            scratch,
            scratch_len,
        ));
        black_box(pf_greedy(
            m,
            src_ptr,
            src_len,
            black_box(16),
            tokens.as_mut_ptr(),
            black_box(tokens.len()),
            &mut len,
            &mut score,
            scratch,
            scratch_len,
        ));
        let params = pf_beam_params {
            beam: black_box(4),
            top: black_box(3),
            max_len: black_box(16),
            alpha: black_box(0.6),
        };
        black_box(pf_beam_search(
            m,
            src_ptr,
            src_len,
            params,
            tokens.as_mut_ptr(),
            black_box(tokens.len()),
            lengths.as_mut_ptr(),
            black_box(lengths.len()),
            scores.as_mut_ptr(),
            black_box(scores.len()),
            &mut count,
            scratch,
            scratch_len,
        ));
    }
    black_box((bytes, len, score, count, out, tokens, lengths, scores));
}

#[repr(C, align(16))]
struct Work([u8; 64 * 1024]);

/// The negative control: a panic the optimiser cannot remove, so the link must fail.
#[cfg(feature = "canary")]
fn canary() {
    let table = black_box([0u8; 4]);
    black_box(table[black_box(7)]);
}

/// The reset handler.
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let mut work = Work([0; 64 * 1024]);
    let len = black_box(work.0.len()).min(work.0.len());
    let scratch = black_box(work.0.get_mut(..len).unwrap_or(&mut []));
    rust_api(scratch);
    static_api();
    llama_api();
    audio_api();
    c_api(scratch);
    #[cfg(feature = "canary")]
    canary();
    loop {
        core::hint::spin_loop();
    }
}
