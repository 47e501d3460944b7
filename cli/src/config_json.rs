//! The JSON form of a model configuration (`CONFIG.json` of `convert`, `info --json`).

use picoformer::config::{Activation, Config, Dims, FeedForward, Norm, NormKind, Positional};
use serde::{Deserialize, Serialize};

/// `CONFIG.json`: the keys every converter and `info --json` use.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ConfigJson {
    pub d_model: usize,
    pub n_heads: usize,
    pub d_ff: usize,
    pub n_encoder_layers: usize,
    pub n_decoder_layers: usize,
    pub src_vocab: usize,
    pub tgt_vocab: usize,
    pub max_src_len: usize,
    pub max_tgt_len: usize,
    /// "post" | "pre"
    pub norm: String,
    /// "relu" | "gelu" | "silu"
    pub activation: String,
    /// "sinusoidal" | "sinusoidal-concat" | "learned" | "none" | "rope" | "rope-half"
    pub positional: String,
    pub layer_norm_eps: f32,
    pub scale_embeddings: bool,
    pub tie_output: bool,
    pub final_norm: bool,
    pub bos_id: u32,
    pub eos_id: u32,
    pub pad_id: u32,
    /// Token-type embedding rows (BERT); 0 or absent: none.
    #[serde(default)]
    pub type_vocab: usize,
    /// Input channels of the convolution stem; 0 or absent: no stem.
    #[serde(default)]
    pub stem_channels: usize,
    /// LayerNorm on the source embedding (BERT); absent: false.
    #[serde(default)]
    pub src_embed_norm: bool,
    /// Key/value heads of the decoder's self-attention; absent: `n_heads`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_kv_heads: Option<usize>,
    /// "layernorm" | "rmsnorm"; absent: "layernorm".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub norm_kind: Option<String>,
    /// "plain" | "gated"; absent: "plain".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed_forward: Option<String>,
    /// Base of the rotary frequencies (rotary positions only); absent: 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rope_theta: Option<f32>,
}

impl ConfigJson {
    /// Parses and validates `CONFIG.json` text.
    pub fn parse(text: &str) -> anyhow::Result<Config> {
        let json: ConfigJson = serde_json::from_str(text)?;
        json.to_config()
    }

    /// The engine's config, validated.
    pub fn to_config(&self) -> anyhow::Result<Config> {
        let norm = match self.norm.as_str() {
            "post" => Norm::Post,
            "pre" => Norm::Pre,
            other => anyhow::bail!("norm must be \"post\" or \"pre\", not {other:?}"),
        };
        let activation = match self.activation.as_str() {
            "relu" => Activation::Relu,
            "gelu" => Activation::Gelu,
            "silu" => Activation::Silu,
            other => {
                anyhow::bail!("activation must be \"relu\", \"gelu\" or \"silu\", not {other:?}")
            }
        };
        let positional = match self.positional.as_str() {
            "sinusoidal" => Positional::Sinusoidal,
            "sinusoidal-concat" => Positional::SinusoidalConcat,
            "learned" => Positional::Learned,
            "none" => Positional::None,
            "rope" => Positional::Rope,
            "rope-half" => Positional::RopeHalf,
            other => anyhow::bail!(
                "positional must be \"sinusoidal\", \"sinusoidal-concat\", \"learned\", \"none\", \"rope\" or \"rope-half\", not {other:?}"
            ),
        };
        let norm_kind = match self.norm_kind.as_deref() {
            None | Some("layernorm") => NormKind::LayerNorm,
            Some("rmsnorm") => NormKind::RmsNorm,
            Some(other) => {
                anyhow::bail!("norm_kind must be \"layernorm\" or \"rmsnorm\", not {other:?}")
            }
        };
        let feed_forward = match self.feed_forward.as_deref() {
            None | Some("plain") => FeedForward::Plain,
            Some("gated") => FeedForward::Gated,
            Some(other) => {
                anyhow::bail!("feed_forward must be \"plain\" or \"gated\", not {other:?}")
            }
        };
        let config = Config {
            dims: Dims {
                d_model: self.d_model,
                n_heads: self.n_heads,
                d_ff: self.d_ff,
                n_encoder_layers: self.n_encoder_layers,
                n_decoder_layers: self.n_decoder_layers,
                src_vocab: self.src_vocab,
                tgt_vocab: self.tgt_vocab,
                max_src_len: self.max_src_len,
                max_tgt_len: self.max_tgt_len,
                type_vocab: self.type_vocab,
                stem_channels: self.stem_channels,
                n_kv_heads: self.n_kv_heads.unwrap_or(self.n_heads),
                feed_forward,
                kv_cache: picoformer::config::CacheType::F32,
            },
            norm,
            activation,
            positional,
            layer_norm_eps: self.layer_norm_eps,
            norm_kind,
            rope_theta: self.rope_theta.unwrap_or(0.0),
            scale_embeddings: self.scale_embeddings,
            tie_output: self.tie_output,
            final_norm: self.final_norm,
            src_embed_norm: self.src_embed_norm,
            bos_id: self.bos_id,
            eos_id: self.eos_id,
            pad_id: self.pad_id,
        };
        config.validate()?;
        Ok(config)
    }
}

impl From<&Config> for ConfigJson {
    fn from(c: &Config) -> Self {
        let d = &c.dims;
        ConfigJson {
            d_model: d.d_model,
            n_heads: d.n_heads,
            d_ff: d.d_ff,
            n_encoder_layers: d.n_encoder_layers,
            n_decoder_layers: d.n_decoder_layers,
            src_vocab: d.src_vocab,
            tgt_vocab: d.tgt_vocab,
            max_src_len: d.max_src_len,
            max_tgt_len: d.max_tgt_len,
            norm: match c.norm {
                Norm::Post => "post",
                Norm::Pre => "pre",
            }
            .into(),
            activation: match c.activation {
                Activation::Relu => "relu",
                Activation::Gelu => "gelu",
                Activation::Silu => "silu",
            }
            .into(),
            positional: match c.positional {
                Positional::None => "none",
                Positional::Sinusoidal => "sinusoidal",
                Positional::SinusoidalConcat => "sinusoidal-concat",
                Positional::Learned => "learned",
                Positional::Rope => "rope",
                Positional::RopeHalf => "rope-half",
            }
            .into(),
            layer_norm_eps: c.layer_norm_eps,
            scale_embeddings: c.scale_embeddings,
            tie_output: c.tie_output,
            final_norm: c.final_norm,
            bos_id: c.bos_id,
            eos_id: c.eos_id,
            pad_id: c.pad_id,
            type_vocab: d.type_vocab,
            stem_channels: d.stem_channels,
            src_embed_norm: c.src_embed_norm,
            n_kv_heads: (d.n_kv_heads != d.n_heads).then_some(d.n_kv_heads),
            norm_kind: (c.norm_kind == NormKind::RmsNorm).then(|| "rmsnorm".into()),
            feed_forward: (d.feed_forward == FeedForward::Gated).then(|| "gated".into()),
            rope_theta: c.positional.is_rope().then_some(c.rope_theta),
        }
    }
}
