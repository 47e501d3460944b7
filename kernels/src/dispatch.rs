//! The one kernel dispatch: which kernel runs, for every dtype, and the record of which
//! one ran.
//!
//! - A [`Kernel`] is one set of implementations for one ISA, one per dtype
//!   ([`KernelSet`]): f32 operations ([`F32Simd`]), f16-weight products ([`F16Dot`]),
//!   int8 products ([`I8Dot`]). A set that has no kernel for a dtype names [`Absent`]
//!   there, and the scalar reference ([`crate::generic`]) serves that dtype. The sets:
//!
//!   | kernel (`PICOFORMER_KERNEL`) | f32 | f16 | int8 | CRC-32C |
//!   |---|---|---|---|---|
//!   | `scalar` | scalar | scalar | scalar | scalar |
//!   | `avx2` | AVX2 + FMA | AVX2 + F16C | AVX2 | SSE4.2 `crc32` |
//!   | `avx512` | AVX-512F | AVX-512F `vcvtph2ps` | AVX2 | SSE4.2 `crc32` |
//!   | `neon` | NEON | scalar | `SDOT` (where the CPU has `dotprod`) | `CRC32CX` (where the CPU has `crc`) |
//!   | `arm-fpu` | FPU `vfma.f32` | FPU `VCVTB`/`VCVTT` | DSP `SMLAD` (where the target has it) | scalar |
//!   | `mve` | MVE | MVE `VCVTB` | MVE `VMLADAVA` | scalar |
//!   | `rvv` | RVV | scalar | RVV `vwmul` + `vwredsum` | scalar |
//!   | `scalar-fma` | scalar, the llama attention fused as `arm-fpu`'s and `mve`'s | scalar | scalar | scalar |
//!
//! - [`active_kernel`]: under `std` the best set this CPU runs, or the one named by the
//!   environment variable `PICOFORMER_KERNEL`, chosen on first use; without `std` it is
//!   chosen at compile time (every detection is a constant and the choice is inlined, so
//!   each dispatching `match` folds to one direct call into the build's own set, no other
//!   set is linked, and no static exists); under Miri always the scalar reference.
//! - The record (`kernel_calls` under `std`, [`last_kernel`]): one table, per [`Dtype`], of which
//!   kernel served the products. `last_kernel` for f16 and int8 exists on every target
//!   (one byte each, written once per product) so the firmware suite proves its kernels
//!   ran; for f32 it is kept under `std` only: firmware's f32 kernel is fixed at compile
//!   time, and a store per product would cost instructions on every token.

use crate::frame::crc32c::Crc32cKernel;
use crate::frame::f16::F16Dot;
use crate::frame::f32::{F32Simd, MR};
use crate::frame::i8::I8Dot;
use crate::generic;
#[cfg(feature = "int8")]
use crate::quant::{Activations, I8Matrix};
use core::sync::atomic::{AtomicU8, Ordering};
use half::f16;

/// Runs `$simd` with `$kern` bound to kernel `$kernel`'s implementation of `$dtype` (and
/// `$id` to the kernel that serves), or `$scalar` where that set has none this CPU runs;
/// `record`: counts the call in the record of `$dtype`. Returns from the enclosing
/// function. The one place that maps a kernel name to its set. `@unrecorded`: the same
/// for a member that has no record (`$dtype` any member of [`KernelSet`]: the CRC).
macro_rules! dispatch {
    ($kernel:expr, $dtype:ident: $trait:ident, record = $record:expr,
     |$kern:ident, $id:ident| $simd:expr, scalar => $scalar:expr) => {
        dispatch!(@unrecorded $kernel, $dtype: $trait,
                  |$kern, $id| {
                      if $record {
                          record(Dtype::$dtype, $id);
                      }
                      $simd
                  },
                  scalar => {
                      if $record {
                          record(Dtype::$dtype, Kernel::Scalar);
                      }
                      $scalar
                  })
    };
    (@unrecorded $kernel:expr, $member:ident: $trait:ident,
     |$kern:ident, $id:ident| $simd:expr, scalar => $scalar:expr) => {{
        #[allow(unused_macros)] // no kernel set on this target
        macro_rules! serve {
            ($set:ty) => {
                if let Some($kern) = <<$set as KernelSet>::$member as $trait>::detect() {
                    #[allow(unused_variables)]
                    let $id = <$set as KernelSet>::KERNEL;
                    return $simd;
                }
            };
        }
        match $kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => serve!(sets::Avx512),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => serve!(sets::Avx2),
            #[cfg(target_arch = "aarch64")]
            Kernel::Neon => serve!(sets::Neon),
            #[cfg(pf_arm_fpu)]
            Kernel::ArmFpu => serve!(sets::ArmFpu),
            #[cfg(pf_arm_mve)]
            Kernel::Mve => serve!(sets::Mve),
            #[cfg(pf_rvv)]
            Kernel::Rvv => serve!(sets::Rvv),
            _ => {}
        }
        $scalar
    }};
}

/// The kernels this crate has (not all exist on every target): each one a set of
/// implementations, one per [`Dtype`] (see the table in [`crate::dispatch`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kernel {
    /// The scalar reference.
    Scalar = 1,
    /// x86_64 AVX2 + FMA (f16: + F16C).
    Avx2 = 2,
    /// x86_64 AVX-512F (int8: AVX2's or VNNI).
    Avx512 = 3,
    /// aarch64 NEON (int8: `SDOT`).
    Neon = 4,
    /// Arm single-precision FPU (Cortex-M4F/M7/M33/M55, 32-bit Arm Linux); int8: the DSP
    /// extension's `SMLAD`.
    ArmFpu = 5,
    /// RISC-V Vector 1.0 (riscv64 Linux with V; rv32 firmware built with the extension).
    Rvv = 6,
    /// Armv8.1-M MVE (Helium), Cortex-M55.
    Mve = 7,
    /// The scalar reference, except that the llama layer's 8-column attention fuses each
    /// multiply-add as the Arm FPU and Helium kernels do
    /// ([`generic::f32::attention_grouped_fused_fma`], their twin): on a host, the bits
    /// of Arm firmware (the firmware suite's build script computes the tokens it expects
    /// of an int8 or f16 blob with it). Available wherever the reference is; never chosen
    /// unless named.
    ScalarFma = 8,
}

/// The element types a kernel set covers: f32 operations, f16-weight and int8 products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Dtype {
    /// f32 weights and activations (the f32 `linear`, `linear_acc`, dot products, axpy,
    /// attention, convolution).
    F32 = 0,
    /// f16 weights, f32 activations and sums.
    F16 = 1,
    /// int8 weights and activations, exact i32 sums.
    I8 = 2,
}

