//! Armv8.1-M MVE (Helium, Cortex-M55) kernel for f16 weights: the widening load
//! `VLDRH.U32` puts 4 halves in the bottom halves of 4 32-bit lanes, `VCVTB.F32.F16`
//! widens them in place (exactly), and `VFMA.F32` accumulates on whole vectors, one
//! accumulator per weight row, in a tail-predicated loop (`WLSTP.32` / `LETP`) over the
//! whole row, so any length is one kernel call (`BLOCK` = 1: the frame leaves no tail).
//! Per 4 elements and 4 weight rows the loop issues 5 loads, 4 conversions, 4 vector
//! fused multiply-adds and the loop end: 0.875 instructions per multiply-accumulate
//! (the f32 MVE kernel: 0.625). As there, each accumulator's lanes are summed on its
//! `s` registers at the end.
//!
//! MVE floating point flushes subnormal f32 inputs and results to zero (the f32
//! MVE kernel's budget); the conversion of every f16 value, subnormal halves
//! included, is exact (an f16 subnormal is a normal f32).

use crate::arch::arm_fpu::f16::widen_fpu;
use crate::frame::f16::F16Dot;
use crate::frame::f32::{tiles_inside, MR};
use core::arch::asm;
use half::f16;

/// The MVE f16 kernel: any length, 4 weight rows at a time.
#[derive(Debug, Clone, Copy)]
pub struct MveF16(());

impl F16Dot for MveF16 {
    const NAME: &'static str = "mve-vcvt";
    const BLOCK: usize = 1;

    fn detect() -> Option<Self> {
        // build.rs enables this module only when compiling for a core with MVE.
        Some(MveF16(()))
    }

    fn dot_rows(self, x: &[f32], w: &[f16], w_stride: usize, blocks: usize, out: &mut [f32]) {
        let n = blocks.min(x.len());
        let whole = out.len() / MR;
        let tiles = tiles_inside(w.len(), w_stride, n, whole * MR);
        if tiles == whole && tiles > 0 {
            // SAFETY: MVE is present (build.rs); `x` holds `n` elements, the
            // `4 * tiles` rows of `n` elements `w_stride` apart lie inside `w`
            // (`tiles_inside`), and `out` holds `4 * tiles`.
            unsafe { arm_mve_dot_f16_4x1_rows(x, w, w_stride, n, tiles, out) }
            return;
        }
        for (o, dst) in out.iter_mut().take(whole * MR).enumerate() {
            let row = w.get(o * w_stride..).unwrap_or(&[]);
            *dst = self.dot_blocks(x, row, blocks);
        }
    }

    fn dot_blocks(self, x: &[f32], w: &[f16], blocks: usize) -> f32 {
        let n = blocks.min(x.len()).min(w.len());
        // SAFETY: MVE is present (build.rs); both slices hold at least `n` elements.
        unsafe { arm_mve_dot_f16_1x1(x, w, n) }
    }

    #[inline(always)]
    fn widen(self, v: f16) -> f32 {
        widen_fpu(v)
    }
}

