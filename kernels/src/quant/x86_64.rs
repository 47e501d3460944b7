//! x86_64 quantized kernels: int8 dot products with AVX2 (`vpsignb`/`vpabsb` to make the
//! weights unsigned, `vpmaddubsw` to pairs of i16, `vpmaddwd` to i32: exact, since
//! `|w| <= 128` and `|x| <= 127` keep every i16 pair sum below 32767), and f16 weights
//! with F16C (`vcvtph2ps`) + FMA.

use super::{I8Dot, MR};
use core::arch::x86_64::*;
use half::f16;

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

/// AVX2 + FMA + F16C: f16 weights widened with `vcvtph2ps`, 8 lanes, 4 rows at a time.
#[derive(Debug, Clone, Copy)]
pub struct Avx2F16(());

impl Avx2F16 {
    /// The kernel, if this CPU runs it.
    pub fn detect() -> Option<Self> {
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
}

/// The f16-weight linear layer (shapes as [`super::scalar::linear_f16`]): 4 weight rows
/// per kernel call, whole 8-lane blocks there, the tail and leftover rows in scalar code.
pub fn linear_f16(
    kern: Avx2F16,
    x: &[f32],
    w: &[f16],
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
) {
    let _ = kern;
    if k == 0 {
        y.fill(0.0);
        return;
    }
    let rows = x.len() / k;
    let n = w.len() / k;
    debug_assert_eq!(y.len(), rows * n, "y must be [rows, n]");
    if n == 0 || y.len() < rows * n {
        return;
    }
    let blocks = k / 8;
    let head = blocks * 8;
    let mut o = 0;
    while o < n {
        let tile = (n - o).min(MR);
        let w_rows: [&[f16]; MR] = core::array::from_fn(|m| {
            if m < tile {
                w.get((o + m) * k..(o + m + 1) * k).unwrap_or(&[])
            } else {
                &[]
            }
        });
        for (x_row, y_row) in x.chunks_exact(k).zip(y.chunks_exact_mut(n)) {
            let sums: [f32; MR] = if tile == MR {
                let b = w_rows
                    .iter()
                    .fold(blocks.min(x_row.len() / 8), |b, s| b.min(s.len() / 8));
                // SAFETY: `kern` exists only if AVX2, FMA and F16C were detected; every
                // slice holds at least `b * 8` elements (just above).
                let mut sums = unsafe { x86_64avx2_dot_f16_4x1(x_row, &w_rows, b) };
                let x_tail = x_row.get(head..).unwrap_or(&[]);
                for (sum, w_row) in sums.iter_mut().zip(w_rows) {
                    for (&a, &q) in x_tail.iter().zip(w_row.get(head..).unwrap_or(&[])) {
                        *sum += a * q.to_f32();
                    }
                }
                sums
            } else {
                w_rows.map(|w_row| super::scalar::dot_f16(x_row, w_row))
            };
            for (m, sum) in sums.iter().enumerate().take(tile) {
                let b = bias.and_then(|b| b.get(o + m)).copied().unwrap_or(0.0);
                if let Some(dst) = y_row.get_mut(o + m) {
                    *dst = sum + b;
                }
            }
        }
        o += tile;
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
    acc.map(|v| {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s));
        _mm_cvtss_f32(s)
    })
}
