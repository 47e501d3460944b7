//! The frame of the int8 kernels: a kernel ([`I8Dot`]) sees only whole blocks and whole
//! tiles of [`MR`] weight rows; [`linear_i8`] quantizes the activation rows, handles the
//! leftover rows, the `k % BLOCK` tail, the scales and the bias, with one epilogue
//! ([`dequantize`]) for every kernel, so every kernel's results are bit-identical.

use crate::frame::f32::MR;
use crate::generic::attention_i8::{
    all_head, all_head_steps, head_exp_weights, head_round_weighted_sum, head_scores, AllHead,
    CacheHead,
};
use crate::generic::i8 as scalar;
use crate::quant::{quantize_row, Activations, I8Matrix};

/// One SIMD implementation of the int8 dot products.
pub trait I8Dot: Copy {
    /// Name in reports.
    const NAME: &'static str;
    /// i8 elements per block.
    const BLOCK: usize;

    /// The kernel, if this CPU runs it.
    fn detect() -> Option<Self>;

    /// `out[m] = sum_i x[i] * w[m][i]` over `blocks * BLOCK` elements, exactly (i32,
    /// wrapping). Every slice holds at least `blocks * BLOCK` elements.
    fn dot_tile(self, x: &[i8], w: [&[i8]; MR], blocks: usize) -> [i32; MR];

    /// [`quantize_row`]: the bits of its scale and integers (a kernel may do it in vectors).
    #[inline(always)]
    fn quantize_row(self, x: &[f32], q: &mut [i8]) -> f32 {
        quantize_row(x, q)
    }

    /// [`I8Dot::dot_tile`] of `out.len()` input rows `k` apart in `x` (row `r` at
    /// `x[r * k..]`) with the same weight rows: `out[r]` gets row `r`'s sums. The sums are
    /// exact, so a kernel may keep several rows' sums in registers at once and read each
    /// weight block once for all of them (hosts: the frame calls this with up to
    /// [`crate::quant::I8_ROW_BLOCK`] rows); this default runs the rows one after another.
    #[inline(always)]
    fn dot_tiles(self, x: &[i8], k: usize, w: [&[i8]; MR], blocks: usize, out: &mut [[i32; MR]]) {
        for (r, sums) in out.iter_mut().enumerate() {
            let row = x.get(r.wrapping_mul(k)..).unwrap_or(&[]);
            *sums = self.dot_tile(row, w, blocks);
        }
    }

    /// Hosts: one quantized input row `x` against `out.len()` weight rows `k` apart in `w`
    /// (row `o` at `w[o * k..]`): `out[o]` gets the exact sum (i32, wrapping) of `x[i] *
    /// w[o * k + i]` over the first `blocks * BLOCK` elements, as [`I8Dot::dot_tile`] gives
    /// it. A greedy decoding step's product: a kernel may loop over all the rows in one
    /// pass, several rows at a time, with its own prefetching; this default goes tile by
    /// tile ([`dot_rows_by_tiles`]). `x` holds at least `blocks * BLOCK` elements, `w` at
    /// least `out.len() * k` and `blocks * BLOCK <= k`.
    #[cfg(not(target_os = "none"))]
    #[inline(always)]
    fn dot_rows_i8(self, x: &[i8], w: &[i8], k: usize, blocks: usize, out: &mut [i32]) {
        dot_rows_by_tiles(self, x, w, k, blocks, out)
    }

    /// Hosts: the int8 linear layer (shapes as [`linear_i8`]) over several input rows in
    /// the kernel's own way, with its own buffer of quantized rows: `true` where it ran
    /// it, `false` (this default; the frame's blocks of rows and tiles then run) where it
    /// does not. The same bits as the frame: the same [`I8Dot::quantize_row`], exact sums
    /// and [`dequantize`]'s operations in its order.
    #[cfg(not(target_os = "none"))]
    #[inline(always)]
    fn linear_rows(
        self,
        x: &[f32],
        w: I8Matrix,
        bias: Option<&[f32]>,
        k: usize,
        y: &mut [f32],
    ) -> bool {
        let _ = (x, w, bias, k, y);
        false
    }

    /// The whole int8 linear layer (shapes as [`linear_i8`]). The frame's [`linear_i8`]
    /// over [`I8Dot::dot_tile`] unless a kernel does the whole product in one pass (the
    /// microcontroller kernels: the activation row quantized once, one loop over all row
    /// groups); every override is bit-identical to the frame.
    #[inline(always)]
    fn linear(
        self,
        x: &[f32],
        w: I8Matrix,
        bias: Option<&[f32]>,
        k: usize,
        y: &mut [f32],
        act: &mut Activations,
    ) {
        linear_i8(self, x, w, bias, k, y, act)
    }

