//! The scalar reference: plain Rust, always compiled, on every target.
//!
//! Every f32 kernel is tested against these functions, and the engine falls back to
//! them on targets without one.

/// Number of independent accumulators in [`dot`].
///
/// Eight partial sums break the floating-point dependency chain so the compiler can keep
/// them in one SIMD register on any target; the summation order is fixed and documented,
/// so results are identical on every platform.
pub const DOT_LANES: usize = 8;

/// Dot product of `a` and `b` over their common length.
///
/// Summation order: lane `i % 8` accumulates element `i` of the whole 8-element blocks,
/// the lanes are added pairwise (`((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7))`), then the tail
/// is added element by element.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    dot_widened(a, b, |y| y)
}

/// [`dot`] of f32 `a` with `b` widened to f32 element by element by `widen` (the f16
/// weights' [`dot_f16`](crate::generic::f16::dot_f16)): the same summation order.
#[inline(always)]
pub(crate) fn dot_widened<T: Copy>(a: &[f32], b: &[T], widen: impl Fn(T) -> f32) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (a.get(..n).unwrap_or(&[]), b.get(..n).unwrap_or(&[]));
    let mut lanes = [0.0f32; DOT_LANES];
    let a_blocks = a.chunks_exact(DOT_LANES);
    let b_blocks = b.chunks_exact(DOT_LANES);
    let (a_tail, b_tail) = (a_blocks.remainder(), b_blocks.remainder());
    for (a_block, b_block) in a_blocks.zip(b_blocks) {
        for ((lane, &x), &y) in lanes.iter_mut().zip(a_block).zip(b_block) {
            *lane += x * widen(y);
        }
    }
    let [l0, l1, l2, l3, l4, l5, l6, l7] = lanes;
    let mut sum = ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7));
    for (&x, &y) in a_tail.iter().zip(b_tail) {
        sum += x * widen(y);
    }
    sum
}

/// Linear layer over a batch of rows: `y[r][o] = dot(x[r], w[o]) + bias[o]`.
///
/// - `x`: `[rows, k]` input rows
/// - `w`: `[n, k]` weights (PyTorch's `[out, in]`)
/// - `bias`: `[n]` or `None` (zero)
/// - `y`: `[rows, n]` output, overwritten
///
/// The weight matrix is the outer loop so each weight row is read once per call, whatever
/// the number of rows: that is what bounds the speed of decoding on every target.
pub fn linear(x: &[f32], w: &[f32], bias: Option<&[f32]>, k: usize, y: &mut [f32]) {
    let Some((rows, n)) = super::linear_shape(x.len(), w.len(), k, y) else {
        return;
    };
    debug_assert_eq!(x.len(), rows * k, "x is not a whole number of rows");
    debug_assert_eq!(w.len(), n * k, "w is not a whole number of rows");
    if n == 0 {
        return;
    }
    for (o, w_row) in w.chunks_exact(k).enumerate() {
        let b = bias.and_then(|b| b.get(o)).copied().unwrap_or(0.0);
        for (x_row, y_row) in x.chunks_exact(k).zip(y.chunks_exact_mut(n)) {
            if let Some(out) = y_row.get_mut(o) {
                *out = dot(x_row, w_row) + b;
            }
        }
    }
}

/// Accumulating linear layer over a column block of the weights:
/// `y[r][o] += dot(x[r], w[o * w_stride..o * w_stride + k])`.
///
/// - `x`: `[rows, k]` input rows
/// - `w`: `n` weight rows `w_stride >= k` apart, of which the first `k` columns are read
///   (columns `c..c + k` of a `[n, w_stride]` matrix when `w` starts at column `c`)
/// - `y`: `[rows, n]`, accumulated into (`n = y.len() / rows`)
///
/// A layer whose inner dimension is split into blocks sums its products block by block
/// with this (the feed-forward network's second layer, see the engine's `feed_forward`).
pub fn linear_acc(x: &[f32], w: &[f32], w_stride: usize, k: usize, y: &mut [f32]) {
    if k == 0 || w_stride < k {
        return;
    }
    let rows = x.len() / k;
    let n = y.len().checked_div(rows).unwrap_or(0);
    debug_assert_eq!(y.len(), rows * n, "y must be [rows, n]");
    if n == 0 {
        return;
    }
    for o in 0..n {
        let w_row = w.get(o * w_stride..o * w_stride + k).unwrap_or(&[]);
        for (x_row, y_row) in x.chunks_exact(k).zip(y.chunks_exact_mut(n)) {
            if let Some(out) = y_row.get_mut(o) {
                *out += dot(x_row, w_row);
            }
        }
    }
}

/// `y += x`, element-wise over the common length.
#[inline]
pub fn add_assign(y: &mut [f32], x: &[f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += x;
    }
}

/// `x[i] = gamma[i] * (x[i] * factor)` over the common length (RMSNorm's output, `factor`
/// the row's `1 / sqrt(mean(x^2) + eps)`).
#[inline]
pub fn scale_by_gamma(x: &mut [f32], gamma: &[f32], factor: f32) {
    for (v, &g) in x.iter_mut().zip(gamma) {
        *v = g * (*v * factor);
    }
}

/// `gate[i] = silu(gate[i]) * up[i]` over the common length, `silu(x) = x / (1 +
/// exp_fast(-x))` ([`exp_fast`]): the gated feed-forward network's SwiGLU.
#[inline]
pub fn silu_gate(gate: &mut [f32], up: &[f32]) {
    for (g, &u) in gate.iter_mut().zip(up) {
        *g = *g / (1.0 + exp_fast(-*g)) * u;
    }
}

/// `y += alpha * x`, element-wise over the common length.
#[inline]
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

