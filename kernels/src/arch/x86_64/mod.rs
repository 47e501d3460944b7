//! x86_64: AVX2 + FMA and AVX-512F (f32), AVX2 + FMA + F16C (f16), AVX2 (int8), SSE4.2
//! `crc32` (CRC-32C).

pub mod crc32c;
pub mod f16;
pub mod f32;
pub mod i8;
#[cfg(feature = "std")]
pub mod peak;
