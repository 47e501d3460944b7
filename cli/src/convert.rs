//! Converters from trained checkpoints to the picoformer blob.
//!
//! `torch`: a safetensors file with PyTorch `nn.Transformer` `state_dict` names plus
//! `src_embed.weight`, `tgt_embed.weight`, `generator.weight`, `generator.bias`,
//! `src_pos.weight`, `tgt_pos.weight` (and `src_type_embed.weight`,
//! `src_embed_norm.{weight,bias}` for those options). The fused `in_proj_weight` `[3D, D]`
//! of each attention block is split into Q, K and V.
//!
//! The other formats live beside this one: [`super::hf_bert`] (Hugging Face BERT) and
//! [`super::ct2_whisper`] (CTranslate2 Whisper). All of them fill the canonical table
//! through [`build_blob`].

use crate::blob_writer::{self, QuantError};
use crate::checkpoint;
use anyhow::{bail, Context};
use picoformer::blob::{self, Presence, Slot, TensorKind as K};
use picoformer::config::{Config, Positional, WeightType};
use picoformer::Model;

use std::collections::BTreeSet;

/// Builds the blob of `config`, asking `tensor` for the data of every slot the
/// configuration uses, in table order (`Ok(None)`: an absent optional tensor). Shows a
/// progress bar on a terminal.
pub fn build_blob(
    config: &Config,
    what: &str,
    mut tensor: impl FnMut(&Slot) -> anyhow::Result<Option<Vec<f32>>>,
) -> anyhow::Result<Vec<u8>> {
    config.validate()?;
    let count = blob::slot_count(&config.dims);
    let progress = super::progress_bar(count as u64, what);
    let mut data: Vec<Option<Vec<f32>>> = Vec::with_capacity(count);
    // Sinusoidal position tables are stored only on request ([`store_positions`]), never
    // read from a checkpoint: the engine's own sinusoids are the model's.
    let sinusoid_table = |slot: &Slot| {
        matches!(slot.kind, K::SrcPos | K::TgtPos) && config.positional != Positional::Learned
    };
    for index in 0..count {
        let slot = blob::slot(config, index)?.context("slot index out of range")?;
        data.push(match slot.presence {
            Presence::Absent => None,
            _ if sinusoid_table(&slot) => None,
            _ => tensor(&slot)?,
        });
        progress.inc(1);
    }
    progress.finish_and_clear();
    blob_writer::write_blob(config, |index, _slot| {
        data.get(index).and_then(|d| d.as_deref())
    })
    .map_err(anyhow::Error::msg)
}

/// Re-writes an f32 blob with its weight matrices stored as `dtype`, and reports each
/// matrix's quantization error (see [`blob_writer::write_blob_as`]). Every converter
/// writes f32; this is the one place quantization happens.
/// Embeddings stay f32 ([`requantize_with`] stores a tied target embedding as int8).
pub fn requantize(
    f32_blob: &[u8],
    dtype: WeightType,
) -> anyhow::Result<(Vec<u8>, Vec<QuantError>)> {
    requantize_with(f32_blob, dtype, false)
}

/// [`requantize`]; with `i8_embedding`, an int8 blob of a model whose classifier is tied
/// to the target embedding stores that embedding as int8 too (`blob::FLAG_I8_EMBEDDING`:
/// the classifier runs on the int8 kernels, and the blob is about 3/4 of the embedding's
/// f32 bytes smaller); ignored for other blobs. Not the default: the int8 classifier's
/// logits follow the last bits of its f32 input, so a target whose f32 kernels round
/// differently from the host's can take another token at a near-tie (measured on
/// `tests/golden/llama_stories260k`: the Cortex-M33 departs from the host at token 159
/// of 256).
pub fn requantize_with(
    f32_blob: &[u8],
    dtype: WeightType,
    i8_embedding: bool,
) -> anyhow::Result<(Vec<u8>, Vec<QuantError>)> {
    let aligned = super::AlignedBytes::copy_from(f32_blob);
    let model = Model::from_blob(aligned.as_slice()).context("reading the f32 blob")?;
    if model.dtype() != WeightType::F32 {
        bail!(
            "the blob already holds {} weights; convert from f32",
            model.dtype().name()
        );
    }
    let config = *model.config();
    let blob = aligned.as_slice();
    let i8_embedding =
        i8_embedding && dtype == WeightType::I8 && config.tie_output && config.has_decoder();
    blob_writer::write_blob_with(&config, dtype, i8_embedding, |index, _| {
        f32_tensor(blob, index)
    })
    .map_err(anyhow::Error::msg)
}

