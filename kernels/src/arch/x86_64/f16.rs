//! x86_64 f16-weight kernels: each weight widened with `vcvtph2ps` (exact), 8 lanes per
//! weight row, one accumulator per weight row and input row (the scalar reference's
//! lanes, [`crate::generic::f16::dot_f16`]), fused multiply-adds.
//!
//! - [`Avx2F16`] (AVX2 + FMA + F16C): 4 weight rows at a time; a decode step (one input
//!   row) prefetches the weights [`AHEAD_TILES`] ahead, a forward pass (several input
//!   rows) runs tiles of 2 input rows x 4 weight rows, each weight widened once per tile.
//! - [`Avx512F16`] (AVX-512F + VL): two weight rows per 512-bit register (row `2p` in the low
//!   half, `2p + 1` in the high half, each the same 8-lane chain as AVX2's); a decode step
//!   runs 8 weight rows at a time with the prefetch, a forward pass tiles of 4 input
//!   rows x 8 weight rows.
//! - [`Avx2F16Plain`]: the kernel before issue 18 (4 rows, no prefetch, one input row per
//!   call), kept as the baseline of `examples/decode_speed.rs` and of the tests that hold
//!   the others to it bit for bit.
//!
//! Every kernel gives each row of a whole tile of [`MR`] the same bits: an 8-lane chain of
//! fused multiply-adds over the blocks, then the pairwise sum of the lanes; how many rows
//! share a pass does not change a row's sums.

use crate::frame::f16::F16Dot;
use crate::frame::f32::MR;
use crate::generic::f16::ScalarF16;
use core::arch::x86_64::*;
use half::f16;

/// How far ahead of the rows being summed a decode step prefetches its weights, in
/// tiles (a tile: the weight rows of one pass): at `k = 512` an f16 row is 1 KiB, too
/// short a stream for the hardware prefetcher. Each pass prefetches, into L2, the bytes
/// of the tile this many tiles on, as fast as it reads its own (`examples/decode_speed.rs`
/// chose 8-row passes two tiles ahead on AVX-512: 16-row passes lose at `k = 2048`).
pub const AHEAD_TILES: usize = 2;

/// The sum of the 8 lanes of `v` in the scalar reference's order:
/// `((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7))`.
#[inline]
#[target_feature(enable = "avx")]
fn sum8(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s));
    _mm_cvtss_f32(s)
}

/// Whether one `dot_rows` call's shapes hold: `x` and each of the `rows` weight rows
/// (`w_stride` apart, not overlapping) hold `blocks * 8` elements. Where they do not, the
/// caller falls back to the plain kernel (which gives a tile with a short row 0).
#[inline]
fn whole_rows(x: &[f32], w: &[f16], w_stride: usize, blocks: usize, rows: usize) -> bool {
    let Some(len) = blocks.checked_mul(8) else {
        return false;
    };
    let end = rows
        .checked_sub(1)
        .and_then(|last| last.checked_mul(w_stride))
        .and_then(|at| at.checked_add(len));
    end.is_some_and(|end| x.len() >= len && w.len() >= end && w_stride >= len)
}

/// The kernel before issue 18: AVX2 + FMA + F16C, 4 rows at a time, one input row per
/// call, no prefetch. The baseline of the decode-speed example and the tests.
#[derive(Debug, Clone, Copy)]
pub struct Avx2F16Plain(());

impl F16Dot for Avx2F16Plain {
    const NAME: &'static str = "avx2-f16c-plain";
    const BLOCK: usize = 8;
    const TILE_OUTER: bool = true;

    fn detect() -> Option<Self> {
        Avx2F16::detect().map(|_| Avx2F16Plain(()))
    }

    fn dot_rows(self, x: &[f32], w: &[f16], w_stride: usize, blocks: usize, out: &mut [f32]) {
        plain_dot_rows(x, w, w_stride, blocks, out);
    }

    fn dot_blocks(self, x: &[f32], w: &[f16], blocks: usize) -> f32 {
        ScalarF16.dot_blocks(x, w, blocks)
    }
}

