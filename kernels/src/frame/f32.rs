//! The shared frame of the SIMD kernels.
//!
//! A kernel ([`F32Simd`]) only ever sees whole blocks of `LANES` elements and whole
//! tiles of `MR` weight rows; the frame here cuts the work into such blocks and handles
//! every head and tail (leftover rows, the last `k % LANES` elements, the bias) in
//! scalar code. A kernel value can only be obtained from [`F32Simd::detect`], which
//! proves the CPU runs its instructions, so calling through it is safe.

use crate::generic::f32 as scalar;

/// Weight rows per tile: each weight row loaded is used against `NR` input rows, and each
/// input vector against `MR` weight rows.
pub const MR: usize = 4;
/// Most input rows per tile: `MR x NR` = 12 accumulators hide the fused multiply-add
/// latency (4–5 cycles at 2 per cycle) and, with the `NR` input vectors and one weight
/// vector, fill AVX2's 16 registers. Bare-metal targets take 2: their kernels make one
/// pass per input row anyway (no caches to share loads through), and the smaller tile
/// keeps the frame's stack frame small.
pub const NR: usize = if cfg!(target_os = "none") { 2 } else { 3 };
/// Input rows per tile of a kernel with 32 vector registers (AVX-512): `MR x WIDE_NR` = 16
/// accumulators, the 4 weight vectors and one input vector (measured on the kernel's
/// tiles alone, warm: 4 rows 106 GFLOP/s, 3 rows 97, 5 rows 84, 6 rows 96: the larger
/// tiles spill). Each element's sum is computed as in a tile of one row, so the bits do
/// not depend on the tile.
pub const WIDE_NR: usize = 4;

/// One SIMD implementation of the f32 hot loops.
pub trait F32Simd: Copy {
    /// Name used to force the kernel (`PICOFORMER_KERNEL`) and in reports.
    const NAME: &'static str;
    /// f32 lanes per vector register.
    const LANES: usize;
    /// Alignment the kernel would like for its loads (it accepts any).
    const ALIGN: usize;
    /// True when the kernel's tiles are its rows done one after another: `dot_tile::<ROWS>`
    /// gives what `ROWS` calls of `dot_tile::<1>` (and [`dot_rows`](Self::dot_rows)) give,
    /// and `axpy_tile` is `MR` calls of [`axpy_blocks`](Self::axpy_blocks). The frame
    /// then goes row by row through one matrix-vector loop, the same sums with less code
    /// (microcontrollers, where code size counts and no load is shared between rows).
    const ROW_BY_ROW: bool = false;
    /// Most input rows per tile the frame hands [`dot_tile`](Self::dot_tile): [`NR`], or
    /// [`WIDE_NR`] where the kernel has the registers for it (x86_64 only).
    const TILE_ROWS: usize = NR;

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

    /// True where [`dot_tile_ahead`](Self::dot_tile_ahead) prefetches (hosts): the frame
    /// then hands each tile the weight rows that a later tile takes.
    const PREFETCH: bool = false;

    /// [`dot_tile`](Self::dot_tile), the same sums, while fetching `ahead` (weight rows
    /// of a later tile, still in memory: a forward pass streams its layers' weights)
    /// into the caches, one 64-byte line per block. The default ignores `ahead`.
    #[inline(always)]
    fn dot_tile_ahead<const ROWS: usize>(
        self,
        x: [&[f32]; ROWS],
        w: [&[f32]; MR],
        blocks: usize,
        ahead: &[f32],
    ) -> [[f32; MR]; ROWS] {
        let _ = ahead;
        self.dot_tile(x, w, blocks)
    }

    /// Fetch `span` (weight rows a later tile takes) into the caches, every 64-byte line
    /// of it at once: the frame's prefetch where a tile runs over too few input rows to
    /// spread it over its calls. The default does nothing.
    #[inline(always)]
    fn prefetch(self, span: &[f32]) {
        let _ = span;
    }

    /// `sum_i a[i] * b[i]` over `blocks * LANES` elements.
    fn dot_blocks(self, a: &[f32], b: &[f32], blocks: usize) -> f32;

    /// `y[i] += alpha * x[i]` over `blocks * LANES` elements.
    fn axpy_blocks(self, alpha: f32, x: &[f32], y: &mut [f32], blocks: usize);

    /// `y[i] += sum_m alpha[m] * x[m][i]` over `blocks * LANES` elements, adding the
    /// rows in order `m = 0, 1, ...`: the same result as `MR` calls of
    /// [`axpy_blocks`](Self::axpy_blocks), with `y` loaded and stored once instead of `MR`
    /// times (attention's weighted sum of value rows). Every slice holds at least
    /// `blocks * LANES` elements.
    fn axpy_tile(self, alpha: [f32; MR], x: [&[f32]; MR], y: &mut [f32], blocks: usize) {
        for (a, x) in alpha.into_iter().zip(x) {
            self.axpy_blocks(a, x, y, blocks);
        }
    }

    /// `y[i] += sum_j alpha[j] * x[j * x_stride + i]` for every `j < alpha.len()` (each
    /// row inside `x`) and `i < y.len()`, adding the rows in order: the same result as one
    /// [`axpy_blocks`](Self::axpy_blocks) per row, for a kernel that keeps `y` in registers
    /// over all the rows (attention's weighted sum over every key of a head). Returns
    /// false, having done nothing, where the kernel has no such loop for these shapes (the
    /// default); the frame then goes tile by tile.
    fn axpy_rows(self, alpha: &[f32], x: &[f32], x_stride: usize, y: &mut [f32]) -> bool {
        let _ = (alpha, x, x_stride, y);
        false
    }

    /// Query rows per block of [`attention_block`](Self::attention_block); 0 where the
    /// kernel has no blocked attention (the default).
    const ATTENTION_BLOCK: usize = 0;

    /// One head of attention for a block of up to [`ATTENTION_BLOCK`](Self::ATTENTION_BLOCK)
    /// query rows (`queries`, whole rows of `head.d`; in each, the head's columns from
    /// `head.at` on, `head.dk` of them, replaced by its output): bit for bit what the
    /// row-by-row attention (the frame's `attention_using` with this kernel's
    /// [`dot_strided`], softmax and [`axpy_strided`]) gives each row's head, so that the
    /// blocked and the row-by-row attention give the same bits. The scores as matrix
    /// products over the block, the softmax with the rows in vector lanes (each lane the
    /// reference's operations in key order). `scratch` holds at least `ATTENTION_BLOCK *
    /// (head.m + head.dk)` values. Returns false, having written nothing, where the kernel
    /// has no such loop for these shapes (the default).
    fn attention_block(self, queries: &mut [f32], head: &HeadBlock, scratch: &mut [f32]) -> bool {
        let _ = (queries, head, scratch);
        false
    }

    /// True where the convolution runs the rows whose windows lie inside the input through
    /// this kernel's linear tiles ([`dot_tile`](Self::dot_tile): up to
    /// [`TILE_ROWS`](Self::TILE_ROWS) windows against `MR` channels), each output the bits
    /// of a one-row [`linear`] of its window (hosts with many registers; `conv1d_with`).
    const CONV_TILES: bool = false;

    /// True when [`dot_rows`](Self::dot_rows) gives, for each weight row, the bits that
    /// [`dot_blocks`](Self::dot_blocks) gives for it alone: the convolution then takes
    /// each output row's whole-window dot products as one matrix-vector product
    /// (`conv1d_with`), the same sums with the input window loaded once per `MR`
    /// channels.
    const DOT_ROWS_ARE_DOTS: bool = false;

    /// `x[i] = exp_fast(x[i] - largest)` for every `x[i] <= largest` (or NaN), the same
    /// bits as [`scalar::exp_minus_max`] (the softmax's exponentials). The default is it.
    fn exp_minus_max(self, x: &mut [f32], largest: f32) {
        scalar::exp_minus_max(x, largest);
    }

