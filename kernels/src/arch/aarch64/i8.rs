//! aarch64 int8 kernel: `SDOT` (the `dotprod` extension) adds four products of i8 pairs
//! to each i32 lane; 16-byte blocks, 4 weight rows at a time. `vdotq_s32` is not stable,
//! so the instruction is `asm!` inside a `#[target_feature(enable = "dotprod")]` function,
//! reached only through a value [`I8Dot::detect`] made.

use crate::frame::f32::MR;
use crate::frame::i8::I8Dot;
use core::arch::aarch64::*;
use core::arch::asm;

/// The SDOT kernel.
#[derive(Debug, Clone, Copy)]
pub struct Sdot(());

impl I8Dot for Sdot {
    const NAME: &'static str = "sdot";
    const BLOCK: usize = 16;

    fn detect() -> Option<Self> {
        #[cfg(feature = "std")]
        let found = std::arch::is_aarch64_feature_detected!("dotprod");
        #[cfg(not(feature = "std"))]
        let found = cfg!(target_feature = "dotprod");
        found.then_some(Sdot(()))
    }

    fn dot_tile(self, x: &[i8], w: [&[i8]; MR], blocks: usize) -> [i32; MR] {
        let blocks = w
            .iter()
            .fold(blocks.min(x.len() / 16), |b, s| b.min(s.len() / 16));
        // SAFETY: `self` exists only if `dotprod` was detected; every slice holds at
        // least `blocks * 16` bytes (just above).
        unsafe { aarch64sdot_dot_i8_4x1(x, &w, blocks) }
    }
}

/// # Safety
/// The CPU must have `dotprod`; every slice must hold at least `blocks * 16` bytes.
#[target_feature(enable = "neon,dotprod")]
unsafe fn aarch64sdot_dot_i8_4x1(x: &[i8], w: &[&[i8]; MR], blocks: usize) -> [i32; MR] {
    let mut acc = [vdupq_n_s32(0); MR];
    let xp = x.as_ptr();
    let wp: [*const i8; MR] = core::array::from_fn(|m| w[m].as_ptr());
    for b in 0..blocks {
        // SAFETY: `b * 16 + 16 <= blocks * 16 <= len` of every slice (caller).
        let xv = unsafe { vld1q_s8(xp.add(b * 16)) };
        for m in 0..MR {
            // SAFETY: as above.
            let wv = unsafe { vld1q_s8(wp[m].add(b * 16)) };
            // SAFETY: `sdot` only reads and writes the vector registers named; dotprod
            // is enabled on this function.
            unsafe {
                asm!(
                    "sdot {a:v}.4s, {x:v}.16b, {w:v}.16b",
                    a = inout(vreg) acc[m],
                    x = in(vreg) xv,
                    w = in(vreg) wv,
                    options(pure, nomem, nostack),
                );
            }
        }
    }
    acc.map(|v| vaddvq_s32(v))
}
