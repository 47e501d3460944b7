//! Generates, into OUT_DIR, the model blob the firmware embeds (converted from the golden
//! PyTorch weights by the host converter) and `golden.rs`: the model's type and PyTorch's
//! expected greedy tokens and beam hypotheses, read from the golden `expected.json`.
//!
//! The golden case is `tests/golden/tied` unless `PICOFORMER_FIRMWARE_GOLDEN` names another
//! (its blob must fit the board's flash and its scratch the board's RAM).
//!
//! `PICOFORMER_FIRMWARE_LLAMA` names a llama golden case too (`tests/golden/llama_*`, e.g.
//! `llama_stories260k`): its llama2.c `model.bin` is converted as `picoformer convert --from
//! llama2c` does into `llama.pfm`, and `golden.rs` gains its prompt, the reference's greedy
//! tokens, its dimensions and scratch size (`LLAMA_*`; empty / 0 without the variable).
//!
//! `PICOFORMER_FIRMWARE_DTYPE=f16|i8` stores the weight matrices in that type (the host
//! converter's `requantize`) and makes `Net` carry it; the expected outputs are then the
//! host engine's for the same quantized blob (PyTorch has no such model), so the suite
//! still checks tokens exactly and scores within 1e-4.

use picoformer::{BeamParams, Model, WeightType};
use picoformer_cli::{config_json::ConfigJson, convert, AlignedBytes};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

type BuildResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> BuildResult<()> {
    // The tokens expected of an int8 or f16 blob are the host engine's: computed with the
    // firmware's bits, not with whatever kernel this machine would pick (AVX-512, AVX2 and
    // the scalar reference sum differently, within float rounding, and an int8 model's
    // activations, quantized after every layer, can carry a last-bit difference into a
    // token: the llama golden case with `--i8-embedding` took another token at step 159).
    // The scalar reference, or on Arm targets with an FPU (the `arm-fpu` and Helium
    // kernels, which fuse the llama attention's multiply-adds) its fused twin
    // `scalar-fma`. Set before the engine runs: the kernel is chosen on first use.
    let target = std::env::var("TARGET").unwrap_or_default();
    let arm_fpu = target.starts_with("thumbv7em-none-eabihf")
        || target.starts_with("thumbv8m.main-none-eabihf");
    std::env::set_var(
        "PICOFORMER_KERNEL",
        if arm_fpu { "scalar-fma" } else { "scalar" },
    );
    println!("cargo::rerun-if-env-changed=PICOFORMER_FIRMWARE_GOLDEN");
    let name = std::env::var("PICOFORMER_FIRMWARE_GOLDEN").unwrap_or_else(|_| "tied".into());
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let golden = manifest.join("../../tests/golden").join(&name);
    let out = PathBuf::from(std::env::var("OUT_DIR")?);

    let config_text = read_text(&golden.join("config.json"))?;
    let config = ConfigJson::parse(&config_text)?;
    let weights = golden.join("weights.safetensors");
    println!("cargo::rerun-if-changed={}", weights.display());
    let (blob, _report) = convert::convert_torch(&config, &std::fs::read(&weights)?)?;
    println!("cargo::rerun-if-env-changed=PICOFORMER_FIRMWARE_DTYPE");
    let dtype = match std::env::var("PICOFORMER_FIRMWARE_DTYPE").as_deref() {
        Ok("f16") => WeightType::F16,
        Ok("i8") => WeightType::I8,
        Ok("f32") | Err(_) => WeightType::F32,
        Ok(other) => {
            return Err(format!("PICOFORMER_FIRMWARE_DTYPE={other}: f32, f16 or i8").into())
        }
    };
    let blob = if dtype == WeightType::F32 {
        blob
    } else {
        convert::requantize(&blob, dtype)?.0
    };
    std::fs::write(out.join("model.pfm"), &blob)?;

    let mut expected: Value = serde_json::from_str(&read_text(&golden.join("expected.json"))?)?;
    if dtype != WeightType::F32 {
        host_expected(&blob, &mut expected)?;
    }
    let weight_type = match dtype {
        WeightType::F32 => "f32",
        WeightType::F16 => "picoformer::f16",
        WeightType::I8 => "i8",
    };
    let d = &config.dims;
    let mut code = String::new();
    writeln!(code, "/// Name of the golden case under `tests/golden/`.")?;
    writeln!(code, "pub const NAME: &str = {name:?};")?;
    // The StaticModel of the blob's dims with `d_model` in place of the blob's.
    let static_model = |d_model: usize| {
        format!(
            "picoformer::StaticModel<'static, {d_model}, {}, {}, {}, {}, {}, {}, {}, {}, {weight_type}>",
            d.n_heads,
            d.d_ff,
            d.n_encoder_layers,
            d.n_decoder_layers,
            d.src_vocab,
            d.tgt_vocab,
            d.max_src_len,
            d.max_tgt_len
        )
    };
    writeln!(
        code,
        "/// The golden model's type: D, H, F, LE, LD, SV, TV, S, T from its config.json.\n\
         pub type Net = {};",
        static_model(d.d_model)
    )?;
    // A type one head wider than the blob: from_blob must refuse it (ShapeMismatch).
    writeln!(
        code,
        "/// `Net` with a wider d_model than the blob's: loading must fail.\n\
         pub type WiderNet = {};",
        static_model(d.d_model + d.d_model / d.n_heads)
    )?;

    writeln!(
        code,
        "/// Longest target sequence: the size of a greedy output buffer."
    )?;
    writeln!(code, "pub const MAX_TGT_LEN: usize = {};", d.max_tgt_len)?;
    // int8 activations are quantized from f32 values whose last bits depend on the
    // kernel's summation order (8 partial sums: scalar, AVX2, the Cortex-M FPU; 4: NEON,
    // MVE, RVV): a last-bit difference can move one activation by a quantization step.
    // Measured on tests/golden/firmware_large, greedy case 0: -40.88118 with 8 partial
    // sums, -40.91084 with 4 (NEON under qemu-aarch64 and the M55 alike), 7.3e-4 of the
    // score. Tokens are still compared exactly.
    let relative = if dtype == WeightType::I8 { 2e-3 } else { 0.0 };
    writeln!(
        code,
        "/// Score tolerance relative to the expected score, beside the absolute 1e-4: \
         non-zero only for int8 activations (see the build script)."
    )?;
    writeln!(
        code,
        "pub const SCORE_RELATIVE_TOLERANCE: f32 = {relative:?};"
    )?;

    let greedy = array(&expected, "greedy")?;
    writeln!(code, "/// PyTorch's greedy decodes.")?;
    writeln!(
        code,
        "pub static GREEDY: [GreedyCase; {}] = [",
        greedy.len()
    )?;
    for case in greedy {
        writeln!(
            code,
            "    GreedyCase {{ src: &{}, max_len: {}, tokens: &{}, score: {:?} }},",
            tokens(case, "src")?,
            uint(case, "max_len")?,
            tokens(case, "tokens")?,
            float(case, "score")?
        )?;
    }
    writeln!(code, "];")?;

    let beam = array(&expected, "beam")?;
    let mut beam_sizes: Vec<u64> = Vec::new();
    writeln!(code, "/// PyTorch's beam searches.")?;
    writeln!(code, "pub static BEAM: [BeamCase; {}] = [", beam.len())?;
    for case in beam {
        let size = uint(case, "beam")?;
        if !beam_sizes.contains(&size) {
            beam_sizes.push(size);
        }
        let mut hypotheses = String::new();
        for h in array(case, "hypotheses")? {
            write!(
                hypotheses,
                "Expected {{ tokens: &{}, score: {:?} }}, ",
                tokens(h, "tokens")?,
                float(h, "score")?
            )?;
        }
        writeln!(
            code,
            "    BeamCase {{ src: &{}, beam: {size}, top: {}, alpha: {:?}, max_len: {}, hypotheses: &[{hypotheses}] }},",
            tokens(case, "src")?,
            uint(case, "top")?,
            float(case, "alpha")?,
            uint(case, "max_len")?
        )?;
    }
    writeln!(code, "];")?;
    beam_sizes.sort_unstable();
    let largest = beam_sizes.last().copied().unwrap_or(1);
    writeln!(
        code,
        "/// The largest beam of the golden cases: it sizes the scratch buffer."
    )?;
    writeln!(code, "pub const LARGEST_BEAM: usize = {largest};")?;
    // beam_search takes the beam size as a const generic: one arm per size in the JSON.
    writeln!(
        code,
        "/// Runs `case` through `StaticModel::beam_search` with its beam size as the const.\n\
         pub fn beam_search<'s, const N: usize>(net: &Net, case: &BeamCase, scratch: &'s mut picoformer::Scratch<N>)\n\
         -> Option<picoformer::Result<picoformer::Hypotheses<'s>>> {{\n    \
             Some(match case.beam {{"
    )?;
    for size in &beam_sizes {
        writeln!(
            code,
            "        {size} => net.beam_search::<{size}, N>(case.src, case.top, case.alpha, case.max_len, scratch),"
        )?;
    }
    writeln!(code, "        _ => return None,\n    }})\n}}")?;
    llama(&manifest, &out, dtype, &mut code)?;
    std::fs::write(out.join("golden.rs"), code)?;
    Ok(())
}