/// `out[o] = sum_i x[i] * w[o * w_stride + i]` for `i < n`, `o < 4 * tiles`: `tiles`
/// tiles of 4 f16 weight rows `w_stride` apart, in one call.
///
/// # Safety
/// `tiles >= 1`; `x` must hold `n` elements, `w` the rows `0..4 * tiles` of `n` elements
/// `w_stride` apart, `out` `4 * tiles` elements; and the CPU must implement MVE with
/// floating point and the low-overhead-branch extension (Cortex-M55), with CP10/CP11
/// enabled (cortex-m-rt does) and `FPSCR.AHP` clear (the reset value).
#[inline(never)]
unsafe fn arm_mve_dot_f16_4x1_rows(
    x: &[f32],
    w: &[f16],
    w_stride: usize,
    n: usize,
    tiles: usize,
    out: &mut [f32],
) {
    // SAFETY: the tail-predicated loops read `n` floats of `x` and `n` halves of each of
    // the `4 * tiles` weight rows and write `4 * tiles` floats of `out`, all in bounds
    // (the caller's contract); the asm clobbers only the registers it names and does not
    // touch the stack.
    unsafe {
        asm!(
            "1:",
            "vmov.i32 q4, #0",
            "vmov.i32 q5, #0",
            "vmov.i32 q6, #0",
            "vmov.i32 q7, #0",
            "add {w1}, {w0}, {stride}",
            "add {w2}, {w1}, {stride}",
            "add {w3}, {w2}, {stride}",
            "wlstp.32 lr, {n}, 3f",
            "2:",
            "vldrw.u32 q0, [{x}], #16",
            "vldrh.u32 q1, [{w0}], #8",
            "vcvtb.f32.f16 q1, q1",
            "vfma.f32 q4, q0, q1",
            "vldrh.u32 q2, [{w1}], #8",
            "vcvtb.f32.f16 q2, q2",
            "vfma.f32 q5, q0, q2",
            "vldrh.u32 q1, [{w2}], #8",
            "vcvtb.f32.f16 q1, q1",
            "vfma.f32 q6, q0, q1",
            "vldrh.u32 q2, [{w3}], #8",
            "vcvtb.f32.f16 q2, q2",
            "vfma.f32 q7, q0, q2",
            "letp lr, 2b",
            "3:",
            "vadd.f32 s16, s16, s17",
            "vadd.f32 s18, s18, s19",
            "vadd.f32 s16, s16, s18",
            "vadd.f32 s20, s20, s21",
            "vadd.f32 s22, s22, s23",
            "vadd.f32 s17, s20, s22",
            "vadd.f32 s24, s24, s25",
            "vadd.f32 s26, s26, s27",
            "vadd.f32 s18, s24, s26",
            "vadd.f32 s28, s28, s29",
            "vadd.f32 s30, s30, s31",
            "vadd.f32 s19, s28, s30",
            "vstmia {out}!, {{s16-s19}}",
            // back to the start of x (4 bytes an element); w0 back by 2 bytes an
            // element, then on to the first row of the next tile. The post-increments
            // of the last, partly predicated iteration still advance by whole vectors:
            // back by `n` rounded up to 4 elements.
            "sub.w {x}, {x}, {n4}, lsl #2",
            "sub.w {w0}, {w0}, {n4}, lsl #1",
            "add.w {w0}, {w0}, {stride}, lsl #2",
            "subs {tiles}, {tiles}, #1",
            "bne 1b",
            x = inout(reg) x.as_ptr() => _,
            w0 = inout(reg) w.as_ptr() => _,
            w1 = out(reg) _,
            w2 = out(reg) _,
            w3 = out(reg) _,
            n = in(reg) n,
            n4 = in(reg) n.next_multiple_of(4),
            stride = in(reg) w_stride * 2,
            tiles = inout(reg) tiles => _,
            out = inout(reg) out.as_mut_ptr() => _,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            out("s24") _, out("s25") _, out("s26") _, out("s27") _,
            out("s28") _, out("s29") _, out("s30") _, out("s31") _,
            options(nostack),
        );
    }
}

/// One dot product of f32 `x` with f16 `w` over `n` elements.
///
/// # Safety
/// Both slices must hold at least `n` elements, and the CPU must implement MVE as for
/// [`arm_mve_dot_f16_4x1_rows`].
#[inline(never)]
unsafe fn arm_mve_dot_f16_1x1(x: &[f32], w: &[f16], n: usize) -> f32 {
    let sum: u32;
    // SAFETY: the tail-predicated loop reads exactly `n` floats of `x` and `n` halves of
    // `w` (the caller's contract); the asm clobbers only the registers it names.
    unsafe {
        asm!(
            "vmov.i32 q4, #0",
            "wlstp.32 lr, {n}, 2f",
            "1:",
            "vldrw.u32 q0, [{x}], #16",
            "vldrh.u32 q1, [{w}], #8",
            "vcvtb.f32.f16 q1, q1",
            "vfma.f32 q4, q0, q1",
            "letp lr, 1b",
            "2:",
            "vadd.f32 s16, s16, s17",
            "vadd.f32 s18, s18, s19",
            "vadd.f32 s16, s16, s18",
            "vmov {sum}, s16",
            x = inout(reg) x.as_ptr() => _,
            w = inout(reg) w.as_ptr() => _,
            n = in(reg) n,
            sum = out(reg) sum,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            options(nostack, readonly),
        );
    }
    f32::from_bits(sum)
}
