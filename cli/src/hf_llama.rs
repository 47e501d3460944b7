//! Hugging Face llama checkpoints (`picoformer convert --from hf-llama model.safetensors
//! --config config.json`): a `LlamaForCausalLM`'s safetensors and its `config.json` into
//! a decoder-only blob.
//!
//! Names: `model.embed_tokens.weight`, per layer `model.layers.{i}.` +
//! `input_layernorm`, `self_attn.{q,k,v,o}_proj`, `post_attention_layernorm`,
//! `mlp.{gate,up,down}_proj` (all `.weight`), then `model.norm.weight` and
//! `lm_head.weight` (absent when `tie_word_embeddings`). Hugging Face's q/k rows are in
//! rotate-half order (its converter permutes Meta's), so the blob's positional is
//! [`Positional::RopeHalf`] and the rows are stored as they are. `gate_proj` and
//! `up_proj` are stacked into the gated `FfnW1` `[2 hidden, dim]` (llama2.c's w1, w3).
//! `rms_norm_eps`, `rope_theta`, `bos_token_id` and `eos_token_id` come from the config;
//! rotary scaling, biases, a head width other than `hidden_size / num_attention_heads`
//! and activations other than SiLU are refused. Tensors may be F32, F16 or BF16.

use crate::checkpoint;
use crate::convert::{build_blob, ConvertReport};
use anyhow::{ensure, Context, Result};
use picoformer::blob::{Presence, TensorKind as K};
use picoformer::config::{Activation, Config, Dims, FeedForward, Norm, NormKind, Positional};
use serde::Deserialize;
use std::collections::BTreeSet;

/// The fields of a Hugging Face `LlamaConfig` (`config.json`) that shape the model.
#[derive(Debug, Deserialize)]
struct LlamaConfig {
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    /// Absent: multi-head attention.
    #[serde(default)]
    num_key_value_heads: Option<usize>,
    vocab_size: usize,
    max_position_embeddings: usize,
    rms_norm_eps: f32,
    /// Absent: transformers' default 10000.
    #[serde(default)]
    rope_theta: Option<f32>,
    #[serde(default)]
    rope_scaling: Option<serde_json::Value>,
    /// Absent: transformers' default for llama, false.
    #[serde(default)]
    tie_word_embeddings: Option<bool>,
    #[serde(default)]
    bos_token_id: Option<u32>,
    /// One id or a list (llama 3 lists several).
    #[serde(default)]
    eos_token_id: Option<serde_json::Value>,
    #[serde(default)]
    hidden_act: Option<String>,
    #[serde(default)]
    attention_bias: Option<bool>,
    #[serde(default)]
    mlp_bias: Option<bool>,
    #[serde(default)]
    head_dim: Option<usize>,
    #[serde(default)]
    model_type: Option<String>,
}

/// The end-of-sequence id of `eos_token_id`: a number, or the first of a list.
fn eos_id(value: Option<&serde_json::Value>) -> Result<u32> {
    let id = match value {
        None => return Ok(2),
        Some(serde_json::Value::Array(ids)) => {
            ids.first().context("eos_token_id is an empty list")?
        }
        Some(id) => id,
    };
    id.as_u64()
        .and_then(|id| u32::try_from(id).ok())
        .with_context(|| format!("eos_token_id {id} is not a token id"))
}

/// The engine configuration of a Hugging Face llama `config.json`.
pub fn llama_config(config_json: &str) -> Result<Config> {
    let c: LlamaConfig =
        serde_json::from_str(config_json).context("parsing the llama config.json")?;
    if let Some(kind) = c.model_type.as_deref() {
        ensure!(
            kind == "llama",
            "model_type {kind:?} is not supported by --from hf-llama (\"llama\")"
        );
    }
    if let Some(act) = c.hidden_act.as_deref() {
        ensure!(
            act == "silu",
            "hidden_act {act:?} is not supported (llama's \"silu\")"
        );
    }
    ensure!(
        c.rope_scaling.as_ref().is_none_or(|s| s.is_null()),
        "rope_scaling {} is not supported (plain rotary embedding only)",
        c.rope_scaling
            .as_ref()
            .map_or(String::new(), |s| s.to_string())
    );
    ensure!(
        !c.attention_bias.unwrap_or(false) && !c.mlp_bias.unwrap_or(false),
        "attention_bias / mlp_bias are not supported (llama has no biases)"
    );
    ensure!(
        c.num_attention_heads > 0 && c.hidden_size.is_multiple_of(c.num_attention_heads),
        "hidden_size {} is not a multiple of num_attention_heads {}",
        c.hidden_size,
        c.num_attention_heads
    );
    let head_width = c.hidden_size / c.num_attention_heads;
    if let Some(head_dim) = c.head_dim {
        ensure!(
            head_dim == head_width,
            "head_dim {head_dim} differs from hidden_size / num_attention_heads = {head_width}: not supported"
        );
    }
    let config = Config {
        dims: Dims {
            d_model: c.hidden_size,
            n_heads: c.num_attention_heads,
            d_ff: c.intermediate_size,
            n_encoder_layers: 0,
            n_decoder_layers: c.num_hidden_layers,
            src_vocab: 0,
            tgt_vocab: c.vocab_size,
            max_src_len: 0,
            max_tgt_len: c.max_position_embeddings,
            type_vocab: 0,
            stem_channels: 0,
            n_kv_heads: c.num_key_value_heads.unwrap_or(c.num_attention_heads),
            feed_forward: FeedForward::Gated,
            kv_cache: picoformer::config::CacheType::F32,
        },
        norm: Norm::Pre,
        activation: Activation::Silu,
        positional: Positional::RopeHalf,
        layer_norm_eps: c.rms_norm_eps,
        norm_kind: NormKind::RmsNorm,
        rope_theta: c.rope_theta.unwrap_or(10000.0),
        scale_embeddings: false,
        tie_output: c.tie_word_embeddings.unwrap_or(false),
        final_norm: true,
        src_embed_norm: false,
        bos_id: c.bos_token_id.unwrap_or(1),
        eos_id: eos_id(c.eos_token_id.as_ref())?,
        pad_id: 0,
    };
    config.validate()?;
    Ok(config)
}

