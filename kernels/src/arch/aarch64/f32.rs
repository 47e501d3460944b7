//! aarch64 kernels: NEON / Advanced SIMD (4 lanes, 32 vector registers).
//!
//! NEON is part of the aarch64 baseline, so `detect` always succeeds there; the kernel
//! still goes through the same frame and the same tests as every other one.

use crate::frame::f32::{F32Simd, MR};
use core::arch::aarch64::*;

/// NEON: 4 f32 lanes.
#[derive(Debug, Clone, Copy)]
pub struct Neon(());

impl F32Simd for Neon {
    const NAME: &'static str = "neon";
    const LANES: usize = 4;
    const ALIGN: usize = 16;

    fn detect() -> Option<Self> {
        cfg!(target_feature = "neon").then_some(Neon(()))
    }

    fn dot_tile<const ROWS: usize>(
        self,
        x: [&[f32]; ROWS],
        w: [&[f32]; MR],
        blocks: usize,
    ) -> [[f32; MR]; ROWS] {
        let blocks = x.iter().chain(&w).fold(blocks, |b, s| b.min(s.len() / 4));
        // SAFETY: NEON is present (see `detect`), and `blocks * 4` is bounded by the
        // length of every slice just above.
        unsafe { aarch64neon_dot_f32_4xr(x, w, blocks) }
    }

    fn dot_blocks(self, a: &[f32], b: &[f32], blocks: usize) -> f32 {
        let blocks = blocks.min(a.len() / 4).min(b.len() / 4);
        // SAFETY: NEON is present; `blocks * 4 <= len` of both.
        unsafe { aarch64neon_dot_f32_1x1(a, b, blocks) }
    }

    fn axpy_blocks(self, alpha: f32, x: &[f32], y: &mut [f32], blocks: usize) {
        let blocks = blocks.min(x.len() / 4).min(y.len() / 4);
        // SAFETY: NEON is present; `blocks * 4 <= len` of both.
        unsafe { aarch64neon_axpy_f32(alpha, x, y, blocks) }
    }

    fn axpy_tile(self, alpha: [f32; MR], x: [&[f32]; MR], y: &mut [f32], blocks: usize) {
        let blocks = x
            .iter()
            .fold(blocks.min(y.len() / 4), |b, row| b.min(row.len() / 4));
        // SAFETY: NEON is present; `blocks * 4 <= len` of every slice.
        unsafe { aarch64neon_axpy_f32_4(alpha, x, y, blocks) }
    }
}

/// `ROWS x 4` dot products over `blocks` blocks of 4.
///
/// # Safety
/// The CPU must support NEON, and every slice must hold `blocks * 4` elements.
#[target_feature(enable = "neon")]
unsafe fn aarch64neon_dot_f32_4xr<const ROWS: usize>(
    x: [&[f32]; ROWS],
    w: [&[f32]; MR],
    blocks: usize,
) -> [[f32; MR]; ROWS] {
    let mut acc = [[vdupq_n_f32(0.0); MR]; ROWS];
    for block in 0..blocks {
        let at = block * 4;
        // SAFETY: at + 4 <= blocks * 4 <= every slice's length (the caller's contract).
        let wv: [float32x4_t; MR] =
            core::array::from_fn(|m| unsafe { vld1q_f32(w[m].as_ptr().add(at)) });
        for r in 0..ROWS {
            // SAFETY: as above.
            let xv = unsafe { vld1q_f32(x[r].as_ptr().add(at)) };
            for m in 0..MR {
                acc[r][m] = vfmaq_f32(acc[r][m], xv, wv[m]);
            }
        }
    }
    core::array::from_fn(|r| core::array::from_fn(|m| vaddvq_f32(acc[r][m])))
}

/// One dot product over `blocks` blocks of 4, two accumulators.
///
/// # Safety
/// The CPU must support NEON, and both slices must hold `blocks * 4` elements.
#[target_feature(enable = "neon")]
unsafe fn aarch64neon_dot_f32_1x1(a: &[f32], b: &[f32], blocks: usize) -> f32 {
    let (mut even, mut odd) = (vdupq_n_f32(0.0), vdupq_n_f32(0.0));
    let mut block = 0;
    while block + 2 <= blocks {
        let at = block * 4;
        // SAFETY: at + 8 <= blocks * 4 <= both lengths (the caller's contract).
        unsafe {
            even = vfmaq_f32(
                even,
                vld1q_f32(a.as_ptr().add(at)),
                vld1q_f32(b.as_ptr().add(at)),
            );
            odd = vfmaq_f32(
                odd,
                vld1q_f32(a.as_ptr().add(at + 4)),
                vld1q_f32(b.as_ptr().add(at + 4)),
            );
        }
        block += 2;
    }
    if block < blocks {
        let at = block * 4;
        // SAFETY: at + 4 <= blocks * 4 <= both lengths (the caller's contract).
        even = unsafe {
            vfmaq_f32(
                even,
                vld1q_f32(a.as_ptr().add(at)),
                vld1q_f32(b.as_ptr().add(at)),
            )
        };
    }
    vaddvq_f32(vaddq_f32(even, odd))
}

/// `y += alpha * x` over `blocks` blocks of 4.
///
/// # Safety
/// The CPU must support NEON, and both slices must hold `blocks * 4` elements.
#[target_feature(enable = "neon")]
unsafe fn aarch64neon_axpy_f32(alpha: f32, x: &[f32], y: &mut [f32], blocks: usize) {
    let a = vdupq_n_f32(alpha);
    for block in 0..blocks {
        let at = block * 4;
        // SAFETY: at + 4 <= blocks * 4 <= both lengths (the caller's contract).
        unsafe {
            let yp = y.as_mut_ptr().add(at);
            vst1q_f32(
                yp,
                vfmaq_f32(vld1q_f32(yp), a, vld1q_f32(x.as_ptr().add(at))),
            );
        }
    }
}

/// `y += alpha[0] * x[0] + ... + alpha[3] * x[3]` over `blocks` blocks of 4, one fused
/// multiply-add per row in row order (bit-identical to four [`aarch64neon_axpy_f32`]).
///
/// # Safety
/// The CPU must support NEON, and every slice must hold `blocks * 4` elements.
#[target_feature(enable = "neon")]
unsafe fn aarch64neon_axpy_f32_4(alpha: [f32; MR], x: [&[f32]; MR], y: &mut [f32], blocks: usize) {
    let a: [float32x4_t; MR] = core::array::from_fn(|m| vdupq_n_f32(alpha[m]));
    for block in 0..blocks {
        let at = block * 4;
        // SAFETY: at + 4 <= blocks * 4 <= every slice's length (the caller's contract).
        unsafe {
            let yp = y.as_mut_ptr().add(at);
            let mut sum = vld1q_f32(yp);
            for m in 0..MR {
                sum = vfmaq_f32(sum, a[m], vld1q_f32(x[m].as_ptr().add(at)));
            }
            vst1q_f32(yp, sum);
        }
    }
}
