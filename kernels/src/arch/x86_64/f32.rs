//! x86_64 kernels: AVX2 + FMA (8 lanes) and AVX-512F (16 lanes).
//!
//! Names follow `<arch><isa>_<op>_<dtype>_<tile>`. Loads are unaligned (`loadu`): the
//! frame passes slices of the weights in place, which are 16-byte but not 32/64-byte
//! aligned. Each function is `#[target_feature]`; the safe wrappers on the kernel types
//! call them only through a value that [`F32Simd::detect`] created.

use crate::frame::f32::{stream_ahead, F32Simd, HeadBlock, MR};
use crate::generic::f32 as scalar;
use core::arch::x86_64::*;

/// AVX2 with FMA3: 8 f32 lanes, 16 vector registers.
#[derive(Debug, Clone, Copy)]
pub struct Avx2Fma(());

/// AVX-512F: 16 f32 lanes, 32 vector registers.
#[derive(Debug, Clone, Copy)]
pub struct Avx512(());

impl F32Simd for Avx2Fma {
    const NAME: &'static str = "avx2";
    const LANES: usize = 8;
    const ALIGN: usize = 32;

    fn detect() -> Option<Self> {
        #[cfg(feature = "std")]
        let found = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
        #[cfg(not(feature = "std"))]
        let found = cfg!(all(target_feature = "avx2", target_feature = "fma"));
        found.then_some(Avx2Fma(()))
    }

    fn dot_tile<const ROWS: usize>(
        self,
        x: [&[f32]; ROWS],
        w: [&[f32]; MR],
        blocks: usize,
    ) -> [[f32; MR]; ROWS] {
        let blocks = whole_blocks(&x, &w, blocks, Self::LANES);
        // SAFETY: `self` exists only if `detect` found AVX2 and FMA on this CPU, and
        // `whole_blocks` bounds `blocks * 8` by the length of every slice.
        unsafe { x86_64avx2_dot_f32_4xr(x, w, blocks) }
    }

    const PREFETCH: bool = true;

    fn prefetch(self, span: &[f32]) {
        prefetch_lines(span);
    }

    #[inline(always)]
    fn dot_tile_ahead<const ROWS: usize>(
        self,
        x: [&[f32]; ROWS],
        w: [&[f32]; MR],
        blocks: usize,
        ahead: &[f32],
    ) -> [[f32; MR]; ROWS] {
        let blocks = whole_blocks(&x, &w, blocks, Self::LANES);
        let lines = (blocks / 2).min(ahead.len() / 16);
        // SAFETY: AVX2 + FMA are present (see `detect`); `whole_blocks` bounds `blocks * 8`
        // by the length of every slice, and `lines * 16` is inside `ahead`.
        unsafe { x86_64avx2_dot_f32_4xr_ahead(x, w, blocks, ahead, lines) }
    }

    /// One input row against every whole tile (a decoding step), streaming: each tile
    /// fetches the same lines of the tile `STREAM_AHEAD_BYTES` on ([`stream_ahead`]; the hardware's
    /// streamer, trained per 4 KiB page, lags on rows of a few KiB). The sums are
    /// `x86_64avx2_dot_f32_4xr`'s with one input row.
    fn dot_rows(self, x: &[f32], w: &[f32], w_stride: usize, blocks: usize, out: &mut [f32]) {
        let ahead = stream_ahead(w_stride, 4);
        let len = blocks * 8;
        for (t, sums) in out.chunks_exact_mut(MR).enumerate() {
            let w_tile: [&[f32]; MR] = core::array::from_fn(|m| {
                let start = (t * MR + m) * w_stride;
                w.get(start..start + len).unwrap_or(&[])
            });
            let b = whole_blocks(&[x], &w_tile, blocks, 8);
            // SAFETY: AVX2 + FMA are present (see `detect`); `whole_blocks` bounds `b * 8`
            // by the length of every slice; the prefetches are hints, never dereferenced.
            let tile = unsafe { x86_64avx2_dot_f32_4x1_stream(x, w_tile, b, ahead) };
            for (dst, sum) in sums.iter_mut().zip(tile) {
                *dst = sum;
            }
        }
    }

    /// Blocks of 8 rows, one per lane (`x86_64avx2_layer_norm_8`); the rows left over
    /// one at a time.
    fn layer_norm_rows(
        self,
        x: &mut [f32],
        d: usize,
        gamma: &[f32],
        beta: Option<&[f32]>,
        eps: f32,
    ) {
        let mut rest: &mut [f32] = x;
        if lanes_fit(d, 8, gamma, beta) {
            while rest.len() >= 8 * d {
                let (block, tail) = rest.split_at_mut(8 * d);
                // SAFETY: AVX2 + FMA are present (see `detect`); `block` holds 8 rows of
                // `d`, `gamma` (and `beta`) at least `d` values, and `7 d` fits an i32
                // (`lanes_fit`).
                unsafe { x86_64avx2_layer_norm_8(block, d, gamma, beta, eps) };
                rest = tail;
            }
        }
        for row in rest.chunks_exact_mut(d.max(1)) {
            scalar::layer_norm(row, gamma, beta, eps);
        }
    }

    fn dot_blocks(self, a: &[f32], b: &[f32], blocks: usize) -> f32 {
        let blocks = blocks.min(a.len() / 8).min(b.len() / 8);
        // SAFETY: AVX2 + FMA are present (see `detect`); `blocks * 8 <= len` of both.
        unsafe { x86_64avx2_dot_f32_1x1(a, b, blocks) }
    }

    fn axpy_blocks(self, alpha: f32, x: &[f32], y: &mut [f32], blocks: usize) {
        let blocks = blocks.min(x.len() / 8).min(y.len() / 8);
        // SAFETY: AVX2 + FMA are present (see `detect`); `blocks * 8 <= len` of both.
        unsafe { x86_64avx2_axpy_f32(alpha, x, y, blocks) }
    }

    fn axpy_tile(self, alpha: [f32; MR], x: [&[f32]; MR], y: &mut [f32], blocks: usize) {
        let blocks = x
            .iter()
            .fold(blocks.min(y.len() / 8), |b, row| b.min(row.len() / 8));
        // SAFETY: AVX2 + FMA are present (see `detect`); `blocks * 8 <= len` of every slice.
        unsafe { x86_64avx2_axpy_f32_4(alpha, x, y, blocks) }
    }

    fn gelu(self, x: &mut [f32]) {
        let blocks = x.len() / 8;
        // SAFETY: AVX2 + FMA are present (see `detect`); `blocks * 8 <= x.len()`.
        unsafe { x86_64avx2_gelu(x, blocks) };
        scalar::gelu(x.get_mut(blocks * 8..).unwrap_or(&mut []));
    }

    const ATTENTION_BLOCK: usize = BLOCK8;

    fn attention_block(self, queries: &mut [f32], head: &HeadBlock, scratch: &mut [f32]) -> bool {
        avx2_attention_block(self, queries, head, scratch)
    }
}

impl F32Simd for Avx512 {
    const NAME: &'static str = "avx512";
    const LANES: usize = 16;
    const ALIGN: usize = 64;
    const TILE_ROWS: usize = crate::frame::f32::WIDE_NR;

    fn detect() -> Option<Self> {
        #[cfg(feature = "std")]
        let found = std::is_x86_feature_detected!("avx512f");
        #[cfg(not(feature = "std"))]
        let found = cfg!(target_feature = "avx512f");
        found.then_some(Avx512(()))
    }

    fn dot_tile<const ROWS: usize>(
        self,
        x: [&[f32]; ROWS],
        w: [&[f32]; MR],
        blocks: usize,
    ) -> [[f32; MR]; ROWS] {
        let blocks = whole_blocks(&x, &w, blocks, Self::LANES);
        // SAFETY: `self` exists only if `detect` found AVX-512F on this CPU, and
        // `whole_blocks` bounds `blocks * 16` by the length of every slice.
        unsafe { x86_64avx512_dot_f32_4xr(x, w, blocks) }
    }

    const PREFETCH: bool = true;

    fn prefetch(self, span: &[f32]) {
        prefetch_lines(span);
    }

    #[inline(always)]
    fn dot_tile_ahead<const ROWS: usize>(
        self,
        x: [&[f32]; ROWS],
        w: [&[f32]; MR],
        blocks: usize,
        ahead: &[f32],
    ) -> [[f32; MR]; ROWS] {
        let blocks = whole_blocks(&x, &w, blocks, Self::LANES);
        let lines = blocks.min(ahead.len() / 16);
        // SAFETY: AVX-512F is present (see `detect`); `whole_blocks` bounds `blocks * 16`
        // by the length of every slice, and `lines * 16` is inside `ahead`.
        unsafe { x86_64avx512_dot_f32_4xr_ahead(x, w, blocks, ahead, lines) }
    }

    /// One input row against every whole tile, streaming (see the AVX2 kernel's): the
    /// sums are `x86_64avx512_dot_f32_4xr`'s with one input row.
    fn dot_rows(self, x: &[f32], w: &[f32], w_stride: usize, blocks: usize, out: &mut [f32]) {
        let ahead = stream_ahead(w_stride, 4);
        let len = blocks * 16;
        for (t, sums) in out.chunks_exact_mut(MR).enumerate() {
            let w_tile: [&[f32]; MR] = core::array::from_fn(|m| {
                let start = (t * MR + m) * w_stride;
                w.get(start..start + len).unwrap_or(&[])
            });
            let b = whole_blocks(&[x], &w_tile, blocks, 16);
            // SAFETY: AVX-512F is present (see `detect`); `whole_blocks` bounds `b * 16` by
            // the length of every slice; the prefetches are hints, never dereferenced.
            let tile = unsafe { x86_64avx512_dot_f32_4x1_stream(x, w_tile, b, ahead) };
            for (dst, sum) in sums.iter_mut().zip(tile) {
                *dst = sum;
            }
        }
    }

    /// Blocks of 16 rows, one per lane (`x86_64avx512_layer_norm_16`); the rows left
    /// over one at a time.
    fn layer_norm_rows(
        self,
        x: &mut [f32],
        d: usize,
        gamma: &[f32],
        beta: Option<&[f32]>,
        eps: f32,
    ) {
        let mut rest: &mut [f32] = x;
        if lanes_fit(d, 16, gamma, beta) {
            while rest.len() >= 16 * d {
                let (block, tail) = rest.split_at_mut(16 * d);
                // SAFETY: AVX-512F is present (see `detect`); `block` holds 16 rows of `d`,
                // `gamma` (and `beta`) at least `d` values, and `15 d` fits an i32
                // (`lanes_fit`).
                unsafe { x86_64avx512_layer_norm_16(block, d, gamma, beta, eps) };
                rest = tail;
            }
        }
        for row in rest.chunks_exact_mut(d.max(1)) {
            scalar::layer_norm(row, gamma, beta, eps);
        }
    }