/// The Hugging Face names and shapes of a slot's tensors (two for the stacked FFN input);
/// `None` for what llama does not have (biases, norm betas).
fn llama_sources(config: &Config, kind: K, layer: usize) -> Option<Vec<(String, [usize; 2])>> {
    let d = &config.dims;
    let (dm, f, v) = (d.d_model, d.d_ff, d.tgt_vocab);
    let kvd = d.n_kv_heads * (dm / d.n_heads);
    let at = |suffix: &str| format!("model.layers.{layer}.{suffix}.weight");
    let one = |name: String, shape: [usize; 2]| vec![(name, shape)];
    Some(match kind {
        K::TgtEmbed => one("model.embed_tokens.weight".into(), [v, dm]),
        K::OutWeight => one("lm_head.weight".into(), [v, dm]),
        K::DecNormGamma => one("model.norm.weight".into(), [dm, 0]),
        K::DecNorm1Gamma => one(at("input_layernorm"), [dm, 0]),
        K::DecNorm3Gamma => one(at("post_attention_layernorm"), [dm, 0]),
        K::DecSelfQWeight => one(at("self_attn.q_proj"), [dm, dm]),
        K::DecSelfKWeight => one(at("self_attn.k_proj"), [kvd, dm]),
        K::DecSelfVWeight => one(at("self_attn.v_proj"), [kvd, dm]),
        K::DecSelfOutWeight => one(at("self_attn.o_proj"), [dm, dm]),
        K::DecFfnW1 => vec![(at("mlp.gate_proj"), [f, dm]), (at("mlp.up_proj"), [f, dm])],
        K::DecFfnW2 => one(at("mlp.down_proj"), [dm, f]),
        _ => return None,
    })
}

/// Converts a Hugging Face `LlamaForCausalLM` checkpoint (`config.json` text,
/// `model.safetensors` bytes) into an f32 blob. Missing, misshapen or non-finite tensors
/// are errors naming the tensor.
pub fn convert_hf_llama(
    config_json: &str,
    safetensors_bytes: &[u8],
) -> Result<(Vec<u8>, ConvertReport)> {
    let config = llama_config(config_json)?;
    let file = checkpoint::open(safetensors_bytes)?;
    let mut used = BTreeSet::new();
    let mut report = ConvertReport::default();
    let blob = build_blob(&config, "converting", |slot| {
        let Some(sources) = llama_sources(&config, slot.kind, slot.layer) else {
            ensure!(
                slot.presence == Presence::Optional,
                "a llama checkpoint has no tensor for {:?}",
                slot.kind
            );
            return Ok(None);
        };
        // Grown by the tensors found (their shapes checked), not reserved from the
        // config's sizes: a config claiming huge dimensions must not allocate for them.
        let mut values = Vec::new();
        for (name, shape) in sources {
            let tensor = file.tensor(&name).map_err(|_| {
                let why = if slot.kind == K::OutWeight {
                    " (config.json has tie_word_embeddings false)"
                } else {
                    ""
                };
                anyhow::anyhow!("missing tensor `{name}`{why}")
            })?;
            let shape = if shape[1] == 0 {
                &shape[..1]
            } else {
                &shape[..]
            };
            values.extend(checkpoint::tensor_values(&name, &tensor, shape)?);
            used.insert(name);
        }
        Ok(Some(values))
    })?;
    report.note_unused(&file, &used);
    Ok((blob, report))
}
