//! Multi-head attention: `Z_h = softmax(Q_h K_h^T / sqrt(Dk) + M) V_h`, `out = Z Wo^T + bo`
//! (`docs/spec.md`, "Multi-head attention").
//!
//! The projections and the per-query attention are separate steps because the three
//! uses differ only in where K and V come from: the same rows (encoder self-attention,
//! [`project_keys_values`] then [`attend_all`]), the cache of past positions (decoder
//! self-attention, [`append_keys_values`] then [`attend_cached`]: the causal mask is a
//! query reading only the cached positions `<= i`), or the encoder output
//! (encoder-decoder attention, keys and values projected once per source, then
//! [`attend_all`]). All three run the same kernel, `picoformer_kernels::attention_probed`.

use crate::error::{Error, Result};
use crate::model::weights::AttentionWeights;
use crate::probe::ProbeSite;
use picoformer_kernels as k;
use picoformer_kernels::Activations;

/// One decoder layer's self-attention key/value cache: `[B, T, D]` keys and values, slot
/// `b` holding hypothesis `b`'s rows at positions `0..T`.
pub(crate) struct KvCache<'c> {
    /// `[B, T, D]` keys.
    pub keys: &'c mut [f32],
    /// `[B, T, D]` values.
    pub values: &'c mut [f32],
    /// Elements of one slot, `T * D`.
    pub slot_len: usize,
}

/// Element offset of `(slot, position)` in a cache of `slot_len`-element slots of
/// `d`-element rows.
fn cache_offset(slot_len: usize, slot: usize, position: usize, d: usize) -> Result<usize> {
    slot.checked_mul(slot_len)
        .and_then(|start| start.checked_add(position.checked_mul(d)?))
        .ok_or(Error::SizeOverflow)
}

/// `q = input Wq^T + bq` for `[n, D]` rows.
pub(crate) fn project_queries(
    w: &AttentionWeights,
    input: &[f32],
    d: usize,
    q: &mut [f32],
    act: &mut Activations,
) {
    k::quant::linear(input, &w.q, w.q_bias, d, q, act);
}

/// `keys = input Wk^T + bk`, `values = input Wv^T + bv` for `[n, D]` rows.
pub(crate) fn project_keys_values(
    w: &AttentionWeights,
    input: &[f32],
    d: usize,
    keys: &mut [f32],
    values: &mut [f32],
    act: &mut Activations,
) {
    k::quant::linear(input, &w.k, w.k_bias, d, keys, act);
    k::quant::linear(input, &w.v, w.v_bias, d, values, act);
}

/// Attention of each query row in place over the same `keys`/`values` `[m, D]`
/// (every query sees every key: the encoder and encoder-decoder case). `probe` receives
/// the watched head's probabilities of each query row, if it watches this step.
pub(crate) fn attend_all(
    q: &mut [f32],
    keys: &[f32],
    values: &[f32],
    n_heads: usize,
    d: usize,
    scores: &mut [f32],
    mut probe: ProbeSite,
) {
    // Host threads: head by head over runs of rows, the same bits (see the kernel).
    #[cfg(feature = "threads")]
    if !probe.watches() && k::dispatch::attention_rows(q, keys, values, n_heads, d, scores.len()) {
        return;
    }
    // (a range, not `.enumerate()`: its counter is overflow-checked)
    let rows = q.len() / d.max(1);
    for (row, q_row) in (0..rows).zip(q.chunks_exact_mut(d.max(1))) {
        k::attention_probed(q_row, keys, values, n_heads, scores, probe.row(row));
    }
}

