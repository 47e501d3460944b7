//! CTranslate2 model files (`model.bin`, format version 6), and Whisper (`WhisperSpec`)
//! from one into a blob.
//!
//! The file (little endian): `u32 version, str spec, u32 revision, u32 n`, then `n`
//! variables `{str name, u8 rank, u32 dims[rank], u8 dtype, u32 nbytes, bytes}`, then
//! `u32 n_aliases` pairs `{str alias, str target}`; `str` = `u16 len` + bytes (NUL padded);
//! dtype 0 f32, 1 i8, 2 i16, 3 i32, 4 f16, 5 bf16.
//!
//! Whisper is a pre-norm encoder-decoder with GELU, final LayerNorms (eps 1e-5), stored
//! position tables on both sides, a tied output and Whisper's convolution stem. CT2
//! fuses projections: `self_attention/linear_0` is Q, K, V stacked `[3D, D]`;
//! `attention/linear_0` is the cross Q and `attention/linear_1` the cross K, V `[2D, D]`;
//! the fused biases carry zeros for K, which the blob leaves out (Whisper's key
//! projections have no bias).
//!
//! Weights stored as f16 (or bf16) are widened to f32 here: the blob is f32 (the engine
//! has no f16 compute path).

use crate::convert::build_blob;
use anyhow::{bail, ensure, Context};
use picoformer::blob::{Presence, TensorKind as K};
use picoformer::config::{Activation, Config, Dims, Norm, Positional, STEM_KERNEL};
use std::collections::BTreeMap;

/// Element type of a CTranslate2 variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ct2Dtype {
    /// 32-bit float.
    F32,
    /// 8-bit integer.
    I8,
    /// 16-bit integer.
    I16,
    /// 32-bit integer.
    I32,
    /// IEEE half.
    F16,
    /// bfloat16.
    Bf16,
}

impl Ct2Dtype {
    fn from_code(code: u8) -> anyhow::Result<Self> {
        Ok(match code {
            0 => Ct2Dtype::F32,
            1 => Ct2Dtype::I8,
            2 => Ct2Dtype::I16,
            3 => Ct2Dtype::I32,
            4 => Ct2Dtype::F16,
            5 => Ct2Dtype::Bf16,
            other => bail!("unknown CTranslate2 dtype code {other}"),
        })
    }

    fn size(self) -> usize {
        match self {
            Ct2Dtype::I8 => 1,
            Ct2Dtype::I16 | Ct2Dtype::F16 | Ct2Dtype::Bf16 => 2,
            Ct2Dtype::F32 | Ct2Dtype::I32 => 4,
        }
    }
}

/// One variable of a CTranslate2 file, borrowed from the file's bytes.
#[derive(Debug, Clone)]
pub struct Ct2Variable<'b> {
    /// Dimensions (empty for a scalar).
    pub shape: Vec<usize>,
    /// Element type.
    pub dtype: Ct2Dtype,
    /// Raw little-endian elements.
    pub data: &'b [u8],
}

/// A parsed CTranslate2 model file.
#[derive(Debug)]
pub struct Ct2File<'b> {
    /// Format version (6).
    pub version: u32,
    /// Model specification name, e.g. `WhisperSpec`.
    pub spec: String,
    /// Specification revision.
    pub revision: u32,
    variables: BTreeMap<String, Ct2Variable<'b>>,
    aliases: BTreeMap<String, String>,
}

/// Reads the file's fields in order; every read is bounds-checked.
struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> anyhow::Result<&'b [u8]> {
        let end = self.at.checked_add(n).context("length overflow")?;
        let out = self
            .bytes
            .get(self.at..end)
            .with_context(|| format!("file truncated at byte {} (needs {n} more)", self.at))?;
        self.at = end;
        Ok(out)
    }
    fn u8(&mut self) -> anyhow::Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> anyhow::Result<u16> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into()?))
    }
    fn u32(&mut self) -> anyhow::Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into()?))
    }
    fn str(&mut self) -> anyhow::Result<String> {
        let len = usize::from(self.u16()?);
        let raw = self.take(len)?;
        let text = raw.split(|&b| b == 0).next().unwrap_or(&[]);
        Ok(String::from_utf8(text.to_vec())?)
    }
}

