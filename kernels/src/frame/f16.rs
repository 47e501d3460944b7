//! The frame of the f16-weight kernels: their trait and the linear layer that cuts a
//! product into whole tiles and blocks for them.
//!
//! Every kernel widens each weight exactly (f16 → f32 loses nothing) and accumulates in
//! f32 with fused multiply-adds, so a kernel differs from [`crate::generic::f16::linear_f16`]
//! only in the order of its sums (and, on Helium, in flushing subnormal f32 products to
//! zero): the tests hold them to the f32 kernels' budget.
//!
//! - [`F16Dot`]: a kernel sees only whole tiles of [`MR`] weight rows and whole blocks of
//!   [`F16Dot::BLOCK`] elements ([`F16Dot::dot_rows`], [`F16Dot::dot_rows_batch`] for
//!   several input rows) or one row ([`F16Dot::dot_blocks`]);
//!   [`linear_f16`] handles the leftover rows, the `k % BLOCK` tail and the bias.

use crate::frame::f32::MR;
use half::f16;

/// One implementation of the f16-weight dot products (f32 activations, f32 sums).
pub trait F16Dot: Copy {
    /// Name in reports.
    const NAME: &'static str;
    /// Elements per block.
    const BLOCK: usize;
    /// Loop order of a product with several input rows: `true` runs each tile of `MR`
    /// weight rows against every input row before the next tile (each weight read once
    /// per product, from cache for the later rows: hosts); `false` (the default) makes
    /// one [`dot_rows`](Self::dot_rows) call per input row over all tiles (fewest calls:
    /// microcontrollers, which have no cache to share loads through). The sums are the
    /// same either way.
    const TILE_OUTER: bool = false;
    /// Host kernels with tiles of several input rows: `true` makes a product of several
    /// input rows one [`dot_rows_batch`](Self::dot_rows_batch) call (firmware never takes
    /// it). The sums are the same as [`dot_rows`](Self::dot_rows)' row by row.
    const BATCH: bool = false;

    /// The kernel, if this CPU runs it.
    fn detect() -> Option<Self>;

    /// Dot products of one input row with whole tiles of weight rows `w_stride` apart,
    /// over whole blocks: `out[o] = sum_i x[i] * w[o * w_stride + i]` for
    /// `i < blocks * BLOCK` and every `o < out.len() / MR * MR` (all of them are written;
    /// rows that do not lie inside `w` give 0).
    fn dot_rows(self, x: &[f32], w: &[f16], w_stride: usize, blocks: usize, out: &mut [f32]);

    /// [`dot_rows`](Self::dot_rows) of every input row of `x` (`rows x k`) at once:
    /// `y[r * n + o]` for `r < rows` and `o < n / MR * MR`, the weight rows `k` apart
    /// (only with [`BATCH`](Self::BATCH); the default writes nothing).
    #[allow(clippy::too_many_arguments)]
    fn dot_rows_batch(
        self,
        x: &[f32],
        rows: usize,
        k: usize,
        w: &[f16],
        blocks: usize,
        y: &mut [f32],
        n: usize,
    ) {
        let _ = (x, rows, k, w, blocks, y, n);
    }

    /// `sum_i x[i] * w[i]` over `blocks * BLOCK` elements (fewer if a slice is shorter).
    fn dot_blocks(self, x: &[f32], w: &[f16], blocks: usize) -> f32;

    /// One weight widened to f32 (the frame's tails).
    #[inline(always)]
    fn widen(self, v: f16) -> f32 {
        v.to_f32()
    }
}

/// The f16-weight linear layer on kernel `kern` (shapes as
/// [`crate::generic::f16::linear_f16`]): per input row, the whole tiles of `MR` weight
/// rows in one [`F16Dot::dot_rows`] call (or, with [`F16Dot::TILE_OUTER`], per tile one
/// call for each input row; with [`F16Dot::BATCH`], on hosts, one
/// [`F16Dot::dot_rows_batch`] call for all input rows), the leftover rows through
/// [`F16Dot::dot_blocks`], then the `k % BLOCK` tails and the bias here.
pub fn linear_f16<K: F16Dot>(
    kern: K,
    x: &[f32],
    w: &[f16],
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
) {
    let Some((rows, n)) = crate::generic::linear_shape(x.len(), w.len(), k, y) else {
        return;
    };
    if n == 0 || rows == 0 || rows.checked_mul(n).is_none_or(|len| y.len() < len) {
        return;
    }
    // The offsets below wrap: rows * k <= x.len(), n * k <= w.len() and rows * n <= y.len()
    // keep every one in range (r < rows, o < n, t * MR < n).
    let span = |i: usize, len: usize| i.wrapping_mul(len)..i.wrapping_add(1).wrapping_mul(len);
    let blocks = k / K::BLOCK;
    let head = blocks * K::BLOCK;
    let whole = n / MR * MR;
    // Index loops with `get`: every length next to the `k > 0` check above (the
    // link-time no-panic proof).
    let batch = K::BATCH && !cfg!(target_os = "none") && rows > 1;
    if batch {
        kern.dot_rows_batch(x, rows, k, w, blocks, y, n);
    } else if K::TILE_OUTER && rows > 1 {
        for t in 0..whole / MR {
            let w_tile = w.get(t.wrapping_mul(MR).wrapping_mul(k)..).unwrap_or(&[]);
            for r in 0..rows {
                let tile = span(t, MR);
                let y_at = r.wrapping_mul(n);
                if let (Some(x_row), Some(y_tile)) = (
                    x.get(span(r, k)),
                    y.get_mut(y_at.wrapping_add(tile.start)..y_at.wrapping_add(tile.end)),
                ) {
                    kern.dot_rows(x_row, w_tile, k, blocks, y_tile);
                }
            }
        }
    }
    for r in 0..rows {
        let (Some(x_row), Some(y_row)) = (x.get(span(r, k)), y.get_mut(span(r, n))) else {
            return;
        };
        let Some((main, rest)) = y_row.split_at_mut_checked(whole) else {
            return;
        };
        if !(batch || K::TILE_OUTER && rows > 1) {
            kern.dot_rows(x_row, w, k, blocks, main);
        }
        for (o, dst) in (whole..n).zip(rest.iter_mut()) {
            *dst = kern.dot_blocks(x_row, w.get(span(o, k)).unwrap_or(&[]), blocks);
        }
        if head < k {
            let x_tail = x_row.get(head..).unwrap_or(&[]);
            for (o, dst) in (0..n).zip(y_row.iter_mut()) {
                let w_row = span(o, k);
                if let Some(w_tail) = w.get(w_row.start.wrapping_add(head)..w_row.end) {
                    for (&a, &b) in x_tail.iter().zip(w_tail) {
                        *dst += a * kern.widen(b);
                    }
                }
            }
        }
        if let Some(bias) = bias {
            for (dst, &b) in y_row.iter_mut().zip(bias) {
                *dst += b;
            }
        }
    }
}