/// `y[o] = dot(x, w[o * w_stride..][..x.len()])` for `o < y.len()`: one row against rows
/// `w_stride` apart (one head's keys inside `[m, d]` key rows). Rows past the end of `w`
/// give 0.
pub fn dot_strided(x: &[f32], w: &[f32], w_stride: usize, y: &mut [f32]) {
    let k = x.len();
    for (o, dst) in y.iter_mut().enumerate() {
        let at = o * w_stride;
        *dst = w.get(at..at + k).map_or(0.0, |row| dot(x, row));
    }
}

/// `y += sum_j alpha[j] * x[j * x_stride..][..y.len()]` for `j < alpha.len()`, rows added
/// in order: one head's weighted sum of value rows (inside `[m, d]`). Rows past the end
/// of `x` are skipped.
pub fn axpy_strided(alpha: &[f32], x: &[f32], x_stride: usize, y: &mut [f32]) {
    let n = y.len();
    for (j, &a) in alpha.iter().enumerate() {
        let at = j * x_stride;
        let Some(row) = x.get(at..at + n) else {
            break;
        };
        axpy(a, row, y);
    }
}

/// `e^x` in single precision with Cephes' `expf` scheme: `x = n ln 2 + r` (`n` the
/// nearest integer to `x log2 e`, `ln 2` in two parts so `r` is exact to about 2^-32),
/// `e^r` by a degree-7 polynomial, then `2^n` built from its exponent bits (in two
/// halves, so `n = 128` stays representable). About 1 ulp from the correctly rounded
/// value (libm's `expf`) and some 25 single-precision operations where libm's takes
/// double-precision steps, which a single-precision FPU runs in software. Only plain `*`,
/// `+`, `-` (never fused), so every target gives the same bits. Results below the
/// smallest normal number are 0 (`x < -87.33`); `x > 88.72` gives infinity, NaN gives NaN.
#[inline]
pub fn exp_fast(x: f32) -> f32 {
    if x < EXP_ZERO_BELOW {
        return 0.0;
    }
    if x > 88.72 {
        return f32::INFINITY;
    }
    let (e, n) = exp_fast_parts(x);
    // n in [-126, 128] (NaN: 0); each half's biased exponent in [64, 191] (so the
    // wrapping forms are exact)
    let half = n >> 1;
    let scale = |k: i32| f32::from_bits((k.wrapping_add(127) as u32 & 0xff) << 23);
    e * scale(half) * scale(n.wrapping_sub(half))
}

/// [`exp_fast`] of an argument `<= 0` (or NaN), bit for bit, with fewer steps: no
/// overflow test, and `2^n` (`n` in `[-126, 0]`) in one factor (multiplying by a power of
/// two rounds only where the product leaves the normal range, so one factor rounds the
/// same exact product once, as two do). The softmax's `exp(s - max)`.
#[inline]
pub fn exp_fast_nonpositive(x: f32) -> f32 {
    if x < EXP_ZERO_BELOW {
        return 0.0;
    }
    let (e, n) = exp_fast_parts(x);
    // wrapping: n in [-126, 0] (NaN: 0), so n + 127 in [1, 127]
    e * f32::from_bits((n.wrapping_add(127) as u32 & 0xff) << 23)
}

/// `exp_fast`'s constants (the SIMD kernels' twins read the same): `log2 e`; `ln 2` in two
/// parts (`355/512`: `n * EXP_LN2_HIGH` is exact for `|n| <= 2^15`); `1.5 * 2^23` (adding
/// it rounds to an integer); the polynomial's coefficients, highest degree first (Cephes';
/// its last, 5.0000001201e-1, rounds to 0.5 in f32); below `EXP_ZERO_BELOW` the result
/// is 0.
pub(crate) const EXP_LOG2_E: f32 = core::f32::consts::LOG2_E;
pub(crate) const EXP_LN2_HIGH: f32 = 0.693_359_4;
pub(crate) const EXP_LN2_LOW: f32 = -2.121_944_4e-4;
pub(crate) const EXP_ROUND: f32 = 12_582_912.0;
pub(crate) const EXP_P: [f32; 6] = [
    1.987_569_1e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    0.5,
];
pub(crate) const EXP_ZERO_BELOW: f32 = -87.33;

/// `exp_fast`'s reduction and polynomial: `(e^r, n)` with `x = n ln 2 + r` (`n` 0 for NaN).
#[inline(always)]
fn exp_fast_parts(x: f32) -> (f32, i32) {
    let n = (x * EXP_LOG2_E + EXP_ROUND) - EXP_ROUND;
    let r = (x - n * EXP_LN2_HIGH) - n * EXP_LN2_LOW;
    // Horner's rule written out: a loop here stays a loop on the Cortex-M
    let [p0, p1, p2, p3, p4, p5] = EXP_P;
    let p = ((((p0 * r + p1) * r + p2) * r + p3) * r + p4) * r + p5;
    ((p * (r * r) + r) + 1.0, n as i32)
}

/// Head width of the fused attention's kernel path ([`scores_head8`],
/// [`weighted_sum_head8`]): stories260K's 64 / 8 heads.
pub const FUSED_HEAD: usize = 8;

/// `scores[j] = q . keys[j * stride..][..8]` for `j < scores.len()`, each sum taken in
/// order (`q[0] k[0]`, then `+ q[1] k[1]`, ... `+ q[7] k[7]`); returns the largest score
/// (`-inf` when none, NaNs ignored as [`max`] does). Rows past the end of `keys` give
/// no score (`scores` is cut there).
pub fn scores_head8(q: &[f32; FUSED_HEAD], keys: &[f32], stride: usize, scores: &mut [f32]) -> f32 {
    scores_head8_by(q, keys, stride, scores, |s, a, b| s + a * b)
}

