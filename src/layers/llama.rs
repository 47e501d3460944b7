//! The llama family's layers (`docs/spec.md`, "Llama-family layers"), feature `llama`:
//! RMSNorm, rotary position embedding (both pairings), the gated feed-forward network with
//! SiLU (SwiGLU), and decoder self-attention with grouped key/value heads (`n_kv_heads`
//! dividing `n_heads`: multi-head, grouped-query or multi-query attention).
//!
//! They run inside the one decoder (`decoder.rs`) and the one search code: a model takes
//! these paths when [`Config::uses_llama_layers`] says so.

use crate::config::{Activation, CacheType, Config, Positional};
use crate::error::{Error, Result};
use crate::layers::attention::KvCache;
use crate::model::weights::{AttentionWeights, FfnWeights};
use picoformer_kernels as k;
use picoformer_kernels::Activations;

/// RMSNorm of every `d`-wide row of `x` in place:
/// `x = gamma * x / sqrt(mean(x^2) + eps)` (llama2.c's `rmsnorm`; no mean, no beta).
pub(crate) fn rms_norm_rows(x: &mut [f32], gamma: &[f32], eps: f32, d: usize) {
    for row in x.chunks_exact_mut(d.max(1)) {
        let mean_square = k::square_sum(row) / d as f32;
        let inverse = 1.0 / libm::sqrtf(mean_square + eps);
        k::scale_by_gamma(row, gamma, inverse);
    }
}

/// SiLU, `x * sigmoid(x) = x / (1 + e^-x)`, with the kernels' single-precision `exp`
/// ([`k::exp_fast`]: about 1 ulp, the same bits on every target; libm's `expf` costs
/// ~140 cycles on a Cortex-M33, whose FPU runs its double-precision steps in software).
#[inline(always)]
pub(crate) fn silu(x: f32) -> f32 {
    x / (1.0 + k::exp_fast(-x))
}

/// Rotates every `dk`-wide head of both `rows` to `position` (rotary position embedding).
///
/// Pair `i` of a head (`0 <= i < dk/2`) turns by the angle `position * theta_i`,
/// `theta_i = rope_theta^(-2i/dk)`: `(a, b) -> (a cos - b sin, a sin + b cos)`. The pair
/// is `(2i, 2i+1)` for [`Positional::Rope`] (llama2.c, Meta) and `(i, i + dk/2)` for
/// [`Positional::RopeHalf`] (Hugging Face). Other positionals leave `row` unchanged.
///
/// `rows` are rotated alike (a key row and the query row of the same position): each
/// angle's sine and cosine, single-precision `powf`/`sinf`/`cosf` that libm computes in
/// double precision (software on a single-precision FPU), are computed once for all.
/// A decoder step computes them once for all its layers instead ([`rope_angles`],
/// [`rope_with_angles`]): the same values.
pub(crate) fn rope(
    rows: [&mut [f32]; 2],
    dk: usize,
    position: usize,
    rope_theta: f32,
    pairing: Positional,
) {
    let half = dk / 2;
    if half == 0 || !pairing.is_rope() {
        return;
    }
    let [first_row, second_row] = rows;
    for i in 0..half {
        let (sin, cos) = rope_sin_cos(i, dk, position, rope_theta);
        rotate_pair(
            [&mut *first_row, &mut *second_row],
            dk,
            i,
            sin,
            cos,
            pairing,
        );
    }
}

/// The sine and cosine of RoPE pair `i`'s angle at `position` (see [`rope`]).
fn rope_sin_cos(i: usize, dk: usize, position: usize, rope_theta: f32) -> (f32, f32) {
    // wrapping: i < dk / 2, so 2 i < dk
    let frequency = 1.0 / libm::powf(rope_theta, i.wrapping_mul(2) as f32 / dk as f32);
    let angle = position as f32 * frequency;
    // one argument reduction for both: `sincosf` is `sinf` and `cosf` bit for bit (the
    // same reduction and kernels; tested below)
    libm::sincosf(angle)
}

/// Writes the sines then the cosines of `position`'s `dk / 2` RoPE angles into
/// `angles[..dk]` (what [`rope`] computes): a decoder step's table for all its layers.
/// Out of line (libm's argument reduction keeps its frame off the step's).
#[inline(never)]
pub(crate) fn rope_angles(angles: &mut [f32], dk: usize, position: usize, rope_theta: f32) {
    let half = dk / 2;
    let (sines, rest) = angles.split_at_mut(half.min(angles.len()));
    // (a range, not `.enumerate()`: its counter is overflow-checked)
    for (i, (sin, cos)) in (0..half).zip(sines.iter_mut().zip(rest.iter_mut())) {
        (*sin, *cos) = rope_sin_cos(i, dk, position, rope_theta);
    }
}

