//! x86_64 int8 kernel: dot products with AVX2 (`vpsignb`/`vpabsb` to make the weights
//! unsigned, `vpmaddubsw` to pairs of i16, `vpmaddwd` to i32: exact, since `|w| <= 128`
//! and `|x| <= 127` keep every i16 pair sum below 32767).

use crate::frame::f32::MR;
use crate::frame::i8::I8Dot;
#[cfg(feature = "std")]
use crate::quant::I8Matrix;
use core::arch::x86_64::*;

/// AVX2 int8 kernel: 32-byte blocks, 4 weight rows at a time.
#[derive(Debug, Clone, Copy)]
pub struct Avx2I8(());

impl I8Dot for Avx2I8 {
    const NAME: &'static str = "avx2";
    const BLOCK: usize = 32;

    fn detect() -> Option<Self> {
        #[cfg(feature = "std")]
        let found = std::is_x86_feature_detected!("avx2");
        #[cfg(not(feature = "std"))]
        let found = cfg!(target_feature = "avx2");
        found.then_some(Avx2I8(()))
    }

    fn dot_tile(self, x: &[i8], w: [&[i8]; MR], blocks: usize) -> [i32; MR] {
        let blocks = w
            .iter()
            .fold(blocks.min(x.len() / 32), |b, s| b.min(s.len() / 32));
        // SAFETY: `self` exists only if AVX2 was detected; every slice holds at least
        // `blocks * 32` elements (just above).
        unsafe { x86_64avx2_dot_i8_4x1(x, &w, blocks) }
    }

    fn quantize_row(self, x: &[f32], q: &mut [i8]) -> f32 {
        if q.len() != x.len() {
            return crate::quant::quantize_row(x, q);
        }
        // SAFETY: `self` exists only if AVX2 was detected; `q` and `x` have the same
        // length (just above).
        unsafe { x86_64avx2_quantize_row(x, q) }
    }

    fn dot_tiles(self, x: &[i8], k: usize, w: [&[i8]; MR], blocks: usize, out: &mut [[i32; MR]]) {
        let rows = out.len();
        // Every row `r < rows` reads `x[r * k..][..blocks * 32]`: whole blocks inside `k`
        // and the rows inside `x`.
        let blocks = w
            .iter()
            .fold(blocks.min(k / 32), |b, s| b.min(s.len() / 32));
        if rows < 2 || x.len() < rows * k {
            for (r, sums) in out.iter_mut().enumerate() {
                *sums = self.dot_tile(x.get(r * k..).unwrap_or(&[]), w, blocks);
            }
            return;
        }
        // SAFETY: `self` exists only if AVX2 was detected; every weight slice holds
        // `blocks * 32` elements and every input row `r < rows` holds `blocks * 32 <= k`
        // from `x[r * k..]`, inside `x` (just above).
        unsafe { x86_64avx2_dot_i8_4xr(x, k, &w, blocks, out) }
    }

    #[cfg(not(target_os = "none"))]
    fn dot_rows_i8(self, x: &[i8], w: &[i8], k: usize, blocks: usize, out: &mut [i32]) {
        let blocks = blocks.min(x.len() / 32).min(k / 32);
        if out.len().checked_mul(k).is_none_or(|len| w.len() < len) {
            return crate::frame::i8::dot_rows_by_tiles(self, x, w, k, blocks, out);
        }
        // SAFETY: `self` exists only if AVX2 was detected; `x` holds `blocks * 32`
        // elements, `w` `out.len()` rows of `k >= blocks * 32` (just above).
        unsafe { x86_64avx2_dot_rows_i8(x, w, k, blocks, out) }
    }
}

/// [`I8Dot::dot_rows_i8`] on AVX2: the weight rows one after another, each over the whole
/// input row (the weights read in memory order, the order the hardware prefetcher follows
/// best: reading eight rows a block at a time, or prefetching some KiB ahead, kept the
/// product near half the read bandwidth at `k = 512`), the sign of each weight moved onto
/// the input as in [`x86_64avx2_dot_i8_4x1`]; eight rows' sums reduced by one tree of
/// horizontal adds, the leftover rows one at a time. The same exact sums.
///
/// # Safety
/// AVX2 must be present; `x` must hold at least `blocks * 32` elements and `w` at least
/// `out.len() * k`, with `blocks * 32 <= k`.
#[target_feature(enable = "avx2")]
unsafe fn x86_64avx2_dot_rows_i8(x: &[i8], w: &[i8], k: usize, blocks: usize, out: &mut [i32]) {
    let xp = x.as_ptr();
    let wp = w.as_ptr();
    let n = out.len();
    let mut o = 0;
    while o + 8 <= n {
        // SAFETY: rows `o..o + 8` are inside `w` (caller).
        unsafe { avx2_rows_pass::<8>(xp, wp.add(o * k), k, blocks, &mut out[o..o + 8]) };
        o += 8;
    }
    while o < n {
        // SAFETY: row `o` is inside `w` (caller).
        unsafe { avx2_rows_pass::<1>(xp, wp.add(o * k), k, blocks, &mut out[o..o + 1]) };
        o += 1;
    }
}

/// `R` (1 or 8) weight rows `k` apart from `w` against the input row `x`: see
/// [`x86_64avx2_dot_rows_i8`].
///
/// # Safety
/// As [`x86_64avx2_dot_rows_i8`], for `R` rows from `w`; `out` holds `R` entries.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn avx2_rows_pass<const R: usize>(
    x: *const i8,
    w: *const i8,
    k: usize,
    blocks: usize,
    out: &mut [i32],
) {
    let ones = _mm256_set1_epi16(1);
    let mut acc = [_mm256_setzero_si256(); R];
    for (m, acc) in acc.iter_mut().enumerate() {
        for b in 0..blocks {
            // SAFETY: `b * 32 + 32 <= blocks * 32 <= k`, inside the input and each of the `R`
            // weight rows (caller).
            unsafe {
                let xv = _mm256_loadu_si256(x.add(b * 32).cast());
                let wv = _mm256_loadu_si256(w.add(m * k + b * 32).cast());
                let pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(wv), _mm256_sign_epi8(xv, wv));
                *acc = _mm256_add_epi32(*acc, _mm256_madd_epi16(pairs, ones));
            }
        }
    }
    if R == 8 {
        // Per 128-bit lane: [0, 1, 2, 3] and [4, 5, 6, 7] partial sums, then the lanes
        // lined up and added.
        let h01 = _mm256_hadd_epi32(acc[0], acc[1]);
        let h23 = _mm256_hadd_epi32(acc[2], acc[3]);
        let h45 = _mm256_hadd_epi32(acc[4], acc[5]);
        let h67 = _mm256_hadd_epi32(acc[6], acc[7]);
        let lo = _mm256_hadd_epi32(h01, h23);
        let hi = _mm256_hadd_epi32(h45, h67);
        let s = _mm256_add_epi32(
            _mm256_permute2x128_si256::<0x20>(lo, hi),
            _mm256_permute2x128_si256::<0x31>(lo, hi),
        );
        // SAFETY: `out` holds eight i32 (caller), 32 bytes.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), s) };
    } else {
        for (dst, v) in out.iter_mut().zip(acc) {
            let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
            let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
            let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
            *dst = _mm_cvtsi128_si32(s);
        }
    }
}

/// [`x86_64avx2_dot_i8_4x1`] of `out.len()` input rows `k` apart, two at a time against
/// the four weight rows (8 accumulators, the weights' magnitudes formed once per two
/// rows; the sign of each weight moved onto the input as in the one-row tile). The same
/// exact sums.
///
/// # Safety
/// AVX2 must be present; every weight slice must hold at least `blocks * 32` elements and
/// `x` at least `(out.len() - 1) * k + blocks * 32`.
#[target_feature(enable = "avx2")]
unsafe fn x86_64avx2_dot_i8_4xr(
    x: &[i8],
    k: usize,
    w: &[&[i8]; MR],
    blocks: usize,
    out: &mut [[i32; MR]],
) {
    let wp: [*const i8; MR] = core::array::from_fn(|m| w[m].as_ptr());
    let xp = x.as_ptr();
    let rows = out.len();
    let mut r = 0;
    while r < rows {
        let take = (rows - r).min(2);
        // SAFETY: rows `r..r + take` are inside `x` (caller); the weights as above.
        unsafe {
            let xr = xp.add(r * k);
            let dst = &mut out[r..r + take];
            if take == 2 {
                avx2_rows_4xr::<2>(xr, k, &wp, blocks, dst);
            } else {
                avx2_rows_4xr::<1>(xr, k, &wp, blocks, dst);
            }
        }
        r += take;
    }
}