/// [`Avx2F16Plain`]'s rows: per tile of `MR`, the rows' common whole blocks (a tile with
/// a row outside `w` gives 0).
fn plain_dot_rows(x: &[f32], w: &[f16], w_stride: usize, blocks: usize, out: &mut [f32]) {
    let len = blocks * 8;
    for (t, sums) in out.chunks_exact_mut(MR).enumerate() {
        let w_tile: [&[f16]; MR] = core::array::from_fn(|m| {
            let start = (t * MR + m) * w_stride;
            w.get(start..start + len).unwrap_or(&[])
        });
        let b = w_tile
            .iter()
            .fold(blocks.min(x.len() / 8), |b, s| b.min(s.len() / 8));
        // SAFETY: a kernel value exists only if AVX2, FMA and F16C were detected; every
        // slice holds at least `b * 8` elements (just above).
        let tile = unsafe { x86_64avx2_dot_f16_4x1(x, &w_tile, b) };
        for (dst, sum) in sums.iter_mut().zip(tile) {
            *dst = sum;
        }
    }
}

/// # Safety
/// AVX2, FMA and F16C must be present; every slice must hold `blocks * 8` elements.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn x86_64avx2_dot_f16_4x1(x: &[f32], w: &[&[f16]; MR], blocks: usize) -> [f32; MR] {
    let mut acc = [_mm256_setzero_ps(); MR];
    let xp = x.as_ptr();
    let wp: [*const f16; MR] = core::array::from_fn(|m| w[m].as_ptr());
    for b in 0..blocks {
        // SAFETY: `b * 8 + 8 <= blocks * 8 <= len` of every slice (caller).
        unsafe {
            let xv = _mm256_loadu_ps(xp.add(b * 8));
            for m in 0..MR {
                let wv = _mm256_cvtph_ps(_mm_loadu_si128(wp[m].add(b * 8).cast()));
                acc[m] = _mm256_fmadd_ps(xv, wv, acc[m]);
            }
        }
    }
    acc.map(|v| sum8(v))
}

/// AVX2 + FMA + F16C: f16 weights widened with `vcvtph2ps`, 8 lanes, 4 rows at a time,
/// with the prefetch (one input row) or 2-input-row tiles (several).
#[derive(Debug, Clone, Copy)]
pub struct Avx2F16(());

impl F16Dot for Avx2F16 {
    const NAME: &'static str = "avx2-f16c";
    const BLOCK: usize = 8;
    const TILE_OUTER: bool = true;
    const BATCH: bool = true;

    fn detect() -> Option<Self> {
        #[cfg(feature = "std")]
        let found = std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
            && std::is_x86_feature_detected!("f16c");
        #[cfg(not(feature = "std"))]
        let found = cfg!(all(
            target_feature = "avx2",
            target_feature = "fma",
            target_feature = "f16c"
        ));
        found.then_some(Avx2F16(()))
    }

    fn dot_rows(self, x: &[f32], w: &[f16], w_stride: usize, blocks: usize, out: &mut [f32]) {
        let rows = out.len() / MR * MR;
        if rows == 0 {
            return;
        }
        if !whole_rows(x, w, w_stride, blocks, rows) {
            return plain_dot_rows(x, w, w_stride, blocks, out);
        }
        for (t, sums) in out.chunks_exact_mut(MR).enumerate() {
            // SAFETY: AVX2, FMA and F16C were detected (`self`); `whole_rows` proved every
            // row of every tile inside `w` and `x` long enough.
            let tile = unsafe {
                x86_64avx2_dot_f16_rx4::<1, true>(
                    x.as_ptr(),
                    0,
                    w.as_ptr().add(t * MR * w_stride),
                    w_stride,
                    blocks,
                )
            };
            sums.copy_from_slice(&tile[0]);
        }
    }

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
        let whole = n / MR * MR;
        if !batch_fits(x, rows, k, w, blocks, y, n, whole) {
            return batch_fallback(self, x, rows, k, w, blocks, y, n);
        }
        let (xp, wp, yp) = (x.as_ptr(), w.as_ptr(), y.as_mut_ptr());
        for o in (0..whole).step_by(MR) {
            let mut r = 0;
            while r < rows {
                // SAFETY: AVX2, FMA and F16C were detected (`self`); `batch_fits` proved
                // rows `r..r + R` of `x` and `y` and weight rows `o..o + MR` in range.
                unsafe {
                    let (w_at, x_at) = (wp.add(o * k), xp.add(r * k));
                    if rows - r >= 2 {
                        let s = x86_64avx2_dot_f16_rx4::<2, false>(x_at, k, w_at, k, blocks);
                        store(yp, n, r, o, &s);
                        r += 2;
                    } else {
                        let s = x86_64avx2_dot_f16_rx4::<1, false>(x_at, k, w_at, k, blocks);
                        store(yp, n, r, o, &s);
                        r += 1;
                    }
                }
            }
        }
    }

    fn dot_blocks(self, x: &[f32], w: &[f16], blocks: usize) -> f32 {
        ScalarF16.dot_blocks(x, w, blocks)
    }
}

