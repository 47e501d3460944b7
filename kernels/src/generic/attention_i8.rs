//! The int8 key/value cache's attention (`docs/spec.md`, "Quantization"): the scalar
//! reference every kernel reproduces bit for bit.
//!
//! A cached row (the keys, or the values, of one position) of `kv_width = n_kv_heads * dk`
//! values is stored as [`kv_row_words`] words: the `kv_width` int8 values, four to a word
//! (little-endian, the last word zero-padded), then one f32 scale per key/value head
//! (`max|x| / 127` of that head's `dk` values, symmetric, [`quantize_row`]'s rule).
//!
//! Per query head `h` (over key/value head `g = h / (n_heads / n_kv_heads)`), with `T`
//! cached positions:
//!
//! 1. the query head, times `1 / sqrt(dk)`, quantized to int8 symmetrically: `qq`,
//!    `sq = max|q| / 127` (the keys' rounding: Helium's dots multiply 16 int8 lanes an
//!    instruction, `VMLADAVA.S8`, twice int16's 8);
//! 2. scores `s_j = (qq . k_j) as f32 * (sq * sk_j)`, the dot exact in integers;
//! 3. `p_j = exp_i8(s_j - max s)` (a degree-4 exponential, [`exp_i8`]), `sum = p_0 + p_1
//!    + ...` in position order (f32);
//! 4. the weights `w_j = p_j * sv_j` (the value row's scale folded in), quantized to
//!    int16 against their largest `W`: `qw_j = round(w_j * (32767 / W))`;
//! 5. `out[c] = (sum_j qw_j * v_j[c]) as f32 * ((W / 32767) / sum)`, the sum exact in
//!    64-bit integers (any order gives the same bits).
//!
//! Every rounding is in steps 1-5 as written; the integer sums are exact, so a kernel
//! may accumulate in any order (`SMLAD` pairs) and still give the scalar's bits.

use crate::generic::f32::sqrt;
use crate::quant::{quantize_row, round_to_i8, I8_MAX};

/// Step 3's exponential, `e^x` for `x <= 0` (or NaN): `t = x log2 e`, `n = (t + R) - R`
/// with `R = 1.5 2^23 + 127` (`t` rounded to an integer, ties to the odd one: the low bits
/// of `t + R` are `n + 127`), `f = t - n` (exact, `|f| <= 1/2`), `2^f` by
/// `p = (((c4 f + c3) f + c2) f + c1) f + 1` ([`EXP_I8_P`], degree 4, `p(0) = 1`), times
/// `2^n` (built from `n + 127`'s bits; exact: the product is normal); 0 below
/// [`EXP_I8_ZERO_BELOW`] (where `2^n` would not be normal), NaN stays NaN. Plain `*`, `+`,
/// `-`, never fused, so every target gives the same bits. The largest relative error over
/// every f32 in `[-87.33, 0]` is 6.64e-6 (`tools/reference/exp_i8_poly.py`, the test
/// `exp_i8_is_within_its_bound_everywhere`): step 4's int16 weights (a relative step of
/// 3e-5 at the top) need no more. Some 16 operations where
/// [`exp_fast_nonpositive`](crate::generic::f32::exp_fast_nonpositive) takes 23, and a
/// chain of 13 dependent ones.
#[inline(always)]
pub fn exp_i8(x: f32) -> f32 {
    if x < EXP_I8_ZERO_BELOW {
        return 0.0;
    }
    let t = x * EXP_I8_LOG2_E;
    let n = (t + EXP_I8_ROUND) - EXP_I8_ROUND;
    let f = t - n;
    let [c4, c3, c2, c1] = EXP_I8_P;
    let p = (((c4 * f + c3) * f + c2) * f + c1) * f + 1.0;
    // wrapping: n in [-126, 0] (NaN: 0), so n + 127 in [1, 127]
    p * f32::from_bits(((n as i32).wrapping_add(127) as u32 & 0xff) << 23)
}

/// `x[i] = exp_i8(x[i] - largest)` for every `x[i]` (step 3's exponentials; the scalar
/// reference of the dispatched [`crate::dispatch::exp_i8_minus_max`]).
pub fn exp_i8_minus_max(x: &mut [f32], largest: f32) {
    for v in x.iter_mut() {
        *v = exp_i8(*v - largest);
    }
}

/// [`exp_i8`]'s constants (the kernels read the same): `log2 e`; `R = 1.5 2^23 + 127`
/// (adding it rounds to an integer and leaves `n + 127` in the low bits); the
/// polynomial's coefficients `c4, c3, c2, c1` (`tools/reference/exp_i8_poly.py`'s minimax
/// fit of `2^f` on `[-1/2, 1/2]`); below `EXP_I8_ZERO_BELOW` the result is 0.
pub const EXP_I8_LOG2_E: f32 = core::f32::consts::LOG2_E;
/// See [`EXP_I8_LOG2_E`].
pub const EXP_I8_ROUND: f32 = 12_583_039.0;
/// See [`EXP_I8_LOG2_E`].
pub const EXP_I8_P: [f32; 4] = [9.582_855e-3, 5.590_643_4e-2, 2.402_409_9e-1, 6.931_242e-1];
/// See [`EXP_I8_LOG2_E`].
pub const EXP_I8_ZERO_BELOW: f32 = -87.33;

/// Largest int16 attention weight (step 4).
pub const WEIGHT_MAX: f32 = 32767.0;

/// Words of one cached int8 row of `kv_width` values over `n_kv_heads` heads: the values
/// (`kv_width.div_ceil(4)` words) then the scales (`n_kv_heads` words).
pub const fn kv_row_words(kv_width: usize, n_kv_heads: usize) -> usize {
    kv_width.div_ceil(4).saturating_add(n_kv_heads)
}

/// Value `i` of a cached row's value words.
#[inline(always)]
pub fn cached_value(words: &[u32], i: usize) -> i8 {
    let word = words.get(i / 4).copied().unwrap_or(0);
    (word >> (8 * (i % 4))) as u8 as i8
}

/// [`quantize_row`]'s factor and scale for `x`: `(inv, scale)` with `q = round_to_i8(v *
/// inv)` its integers (`inv` 0 where it gives 0s: a zero or non-finite `max|x|`).
#[inline(always)]
pub fn row_factor(x: &[f32]) -> (f32, f32) {
    let amax = x.iter().fold(0.0f32, |m, &v| m.max(v.abs()));
    if amax == 0.0 || !amax.is_finite() {
        return (0.0, if amax == 0.0 { 0.0 } else { amax });
    }
    (I8_MAX / amax, amax / I8_MAX)
}

