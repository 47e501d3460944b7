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

    fn linear(
        self,
        x: &[f32],
        w: crate::quant::I8Matrix,
        bias: Option<&[f32]>,
        k: usize,
        y: &mut [f32],
        act: &mut crate::quant::Activations,
    ) {
        linear_i8(x, w, bias, k, y, act)
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

/// Quantizes `x` into `q` exactly as [`crate::quant::quantize_row`] does, in Helium: the max-abs
/// scan (`VMAXNMA`, 3 instructions per 4 values) and the scaling, rounding and narrowing
/// store (8 per 4 values). Helium flushes subnormal inputs and results to zero, which
/// cannot change an integer when `max |x| >= 2^-100` (a subnormal value or product is
/// then far below half a step); smaller maxima, and those that are not finite, go to
/// `quantize_row`. `q` holds `x.len()` values. Returns the scale.
pub fn quantize_row_mve(x: &[f32], q: &mut [i8]) -> f32 {
    let n = x.len().min(q.len());
    let (Some(x), Some(q)) = (x.get(..n), q.get_mut(..n)) else {
        return 0.0;
    };
    if n == 0 {
        return crate::quant::quantize_row(x, q);
    }
    let mut amax_bits = 0u32;
    // SAFETY: the tail-predicated loop reads exactly `n` floats from `x`; it writes only
    // the registers it names (q0, q1 as s0-s7, lr).
    unsafe {
        asm!(
            "vmov.i32 q1, #0",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{x}], #16",
            "vmaxnma.f32 q1, q0",
            "letp lr, 1b",
            "vmaxnmav.f32 {m}, q1",
            n = in(reg) n,
            x = inout(reg) x.as_ptr() => _,
            m = inout(reg) amax_bits,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            options(nostack, readonly),
        );
    }
    let amax = f32::from_bits(amax_bits);
    // 2^-100: below it (or NaN, or infinite), the exact rule of `quantize_row`.
    const SMALLEST_AMAX: f32 = f32::from_bits(0x0d80_0000);
    if amax.is_nan() || amax < SMALLEST_AMAX || !amax.is_finite() {
        return crate::quant::quantize_row(x, q);
    }
    let inv = crate::quant::I8_MAX / amax;
    // `round_to_i8(p)`: `p + 0.5` with the sign of `p` (`VAND`/`VORR` build it), then
    // `VCVT` toward zero; `|p| <= 127 * (1 + 2^-23)` needs no clamp, NaN gives 0.
    // SAFETY: the tail-predicated loop reads `n` floats from `x` and writes `n` bytes to
    // `q`; it writes only the registers it names (q0-q3 as s0-s15, lr).
    unsafe {
        asm!(
            "vmov.i32 q2, #0x80000000",
            "vmov.i32 q3, #0x3f000000",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{x}], #16",
            "vmul.f32 q0, q0, {inv}",
            "vand q1, q0, q2",
            "vorr q1, q1, q3",
            "vadd.f32 q0, q0, q1",
            "vcvt.s32.f32 q0, q0",
            "vstrb.32 q0, [{q}], #4",
            "letp lr, 1b",
            n = in(reg) n,
            x = inout(reg) x.as_ptr() => _,
            q = inout(reg) q.as_mut_ptr() => _,
            inv = in(reg) inv.to_bits(),
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            options(nostack),
        );
    }
    amax / crate::quant::I8_MAX
}

