//! f16 weights: the kernels' trait, the frame that cuts a product into whole tiles and
//! blocks for them, and the record of which kernel ran.
//!
//! Every kernel widens each weight exactly (f16 → f32 loses nothing) and accumulates in
//! f32 with fused multiply-adds, so a kernel differs from [`super::scalar::linear_f16`]
//! only in the order of its sums (and, on Helium, in flushing subnormal f32 products to
//! zero): the tests hold them to the f32 kernels' budget.
//!
//! - [`F16Dot`]: a kernel sees only whole tiles of [`MR`] weight rows and whole blocks of
//!   [`F16Dot::BLOCK`] elements ([`F16Dot::dot_rows`]) or one row ([`F16Dot::dot_blocks`]);
//!   [`linear_f16`] handles the leftover rows, the `k % BLOCK` tail and the bias.
//! - [`F16Kernel`]: the kernels by name; [`last_f16_kernel`] says which one served the
//!   latest f16 product (on every target, so the firmware suite can prove the kernel ran).

use super::f16;
use crate::simd::MR;
use crate::Kernel;
use core::sync::atomic::{AtomicU8, Ordering};

/// One implementation of the f16-weight dot products (f32 activations, f32 sums).
pub trait F16Dot: Copy {
    /// Name in reports.
    const NAME: &'static str;
    /// Elements per block.
    const BLOCK: usize;

    /// The kernel, if this CPU runs it.
    fn detect() -> Option<Self>;

    /// Dot products of one input row with whole tiles of weight rows `w_stride` apart,
    /// over whole blocks: `out[o] = sum_i x[i] * w[o * w_stride + i]` for
    /// `i < blocks * BLOCK` and every `o < out.len() / MR * MR` (all of them are written;
    /// rows that do not lie inside `w` give 0).
    fn dot_rows(self, x: &[f32], w: &[f16], w_stride: usize, blocks: usize, out: &mut [f32]);

    /// `sum_i x[i] * w[i]` over `blocks * BLOCK` elements (fewer if a slice is shorter).
    fn dot_blocks(self, x: &[f32], w: &[f16], blocks: usize) -> f32;

    /// One weight widened to f32 (the frame's tails).
    #[inline(always)]
    fn widen(self, v: f16) -> f32 {
        v.to_f32()
    }
}

/// The f16-weight linear layer on kernel `kern` (shapes as
/// [`super::scalar::linear_f16`]): per input row, the whole tiles of `MR` weight rows in
/// one [`F16Dot::dot_rows`] call, the leftover rows through [`F16Dot::dot_blocks`], then
/// the `k % BLOCK` tails and the bias here.
pub fn linear_f16<K: F16Dot>(
    kern: K,
    x: &[f32],
    w: &[f16],
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
) {
    if k == 0 {
        y.fill(0.0);
        return;
    }
    let rows = x.len() / k;
    let n = w.len() / k;
    debug_assert_eq!(y.len(), rows * n, "y must be [rows, n]");
    if n == 0 || rows == 0 || y.len() < rows * n {
        return;
    }
    let blocks = k / K::BLOCK;
    let head = blocks * K::BLOCK;
    let whole = n / MR * MR;
    // Index loops with `get`: every length next to the `k > 0` check above (the
    // link-time no-panic proof).
    for r in 0..rows {
        let (Some(x_row), Some(y_row)) = (x.get(r * k..(r + 1) * k), y.get_mut(r * n..(r + 1) * n))
        else {
            return;
        };
        let Some((main, rest)) = y_row.split_at_mut_checked(whole) else {
            return;
        };
        kern.dot_rows(x_row, w, k, blocks, main);
        for (o, dst) in (whole..).zip(rest.iter_mut()) {
            *dst = kern.dot_blocks(x_row, w.get(o * k..(o + 1) * k).unwrap_or(&[]), blocks);
        }
        if head < k {
            let x_tail = x_row.get(head..).unwrap_or(&[]);
            for (o, dst) in y_row.iter_mut().enumerate() {
                if let Some(w_tail) = w.get(o * k + head..(o + 1) * k) {
                    for (&a, &b) in x_tail.iter().zip(w_tail) {
                        *dst += a * kern.widen(b);
                    }
                }
            }
        }
        if let Some(bias) = bias {
            for (dst, &b) in y_row.iter_mut().zip(bias) {
                *dst += b;
            }
        }
    }
}

