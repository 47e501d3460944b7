//! Arm single-precision FPU kernels (Cortex-M4F/M7/M33/M55 and 32-bit Arm Linux).
//!
//! These cores have no f32 SIMD (the M55's MVE aside) but 32 single-precision registers,
//! `vldmia` (load up to 16 registers in one instruction, advancing the pointer) and
//! `vfma.f32`. The kernel keeps 8 inputs, 8 weights and 4 accumulators in registers:
//! per block of 8 elements and 4 weight rows it issues 5 loads and 32 fused
//! multiply-adds, about 1.2 instructions per multiply-accumulate with the loop.
//! `LANES` = 8 is that block; the frame handles the rest in scalar code.

use crate::frame::f32::{F32Simd, MR};
use core::arch::asm;

/// The Arm FPU kernel: 8-element blocks, 4 weight rows at a time.
#[derive(Debug, Clone, Copy)]
pub struct ArmFpu(());

impl F32Simd for ArmFpu {
    const NAME: &'static str = "arm-fpu";
    const LANES: usize = 8;
    const ALIGN: usize = 4;
    // `dot_tile` makes one pass per input row with the same instructions as `dot_rows`,
    // and `axpy_tile` is the default (one `axpy_blocks` per row).
    const ROW_BY_ROW: bool = true;

    fn detect() -> Option<Self> {
        // build.rs enables this module only on targets whose FPU has vfma.f32 and 32
        // single-precision registers.
        Some(ArmFpu(()))
    }

    fn dot_tile<const ROWS: usize>(
        self,
        x: [&[f32]; ROWS],
        w: [&[f32]; MR],
        blocks: usize,
    ) -> [[f32; MR]; ROWS] {
        let blocks = x.iter().chain(&w).fold(blocks, |b, s| b.min(s.len() / 8));
        // Without caches there is nothing to gain from sharing weight loads across rows:
        // one 4-row pass per input row.
        core::array::from_fn(|r| {
            // SAFETY: every slice holds at least `blocks * 8` elements (just above) and
            // the FPU is present on the targets that compile this module.
            unsafe { arm_fpu_dot_f32_4x1(x[r], &w, blocks) }
        })
    }

    fn dot_rows(self, x: &[f32], w: &[f32], w_stride: usize, blocks: usize, out: &mut [f32]) {
        let blocks = blocks.min(x.len() / 8);
        let tiles = crate::frame::f32::tiles_inside(w.len(), w_stride, blocks * 8, out.len());
        if tiles == 0 {
            return;
        }
        // SAFETY: the FPU is present on the targets that compile this module; `x` holds
        // `blocks * 8` elements, the `4 * tiles` rows of `blocks * 8` elements
        // `w_stride` apart lie inside `w` (`tiles_inside`), and `out` holds `4 * tiles`.
        unsafe { arm_fpu_dot_f32_4x1_rows(x, w, w_stride, blocks, tiles, out) }
    }

    // Attention's short dot products and weighted sums: the compiler already emits
    // vldr/vfma loops for the scalar code, and the 4-row kernel would load `b` 4 times.
    fn dot_blocks(self, a: &[f32], b: &[f32], blocks: usize) -> f32 {
        let n = blocks * 8;
        crate::generic::f32::dot(a.get(..n).unwrap_or(a), b.get(..n).unwrap_or(b))
    }

    fn square_sum_blocks(self, x: &[f32], blocks: usize) -> f32 {
        square_sum_blocks(x, blocks)
    }

    fn silu_gate(self, gate: &mut [f32], up: &[f32]) {
        let n = gate.len().min(up.len());
        // SAFETY: `gate` and `up` hold `n` floats; the FPU is present on the targets that
        // compile this module.
        unsafe { arm_fpu_silu_gate(gate.as_mut_ptr(), up.as_ptr(), n) }
    }

    fn scale_by_gamma(self, x: &mut [f32], gamma: &[f32], factor: f32) {
        let blocks = x.len().min(gamma.len()) / 8;
        // SAFETY: `x` and `gamma` hold `blocks * 8` floats (just above); the FPU is
        // present on the targets that compile this module.
        unsafe { arm_fpu_scale_by_gamma(x.as_mut_ptr(), gamma.as_ptr(), factor, blocks) };
        let head = blocks * 8;
        if let (Some(x), Some(gamma)) = (x.get_mut(head..), gamma.get(head..)) {
            crate::generic::f32::scale_by_gamma(x, gamma, factor);
        }
    }

    fn axpy_blocks(self, alpha: f32, x: &[f32], y: &mut [f32], blocks: usize) {
        let n = (blocks * 8).min(x.len()).min(y.len());
        if let (Some(x), Some(y)) = (x.get(..n), y.get_mut(..n)) {
            crate::generic::f32::axpy(alpha, x, y);
        }
    }

    // `vfma`: one instruction per multiply-add in the attention's 8-column loops.
    const HEAD8_FMA: bool = true;

    fn scores_head8(self, q: &[f32; 8], keys: &[f32], stride: usize, scores: &mut [f32]) -> f32 {
        scores_head8(q, keys, stride, scores)
    }

