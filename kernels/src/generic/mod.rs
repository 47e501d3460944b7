//! The scalar reference of every operation, per weight dtype: plain Rust, always
//! compiled, on every target; the ground truth every kernel is tested against and what
//! runs where no kernel does.

pub mod attention_i8;
pub mod crc32c;
pub mod f16;
pub mod f32;
pub mod i8;