    /// Whether [`gelu`](Self::gelu) is Helium's polynomial erf (bit for bit
    /// [`crate::generic::lanes::gelu_poly`]) instead of the reference's libm `erff`
    /// ([`scalar::gelu`]).
    const GELU_POLY: bool = false;

    /// GELU in place: [`scalar::gelu`] unless [`GELU_POLY`](Self::GELU_POLY). The default
    /// is that call.
    fn gelu(self, x: &mut [f32]) {
        scalar::gelu(x);
    }

    /// Whether [`layer_norm`](Self::layer_norm) takes its compensated sums in Helium's
    /// lanes (bit for bit [`crate::generic::lanes::layer_norm_lanes`]) instead of in
    /// element order ([`scalar::layer_norm`]).
    const LAYER_NORM_LANES: bool = false;

    /// LayerNorm of one row in place: [`scalar::layer_norm`] unless
    /// [`LAYER_NORM_LANES`](Self::LAYER_NORM_LANES). The default is that call.
    fn layer_norm(self, x: &mut [f32], gamma: &[f32], beta: Option<&[f32]>, eps: f32) {
        scalar::layer_norm(x, gamma, beta, eps);
    }

    /// [`layer_norm`](Self::layer_norm) of every `d`-wide row of `x` in place, each row's
    /// bits what that call gives it. The default is that call row after row; a kernel
    /// with many lanes takes a block of rows at once, one per lane (the compensated sums
    /// are serial chains: one row at a time waits on each addition).
    fn layer_norm_rows(
        self,
        x: &mut [f32],
        d: usize,
        gamma: &[f32],
        beta: Option<&[f32]>,
        eps: f32,
    ) {
        for row in x.chunks_exact_mut(d.max(1)) {
            self.layer_norm(row, gamma, beta, eps);
        }
    }

    /// Whether [`softmax_scaled`](Self::softmax_scaled) takes Helium's lane-ordered rule
    /// (bit for bit [`crate::generic::lanes::softmax_scaled_lanes`]) instead of the
    /// reference's key order.
    const SOFTMAX_LANES: bool = false;

    /// The attention's softmax of `x * scale`, in place: the reference's operations
    /// (each `x[i] * scale`, then [`scalar::softmax`]'s with
    /// [`exp_minus_max`](Self::exp_minus_max)) unless
    /// [`SOFTMAX_LANES`](Self::SOFTMAX_LANES). The default is that call.
    fn softmax_scaled(self, x: &mut [f32], scale: f32) {
        softmax_scaled_with(|x, largest| self.exp_minus_max(x, largest), x, scale);
    }

    /// Dot products of one input row `x` with whole tiles of weight rows `w_stride`
    /// apart, over whole blocks: `out[o] = sum_i x[i] * w[o * w_stride + i]` for
    /// `i < blocks * LANES` and `o < out.len() / MR * MR`.
    ///
    /// The default calls [`dot_tile`](Self::dot_tile) once per tile; a kernel for which
    /// the frame's per-call work is a visible share (microcontrollers, no caches) loops
    /// over the tiles itself.
    fn dot_rows(self, x: &[f32], w: &[f32], w_stride: usize, blocks: usize, out: &mut [f32]) {
        dot_rows_by_tiles(self, x, w, w_stride, blocks, out);
    }

    /// [`dot_rows`](Self::dot_rows) of two input rows with the same weight rows, in one
    /// pass (each weight block loaded once for both): `out[r][o] = sum_i x[r][i] * w[o *
    /// w_stride + i]` for `i < x[r].len()`, every `o < out[r].len()`, bit for bit what
    /// `dot_rows` gives each row where every row is in a whole tile and every element in a
    /// whole block; returns `false` (nothing written) where the kernel has no such pass or
    /// the shape is not one it takes. The default is `false`.
    fn dot_rows_pair(
        self,
        x: [&[f32]; 2],
        w: &[f32],
        w_stride: usize,
        out: [&mut [f32]; 2],
    ) -> bool {
        let _ = (x, w, w_stride, out);
        false
    }

    /// `x . x` over `blocks` whole blocks of [`scalar::DOT_LANES`] (8) elements, whatever
    /// the kernel's [`LANES`](Self::LANES), bit for bit the scalar reference's
    /// [`scalar::dot`] of those elements with themselves (RMSNorm's sum of squares: every
    /// kernel gives the reference's bits, so an int8 model's activations, quantized after
    /// each norm, do not depend on the kernel). The default is that call.
    fn square_sum_blocks(self, x: &[f32], blocks: usize) -> f32 {
        let head = x
            .get(..blocks.saturating_mul(scalar::DOT_LANES))
            .unwrap_or(x);
        scalar::dot(head, head)
    }

    /// [`scalar::silu_gate`], bit for bit. The default is it.
    fn silu_gate(self, gate: &mut [f32], up: &[f32]) {
        scalar::silu_gate(gate, up);
    }

    /// [`scalar::scale_by_gamma`], bit for bit. The default is it.
    fn scale_by_gamma(self, x: &mut [f32], gamma: &[f32], factor: f32) {
        scalar::scale_by_gamma(x, gamma, factor);
    }

    /// [`scalar::log10`] (libm's `log10f` of each element), bit for bit: the log-mel
    /// front end's logarithms. The default is it.
    fn log10(self, x: &mut [f32]) {
        scalar::log10(x);
    }

    /// Whether [`scores_head8`](Self::scores_head8) and
    /// [`weighted_sum_head8`](Self::weighted_sum_head8) fuse each multiply-add (one
    /// rounding: [`scalar::scores_head8_fma`], [`scalar::weighted_sum_head8_fma`]) instead
    /// of rounding the product and the sum apart ([`scalar::scores_head8`],
    /// [`scalar::weighted_sum_head8`]). Either way bit for bit the twin it names.
    const HEAD8_FMA: bool = false;

    /// [`scalar::scores_head8`] (or [`scalar::scores_head8_fma`], see
    /// [`HEAD8_FMA`](Self::HEAD8_FMA)), bit for bit: one 8-column head's attention scores
    /// and their maximum (the fused attention, [`scalar::attention_grouped_fused`]).
    fn scores_head8(
        self,
        q: &[f32; scalar::FUSED_HEAD],
        keys: &[f32],
        stride: usize,
        scores: &mut [f32],
    ) -> f32 {
        scalar::scores_head8(q, keys, stride, scores)
    }

    /// [`scalar::weighted_sum_head8`] (or [`scalar::weighted_sum_head8_fma`], see
    /// [`HEAD8_FMA`](Self::HEAD8_FMA)), bit for bit: one 8-column head's weighted sum of
    /// value rows, into `out`.
    fn weighted_sum_head8(
        self,
        weights: &[f32],
        values: &[f32],
        stride: usize,
        out: &mut [f32; scalar::FUSED_HEAD],
    ) {
        scalar::weighted_sum_head8(weights, values, stride, out)
    }

    /// [`scalar::exp_weighted_sum_head8`] (or [`scalar::exp_weighted_sum_head8_fma`], see
    /// [`HEAD8_FMA`](Self::HEAD8_FMA)), bit for bit, except that `scores` may keep the
    /// scores instead of their exponentials: the exponentials, their sum (returned) and
    /// their weighted sum of the value rows, into `out`. The default is the exponentials,
    /// then [`weighted_sum_head8`](Self::weighted_sum_head8).
    fn exp_weighted_sum_head8(
        self,
        scores: &mut [f32],
        largest: f32,
        values: &[f32],
        stride: usize,
        out: &mut [f32; scalar::FUSED_HEAD],
    ) -> f32 {
        scalar::exp_weighted_sum_head8_using(
            |w, v, stride, out| self.weighted_sum_head8(w, v, stride, out),
            scores,
            largest,
            values,
            stride,
            out,
        )
    }
}

