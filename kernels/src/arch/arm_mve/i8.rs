//! Armv8.1-M MVE (Helium, Cortex-M55) int8 kernel: `VMLADAVA.S8` multiplies 16 pairs of
//! int8 lanes and adds all the products to a 32-bit general register. A tail-predicated
//! loop (`DLSTP.8` / `LETP`) runs over the whole row, so any length is one kernel call
//! (`BLOCK` = 1: the frame leaves no tail); per 16 bytes and 4 weight rows the loop issues
//! 9 instructions for 64 multiply-accumulates.

use crate::frame::f32::MR;
use crate::frame::i8::I8Dot;
use core::arch::asm;

/// The MVE kernel: any length, 4 weight rows at a time.
#[derive(Debug, Clone, Copy)]
pub struct MveI8(());

impl I8Dot for MveI8 {
    const NAME: &'static str = "mve";
    const BLOCK: usize = 1;

    fn detect() -> Option<Self> {
        // build.rs enables this module only when compiling for a core with MVE.
        Some(MveI8(()))
    }

    fn dot_tile(self, x: &[i8], w: [&[i8]; MR], blocks: usize) -> [i32; MR] {
        let n = w.iter().fold(blocks.min(x.len()), |b, s| b.min(s.len()));
        if n == 0 {
            return [0; MR];
        }
        // SAFETY: every slice holds at least `n` bytes (just above), `n > 0`, and the
        // target has MVE (build.rs).
        unsafe { arm_mve_dot_i8_4x1(x, &w, n) }
    }
}

/// Four dot products of `x` with `w[0..4]` over `n` bytes.
///
/// # Safety
/// `n > 0`; every slice must hold at least `n` bytes; the CPU must have MVE with the
/// low-overhead-branch extension (Cortex-M55) and CP10/CP11 enabled (cortex-m-rt does).
#[inline(never)]
unsafe fn arm_mve_dot_i8_4x1(x: &[i8], w: &[&[i8]; MR], n: usize) -> [i32; MR] {
    let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
    // SAFETY: the tail-predicated loop reads exactly `n` bytes from each pointer (in
    // bounds by the caller's guarantee); it writes only the registers it names (q0 and
    // q1 as s0-s7) and not the stack.
    unsafe {
        asm!(
            "dlstp.8 lr, {n}",
            "1:",
            "vldrb.u8 q0, [{x}], #16",
            "vldrb.u8 q1, [{w0}], #16",
            "vmladava.s8 r0, q0, q1",
            "vldrb.u8 q1, [{w1}], #16",
            "vmladava.s8 r2, q0, q1",
            "vldrb.u8 q1, [{w2}], #16",
            "vmladava.s8 r4, q0, q1",
            "vldrb.u8 q1, [{w3}], #16",
            "vmladava.s8 r8, q0, q1",
            "letp lr, 1b",
            n = in(reg) n,
            x = inout(reg) x.as_ptr() => _,
            w0 = inout(reg) w[0].as_ptr() => _,
            w1 = inout(reg) w[1].as_ptr() => _,
            w2 = inout(reg) w[2].as_ptr() => _,
            w3 = inout(reg) w[3].as_ptr() => _,
            inout("r0") a0,
            inout("r2") a1,
            inout("r4") a2,
            inout("r8") a3,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            options(nostack, readonly),
        );
    }
    [a0, a1, a2, a3]
}