impl Dtype {
    /// Every dtype.
    pub const ALL: [Dtype; 3] = [Dtype::F32, Dtype::F16, Dtype::I8];

    /// Its name in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F16 => "f16",
            Dtype::I8 => "i8",
        }
    }
}

impl Kernel {
    /// Every kernel, available or not.
    pub const ALL: [Kernel; 8] = [
        Kernel::Scalar,
        Kernel::Avx2,
        Kernel::Avx512,
        Kernel::Neon,
        Kernel::ArmFpu,
        Kernel::Rvv,
        Kernel::Mve,
        Kernel::ScalarFma,
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
            Kernel::ScalarFma => "scalar-fma",
        }
    }

    /// The kernel of that name.
    pub fn from_name(name: &str) -> Option<Kernel> {
        Kernel::ALL.into_iter().find(|k| k.name() == name)
    }

    const fn from_code(code: u8) -> Option<Kernel> {
        match code {
            1 => Some(Kernel::Scalar),
            2 => Some(Kernel::Avx2),
            3 => Some(Kernel::Avx512),
            4 => Some(Kernel::Neon),
            5 => Some(Kernel::ArmFpu),
            6 => Some(Kernel::Rvv),
            7 => Some(Kernel::Mve),
            8 => Some(Kernel::ScalarFma),
            _ => None,
        }
    }

    /// True when this build and this CPU can run it (its f32 member: every set has one).
    /// Without `std` inlined, so that [`active_kernel`] folds to a constant.
    #[cfg_attr(not(feature = "std"), inline(always))]
    pub fn available(self) -> bool {
        dispatch!(self, F32: F32Simd, record = false, |_kern, _id| true,
                  scalar => matches!(self, Kernel::Scalar | Kernel::ScalarFma))
    }

    /// The kernel whose member serves `dtype` when this kernel is the active one: itself,
    /// or the scalar reference where its set has no kernel for `dtype` that this CPU runs.
    pub fn serving(self, dtype: Dtype) -> Kernel {
        match dtype {
            Dtype::F32 => dispatch!(self, F32: F32Simd, record = false, |_kern, id| id,
                                    scalar => Kernel::Scalar),
            Dtype::F16 => dispatch!(self, F16: F16Dot, record = false, |_kern, id| id,
                                    scalar => Kernel::Scalar),
            Dtype::I8 => dispatch!(self, I8: I8Dot, record = false, |_kern, id| id,
                                   scalar => Kernel::Scalar),
        }
    }

    /// The name of the implementation that serves `dtype` when this kernel is the active
    /// one, for reports: `avx2-f16c`, `sdot`, `smlad`, `arm-fpu-vcvt`, `mve-vcvt`, ...;
    /// `scalar` where the scalar reference serves.
    pub fn member_name(self, dtype: Dtype) -> &'static str {
        match dtype {
            Dtype::F32 => dispatch!(self, F32: F32Simd, record = false,
                                    |kern, _id| names::f32(kern), scalar => "scalar"),
            Dtype::F16 => dispatch!(self, F16: F16Dot, record = false,
                                    |kern, _id| names::f16(kern), scalar => "scalar"),
            Dtype::I8 => dispatch!(self, I8: I8Dot, record = false,
                                   |kern, _id| names::i8(kern), scalar => "scalar"),
        }
    }
}

/// The names of the implementations, for [`Kernel::member_name`] (unused on targets
/// without a kernel set: thumbv6m, riscv32imac).
#[allow(dead_code)]
mod names {
    use super::{Crc32cKernel, F16Dot, F32Simd, I8Dot};

    pub fn f32<K: F32Simd>(_kern: K) -> &'static str {
        K::NAME
    }

    pub fn f16<K: F16Dot>(_kern: K) -> &'static str {
        K::NAME
    }

    pub fn i8<K: I8Dot>(_kern: K) -> &'static str {
        K::NAME
    }

    pub fn crc32c<K: Crc32cKernel>(_kern: K) -> &'static str {
        K::NAME
    }
}

/// One kernel: its implementation of each dtype ([`Absent`] where it has none).
pub trait KernelSet {
    /// Its name.
    const KERNEL: Kernel;
    /// The f32 operations.
    type F32: F32Simd;
    /// The f16-weight products.
    type F16: F16Dot;
    /// The int8 products.
    type I8: I8Dot;
    /// The CRC-32C of blobs (no [`Dtype`]: not a product, and not recorded).
    type Crc32c: Crc32cKernel;
}

/// No kernel for this dtype in this set: [`F32Simd::detect`] (and the others) return
/// `None`, so the scalar reference serves it. Its methods are never called.
#[derive(Debug, Clone, Copy)]
pub struct Absent(());

impl F32Simd for Absent {
    const NAME: &'static str = "absent";
    const LANES: usize = 1;
    const ALIGN: usize = 4;

    fn detect() -> Option<Self> {
        None
    }

    fn dot_tile<const ROWS: usize>(
        self,
        _x: [&[f32]; ROWS],
        _w: [&[f32]; MR],
        _blocks: usize,
    ) -> [[f32; MR]; ROWS] {
        [[0.0; MR]; ROWS]
    }

    fn dot_blocks(self, _a: &[f32], _b: &[f32], _blocks: usize) -> f32 {
        0.0
    }

    fn axpy_blocks(self, _alpha: f32, _x: &[f32], _y: &mut [f32], _blocks: usize) {}
}

impl F16Dot for Absent {
    const NAME: &'static str = "absent";
    const BLOCK: usize = 1;

    fn detect() -> Option<Self> {
        None
    }

    fn dot_rows(self, _x: &[f32], _w: &[f16], _stride: usize, _blocks: usize, _out: &mut [f32]) {}

    fn dot_blocks(self, _x: &[f32], _w: &[f16], _blocks: usize) -> f32 {
        0.0
    }
}

impl I8Dot for Absent {
    const NAME: &'static str = "absent";
    const BLOCK: usize = 1;

    fn detect() -> Option<Self> {
        None
    }

    fn dot_tile(self, _x: &[i8], _w: [&[i8]; MR], _blocks: usize) -> [i32; MR] {
        [0; MR]
    }
}

impl Crc32cKernel for Absent {
    const NAME: &'static str = "absent";

    fn detect() -> Option<Self> {
        None
    }

    fn update(self, crc: u32, _bytes: &[u8]) -> u32 {
        crc
    }
}

