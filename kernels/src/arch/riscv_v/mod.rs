//! RISC-V Vector 1.0, Zve32f subset (riscv64 Linux with V, rv32 firmware built with the
//! extension), in `asm!`: f32.

pub mod f32;