    fn weighted_sum_head8(
        self,
        weights: &[f32],
        values: &[f32],
        stride: usize,
        out: &mut [f32; 8],
    ) {
        weighted_sum_head8(weights, values, stride, out)
    }

    fn exp_weighted_sum_head8(
        self,
        scores: &mut [f32],
        largest: f32,
        values: &[f32],
        stride: usize,
        out: &mut [f32; 8],
    ) -> f32 {
        exp_weighted_sum_head8(scores, largest, values, stride, out)
    }
}

/// Four dot products of `x` with `w[0..4]` over `blocks` blocks of 8 elements.
///
/// # Safety
/// Every slice must hold at least `blocks * 8` elements, and the CPU must have a
/// VFPv4-class FPU with 32 single-precision registers.
#[inline(never)]
unsafe fn arm_fpu_dot_f32_4x1(x: &[f32], w: &[&[f32]; MR], blocks: usize) -> [f32; MR] {
    let (mut acc0, mut acc1, mut acc2, mut acc3): (u32, u32, u32, u32);
    // SAFETY: the loop reads `blocks * 8` floats from each pointer, which the caller
    // guarantees are in bounds; the asm clobbers only the s-registers it names and the
    // pointer/counter registers it owns; it does not touch the stack.
    unsafe {
        asm!(
            "vmov s16, {zero}",
            "vmov s17, {zero}",
            "vmov s18, {zero}",
            "vmov s19, {zero}",
            "cmp {n}, #0",
            "beq 2f",
            "1:",
            "vldmia {x}!, {{s0-s7}}",
            "vldmia {w0}!, {{s8-s15}}",
            "vfma.f32 s16, s0, s8",
            "vfma.f32 s16, s1, s9",
            "vfma.f32 s16, s2, s10",
            "vfma.f32 s16, s3, s11",
            "vfma.f32 s16, s4, s12",
            "vfma.f32 s16, s5, s13",
            "vfma.f32 s16, s6, s14",
            "vfma.f32 s16, s7, s15",
            "vldmia {w1}!, {{s8-s15}}",
            "vfma.f32 s17, s0, s8",
            "vfma.f32 s17, s1, s9",
            "vfma.f32 s17, s2, s10",
            "vfma.f32 s17, s3, s11",
            "vfma.f32 s17, s4, s12",
            "vfma.f32 s17, s5, s13",
            "vfma.f32 s17, s6, s14",
            "vfma.f32 s17, s7, s15",
            "vldmia {w2}!, {{s8-s15}}",
            "vfma.f32 s18, s0, s8",
            "vfma.f32 s18, s1, s9",
            "vfma.f32 s18, s2, s10",
            "vfma.f32 s18, s3, s11",
            "vfma.f32 s18, s4, s12",
            "vfma.f32 s18, s5, s13",
            "vfma.f32 s18, s6, s14",
            "vfma.f32 s18, s7, s15",
            "vldmia {w3}!, {{s8-s15}}",
            "vfma.f32 s19, s0, s8",
            "vfma.f32 s19, s1, s9",
            "vfma.f32 s19, s2, s10",
            "vfma.f32 s19, s3, s11",
            "vfma.f32 s19, s4, s12",
            "vfma.f32 s19, s5, s13",
            "vfma.f32 s19, s6, s14",
            "vfma.f32 s19, s7, s15",
            "subs {n}, {n}, #1",
            "bne 1b",
            "2:",
            "vmov {a0}, s16",
            "vmov {a1}, s17",
            "vmov {a2}, s18",
            "vmov {a3}, s19",
            x = inout(reg) x.as_ptr() => _,
            w0 = inout(reg) w[0].as_ptr() => _,
            w1 = inout(reg) w[1].as_ptr() => _,
            w2 = inout(reg) w[2].as_ptr() => _,
            w3 = inout(reg) w[3].as_ptr() => _,
            n = inout(reg) blocks => _,
            zero = in(reg) 0u32,
            a0 = out(reg) acc0,
            a1 = out(reg) acc1,
            a2 = out(reg) acc2,
            a3 = out(reg) acc3,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            options(nostack, readonly),
        );
    }
    [
        f32::from_bits(acc0),
        f32::from_bits(acc1),
        f32::from_bits(acc2),
        f32::from_bits(acc3),
    ]
}