/// Largest int8 query value (step 1).
pub const QUERY_MAX: f32 = 127.0;

/// The query head's factor and scale: `(inv, scale)` with `round_query(v * inv)` its
/// int8 values (`max|q|` to 127; `inv` 0 for a zero or non-finite `max|q|`).
#[inline(always)]
pub fn query_factor(q: &[f32]) -> (f32, f32) {
    let amax = q.iter().fold(0.0f32, |m, &v| m.max(v.abs()));
    if amax == 0.0 || !amax.is_finite() {
        return (0.0, if amax == 0.0 { 0.0 } else { amax });
    }
    (QUERY_MAX / amax, amax / QUERY_MAX)
}

/// `v` rounded to the nearest integer (ties away from zero), clamped to `-127..=127`
/// (NaN gives 0).
#[inline(always)]
pub fn round_query(v: f32) -> i8 {
    let r = if v >= 0.0 { v + 0.5 } else { v - 0.5 };
    (r as i32).clamp(-127, 127) as i8
}

/// Quantizes `row` `[n_kv_heads * dk]` into the cache row `dst` ([`kv_row_words`] words):
/// each head's `dk` values as [`quantize_row`] does, packed four to a word, then the
/// heads' scales.
pub fn quantize_kv_row(row: &[f32], n_kv_heads: usize, dst: &mut [u32]) {
    let width = row.len();
    let Some(dk) = width.checked_div(n_kv_heads) else {
        return;
    };
    let words = width.div_ceil(4);
    if dk == 0 || dst.len() < words + n_kv_heads {
        return;
    }
    dst.fill(0);
    if dk.is_multiple_of(4) {
        // Each head fills whole words (the stories260K shape's 8 values: two): four values
        // packed into a word at once, no per-value word index. The same bytes as below.
        // (checked: in release `words + n_kv_heads` above may wrap, so `words <= len` is
        // not known to the compiler)
        let Some((values, scales)) = dst.split_at_mut_checked(words) else {
            return;
        };
        let heads = row.chunks_exact(dk).zip(values.chunks_exact_mut(dk / 4));
        for ((head, head_words), s) in heads.zip(scales.iter_mut()) {
            let (inv, scale) = row_factor(head);
            for (word, quad) in head_words.iter_mut().zip(head.chunks_exact(4)) {
                if let &[a, b, c, d] = quad {
                    let byte = |v: f32| round_to_i8(v * inv) as u8;
                    *word = u32::from_le_bytes([byte(a), byte(b), byte(c), byte(d)]);
                }
            }
            *s = scale.to_bits();
        }
        return;
    }
    // `(g + 1) * dk <= width` (a whole chunk), `c < dk`, `words + g` indexes below: no
    // wrap (a counted range, not `enumerate`: no overflow check)
    for (g, head) in (0..width).zip(row.chunks_exact(dk)) {
        let (inv, scale) = row_factor(head);
        for (c, &v) in (0..dk).zip(head) {
            let i = g.wrapping_mul(dk).wrapping_add(c);
            if let Some(word) = dst.get_mut(i / 4) {
                *word |= u32::from(round_to_i8(v * inv) as u8) << (8 * (i % 4));
            }
        }
        if let Some(s) = dst.get_mut(words.wrapping_add(g)) {
            *s = scale.to_bits();
        }
    }
}

/// Where one key/value head lies in the cache rows: rows of `row_words` words
/// ([`kv_row_words`]), the int8 values in the first `value_words` of them, head `head`'s
/// `dk` values from byte `head * dk`, its scale at word `value_words + head`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheHead {
    /// Words of one cached row.
    pub row_words: usize,
    /// Words of a row's int8 values (`(n_kv_heads * dk).div_ceil(4)`).
    pub value_words: usize,
    /// The key/value head.
    pub head: usize,
    /// Values per head.
    pub dk: usize,
}

/// Step 2 for one query head: `scores[j] = (qq . k_j) as f32 * (sq * sk_j)` for every
/// `j < scores.len()` (the keys' rows hold them), `qq` the int8 query values kept as
/// the bits of `query`'s floats (`dk` of them; the dot exact in i32); returns the largest
/// score (`-inf` for none).
pub fn head_scores(query: &[f32], sq: f32, keys: &[u32], at: CacheHead, scores: &mut [f32]) -> f32 {
    let key_bytes = as_bytes(keys);
    // The rows (`row_words` words, `j < scores.len()` of them) and the head's values and
    // scale inside each lie in `keys` (the callers'): no offset below wraps.
    let (dk, row_bytes) = (at.dk, at.row_words.wrapping_mul(4));
    let scale_word = at.value_words.wrapping_add(at.head);
    let mut largest = f32::NEG_INFINITY;
    for (j, s) in scores.iter_mut().enumerate() {
        let start = j
            .wrapping_mul(row_bytes)
            .wrapping_add(at.head.wrapping_mul(dk));
        let key = key_bytes.get(start..start.wrapping_add(dk)).unwrap_or(&[]);
        let mut dot = 0i32;
        for (&a, &k) in query.iter().zip(key) {
            dot = dot.wrapping_add((a.to_bits() as i32).wrapping_mul(i32::from(k)));
        }
        let sk = keys
            .get(j.wrapping_mul(at.row_words).wrapping_add(scale_word))
            .copied()
            .unwrap_or(0);
        *s = dot as f32 * (sq * f32::from_bits(sk));
        if *s > largest {
            largest = *s;
        }
    }
    largest
}

/// Steps 3 and 4 for one query head: `p_j = exp_i8(scores[j] - largest)`,
/// `sum = p_0 + p_1 + ...` in order from +0.0, `scores[j] = p_j * sv_j` (the value row's
/// scale), and their largest from +0.0; returns `(sum, largest weight)`.
pub fn head_exp_weights(
    scores: &mut [f32],
    largest: f32,
    values: &[u32],
    at: CacheHead,
) -> (f32, f32) {
    let mut sum = 0.0f32;
    let mut w_max = 0.0f32;
    // the rows' scales lie in `values` (the callers'): no offset wraps
    let scale_word = at.value_words.wrapping_add(at.head);
    for (j, s) in scores.iter_mut().enumerate() {
        let p = exp_i8(*s - largest);
        sum += p;
        let sv = values
            .get(j.wrapping_mul(at.row_words).wrapping_add(scale_word))
            .copied()
            .unwrap_or(0);
        *s = p * f32::from_bits(sv);
        if *s > w_max {
            w_max = *s;
        }
    }
    (sum, w_max)
}