/// [`requantize_with`]; with `i8_stem`, an int8 blob of a model with a convolution stem
/// (Whisper) stores the stem's two convolution weights as int8 matrices too
/// (`blob::FLAG_I8_STEM`: tap-major, one scale per output channel and tap, each tap the
/// int8 linear layer over its input rows, docs/spec.md "int8 convolution stem").
/// `i8_stem` with another dtype or a model without a stem is an error.
pub fn requantize_stored(
    f32_blob: &[u8],
    dtype: WeightType,
    i8_embedding: bool,
    i8_stem: bool,
) -> anyhow::Result<(Vec<u8>, Vec<QuantError>)> {
    if !i8_stem {
        return requantize_with(f32_blob, dtype, i8_embedding);
    }
    let aligned = super::AlignedBytes::copy_from(f32_blob);
    let model = Model::from_blob(aligned.as_slice()).context("reading the f32 blob")?;
    if model.dtype() != WeightType::F32 {
        bail!(
            "the blob already holds {} weights; convert from f32",
            model.dtype().name()
        );
    }
    let config = *model.config();
    if dtype != WeightType::I8 || config.dims.stem_channels == 0 {
        bail!("an int8 stem needs --dtype i8 and a model with a convolution stem (Whisper)");
    }
    let blob = aligned.as_slice();
    let i8_embedding =
        i8_embedding && dtype == WeightType::I8 && config.tie_output && config.has_decoder();
    let stored = if i8_embedding {
        blob::FLAG_I8_EMBEDDING
    } else {
        0
    } | blob::FLAG_I8_STEM;
    blob_writer::write_blob_stored(&config, dtype, stored, |index, _| f32_tensor(blob, index))
        .map_err(anyhow::Error::msg)
}

/// Re-writes an f32 blob of a sinusoidal model with its position tables stored
/// (`SrcPos [S, D]`, `TgtPos [T, D]`, exactly the values the engine computes), so that
/// firmware built without the engine's `sinusoid` feature runs it without sin/cos.
/// Other positional kinds are returned unchanged.
pub fn store_positions(f32_blob: &[u8]) -> anyhow::Result<Vec<u8>> {
    let aligned = super::AlignedBytes::copy_from(f32_blob);
    let model = Model::from_blob(aligned.as_slice()).context("reading the f32 blob")?;
    if model.dtype() != WeightType::F32 {
        bail!(
            "store the position tables before quantizing (the blob holds {} weights)",
            model.dtype().name()
        );
    }
    let config = *model.config();
    if !matches!(
        config.positional,
        Positional::Sinusoidal | Positional::SinusoidalConcat
    ) {
        return Ok(f32_blob.to_vec());
    }
    let d = config.dims.d_model;
    let table = |rows: usize| {
        let mut table = vec![0.0f32; rows * d];
        config.positional.sinusoid_table(d, &mut table);
        table
    };
    let (src, tgt) = (
        table(config.dims.max_src_len),
        table(config.dims.max_tgt_len),
    );
    let blob = aligned.as_slice();
    blob_writer::write_blob(&config, |index, slot| match slot.kind {
        K::SrcPos if config.has_encoder() => Some(src.as_slice()),
        K::TgtPos if config.has_decoder() => Some(tgt.as_slice()),
        _ => f32_tensor(blob, index),
    })
    .map_err(anyhow::Error::msg)
}