    fn dot_blocks(self, a: &[f32], b: &[f32], blocks: usize) -> f32 {
        let blocks = blocks.min(a.len() / 16).min(b.len() / 16);
        // SAFETY: AVX-512F is present (see `detect`); `blocks * 16 <= len` of both.
        unsafe { x86_64avx512_dot_f32_1x1(a, b, blocks) }
    }

    fn axpy_blocks(self, alpha: f32, x: &[f32], y: &mut [f32], blocks: usize) {
        let blocks = blocks.min(x.len() / 16).min(y.len() / 16);
        // SAFETY: AVX-512F is present (see `detect`); `blocks * 16 <= len` of both.
        unsafe { x86_64avx512_axpy_f32(alpha, x, y, blocks) }
    }

    fn axpy_tile(self, alpha: [f32; MR], x: [&[f32]; MR], y: &mut [f32], blocks: usize) {
        let blocks = x
            .iter()
            .fold(blocks.min(y.len() / 16), |b, row| b.min(row.len() / 16));
        // SAFETY: AVX-512F is present (see `detect`); `blocks * 16 <= len` of every slice.
        unsafe { x86_64avx512_axpy_f32_4(alpha, x, y, blocks) }
    }

    fn gelu(self, x: &mut [f32]) {
        let blocks = x.len() / 16;
        // SAFETY: AVX-512F is present (see `detect`); `blocks * 16 <= x.len()`.
        unsafe { x86_64avx512_gelu(x, blocks) };
        scalar::gelu(x.get_mut(blocks * 16..).unwrap_or(&mut []));
    }

    const CONV_TILES: bool = true;

    const ATTENTION_BLOCK: usize = 16;

    fn attention_block(self, queries: &mut [f32], head: &HeadBlock, scratch: &mut [f32]) -> bool {
        avx512_attention_block(self, queries, head, scratch)
    }
}

/// Query rows per block of the AVX-512 attention: one per lane.
const BLOCK16: usize = 16;

/// [`F32Simd::attention_block`] on AVX-512: up to 16 query rows of one head, one per
/// vector lane. Head widths of 16, 32, 64 or 128 columns and at least one key; otherwise
/// false. Bit for bit the row-by-row attention on this kernel:
///
/// - scores: for the whole tiles of `MR` keys, each lane's sum as
///   [`x86_64avx512_dot_f32_4xr`] forms it (16 lane partials, each a chain of fused
///   multiply-adds over the 16-column blocks, then [`sum512_x4`]'s tree); the last
///   `m % MR` keys by the frame's `dot` (as `dot_strided` takes them); each times `scale`;
/// - the softmax of each lane: the reference's maximum, `exp_fast` of `a - max`, the
///   compensated sum in key order and one division per key, in vector lanes;
/// - the weighted sum: per output column a chain of fused multiply-adds over the keys in
///   order from 0 (as [`x86_64avx512_axpy_f32_4`] adds them).
fn avx512_attention_block(
    kernel: Avx512,
    queries: &mut [f32],
    head: &HeadBlock,
    scratch: &mut [f32],
) -> bool {
    let Some((rows, qt, st)) = block_prologue(kernel, BLOCK16, queries, head, scratch) else {
        return false;
    };
    let HeadBlock {
        keys,
        values,
        d,
        at,
        dk,
        m,
        scale,
    } = *head;
    let m4 = m / MR * MR;
    // SAFETY: AVX-512F is present (`kernel` exists); `block_prologue` checked the shapes:
    // dk is 16, 32, 64 or 128; `qt` holds 16 dk values, `st` 16 m; key and value j < m
    // lie at [j * d..j * d + dk] inside `keys` and `values`; row r < rows <= 16 writes
    // queries[r * d + at..][..dk], inside `queries` (at + dk <= d, rows * d <= its length).
    unsafe {
        match dk / 16 {
            1 => x86_64avx512_scores_lanes::<1>(qt, keys, d, m4, scale, st),
            2 => x86_64avx512_scores_lanes::<2>(qt, keys, d, m4, scale, st),
            4 => x86_64avx512_scores_lanes::<4>(qt, keys, d, m4, scale, st),
            _ => x86_64avx512_scores_lanes::<8>(qt, keys, d, m4, scale, st),
        }
        x86_64avx512_softmax_lanes(st, m);
        match dk / 16 {
            1 => x86_64avx512_weighted_sum_lanes::<1, 16>(st, values, d, m, queries, rows, at),
            2 => x86_64avx512_weighted_sum_lanes::<2, 8>(st, values, d, m, queries, rows, at),
            4 => x86_64avx512_weighted_sum_lanes::<4, 4>(st, values, d, m, queries, rows, at),
            _ => x86_64avx512_weighted_sum_lanes::<8, 2>(st, values, d, m, queries, rows, at),
        }
    }
    true
}

/// The checks and the scalar steps of a blocked attention of `lanes` query rows (one per
/// vector lane): `(rows, qt, st)` where the shapes are ones the kernels take (a head of
/// 16, 32, 64 or 128 columns inside the rows, at least one key, every key and value row
/// inside `keys` and `values`, 1 to `lanes` query rows, room in `scratch`), else `None`
/// (nothing written). `qt` (`lanes * dk`) holds the block's head columns transposed,
/// `qt[i * lanes + r]` = column `i` of row `r` (0 past the rows); `st` (`lanes * m`) the
/// scaled scores of the last `m % MR` keys, each row's by the frame's `dot` (as
/// `dot_strided` takes them), lane `r` of key `j` at `st[j * lanes + r]`.
fn block_prologue<'s, K: F32Simd>(
    kernel: K,
    lanes: usize,
    queries: &[f32],
    head: &HeadBlock,
    scratch: &'s mut [f32],
) -> Option<(usize, &'s mut [f32], &'s mut [f32])> {
    let HeadBlock {
        keys,
        values,
        d,
        at,
        dk,
        m,
        scale,
    } = *head;
    let rows = queries.len().checked_div(d).unwrap_or(0);
    let fits = |len: usize| {
        (m - 1)
            .checked_mul(d)
            .and_then(|n| n.checked_add(dk))
            .is_some_and(|need| len >= need)
    };
    if !matches!(dk, 16 | 32 | 64 | 128)
        || m == 0
        || at.checked_add(dk).is_none_or(|end| end > d)
        || rows == 0
        || rows > lanes
        || !fits(keys.len())
        || !fits(values.len())
    {
        return None;
    }
    let (qt, rest) = scratch.split_at_mut_checked(lanes * dk)?;
    let st = rest.get_mut(..lanes.checked_mul(m)?)?;
    for (i, column) in qt.chunks_exact_mut(lanes).enumerate() {
        for (r, lane) in column.iter_mut().enumerate() {
            *lane = queries
                .get(r * d + at + i)
                .copied()
                .filter(|_| r < rows)
                .unwrap_or(0.0);
        }
    }
    for j in m / MR * MR..m {
        let key = keys.get(j * d..j * d + dk).unwrap_or(&[]);
        for r in 0..lanes {
            let s = match queries.get(r * d + at..r * d + at + dk) {
                Some(q) if r < rows => crate::frame::f32::dot(kernel, q, key) * scale,
                _ => 0.0,
            };
            if let Some(dst) = st.get_mut(j * lanes + r) {
                *dst = s;
            }
        }
    }
    Some((rows, qt, st))
}

/// `st[j * 16 + r] = scale * (row r of the block . key j)` for `j < m4` (a multiple of 4):
/// the sums of [`x86_64avx512_dot_f32_4xr`] and [`sum512_x4`], lanes across rows. Four
/// keys per step share the loads of `qt`.
///
/// # Safety
/// AVX-512F; `qt` holds `16 * 16 * NB` values, `st` `16 * m4`, and `keys` holds
/// `(m4 - 1) * d + 16 * NB` values.
#[target_feature(enable = "avx512f")]
unsafe fn x86_64avx512_scores_lanes<const NB: usize>(
    qt: &[f32],
    keys: &[f32],
    d: usize,
    m4: usize,
    scale: f32,
    st: &mut [f32],
) {
    const J: usize = 4;
    let scale = _mm512_set1_ps(scale);
    let mut j = 0;
    while j < m4 {
        // (opaque per step: otherwise the compiler hoists all 16 NB loads of `qt` out of
        // the loop and spills them to the stack)
        let q = core::hint::black_box(qt.as_ptr());
        // SAFETY: j + 3 < m4 (m4 is a multiple of 4), so each key row lies inside `keys`.
        let k: [*const f32; J] =
            core::array::from_fn(|jj| unsafe { keys.as_ptr().add((j + jj) * d) });
        // SAFETY: `qt` and the key rows hold 16 NB values (the contract).
        let (t0, t1, t2, t3) = unsafe {
            (
                avx512_lane_quarter::<NB, J>(q, k, 0),
                avx512_lane_quarter::<NB, J>(q, k, 1),
                avx512_lane_quarter::<NB, J>(q, k, 2),
                avx512_lane_quarter::<NB, J>(q, k, 3),
            )
        };
        for jj in 0..J {
            let s = _mm512_add_ps(_mm512_add_ps(t0[jj], t1[jj]), _mm512_add_ps(t2[jj], t3[jj]));
            // SAFETY: j + jj < m4: inside `st`.
            unsafe {
                _mm512_storeu_ps(
                    st.as_mut_ptr().add((j + jj) * BLOCK16),
                    _mm512_mul_ps(s, scale),
                )
            };
        }
        j += J;
    }
}

/// Lane quarter `g` of [`sum512_x4`]'s tree for `J` keys, rows across the lanes:
/// `(v[g] + v[g + 8]) + (v[g + 4] + v[g + 12])`, each `v[l]` the chain of fused
/// multiply-adds over the `NB` blocks at column `b * 16 + l`, from 0 (lane `l` of
/// [`x86_64avx512_dot_f32_4xr`]'s accumulator).
///
/// # Safety
/// AVX-512F; `qt` points at `16 * 16 * NB` values, each `k[jj]` at `16 * NB`; `g < 4`.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn avx512_lane_quarter<const NB: usize, const J: usize>(
    qt: *const f32,
    k: [*const f32; J],
    g: usize,
) -> [__m512; J] {
    let mut p = [[_mm512_setzero_ps(); 4]; J];
    for u in 0..4 {
        let l = g + 4 * u;
        for b in 0..NB {
            let i = b * 16 + l;
            // SAFETY: i < 16 NB (the caller's contract).
            let qv = unsafe { _mm512_loadu_ps(qt.add(i * BLOCK16)) };
            for (p, k) in p.iter_mut().zip(k) {
                // SAFETY: as above.
                p[u] = _mm512_fmadd_ps(qv, _mm512_set1_ps(unsafe { *k.add(i) }), p[u]);
            }
        }
    }
    core::array::from_fn(|jj| {
        _mm512_add_ps(
            _mm512_add_ps(p[jj][0], p[jj][2]),
            _mm512_add_ps(p[jj][1], p[jj][3]),
        )
    })
}

