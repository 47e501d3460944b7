//! x86_64: AVX2 + FMA and AVX-512F (f32), AVX2 + FMA + F16C (f16), AVX2 (int8).

pub mod f16;
pub mod f32;
pub mod i8;