/// [`arm_fpu_dot_f32_4x1`] over `tiles` consecutive tiles of 4 weight rows `w_stride`
/// apart, in one call: `out[o] = sum_i x[i] * w[o * w_stride + i]` for `i < blocks * 8`,
/// `o < 4 * tiles`. Between tiles only the accumulators are cleared, the pointers moved
/// and the 4 sums stored (15 instructions).
///
/// # Safety
/// `tiles >= 1`; `x` must hold `blocks * 8` elements, `w` the rows `0..4 * tiles` of
/// `blocks * 8` elements `w_stride` apart, `out` `4 * tiles` elements; and the CPU must
/// have a VFPv4-class FPU with 32 single-precision registers.
unsafe fn arm_fpu_dot_f32_4x1_rows(
    x: &[f32],
    w: &[f32],
    w_stride: usize,
    blocks: usize,
    tiles: usize,
    out: &mut [f32],
) {
    // SAFETY: the loops read `blocks * 8` floats of `x` and of each of the `4 * tiles`
    // weight rows and write `4 * tiles` floats of `out`, all in bounds (the caller's
    // contract); the asm clobbers only the s-registers it names and its own operands,
    // and does not touch the stack.
    unsafe {
        asm!(
            // s20 = 0.0 without a general-purpose register: 0.5 - 0.5
            "vmov.f32 s20, #0.5",
            "vsub.f32 s20, s20, s20",
            "1:",
            "vmov.f32 s16, s20",
            "vmov.f32 s17, s20",
            "vmov.f32 s18, s20",
            "vmov.f32 s19, s20",
            "add {w1}, {w0}, {stride}",
            "add {w2}, {w1}, {stride}",
            "add {w3}, {w2}, {stride}",
            "adds {n}, {blocks}, #0",
            "beq 3f",
            "2:",
            "vldmia {x}!, {{s0-s7}}",
            "vldmia {w0}!, {{s8-s15}}",
            "vfma.f32 s16, s0, s8",
            "vfma.f32 s16, s1, s9",
            "vfma.f32 s16, s2, s10",
            "vfma.f32 s16, s3, s11",
            "vfma.f32 s16, s4, s12",
            "vfma.f32 s16, s5, s13",
            "vfma.f32 s16, s6, s14",
            "vfma.f32 s16, s7, s15",
            "vldmia {w1}!, {{s8-s15}}",
            "vfma.f32 s17, s0, s8",
            "vfma.f32 s17, s1, s9",
            "vfma.f32 s17, s2, s10",
            "vfma.f32 s17, s3, s11",
            "vfma.f32 s17, s4, s12",
            "vfma.f32 s17, s5, s13",
            "vfma.f32 s17, s6, s14",
            "vfma.f32 s17, s7, s15",
            "vldmia {w2}!, {{s8-s15}}",
            "vfma.f32 s18, s0, s8",
            "vfma.f32 s18, s1, s9",
            "vfma.f32 s18, s2, s10",
            "vfma.f32 s18, s3, s11",
            "vfma.f32 s18, s4, s12",
            "vfma.f32 s18, s5, s13",
            "vfma.f32 s18, s6, s14",
            "vfma.f32 s18, s7, s15",
            "vldmia {w3}!, {{s8-s15}}",
            "vfma.f32 s19, s0, s8",
            "vfma.f32 s19, s1, s9",
            "vfma.f32 s19, s2, s10",
            "vfma.f32 s19, s3, s11",
            "vfma.f32 s19, s4, s12",
            "vfma.f32 s19, s5, s13",
            "vfma.f32 s19, s6, s14",
            "vfma.f32 s19, s7, s15",
            "subs {n}, {n}, #1",
            "bne 2b",
            "3:",
            "vstmia {out}!, {{s16-s19}}",
            // back to the start of x; w0 to the first row of the next tile
            "sub.w {x}, {x}, {blocks}, lsl #5",
            "sub.w {w0}, {w0}, {blocks}, lsl #5",
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
            // wrapping: the rows lie inside the slice (SAFETY above): the byte stride fits
            stride = in(reg) w_stride.wrapping_mul(4),
            tiles = inout(reg) tiles => _,
            out = inout(reg) out.as_mut_ptr() => _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _,
            options(nostack),
        );
    }
}