/// `exp_fast_nonpositive` ([`scalar::exp_fast_nonpositive`]) of 16 lanes, bit for bit:
/// the same operations (no fused multiply-add), 0 below `EXP_ZERO_BELOW`.
#[inline]
#[target_feature(enable = "avx512f")]
fn exp_nonpositive_512(x: __m512) -> __m512 {
    let set = _mm512_set1_ps;
    let below = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(x, set(scalar::EXP_ZERO_BELOW));
    let round = set(scalar::EXP_ROUND);
    let n = _mm512_sub_ps(
        _mm512_add_ps(_mm512_mul_ps(x, set(scalar::EXP_LOG2_E)), round),
        round,
    );
    let r = _mm512_sub_ps(
        _mm512_sub_ps(x, _mm512_mul_ps(n, set(scalar::EXP_LN2_HIGH))),
        _mm512_mul_ps(n, set(scalar::EXP_LN2_LOW)),
    );
    let [p0, p1, p2, p3, p4, p5] = scalar::EXP_P;
    let mut p = set(p0);
    for c in [p1, p2, p3, p4, p5] {
        p = _mm512_add_ps(_mm512_mul_ps(p, r), set(c));
    }
    let e = _mm512_add_ps(
        _mm512_add_ps(_mm512_mul_ps(p, _mm512_mul_ps(r, r)), r),
        set(1.0),
    );
    // n is a whole number in [-126, 0] where the result is used (NaN: any; e is NaN)
    let biased = _mm512_and_si512(
        _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)),
        _mm512_set1_epi32(0xff),
    );
    let two_n = _mm512_castsi512_ps(_mm512_slli_epi32::<23>(biased));
    _mm512_mask_mov_ps(_mm512_mul_ps(e, two_n), below, _mm512_setzero_ps())
}

/// The reference softmax ([`scalar::softmax`]'s operations with `exp_minus_max`) of each
/// lane of `st[j * 16 + lane]`, `j < m`, in place: the maximum (`v > max`, NaNs ignored;
/// a lane whose maximum is `-inf` becomes zeros), `exp_fast(a - max)`, their compensated
/// (Neumaier) sum in key order, and `e / sum`.
///
/// # Safety
/// AVX-512F; `st` holds `16 * m` values.
#[target_feature(enable = "avx512f")]
unsafe fn x86_64avx512_softmax_lanes(st: &mut [f32], m: usize) {
    let p = st.as_mut_ptr();
    let mut largest = _mm512_set1_ps(f32::NEG_INFINITY);
    for j in 0..m {
        // SAFETY: j < m: inside `st` (also below).
        let a = unsafe { _mm512_loadu_ps(p.add(j * BLOCK16)) };
        largest = _mm512_mask_mov_ps(largest, _mm512_cmp_ps_mask::<_CMP_GT_OQ>(a, largest), a);
    }
    let dead = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(largest, _mm512_set1_ps(f32::NEG_INFINITY));
    let (mut sum, mut compensation) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    for j in 0..m {
        // SAFETY: as above.
        let e = exp_nonpositive_512(_mm512_sub_ps(
            unsafe { _mm512_loadu_ps(p.add(j * BLOCK16)) },
            largest,
        ));
        // SAFETY: as above.
        unsafe { _mm512_storeu_ps(p.add(j * BLOCK16), e) };
        let t = _mm512_add_ps(sum, e);
        let sum_larger = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(_mm512_abs_ps(sum), _mm512_abs_ps(e));
        let lost = _mm512_mask_mov_ps(
            _mm512_add_ps(_mm512_sub_ps(e, t), sum),
            sum_larger,
            _mm512_add_ps(_mm512_sub_ps(sum, t), e),
        );
        compensation = _mm512_add_ps(compensation, lost);
        sum = t;
    }
    let total = _mm512_add_ps(sum, compensation);
    for j in 0..m {
        // SAFETY: as above.
        unsafe {
            let at = p.add(j * BLOCK16);
            let q = _mm512_div_ps(_mm512_loadu_ps(at), total);
            _mm512_storeu_ps(at, _mm512_mask_mov_ps(q, dead, _mm512_setzero_ps()));
        }
    }
}

/// Row `r < rows` of the block, columns `at..at + 16 NB` of `out` (rows `d` apart) =
/// `sum_j st[j * 16 + r] * values[j * d..][..16 NB]`, each column a chain of fused
/// multiply-adds over `j = 0..m` in order from 0; `QT` rows at a time (`QT * NB = 16`
/// accumulators).
///
/// # Safety
/// AVX-512F; `st` holds `16 m` values, `values` `(m - 1) d + 16 NB`, `out`
/// `(rows - 1) d + at + 16 NB`; `rows <= 16`.
#[allow(clippy::too_many_arguments)] // a strided product and where it goes
#[target_feature(enable = "avx512f")]
unsafe fn x86_64avx512_weighted_sum_lanes<const NB: usize, const QT: usize>(
    st: &[f32],
    values: &[f32],
    d: usize,
    m: usize,
    out: &mut [f32],
    rows: usize,
    at: usize,
) {
    let mut r0 = 0;
    while r0 < rows {
        let mut acc = [[_mm512_setzero_ps(); NB]; QT];
        for j in 0..m {
            let v = values.as_ptr();
            // SAFETY: j < m: value row j's 16 NB columns are inside `values`.
            let vv: [__m512; NB] =
                core::array::from_fn(|b| unsafe { _mm512_loadu_ps(v.add(j * d + b * 16)) });
            for (r, acc) in acc.iter_mut().enumerate() {
                // SAFETY: j < m and r0 + r < 16 (QT divides 16): inside `st`.
                let w = _mm512_set1_ps(unsafe { *st.as_ptr().add(j * BLOCK16 + r0 + r) });
                for b in 0..NB {
                    acc[b] = _mm512_fmadd_ps(w, vv[b], acc[b]);
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            if r0 + r < rows {
                for (b, &sum) in acc.iter().enumerate() {
                    // SAFETY: row r0 + r < rows, columns at + 16 b..+16 inside `out`.
                    unsafe {
                        _mm512_storeu_ps(out.as_mut_ptr().add((r0 + r) * d + at + b * 16), sum)
                    };
                }
            }
        }
        r0 += QT;
    }
}

/// Query rows per block of the AVX2 attention: one per lane.
const BLOCK8: usize = 8;

/// [`F32Simd::attention_block`] on AVX2 + FMA: up to 8 query rows of one head, one per
/// lane; as [`avx512_attention_block`], with [`x86_64avx2_dot_f32_4xr`]'s sums (8 lane
/// partials, [`sum256_x4`]'s tree) and [`x86_64avx2_axpy_f32_4`]'s weighted sums.
fn avx2_attention_block(
    kernel: Avx2Fma,
    queries: &mut [f32],
    head: &HeadBlock,
    scratch: &mut [f32],
) -> bool {
    let Some((rows, qt, st)) = block_prologue(kernel, BLOCK8, queries, head, scratch) else {
        return false;
    };
    let HeadBlock {
        keys,
        values,
        d,
        at,
        dk,
        m,
        scale,
    } = *head;
    let m4 = m / MR * MR;
    // SAFETY: AVX2 and FMA are present (`kernel` exists); `block_prologue` checked the
    // shapes: dk is 16, 32, 64 or 128; `qt` holds 8 dk values, `st` 8 m; key and value
    // j < m lie at [j * d..j * d + dk] inside `keys` and `values`; row r < rows <= 8
    // writes queries[r * d + at..][..dk], inside `queries` (at + dk <= d, rows * d <= its
    // length).
    unsafe {
        match dk / 8 {
            2 => x86_64avx2_scores_lanes::<2>(qt, keys, d, m4, scale, st),
            4 => x86_64avx2_scores_lanes::<4>(qt, keys, d, m4, scale, st),
            8 => x86_64avx2_scores_lanes::<8>(qt, keys, d, m4, scale, st),
            _ => x86_64avx2_scores_lanes::<16>(qt, keys, d, m4, scale, st),
        }
        x86_64avx2_softmax_lanes(st, m);
        if dk == 16 {
            x86_64avx2_weighted_sum_lanes::<2, 4>(st, values, d, m, queries, rows, at, dk);
        } else {
            x86_64avx2_weighted_sum_lanes::<4, 2>(st, values, d, m, queries, rows, at, dk);
        }
    }
    true
}

/// Lane partial `l` of `J` keys' dot products with the block's rows: for each key, the
/// chain of fused multiply-adds over the `NB` blocks of 8 at column `b * 8 + l`, from 0
/// (lane `l` of [`x86_64avx2_dot_f32_4xr`]'s accumulator), rows across the lanes.
///
/// # Safety
/// AVX2 + FMA; `qt` points at `8 * 8 * NB` values, each `k[jj]` at `8 * NB`; `l < 8`.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2_lane_partials<const NB: usize, const J: usize>(
    qt: *const f32,
    k: [*const f32; J],
    l: usize,
) -> [__m256; J] {
    let mut p = [_mm256_setzero_ps(); J];
    for b in 0..NB {
        let i = b * 8 + l;
        // SAFETY: i < 8 NB (the caller's contract).
        let qv = unsafe { _mm256_loadu_ps(qt.add(i * BLOCK8)) };
        for (acc, k) in p.iter_mut().zip(k) {
            // SAFETY: as above.
            *acc = _mm256_fmadd_ps(qv, _mm256_set1_ps(unsafe { *k.add(i) }), *acc);
        }
    }
    p
}

/// Lanes `l..l + 4` of [`sum256_x4`]'s tree for `J` keys: `(v[l] + v[l + 1]) + (v[l + 2]
/// + v[l + 3])` ([`avx2_lane_partials`]).
///
/// # Safety
/// As [`avx2_lane_partials`], with `l + 3 < 8`.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2_lane_quad<const NB: usize, const J: usize>(
    qt: *const f32,
    k: [*const f32; J],
    l: usize,
) -> [__m256; J] {
    // SAFETY: l + 3 < 8 (the caller's contract).
    let (v0, v1, v2, v3) = unsafe {
        (
            avx2_lane_partials::<NB, J>(qt, k, l),
            avx2_lane_partials::<NB, J>(qt, k, l + 1),
            avx2_lane_partials::<NB, J>(qt, k, l + 2),
            avx2_lane_partials::<NB, J>(qt, k, l + 3),
        )
    };
    let mut out = [_mm256_setzero_ps(); J];
    for (jj, out) in out.iter_mut().enumerate() {
        *out = _mm256_add_ps(_mm256_add_ps(v0[jj], v1[jj]), _mm256_add_ps(v2[jj], v3[jj]));
    }
    out
}

