//! Puts `memory.x` where cortex-m-rt's `link.x` finds it, copies the model and its
//! tokenizer into OUT_DIR for `include_bytes!`, and writes the prompt and the number of
//! tokens to generate as constants (`settings.rs`).
//!
//! - `PICOFORMER_LLAMA_MODEL`: the `.pfm` (default `target/llama-example/model.pfm`,
//!   written by `picoformer convert --from llama2c`);
//! - `PICOFORMER_LLAMA_TOKENIZER`: llama2.c's `tokenizer.bin` for it (default
//!   `target/llama-example/tokenizer.bin`);
//! - `PICOFORMER_LLAMA_PROMPT` (default "Once upon a time"), `PICOFORMER_LLAMA_STEPS`
//!   (default 32).

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    std::fs::copy("memory.x", out.join("memory.x"))?;
    println!("cargo::rustc-link-search={}", out.display());
    println!("cargo::rerun-if-changed=memory.x");
    println!("cargo::rerun-if-changed=build.rs");

    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../..");
    for (var, default, name) in [
        (
            "PICOFORMER_LLAMA_MODEL",
            "target/llama-example/model.pfm",
            "model.pfm",
        ),
        (
            "PICOFORMER_LLAMA_TOKENIZER",
            "target/llama-example/tokenizer.bin",
            "tokenizer.bin",
        ),
    ] {
        println!("cargo::rerun-if-env-changed={var}");
        let path = std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(default));
        println!("cargo::rerun-if-changed={}", path.display());
        std::fs::copy(&path, out.join(name)).map_err(|e| {
            format!(
                "{var}: reading {}: {e} (see docs/llama.md: `picoformer convert --from \
                 llama2c stories260K.bin -o {default}`, and the tokenizer beside it)",
                path.display()
            )
        })?;
    }
    println!("cargo::rerun-if-env-changed=PICOFORMER_LLAMA_PROMPT");
    println!("cargo::rerun-if-env-changed=PICOFORMER_LLAMA_STEPS");
    let prompt =
        std::env::var("PICOFORMER_LLAMA_PROMPT").unwrap_or_else(|_| "Once upon a time".into());
    let steps: usize = match std::env::var("PICOFORMER_LLAMA_STEPS") {
        Ok(steps) => steps
            .parse()
            .map_err(|e| format!("PICOFORMER_LLAMA_STEPS={steps}: {e}"))?,
        Err(_) => 32,
    };
    std::fs::write(
        out.join("settings.rs"),
        format!(
            "/// The prompt (PICOFORMER_LLAMA_PROMPT).\n\
             pub const PROMPT: &str = {prompt:?};\n\
             /// Tokens to generate (PICOFORMER_LLAMA_STEPS).\n\
             pub const STEPS: usize = {steps};\n"
        ),
    )?;
    Ok(())
}