/// The kernel sets of this target, one per [`Kernel`] (the table in [`crate::dispatch`]).
pub mod sets {
    #[allow(unused_imports)] // every set exists on some target
    use super::{Absent, Kernel, KernelSet};

    /// The scalar reference's set: the frames over the scalar products (the dispatch
    /// runs the plain reference of [`crate::generic`] itself; the tests hold the frames
    /// to it).
    pub struct Scalar;
    impl KernelSet for Scalar {
        const KERNEL: Kernel = Kernel::Scalar;
        type F32 = Absent;
        type F16 = crate::generic::f16::ScalarF16;
        type I8 = crate::generic::i8::ScalarI8;
        type Crc32c = Absent;
    }

    #[cfg(target_arch = "x86_64")]
    /// AVX2 + FMA (f16: + F16C; int8: AVX2).
    pub struct Avx2;
    #[cfg(target_arch = "x86_64")]
    impl KernelSet for Avx2 {
        const KERNEL: Kernel = Kernel::Avx2;
        type F32 = crate::arch::x86_64::f32::Avx2Fma;
        type F16 = crate::arch::x86_64::f16::Avx2F16;
        type I8 = crate::arch::x86_64::i8::Avx2I8;
        type Crc32c = crate::arch::x86_64::crc32c::Sse42Crc32c;
    }

    #[cfg(target_arch = "x86_64")]
    /// AVX-512F (f16: AVX-512F `vcvtph2ps`; int8: VNNI `vpdpbusd` where the CPU has it,
    /// else AVX2's).
    pub struct Avx512;
    #[cfg(target_arch = "x86_64")]
    impl KernelSet for Avx512 {
        const KERNEL: Kernel = Kernel::Avx512;
        type F32 = crate::arch::x86_64::f32::Avx512;
        type F16 = crate::arch::x86_64::f16::Avx512F16;
        type I8 = crate::arch::x86_64::i8::Avx512I8;
        type Crc32c = crate::arch::x86_64::crc32c::Sse42Crc32c;
    }

    #[cfg(target_arch = "aarch64")]
    /// NEON (int8: `SDOT`).
    pub struct Neon;
    #[cfg(target_arch = "aarch64")]
    impl KernelSet for Neon {
        const KERNEL: Kernel = Kernel::Neon;
        type F32 = crate::arch::aarch64::f32::Neon;
        type F16 = Absent;
        type I8 = crate::arch::aarch64::i8::Sdot;
        type Crc32c = crate::arch::aarch64::crc32c::ArmCrc32c;
    }

    #[cfg(pf_arm_fpu)]
    /// The Arm FPU (int8: DSP `SMLAD` where the target has it).
    pub struct ArmFpu;
    #[cfg(pf_arm_fpu)]
    impl KernelSet for ArmFpu {
        const KERNEL: Kernel = Kernel::ArmFpu;
        type F32 = crate::arch::arm_fpu::f32::ArmFpu;
        type F16 = crate::arch::arm_fpu::f16::ArmFpuF16;
        #[cfg(pf_arm_dsp)]
        type I8 = crate::arch::arm_fpu::i8::Smlad;
        #[cfg(not(pf_arm_dsp))]
        type I8 = Absent;
        // Firmware keeps the scalar table (64 bytes): the size budgets have no room.
        type Crc32c = Absent;
    }

    #[cfg(pf_arm_mve)]
    /// Armv8.1-M MVE.
    pub struct Mve;
    #[cfg(pf_arm_mve)]
    impl KernelSet for Mve {
        const KERNEL: Kernel = Kernel::Mve;
        type F32 = crate::arch::arm_mve::f32::Mve;
        type F16 = crate::arch::arm_mve::f16::MveF16;
        type I8 = crate::arch::arm_mve::i8::MveI8;
        type Crc32c = Absent;
    }

