//! aarch64: NEON (f32), `SDOT` of the `dotprod` extension (int8), the
//! CRC32 extension's `CRC32C*` (CRC-32C).

pub mod crc32c;
pub mod f32;
pub mod i8;