/// The f32 data of table slot `index` of an f32 blob that `Model::from_blob` accepted
/// (so every table entry lies inside the blob, 16-byte aligned); `None` when absent.
fn f32_tensor(blob: &[u8], index: usize) -> Option<&[f32]> {
    let word = |at: usize| -> Option<usize> {
        let bytes = blob.get(at..at.checked_add(4)?)?;
        usize::try_from(u32::from_le_bytes(bytes.try_into().ok()?)).ok()
    };
    let entry = blob::TABLE_OFFSET + index * blob::TABLE_ENTRY_BYTES;
    let (offset, len) = (word(entry + 8)?, word(entry + 12)?);
    if len == 0 {
        return None;
    }
    // Little-endian in place, as the engine reads it (it refuses big-endian targets).
    bytemuck::try_cast_slice(blob.get(offset..offset.checked_add(len.checked_mul(4)?)?)?).ok()
}

/// One line per quantized matrix: its largest absolute error, that error relative to
/// the matrix's largest weight, and the relative RMS error.
pub fn quant_report_lines(errors: &[QuantError]) -> Vec<String> {
    errors
        .iter()
        .map(|e| {
            let rel = if e.max_weight > 0.0 {
                e.max_abs / e.max_weight
            } else {
                0.0
            };
            format!(
                "{:<18} layer {:>2}: max |err| {:.3e} ({:.3}% of max |w| {:.3e}), rms {:.3}%",
                format!("{:?}", e.kind),
                e.layer,
                e.max_abs,
                100.0 * rel,
                e.max_weight,
                100.0 * e.relative_rms
            )
        })
        .collect()
}

/// The tensors a PyTorch checkpoint of `config` holds for [`convert_torch`]: each name
/// once, with its shape, in table order (optional ones included). Test and fuzz seeds
/// build their checkpoints from it.
pub fn torch_tensors(config: &Config) -> anyhow::Result<Vec<(String, Vec<usize>)>> {
    let mut tensors: Vec<(String, Vec<usize>)> = Vec::new();
    build_blob(config, "listing", |slot| {
        if let Some(source) = torch_source(slot) {
            if !tensors.iter().any(|(name, _)| *name == source.name) {
                let shape = torch_shape(config, slot, source.part.is_some());
                tensors.push((source.name, shape));
            }
        }
        Ok(Some(vec![0.0; slot.len]))
    })?;
    Ok(tensors)
}

/// Where a blob slot's data comes from in the PyTorch file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TorchSource {
    name: String,
    /// `Some(i)`: rows `i*D..(i+1)*D` of a fused `[3D, ...]` in-projection (Q, K, V).
    part: Option<usize>,
}