    #[cfg(pf_rvv)]
    /// RISC-V Vector (f32; int8 with the Zve32x integer instructions).
    pub struct Rvv;
    #[cfg(pf_rvv)]
    impl KernelSet for Rvv {
        const KERNEL: Kernel = Kernel::Rvv;
        type F32 = crate::arch::riscv_v::f32::Rvv;
        type F16 = Absent;
        type I8 = crate::arch::riscv_v::i8::RvvI8;
        type Crc32c = Absent;
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

/// The kernel that serves `dtype`'s products: the active kernel's member, or the scalar
/// reference where its set has none this CPU runs.
pub fn active_kernel_for(dtype: Dtype) -> Kernel {
    active_kernel().serving(dtype)
}

/// The best available kernel, or the forced one. A forced kernel that this CPU cannot run
/// falls back to the scalar reference, and `kernel_calls` (with `std`) then shows it never ran.
/// Without `std` every detection is a constant and this is inlined: the dispatch `match`
/// folds to the one kernel of the build, and no other kernel is linked.
#[cfg_attr(not(feature = "std"), inline(always))]
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
    // Best first. An `if` chain, not a search loop: at `opt-level = "s"` a loop over the
    // kernels is not unrolled, and the choice would stay a run-time value on firmware.
    if Kernel::Avx512.available() {
        Kernel::Avx512
    } else if Kernel::Avx2.available() {
        Kernel::Avx2
    } else if Kernel::Neon.available() {
        Kernel::Neon
    } else if Kernel::Mve.available() {
        Kernel::Mve
    } else if Kernel::ArmFpu.available() {
        Kernel::ArmFpu
    } else if Kernel::Rvv.available() {
        Kernel::Rvv
    } else {
        Kernel::Scalar
    }
}

/// Per dtype, the code of the kernel that served the latest product (0: none yet). A
/// plain byte load and store, which every target has (thumbv6m and riscv32imc included).
static LAST: [AtomicU8; 3] = [const { AtomicU8::new(0) }; 3];

/// Per dtype and kernel code, the products served (`std` only).
#[cfg(feature = "std")]
static CALLS: [[core::sync::atomic::AtomicUsize; 8]; 3] =
    [const { [const { core::sync::atomic::AtomicUsize::new(0) }; 8] }; 3];

/// The kernel that computed the latest `dtype` product in this program (`None` before the
/// first): how a test proves which kernel ran. f16 and int8: on every target; f32 (the
/// f32 [`linear`] and [`linear_acc`]): under `std` only (see [`crate::dispatch`]).
pub fn last_kernel(dtype: Dtype) -> Option<Kernel> {
    LAST.get(dtype as usize)
        .and_then(|last| Kernel::from_code(last.load(Ordering::Relaxed)))
}

/// How many `dtype` products `kernel` has served in this process (`std` only: the
/// forced-kernel checks of the test suites read it). f32 counts the [`linear`] and
/// [`linear_acc`] calls, f16 and int8 every [`crate::quant::linear`] call of that dtype.
#[cfg(feature = "std")]
pub fn kernel_calls(dtype: Dtype, kernel: Kernel) -> usize {
    CALLS
        .get(dtype as usize)
        .and_then(|row| row.get(kernel as usize))
        .map_or(0, |c| c.load(Ordering::Relaxed))
}

/// Records that `kernel` serves a `dtype` product.
#[inline(always)]
fn record(dtype: Dtype, kernel: Kernel) {
    if cfg!(feature = "std") || dtype != Dtype::F32 {
        if let Some(last) = LAST.get(dtype as usize) {
            last.store(kernel as u8, Ordering::Relaxed);
        }
    }
    #[cfg(feature = "std")]
    if let Some(c) = CALLS
        .get(dtype as usize)
        .and_then(|row| row.get(kernel as usize))
    {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// Continues a CRC-32C (reflected polynomial `0x82F63B78`) over `bytes` from the running
/// register `crc` (start from `!0`, invert at the end) on the active kernel's CRC
/// instructions (x86_64 SSE4.2 `crc32`, aarch64 `CRC32C*`), else the scalar table
/// ([`generic::crc32c::crc32c_update`], which firmware always runs); the same bits on every
/// kernel.
///
/// ```
/// assert_eq!(!picoformer_kernels::crc32c_update(!0, b"123456789"), 0xE306_9283);
/// ```
#[cfg_attr(not(feature = "std"), inline(always))]
pub fn crc32c_update(crc: u32, bytes: &[u8]) -> u32 {
    dispatch!(@unrecorded active_kernel(), Crc32c: Crc32cKernel,
              |kern, _id| kern.update(crc, bytes),
              scalar => generic::crc32c::crc32c_update(crc, bytes))
}

/// The name of the CRC-32C implementation [`crc32c_update`] runs (`sse4.2-crc32`,
/// `crc32cx`, or `scalar`), for reports.
pub fn crc32c_kernel_name() -> &'static str {
    dispatch!(@unrecorded active_kernel(), Crc32c: Crc32cKernel,
              |kern, _id| names::crc32c(kern),
              scalar => "scalar")
}

/// Linear layer over a batch of rows: `y[r][o] = dot(x[r], w[o]) + bias[o]`.
///
/// - `x`: `[rows, k]` input rows
/// - `w`: `[n, k]` weights (PyTorch's `[out, in]`)
/// - `bias`: `[n]` or `None` (zero)
/// - `y`: `[rows, n]` output, overwritten
///
/// ```
/// // Two input rows of k = 3 through a layer of two outputs.
/// let x = [1.0, 2.0, 3.0, /* row 2 */ 0.5, 0.0, -1.0];
/// let w = [1.0, 0.0, 1.0, /* output 2 */ 0.0, 1.0, 0.0];
/// let mut y = [0.0; 4];
/// picoformer_kernels::linear(&x, &w, Some(&[10.0, 20.0]), 3, &mut y);
/// assert_eq!(y, [14.0, 22.0, 9.5, 20.0]);
/// ```
pub fn linear(x: &[f32], w: &[f32], bias: Option<&[f32]>, k: usize, y: &mut [f32]) {
    #[cfg(feature = "threads")]
    if crate::threads::split_linear(
        x,
        k,
        w.len().checked_div(k).unwrap_or(0),
        y,
        false,
        &|x, cols, y| linear_one_thread(x, rows_of(w, &cols, k), columns_of(bias, &cols), k, y),
    ) {
        return;
    }
    linear_one_thread(x, w, bias, k, y)
}

/// `w`'s rows `cols` (each `stride` long; the last may be cut short), for one thread's
/// run of output columns.
#[cfg(feature = "threads")]
fn rows_of<'a, T>(w: &'a [T], cols: &core::ops::Range<usize>, stride: usize) -> &'a [T] {
    let end = cols.end.saturating_mul(stride).min(w.len());
    w.get(cols.start.saturating_mul(stride).min(end)..end)
        .unwrap_or(&[])
}

/// The bias entries of one thread's run of output columns.
#[cfg(feature = "threads")]
fn columns_of<'a>(bias: Option<&'a [f32]>, cols: &core::ops::Range<usize>) -> Option<&'a [f32]> {
    bias.map(|b| rows_of(b, cols, 1))
}

/// [`linear`] on this thread.
#[inline(always)]
fn linear_one_thread(x: &[f32], w: &[f32], bias: Option<&[f32]>, k: usize, y: &mut [f32]) {
    dispatch!(active_kernel(), F32: F32Simd, record = true,
              |kern, _id| crate::frame::f32::linear(kern, x, w, bias, k, y),
              scalar => generic::f32::linear(x, w, bias, k, y))
}

/// Accumulating linear layer over a column block of the weights:
/// `y[r][o] += dot(x[r], w[o * w_stride..][..k])` (see [`generic::f32::linear_acc`]).
///
/// ```
/// // A [2, 4] matrix taken as two column blocks of 2: the sums add up to the whole product.
/// let x = [1.0, 2.0, 3.0, 4.0];
/// let w = [1.0, 1.0, 1.0, 1.0, /* row 2 */ 0.0, 1.0, 0.0, 1.0];
/// let mut y = [0.0; 2];
/// picoformer_kernels::linear_acc(&x[..2], &w[..], 4, 2, &mut y);
/// picoformer_kernels::linear_acc(&x[2..], &w[2..], 4, 2, &mut y);
/// assert_eq!(y, [10.0, 6.0]);
/// ```
pub fn linear_acc(x: &[f32], w: &[f32], w_stride: usize, k: usize, y: &mut [f32]) {
    #[cfg(feature = "threads")]
    {
        let rows = x.len().checked_div(k).unwrap_or(0);
        let n = y.len().checked_div(rows).unwrap_or(0);
        let split = |x: &[f32], cols: core::ops::Range<usize>, y: &mut [f32]| {
            let w = w
                .get(cols.start.saturating_mul(w_stride).min(w.len())..)
                .unwrap_or(&[]);
            linear_acc_one_thread(x, w, w_stride, k, y)
        };
        if crate::threads::split_linear(x, k, n, y, true, &split) {
            return;
        }
    }
    linear_acc_one_thread(x, w, w_stride, k, y)
}