/// `R` input rows (`k` apart from `x`) against four weight rows: see
/// [`x86_64avx2_dot_i8_4xr`].
///
/// # Safety
/// As [`x86_64avx2_dot_i8_4xr`], for `R` rows from `x`; `out` holds `R` entries.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn avx2_rows_4xr<const R: usize>(
    x: *const i8,
    k: usize,
    wp: &[*const i8; MR],
    blocks: usize,
    out: &mut [[i32; MR]],
) {
    let ones = _mm256_set1_epi16(1);
    let mut acc = [[_mm256_setzero_si256(); MR]; R];
    for b in 0..blocks {
        // SAFETY: `b * 32 + 32 <= blocks * 32`, inside every weight row and each of the
        // `R` input rows (caller).
        unsafe {
            let aw: [__m256i; MR] = core::array::from_fn(|m| {
                _mm256_abs_epi8(_mm256_loadu_si256(wp[m].add(b * 32).cast()))
            });
            for (i, acc) in acc.iter_mut().enumerate() {
                let xv = _mm256_loadu_si256(x.add(i * k + b * 32).cast());
                for m in 0..MR {
                    let wv = _mm256_loadu_si256(wp[m].add(b * 32).cast());
                    let pairs = _mm256_maddubs_epi16(aw[m], _mm256_sign_epi8(xv, wv));
                    acc[m] = _mm256_add_epi32(acc[m], _mm256_madd_epi16(pairs, ones));
                }
            }
        }
    }
    for (acc, dst) in acc.iter().zip(out.iter_mut()) {
        // [a, b, c, d] partial sums in each 128-bit lane, then the two lanes added.
        let ab = _mm256_hadd_epi32(acc[0], acc[1]);
        let cd = _mm256_hadd_epi32(acc[2], acc[3]);
        let abcd = _mm256_hadd_epi32(ab, cd);
        let s = _mm_add_epi32(
            _mm256_castsi256_si128(abcd),
            _mm256_extracti128_si256::<1>(abcd),
        );
        // SAFETY: `dst` holds four i32, 16 bytes.
        unsafe { _mm_storeu_si128(dst.as_mut_ptr().cast(), s) };
    }
}

/// [`crate::quant::quantize_row`] 8 values at a time, the same bits, as
/// [`x86_64avx512_quantize_row`] (NaN lanes to 0 by the ordered-compare mask).
///
/// # Safety
/// AVX2 must be present; `q.len() == x.len()`.
#[target_feature(enable = "avx2")]
unsafe fn x86_64avx2_quantize_row(x: &[f32], q: &mut [i8]) -> f32 {
    use crate::quant::{round_to_i8, I8_MAX};
    let n = x.len();
    let body = n / 8 * 8;
    let xp = x.as_ptr();
    let qp = q.as_mut_ptr();
    let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
    let mut m = _mm256_setzero_ps();
    for i in (0..body).step_by(8) {
        // SAFETY: `i + 8 <= body <= n`.
        let v = unsafe { _mm256_loadu_ps(xp.add(i)) };
        // (`vmaxps` gives its second operand where either is NaN: the running maximum)
        m = _mm256_max_ps(_mm256_and_ps(v, abs_mask), m);
    }
    let mut lanes = [0.0f32; 8];
    // SAFETY: `lanes` holds 8 f32.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), m) };
    let mut amax = lanes.iter().fold(0.0f32, |a, &v| a.max(v));
    for &v in x.get(body..).unwrap_or(&[]) {
        amax = amax.max(v.abs());
    }
    if amax == 0.0 || !amax.is_finite() {
        q.fill(0);
        return if amax == 0.0 { 0.0 } else { amax };
    }
    let inv = I8_MAX / amax;
    let vinv = _mm256_set1_ps(inv);
    let half = _mm256_set1_ps(0.5);
    let zero = _mm256_setzero_ps();
    let (lo, hi) = (_mm256_set1_ps(-I8_MAX), _mm256_set1_ps(I8_MAX));
    for i in (0..body).step_by(8) {
        // SAFETY: `i + 8 <= body <= n`, for `x` and `q` alike (caller).
        unsafe {
            let v = _mm256_loadu_ps(xp.add(i));
            let t = _mm256_mul_ps(v, vinv);
            let up = _mm256_cmp_ps::<_CMP_GE_OQ>(v, zero);
            let r = _mm256_blendv_ps(_mm256_sub_ps(t, half), _mm256_add_ps(t, half), up);
            let ord = _mm256_cmp_ps::<_CMP_ORD_Q>(r, r);
            let r = _mm256_min_ps(_mm256_max_ps(r, lo), hi);
            let ri = _mm256_and_si256(_mm256_cvttps_epi32(r), _mm256_castps_si256(ord));
            let p16 = _mm_packs_epi32(
                _mm256_castsi256_si128(ri),
                _mm256_extracti128_si256::<1>(ri),
            );
            _mm_storel_epi64(qp.add(i).cast(), _mm_packs_epi16(p16, p16));
        }
    }
    for (dst, &v) in q.iter_mut().zip(x).skip(body) {
        *dst = round_to_i8(v * inv);
    }
    amax / I8_MAX
}

/// # Safety
/// AVX2 must be present; every slice must hold at least `blocks * 32` elements.
#[target_feature(enable = "avx2")]
unsafe fn x86_64avx2_dot_i8_4x1(x: &[i8], w: &[&[i8]; MR], blocks: usize) -> [i32; MR] {
    let ones = _mm256_set1_epi16(1);
    let mut acc = [_mm256_setzero_si256(); MR];
    let xp = x.as_ptr();
    let wp: [*const i8; MR] = core::array::from_fn(|m| w[m].as_ptr());
    for b in 0..blocks {
        // SAFETY: `b * 32 + 32 <= blocks * 32 <= len` of every slice (caller).
        unsafe {
            let xv = _mm256_loadu_si256(xp.add(b * 32).cast());
            for m in 0..MR {
                let wv = _mm256_loadu_si256(wp[m].add(b * 32).cast());
                let sx = _mm256_sign_epi8(xv, wv);
                let aw = _mm256_abs_epi8(wv);
                let pairs = _mm256_maddubs_epi16(aw, sx);
                acc[m] = _mm256_add_epi32(acc[m], _mm256_madd_epi16(pairs, ones));
            }
        }
    }
    acc.map(|v| {
        let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
        _mm_cvtsi128_si32(s)
    })
}

/// AVX-512 int8 kernel: 64-byte blocks, 4 weight rows at a time, by `vpdpbusd` (VNNI:
/// four u8 × i8 products added into each i32 lane in one instruction) where the CPU has
/// AVX-512 VNNI, else AVX2's tile ([`Avx2I8`]) two blocks of 32 at a time.
#[derive(Debug, Clone, Copy)]
pub struct Avx512I8 {
    vnni: bool,
}

impl I8Dot for Avx512I8 {
    const NAME: &'static str = "avx512-vnni";
    const BLOCK: usize = 64;

    fn detect() -> Option<Self> {
        Avx2I8::detect()?;
        #[cfg(feature = "std")]
        let vnni = std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vnni");
        #[cfg(not(feature = "std"))]
        let vnni = cfg!(all(
            target_feature = "avx512f",
            target_feature = "avx512bw",
            target_feature = "avx512vnni"
        ));
        Some(Avx512I8 { vnni })
    }

    fn dot_tile(self, x: &[i8], w: [&[i8]; MR], blocks: usize) -> [i32; MR] {
        if !self.vnni {
            // AVX2 was detected (`detect`); its blocks are half as long.
            return Avx2I8(()).dot_tile(x, w, 2 * blocks);
        }
        let blocks = w
            .iter()
            .fold(blocks.min(x.len() / 64), |b, s| b.min(s.len() / 64));
        // SAFETY: `vnni` is true only if AVX-512F, AVX-512BW and AVX-512 VNNI were
        // detected; every slice holds at least `blocks * 64` elements (just above).
        unsafe { x86_64avx512_dot_i8_4x1(x, &w, blocks) }
    }

    fn quantize_row(self, x: &[f32], q: &mut [i8]) -> f32 {
        if !self.vnni || q.len() != x.len() {
            // AVX2 was detected (`detect`).
            return Avx2I8(()).quantize_row(x, q);
        }
        // SAFETY: `vnni` is true only if AVX-512F and AVX-512BW were detected; `q` and `x`
        // have the same length (just above).
        unsafe { x86_64avx512_quantize_row(x, q) }
    }

    fn dot_tiles(self, x: &[i8], k: usize, w: [&[i8]; MR], blocks: usize, out: &mut [[i32; MR]]) {
        let rows = out.len();
        // Every row `r < rows` reads `x[r * k..][..blocks * 64]`: whole blocks inside `k`
        // and the rows inside `x`.
        let blocks = w
            .iter()
            .fold(blocks.min(k / 64), |b, s| b.min(s.len() / 64));
        if !self.vnni {
            // AVX2 was detected (`detect`); its blocks are half as long.
            return Avx2I8(()).dot_tiles(x, k, w, 2 * blocks, out);
        }
        if rows < 2 || x.len() < rows * k {
            for (r, sums) in out.iter_mut().enumerate() {
                *sums = self.dot_tile(x.get(r * k..).unwrap_or(&[]), w, blocks);
            }
            return;
        }
        // SAFETY: `vnni` as in `dot_tile`; every weight slice holds `blocks * 64` elements
        // and every input row `r < rows` holds `blocks * 64 <= k` from `x[r * k..]`, inside
        // `x` (just above).
        unsafe { x86_64avx512_dot_i8_4xr(x, k, &w, blocks, out) }
    }