/// [`crate::generic::f32::silu_gate`] over `n` elements, bit for bit: per element `x =
/// -g`, [`crate::generic::f32::exp_fast`]'s operations in its order (0 below
/// `EXP_ZERO_BELOW`, infinity above 88.72; `n` from the low bits of `x log2 e + 1.5 *
/// 2^23`, exact for those `x`; `2^n` in two halves, `n >> 1` and `n - (n >> 1)`), then
/// `g / (1 + e) * up` (`vdiv`, `vmul`).
///
/// # Safety
/// `gate` and `up` must point to `n` floats, and the CPU must have the single-precision
/// FPU.
unsafe fn arm_fpu_silu_gate(gate: *mut f32, up: *const f32, n: usize) {
    // SAFETY: reads `n` floats of `up` and the 12 constants, reads and writes `n` floats
    // of `gate` (the caller's contract); clobbers only the s-registers it names, its own
    // operands and the flags; no stack.
    unsafe {
        asm!(
            "vldmia {c}, {{s20-s31}}",
            "vmov.f32 s13, #0.5",
            "vsub.f32 s13, s13, s13",     // +0.0
            "vmov s14, {inf}",
            "vmov s15, {overflow}",
            "cmp {n}, #0",
            "beq 2f",
            "1:",
            "vldmia {g}, {{s0}}",
            "vldmia {u}!, {{s1}}",
            "vneg.f32 s8, s0",            // x = -g
            "vmul.f32 s9, s8, s20",
            "vadd.f32 s9, s9, s21",       // t: n in its low bits
            "vmov {bits}, s9",
            "vsub.f32 s9, s9, s21",       // n
            "vmul.f32 s10, s9, s22",
            "vsub.f32 s10, s8, s10",
            "vmul.f32 s11, s9, s23",
            "vsub.f32 s10, s10, s11",     // r
            "vmul.f32 s11, s24, s10",
            "vadd.f32 s11, s11, s25",
            "vmul.f32 s11, s11, s10",
            "vadd.f32 s11, s11, s26",
            "vmul.f32 s11, s11, s10",
            "vadd.f32 s11, s11, s27",
            "vmul.f32 s11, s11, s10",
            "vadd.f32 s11, s11, s28",
            "vmul.f32 s11, s11, s10",
            "vadd.f32 s11, s11, s29",     // p
            "vmul.f32 s12, s10, s10",
            "vmul.f32 s11, s11, s12",
            "vadd.f32 s11, s11, s10",
            "vadd.f32 s11, s11, s30",     // e^r
            "sub.w {bits}, {bits}, {round_bits}", // n
            "asr.w {half}, {bits}, #1",
            "sub.w {bits}, {bits}, {half}",
            "add.w {half}, {bias}, {half}, lsl #23",
            "bic {half}, {half}, #0x80000000", // & 0xff << 23 (the low bits are 0)
            "vmov s12, {half}",
            "vmul.f32 s11, s11, s12",
            "add.w {bits}, {bias}, {bits}, lsl #23",
            "bic {bits}, {bits}, #0x80000000",
            "vmov s12, {bits}",
            "vmul.f32 s11, s11, s12",     // e
            "vcmp.f32 s8, s31",
            "vmrs APSR_nzcv, fpscr",
            "it mi",                      // x < EXP_ZERO_BELOW: 0
            "vmovmi.f32 s11, s13",
            "vcmp.f32 s8, s15",
            "vmrs APSR_nzcv, fpscr",
            "it gt",                      // x > 88.72: infinity
            "vmovgt.f32 s11, s14",
            "vadd.f32 s11, s11, s30",     // 1 + e
            "vdiv.f32 s0, s0, s11",
            "vmul.f32 s0, s0, s1",
            "vstmia {g}!, {{s0}}",
            "subs {n}, {n}, #1",
            "bne 1b",
            "2:",
            c = in(reg) EXP_CONSTANTS.as_ptr(),
            g = inout(reg) gate => _,
            u = inout(reg) up => _,
            n = inout(reg) n => _,
            bits = out(reg) _,
            half = out(reg) _,
            round_bits = in(reg) crate::generic::f32::EXP_ROUND.to_bits(),
            bias = in(reg) 127u32 << 23,
            inf = in(reg) f32::INFINITY.to_bits(),
            overflow = in(reg) 88.72f32.to_bits(),
            out("s0") _, out("s1") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            out("s24") _, out("s25") _, out("s26") _, out("s27") _,
            out("s28") _, out("s29") _, out("s30") _, out("s31") _,
            options(nostack),
        );
    }
}

/// [`crate::generic::f32::scale_by_gamma`] over `blocks` blocks of 8: `x = gamma * (x *
/// factor)`, the same two roundings per element.
///
/// # Safety
/// `x` and `gamma` must point to `blocks * 8` floats, and the CPU must have the
/// single-precision FPU.
unsafe fn arm_fpu_scale_by_gamma(x: *mut f32, gamma: *const f32, factor: f32, blocks: usize) {
    // SAFETY: reads `blocks * 8` floats of `gamma`, reads and writes `blocks * 8` floats
    // of `x` (the caller's contract); clobbers only the s-registers it names, its own
    // operands and the flags; no stack.
    unsafe {
        asm!(
            "vmov s16, {factor}",
            "cmp {n}, #0",
            "beq 2f",
            "1:",
            "vldmia {x}, {{s0-s7}}",
            "vldmia {g}!, {{s8-s15}}",
            "vmul.f32 s0, s0, s16",
            "vmul.f32 s1, s1, s16",
            "vmul.f32 s2, s2, s16",
            "vmul.f32 s3, s3, s16",
            "vmul.f32 s4, s4, s16",
            "vmul.f32 s5, s5, s16",
            "vmul.f32 s6, s6, s16",
            "vmul.f32 s7, s7, s16",
            "vmul.f32 s0, s8, s0",
            "vmul.f32 s1, s9, s1",
            "vmul.f32 s2, s10, s2",
            "vmul.f32 s3, s11, s3",
            "vmul.f32 s4, s12, s4",
            "vmul.f32 s5, s13, s5",
            "vmul.f32 s6, s14, s6",
            "vmul.f32 s7, s15, s7",
            "vstmia {x}!, {{s0-s7}}",
            "subs {n}, {n}, #1",
            "bne 1b",
            "2:",
            x = inout(reg) x => _,
            g = inout(reg) gamma => _,
            factor = in(reg) factor.to_bits(),
            n = inout(reg) blocks => _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _,
            options(nostack),
        );
    }
}