/// [`linear_acc`] on this thread.
#[inline(always)]
fn linear_acc_one_thread(x: &[f32], w: &[f32], w_stride: usize, k: usize, y: &mut [f32]) {
    dispatch!(active_kernel(), F32: F32Simd, record = true,
              |kern, _id| crate::frame::f32::linear_acc(kern, x, w, w_stride, k, y),
              scalar => generic::f32::linear_acc(x, w, w_stride, k, y))
}

/// Dot product of `a` and `b` over their common length.
///
/// ```
/// let x = [1.0, 2.0, 3.0, 4.0];
/// let w = [0.5, 0.25, 0.125, 1.0];
/// assert_eq!(picoformer_kernels::dot(&x, &w), 5.375);
/// ```
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| crate::frame::f32::dot(kern, a, b),
              scalar => generic::f32::dot(a, b))
}

/// `gate[i] = silu(gate[i]) * up[i]` ([`generic::f32::silu_gate`], bit for bit on every
/// kernel): the llama layers' SwiGLU.
pub fn silu_gate(gate: &mut [f32], up: &[f32]) {
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| kern.silu_gate(gate, up),
              scalar => generic::f32::silu_gate(gate, up))
}

/// `x[i] = gamma[i] * (x[i] * factor)` ([`generic::f32::scale_by_gamma`], bit for bit on
/// every kernel): the llama layers' RMSNorm output.
pub fn scale_by_gamma(x: &mut [f32], gamma: &[f32], factor: f32) {
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| kern.scale_by_gamma(x, gamma, factor),
              scalar => generic::f32::scale_by_gamma(x, gamma, factor))
}

/// `x . x`: the scalar reference's [`generic::f32::dot`]`(x, x)`, bit for bit on every
/// kernel (the llama layers' RMSNorm; see [`crate::frame::f32::square_sum`]).
pub fn square_sum(x: &[f32]) -> f32 {
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| crate::frame::f32::square_sum(kern, x),
              scalar => generic::f32::dot(x, x))
}

/// `y += alpha * x`, element-wise over the common length.
///
/// ```
/// let mut y = [1.0, 1.0, 1.0];
/// picoformer_kernels::axpy(2.0, &[1.0, 2.0, 3.0], &mut y);
/// assert_eq!(y, [3.0, 5.0, 7.0]);
/// ```
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| crate::frame::f32::axpy(kern, alpha, x, y),
              scalar => generic::f32::axpy(alpha, x, y))
}

/// `y += sum_j alpha[j] * x[j * x_stride..][..y.len()]`, rows added in order (see
/// [`generic::f32::axpy_strided`]), on the active kernel: attention's weighted sum of
/// value rows. The same bits as one [`axpy`] per row.
pub fn axpy_strided(alpha: &[f32], x: &[f32], x_stride: usize, y: &mut [f32]) {
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| crate::frame::f32::axpy_strided(kern, alpha, x, x_stride, y),
              scalar => generic::f32::axpy_strided(alpha, x, x_stride, y))
}

/// 1-D convolution over time-major rows (see [`generic::f32::conv1d`]), its dot products
/// on the active kernel.
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
    #[cfg(feature = "threads")]
    {
        // One thread's run of output rows, where the kernel takes rows from any first one.
        let rows = |first: usize, part: &mut [f32]| -> bool {
            dispatch!(active_kernel(), F32: F32Simd, record = false,
                      |kern, _id| crate::frame::f32::conv1d_rows_with(
                          kern, input, c_in, weight, bias, kernel, stride, padding, first, part),
                      scalar => false)
        };
        let c_out = weight
            .len()
            .checked_div(kernel.saturating_mul(c_in))
            .unwrap_or(0);
        let work = out.len().saturating_mul(kernel).saturating_mul(c_in);
        // (the first part tells whether the kernel takes row runs: where it does not, the
        // whole convolution runs below)
        if rows(0, &mut []) && crate::threads::split_out_rows(out, c_out, work, &rows) {
            return;
        }
    }
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| crate::frame::f32::conv1d_with(
                  kern, input, c_in, weight, bias, kernel, stride, padding, out),
              scalar => generic::f32::conv1d(input, c_in, weight, bias, kernel, stride, padding, out))
}

/// Scaled dot-product attention of one query over `m` keys, all heads, in place (see
/// [`generic::f32::attention`]).
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
    #[cfg(feature = "threads")]
    if probe.is_none() && attention_split_by_heads(query, keys, values, n_heads, scores.len()) {
        return;
    }
    use crate::frame::f32::attention_using;
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| attention_using(
                  |x, w, stride, y| crate::frame::f32::dot_strided(kern, x, w, stride, y),
                  |alpha, x, stride, y| crate::frame::f32::axpy_strided(kern, alpha, x, stride, y),
                  |x, scale| kern.softmax_scaled(x, scale),
                  query, keys, values, n_heads, scores, probe),
              scalar => attention_using(
                  generic::f32::dot_strided, generic::f32::axpy_strided, crate::frame::f32::softmax_scaled_reference,
                  query, keys, values, n_heads, scores, probe))
}

/// [`attention_probed`] without a probe, its heads split over the pool's threads
/// (`threads`): each head by the very operations [`attention_using`] runs for it, so the
/// same bits. False, having run nothing, where it stays on one thread.
///
/// [`attention_using`]: crate::frame::f32::attention_using
#[cfg(feature = "threads")]
fn attention_split_by_heads(
    query: &mut [f32],
    keys: &[f32],
    values: &[f32],
    n_heads: usize,
    scores_len: usize,
) -> bool {
    let d = query.len();
    let dk = d.checked_div(n_heads).unwrap_or(0);
    if dk == 0 {
        return false;
    }
    let m = (keys.len() / d).min(values.len() / d).min(scores_len);
    let scale = 1.0 / generic::f32::sqrt(dk as f32);
    let operands = (keys, values, d, scale);
    let one_head = |h: usize, q_h: &mut [f32], scores: &mut [f32]| {
        attention_head_dispatched(h * dk, q_h, operands, scores)
    };
    crate::threads::split_heads(query, dk, m, &one_head)
}

/// [`attention_head`] on the active kernel.
#[cfg(feature = "threads")]
fn attention_head_dispatched(
    at: usize,
    q_h: &mut [f32],
    operands: (&[f32], &[f32], usize, f32),
    scores: &mut [f32],
) {
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| attention_head(
                  |x, w, stride, y| crate::frame::f32::dot_strided(kern, x, w, stride, y),
                  |alpha, x, stride, y| crate::frame::f32::axpy_strided(kern, alpha, x, stride, y),
                  |x, scale| kern.softmax_scaled(x, scale),
                  at, q_h, operands, scores),
              scalar => attention_head(
                  generic::f32::dot_strided, generic::f32::axpy_strided,
                  crate::frame::f32::softmax_scaled_reference, at, q_h, operands, scores))
}

