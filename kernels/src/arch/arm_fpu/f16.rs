//! Arm FPU kernel for f16 weights (Cortex-M4F/M7/M33/M55, Armv7-A with VFPv4): the
//! half-precision conversion extension of FPv4-SP / FPv5 / VFPv4 widens one f16 held in
//! the bottom (`VCVTB.F32.F16`) or top (`VCVTT.F32.F16`) half of an s-register, so one
//! `vldmia` of 4 words brings 8 weights and 8 conversions unpack them; the products are
//! `vfma.f32` into one accumulator per weight row, register-blocked like the f32 FPU
//! kernel (`crate::arch::arm_fpu::f32`): 8 inputs, 4 packed and 8 widened weights and 4 accumulators in
//! registers. Per block of 8 elements and 4 weight rows the loop issues 5 loads, 32
//! conversions and 32 fused multiply-adds: about 2.2 instructions per
//! multiply-accumulate with the loop (the f32 kernel: 1.2; `half`'s software widening
//! alone costs about 20 per weight).
//!
//! `vldmia` needs word-aligned addresses: the kernel runs when the matrix starts on a
//! 4-byte boundary and its rows are an even number of halves apart (every model blob's
//! matrices with even `k`); otherwise the same sums are computed one element at a time.

use crate::frame::f16::F16Dot;
use crate::frame::f32::{tiles_inside, MR};
use core::arch::asm;
use half::f16;

/// The FPU f16 kernel: 8-element blocks, 4 weight rows at a time.
#[derive(Debug, Clone, Copy)]
pub struct ArmFpuF16(());

impl F16Dot for ArmFpuF16 {
    const NAME: &'static str = "arm-fpu-vcvt";
    const BLOCK: usize = 8;

    fn detect() -> Option<Self> {
        // build.rs enables this module only on targets whose FPU has vfma.f32, the
        // half-precision conversions and 32 single-precision registers.
        Some(ArmFpuF16(()))
    }

    fn dot_rows(self, x: &[f32], w: &[f16], w_stride: usize, blocks: usize, out: &mut [f32]) {
        let blocks = blocks.min(x.len() / 8);
        let len = blocks * 8;
        let whole = out.len() / MR;
        let tiles = tiles_inside(w.len(), w_stride, len, whole * MR);
        let aligned = w.as_ptr().cast::<u32>().is_aligned() && w_stride.is_multiple_of(2);
        if aligned && tiles == whole && tiles > 0 {
            // SAFETY: the FPU with the half-precision conversions is present on the
            // targets that compile this module; `x` holds `blocks * 8` elements, the
            // `4 * tiles` rows of `blocks * 8` elements `w_stride` apart lie inside `w`
            // (`tiles_inside`) and start on 4-byte boundaries (`aligned`), and `out`
            // holds `4 * tiles`.
            unsafe { arm_fpu_dot_f16_4x1_rows(x, w, w_stride, blocks, tiles, out) }
            return;
        }
        // wrapping: o < out.len() rows of w_stride, which the shapes checked at load fit in w
        for (o, dst) in (0..whole.wrapping_mul(MR)).zip(out.iter_mut()) {
            let row = w.get(o.wrapping_mul(w_stride)..).unwrap_or(&[]);
            *dst = self.dot_blocks(x, row, blocks);
        }
    }

    fn dot_blocks(self, x: &[f32], w: &[f16], blocks: usize) -> f32 {
        let n = (blocks * 8).min(x.len()).min(w.len());
        let (x, w) = (x.get(..n).unwrap_or(&[]), w.get(..n).unwrap_or(&[]));
        x.iter()
            .zip(w)
            .fold(0.0f32, |sum, (&a, &b)| sum + a * self.widen(b))
    }

    #[inline(always)]
    fn widen(self, v: f16) -> f32 {
        widen_fpu(v)
    }
}

/// One f16 widened by the FPU (`VCVTB.F32.F16`, exact): 3 instructions where `half`'s
/// software conversion takes about 20.
#[inline(always)]
pub(crate) fn widen_fpu(v: f16) -> f32 {
    let bits: u32;
    // SAFETY: the FPU with the half-precision conversions is present on the targets that
    // compile this module (build.rs); the asm touches only its operand and s0 (declared),
    // no memory, no stack.
    unsafe {
        asm!(
            "vmov s0, {v}",
            "vcvtb.f32.f16 s0, s0",
            "vmov {v}, s0",
            v = inout(reg) u32::from(v.to_bits()) => bits,
            out("s0") _,
            options(pure, nomem, nostack),
        );
    }
    f32::from_bits(bits)
}