    #[cfg(not(target_os = "none"))]
    fn dot_rows_i8(self, x: &[i8], w: &[i8], k: usize, blocks: usize, out: &mut [i32]) {
        if !self.vnni {
            // AVX2 was detected (`detect`); its blocks are half as long.
            return Avx2I8(()).dot_rows_i8(x, w, k, 2 * blocks, out);
        }
        let blocks = blocks.min(x.len() / 64).min(k / 64);
        if out.len().checked_mul(k).is_none_or(|len| w.len() < len) {
            return crate::frame::i8::dot_rows_by_tiles(self, x, w, k, blocks, out);
        }
        // SAFETY: `vnni` as in `dot_tile`; `x` holds `blocks * 64` elements, `w`
        // `out.len()` rows of `k >= blocks * 64` (just above).
        unsafe { x86_64avx512_dot_rows_i8(x, w, k, blocks, out) }
    }

    #[cfg(feature = "std")]
    fn linear_rows(
        self,
        x: &[f32],
        w: I8Matrix,
        bias: Option<&[f32]>,
        k: usize,
        y: &mut [f32],
    ) -> bool {
        self.vnni && linear_rows_vnni(self, x, w, bias, k, y)
    }
}

/// Hosts with `std`: whether the int8 products run [`Avx512I8`]'s own pass over several
/// input rows (the active kernel is AVX-512's and this CPU has VNNI), which gains from
/// more rows at once than the engine's buffer of activation rows holds (the engine's
/// feed-forward network then takes 32 rows at a time).
#[cfg(feature = "std")]
pub fn packed_rows_i8() -> bool {
    use crate::dispatch::{active_kernel_for, Dtype, Kernel};
    matches!(active_kernel_for(Dtype::I8), Kernel::Avx512)
        && Avx512I8::detect().is_some_and(|k| k.vnni)
}

/// Fewest input rows [`Avx512I8`]'s [`I8Dot::linear_rows`] takes (fewer fill only part
/// of its lanes).
#[cfg(feature = "std")]
const PACKED_MIN_ROWS: usize = 8;

/// Input rows [`Avx512I8`]'s [`I8Dot::linear_rows`] quantizes and packs at once (the
/// weights are read once per this many rows).
#[cfg(feature = "std")]
const PACKED_ROWS: usize = 128;

/// The quantized input rows of [`linear_rows_vnni`], packed (one per thread): groups of
/// 16 rows, 4 bytes a row in each 64-byte vector, then at most one group of up to 8 rows,
/// 8 bytes a row.
#[cfg(feature = "std")]
struct Packed {
    /// The groups of 16 rows: for each group, each 4 bytes `i` of the rows (`k / 4` of
    /// them), the 16 rows' bytes `4i..4i + 4`, offset by 128 (`x ^ 0x80`, as unsigned
    /// bytes), one 64-byte vector (padding rows: zeros, `x = -128`, never stored).
    q: std::vec::Vec<u32>,
    /// The group of 8: for each 8 bytes `i` of the rows (`k / 8`), the 8 rows' bytes
    /// `8i..8i + 8`, offset as in `q`.
    q8: std::vec::Vec<u64>,
    /// Each row's scale, the group of 8 after the groups of 16 (padding rows: 0).
    scales: std::vec::Vec<f32>,
    /// Each row's values after its group's whole steps (`k % 4` or `k % 8`), 8 bytes a
    /// row.
    tails: std::vec::Vec<i8>,
    /// One row's integers, as `quantize_row` gives them.
    row: std::vec::Vec<i8>,
}

/// [`I8Dot::linear_rows`] on AVX-512 VNNI with the input rows packed ([`Packed`]) so that
/// each lane of a vector holds one row's sums (a group of 8: two lanes a row) and nothing
/// is reduced across a vector: `vpdpbusd` of 16 rows' 4 bytes (offset, the unsigned
/// operand) by 4 bytes of one weight row broadcast (the signed operand; a group of 8: 8
/// rows' 8 bytes by 8 bytes), `sum x w = sum (x + 128) w - 128 sum w`, each weight row's
/// sum formed once per call. `false` (the frame runs it) where the rows are fewer than
/// [`PACKED_MIN_ROWS`], the shapes do not hold or the buffer is in use.
#[cfg(feature = "std")]
fn linear_rows_vnni(
    kern: Avx512I8,
    x: &[f32],
    w: I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
) -> bool {
    use std::cell::RefCell;
    std::thread_local! {
        static PACKED: RefCell<Packed> = const {
            RefCell::new(Packed {
                q: std::vec::Vec::new(),
                q8: std::vec::Vec::new(),
                scales: std::vec::Vec::new(),
                tails: std::vec::Vec::new(),
                row: std::vec::Vec::new(),
            })
        };
    }
    let rows = x.len().checked_div(k).unwrap_or(0);
    let n = w.values.len().checked_div(k).unwrap_or(0);
    if k < 8
        || rows < PACKED_MIN_ROWS
        || n == 0
        || w.scales.len() < n
        || bias.is_some_and(|b| b.len() < n)
        || rows.checked_mul(n).is_none_or(|len| y.len() < len)
    {
        return false;
    }
    PACKED.with(|packed| {
        let Ok(mut packed) = packed.try_borrow_mut() else {
            return false;
        };
        let p = &mut *packed;
        let mut r0 = 0;
        while r0 < rows {
            let c = (rows - r0).min(PACKED_ROWS);
            // Whole groups of 16, and the rest in a group of 8 where it fits one.
            let (groups, eight) = match c % 16 {
                rest @ 1..=8 => (c / 16, rest),
                _ => (c.div_ceil(16), 0),
            };
            let (Some(xs), Some(ys)) =
                (x.get(r0 * k..(r0 + c) * k), y.get_mut(r0 * n..(r0 + c) * n))
            else {
                return false;
            };
            p.pack(kern, xs, k, groups, eight);
            let view = PackedRows {
                q: &p.q,
                q8: &p.q8,
                scales: &p.scales,
                tails: &p.tails,
                k4: k / 4,
                k8: k / 8,
                groups,
                rows: c - eight,
                eight,
            };
            // SAFETY: `vnni` was detected (the caller); `w` holds `n` rows of `k` and
            // `n` scales (and `bias` `n` values) and `ys` `c` rows of `n` (just above);
            // `pack` filled the packed values, scales and tails of `groups` groups of 16
            // and the group of 8 (`view`'s contract).
            unsafe { x86_64avx512_linear_packed(&view, w.values, w.scales, bias, k, n, ys) };
            r0 += c;
        }
        true
    })
}

#[cfg(feature = "std")]
impl Packed {
    /// Quantizes the rows of `x` (`k` each) by `kern.quantize_row` and packs them: the
    /// first `x.len() / k - eight` (at most `groups * 16`) into `groups` groups of 16,
    /// the last `eight` (at most 8) into the group of 8.
    fn pack(&mut self, kern: Avx512I8, x: &[f32], k: usize, groups: usize, eight: usize) {
        let (k4, k8) = (k / 4, k / 8);
        let slots = groups * 16;
        // (every value of `q` in use is written below: no need to clear it)
        if self.q.len() < slots * k4 {
            self.q.resize(slots * k4, 0);
        }
        self.q8.clear();
        self.q8.resize(if eight > 0 { 8 * k8 } else { 0 }, 0);
        self.scales.clear();
        self.scales.resize(slots + 16, 0.0);
        self.tails.clear();
        self.tails.resize((slots + 8) * 8, 0);
        self.row.resize(16 * k, 0);
        let rows = x.len() / k;
        let first8 = rows.saturating_sub(eight);
        for (r, x_row) in x.chunks_exact(k).enumerate() {
            // The group of 8 after the groups of 16; a group of 16's rows side by side in
            // `row`, packed once the group is whole (or the rows end).
            let (slot, head, at) = if r < first8 {
                (r, 4 * k4, (r % 16) * k)
            } else {
                (slots + r - first8, 8 * k8, 0)
            };
            let row = &mut self.row[at..at + k];
            if let Some(s) = self.scales.get_mut(slot) {
                *s = kern.quantize_row(x_row, row);
            }
            let tail = &mut self.tails[slot * 8..slot * 8 + 8];
            for (dst, &v) in tail.iter_mut().zip(&row[head..]) {
                *dst = v;
            }
            if r < first8 {
                if r % 16 == 15 || r + 1 == first8 {
                    let group = &mut self.q[(r / 16) * k4 * 16..][..k4 * 16];
                    // SAFETY: `kern` exists with `vnni` (the caller) only where AVX-512F
                    // was detected; `row` holds 16 rows of `k >= 4 * k4` and `group`
                    // `16 * k4` values.
                    unsafe { x86_64avx512_pack16(&self.row, k, k4, group) };
                }
            } else {
                let dst = self.q8.iter_mut().skip(slot - slots).step_by(8);
                for (dst, b) in dst.zip(row.chunks_exact(8)) {
                    let b: [u8; 8] = core::array::from_fn(|i| b[i] as u8);
                    *dst = u64::from_le_bytes(b) ^ 0x8080_8080_8080_8080;
                }
            }
        }
    }
}