/// `None` for the convolution stem, which this format does not name.
fn torch_source(slot: &Slot) -> Option<TorchSource> {
    let whole = |name: &str| TorchSource {
        name: name.to_string(),
        part: None,
    };
    let enc = |suffix: &str| whole(&format!("encoder.layers.{}.{suffix}", slot.layer));
    let dec = |suffix: &str| whole(&format!("decoder.layers.{}.{suffix}", slot.layer));
    let fused = |side: &str, block: &str, what: &str, part: usize| TorchSource {
        name: format!("{side}.layers.{}.{block}.in_proj_{what}", slot.layer),
        part: Some(part),
    };
    Some(match slot.kind {
        K::SrcEmbed => whole("src_embed.weight"),
        K::SrcTypeEmbed => whole("src_type_embed.weight"),
        K::SrcEmbedNormGamma => whole("src_embed_norm.weight"),
        K::SrcEmbedNormBeta => whole("src_embed_norm.bias"),
        K::StemConv1Weight | K::StemConv1Bias | K::StemConv2Weight | K::StemConv2Bias => {
            return None
        }
        K::SrcPos => whole("src_pos.weight"),
        K::TgtEmbed => whole("tgt_embed.weight"),
        K::TgtPos => whole("tgt_pos.weight"),
        K::EncNormGamma => whole("encoder.norm.weight"),
        K::EncNormBeta => whole("encoder.norm.bias"),
        K::DecNormGamma => whole("decoder.norm.weight"),
        K::DecNormBeta => whole("decoder.norm.bias"),
        K::OutWeight => whole("generator.weight"),
        K::OutBias => whole("generator.bias"),
        K::EncSelfQWeight => fused("encoder", "self_attn", "weight", 0),
        K::EncSelfKWeight => fused("encoder", "self_attn", "weight", 1),
        K::EncSelfVWeight => fused("encoder", "self_attn", "weight", 2),
        K::EncSelfQBias => fused("encoder", "self_attn", "bias", 0),
        K::EncSelfKBias => fused("encoder", "self_attn", "bias", 1),
        K::EncSelfVBias => fused("encoder", "self_attn", "bias", 2),
        K::EncSelfOutWeight => enc("self_attn.out_proj.weight"),
        K::EncSelfOutBias => enc("self_attn.out_proj.bias"),
        K::EncNorm1Gamma => enc("norm1.weight"),
        K::EncNorm1Beta => enc("norm1.bias"),
        K::EncFfnW1 => enc("linear1.weight"),
        K::EncFfnB1 => enc("linear1.bias"),
        K::EncFfnW2 => enc("linear2.weight"),
        K::EncFfnB2 => enc("linear2.bias"),
        K::EncNorm2Gamma => enc("norm2.weight"),
        K::EncNorm2Beta => enc("norm2.bias"),
        K::DecSelfQWeight => fused("decoder", "self_attn", "weight", 0),
        K::DecSelfKWeight => fused("decoder", "self_attn", "weight", 1),
        K::DecSelfVWeight => fused("decoder", "self_attn", "weight", 2),
        K::DecSelfQBias => fused("decoder", "self_attn", "bias", 0),
        K::DecSelfKBias => fused("decoder", "self_attn", "bias", 1),
        K::DecSelfVBias => fused("decoder", "self_attn", "bias", 2),
        K::DecSelfOutWeight => dec("self_attn.out_proj.weight"),
        K::DecSelfOutBias => dec("self_attn.out_proj.bias"),
        K::DecNorm1Gamma => dec("norm1.weight"),
        K::DecNorm1Beta => dec("norm1.bias"),
        K::DecCrossQWeight => fused("decoder", "multihead_attn", "weight", 0),
        K::DecCrossKWeight => fused("decoder", "multihead_attn", "weight", 1),
        K::DecCrossVWeight => fused("decoder", "multihead_attn", "weight", 2),
        K::DecCrossQBias => fused("decoder", "multihead_attn", "bias", 0),
        K::DecCrossKBias => fused("decoder", "multihead_attn", "bias", 1),
        K::DecCrossVBias => fused("decoder", "multihead_attn", "bias", 2),
        K::DecCrossOutWeight => dec("multihead_attn.out_proj.weight"),
        K::DecCrossOutBias => dec("multihead_attn.out_proj.bias"),
        K::DecNorm2Gamma => dec("norm2.weight"),
        K::DecNorm2Beta => dec("norm2.bias"),
        K::DecFfnW1 => dec("linear1.weight"),
        K::DecFfnB1 => dec("linear1.bias"),
        K::DecFfnW2 => dec("linear2.weight"),
        K::DecFfnB2 => dec("linear2.bias"),
        K::DecNorm3Gamma => dec("norm3.weight"),
        K::DecNorm3Beta => dec("norm3.bias"),
    })
}

/// The PyTorch shape of a slot's tensor (before Q/K/V splitting).
fn torch_shape(config: &Config, slot: &Slot, fused: bool) -> Vec<usize> {
    let d = &config.dims;
    let (dm, f) = (d.d_model, d.d_ff);
    let rows = |r: usize| if fused { 3 * r } else { r };
    match slot.kind {
        K::SrcEmbed => vec![d.src_vocab, dm],
        K::SrcTypeEmbed => vec![d.type_vocab, dm],
        K::SrcPos => vec![d.max_src_len, dm],
        K::TgtEmbed | K::OutWeight => vec![d.tgt_vocab, dm],
        K::TgtPos => vec![d.max_tgt_len, dm],
        K::OutBias => vec![d.tgt_vocab],
        K::EncFfnW1 | K::DecFfnW1 => vec![f, dm],
        K::EncFfnW2 | K::DecFfnW2 => vec![dm, f],
        K::EncFfnB1 | K::DecFfnB1 => vec![f],
        K::EncSelfQWeight
        | K::EncSelfKWeight
        | K::EncSelfVWeight
        | K::EncSelfOutWeight
        | K::DecSelfQWeight
        | K::DecSelfKWeight
        | K::DecSelfVWeight
        | K::DecSelfOutWeight
        | K::DecCrossQWeight
        | K::DecCrossKWeight
        | K::DecCrossVWeight
        | K::DecCrossOutWeight => vec![rows(dm), dm],
        _ => vec![rows(dm)],
    }
}