/// `out = sum_j weights[j] * values[j * stride..][..8]`, per element from 0.0 in order of
/// `j` (`acc = acc + w_j v_j`). Rows past the end of `values` are skipped.
pub fn weighted_sum_head8(
    weights: &[f32],
    values: &[f32],
    stride: usize,
    out: &mut [f32; FUSED_HEAD],
) {
    weighted_sum_head8_by(weights, values, stride, out, |acc, w, v| acc + w * v);
}

/// [`scores_head8`] with each sum after the first product a fused multiply-add
/// (`s = fma(q[i], k[i], s)`, one rounding per element): the scalar twin, bit for bit, of
/// the kernels that declare [`F32Simd::HEAD8_FMA`](crate::frame::f32::F32Simd::HEAD8_FMA)
/// (the Arm FPU's `vfma`: one instruction per multiply-add instead of two).
pub fn scores_head8_fma(
    q: &[f32; FUSED_HEAD],
    keys: &[f32],
    stride: usize,
    scores: &mut [f32],
) -> f32 {
    scores_head8_by(q, keys, stride, scores, |s, a, b| libm::fmaf(a, b, s))
}

/// [`weighted_sum_head8`] by fused multiply-adds (`acc = fma(w_j, v_j, acc)`): the twin
/// of the kernels that declare
/// [`F32Simd::HEAD8_FMA`](crate::frame::f32::F32Simd::HEAD8_FMA), as [`scores_head8_fma`].
pub fn weighted_sum_head8_fma(
    weights: &[f32],
    values: &[f32],
    stride: usize,
    out: &mut [f32; FUSED_HEAD],
) {
    weighted_sum_head8_by(weights, values, stride, out, |acc, w, v| {
        libm::fmaf(w, v, acc)
    });
}

/// The loop of [`scores_head8`] and [`scores_head8_fma`]: `add(s, q[i], k[i])` adds one
/// product to the running sum (inlined, so each twin keeps its own instructions).
#[inline(always)]
fn scores_head8_by(
    q: &[f32; FUSED_HEAD],
    keys: &[f32],
    stride: usize,
    scores: &mut [f32],
    add: impl Fn(f32, f32, f32) -> f32,
) -> f32 {
    let mut largest = f32::NEG_INFINITY;
    for (j, dst) in scores.iter_mut().enumerate() {
        let at = row_at(j, stride);
        let Some(key) = keys
            .get(at..at.wrapping_add(FUSED_HEAD)) // (a wrapped end is `None` too)
            .and_then(|k| <&[f32; FUSED_HEAD]>::try_from(k).ok())
        else {
            break;
        };
        let mut s = q[0] * key[0];
        for (&a, &b) in q.iter().zip(key).skip(1) {
            s = add(s, a, b);
        }
        *dst = s;
        if s > largest {
            largest = s;
        }
    }
    largest
}

/// Offset `j * stride` of row `j` in a loop over rows that ends at the first row past
/// its slice: wrapping, which is exact there (row `j - 1` fitted, so `j * stride <=
/// 2 (j - 1) stride < 2 len` for `j >= 2`, and `j * stride <= stride` for `j <= 1`).
#[inline(always)]
fn row_at(j: usize, stride: usize) -> usize {
    j.wrapping_mul(stride)
}

/// The loop of [`weighted_sum_head8`] and [`weighted_sum_head8_fma`]: `add(acc, w_j, v_j)`
/// adds one product to an element's sum (inlined, as [`scores_head8_by`]).
#[inline(always)]
fn weighted_sum_head8_by(
    weights: &[f32],
    values: &[f32],
    stride: usize,
    out: &mut [f32; FUSED_HEAD],
    add: impl Fn(f32, f32, f32) -> f32,
) {
    out.fill(0.0);
    for (j, &w) in weights.iter().enumerate() {
        let at = row_at(j, stride);
        // (a wrapped end is `None` too)
        let Some(value) = values.get(at..at.wrapping_add(FUSED_HEAD)) else {
            break;
        };
        for (a, &v) in out.iter_mut().zip(value) {
            *a = add(*a, w, v);
        }
    }
}

/// [`attention_grouped_fused`] with [`scores_head8_fma`] and [`weighted_sum_head8_fma`]:
/// what the kernels that declare
/// [`F32Simd::HEAD8_FMA`](crate::frame::f32::F32Simd::HEAD8_FMA) compute, bit for bit.
pub fn attention_grouped_fused_fma(
    query: &mut [f32],
    keys: &[f32],
    values: &[f32],
    n_heads: usize,
    n_kv_heads: usize,
    scores: &mut [f32],
) {
    crate::frame::f32::attention_grouped_fused_using(
        scores_head8_fma,
        exp_weighted_sum_head8_fma,
        query,
        keys,
        values,
        n_heads,
        n_kv_heads,
        scores,
    );
}

/// The fused attention's second pass for one 8-column head: `scores[j] =
/// exp_fast(scores[j] - largest)` ([`exp_fast_nonpositive`]), their sum in order of `j`
/// from +0.0 (returned), and `out` = [`weighted_sum_head8`] of the exponentials.
pub fn exp_weighted_sum_head8(
    scores: &mut [f32],
    largest: f32,
    values: &[f32],
    stride: usize,
    out: &mut [f32; FUSED_HEAD],
) -> f32 {
    exp_weighted_sum_head8_using(weighted_sum_head8, scores, largest, values, stride, out)
}