impl<'b> Ct2File<'b> {
    /// Parses a whole `model.bin` (version 6).
    pub fn parse(bytes: &'b [u8]) -> anyhow::Result<Self> {
        let mut r = Reader { bytes, at: 0 };
        let version = r.u32()?;
        ensure!(
            version == 6,
            "CTranslate2 file version {version}; this reader knows version 6"
        );
        let spec = r.str()?;
        let revision = r.u32()?;
        let count = r.u32()?;
        let mut variables = BTreeMap::new();
        for _ in 0..count {
            let name = r.str()?;
            let rank = usize::from(r.u8()?);
            let shape = (0..rank)
                .map(|_| r.u32().map(|v| v as usize))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let dtype = Ct2Dtype::from_code(r.u8()?)?;
            let nbytes = r.u32()? as usize;
            let data = r.take(nbytes)?;
            let elements: usize = shape.iter().product();
            ensure!(
                elements * dtype.size() == nbytes,
                "variable `{name}`: {nbytes} bytes for shape {shape:?} of {dtype:?}"
            );
            variables.insert(name, Ct2Variable { shape, dtype, data });
        }
        let mut aliases = BTreeMap::new();
        for _ in 0..r.u32()? {
            let alias = r.str()?;
            let target = r.str()?;
            aliases.insert(alias, target);
        }
        ensure!(r.at == bytes.len(), "{} trailing bytes", bytes.len() - r.at);
        Ok(Ct2File {
            version,
            spec,
            revision,
            variables,
            aliases,
        })
    }

    /// The variable `name` (following an alias), if any.
    pub fn get(&self, name: &str) -> Option<&Ct2Variable<'b>> {
        let name = self.aliases.get(name).map_or(name, String::as_str);
        self.variables.get(name)
    }

    /// Whether `alias` is an alias of `target`.
    pub fn is_alias(&self, alias: &str, target: &str) -> bool {
        self.aliases.get(alias).is_some_and(|t| t == target)
    }

    /// The variable `name` widened to f32; its shape must be `shape`.
    pub fn f32s(&self, name: &str, shape: &[usize]) -> anyhow::Result<Vec<f32>> {
        let v = self
            .get(name)
            .with_context(|| format!("missing variable `{name}`"))?;
        ensure!(
            v.shape == shape,
            "variable `{name}` has shape {:?}, expected {shape:?}",
            v.shape
        );
        Ok(match v.dtype {
            Ct2Dtype::F32 => v
                .data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Ct2Dtype::F16 => v
                .data
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Ct2Dtype::Bf16 => v
                .data
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => bail!("variable `{name}` holds {other:?}, not floats"),
        })
    }

    /// The integer scalar `name`, if present.
    pub fn scalar(&self, name: &str) -> anyhow::Result<Option<i64>> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        ensure!(v.shape.is_empty(), "variable `{name}` is not a scalar");
        Ok(Some(match v.dtype {
            Ct2Dtype::I8 => i64::from(v.data[0] as i8),
            Ct2Dtype::I16 => i64::from(i16::from_le_bytes([v.data[0], v.data[1]])),
            Ct2Dtype::I32 => i64::from(i32::from_le_bytes(v.data.try_into()?)),
            other => bail!("scalar `{name}` holds {other:?}"),
        }))
    }

    /// The first dimension of `name`'s shape, or an error naming it.
    fn dim(&self, name: &str, axis: usize) -> anyhow::Result<usize> {
        self.get(name)
            .and_then(|v| v.shape.get(axis).copied())
            .with_context(|| format!("missing variable `{name}` (or its axis {axis})"))
    }

    /// How many `{prefix}/layer_{i}` layers the file holds.
    fn layers(&self, prefix: &str) -> usize {
        (0..)
            .take_while(|i| {
                let start = format!("{prefix}/layer_{i}/");
                self.variables.keys().any(|k| k.starts_with(&start))
            })
            .count()
    }
}