/// Step 4's rounding for one query head: each weight `w_j` of `weights` replaced by the
/// bits of its int16 `qw_j = round_weight(w_j * inv)` (`inv = 32767 / W`).
pub fn round_weights(weights: &mut [f32], inv: f32) {
    for w in weights.iter_mut() {
        *w = f32::from_bits(round_weight(*w * inv) as u32);
    }
}

/// Step 4's rounding ([`round_weights`]) then step 5 ([`head_weighted_sum`]) for one
/// query head: what a kernel's `cache_weighted_sum` gives bit for bit (`weights` holds
/// the int16 weights afterwards).
pub fn head_round_weighted_sum(
    weights: &mut [f32],
    inv: f32,
    values: &[u32],
    at: CacheHead,
    factor: f32,
    out: &mut [f32],
) {
    round_weights(weights, inv);
    head_weighted_sum(weights, values, at, factor, out)
}

/// Step 5 for one query head: `out[c] = (sum_j qw_j * v_j[c]) as f32 * factor` for
/// `c < out.len()` (`dk`), the int16 weights `qw_j` kept as the bits of `weights`'
/// floats (one per cached position), the sum exact in i64.
pub fn head_weighted_sum(
    weights: &[f32],
    values: &[u32],
    at: CacheHead,
    factor: f32,
    out: &mut [f32],
) {
    let value_bytes = as_bytes(values);
    // the rows and the head's values inside each lie in `values` (the callers'): no
    // offset wraps; `|qw_j * v| <= 32767 * 128` and `T` of them sum below 2^63
    let row_bytes = at.row_words.wrapping_mul(4);
    let head_at = at.head.wrapping_mul(at.dk);
    for (c, out) in out.iter_mut().enumerate() {
        let mut acc = 0i64;
        let column = head_at.wrapping_add(c);
        for (j, &w) in weights.iter().enumerate() {
            let v = value_bytes
                .get(j.wrapping_mul(row_bytes).wrapping_add(column))
                .copied()
                .unwrap_or(0);
            let product = (w.to_bits() as i32).wrapping_mul(i32::from(v));
            acc = acc.wrapping_add(i64::from(product));
        }
        *out = acc as f32 * factor;
    }
}

/// The grouped attention of one query row over an int8 cache (steps 1-5 of the module):
/// `query` `[n_heads * dk]` is replaced by the heads' outputs; `keys`, `values`: `T`
/// cached rows of `row_words` words each ([`kv_row_words`]); `scores` `[>= T]` working
/// space. No key gives a zero head. The scalar reference of the dispatched
/// `attention_grouped_i8` (one [`attention_grouped_i8_using`] over [`head_scores`] and
/// [`head_weighted_sum`]).
pub fn attention_grouped_i8(
    query: &mut [f32],
    keys: &[u32],
    values: &[u32],
    n_heads: usize,
    n_kv_heads: usize,
    row_words: usize,
    scores: &mut [f32],
) {
    attention_grouped_i8_using(
        |q, sq, k, at, s| head_scores(q, sq, k, at, s),
        head_exp_weights,
        head_round_weighted_sum,
        query,
        keys,
        values,
        n_heads,
        n_kv_heads,
        row_words,
        scores,
    )
}

/// [`attention_grouped_i8`] with a kernel's step 2 (`scores`, as [`head_scores`]),
/// steps 3-4 (`exp_weights`, as [`head_exp_weights`]) and step 4's rounding with step 5
/// (`weighted_sum`, as [`head_round_weighted_sum`]); every other step (and rounding) is
/// this function's, so a kernel that gives those two functions' bits gives the
/// reference's. `scores` may overwrite the query head (its int8 values) and
/// `weighted_sum` the weights (they are not read again).
#[allow(clippy::too_many_arguments)] // the reference's arguments and the two steps
#[inline(always)]
pub fn attention_grouped_i8_using(
    scores_step: impl Fn(&mut [f32], f32, &[u32], CacheHead, &mut [f32]) -> f32,
    exp_weights: impl Fn(&mut [f32], f32, &[u32], CacheHead) -> (f32, f32),
    weighted_sum: impl Fn(&mut [f32], f32, &[u32], CacheHead, f32, &mut [f32]),
    query: &mut [f32],
    keys: &[u32],
    values: &[u32],
    n_heads: usize,
    n_kv_heads: usize,
    row_words: usize,
    scores: &mut [f32],
) {
    let d = query.len();
    if n_heads == 0 || n_kv_heads == 0 || row_words == 0 || !n_heads.is_multiple_of(n_kv_heads) {
        return;
    }
    let dk = d / n_heads;
    let group = n_heads / n_kv_heads;
    // `dk * n_kv_heads <= d` (a slice's length): no wrap
    let value_words = dk.wrapping_mul(n_kv_heads).div_ceil(4);
    if dk == 0 || group == 0 {
        return;
    }
    let t = (keys.len() / row_words)
        .min(values.len() / row_words)
        .min(scores.len());
    let scores = scores.get_mut(..t).unwrap_or(&mut []);
    let scale = 1.0 / sqrt(dk as f32);
    for (h, q_h) in (0..d).zip(query.chunks_exact_mut(dk)) {
        let at = CacheHead {
            row_words,
            value_words,
            head: h / group,
            dk,
        };
        for v in q_h.iter_mut() {
            *v *= scale;
        }
        // 1. the query head quantized to int8: its integers kept in `q_h` as the bits of
        // its floats (no conversion per use; the patterns are only moved, never computed
        // on), which the output overwrites later
        let (inv_q, sq) = query_factor(q_h);
        for v in q_h.iter_mut() {
            *v = f32::from_bits(i32::from(round_query(*v * inv_q)) as u32);
        }
        // 2. scores and their maximum
        let largest = scores_step(q_h, sq, keys, at, scores);
        if largest == f32::NEG_INFINITY {
            q_h.fill(0.0);
            continue;
        }
        // 3. exponentials and their sum; 4. the weights and their maximum
        let (sum, w_max) = exp_weights(scores, largest, values, at);
        if !(w_max > 0.0 && w_max.is_finite() && sum > 0.0) {
            q_h.fill(0.0);
            continue;
        }
        // the int16 weights, each rounded once (kept as the bits of `scores`' floats), and
        // 5. the integer weighted sum
        let inv = WEIGHT_MAX / w_max;
        let factor = (w_max / WEIGHT_MAX) / sum;
        weighted_sum(scores, inv, values, at, factor, q_h);
    }
}

/// The bytes of `words` as int8 values, in memory order (the targets are little-endian:
/// byte `i % 4` of word `i / 4` is value `i`, as [`cached_value`] reads it).
fn as_bytes(words: &[u32]) -> &[i8] {
    // SAFETY: any byte is a valid i8, an i8 needs no alignment, and `4 * words.len()`
    // bytes lie inside `words`; the borrow keeps them alive and unchanged.
    unsafe { core::slice::from_raw_parts(words.as_ptr().cast::<i8>(), 4 * words.len()) }
}