/// Whether a batch's shapes hold: `x` `rows x k`, `y` `rows x n`, `w` `whole` rows of `k`
/// with `blocks * 8 <= k`.
#[allow(clippy::too_many_arguments)]
fn batch_fits(
    x: &[f32],
    rows: usize,
    k: usize,
    w: &[f16],
    blocks: usize,
    y: &[f32],
    n: usize,
    whole: usize,
) -> bool {
    let fits = |len: usize, a: usize, b: usize| a.checked_mul(b).is_some_and(|m| m <= len);
    blocks.checked_mul(8).is_some_and(|l| l <= k)
        && fits(x.len(), rows, k)
        && fits(y.len(), rows, n)
        && fits(w.len(), whole, k)
}

/// A batch whose shapes do not hold: one [`F16Dot::dot_rows`] per input row.
#[allow(clippy::too_many_arguments)]
fn batch_fallback<K: F16Dot>(
    kern: K,
    x: &[f32],
    rows: usize,
    k: usize,
    w: &[f16],
    blocks: usize,
    y: &mut [f32],
    n: usize,
) {
    for r in 0..rows {
        let x_row = x.get(r * k..(r + 1) * k).unwrap_or(&[]);
        if let Some(y_row) = y.get_mut(r * n..r * n + n / MR * MR) {
            kern.dot_rows(x_row, w, k, blocks, y_row);
        }
    }
}

/// Writes `R` input rows' sums of weight rows `o..o + C` into `y` (rows `n` apart).
///
/// # Safety
/// `y` must hold `(r + R - 1) * n + o + C` elements.
#[inline(always)]
unsafe fn store<const R: usize, const C: usize>(
    y: *mut f32,
    n: usize,
    r: usize,
    o: usize,
    s: &[[f32; C]; R],
) {
    for (i, row) in s.iter().enumerate() {
        // SAFETY: inside `y` (caller).
        unsafe { core::ptr::copy_nonoverlapping(row.as_ptr(), y.add((r + i) * n + o), C) };
    }
}

/// `R` input rows (`x_stride` apart) against 4 weight rows (`w_stride` apart) over
/// `blocks` blocks of 8, each row's 8-lane chain and pairwise sum; with `PF`, one 64-byte
/// line per block (the tile's 4 x 16 bytes) of the tile [`AHEAD_TILES`] on.
///
/// # Safety
/// AVX2, FMA and F16C must be present; `x` must hold rows `0..R` of `blocks * 8` at
/// `x_stride`, `w` rows `0..4` of `blocks * 8` at `w_stride`.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn x86_64avx2_dot_f16_rx4<const R: usize, const PF: bool>(
    x: *const f32,
    x_stride: usize,
    w: *const f16,
    w_stride: usize,
    blocks: usize,
) -> [[f32; MR]; R] {
    let mut acc = [[_mm256_setzero_ps(); MR]; R];
    // SAFETY: rows 0..4 lie in the caller's weights.
    let wp: [*const f16; MR] = core::array::from_fn(|m| unsafe { w.add(m * w_stride) });
    let ahead = w.cast::<u8>().wrapping_add(AHEAD_TILES * MR * w_stride * 2);
    for b in 0..blocks {
        if PF {
            // A prefetch never faults: the address may lie past the weights.
            _mm_prefetch::<_MM_HINT_T1>(ahead.wrapping_add(b * 64).cast());
        }
        // SAFETY: `b * 8 + 8 <= blocks * 8`, inside every row (caller).
        unsafe {
            let xv: [__m256; R] =
                core::array::from_fn(|r| _mm256_loadu_ps(x.add(r * x_stride + b * 8)));
            for m in 0..MR {
                let wv = _mm256_cvtph_ps(_mm_loadu_si128(wp[m].add(b * 8).cast()));
                for r in 0..R {
                    acc[r][m] = _mm256_fmadd_ps(xv[r], wv, acc[r][m]);
                }
            }
        }
    }
    acc.map(|row| row.map(|v| sum8(v)))
}