/// `x . x` over `blocks` blocks of 8 in [`crate::generic::f32::dot`]'s order, bit for bit
/// (what [`ArmFpu::dot_blocks`](F32Simd::dot_blocks) computes): lane `i` accumulates
/// `lane = lane + x_i x_i` (`vmul` then `vadd`) from +0.0, then
/// `((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7))`.
///
/// # Safety
/// `x` must point to `blocks * 8` floats, and the CPU must have the single-precision FPU.
unsafe fn arm_fpu_square_sum(x: *const f32, blocks: usize) -> f32 {
    let sum: u32;
    // SAFETY: reads `blocks * 8` floats from `x` (the caller's contract); clobbers only
    // the s-registers it names, its own operands and the flags; no stack.
    unsafe {
        asm!(
            "vmov.f32 s16, #0.5",
            "vsub.f32 s16, s16, s16",
            "vmov.f32 s17, s16",
            "vmov.f32 s18, s16",
            "vmov.f32 s19, s16",
            "vmov.f32 s20, s16",
            "vmov.f32 s21, s16",
            "vmov.f32 s22, s16",
            "vmov.f32 s23, s16",
            "cmp {n}, #0",
            "beq 2f",
            "1:",
            "vldmia {x}!, {{s0-s7}}",
            "vmul.f32 s8, s0, s0",
            "vadd.f32 s16, s16, s8",
            "vmul.f32 s9, s1, s1",
            "vadd.f32 s17, s17, s9",
            "vmul.f32 s10, s2, s2",
            "vadd.f32 s18, s18, s10",
            "vmul.f32 s11, s3, s3",
            "vadd.f32 s19, s19, s11",
            "vmul.f32 s12, s4, s4",
            "vadd.f32 s20, s20, s12",
            "vmul.f32 s13, s5, s5",
            "vadd.f32 s21, s21, s13",
            "vmul.f32 s14, s6, s6",
            "vadd.f32 s22, s22, s14",
            "vmul.f32 s15, s7, s7",
            "vadd.f32 s23, s23, s15",
            "subs {n}, {n}, #1",
            "bne 1b",
            "2:",
            "vadd.f32 s0, s16, s20",      // l0 + l4
            "vadd.f32 s1, s18, s22",      // l2 + l6
            "vadd.f32 s0, s0, s1",
            "vadd.f32 s2, s17, s21",      // l1 + l5
            "vadd.f32 s3, s19, s23",      // l3 + l7
            "vadd.f32 s2, s2, s3",
            "vadd.f32 s0, s0, s2",
            "vmov {sum}, s0",
            x = inout(reg) x => _,
            n = inout(reg) blocks => _,
            sum = lateout(reg) sum,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            options(nostack, readonly),
        );
    }
    f32::from_bits(sum)
}

/// [`F32Simd::square_sum_blocks`] by [`arm_fpu_square_sum`]: the scalar reference's order
/// over `blocks` blocks of 8 (also the Helium kernel's: its vector lanes would sum in
/// another order).
pub(crate) fn square_sum_blocks(x: &[f32], blocks: usize) -> f32 {
    let blocks = blocks.min(x.len() / 8);
    // SAFETY: `x` holds `blocks * 8` floats (just above); the FPU is present on the
    // targets that compile this module.
    unsafe { arm_fpu_square_sum(x.as_ptr(), blocks) }
}

/// [`crate::generic::f32::scores_head8_fma`] by [`arm_fpu_scores_head8`] (also the Helium
/// kernel's: MVE cores have this FPU, and 8-wide rows are two vectors at most).
pub(crate) fn scores_head8(q: &[f32; 8], keys: &[f32], stride: usize, scores: &mut [f32]) -> f32 {
    if stride < 8 {
        return crate::generic::f32::scores_head8_fma(q, keys, stride, scores);
    }
    let rows = rows_inside(keys.len(), stride, scores.len());
    // SAFETY: `rows` rows of 8 floats `stride` apart lie inside `keys` and `scores` holds
    // `rows` (`rows_inside`); `q` is 8 floats; the FPU is present on the targets that
    // compile this module.
    unsafe { arm_fpu_scores_head8(q, keys.as_ptr(), stride, rows, scores.as_mut_ptr()) }
}

/// [`crate::generic::f32::weighted_sum_head8_fma`] by [`arm_fpu_weighted_sum_head8`].
pub(crate) fn weighted_sum_head8(
    weights: &[f32],
    values: &[f32],
    stride: usize,
    out: &mut [f32; 8],
) {
    if stride < 8 {
        return crate::generic::f32::weighted_sum_head8_fma(weights, values, stride, out);
    }
    let rows = rows_inside(values.len(), stride, weights.len());
    // SAFETY: as in `scores_head8`, with `weights` holding `rows` floats and `out` 8.
    unsafe { arm_fpu_weighted_sum_head8(weights.as_ptr(), values.as_ptr(), stride, rows, out) }
}

/// `{max}` = the larger of `{max}` and `{v}` (s-registers), a running maximum that starts
/// at `-inf` or `+0.0` and never takes a NaN: FPv5's `VMAXNM` (1 instruction; Cortex-M33,
/// M55), else FPv4's compare and conditional move (4; an unordered compare is never
/// greater). They differ only in an equal zero's sign (`VMAXNM` takes +0.0 over -0.0),
/// which no result shows: the callers only subtract the maximum from values at most it
/// (`exp_fast` of +0.0 and -0.0 is 1) or divide by a maximum of non-negative weights; the
/// NaNs here are arithmetic results, quiet, which `VMAXNM` passes over as the compare does.
#[cfg(pf_arm_fpv5)]
macro_rules! keep_larger {
    ($max:literal, $v:literal) => {
        concat!("vmaxnm.f32 ", $max, ", ", $max, ", ", $v, "\n")
    };
}
#[cfg(not(pf_arm_fpv5))]
macro_rules! keep_larger {
    ($max:literal, $v:literal) => {
        concat!(
            "vcmp.f32 ",
            $v,
            ", ",
            $max,
            "\n",
            "vmrs APSR_nzcv, fpscr\n",
            "it gt\n",
            "vmovgt.f32 ",
            $max,
            ", ",
            $v,
            "\n",
        )
    };
}
#[cfg(pf_arm_dsp)] // the int8 module, built with the DSP extension
pub(crate) use keep_larger;