    /// Step 2 of the int8 key/value cache's attention for one query head: the bits of
    /// [`head_scores`] (a kernel may overwrite `query`, the head's int8 values, which
    /// are not read again).
    #[inline(always)]
    fn cache_scores(
        self,
        query: &mut [f32],
        sq: f32,
        keys: &[u32],
        at: CacheHead,
        scores: &mut [f32],
    ) -> f32 {
        head_scores(query, sq, keys, at, scores)
    }

    /// Steps 3 and 4 of the int8 key/value cache's attention for one query head: the
    /// bits of [`head_exp_weights`].
    #[inline(always)]
    fn cache_exp_weights(
        self,
        scores: &mut [f32],
        largest: f32,
        values: &[u32],
        at: CacheHead,
    ) -> (f32, f32) {
        head_exp_weights(scores, largest, values, at)
    }

    /// Step 3's exponentials, `x[i] = exp_i8(x[i] - largest)`: the bits of
    /// [`crate::generic::attention_i8::exp_i8_minus_max`], which is what this default does.
    #[inline(always)]
    fn exp_i8_minus_max(self, x: &mut [f32], largest: f32) {
        crate::generic::attention_i8::exp_i8_minus_max(x, largest)
    }

    /// Step 4's rounding and step 5 of the int8 key/value cache's attention for one query
    /// head: the bits of [`head_round_weighted_sum`] (`weights` as step 4 leaves them, `inv`
    /// = `32767 / W`; a kernel may overwrite `weights`, not read again).
    #[inline(always)]
    fn cache_weighted_sum(
        self,
        weights: &mut [f32],
        inv: f32,
        values: &[u32],
        at: CacheHead,
        factor: f32,
        out: &mut [f32],
    ) {
        head_round_weighted_sum(weights, inv, values, at, factor, out)
    }

    /// One head of a key or value row quantized for the encoder's int8 layout
    /// ([`crate::generic::attention_i8::pack_all_kv_using`]): [`quantize_row`]'s integers
    /// and scale, which is what this default does.
    #[inline(always)]
    fn quantize_head(self, x: &[f32], q: &mut [i8]) -> f32 {
        quantize_row(x, q)
    }

    /// A position's quantized value head spread over the encoder layout's transposed
    /// values ([`crate::generic::attention_i8::pack_all_kv_using`]): the stores of
    /// [`crate::generic::attention_i8::spread_head`], which is what this default does.
    #[inline(always)]
    fn spread_head(self, q: &[i8], v: &mut [i8], stride: usize, j: usize) {
        crate::generic::attention_i8::spread_head(q, v, stride, j)
    }

    /// Steps 2-5 of the encoder's int8 attention for one query head over one head of
    /// [`crate::generic::attention_i8::pack_all_kv`]'s keys and values: the bits of
    /// [`all_head`] (`query` the head's int8 values, replaced by its output).
    #[inline(always)]
    fn all_head(self, query: &mut [f32], sq: f32, head: AllHead, scores: &mut [f32]) {
        all_head(query, sq, head, scores)
    }

    /// Steps 1-5 of the encoder's int8 attention for two query rows of one head (`a`, `b`
    /// their f32 values, `scale = 1 / sqrt(dk)`, each replaced by its output; `scores`
    /// `[>= pair_scores_len(rows)]` working space: the two rows' scores, then
    /// `PAIR_WORK` floats for a kernel's queries and sums): the bits of [`all_head_steps`] over
    /// [`I8Dot::all_head`] on each row, which is what this default does.
    #[inline(always)]
    fn all_head_pair(
        self,
        a: &mut [f32],
        b: &mut [f32],
        scale: f32,
        head: AllHead,
        scores: &mut [f32],
    ) {
        let step = |q: &mut [f32], sq: f32, h: AllHead, s: &mut [f32]| self.all_head(q, sq, h, s);
        all_head_steps(step, a, scale, head, scores);
        all_head_steps(step, b, scale, head, scores);
    }
}

