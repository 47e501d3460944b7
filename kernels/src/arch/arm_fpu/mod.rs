//! The single-precision FPU of Cortex-M4F/M7/M33/M55 and 32-bit Arm Linux, in `asm!`:
//! register-blocked `vfma.f32` (f32), `VCVTB`/`VCVTT.F32.F16` (f16), and the DSP
//! extension's `SMLAD` (int8, where the target has it: build.rs's `pf_arm_dsp`).

pub mod f16;
pub mod f32;
#[cfg(pf_arm_dsp)]
pub mod i8;
