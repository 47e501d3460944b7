//! Reading safetensors checkpoints for the converters (torch, hf-bert, hf-llama): a file
//! that does not parse is explained in user terms with the tensor at fault (the
//! `safetensors` crate's own errors are bare variant names such as `TensorInvalidInfo`),
//! tensor values are read from F32, F16 or BF16 and must be finite, and tensors of layers
//! the configuration does not have are found.

use anyhow::{bail, Result};
use safetensors::{Dtype, SafeTensorError, SafeTensors};
use std::collections::BTreeMap;

/// Opens a safetensors file; errors say what is wrong with it and, where one is at fault,
/// name the tensor.
pub fn open(bytes: &[u8]) -> Result<SafeTensors<'_>> {
    SafeTensors::deserialize(bytes).map_err(|e| {
        let why = diagnose(bytes).unwrap_or_else(|| describe(&e));
        anyhow::anyhow!("not a valid safetensors file: {why}")
    })
}

/// The crate's error in words, for what [`diagnose`] did not pin down.
fn describe(e: &SafeTensorError) -> String {
    match e {
        SafeTensorError::InvalidHeader => "its header is not UTF-8 text".into(),
        SafeTensorError::InvalidHeaderStart => "its header does not start with `{`".into(),
        SafeTensorError::InvalidHeaderDeserialization | SafeTensorError::JsonError(_) => {
            "its header is not the JSON table of tensors safetensors expects".into()
        }
        SafeTensorError::HeaderTooLarge => "its header is larger than 100 MB".into(),
        SafeTensorError::HeaderTooSmall => "the file is shorter than the 8-byte header length".into(),
        SafeTensorError::InvalidHeaderLength => {
            "the header length points past the end of the file".into()
        }
        SafeTensorError::TensorNotFound(name) => format!("no tensor `{name}`"),
        SafeTensorError::TensorInvalidInfo => {
            "a tensor's shape and dtype do not match its byte range".into()
        }
        SafeTensorError::InvalidOffset(name) => {
            format!("tensor `{name}` has byte offsets that overlap another tensor or leave a gap")
        }
        SafeTensorError::IoError(e) => format!("reading it failed: {e}"),
        SafeTensorError::InvalidTensorView(dtype, shape, len) => {
            format!("a {dtype:?} tensor of shape {shape:?} cannot hold {len} bytes")
        }
        SafeTensorError::MetadataIncompleteBuffer => {
            "its tensors do not cover the data section exactly (truncated, or bytes after the last tensor)".into()
        }
        SafeTensorError::ValidationOverflow => "a tensor's size overflows".into(),
    }
}

/// Bytes per element of a safetensors dtype name; `None` for an unknown name.
fn element_bytes(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" => 1,
        "I16" | "U16" | "F16" | "BF16" => 2,
        "I32" | "U32" | "F32" => 4,
        "I64" | "U64" | "F64" => 8,
        _ => return None,
    })
}

/// Our own reading of the header, to say which tensor makes the file invalid: `None`
/// when it finds nothing (then the crate's error is described instead).
fn diagnose(bytes: &[u8]) -> Option<String> {
    let Some(len_bytes) = bytes.get(..8) else {
        return Some(format!(
            "the file has {} bytes, fewer than the 8-byte header length every safetensors file starts with",
            bytes.len()
        ));
    };
    let header_len = u64::from_le_bytes(len_bytes.try_into().ok()?);
    let available = bytes.len() as u64 - 8;
    if header_len > available {
        return Some(format!(
            "its first 8 bytes give a header of {header_len} bytes, but only {available} follow \
             (not a safetensors file, or cut off in its header)"
        ));
    }
    let header = &bytes[8..8 + header_len as usize];
    let text = match std::str::from_utf8(header) {
        Ok(text) => text,
        Err(_) => return Some("its header is not UTF-8 text".into()),
    };
    let table: BTreeMap<String, serde_json::Value> = match serde_json::from_str(text) {
        Ok(table) => table,
        Err(e) => return Some(format!("its header is not a JSON table of tensors ({e})")),
    };
    let data_len = available - header_len;
    // (start, end, name) of every tensor, checked one by one.
    let mut spans = Vec::new();
    for (name, info) in &table {
        if name == "__metadata__" {
            continue;
        }
        let dtype = info.get("dtype").and_then(|d| d.as_str());
        let shape: Option<Vec<u64>> = info
            .get("shape")
            .and_then(|s| s.as_array())
            .and_then(|s| s.iter().map(|d| d.as_u64()).collect());
        let offsets: Option<[u64; 2]> = info
            .get("data_offsets")
            .and_then(|s| s.as_array())
            .and_then(|s| s.iter().map(|d| d.as_u64()).collect::<Option<Vec<u64>>>())
            .and_then(|o| o.try_into().ok());
        let (Some(dtype), Some(shape), Some([start, end])) = (dtype, shape, offsets) else {
            return Some(format!(
                "tensor `{name}` lacks a dtype, a shape or two data_offsets in the header"
            ));
        };
        let Some(size) = element_bytes(dtype) else {
            return Some(format!("tensor `{name}` has the unknown dtype {dtype:?}"));
        };
        let needed = shape.iter().try_fold(size, |n, &d| n.checked_mul(d));
        let Some(needed) = needed else {
            return Some(format!("tensor `{name}`: its shape {shape:?} is too large"));
        };
        if end < start || end - start != needed {
            return Some(format!(
                "tensor `{name}`: a {dtype} tensor of shape {shape:?} needs {needed} bytes, its \
                 data_offsets [{start}, {end}] span {}",
                end.saturating_sub(start)
            ));
        }
        if end > data_len {
            return Some(format!(
                "tensor `{name}` lies past the end of the file (its bytes end at {end}, the data \
                 section has {data_len}): the file is cut off"
            ));
        }
        spans.push((start, end, name));
    }
    spans.sort();
    let mut at = 0;
    let mut previous: Option<&String> = None;
    for &(start, end, name) in &spans {
        if start < at {
            return Some(format!(
                "tensor `{name}` overlaps tensor `{}`",
                previous.map_or("", |p| p.as_str())
            ));
        }
        if start > at {
            return Some(format!(
                "{} bytes before tensor `{name}` belong to no tensor",
                start - at
            ));
        }
        at = end;
        previous = Some(name);
    }
    if at < data_len {
        return Some(format!(
            "{} bytes after the last tensor{} belong to no tensor",
            data_len - at,
            previous.map_or(String::new(), |p| format!(" (`{p}`)"))
        ));
    }
    None
}