/// Whisper's special tokens: end of text and start of transcript.
#[derive(Debug, Clone, Copy)]
pub struct WhisperTokens {
    /// `<|endoftext|>` (the engine's eos).
    pub eos: u32,
    /// `<|startoftranscript|>` (the engine's bos).
    pub sot: u32,
}

impl WhisperTokens {
    /// From the vocabulary's lines (CT2's `vocabulary.txt`, one token per line), or by
    /// Whisper's layout when absent: multilingual vocabularies (51865 and up) put
    /// `<|endoftext|>` at 50257, English-only ones (51864) at 50256.
    pub fn find(vocabulary: Option<&str>, vocab_size: usize) -> Self {
        let line = |token: &str| {
            vocabulary.and_then(|v| v.lines().position(|l| l == token).map(|i| i as u32))
        };
        let eos_default = if vocab_size >= 51865 { 50257 } else { 50256 };
        WhisperTokens {
            eos: line("<|endoftext|>").unwrap_or(eos_default),
            sot: line("<|startoftranscript|>").unwrap_or(eos_default + 1),
        }
    }
}

/// The engine configuration of a CTranslate2 Whisper model.
pub fn whisper_config(file: &Ct2File, tokens: WhisperTokens) -> anyhow::Result<Config> {
    ensure!(
        file.spec == "WhisperSpec",
        "model spec is {:?}, not WhisperSpec",
        file.spec
    );
    if let Some(pre_norm) = file.scalar("decoder/pre_norm")? {
        ensure!(
            pre_norm == 1,
            "decoder/pre_norm is {pre_norm}: Whisper is pre-norm"
        );
    }
    if let Some(activation) = file.scalar("decoder/activation")? {
        ensure!(
            activation == 3,
            "decoder/activation is {activation}, not GELU (3)"
        );
    }
    if let Some(scale) = file.scalar("decoder/scale_embeddings")? {
        ensure!(scale == 0, "decoder/scale_embeddings is set: not Whisper");
    }
    let heads = file
        .scalar("encoder/num_heads")?
        .context("missing encoder/num_heads")?;
    let decoder_heads = file.scalar("decoder/num_heads")?.unwrap_or(heads);
    ensure!(
        heads == decoder_heads,
        "encoder and decoder head counts differ"
    );
    let config = Config {
        dims: Dims {
            d_model: file.dim("decoder/embeddings/weight", 1)?,
            n_heads: usize::try_from(heads)?,
            d_ff: file.dim("encoder/layer_0/ffn/linear_0/weight", 0)?,
            n_encoder_layers: file.layers("encoder"),
            n_decoder_layers: file.layers("decoder"),
            src_vocab: 0,
            tgt_vocab: file.dim("decoder/embeddings/weight", 0)?,
            max_src_len: file.dim("encoder/position_encodings/encodings", 0)?,
            max_tgt_len: file.dim("decoder/position_encodings/encodings", 0)?,
            type_vocab: 0,
            stem_channels: file.dim("encoder/conv1/weight", 1)?,
            n_kv_heads: usize::try_from(heads)?,
            feed_forward: picoformer::config::FeedForward::Plain,
            kv_cache: picoformer::config::CacheType::F32,
        },
        norm: Norm::Pre,
        activation: Activation::Gelu,
        positional: Positional::Learned,
        layer_norm_eps: 1e-5,
        norm_kind: picoformer::config::NormKind::LayerNorm,
        rope_theta: 0.0,
        scale_embeddings: false,
        tie_output: file.get("decoder/projection/weight").is_none()
            || file.is_alias("decoder/projection/weight", "decoder/embeddings/weight"),
        final_norm: true,
        src_embed_norm: false,
        bos_id: tokens.sot,
        eos_id: tokens.eos,
        pad_id: tokens.eos,
    };
    config.validate()?;
    Ok(config)
}

/// Where a slot's data is in the CT2 file: a variable, optionally one `[D, ...]` part of
/// a fused variable (`part` of `parts`), optionally a convolution to re-lay kernel-major.
struct Ct2Source {
    name: String,
    part: Option<(usize, usize)>,
    conv: bool,
}