/// The operands of one head of a block of query rows ([`F32Simd::attention_block`]).
#[derive(Debug, Clone, Copy)]
pub struct HeadBlock<'a> {
    /// The key rows from the head's first column on (`keys[at..]` of `[m, d]` rows): key
    /// `j`'s head columns at `j * d..j * d + dk`.
    pub keys: &'a [f32],
    /// The value rows, as `keys`.
    pub values: &'a [f32],
    /// The row width (stride) of the queries, keys and values.
    pub d: usize,
    /// The head's first column.
    pub at: usize,
    /// The head width.
    pub dk: usize,
    /// The keys the queries see.
    pub m: usize,
    /// `1 / sqrt(dk)`.
    pub scale: f32,
}

/// Head `head` of every query row of `queries` (whole rows of `head.d`) in blocks of
/// [`F32Simd::ATTENTION_BLOCK`] rows ([`F32Simd::attention_block`]), `scratch` as there.
/// False, having written nothing, where the kernel has no blocked attention for these
/// shapes or `scratch` is too short.
pub fn attention_blocks<K: F32Simd>(
    kernel: K,
    queries: &mut [f32],
    head: &HeadBlock,
    scratch: &mut [f32],
) -> bool {
    let block = K::ATTENTION_BLOCK;
    let need = head
        .m
        .checked_add(head.dk)
        .and_then(|n| n.checked_mul(block));
    if block == 0 || head.d == 0 || need.is_none_or(|need| scratch.len() < need) {
        return false;
    }
    let whole = queries.len() / head.d * head.d;
    let mut first = true;
    for part in queries
        .get_mut(..whole)
        .unwrap_or(&mut [])
        .chunks_mut(block * head.d)
    {
        // every block has the same shapes, so only the first can refuse them
        if !kernel.attention_block(part, head, scratch) && first {
            return false;
        }
        first = false;
    }
    true
}

/// [`F32Simd::dot_rows`] through [`F32Simd::dot_tile`], one tile at a time.
pub fn dot_rows_by_tiles<K: F32Simd>(
    kernel: K,
    x: &[f32],
    w: &[f32],
    w_stride: usize,
    blocks: usize,
    out: &mut [f32],
) {
    let len = blocks * K::LANES;
    for (t, sums) in out.chunks_exact_mut(MR).enumerate() {
        let w_tile: [&[f32]; MR] = core::array::from_fn(|m| {
            let start = (t * MR + m) * w_stride;
            w.get(start..start + len).unwrap_or(&[])
        });
        let [tile] = kernel.dot_tile::<1>([x], w_tile, blocks);
        for (dst, sum) in sums.iter_mut().zip(tile) {
            *dst = sum;
        }
    }
}

/// Whole tiles of `MR` rows `w_stride` apart that lie inside `w`, at most `rows / MR`,
/// when each row is read for `len` elements (the bound a kernel's [`F32Simd::dot_rows`]
/// checks before it runs).
pub fn tiles_inside(w_len: usize, w_stride: usize, len: usize, rows: usize) -> usize {
    if w_len < len || w_stride < len || w_stride == 0 {
        return 0;
    }
    let rows_inside = (w_len - len) / w_stride + 1;
    rows.min(rows_inside) / MR
}

/// `x . x`, bit for bit the scalar reference's [`scalar::dot`]`(x, x)` on every kernel
/// (not the kernel's own [`dot`], whose summation order is its lanes'): whole blocks of
/// [`scalar::DOT_LANES`] by the kernel's [`F32Simd::square_sum_blocks`], the tail here.
pub fn square_sum<K: F32Simd>(kernel: K, x: &[f32]) -> f32 {
    let blocks = x.len() / scalar::DOT_LANES;
    let head = blocks * scalar::DOT_LANES;
    let mut sum = kernel.square_sum_blocks(x, blocks);
    for &v in x.get(head..).unwrap_or(&[]) {
        sum += v * v;
    }
    sum
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

/// `y[o] = dot(x, w[o * w_stride..][..x.len()])` for `o < y.len()` (see
/// [`scalar::dot_strided`]): one query against the keys of one head, which lie
/// `w_stride` apart in the `[m, d]` key rows.
pub fn dot_strided<K: F32Simd>(kernel: K, x: &[f32], w: &[f32], w_stride: usize, y: &mut [f32]) {
    let k = x.len();
    if k == 0 || w_stride < k {
        y.fill(0.0);
        return;
    }
    // One input row: straight to the matrix-vector path (`tiles` would only forward
    // there, and inlining its tile loop into attention costs the caller stack).
    matvec(kernel, x, w, w_stride, y.len(), Out::Bias(None), k, y);
}

/// `y += sum_j alpha[j] * x[j * x_stride..][..y.len()]` for `j < alpha.len()`, rows added
/// in order (see [`scalar::axpy_strided`]): attention's weighted sum of one head's value
/// rows. `MR` rows per kernel call, so `y` is loaded and stored once per `MR` rows.
pub fn axpy_strided<K: F32Simd>(
    kernel: K,
    alpha: &[f32],
    x: &[f32],
    x_stride: usize,
    y: &mut [f32],
) {
    let n = y.len();
    if n == 0 || x_stride < n {
        return;
    }
    let blocks = n / K::LANES;
    let head = blocks * K::LANES;
    // wrapping: j < rows <= x.len() / x_stride, so these stay within x.len()
    let row = |j: usize| {
        let at = j.wrapping_mul(x_stride);
        x.get(at..at.wrapping_add(n)).unwrap_or(&[])
    };
    // Rows past the end of `x` are skipped (the scalar twin's zip stops there too).
    // (wrapping: x.len() <= isize::MAX)
    let whole_rows = x
        .len()
        .checked_sub(n)
        .map_or(0, |rest| (rest / x_stride).wrapping_add(1));
    let rows = alpha.len().min(whole_rows);
    if head == n && kernel.axpy_rows(alpha.get(..rows).unwrap_or(&[]), x, x_stride, y) {
        return;
    }
    let mut j = 0;
    while !K::ROW_BY_ROW && j + MR <= rows {
        let a: [f32; MR] = core::array::from_fn(|m| alpha.get(j + m).copied().unwrap_or(0.0));
        let x_tile: [&[f32]; MR] = core::array::from_fn(|m| row(j + m));
        kernel.axpy_tile(a, x_tile, y, blocks);
        if let Some(y_tail) = y.get_mut(head..n) {
            for (&a, x_row) in a.iter().zip(x_tile) {
                scalar::axpy(a, x_row.get(head..n).unwrap_or(&[]), y_tail);
            }
        }
        j += MR;
    }
    while j < rows {
        axpy(kernel, alpha.get(j).copied().unwrap_or(0.0), row(j), y);
        j += 1;
    }
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
    let Some((_, n)) = crate::generic::linear_shape(x.len(), w.len(), k, y) else {
        return;
    };
    tiles(kernel, x, w, k, n, Out::Bias(bias), k, y);
}

/// The accumulating linear layer over a column block of the weights,
/// `y[r][o] += dot(x[r], w[o * w_stride..][..k])` (see [`scalar::linear_acc`]), cut into
/// `MR x ROWS` tiles for the kernel.
pub fn linear_acc<K: F32Simd>(
    kernel: K,
    x: &[f32],
    w: &[f32],
    w_stride: usize,
    k: usize,
    y: &mut [f32],
) {
    if k == 0 || w_stride < k {
        return;
    }
    let rows = x.len() / k;
    let n = y.len().checked_div(rows).unwrap_or(0);
    tiles(kernel, x, w, w_stride, n, Out::Accumulate, k, y);
}

/// What a tile does with its sums.
#[derive(Clone, Copy)]
enum Out<'a> {
    /// `y = sum + bias` (zero without bias).
    Bias(Option<&'a [f32]>),
    /// `y += sum`.
    Accumulate,
}

impl Out<'_> {
    #[inline(always)]
    fn bias(self, o: usize) -> f32 {
        match self {
            Out::Bias(bias) => bias.and_then(|b| b.get(o)).copied().unwrap_or(0.0),
            Out::Accumulate => 0.0,
        }
    }

    #[inline(always)]
    fn store(self, dst: &mut f32, sum: f32, bias: f32) {
        match self {
            Out::Bias(_) => *dst = sum + bias,
            Out::Accumulate => *dst += sum,
        }
    }
}