/// The values of a tensor of shape `expected` as f32: F32 as stored, F16 and BF16 widened
/// (exactly). Errors name the tensor: another dtype, another shape, or a value that is
/// not finite (NaN or infinite weights would make every output NaN).
pub fn tensor_values(
    name: &str,
    tensor: &safetensors::tensor::TensorView,
    expected: &[usize],
) -> Result<Vec<f32>> {
    if tensor.shape() != expected {
        bail!(
            "tensor `{name}` has shape {:?}, expected {expected:?}",
            tensor.shape()
        );
    }
    let data = tensor.data();
    let values: Vec<f32> = match tensor.dtype() {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F16 => data
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        other => {
            bail!("tensor `{name}` has dtype {other:?}; the converters read F32, F16 and BF16")
        }
    };
    check_finite(name, &values)?;
    Ok(values)
}

/// An error naming the tensor, the count and the first of its non-finite values.
pub fn check_finite(name: &str, values: &[f32]) -> Result<()> {
    let mut bad = values.iter().enumerate().filter(|(_, v)| !v.is_finite());
    if let Some((first, value)) = bad.next() {
        bail!(
            "tensor `{name}` holds {} non-finite values (the first, {value}, at element {first}): \
             the checkpoint is damaged or its training diverged",
            1 + bad.count()
        );
    }
    Ok(())
}

/// `(the name up to its layer number, the number)` of a tensor inside a numbered layer,
/// as `("model.layers", 3)` for `model.layers.3.mlp.up_proj.weight` (also BERT's
/// `encoder.layer.3.…`).
fn layer_of(name: &str) -> Option<(&str, usize)> {
    let parts: Vec<&str> = name.split('.').collect();
    parts.windows(2).enumerate().find_map(|(i, pair)| {
        let is_stack = pair[0] == "layers" || pair[0] == "layer";
        let index = pair[1].parse().ok()?;
        let prefix_len = parts[..=i].iter().map(|p| p.len() + 1).sum::<usize>() - 1;
        is_stack.then(|| (&name[..prefix_len], index))
    })
}

/// The tensors among `unused` that belong to layers the conversion did not read: in a
/// stack of layers (`model.layers`, `encoder.layer`, …) a layer numbered at or beyond the
/// number of that stack's layers the conversion used. A checkpoint with more layers than
/// its config would otherwise be converted into a different, shallower model.
pub fn extra_layer_tensors(used: &[&str], unused: &[String]) -> Vec<String> {
    let mut layers: BTreeMap<&str, usize> = BTreeMap::new();
    for (stack, index) in used.iter().filter_map(|name| layer_of(name)) {
        let count = layers.entry(stack).or_default();
        *count = (*count).max(index + 1);
    }
    unused
        .iter()
        .filter(|name| {
            layer_of(name)
                .is_some_and(|(stack, index)| index >= layers.get(stack).copied().unwrap_or(0))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_names() {
        assert_eq!(
            layer_of("model.layers.3.mlp.up_proj.weight"),
            Some(("model.layers", 3))
        );
        assert_eq!(
            layer_of("encoder.layer.11.output.dense.bias"),
            Some(("encoder.layer", 11))
        );
        assert_eq!(layer_of("model.norm.weight"), None);
        let used = ["model.layers.0.a", "model.layers.1.a", "decoder.layers.0.a"];
        let unused = [
            "model.layers.1.rotary_emb.inv_freq".to_string(),
            "model.layers.2.a".to_string(),
            "encoder.layers.0.a".to_string(),
            "lm_head.weight".to_string(),
        ];
        assert_eq!(
            extra_layer_tensors(&used, &unused),
            ["model.layers.2.a", "encoder.layers.0.a"]
        );
    }
}