/// [`I8Dot::dot_rows_i8`] through [`I8Dot::dot_tile`], one tile of [`MR`] rows at a time,
/// the leftover rows by the scalar dot product (the default, and the fallback of kernels
/// for slices shorter than the contract asks).
#[cfg(not(target_os = "none"))]
pub fn dot_rows_by_tiles<K: I8Dot>(
    kern: K,
    x: &[i8],
    w: &[i8],
    k: usize,
    blocks: usize,
    out: &mut [i32],
) {
    let head = blocks.saturating_mul(K::BLOCK).min(k);
    let x = x.get(..head).unwrap_or(x);
    for (t, tile) in out.chunks_mut(MR).enumerate() {
        let o = t * MR;
        let rows: [&[i8]; MR] =
            core::array::from_fn(|m| w.get((o + m) * k..(o + m + 1) * k).unwrap_or(&[]));
        if tile.len() == MR {
            tile.copy_from_slice(&kern.dot_tile(x, rows, blocks));
        } else {
            for (dst, row) in tile.iter_mut().zip(rows) {
                *dst = scalar::dot_i8(x, row.get(..head).unwrap_or(row));
            }
        }
    }
}

/// Output rows per [`I8Dot::dot_rows_i8`] call in [`linear_i8`]'s one-row path (hosts):
/// their sums wait on the stack for the tail and the epilogue.
#[cfg(not(target_os = "none"))]
const ONE_ROW_CHUNK: usize = 256;

/// The int8 linear layer on kernel `kern`: activation rows quantized `I8_ROW_BLOCK` (or
/// as many as `act` holds) at a time, then `MR` weight rows per kernel call. Hosts: one
/// input row (a greedy decoding step) goes through [`I8Dot::dot_rows_i8`], one kernel call
/// per 256 weight rows, then the tail and the epilogue in one tight loop: the same sums,
/// the same epilogue.
pub fn linear_i8<K: I8Dot>(
    kern: K,
    x: &[f32],
    w: I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    act: &mut Activations,
) {
    linear_i8_using(kern, x, w, bias, k, y, act, Paths::ALL)
}

/// [`linear_i8`] without the kernel's own pass over several input rows
/// ([`I8Dot::linear_rows`]): blocks of rows through [`I8Dot::dot_tiles`] (hosts; the same
/// bits, kept to measure against, `examples/linear_i8_speed.rs`).
#[cfg(not(target_os = "none"))]
pub fn linear_i8_by_row_blocks<K: I8Dot>(
    kern: K,
    x: &[f32],
    w: I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    act: &mut Activations,
) {
    let paths = Paths {
        one_row: true,
        many_rows: false,
    };
    linear_i8_using(kern, x, w, bias, k, y, act, paths)
}

/// Which of the kernel's own host paths [`linear_i8_using`] may take.
#[derive(Clone, Copy)]
#[cfg_attr(target_os = "none", allow(dead_code))]
struct Paths {
    /// One input row through [`I8Dot::dot_rows_i8`].
    one_row: bool,
    /// Several input rows through [`I8Dot::linear_rows`].
    many_rows: bool,
}

impl Paths {
    const ALL: Paths = Paths {
        one_row: true,
        many_rows: true,
    };
}

/// [`linear_i8`] without its one-row path: every input row tile by tile through
/// [`I8Dot::dot_tile`] (hosts; the same bits, kept to measure against,
/// `examples/decode_speed.rs`).
#[cfg(not(target_os = "none"))]
pub fn linear_i8_by_tiles<K: I8Dot>(
    kern: K,
    x: &[f32],
    w: I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    act: &mut Activations,
) {
    let paths = Paths {
        one_row: false,
        many_rows: false,
    };
    linear_i8_using(kern, x, w, bias, k, y, act, paths)
}