/// `y[r][o] (+)= dot(x[r], w[o * w_stride..][..k])` for `x` `[rows, k]`, `n` weight rows
/// and `y` `[rows, n]`, in `MR x ROWS` tiles.
#[allow(clippy::too_many_arguments)] // a strided matrix product is this many numbers
fn tiles<K: F32Simd>(
    kernel: K,
    x: &[f32],
    w: &[f32],
    w_stride: usize,
    n: usize,
    out: Out,
    k: usize,
    y: &mut [f32],
) {
    let rows = x.len() / k;
    // wrapping: rows * k <= x.len() and n weight columns of rows fit the validated shapes;
    // a wrapped product could only pass this check into reads that `get` bounds anyway
    if n == 0 || rows == 0 || y.len() < rows.wrapping_mul(n) {
        return;
    }
    let x_rows: &[f32] = x.get(..rows.wrapping_mul(k)).unwrap_or(&[]);
    if rows == 1 {
        matvec(kernel, x_rows, w, w_stride, n, out, k, y);
        return;
    }
    if K::ROW_BY_ROW {
        // (after the one-row case, whose straight call the loop would slow down)
        for (x_row, y_row) in x_rows.chunks_exact(k).zip(y.chunks_exact_mut(n)) {
            matvec(kernel, x_row, w, w_stride, n, out, k, y_row);
        }
        return;
    }
    // Hosts: runs of rows whose inputs stay in the core's own cache while every tile of
    // weight rows passes over them (an encoder's 1500 rows of 512 are 3 MiB: streamed
    // from the shared cache once per tile of `MR` weight rows, the product waited on it).
    // The same sums: each element's does not depend on the tile or the run.
    // (Firmware: one run, and no second inlined copy of the tiles in this frame.)
    // Where there are several runs, the weights go in blocks of rows that stay in the
    // core's cache while every run passes over them (read from memory once, not once per
    // run), the runs as even as whole tiles make them.
    #[cfg(not(target_os = "none"))]
    {
        let row_bytes = k * core::mem::size_of::<f32>();
        let run = (ROW_RUN_BYTES / row_bytes).max(4 * WIDE_NR);
        if run < rows {
            let run = rows.div_ceil(rows.div_ceil(run)).next_multiple_of(WIDE_NR);
            let cols = (WEIGHT_BLOCK_BYTES / row_bytes).max(MR) / MR * MR;
            let mut o = 0;
            while o < n {
                let end = n.min(o + cols);
                for (x_part, y_part) in x_rows.chunks(run * k).zip(y.chunks_mut(run * n)) {
                    tile_rows(kernel, x_part, w, w_stride, (n, o, end), out, k, y_part);
                }
                o = end;
            }
            return;
        }
    }
    tile_rows(kernel, x_rows, w, w_stride, (n, 0, n), out, k, y);
}

/// Bytes of input rows in one run of [`tiles`] (hosts): well inside a core's L2.
#[cfg(not(target_os = "none"))]
const ROW_RUN_BYTES: usize = 192 << 10;

/// Bytes of weight rows in one block of [`tiles`] (hosts): with a run of input rows,
/// inside a core's L2.
#[cfg(not(target_os = "none"))]
const WEIGHT_BLOCK_BYTES: usize = 256 << 10;

/// Bytes of weight rows fetched ahead of the tile being multiplied where a product has
/// too few input rows to hide the memory behind its arithmetic (a decoding step, a beam's
/// rows), into L2 (measured with `decode_speed` on x86_64: 4 to 32 KiB within noise of
/// each other; into L1 the prefetches wait on its few line-fill buffers and a one-row
/// product ran at about 55 % of the read bandwidth, as without them).
pub const STREAM_AHEAD_BYTES: usize = 8 << 10;

/// The distance in elements from a tile's weight rows to those of the tile
/// [`STREAM_AHEAD_BYTES`] on: whole tiles of `MR` rows `w_stride` elements apart, of
/// `size` bytes an element, at least one tile.
pub fn stream_ahead(w_stride: usize, size: usize) -> usize {
    let tile = MR.saturating_mul(w_stride);
    let tiles = (STREAM_AHEAD_BYTES / tile.saturating_mul(size).max(1)).max(1);
    tiles.saturating_mul(tile)
}

/// [`tiles`] of whole rows `x_rows` `[rows, k]` into `y`'s columns `o..end` of `n`
/// (`cols = (n, o, end)`), weight tile by weight tile over all of them.
#[allow(clippy::too_many_arguments)] // as `tiles`
#[inline(always)]
fn tile_rows<K: F32Simd>(
    kernel: K,
    x_rows: &[f32],
    w: &[f32],
    w_stride: usize,
    cols: (usize, usize, usize),
    out: Out,
    k: usize,
    y: &mut [f32],
) {
    let (n, mut o, end) = cols;
    let rows = x_rows.len() / k;
    let blocks = k / K::LANES;
    let head = blocks * K::LANES;
    let wide = cfg!(target_arch = "x86_64") && K::TILE_ROWS >= WIDE_NR;
    let group = if wide { WIDE_NR } else { NR };
    let few = K::PREFETCH && !cfg!(target_os = "none") && rows.div_ceil(group) < MR;
    // (in weight rows: `stream_ahead` counts elements of `w_stride`)
    let ahead_tiles = if few {
        stream_ahead(w_stride, core::mem::size_of::<f32>()) / w_stride.max(1)
    } else {
        0
    };
    while o < end {
        if o + MR <= end {
            // Hoisted per tile of weight rows: their slices and their biases.
            let w_tile: [&[f32]; MR] = core::array::from_fn(|m| {
                let at = (o + m) * w_stride;
                w.get(at..at + k).unwrap_or(&[])
            });
            let b_tile: [f32; MR] = core::array::from_fn(|m| out.bias(o + m));
            let mut r = 0;
            // Hosts: the g-th call of this tile prefetches weight row `o + MR + g` (rows
            // of the next tiles), so the whole next tile is on its way once `MR` calls
            // have run (16 rows on AVX-512). Firmware: nothing (no caches to fill).
            let mut ahead_row = o.wrapping_add(MR);
            // Fewer calls than that (under 16 rows on AVX-512, 12 on AVX2): the whole tile
            // `STREAM_AHEAD_BYTES` on, here, before the calls.
            if few {
                // wrapping: as `ahead` below; `get` bounds what a wrapped sum asks for
                let first = o.wrapping_add(ahead_tiles);
                for m in first..first.wrapping_add(MR).min(n) {
                    let at = m.wrapping_mul(w_stride);
                    kernel.prefetch(w.get(at..at.wrapping_add(k)).unwrap_or(&[]));
                }
                ahead_row = n;
            }
            while r < rows {
                let take = if wide && rows - r >= WIDE_NR {
                    WIDE_NR
                } else {
                    (rows - r).min(NR)
                };
                let x_part = x_rows.get(r * k..(r + take) * k).unwrap_or(&[]);
                let y_part = y.get_mut(r * n..(r + take) * n).unwrap_or(&mut []);
                let ahead: &[f32] = if K::PREFETCH && !cfg!(target_os = "none") && ahead_row < n {
                    // wrapping: a row < n of w_stride fits the validated shapes, and
                    // `get` bounds whatever a wrapped sum could ask for
                    let at = ahead_row.wrapping_mul(w_stride);
                    ahead_row = ahead_row.wrapping_add(1);
                    w.get(at..at.wrapping_add(k)).unwrap_or(&[])
                } else {
                    &[]
                };
                let tile = Tile {
                    w: &w_tile,
                    bias: &b_tile,
                    out,
                    k,
                    n,
                    blocks,
                    head,
                    o,
                    ahead,
                };
                match take {
                    #[cfg(target_arch = "x86_64")]
                    WIDE_NR.. => tile.run::<K, WIDE_NR>(kernel, x_part, y_part),
                    3.. => tile.run::<K, 3>(kernel, x_part, y_part),
                    2 => tile.run::<K, 2>(kernel, x_part, y_part),
                    _ => tile.run::<K, 1>(kernel, x_part, y_part),
                }
                r += take;
            }
            o += MR;
        } else {
            // Fewer than MR weight rows left: one dot product each.
            let w_row = w.get(o * w_stride..o * w_stride + k).unwrap_or(&[]);
            let b = out.bias(o);
            for (r, x_row) in x_rows.chunks_exact(k).enumerate() {
                if let Some(dst) = y.get_mut(r * n + o) {
                    out.store(dst, dot(kernel, x_row, w_row), b);
                }
            }
            o += 1;
        }
    }
}