/// [`rope`] with the position's sines and cosines from `angles` ([`rope_angles`]): the
/// same results (head by head, every pair of a head in one pass). Out of line: its
/// registers are not spilled into the attention's frame, on the deepest stack path.
#[inline(never)]
pub(crate) fn rope_with_angles(
    rows: [&mut [f32]; 2],
    dk: usize,
    angles: &[f32],
    pairing: Positional,
) {
    let half = dk / 2;
    if half == 0 || !pairing.is_rope() {
        return;
    }
    let (sines, cosines) = angles.split_at(half.min(angles.len()));
    let [first_row, second_row] = rows;
    let heads = first_row
        .chunks_exact_mut(dk)
        .chain(second_row.chunks_exact_mut(dk));
    let turn = |a: &mut f32, b: &mut f32, sin: f32, cos: f32| {
        let (x, y) = (*a, *b);
        *a = x * cos - y * sin;
        *b = x * sin + y * cos;
    };
    // Heads of 8 (stories260K's) with adjacent pairs: the 4 angles in registers, each
    // head loaded and stored whole (a loop of 4 pairs stays a loop at opt-level "s").
    if let (Ok(&[s0, s1, s2, s3]), Ok(&[c0, c1, c2, c3]), Positional::Rope, 8) = (
        <&[f32; 4]>::try_from(sines),
        <&[f32; 4]>::try_from(cosines),
        pairing,
        dk,
    ) {
        for head in heads {
            if let Ok(h) = <&mut [f32; 8]>::try_from(head) {
                let [a0, b0, a1, b1, a2, b2, a3, b3] = *h;
                *h = [
                    a0 * c0 - b0 * s0,
                    a0 * s0 + b0 * c0,
                    a1 * c1 - b1 * s1,
                    a1 * s1 + b1 * c1,
                    a2 * c2 - b2 * s2,
                    a2 * s2 + b2 * c2,
                    a3 * c3 - b3 * s3,
                    a3 * s3 + b3 * c3,
                ];
            }
        }
        return;
    }
    for head in heads {
        if pairing == Positional::RopeHalf {
            let (low, high) = head.split_at_mut(half);
            for (((a, b), &sin), &cos) in low.iter_mut().zip(high).zip(sines).zip(cosines) {
                turn(a, b, sin, cos);
            }
        } else {
            for ((pair, &sin), &cos) in head.chunks_exact_mut(2).zip(sines).zip(cosines) {
                if let [a, b] = pair {
                    turn(a, b, sin, cos);
                }
            }
        }
    }
}

/// Turns pair `i` of every `dk`-wide head of both `rows` by the angle of `sin`, `cos`.
#[inline(always)]
fn rotate_pair(
    rows: [&mut [f32]; 2],
    dk: usize,
    i: usize,
    sin: f32,
    cos: f32,
    pairing: Positional,
) {
    let (first, second) = match pairing {
        Positional::RopeHalf => (i, i + dk / 2),
        _ => (2 * i, 2 * i + 1),
    };
    let [first_row, second_row] = rows;
    let heads = first_row
        .chunks_exact_mut(dk)
        .chain(second_row.chunks_exact_mut(dk));
    for head in heads {
        if let (Some(&a), Some(&b)) = (head.get(first), head.get(second)) {
            if let Some(x) = head.get_mut(first) {
                *x = a * cos - b * sin;
            }
            if let Some(y) = head.get_mut(second) {
                *y = a * sin + b * cos;
            }
        }
    }
}

