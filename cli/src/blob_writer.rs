//! The blob writer (the engine, `picoformer::blob`, only reads blobs): serialises a
//! configuration and its f32 tensors into the format `picoformer::blob` documents, with
//! the weight matrices stored as f32, f16 or int8.

use picoformer::blob::{
    header_len, seal, slot, slot_count, stored_matrix_rows, Presence, Slot, TensorKind, ALIGN,
    FLAG_FINAL_NORM, FLAG_I8_EMBEDDING, FLAG_I8_KV_CACHE, FLAG_I8_STEM, FLAG_SCALE_EMBEDDINGS,
    FLAG_SRC_EMBED_NORM, FLAG_TIE_OUTPUT, MAGIC, TABLE_ENTRY_BYTES, TABLE_OFFSET, VERSION,
};
use picoformer::config::STEM_KERNEL;
use picoformer::kernels::quant::{f16, quantize_weight_row, I8_MAX_K};
use picoformer::{Config, WeightType};

/// How far one weight matrix moved when it was stored in a narrower dtype.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantError {
    /// The tensor.
    pub kind: TensorKind,
    /// Its layer (0 for globals).
    pub layer: usize,
    /// Largest `|w - stored(w)|`.
    pub max_abs: f32,
    /// Largest `|w|` (so `max_abs / max_weight` is the error relative to the range).
    pub max_weight: f32,
    /// `||w - stored(w)|| / ||w||` (Frobenius norms; 0 for an all-zero matrix).
    pub relative_rms: f32,
}

/// Serialises `config` and its tensors into an f32 blob.
///
/// `tensor(index, slot)` returns the data of table slot `index`, or `None` when the (optional) tensor is
/// absent. Required tensors that are missing and tensors of the wrong length are an
/// error naming the slot.
pub fn write_blob<'t>(
    config: &Config,
    tensor: impl FnMut(usize, &Slot) -> Option<&'t [f32]>,
) -> core::result::Result<Vec<u8>, String> {
    write_blob_as(config, WeightType::F32, tensor).map(|(blob, _)| blob)
}

/// Serialises `config` and its f32 tensors into a blob whose weight matrices are
/// stored as `dtype` (see the module documentation), and reports each matrix's
/// quantization error (empty for f32). f16 rounds to nearest; a weight beyond f16's
/// range (65504) is an error naming its tensor. int8: one scale per row, `max|w| / 127`.
pub fn write_blob_as<'t>(
    config: &Config,
    dtype: WeightType,
    tensor: impl FnMut(usize, &Slot) -> Option<&'t [f32]>,
) -> core::result::Result<(Vec<u8>, Vec<QuantError>), String> {
    write_blob_with(config, dtype, false, tensor)
}

/// [`write_blob_as`], and with `i8_embedding` (int8 blobs of a tied model only) the
/// target embedding stored as an int8 matrix too (`FLAG_I8_EMBEDDING`: the tied
/// classifier then runs on the int8 kernels); its error is reported with the others.
pub fn write_blob_with<'t>(
    config: &Config,
    dtype: WeightType,
    i8_embedding: bool,
    tensor: impl FnMut(usize, &Slot) -> Option<&'t [f32]>,
) -> core::result::Result<(Vec<u8>, Vec<QuantError>), String> {
    let flags = if i8_embedding { FLAG_I8_EMBEDDING } else { 0 };
    write_blob_stored(config, dtype, flags, tensor)
}

/// A stem convolution's weight `[D, K, c]` (kernel-major, as the f32 stem stores it)
/// reordered tap-major, `[K D, c]`: row `k D + o` is output channel `o`'s weights of tap
/// `k`, the int8 stem's layout (one scale per output channel and tap).
fn stem_tap_major(w: &[f32], d: usize) -> Vec<f32> {
    let c = w.len() / (STEM_KERNEL * d).max(1);
    let mut out = Vec::with_capacity(w.len());
    for tap in 0..STEM_KERNEL {
        for row in w.chunks_exact((STEM_KERNEL * c).max(1)).take(d) {
            out.extend_from_slice(&row[tap * c..(tap + 1) * c]);
        }
    }
    out
}

