//! The frames of the kernels, one per weight dtype: a kernel sees only whole blocks of
//! its lanes and whole tiles of [`f32::MR`] weight rows; the frame cuts the work into
//! them and handles every head and tail (leftover rows, the `k % BLOCK` tail, the bias,
//! the int8 scales) in scalar code, the same for every kernel.
//!
//! - [`mod@f32`]: [`f32::F32Simd`] and the f32 operations (linear layers, dot, axpy, the
//!   strided products and attention, the convolution).
//! - [`mod@f16`]: [`f16::F16Dot`] and the f16-weight linear layer.
//! - [`mod@i8`]: [`i8::I8Dot`] and the int8 linear layer.
//! - [`crc32c`]: [`crc32c::Crc32cKernel`], the blob checksum (no frame: a kernel takes
//!   any bytes).

pub mod crc32c;
pub mod f16;
pub mod f32;
pub mod i8;
