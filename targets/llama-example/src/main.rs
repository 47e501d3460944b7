//! A llama2.c story model on a Cortex-M33 (QEMU `mps2-an505`): the converted model
//! (`.pfm`) and llama2.c's `tokenizer.bin` are `include_bytes!`'d into flash and read in
//! place; the prompt is encoded by the engine's tokenizer, the story generated with
//! [`StaticLlama`] (greedy, then sampled with a seed) into a static scratch buffer whose
//! size is the type's constant, and the tokens and text printed over semihosting.
//! Nothing is allocated: the bounded outputs are `heapless` vectors and strings.
//!
//! The model type is stories260K's shape; for another checkpoint change [`Net`] (loading
//! names the first dimension that differs). `docs/llama.md` has the commands.
//!
//! Output (`tools/test.d/55-llama-example.sh` compares it with `picoformer generate`):
//!
//! ```text
//! prompt tokens: 1 ...
//! greedy tokens: ...
//! === greedy text ===
//! ...
//! === end ===
//! sampled tokens: ...
//! === sampled text ===
//! ...
//! === end ===
//! ```
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use picoformer::tokenizer::{index_len, max_encoded_len, Llama2cTokenizer};
use picoformer::{SamplingParams, Scratch, StaticLlama};
use picoformer_board::{self as board, ExitStatus};
use semihosting::{print, println};

/// stories260K: dim 64, 8 heads over 4 key/value heads, hidden_dim 172, 5 layers,
/// vocabulary 512, seq_len 512, f32 weights (`i8` as the last parameter for a blob
/// converted with `--dtype i8`).
type Net = StaticLlama<'static, 64, 8, 4, 172, 5, 512, 512>;

/// Vocabulary size (the tokenizer's tokens).
const VOCAB: usize = Net::DIMS.tgt_vocab;

/// The prompt and the number of tokens to generate (from the build: `build.rs`).
mod settings {
    include!(concat!(env!("OUT_DIR"), "/settings.rs"));
}
use settings::{PROMPT, STEPS};

/// Longest piece of text a token prints, for the size of the text buffer (stories260K's
/// tokenizer: 6 bytes; a byte token prints one).
const MAX_PIECE_BYTES: usize = 16;

/// The sampler of the second story (llama2.c `run`'s defaults, a fixed seed).
const SAMPLING: SamplingParams = SamplingParams {
    temperature: 0.8,
    top_p: 0.9,
    seed: 42,
};

/// Bytes 16-byte aligned in flash, as the engine reads a blob in place.
#[repr(C, align(16))]
struct Aligned<T: ?Sized>(T);
static MODEL: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/model.pfm")));
static TOKENIZER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tokenizer.bin"));

/// Words of the tokenizer's index.
const INDEX_WORDS: usize = match index_len(VOCAB) {
    Some(n) => n,
    None => 0,
};

#[entry]
fn main() -> ! {
    // cortex-m-rt hands these to main as `&'static mut`: the only RAM besides the stack.
    static mut SCRATCH: Scratch<{ Net::SAMPLE_SCRATCH_BYTES }> = Scratch::new();
    static mut INDEX: [u32; INDEX_WORDS] = [0; INDEX_WORDS];
    board::exit(run(SCRATCH, INDEX))
}

fn run(scratch: &mut Scratch<{ Net::SAMPLE_SCRATCH_BYTES }>, index: &mut [u32]) -> ExitStatus {
    let net = match Net::from_blob(&MODEL.0) {
        Ok(net) => net,
        Err(e) => {
            println!("error: the model: {}", e);
            return ExitStatus::Failed;
        }
    };
    let tokenizer = match Llama2cTokenizer::new(TOKENIZER, VOCAB, index) {
        Ok(tokenizer) => tokenizer,
        Err(e) => {
            println!("error: the tokenizer: {}", e);
            return ExitStatus::Failed;
        }
    };
    let mut prompt = heapless::Vec::<u32, { max_encoded_len(PROMPT) }>::new();
    let _ = prompt.resize(prompt.capacity(), 0);
    match tokenizer.encode(PROMPT, &mut prompt) {
        Ok(len) => prompt.truncate(len),
        Err(e) => {
            println!("error: encoding the prompt: {}", e);
            return ExitStatus::Failed;
        }
    }
    print!("prompt tokens:");
    print_tokens(&prompt);

    let greedy = SamplingParams {
        temperature: 0.0,
        ..SAMPLING
    };
    for (name, params) in [("greedy", greedy), ("sampled", SAMPLING)] {
        let story = match net.generate_vec::<STEPS, _>(&prompt, STEPS, &params, scratch) {
            Ok(story) => story,
            Err(e) => {
                println!("error: generating: {}", e);
                return ExitStatus::Failed;
            }
        };
        print!("{} tokens:", name);
        print_tokens(&story.tokens);
        let last = prompt.last().copied().unwrap_or(0);
        match tokenizer.decode_text::<{ STEPS * MAX_PIECE_BYTES }>(last, &story.tokens) {
            Ok(text) => println!("=== {} text ===\n{}\n=== end ===", name, text),
            Err(e) => {
                println!("error: decoding: {}", e);
                return ExitStatus::Failed;
            }
        }
    }
    ExitStatus::Passed
}

/// Prints ` t1 t2 ...` and ends the line.
fn print_tokens(tokens: &[u32]) {
    for token in tokens {
        print!(" {}", token);
    }
    println!();
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    board::report_panic(info)
}