/// Self-attention of the decoder with `n_kv_heads` key/value heads, through the cache, for
/// `[n, D]` input rows (`at(row) = (cache slot, position)`):
///
/// `q = input Wq^T`, `k = input Wk^T`, `v = input Wv^T` (`k`, `v` of width
/// `Dkv = n_kv_heads * dk`, plus the biases when stored), queries and keys rotated to
/// their positions (rotary models), keys and values appended to the cache (`[B, T, Dkv]`),
/// then query head `h` attends over key/value head `h / (H / n_kv_heads)` of positions
/// `0..=position` (the causal mask), and `tmp = z Wo^T + bo` is the sub-layer's output.
/// `q` `[n, D]` ends holding the heads' outputs `z`. `angles`: the rows' RoPE tables
/// ([`rope_angles`], `dk` per row) when the step computed them, else computed here.
// Weights, input, cache, row map, three working buffers and the activation scratch: all
// borrowed separately by the decoder step that calls this.
#[allow(clippy::too_many_arguments)]
pub(crate) fn self_attention(
    config: &Config,
    w: &AttentionWeights,
    input: &[f32],
    cache: &mut KvCache,
    at: impl Fn(usize) -> (usize, usize),
    angles: Option<&[f32]>,
    q: &mut [f32],
    tmp: &mut [f32],
    scores: &mut [f32],
    act: &mut Activations,
) -> Result<()> {
    let dims = &config.dims;
    let d = dims.d_model;
    let (heads, kv_heads) = (dims.n_heads, dims.n_kv_heads);
    let dk = d.checked_div(heads).ok_or(Error::SizeOverflow)?;
    let kv_width = dims.kv_width();
    let n = input.len() / d.max(1);
    if dk == 0 || kv_width == 0 || n == 0 {
        return Ok(());
    }
    let (theta, pairing) = (config.rope_theta, config.positional);
    k::quant::linear(input, &w.q, w.q_bias, d, q, act);
    // Row arithmetic below wraps, exactly: `n` rows of `d` are the input, and
    // `dk <= kv_width <= d` (validation: `n_kv_heads <= n_heads`).
    let projected = tmp
        .get_mut(..n.wrapping_mul(kv_width))
        .ok_or(Error::SizeOverflow)?;
    // An int8 cache (`CacheType::I8`, built with `int8`): rows of `row_words` words.
    let i8_cache = cfg!(feature = "int8") && dims.kv_cache == CacheType::I8;
    let row_words = dims.kv_row_words();
    let slot_len = cache.slot_len;
    for (is_key, cached, weights, bias) in [
        (true, &mut *cache.keys, &w.k, w.k_bias),
        (false, &mut *cache.values, &w.v, w.v_bias),
    ] {
        k::quant::linear(input, weights, bias, d, projected, act);
        // `.enumerate()` by hand: its counter is overflow-checked, this one wraps (it
        // counts rows); a zipped range costs a register in this frame
        let mut next_row = 0usize;
        for new in projected.chunks_exact_mut(kv_width) {
            let row = next_row;
            next_row = next_row.wrapping_add(1);
            let (slot, position) = at(row);
            if is_key {
                // the query row of the same position with its key (one set of angles)
                let next = row.wrapping_add(1); // row < n
                let q_row = q
                    .get_mut(row.wrapping_mul(d)..next.wrapping_mul(d))
                    .unwrap_or(&mut []);
                let (from, to) = (row.wrapping_mul(dk), next.wrapping_mul(dk));
                match angles.and_then(|a| a.get(from..to)) {
                    Some(table) => rope_with_angles([new, q_row], dk, table, pairing),
                    None => rope([new, q_row], dk, position, theta, pairing),
                }
            }
            let start = cache_offset(slot_len, slot, position, row_words)?;
            let place = start
                .checked_add(row_words)
                .and_then(|end| cached.get_mut(start..end))
                .ok_or(Error::SizeOverflow)?;
            if i8_cache {
                k::attention_i8::quantize_kv_row(
                    new,
                    kv_heads,
                    bytemuck::must_cast_slice_mut(place),
                );
                continue;
            }
            for (dst, &src) in place.iter_mut().zip(new.iter()) {
                *dst = src;
            }
        }
    }
    // `.enumerate()` by hand, as above
    let mut next_row = 0usize;
    for q_row in q.chunks_exact_mut(d) {
        let row = next_row;
        next_row = next_row.wrapping_add(1);
        let (slot, position) = at(row);
        let start = cache_offset(slot_len, slot, 0, row_words)?;
        let seen = position.checked_add(1).ok_or(Error::SizeOverflow)?;
        let end = cache_offset(slot_len, slot, seen, row_words)?;
        let (Some(keys), Some(values), Some(scores)) = (
            cache.keys.get(start..end),
            cache.values.get(start..end),
            scores.get_mut(..=position),
        ) else {
            return Err(Error::SizeOverflow);
        };
        if i8_cache {
            // int8 keys and values: integer scores and weighted sums, f32 softmax
            k::attention_grouped_i8(
                q_row,
                bytemuck::must_cast_slice(keys),
                bytemuck::must_cast_slice(values),
                heads,
                kv_heads,
                row_words,
                scores,
            );
            continue;
        }
        // every query head of a group over its key/value head, fused per head (scores,
        // softmax with the kernels' `exp_fast`, weighted sum, one normalisation)
        k::attention_grouped_fused(q_row, keys, values, heads, kv_heads, scores);
    }
    let out = tmp
        .get_mut(..n.wrapping_mul(d))
        .ok_or(Error::SizeOverflow)?;
    k::quant::linear(q, &w.out, w.out_bias, d, out, act);
    Ok(())
}

/// Element offset of `(slot, position)` in a cache of `slot_len`-element slots of
/// `width`-element rows.
fn cache_offset(slot_len: usize, slot: usize, position: usize, width: usize) -> Result<usize> {
    slot.checked_mul(slot_len)
        .and_then(|start| start.checked_add(position.checked_mul(width)?))
        .ok_or(Error::SizeOverflow)
}