/// [`linear_i8`], with the kernel's own host paths that `paths` names.
#[allow(clippy::too_many_arguments)] // the layer's shapes and buffers, and the switch
#[inline(always)]
fn linear_i8_using<K: I8Dot>(
    kern: K,
    x: &[f32],
    w: I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    act: &mut Activations,
    paths: Paths,
) {
    if k == 0 {
        y.fill(0.0);
        return;
    }
    let rows = x.len() / k;
    let n = w.values.len() / k;
    let cap = (act.values.len() / k).min(act.scales.len());
    debug_assert_eq!(y.len(), rows * n, "y must be [rows, n]");
    debug_assert!(cap > 0 || rows == 0, "activation buffer too small");
    if n == 0 || rows == 0 || cap == 0 || y.len() < rows * n {
        return;
    }
    let blocks = k / K::BLOCK;
    let head = blocks * K::BLOCK;
    #[cfg(not(target_os = "none"))]
    if rows > 1 && paths.many_rows && kern.linear_rows(x, w, bias, k, y) {
        return;
    }
    #[cfg(not(target_os = "none"))]
    if rows == 1 && paths.one_row {
        if let (Some(x_row), Some(q), Some(s)) =
            (x.get(..k), act.values.get_mut(..k), act.scales.get_mut(0))
        {
            *s = kern.quantize_row(x_row, q);
            let (q, sx) = (&*q, *s);
            let y = y.get_mut(..n).unwrap_or(&mut []);
            one_row_product(kern, q, sx, w, bias, k, y);
            return;
        }
    }
    #[cfg(target_os = "none")]
    let _ = paths;
    // Hosts, where the input rows take several blocks: blocks of weight rows that stay in
    // the core's L2 while every block of input rows passes over them (read from memory
    // once, not once per block of input rows; each block of input rows is quantized again
    // for each, `k` values per row against `cols * k` products). The same bits: each
    // row's integers and each element's sum do not depend on the blocks.
    #[cfg(not(target_os = "none"))]
    let cols = if rows > cap {
        (WEIGHT_BLOCK_BYTES / k).max(MR) / MR * MR
    } else {
        n
    };
    #[cfg(target_os = "none")]
    let cols = n;
    let mut c0 = 0;
    while c0 < n {
        let c1 = n.min(c0.saturating_add(cols));
        let mut r0 = 0;
        while r0 < rows {
            let block_rows = cap.min(rows - r0);
            // Quantize this block of activation rows.
            // Index loops, not zipped `chunks_exact`: the link-time no-panic proof needs every
            // length computation visible next to the `k > 0` check above.
            for r in 0..block_rows {
                let row = r0 + r;
                if let (Some(x_row), Some(q_row), Some(s)) = (
                    x.get(row * k..(row + 1) * k),
                    act.values.get_mut(r * k..(r + 1) * k),
                    act.scales.get_mut(r),
                ) {
                    *s = kern.quantize_row(x_row, q_row);
                }
            }
            let y_block = y.get_mut(r0 * n..(r0 + block_rows) * n).unwrap_or(&mut []);
            let q_rows = act.values.get(..block_rows * k).unwrap_or(&[]);
            let sx_rows = act.scales.get(..block_rows).unwrap_or(&[]);
            let mut o = c0;
            while o < c1 {
                let tile = (c1 - o).min(MR);
                let w_rows: [&[i8]; MR] = core::array::from_fn(|m| {
                    if m < tile {
                        w.values.get((o + m) * k..(o + m + 1) * k).unwrap_or(&[])
                    } else {
                        &[]
                    }
                });
                // Hosts: the tile's sums for every row of the block in one call (a kernel may
                // run several rows at once); the same sums, the same epilogue.
                #[cfg(not(target_os = "none"))]
                if tile == MR {
                    let tile = RowsTile {
                        w: w_rows,
                        scales: w.scales,
                        bias,
                        o,
                        n,
                        k,
                        blocks,
                    };
                    tile.run(kern, q_rows, sx_rows, y_block);
                    o += MR;
                    continue;
                }
                for r in 0..block_rows {
                    let (Some(q_row), Some(&sx), Some(y_row)) = (
                        q_rows.get(r * k..(r + 1) * k),
                        sx_rows.get(r),
                        y_block.get_mut(r * n..(r + 1) * n),
                    ) else {
                        break;
                    };
                    let sums: [i32; MR] = if tile == MR {
                        let mut sums = kern.dot_tile(q_row, w_rows, blocks);
                        if head < k {
                            let q_tail = q_row.get(head..).unwrap_or(&[]);
                            for (sum, w_row) in sums.iter_mut().zip(w_rows) {
                                let tail = scalar::dot_i8(q_tail, w_row.get(head..).unwrap_or(&[]));
                                *sum = sum.wrapping_add(tail);
                            }
                        }
                        sums
                    } else {
                        w_rows.map(|w_row| scalar::dot_i8(q_row, w_row))
                    };
                    for (m, &acc) in sums.iter().enumerate().take(tile) {
                        let sw = w.scales.get(o + m).copied().unwrap_or(0.0);
                        let b = bias.and_then(|b| b.get(o + m)).copied().unwrap_or(0.0);
                        if let Some(dst) = y_row.get_mut(o + m) {
                            *dst = dequantize(acc, sx, sw, b);
                        }
                    }
                }
                o += tile;
            }
            r0 += block_rows;
        }
        c0 = c1;
    }
}