fn whisper_source(kind: K, layer: usize) -> Option<Ct2Source> {
    let whole = |name: String| Ct2Source {
        name,
        part: None,
        conv: false,
    };
    let enc = |s: &str| whole(format!("encoder/layer_{layer}/{s}"));
    let dec = |s: &str| whole(format!("decoder/layer_{layer}/{s}"));
    let fused = |side: &str, s: &str, part: usize, parts: usize| Ct2Source {
        name: format!("{side}/layer_{layer}/{s}"),
        part: Some((part, parts)),
        conv: false,
    };
    let conv = |name: &str| Ct2Source {
        name: name.into(),
        part: None,
        conv: true,
    };
    Some(match kind {
        K::StemConv1Weight => conv("encoder/conv1/weight"),
        K::StemConv1Bias => whole("encoder/conv1/bias".into()),
        K::StemConv2Weight => conv("encoder/conv2/weight"),
        K::StemConv2Bias => whole("encoder/conv2/bias".into()),
        K::SrcPos => whole("encoder/position_encodings/encodings".into()),
        K::TgtEmbed => whole("decoder/embeddings/weight".into()),
        K::TgtPos => whole("decoder/position_encodings/encodings".into()),
        K::EncNormGamma => whole("encoder/layer_norm/gamma".into()),
        K::EncNormBeta => whole("encoder/layer_norm/beta".into()),
        K::DecNormGamma => whole("decoder/layer_norm/gamma".into()),
        K::DecNormBeta => whole("decoder/layer_norm/beta".into()),
        K::OutWeight => whole("decoder/projection/weight".into()),
        K::OutBias => whole("decoder/projection/bias".into()),
        K::EncSelfQWeight => fused("encoder", "self_attention/linear_0/weight", 0, 3),
        K::EncSelfKWeight => fused("encoder", "self_attention/linear_0/weight", 1, 3),
        K::EncSelfVWeight => fused("encoder", "self_attention/linear_0/weight", 2, 3),
        K::EncSelfQBias => fused("encoder", "self_attention/linear_0/bias", 0, 3),
        K::EncSelfKBias => fused("encoder", "self_attention/linear_0/bias", 1, 3),
        K::EncSelfVBias => fused("encoder", "self_attention/linear_0/bias", 2, 3),
        K::EncSelfOutWeight => enc("self_attention/linear_1/weight"),
        K::EncSelfOutBias => enc("self_attention/linear_1/bias"),
        K::EncNorm1Gamma => enc("self_attention/layer_norm/gamma"),
        K::EncNorm1Beta => enc("self_attention/layer_norm/beta"),
        K::EncFfnW1 => enc("ffn/linear_0/weight"),
        K::EncFfnB1 => enc("ffn/linear_0/bias"),
        K::EncFfnW2 => enc("ffn/linear_1/weight"),
        K::EncFfnB2 => enc("ffn/linear_1/bias"),
        K::EncNorm2Gamma => enc("ffn/layer_norm/gamma"),
        K::EncNorm2Beta => enc("ffn/layer_norm/beta"),
        K::DecSelfQWeight => fused("decoder", "self_attention/linear_0/weight", 0, 3),
        K::DecSelfKWeight => fused("decoder", "self_attention/linear_0/weight", 1, 3),
        K::DecSelfVWeight => fused("decoder", "self_attention/linear_0/weight", 2, 3),
        K::DecSelfQBias => fused("decoder", "self_attention/linear_0/bias", 0, 3),
        K::DecSelfKBias => fused("decoder", "self_attention/linear_0/bias", 1, 3),
        K::DecSelfVBias => fused("decoder", "self_attention/linear_0/bias", 2, 3),
        K::DecSelfOutWeight => dec("self_attention/linear_1/weight"),
        K::DecSelfOutBias => dec("self_attention/linear_1/bias"),
        K::DecNorm1Gamma => dec("self_attention/layer_norm/gamma"),
        K::DecNorm1Beta => dec("self_attention/layer_norm/beta"),
        K::DecCrossQWeight => dec("attention/linear_0/weight"),
        K::DecCrossQBias => dec("attention/linear_0/bias"),
        K::DecCrossKWeight => fused("decoder", "attention/linear_1/weight", 0, 2),
        K::DecCrossVWeight => fused("decoder", "attention/linear_1/weight", 1, 2),
        K::DecCrossKBias => fused("decoder", "attention/linear_1/bias", 0, 2),
        K::DecCrossVBias => fused("decoder", "attention/linear_1/bias", 1, 2),
        K::DecCrossOutWeight => dec("attention/linear_2/weight"),
        K::DecCrossOutBias => dec("attention/linear_2/bias"),
        K::DecNorm2Gamma => dec("attention/layer_norm/gamma"),
        K::DecNorm2Beta => dec("attention/layer_norm/beta"),
        K::DecFfnW1 => dec("ffn/linear_0/weight"),
        K::DecFfnB1 => dec("ffn/linear_0/bias"),
        K::DecFfnW2 => dec("ffn/linear_1/weight"),
        K::DecFfnB2 => dec("ffn/linear_1/bias"),
        K::DecNorm3Gamma => dec("ffn/layer_norm/gamma"),
        K::DecNorm3Beta => dec("ffn/layer_norm/beta"),
        K::SrcEmbed | K::SrcTypeEmbed | K::SrcEmbedNormGamma | K::SrcEmbedNormBeta => return None,
    })
}