/// The llama golden case of `PICOFORMER_FIRMWARE_LLAMA` (if set): writes `llama.pfm`
/// (empty without one) and its `LLAMA_*` items into `code`. With int8 or f16 weights the
/// expected tokens are the host engine's on the same quantized blob.
fn llama(manifest: &Path, out: &Path, dtype: WeightType, code: &mut String) -> BuildResult<()> {
    println!("cargo::rerun-if-env-changed=PICOFORMER_FIRMWARE_LLAMA");
    let Ok(name) = std::env::var("PICOFORMER_FIRMWARE_LLAMA") else {
        std::fs::write(out.join("llama.pfm"), [])?;
        writeln!(
            code,
            "/// No llama golden case in this build (`PICOFORMER_FIRMWARE_LLAMA`).\n\
             pub const LLAMA_NAME: &str = \"\";\n\
             /// (none)\npub static LLAMA_PROMPT: [u32; 0] = [];\n\
             /// (none)\npub static LLAMA_TOKENS: [u32; 0] = [];\n\
             /// (none)\npub const LLAMA_DIMS: Option<picoformer::Dims> = None;\n\
             /// (none)\npub const LLAMA_DTYPE: picoformer::WeightType = picoformer::WeightType::F32;\n\
             /// (none)\npub const LLAMA_SCRATCH_BYTES: usize = 0;"
        )?;
        return Ok(());
    };
    let golden = manifest.join("../../tests/golden").join(&name);
    let expected: Value = serde_json::from_str(&read_text(&golden.join("expected.json"))?)?;
    let checkpoint = golden.join("model.bin");
    println!("cargo::rerun-if-changed={}", checkpoint.display());
    let number = |key: &str| -> BuildResult<f64> {
        expected[key]
            .as_f64()
            .ok_or_else(|| format!("{name}/expected.json: `{key}` is not a number").into())
    };
    let options = picoformer_cli::llama2c::Llama2cOptions {
        rope_theta: expected["config"]["rope_theta"]
            .as_f64()
            .ok_or("expected.json: config.rope_theta")? as f32,
        norm_eps: number("norm_eps")? as f32,
        bos_id: uint(&expected, "bos_id")? as u32,
        eos_id: uint(&expected, "eos_id")? as u32,
        rotate_half: false,
    };
    let blob = picoformer_cli::llama2c::convert_llama2c(&std::fs::read(&checkpoint)?, &options)?;
    // PICOFORMER_FIRMWARE_LLAMA_OPTIONS (comma-separated, for measurements): `i8-embedding`
    // (int8 blobs: the tied classifier as int8 rows, `convert --i8-embedding`) and
    // `kv-cache-i8` (the int8 key/value cache, `convert --kv-cache i8`).
    println!("cargo::rerun-if-env-changed=PICOFORMER_FIRMWARE_LLAMA_OPTIONS");
    let options = std::env::var("PICOFORMER_FIRMWARE_LLAMA_OPTIONS").unwrap_or_default();
    let option = |name: &str| options.split(',').any(|o| o == name);
    let blob = if dtype == WeightType::F32 {
        blob
    } else {
        let i8_embedding = dtype == WeightType::I8 && option("i8-embedding");
        convert::requantize_with(&blob, dtype, i8_embedding)?.0
    };
    let blob = if option("kv-cache-i8") {
        convert::with_kv_cache(&blob, picoformer::CacheType::I8)?
    } else {
        blob
    };
    std::fs::write(out.join("llama.pfm"), &blob)?;
    let ids = |key: &str| -> BuildResult<Vec<u32>> {
        array(&expected, key)?
            .iter()
            .map(|t| t.as_u64().and_then(|t| u32::try_from(t).ok()))
            .collect::<Option<Vec<u32>>>()
            .ok_or_else(|| format!("{name}/expected.json: `{key}` holds a non-id").into())
    };
    let prompt = ids("prompt")?;
    let mut greedy = ids("greedy_tokens")?;
    let aligned = AlignedBytes::copy_from(&blob);
    let model = Model::from_blob(aligned.as_slice())?;
    if dtype != WeightType::F32 {
        let steps = uint(&expected, "steps")? as usize;
        let mut scratch = picoformer_cli::scratch(model.greedy_scratch_bytes()?);
        let mut got = vec![0u32; steps];
        let g = model.greedy_with(
            &picoformer::Source::Tokens(&[]),
            &prompt,
            steps,
            &mut got,
            scratch.as_mut_slice(),
        )?;
        got.truncate(g.len);
        greedy = got;
    }
    let d = &model.config().dims;
    let feed_forward = match d.feed_forward {
        picoformer::FeedForward::Plain => "Plain",
        picoformer::FeedForward::Gated => "Gated",
    };
    let kv_cache = match d.kv_cache {
        picoformer::config::CacheType::F32 => "F32",
        picoformer::config::CacheType::I8 => "I8",
    };
    let dtype_name = match dtype {
        WeightType::F32 => "F32",
        WeightType::F16 => "F16",
        WeightType::I8 => "I8",
    };
    writeln!(
        code,
        "/// The llama golden case under `tests/golden/`.\n\
         pub const LLAMA_NAME: &str = {name:?};\n\
         /// Its prompt (bos first).\n\
         pub static LLAMA_PROMPT: [u32; {}] = {:?};\n\
         /// The greedy continuation: the reference's (f32), else the host engine's on the blob.\n\
         pub static LLAMA_TOKENS: [u32; {}] = {:?};\n\
         /// Its dimensions (the host converter's blob).\n\
         pub const LLAMA_DIMS: Option<picoformer::Dims> = Some(picoformer::Dims {{ \
         d_model: {}, n_heads: {}, d_ff: {}, n_encoder_layers: {}, n_decoder_layers: {}, \
         src_vocab: {}, tgt_vocab: {}, max_src_len: {}, max_tgt_len: {}, type_vocab: {}, \
         stem_channels: {}, n_kv_heads: {}, feed_forward: picoformer::FeedForward::{feed_forward}, kv_cache: picoformer::config::CacheType::{kv_cache} }});\n\
         /// Its weight type.\n\
         pub const LLAMA_DTYPE: picoformer::WeightType = picoformer::WeightType::{dtype_name};\n\
         /// Exact scratch bytes of its greedy decoding: the library's `const fn`.\n\
         pub const LLAMA_SCRATCH_BYTES: usize = match LLAMA_DIMS {{\n    \
             Some(dims) => match picoformer::greedy_scratch_bytes_for(&dims, LLAMA_DTYPE) {{ Some(n) => n, None => usize::MAX }},\n    \
             None => 0,\n}};",
        prompt.len(),
        prompt,
        greedy.len(),
        greedy,
        d.d_model,
        d.n_heads,
        d.d_ff,
        d.n_encoder_layers,
        d.n_decoder_layers,
        d.src_vocab,
        d.tgt_vocab,
        d.max_src_len,
        d.max_tgt_len,
        d.type_vocab,
        d.stem_channels,
        d.n_kv_heads,
    )?;
    Ok(())
}

