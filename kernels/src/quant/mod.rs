//! Quantized weights: the linear layer over a weight matrix stored as f32, f16, or int8
//! with one f32 scale per output row.
//!
//! - [`Matrix`] is the one view of a weight matrix `[n, k]` the engine computes with; the
//!   [`linear`] here dispatches on its element type once per product.
//! - f16 weights: each weight is widened to f32 and multiplied with the f32 activation,
//!   f32 accumulation ([`scalar::linear_f16`]; AVX2 + F16C on x86_64, the FPU's
//!   `VCVTB`/`VCVTT.F32.F16` on Cortex-M4F/M7/M33 and Armv7-A, Helium's on the M55: the
//!   [`f16dot`] frame and [`F16Kernel`]).
//! - int8 weights (`w[o][i] = scale[o] * q[o][i]`, symmetric, `q` in `-127..=127`): the
//!   activation rows are quantized too, each with its own dynamic symmetric scale
//!   ([`quantize_row`]); the dot products are exact i32 sums of i8 products, and
//!   `y[r][o] = (acc as f32) * (sx[r] * scale[o]) + bias[o]`. The integer part is exact,
//!   and the epilogue is the same code for every kernel, so every kernel (scalar, AVX2,
//!   SDOT, SMLAD, Helium) gives bit-identical results. [`scalar::linear_i8_f32`] is the
//!   weights-only variant (f32 activations, f32 accumulation), a reference for measuring
//!   what the activation quantization costs; the engine does not use it.
//! - Integer kernels implement [`I8Dot`] and see only whole blocks; the frame here
//!   handles leftover rows, the `k % BLOCK` tail, the scales and the bias.

pub mod f16dot;
pub mod scalar;

#[cfg(target_arch = "aarch64")]
pub mod aarch64;
#[cfg(pf_arm_dsp)]
pub mod arm;
#[cfg(pf_arm_fpu)]
pub mod arm_f16;
#[cfg(pf_arm_mve)]
pub mod helium;
#[cfg(pf_arm_mve)]
pub mod helium_f16;
#[cfg(target_arch = "x86_64")]
pub mod x86_64;

#[cfg(feature = "std")]
pub use f16dot::f16_kernel_calls;
pub use f16dot::{active_f16_kernel, last_f16_kernel, F16Kernel};
pub use half::f16;

use crate::simd::MR;
use crate::Kernel;

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
#[derive(Debug, Clone, Copy)]
///
/// Only the element types of the enabled features exist (`f16`, `int8`): without them
/// a matrix is one slice, and every weight view the engine passes around is smaller.
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
/// `rows` input rows and reduction length at most `k`: `min(rows, I8_ROW_BLOCK) * k`.
pub const fn activation_values(rows: usize, k: usize) -> Option<usize> {
    let rows = if rows < I8_ROW_BLOCK {
        rows
    } else {
        I8_ROW_BLOCK
    };
    rows.checked_mul(k)
}

/// Scales an [`Activations`] buffer needs for products with at most `rows` input rows.
pub const fn activation_scales(rows: usize) -> usize {
    if rows < I8_ROW_BLOCK {
        rows
    } else {
        I8_ROW_BLOCK
    }
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

/// One SIMD implementation of the int8 dot products.
pub trait I8Dot: Copy {
    /// Name in reports.
    const NAME: &'static str;
    /// i8 elements per block.
    const BLOCK: usize;

    /// The kernel, if this CPU runs it.
    fn detect() -> Option<Self>;

    /// `out[m] = sum_i x[i] * w[m][i]` over `blocks * BLOCK` elements, exactly (i32,
    /// wrapping). Every slice holds at least `blocks * BLOCK` elements.
    fn dot_tile(self, x: &[i8], w: [&[i8]; MR], blocks: usize) -> [i32; MR];
}

/// The integer kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum QuantKernel {
    /// [`scalar::dot_i8`].
    Scalar = 0,
    /// x86_64 AVX2 (`vpmaddubsw` / `vpmaddwd`; for f16 weights F16C + FMA).
    Avx2 = 1,
    /// aarch64 `SDOT` (the `dotprod` extension).
    Sdot = 2,
    /// Armv7E-M / Armv8-M DSP `SMLAD` (Cortex-M4/M7/M33, Armv7-A).
    Smlad = 3,
    /// Armv8.1-M MVE `VMLADAVA` (Cortex-M55 built with `-C target-cpu=cortex-m55`).
    Helium = 4,
}