/// A group of 16 quantized rows (`k` apart in `rows`) packed into `group`: each 4 bytes
/// `i < k4` of the rows, the 16 rows' bytes `4i..4i + 4` offset by 128 (`x ^ 0x80`), side
/// by side; 64 bytes of the 16 rows at a time by a 16 x 16 transpose of 4-byte values,
/// the rest one value at a time. (Rows past the last quantized one hold whatever the
/// buffer held: padding, never stored.)
///
/// # Safety
/// AVX-512F must be present; `rows` must hold `16 * k` values, `group` `16 * k4`, with
/// `4 * k4 <= k`.
#[cfg(feature = "std")]
#[target_feature(enable = "avx512f")]
unsafe fn x86_64avx512_pack16(rows: &[i8], k: usize, k4: usize, group: &mut [u32]) {
    let bias = _mm512_set1_epi8(-128);
    let src = rows.as_ptr();
    let dst = group.as_mut_ptr();
    let blocks = k4 / 16;
    for b in 0..blocks {
        // SAFETY: `b * 64 + 64 <= 4 * k4 <= k` inside each of the 16 rows (caller).
        let v: [__m512i; 16] =
            core::array::from_fn(|l| unsafe { _mm512_loadu_si512(src.add(l * k + b * 64).cast()) });
        let cols = transpose_16x16(v);
        for (c, col) in cols.iter().enumerate() {
            // SAFETY: `(b * 16 + c) * 16 + 16 <= 16 * k4` inside `group` (caller).
            unsafe {
                _mm512_storeu_si512(
                    dst.add((b * 16 + c) * 16).cast(),
                    _mm512_xor_si512(*col, bias),
                )
            };
        }
    }
    for i in blocks * 16..k4 {
        for l in 0..16 {
            // SAFETY: `4 * i + 4 <= 4 * k4 <= k` inside row `l`, `i * 16 + l < 16 * k4`
            // inside `group` (caller).
            unsafe {
                let v = src.add(l * k + 4 * i).cast::<u32>().read_unaligned();
                *dst.add(i * 16 + l) = v ^ 0x8080_8080;
            }
        }
    }
}

/// The 16 x 16 transpose of 4-byte values: vector `c` of the result holds value `c` of
/// each of `v`. Unpacks of pairs and of fours within 128-bit lanes, then two rounds of
/// lane shuffles.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn transpose_16x16(v: [__m512i; 16]) -> [__m512i; 16] {
    // t: per lane, [a0 b0 a1 b1] and [a2 b2 a3 b3] for the pairs of rows.
    let t: [__m512i; 16] = core::array::from_fn(|i| {
        let (a, b) = (v[i / 2 * 2], v[i / 2 * 2 + 1]);
        if i % 2 == 0 {
            _mm512_unpacklo_epi32(a, b)
        } else {
            _mm512_unpackhi_epi32(a, b)
        }
    });
    // u[4i + m]: per lane L, value 4L + m of rows 4i..4i + 4.
    let u: [__m512i; 16] = core::array::from_fn(|j| {
        let (i, m) = (j / 4, j % 4);
        let (a, b) = (t[4 * i + m / 2], t[4 * i + 2 + m / 2]);
        if m % 2 == 0 {
            _mm512_unpacklo_epi64(a, b)
        } else {
            _mm512_unpackhi_epi64(a, b)
        }
    });
    let mut out = [_mm512_setzero_si512(); 16];
    for m in 0..4 {
        let p0 = _mm512_shuffle_i32x4::<0b10_00_10_00>(u[m], u[4 + m]);
        let p1 = _mm512_shuffle_i32x4::<0b11_01_11_01>(u[m], u[4 + m]);
        let q0 = _mm512_shuffle_i32x4::<0b10_00_10_00>(u[8 + m], u[12 + m]);
        let q1 = _mm512_shuffle_i32x4::<0b11_01_11_01>(u[8 + m], u[12 + m]);
        out[m] = _mm512_shuffle_i32x4::<0b10_00_10_00>(p0, q0);
        out[8 + m] = _mm512_shuffle_i32x4::<0b11_01_11_01>(p0, q0);
        out[4 + m] = _mm512_shuffle_i32x4::<0b10_00_10_00>(p1, q1);
        out[12 + m] = _mm512_shuffle_i32x4::<0b11_01_11_01>(p1, q1);
    }
    out
}

/// A view of [`Packed`] for [`x86_64avx512_linear_packed`].
#[cfg(feature = "std")]
struct PackedRows<'a> {
    q: &'a [u32],
    q8: &'a [u64],
    scales: &'a [f32],
    tails: &'a [i8],
    /// 4-byte steps a row (groups of 16).
    k4: usize,
    /// 8-byte steps a row (the group of 8).
    k8: usize,
    /// Groups of 16.
    groups: usize,
    /// Rows of the groups of 16 to store (the rest of the last one is padding).
    rows: usize,
    /// Rows of the group of 8 (0: none), after those.
    eight: usize,
}

/// `y[r][o] = dequantize(sum_i x[r][i] w[o][i], sx[r], sw[o], bias[o])` for the packed
/// rows `p` and all `n` weight rows: tiles of 8 weight rows (then single rows), each
/// tile's offset corrections `128 sum w` formed first (reading its rows in memory order),
/// then two groups of 16 rows at a time in 16 accumulators (each 4-byte step one vector
/// load a group and one broadcast a weight row), a group of 16 alone, the group of 8 (8
/// accumulators; two lanes a row, added at the end), the first pass over a tile fetching
/// the next tile; the `k % 4` (`k % 8`) tail by the scalar dot product; the epilogue in
/// vectors (`vcvtdq2ps`, `sx * sw`, the product, `+ b`: [`crate::frame::i8::dequantize`]'s
/// operations in its order) and a transpose to the rows.
///
/// # Safety
/// AVX-512F, AVX-512BW and AVX-512 VNNI must be present; `w` must hold at least `n * k`
/// values, `sw` (and `bias`) at least `n`, `y` at least `(p.rows + p.eight) * n`; `p.q` at
/// least `p.groups * p.k4 * 16`, `p.q8` at least `8 * p.k8` where `p.eight > 0`,
/// `p.scales` at least `p.groups * 16 + 16`, `p.tails` at least `(p.groups * 16 + 8) * 8`,
/// `p.rows <= p.groups * 16`, `p.eight <= 8`, `4 * p.k4 <= k`, `8 * p.k8 <= k`.
#[cfg(feature = "std")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn x86_64avx512_linear_packed(
    p: &PackedRows,
    w: &[i8],
    sw: &[f32],
    bias: Option<&[f32]>,
    k: usize,
    n: usize,
    y: &mut [f32],
) {
    let tile = Tile {
        w,
        sw,
        bias,
        k,
        n,
        o: 0,
    };
    let mut o = 0;
    while o + 8 <= n {
        // SAFETY: rows `o..o + 8` are inside `w` (caller).
        unsafe { packed_tile::<8>(p, &Tile { o, ..tile }, y) };
        o += 8;
    }
    while o < n {
        // SAFETY: row `o` is inside `w` (caller).
        unsafe { packed_tile::<1>(p, &Tile { o, ..tile }, y) };
        o += 1;
    }
}

/// The weights of [`x86_64avx512_linear_packed`] and the first row `o` of a tile.
#[cfg(feature = "std")]
#[derive(Clone, Copy)]
struct Tile<'a> {
    w: &'a [i8],
    sw: &'a [f32],
    bias: Option<&'a [f32]>,
    k: usize,
    n: usize,
    o: usize,
}