/// One input row `x` `[k]` (a decoding step's matrix-vector product): `y[o] (+)= dot(x,
/// w[o * w_stride..][..k])` for `o < n`, tile after tile of `MR` weight rows with nothing
/// per tile but the kernel call, the tail and the stores (on microcontrollers this
/// bookkeeping is a visible share of the instructions).
#[allow(clippy::too_many_arguments)] // as `tiles`
#[inline(always)]
fn matvec<K: F32Simd>(
    kernel: K,
    x: &[f32],
    w: &[f32],
    w_stride: usize,
    n: usize,
    out: Out,
    k: usize,
    y: &mut [f32],
) {
    match out {
        Out::Bias(bias) if K::ROW_BY_ROW => matvec_bias(kernel, x, w, w_stride, n, bias, k, y),
        _ => matvec_inline(kernel, x, w, w_stride, n, out, k, y),
    }
}

/// [`matvec`] with a bias, out of line for [`F32Simd::ROW_BY_ROW`] kernels: one copy of
/// the loop serves the linear layers and attention's dot products (on the Arm FPU kernel
/// ~0.5 KiB less code for ~15 instructions per product). The other kernels keep it
/// inlined (out of line, the M55's deepest stack grew by 56 bytes).
#[allow(clippy::too_many_arguments)] // as `tiles`
#[inline(never)]
fn matvec_bias<K: F32Simd>(
    kernel: K,
    x: &[f32],
    w: &[f32],
    w_stride: usize,
    n: usize,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
) {
    matvec_inline(kernel, x, w, w_stride, n, Out::Bias(bias), k, y);
}

/// The body of [`matvec`].
#[allow(clippy::too_many_arguments)] // as `tiles`
#[inline(always)]
fn matvec_inline<K: F32Simd>(
    kernel: K,
    x: &[f32],
    w: &[f32],
    w_stride: usize,
    n: usize,
    out: Out,
    k: usize,
    y: &mut [f32],
) {
    let blocks = k / K::LANES;
    let head = blocks * K::LANES;
    let x_tail = x.get(head..).unwrap_or(&[]);
    let y = y.get_mut(..n).unwrap_or(&mut []);
    let Some((main, rest)) = y.split_at_mut_checked(n / MR * MR) else {
        return;
    };
    match out {
        Out::Bias(_) => {
            // The whole blocks of every whole tile in one kernel call, then the tails
            // and the biases.
            kernel.dot_rows(x, w, w_stride, blocks, main);
            if head < k {
                // each row's tail summed in a register, stored once
                for (dst, w_row) in main.iter_mut().zip(w.chunks(w_stride.max(1))) {
                    let mut sum = *dst;
                    for (&a, &b) in x_tail.iter().zip(w_row.get(head..k).unwrap_or(&[])) {
                        sum += a * b;
                    }
                    *dst = sum;
                }
            }
            if let Out::Bias(Some(bias)) = out {
                for (dst, &b) in main.iter_mut().zip(bias) {
                    *dst += b;
                }
            }
        }
        Out::Accumulate => {
            for (t, y_tile) in main.chunks_exact_mut(MR).enumerate() {
                let w_tile: [&[f32]; MR] = core::array::from_fn(|m| {
                    let start = (t * MR + m) * w_stride;
                    w.get(start..start + k).unwrap_or(&[])
                });
                let [sums] = kernel.dot_tile::<1>([x], w_tile, blocks);
                for ((dst, mut sum), w_row) in y_tile.iter_mut().zip(sums).zip(w_tile) {
                    for (&a, &b) in x_tail.iter().zip(w_row.get(head..).unwrap_or(&[])) {
                        sum += a * b;
                    }
                    *dst += sum;
                }
            }
        }
    }
    // Fewer than MR weight rows left: one dot product each.
    for (o, dst) in (n / MR * MR..n).zip(rest) {
        // wrapping: o < n, and n rows of w_stride fit in `w` (shapes checked at load)
        let at = o.wrapping_mul(w_stride);
        let w_row = w.get(at..at.wrapping_add(k)).unwrap_or(&[]);
        out.store(dst, dot(kernel, x, w_row), out.bias(o));
    }
}

/// The weight side of one tile: rows `o..o + MR` of `w`, their biases, and the shapes.
struct Tile<'a> {
    w: &'a [&'a [f32]; MR],
    bias: &'a [f32; MR],
    out: Out<'a>,
    k: usize,
    n: usize,
    blocks: usize,
    head: usize,
    o: usize,
    /// Weight rows to prefetch ([`F32Simd::dot_tile_ahead`]); empty: none.
    ahead: &'a [f32],
}

impl Tile<'_> {
    /// `ROWS` input rows `x` `[ROWS, k]` against the tile's weight rows, into columns
    /// `o..o + MR` of `y` `[ROWS, n]`: whole blocks by the kernel, the tail and the bias here.
    #[inline(always)]
    fn run<K: F32Simd, const ROWS: usize>(&self, kernel: K, x: &[f32], y: &mut [f32]) {
        let k = self.k;
        let x_tile: [&[f32]; ROWS] =
            core::array::from_fn(|i| x.get(i * k..(i + 1) * k).unwrap_or(&[]));
        let mut sums = if K::PREFETCH && !cfg!(target_os = "none") {
            kernel.dot_tile_ahead::<ROWS>(x_tile, *self.w, self.blocks, self.ahead)
        } else {
            kernel.dot_tile::<ROWS>(x_tile, *self.w, self.blocks)
        };
        if self.head < k {
            for (x_row, row_sums) in x_tile.iter().zip(sums.iter_mut()) {
                let x_tail = x_row.get(self.head..).unwrap_or(&[]);
                for (w_row, sum) in self.w.iter().zip(row_sums.iter_mut()) {
                    for (&a, &b) in x_tail.iter().zip(w_row.get(self.head..).unwrap_or(&[])) {
                        *sum += a * b;
                    }
                }
            }
        }
        for (y_row, row_sums) in y.chunks_exact_mut(self.n.max(1)).zip(sums) {
            if let Some(out) = y_row.get_mut(self.o..self.o + MR) {
                for ((dst, sum), &b) in out.iter_mut().zip(row_sums).zip(self.bias) {
                    self.out.store(dst, sum, b);
                }
            }
        }
    }
}

/// The reference attention softmax of `x * scale` in place: each `x[i] * scale`, then
/// [`scalar::softmax`]'s operations with the given row of exponentials.
#[inline(always)]
pub(crate) fn softmax_scaled_with(
    exp_minus_max: impl Fn(&mut [f32], f32),
    x: &mut [f32],
    scale: f32,
) {
    for v in x.iter_mut() {
        *v *= scale;
    }
    scalar::softmax_using(&exp_minus_max, x);
}