impl QuantKernel {
    /// Its name in reports.
    pub const fn name(self) -> &'static str {
        match self {
            QuantKernel::Scalar => "scalar",
            QuantKernel::Avx2 => "avx2",
            QuantKernel::Sdot => "sdot",
            QuantKernel::Smlad => "smlad",
            QuantKernel::Helium => "helium",
        }
    }

    /// The quantized kernel that goes with an f32 kernel (the one `PICOFORMER_KERNEL`
    /// forces or the best one found): `avx2`/`avx512` → AVX2, `neon` → SDOT where the
    /// CPU has `dotprod`, `arm-fpu` → Helium on MVE cores, else SMLAD where the target
    /// has the DSP extension.
    pub fn for_kernel(kernel: Kernel) -> QuantKernel {
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 | Kernel::Avx512 if x86_64::Avx2I8::detect().is_some() => {
                QuantKernel::Avx2
            }
            #[cfg(target_arch = "aarch64")]
            Kernel::Neon if aarch64::Sdot::detect().is_some() => QuantKernel::Sdot,
            #[cfg(pf_arm_mve)]
            Kernel::ArmFpu | Kernel::Mve => QuantKernel::Helium,
            #[cfg(all(pf_arm_dsp, not(pf_arm_mve)))]
            Kernel::ArmFpu => QuantKernel::Smlad,
            _ => QuantKernel::Scalar,
        }
    }
}

/// The quantized kernel the dispatching [`linear`] runs.
pub fn active_quant_kernel() -> QuantKernel {
    QuantKernel::for_kernel(crate::active_kernel())
}

#[cfg(feature = "std")]
static CALLS: [core::sync::atomic::AtomicUsize; 5] =
    [const { core::sync::atomic::AtomicUsize::new(0) }; 5];

/// How many int8 [`linear`] calls each kernel has served in this process (`std` only;
/// f16 products: [`f16_kernel_calls`]).
#[cfg(feature = "std")]
pub fn quant_kernel_calls(kernel: QuantKernel) -> usize {
    CALLS
        .get(kernel as usize)
        .map_or(0, |c| c.load(core::sync::atomic::Ordering::Relaxed))
}

/// Code of the int8 kernel that served the latest int8 product (`QuantKernel as u8 + 1`;
/// 0 before the first).
static LAST_I8: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(0);

/// The kernel that computed the latest int8-weight [`linear`] product in this program
/// (`None` before the first): how a test proves which kernel ran, on every target.
pub fn last_quant_kernel() -> Option<QuantKernel> {
    match LAST_I8.load(core::sync::atomic::Ordering::Relaxed) {
        1 => Some(QuantKernel::Scalar),
        2 => Some(QuantKernel::Avx2),
        3 => Some(QuantKernel::Sdot),
        4 => Some(QuantKernel::Smlad),
        5 => Some(QuantKernel::Helium),
        _ => None,
    }
}

#[cfg(feature = "int8")]
#[inline(always)]
fn count(kernel: QuantKernel) {
    LAST_I8.store(kernel as u8 + 1, core::sync::atomic::Ordering::Relaxed);
    #[cfg(feature = "std")]
    if let Some(c) = CALLS.get(kernel as usize) {
        c.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    }
}

/// Linear layer over a batch of rows with weights in any element type:
/// `y[r][o] = dot(x[r], w[o]) + bias[o]`.
///
/// - `x`: `[rows, k]` input rows
/// - `w`: `[n, k]` weights
/// - `bias`: `[n]` or `None`
/// - `y`: `[rows, n]`, overwritten
/// - `act`: the int8 activation buffer (int8 weights only; see [`activation_values`])
pub fn linear(
    x: &[f32],
    w: Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    act: &mut Activations,
) {
    match w {
        Matrix::F32(w) => crate::linear(x, w, bias, k, y),
        #[cfg(feature = "f16")]
        Matrix::F16(w) => linear_f16_dispatch(x, w, bias, k, y),
        #[cfg(feature = "int8")]
        Matrix::I8(w) => linear_i8_dispatch(x, w, bias, k, y, act),
    }
    #[cfg(not(feature = "int8"))]
    let _ = act;
}

// The quantized paths are kept out of line: an f32 model's stack never holds their frames.
#[cfg(feature = "f16")]
#[inline(never)]
fn linear_f16_dispatch(x: &[f32], w: &[f16], bias: Option<&[f32]>, k: usize, y: &mut [f32]) {
    #[cfg(pf_arm_fpu)]
    use f16dot::F16Dot;
    match active_f16_kernel() {
        #[cfg(target_arch = "x86_64")]
        F16Kernel::Avx2 => {
            if let Some(kern) = x86_64::Avx2F16::detect() {
                f16dot::record(F16Kernel::Avx2);
                return x86_64::linear_f16(kern, x, w, bias, k, y);
            }
        }
        #[cfg(pf_arm_fpu)]
        F16Kernel::ArmFpu => {
            if let Some(kern) = arm_f16::ArmFpuF16::detect() {
                f16dot::record(F16Kernel::ArmFpu);
                return f16dot::linear_f16(kern, x, w, bias, k, y);
            }
        }
        #[cfg(pf_arm_mve)]
        F16Kernel::Helium => {
            if let Some(kern) = helium_f16::HeliumF16::detect() {
                f16dot::record(F16Kernel::Helium);
                return f16dot::linear_f16(kern, x, w, bias, k, y);
            }
        }
        _ => {}
    }
    f16dot::record(F16Kernel::Scalar);
    scalar::linear_f16(x, w, bias, k, y)
}