/// `J` (8 or 1) weight rows from row `t.o` over every packed row: see
/// [`x86_64avx512_linear_packed`].
///
/// # Safety
/// As [`x86_64avx512_linear_packed`], with `t.o + J <= n`.
#[cfg(feature = "std")]
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn packed_tile<const J: usize>(p: &PackedRows, t: &Tile, y: &mut [f32]) {
    let (len4, len8) = (4 * p.k4, 8 * p.k8);
    let blocks = len8 / 64;
    let ones = _mm512_set1_epi8(1);
    let wp = t.w.as_ptr();
    // Each weight row's sums over the first `len8` and `len4` values (`len8 <= len4`):
    // the rows' blocks side by side (`J` chains), one tree of adds for the vectors.
    let wr: [*const i8; J] = core::array::from_fn(|j| wp.wrapping_add((t.o + j) * t.k));
    let mut acc = [_mm512_setzero_si512(); J];
    for b in 0..blocks {
        for (acc, row) in acc.iter_mut().zip(wr) {
            // SAFETY: `b * 64 + 64 <= len8 <= k`, inside row `o + j` (caller).
            let v = unsafe { _mm512_loadu_si512(row.add(b * 64).cast()) };
            *acc = _mm512_dpbusd_epi32(*acc, ones, v);
        }
    }
    let vector: [i32; J] = if J == 8 {
        let lo = reduce4([acc[0], acc[1], acc[2], acc[3]]);
        let hi = reduce4([acc[4], acc[5], acc[6], acc[7]]);
        core::array::from_fn(|j| if j < 4 { lo[j] } else { hi[j - 4] })
    } else {
        acc.map(|v| _mm512_reduce_add_epi32(v))
    };
    let sums: [(i32, i32); J] = core::array::from_fn(|j| {
        let row = wr[j];
        let mut sum = vector[j];
        for i in blocks * 64..len8 {
            // SAFETY: `i < len8 <= k`, inside row `o + j` (caller).
            sum = sum.wrapping_add(i32::from(unsafe { *row.add(i) }));
        }
        let sum8 = sum;
        for i in len8..len4 {
            // SAFETY: `i < len4 <= k`, inside row `o + j` (caller).
            sum = sum.wrapping_add(i32::from(unsafe { *row.add(i) }));
        }
        (sum8.wrapping_mul(128), sum.wrapping_mul(128))
    });
    let fix4: [__m512i; J] = core::array::from_fn(|j| _mm512_set1_epi32(sums[j].1));
    let mut ahead = true;
    let mut g = 0;
    while g + 2 <= p.groups {
        // SAFETY: groups `g, g + 1` are inside `p` (caller).
        unsafe { packed_pass::<J, 2>(p, t, g, &fix4, ahead, y) };
        ahead = false;
        g += 2;
    }
    if g < p.groups {
        // SAFETY: group `g` is inside `p` (caller).
        unsafe { packed_pass::<J, 1>(p, t, g, &fix4, ahead, y) };
        ahead = false;
    }
    if p.eight > 0 {
        let fix8: [i32; J] = core::array::from_fn(|j| sums[j].0);
        // SAFETY: the group of 8 is inside `p` (caller).
        unsafe { packed_pass8::<J>(p, t, &fix8, ahead, y) };
    }
}

/// Fetches line `i / (16 / J)` of the `J * k` bytes after a tile of `J` rows from `w`
/// every `16 / J`-th step `i` of 4 bytes (all of them where `J` is 8; one line a row and
/// 16 steps where it is 1), a hint: never faults, whatever the address.
#[cfg(feature = "std")]
#[inline(always)]
fn fetch_next<const J: usize>(t: &Tile, i: usize) {
    let every = 16 / J;
    if i.is_multiple_of(every) {
        let next = t.w.as_ptr().wrapping_add((t.o + J) * t.k);
        // SAFETY: a prefetch hint.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(next.wrapping_add(i / every * 64)) };
    }
}

/// `J` weight rows of tile `t` over `G` groups of 16 packed rows from group `g0`, with the
/// tile's corrections `fix`, fetching the next tile where `ahead`: see
/// [`x86_64avx512_linear_packed`].
///
/// # Safety
/// As [`packed_tile`], with `g0 + G <= p.groups`.
#[cfg(feature = "std")]
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn packed_pass<const J: usize, const G: usize>(
    p: &PackedRows,
    t: &Tile,
    g0: usize,
    fix: &[__m512i; J],
    ahead: bool,
    y: &mut [f32],
) {
    let (k, n, o) = (t.k, t.n, t.o);
    let k4 = p.k4;
    let wr: [*const i8; J] = core::array::from_fn(|j| t.w.as_ptr().wrapping_add((o + j) * k));
    let xq: [*const u32; G] =
        core::array::from_fn(|g| p.q.as_ptr().wrapping_add((g0 + g) * k4 * 16));
    let mut acc = [[_mm512_setzero_si512(); J]; G];
    for i in 0..k4 {
        if ahead {
            fetch_next::<J>(t, i);
        }
        // SAFETY: `i < k4`: 16 values of group `g0 + g` inside `p.q`, 4 bytes `4i..4i + 4
        // <= 4 * k4 <= k` inside each weight row (caller).
        unsafe {
            let xv: [__m512i; G] =
                core::array::from_fn(|g| _mm512_loadu_si512(xq[g].add(i * 16).cast()));
            for j in 0..J {
                let b = _mm512_set1_epi32(wr[j].add(4 * i).cast::<i32>().read_unaligned());
                for g in 0..G {
                    acc[g][j] = _mm512_dpbusd_epi32(acc[g][j], xv[g], b);
                }
            }
        }
    }
    let head = 4 * k4;
    for (g, acc) in acc.iter().enumerate() {
        let first = (g0 + g) * 16;
        let valid = p.rows.saturating_sub(first).min(16);
        if valid == 0 {
            continue;
        }
        let mut s: [__m512i; J] = core::array::from_fn(|j| _mm512_sub_epi32(acc[j], fix[j]));
        if head < k {
            for (j, s) in s.iter_mut().enumerate() {
                let sums = tail_sums(p, t, o + j, head, first, valid);
                // SAFETY: `sums` holds 16 i32, 64 bytes.
                *s = _mm512_add_epi32(*s, unsafe { _mm512_loadu_si512(sums.as_ptr().cast()) });
            }
        }
        // SAFETY: `first + 16 <= p.groups * 16` scales (caller).
        let sx = unsafe { _mm512_loadu_ps(p.scales.as_ptr().add(first)) };
        let v: [__m512; J] = core::array::from_fn(|j| {
            let (swj, bj) = weight_scale_bias(t, o + j);
            dequantize16(s[j], sx, _mm512_set1_ps(swj), _mm512_set1_ps(bj))
        });
        let yp = y.as_mut_ptr().wrapping_add(first * n + o);
        if J == 8 {
            let rows = transpose_8x16(core::array::from_fn(|j| v[j]));
            for (l, row) in rows.iter().enumerate().take(valid) {
                // SAFETY: row `first + l < p.rows`, outputs `o..o + 8 <= n` inside `y`
                // (caller).
                unsafe { _mm256_storeu_ps(yp.add(l * n), *row) };
            }
        } else {
            for (j, v) in v.iter().enumerate() {
                let mut lanes = [0.0f32; 16];
                // SAFETY: `lanes` holds 16 f32, 64 bytes.
                unsafe { _mm512_storeu_ps(lanes.as_mut_ptr(), *v) };
                for (l, &v) in lanes.iter().enumerate().take(valid) {
                    // SAFETY: row `first + l < p.rows`, output `o + j < n` inside `y`
                    // (caller).
                    unsafe { *yp.add(l * n + j) = v };
                }
            }
        }
    }
}

