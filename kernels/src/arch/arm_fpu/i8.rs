//! Arm DSP-extension int8 kernel (Cortex-M4/M7/M33/M55, Armv7-A): `SXTB16` splits a word
//! of four int8 values into two pairs of i16 (`[b0, b2]` and, rotated by 8, `[b1, b3]`),
//! and `SMLAD` adds both products of a pair to an i32 accumulator. The activation word
//! is split once and used against two weight rows; per 8 bytes and 2 rows the loop issues
//! 27 instructions for 16 multiply-accumulates. Plain `LDR` (the M-profile cores and
//! Armv7-A load unaligned words), so rows need no alignment.

use crate::frame::f32::MR;
use crate::frame::i8::I8Dot;
use core::arch::asm;

/// The SMLAD kernel: 8-byte blocks, weight rows in pairs.
#[derive(Debug, Clone, Copy)]
pub struct Smlad(());

impl I8Dot for Smlad {
    const NAME: &'static str = "smlad";
    const BLOCK: usize = 8;

    fn detect() -> Option<Self> {
        // build.rs enables this module only on targets with the DSP extension.
        Some(Smlad(()))
    }

    fn dot_tile(self, x: &[i8], w: [&[i8]; MR], blocks: usize) -> [i32; MR] {
        let blocks = w
            .iter()
            .fold(blocks.min(x.len() / 8), |b, s| b.min(s.len() / 8));
        let mut out = [0i32; MR];
        for (pair, sums) in w.chunks_exact(2).zip(out.chunks_exact_mut(2)) {
            if let ([w0, w1], [s0, s1]) = (pair, sums) {
                // SAFETY: every slice holds at least `blocks * 8` bytes (just above) and
                // the target has the DSP extension (build.rs).
                let (a0, a1) = unsafe { arm_dsp_dot_i8_2x1(x, w0, w1, blocks) };
                (*s0, *s1) = (a0, a1);
            }
        }
        out
    }
}

/// Two dot products of `x` with `w0` and `w1` over `blocks` blocks of 8 bytes.
///
/// # Safety
/// Every slice must hold at least `blocks * 8` bytes, and the CPU must have the DSP
/// extension (`SXTB16`, `SMLAD`) and unaligned word loads.
#[inline(never)]
unsafe fn arm_dsp_dot_i8_2x1(x: &[i8], w0: &[i8], w1: &[i8], blocks: usize) -> (i32, i32) {
    let (mut a0, mut a1) = (0i32, 0i32);
    // SAFETY: the loop reads `blocks * 8` bytes from each pointer, in bounds by the
    // caller's guarantee; it writes only the registers it names and not the stack.
    unsafe {
        asm!(
            "cmp {n}, #0",
            "beq 2f",
            "1:",
            "ldr {xe0}, [{x}], #4",
            "ldr {xe1}, [{x}], #4",
            "sxtb16 {xo0}, {xe0}, ror #8",
            "sxtb16 {xe0}, {xe0}",
            "sxtb16 {xo1}, {xe1}, ror #8",
            "sxtb16 {xe1}, {xe1}",
            "ldr {t}, [{w0}], #4",
            "sxtb16 {to}, {t}, ror #8",
            "sxtb16 {t}, {t}",
            "smlad {a0}, {xe0}, {t}, {a0}",
            "smlad {a0}, {xo0}, {to}, {a0}",
            "ldr {t}, [{w0}], #4",
            "sxtb16 {to}, {t}, ror #8",
            "sxtb16 {t}, {t}",
            "smlad {a0}, {xe1}, {t}, {a0}",
            "smlad {a0}, {xo1}, {to}, {a0}",
            "ldr {t}, [{w1}], #4",
            "sxtb16 {to}, {t}, ror #8",
            "sxtb16 {t}, {t}",
            "smlad {a1}, {xe0}, {t}, {a1}",
            "smlad {a1}, {xo0}, {to}, {a1}",
            "ldr {t}, [{w1}], #4",
            "sxtb16 {to}, {t}, ror #8",
            "sxtb16 {t}, {t}",
            "smlad {a1}, {xe1}, {t}, {a1}",
            "smlad {a1}, {xo1}, {to}, {a1}",
            "subs {n}, {n}, #1",
            "bne 1b",
            "2:",
            x = inout(reg) x.as_ptr() => _,
            w0 = inout(reg) w0.as_ptr() => _,
            w1 = inout(reg) w1.as_ptr() => _,
            n = inout(reg) blocks => _,
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            xe0 = out(reg) _,
            xo0 = out(reg) _,
            xe1 = out(reg) _,
            xo1 = out(reg) _,
            t = out(reg) _,
            to = out(reg) _,
            options(nostack, readonly),
        );
    }
    (a0, a1)
}