/// `e = exp_fast_nonpositive(x)` of `x = s8 - s14` (the score less the largest, left in
/// s8) into s11, and `sum` (s15) `+= e`: `exp_fast`'s operations in its order (the
/// constants in s20-s31, +0.0 in s13; `{bits}` a scratch and `{bias}` `127 << 23`, the
/// caller's operands). This kernel's `exp_weighted_key`.
macro_rules! exp_fast_sum_steps {
    () => {
        concat!(
            "vsub.f32 s8, s8, s14\n", // x = score - largest
            "vmul.f32 s9, s8, s20\n", // x log2 e
            "vadd.f32 s9, s9, s21\n", // t = x log2 e + 1.5 * 2^23: n in its low bits
            "vmov {bits}, s9\n",
            "vsub.f32 s9, s9, s21\n", // n
            "vmul.f32 s10, s9, s22\n",
            "vsub.f32 s10, s8, s10\n", // x - n ln2_high
            "vmul.f32 s11, s9, s23\n",
            "vsub.f32 s10, s10, s11\n", // r = (x - n ln2_high) - n ln2_low
            "vmul.f32 s11, s24, s10\n", // Horner: p0 r
            "vadd.f32 s11, s11, s25\n",
            "vmul.f32 s11, s11, s10\n",
            "vadd.f32 s11, s11, s26\n",
            "vmul.f32 s11, s11, s10\n",
            "vadd.f32 s11, s11, s27\n",
            "vmul.f32 s11, s11, s10\n",
            "vadd.f32 s11, s11, s28\n",
            "vmul.f32 s11, s11, s10\n",
            "vadd.f32 s11, s11, s29\n", // p
            "vmul.f32 s12, s10, s10\n", // r r
            "vmul.f32 s11, s11, s12\n",
            "vadd.f32 s11, s11, s10\n",                // p r^2 + r
            "vadd.f32 s11, s11, s30\n",                // + 1
            "add.w {bits}, {bias}, {bits}, lsl #23\n", // (n + 127) << 23
            "vmov s12, {bits}\n",
            "vmul.f32 s11, s11, s12\n", // e
            "vcmp.f32 s8, s31\n",
            "vmrs APSR_nzcv, fpscr\n",
            "it mi\n", // x < EXP_ZERO_BELOW (not NaN): 0
            "vmovmi.f32 s11, s13\n",
            "vadd.f32 s15, s15, s11\n", // sum
        )
    };
}

/// One key of [`arm_fpu_exp_weighted_sum_head8`]: `e = exp_fast_nonpositive(score -
/// largest)` of the score at `{s}` (`exp_fast_sum_steps`), `sum` (s15) `+= e`, `acc`
/// (s0-s7) `= fma(e, value, acc)` for the row at `{v}`.
macro_rules! exp_weighted_key {
    () => {
        concat!(
            "vldmia {s}!, {{s8}}\n",
            exp_fast_sum_steps!(),
            "vldmia {v}!, {{s16-s19}}\n",
            "vfma.f32 s0, s11, s16\n",
            "vfma.f32 s1, s11, s17\n",
            "vfma.f32 s2, s11, s18\n",
            "vfma.f32 s3, s11, s19\n",
            "vldmia {v}, {{s16-s19}}\n",
            "add {v}, {v}, {step}\n",
            "vfma.f32 s4, s11, s16\n",
            "vfma.f32 s5, s11, s17\n",
            "vfma.f32 s6, s11, s18\n",
            "vfma.f32 s7, s11, s19\n",
        )
    };
}

/// [`crate::generic::f32::exp_weighted_sum_head8_fma`] by
/// [`arm_fpu_exp_weighted_sum_head8`] (the exponentials are not stored: `scores` keeps the
/// scores), one pass over the keys instead of two.
pub(crate) fn exp_weighted_sum_head8(
    scores: &mut [f32],
    largest: f32,
    values: &[f32],
    stride: usize,
    out: &mut [f32; 8],
) -> f32 {
    let rows = rows_inside(values.len(), stride, scores.len());
    if stride < 8 || rows < scores.len() {
        return crate::generic::f32::exp_weighted_sum_head8_fma(
            scores, largest, values, stride, out,
        );
    }
    // SAFETY: `rows` rows of 8 floats `stride` apart lie inside `values` and `scores`
    // holds `rows` floats (`rows_inside`); `out` is 8 floats; the FPU is present on the
    // targets that compile this module.
    unsafe {
        arm_fpu_exp_weighted_sum_head8(scores.as_ptr(), largest, values.as_ptr(), stride, rows, out)
    }
}

