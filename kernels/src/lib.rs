//! Numerical kernels of picoformer.
//!
//! - [`scalar`]: the scalar reference of every operation, always compiled, on every
//!   target; the ground truth every SIMD kernel is tested against.
//! - [`simd`]: the frame shared by the SIMD kernels (a kernel sees only whole blocks of
//!   its lanes; the frame handles heads and tails) and the [`simd::F32Simd`] trait.
//! - Per-ISA kernels: `x86_64` (AVX2 + FMA, AVX-512F), `aarch64` (NEON), `arm` (the
//!   single-precision FPU of Cortex-M4F/M7/M33/M55, `asm!`), `mve` (Helium, Cortex-M55,
//!   `asm!`), `riscv` (RVV 1.0, Zve32f subset: riscv64 Linux and rv32 firmware with the
//!   vector extension, `asm!`).
//! - [`quant`]: weight matrices stored as f16 or int8 (one scale per row): the
//!   [`Matrix`] view, [`quant::linear`], the scalar twins and the integer kernels (AVX2,
//!   SDOT, SMLAD, Helium).
//! - One dispatch point: the functions at the crate root ([`linear`], [`dot`], [`axpy`],
//!   [`attention`]) run the [`active_kernel`]. Under `std` it is the best one this CPU
//!   supports, or the one named by the environment variable `PICOFORMER_KERNEL`
//!   (`scalar`, `avx2`, `avx512`, `neon`, `arm-fpu`, `rvv`, `mve`); without `std` it is chosen at
//!   compile time; under Miri it is always the scalar reference.
//!
//! Conventions shared by every kernel:
//! - Matrices are row-major `&[f32]` slices; a weight matrix `W` of a linear layer has
//!   shape `[out, in]` exactly as PyTorch stores it, so `y = x W^T + b` is a dot product of
//!   each input row with each weight row.
//! - Kernels never allocate and never panic on any input: shapes that do not line up are a
//!   bug of the caller (checked by `debug_assert!` in debug builds), and in release builds
//!   such a call touches only what lies inside every slice.
#![no_std]
#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(feature = "std")]
extern crate std;

pub mod quant;
pub mod scalar;
pub mod simd;

#[cfg(target_arch = "aarch64")]
pub mod aarch64;
#[cfg(pf_arm_fpu)]
pub mod arm;
#[cfg(pf_arm_mve)]
pub mod mve;
#[cfg(pf_rvv)]
pub mod riscv;
#[cfg(target_arch = "x86_64")]
pub mod x86_64;

pub use quant::{Activations, I8Matrix, Matrix};
pub use scalar::{
    add_assign, argmax, conv1d_out_len, gelu, layer_norm, log_softmax, log_sum_exp, max, relu,
    softmax, sum_compensated, CONV_ROW_BLOCK,
};

#[cfg(feature = "std")]
use core::sync::atomic::{AtomicU8, Ordering};

/// The kernels this crate has (not all exist on every target).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kernel {
    /// The scalar reference.
    Scalar = 1,
    /// x86_64 AVX2 + FMA.
    Avx2 = 2,
    /// x86_64 AVX-512F.
    Avx512 = 3,
    /// aarch64 NEON.
    Neon = 4,
    /// Arm single-precision FPU (Cortex-M4F/M7/M33/M55, 32-bit Arm Linux).
    ArmFpu = 5,
    /// RISC-V Vector 1.0 (riscv64 Linux with V; rv32 firmware built with the extension).
    Rvv = 6,
    /// Armv8.1-M MVE (Helium), Cortex-M55.
    Mve = 7,
}

impl Kernel {
    /// Every kernel, available or not.
    pub const ALL: [Kernel; 7] = [
        Kernel::Scalar,
        Kernel::Avx2,
        Kernel::Avx512,
        Kernel::Neon,
        Kernel::ArmFpu,
        Kernel::Rvv,
        Kernel::Mve,
    ];

