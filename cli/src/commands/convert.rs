//! `picoformer convert`: trained weights (PyTorch, Hugging Face BERT, CTranslate2
//! Whisper, llama2.c) into a validated model blob, optionally quantized.

use anyhow::{ensure, Context, Result};
use picoformer::Model;
use picoformer_cli::{
    config_json::ConfigJson, convert, convert::ConvertReport, ct2_whisper, hf_bert, hf_llama,
    llama2c, AlignedBytes,
};
use std::path::PathBuf;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// PyTorch `nn.Transformer` state_dict names in a safetensors file (needs --config).
    Torch,
    /// Hugging Face BERT (`BertModel`) safetensors, with its config.json as --config.
    HfBert,
    /// A CTranslate2 Whisper `model.bin` (its vocabulary.txt, when beside it, names the
    /// special tokens).
    Ct2Whisper,
    /// A llama2.c checkpoint (`export.py`'s legacy format, what `run.c` reads); see
    /// --rope-theta, --norm-eps, --bos-id, --eos-id for what it does not store.
    Llama2c,
    /// A Hugging Face `LlamaForCausalLM` (model.safetensors, F32/F16/BF16) with its
    /// config.json as --config (rope_theta, rms_norm_eps, bos/eos ids come from there).
    HfLlama,
}

/// `convert --dtype`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dtype {
    F32,
    F16,
    I8,
}

impl From<Dtype> for picoformer::WeightType {
    fn from(d: Dtype) -> Self {
        match d {
            Dtype::F32 => picoformer::WeightType::F32,
            Dtype::F16 => picoformer::WeightType::F16,
            Dtype::I8 => picoformer::WeightType::I8,
        }
    }
}

#[derive(clap::Args)]
pub struct Args {
    /// Checkpoint format.
    #[arg(long, value_enum)]
    from: Format,
    /// torch: CONFIG.json with the model's dimensions and switches; hf-bert, hf-llama:
    /// the model's Hugging Face config.json.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Weights file (.safetensors, or CTranslate2's model.bin).
    weights: PathBuf,
    /// Output model blob.
    #[arg(short, long)]
    output: PathBuf,
    /// A Hugging Face `tokenizer.json` to copy beside the blob as `OUTPUT.tokenizer.json`,
    /// where `transcribe` finds it (ct2-whisper: default the `tokenizer.json` beside
    /// model.bin, when there is one).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// Element type of the weight matrices: f32, f16, or i8 (int8 with one scale per
    /// output row). Prints each matrix's quantization error.
    #[arg(long, value_enum, default_value_t = Dtype::F32)]
    dtype: Dtype,
    /// With `--dtype i8`, a model whose classifier is tied to the target embedding stores
    /// that embedding as int8 too: the classifier runs on the int8 kernels and the blob
    /// is smaller (by default embeddings stay f32).
    #[arg(long)]
    i8_embedding: bool,
    /// With `--dtype i8`, a model with a convolution stem (Whisper) stores the stem's two
    /// convolution weights as int8 too (blob flag bit 6), one scale per output channel
    /// and tap: each tap runs through the int8 linear layer over its input rows
    /// (docs/spec.md, "int8 convolution stem"). By default the stem stays f32.
    #[arg(long)]
    i8_stem: bool,
    /// Element type of the self-attention's key/value cache (llama-family models): f32,
    /// or i8 (int8 rows with one f32 scale per key/value head and position: a quarter of
    /// the cache's RAM and integer attention; docs/quantization.md). Any weight dtype.
    /// On an encoder-decoder model (Whisper), i8 runs the encoder self-attention under
    /// the same int8 rule (docs/spec.md, "int8 key/value cache").
    #[arg(long, value_enum, default_value_t = KvCache::F32)]
    kv_cache: KvCache,
    /// Sinusoidal models: store the position tables in the blob (the values the engine
    /// computes), so firmware built without the engine's `sinusoid` feature runs it
    /// without sin/cos (~7 KiB less code on a Cortex-M4F); costs (S + T) x D floats.
    #[arg(long)]
    positions_table: bool,
    /// llama2c: base of the rotary frequencies (the checkpoint's tables are checked
    /// against it).
    #[arg(long, default_value_t = 10000.0)]
    rope_theta: f32,
    /// llama2c: RMSNorm epsilon.
    #[arg(long, default_value_t = 1e-5)]
    norm_eps: f32,
    /// llama2c: beginning-of-sequence token id.
    #[arg(long, default_value_t = 1)]
    bos_id: u32,
    /// llama2c: end-of-sequence token id (generation stops there).
    #[arg(long, default_value_t = 2)]
    eos_id: u32,
    /// llama2c: store the q/k rows in Hugging Face's order and rotate half-dimension
    /// pairs (the same outputs; for comparing against `LlamaForCausalLM`).
    #[arg(long)]
    rotate_half: bool,
    /// Convert only the layers the config names when the checkpoint has more (without
    /// it, such a checkpoint is refused: the result would be a different model).
    #[arg(long)]
    allow_extra_layers: bool,
}