/// A weight `0 <= x <= 32767` (times the quantization's factor) rounded to the nearest
/// int16, ties away from zero; NaN gives 0.
#[inline(always)]
pub fn round_weight(x: f32) -> i16 {
    ((x + 0.5) as i32).clamp(0, WEIGHT_MAX as i32) as i16
}

/// Keys per row of an encoder head's transposed values ([`AllHead`]): `rows` rounded up
/// to a whole word, or from 64 rows on to a multiple of 32 (Helium's two-row weighted
/// sums then run over whole passes of 32 and 64 keys, zero weights on the zero padding).
pub const fn all_stride(rows: usize) -> usize {
    let quantum = if rows >= 64 { 32 } else { 4 };
    rows.div_ceil(quantum).saturating_mul(quantum)
}

/// Floats of the per-pair work that [`pair_scores_len`] adds to the two rows' scores:
/// room for two int8 queries (128 bytes) and two rows' 64-bit sums (128, 8-byte
/// aligned) of heads of up to 64 values, which kernels keep there instead of on the
/// stack.
pub const PAIR_WORK: usize = 324;

/// Floats of the scores with which [`attention_all_i8_rows_using`] takes two query rows
/// at a time over `rows` keys: both rows' scores and [`PAIR_WORK`].
pub const fn pair_scores_len(rows: usize) -> usize {
    rows.saturating_mul(2).saturating_add(PAIR_WORK)
}

/// Words of one head of the encoder's int8 keys and values ([`pack_all_kv`]) over `rows`
/// positions, `dk` values a head (a multiple of 4): the keys (`rows` rows of `dk` int8
/// values), the values transposed (`dk` rows of [`all_stride`]`(rows)` int8 values), the
/// keys' scales, the values' scales.
pub const fn all_head_words(rows: usize, dk: usize) -> usize {
    let keys = rows.saturating_mul(dk) / 4;
    let values = dk.saturating_mul(all_stride(rows)) / 4;
    keys.saturating_add(values)
        .saturating_add(rows.saturating_mul(2))
}

/// One head of the encoder's int8 keys and values (`docs/spec.md`, "int8 key/value
/// cache": the same integers and scales as [`quantize_kv_row`]'s rows, laid out per
/// head): `keys` `[rows][dk]`, `values` transposed `[dk][stride]` (value `c` of position
/// `j` at `c * stride + j`; `stride` = [`all_stride`]`(rows)`), one scale per position
/// in `key_scales` and `value_scales`.
#[derive(Debug, Clone, Copy)]
pub struct AllHead<'a> {
    /// `[rows][dk]` int8 keys.
    pub keys: &'a [i8],
    /// `[dk][stride]` int8 values, transposed.
    pub values: &'a [i8],
    /// `[rows]` key scales.
    pub key_scales: &'a [f32],
    /// `[rows]` value scales.
    pub value_scales: &'a [f32],
    /// Positions.
    pub rows: usize,
    /// Values per head.
    pub dk: usize,
}

impl<'a> AllHead<'a> {
    /// Head `head` of a [`pack_all_kv`] buffer of `rows` positions and `dk`-value heads;
    /// `None` where the buffer is too short or `dk` is not a multiple of 4.
    pub fn of(packed: &'a [u32], rows: usize, dk: usize, head: usize) -> Option<Self> {
        if dk == 0 || !dk.is_multiple_of(4) {
            return None;
        }
        let words = all_head_words(rows, dk);
        let start = head.checked_mul(words)?;
        let block = packed.get(start..start.checked_add(words)?)?;
        let (keys, rest) = block.split_at_checked(rows.checked_mul(dk)? / 4)?;
        let (values, scales) = rest.split_at_checked(dk.checked_mul(all_stride(rows))? / 4)?;
        let (key_scales, value_scales) = scales.split_at_checked(rows)?;
        Some(AllHead {
            keys: as_bytes(keys),
            values: as_bytes(values),
            key_scales: as_floats(key_scales),
            value_scales: as_floats(value_scales),
            rows,
            dk,
        })
    }
}

/// Packs the encoder's keys and values `[rows, d]` (f32, `d = n_heads * dk`) into
/// `packed` (`n_heads` blocks of [`all_head_words`]`(rows, dk)` words, head by head):
/// each position's head quantized as [`quantize_kv_row`] does (the same int8 values and
/// scales), keys by rows, values transposed, each transposed row zero-padded to
/// [`all_stride`]`(rows)` bytes. Returns `false` (nothing written) where `dk` is not a multiple of 4,
/// `keys` and `values` differ in length, or `packed` is short.
pub fn pack_all_kv(
    keys: &[f32],
    values: &[f32],
    d: usize,
    n_heads: usize,
    packed: &mut [u32],
) -> bool {
    pack_all_kv_using(quantize_row, spread_head, keys, values, d, n_heads, packed)
}

/// Byte `c` of `q` to `v[c * stride + j]` for each `c` (those outside `v` left out): a
/// position's quantized value head spread over the transposed values
/// ([`pack_all_kv_using`]).
#[inline(always)]
pub fn spread_head(q: &[i8], v: &mut [i8], stride: usize, j: usize) {
    for (c, &b) in (0..q.len()).zip(q) {
        // c * stride + j: wraps only far outside `v` (then left out)
        if let Some(dst) = v.get_mut(c.wrapping_mul(stride).wrapping_add(j)) {
            *dst = b;
        }
    }
}