/// [`attention`] of every query row of `queries` (`[rows, d]`) over the same `keys` and
/// `values` (`[m, d]`; at most `scores_len` of them, as [`attention`] takes), in place:
/// the same bits as one [`attention`] call per row, in another order (host threads,
/// feature `threads`). Head by head over a run of query rows, so that one head's keys
/// and values (`m x d / n_heads`, 768 KiB for Whisper's 1500 positions) stay in the
/// caches for the whole run instead of streaming all `m x d` of them from memory once
/// per query; the runs are split over the pool's threads. False, having done nothing,
/// where `n_heads` does not divide `d` or for a single row (a decode step: [`attention`]
/// splits its heads over the threads instead).
#[cfg(feature = "threads")]
pub fn attention_rows(
    queries: &mut [f32],
    keys: &[f32],
    values: &[f32],
    n_heads: usize,
    d: usize,
    scores_len: usize,
) -> bool {
    let dk = d.checked_div(n_heads).unwrap_or(0);
    if dk == 0 || dk * n_heads != d || queries.len() < 2 * d {
        return false;
    }
    let m = (keys.len() / d).min(values.len() / d).min(scores_len);
    let operands = (keys, values, d, 1.0 / generic::f32::sqrt(dk as f32));
    let block = attention_block_rows();
    // scores of one row, or the blocked attention's (`F32Simd::attention_block`)
    let scratch = m.max(block.saturating_mul(m.saturating_add(dk)));
    let run = |rows: &mut [f32], scratch: &mut [f32]| {
        for h in 0..n_heads {
            let head = crate::frame::f32::HeadBlock {
                keys: keys.get(h * dk..).unwrap_or(&[]),
                values: values.get(h * dk..).unwrap_or(&[]),
                d,
                at: h * dk,
                dk,
                m,
                scale: operands.3,
            };
            if block > 0 && attention_blocks_dispatched(rows, &head, scratch) {
                continue;
            }
            let scores = scratch.get_mut(..m).unwrap_or(&mut []);
            for q_row in rows.chunks_exact_mut(d) {
                if let Some(q_h) = q_row.get_mut(h * dk..(h + 1) * dk) {
                    attention_head_dispatched(h * dk, q_h, operands, scores);
                }
            }
        }
    };
    crate::threads::split_query_rows(queries, d, m, scratch, &run);
    true
}

/// Query rows per block of the active kernel's blocked attention
/// ([`F32Simd::attention_block`]); 0 where it has none.
#[cfg(feature = "threads")]
fn attention_block_rows() -> usize {
    #[allow(dead_code)] // where no f32 kernel set exists
    fn rows<K: F32Simd>(_: K) -> usize {
        K::ATTENTION_BLOCK
    }
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| rows(kern),
              scalar => 0)
}

/// [`crate::frame::f32::attention_blocks`] on the active kernel: false, having done
/// nothing, where it has no blocked attention for these shapes.
#[cfg(feature = "threads")]
fn attention_blocks_dispatched(
    queries: &mut [f32],
    head: &crate::frame::f32::HeadBlock,
    scratch: &mut [f32],
) -> bool {
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| crate::frame::f32::attention_blocks(kern, queries, head, scratch),
              scalar => false)
}

/// One head of [`attention_using`]'s loop (group 1), the same operations in the same
/// order: head `h`'s scores at `at = h * dk`, scaled, the softmax, the weighted sum.
///
/// [`attention_using`]: crate::frame::f32::attention_using
#[cfg(feature = "threads")]
fn attention_head(
    dot_strided: impl Fn(&[f32], &[f32], usize, &mut [f32]),
    axpy_strided: impl Fn(&[f32], &[f32], usize, &mut [f32]),
    softmax_scaled: impl Fn(&mut [f32], f32),
    at: usize,
    q_h: &mut [f32],
    (keys, values, d, scale): (&[f32], &[f32], usize, f32),
    scores: &mut [f32],
) {
    dot_strided(q_h, keys.get(at..).unwrap_or(&[]), d, scores);
    softmax_scaled(scores, scale);
    q_h.fill(0.0);
    axpy_strided(scores, values.get(at..).unwrap_or(&[]), d, q_h);
}

/// [`attention`] with `n_kv_heads` key/value heads (grouped-query and multi-query
/// attention; see [`generic::f32::attention_grouped`]): `keys`, `values` are `[m,
/// n_kv_heads * d / n_heads]` rows.
pub fn attention_grouped(
    query: &mut [f32],
    keys: &[f32],
    values: &[f32],
    n_heads: usize,
    n_kv_heads: usize,
    scores: &mut [f32],
) {
    use crate::frame::f32::attention_grouped_using;
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| attention_grouped_using(
                  |x, w, stride, y| crate::frame::f32::dot_strided(kern, x, w, stride, y),
                  |alpha, x, stride, y| crate::frame::f32::axpy_strided(kern, alpha, x, stride, y),
                  |x, scale| kern.softmax_scaled(x, scale),
                  query, keys, values, n_heads, n_kv_heads, scores, None),
              scalar => attention_grouped_using(
                  generic::f32::dot_strided, generic::f32::axpy_strided, crate::frame::f32::softmax_scaled_reference,
                  query, keys, values, n_heads, n_kv_heads, scores, None))
}

/// The attention's softmax of `x * scale` in place on the active kernel: the reference's
/// operations, or on Helium the lane-ordered rule ([`softmax_is_lane_ordered`]; bit for
/// bit [`generic::lanes::softmax_scaled_lanes`]).
pub fn softmax_scaled(x: &mut [f32], scale: f32) {
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| kern.softmax_scaled(x, scale),
              scalar => crate::frame::f32::softmax_scaled_reference(x, scale))
}

/// Exact GELU in place on the active kernel (see [`generic::f32::gelu`]): libm's `erff`,
/// or on Helium its polynomial erf ([`gelu_is_polynomial`]; bit for bit
/// [`generic::lanes::gelu_poly`]).
pub fn gelu(x: &mut [f32]) {
    #[cfg(feature = "threads")]
    if crate::threads::split_elements(x, &gelu_one_thread) {
        return;
    }
    gelu_one_thread(x)
}

/// [`gelu`] on this thread.
fn gelu_one_thread(x: &mut [f32]) {
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| kern.gelu(x),
              scalar => generic::f32::gelu(x))
}