/// Report of a conversion.
#[derive(Debug, Default)]
pub struct ConvertReport {
    /// Tensors of the file that the configuration has no use for.
    pub unused: Vec<String>,
    /// Optional tensors (biases, LayerNorm betas) that were absent.
    pub absent_optional: Vec<String>,
    /// Tensors of layers beyond the configuration's (a checkpoint deeper than its
    /// config): among `unused`; `convert` refuses them unless told to drop them.
    pub extra_layers: Vec<String>,
}

impl ConvertReport {
    /// Fills `unused` and `extra_layers` from the file's tensor names and those read.
    pub fn note_unused(&mut self, file: &safetensors::SafeTensors, used: &BTreeSet<String>) {
        self.unused = file
            .names()
            .into_iter()
            .filter(|name| !used.contains(*name))
            .cloned()
            .collect();
        self.unused.sort();
        let used: Vec<&str> = used.iter().map(String::as_str).collect();
        self.extra_layers = checkpoint::extra_layer_tensors(&used, &self.unused);
    }
}

/// Converts a PyTorch `nn.Transformer` safetensors file into a blob for `config`.
///
/// Missing required tensors and tensors of the wrong shape or dtype are errors naming
/// the tensor.
pub fn convert_torch(
    config: &Config,
    safetensors_bytes: &[u8],
) -> anyhow::Result<(Vec<u8>, ConvertReport)> {
    config.validate()?;
    let file = checkpoint::open(safetensors_bytes)?;
    let mut used = BTreeSet::new();
    let mut report = ConvertReport::default();
    let blob = build_blob(config, "converting", |slot| {
        let source = torch_source(slot).context("the torch converter reads no convolution stem")?;
        let tensor = match file.tensor(&source.name) {
            Ok(t) => t,
            Err(_) if slot.presence == Presence::Optional => {
                report.absent_optional.push(source.name.clone());
                return Ok(None);
            }
            Err(_) => bail!("missing tensor `{}` (needed by this config)", source.name),
        };
        used.insert(source.name.clone());
        let expected = torch_shape(config, slot, source.part.is_some());
        let values = checkpoint::tensor_values(&source.name, &tensor, &expected)?;
        Ok(Some(match source.part {
            None => values,
            Some(part) => values[part * slot.len..(part + 1) * slot.len].to_vec(),
        }))
    })?;
    report.note_unused(&file, &used);
    Ok((blob, report))
}

/// `blob` with its self-attention cache type set to `cache` (blob flag
/// `FLAG_I8_KV_CACHE`; the weights are unchanged): a decoder-only llama-family model's
/// int8 cache, or an encoder-decoder model's int8 encoder self-attention (Whisper);
/// refused where the engine refuses it at load.
pub fn with_kv_cache(blob: &[u8], cache: picoformer::CacheType) -> anyhow::Result<Vec<u8>> {
    use picoformer::blob::FLAG_I8_KV_CACHE;
    let mut out = blob.to_vec();
    let flags = out
        .get_mut(76..80)
        .context("blob shorter than its header")?;
    let mut word = u32::from_le_bytes([flags[0], flags[1], flags[2], flags[3]]);
    word &= !FLAG_I8_KV_CACHE;
    if cache == picoformer::CacheType::I8 {
        word |= FLAG_I8_KV_CACHE;
    }
    flags.copy_from_slice(&word.to_le_bytes());
    picoformer::blob::seal(&mut out).map_err(|e| anyhow::anyhow!("{e}"))?;
    Model::from_blob(super::AlignedBytes::copy_from(&out).as_slice())
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("the blob with the key/value cache type")?;
    Ok(out)
}