/// `st[j * 8 + r] = scale * (row r of the block . key j)` for `j < m4` (a multiple of 4):
/// the sums of [`x86_64avx2_dot_f32_4xr`] and [`sum256_x4`] (lanes `((v0 + v1) + (v2 +
/// v3)) + ((v4 + v5) + (v6 + v7))`), rows across the lanes; two keys per step.
///
/// # Safety
/// AVX2 + FMA; `qt` holds `8 * 8 * NB` values, `st` `8 * m4`, and `keys` holds
/// `(m4 - 1) * d + 8 * NB` values.
#[target_feature(enable = "avx2,fma")]
unsafe fn x86_64avx2_scores_lanes<const NB: usize>(
    qt: &[f32],
    keys: &[f32],
    d: usize,
    m4: usize,
    scale: f32,
    st: &mut [f32],
) {
    const J: usize = 2;
    let scale = _mm256_set1_ps(scale);
    let mut j = 0;
    while j < m4 {
        // (opaque per step, as in the AVX-512 twin: no hoisted, spilled loads of `qt`)
        let q = core::hint::black_box(qt.as_ptr());
        // SAFETY: j + 1 < m4 (m4 is even), so each key row lies inside `keys`.
        let k: [*const f32; J] =
            core::array::from_fn(|jj| unsafe { keys.as_ptr().add((j + jj) * d) });
        // SAFETY: `qt` and the key rows hold 8 NB values (the contract).
        let (low, high) = unsafe {
            (
                avx2_lane_quad::<NB, J>(q, k, 0),
                avx2_lane_quad::<NB, J>(q, k, 4),
            )
        };
        for jj in 0..J {
            let s = _mm256_add_ps(low[jj], high[jj]);
            // SAFETY: j + jj < m4: inside `st`.
            unsafe {
                _mm256_storeu_ps(
                    st.as_mut_ptr().add((j + jj) * BLOCK8),
                    _mm256_mul_ps(s, scale),
                )
            };
        }
        j += J;
    }
}

/// [`exp_nonpositive_512`] in 8 lanes.
#[inline]
#[target_feature(enable = "avx2")]
fn exp_nonpositive_256(x: __m256) -> __m256 {
    let set = _mm256_set1_ps;
    let below = _mm256_cmp_ps::<_CMP_LT_OQ>(x, set(scalar::EXP_ZERO_BELOW));
    let round = set(scalar::EXP_ROUND);
    let n = _mm256_sub_ps(
        _mm256_add_ps(_mm256_mul_ps(x, set(scalar::EXP_LOG2_E)), round),
        round,
    );
    let r = _mm256_sub_ps(
        _mm256_sub_ps(x, _mm256_mul_ps(n, set(scalar::EXP_LN2_HIGH))),
        _mm256_mul_ps(n, set(scalar::EXP_LN2_LOW)),
    );
    let [p0, p1, p2, p3, p4, p5] = scalar::EXP_P;
    let mut p = set(p0);
    for c in [p1, p2, p3, p4, p5] {
        p = _mm256_add_ps(_mm256_mul_ps(p, r), set(c));
    }
    let e = _mm256_add_ps(
        _mm256_add_ps(_mm256_mul_ps(p, _mm256_mul_ps(r, r)), r),
        set(1.0),
    );
    let biased = _mm256_and_si256(
        _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)),
        _mm256_set1_epi32(0xff),
    );
    let two_n = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(biased));
    _mm256_andnot_ps(below, _mm256_mul_ps(e, two_n))
}

/// [`x86_64avx512_softmax_lanes`] in 8 lanes (`st[j * 8 + lane]`).
///
/// # Safety
/// AVX2; `st` holds `8 * m` values.
#[target_feature(enable = "avx2")]
unsafe fn x86_64avx2_softmax_lanes(st: &mut [f32], m: usize) {
    let p = st.as_mut_ptr();
    let mut largest = _mm256_set1_ps(f32::NEG_INFINITY);
    for j in 0..m {
        // SAFETY: j < m: inside `st` (also below).
        let a = unsafe { _mm256_loadu_ps(p.add(j * BLOCK8)) };
        largest = _mm256_blendv_ps(largest, a, _mm256_cmp_ps::<_CMP_GT_OQ>(a, largest));
    }
    let dead = _mm256_cmp_ps::<_CMP_EQ_OQ>(largest, _mm256_set1_ps(f32::NEG_INFINITY));
    let magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
    let (mut sum, mut compensation) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    for j in 0..m {
        // SAFETY: as above.
        let e = exp_nonpositive_256(_mm256_sub_ps(
            unsafe { _mm256_loadu_ps(p.add(j * BLOCK8)) },
            largest,
        ));
        // SAFETY: as above.
        unsafe { _mm256_storeu_ps(p.add(j * BLOCK8), e) };
        let t = _mm256_add_ps(sum, e);
        let sum_larger =
            _mm256_cmp_ps::<_CMP_GE_OQ>(_mm256_and_ps(sum, magnitude), _mm256_and_ps(e, magnitude));
        let lost = _mm256_blendv_ps(
            _mm256_add_ps(_mm256_sub_ps(e, t), sum),
            _mm256_add_ps(_mm256_sub_ps(sum, t), e),
            sum_larger,
        );
        compensation = _mm256_add_ps(compensation, lost);
        sum = t;
    }
    let total = _mm256_add_ps(sum, compensation);
    for j in 0..m {
        // SAFETY: as above.
        unsafe {
            let at = p.add(j * BLOCK8);
            let q = _mm256_div_ps(_mm256_loadu_ps(at), total);
            _mm256_storeu_ps(at, _mm256_andnot_ps(dead, q));
        }
    }
}

/// Row `r < rows` of the block, columns `at..at + dk` of `out` (rows `d` apart) =
/// `sum_j st[j * 8 + r] * values[j * d..][..dk]`, each column a chain of fused
/// multiply-adds over `j = 0..m` in order from 0; `CB` blocks of 8 columns of `QT` rows
/// at a time.
///
/// # Safety
/// AVX2 + FMA; `dk` a multiple of `8 CB`; `QT` divides 8; `st` holds `8 m` values,
/// `values` `(m - 1) d + dk`, `out` `(rows - 1) d + at + dk`; `rows <= 8`.
#[allow(clippy::too_many_arguments)] // a strided product and where it goes
#[target_feature(enable = "avx2,fma")]
unsafe fn x86_64avx2_weighted_sum_lanes<const CB: usize, const QT: usize>(
    st: &[f32],
    values: &[f32],
    d: usize,
    m: usize,
    out: &mut [f32],
    rows: usize,
    at: usize,
    dk: usize,
) {
    let mut c0 = 0;
    while c0 < dk {
        let mut r0 = 0;
        while r0 < rows {
            let mut acc = [[_mm256_setzero_ps(); CB]; QT];
            for j in 0..m {
                let v = values.as_ptr();
                // SAFETY: j < m, c0 + 8 CB <= dk: inside value row j.
                let vv: [__m256; CB] =
                    core::array::from_fn(|b| unsafe { _mm256_loadu_ps(v.add(j * d + c0 + b * 8)) });
                for (r, acc) in acc.iter_mut().enumerate() {
                    // SAFETY: j < m and r0 + r < 8 (QT divides 8): inside `st`.
                    let w = _mm256_set1_ps(unsafe { *st.as_ptr().add(j * BLOCK8 + r0 + r) });
                    for (a, &v) in acc.iter_mut().zip(&vv) {
                        *a = _mm256_fmadd_ps(w, v, *a);
                    }
                }
            }
            for (r, acc) in acc.iter().enumerate() {
                if r0 + r < rows {
                    for (b, &sum) in acc.iter().enumerate() {
                        // SAFETY: row r0 + r < rows, columns at + c0 + 8 b..+8 inside `out`.
                        unsafe {
                            _mm256_storeu_ps(
                                out.as_mut_ptr().add((r0 + r) * d + at + c0 + b * 8),
                                sum,
                            )
                        };
                    }
                }
            }
            r0 += QT;
        }
        c0 += CB * 8;
    }
}

/// [`scalar::gelu`] over `blocks` blocks of 16, bit for bit: `(0.5 * v) * (1 + erff(v *
/// FRAC_1_SQRT_2))` with libm's `erff` ([`erff_512`]).
///
/// # Safety
/// AVX-512F; `x` holds `blocks * 16` values.
#[target_feature(enable = "avx512f")]
unsafe fn x86_64avx512_gelu(x: &mut [f32], blocks: usize) {
    let set = _mm512_set1_ps;
    for block in 0..blocks {
        // SAFETY: block * 16 + 16 <= x.len() (the caller's contract).
        unsafe {
            let at = x.as_mut_ptr().add(block * 16);
            let v = _mm512_loadu_ps(at);
            let erf = erff_512(_mm512_mul_ps(v, set(core::f32::consts::FRAC_1_SQRT_2)));
            let y = _mm512_mul_ps(_mm512_mul_ps(set(0.5), v), _mm512_add_ps(set(1.0), erf));
            _mm512_storeu_ps(at, y);
        }
    }
}

/// `libm::erff` (FreeBSD's `s_erff.c`, libm 0.2) of 16 lanes, bit for bit: every range's
/// operations as there, in the same order, each range computed only where a lane needs it.
#[inline]
#[target_feature(enable = "avx512f")]
fn erff_512(x: __m512) -> __m512 {
    let set = _mm512_set1_ps;
    let (add, sub, mul, div) = (_mm512_add_ps, _mm512_sub_ps, _mm512_mul_ps, _mm512_div_ps);
    // Horner's rule as libm writes it: c[0] + s * (c[1] + s * (... + s * c[n]))
    let poly = |s: __m512, c: &[f32]| {
        let mut it = c.iter().rev();
        let mut acc = set(it.next().copied().unwrap_or(0.0));
        for &k in it {
            acc = add(set(k), mul(s, acc));
        }
        acc
    };
    let bits = _mm512_castps_si512(x);
    let ix = _mm512_and_si512(bits, _mm512_set1_epi32(0x7fff_ffff));
    let below = |limit: u32| _mm512_cmplt_epi32_mask(ix, _mm512_set1_epi32(limit as i32));
    let ax = _mm512_castsi512_ps(ix);
    let sign = _mm512_and_si512(bits, _mm512_set1_epi32(i32::MIN));
    let signed = |y: __m512| _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(y), sign));
    let finite = below(0x7f80_0000);
    let small = below(0x3f58_0000); // |x| < 0.84375
    let tiny = below(0x3180_0000); // |x| < 2^-28
    let near_one = below(0x3fa0_0000) & !small; // 0.84375 <= |x| < 1.25
    let tail = below(0x40c0_0000) & !below(0x3fa0_0000); // 1.25 <= |x| < 6
                                                         // |x| >= 6, finite: 1 - 2^-120 with x's sign; infinite or NaN: 1 - 2 sign + 1 / x
    let sign_f = _mm512_cvtepi32_ps(_mm512_srli_epi32::<31>(sign));
    let special = add(sub(set(1.0), mul(set(2.0), sign_f)), div(set(1.0), x));
    let mut out = _mm512_mask_mov_ps(
        special,
        finite,
        signed(sub(set(1.0), set(f32::from_bits(0x0380_0000)))),
    );
    if tiny != 0 {
        let y = mul(set(0.125), add(mul(set(8.0), x), mul(set(ERF_EFX8), x)));
        out = _mm512_mask_mov_ps(out, tiny, y);
    }
    if small & !tiny != 0 {
        let z = mul(x, x);
        let r = poly(z, &ERF_PP);
        let s = poly(z, &ERF_QQ);
        let y = add(x, mul(x, div(r, s)));
        out = _mm512_mask_mov_ps(out, small & !tiny, y);
    }
    if near_one != 0 {
        let s = sub(ax, set(1.0));
        let p = poly(s, &ERF_PA);
        let q = poly(s, &ERF_QA);
        let erfc = sub(sub(set(1.0), set(ERF_ERX)), div(p, q));
        out = _mm512_mask_mov_ps(out, near_one, signed(sub(set(1.0), erfc)));
    }
    if tail != 0 {
        let s = div(set(1.0), mul(ax, ax));
        let near = below(0x4036_db6d); // |x| < 1 / 0.35
        let r = _mm512_mask_mov_ps(poly(s, &ERF_RB), near, poly(s, &ERF_RA));
        let big_s = _mm512_mask_mov_ps(poly(s, &ERF_SB), near, poly(s, &ERF_SA));
        let z = _mm512_castsi512_ps(_mm512_and_si512(
            ix,
            _mm512_set1_epi32(0xffff_e000u32 as i32),
        ));
        let e1 = expf_512(sub(
            mul(_mm512_sub_ps(_mm512_setzero_ps(), z), z),
            set(0.5625),
        ));
        let e2 = expf_512(add(mul(sub(z, ax), add(z, ax)), div(r, big_s)));
        let erfc = div(mul(e1, e2), ax);
        out = _mm512_mask_mov_ps(out, tail, signed(sub(set(1.0), erfc)));
    }
    out
}

