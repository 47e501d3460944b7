//! aarch64: NEON (f32), `SDOT` of the `dotprod` extension (int8).

pub mod f32;
pub mod i8;