/// The scalar reference's attention softmax of `x * scale` ([`softmax_scaled_with`] and
/// [`scalar::exp_minus_max`]).
pub(crate) fn softmax_scaled_reference(x: &mut [f32], scale: f32) {
    softmax_scaled_with(scalar::exp_minus_max, x, scale)
}

/// [`generic::f32::attention`](crate::generic::f32::attention) with the given
/// dot-product, axpy and scaled-softmax kernels: the scalar reference passes its own, the
/// dispatch the active kernel's [`dot_strided`], [`axpy_strided`] and
/// [`F32Simd::softmax_scaled`].
///
/// `probe`: `Some((h, out))` copies head `h`'s attention probabilities (after the
/// softmax, one per key) into `out` (its first `min(m, out.len())` elements).
#[allow(clippy::too_many_arguments)]
pub(crate) fn attention_using(
    dot_strided: impl Fn(&[f32], &[f32], usize, &mut [f32]),
    axpy_strided: impl Fn(&[f32], &[f32], usize, &mut [f32]),
    softmax_scaled: impl Fn(&mut [f32], f32),
    query: &mut [f32],
    keys: &[f32],
    values: &[f32],
    n_heads: usize,
    scores: &mut [f32],
    probe: Option<(usize, &mut [f32])>,
) {
    attention_grouped_using(
        dot_strided,
        axpy_strided,
        softmax_scaled,
        query,
        keys,
        values,
        n_heads,
        n_heads,
        scores,
        probe,
    )
}

/// [`attention_using`] with grouped key/value heads (grouped-query and multi-query
/// attention): `keys`, `values` `[m, n_kv_heads * dk]` rows, query head `h` attending over
/// key/value head `h / (n_heads / n_kv_heads)`. With `n_kv_heads == n_heads` it is
/// [`attention_using`] (the same operations in the same order); an `n_kv_heads` of 0 or
/// not dividing `n_heads` leaves `query` unchanged.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn attention_grouped_using(
    dot_strided: impl Fn(&[f32], &[f32], usize, &mut [f32]),
    axpy_strided: impl Fn(&[f32], &[f32], usize, &mut [f32]),
    softmax_scaled: impl Fn(&mut [f32], f32),
    query: &mut [f32],
    keys: &[f32],
    values: &[f32],
    n_heads: usize,
    n_kv_heads: usize,
    scores: &mut [f32],
    mut probe: Option<(usize, &mut [f32])>,
) {
    let d = query.len();
    if n_heads == 0 || d == 0 || n_kv_heads == 0 || !n_heads.is_multiple_of(n_kv_heads) {
        return;
    }
    let dk = d / n_heads;
    // (at least 1 by the checks above; `max` lets the no-panic proof see it)
    let group = (n_heads / n_kv_heads).max(1);
    // rows of `keys` and `values`: `d` wide unless grouped
    let kv_d = if group == 1 { d } else { dk * n_kv_heads };
    if kv_d == 0 {
        return;
    }
    let m = (keys.len() / kv_d)
        .min(values.len() / kv_d)
        .min(scores.len());
    let scores = scores.get_mut(..m).unwrap_or(&mut []);
    let scale = 1.0 / scalar::sqrt(dk as f32);
    // a range, not `.enumerate()`: its counter is overflow-checked, a range's is not
    let heads = query.len() / dk.max(1);
    for (h, q_h) in (0..heads).zip(query.chunks_exact_mut(dk.max(1))) {
        // Head h's keys and values: `dk` columns from its key/value head's, rows `kv_d`
        // apart (wrapping: h * dk < query.len()).
        let at = if group == 1 {
            h.wrapping_mul(dk)
        } else {
            (h / group).wrapping_mul(dk)
        };
        let keys_h = keys.get(at..).unwrap_or(&[]);
        let values_h = values.get(at..).unwrap_or(&[]);
        dot_strided(q_h, keys_h, kv_d, scores);
        softmax_scaled(scores, scale);
        if let Some((head, out)) = probe.as_mut() {
            if *head == h {
                for (dst, &p) in out.iter_mut().zip(scores.iter()) {
                    *dst = p;
                }
            }
        }
        q_h.fill(0.0);
        axpy_strided(scores, values_h, kv_d, q_h);
    }
}

/// [`generic::f32::attention_grouped_fused`](scalar::attention_grouped_fused) with the
/// given 8-column score and exponential-and-weighted-sum kernels (the scalar reference
/// passes its own, the dispatch the active kernel's); other head widths run the same
/// operations here.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn attention_grouped_fused_using(
    scores_head8: impl Fn(&[f32; scalar::FUSED_HEAD], &[f32], usize, &mut [f32]) -> f32,
    exp_weighted_sum_head8: impl Fn(
        &mut [f32],
        f32,
        &[f32],
        usize,
        &mut [f32; scalar::FUSED_HEAD],
    ) -> f32,
    query: &mut [f32],
    keys: &[f32],
    values: &[f32],
    n_heads: usize,
    n_kv_heads: usize,
    scores: &mut [f32],
) {
    let d = query.len();
    if n_heads == 0 || d == 0 || n_kv_heads == 0 || !n_heads.is_multiple_of(n_kv_heads) {
        return;
    }
    let dk = d / n_heads;
    let group = (n_heads / n_kv_heads).max(1);
    // wrapping: n_kv_heads <= n_heads, so dk * n_kv_heads <= d
    let kv_d = dk.wrapping_mul(n_kv_heads);
    if kv_d == 0 {
        return;
    }
    let m = (keys.len() / kv_d)
        .min(values.len() / kv_d)
        .min(scores.len());
    let scores = scores.get_mut(..m).unwrap_or(&mut []);
    let scale = 1.0 / scalar::sqrt(dk as f32);
    // `.enumerate()` by hand: its counter is overflow-checked, this one wraps (exactly:
    // it counts chunks of `query`); a zipped range costs instructions in this hot loop
    let mut next_head = 0usize;
    for q_h in query.chunks_exact_mut(dk.max(1)) {
        let h = next_head;
        next_head = next_head.wrapping_add(1);
        // wrapping: h * dk < query.len()
        let at = (h / group).wrapping_mul(dk);
        let keys_h = keys.get(at..).unwrap_or(&[]);
        let values_h = values.get(at..).unwrap_or(&[]);
        match <&mut [f32; scalar::FUSED_HEAD]>::try_from(&mut *q_h) {
            // written out: a loop of 8 stays a loop at the firmware's opt-level "s"
            Ok(q8) => scale_head8(q8, scale),
            Err(_) => {
                for v in q_h.iter_mut() {
                    *v *= scale;
                }
            }
        }
        let largest = match <&[f32; scalar::FUSED_HEAD]>::try_from(&*q_h) {
            Ok(q8) => scores_head8(q8, keys_h, kv_d, scores),
            Err(_) => {
                let mut largest = f32::NEG_INFINITY;
                // wrapping: j < m <= keys.len() / kv_d
                for (j, dst) in (0..m).zip(scores.iter_mut()) {
                    let at = j.wrapping_mul(kv_d);
                    let key = keys_h.get(at..at.wrapping_add(dk)).unwrap_or(&[]);
                    let mut pairs = q_h.iter().zip(key);
                    let mut s = pairs.next().map_or(0.0, |(&a, &b)| a * b);
                    for (&a, &b) in pairs {
                        s += a * b;
                    }
                    *dst = s;
                    if s > largest {
                        largest = s;
                    }
                }
                largest
            }
        };
        if largest == f32::NEG_INFINITY {
            q_h.fill(0.0);
            continue;
        }
        match <&mut [f32; scalar::FUSED_HEAD]>::try_from(&mut *q_h) {
            Ok(q8) => {
                let sum = exp_weighted_sum_head8(scores, largest, values_h, kv_d, q8);
                scale_head8(q8, 1.0 / sum);
            }
            Err(_) => {
                let mut sum = 0.0f32;
                for s in scores.iter_mut() {
                    // s <= largest: the argument is <= 0 (or NaN)
                    *s = scalar::exp_fast_nonpositive(*s - largest);
                    sum += *s;
                }
                let inverse = 1.0 / sum;
                q_h.fill(0.0);
                // wrapping: j < m <= values.len() / kv_d
                for (j, &w) in (0..m).zip(scores.iter()) {
                    let at = j.wrapping_mul(kv_d);
                    let value = values_h.get(at..at.wrapping_add(dk)).unwrap_or(&[]);
                    for (a, &v) in q_h.iter_mut().zip(value) {
                        *a += w * v;
                    }
                }
                for v in q_h.iter_mut() {
                    *v *= inverse;
                }
            }
        }
    }
}