#[cfg(feature = "int8")]
#[inline(never)]
fn linear_i8_dispatch(
    x: &[f32],
    w: I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    act: &mut Activations,
) {
    match active_quant_kernel() {
        #[cfg(target_arch = "x86_64")]
        QuantKernel::Avx2 => {
            if let Some(kern) = x86_64::Avx2I8::detect() {
                count(QuantKernel::Avx2);
                return linear_i8(kern, x, w, bias, k, y, act);
            }
        }
        #[cfg(target_arch = "aarch64")]
        QuantKernel::Sdot => {
            if let Some(kern) = aarch64::Sdot::detect() {
                count(QuantKernel::Sdot);
                return linear_i8(kern, x, w, bias, k, y, act);
            }
        }
        #[cfg(pf_arm_dsp)]
        QuantKernel::Smlad => {
            if let Some(kern) = arm::Smlad::detect() {
                count(QuantKernel::Smlad);
                return linear_i8(kern, x, w, bias, k, y, act);
            }
        }
        #[cfg(pf_arm_mve)]
        QuantKernel::Helium => {
            if let Some(kern) = helium::Helium::detect() {
                count(QuantKernel::Helium);
                return linear_i8(kern, x, w, bias, k, y, act);
            }
        }
        _ => {}
    }
    count(QuantKernel::Scalar);
    linear_i8(scalar::ScalarI8, x, w, bias, k, y, act)
}

/// The int8 linear layer on kernel `kern`: activation rows quantized `I8_ROW_BLOCK` (or
/// as many as `act` holds) at a time, then `MR` weight rows per kernel call.
pub fn linear_i8<K: I8Dot>(
    kern: K,
    x: &[f32],
    w: I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    act: &mut Activations,
) {
    if k == 0 {
        y.fill(0.0);
        return;
    }
    let rows = x.len() / k;
    let n = w.values.len() / k;
    let cap = (act.values.len() / k).min(act.scales.len());
    debug_assert_eq!(y.len(), rows * n, "y must be [rows, n]");
    debug_assert!(cap > 0 || rows == 0, "activation buffer too small");
    if n == 0 || rows == 0 || cap == 0 || y.len() < rows * n {
        return;
    }
    let blocks = k / K::BLOCK;
    let head = blocks * K::BLOCK;
    let mut r0 = 0;
    while r0 < rows {
        let block_rows = cap.min(rows - r0);
        // Quantize this block of activation rows.
        // Index loops, not zipped `chunks_exact`: the link-time no-panic proof needs every
        // length computation visible next to the `k > 0` check above.
        for r in 0..block_rows {
            let row = r0 + r;
            if let (Some(x_row), Some(q_row), Some(s)) = (
                x.get(row * k..(row + 1) * k),
                act.values.get_mut(r * k..(r + 1) * k),
                act.scales.get_mut(r),
            ) {
                *s = quantize_row(x_row, q_row);
            }
        }
        let y_block = y.get_mut(r0 * n..(r0 + block_rows) * n).unwrap_or(&mut []);
        let q_rows = act.values.get(..block_rows * k).unwrap_or(&[]);
        let sx_rows = act.scales.get(..block_rows).unwrap_or(&[]);
        let mut o = 0;
        while o < n {
            let tile = (n - o).min(MR);
            let w_rows: [&[i8]; MR] = core::array::from_fn(|m| {
                if m < tile {
                    w.values.get((o + m) * k..(o + m + 1) * k).unwrap_or(&[])
                } else {
                    &[]
                }
            });
            for r in 0..block_rows {
                let (Some(q_row), Some(&sx), Some(y_row)) = (
                    q_rows.get(r * k..(r + 1) * k),
                    sx_rows.get(r),
                    y_block.get_mut(r * n..(r + 1) * n),
                ) else {
                    break;
                };
                let sums: [i32; MR] = if tile == MR {
                    let mut sums = kern.dot_tile(q_row, w_rows, blocks);
                    if head < k {
                        let q_tail = q_row.get(head..).unwrap_or(&[]);
                        for (sum, w_row) in sums.iter_mut().zip(w_rows) {
                            let tail = scalar::dot_i8(q_tail, w_row.get(head..).unwrap_or(&[]));
                            *sum = sum.wrapping_add(tail);
                        }
                    }
                    sums
                } else {
                    w_rows.map(|w_row| scalar::dot_i8(q_row, w_row))
                };
                for (m, &acc) in sums.iter().enumerate().take(tile) {
                    let sw = w.scales.get(o + m).copied().unwrap_or(0.0);
                    let b = bias.and_then(|b| b.get(o + m)).copied().unwrap_or(0.0);
                    if let Some(dst) = y_row.get_mut(o + m) {
                        *dst = dequantize(acc, sx, sw, b);
                    }
                }
            }
            o += tile;
        }
        r0 += block_rows;
    }
}

/// The epilogue of every int8 dot product: `acc * (sx * sw) + b`, in this order.
#[inline(always)]
pub fn dequantize(acc: i32, sx: f32, sw: f32, b: f32) -> f32 {
    acc as f32 * (sx * sw) + b
}
