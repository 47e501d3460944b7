//! Armv8.1-M MVE (Arm's "Helium"; Cortex-M55 built with `-C target-cpu=cortex-m55`), in
//! `asm!`: f32, f16 and int8 kernels, tail-predicated loops over whole rows.

pub mod f16;
pub mod f32;
pub mod i8;
mod log10;