/// [`exp_weighted_sum_head8`] with [`weighted_sum_head8_fma`]: the twin of the kernels
/// that declare [`F32Simd::HEAD8_FMA`](crate::frame::f32::F32Simd::HEAD8_FMA).
pub fn exp_weighted_sum_head8_fma(
    scores: &mut [f32],
    largest: f32,
    values: &[f32],
    stride: usize,
    out: &mut [f32; FUSED_HEAD],
) -> f32 {
    exp_weighted_sum_head8_using(weighted_sum_head8_fma, scores, largest, values, stride, out)
}

/// [`exp_weighted_sum_head8`] with the given weighted sum (the exponentials first, then
/// one weighted-sum pass over them).
#[inline(always)]
pub(crate) fn exp_weighted_sum_head8_using(
    weighted_sum_head8: impl Fn(&[f32], &[f32], usize, &mut [f32; FUSED_HEAD]),
    scores: &mut [f32],
    largest: f32,
    values: &[f32],
    stride: usize,
    out: &mut [f32; FUSED_HEAD],
) -> f32 {
    let mut sum = 0.0f32;
    for s in scores.iter_mut() {
        // s <= largest: the argument is <= 0 (or NaN)
        *s = exp_fast_nonpositive(*s - largest);
        sum += *s;
    }
    weighted_sum_head8(scores, values, stride, out);
    sum
}

/// Attention of one query over `m` cached keys with grouped key/value heads, fused per
/// head (the llama layer's; shapes and masking as [`attention_grouped`]): per query head,
/// with `q' = q_h * (1 / sqrt(dk))`,
///
/// 1. `s_j = q' . k_j`, each dot product summed in order of the element;
/// 2. `e_j = exp_fast(s_j - max_j s_j)` ([`exp_fast`]), `sum = e_0 + e_1 + ...` in order;
/// 3. `out = (sum_j e_j v_j) * (1 / sum)`, each element summed in order of `j` from 0.
///
/// The same softmax-weighted sum as [`attention_grouped`], normalised once per head
/// instead of once per key and with [`exp_fast`]; it differs from it by a few ulp. No
/// key (or only NaN scores) gives a zero head. Heads of [`FUSED_HEAD`] columns go
/// through the active kernel's [`scores_head8`] / [`weighted_sum_head8`].
pub fn attention_grouped_fused(
    query: &mut [f32],
    keys: &[f32],
    values: &[f32],
    n_heads: usize,
    n_kv_heads: usize,
    scores: &mut [f32],
) {
    crate::frame::f32::attention_grouped_fused_using(
        scores_head8,
        exp_weighted_sum_head8,
        query,
        keys,
        values,
        n_heads,
        n_kv_heads,
        scores,
    );
}

/// Sum of `values` with Neumaier's compensated summation: the rounding error of every
/// addition is carried along and added back at the end, so the result is as if summed
/// in about twice the precision, in a fixed order on every target.
///
/// Why: in a plain f32 running sum, terms below half an ulp of the sum are lost
/// entirely. Softmax over a large vocabulary adds tens of thousands of such tiny terms to
/// a sum near 1; a plain sum then underestimates it systematically (Whisper's 51,865
/// logits: about 1e-4 per log-probability).
#[inline]
pub fn sum_compensated(values: impl Iterator<Item = f32>) -> f32 {
    let mut sum = 0.0f32;
    let mut compensation = 0.0f32;
    for v in values {
        let t = sum + v;
        compensation += if sum.abs() >= v.abs() {
            (sum - t) + v
        } else {
            (v - t) + sum
        };
        sum = t;
    }
    sum + compensation
}

/// Largest element, `-inf` for an empty slice. NaNs are ignored.
#[inline]
pub fn max(x: &[f32]) -> f32 {
    x.iter()
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m })
}