/// Replaces PyTorch's greedy and beam outputs in `expected` by the host engine's on the
/// quantized `blob` (same inputs).
fn host_expected(blob: &[u8], expected: &mut Value) -> BuildResult<()> {
    let aligned = AlignedBytes::copy_from(blob);
    let model = Model::from_blob(aligned.as_slice())?;
    let ids = |v: &Value| -> Vec<u32> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_u64())
                    .map(|t| t as u32)
                    .collect()
            })
            .unwrap_or_default()
    };
    if let Some(cases) = expected["greedy"].as_array_mut() {
        for case in cases {
            let src = ids(&case["src"]);
            let max_len = case["max_len"].as_u64().unwrap_or(1) as usize;
            let mut scratch = picoformer_cli::scratch(model.greedy_scratch_bytes()?);
            let mut out = vec![0u32; max_len];
            let g = model.greedy(&src, max_len, &mut out, scratch.as_mut_slice())?;
            case["tokens"] = serde_json::json!(out[..g.len]);
            case["score"] = serde_json::json!(g.score);
        }
    }
    if let Some(cases) = expected["beam"].as_array_mut() {
        for case in cases {
            let params = BeamParams {
                beam: case["beam"].as_u64().unwrap_or(1) as usize,
                top: case["top"].as_u64().unwrap_or(1) as usize,
                alpha: case["alpha"].as_f64().unwrap_or(0.0) as f32,
                max_len: case["max_len"].as_u64().unwrap_or(1) as usize,
            };
            let src = ids(&case["src"]);
            let mut scratch = picoformer_cli::scratch(model.beam_scratch_bytes(params.beam)?);
            let hyps = model.beam_search(&src, &params, scratch.as_mut_slice())?;
            let list: Vec<Value> = hyps
                .iter()
                .map(|h| serde_json::json!({"tokens": h.tokens, "score": h.score}))
                .collect();
            case["hypotheses"] = Value::Array(list);
        }
    }
    Ok(())
}

fn read_text(path: &Path) -> BuildResult<String> {
    println!("cargo::rerun-if-changed={}", path.display());
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()).into())
}

fn array<'v>(value: &'v Value, key: &str) -> BuildResult<&'v Vec<Value>> {
    value[key]
        .as_array()
        .ok_or_else(|| format!("expected.json: `{key}` is not an array").into())
}

fn uint(value: &Value, key: &str) -> BuildResult<u64> {
    value[key]
        .as_u64()
        .ok_or_else(|| format!("expected.json: `{key}` is not an unsigned integer").into())
}

fn float(value: &Value, key: &str) -> BuildResult<f32> {
    value[key]
        .as_f64()
        .map(|v| v as f32)
        .ok_or_else(|| format!("expected.json: `{key}` is not a number").into())
}

/// A JSON array of token ids as a Rust array literal of `u32`.
fn tokens(value: &Value, key: &str) -> BuildResult<String> {
    let ids = array(value, key)?
        .iter()
        .map(|t| t.as_u64().map(|t| format!("{t}")))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| format!("expected.json: `{key}` holds a non-integer"))?;
    Ok(format!("[{}]", ids.join(", ")))
}