/// `J` weight rows of tile `t` over the group of 8 packed rows (8 bytes a step, two lanes
/// a row, added at the end), with the tile's corrections `fix` (over `8 * p.k8` values),
/// fetching the next tile where `ahead`: see [`x86_64avx512_linear_packed`].
///
/// # Safety
/// As [`packed_tile`], with `p.eight > 0`.
#[cfg(feature = "std")]
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn packed_pass8<const J: usize>(
    p: &PackedRows,
    t: &Tile,
    fix: &[i32; J],
    ahead: bool,
    y: &mut [f32],
) {
    let (k, n, o) = (t.k, t.n, t.o);
    let k8 = p.k8;
    let wr: [*const i8; J] = core::array::from_fn(|j| t.w.as_ptr().wrapping_add((o + j) * k));
    let xq = p.q8.as_ptr();
    let mut acc = [_mm512_setzero_si512(); J];
    for i in 0..k8 {
        if ahead {
            fetch_next::<J>(t, 2 * i);
            fetch_next::<J>(t, 2 * i + 1);
        }
        // SAFETY: `i < k8`: 8 values inside `p.q8`, 8 bytes `8i..8i + 8 <= 8 * k8 <= k`
        // inside each weight row (caller).
        unsafe {
            let xv = _mm512_loadu_si512(xq.add(i * 8).cast());
            for j in 0..J {
                let b = _mm512_set1_epi64(wr[j].add(8 * i).cast::<i64>().read_unaligned());
                acc[j] = _mm512_dpbusd_epi32(acc[j], xv, b);
            }
        }
    }
    let first = p.groups * 16;
    let valid = p.eight;
    let head = 8 * k8;
    // Lanes 2r and 2r + 1 of `a` and of `b` added: row r of `a` in lane r, of `b` in lane
    // 8 + r.
    let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    let pair = |a: __m512i, b: __m512i| {
        _mm512_add_epi32(
            _mm512_permutex2var_epi32(a, even, b),
            _mm512_permutex2var_epi32(a, odd, b),
        )
    };
    let tails = |j: usize| {
        if head < k {
            tail_sums(p, t, o + j, head, first, valid)
        } else {
            [0; 16]
        }
    };
    // SAFETY: `first + 16 <= p.groups * 16 + 16` scales (caller).
    let sx = unsafe { _mm512_loadu_ps(p.scales.as_ptr().add(first)) };
    // The group's 8 scales in both halves.
    let sx = _mm512_shuffle_f32x4::<0b01_00_01_00>(sx, sx);
    let halves = |a: i32, b: i32| {
        _mm512_mask_blend_epi32(0xff00, _mm512_set1_epi32(a), _mm512_set1_epi32(b))
    };
    let halves_ps =
        |a: f32, b: f32| _mm512_mask_blend_ps(0xff00, _mm512_set1_ps(a), _mm512_set1_ps(b));
    let yp = y.as_mut_ptr().wrapping_add(first * n + o);
    if J == 8 {
        // Weight rows 2m and 2m + 1 in vector m.
        let cols: [__m256; 8] = {
            let mut cols = [_mm256_setzero_ps(); 8];
            for m in 0..4 {
                let (a, b) = (2 * m, 2 * m + 1);
                let (ta, tb) = (tails(a), tails(b));
                let t16: [i32; 16] =
                    core::array::from_fn(|l| if l < 8 { ta[l] } else { tb[l - 8] });
                // SAFETY: `t16` holds 16 i32, 64 bytes.
                let tv = unsafe { _mm512_loadu_si512(t16.as_ptr().cast()) };
                let s = _mm512_sub_epi32(pair(acc[a], acc[b]), halves(fix[a], fix[b]));
                let s = _mm512_add_epi32(s, tv);
                let ((swa, ba), (swb, bb)) =
                    (weight_scale_bias(t, o + a), weight_scale_bias(t, o + b));
                let v = dequantize16(s, sx, halves_ps(swa, swb), halves_ps(ba, bb));
                cols[a] = _mm512_castps512_ps256(v);
                cols[b] = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v)));
            }
            cols
        };
        for (l, row) in transpose_8x8(cols).iter().enumerate().take(valid) {
            // SAFETY: row `first + l`, `l < p.eight`, outputs `o..o + 8 <= n` inside `y`
            // (caller).
            unsafe { _mm256_storeu_ps(yp.add(l * n), *row) };
        }
    } else {
        for j in 0..J {
            let tj = tails(j);
            // SAFETY: `tj` holds 16 i32, 64 bytes.
            let tv = unsafe { _mm512_loadu_si512(tj.as_ptr().cast()) };
            let s = _mm512_sub_epi32(pair(acc[j], acc[j]), _mm512_set1_epi32(fix[j]));
            let s = _mm512_add_epi32(s, tv);
            let (swj, bj) = weight_scale_bias(t, o + j);
            let v = dequantize16(s, sx, _mm512_set1_ps(swj), _mm512_set1_ps(bj));
            let mut lanes = [0.0f32; 16];
            // SAFETY: `lanes` holds 16 f32, 64 bytes.
            unsafe { _mm512_storeu_ps(lanes.as_mut_ptr(), v) };
            for (l, &v) in lanes.iter().enumerate().take(valid) {
                // SAFETY: row `first + l`, `l < p.eight`, output `o + j < n` inside `y`
                // (caller).
                unsafe { *yp.add(l * n + j) = v };
            }
        }
    }
}

/// The scalar dot products of weight row `row`'s values from `head` on with the tails of
/// the `valid` packed rows from slot `first`, in lanes `0..valid`.
#[cfg(feature = "std")]
#[inline(always)]
fn tail_sums(
    p: &PackedRows,
    t: &Tile,
    row: usize,
    head: usize,
    first: usize,
    valid: usize,
) -> [i32; 16] {
    let w_tail = t.w.get(row * t.k + head..(row + 1) * t.k).unwrap_or(&[]);
    let mut sums = [0i32; 16];
    for (l, s) in sums.iter_mut().enumerate().take(valid) {
        let slot = first + l;
        let x_tail = p
            .tails
            .get(slot * 8..slot * 8 + w_tail.len())
            .unwrap_or(&[]);
        *s = crate::generic::i8::dot_i8(x_tail, w_tail);
    }
    sums
}

/// Weight row `row`'s scale and bias (0 without one).
#[cfg(feature = "std")]
#[inline(always)]
fn weight_scale_bias(t: &Tile, row: usize) -> (f32, f32) {
    let sw = t.sw.get(row).copied().unwrap_or(0.0);
    let b = t.bias.and_then(|b| b.get(row)).copied().unwrap_or(0.0);
    (sw, b)
}

/// [`crate::frame::i8::dequantize`] lane by lane: `acc as f32 * (sx * sw) + b`, in this
/// order (the same roundings).
#[cfg(feature = "std")]
#[inline]
#[target_feature(enable = "avx512f")]
fn dequantize16(acc: __m512i, sx: __m512, sw: __m512, b: __m512) -> __m512 {
    _mm512_add_ps(
        _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_mul_ps(sx, sw)),
        b,
    )
}

/// The 8 x 8 transpose: row `l` of the result holds lane `l` of each of `v`.
#[cfg(feature = "std")]
#[inline]
#[target_feature(enable = "avx2")]
fn transpose_8x8(v: [__m256; 8]) -> [__m256; 8] {
    // Per 128-bit lane: pairs of rows interleaved, then four rows' columns, then the
    // lanes swapped in.
    let t: [__m256; 8] = core::array::from_fn(|i| {
        let (a, b) = (v[i / 2 * 2], v[i / 2 * 2 + 1]);
        if i % 2 == 0 {
            _mm256_unpacklo_ps(a, b)
        } else {
            _mm256_unpackhi_ps(a, b)
        }
    });
    let s: [__m256; 8] = core::array::from_fn(|i| {
        let (h, m) = (i / 4, i % 4);
        let (a, b) = (t[4 * h + m / 2], t[4 * h + 2 + m / 2]);
        if m % 2 == 0 {
            _mm256_shuffle_ps::<0x44>(a, b)
        } else {
            _mm256_shuffle_ps::<0xEE>(a, b)
        }
    });
    // s[m]: per lane L, columns 0..4 of row 4L + m; s[4 + m]: columns 4..8.
    let mut rows = [_mm256_setzero_ps(); 8];
    for m in 0..4 {
        rows[m] = _mm256_permute2f128_ps::<0x20>(s[m], s[4 + m]);
        rows[4 + m] = _mm256_permute2f128_ps::<0x31>(s[m], s[4 + m]);
    }
    rows
}

/// Eight vectors of 16 lanes (lane `l` of vector `j`: row `l`, column `j`) as 16 rows of
/// 8 columns: unpacks and shuffles within 128-bit lanes (an 8 x 8 transpose in each half
/// of 4 rows), then two-source permutes across them.
#[cfg(feature = "std")]
#[inline]
#[target_feature(enable = "avx512f")]
fn transpose_8x16(v: [__m512; 8]) -> [__m256; 16] {
    // t: per 128-bit lane L, [v_a[4L], v_b[4L], v_a[4L + 1], v_b[4L + 1]] (lo) and the
    // next two rows (hi), for the pairs (0, 1), (2, 3), (4, 5), (6, 7).
    let t: [__m512; 8] = core::array::from_fn(|i| {
        let (a, b) = (v[i / 2 * 2], v[i / 2 * 2 + 1]);
        if i % 2 == 0 {
            _mm512_unpacklo_ps(a, b)
        } else {
            _mm512_unpackhi_ps(a, b)
        }
    });
    // s[m] (m < 4): per lane L, columns 0..4 of row 4L + m; s[4 + m]: columns 4..8.
    let s: [__m512; 8] = core::array::from_fn(|i| {
        let (h, m) = (i / 4, i % 4);
        let (a, b) = (t[4 * h + m / 2], t[4 * h + 2 + m / 2]);
        if m % 2 == 0 {
            _mm512_shuffle_ps::<0x44>(a, b)
        } else {
            _mm512_shuffle_ps::<0xEE>(a, b)
        }
    });
    let lo = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    let hi = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
    let half = |v: __m512| {
        (
            _mm512_castps512_ps256(v),
            _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v))),
        )
    };
    let mut rows = [_mm256_setzero_ps(); 16];
    for m in 0..4 {
        // Rows m and 4 + m, then 8 + m and 12 + m.
        let (r0, r1) = half(_mm512_permutex2var_ps(s[m], lo, s[4 + m]));
        let (r2, r3) = half(_mm512_permutex2var_ps(s[m], hi, s[4 + m]));
        rows[m] = r0;
        rows[4 + m] = r1;
        rows[8 + m] = r2;
        rows[12 + m] = r3;
    }
    rows
}