    /// The name `PICOFORMER_KERNEL` takes.
    pub const fn name(self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512",
            Kernel::Neon => "neon",
            Kernel::ArmFpu => "arm-fpu",
            Kernel::Rvv => "rvv",
            Kernel::Mve => "mve",
        }
    }

    /// The kernel of that name.
    pub fn from_name(name: &str) -> Option<Kernel> {
        Kernel::ALL.into_iter().find(|k| k.name() == name)
    }

    #[cfg(feature = "std")]
    const fn from_code(code: u8) -> Option<Kernel> {
        match code {
            1 => Some(Kernel::Scalar),
            2 => Some(Kernel::Avx2),
            3 => Some(Kernel::Avx512),
            4 => Some(Kernel::Neon),
            5 => Some(Kernel::ArmFpu),
            6 => Some(Kernel::Rvv),
            7 => Some(Kernel::Mve),
            _ => None,
        }
    }

    /// True when this build and this CPU can run it.
    pub fn available(self) -> bool {
        #[cfg(any(
            target_arch = "x86_64",
            target_arch = "aarch64",
            pf_rvv,
            pf_arm_fpu,
            pf_arm_mve
        ))]
        use crate::simd::F32Simd;
        match self {
            Kernel::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => x86_64::Avx2Fma::detect().is_some(),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => x86_64::Avx512::detect().is_some(),
            #[cfg(target_arch = "aarch64")]
            Kernel::Neon => aarch64::Neon::detect().is_some(),
            #[cfg(pf_arm_fpu)]
            Kernel::ArmFpu => arm::ArmFpu::detect().is_some(),
            #[cfg(pf_rvv)]
            Kernel::Rvv => riscv::Rvv::detect().is_some(),
            #[cfg(pf_arm_mve)]
            Kernel::Mve => mve::Mve::detect().is_some(),
            #[allow(unreachable_patterns)] // every arm exists on some target
            _ => false,
        }
    }
}

/// 0 until the first call chooses; then the `Kernel` code. Only under `std`: firmware
/// chooses at compile time and keeps no static of its own in RAM.
#[cfg(feature = "std")]
static ACTIVE: AtomicU8 = AtomicU8::new(0);

/// The kernel the dispatching functions run (under `std` chosen on first use, then fixed).
#[cfg(feature = "std")]
pub fn active_kernel() -> Kernel {
    if let Some(kernel) = Kernel::from_code(ACTIVE.load(Ordering::Relaxed)) {
        return kernel;
    }
    let kernel = choose();
    ACTIVE.store(kernel as u8, Ordering::Relaxed);
    kernel
}

/// The kernel the dispatching functions run (chosen at compile time without `std`).
#[cfg(not(feature = "std"))]
#[inline(always)]
pub fn active_kernel() -> Kernel {
    choose()
}

/// The best available kernel, or the forced one. A forced kernel that this CPU cannot run
/// falls back to the scalar reference, and [`kernel_calls`] then shows it never ran.
fn choose() -> Kernel {
    // Miri cannot run SIMD intrinsics: under Miri the scalar reference is what runs (and
    // what Miri checks).
    if cfg!(miri) {
        return Kernel::Scalar;
    }
    #[cfg(feature = "std")]
    if let Ok(name) = std::env::var("PICOFORMER_KERNEL") {
        return Kernel::from_name(&name)
            .filter(|k| k.available())
            .unwrap_or(Kernel::Scalar);
    }
    // One `if` per kernel, not a loop over them: on bare metal every `available()` is a
    // constant, and this way the optimizer folds the choice at opt-level "s" too, so the
    // dispatching functions link no scalar fallback they can never run.
    let best = [
        Kernel::Avx512,
        Kernel::Avx2,
        Kernel::Neon,
        Kernel::Mve,
        Kernel::ArmFpu,
        Kernel::Rvv,
    ];
    let [a, b, c, d, e, f] = best;
    if a.available() {
        a
    } else if b.available() {
        b
    } else if c.available() {
        c
    } else if d.available() {
        d
    } else if e.available() {
        e
    } else if f.available() {
        f
    } else {
        Kernel::Scalar
    }
}

#[cfg(feature = "std")]
static CALLS: [core::sync::atomic::AtomicUsize; 8] =
    [const { core::sync::atomic::AtomicUsize::new(0) }; 8];

/// How many `linear` calls each kernel has served in this process (`std` only: the
/// forced-kernel check of the test suite reads it).
#[cfg(feature = "std")]
pub fn kernel_calls(kernel: Kernel) -> usize {
    CALLS
        .get(kernel as usize)
        .map_or(0, |c| c.load(Ordering::Relaxed))
}