/// [`scalar::gelu`] over `blocks` blocks of 8, bit for bit ([`erff_256`]).
///
/// # Safety
/// AVX2; `x` holds `blocks * 8` values.
#[target_feature(enable = "avx2")]
unsafe fn x86_64avx2_gelu(x: &mut [f32], blocks: usize) {
    let set = _mm256_set1_ps;
    for block in 0..blocks {
        // SAFETY: block * 8 + 8 <= x.len() (the caller's contract).
        unsafe {
            let at = x.as_mut_ptr().add(block * 8);
            let v = _mm256_loadu_ps(at);
            let erf = erff_256(_mm256_mul_ps(v, set(core::f32::consts::FRAC_1_SQRT_2)));
            let y = _mm256_mul_ps(_mm256_mul_ps(set(0.5), v), _mm256_add_ps(set(1.0), erf));
            _mm256_storeu_ps(at, y);
        }
    }
}

/// [`erff_512`] in 8 lanes (masks as vectors of all-ones lanes).
#[inline]
#[target_feature(enable = "avx2")]
fn erff_256(x: __m256) -> __m256 {
    let set = _mm256_set1_ps;
    let (add, sub, mul, div) = (_mm256_add_ps, _mm256_sub_ps, _mm256_mul_ps, _mm256_div_ps);
    let poly = |s: __m256, c: &[f32]| {
        let mut it = c.iter().rev();
        let mut acc = set(it.next().copied().unwrap_or(0.0));
        for &k in it {
            acc = add(set(k), mul(s, acc));
        }
        acc
    };
    let pick =
        |a: __m256, mask: __m256i, b: __m256| _mm256_blendv_ps(a, b, _mm256_castsi256_ps(mask));
    let any = |mask: __m256i| _mm256_movemask_ps(_mm256_castsi256_ps(mask)) != 0;
    let bits = _mm256_castps_si256(x);
    let ix = _mm256_and_si256(bits, _mm256_set1_epi32(0x7fff_ffff));
    let below = |limit: u32| _mm256_cmpgt_epi32(_mm256_set1_epi32(limit as i32), ix);
    let ax = _mm256_castsi256_ps(ix);
    let sign = _mm256_and_si256(bits, _mm256_set1_epi32(i32::MIN));
    let signed = |y: __m256| _mm256_castsi256_ps(_mm256_xor_si256(_mm256_castps_si256(y), sign));
    let finite = below(0x7f80_0000);
    let small = below(0x3f58_0000);
    let tiny = below(0x3180_0000);
    let under_125 = below(0x3fa0_0000);
    let near_one = _mm256_andnot_si256(small, under_125);
    let tail = _mm256_andnot_si256(under_125, below(0x40c0_0000));
    let sign_f = _mm256_cvtepi32_ps(_mm256_srli_epi32::<31>(sign));
    let special = add(sub(set(1.0), mul(set(2.0), sign_f)), div(set(1.0), x));
    let mut out = pick(
        special,
        finite,
        signed(sub(set(1.0), set(f32::from_bits(0x0380_0000)))),
    );
    if any(tiny) {
        let y = mul(set(0.125), add(mul(set(8.0), x), mul(set(ERF_EFX8), x)));
        out = pick(out, tiny, y);
    }
    let small_only = _mm256_andnot_si256(tiny, small);
    if any(small_only) {
        let z = mul(x, x);
        let y = add(x, mul(x, div(poly(z, &ERF_PP), poly(z, &ERF_QQ))));
        out = pick(out, small_only, y);
    }
    if any(near_one) {
        let s = sub(ax, set(1.0));
        let erfc = sub(
            sub(set(1.0), set(ERF_ERX)),
            div(poly(s, &ERF_PA), poly(s, &ERF_QA)),
        );
        out = pick(out, near_one, signed(sub(set(1.0), erfc)));
    }
    if any(tail) {
        let s = div(set(1.0), mul(ax, ax));
        let near = below(0x4036_db6d);
        let r = pick(poly(s, &ERF_RB), near, poly(s, &ERF_RA));
        let big_s = pick(poly(s, &ERF_SB), near, poly(s, &ERF_SA));
        let z = _mm256_castsi256_ps(_mm256_and_si256(
            ix,
            _mm256_set1_epi32(0xffff_e000u32 as i32),
        ));
        let e1 = expf_256(sub(mul(sub(_mm256_setzero_ps(), z), z), set(0.5625)));
        let e2 = expf_256(add(mul(sub(z, ax), add(z, ax)), div(r, big_s)));
        let erfc = div(mul(e1, e2), ax);
        out = pick(out, tail, signed(sub(set(1.0), erfc)));
    }
    out
}

/// [`expf_512`] in 8 lanes, for the same arguments.
#[inline]
#[target_feature(enable = "avx2")]
fn expf_256(x: __m256) -> __m256 {
    let set = _mm256_set1_ps;
    let (add, sub, mul, div) = (_mm256_add_ps, _mm256_sub_ps, _mm256_mul_ps, _mm256_div_ps);
    let bits = _mm256_castps_si256(x);
    let hx = _mm256_and_si256(bits, _mm256_set1_epi32(0x7fff_ffff));
    let above = |limit: u32| _mm256_cmpgt_epi32(hx, _mm256_set1_epi32(limit as i32));
    let negative = _mm256_cmpgt_epi32(_mm256_setzero_si256(), bits);
    let half = _mm256_blendv_ps(set(0.5), set(-0.5), _mm256_castsi256_ps(negative));
    let k_far = _mm256_cvttps_epi32(add(mul(set(f32::from_bits(0x3fb8_aa3b)), x), half));
    // 1 - 2 sign: the mask is -1 where negative
    let k_near = _mm256_add_epi32(_mm256_set1_epi32(1), _mm256_add_epi32(negative, negative));
    let k = _mm256_blendv_epi8(
        _mm256_and_si256(above(0x3eb1_7218), k_near),
        k_far,
        above(0x3f85_1592),
    );
    let kf = _mm256_cvtepi32_ps(k);
    let hi = sub(x, mul(kf, set(f32::from_bits(0x3f31_7200))));
    let lo = mul(kf, set(f32::from_bits(0x35bf_be8e)));
    let r = sub(hi, lo);
    let rr = mul(r, r);
    let c = sub(
        r,
        mul(
            rr,
            add(
                set(f32::from_bits(0x3e2a_aa8f)),
                mul(rr, set(f32::from_bits(0xbb35_5215))),
            ),
        ),
    );
    let y = add(set(1.0), add(sub(div(mul(r, c), sub(set(2.0), c)), lo), hi));
    let two_k = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(
        k,
        _mm256_set1_epi32(127),
    )));
    let tiny = _mm256_castsi256_ps(above(0x3900_0000));
    _mm256_blendv_ps(add(set(1.0), x), mul(y, two_k), tiny)
}

/// `erff`'s constants (libm 0.2's `erff.rs`), each polynomial lowest degree first.
#[allow(clippy::excessive_precision)] // libm\'s decimals as written there
const ERF_ERX: f32 = 8.450_629_115_1e-1;
#[allow(clippy::excessive_precision)] // libm\'s decimals as written there
const ERF_EFX8: f32 = 1.027_033_329;
#[allow(clippy::excessive_precision)] // libm\'s decimals as written there
const ERF_PP: [f32; 5] = [
    1.283_791_661_3e-1,
    -3.250_420_987_6e-1,
    -2.848_174_981_8e-2,
    -5.770_270_247e-3,
    -2.376_301_745_2e-5,
];
#[allow(clippy::excessive_precision)] // libm\'s decimals as written there
const ERF_QQ: [f32; 6] = [
    1.0,
    3.979_172_110_6e-1,
    6.502_225_25e-2,
    5.081_306_211_7e-3,
    1.324_947_370_4e-4,
    -3.960_228_241_3e-6,
];
#[allow(clippy::excessive_precision)] // libm\'s decimals as written there
const ERF_PA: [f32; 7] = [
    -2.362_118_568_3e-3,
    4.148_561_060_4e-1,
    -3.722_078_800_2e-1,
    3.183_466_196_1e-1,
    -1.108_946_949_2e-1,
    3.547_830_507_2e-2,
    -2.166_375_517_8e-3,
];
#[allow(clippy::excessive_precision)] // libm\'s decimals as written there
const ERF_QA: [f32; 7] = [
    1.0,
    1.064_208_820_5e-1,
    5.403_979_420_7e-1,
    7.182_865_589_9e-2,
    1.261_712_163_7e-1,
    1.363_708_358_3e-2,
    1.198_450_010_3e-2,
];
#[allow(clippy::excessive_precision)] // libm\'s decimals as written there
const ERF_RA: [f32; 8] = [
    -9.864_944_033_3e-3,
    -6.938_585_639e-1,
    -1.055_862_617_5e1,
    -6.237_533_187_9e1,
    -1.623_966_674_8e2,
    -1.846_050_872_8e2,
    -8.128_743_743_9e1,
    -9.814_329_147_3,
];
#[allow(clippy::excessive_precision)] // libm\'s decimals as written there
const ERF_SA: [f32; 9] = [
    1.0,
    1.965_127_182e1,
    1.376_577_606_2e2,
    4.345_658_874_5e2,
    6.453_872_680_7e2,
    4.290_081_481_9e2,
    1.086_350_021_4e2,
    6.570_249_557_5,
    -6.042_441_353_2e-2,
];
#[allow(clippy::excessive_precision)] // libm\'s decimals as written there
const ERF_RB: [f32; 7] = [
    -9.864_943_102e-3,
    -7.992_832_660_7e-1,
    -1.775_795_555_1e1,
    -1.606_363_830_6e2,
    -6.375_664_672_9e2,
    -1.025_095_092_8e3,
    -4.835_191_955_6e2,
];
#[allow(clippy::excessive_precision)] // libm\'s decimals as written there
const ERF_SB: [f32; 8] = [
    1.0,
    3.033_806_037_9e1,
    3.257_925_109_9e2,
    1.536_729_614_3e3,
    3.199_858_154_3e3,
    2.553_050_293e3,
    4.745_285_339_4e2,
    -2.244_095_230_1e1,
];