/// AVX-512F + VL: two f16 weight rows per 512-bit register (one `vcvtph2ps zmm`), 8 rows
/// at a time with the prefetch (one input row), tiles of 4 input rows x 8 weight rows
/// (several). VL lets the accumulators live in `zmm16..31` (the lane sums take their
/// 256-bit halves): without it the 4 x 8 tile spilled two of its 16 accumulators to the
/// stack and ran at the plain kernel's speed in some processes (4K aliasing of the spill
/// slots with the weights' stream).
#[derive(Debug, Clone, Copy)]
pub struct Avx512F16(());

impl F16Dot for Avx512F16 {
    const NAME: &'static str = "avx512-f16c";
    const BLOCK: usize = 8;
    const TILE_OUTER: bool = true;
    const BATCH: bool = true;

    fn detect() -> Option<Self> {
        #[cfg(feature = "std")]
        let found = std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
            && std::is_x86_feature_detected!("f16c");
        #[cfg(not(feature = "std"))]
        let found = cfg!(all(
            target_feature = "avx512f",
            target_feature = "avx512vl",
            target_feature = "avx2",
            target_feature = "fma",
            target_feature = "f16c"
        ));
        found.then_some(Avx512F16(()))
    }

    fn dot_rows(self, x: &[f32], w: &[f16], w_stride: usize, blocks: usize, out: &mut [f32]) {
        let rows = out.len() / MR * MR;
        if rows == 0 {
            return;
        }
        if !whole_rows(x, w, w_stride, blocks, rows) {
            return plain_dot_rows(x, w, w_stride, blocks, out);
        }
        let (xp, wp) = (x.as_ptr(), w.as_ptr());
        let mut o = 0;
        while o < rows {
            // SAFETY: AVX-512F and VL (and AVX2, FMA, F16C) were detected (`self`);
            // `whole_rows` proved every row `< rows` inside `w` and `x` long enough.
            unsafe {
                let w_at = wp.add(o * w_stride);
                if rows - o >= 8 {
                    let s = x86_64avx512_dot_f16_rxc::<1, 8, true>(xp, 0, w_at, w_stride, blocks);
                    if let Some(d) = out.get_mut(o..o + 8) {
                        d.copy_from_slice(&s[0]);
                    }
                    o += 8;
                } else {
                    let s = x86_64avx512_dot_f16_rxc::<1, 4, true>(xp, 0, w_at, w_stride, blocks);
                    if let Some(d) = out.get_mut(o..o + 4) {
                        d.copy_from_slice(&s[0]);
                    }
                    o += 4;
                }
            }
        }
    }

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
        let whole = n / MR * MR;
        if !batch_fits(x, rows, k, w, blocks, y, n, whole) {
            return batch_fallback(self, x, rows, k, w, blocks, y, n);
        }
        let (xp, wp, yp) = (x.as_ptr(), w.as_ptr(), y.as_mut_ptr());
        let mut o = 0;
        while o < whole {
            let wide = whole - o >= 8;
            let mut r = 0;
            while r < rows {
                let take = (rows - r).min(4);
                // SAFETY: AVX-512F and VL (and AVX2, FMA, F16C) were detected (`self`);
                // `batch_fits` proved input rows `r..r + take` of `x` and `y` and weight
                // rows `o..o + 8` (`wide`) or `o..o + 4` in range.
                unsafe {
                    let (w_at, x_at) = (wp.add(o * k), xp.add(r * k));
                    macro_rules! tile {
                        ($r:literal, $p:literal) => {{
                            let s =
                                x86_64avx512_dot_f16_rxc::<$r, $p, false>(x_at, k, w_at, k, blocks);
                            store(yp, n, r, o, &s);
                        }};
                    }
                    match (take, wide) {
                        (4, true) => tile!(4, 8),
                        (3, true) => tile!(3, 8),
                        (2, true) => tile!(2, 8),
                        (_, true) => tile!(1, 8),
                        (4, false) => tile!(4, 4),
                        (3, false) => tile!(3, 4),
                        (2, false) => tile!(2, 4),
                        (_, false) => tile!(1, 4),
                    }
                }
                r += take;
            }
            o += if wide { 8 } else { 4 };
        }
    }

    fn dot_blocks(self, x: &[f32], w: &[f16], blocks: usize) -> f32 {
        ScalarF16.dot_blocks(x, w, blocks)
    }
}