#[inline(always)]
fn count(_kernel: Kernel) {
    #[cfg(feature = "std")]
    if let Some(c) = CALLS.get(_kernel as usize) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// Runs `$simd` with `$k` bound to the active SIMD kernel, or `$scalar`.
macro_rules! dispatch {
    ($k:ident => $simd:expr, scalar => $scalar:expr, count = $count:expr) => {{
        #[cfg(any(
            target_arch = "x86_64",
            target_arch = "aarch64",
            pf_rvv,
            pf_arm_fpu,
            pf_arm_mve
        ))]
        use crate::simd::F32Simd;
        match active_kernel() {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                if let Some($k) = crate::x86_64::Avx512::detect() {
                    if $count {
                        count(Kernel::Avx512);
                    }
                    return $simd;
                }
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => {
                if let Some($k) = crate::x86_64::Avx2Fma::detect() {
                    if $count {
                        count(Kernel::Avx2);
                    }
                    return $simd;
                }
            }
            #[cfg(target_arch = "aarch64")]
            Kernel::Neon => {
                if let Some($k) = crate::aarch64::Neon::detect() {
                    if $count {
                        count(Kernel::Neon);
                    }
                    return $simd;
                }
            }
            #[cfg(pf_arm_fpu)]
            Kernel::ArmFpu => {
                if let Some($k) = crate::arm::ArmFpu::detect() {
                    if $count {
                        count(Kernel::ArmFpu);
                    }
                    return $simd;
                }
            }
            #[cfg(pf_arm_mve)]
            Kernel::Mve => {
                if let Some($k) = crate::mve::Mve::detect() {
                    if $count {
                        count(Kernel::Mve);
                    }
                    return $simd;
                }
            }
            #[cfg(pf_rvv)]
            Kernel::Rvv => {
                if let Some($k) = crate::riscv::Rvv::detect() {
                    if $count {
                        count(Kernel::Rvv);
                    }
                    return $simd;
                }
            }
            _ => {}
        }
        if $count {
            count(Kernel::Scalar);
        }
        $scalar
    }};
}

/// Linear layer over a batch of rows: `y[r][o] = dot(x[r], w[o]) + bias[o]`.
///
/// - `x`: `[rows, k]` input rows
/// - `w`: `[n, k]` weights (PyTorch's `[out, in]`)
/// - `bias`: `[n]` or `None` (zero)
/// - `y`: `[rows, n]` output, overwritten
pub fn linear(x: &[f32], w: &[f32], bias: Option<&[f32]>, k: usize, y: &mut [f32]) {
    dispatch!(kern => simd::linear(kern, x, w, bias, k, y),
              scalar => scalar::linear(x, w, bias, k, y), count = true)
}

/// Accumulating linear layer over a column block of the weights:
/// `y[r][o] += dot(x[r], w[o * w_stride..][..k])` (see [`scalar::linear_acc`]).
pub fn linear_acc(x: &[f32], w: &[f32], w_stride: usize, k: usize, y: &mut [f32]) {
    dispatch!(kern => simd::linear_acc(kern, x, w, w_stride, k, y),
              scalar => scalar::linear_acc(x, w, w_stride, k, y), count = true)
}

/// Dot product of `a` and `b` over their common length.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    dispatch!(kern => simd::dot(kern, a, b), scalar => scalar::dot(a, b), count = false)
}

/// `y += alpha * x`, element-wise over the common length.
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    dispatch!(kern => simd::axpy(kern, alpha, x, y),
              scalar => scalar::axpy(alpha, x, y), count = false)
}

/// 1-D convolution over time-major rows (see [`scalar::conv1d`]), its dot products on the
/// active kernel.
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
    dispatch!(kern => scalar::conv1d_using(
                  |a, b| simd::dot(kern, a, b),
                  input, c_in, weight, bias, kernel, stride, padding, out),
              scalar => scalar::conv1d(input, c_in, weight, bias, kernel, stride, padding, out),
              count = false)
}

/// Scaled dot-product attention of one query over `m` keys, all heads, in place (see
/// [`scalar::attention`]).
pub fn attention(
    query: &mut [f32],
    keys: &[f32],
    values: &[f32],
    n_heads: usize,
    scores: &mut [f32],
) {
    attention_probed(query, keys, values, n_heads, scores, None)
}

/// [`attention`] that also hands out one head's attention probabilities: with
/// `probe = Some((h, out))`, head `h`'s softmax over the `m` keys (the weights its values
/// are summed with) is copied into `out[..min(m, out.len())]`. `None` is [`attention`].
pub fn attention_probed(
    query: &mut [f32],
    keys: &[f32],
    values: &[f32],
    n_heads: usize,
    scores: &mut [f32],
    probe: Option<(usize, &mut [f32])>,
) {
    dispatch!(kern => scalar::attention_using(
                  |x, w, stride, y| simd::dot_strided(kern, x, w, stride, y),
                  |alpha, x, stride, y| simd::axpy_strided(kern, alpha, x, stride, y),
                  query, keys, values, n_heads, scores, probe),
              scalar => scalar::attention_using(
                  scalar::dot_strided, scalar::axpy_strided,
                  query, keys, values, n_heads, scores, probe),
              count = false)
}
