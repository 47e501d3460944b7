//! x86_64 kernels: AVX2 + FMA (8 lanes) and AVX-512F (16 lanes).
//!
//! Names follow `<arch><isa>_<op>_<dtype>_<tile>`. Loads are unaligned (`loadu`): the
//! frame passes slices of the weights in place, which are 16-byte but not 32/64-byte
//! aligned. Each function is `#[target_feature]`; the safe wrappers on the kernel types
//! call them only through a value that [`F32Simd::detect`] created.

use crate::frame::f32::{F32Simd, MR};
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