/// `libm::expf` (FreeBSD's `e_expf.c`) of 16 lanes, bit for bit, for arguments whose
/// result is a normal number below overflow (`|x| < 87`): `erff`'s, which lie in
/// `[-37, 1]`. The reduction `k`, `hi`, `lo` of each range, the polynomial, then `y * 2^k`
/// (what `scalbnf` gives for a normal result).
#[inline]
#[target_feature(enable = "avx512f")]
fn expf_512(x: __m512) -> __m512 {
    let set = _mm512_set1_ps;
    let (add, sub, mul, div) = (_mm512_add_ps, _mm512_sub_ps, _mm512_mul_ps, _mm512_div_ps);
    let bits = _mm512_castps_si512(x);
    let hx = _mm512_and_si512(bits, _mm512_set1_epi32(0x7fff_ffff));
    let above = |limit: u32| _mm512_cmpgt_epi32_mask(hx, _mm512_set1_epi32(limit as i32));
    let negative = _mm512_cmplt_epi32_mask(bits, _mm512_setzero_si512());
    // |x| > 1.5 ln 2: k = (INV_LN2 * x +- 0.5) as i32; |x| > 0.5 ln 2: k = +-1; else 0
    let half = _mm512_mask_mov_ps(set(0.5), negative, set(-0.5));
    let k_far = _mm512_cvttps_epi32(add(mul(set(f32::from_bits(0x3fb8_aa3b)), x), half));
    let k_near = _mm512_mask_mov_epi32(_mm512_set1_epi32(1), negative, _mm512_set1_epi32(-1));
    let k = _mm512_mask_mov_epi32(
        _mm512_maskz_mov_epi32(above(0x3eb1_7218), k_near),
        above(0x3f85_1592),
        k_far,
    );
    let kf = _mm512_cvtepi32_ps(k);
    // (k = 0: hi = x, lo = 0, as libm's middle range)
    let hi = sub(x, mul(kf, set(f32::from_bits(0x3f31_7200))));
    let lo = mul(kf, set(f32::from_bits(0x35bf_be8e)));
    let r = sub(hi, lo);
    let rr = mul(r, r);
    let c = sub(
        r,
        mul(
            rr,
            add(
                set(f32::from_bits(0x3e2a_aa8f)),
                mul(rr, set(f32::from_bits(0xbb35_5215))),
            ),
        ),
    );
    let y = add(set(1.0), add(sub(div(mul(r, c), sub(set(2.0), c)), lo), hi));
    let two_k = _mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_add_epi32(
        k,
        _mm512_set1_epi32(127),
    )));
    let scaled = mul(y, two_k);
    // |x| <= 2^-14: 1 + x
    _mm512_mask_mov_ps(add(set(1.0), x), above(0x3900_0000), scaled)
}

/// Every 64-byte line of `span` into L2 (`prefetcht1`).
fn prefetch_lines(span: &[f32]) {
    for line in span.chunks(16) {
        // SAFETY: SSE is part of x86_64 itself; a prefetch is a hint that reads nothing.
        unsafe { _mm_prefetch::<_MM_HINT_T1>(line.as_ptr().cast()) };
    }
}

/// `blocks`, lowered so that `blocks * lanes` fits in every slice.
fn whole_blocks(x: &[&[f32]], w: &[&[f32]], blocks: usize, lanes: usize) -> usize {
    x.iter()
        .chain(w)
        .fold(blocks, |b, s| b.min(s.len() / lanes))
}

/// Horizontal sum of the 8 lanes: (lo + hi) halves, then pairs, then the last two.
#[inline]
#[target_feature(enable = "avx")]
fn sum256(v: __m256) -> f32 {
    let quad = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
    _mm_cvtss_f32(_mm_add_ss(pair, _mm_movehdup_ps(pair)))
}

/// `ROWS x 4` dot products over `blocks` blocks of 8: each step loads the 4 weight vectors
/// once and each input vector once, for `4 * ROWS` fused multiply-adds.
///
/// # Safety
/// The CPU must support AVX2 and FMA, and every slice must hold `blocks * 8` elements.
#[target_feature(enable = "avx2,fma")]
unsafe fn x86_64avx2_dot_f32_4xr<const ROWS: usize>(
    x: [&[f32]; ROWS],
    w: [&[f32]; MR],
    blocks: usize,
) -> [[f32; MR]; ROWS] {
    let mut acc = [[_mm256_setzero_ps(); MR]; ROWS];
    for block in 0..blocks {
        let at = block * 8;
        // SAFETY: at + 8 <= blocks * 8 <= every slice's length (the caller's contract).
        let xv: [__m256; ROWS] =
            core::array::from_fn(|r| unsafe { _mm256_loadu_ps(x[r].as_ptr().add(at)) });
        // The input vectors stay in registers; the weight vectors stream through one.
        for m in 0..MR {
            // SAFETY: as above.
            let wv = unsafe { _mm256_loadu_ps(w[m].as_ptr().add(at)) };
            for r in 0..ROWS {
                acc[r][m] = _mm256_fmadd_ps(xv[r], wv, acc[r][m]);
            }
        }
    }
    core::array::from_fn(|r| sum256_x4(acc[r]))
}

/// [`x86_64avx2_dot_f32_4xr`] of one input row, the same sums, each weight row's
/// line at element `at + ahead` fetched into L2 as its line at `at` is multiplied, one
/// line per two blocks.
///
/// # Safety
/// The CPU must support AVX2 and FMA, and every slice must hold `blocks * 8` elements
/// (`ahead` may point anywhere: a prefetch is a hint that never faults).
#[target_feature(enable = "avx2,fma")]
unsafe fn x86_64avx2_dot_f32_4x1_stream(
    x: &[f32],
    w: [&[f32]; MR],
    blocks: usize,
    ahead: usize,
) -> [f32; MR] {
    let mut acc = [_mm256_setzero_ps(); MR];
    for block in 0..blocks {
        let at = block * 8;
        // SAFETY: at + 8 <= blocks * 8 <= every slice's length (the caller's contract).
        let xv = unsafe { _mm256_loadu_ps(x.as_ptr().add(at)) };
        for m in 0..MR {
            if block % 2 == 0 {
                let line = w[m].as_ptr().wrapping_add(at + ahead);
                _mm_prefetch::<_MM_HINT_T1>(line.cast());
            }
            // SAFETY: as above.
            let wv = unsafe { _mm256_loadu_ps(w[m].as_ptr().add(at)) };
            acc[m] = _mm256_fmadd_ps(xv, wv, acc[m]);
        }
    }
    sum256_x4(acc)
}

/// [`x86_64avx2_dot_f32_4xr`], the same sums, with a prefetch of `ahead[16 l..]` at each
/// even block `2 l` for `l < lines` (one 64-byte line per two blocks, into L2).
///
/// # Safety
/// The CPU must support AVX2 and FMA, every slice of `x` and `w` must hold `blocks * 8`
/// elements and `ahead` at least `lines * 16`.
#[target_feature(enable = "avx2,fma")]
unsafe fn x86_64avx2_dot_f32_4xr_ahead<const ROWS: usize>(
    x: [&[f32]; ROWS],
    w: [&[f32]; MR],
    blocks: usize,
    ahead: &[f32],
    lines: usize,
) -> [[f32; MR]; ROWS] {
    let mut acc = [[_mm256_setzero_ps(); MR]; ROWS];
    for block in 0..blocks {
        let at = block * 8;
        if block % 2 == 0 && block / 2 < lines {
            // SAFETY: at + 16 = (block / 2 + 1) * 16 <= lines * 16 <= ahead.len() (the
            // caller's contract).
            unsafe { _mm_prefetch::<_MM_HINT_T1>(ahead.as_ptr().add(at).cast()) };
        }
        // SAFETY: at + 8 <= blocks * 8 <= every slice's length (the caller's contract).
        let xv: [__m256; ROWS] =
            core::array::from_fn(|r| unsafe { _mm256_loadu_ps(x[r].as_ptr().add(at)) });
        for m in 0..MR {
            // SAFETY: as above.
            let wv = unsafe { _mm256_loadu_ps(w[m].as_ptr().add(at)) };
            for r in 0..ROWS {
                acc[r][m] = _mm256_fmadd_ps(xv[r], wv, acc[r][m]);
            }
        }
    }
    core::array::from_fn(|r| sum256_x4(acc[r]))
}

/// The horizontal sums of four 8-lane vectors at once (one input row's `MR` accumulators):
/// pairs of lanes, then pairs of pairs (`hadd`), then the two halves. One tree for every
/// tile size, so a tile of rows gives each row's bits alone (a decode step's and a
/// forward pass's products agree); a quarter of the shuffles of four [`sum256`].
#[inline]
#[target_feature(enable = "avx")]
fn sum256_x4(v: [__m256; MR]) -> [f32; MR] {
    let pairs = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
    let sums = _mm_add_ps(
        _mm256_castps256_ps128(pairs),
        _mm256_extractf128_ps::<1>(pairs),
    );
    let mut out = [0.0; MR];
    // SAFETY: `out` holds the 4 floats of one 128-bit vector.
    unsafe { _mm_storeu_ps(out.as_mut_ptr(), sums) };
    out
}

/// The horizontal sums of four 16-lane vectors at once: the 128-bit quarters of pairs
/// of vectors (`shuffle_f32x4`), then within each quarter pairs of lanes and the two
/// pairs. One tree for every tile size, as [`sum256_x4`].
#[inline]
#[target_feature(enable = "avx512f")]
fn sum512_x4(v: [__m512; MR]) -> [f32; MR] {
    // [a0 + a2, a1 + a3, b0 + b2, b1 + b3] in quarters, and the same for c, d
    let ab = _mm512_add_ps(
        _mm512_shuffle_f32x4::<0b01_00_01_00>(v[0], v[1]),
        _mm512_shuffle_f32x4::<0b11_10_11_10>(v[0], v[1]),
    );
    let cd = _mm512_add_ps(
        _mm512_shuffle_f32x4::<0b01_00_01_00>(v[2], v[3]),
        _mm512_shuffle_f32x4::<0b11_10_11_10>(v[2], v[3]),
    );
    // one quarter per vector: [a, b, c, d]
    let quarters = _mm512_add_ps(
        _mm512_shuffle_f32x4::<0b10_00_10_00>(ab, cd),
        _mm512_shuffle_f32x4::<0b11_01_11_01>(ab, cd),
    );
    let pairs = _mm512_add_ps(quarters, _mm512_permute_ps::<0b10_11_00_01>(quarters));
    let sums = _mm512_add_ps(pairs, _mm512_permute_ps::<0b01_00_11_10>(pairs));
    let mut lanes = [0.0f32; 16];
    // SAFETY: `lanes` holds the 16 floats of one 512-bit vector.
    unsafe { _mm512_storeu_ps(lanes.as_mut_ptr(), sums) };
    [lanes[0], lanes[4], lanes[8], lanes[12]]
}

