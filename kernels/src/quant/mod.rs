//! Quantized weights: the linear layer over a weight matrix stored as f32, f16, or int8
//! with one f32 scale per output row.
//!
//! - [`Matrix`] is the one view of a weight matrix `[n, k]` the engine computes with; the
//!   [`linear`] here dispatches on its element type once per product.
//! - f16 weights: each weight is widened to f32 and multiplied with the f32 activation,
//!   f32 accumulation ([`crate::generic::f16::linear_f16`]; AVX2 + F16C on x86_64, the
//!   FPU's `VCVTB`/`VCVTT.F32.F16` on Cortex-M4F/M7/M33 and Armv7-A, MVE's on the M55:
//!   the [`crate::frame::f16`] frame).
//! - int8 weights (`w[o][i] = scale[o] * q[o][i]`, symmetric, `q` in `-127..=127`): the
//!   activation rows are quantized too, each with its own dynamic symmetric scale
//!   ([`quantize_row`]); the dot products are exact i32 sums of i8 products, and
//!   `y[r][o] = (acc as f32) * (sx[r] * scale[o]) + bias[o]`. The integer part is exact,
//!   and the epilogue is the same code for every kernel, so every kernel (scalar, AVX2,
//!   SDOT, SMLAD, MVE) gives bit-identical results. [`crate::generic::i8::linear_i8_f32`] is the
//!   weights-only variant (f32 activations, f32 accumulation), a reference for measuring
//!   what the activation quantization costs; the engine does not use it.
//! - Integer kernels implement [`I8Dot`] and see only whole blocks; the frame
//!   ([`crate::frame::i8`]) handles leftover rows, the `k % BLOCK` tail, the scales and
//!   the bias.
//! - Which kernel serves each dtype: [`crate::dispatch`].

pub use crate::frame::i8::{dequantize, linear_i8, I8Dot};
pub use half::f16;

/// Largest magnitude of a quantized value: the int8 range is symmetric, `-127..=127`.
pub const I8_MAX: f32 = 127.0;

/// Largest reduction length `k` of an int8 product: `2^17 * 128 * 127 < 2^31`, so no
/// i32 sum can overflow (even with -128 weights). The engine refuses int8 blobs with wider rows.
pub const I8_MAX_K: usize = 1 << 17;

/// Activation rows quantized (and computed) together by the int8 [`linear`]: the
/// caller's [`Activations`] buffer holds this many rows of `k` values (or fewer when no
/// product has that many rows).
pub const I8_ROW_BLOCK: usize = 8;

/// An int8 weight matrix `[n, k]` with one scale per row: `w[o][i] = scales[o] * values[o][i]`.
#[derive(Debug, Clone, Copy)]
pub struct I8Matrix<'a> {
    /// `[n, k]` quantized values, row-major.
    pub values: &'a [i8],
    /// `[n]` per-row scales, finite and `>= 0`.
    pub scales: &'a [f32],
}

/// A weight matrix `[n, k]` (PyTorch's `[out, in]`), in place, in one element type.
///
/// Only the element types of the enabled features exist (`f16`, `int8`): without them a
/// matrix is one slice, every weight view the engine passes around is smaller, and
/// [`linear`] links no kernel of the others.
#[derive(Debug, Clone, Copy)]
pub enum Matrix<'a> {
    /// f32 values.
    F32(&'a [f32]),
    /// f16 values, widened to f32 as they are used.
    #[cfg(feature = "f16")]
    F16(&'a [f16]),
    /// int8 values with a scale per row.
    #[cfg(feature = "int8")]
    I8(I8Matrix<'a>),
}

impl Matrix<'_> {
    /// Number of stored values (`n * k`).
    pub fn len(&self) -> usize {
        match self {
            Matrix::F32(w) => w.len(),
            #[cfg(feature = "f16")]
            Matrix::F16(w) => w.len(),
            #[cfg(feature = "int8")]
            Matrix::I8(w) => w.values.len(),
        }
    }

    /// True when the matrix holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The caller's buffer for quantized activation rows (int8 weights only): room for `rows`
/// rows of `k` values and their scales.
#[derive(Debug)]
pub struct Activations<'s> {
    /// `[rows, k]` quantized values.
    pub values: &'s mut [i8],
    /// `[rows]` their scales.
    pub scales: &'s mut [f32],
}

impl Activations<'_> {
    /// An empty buffer: enough for f32 and f16 weights, which need none.
    pub fn none() -> Activations<'static> {
        Activations {
            values: &mut [],
            scales: &mut [],
        }
    }
}