/// [`attend_all`] under the int8 attention rule (`docs/spec.md`, "int8 key/value cache";
/// blob flag bit 5 on an encoder-decoder model): each key and value row of `keys`/`values`
/// `[m, D]` quantized per head into an int8 row of `kv_row_words(D, n_heads)` words in
/// `packed` (keys, then values: `2 m` such rows, which fit in `[m, D]` floats for a head width
/// of 8 or more, as the configuration requires), then every query row attended over them by the dispatched int8 kernel.
/// Heads of a multiple of 4 values are packed head by head instead, the values transposed
/// (`pack_all_kv`, `attention_all_i8`: the same bits, the layout Helium's weighted sums
/// read eight keys at a time).
#[cfg(feature = "int8-attention")]
#[allow(clippy::too_many_arguments)] // attend_all's arguments and the packing space
pub(crate) fn attend_all_i8(
    q: &mut [f32],
    keys: &mut [f32],
    values: &[f32],
    packed: &mut [f32],
    n_heads: usize,
    d: usize,
    scores: &mut [f32],
) -> Result<()> {
    let rows = keys.len() / d.max(1);
    {
        // the heads' keys by rows and values transposed (`pack_all_kv`): the same
        // integers, scales and bits as the cache rows below; where the head width is not
        // a multiple of 4 or they do not fit, the cache rows
        let packed: &mut [u32] =
            bytemuck::try_cast_slice_mut(&mut *packed).map_err(|_| Error::ScratchMisaligned)?;
        if k::pack_all_kv(keys, values, d, n_heads, packed) {
            // the f32 keys, packed, are free: two query rows' scores at a time and the
            // kernel's per-pair work (it shares each value load between them;
            // `scores` alone: one at a time)
            let pair_len = k::attention_i8::pair_scores_len(rows);
            let pair_scores: &mut [f32] = if keys.len() >= pair_len { keys } else { scores };
            if !k::attention_all_i8_rows(q, d, packed, n_heads, rows, pair_scores) {
                return Err(Error::SizeOverflow);
            }
            return Ok(());
        }
    }
    let row_words = k::attention_i8::kv_row_words(d, n_heads);
    let half = rows.checked_mul(row_words).ok_or(Error::SizeOverflow)?;
    let packed: &mut [u32] =
        bytemuck::try_cast_slice_mut(packed).map_err(|_| Error::ScratchMisaligned)?;
    let (packed_keys, rest) = packed
        .split_at_mut_checked(half)
        .ok_or(Error::SizeOverflow)?;
    let packed_values = rest.get_mut(..half).ok_or(Error::SizeOverflow)?;
    for (source, packed) in [(&*keys, &mut *packed_keys), (values, &mut *packed_values)] {
        // rows split off one at a time, not a zip of two chunk iterators: at opt-level
        // "z" that zip is an outlined `Zip::new` whose chunk counts divide by a size the
        // no-panic proof cannot see is non-zero
        let mut rest = packed;
        for row in source.chunks_exact(d.max(1)) {
            let Some((dst, tail)) = core::mem::take(&mut rest).split_at_mut_checked(row_words)
            else {
                break;
            };
            k::attention_i8::quantize_kv_row(row, n_heads, dst);
            rest = tail;
        }
    }
    for q_row in q.chunks_exact_mut(d.max(1)) {
        k::attention_grouped_i8(
            q_row,
            packed_keys,
            packed_values,
            n_heads,
            n_heads,
            row_words,
            scores,
        );
    }
    Ok(())
}

/// Appends each row's key and value to the cache: `input Wk^T + bk` and
/// `input Wv^T + bv` (computed through `tmp` `[n, D]`) go to the row's place,
/// `at(row) = (slot, position)`.
pub(crate) fn append_keys_values(
    w: &AttentionWeights,
    input: &[f32],
    d: usize,
    cache: &mut KvCache,
    at: impl Fn(usize) -> (usize, usize),
    tmp: &mut [f32],
    act: &mut Activations,
) -> Result<()> {
    let slot_len = cache.slot_len;
    for (cache, weights, bias) in [
        (&mut *cache.keys, w.k, w.k_bias),
        (&mut *cache.values, w.v, w.v_bias),
    ] {
        k::quant::linear(input, &weights, bias, d, tmp, act);
        let rows = tmp.len() / d.max(1);
        for (row, projected) in (0..rows).zip(tmp.chunks_exact(d.max(1))) {
            let (slot, position) = at(row);
            let start = cache_offset(slot_len, slot, position, d)?;
            let place = start
                .checked_add(d)
                .and_then(|end| cache.get_mut(start..end))
                .ok_or(Error::SizeOverflow)?;
            for (dst, &src) in place.iter_mut().zip(projected) {
                *dst = src;
            }
        }
    }
    Ok(())
}

/// Attention of each query row in place over the cached keys/values of its slot,
/// positions `0..=position` (`at(row) = (slot, position)`): the causal mask, since a query
/// reads no later position. `probe` receives the watched head's probabilities of each
/// query row, if it watches this step.
pub(crate) fn attend_cached(
    q: &mut [f32],
    cache: &KvCache,
    at: impl Fn(usize) -> (usize, usize),
    n_heads: usize,
    d: usize,
    scores: &mut [f32],
    mut probe: ProbeSite,
) -> Result<()> {
    let rows = q.len() / d.max(1);
    for (row, q_row) in (0..rows).zip(q.chunks_exact_mut(d.max(1))) {
        let (slot, position) = at(row);
        let start = cache_offset(cache.slot_len, slot, 0, d)?;
        let end = position
            .checked_add(1)
            .and_then(|rows| rows.checked_mul(d))
            .and_then(|len| start.checked_add(len))
            .ok_or(Error::SizeOverflow)?;
        let (Some(keys), Some(values)) = (cache.keys.get(start..end), cache.values.get(start..end))
        else {
            return Err(Error::SizeOverflow);
        };
        k::attention_probed(q_row, keys, values, n_heads, scores, probe.row(row));
    }
    Ok(())
}

/// `out = z Wo^T + bo` for `[n, D]` rows.
pub(crate) fn project_output(
    w: &AttentionWeights,
    z: &[f32],
    d: usize,
    out: &mut [f32],
    act: &mut Activations,
) {
    k::quant::linear(z, &w.out, w.out_bias, d, out, act);
}