/// `y += alpha * x` over `blocks` blocks of 8.
///
/// # Safety
/// The CPU must support AVX2 and FMA, and both slices must hold `blocks * 8` elements.
#[target_feature(enable = "avx2,fma")]
unsafe fn x86_64avx2_axpy_f32(alpha: f32, x: &[f32], y: &mut [f32], blocks: usize) {
    let a = _mm256_set1_ps(alpha);
    for block in 0..blocks {
        let at = block * 8;
        // SAFETY: at + 8 <= blocks * 8 <= both lengths (the caller's contract).
        unsafe {
            let yp = y.as_mut_ptr().add(at);
            let sum = _mm256_fmadd_ps(a, _mm256_loadu_ps(x.as_ptr().add(at)), _mm256_loadu_ps(yp));
            _mm256_storeu_ps(yp, sum);
        }
    }
}

/// `y += alpha[0] * x[0] + ... + alpha[3] * x[3]` over `blocks` blocks of 8, one fused
/// multiply-add per row in row order (bit-identical to four [`x86_64avx2_axpy_f32`]).
///
/// # Safety
/// The CPU must support AVX2 and FMA, and every slice must hold `blocks * 8` elements.
#[target_feature(enable = "avx2,fma")]
unsafe fn x86_64avx2_axpy_f32_4(alpha: [f32; MR], x: [&[f32]; MR], y: &mut [f32], blocks: usize) {
    let a: [__m256; MR] = core::array::from_fn(|m| _mm256_set1_ps(alpha[m]));
    for block in 0..blocks {
        let at = block * 8;
        // SAFETY: at + 8 <= blocks * 8 <= every slice's length (the caller's contract).
        unsafe {
            let yp = y.as_mut_ptr().add(at);
            let mut sum = _mm256_loadu_ps(yp);
            for m in 0..MR {
                sum = _mm256_fmadd_ps(a[m], _mm256_loadu_ps(x[m].as_ptr().add(at)), sum);
            }
            _mm256_storeu_ps(yp, sum);
        }
    }
}

/// `ROWS x 4` dot products over `blocks` blocks of 16 (see the AVX2 twin).
///
/// # Safety
/// The CPU must support AVX-512F, and every slice must hold `blocks * 16` elements.
#[target_feature(enable = "avx512f")]
unsafe fn x86_64avx512_dot_f32_4xr<const ROWS: usize>(
    x: [&[f32]; ROWS],
    w: [&[f32]; MR],
    blocks: usize,
) -> [[f32; MR]; ROWS] {
    let mut acc = [[_mm512_setzero_ps(); MR]; ROWS];
    for block in 0..blocks {
        let at = block * 16;
        // SAFETY: at + 16 <= blocks * 16 <= every slice's length (the caller's contract).
        let wv: [__m512; MR] =
            core::array::from_fn(|m| unsafe { _mm512_loadu_ps(w[m].as_ptr().add(at)) });
        for r in 0..ROWS {
            // SAFETY: as above.
            let xv = unsafe { _mm512_loadu_ps(x[r].as_ptr().add(at)) };
            for m in 0..MR {
                acc[r][m] = _mm512_fmadd_ps(xv, wv[m], acc[r][m]);
            }
        }
    }
    core::array::from_fn(|r| sum512_x4(acc[r]))
}

/// [`x86_64avx512_dot_f32_4xr`] of one input row, the same sums, each weight row's
/// line at element `at + ahead` fetched into L2 as its line at `at` is multiplied.
///
/// # Safety
/// The CPU must support AVX-512F, and every slice must hold `blocks * 16` elements
/// (`ahead` may point anywhere: a prefetch is a hint that never faults).
#[target_feature(enable = "avx512f")]
unsafe fn x86_64avx512_dot_f32_4x1_stream(
    x: &[f32],
    w: [&[f32]; MR],
    blocks: usize,
    ahead: usize,
) -> [f32; MR] {
    let mut acc = [_mm512_setzero_ps(); MR];
    for block in 0..blocks {
        let at = block * 16;
        // SAFETY: at + 16 <= blocks * 16 <= every slice's length (the caller's contract).
        let xv = unsafe { _mm512_loadu_ps(x.as_ptr().add(at)) };
        for m in 0..MR {
            let line = w[m].as_ptr().wrapping_add(at + ahead);
            _mm_prefetch::<_MM_HINT_T1>(line.cast());
            // SAFETY: as above.
            let wv = unsafe { _mm512_loadu_ps(w[m].as_ptr().add(at)) };
            acc[m] = _mm512_fmadd_ps(xv, wv, acc[m]);
        }
    }
    sum512_x4(acc)
}

/// [`x86_64avx512_dot_f32_4xr`], the same sums, with a prefetch of `ahead[16 b..]` at
/// each block `b < lines` (one 64-byte line per block, into all cache levels).
///
/// # Safety
/// The CPU must support AVX-512F, every slice of `x` and `w` must hold `blocks * 16`
/// elements and `ahead` at least `lines * 16`.
#[target_feature(enable = "avx512f")]
unsafe fn x86_64avx512_dot_f32_4xr_ahead<const ROWS: usize>(
    x: [&[f32]; ROWS],
    w: [&[f32]; MR],
    blocks: usize,
    ahead: &[f32],
    lines: usize,
) -> [[f32; MR]; ROWS] {
    let mut acc = [[_mm512_setzero_ps(); MR]; ROWS];
    for block in 0..blocks {
        let at = block * 16;
        if block < lines {
            // SAFETY: at + 16 <= lines * 16 <= ahead.len() (the caller's contract).
            unsafe { _mm_prefetch::<_MM_HINT_T1>(ahead.as_ptr().add(at).cast()) };
        }
        // SAFETY: at + 16 <= blocks * 16 <= every slice's length (the caller's contract).
        let wv: [__m512; MR] =
            core::array::from_fn(|m| unsafe { _mm512_loadu_ps(w[m].as_ptr().add(at)) });
        for r in 0..ROWS {
            // SAFETY: as above.
            let xv = unsafe { _mm512_loadu_ps(x[r].as_ptr().add(at)) };
            for m in 0..MR {
                acc[r][m] = _mm512_fmadd_ps(xv, wv[m], acc[r][m]);
            }
        }
    }
    core::array::from_fn(|r| sum512_x4(acc[r]))
}

/// Columns `16 c..16 c + 16` of 16 rows of `d` (`x`), in order: their 16 x 16 block
/// transposed (16 loads and 64 shuffles, where 16 gathers load its 256 values one at a
/// time).
///
/// # Safety
/// AVX-512F; `x` holds 16 rows of `d` and `16 c + 16 <= d`.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn columns_16x16(x: &[f32], d: usize, c: usize) -> [__m512; 16] {
    let mut block = [_mm512_setzero_si512(); 16];
    for (r, v) in block.iter_mut().enumerate() {
        // SAFETY: `r d + 16 c + 16 <= 16 d <= x.len()` (the caller's contract).
        *v = unsafe { _mm512_loadu_si512(x.as_ptr().add(r * d + 16 * c).cast()) };
    }
    let t = crate::arch::x86_64::i8::transpose_16x16(block);
    let mut out = [_mm512_setzero_ps(); 16];
    for (o, v) in out.iter_mut().zip(t) {
        *o = _mm512_castsi512_ps(v);
    }
    out
}

/// Whether blocks of `lanes` rows of `d` can go to a lane-per-row LayerNorm: a row to
/// norm, `gamma` and `beta` as long as it, and row offsets that fit the gathers' i32.
fn lanes_fit(d: usize, lanes: usize, gamma: &[f32], beta: Option<&[f32]>) -> bool {
    d > 0
        && gamma.len() >= d
        && beta.is_none_or(|b| b.len() >= d)
        && i32::try_from(d.saturating_mul(lanes - 1)).is_ok()
}

/// [`x86_64avx512_layer_norm_16`] in 8 lanes: 8 rows of `d`, row `r` in lane `r`.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `x` must hold `8 d` values, `gamma` (and `beta`,
/// if any) at least `d`, and `7 d` must fit an i32.
#[target_feature(enable = "avx2,fma")]
unsafe fn x86_64avx2_layer_norm_8(
    x: &mut [f32],
    d: usize,
    gamma: &[f32],
    beta: Option<&[f32]>,
    eps: f32,
) {
    let rows = _mm256_mullo_epi32(
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        _mm256_set1_epi32(d as i32),
    );
    // Column `i` of the 8 rows.
    // SAFETY: row `r < 8` of `d` is inside `x` for `i < d` (the caller's contract).
    let column = |i: usize| unsafe { _mm256_i32gather_ps::<4>(x.as_ptr().add(i), rows) };
    let magnitude = |v: __m256| _mm256_andnot_ps(_mm256_set1_ps(-0.0), v);
    // `scalar::sum_compensated`'s step: sum + v, and the lost part by the larger operand.
    let step = |(sum, compensation): (__m256, __m256), v: __m256| {
        let t = _mm256_add_ps(sum, v);
        let sum_larger = _mm256_add_ps(_mm256_sub_ps(sum, t), v);
        let v_larger = _mm256_add_ps(_mm256_sub_ps(v, t), sum);
        let larger = _mm256_cmp_ps::<_CMP_GE_OQ>(magnitude(sum), magnitude(v));
        let lost = _mm256_blendv_ps(v_larger, sum_larger, larger);
        (t, _mm256_add_ps(compensation, lost))
    };
    let zero = _mm256_setzero_ps();
    let inv_n = _mm256_set1_ps(1.0 / d as f32);
    let (sum, compensation) = (0..d).fold((zero, zero), |acc, i| step(acc, column(i)));
    let mean = _mm256_mul_ps(_mm256_add_ps(sum, compensation), inv_n);
    let (sum, compensation) = (0..d).fold((zero, zero), |acc, i| {
        let centred = _mm256_sub_ps(column(i), mean);
        step(acc, _mm256_mul_ps(centred, centred))
    });
    let var = _mm256_mul_ps(_mm256_add_ps(sum, compensation), inv_n);
    let inv_std = _mm256_div_ps(
        _mm256_set1_ps(1.0),
        _mm256_sqrt_ps(_mm256_add_ps(var, _mm256_set1_ps(eps))),
    );
    let (mut means, mut inv_stds) = ([0.0f32; 8], [0.0f32; 8]);
    // SAFETY: each array holds the 8 floats of one vector.
    unsafe {
        _mm256_storeu_ps(means.as_mut_ptr(), mean);
        _mm256_storeu_ps(inv_stds.as_mut_ptr(), inv_std);
    }
    let blocks = d / 8;
    for ((row, &mean), &inv_std) in x.chunks_exact_mut(d).zip(&means).zip(&inv_stds) {
        let (m, s) = (_mm256_set1_ps(mean), _mm256_set1_ps(inv_std));
        for b in 0..blocks {
            let at = b * 8;
            // SAFETY: at + 8 <= d: inside the row, `gamma` and `beta` (the caller's contract).
            unsafe {
                let p = row.as_mut_ptr().add(at);
                let g = _mm256_loadu_ps(gamma.as_ptr().add(at));
                let bias = match beta {
                    Some(beta) => _mm256_loadu_ps(beta.as_ptr().add(at)),
                    None => zero,
                };
                let scaled =
                    _mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(p), m), s), g);
                _mm256_storeu_ps(p, _mm256_add_ps(scaled, bias));
            }
        }
        for i in blocks * 8..d {
            let b = beta.and_then(|b| b.get(i)).copied().unwrap_or(0.0);
            let g = gamma.get(i).copied().unwrap_or(0.0);
            if let Some(v) = row.get_mut(i) {
                *v = (*v - mean) * inv_std * g + b;
            }
        }
    }
}