/// Bytes of quantized values an [`Activations`] buffer needs for products with at most
/// `rows` input rows and reduction length at most `k`: the larger of
/// `min(rows, I8_ROW_BLOCK) * k` (rows of int8 values) and `2 * k + 4` (one row of
/// sign-extended 16-bit values, word-aligned inside the buffer, as the SMLAD kernel stores
/// it: `arch::arm_fpu::i8::quantize_row_pairs`); 0 when `rows` is 0.
pub const fn activation_values(rows: usize, k: usize) -> Option<usize> {
    let block_rows = if rows < I8_ROW_BLOCK {
        rows
    } else {
        I8_ROW_BLOCK
    };
    let Some(int8_rows) = block_rows.checked_mul(k) else {
        return None;
    };
    let Some(pairs) = k.checked_mul(2) else {
        return None;
    };
    let Some(pairs) = pairs.checked_add(4) else {
        return None;
    };
    if rows == 0 || int8_rows >= pairs {
        Some(int8_rows)
    } else {
        Some(pairs)
    }
}

/// Scales an [`Activations`] buffer needs for products with at most `rows` input rows.
pub const fn activation_scales(rows: usize) -> usize {
    if rows < I8_ROW_BLOCK {
        rows
    } else {
        I8_ROW_BLOCK
    }
}

/// Hosts with `std`: whether the active int8 kernel has its own pass over several input
/// rows ([`crate::frame::i8::I8Dot::linear_rows`] on x86_64 AVX-512 VNNI; `false`
/// elsewhere), so that a caller gains from handing it more rows at once than
/// [`I8_ROW_BLOCK`].
#[cfg(feature = "std")]
pub fn packed_rows_i8() -> bool {
    #[cfg(target_arch = "x86_64")]
    return crate::arch::x86_64::i8::packed_rows_i8();
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Quantizes `x` into `q` (same length) with one symmetric scale, which it returns:
/// `scale = max|x| / 127`, `q[i] = round(x[i] / scale)` (ties away from zero), so
/// `q[i]` lies in `-127..=127`. An all-zero row has scale 0 and all `q` 0.
///
/// This one function quantizes activations for every kernel, so every kernel sees the
/// same integers.
pub fn quantize_row(x: &[f32], q: &mut [i8]) -> f32 {
    let amax = x.iter().fold(0.0f32, |m, &v| m.max(v.abs()));
    if amax == 0.0 || !amax.is_finite() {
        q.fill(0);
        return if amax == 0.0 { 0.0 } else { amax };
    }
    let inv = I8_MAX / amax;
    for (dst, &v) in q.iter_mut().zip(x) {
        *dst = round_to_i8(v * inv);
    }
    amax / I8_MAX
}

/// `v` rounded to the nearest integer (ties away from zero), clamped to `-127..=127`
/// (NaN gives 0).
#[inline(always)]
pub fn round_to_i8(v: f32) -> i8 {
    let r = if v >= 0.0 { v + 0.5 } else { v - 0.5 };
    // `as` saturates (and maps NaN to 0); the clamp keeps the range symmetric.
    (r as i32).clamp(-127, 127) as i8
}

/// Quantizes a weight row symmetrically into `q` and returns its scale
/// (`max|w| / 127`); the same rule as [`quantize_row`].
pub fn quantize_weight_row(w: &[f32], q: &mut [i8]) -> f32 {
    quantize_row(w, q)
}

/// Linear layer over a batch of rows with weights in any element type:
/// `y[r][o] = dot(x[r], w[o]) + bias[o]`.
///
/// - `x`: `[rows, k]` input rows
/// - `w`: `[n, k]` weights (by reference: a `Matrix` with the int8 variant is five
///   words, which every call site would otherwise copy)
/// - `bias`: `[n]` or `None`
/// - `y`: `[rows, n]`, overwritten
/// - `act`: the int8 activation buffer (int8 weights only; see [`activation_values`])
///
/// ```
/// use picoformer_kernels::quant::{self, activation_scales, activation_values, Activations, I8Matrix, Matrix};
/// // One row of k = 4 through two int8 weight rows (value * row scale).
/// let x = [1.0, -2.0, 0.5, 4.0];
/// let values = [127i8, 0, 0, 0, /* row 2 */ 0, 64, 0, -64];
/// let w = Matrix::I8(I8Matrix { values: &values, scales: &[0.01, 0.02] });
/// // The activation row is quantized into the caller's buffer.
/// let mut act_values = vec![0i8; activation_values(1, 4).unwrap()];
/// let mut act_scales = vec![0f32; activation_scales(1)];
/// let mut act = Activations { values: &mut act_values, scales: &mut act_scales };
/// let mut y = [0.0; 2];
/// quant::linear(&x, &w, None, 4, &mut y, &mut act);
/// // f32 weights of the same values: 1.27 and 1.28 * (-2 - 4) = -7.68
/// assert!((y[0] - 1.27).abs() < 0.02 && (y[1] + 7.68).abs() < 0.05);
/// ```
pub fn linear(
    x: &[f32],
    w: &Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    act: &mut Activations,
) {
    match *w {
        Matrix::F32(w) => crate::dispatch::linear(x, w, bias, k, y),
        #[cfg(feature = "f16")]
        Matrix::F16(w) => crate::dispatch::linear_f16(x, w, bias, k, y),
        #[cfg(feature = "int8")]
        Matrix::I8(w) => crate::dispatch::linear_i8(x, w, bias, k, y, act),
    }
    #[cfg(not(feature = "int8"))]
    let _ = act;
}