/// [`generic::f32::conv1d`](crate::generic::f32::conv1d) on `kernel`: [`conv1d_using`]
/// with its [`dot`], or, for a kernel whose [`F32Simd::DOT_ROWS_ARE_DOTS`], each output
/// row whose window lies inside the input as one [`dot_strided`] over the weight rows
/// plus the bias (`sum + b`, as there), the rows that touch the padding as there.
#[allow(clippy::too_many_arguments)]
// Unused where no f32 kernel set exists (thumbv6m, riscv32imac: scalar only).
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64", pf_arm_fpu, pf_rvv)),
    allow(dead_code)
)]
pub(crate) fn conv1d_with<K: F32Simd>(
    kernel: K,
    input: &[f32],
    c_in: usize,
    weight: &[f32],
    bias: Option<&[f32]>,
    taps: usize,
    stride: usize,
    padding: usize,
    out: &mut [f32],
) {
    let dot_of = |a: &[f32], b: &[f32]| dot(kernel, a, b);
    if K::CONV_TILES && c_in > 0 && taps > 0 {
        return conv1d_tiled(
            kernel, input, c_in, weight, bias, taps, stride, padding, 0, out,
        );
    }
    if !K::DOT_ROWS_ARE_DOTS || c_in == 0 || taps == 0 {
        return conv1d_using(
            dot_of, input, c_in, weight, bias, taps, stride, padding, out,
        );
    }
    let l_in = input.len() / c_in;
    let window = taps * c_in;
    let c_out = weight.len() / window;
    if c_out == 0 {
        return conv1d_using(
            dot_of, input, c_in, weight, bias, taps, stride, padding, out,
        );
    }
    let l_out = scalar::conv1d_out_len(l_in, taps, stride, padding);
    // the input window of output row `r`, where it lies inside the input
    let window_of = |r: usize| {
        let start = r * stride;
        if start >= padding && start - padding + taps <= l_in {
            let at = (start - padding) * c_in;
            Some(input.get(at..at + window).unwrap_or(&[]))
        } else {
            None
        }
    };
    let add_bias = |out_row: &mut [f32]| {
        for (o, y) in out_row.iter_mut().enumerate() {
            *y += bias.and_then(|b| b.get(o)).copied().unwrap_or(0.0);
        }
    };
    // two rows in one pass where each of their sums is one `dot_rows` sum (whole tiles of
    // whole blocks, which `dot_strided` gives every row then)
    let mut pairs = c_out.is_multiple_of(MR) && window.is_multiple_of(K::LANES);
    let mut rows = out.chunks_exact_mut(c_out).take(l_out).enumerate();
    while let Some((r, out_row)) = rows.next() {
        if let (true, Some(x0)) = (pairs && r + 1 < l_out, window_of(r)) {
            if let Some(x1) = window_of(r + 1) {
                let Some((_, next_row)) = rows.next() else {
                    break;
                };
                if kernel.dot_rows_pair([x0, x1], weight, window, [&mut *out_row, &mut *next_row]) {
                    add_bias(out_row);
                    add_bias(next_row);
                } else {
                    pairs = false;
                    for (x, row) in [(x0, out_row), (x1, next_row)] {
                        dot_strided(kernel, x, weight, window, &mut *row);
                        add_bias(row);
                    }
                }
                continue;
            }
        }
        if let Some(x) = window_of(r) {
            dot_strided(kernel, x, weight, window, &mut *out_row);
            add_bias(out_row);
        } else {
            // the padded rows: one row of `conv1d_using` (its input shifted so that
            // this row is its first)
            conv1d_edge_row(
                dot_of,
                input,
                c_in,
                weight,
                bias,
                taps,
                r * stride,
                padding,
                out_row,
            );
        }
    }
}

/// Output rows `first..` (as many as `out` holds, `[rows, c_out]`) of [`conv1d_with`]
/// where the kernel's [`F32Simd::CONV_TILES`] (one thread's part of the
/// convolution, hosts); false, having written nothing, for other kernels and shapes.
#[allow(clippy::too_many_arguments)]
#[cfg(feature = "threads")]
pub(crate) fn conv1d_rows_with<K: F32Simd>(
    kernel: K,
    input: &[f32],
    c_in: usize,
    weight: &[f32],
    bias: Option<&[f32]>,
    taps: usize,
    stride: usize,
    padding: usize,
    first: usize,
    out: &mut [f32],
) -> bool {
    if !K::CONV_TILES || c_in == 0 || taps == 0 {
        return false;
    }
    conv1d_tiled(
        kernel, input, c_in, weight, bias, taps, stride, padding, first, out,
    );
    true
}

/// [`conv1d_using`] on a kernel whose [`F32Simd::CONV_TILES`]: the output rows whose
/// windows lie inside the input are a matrix product of those windows (overlapping rows
/// of the input, `stride * c_in` apart) with the weights `[c_out, taps * c_in]`, taken in
/// runs of rows that stay in the core's cache while every tile of `MR` channels passes
/// over them, each output the bits of a one-row [`linear`] of its window: whole tiles of
/// channels by [`F32Simd::dot_tile`], then the window's tail in order, then `+ b`; the
/// channels past the last whole tile by `dot`, `+ b`. The rows that touch the padding
/// as there (`c_in`, `taps` > 0); rows `first..` of the output, as many as `out` holds.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
fn conv1d_tiled<K: F32Simd>(
    kernel: K,
    input: &[f32],
    c_in: usize,
    weight: &[f32],
    bias: Option<&[f32]>,
    taps: usize,
    stride: usize,
    padding: usize,
    first: usize,
    out: &mut [f32],
) {
    let l_in = input.len() / c_in;
    let window = taps * c_in;
    let c_out = weight.len() / window;
    if c_out == 0 {
        return;
    }
    let l_out = scalar::conv1d_out_len(l_in, taps, stride, padding).min(first + out.len() / c_out);
    let blocks = window / K::LANES;
    let head = blocks * K::LANES;
    let window_of = |r: usize| {
        let start = r * stride;
        if start >= padding && start - padding + taps <= l_in {
            let at = (start - padding) * c_in;
            input.get(at..at + window)
        } else {
            None
        }
    };
    let b = |o: usize| bias.and_then(|b| b.get(o)).copied().unwrap_or(0.0);
    let w_row = |o: usize| weight.get(o * window..(o + 1) * window).unwrap_or(&[]);
    // Rows a run: their windows (`stride * c_in` apart) inside `CONV_RUN_BYTES`.
    let run_rows = (CONV_RUN_BYTES / (stride.max(1) * c_in * core::mem::size_of::<f32>()).max(1))
        .max(K::TILE_ROWS);
    let mut r = first;
    while r < l_out {
        if window_of(r).is_none() {
            let at = (r - first) * c_out;
            if let Some(out_row) = out.get_mut(at..at + c_out) {
                conv1d_edge_row(
                    |a, b| dot(kernel, a, b),
                    input,
                    c_in,
                    weight,
                    bias,
                    taps,
                    r * stride,
                    padding,
                    out_row,
                );
            }
            r += 1;
            continue;
        }
        // The run: rows r..end, every window inside the input.
        let mut end = r + 1;
        while end < l_out && end - r < run_rows && window_of(end).is_some() {
            end += 1;
        }
        let mut o = 0;
        while o + MR <= c_out {
            let w: [&[f32]; MR] = core::array::from_fn(|m| w_row(o + m));
            let b_tile: [f32; MR] = core::array::from_fn(|m| b(o + m));
            let mut g = r;
            while g < end {
                let take = (end - g).min(K::TILE_ROWS);
                match take {
                    #[cfg(target_arch = "x86_64")]
                    WIDE_NR.. => conv_tile::<K, WIDE_NR>(
                        kernel,
                        &window_of,
                        g,
                        w,
                        &b_tile,
                        (blocks, head),
                        o,
                        c_out,
                        first,
                        out,
                    ),
                    3.. => conv_tile::<K, 3>(
                        kernel,
                        &window_of,
                        g,
                        w,
                        &b_tile,
                        (blocks, head),
                        o,
                        c_out,
                        first,
                        out,
                    ),
                    2 => conv_tile::<K, 2>(
                        kernel,
                        &window_of,
                        g,
                        w,
                        &b_tile,
                        (blocks, head),
                        o,
                        c_out,
                        first,
                        out,
                    ),
                    _ => conv_tile::<K, 1>(
                        kernel,
                        &window_of,
                        g,
                        w,
                        &b_tile,
                        (blocks, head),
                        o,
                        c_out,
                        first,
                        out,
                    ),
                }
                g += take;
            }
            o += MR;
        }
        for o in o..c_out {
            for g in r..end {
                if let (Some(x), Some(y)) = (window_of(g), out.get_mut((g - first) * c_out + o)) {
                    *y = dot(kernel, x, w_row(o)) + b(o);
                }
            }
        }
        r = end;
    }
}

