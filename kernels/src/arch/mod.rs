//! The hand-written kernels, one folder per architecture (ISA extension), one file per
//! dtype it has a kernel for: `f32.rs` implements [`crate::frame::f32::F32Simd`], `f16.rs`
//! [`crate::frame::f16::F16Dot`], `i8.rs` [`crate::frame::i8::I8Dot`]. Which of them
//! serve which kernel name is the table in [`crate::dispatch`].
//!
//! Function names follow `<arch><isa>_<op>_<dtype>_<tile>` (`x86_64avx2_dot_f32_4xr`,
//! `arm_mve_dot_i8_4x1`, ...).

#[cfg(target_arch = "aarch64")]
pub mod aarch64;
#[cfg(pf_arm_fpu)]
pub mod arm_fpu;
#[cfg(pf_arm_mve)]
pub mod arm_mve;
#[cfg(pf_rvv)]
pub mod riscv_v;
#[cfg(target_arch = "x86_64")]
pub mod x86_64;
