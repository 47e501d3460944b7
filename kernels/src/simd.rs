//! The shared frame of the SIMD kernels.
//!
//! A kernel ([`F32Simd`]) only ever sees whole blocks of `LANES` elements and whole
//! tiles of `MR` weight rows; the frame here cuts the work into such blocks and handles
//! every head and tail (leftover rows, the last `k % LANES` elements, the bias) in
//! scalar code. A kernel value can only be obtained from [`F32Simd::detect`], which
//! proves the CPU runs its instructions, so calling through it is safe.

use crate::scalar;

/// Weight rows per tile: each weight row loaded is used against `NR` input rows, and each
/// input vector against `MR` weight rows.
pub const MR: usize = 4;
/// Most input rows per tile.
pub const NR: usize = 2;

/// One SIMD implementation of the f32 hot loops.
pub trait F32Simd: Copy {
    /// Name used to force the kernel (`PICOFORMER_KERNEL`) and in reports.
    const NAME: &'static str;
    /// f32 lanes per vector register.
    const LANES: usize;
    /// Alignment the kernel would like for its loads (it accepts any).
    const ALIGN: usize;

    /// The kernel, if this CPU runs it.
    fn detect() -> Option<Self>;

    /// Dot products of `ROWS` input rows with `MR` weight rows over whole blocks:
    /// `out[r][m] = sum_i x[r][i] * w[m][i]` for `i < blocks * LANES`. Every slice holds at
    /// least `blocks * LANES` elements (the frame guarantees it).
    fn dot_tile<const ROWS: usize>(
        self,
        x: [&[f32]; ROWS],
        w: [&[f32]; MR],
        blocks: usize,
    ) -> [[f32; MR]; ROWS];

    /// `sum_i a[i] * b[i]` over `blocks * LANES` elements.
    fn dot_blocks(self, a: &[f32], b: &[f32], blocks: usize) -> f32;

    /// `y[i] += alpha * x[i]` over `blocks * LANES` elements.
    fn axpy_blocks(self, alpha: f32, x: &[f32], y: &mut [f32], blocks: usize);
}

/// `sum_i a[i] * b[i]` over the common length: whole blocks by the kernel, the tail here.
pub fn dot<K: F32Simd>(kernel: K, a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let blocks = n / K::LANES;
    let head = blocks * K::LANES;
    let mut sum = kernel.dot_blocks(a, b, blocks);
    for (&x, &y) in a
        .get(head..n)
        .unwrap_or(&[])
        .iter()
        .zip(b.get(head..n).unwrap_or(&[]))
    {
        sum += x * y;
    }
    sum
}

/// `y += alpha * x` over the common length.
pub fn axpy<K: F32Simd>(kernel: K, alpha: f32, x: &[f32], y: &mut [f32]) {
    let n = x.len().min(y.len());
    let blocks = n / K::LANES;
    let head = blocks * K::LANES;
    kernel.axpy_blocks(alpha, x, y, blocks);
    let (Some(x_tail), Some(y_tail)) = (x.get(head..n), y.get_mut(head..n)) else {
        return;
    };
    scalar::axpy(alpha, x_tail, y_tail);
}

/// The linear layer `y[r][o] = dot(x[r], w[o]) + bias[o]` (see [`scalar::linear`]) cut into
/// `MR x ROWS` tiles for the kernel.
pub fn linear<K: F32Simd>(
    kernel: K,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
) {
    if k == 0 {
        y.fill(0.0);
        return;
    }
    let rows = x.len() / k;
    let n = w.len() / k;
    debug_assert_eq!(y.len(), rows * n, "y must be [rows, n]");
    if n == 0 || rows == 0 || y.len() < rows * n {
        return;
    }
    let blocks = k / K::LANES;
    let head = blocks * K::LANES;
    let x_rows: &[f32] = x.get(..rows * k).unwrap_or(&[]);
    let mut o = 0;
    while o < n {
        if o + MR <= n {
            let w_tile: [&[f32]; MR] =
                core::array::from_fn(|m| w.get((o + m) * k..(o + m + 1) * k).unwrap_or(&[]));
            let mut r = 0;
            while r < rows {
                let left = rows - r;
                if left >= NR {
                    tile::<K, NR>(kernel, x_rows, &w_tile, bias, k, n, blocks, head, o, r, y);
                    r += NR;
                } else if left >= 2 {
                    tile::<K, 2>(kernel, x_rows, &w_tile, bias, k, n, blocks, head, o, r, y);
                    r += 2;
                } else {
                    tile::<K, 1>(kernel, x_rows, &w_tile, bias, k, n, blocks, head, o, r, y);
                    r += 1;
                }
            }
            o += MR;
        } else {
            // Fewer than MR weight rows left: one dot product each.
            let w_row = w.get(o * k..(o + 1) * k).unwrap_or(&[]);
            let b = bias.and_then(|b| b.get(o)).copied().unwrap_or(0.0);
            for (r, x_row) in x_rows.chunks_exact(k).enumerate() {
                if let Some(out) = y.get_mut(r * n + o) {
                    *out = dot(kernel, x_row, w_row) + b;
                }
            }
            o += 1;
        }
    }
}

/// One tile: input rows `r..r + ROWS` against weight rows `o..o + MR`.
#[allow(clippy::too_many_arguments)] // the frame's loop state, kept in one place
#[inline(always)]
fn tile<K: F32Simd, const ROWS: usize>(
    kernel: K,
    x: &[f32],
    w_tile: &[&[f32]; MR],
    bias: Option<&[f32]>,
    k: usize,
    n: usize,
    blocks: usize,
    head: usize,
    o: usize,
    r: usize,
    y: &mut [f32],
) {
    let x_tile: [&[f32]; ROWS] =
        core::array::from_fn(|i| x.get((r + i) * k..(r + i + 1) * k).unwrap_or(&[]));
    let sums = kernel.dot_tile::<ROWS>(x_tile, *w_tile, blocks);
    for (i, (x_row, row_sums)) in x_tile.iter().zip(sums).enumerate() {
        for (m, (w_row, mut sum)) in w_tile.iter().zip(row_sums).enumerate() {
            let x_tail = x_row.get(head..).unwrap_or(&[]);
            let w_tail = w_row.get(head..).unwrap_or(&[]);
            for (&a, &b) in x_tail.iter().zip(w_tail) {
                sum += a * b;
            }
            let b = bias.and_then(|b| b.get(o + m)).copied().unwrap_or(0.0);
            if let Some(out) = y.get_mut((r + i) * n + o + m) {
                *out = sum + b;
            }
        }
    }
}