/// [`pack_all_kv`] with each position's head quantized by `quantize(x, q)`, which must
/// give [`quantize_row`]'s integers and scale, and spread by `spread(q, v, stride, j)`,
/// which must store as [`spread_head`] does (a kernel's faster twins): the same words.
/// Each value head is quantized into its position's key row first (not yet written),
/// then spread into the transposed values, then the key head written over it.
#[inline(always)]
pub fn pack_all_kv_using(
    quantize: impl Fn(&[f32], &mut [i8]) -> f32,
    spread: impl Fn(&[i8], &mut [i8], usize, usize),
    keys: &[f32],
    values: &[f32],
    d: usize,
    n_heads: usize,
    packed: &mut [u32],
) -> bool {
    let Some(dk) = d.checked_div(n_heads) else {
        return false;
    };
    let Some(rows) = keys.len().checked_div(d) else {
        return false;
    };
    let words = all_head_words(rows, dk);
    let fits = n_heads
        .checked_mul(words)
        .is_some_and(|w| w <= packed.len());
    if dk == 0 || !dk.is_multiple_of(4) || keys.len() != values.len() || !fits {
        return false;
    }
    if rows == 0 {
        return true;
    }
    let stride = all_stride(rows);
    let key_words = rows.wrapping_mul(dk) / 4; // <= words: no wrap
    let value_words = dk.wrapping_mul(stride) / 4;
    // heads, rows and words split off one at a time, no zip of chunk iterators: at
    // opt-level "z" such a zip is an outlined `Zip::new` dividing by a chunk size the
    // no-panic proof cannot see is non-zero (see `attend_all_i8`)
    let mut rest = packed;
    for h in 0..n_heads {
        let Some((block, tail)) = core::mem::take(&mut rest).split_at_mut_checked(words) else {
            break;
        };
        rest = tail;
        block.fill(0);
        let (k_words, rest) = block.split_at_mut(key_words.min(words));
        let (v_words, scales) = rest.split_at_mut(value_words.min(rest.len()));
        let (k_scales, v_scales) = scales.split_at_mut(rows.min(scales.len()));
        let first = h.wrapping_mul(dk); // h < n_heads: `first + dk <= d`
        let k_bytes = as_bytes_mut(k_words);
        let v_bytes = as_bytes_mut(v_words);
        for j in 0..rows {
            // j < rows: `j * d + first + dk <= keys.len()`, `j * dk + dk <= 4 key_words`;
            // no wrap
            let at = j.wrapping_mul(d).wrapping_add(first);
            let key = keys.get(at..at.wrapping_add(dk)).unwrap_or(&[]);
            let value = values.get(at..at.wrapping_add(dk)).unwrap_or(&[]);
            let byte_at = j.wrapping_mul(dk);
            let Some(k_row) = k_bytes.get_mut(byte_at..byte_at.wrapping_add(dk)) else {
                break;
            };
            // values: quantized into the key row, then value `c` of position `j` at byte
            // `c * stride + j`
            let sv = quantize(value, k_row);
            spread(k_row, v_bytes, stride, j);
            if let Some(scale) = v_scales.get_mut(j) {
                *scale = sv.to_bits();
            }
            // keys: each position's head, as `quantize_kv_row`
            let sk = quantize(key, k_row);
            if let Some(scale) = k_scales.get_mut(j) {
                *scale = sk.to_bits();
            }
        }
    }
    true
}

/// Steps 2-5 for one query head over an encoder head ([`AllHead`]): `query` holds the
/// head's int8 values as the bits of its floats (`dk` of them, step 1's), `sq` their
/// scale; the head's output goes to `query` (zeros for no key, no positive weight or a
/// zero sum); `scores` `[>= rows]` working space. The reference: [`head_scores`],
/// [`head_exp_weights`] and [`head_round_weighted_sum`]'s operations, in their order.
pub fn all_head(query: &mut [f32], sq: f32, head: AllHead, scores: &mut [f32]) {
    let (rows, dk) = (head.rows, head.dk);
    let scores = scores.get_mut(..rows).unwrap_or(&mut []);
    let stride = all_stride(rows);
    // 2. scores and their maximum
    let mut largest = f32::NEG_INFINITY;
    for (j, (s, &sk)) in (0..rows).zip(scores.iter_mut().zip(head.key_scales)) {
        // j < rows: `j * dk + dk <= keys.len()`, no wrap
        let at = j.wrapping_mul(dk);
        let key = head.keys.get(at..at.wrapping_add(dk)).unwrap_or(&[]);
        let mut dot = 0i32;
        for (&a, &k) in query.iter().zip(key) {
            dot = dot.wrapping_add((a.to_bits() as i32).wrapping_mul(i32::from(k)));
        }
        *s = dot as f32 * (sq * sk);
        if *s > largest {
            largest = *s;
        }
    }
    if largest == f32::NEG_INFINITY || scores.len() < rows {
        query.fill(0.0);
        return;
    }
    // 3. exponentials and their sum; 4. the weights and their maximum
    let mut sum = 0.0f32;
    let mut w_max = 0.0f32;
    for (s, &sv) in scores.iter_mut().zip(head.value_scales) {
        let p = exp_i8(*s - largest);
        sum += p;
        *s = p * sv;
        if *s > w_max {
            w_max = *s;
        }
    }
    if !(w_max > 0.0 && w_max.is_finite() && sum > 0.0) {
        query.fill(0.0);
        return;
    }
    let inv = WEIGHT_MAX / w_max;
    let factor = (w_max / WEIGHT_MAX) / sum;
    round_weights(scores, inv);
    // 5. the integer weighted sum
    for (c, out) in (0..dk).zip(query.iter_mut()) {
        let mut acc = 0i64;
        // c * stride + rows <= dk * stride: no wrap
        let column = head
            .values
            .get(c.wrapping_mul(stride)..c.wrapping_mul(stride).wrapping_add(rows))
            .unwrap_or(&[]);
        for (&w, &v) in scores.iter().zip(column) {
            let product = (w.to_bits() as i32).wrapping_mul(i32::from(v));
            acc = acc.wrapping_add(i64::from(product));
        }
        *out = acc as f32 * factor;
    }
}

/// The encoder's int8 attention of one query row (`docs/spec.md`, "int8 key/value
/// cache", steps 1-5) over [`pack_all_kv`]'s `packed` keys and values of `rows`
/// positions: `query` `[n_heads * dk]` replaced by the heads' outputs, bit for bit
/// [`attention_grouped_i8`] over the same keys and values in cache rows; `scores`
/// `[>= rows]` working space. `head_step` runs steps 2-5 of one head (as [`all_head`]).
/// Returns `false` (query untouched) where `packed` does not hold the heads.
#[inline(always)]
pub fn attention_all_i8_using(
    head_step: impl Fn(&mut [f32], f32, AllHead, &mut [f32]),
    query: &mut [f32],
    packed: &[u32],
    n_heads: usize,
    rows: usize,
    scores: &mut [f32],
) -> bool {
    let Some(dk) = query.len().checked_div(n_heads) else {
        return false;
    };
    let heads_fit = n_heads
        .checked_mul(all_head_words(rows, dk))
        .is_some_and(|w| w <= packed.len());
    if dk == 0 || !dk.is_multiple_of(4) || !heads_fit || scores.len() < rows {
        return false;
    }
    let scale = 1.0 / sqrt(dk as f32);
    let mut rest = query;
    for h in 0..n_heads {
        let Some((q_h, tail)) = core::mem::take(&mut rest).split_at_mut_checked(dk) else {
            break;
        };
        rest = tail;
        let Some(head) = AllHead::of(packed, rows, dk, h) else {
            return false;
        };
        all_head_steps(&head_step, q_h, scale, head, scores);
    }
    true
}