pub fn run(args: Args) -> Result<()> {
    let Args {
        from,
        config,
        weights,
        output,
        tokenizer,
        dtype,
        i8_embedding,
        i8_stem,
        kv_cache,
        positions_table,
        rope_theta,
        norm_eps,
        bos_id,
        eos_id,
        rotate_half,
        allow_extra_layers,
    } = args;
    ensure!(
        !i8_stem || dtype == Dtype::I8,
        "--i8-stem needs --dtype i8 (the stem's weights as int8 matrices)"
    );
    let read_config = || -> Result<String> {
        let path = config.as_ref().context("this format needs --config")?;
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    };
    let bytes =
        std::fs::read(&weights).with_context(|| format!("reading {}", weights.display()))?;
    let converting = || format!("converting {}", weights.display());
    let tokenizer = tokenizer.or_else(|| {
        let beside = weights.parent()?.join("tokenizer.json");
        (matches!(from, Format::Ct2Whisper) && beside.exists()).then_some(beside)
    });
    // Read (and, with the tokenizers crate built in, parsed) before the slow conversion.
    let tokenizer = match tokenizer {
        Some(path) => {
            let json =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            #[cfg(feature = "pretrained")]
            picoformer_cli::pretrained::load_tokenizer(&path)?;
            Some((path, json))
        }
        None => None,
    };
    let (blob, report) = match from {
        Format::Torch => {
            let config = ConfigJson::parse(&read_config()?).context("parsing --config")?;
            let (blob, report) =
                convert::convert_torch(&config, &bytes).with_context(converting)?;
            (blob, report)
        }
        Format::HfBert => {
            hf_bert::convert_hf_bert(&read_config()?, &bytes).with_context(converting)?
        }
        Format::HfLlama => {
            hf_llama::convert_hf_llama(&read_config()?, &bytes).with_context(converting)?
        }
        Format::Ct2Whisper => {
            ensure!(
                config.is_none(),
                "ct2-whisper reads its config from model.bin"
            );
            let vocabulary = weights
                .parent()
                .map(|dir| dir.join("vocabulary.txt"))
                .and_then(|path| std::fs::read_to_string(path).ok());
            let (_, blob) = ct2_whisper::convert_ct2_whisper(&bytes, vocabulary.as_deref())
                .with_context(converting)?;
            (blob, ConvertReport::default())
        }
        Format::Llama2c => {
            ensure!(
                config.is_none(),
                "llama2c reads its config from the checkpoint"
            );
            let options = llama2c::Llama2cOptions {
                rope_theta,
                norm_eps,
                bos_id,
                eos_id,
                rotate_half,
            };
            let blob = llama2c::convert_llama2c(&bytes, &options).with_context(converting)?;
            (blob, ConvertReport::default())
        }
    };
    if let Some(first) = report.extra_layers.first() {
        ensure!(
            allow_extra_layers,
            "the checkpoint has more layers than the config: {} tensors of layers the config \
             does not have (the first: `{first}`); fix the config's layer count, or pass \
             --allow-extra-layers to convert only the config's layers",
            report.extra_layers.len()
        );
        eprintln!(
            "note: {} tensors of layers beyond the config's are dropped (--allow-extra-layers)",
            report.extra_layers.len()
        );
    }
    let blob = if positions_table {
        convert::store_positions(&blob).context("storing the position tables")?
    } else {
        blob
    };
    let blob = if dtype == Dtype::F32 {
        blob
    } else {
        let dtype = picoformer::WeightType::from(dtype);
        let (blob, errors) = convert::requantize_stored(&blob, dtype, i8_embedding, i8_stem)
            .context("quantizing the weights")?;
        eprintln!("{} weight matrices, quantization error:", dtype.name());
        for line in convert::quant_report_lines(&errors) {
            eprintln!("  {line}");
        }
        blob
    };
    let blob = match kv_cache {
        KvCache::F32 => blob,
        KvCache::I8 => convert::with_kv_cache(&blob, picoformer::CacheType::I8)
            .context("setting the int8 key/value cache")?,
    };
    // Check what we wrote is what the engine accepts before writing it out.
    Model::from_blob(AlignedBytes::copy_from(&blob).as_slice())
        .context("the converted blob does not validate")?;
    // Nothing half-written: a temporary beside the output, renamed when complete.
    let mut partial = output.clone().into_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let written = std::fs::write(&partial, &blob).and_then(|()| std::fs::rename(&partial, &output));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e).with_context(|| format!("writing {}", output.display()));
    }
    if let Some((source, json)) = &tokenizer {
        let sidecar = picoformer_cli::tokenizer_sidecar(&output);
        std::fs::write(&sidecar, json).with_context(|| format!("writing {}", sidecar.display()))?;
        eprintln!(
            "wrote {} (the tokenizer, from {})",
            sidecar.display(),
            source.display()
        );
    }
    for name in report
        .unused
        .iter()
        .filter(|name| !report.extra_layers.contains(name))
    {
        eprintln!("note: tensor `{name}` is not used by this config");
    }
    eprintln!("wrote {} ({} bytes)", output.display(), blob.len());
    Ok(())
}

/// `--kv-cache`: the self-attention cache's element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KvCache {
    /// f32 keys and values.
    F32,
    /// int8 keys and values with per-head scales.
    I8,
}