/// `R` input rows (`x_stride` apart) against `C` weight rows (`w_stride` apart, `C` even)
/// over `blocks` blocks of 8: weight rows `2p` and `2p + 1` share a 512-bit register (low
/// and high half), the input block is broadcast to both halves, so each half is one
/// row's 8-lane chain, summed as [`sum8`]. With `PF`, per block as many bytes as it reads
/// (`C x 16`) of the tile [`AHEAD_TILES`] on.
///
/// # Safety
/// AVX-512F, AVX-512VL, AVX2, FMA and F16C must be present; `x` must hold rows `0..R` of
/// `blocks * 8` at `x_stride`, `w` rows `0..C` of `blocks * 8` at `w_stride`.
#[target_feature(enable = "avx512f,avx512vl,avx2,fma,f16c")]
unsafe fn x86_64avx512_dot_f16_rxc<const R: usize, const C: usize, const PF: bool>(
    x: *const f32,
    x_stride: usize,
    w: *const f16,
    w_stride: usize,
    blocks: usize,
) -> [[f32; C]; R] {
    // Only the first `C / 2` of each row are used (no arithmetic on const parameters).
    let mut acc = [[_mm512_setzero_ps(); C]; R];
    let pairs = C / 2;
    // SAFETY: rows 0..C lie in the caller's weights.
    let wp: [*const f16; C] = core::array::from_fn(|m| unsafe { w.add(m * w_stride) });
    let ahead = w.cast::<u8>().wrapping_add(AHEAD_TILES * C * w_stride * 2);
    let lines = (C / 4).max(1);
    for b in 0..blocks {
        if PF {
            for l in 0..lines {
                // A prefetch never faults: the address may lie past the weights.
                _mm_prefetch::<_MM_HINT_T1>(ahead.wrapping_add(b * C * 16 + l * 64).cast());
            }
        }
        // SAFETY: `b * 8 + 8 <= blocks * 8`, inside every row (caller).
        unsafe {
            let xv: [__m512; R] = core::array::from_fn(|r| {
                let v = _mm256_loadu_pd(x.add(r * x_stride + b * 8).cast());
                _mm512_castpd_ps(_mm512_broadcast_f64x4(v))
            });
            for p in 0..pairs {
                let lo = _mm_loadu_si128(wp[2 * p].add(b * 8).cast());
                let hi = _mm_loadu_si128(wp[2 * p + 1].add(b * 8).cast());
                let wv =
                    _mm512_cvtph_ps(_mm256_inserti128_si256::<1>(_mm256_castsi128_si256(lo), hi));
                for r in 0..R {
                    acc[r][p] = _mm512_fmadd_ps(xv[r], wv, acc[r][p]);
                }
            }
        }
    }
    let mut out = [[0.0; C]; R];
    for (sums, acc) in out.iter_mut().zip(&acc) {
        for p in 0..pairs {
            let v = acc[p];
            let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v)));
            sums[2 * p] = sum8(_mm512_castps512_ps256(v));
            sums[2 * p + 1] = sum8(hi);
        }
    }
    out
}