/// Bytes of input windows in one run of [`conv1d_tiled`]: well inside a core's L2.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const CONV_RUN_BYTES: usize = 192 << 10;

/// `ROWS` output rows from `g` of [`conv1d_tiled`] against channels `o..o + MR`: the
/// tile's sums, each window's tail in order, `+ b`.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[inline(always)]
fn conv_tile<'a, K: F32Simd, const ROWS: usize>(
    kernel: K,
    window_of: &impl Fn(usize) -> Option<&'a [f32]>,
    g: usize,
    w: [&[f32]; MR],
    b: &[f32; MR],
    (blocks, head): (usize, usize),
    o: usize,
    c_out: usize,
    first: usize,
    out: &mut [f32],
) {
    let x: [&[f32]; ROWS] = core::array::from_fn(|i| window_of(g + i).unwrap_or(&[]));
    let sums = kernel.dot_tile::<ROWS>(x, w, blocks);
    for (i, (x_row, row_sums)) in x.iter().zip(sums).enumerate() {
        let x_tail = x_row.get(head..).unwrap_or(&[]);
        for (m, (w_m, mut sum)) in w.iter().zip(row_sums).enumerate() {
            for (&a, &c) in x_tail.iter().zip(w_m.get(head..).unwrap_or(&[])) {
                sum += a * c;
            }
            if let Some(y) = out.get_mut((g + i - first) * c_out + o + m) {
                *y = sum + b[m];
            }
        }
    }
}

/// One output row of [`conv1d_using`] whose window starts at padded row `start`, tap by
/// tap (the rows that touch the padding).
#[allow(clippy::too_many_arguments)]
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64", pf_arm_fpu, pf_rvv)),
    allow(dead_code)
)]
fn conv1d_edge_row(
    dot: impl Fn(&[f32], &[f32]) -> f32,
    input: &[f32],
    c_in: usize,
    weight: &[f32],
    bias: Option<&[f32]>,
    taps: usize,
    start: usize,
    padding: usize,
    out_row: &mut [f32],
) {
    for (o, (w_row, y)) in weight
        .chunks_exact(taps * c_in)
        .zip(out_row.iter_mut())
        .enumerate()
    {
        let b = bias.and_then(|b| b.get(o)).copied().unwrap_or(0.0);
        let mut sum = 0.0;
        for (tap, w_tap) in w_row.chunks_exact(c_in).enumerate() {
            let Some(row) = (start + tap).checked_sub(padding) else {
                continue;
            };
            if let Some(x) = input.get(row * c_in..(row + 1) * c_in) {
                sum += dot(x, w_tap);
            }
        }
        *y = sum + b;
    }
}

/// `head[i] *= factor` for the 8 elements, written out.
#[inline(always)]
fn scale_head8(head: &mut [f32; scalar::FUSED_HEAD], factor: f32) {
    let [a, b, c, d, e, f, g, h] = head;
    *a *= factor;
    *b *= factor;
    *c *= factor;
    *d *= factor;
    *e *= factor;
    *f *= factor;
    *g *= factor;
    *h *= factor;
}

/// [`generic::f32::conv1d`](crate::generic::f32::conv1d) with the given dot-product
/// kernel (the dispatch passes the active one's).
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv1d_using(
    dot: impl Fn(&[f32], &[f32]) -> f32,
    input: &[f32],
    c_in: usize,
    weight: &[f32],
    bias: Option<&[f32]>,
    kernel: usize,
    stride: usize,
    padding: usize,
    out: &mut [f32],
) {
    if c_in == 0 || kernel == 0 {
        out.fill(0.0);
        return;
    }
    let l_in = input.len() / c_in;
    let Some(window) = kernel.checked_mul(c_in) else {
        out.fill(0.0);
        return;
    };
    let c_out = weight.len() / window;
    let l_out = scalar::conv1d_out_len(l_in, kernel, stride, padding);
    debug_assert_eq!(
        input.len(),
        l_in * c_in,
        "input is not a whole number of rows"
    );
    debug_assert_eq!(
        weight.len(),
        c_out * window,
        "weight must be [c_out, kernel, c_in]"
    );
    debug_assert_eq!(out.len(), l_out * c_out, "out must be [l_out, c_out]");
    if c_out == 0 {
        return;
    }
    let block = scalar::CONV_ROW_BLOCK * c_out;
    // Ranges, not `.enumerate()` (its counter is overflow-checked); the index arithmetic
    // wraps: output row `first + r` < l_out, and l_out * stride <= l_in + 2 * padding
    // (conv1d_out_len), so input rows and offsets stay within `input` plus padding.
    let blocks = out.len().div_ceil(block);
    for (first_block, out_rows) in (0..blocks).zip(out.chunks_mut(block)) {
        let first = first_block.wrapping_mul(scalar::CONV_ROW_BLOCK);
        for (o, w_row) in (0..c_out).zip(weight.chunks_exact(window)) {
            let b = bias.and_then(|b| b.get(o)).copied().unwrap_or(0.0);
            let rows = out_rows.len() / c_out;
            for (r, out_row) in (0..rows).zip(out_rows.chunks_exact_mut(c_out)) {
                // Input row of tap 0, shifted by `padding` so it is never negative.
                let start = first.wrapping_add(r).wrapping_mul(stride);
                let sum = if start >= padding && (start - padding).wrapping_add(kernel) <= l_in {
                    let at = (start - padding).wrapping_mul(c_in);
                    dot(input.get(at..at.wrapping_add(window)).unwrap_or(&[]), w_row)
                } else {
                    let mut sum = 0.0;
                    for (tap, w_tap) in (0..kernel).zip(w_row.chunks_exact(c_in)) {
                        let Some(row) = start.wrapping_add(tap).checked_sub(padding) else {
                            continue;
                        };
                        let at = row.wrapping_mul(c_in);
                        if let Some(x) = input.get(at..at.wrapping_add(c_in)) {
                            sum += dot(x, w_tap);
                        }
                    }
                    sum
                };
                if let Some(y) = out_row.get_mut(o) {
                    *y = sum + b;
                }
            }
        }
    }
}
