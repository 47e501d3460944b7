//! Hugging Face BERT (`BertModel`, e.g. all-MiniLM-L6-v2): its `config.json` and
//! `model.safetensors` into an encoder-only blob.
//!
//! BERT is the paper's post-norm encoder with learned positions, a token-type embedding
//! and a LayerNorm on the embedding sum, exact GELU and its own LayerNorm eps. Names
//! (optionally under a `bert.` prefix): `embeddings.{word,position,token_type}_embeddings`,
//! `embeddings.LayerNorm`, `encoder.layer.{i}.attention.self.{query,key,value}`,
//! `.attention.output.{dense,LayerNorm}`, `.intermediate.dense`, `.output.{dense,LayerNorm}`.
//! The pooler is not used (sentence embeddings pool the encoder output).

use crate::checkpoint;
use crate::convert::{build_blob, ConvertReport};
use anyhow::{bail, Context};
use picoformer::blob::{Presence, TensorKind as K};
use picoformer::config::{Activation, Config, Dims, Norm, Positional};
use serde::Deserialize;
use std::collections::BTreeSet;

/// The fields of a Hugging Face `BertConfig` (`config.json`) that shape the model.
#[derive(Debug, Deserialize)]
struct BertConfig {
    hidden_size: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    vocab_size: usize,
    max_position_embeddings: usize,
    type_vocab_size: usize,
    layer_norm_eps: f32,
    hidden_act: String,
    #[serde(default)]
    position_embedding_type: Option<String>,
    #[serde(default)]
    pad_token_id: Option<u32>,
}

/// The engine configuration of a Hugging Face BERT `config.json`.
pub fn bert_config(config_json: &str) -> anyhow::Result<Config> {
    let c: BertConfig = serde_json::from_str(config_json).context("parsing the BERT config")?;
    let activation = match c.hidden_act.as_str() {
        "gelu" => Activation::Gelu,
        "relu" => Activation::Relu,
        other => bail!("hidden_act {other:?} is not supported (exact \"gelu\" or \"relu\")"),
    };
    if let Some(kind) = c.position_embedding_type.as_deref() {
        if kind != "absolute" {
            bail!("position_embedding_type {kind:?} is not supported (\"absolute\")");
        }
    }
    let config = Config {
        dims: Dims {
            d_model: c.hidden_size,
            n_heads: c.num_attention_heads,
            d_ff: c.intermediate_size,
            n_encoder_layers: c.num_hidden_layers,
            n_decoder_layers: 0,
            src_vocab: c.vocab_size,
            tgt_vocab: 0,
            max_src_len: c.max_position_embeddings,
            max_tgt_len: 0,
            type_vocab: c.type_vocab_size,
            stem_channels: 0,
            n_kv_heads: c.num_attention_heads,
            feed_forward: picoformer::config::FeedForward::Plain,
            kv_cache: picoformer::config::CacheType::F32,
        },
        norm: Norm::Post,
        activation,
        positional: Positional::Learned,
        layer_norm_eps: c.layer_norm_eps,
        norm_kind: picoformer::config::NormKind::LayerNorm,
        rope_theta: 0.0,
        scale_embeddings: false,
        tie_output: false,
        final_norm: false,
        src_embed_norm: true,
        bos_id: 0,
        eos_id: 0,
        pad_id: c.pad_token_id.unwrap_or(0),
    };
    config.validate()?;
    Ok(config)
}

/// The BERT name (without prefix) and PyTorch shape of a slot's tensor.
fn bert_source(config: &Config, kind: K, layer: usize) -> anyhow::Result<(String, Vec<usize>)> {
    let d = &config.dims;
    let (dm, f) = (d.d_model, d.d_ff);
    let at = |suffix: &str| format!("encoder.layer.{layer}.{suffix}");
    Ok(match kind {
        K::SrcEmbed => (
            "embeddings.word_embeddings.weight".into(),
            vec![d.src_vocab, dm],
        ),
        K::SrcTypeEmbed => (
            "embeddings.token_type_embeddings.weight".into(),
            vec![d.type_vocab, dm],
        ),
        K::SrcPos => (
            "embeddings.position_embeddings.weight".into(),
            vec![d.max_src_len, dm],
        ),
        K::SrcEmbedNormGamma => ("embeddings.LayerNorm.weight".into(), vec![dm]),
        K::SrcEmbedNormBeta => ("embeddings.LayerNorm.bias".into(), vec![dm]),
        K::EncSelfQWeight => (at("attention.self.query.weight"), vec![dm, dm]),
        K::EncSelfQBias => (at("attention.self.query.bias"), vec![dm]),
        K::EncSelfKWeight => (at("attention.self.key.weight"), vec![dm, dm]),
        K::EncSelfKBias => (at("attention.self.key.bias"), vec![dm]),
        K::EncSelfVWeight => (at("attention.self.value.weight"), vec![dm, dm]),
        K::EncSelfVBias => (at("attention.self.value.bias"), vec![dm]),
        K::EncSelfOutWeight => (at("attention.output.dense.weight"), vec![dm, dm]),
        K::EncSelfOutBias => (at("attention.output.dense.bias"), vec![dm]),
        K::EncNorm1Gamma => (at("attention.output.LayerNorm.weight"), vec![dm]),
        K::EncNorm1Beta => (at("attention.output.LayerNorm.bias"), vec![dm]),
        K::EncFfnW1 => (at("intermediate.dense.weight"), vec![f, dm]),
        K::EncFfnB1 => (at("intermediate.dense.bias"), vec![f]),
        K::EncFfnW2 => (at("output.dense.weight"), vec![dm, f]),
        K::EncFfnB2 => (at("output.dense.bias"), vec![dm]),
        K::EncNorm2Gamma => (at("output.LayerNorm.weight"), vec![dm]),
        K::EncNorm2Beta => (at("output.LayerNorm.bias"), vec![dm]),
        other => bail!("BERT has no tensor for {other:?}"),
    })
}

/// Converts a Hugging Face BERT checkpoint (`config.json` text, `model.safetensors`
/// bytes) into a blob. Missing or misshapen tensors are errors naming the tensor.
pub fn convert_hf_bert(
    config_json: &str,
    safetensors_bytes: &[u8],
) -> anyhow::Result<(Vec<u8>, ConvertReport)> {
    let config = bert_config(config_json)?;
    let file = checkpoint::open(safetensors_bytes)?;
    let names = file.names();
    let prefix = if names
        .iter()
        .any(|n| n.as_str() == "bert.embeddings.word_embeddings.weight")
    {
        "bert."
    } else {
        ""
    };
    let mut used = BTreeSet::new();
    let mut report = ConvertReport::default();
    let blob = build_blob(&config, "converting", |slot| {
        let (name, shape) = bert_source(&config, slot.kind, slot.layer)?;
        let name = format!("{prefix}{name}");
        let tensor = match file.tensor(&name) {
            Ok(t) => t,
            Err(_) if slot.presence == Presence::Optional => {
                report.absent_optional.push(name);
                return Ok(None);
            }
            Err(_) => bail!("missing tensor `{name}` (a BERT checkpoint has it)"),
        };
        let values = checkpoint::tensor_values(&name, &tensor, &shape)?;
        used.insert(name);
        Ok(Some(values))
    })?;
    report.note_unused(&file, &used);
    Ok((blob, report))
}