/// `out[o] = sum_i x[i] * w[o * w_stride + i]` for `i < blocks * 8`, `o < 4 * tiles`:
/// `tiles` tiles of 4 f16 weight rows `w_stride` apart, in one call. Between tiles only
/// the accumulators are cleared, the pointers moved and the 4 sums stored.
///
/// # Safety
/// `tiles >= 1`; `x` must hold `blocks * 8` elements; `w` the rows `0..4 * tiles` of
/// `blocks * 8` elements `w_stride` apart, each starting on a 4-byte boundary; `out`
/// `4 * tiles` elements; and the CPU must have an FPv4-SP / FPv5 / VFPv4-class FPU (fused
/// multiply-add, half-precision conversions, 32 single-precision registers) with
/// `FPSCR.AHP` clear (IEEE half precision, the reset value).
#[inline(never)]
unsafe fn arm_fpu_dot_f16_4x1_rows(
    x: &[f32],
    w: &[f16],
    w_stride: usize,
    blocks: usize,
    tiles: usize,
    out: &mut [f32],
) {
    // SAFETY: the loops read `blocks * 8` floats of `x` and `blocks * 8` halves of each
    // of the `4 * tiles` weight rows (word-aligned), and write `4 * tiles` floats of
    // `out`, all in bounds (the caller's contract); the asm clobbers only the
    // s-registers it names and its own operands, and does not touch the stack.
    unsafe {
        asm!(
            // s28 = 0.0 without a general-purpose register: 0.5 - 0.5
            "vmov.f32 s28, #0.5",
            "vsub.f32 s28, s28, s28",
            "1:",
            "vmov.f32 s16, s28",
            "vmov.f32 s17, s28",
            "vmov.f32 s18, s28",
            "vmov.f32 s19, s28",
            "add {w1}, {w0}, {stride}",
            "add {w2}, {w1}, {stride}",
            "add {w3}, {w2}, {stride}",
            "adds {n}, {blocks}, #0",
            "beq 3f",
            "2:",
            "vldmia {x}!, {{s0-s7}}",
            "vldmia {w0}!, {{s8-s11}}",
            "vcvtb.f32.f16 s20, s8",
            "vcvtt.f32.f16 s21, s8",
            "vfma.f32 s16, s0, s20",
            "vcvtb.f32.f16 s22, s9",
            "vfma.f32 s16, s1, s21",
            "vcvtt.f32.f16 s23, s9",
            "vfma.f32 s16, s2, s22",
            "vcvtb.f32.f16 s24, s10",
            "vfma.f32 s16, s3, s23",
            "vcvtt.f32.f16 s25, s10",
            "vfma.f32 s16, s4, s24",
            "vcvtb.f32.f16 s26, s11",
            "vfma.f32 s16, s5, s25",
            "vcvtt.f32.f16 s27, s11",
            "vfma.f32 s16, s6, s26",
            "vfma.f32 s16, s7, s27",
            "vldmia {w1}!, {{s8-s11}}",
            "vcvtb.f32.f16 s20, s8",
            "vcvtt.f32.f16 s21, s8",
            "vfma.f32 s17, s0, s20",
            "vcvtb.f32.f16 s22, s9",
            "vfma.f32 s17, s1, s21",
            "vcvtt.f32.f16 s23, s9",
            "vfma.f32 s17, s2, s22",
            "vcvtb.f32.f16 s24, s10",
            "vfma.f32 s17, s3, s23",
            "vcvtt.f32.f16 s25, s10",
            "vfma.f32 s17, s4, s24",
            "vcvtb.f32.f16 s26, s11",
            "vfma.f32 s17, s5, s25",
            "vcvtt.f32.f16 s27, s11",
            "vfma.f32 s17, s6, s26",
            "vfma.f32 s17, s7, s27",
            "vldmia {w2}!, {{s8-s11}}",
            "vcvtb.f32.f16 s20, s8",
            "vcvtt.f32.f16 s21, s8",
            "vfma.f32 s18, s0, s20",
            "vcvtb.f32.f16 s22, s9",
            "vfma.f32 s18, s1, s21",
            "vcvtt.f32.f16 s23, s9",
            "vfma.f32 s18, s2, s22",
            "vcvtb.f32.f16 s24, s10",
            "vfma.f32 s18, s3, s23",
            "vcvtt.f32.f16 s25, s10",
            "vfma.f32 s18, s4, s24",
            "vcvtb.f32.f16 s26, s11",
            "vfma.f32 s18, s5, s25",
            "vcvtt.f32.f16 s27, s11",
            "vfma.f32 s18, s6, s26",
            "vfma.f32 s18, s7, s27",
            "vldmia {w3}!, {{s8-s11}}",
            "vcvtb.f32.f16 s20, s8",
            "vcvtt.f32.f16 s21, s8",
            "vfma.f32 s19, s0, s20",
            "vcvtb.f32.f16 s22, s9",
            "vfma.f32 s19, s1, s21",
            "vcvtt.f32.f16 s23, s9",
            "vfma.f32 s19, s2, s22",
            "vcvtb.f32.f16 s24, s10",
            "vfma.f32 s19, s3, s23",
            "vcvtt.f32.f16 s25, s10",
            "vfma.f32 s19, s4, s24",
            "vcvtb.f32.f16 s26, s11",
            "vfma.f32 s19, s5, s25",
            "vcvtt.f32.f16 s27, s11",
            "vfma.f32 s19, s6, s26",
            "vfma.f32 s19, s7, s27",
            "subs {n}, {n}, #1",
            "bne 2b",
            "3:",
            "vstmia {out}!, {{s16-s19}}",
            // back to the start of x (32 bytes a block); w0 back by 16 bytes a block,
            // then on to the first row of the next tile
            "sub.w {x}, {x}, {blocks}, lsl #5",
            "sub.w {w0}, {w0}, {blocks}, lsl #4",
            "add.w {w0}, {w0}, {stride}, lsl #2",
            "subs {tiles}, {tiles}, #1",
            "bne 1b",
            x = inout(reg) x.as_ptr() => _,
            w0 = inout(reg) w.as_ptr() => _,
            w1 = out(reg) _,
            w2 = out(reg) _,
            w3 = out(reg) _,
            n = out(reg) _,
            blocks = in(reg) blocks,
            stride = in(reg) w_stride * 2,
            tiles = inout(reg) tiles => _,
            out = inout(reg) out.as_mut_ptr() => _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            out("s24") _, out("s25") _, out("s26") _, out("s27") _,
            out("s28") _,
            options(nostack),
        );
    }
}