/// [`I8Dot::dot_rows_i8`] on AVX-512 VNNI. Here the weights take `vpdpbusd`'s unsigned
/// operand, offset by 128 (`w ^ 0x80` is `w + 128` as a byte), and the input the signed
/// one: `sum x w = sum (w + 128) x - 128 sum x`, where the correction depends on the input
/// row alone, formed once per call (one `vpxord` and one `vpdpbusd` per block and row, one
/// accumulator per row). The weight rows one after another, each over the whole input row
/// (in memory order, as [`x86_64avx2_dot_rows_i8`]), sixteen rows' sums reduced by one
/// transposing tree ([`reduce16`]); the leftover rows four, then one at a time. Exact modulo 2^32 as the scalar reference's wrapping sum is, for
/// every input and weight byte.
///
/// # Safety
/// AVX-512F, AVX-512BW and AVX-512 VNNI must be present; `x` must hold at least
/// `blocks * 64` elements and `w` at least `out.len() * k`, with `blocks * 64 <= k`.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn x86_64avx512_dot_rows_i8(x: &[i8], w: &[i8], k: usize, blocks: usize, out: &mut [i32]) {
    let head = x.get(..blocks * 64).unwrap_or(&[]);
    let fix = head
        .iter()
        .fold(0i32, |s, &v| s.wrapping_add(i32::from(v)))
        .wrapping_mul(128);
    let xp = x.as_ptr();
    let wp = w.as_ptr();
    let n = out.len();
    let mut o = 0;
    while o + 16 <= n {
        // SAFETY: rows `o..o + 16` are inside `w` (caller).
        unsafe { avx512_rows_pass::<16>(xp, wp.add(o * k), k, blocks, &mut out[o..o + 16]) };
        o += 16;
    }
    while o + 4 <= n {
        // SAFETY: rows `o..o + 4` are inside `w` (caller).
        unsafe { avx512_rows_pass::<4>(xp, wp.add(o * k), k, blocks, &mut out[o..o + 4]) };
        o += 4;
    }
    while o < n {
        // SAFETY: row `o` is inside `w` (caller).
        unsafe { avx512_rows_pass::<1>(xp, wp.add(o * k), k, blocks, &mut out[o..o + 1]) };
        o += 1;
    }
    for v in out.iter_mut() {
        *v = v.wrapping_sub(fix);
    }
}

/// `R` (1, 4 or 16) weight rows `k` apart from `w` against the input row `x`: the sums
/// `sum (w + 128) x`, see [`x86_64avx512_dot_rows_i8`].
///
/// # Safety
/// As [`x86_64avx512_dot_rows_i8`], for `R` rows from `w`; `out` holds `R` entries.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn avx512_rows_pass<const R: usize>(
    x: *const i8,
    w: *const i8,
    k: usize,
    blocks: usize,
    out: &mut [i32],
) {
    let bias = _mm512_set1_epi8(-128);
    let mut acc = [_mm512_setzero_si512(); R];
    for (m, acc) in acc.iter_mut().enumerate() {
        for b in 0..blocks {
            // SAFETY: `b * 64 + 64 <= blocks * 64 <= k`, inside the input and each of the
            // `R` weight rows (caller).
            unsafe {
                let xv = _mm512_loadu_si512(x.add(b * 64).cast());
                let wv = _mm512_xor_si512(_mm512_loadu_si512(w.add(m * k + b * 64).cast()), bias);
                *acc = _mm512_dpbusd_epi32(*acc, wv, xv);
            }
        }
    }
    match R {
        16 => {
            let v: [__m512i; 16] = core::array::from_fn(|m| acc[m]);
            // SAFETY: `out` holds sixteen i32 (caller), 64 bytes.
            unsafe { _mm512_storeu_si512(out.as_mut_ptr().cast(), reduce16(v)) };
        }
        4 => {
            let s = reduce4(core::array::from_fn(|m| acc[m]));
            out.copy_from_slice(&s);
        }
        _ => {
            for (dst, v) in out.iter_mut().zip(acc) {
                *dst = _mm512_reduce_add_epi32(v);
            }
        }
    }
}

/// The sixteen vectors' lane sums in order, `[sum v[0], .., sum v[15]]` (wrapping), by one
/// transposing tree: [`reduce4`]'s interleaving adds to four vectors of `[a, b, c, d]`
/// partial sums per 128-bit lane, then two rounds of 128-bit lane shuffles and adds.
#[inline]
#[target_feature(enable = "avx512f")]
fn reduce16(v: [__m512i; 16]) -> __m512i {
    let quad = |a: __m512i, b: __m512i, c: __m512i, d: __m512i| {
        let ab = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
        let cd = _mm512_add_epi32(_mm512_unpacklo_epi32(c, d), _mm512_unpackhi_epi32(c, d));
        _mm512_add_epi32(_mm512_unpacklo_epi64(ab, cd), _mm512_unpackhi_epi64(ab, cd))
    };
    // q[j]: rows 4j..4j + 4 as [a, b, c, d] partial sums in each 128-bit lane.
    let q = [
        quad(v[0], v[1], v[2], v[3]),
        quad(v[4], v[5], v[6], v[7]),
        quad(v[8], v[9], v[10], v[11]),
        quad(v[12], v[13], v[14], v[15]),
    ];
    // [A.l0 + A.l1, A.l2 + A.l3, B.l0 + B.l1, B.l2 + B.l3] ...
    let pair = |a: __m512i, b: __m512i| {
        _mm512_add_epi32(
            _mm512_shuffle_i32x4::<0b10_00_10_00>(a, b),
            _mm512_shuffle_i32x4::<0b11_01_11_01>(a, b),
        )
    };
    let q01 = pair(q[0], q[1]);
    let q23 = pair(q[2], q[3]);
    // ... and once more: [A, B, C, D], rows 0..16 in order.
    pair(q01, q23)
}

/// `vpdpbusd` multiplies unsigned bytes by signed ones, so the input goes in offset by
/// 128 (`x ^ 0x80` is `x + 128` as a byte) and a second `vpdpbusd` of ones by the weights
/// sums them: `sum x w = sum (x + 128) w - 128 sum w`, exact modulo 2^32 as the scalar
/// reference's wrapping sum is (two instructions a block and row, where moving each
/// weight's sign onto the input took four).
///
/// # Safety
/// AVX-512F, AVX-512BW and AVX-512 VNNI must be present; every slice must hold at least
/// `blocks * 64` elements.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn x86_64avx512_dot_i8_4x1(x: &[i8], w: &[&[i8]; MR], blocks: usize) -> [i32; MR] {
    let zero = _mm512_setzero_si512();
    let mut acc = [zero; MR];
    let mut sums = [zero; MR];
    let bias = _mm512_set1_epi8(-128);
    let ones = _mm512_set1_epi8(1);
    let xp = x.as_ptr();
    let wp: [*const i8; MR] = core::array::from_fn(|m| w[m].as_ptr());
    // The next tile's rows follow these (one matrix, rows of `len` bytes): fetch them
    // while this one is multiplied (a hint: never faults, whatever the address).
    let ahead = MR * w[0].len();
    for b in 0..blocks {
        // SAFETY: `b * 64 + 64 <= blocks * 64 <= len` of every slice (caller).
        unsafe {
            let xv = _mm512_xor_si512(_mm512_loadu_si512(xp.add(b * 64).cast()), bias);
            for m in 0..MR {
                _mm_prefetch::<_MM_HINT_T0>(wp[m].wrapping_add(ahead + b * 64));
                let wv = _mm512_loadu_si512(wp[m].add(b * 64).cast());
                acc[m] = _mm512_dpbusd_epi32(acc[m], xv, wv);
                sums[m] = _mm512_dpbusd_epi32(sums[m], ones, wv);
            }
        }
    }
    core::array::from_fn(|m| {
        _mm512_reduce_add_epi32(acc[m]).wrapping_sub(_mm512_reduce_add_epi32(sums[m]) << 7)
    })
}