/// Whether the active kernel's convolution takes the rows whose windows lie inside the
/// input through its linear tiles (each output the bits of a one-row [`linear`] of its
/// window) rather than one [`dot`] per output.
pub fn conv1d_on_tiles() -> bool {
    #[allow(dead_code)] // where no f32 kernel set exists (thumbv6m, riscv32imac)
    fn tiles<K: F32Simd>(_: K) -> bool {
        K::CONV_TILES
    }
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| tiles(kern),
              scalar => false)
}

/// Whether the active kernel's GELU is Helium's polynomial erf
/// ([`generic::lanes::gelu_poly`]) rather than libm's `erff`.
pub fn gelu_is_polynomial() -> bool {
    #[allow(dead_code)] // where no f32 kernel set exists (thumbv6m, riscv32imac)
    fn polynomial<K: F32Simd>(_: K) -> bool {
        K::GELU_POLY
    }
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| polynomial(kern),
              scalar => false)
}

/// LayerNorm of one row in place on the active kernel (see
/// [`generic::f32::layer_norm`]): its compensated sums in element order, or on Helium in
/// lanes ([`layer_norm_is_lane_ordered`]; bit for bit
/// [`generic::lanes::layer_norm_lanes`]).
pub fn layer_norm(x: &mut [f32], gamma: &[f32], beta: Option<&[f32]>, eps: f32) {
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| kern.layer_norm(x, gamma, beta, eps),
              scalar => generic::f32::layer_norm(x, gamma, beta, eps))
}

/// [`layer_norm`] of every `d`-wide row of `x` (`[rows, d]`) in place, each row's bits
/// what [`layer_norm`] gives it alone.
pub fn layer_norm_rows(x: &mut [f32], d: usize, gamma: &[f32], beta: Option<&[f32]>, eps: f32) {
    dispatch!(active_kernel(), F32: F32Simd, record = false,
    |kern, _id| kern.layer_norm_rows(x, d, gamma, beta, eps),
    scalar => for row in x.chunks_exact_mut(d.max(1)) {
        generic::f32::layer_norm(row, gamma, beta, eps)
    })
}

/// Whether the active kernel's LayerNorm takes its sums in Helium's lanes
/// ([`generic::lanes::layer_norm_lanes`]) rather than in element order.
pub fn layer_norm_is_lane_ordered() -> bool {
    #[allow(dead_code)] // where no f32 kernel set exists (thumbv6m, riscv32imac)
    fn lanes<K: F32Simd>(_: K) -> bool {
        K::LAYER_NORM_LANES
    }
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| lanes(kern),
              scalar => false)
}

/// Whether the active kernel's attention softmax is Helium's lane-ordered rule
/// ([`generic::lanes::softmax_scaled_lanes`]) rather than the reference's key order.
pub fn softmax_is_lane_ordered() -> bool {
    #[allow(dead_code)] // where no f32 kernel set exists (thumbv6m, riscv32imac)
    fn lanes<K: F32Simd>(_: K) -> bool {
        K::SOFTMAX_LANES
    }
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| lanes(kern),
              scalar => false)
}

/// `x[i] = exp_fast(x[i] - largest)` for every `x[i] <= largest` on the active kernel
/// (see [`generic::f32::exp_minus_max`]): the attention softmax's exponentials, the same
/// bits on every kernel.
pub fn exp_minus_max(x: &mut [f32], largest: f32) {
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| kern.exp_minus_max(x, largest),
              scalar => generic::f32::exp_minus_max(x, largest))
}

/// `x[i] = log10f(x[i])` on the active kernel, bit for bit libm's on every kernel
/// ([`generic::f32::log10`]; Helium: four lanes at a time): the log-mel front end's
/// logarithms.
pub fn log10(x: &mut [f32]) {
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| kern.log10(x),
              scalar => generic::f32::log10(x))
}

/// The llama layer's attention, fused per head (see
/// [`generic::f32::attention_grouped_fused`]): the active kernel's 8-column score and
/// weighted-sum loops, bit for bit the scalar twin the kernel names
/// ([`F32Simd::HEAD8_FMA`]: the Arm FPU's fuse
/// each multiply-add, [`generic::f32::attention_grouped_fused_fma`]).
pub fn attention_grouped_fused(
    query: &mut [f32],
    keys: &[f32],
    values: &[f32],
    n_heads: usize,
    n_kv_heads: usize,
    scores: &mut [f32],
) {
    dispatch!(active_kernel(), F32: F32Simd, record = false,
              |kern, _id| crate::frame::f32::attention_grouped_fused_using(
                  |q, k, stride, s| kern.scores_head8(q, k, stride, s),
                  |s, largest, v, stride, out| {
                      kern.exp_weighted_sum_head8(s, largest, v, stride, out)
                  },
                  query, keys, values, n_heads, n_kv_heads, scores),
              scalar => attention_grouped_fused_scalar(
                  query, keys, values, n_heads, n_kv_heads, scores))
}

/// [`attention_grouped_fused`] on the scalar reference: its twin of the Arm kernels'
/// fused multiply-adds under [`Kernel::ScalarFma`], else the reference's own.
#[inline(always)]
fn attention_grouped_fused_scalar(
    query: &mut [f32],
    keys: &[f32],
    values: &[f32],
    n_heads: usize,
    n_kv_heads: usize,
    scores: &mut [f32],
) {
    if active_kernel() == Kernel::ScalarFma {
        generic::f32::attention_grouped_fused_fma(query, keys, values, n_heads, n_kv_heads, scores)
    } else {
        generic::f32::attention_grouped_fused(query, keys, values, n_heads, n_kv_heads, scores)
    }
}

/// The llama layer's attention over an int8 key/value cache (see
/// [`generic::attention_i8::attention_grouped_i8`], bit for bit): the active int8
/// kernel's scores and weighted sums (the Arm DSP's `SMLAD`), the reference's softmax.
/// Out of line: the f32 cache's callers never hold its frame on their stack.
#[inline(never)]
pub fn attention_grouped_i8(
    query: &mut [f32],
    keys: &[u32],
    values: &[u32],
    n_heads: usize,
    n_kv_heads: usize,
    row_words: usize,
    scores: &mut [f32],
) {
    dispatch!(active_kernel(), I8: I8Dot, record = false,
              |kern, _id| generic::attention_i8::attention_grouped_i8_using(
                  |q, sq, k, at, s| kern.cache_scores(q, sq, k, at, s),
                  |s, largest, v, at| kern.cache_exp_weights(s, largest, v, at),
                  |w, inv, v, at, factor, out| kern.cache_weighted_sum(w, inv, v, at, factor, out),
                  query, keys, values, n_heads, n_kv_heads, row_words, scores),
              scalar => generic::attention_i8::attention_grouped_i8(
                  query, keys, values, n_heads, n_kv_heads, row_words, scores))
}