/// Step 1 for one query head: `q_h` times `scale` (`1 / sqrt(dk)`), quantized to int8
/// and kept as the bits of its floats; returns the query's scale `sq`.
#[inline(always)]
pub fn quantize_query_head(q_h: &mut [f32], scale: f32) -> f32 {
    for v in q_h.iter_mut() {
        *v *= scale;
    }
    let (inv_q, sq) = query_factor(q_h);
    for v in q_h.iter_mut() {
        *v = f32::from_bits(i32::from(round_query(*v * inv_q)) as u32);
    }
    sq
}

/// Steps 1-5 for one query head (`q_h` its f32 values, replaced by the head's output):
/// [`quantize_query_head`], then `head_step` (steps 2-5, as [`all_head`]); zeros where the
/// head has no key.
#[inline(always)]
pub fn all_head_steps(
    head_step: impl Fn(&mut [f32], f32, AllHead, &mut [f32]),
    q_h: &mut [f32],
    scale: f32,
    head: AllHead,
    scores: &mut [f32],
) {
    let sq = quantize_query_head(q_h, scale);
    if head.rows == 0 {
        q_h.fill(0.0);
        return;
    }
    head_step(q_h, sq, head, scores);
}

/// The encoder's int8 attention of several query rows: `queries` `[m, d]` (`d = n_heads
/// dk`), each row replaced as [`attention_all_i8`] replaces it, bit for bit. Where
/// `scores` holds [`pair_scores_len`]`(rows)` floats the rows go two at a time, head by
/// head (the rows' scores first, the kernel's per-pair work after them):
/// `pair_step(a, b, scale, head, scores)` runs steps 1-5 of one head for two rows (the
/// bits of [`all_head_steps`] on each, `scale = 1 / sqrt(dk)`); the last row of an odd
/// count (or every row, where `scores` holds fewer) goes alone with `head_step` (steps
/// 2-5, as [`all_head`]). Returns `false` (nothing written) where `queries` is not whole
/// rows of `d` or `packed` does not hold the heads.
#[allow(clippy::too_many_arguments)] // attention_all_i8_using's arguments and the pair step
#[inline(always)]
pub fn attention_all_i8_rows_using(
    head_step: impl Fn(&mut [f32], f32, AllHead, &mut [f32]),
    pair_step: impl Fn(&mut [f32], &mut [f32], f32, AllHead, &mut [f32]),
    queries: &mut [f32],
    d: usize,
    packed: &[u32],
    n_heads: usize,
    rows: usize,
    scores: &mut [f32],
) -> bool {
    let Some(dk) = d.checked_div(n_heads) else {
        return false;
    };
    let heads_fit = n_heads
        .checked_mul(all_head_words(rows, dk))
        .is_some_and(|w| w <= packed.len());
    let whole_rows = queries.len().checked_rem(d) == Some(0);
    if dk == 0 || d != n_heads.wrapping_mul(dk) || !dk.is_multiple_of(4) || !heads_fit {
        return false;
    }
    if !whole_rows || scores.len() < rows {
        return false;
    }
    let two = d.wrapping_mul(2); // d <= queries.len() or no row: no wrap that matters
    let pairs = rows > 0 && scores.len() >= pair_scores_len(rows);
    let scale = 1.0 / sqrt(dk as f32);
    let mut rest = queries;
    while !rest.is_empty() {
        if pairs && rest.len() >= two {
            if let Some((both, tail)) = core::mem::take(&mut rest).split_at_mut_checked(two) {
                rest = tail;
                let (a, b) = both.split_at_mut(d.min(both.len()));
                let (mut a, mut b) = (a, b);
                for h in 0..n_heads {
                    let Some((a_h, a_rest)) = core::mem::take(&mut a).split_at_mut_checked(dk)
                    else {
                        break;
                    };
                    let Some((b_h, b_rest)) = core::mem::take(&mut b).split_at_mut_checked(dk)
                    else {
                        break;
                    };
                    (a, b) = (a_rest, b_rest);
                    let Some(head) = AllHead::of(packed, rows, dk, h) else {
                        return false;
                    };
                    pair_step(a_h, b_h, scale, head, scores);
                }
                continue;
            }
        }
        let Some((row, tail)) = core::mem::take(&mut rest).split_at_mut_checked(d) else {
            break;
        };
        rest = tail;
        if !attention_all_i8_using(&head_step, row, packed, n_heads, rows, scores) {
            return false;
        }
    }
    true
}

/// [`attention_all_i8`] of each row of `queries` `[m, d]` in turn: the reference of
/// [`attention_all_i8_rows_using`].
pub fn attention_all_i8_rows(
    queries: &mut [f32],
    d: usize,
    packed: &[u32],
    n_heads: usize,
    rows: usize,
    scores: &mut [f32],
) -> bool {
    let Some(dk) = d.checked_div(n_heads) else {
        return false;
    };
    let heads_fit = n_heads
        .checked_mul(all_head_words(rows, dk))
        .is_some_and(|w| w <= packed.len());
    let whole_rows = queries.len().checked_rem(d) == Some(0);
    if dk == 0 || d != n_heads.wrapping_mul(dk) || !dk.is_multiple_of(4) || !heads_fit {
        return false;
    }
    if !whole_rows || scores.len() < rows {
        return false;
    }
    let mut rest = queries;
    while let Some((row, tail)) = core::mem::take(&mut rest).split_at_mut_checked(d) {
        rest = tail;
        if !attention_all_i8(row, packed, n_heads, rows, scores) {
            return false;
        }
    }
    true
}

/// [`attention_all_i8_using`] with the reference's steps ([`all_head`]).
pub fn attention_all_i8(
    query: &mut [f32],
    packed: &[u32],
    n_heads: usize,
    rows: usize,
    scores: &mut [f32],
) -> bool {
    attention_all_i8_using(all_head, query, packed, n_heads, rows, scores)
}

/// The floats of `words` (their bits).
fn as_floats(words: &[u32]) -> &[f32] {
    // SAFETY: u32 and f32 have the same size and alignment and every bit pattern is a
    // valid f32; the borrow keeps the words alive and unchanged.
    unsafe { core::slice::from_raw_parts(words.as_ptr().cast::<f32>(), words.len()) }
}