/// [`crate::generic::f32::exp_fast_nonpositive`]'s constants in the order
/// [`arm_fpu_exp_weighted_sum_head8`] loads them into s20-s31.
pub(crate) static EXP_CONSTANTS: [f32; 12] = {
    use crate::generic::f32::{
        EXP_LN2_HIGH, EXP_LN2_LOW, EXP_LOG2_E, EXP_P, EXP_ROUND, EXP_ZERO_BELOW,
    };
    [
        EXP_LOG2_E,
        EXP_ROUND,
        EXP_LN2_HIGH,
        EXP_LN2_LOW,
        EXP_P[0],
        EXP_P[1],
        EXP_P[2],
        EXP_P[3],
        EXP_P[4],
        EXP_P[5],
        1.0,
        EXP_ZERO_BELOW,
    ]
};

/// One pass over `rows` keys: `e_j = exp_fast_nonpositive(scores[j] - largest)` with
/// `exp_fast`'s operations in its order (plain `vmul`, `vadd`,
/// `vsub`; `2^n` from the bits of `x log2 e + 1.5 * 2^23`, whose low bits are `n`, which
/// for `n` in `[-126, 0]` is the scalar code's `((n + 127) & 0xff) << 23`; 0 below
/// `EXP_ZERO_BELOW`, where that `n` would not fit), `sum = sum + e_j` from +0.0, and
/// eight accumulators from +0.0, `acc = fma(e_j, v_j, acc)` by `vfma` over the value rows
/// `stride` floats apart. Returns the sum.
///
/// # Safety
/// `values` must point to `rows` rows of 8 floats `stride >= 8` floats apart, `scores` to
/// `rows` floats, and the CPU must have the single-precision FPU.
unsafe fn arm_fpu_exp_weighted_sum_head8(
    scores: *const f32,
    largest: f32,
    values: *const f32,
    stride: usize,
    rows: usize,
    out: &mut [f32; 8],
) -> f32 {
    let sum: u32;
    // SAFETY: reads `rows` floats of `scores`, `rows` rows of 8 floats of `values` and the
    // 12 constants (the caller's contract), writes the 8 floats of `out`; clobbers only
    // the s-registers it names, its own operands and the flags; no stack.
    unsafe {
        asm!(
            "vldmia {c}, {{s20-s31}}",
            // +0.0 without a general-purpose register: 0.5 - 0.5
            "vmov.f32 s13, #0.5",
            "vsub.f32 s13, s13, s13",
            "vmov s14, {largest}",
            "vmov.f32 s15, s13",
            "vmov.f32 s0, s13",
            "vmov.f32 s1, s13",
            "vmov.f32 s2, s13",
            "vmov.f32 s3, s13",
            "vmov.f32 s4, s13",
            "vmov.f32 s5, s13",
            "vmov.f32 s6, s13",
            "vmov.f32 s7, s13",
            // two keys per pass, after the first when their number is odd
            "lsrs {n}, {n}, #1",
            "bcc 3f",
            exp_weighted_key!(),
            "3:",
            "cmp {n}, #0",
            "beq 2f",
            "1:",
            exp_weighted_key!(),
            exp_weighted_key!(),
            "subs {n}, {n}, #1",
            "bne 1b",
            "2:",
            "vstmia {out}, {{s0-s7}}",
            "vmov {sum}, s15",
            c = in(reg) EXP_CONSTANTS.as_ptr(),
            largest = in(reg) largest.to_bits(),
            s = inout(reg) scores => _,
            v = inout(reg) values => _,
            // from the second half of a row to the next row
            // wrapping: the rows lie inside the slice (SAFETY above): the byte stride fits
            step = in(reg) stride.wrapping_mul(4).wrapping_sub(16),
            n = inout(reg) rows => _,
            bits = out(reg) _,
            bias = in(reg) 127u32 << 23,
            out = in(reg) out.as_mut_ptr(),
            sum = lateout(reg) sum,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            out("s24") _, out("s25") _, out("s26") _, out("s27") _,
            out("s28") _, out("s29") _, out("s30") _, out("s31") _,
            options(nostack),
        );
    }
    f32::from_bits(sum)
}

/// Rows of 8 floats `stride` apart (`stride >= 8`; overlapping rows go to the scalar
/// code) that lie inside `len` floats, at most `limit`.
fn rows_inside(len: usize, stride: usize, limit: usize) -> usize {
    if len < 8 || stride < 8 {
        return 0;
    }
    ((len - 8) / stride + 1).min(limit)
}

/// One key of [`arm_fpu_scores_head8`]: the score of the row at `{k}` (`q` in s8-s15) to
/// `{out}`, the maximum in s16 (an unordered compare, i.e. NaN, is never greater).
macro_rules! score_key {
    () => {
        concat!(
            "vldmia {k}, {{s0-s7}}\n",
            "add {k}, {k}, {stride}\n",
            "vmul.f32 s17, s8, s0\n",
            "vfma.f32 s17, s9, s1\n",
            "vfma.f32 s17, s10, s2\n",
            "vfma.f32 s17, s11, s3\n",
            "vfma.f32 s17, s12, s4\n",
            "vfma.f32 s17, s13, s5\n",
            "vfma.f32 s17, s14, s6\n",
            "vfma.f32 s17, s15, s7\n",
            "vstmia {out}!, {{s17}}\n",
            keep_larger!("s16", "s17"),
        )
    };
}