/// `x[i] = exp_i8(x[i] - largest)` on the active int8 kernel: the int8 key/value rule's
/// step 3 ([`generic::attention_i8::exp_i8`]), the same bits on every kernel (Helium:
/// four lanes at a time). The kernels' attention calls their own; this one is for tests.
pub fn exp_i8_minus_max(x: &mut [f32], largest: f32) {
    dispatch!(active_kernel(), I8: I8Dot, record = false,
              |kern, _id| kern.exp_i8_minus_max(x, largest),
              scalar => generic::attention_i8::exp_i8_minus_max(x, largest))
}

/// The encoder's int8 attention of one query row over
/// [`generic::attention_i8::pack_all_kv`]'s keys and values (see
/// [`generic::attention_i8::attention_all_i8`], bit for bit): the active int8 kernel's
/// steps 2-5 per head (Helium's on the M55). `false` (query untouched) where `packed`
/// does not hold the heads.
#[inline(never)]
pub fn attention_all_i8(
    query: &mut [f32],
    packed: &[u32],
    n_heads: usize,
    rows: usize,
    scores: &mut [f32],
) -> bool {
    dispatch!(active_kernel(), I8: I8Dot, record = false,
              |kern, _id| generic::attention_i8::attention_all_i8_using(
                  |q, sq, head, s| kern.all_head(q, sq, head, s),
                  query, packed, n_heads, rows, scores),
              scalar => generic::attention_i8::attention_all_i8(
                  query, packed, n_heads, rows, scores))
}

/// [`generic::attention_i8::pack_all_kv`] on the active int8 kernel (each head quantized
/// by its `quantize_head` and the values spread by its `spread_head`: Helium's on the
/// M55), the same words.
#[inline(never)]
pub fn pack_all_kv(
    keys: &[f32],
    values: &[f32],
    d: usize,
    n_heads: usize,
    packed: &mut [u32],
) -> bool {
    dispatch!(active_kernel(), I8: I8Dot, record = false,
              |kern, _id| generic::attention_i8::pack_all_kv_using(
                  |x, q| kern.quantize_head(x, q),
                  |q, v, stride, j| kern.spread_head(q, v, stride, j),
                  keys, values, d, n_heads, packed),
              scalar => generic::attention_i8::pack_all_kv(keys, values, d, n_heads, packed))
}

/// The encoder's int8 attention of the query rows `queries` `[m, d]` over
/// [`generic::attention_i8::pack_all_kv`]'s keys and values, each row bit for bit
/// [`attention_all_i8`]'s: two rows at a time where `scores` holds
/// [`generic::attention_i8::pair_scores_len`]`(rows)` floats (the
/// active int8 kernel's `all_head_pair`: Helium's shares each value load between
/// the two rows on the M55), else one. `false` (nothing written) where `queries` is not
/// whole rows or `packed` does not hold the heads.
#[inline(never)]
pub fn attention_all_i8_rows(
    queries: &mut [f32],
    d: usize,
    packed: &[u32],
    n_heads: usize,
    rows: usize,
    scores: &mut [f32],
) -> bool {
    dispatch!(active_kernel(), I8: I8Dot, record = false,
              |kern, _id| generic::attention_i8::attention_all_i8_rows_using(
                  |q, sq, head, s| kern.all_head(q, sq, head, s),
                  |a, b, scale, head, s| kern.all_head_pair(a, b, scale, head, s),
                  queries, d, packed, n_heads, rows, scores),
              scalar => generic::attention_i8::attention_all_i8_rows(
                  queries, d, packed, n_heads, rows, scores))
}

/// The f16-weight linear layer on the active kernel (shapes as [`linear`]). Kept out of
/// line: an f32 model's stack never holds its frame.
#[cfg(feature = "f16")]
#[inline(never)]
pub(crate) fn linear_f16(x: &[f32], w: &[f16], bias: Option<&[f32]>, k: usize, y: &mut [f32]) {
    #[cfg(feature = "threads")]
    if crate::threads::split_linear(
        x,
        k,
        w.len().checked_div(k).unwrap_or(0),
        y,
        false,
        &|x, cols, y| linear_f16_one_thread(x, rows_of(w, &cols, k), columns_of(bias, &cols), k, y),
    ) {
        return;
    }
    linear_f16_one_thread(x, w, bias, k, y)
}

/// [`linear_f16`] on this thread.
#[cfg(feature = "f16")]
#[inline(always)]
fn linear_f16_one_thread(x: &[f32], w: &[f16], bias: Option<&[f32]>, k: usize, y: &mut [f32]) {
    dispatch!(active_kernel(), F16: F16Dot, record = true,
              |kern, _id| crate::frame::f16::linear_f16(kern, x, w, bias, k, y),
              scalar => generic::f16::linear_f16(x, w, bias, k, y))
}

/// The int8 linear layer on the active kernel (see [`crate::quant::linear`]). Out of line
/// as [`linear_f16`].
#[cfg(feature = "int8")]
#[inline(never)]
pub(crate) fn linear_i8(
    x: &[f32],
    w: I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    act: &mut Activations,
) {
    #[cfg(feature = "threads")]
    {
        let split = |x: &[f32], cols: core::ops::Range<usize>, y: &mut [f32]| {
            let part = I8Matrix {
                values: rows_of(w.values, &cols, k),
                scales: rows_of(w.scales, &cols, 1),
            };
            let rows = x.len().checked_div(k).unwrap_or(0);
            let values = crate::quant::activation_values(rows, k).unwrap_or(0);
            let scales = crate::quant::activation_scales(rows);
            crate::threads::with_activations(values, scales, |act| {
                linear_i8_one_thread(x, part, columns_of(bias, &cols), k, y, act)
            })
        };
        let n = w.scales.len();
        if crate::threads::split_linear(x, k, n, y, false, &split) {
            return;
        }
    }
    linear_i8_one_thread(x, w, bias, k, y, act)
}

/// [`linear_i8`] on this thread.
#[cfg(feature = "int8")]
#[inline(always)]
fn linear_i8_one_thread(
    x: &[f32],
    w: I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    act: &mut Activations,
) {
    dispatch!(active_kernel(), I8: I8Dot, record = true,
              |kern, _id| kern.linear(x, w, bias, k, y, act),
              scalar => crate::frame::i8::linear_i8(generic::i8::ScalarI8, x, w, bias, k, y, act))
}
