//! The llama golden case (`PICOFORMER_FIRMWARE_LLAMA`, built by `tools/firmware-llama.sh`):
//! the dynamic [`Model`] from the embedded llama blob, greedy decoding of the reference's
//! prompt with the scratch the library's `const fn` sizes, checked token for token.
//!
//! It runs first in the suite, so its two instruction-count regions are regions 1 and 2:
//! the decode of 1 token after the prompt, then the decode of all the golden tokens.
//! Their difference over the tokens less one is the cost of a generated token.

use crate::check::{ensure, loaded, ok, Check};
use crate::figures::{icount_start, icount_stop};
use crate::golden::{LLAMA_DIMS, LLAMA_PROMPT, LLAMA_SCRATCH_BYTES, LLAMA_TOKENS};
use crate::{Board, SuiteScratch, Summary};
use core::hint::black_box;
use picoformer::{Model, Source};

/// Runs the llama tests and prints their figures (nothing without a llama case).
pub(crate) fn run(board: &Board, scratch: &mut SuiteScratch, summary: &mut Summary) {
    let Some(dims) = LLAMA_DIMS else {
        return;
    };
    let loaded_model = Model::from_blob(crate::llama_blob());
    summary.record("llama_loads", None, ok(&loaded_model, "Model::from_blob"));
    let Ok(model) = loaded_model else {
        return;
    };
    summary.record(
        "llama_scratch_is_the_const_fn",
        None,
        scratch_is_the_const_fn(&model, dims),
    );
    let Some(buffer) = scratch.as_bytes_mut().get_mut(..LLAMA_SCRATCH_BYTES) else {
        summary.record(
            "llama_greedy_golden",
            None,
            ensure(false, "scratch too small"),
        );
        return;
    };
    let mut out = [0u32; LLAMA_TOKENS.len()];
    let prompt = &LLAMA_PROMPT[..];
    let source = Source::Tokens(&[]);
    icount_start();
    let first = model.greedy_with(&source, prompt, 1, &mut out, buffer);
    icount_stop();
    icount_start();
    let all = model.greedy_with(&source, prompt, LLAMA_TOKENS.len(), &mut out, buffer);
    icount_stop();
    let check = loaded(all, "greedy_with").and_then(|g| {
        ensure(out.get(..g.len) == Some(&LLAMA_TOKENS[..]), "greedy tokens")?;
        ensure(matches!(first, Ok(g) if g.len == 1), "greedy of 1 token")
    });
    let passed = check.is_ok();
    summary.record("llama_greedy_golden", None, check);
    // Stack depth does not grow with the position (every buffer is the scratch's): a
    // decode of two tokens reaches it.
    let stack = (board.stack_used)(&mut || {
        let _ = black_box(model.greedy_with(&source, prompt, 2, &mut out, buffer));
    });
    if passed {
        defmt::println!("figure llama_tokens {=usize}", LLAMA_TOKENS.len());
    }
    defmt::println!(
        "figure llama_blob_bytes {=usize}",
        crate::llama_blob().len()
    );
    defmt::println!("figure llama_scratch_bytes {=usize}", LLAMA_SCRATCH_BYTES);
    defmt::println!("figure llama_stack_bytes {=usize}", stack);
}

/// The loaded model's dimensions are the build's, and its scratch need the `const fn`'s.
fn scratch_is_the_const_fn(model: &Model, dims: picoformer::Dims) -> Check {
    ensure(model.config().dims == dims, "dimensions")?;
    let needed = loaded(model.greedy_scratch_bytes(), "greedy_scratch_bytes")?;
    ensure(
        needed == LLAMA_SCRATCH_BYTES,
        "greedy_scratch_bytes == LLAMA_SCRATCH_BYTES",
    )
}