/// [`write_blob_as`] with the tensors that `stored` (a set of the header flags
/// `FLAG_I8_EMBEDDING` and `FLAG_I8_STEM`) makes int8 matrices: the target embedding
/// (int8 blobs of a tied model only) and the convolution stem's two weights (int8 blobs
/// of a model with a stem only: `FLAG_I8_STEM`, the stem's convolutions then run on the
/// int8 kernels). Their errors are reported with the others.
pub fn write_blob_stored<'t>(
    config: &Config,
    dtype: WeightType,
    stored: u32,
    mut tensor: impl FnMut(usize, &Slot) -> Option<&'t [f32]>,
) -> core::result::Result<(Vec<u8>, Vec<QuantError>), String> {
    config.validate().map_err(|e| e.to_string())?;
    let d = &config.dims;
    if stored & !(FLAG_I8_EMBEDDING | FLAG_I8_STEM) != 0 {
        return Err("only the int8 embedding and stem flags choose stored matrices".into());
    }
    let i8_embedding = stored & FLAG_I8_EMBEDDING != 0;
    let i8_stem = stored & FLAG_I8_STEM != 0;
    if i8_embedding && !(dtype == WeightType::I8 && config.tie_output && config.has_decoder()) {
        return Err("an int8 target embedding needs int8 weights and a tied output".into());
    }
    if i8_stem && !(dtype == WeightType::I8 && d.stem_channels > 0 && config.has_encoder()) {
        return Err("an int8 stem needs int8 weights and a model with a convolution stem".into());
    }
    if i8_stem && d.stem_channels > I8_MAX_K {
        return Err("an int8 stem needs stem_channels <= 131072".into());
    }
    if dtype == WeightType::I8 && d.d_model.max(d.d_ff) > I8_MAX_K {
        return Err("int8 weights need d_model and d_ff <= 131072".into());
    }
    let header_len = header_len(d).map_err(|e| e.to_string())?;
    let mut table: Vec<(Slot, Option<&'t [f32]>)> = Vec::new();
    for index in 0..slot_count(d) {
        let slot = slot(config, index)
            .map_err(|e| e.to_string())?
            .ok_or("table slot out of range")?;
        let data = match slot.presence {
            Presence::Absent => None,
            _ => tensor(index, &slot),
        };
        match (slot.presence, data) {
            (Presence::Required, None) => {
                return Err(format!(
                    "missing tensor {:?} of layer {}",
                    slot.kind, slot.layer
                ))
            }
            (_, Some(t)) if t.len() != slot.len => {
                return Err(format!(
                    "tensor {:?} of layer {} has {} elements, expected {}",
                    slot.kind,
                    slot.layer,
                    t.len(),
                    slot.len
                ))
            }
            _ => {}
        }
        table.push((slot, data));
    }
    let mut out = vec![0u8; header_len];
    let mut entries = Vec::with_capacity(table.len());
    let mut errors = Vec::new();
    for (slot, data) in &table {
        let (offset, len) = match data {
            Some(t) => {
                let offset = out.len();
                match (dtype, stored_matrix_rows(d, slot.kind, stored)) {
                    (WeightType::F32, _) | (_, None) => {
                        for v in t.iter() {
                            out.extend_from_slice(&v.to_le_bytes());
                        }
                    }
                    (WeightType::F16, Some(_)) => {
                        let mut stored = Vec::with_capacity(t.len());
                        for &v in t.iter() {
                            let h = f16::from_f32(v);
                            if v.is_finite() && !h.is_finite() {
                                return Err(format!(
                                    "tensor {:?} of layer {}: {v} is beyond f16's range",
                                    slot.kind, slot.layer
                                ));
                            }
                            out.extend_from_slice(&h.to_le_bytes());
                            stored.push(h.to_f32());
                        }
                        errors.push(measure(slot, t, &stored));
                    }
                    (WeightType::I8, Some(rows)) => {
                        let tap_major;
                        let t: &[f32] = if i8_stem
                            && matches!(
                                slot.kind,
                                TensorKind::StemConv1Weight | TensorKind::StemConv2Weight
                            ) {
                            tap_major = stem_tap_major(t, d.d_model);
                            &tap_major
                        } else {
                            t
                        };
                        let cols = t.len() / rows.max(1);
                        let mut q = vec![0i8; t.len()];
                        let mut scales = Vec::with_capacity(rows);
                        for (w_row, q_row) in t
                            .chunks_exact(cols.max(1))
                            .zip(q.chunks_exact_mut(cols.max(1)))
                        {
                            scales.push(quantize_weight_row(w_row, q_row));
                        }
                        if scales.iter().any(|s| !s.is_finite()) {
                            return Err(format!(
                                "tensor {:?} of layer {} holds a non-finite weight",
                                slot.kind, slot.layer
                            ));
                        }
                        for s in &scales {
                            out.extend_from_slice(&s.to_le_bytes());
                        }
                        out.resize(out.len().div_ceil(ALIGN) * ALIGN, 0);
                        out.extend(q.iter().map(|&v| v as u8));
                        let stored: Vec<f32> = q
                            .chunks_exact(cols.max(1))
                            .zip(&scales)
                            .flat_map(|(row, &s)| row.iter().map(move |&v| s * f32::from(v)))
                            .collect();
                        errors.push(measure(slot, t, &stored));
                    }
                }
                out.resize(out.len().div_ceil(ALIGN) * ALIGN, 0);
                (offset, t.len())
            }
            None => (0, 0),
        };
        let to_u32 = |v: usize| u32::try_from(v).map_err(|_| "blob larger than 4 GiB");
        entries.push([
            slot.kind as u32,
            to_u32(slot.layer)?,
            to_u32(offset)?,
            to_u32(len)?,
        ]);
    }
    let blob_len = u32::try_from(out.len()).map_err(|_| "blob larger than 4 GiB")?;
    let mut put = |offset: usize, value: u32| {
        out[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
    };
    let dim = |v: usize| v as u32; // validate() bounds every dimension by 2^20
    put(8, VERSION);
    put(12, header_len as u32);
    put(16, blob_len);
    put(20, dtype as u32);
    for (i, v) in [
        d.d_model,
        d.n_heads,
        d.d_ff,
        d.n_encoder_layers,
        d.n_decoder_layers,
        d.src_vocab,
        d.tgt_vocab,
        d.max_src_len,
        d.max_tgt_len,
    ]
    .into_iter()
    .enumerate()
    {
        put(24 + 4 * i, dim(v));
    }
    put(60, config.norm as u32);
    put(64, config.activation as u32);
    put(68, config.positional as u32);
    put(72, config.layer_norm_eps.to_bits());
    let flags = (config.scale_embeddings as u32 * FLAG_SCALE_EMBEDDINGS)
        | (config.tie_output as u32 * FLAG_TIE_OUTPUT)
        | (config.final_norm as u32 * FLAG_FINAL_NORM)
        | (config.src_embed_norm as u32 * FLAG_SRC_EMBED_NORM)
        | (i8_embedding as u32 * FLAG_I8_EMBEDDING)
        | (i8_stem as u32 * FLAG_I8_STEM)
        | ((d.kv_cache == picoformer::CacheType::I8) as u32 * FLAG_I8_KV_CACHE);
    put(76, flags);
    put(80, config.bos_id);
    put(84, config.eos_id);
    put(88, config.pad_id);
    put(92, table.len() as u32);
    put(96, TABLE_OFFSET as u32);
    put(100, dim(d.type_vocab));
    put(104, dim(d.stem_channels));
    put(108, dim(d.n_kv_heads));
    put(112, config.norm_kind as u32);
    put(116, d.feed_forward as u32);
    put(120, config.rope_theta.to_bits());
    for (i, entry) in entries.iter().enumerate() {
        for (j, v) in entry.iter().enumerate() {
            put(TABLE_OFFSET + i * TABLE_ENTRY_BYTES + 4 * j, *v);
        }
    }
    out[..8].copy_from_slice(&MAGIC);
    seal(&mut out).map_err(|e| e.to_string())?;
    Ok((out, errors))
}

fn measure(slot: &Slot, original: &[f32], stored: &[f32]) -> QuantError {
    let (mut max_abs, mut max_weight, mut err2, mut norm2) = (0.0f32, 0.0f32, 0.0f64, 0.0f64);
    for (&w, &s) in original.iter().zip(stored) {
        let e = (w - s).abs();
        max_abs = max_abs.max(e);
        max_weight = max_weight.max(w.abs());
        err2 += f64::from(e) * f64::from(e);
        norm2 += f64::from(w) * f64::from(w);
    }
    QuantError {
        kind: slot.kind,
        layer: slot.layer,
        max_abs,
        max_weight,
        relative_rms: if norm2 > 0.0 {
            (err2 / norm2).sqrt() as f32
        } else {
            0.0
        },
    }
}