/// Index of the largest element; ties go to the lowest index; NaNs are never chosen.
///
/// Returns `None` for an empty slice or one that holds only NaNs.
#[inline]
pub fn argmax(x: &[f32]) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &v) in x.iter().enumerate() {
        let better = match best {
            Some((_, b)) => v > b,
            None => !v.is_nan(),
        };
        if better {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

/// `exp_fast(v - m)` for `v <= m` (or NaN) out of line: the softmaxes' one copy of the
/// exponential, not one per caller (firmware size; a call costs a few cycles of its ~40).
#[inline(never)]
fn exp_minus_max_element(v: f32, m: f32) -> f32 {
    exp_fast_nonpositive(v - m)
}

/// `x[i] = exp_fast(x[i] - largest)` (via [`exp_fast_nonpositive`]) for every `x[i] <=
/// largest` (or NaN): the softmax's exponentials, and the scalar twin of the SIMD
/// kernels' row of them, which give the same bits (NaN stays NaN, not necessarily the
/// same NaN).
pub fn exp_minus_max(x: &mut [f32], largest: f32) {
    for v in x.iter_mut() {
        *v = exp_minus_max_element(*v, largest);
    }
}

/// `x[i] = log10f(x[i])`, libm's (within 1 ulp of the exact value), in place: the
/// log-mel front end's logarithms; every kernel gives these bits.
pub fn log10(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = libm::log10f(*v);
    }
}

/// Softmax in place: `x[i] = exp(x[i] - max) / sum`, the exponential [`exp_fast`] (the
/// one exp of every softmax, so all targets give the same bits).
///
/// A row whose elements are all `-inf` (every key masked) has no defined distribution;
/// it becomes all zeros, so the attention output of such a query is zero.
pub fn softmax(x: &mut [f32]) {
    softmax_using(exp_minus_max, x);
}

/// [`softmax`] with the given row of exponentials ([`exp_minus_max`] or a kernel's twin
/// of it, bit for bit): the same result.
#[inline(always)]
pub(crate) fn softmax_using(exp_minus_max: impl Fn(&mut [f32], f32), x: &mut [f32]) {
    let m = max(x);
    if m == f32::NEG_INFINITY {
        x.fill(0.0);
        return;
    }
    exp_minus_max(x, m);
    let sum = sum_compensated(x.iter().copied());
    for v in x.iter_mut() {
        *v /= sum;
    }
}

/// `log(sum(exp(x)))`, computed as `max + log(sum(exp(x - max)))` ([`exp_fast`]);
/// `-inf` when empty or when every element is `-inf`.
pub fn log_sum_exp(x: &[f32]) -> f32 {
    let m = max(x);
    if m == f32::NEG_INFINITY {
        return m;
    }
    let sum = sum_compensated(x.iter().map(|&v| exp_minus_max_element(v, m)));
    m + libm::logf(sum)
}

/// `log(sum(exp(x - largest)))` ([`exp_fast`], compensated sum), for `largest` the row's
/// maximum: the log-softmax's normaliser, so that `x[i] - largest - it` is
/// [`log_softmax`]'s `x[i]` bit for bit (a search that wants one token's needs no more).
pub fn log_sum_exp_below(x: &[f32], largest: f32) -> f32 {
    libm::logf(sum_compensated(
        x.iter().map(|&v| exp_minus_max_element(v, largest)),
    ))
}

/// Log-softmax in place: `x[i] = x[i] - max - log(sum(exp(x - max)))` ([`exp_fast`]).
pub fn log_softmax(x: &mut [f32]) {
    let m = max(x);
    if m == f32::NEG_INFINITY {
        return;
    }
    let log_sum = log_sum_exp_below(x, m);
    for v in x.iter_mut() {
        *v = *v - m - log_sum;
    }
}

/// `sqrt(x)`, correctly rounded (IEEE 754, as libm's `sqrtf`): the FPU's `vsqrt.f32`
/// where the target has one (the same bits in one instruction instead of ~220 bytes of
/// software square root on Cortex-M), libm's elsewhere.
#[inline]
pub fn sqrt(x: f32) -> f32 {
    #[cfg(all(pf_arm_fpu, not(miri)))]
    return crate::arch::arm_fpu::f32::sqrt(x);
    #[cfg(not(all(pf_arm_fpu, not(miri))))]
    return libm::sqrtf(x);
}

/// LayerNorm of one row in place: `(x - mean) / sqrt(var + eps) * gamma + beta`, with the
/// biased variance (divided by the row length). `beta = None` means zero.
pub fn layer_norm(x: &mut [f32], gamma: &[f32], beta: Option<&[f32]>, eps: f32) {
    let n = x.len();
    if n == 0 {
        return;
    }
    let inv_n = 1.0 / n as f32;
    let mean = sum_compensated(x.iter().copied()) * inv_n;
    let var = sum_compensated(x.iter().map(|&v| (v - mean) * (v - mean))) * inv_n;
    let inv_std = 1.0 / sqrt(var + eps);
    // (a range, not `.enumerate()`: its counter is overflow-checked)
    for (i, (v, &g)) in (0..n).zip(x.iter_mut().zip(gamma)) {
        let b = beta.and_then(|b| b.get(i)).copied().unwrap_or(0.0);
        *v = (*v - mean) * inv_std * g + b;
    }
}

/// ReLU in place: `max(x, 0)`.
#[inline]
pub fn relu(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = v.max(0.0);
    }
}

/// Exact GELU in place: `0.5 * x * (1 + erf(x / sqrt(2)))`.
#[inline]
pub fn gelu(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = 0.5 * *v * (1.0 + libm::erff(*v * core::f32::consts::FRAC_1_SQRT_2));
    }
}

/// Scaled dot-product attention of one query over `m` keys, all heads, in place.
///
/// - `query`: `[d]` = `n_heads` heads of `d / n_heads` columns; on return it holds the
///   attention output (heads concatenated), since each head's query is dead once its
///   scores are computed
/// - `keys`, `values`: `[m, d]` rows (key/value of each attended position)
/// - `scores`: `[>= m]` working row
///
/// Per head h: `out_h = softmax(q_h K_h^T / sqrt(dk)) V_h`.
pub fn attention(
    query: &mut [f32],
    keys: &[f32],
    values: &[f32],
    n_heads: usize,
    scores: &mut [f32],
) {
    crate::frame::f32::attention_using(
        dot_strided,
        axpy_strided,
        crate::frame::f32::softmax_scaled_reference,
        query,
        keys,
        values,
        n_heads,
        scores,
        None,
    );
}

/// [`attention`] with grouped key/value heads (grouped-query and multi-query attention):
/// `keys`, `values` `[m, n_kv_heads * dk]` rows (`dk = d / n_heads`), query head `h`
/// attending over key/value head `h / (n_heads / n_kv_heads)`; `n_kv_heads == n_heads` is
/// [`attention`]. An `n_kv_heads` of 0 or not dividing `n_heads` leaves `query` unchanged.
pub fn attention_grouped(
    query: &mut [f32],
    keys: &[f32],
    values: &[f32],
    n_heads: usize,
    n_kv_heads: usize,
    scores: &mut [f32],
) {
    crate::frame::f32::attention_grouped_using(
        dot_strided,
        axpy_strided,
        crate::frame::f32::softmax_scaled_reference,
        query,
        keys,
        values,
        n_heads,
        n_kv_heads,
        scores,
        None,
    );
}

/// Output rows of [`conv1d`] computed together: each weight row is read once per block.
pub const CONV_ROW_BLOCK: usize = 8;

