//! The scalar reference of every operation, per weight dtype: plain Rust, always
//! compiled, on every target; the ground truth every kernel is tested against and what
//! runs where no kernel does.

pub mod attention_i8;
pub mod crc32c;
pub mod f16;
pub mod f32;
pub mod i8;
pub mod lanes;

/// The `(rows, n)` of a linear layer over `x_len` inputs and `w_len` weights of `k`
/// columns (`y` is `[rows, n]`); `None`, with `y` zeroed, when `k` is 0 (every product is
/// an empty sum). The preamble of every dtype's linear layer.
#[inline(always)]
pub(crate) fn linear_shape(
    x_len: usize,
    w_len: usize,
    k: usize,
    y: &mut [f32],
) -> Option<(usize, usize)> {
    if k == 0 {
        y.fill(0.0);
        return None;
    }
    let rows = x_len / k;
    let n = w_len / k;
    debug_assert_eq!(Some(y.len()), rows.checked_mul(n), "y must be [rows, n]");
    Some((rows, n))
}