/// [`x86_64avx512_dot_i8_4x1`] of `out.len()` input rows `k` apart: up to four input
/// rows at a time against the four weight rows (16 accumulators: each weight block loaded
/// once per four rows, each input block once per tile), the weights' sums formed once, with
/// the first rows, the offset's correction subtracted lane by lane and the 16 sums reduced
/// together. The same sums modulo 2^32 (wrapping arithmetic in any order).
///
/// # Safety
/// AVX-512F, AVX-512BW and AVX-512 VNNI must be present; every weight slice must hold at
/// least `blocks * 64` elements and `x` at least `(out.len() - 1) * k + blocks * 64`.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn x86_64avx512_dot_i8_4xr(
    x: &[i8],
    k: usize,
    w: &[&[i8]; MR],
    blocks: usize,
    out: &mut [[i32; MR]],
) {
    let wp: [*const i8; MR] = core::array::from_fn(|m| w[m].as_ptr());
    // The next tile's rows follow these (one matrix): fetched while the first rows run
    // (a hint: never faults, whatever the address).
    let ahead = MR * w[0].len();
    let xp = x.as_ptr();
    let rows = out.len();
    let first = rows.min(4);
    // SAFETY: rows `0..first` are inside `x` (caller); the weights as above.
    let fix = unsafe {
        let dst = &mut out[..first];
        match first {
            4 => rows_4xr::<4, true>(xp, k, &wp, blocks, ahead, None, dst),
            3 => rows_4xr::<3, true>(xp, k, &wp, blocks, ahead, None, dst),
            2 => rows_4xr::<2, true>(xp, k, &wp, blocks, ahead, None, dst),
            _ => rows_4xr::<1, true>(xp, k, &wp, blocks, ahead, None, dst),
        }
    };
    let mut r = first;
    while r < rows {
        let take = (rows - r).min(4);
        // SAFETY: rows `r..r + take` are inside `x` (caller); the weights as above.
        unsafe {
            let xr = xp.add(r * k);
            let dst = &mut out[r..r + take];
            let fix = Some(&fix);
            match take {
                4 => rows_4xr::<4, false>(xr, k, &wp, blocks, 0, fix, dst),
                3 => rows_4xr::<3, false>(xr, k, &wp, blocks, 0, fix, dst),
                2 => rows_4xr::<2, false>(xr, k, &wp, blocks, 0, fix, dst),
                _ => rows_4xr::<1, false>(xr, k, &wp, blocks, 0, fix, dst),
            };
        }
        r += take;
    }
}

/// `R` input rows (`k` apart from `x`) against four weight rows: see
/// [`x86_64avx512_dot_i8_4xr`]. With `SUMS` it forms the weights' sums too (their
/// correction `128 * sum w`, lane by lane, which it returns) and prefetches the rows
/// `ahead` bytes on; else it takes the correction `fix` (zero where `None`).
///
/// # Safety
/// As [`x86_64avx512_dot_i8_4xr`], for `R` rows from `x`; `out` holds `R` entries.
#[allow(clippy::too_many_arguments)] // a tile's pointers, shape and correction
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn rows_4xr<const R: usize, const SUMS: bool>(
    x: *const i8,
    k: usize,
    wp: &[*const i8; MR],
    blocks: usize,
    ahead: usize,
    fix: Option<&[__m512i; MR]>,
    out: &mut [[i32; MR]],
) -> [__m512i; MR] {
    let zero = _mm512_setzero_si512();
    let bias = _mm512_set1_epi8(-128);
    let ones = _mm512_set1_epi8(1);
    let mut acc = [[zero; MR]; R];
    let mut sums = [zero; MR];
    for b in 0..blocks {
        // SAFETY: `b * 64 + 64 <= blocks * 64`, inside every weight row and each of the
        // `R` input rows (caller).
        unsafe {
            let wv: [__m512i; MR] =
                core::array::from_fn(|m| _mm512_loadu_si512(wp[m].add(b * 64).cast()));
            if SUMS {
                for m in 0..MR {
                    _mm_prefetch::<_MM_HINT_T0>(wp[m].wrapping_add(ahead + b * 64));
                    sums[m] = _mm512_dpbusd_epi32(sums[m], ones, wv[m]);
                }
            }
            for (i, acc) in acc.iter_mut().enumerate() {
                let xv = _mm512_xor_si512(_mm512_loadu_si512(x.add(i * k + b * 64).cast()), bias);
                for m in 0..MR {
                    acc[m] = _mm512_dpbusd_epi32(acc[m], xv, wv[m]);
                }
            }
        }
    }
    // `sum x w = sum (x + 128) w - 128 sum w`, lane by lane.
    let fix: [__m512i; MR] = if SUMS {
        sums.map(|s| _mm512_slli_epi32::<7>(s))
    } else {
        fix.copied().unwrap_or([zero; MR])
    };
    for (acc, dst) in acc.iter().zip(out.iter_mut()) {
        let v: [__m512i; MR] = core::array::from_fn(|m| _mm512_sub_epi32(acc[m], fix[m]));
        *dst = reduce4(v);
    }
    fix
}

/// The four vectors' lane sums, `[sum v[0], .., sum v[3]]` (wrapping), by one tree of
/// interleaving adds in place of four separate reductions.
#[inline]
#[target_feature(enable = "avx512f")]
fn reduce4(v: [__m512i; MR]) -> [i32; MR] {
    // Per 128-bit lane: [a0 + a2, b0 + b2, a1 + a3, b1 + b3] (a = v[0], b = v[1]) ...
    let ab = _mm512_add_epi32(
        _mm512_unpacklo_epi32(v[0], v[1]),
        _mm512_unpackhi_epi32(v[0], v[1]),
    );
    let cd = _mm512_add_epi32(
        _mm512_unpacklo_epi32(v[2], v[3]),
        _mm512_unpackhi_epi32(v[2], v[3]),
    );
    // ... then [a, b, c, d] partial sums in each 128-bit lane ...
    let abcd = _mm512_add_epi32(_mm512_unpacklo_epi64(ab, cd), _mm512_unpackhi_epi64(ab, cd));
    // ... and the four lanes added.
    let half = _mm256_add_epi32(
        _mm512_castsi512_si256(abcd),
        _mm512_extracti64x4_epi64::<1>(abcd),
    );
    let s = _mm_add_epi32(
        _mm256_castsi256_si128(half),
        _mm256_extracti128_si256::<1>(half),
    );
    let mut sums = [0i32; MR];
    // SAFETY: `sums` holds four i32, 16 bytes.
    unsafe { _mm_storeu_si128(sums.as_mut_ptr().cast(), s) };
    sums
}

/// [`crate::quant::quantize_row`] 16 values at a time, the same bits: the largest
/// magnitude by `vmaxps` with the running maximum second (NaN values pass over, as
/// `f32::max` lets them), then each value times `127 / amax`, plus or minus a half
/// (by the sign test `v >= 0`, false for NaN), clamped to `-127..=127`, truncated,
/// NaN to 0. The tail (fewer than 16) by the scalar rule.
///
/// # Safety
/// AVX-512F and AVX-512BW must be present; `q.len() == x.len()`.
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn x86_64avx512_quantize_row(x: &[f32], q: &mut [i8]) -> f32 {
    use crate::quant::{round_to_i8, I8_MAX};
    let n = x.len();
    let body = n / 16 * 16;
    let xp = x.as_ptr();
    let qp = q.as_mut_ptr();
    let abs_mask = _mm512_set1_epi32(0x7fff_ffff);
    let mut m = _mm512_setzero_ps();
    for i in (0..body).step_by(16) {
        // SAFETY: `i + 16 <= body <= n`.
        let v = unsafe { _mm512_loadu_ps(xp.add(i)) };
        let a = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v), abs_mask));
        m = _mm512_max_ps(a, m);
    }
    let mut amax = _mm512_reduce_max_ps(m);
    for &v in x.get(body..).unwrap_or(&[]) {
        amax = amax.max(v.abs());
    }
    if amax == 0.0 || !amax.is_finite() {
        q.fill(0);
        return if amax == 0.0 { 0.0 } else { amax };
    }
    let inv = I8_MAX / amax;
    let vinv = _mm512_set1_ps(inv);
    let half = _mm512_set1_ps(0.5);
    let zero = _mm512_setzero_ps();
    let (lo, hi) = (_mm512_set1_ps(-I8_MAX), _mm512_set1_ps(I8_MAX));
    for i in (0..body).step_by(16) {
        // SAFETY: `i + 16 <= body <= n`, for `x` and `q` alike (caller).
        unsafe {
            let v = _mm512_loadu_ps(xp.add(i));
            let t = _mm512_mul_ps(v, vinv);
            let up = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(v, zero);
            let r = _mm512_mask_add_ps(_mm512_sub_ps(t, half), up, t, half);
            // (clamped before truncating: `as` saturates where `vcvttps2dq` gives
            // i32::MIN, for the infinite products of a subnormal `amax`)
            let ord = _mm512_cmp_ps_mask::<_CMP_ORD_Q>(r, r);
            let r = _mm512_min_ps(_mm512_max_ps(r, lo), hi);
            let ri = _mm512_maskz_cvttps_epi32(ord, r);
            _mm_storeu_si128(qp.add(i).cast(), _mm512_cvtepi32_epi8(ri));
        }
    }
    for (dst, &v) in q.iter_mut().zip(x).skip(body) {
        *dst = round_to_i8(v * inv);
    }
    amax / I8_MAX
}