/// Converts a CTranslate2 Whisper `model.bin` into a blob (f16 weights widened to f32).
/// `vocabulary`: the model's `vocabulary.txt`, to find the special tokens (optional).
pub fn convert_ct2_whisper(
    model_bin: &[u8],
    vocabulary: Option<&str>,
) -> anyhow::Result<(Config, Vec<u8>)> {
    let file = Ct2File::parse(model_bin).context("reading the CTranslate2 file")?;
    let vocab_size = file.dim("decoder/embeddings/weight", 0)?;
    let config = whisper_config(&file, WhisperTokens::find(vocabulary, vocab_size))?;
    let d = config.dims.d_model;
    let blob = build_blob(&config, "converting", |slot| {
        let source = whisper_source(slot.kind, slot.layer)
            .with_context(|| format!("Whisper has no tensor for {:?}", slot.kind))?;
        let Some(variable) = file.get(&source.name) else {
            if slot.presence == Presence::Optional {
                return Ok(None);
            }
            bail!("missing variable `{}`", source.name);
        };
        let shape = variable.shape.clone();
        let values = file.f32s(&source.name, &shape)?;
        let values = match source.part {
            None => values,
            Some((part, parts)) => {
                ensure!(
                    shape.first() == Some(&(parts * d)) && values.len() == parts * slot.len,
                    "variable `{}` of shape {shape:?} is not {parts} fused parts of {} elements",
                    source.name,
                    slot.len
                );
                let values = values[part * slot.len..(part + 1) * slot.len].to_vec();
                let is_bias = shape.len() == 1;
                if is_bias && values.iter().all(|&v| v == 0.0) {
                    return Ok(None); // a fused-in zero bias (the key projections)
                }
                values
            }
        };
        let values = if source.conv {
            // PyTorch's [out, in, K] -> the engine's kernel-major [out, K, in].
            let [out, channels, kernel] = shape[..] else {
                bail!("convolution `{}` has shape {shape:?}", source.name);
            };
            ensure!(
                kernel == STEM_KERNEL,
                "convolution `{}` kernel {kernel}",
                source.name
            );
            let mut relaid = vec![0.0f32; values.len()];
            for o in 0..out {
                for c in 0..channels {
                    for k in 0..kernel {
                        relaid[(o * kernel + k) * channels + c] =
                            values[(o * channels + c) * kernel + k];
                    }
                }
            }
            relaid
        } else {
            values
        };
        ensure!(
            values.len() == slot.len,
            "variable `{}` has {} elements, the blob slot {:?} needs {}",
            source.name,
            values.len(),
            slot.kind,
            slot.len
        );
        Ok(Some(values))
    })?;
    Ok((config, blob))
}
