//! RISC-V Vector 1.0, Zve32f subset (riscv64 Linux with V, rv32 firmware built with the
//! extension), in `asm!`: f32, and int8 with the Zve32x integer instructions.

pub mod f32;
pub mod i8;