/// The gated feed-forward network, `out = W2 (act(W1 x + b1) * (W3 x + b3)) + b2`, for
/// `[n, D]` rows, `rows_block` rows at a time through `hidden` `[rows_block, 2F]`.
///
/// `W1` and `W3` are stored stacked as one `[2F, D]` matrix, so one product gives each
/// row's `[gate | up]`; the gated row `act(gate) * up` `[F]` then overwrites the front of
/// `hidden` in place (row `r`'s result lands at `r F`, never past what is still unread).
pub(crate) fn gated_feed_forward(
    config: &Config,
    ffn: &FfnWeights,
    input: &[f32],
    hidden: &mut [f32],
    rows_block: usize,
    out: &mut [f32],
    act: &mut Activations,
) {
    let (d, f) = (config.dims.d_model, config.dims.d_ff);
    let Some(block) = rows_block.max(1).checked_mul(d).filter(|&b| b > 0) else {
        return;
    };
    // a row of `hidden`: `[gate | up]`
    let Some(width) = f.checked_mul(2).filter(|&w| w > 0) else {
        return;
    };
    for (x_rows, out_rows) in input.chunks(block).zip(out.chunks_mut(block)) {
        // `d > 0` (the block is), but the optimiser cannot see it through `filter`.
        let Some(n) = x_rows.len().checked_div(d) else {
            return;
        };
        let Some(h) = n.checked_mul(width).and_then(|len| hidden.get_mut(..len)) else {
            return;
        };
        k::quant::linear(x_rows, &ffn.w1, ffn.b1, d, h, act); // [n, 2F]
        match config.activation {
            // `silu(gate) * up` by the kernels (the same bits as `silu` here)
            Activation::Silu => gate_rows(h, f, k::silu_gate),
            // validation admits no other for a gated network; ReLU is the exact fallback
            _ => gate_rows(h, f, |gates, ups| {
                for (gate, &up) in gates.iter_mut().zip(ups) {
                    *gate = gate.max(0.0) * up;
                }
            }),
        }
        // wrapping: n f <= n 2f, checked above
        let Some(gated) = h.get(..n.wrapping_mul(f)) else {
            return;
        };
        k::quant::linear(gated, &ffn.w2, ffn.b2, f, out_rows, act); // [n, D]
    }
}

/// `[gate | up]` rows of `2f` in `h` to their gated rows `act(gate) * up` of `f`, row `r`'s
/// at `r f` (each row in place first, then moved down, never over what is still unread).
/// `gate_row(gates, ups)` computes a row's `act(gate) * up` into `gates`.
#[inline(always)]
fn gate_rows(h: &mut [f32], f: usize, gate_row: impl Fn(&mut [f32], &[f32])) {
    // Wrapping, exactly: the caller checked `2 f`, and `r < rows` keeps `r 2f <= h.len()`
    // (and `r f` below it).
    let width = f.wrapping_mul(2);
    let rows = h.len().checked_div(width).unwrap_or(0);
    for r in 0..rows {
        let Some((front, row)) = h.split_at_mut_checked(r.wrapping_mul(width)) else {
            return;
        };
        let (gates, ups) = row.split_at_mut(f.min(row.len()));
        gate_row(gates, ups);
        if let Some(dst) = front.get_mut(r.wrapping_mul(f)..) {
            for (d, &g) in dst.iter_mut().zip(gates.iter()) {
                *d = g;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// `rope_sin_cos` takes `sincosf` for `(sinf, cosf)`: the same bits on every RoPE
    /// angle of positions below 8192 (heads of 8 to 128, `rope_theta` 10000 and 500000)
    /// and on a sweep of the whole float range.
    #[test]
    // some 9 M libm calls: hours under Miri, for numerics only (no unsafe, no pointers)
    #[cfg_attr(miri, ignore)]
    fn sincosf_is_sinf_and_cosf_bit_for_bit() {
        let check = |angle: f32| {
            let (sin, cos) = libm::sincosf(angle);
            assert_eq!(
                (sin.to_bits(), cos.to_bits()),
                (libm::sinf(angle).to_bits(), libm::cosf(angle).to_bits()),
                "angle {angle:e}"
            );
        };
        for dk in [8usize, 48, 64, 128] {
            for theta in [10_000.0f32, 500_000.0] {
                for i in 0..dk / 2 {
                    let frequency = 1.0 / libm::powf(theta, (2 * i) as f32 / dk as f32);
                    for position in 0..8192usize {
                        check(position as f32 * frequency);
                    }
                }
            }
        }
        for bits in (0..=u32::MAX).step_by(4099) {
            check(f32::from_bits(bits));
        }
    }
}