/// [`crate::generic::f32::scores_head8_fma`] over `rows` key rows `stride` floats apart:
/// the same operations in the same order (`vmul` of the first pair, then one `vfma` per
/// element), the maximum by `vcmp` (unordered, i.e. NaN, never counts as greater).
///
/// # Safety
/// `keys` must point to `rows` rows of 8 floats `stride` floats apart, `scores` to `rows`
/// writable floats, and the CPU must have the single-precision FPU.
unsafe fn arm_fpu_scores_head8(
    q: &[f32; 8],
    keys: *const f32,
    stride: usize,
    rows: usize,
    scores: *mut f32,
) -> f32 {
    let largest: u32;
    // SAFETY: reads 8 floats of `q` and `rows` rows of 8 floats from `keys`, writes `rows`
    // floats to `scores` (the caller's contract); clobbers only the s-registers it names,
    // its own operands and the flags; no stack.
    unsafe {
        asm!(
            "vldmia {q}, {{s8-s15}}",
            "vmov s16, {neg_inf}",
            // four keys per pass, then the rest one by one
            "lsrs {quads}, {n}, #2",
            "beq 3f",
            "1:",
            score_key!(),
            score_key!(),
            score_key!(),
            score_key!(),
            "subs {quads}, {quads}, #1",
            "bne 1b",
            "3:",
            "ands {n}, {n}, #3",
            "beq 2f",
            "4:",
            score_key!(),
            "subs {n}, {n}, #1",
            "bne 4b",
            "2:",
            "vmov {largest}, s16",
            q = in(reg) q.as_ptr(),
            k = inout(reg) keys => _,
            // wrapping: the rows lie inside the slice (SAFETY above): the byte stride fits
            stride = in(reg) stride.wrapping_mul(4),
            n = inout(reg) rows => _,
            quads = out(reg) _,
            out = inout(reg) scores => _,
            neg_inf = in(reg) f32::NEG_INFINITY.to_bits(),
            largest = lateout(reg) largest,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _,
            options(nostack),
        );
    }
    f32::from_bits(largest)
}

/// [`crate::generic::f32::weighted_sum_head8_fma`] over `rows` value rows `stride` floats
/// apart: eight accumulators from +0.0, `acc = fma(w_j, v_j, acc)` by `vfma`.
///
/// # Safety
/// `values` must point to `rows` rows of 8 floats `stride` floats apart, `weights` to
/// `rows` floats, and the CPU must have the single-precision FPU.
unsafe fn arm_fpu_weighted_sum_head8(
    weights: *const f32,
    values: *const f32,
    stride: usize,
    rows: usize,
    out: &mut [f32; 8],
) {
    // SAFETY: reads `rows` floats of `weights` and `rows` rows of 8 floats of `values`
    // (the caller's contract), writes the 8 floats of `out`; clobbers only the
    // s-registers it names, its own operands and the flags; no stack.
    unsafe {
        asm!(
            // +0.0 without a general-purpose register: 0.5 - 0.5
            "vmov.f32 s16, #0.5",
            "vsub.f32 s16, s16, s16",
            "vmov.f32 s17, s16",
            "vmov.f32 s18, s16",
            "vmov.f32 s19, s16",
            "vmov.f32 s20, s16",
            "vmov.f32 s21, s16",
            "vmov.f32 s22, s16",
            "vmov.f32 s23, s16",
            "cmp {n}, #0",
            "beq 2f",
            "1:",
            "vldmia {v}, {{s0-s7}}",
            "add {v}, {v}, {stride}",
            "vldmia {w}!, {{s8}}",
            "vfma.f32 s16, s8, s0",
            "vfma.f32 s17, s8, s1",
            "vfma.f32 s18, s8, s2",
            "vfma.f32 s19, s8, s3",
            "vfma.f32 s20, s8, s4",
            "vfma.f32 s21, s8, s5",
            "vfma.f32 s22, s8, s6",
            "vfma.f32 s23, s8, s7",
            "subs {n}, {n}, #1",
            "bne 1b",
            "2:",
            "vstmia {out}, {{s16-s23}}",
            w = inout(reg) weights => _,
            v = inout(reg) values => _,
            // wrapping: the rows lie inside the slice (SAFETY above): the byte stride fits
            stride = in(reg) stride.wrapping_mul(4),
            n = inout(reg) rows => _,
            out = in(reg) out.as_mut_ptr(),
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            options(nostack),
        );
    }
}

/// `sqrt(x)` by the FPU's `vsqrt.f32`: correctly rounded, as IEEE 754 requires, so the
/// same bits as libm's `sqrtf` (see [`crate::generic::f32::sqrt`]).
#[inline]
pub fn sqrt(x: f32) -> f32 {
    let root: u32;
    // SAFETY: the asm reads and writes only its operands and s0, which it names as
    // clobbered; every target that compiles this module has the FPU. (Through core
    // registers: the s-register operand classes need a target feature that stable Rust
    // does not see on these targets.)
    unsafe {
        asm!(
            "vmov s0, {x}",
            "vsqrt.f32 s0, s0",
            "vmov {root}, s0",
            x = in(reg) x.to_bits(),
            root = lateout(reg) root,
            out("s0") _,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    f32::from_bits(root)
}