/// The int8 linear layer on Helium, bit-identical to [`crate::generic::i8::linear_i8`]: each
/// input row quantized once ([`quantize_row_mve`]), one asm loop over all groups of 4
/// weight rows ([`arm_mve_matvec_i8`]), and the scalar-FPU epilogue of the SMLAD kernel (the
/// FPU keeps subnormals, Helium would not). Fewer than 4 weight rows go through the
/// generic frame.
pub fn linear_i8(
    x: &[f32],
    w: crate::quant::I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    act: &mut crate::quant::Activations,
) {
    if k == 0 || k > crate::quant::I8_MAX_K {
        return crate::frame::i8::linear_i8(MveI8(()), x, w, bias, k, y, act);
    }
    let rows = x.len() / k;
    let n = w.values.len() / k;
    let (Some(q), Some(values), Some(scales), true) = (
        act.values.get_mut(..k),
        w.values.get(..n * k),
        w.scales.get(..n),
        n >= 4 && y.len() >= rows * n,
    ) else {
        return crate::frame::i8::linear_i8(MveI8(()), x, w, bias, k, y, act);
    };
    debug_assert_eq!(y.len(), rows * n, "y must be [rows, n]");
    let bias = bias.map(|b| b.get(..n).unwrap_or(b));
    for (x_row, y_row) in x.chunks_exact(k).zip(y.chunks_exact_mut(n)) {
        let sx = quantize_row_mve(x_row, q);
        // SAFETY: `q` holds `k` bytes, `values` `n * k`, `y_row` `n` values, `k > 0`,
        // `n >= 4`; the target has MVE (build.rs). The last pass (when `n % 4 != 0`)
        // rewrites the sums of the rows it shares.
        unsafe {
            arm_mve_matvec_i8(q, values.as_ptr(), k, n / 4, y_row.as_mut_ptr());
            if !n.is_multiple_of(4) {
                arm_mve_matvec_i8(
                    q,
                    values.as_ptr().wrapping_add((n - 4) * k),
                    k,
                    1,
                    y_row.as_mut_ptr().wrapping_add(n - 4),
                );
            }
        }
        crate::arch::arm_fpu::i8::dequantize_sums(y_row, sx, scales, bias);
    }
}

/// The sums of the int8 row `x` (`k` bytes) with `4 * groups` consecutive weight rows of
/// `k` bytes, stored as i32 to `sums`: per group, the tail-predicated loop of
/// [`helium_dot_i8_4x1`] (10 instructions per 16 values and 4 rows), and 13 around it.
///
/// # Safety
/// `k > 0`, `groups > 0`, `x` holds `k` bytes, `w` points at `4 * groups * k` readable
/// bytes and `sums` at `4 * groups` writable words; the CPU has MVE with the
/// low-overhead-branch extension.
unsafe fn arm_mve_matvec_i8(x: &[i8], w: *const i8, k: usize, groups: usize, sums: *mut f32) {
    /// The arguments, read by the asm through one register.
    #[repr(C)]
    struct Pass {
        x: *const i8,
        w: *const i8,
        k: usize,
        groups: usize,
        sums: *mut f32,
    }
    let pass = Pass {
        x: x.as_ptr(),
        w,
        k,
        groups,
        sums,
    };
    // SAFETY: per group the loop reads `k` bytes of `x` and of each of 4 weight rows and
    // writes 4 words of `sums`, in bounds by the caller's guarantee. r4-r11 are saved on
    // the stack and restored, `x` is parked below them (sp is restored); the other
    // registers it writes are declared.
    unsafe {
        asm!(
            "push {{r4-r11}}",
            "sub sp, sp, #8",
            "ldr r3, [r0, #4]",
            "ldr r10, [r0, #8]",
            "ldr r11, [r0, #12]",
            "ldr r12, [r0, #16]",
            "ldr r1, [r0]",
            "str r1, [sp]",
            "add r5, r3, r10",
            "add r7, r5, r10",
            "add r9, r7, r10",
            "2:",
            "ldr r1, [sp]",
            "movs r0, #0",
            "movs r2, #0",
            "movs r4, #0",
            "movs r6, #0",
            "dlstp.8 lr, r10",
            "1:",
            "vldrb.u8 q0, [r1], #16",
            "vldrb.u8 q1, [r3], #16",
            "vmladava.s8 r0, q0, q1",
            "vldrb.u8 q1, [r5], #16",
            "vmladava.s8 r2, q0, q1",
            "vldrb.u8 q1, [r7], #16",
            "vmladava.s8 r4, q0, q1",
            "vldrb.u8 q1, [r9], #16",
            "vmladava.s8 r6, q0, q1",
            "letp lr, 1b",
            "stmia r12!, {{r0, r2, r4, r6}}",
            "mov r3, r9",
            "add r5, r3, r10",
            "add r7, r5, r10",
            "add r9, r7, r10",
            "subs r11, r11, #1",
            "bne 2b",
            "add sp, sp, #8",
            "pop {{r4-r11}}",
            inout("r0") &pass => _,
            out("r1") _,
            out("r2") _,
            out("r3") _,
            out("r12") _,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
        );
    }
}