/// [`linear_i8`]'s one-row path (hosts): `y[o]` (`o < y.len()`, the weight rows) from the
/// quantized row `q` (`k` values, scale `sx`), [`I8Dot::dot_rows_i8`]'s sums over whole
/// blocks, the `k % BLOCK` tail by the scalar dot product, then [`dequantize`], as the
/// tile-by-tile path computes them.
#[cfg(not(target_os = "none"))]
#[inline(always)]
fn one_row_product<K: I8Dot>(
    kern: K,
    q: &[i8],
    sx: f32,
    w: I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
) {
    let blocks = k / K::BLOCK;
    let head = blocks * K::BLOCK;
    let q_tail = q.get(head..).unwrap_or(&[]);
    let n = y.len();
    let mut sums = [0i32; ONE_ROW_CHUNK];
    let mut o = 0;
    while o < n {
        let len = (n - o).min(ONE_ROW_CHUNK);
        let (Some(rows), Some(out)) = (w.values.get(o * k..(o + len) * k), sums.get_mut(..len))
        else {
            return;
        };
        kern.dot_rows_i8(q, rows, k, blocks, out);
        for (i, &acc) in out.iter().enumerate() {
            let row = o + i;
            let mut acc = acc;
            if head < k {
                let w_tail = rows.get(i * k + head..(i + 1) * k).unwrap_or(&[]);
                acc = acc.wrapping_add(scalar::dot_i8(q_tail, w_tail));
            }
            let sw = w.scales.get(row).copied().unwrap_or(0.0);
            let b = bias.and_then(|b| b.get(row)).copied().unwrap_or(0.0);
            if let Some(dst) = y.get_mut(row) {
                *dst = dequantize(acc, sx, sw, b);
            }
        }
        o += len;
    }
}

/// Bytes of int8 weight rows in one block of [`linear_i8`] (hosts): inside a core's L2
/// with a block of input rows.
#[cfg(not(target_os = "none"))]
const WEIGHT_BLOCK_BYTES: usize = 256 << 10;

/// One tile of [`MR`] weight rows (from row `o` of `n`) over a block of quantized input
/// rows (hosts).
#[cfg(not(target_os = "none"))]
struct RowsTile<'a> {
    w: [&'a [i8]; MR],
    scales: &'a [f32],
    bias: Option<&'a [f32]>,
    o: usize,
    n: usize,
    k: usize,
    blocks: usize,
}

#[cfg(not(target_os = "none"))]
impl RowsTile<'_> {
    /// `y_block[r][o..o + MR]` for the rows `q_rows` (`[rows, k]`) with scales `sx_rows`:
    /// [`I8Dot::dot_tiles`] over up to [`crate::quant::I8_ROW_BLOCK`] rows at a time, the
    /// `k % BLOCK` tail by the scalar dot product, then [`dequantize`], as the frame's
    /// row-by-row loop computes them.
    #[inline(always)]
    fn run<K: I8Dot>(&self, kern: K, q_rows: &[i8], sx_rows: &[f32], y_block: &mut [f32]) {
        use crate::quant::I8_ROW_BLOCK;
        let (k, n, o) = (self.k, self.n, self.o);
        let head = self.blocks * K::BLOCK;
        let sw: [f32; MR] =
            core::array::from_fn(|m| self.scales.get(o + m).copied().unwrap_or(0.0));
        let b: [f32; MR] =
            core::array::from_fn(|m| self.bias.and_then(|b| b.get(o + m)).copied().unwrap_or(0.0));
        let mut sums = [[0i32; MR]; I8_ROW_BLOCK];
        let mut r0 = 0;
        while r0 < sx_rows.len() {
            let take = (sx_rows.len() - r0).min(I8_ROW_BLOCK);
            let Some(x) = q_rows.get(r0 * k..(r0 + take) * k) else {
                return;
            };
            let out = &mut sums[..take];
            kern.dot_tiles(x, k, self.w, self.blocks, out);
            for (r, row_sums) in out.iter_mut().enumerate() {
                let row = r0 + r;
                let (Some(q_row), Some(&sx), Some(y_row)) = (
                    q_rows.get(row * k..(row + 1) * k),
                    sx_rows.get(row),
                    y_block.get_mut(row * n + o..row * n + o + MR),
                ) else {
                    return;
                };
                if head < k {
                    let q_tail = q_row.get(head..).unwrap_or(&[]);
                    for (sum, w_row) in row_sums.iter_mut().zip(self.w) {
                        let tail = scalar::dot_i8(q_tail, w_row.get(head..).unwrap_or(&[]));
                        *sum = sum.wrapping_add(tail);
                    }
                }
                for m in 0..MR {
                    y_row[m] = dequantize(row_sums[m], sx, sw[m], b[m]);
                }
            }
            r0 += take;
        }
    }
}

/// The epilogue of every int8 dot product: `acc * (sx * sw) + b`, in this order.
#[inline(always)]
pub fn dequantize(acc: i32, sx: f32, sw: f32, b: f32) -> f32 {
    acc as f32 * (sx * sw) + b
}