/// [`scalar::layer_norm`] of 16 rows of `d` at once, row `r` in lane `r`: each lane
/// performs that function's operations on its row in its order (the compensated sums'
/// additions and their branch as a blend, the same square root and division), so every
/// row gets the bits it gets alone; the last step, elementwise, runs along each row.
///
/// # Safety
/// The CPU must support AVX-512F; `x` must hold `16 d` values, `gamma` (and `beta`, if
/// any) at least `d`, and `15 d` must fit an i32.
#[target_feature(enable = "avx512f")]
unsafe fn x86_64avx512_layer_norm_16(
    x: &mut [f32],
    d: usize,
    gamma: &[f32],
    beta: Option<&[f32]>,
    eps: f32,
) {
    let rows = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32(d as i32),
    );
    // Column `i` of the 16 rows.
    // SAFETY: row `r < 16` of `d` is inside `x` for `i < d` (the caller's contract).
    let column = |i: usize| unsafe { _mm512_i32gather_ps::<4>(rows, x.as_ptr().add(i).cast()) };
    // Columns `16 c..16 c + 16` of the 16 rows, in order.
    // SAFETY: `16 c + 16 <= d` wherever it is called (c < d / 16), inside every row.
    let columns = |c: usize| unsafe { columns_16x16(x, d, c) };
    let chunks = d / 16;
    // `scalar::sum_compensated`'s step: sum + v, and the lost part by the larger operand.
    let step = |(sum, compensation): (__m512, __m512), v: __m512| {
        let t = _mm512_add_ps(sum, v);
        let sum_larger = _mm512_add_ps(_mm512_sub_ps(sum, t), v);
        let v_larger = _mm512_add_ps(_mm512_sub_ps(v, t), sum);
        let larger = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(_mm512_abs_ps(sum), _mm512_abs_ps(v));
        let lost = _mm512_mask_blend_ps(larger, v_larger, sum_larger);
        (t, _mm512_add_ps(compensation, lost))
    };
    let zero = _mm512_setzero_ps();
    let inv_n = _mm512_set1_ps(1.0 / d as f32);
    // Every column in order: whole blocks of 16, then the rest one at a time.
    let mut acc = (zero, zero);
    for c in 0..chunks {
        for v in columns(c) {
            acc = step(acc, v);
        }
    }
    for i in chunks * 16..d {
        acc = step(acc, column(i));
    }
    let mean = _mm512_mul_ps(_mm512_add_ps(acc.0, acc.1), inv_n);
    let squared = |v: __m512| {
        let centred = _mm512_sub_ps(v, mean);
        _mm512_mul_ps(centred, centred)
    };
    let mut acc = (zero, zero);
    for c in 0..chunks {
        for v in columns(c) {
            acc = step(acc, squared(v));
        }
    }
    for i in chunks * 16..d {
        acc = step(acc, squared(column(i)));
    }
    let var = _mm512_mul_ps(_mm512_add_ps(acc.0, acc.1), inv_n);
    let inv_std = _mm512_div_ps(
        _mm512_set1_ps(1.0),
        _mm512_sqrt_ps(_mm512_add_ps(var, _mm512_set1_ps(eps))),
    );
    let (mut means, mut inv_stds) = ([0.0f32; 16], [0.0f32; 16]);
    // SAFETY: each array holds the 16 floats of one vector.
    unsafe {
        _mm512_storeu_ps(means.as_mut_ptr(), mean);
        _mm512_storeu_ps(inv_stds.as_mut_ptr(), inv_std);
    }
    let blocks = d / 16;
    for ((row, &mean), &inv_std) in x.chunks_exact_mut(d).zip(&means).zip(&inv_stds) {
        let (m, s) = (_mm512_set1_ps(mean), _mm512_set1_ps(inv_std));
        for b in 0..blocks {
            let at = b * 16;
            // SAFETY: at + 16 <= d: inside the row, `gamma` and `beta` (the caller's contract).
            unsafe {
                let p = row.as_mut_ptr().add(at);
                let g = _mm512_loadu_ps(gamma.as_ptr().add(at));
                let bias = match beta {
                    Some(beta) => _mm512_loadu_ps(beta.as_ptr().add(at)),
                    None => zero,
                };
                let scaled =
                    _mm512_mul_ps(_mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(p), m), s), g);
                _mm512_storeu_ps(p, _mm512_add_ps(scaled, bias));
            }
        }
        for i in blocks * 16..d {
            let b = beta.and_then(|b| b.get(i)).copied().unwrap_or(0.0);
            let g = gamma.get(i).copied().unwrap_or(0.0);
            if let Some(v) = row.get_mut(i) {
                *v = (*v - mean) * inv_std * g + b;
            }
        }
    }
}

/// `y += alpha * x` over `blocks` blocks of 16.
///
/// # Safety
/// The CPU must support AVX-512F, and both slices must hold `blocks * 16` elements.
#[target_feature(enable = "avx512f")]
unsafe fn x86_64avx512_axpy_f32(alpha: f32, x: &[f32], y: &mut [f32], blocks: usize) {
    let a = _mm512_set1_ps(alpha);
    for block in 0..blocks {
        let at = block * 16;
        // SAFETY: at + 16 <= blocks * 16 <= both lengths (the caller's contract).
        unsafe {
            let yp = y.as_mut_ptr().add(at);
            let sum = _mm512_fmadd_ps(a, _mm512_loadu_ps(x.as_ptr().add(at)), _mm512_loadu_ps(yp));
            _mm512_storeu_ps(yp, sum);
        }
    }
}

/// `y += alpha[0] * x[0] + ... + alpha[3] * x[3]` over `blocks` blocks of 16, one fused
/// multiply-add per row in row order (bit-identical to four [`x86_64avx512_axpy_f32`]):
/// `y` loaded and stored once per four rows (attention's weighted sum of value rows).
///
/// # Safety
/// The CPU must support AVX-512F, and every slice must hold `blocks * 16` elements.
#[target_feature(enable = "avx512f")]
unsafe fn x86_64avx512_axpy_f32_4(alpha: [f32; MR], x: [&[f32]; MR], y: &mut [f32], blocks: usize) {
    let a: [__m512; MR] = core::array::from_fn(|m| _mm512_set1_ps(alpha[m]));
    for block in 0..blocks {
        let at = block * 16;
        // SAFETY: at + 16 <= blocks * 16 <= every slice's length (the caller's contract).
        unsafe {
            let yp = y.as_mut_ptr().add(at);
            let mut sum = _mm512_loadu_ps(yp);
            for m in 0..MR {
                sum = _mm512_fmadd_ps(a[m], _mm512_loadu_ps(x[m].as_ptr().add(at)), sum);
            }
            _mm512_storeu_ps(yp, sum);
        }
    }
}

/// One dot product over `blocks` blocks of 8, with two accumulators so consecutive
/// fused multiply-adds do not wait on each other.
///
/// # Safety
/// The CPU must support AVX2 and FMA, and both slices must hold `blocks * 8` elements.
#[target_feature(enable = "avx2,fma")]
unsafe fn x86_64avx2_dot_f32_1x1(a: &[f32], b: &[f32], blocks: usize) -> f32 {
    let (mut even, mut odd) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut block = 0;
    while block + 2 <= blocks {
        let at = block * 8;
        // SAFETY: at + 16 <= blocks * 8 <= both lengths (the caller's contract).
        unsafe {
            even = _mm256_fmadd_ps(
                _mm256_loadu_ps(a.as_ptr().add(at)),
                _mm256_loadu_ps(b.as_ptr().add(at)),
                even,
            );
            let next = at + 8;
            odd = _mm256_fmadd_ps(
                _mm256_loadu_ps(a.as_ptr().add(next)),
                _mm256_loadu_ps(b.as_ptr().add(next)),
                odd,
            );
        }
        block += 2;
    }
    if block < blocks {
        let at = block * 8;
        // SAFETY: at + 8 <= blocks * 8 <= both lengths (the caller's contract).
        even = unsafe {
            _mm256_fmadd_ps(
                _mm256_loadu_ps(a.as_ptr().add(at)),
                _mm256_loadu_ps(b.as_ptr().add(at)),
                even,
            )
        };
    }
    let sum = _mm256_add_ps(even, odd);
    sum256(sum)
}

/// One dot product over `blocks` blocks of 16, with two accumulators so consecutive
/// fused multiply-adds do not wait on each other.
///
/// # Safety
/// The CPU must support AVX-512F, and both slices must hold `blocks * 16` elements.
#[target_feature(enable = "avx512f")]
unsafe fn x86_64avx512_dot_f32_1x1(a: &[f32], b: &[f32], blocks: usize) -> f32 {
    let (mut even, mut odd) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    let mut block = 0;
    while block + 2 <= blocks {
        let at = block * 16;
        // SAFETY: at + 32 <= blocks * 16 <= both lengths (the caller's contract).
        unsafe {
            even = _mm512_fmadd_ps(
                _mm512_loadu_ps(a.as_ptr().add(at)),
                _mm512_loadu_ps(b.as_ptr().add(at)),
                even,
            );
            let next = at + 16;
            odd = _mm512_fmadd_ps(
                _mm512_loadu_ps(a.as_ptr().add(next)),
                _mm512_loadu_ps(b.as_ptr().add(next)),
                odd,
            );
        }
        block += 2;
    }
    if block < blocks {
        let at = block * 16;
        // SAFETY: at + 16 <= blocks * 16 <= both lengths (the caller's contract).
        even = unsafe {
            _mm512_fmadd_ps(
                _mm512_loadu_ps(a.as_ptr().add(at)),
                _mm512_loadu_ps(b.as_ptr().add(at)),
                even,
            )
        };
    }
    let sum = _mm512_add_ps(even, odd);

    _mm512_reduce_add_ps(sum)
}
