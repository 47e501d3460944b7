//! Numerical kernels of picoformer.
//!
//! - [`generic`]: the scalar reference of every operation (`f32`, `f16`, `i8`), always
//!   compiled, on every target; the ground truth every kernel is tested against.
//! - [`frame`]: per dtype, the trait a kernel implements ([`frame::f32::F32Simd`],
//!   [`frame::f16::F16Dot`], [`frame::i8::I8Dot`]) and the frame that cuts the work into
//!   whole blocks and tiles for it and handles every head and tail (and attention and the
//!   convolution over the f32 kernel's strided products).
//! - `arch`: the hand-written kernels, one folder per architecture, one file per dtype:
//!   `x86_64` (AVX2 + FMA, AVX-512F, F16C), `aarch64` (NEON, SDOT), `arm_fpu` (the
//!   single-precision FPU of Cortex-M4F/M7/M33/M55 and its DSP int8, `asm!`), `arm_mve`
//!   (MVE, Cortex-M55, `asm!`), `riscv_v` (RVV 1.0, Zve32f subset: riscv64 Linux and rv32
//!   firmware with the vector extension, `asm!`).
//! - [`dispatch`]: the one dispatch point. A [`Kernel`] is a set of kernels, one per
//!   [`Dtype`]; the functions at the crate root ([`linear`], [`dot`], [`axpy`],
//!   [`attention`], ...) and [`quant::linear`] run the [`active_kernel`]'s. Under `std` it
//!   is the best one this CPU supports, or the one named by the environment variable
//!   `PICOFORMER_KERNEL` (`scalar`, `avx2`, `avx512`, `neon`, `arm-fpu`, `rvv`, `mve`);
//!   without `std` it is chosen at compile time; under Miri it is always the scalar
//!   reference. `kernel_calls` (under `std`) and [`last_kernel`] record which kernel ran, per dtype.
//! - [`crc32c_update`]: the blob checksum (CRC-32C) on the CPU's CRC instructions where
//!   it has them (x86_64 SSE4.2, aarch64 `crc`), else the scalar table.
//! - [`fft`]: the real FFT (mixed radix 4/2/3/5, scalar), for the log-mel front end.
//! - [`quant`]: weight matrices stored as f16 or int8 (one scale per row): the
//!   [`Matrix`] view, [`quant::linear`], the quantization of rows.
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

pub mod arch;
pub mod dispatch;
pub mod fft;
pub mod frame;
pub mod generic;
pub mod quant;
#[cfg(feature = "threads")]
pub mod threads;

#[cfg(feature = "std")]
pub use dispatch::kernel_calls;
pub use dispatch::{
    active_kernel, active_kernel_for, attention, attention_all_i8, attention_all_i8_rows,
    attention_grouped, attention_grouped_fused, attention_grouped_i8, attention_probed, axpy,
    conv1d, crc32c_kernel_name, crc32c_update, dot, exp_i8_minus_max, gelu, last_kernel,
    layer_norm, layer_norm_rows, linear, linear_acc, pack_all_kv, scale_by_gamma, silu_gate,
    square_sum, Dtype, Kernel,
};
pub use generic::attention_i8;
pub use generic::f32::{
    add_assign, argmax, conv1d_out_len, exp_fast, log_softmax, log_sum_exp, log_sum_exp_below, max,
    relu, softmax, sqrt, sum_compensated, CONV_ROW_BLOCK,
};
pub use quant::{Activations, I8Matrix, Matrix};