/// The f16-weight kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum F16Kernel {
    /// [`super::scalar::linear_f16`] (`half`'s software widening).
    Scalar = 1,
    /// x86_64 AVX2 + FMA + F16C (`vcvtph2ps`).
    Avx2 = 2,
    /// Arm FPU with the half-precision conversions (FPv4-SP / FPv5, VFPv4):
    /// `vcvtb`/`vcvtt.f32.f16` + `vfma.f32` (Cortex-M4F/M7/M33/M55, Armv7-A).
    ArmFpu = 3,
    /// Armv8.1-M MVE (Helium, Cortex-M55): widening `vldrh.u32` + `vcvtb.f32.f16` +
    /// `vfma.f32` on vectors.
    Helium = 4,
}

impl F16Kernel {
    /// Its name in reports.
    pub const fn name(self) -> &'static str {
        match self {
            F16Kernel::Scalar => "scalar",
            F16Kernel::Avx2 => "avx2-f16c",
            F16Kernel::ArmFpu => "arm-fpu-vcvt",
            F16Kernel::Helium => "helium-vcvt",
        }
    }

    const fn from_code(code: u8) -> Option<F16Kernel> {
        match code {
            1 => Some(F16Kernel::Scalar),
            2 => Some(F16Kernel::Avx2),
            3 => Some(F16Kernel::ArmFpu),
            4 => Some(F16Kernel::Helium),
            _ => None,
        }
    }

    /// The f16 kernel that goes with an f32 kernel (the one `PICOFORMER_KERNEL` forces
    /// or the best one found): `avx2`/`avx512` → AVX2 + F16C where the CPU has F16C,
    /// `arm-fpu` → the FPU conversions, `mve` → Helium; else the scalar one.
    pub fn for_kernel(kernel: Kernel) -> F16Kernel {
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 | Kernel::Avx512 if super::x86_64::Avx2F16::detect().is_some() => {
                F16Kernel::Avx2
            }
            #[cfg(pf_arm_fpu)]
            Kernel::ArmFpu => F16Kernel::ArmFpu,
            #[cfg(pf_arm_mve)]
            Kernel::Mve => F16Kernel::Helium,
            _ => F16Kernel::Scalar,
        }
    }
}

/// The f16 kernel the dispatching [`super::linear`] runs.
pub fn active_f16_kernel() -> F16Kernel {
    F16Kernel::for_kernel(crate::active_kernel())
}

/// The kernel of the latest f16 product (0: none yet). A plain load and store, which
/// every target has (thumbv6m and riscv32imc included); one byte of RAM.
static LAST: AtomicU8 = AtomicU8::new(0);

#[cfg(feature = "std")]
static CALLS: [core::sync::atomic::AtomicUsize; 5] =
    [const { core::sync::atomic::AtomicUsize::new(0) }; 5];

/// The kernel that computed the latest f16-weight [`super::linear`] product in this
/// program (`None` before the first): how a test proves which kernel ran, on every
/// target.
pub fn last_f16_kernel() -> Option<F16Kernel> {
    F16Kernel::from_code(LAST.load(Ordering::Relaxed))
}

/// How many f16-weight [`super::linear`] calls each kernel has served in this process
/// (`std` only).
#[cfg(feature = "std")]
pub fn f16_kernel_calls(kernel: F16Kernel) -> usize {
    CALLS
        .get(kernel as usize)
        .map_or(0, |c| c.load(Ordering::Relaxed))
}

/// Records that `kernel` serves an f16 product.
#[cfg(feature = "f16")]
#[inline(always)]
pub(super) fn record(kernel: F16Kernel) {
    LAST.store(kernel as u8, Ordering::Relaxed);
    #[cfg(feature = "std")]
    if let Some(c) = CALLS.get(kernel as usize) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}