/// The bytes of `words` as int8 values, writable ([`as_bytes`]' order).
fn as_bytes_mut(words: &mut [u32]) -> &mut [i8] {
    // SAFETY: any byte is a valid i8 and any bytes a valid u32, an i8 needs no
    // alignment, and `4 * words.len()` bytes lie inside `words`, borrowed exclusively.
    unsafe { core::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<i8>(), 4 * words.len()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    /// The f32 attention of one head over the dequantized rows, for the error bounds.
    fn reference(q: &[f32], keys: &[Vec<f32>], values: &[Vec<f32>]) -> Vec<f32> {
        let dk = q.len();
        let scale = 1.0 / (dk as f32).sqrt();
        let s: Vec<f32> = keys
            .iter()
            .map(|k| q.iter().zip(k).map(|(a, b)| a * b).sum::<f32>() * scale)
            .collect();
        let m = s.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let p: Vec<f32> = s
            .iter()
            .map(|v| crate::generic::f32::exp_fast(v - m))
            .collect();
        let sum: f32 = p.iter().sum();
        (0..dk)
            .map(|c| p.iter().zip(values).map(|(w, v)| w * v[c]).sum::<f32>() / sum)
            .collect()
    }

    fn xorshift(mut s: u32) -> impl FnMut() -> f32 {
        move || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s as f32 / u32::MAX as f32) * 2.0 - 1.0
        }
    }

    #[test]
    fn kv_rows_round_trip_per_head() {
        let row: Vec<f32> = (0..12).map(|i| i as f32 - 5.5).collect();
        let mut dst = [0u32; 6];
        quantize_kv_row(&row, 2, &mut dst);
        assert_eq!(kv_row_words(12, 2), 5);
        for g in 0..2 {
            let scale = f32::from_bits(dst[3 + g]);
            let amax = row[g * 6..(g + 1) * 6]
                .iter()
                .fold(0.0f32, |m, v| m.max(v.abs()));
            assert_eq!(scale, amax / 127.0);
            for c in 0..6 {
                let back = f32::from(cached_value(&dst, g * 6 + c)) * scale;
                assert!((back - row[g * 6 + c]).abs() <= scale / 2.0 + 1e-6);
            }
        }
    }

    #[test]
    fn kv_rows_of_whole_words_follow_the_rule() {
        // heads of a multiple of 4 values take the packing path of whole words
        let mut next = xorshift(0x4b56);
        for (dk, n_kv) in [(4, 1), (8, 4), (12, 2), (16, 3)] {
            let width = dk * n_kv;
            let mut row: Vec<f32> = (0..width).map(|_| 5.0 * next()).collect();
            row[1] = f32::NAN;
            row[width - 1] = 0.0;
            let words = kv_row_words(width, n_kv);
            let mut dst = vec![0xdead_beef_u32; words + 1];
            quantize_kv_row(&row, n_kv, &mut dst);
            for (g, head) in row.chunks_exact(dk).enumerate() {
                let (inv, scale) = row_factor(head);
                assert_eq!(dst[width / 4 + g], scale.to_bits());
                for (c, &v) in head.iter().enumerate() {
                    assert_eq!(cached_value(&dst, g * dk + c), round_to_i8(v * inv));
                }
            }
            assert_eq!(dst[words], 0, "the rest of `dst` is cleared");
        }
    }

    #[test]
    fn close_to_the_f32_attention() {
        let (dk, t, heads, kv_heads) = (8, 200, 4, 2);
        let mut next = xorshift(0x5eed);
        let width = dk * kv_heads;
        let words = kv_row_words(width, kv_heads);
        let mut keys = vec![0u32; t * words];
        let mut values = vec![0u32; t * words];
        let (mut k_rows, mut v_rows) = (Vec::new(), Vec::new());
        for j in 0..t {
            let k: Vec<f32> = (0..width).map(|_| 3.0 * next()).collect();
            let v: Vec<f32> = (0..width).map(|_| next()).collect();
            quantize_kv_row(&k, kv_heads, &mut keys[j * words..(j + 1) * words]);
            quantize_kv_row(&v, kv_heads, &mut values[j * words..(j + 1) * words]);
            k_rows.push(k);
            v_rows.push(v);
        }
        let q: Vec<f32> = (0..heads * dk).map(|_| 3.0 * next()).collect();
        let mut out = q.clone();
        attention_grouped_i8(
            &mut out,
            &keys,
            &values,
            heads,
            kv_heads,
            words,
            &mut [0.0; 256],
        );
        let mut worst = 0.0f32;
        for h in 0..heads {
            let g = h / (heads / kv_heads);
            let ks: Vec<Vec<f32>> = k_rows
                .iter()
                .map(|k| k[g * dk..(g + 1) * dk].to_vec())
                .collect();
            let vs: Vec<Vec<f32>> = v_rows
                .iter()
                .map(|v| v[g * dk..(g + 1) * dk].to_vec())
                .collect();
            let want = reference(&q[h * dk..(h + 1) * dk], &ks, &vs);
            for (a, b) in out[h * dk..(h + 1) * dk].iter().zip(&want) {
                worst = worst.max((a - b).abs());
            }
        }
        // int8 keys and values (half a step of 1/127 of each head's range) dominate.
        assert!(worst < 0.02, "max abs error {worst}");
        assert!(worst > 0.0);
    }

    #[test]
    fn encoder_layout_is_the_cache_rows_bit_for_bit() {
        let mut next = xorshift(0xa11);
        for (dk, heads) in [(4, 1), (8, 2), (16, 3), (64, 2)] {
            let d = dk * heads;
            for rows in [0, 1, 2, 3, 5, 17, 40] {
                let mut k: Vec<f32> = (0..rows * d).map(|_| 3.0 * next()).collect();
                let v: Vec<f32> = (0..rows * d).map(|_| next()).collect();
                if rows > 2 {
                    // a zero key head, a huge one, a NaN value
                    k[d..d + dk].fill(0.0);
                    k[2 * d] = 1e30;
                }
                let row_words = kv_row_words(d, heads);
                let mut keys = vec![0u32; rows * row_words];
                let mut values = vec![0u32; rows * row_words];
                for j in 0..rows {
                    let at = j * row_words..(j + 1) * row_words;
                    quantize_kv_row(&k[j * d..(j + 1) * d], heads, &mut keys[at.clone()]);
                    quantize_kv_row(&v[j * d..(j + 1) * d], heads, &mut values[at]);
                }
                let mut packed = vec![0xffff_ffffu32; heads * all_head_words(rows, dk) + 3];
                assert!(pack_all_kv(&k, &v, d, heads, &mut packed));
                for scale in [3.0, 1e-3, 0.0] {
                    let q: Vec<f32> = (0..d).map(|_| scale * next()).collect();
                    let mut want = q.clone();
                    attention_grouped_i8(
                        &mut want,
                        &keys,
                        &values,
                        heads,
                        heads,
                        row_words,
                        &mut [0.0; 64],
                    );
                    let mut got = q.clone();
                    assert!(attention_all_i8(
                        &mut got,
                        &packed,
                        heads,
                        rows,
                        &mut [0.0; 64]
                    ));
                    let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&got), bits(&want), "dk {dk} heads {heads} rows {rows}");
                }
            }
        }
        // short buffers and a head width that is not a multiple of 4 are refused
        assert!(!pack_all_kv(&[0.0; 12], &[0.0; 12], 6, 2, &mut [0; 64]));
        assert!(!pack_all_kv(&[0.0; 16], &[0.0; 16], 8, 1, &mut [0; 3]));
        assert!(!attention_all_i8(
            &mut [1.0; 8],
            &[0; 3],
            1,
            2,
            &mut [0.0; 4]
        ));
    }

    #[test]
    fn rows_are_each_row_bit_for_bit() {
        let mut next = xorshift(0x2a0f);
        for (dk, heads) in [(4, 1), (16, 3), (32, 1), (64, 2)] {
            let d = dk * heads;
            for rows in [0, 1, 2, 3, 33, 70] {
                let k: Vec<f32> = (0..rows * d).map(|_| 3.0 * next()).collect();
                let v: Vec<f32> = (0..rows * d).map(|_| next()).collect();
                let mut packed = vec![0u32; heads * all_head_words(rows, dk)];
                assert!(pack_all_kv(&k, &v, d, heads, &mut packed));
                for m in [1, 2, 3, 4] {
                    let q: Vec<f32> = (0..m * d).map(|_| 3.0 * next()).collect();
                    let mut want = q.clone();
                    for row in want.chunks_exact_mut(d) {
                        assert!(attention_all_i8(row, &packed, heads, rows, &mut [0.0; 70]));
                    }
                    let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                    // two rows at a time (scores for both), one at a time, and dispatched
                    for scores in [pair_scores_len(rows), rows] {
                        let mut got = q.clone();
                        let mut s = vec![0.0; scores];
                        assert!(attention_all_i8_rows_using(
                            all_head,
                            |a, b, scale, head, s| {
                                all_head_steps(all_head, a, scale, head, s);
                                all_head_steps(all_head, b, scale, head, s);
                            },
                            &mut got,
                            d,
                            &packed,
                            heads,
                            rows,
                            &mut s,
                        ));
                        assert_eq!(bits(&got), bits(&want), "dk {dk} rows {rows} m {m}");
                        let mut got = q.clone();
                        assert!(attention_all_i8_rows(
                            &mut got, d, &packed, heads, rows, &mut s
                        ));
                        assert_eq!(bits(&got), bits(&want));
                    }
                    let mut got = q.clone();
                    let mut s = vec![0.0; 2 * rows];
                    assert!(crate::attention_all_i8_rows(
                        &mut got, d, &packed, heads, rows, &mut s
                    ));
                    assert_eq!(
                        bits(&got),
                        bits(&want),
                        "dispatched, dk {dk} rows {rows} m {m}"
                    );
                }
                // not whole rows, short scores, short buffers: refused, nothing written
                let mut q = vec![1.0f32; d + 1];
                assert!(!attention_all_i8_rows(
                    &mut q,
                    d,
                    &packed,
                    heads,
                    rows,
                    &mut [0.0; 70]
                ));
                assert!(q.iter().all(|&x| x == 1.0));
                if rows > 0 {
                    let mut q = vec![1.0f32; d];
                    let short = &mut vec![0.0; rows - 1];
                    assert!(!attention_all_i8_rows(
                        &mut q, d, &packed, heads, rows, short
                    ));
                    assert!(!attention_all_i8_rows(
                        &mut q,
                        d,
                        &packed[1..],
                        heads,
                        rows,
                        &mut [0.0; 70]
                    ));
                    assert!(q.iter().all(|&x| x == 1.0));
                }
            }
        }
    }

    /// The bound `exp_i8`'s documentation and docs/spec.md state.
    const EXP_I8_BOUND: f64 = 6.64e-6;

    #[test]
    fn exp_i8_is_within_its_bound_everywhere() {
        // every f32 in [EXP_I8_ZERO_BELOW, -0.0] (bit patterns 0x8000_0000 up to its),
        // four threads over interleaved blocks (under Miri a sample: every 65537th float)
        let last = EXP_I8_ZERO_BELOW.to_bits();
        let stride = if cfg!(miri) { 65537 } else { 1 };
        let worst = std::thread::scope(|scope| {
            let parts: Vec<_> = (0..4u32)
                .map(|part| {
                    scope.spawn(move || {
                        let mut worst = (0.0f64, 0.0f32);
                        let mut bits = 0x8000_0000u32 + part * stride;
                        while bits <= last {
                            let x = f32::from_bits(bits);
                            let got = f64::from(exp_i8(x));
                            let want = libm::exp(f64::from(x));
                            let rel = (got - want).abs() / want;
                            assert!(got >= f64::from(f32::MIN_POSITIVE), "{x}: {got}");
                            if rel > worst.0 {
                                worst = (rel, x);
                            }
                            bits = match bits.checked_add(4 * stride) {
                                Some(b) => b,
                                None => break,
                            };
                        }
                        worst
                    })
                })
                .collect();
            parts
                .into_iter()
                .map(|p| p.join().unwrap())
                .fold((0.0f64, 0.0f32), |a, b| if b.0 > a.0 { b } else { a })
        });
        assert!(worst.0 <= EXP_I8_BOUND, "{worst:?}");
        // the measured bound is tight (its third digit): a change of rule shows here
        assert!(worst.0 > EXP_I8_BOUND - 0.01e-6 || cfg!(miri), "{worst:?}");
        // the edges: exactly 1 at 0, 0 below the threshold and at -inf, NaN stays NaN
        assert_eq!(exp_i8(0.0), 1.0);
        assert_eq!(exp_i8(-0.0), 1.0);
        assert_eq!(exp_i8(f32::from_bits(last + 1)).to_bits(), 0);
        assert_eq!(exp_i8(-1e30).to_bits(), 0);
        assert_eq!(exp_i8(f32::NEG_INFINITY).to_bits(), 0);
        assert!(exp_i8(f32::NAN).is_nan());
    }

    #[test]
    fn no_key_gives_a_zero_head() {
        let mut q = [1.0f32; 8];
        attention_grouped_i8(&mut q, &[], &[], 1, 1, 3, &mut [0.0; 4]);
        assert_eq!(q, [0.0; 8]);
    }
}
