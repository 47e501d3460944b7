//! x86_64 f16-weight kernel: AVX2 + FMA + F16C, each weight widened with `vcvtph2ps`
//! (exact), 8 lanes, 4 weight rows at a time, one accumulator per row.

use crate::frame::f16::F16Dot;
use crate::frame::f32::MR;
use crate::generic::f16::ScalarF16;
use core::arch::x86_64::*;
use half::f16;

/// AVX2 + FMA + F16C: f16 weights widened with `vcvtph2ps`, 8 lanes, 4 rows at a time.
#[derive(Debug, Clone, Copy)]
pub struct Avx2F16(());

impl F16Dot for Avx2F16 {
    const NAME: &'static str = "avx2-f16c";
    const BLOCK: usize = 8;
    // Each 4-row weight tile against every input row before the next: the weights are
    // streamed once per product.
    const TILE_OUTER: bool = true;

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
        let len = blocks * 8;
        for (t, sums) in out.chunks_exact_mut(MR).enumerate() {
            let w_tile: [&[f16]; MR] = core::array::from_fn(|m| {
                let start = (t * MR + m) * w_stride;
                w.get(start..start + len).unwrap_or(&[])
            });
            let b = w_tile
                .iter()
                .fold(blocks.min(x.len() / 8), |b, s| b.min(s.len() / 8));
            // SAFETY: `self` exists only if AVX2, FMA and F16C were detected; every slice
            // holds at least `b * 8` elements (just above).
            let tile = unsafe { x86_64avx2_dot_f16_4x1(x, &w_tile, b) };
            for (dst, sum) in sums.iter_mut().zip(tile) {
                *dst = sum;
            }
        }
    }

    /// The scalar reference's order ([`crate::generic::f16::dot_f16`]: 8 lanes,
    /// pairwise): the frame adds the tail after it, which is exactly `dot_f16` over the
    /// whole row (the leftover rows' sums are the scalar reference's, bit for bit).
    fn dot_blocks(self, x: &[f32], w: &[f16], blocks: usize) -> f32 {
        ScalarF16.dot_blocks(x, w, blocks)
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