/// Output length of a 1-D convolution: `(l_in + 2 padding - kernel) / stride + 1`, or 0
/// when the padded input is shorter than the kernel (or the stride is 0, or the padded
/// length overflows a `usize`: no such input fits in memory).
pub const fn conv1d_out_len(l_in: usize, kernel: usize, stride: usize, padding: usize) -> usize {
    let padded = match padding.checked_mul(2) {
        Some(both_ends) => match l_in.checked_add(both_ends) {
            Some(padded) => padded,
            None => return 0,
        },
        None => return 0,
    };
    if stride == 0 || padded < kernel {
        0
    } else {
        ((padded - kernel) / stride).saturating_add(1)
    }
}

/// 1-D convolution over time-major rows with zero padding on both ends (PyTorch's
/// `Conv1d` with `padding`, `stride`, dilation 1, one group):
/// `out[t][o] = bias[o] + sum_k dot(input[t*stride + k - padding], weight[o][k])`, where
/// rows outside the input are zeros.
///
/// - `input`: `[l_in, c_in]` time-major rows
/// - `weight`: `[c_out, kernel, c_in]`, i.e. PyTorch's `[c_out, c_in, kernel]` with its
///   last two axes swapped, so a window of `kernel` consecutive input rows is one
///   contiguous dot product with a weight row
/// - `bias`: `[c_out]` or `None` (zero)
/// - `out`: `[l_out, c_out]`, `l_out` = [`conv1d_out_len`]; overwritten
///
/// Summation order: a window that lies wholly inside the input is one [`dot`] of
/// `kernel * c_in` elements; a window that overlaps the padding adds one [`dot`] per
/// kernel tap that lies inside, in tap order.
#[allow(clippy::too_many_arguments)] // the geometry of a convolution is six numbers
pub fn conv1d(
    input: &[f32],
    c_in: usize,
    weight: &[f32],
    bias: Option<&[f32]>,
    kernel: usize,
    stride: usize,
    padding: usize,
    out: &mut [f32],
) {
    crate::frame::f32::conv1d_using(dot, input, c_in, weight, bias, kernel, stride, padding, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensated_sum_keeps_terms_below_half_an_ulp() {
        // 1 + 100,000 x 1e-8: a plain f32 running sum stays at exactly 1.0.
        let terms = core::iter::once(1.0f32).chain(core::iter::repeat_n(1e-8f32, 100_000));
        let plain: f32 = terms.clone().sum();
        assert_eq!(plain, 1.0);
        let compensated = sum_compensated(terms);
        assert!((compensated - 1.001).abs() < 1e-6, "{compensated}");
        assert_eq!(sum_compensated([3.0f32, 1e8, -1e8].into_iter()), 3.0);
        assert_eq!(sum_compensated(core::iter::empty()), 0.0);
    }

    /// Direct evaluation of PyTorch's `Conv1d` (weight `[c_out, c_in, k]`) in f64.
    fn conv1d_naive(
        x: &[f32],
        c_in: usize,
        w: &[f32],
        b: &[f32],
        k: usize,
        stride: usize,
        pad: usize,
    ) -> [f64; 64] {
        let (l_in, c_out) = (x.len() / c_in, b.len());
        let l_out = conv1d_out_len(l_in, k, stride, pad);
        let mut out = [0.0f64; 64];
        for t in 0..l_out {
            for o in 0..c_out {
                let mut s = b[o] as f64;
                for tap in 0..k {
                    let pos = (t * stride + tap) as isize - pad as isize;
                    if pos < 0 || pos as usize >= l_in {
                        continue;
                    }
                    for c in 0..c_in {
                        s += x[pos as usize * c_in + c] as f64 * w[(o * c_in + c) * k + tap] as f64;
                    }
                }
                out[t * c_out + o] = s;
            }
        }
        out
    }

    #[test]
    fn conv1d_matches_pytorch_definition_at_every_edge() {
        // c_in 3, c_out 2, kernel 3, input lengths 1..=9, strides 1 and 2, padding 1.
        let x: [f32; 27] = core::array::from_fn(|i| ((i * 7 % 11) as f32 - 5.0) * 0.25);
        let w_torch: [f32; 18] = core::array::from_fn(|i| ((i * 5 % 13) as f32 - 6.0) * 0.1);
        let b = [0.5f32, -0.25];
        // [c_out, c_in, k] -> [c_out, k, c_in]
        let mut w = [0.0f32; 18];
        for o in 0..2 {
            for c in 0..3 {
                for tap in 0..3 {
                    w[(o * 3 + tap) * 3 + c] = w_torch[(o * 3 + c) * 3 + tap];
                }
            }
        }
        for l_in in 1..=9 {
            for stride in [1, 2] {
                let l_out = conv1d_out_len(l_in, 3, stride, 1);
                let mut out = [f32::NAN; 64];
                conv1d(
                    &x[..l_in * 3],
                    3,
                    &w,
                    Some(&b),
                    3,
                    stride,
                    1,
                    &mut out[..l_out * 2],
                );
                let want = conv1d_naive(&x[..l_in * 3], 3, &w_torch, &b, 3, stride, 1);
                for i in 0..l_out * 2 {
                    assert!(
                        (out[i] as f64 - want[i]).abs() < 1e-5,
                        "l_in {l_in} stride {stride} [{i}]: {} vs {}",
                        out[i],
                        want[i]
                    );
                }
            }
        }
        assert_eq!(conv1d_out_len(3000, 3, 2, 1), 1500);
        assert_eq!(conv1d_out_len(3000, 3, 1, 1), 3000);
    }

    #[test]
    fn dot_matches_naive_sum_for_every_length() {
        for n in 0..=33 {
            let a: [f32; 33] = core::array::from_fn(|i| (i as f32) * 0.5 - 3.0);
            let b: [f32; 33] = core::array::from_fn(|i| 1.0 - (i as f32) * 0.25);
            let naive: f64 = (0..n).map(|i| a[i] as f64 * b[i] as f64).sum();
            let got = dot(&a[..n], &b[..n]) as f64;
            assert!((got - naive).abs() < 1e-3, "n={n}: {got} vs {naive}");
        }
    }

    #[test]
    fn linear_is_x_times_w_transposed_plus_bias() {
        // x [2, 3], w [2, 3] (out 2, in 3)
        let x = [1.0, 2.0, 3.0, -1.0, 0.0, 1.0];
        let w = [1.0, 0.0, 0.0, 0.5, 0.5, 0.5];
        let b = [10.0, -1.0];
        let mut y = [0.0; 4];
        linear(&x, &w, Some(&b), 3, &mut y);
        assert_eq!(y, [11.0, 2.0, 9.0, -1.0]);
        linear(&x, &w, None, 3, &mut y);
        assert_eq!(y, [1.0, 3.0, -1.0, 0.0]);
    }

    #[test]
    fn exp_fast_is_within_two_ulp_of_libm_and_handles_the_edges() {
        let ulps = |a: f32, b: f32| (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs();
        let mut worst = 0;
        // (under Miri, which interprets libm: a hundredth of the ~130,000 points)
        let step = if cfg!(miri) { 0.137 } else { 0.001_37 };
        let mut x = -87.3f32;
        while x < 88.7 {
            worst = worst.max(ulps(exp_fast(x), libm::expf(x)));
            x += step;
        }
        for x in [0.0, -0.0, 1e-8, -1e-8, 0.5, -0.5, 1.0, -1.0, 88.7, -87.33] {
            worst = worst.max(ulps(exp_fast(x), libm::expf(x)));
        }
        assert!(worst <= 2, "{worst} ulp");
        assert_eq!(exp_fast(0.0), 1.0);
        assert_eq!(exp_fast(-100.0), 0.0);
        assert_eq!(exp_fast(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_fast(100.0), f32::INFINITY);
        assert_eq!(exp_fast(f32::INFINITY), f32::INFINITY);
        assert!(exp_fast(f32::NAN).is_nan());
    }

    #[test]
    fn exp_fast_nonpositive_is_exp_fast_bit_for_bit() {
        let step = if cfg!(miri) { 0.073 } else { 0.000_73 };
        let mut x = 0.0f32;
        while x > -90.0 {
            assert_eq!(
                exp_fast_nonpositive(x).to_bits(),
                exp_fast(x).to_bits(),
                "{x}"
            );
            x -= step;
        }
        for x in [-0.0, -1e-30, -87.33, -87.329, f32::NEG_INFINITY] {
            assert_eq!(
                exp_fast_nonpositive(x).to_bits(),
                exp_fast(x).to_bits(),
                "{x}"
            );
        }
        // NaN in, NaN out: which NaN (sign, payload) an operation gives is unspecified
        // (Miri picks at random), so only that both are NaN
        assert!(exp_fast_nonpositive(f32::NAN).is_nan() && exp_fast(f32::NAN).is_nan());
    }

    #[test]
    fn fused_attention_is_the_softmax_weighted_sum() {
        // 2 heads of 8 over 1 key/value head, 3 keys: against attention_grouped (exact
        // exp, normalised per key) within a few ulp
        let keys: [f32; 24] = core::array::from_fn(|i| ((i * 7 % 11) as f32 - 5.0) * 0.3);
        let values: [f32; 24] = core::array::from_fn(|i| ((i * 5 % 13) as f32 - 6.0) * 0.2);
        let q: [f32; 16] = core::array::from_fn(|i| ((i * 3 % 7) as f32 - 3.0) * 0.4);
        let (mut fused, mut plain) = (q, q);
        attention_grouped_fused(&mut fused, &keys, &values, 2, 1, &mut [0.0; 3]);
        attention_grouped(&mut plain, &keys, &values, 2, 1, &mut [0.0; 3]);
        for (a, b) in fused.iter().zip(&plain) {
            assert!((a - b).abs() <= 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
        }
        // no key: a zero head; head width 5 takes the loop outside the 8-column kernels
        let mut empty = q;
        attention_grouped_fused(&mut empty, &[], &[], 2, 1, &mut []);
        assert_eq!(empty, [0.0; 16]);
        let mut fused: [f32; 10] = core::array::from_fn(|i| q[i]);
        let mut plain = fused;
        attention_grouped_fused(&mut fused, &keys[..15], &values[..15], 2, 1, &mut [0.0; 3]);
        attention_grouped(&mut plain, &keys[..15], &values[..15], 2, 1, &mut [0.0; 3]);
        for (a, b) in fused.iter().zip(&plain) {
            assert!((a - b).abs() <= 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }

    #[test]
    fn softmax_sums_to_one_and_masked_row_is_zero() {
        let mut x = [1.0, 2.0, 3.0];
        softmax(&mut x);
        let e: [f32; 3] = [(-2.0f32).exp(), (-1.0f32).exp(), 1.0];
        let s: f32 = e.iter().sum();
        for (got, want) in x.iter().zip(e.iter().map(|v| v / s)) {
            assert!((got - want).abs() < 1e-6);
        }
        let mut masked = [f32::NEG_INFINITY; 4];
        softmax(&mut masked);
        assert_eq!(masked, [0.0; 4]);
    }

    #[test]
    fn log_softmax_matches_log_of_softmax() {
        let mut a = [0.3, -1.0, 2.5, 0.0];
        let mut b = a;
        softmax(&mut a);
        log_softmax(&mut b);
        for (p, lp) in a.iter().zip(b) {
            assert!((p.ln() - lp).abs() < 1e-6);
        }
        assert!((log_sum_exp(&[0.3, -1.0, 2.5, 0.0]) - 2.701_377).abs() < 1e-5);
    }

    #[test]
    fn layer_norm_normalises_then_scales() {
        let mut x = [1.0, 2.0, 3.0, 4.0];
        layer_norm(
            &mut x,
            &[1.0, 1.0, 2.0, 2.0],
            Some(&[0.0, 1.0, 0.0, 0.0]),
            0.0,
        );
        let inv = 1.0 / 1.25f32.sqrt();
        let want = [-1.5 * inv, -0.5 * inv + 1.0, 1.0 * inv, 3.0 * inv];
        for (g, w) in x.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{g} vs {w}");
        }
    }

    #[test]
    fn activations() {
        let mut x = [-1.0, 0.0, 2.0];
        relu(&mut x);
        assert_eq!(x, [0.0, 0.0, 2.0]);
        let mut g = [-1.0f32, 0.0, 1.0];
        gelu(&mut g);
        // Reference: x * Phi(x) with Phi the standard normal CDF.
        assert!((g[0] + 0.158_655_26).abs() < 1e-6);
        assert_eq!(g[1], 0.0);
        assert!((g[2] - 0.841_344_7).abs() < 1e-6);
    }

    #[test]
    fn argmax_prefers_lowest_index_and_skips_nan() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0, 2.0]), Some(1));
        assert_eq!(argmax(&[f32::NAN, 1.0]), Some(1));
        assert_eq!(argmax(&[f32::NAN]), None);
        assert_eq!(argmax(&[]), None);
    }

    #[test]
    fn grouped_attention_is_attention_over_repeated_key_value_heads() {
        // d = 12, 6 heads of dk 2 over 1, 2, 3 and 6 key/value heads; 5 keys. Each is
        // multi-head attention whose keys and values repeat every key/value head over
        // its group of query heads (llama's repeat_kv): the same operations, so the
        // same bits.
        const D: usize = 12;
        const M: usize = 5;
        let (heads, dk) = (6, 2);
        let query: [f32; D] = core::array::from_fn(|i| (i as f32 * 0.37).sin());
        for kv_heads in [1, 2, 3, 6] {
            let kv_d = kv_heads * dk;
            let group = heads / kv_heads;
            let keys: [f32; M * D] = core::array::from_fn(|i| (i as f32 * 0.11).cos());
            let values: [f32; M * D] = core::array::from_fn(|i| i as f32 * 0.25 - 3.0);
            let (keys, values) = (&keys[..M * kv_d], &values[..M * kv_d]);
            let repeat = |rows: &[f32]| -> [f32; M * D] {
                core::array::from_fn(|i| {
                    let (row, col) = (i / D, i % D);
                    rows[row * kv_d + (col / dk / group) * dk + col % dk]
                })
            };
            let mut want = query;
            attention(
                &mut want,
                &repeat(keys),
                &repeat(values),
                heads,
                &mut [0.0; M],
            );
            let mut got = query;
            attention_grouped(&mut got, keys, values, heads, kv_heads, &mut [0.0; M]);
            assert_eq!(got, want, "{kv_heads} key/value heads");
            assert_ne!(got, query, "{kv_heads} key/value heads");
        }
        // n_kv_heads not dividing n_heads (or 0): the query is left as it was
        for kv_heads in [0, 4] {
            let mut q = query;
            attention_grouped(
                &mut q,
                &[0.5; 40],
                &[0.5; 40],
                heads,
                kv_heads,
                &mut [0.0; M],
            );
            assert_eq!(q, query);
        }
    }

    #[test]
    fn attention_of_one_key_returns_its_value() {
        // d = 4, 2 heads; one key: softmax over a single key is 1.
        let mut q = [1.0, 2.0, 3.0, 4.0];
        let k = [0.5, 0.5, 0.5, 0.5];
        let v = [9.0, 8.0, 7.0, 6.0];
        let mut scores = [0.0; 1];
        attention(&mut q, &k, &v, 2, &mut scores);
        assert_eq!(q, v);
    }

    #[test]
    fn attention_weights_keys_by_scaled_scores() {
        // d = 2, 1 head, two keys.
        let mut q = [1.0, 0.0];
        let k = [2.0, 0.0, 0.0, 0.0];
        let v = [1.0, 0.0, 0.0, 1.0];
        let mut scores = [0.0; 2];
        attention(&mut q, &k, &v, 1, &mut scores);
        let s0 = 2.0 / 2.0f32.sqrt();
        let p0 = s0.exp() / (s0.exp() + 1.0);
        assert!((q[0] - p0).abs() < 1e-6 && (q[1] - (1.0 - p0)).abs() < 1e-6);
    }

    #[test]
    fn a_probe_receives_its_heads_probabilities_and_changes_nothing() {
        // d = 2, 2 heads of 1 column, two keys: head 0 prefers key 0, head 1 is even.
        let k = [2.0, 0.0, 0.0, 0.0];
        let v = [1.0, 3.0, 5.0, 7.0];
        let mut plain = [1.0, 1.0];
        let mut scores = [0.0; 2];
        attention(&mut plain, &k, &v, 2, &mut scores);
        for head in 0..2 {
            let mut q = [1.0, 1.0];
            let mut seen = [f32::NAN; 2];
            crate::frame::f32::attention_using(
                dot_strided,
                axpy_strided,
                crate::frame::f32::softmax_scaled_reference,
                &mut q,
                &k,
                &v,
                2,
                &mut scores,
                Some((head, &mut seen)),
            );
            assert_eq!(q, plain);
            let p0 = if head == 0 {
                2f32.exp() / (2f32.exp() + 1.0)
            } else {
                0.5
            };
            assert!((seen[0] - p0).abs() < 1e-6 && (seen[1] - (1.0 - p0)).abs() < 1e-6);
        }
    }
}
