//! Armv8.1-M MVE (Helium) kernels for Cortex-M55, in `asm!`.
//!
//! MVE has eight 128-bit `q` registers (4 f32 lanes each, aliasing `s0`–`s31`),
//! `vldrw.u32` with post-increment and `vfma.f32` on whole vectors, and low-overhead
//! tail-predicated loops (`dlstp.32` / `letp`): the loop counter is the element count
//! and the last iteration only touches the lanes that remain. The 4-row dot kernel
//! issues, per 4 elements and 4 weight rows, 5 loads and 4 vector fused multiply-adds
//! (16 multiply-accumulates) and the loop end: 0.625 instructions per multiply-accumulate.
//! There is no float add-across-vector, so each accumulator's lanes are summed on its
//! `s` registers at the end.
//!
//! Compiled only when the build targets Cortex-M55 (`-C target-cpu=cortex-m55`, cfg
//! `pf_arm_mve` from build.rs): the assembler accepts MVE instructions only then, and
//! bare metal has no runtime detection.

use crate::frame::f32::{F32Simd, MR};
use crate::generic::f32 as scalar;
use crate::generic::lanes;
use core::arch::asm;

/// The MVE kernel: 4-lane blocks, 4 weight rows at a time.
#[derive(Debug, Clone, Copy)]
pub struct Mve(());

impl F32Simd for Mve {
    const NAME: &'static str = "mve";
    const LANES: usize = 4;
    const ALIGN: usize = 4;
    // `arm_mve_dot_f32_4x1_rows` sums each row's lanes as `arm_mve_dot_f32_1x1` does
    const DOT_ROWS_ARE_DOTS: bool = true;

    fn detect() -> Option<Self> {
        // build.rs enables this module only for Cortex-M55 builds.
        Some(Mve(()))
    }

    // RMSNorm's sum of squares in the scalar reference's order (8 lanes, products and sums
    // rounded apart): the Arm FPU kernel's assembly, not the default's compiled loop.
    fn square_sum_blocks(self, x: &[f32], blocks: usize) -> f32 {
        crate::arch::arm_fpu::f32::square_sum_blocks(x, blocks)
    }

    fn dot_tile<const ROWS: usize>(
        self,
        x: [&[f32]; ROWS],
        w: [&[f32]; MR],
        blocks: usize,
    ) -> [[f32; MR]; ROWS] {
        let n = x
            .iter()
            .chain(&w)
            .fold(blocks * 4, |n, s| n.min(s.len() / 4 * 4));
        // Without caches there is nothing to gain from sharing weight loads across rows:
        // one 4-row pass per input row (as the Arm FPU kernel).
        core::array::from_fn(|r| {
            // SAFETY: every slice holds at least `n` elements (just above) and this
            // module is compiled only for CPUs with MVE.
            unsafe { arm_mve_dot_f32_4x1(x[r], &w, n) }
        })
    }

    fn dot_rows(self, x: &[f32], w: &[f32], w_stride: usize, blocks: usize, out: &mut [f32]) {
        let n = (blocks * 4).min(x.len() / 4 * 4);
        let tiles = crate::frame::f32::tiles_inside(w.len(), w_stride, n, out.len());
        if tiles == 0 {
            return;
        }
        // SAFETY: MVE is present; `x` holds `n` elements, the `4 * tiles` rows of `n`
        // elements `w_stride` apart lie inside `w` (`tiles_inside`), and `out` holds
        // `4 * tiles`.
        unsafe { arm_mve_dot_f32_4x1_rows(x, w, w_stride, n, tiles, out) }
    }

    fn dot_rows_pair(
        self,
        x: [&[f32]; 2],
        w: &[f32],
        w_stride: usize,
        out: [&mut [f32]; 2],
    ) -> bool {
        let [x0, x1] = x;
        let [out0, out1] = out;
        let (n, m) = (x0.len(), out0.len());
        // the rows `0..m` of `w`: `(m - 1) * w_stride + n` elements
        let end = m
            .checked_sub(1)
            .and_then(|last| last.checked_mul(w_stride))
            .and_then(|last| last.checked_add(n));
        let fits = n > 0
            && n.is_multiple_of(16)
            && x1.len() == n
            && out1.len() == m
            && m.is_multiple_of(2)
            && w_stride >= n
            && end.is_some_and(|end| end <= w.len());
        if !fits {
            return false;
        }
        let pairs = out0.chunks_exact_mut(2).zip(out1.chunks_exact_mut(2));
        for (j, (y0, y1)) in pairs.enumerate() {
            // wrapping: `2 j + 1 < m`, whose rows lie inside `w` (`fits`)
            let w0 = w
                .as_ptr()
                .wrapping_add(j.wrapping_mul(2).wrapping_mul(w_stride));
            // SAFETY: `x0`, `x1` hold `n` elements, `n % 16 == 0`; weight rows `2 j` and
            // `2 j + 1` hold `n` elements each inside `w` (`fits`); MVE is present.
            let [a, b, c, d] = unsafe { arm_mve_dot_f32_2x2(x0, x1, w0, w_stride, n) };
            y0.copy_from_slice(&[a, b]);
            y1.copy_from_slice(&[c, d]);
        }
        true
    }

    fn dot_blocks(self, a: &[f32], b: &[f32], blocks: usize) -> f32 {
        let n = (blocks * 4).min(a.len()).min(b.len());
        // SAFETY: MVE is present; `n <= len` of both.
        unsafe { arm_mve_dot_f32_1x1(a, b, n) }
    }

    fn axpy_blocks(self, alpha: f32, x: &[f32], y: &mut [f32], blocks: usize) {
        let n = (blocks * 4).min(x.len()).min(y.len());
        // SAFETY: MVE is present; `n <= len` of both.
        unsafe { arm_mve_axpy_f32(alpha, x, y, n) }
    }

    fn axpy_tile(self, alpha: [f32; MR], x: [&[f32]; MR], y: &mut [f32], blocks: usize) {
        let n = x
            .iter()
            .fold((blocks * 4).min(y.len()), |n, s| n.min(s.len()));
        // SAFETY: MVE is present; every slice holds at least `n` elements (just above).
        unsafe { arm_mve_axpy_f32_4x1(alpha, &x, y, n) }
    }

    fn axpy_rows(self, alpha: &[f32], x: &[f32], x_stride: usize, y: &mut [f32]) -> bool {
        let (n, rows) = (y.len(), alpha.len());
        // whole groups of 16 columns, at least one row, every row inside `x`
        let inside = (rows - 1)
            .checked_mul(x_stride)
            .and_then(|at| at.checked_add(n))
            .is_some_and(|end| end <= x.len());
        if n == 0 || n % 16 != 0 || rows == 0 || !inside {
            return false;
        }
        let Some(stride_bytes) = x_stride.checked_mul(4) else {
            return false;
        };
        // SAFETY: MVE is present; rows `0..rows`, `x_stride` apart, hold `n` floats each
        // inside `x` (checked above), `alpha` holds `rows` values and `y` `n`.
        unsafe { arm_mve_axpy_rows_f32(alpha.as_ptr(), rows, x.as_ptr(), stride_bytes, y, n / 16) };
        true
    }

    fn exp_minus_max(self, x: &mut [f32], largest: f32) {
        // SAFETY: MVE is present; the kernel reads and writes exactly `x.len()` floats.
        unsafe { arm_mve_exp_minus_max(x, largest) }
    }

    // libm's `log10f` four lanes at a time, bit for bit (`super::log10`).
    fn log10(self, x: &mut [f32]) {
        super::log10::log10(x);
    }

    // Helium's GELU: the erf by a polynomial and the exponential, bit for bit
    // `generic::lanes::gelu_poly` (libm's `erff` divides and branches per value).
    const GELU_POLY: bool = true;

    fn gelu(self, x: &mut [f32]) {
        // SAFETY: MVE is present; the kernel reads and writes exactly `x.len()` floats.
        unsafe { arm_mve_gelu(x) }
    }

    // Helium's LayerNorm: the compensated sums in lanes, bit for bit
    // `generic::lanes::layer_norm_lanes`.
    const LAYER_NORM_LANES: bool = true;

    fn layer_norm(self, x: &mut [f32], gamma: &[f32], beta: Option<&[f32]>, eps: f32) {
        let n = x.len();
        if n == 0 || gamma.len() < n || beta.is_some_and(|b| b.len() < n) {
            // (the reference's handling of short parameter rows; not a model's shape)
            return lanes::layer_norm_lanes(x, gamma, beta, eps);
        }
        let inv_n = 1.0 / n as f32;
        // SAFETY: MVE is present; the kernel reads exactly `x.len()` floats.
        let (sums, compensations) = unsafe { arm_mve_lane_sums_signed(x) };
        let mean = lanes::combine_lanes(&sums, &compensations) * inv_n;
        // SAFETY: as above.
        let (sums, compensations) = unsafe { arm_mve_lane_square_sums(x, mean) };
        let var = lanes::combine_lanes(&sums, &compensations) * inv_n;
        let inv_std = 1.0 / scalar::sqrt(var + eps);
        // SAFETY: MVE is present; `gamma` and `beta` hold at least `x.len()` floats
        // (checked above).
        unsafe { arm_mve_normalise(x, gamma, beta, mean, inv_std) }
    }

    // Helium's attention softmax: the lane-ordered rule, bit for bit
    // `generic::lanes::softmax_scaled_lanes` (no vector division, and a running sum in
    // key order is one long dependency chain).
    const SOFTMAX_LANES: bool = true;

    fn softmax_scaled(self, x: &mut [f32], scale: f32) {
        // SAFETY: MVE is present; the kernel reads and writes exactly `x.len()` floats.
        let lane_max = unsafe { arm_mve_scale_max(x, scale) };
        let largest = scalar::max(&lane_max);
        if largest == f32::NEG_INFINITY {
            x.fill(0.0);
            return;
        }
        self.exp_minus_max(x, largest);
        // SAFETY: MVE is present; the kernel reads exactly `x.len()` floats.
        let (sums, compensations) = unsafe { arm_mve_lane_sums(x) };
        let inverse = 1.0 / lanes::combine_lanes(&sums, &compensations);
        // SAFETY: MVE is present; the kernel reads and writes exactly `x.len()` floats.
        unsafe { arm_mve_scale(x, inverse) }
    }

    // The fused attention's 8-column loops: the scalar FPU's (an 8-wide row is two
    // vectors, and the scalar twin's order of sums is one lane at a time), with its
    // fused multiply-adds.
    const HEAD8_FMA: bool = true;

    fn scores_head8(self, q: &[f32; 8], keys: &[f32], stride: usize, scores: &mut [f32]) -> f32 {
        crate::arch::arm_fpu::f32::scores_head8(q, keys, stride, scores)
    }

    fn weighted_sum_head8(
        self,
        weights: &[f32],
        values: &[f32],
        stride: usize,
        out: &mut [f32; 8],
    ) {
        crate::arch::arm_fpu::f32::weighted_sum_head8(weights, values, stride, out)
    }
}

/// Four dot products of `x` with `w[0..4]` over `n` elements.
///
/// # Safety
/// Every slice must hold at least `n` elements, and the CPU must implement MVE with
/// floating point.
#[inline(never)]
unsafe fn arm_mve_dot_f32_4x1(x: &[f32], w: &[&[f32]; MR], n: usize) -> [f32; MR] {
    let (mut acc0, mut acc1, mut acc2, mut acc3): (u32, u32, u32, u32);
    // SAFETY: the tail-predicated loop reads exactly `n` floats from each pointer, which
    // the caller guarantees are in bounds; the asm clobbers only the registers it names
    // (q0–q2 and q4–q7 as their s-registers, lr) and does not touch the stack.
    unsafe {
        asm!(
            "vmov.i32 q4, #0",
            "vmov.i32 q5, #0",
            "vmov.i32 q6, #0",
            "vmov.i32 q7, #0",
            "cmp {n}, #0",
            "beq 2f",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{x}], #16",
            "vldrw.u32 q1, [{w0}], #16",
            "vfma.f32 q4, q0, q1",
            "vldrw.u32 q2, [{w1}], #16",
            "vfma.f32 q5, q0, q2",
            "vldrw.u32 q1, [{w2}], #16",
            "vfma.f32 q6, q0, q1",
            "vldrw.u32 q2, [{w3}], #16",
            "vfma.f32 q7, q0, q2",
            "letp lr, 1b",
            "2:",
            "vadd.f32 s16, s16, s17",
            "vadd.f32 s18, s18, s19",
            "vadd.f32 s16, s16, s18",
            "vadd.f32 s20, s20, s21",
            "vadd.f32 s22, s22, s23",
            "vadd.f32 s20, s20, s22",
            "vadd.f32 s24, s24, s25",
            "vadd.f32 s26, s26, s27",
            "vadd.f32 s24, s24, s26",
            "vadd.f32 s28, s28, s29",
            "vadd.f32 s30, s30, s31",
            "vadd.f32 s28, s28, s30",
            "vmov {a0}, s16",
            "vmov {a1}, s20",
            "vmov {a2}, s24",
            "vmov {a3}, s28",
            x = inout(reg) x.as_ptr() => _,
            w0 = inout(reg) w[0].as_ptr() => _,
            w1 = inout(reg) w[1].as_ptr() => _,
            w2 = inout(reg) w[2].as_ptr() => _,
            w3 = inout(reg) w[3].as_ptr() => _,
            n = in(reg) n,
            a0 = out(reg) acc0,
            a1 = out(reg) acc1,
            a2 = out(reg) acc2,
            a3 = out(reg) acc3,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            out("s24") _, out("s25") _, out("s26") _, out("s27") _,
            out("s28") _, out("s29") _, out("s30") _, out("s31") _,
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

/// [`arm_mve_dot_f32_4x1`] over `tiles` consecutive tiles of 4 weight rows `w_stride`
/// apart, in one call: `out[o] = sum_i x[i] * w[o * w_stride + i]` for `i < n`,
/// `o < 4 * tiles`.
///
/// # Safety
/// `tiles >= 1`; `x` must hold `n` elements, `w` the rows `0..4 * tiles` of `n` elements
/// `w_stride` apart, `out` `4 * tiles` elements; and the CPU must implement MVE with
/// floating point.
unsafe fn arm_mve_dot_f32_4x1_rows(
    x: &[f32],
    w: &[f32],
    w_stride: usize,
    n: usize,
    tiles: usize,
    out: &mut [f32],
) {
    // SAFETY: the loops read `n` floats of `x` and of each of the `4 * tiles` weight rows
    // and write `4 * tiles` floats of `out`, all in bounds (the caller's contract); the
    // asm clobbers only the registers it names and does not touch the stack.
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
            "vldrw.u32 q1, [{w0}], #16",
            "vfma.f32 q4, q0, q1",
            "vldrw.u32 q2, [{w1}], #16",
            "vfma.f32 q5, q0, q2",
            "vldrw.u32 q1, [{w2}], #16",
            "vfma.f32 q6, q0, q1",
            "vldrw.u32 q2, [{w3}], #16",
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
            // back to the start of x; w0 to the first row of the next tile
            "sub.w {x}, {x}, {n}, lsl #2",
            "sub.w {w0}, {w0}, {n}, lsl #2",
            "add.w {w0}, {w0}, {stride}, lsl #2",
            "subs {tiles}, {tiles}, #1",
            "bne 1b",
            x = inout(reg) x.as_ptr() => _,
            w0 = inout(reg) w.as_ptr() => _,
            w1 = out(reg) _,
            w2 = out(reg) _,
            w3 = out(reg) _,
            n = in(reg) n,
            stride = in(reg) w_stride * 4,
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

/// [`arm_mve_dot_f32_4x1_rows`]' sums for two input rows `x0`, `x1` and two weight rows
/// (`w`, `w + w_stride`) over `n` elements (`n % 16 == 0`), each weight block loaded once
/// for both rows: per 4 elements 4 loads and 4 `VFMA`s alternating (16 multiply-adds in
/// 8 estimated cycles), 16 elements per loop iteration. Each sum as there (lane `l`
/// accumulates elements `i = l mod 4` in order from `+0`, then `(l0 + l1) + (l2 + l3)`).
/// Returns `[x0 . w0, x0 . w1, x1 . w0, x1 . w1]`.
///
/// # Safety
/// `n > 0`, `n % 16 == 0`; `x0` and `x1` hold `n` elements, `w` points at two rows of `n`
/// readable elements `w_stride` apart; the CPU implements MVE with floating point.
#[inline(never)]
unsafe fn arm_mve_dot_f32_2x2(
    x0: &[f32],
    x1: &[f32],
    w: *const f32,
    w_stride: usize,
    n: usize,
) -> [f32; 4] {
    let (mut s0, mut s1, mut s2, mut s3): (u32, u32, u32, u32);
    // SAFETY: the loop reads `n` floats from `x0`, `x1` and each weight row, in bounds by
    // the caller's guarantee; the asm clobbers only the registers it names and does not
    // touch the stack.
    unsafe {
        asm!(
            "vmov.i32 q4, #0",
            "vmov.i32 q5, #0",
            "vmov.i32 q6, #0",
            "vmov.i32 q7, #0",
            "dls lr, {count}",
            "1:",
            "vldrw.u32 q0, [{x0}], #16",
            "vldrw.u32 q2, [{w0}], #16",
            "vfma.f32 q4, q0, q2",
            "vldrw.u32 q1, [{x1}], #16",
            "vfma.f32 q5, q1, q2",
            "vldrw.u32 q3, [{w1}], #16",
            "vfma.f32 q6, q0, q3",
            "vldrw.u32 q0, [{x0}], #16",
            "vfma.f32 q7, q1, q3",
            "vldrw.u32 q2, [{w0}], #16",
            "vfma.f32 q4, q0, q2",
            "vldrw.u32 q1, [{x1}], #16",
            "vfma.f32 q5, q1, q2",
            "vldrw.u32 q3, [{w1}], #16",
            "vfma.f32 q6, q0, q3",
            "vldrw.u32 q0, [{x0}], #16",
            "vfma.f32 q7, q1, q3",
            "vldrw.u32 q2, [{w0}], #16",
            "vfma.f32 q4, q0, q2",
            "vldrw.u32 q1, [{x1}], #16",
            "vfma.f32 q5, q1, q2",
            "vldrw.u32 q3, [{w1}], #16",
            "vfma.f32 q6, q0, q3",
            "vldrw.u32 q0, [{x0}], #16",
            "vfma.f32 q7, q1, q3",
            "vldrw.u32 q2, [{w0}], #16",
            "vfma.f32 q4, q0, q2",
            "vldrw.u32 q1, [{x1}], #16",
            "vfma.f32 q5, q1, q2",
            "vldrw.u32 q3, [{w1}], #16",
            "vfma.f32 q6, q0, q3",
            "vfma.f32 q7, q1, q3",
            "le lr, 1b",
            "vadd.f32 s16, s16, s17",
            "vadd.f32 s18, s18, s19",
            "vadd.f32 s16, s16, s18",
            "vadd.f32 s24, s24, s25",
            "vadd.f32 s26, s26, s27",
            "vadd.f32 s24, s24, s26",
            "vadd.f32 s20, s20, s21",
            "vadd.f32 s22, s22, s23",
            "vadd.f32 s20, s20, s22",
            "vadd.f32 s28, s28, s29",
            "vadd.f32 s30, s30, s31",
            "vadd.f32 s28, s28, s30",
            "vmov {s0}, s16",
            "vmov {s1}, s24",
            "vmov {s2}, s20",
            "vmov {s3}, s28",
            x0 = inout(reg) x0.as_ptr() => _,
            x1 = inout(reg) x1.as_ptr() => _,
            w0 = inout(reg) w => _,
            w1 = inout(reg) w.wrapping_add(w_stride) => _,
            count = in(reg) n / 16,
            s0 = lateout(reg) s0,
            s1 = lateout(reg) s1,
            s2 = lateout(reg) s2,
            s3 = lateout(reg) s3,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            out("s24") _, out("s25") _, out("s26") _, out("s27") _,
            out("s28") _, out("s29") _, out("s30") _, out("s31") _,
            options(nostack, readonly),
        );
    }
    [
        f32::from_bits(s0),
        f32::from_bits(s1),
        f32::from_bits(s2),
        f32::from_bits(s3),
    ]
}

/// One dot product over `n` elements, two accumulators (summed at the end).
///
/// # Safety
/// Both slices must hold at least `n` elements, and the CPU must implement MVE with
/// floating point.
#[inline(never)]
unsafe fn arm_mve_dot_f32_1x1(a: &[f32], b: &[f32], n: usize) -> f32 {
    let sum: u32;
    // SAFETY: the tail-predicated loop reads exactly `n` floats from each pointer (the
    // caller's contract); the asm clobbers only the registers it names.
    unsafe {
        asm!(
            "vmov.i32 q4, #0",
            "cmp {n}, #0",
            "beq 2f",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{a}], #16",
            "vldrw.u32 q1, [{b}], #16",
            "vfma.f32 q4, q0, q1",
            "letp lr, 1b",
            "2:",
            "vadd.f32 s16, s16, s17",
            "vadd.f32 s18, s18, s19",
            "vadd.f32 s16, s16, s18",
            "vmov {sum}, s16",
            a = inout(reg) a.as_ptr() => _,
            b = inout(reg) b.as_ptr() => _,
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

/// `y[i] += alpha * x[i]` over `n` elements.
///
/// # Safety
/// Both slices must hold at least `n` elements, and the CPU must implement MVE with
/// floating point.
#[inline(never)]
unsafe fn arm_mve_axpy_f32(alpha: f32, x: &[f32], y: &mut [f32], n: usize) {
    // SAFETY: the tail-predicated loop reads exactly `n` floats of `x` and reads and
    // writes exactly `n` floats of `y` (the caller's contract; `y` is a unique borrow);
    // the asm clobbers only the registers it names.
    unsafe {
        asm!(
            "cmp {n}, #0",
            "beq 2f",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{x}], #16",
            "vldrw.u32 q1, [{y}]",
            "vfma.f32 q1, q0, {alpha}",
            "vstrw.32 q1, [{y}], #16",
            "letp lr, 1b",
            "2:",
            x = inout(reg) x.as_ptr() => _,
            y = inout(reg) y.as_mut_ptr() => _,
            n = in(reg) n,
            alpha = in(reg) alpha.to_bits(),
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            options(nostack),
        );
    }
}

/// `y[i] += alpha[j] x[j * stride + i]` for `j = 0, 1, ... rows - 1` in order, over
/// `16 * groups` columns: per group of 16 columns `y` stays in four registers over every
/// row (per row one alpha load, 4 `VLDRW` + `VFMA` pairs), the same fused multiply-adds in
/// the same order as one [`arm_mve_axpy_f32`] per row (the same bits).
///
/// # Safety
/// `rows > 0`, `groups > 0`; `alpha` points at `rows` floats, row `j` of `x` (at
/// `x + j * stride_bytes`) at `16 * groups` readable floats, `y` holds `16 * groups`; the
/// CPU must implement MVE with floating point and the low-overhead-branch extension.
#[inline(never)]
unsafe fn arm_mve_axpy_rows_f32(
    alpha: *const f32,
    rows: usize,
    x: *const f32,
    stride_bytes: usize,
    y: &mut [f32],
    groups: usize,
) {
    // SAFETY: per group the inner loop reads `rows` alphas and 16 floats of each row of
    // `x`, and the group reads and writes 16 floats of `y`, all in bounds by the caller's
    // guarantee (`y` a unique borrow); the asm clobbers only the registers it names.
    unsafe {
        asm!(
            "1:",
            "vldrw.u32 q0, [{y}]",
            "vldrw.u32 q1, [{y}, #16]",
            "vldrw.u32 q2, [{y}, #32]",
            "vldrw.u32 q3, [{y}, #48]",
            "mov {xp}, {x}",
            "mov {ap}, {alpha}",
            "dls lr, {rows}",
            "2:",
            "ldr {a}, [{ap}], #4",
            "vldrw.u32 q4, [{xp}]",
            "vfma.f32 q0, q4, {a}",
            "vldrw.u32 q5, [{xp}, #16]",
            "vfma.f32 q1, q5, {a}",
            "vldrw.u32 q4, [{xp}, #32]",
            "vfma.f32 q2, q4, {a}",
            "vldrw.u32 q5, [{xp}, #48]",
            "vfma.f32 q3, q5, {a}",
            "add {xp}, {xp}, {stride}",
            "le lr, 2b",
            "vstrw.32 q0, [{y}]",
            "vstrw.32 q1, [{y}, #16]",
            "vstrw.32 q2, [{y}, #32]",
            "vstrw.32 q3, [{y}, #48]",
            "adds {y}, #64",
            "adds {x}, #64",
            "subs {groups}, #1",
            "bne 1b",
            y = inout(reg) y.as_mut_ptr() => _,
            x = inout(reg) x => _,
            groups = inout(reg) groups => _,
            alpha = in(reg) alpha,
            rows = in(reg) rows,
            stride = in(reg) stride_bytes,
            xp = out(reg) _,
            ap = out(reg) _,
            a = out(reg) _,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            options(nostack),
        );
    }
}

/// `y[i] += alpha[0] x[0][i]`, then `+= alpha[1] x[1][i]`, ... over `n` elements: the
/// same fused multiply-adds in the same order as four [`arm_mve_axpy_f32`] calls (the
/// same bits), with `y` loaded and stored once (attention's weighted sum of value rows).
///
/// # Safety
/// Every slice must hold at least `n` elements, and the CPU must implement MVE with
/// floating point.
#[inline(never)]
unsafe fn arm_mve_axpy_f32_4x1(alpha: [f32; MR], x: &[&[f32]; MR], y: &mut [f32], n: usize) {
    // SAFETY: the tail-predicated loop reads exactly `n` floats of each `x[m]` and reads
    // and writes exactly `n` floats of `y` (the caller's contract; `y` is a unique
    // borrow); the asm clobbers only the registers it names.
    unsafe {
        asm!(
            "cmp {n}, #0",
            "beq 2f",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{y}]",
            "vldrw.u32 q1, [{x0}], #16",
            "vfma.f32 q0, q1, {a0}",
            "vldrw.u32 q2, [{x1}], #16",
            "vfma.f32 q0, q2, {a1}",
            "vldrw.u32 q1, [{x2}], #16",
            "vfma.f32 q0, q1, {a2}",
            "vldrw.u32 q2, [{x3}], #16",
            "vfma.f32 q0, q2, {a3}",
            "vstrw.32 q0, [{y}], #16",
            "letp lr, 1b",
            "2:",
            x0 = inout(reg) x[0].as_ptr() => _,
            x1 = inout(reg) x[1].as_ptr() => _,
            x2 = inout(reg) x[2].as_ptr() => _,
            x3 = inout(reg) x[3].as_ptr() => _,
            y = inout(reg) y.as_mut_ptr() => _,
            n = in(reg) n,
            a0 = in(reg) alpha[0].to_bits(),
            a1 = in(reg) alpha[1].to_bits(),
            a2 = in(reg) alpha[2].to_bits(),
            a3 = in(reg) alpha[3].to_bits(),
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            options(nostack),
        );
    }
}

/// `exp_fast`'s constants as [`arm_mve_exp_minus_max`] reads them: three 4-lane splats
/// (byte offsets 0, 16, 32), then the polynomial's coefficients 1 to 5 (offsets 48 to 64).
#[repr(C, align(16))]
struct ExpConstants([f32; 17]);

static EXP_CONSTANTS: ExpConstants = {
    let [_, p1, p2, p3, p4, p5] = scalar::EXP_P;
    let (high, low, zero) = (
        scalar::EXP_LN2_HIGH,
        scalar::EXP_LN2_LOW,
        scalar::EXP_ZERO_BELOW,
    );
    ExpConstants([
        high, high, high, high, low, low, low, low, zero, zero, zero, zero, p1, p2, p3, p4, p5,
    ])
};

/// `x[i] = exp_fast(x[i] - largest)` four lanes at a time, each operation the scalar
/// `exp_fast_nonpositive`'s (unfused multiplies and adds in its order, `n` by
/// truncating conversion of an integral value, `2^n` from its exponent bits, 0 below the
/// threshold), so each lane has the scalar's bits for every argument `<= 0`. Helium
/// flushes subnormals to zero (FZ): a subnormal argument or `r` only ever meets terms it
/// cannot change (both give `1.0`), and no result is subnormal (the threshold stops at
/// `2^-126`), so flushing changes no result. NaN gives a NaN.
///
/// # Safety
/// The CPU must implement MVE with floating point.
#[inline(never)]
unsafe fn arm_mve_exp_minus_max(x: &mut [f32], largest: f32) {
    let [p0, ..] = scalar::EXP_P;
    // SAFETY: the tail-predicated loop reads and writes exactly `x.len()` floats of `x`
    // (a unique borrow) and reads the 68 bytes of `EXP_CONSTANTS` (16-byte aligned); the
    // asm clobbers only the registers it names and does not touch the stack.
    unsafe {
        asm!(
            "cmp {n}, #0",
            "beq 2f",
            "vldrw.u32 q5, [{k}]",
            "vldrw.u32 q6, [{k}, #16]",
            "vldrw.u32 q7, [{k}, #32]",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{x}]",
            "vsub.f32 q0, q0, {m}",
            // n = (d log2 e + 1.5 * 2^23) - 1.5 * 2^23
            "vmul.f32 q1, q0, {log2e}",
            "vadd.f32 q1, q1, {round}",
            "vsub.f32 q1, q1, {round}",
            // r = (d - n ln2_high) - n ln2_low
            "vmul.f32 q2, q1, q5",
            "vsub.f32 q2, q0, q2",
            "vmul.f32 q3, q1, q6",
            "vsub.f32 q2, q2, q3",
            // p = ((((p0 r + p1) r + p2) r + p3) r + p4) r + p5
            "vmul.f32 q3, q2, {p0}",
            "ldr {t}, [{k}, #48]",
            "vadd.f32 q3, q3, {t}",
            "vmul.f32 q3, q3, q2",
            "ldr {t}, [{k}, #52]",
            "vadd.f32 q3, q3, {t}",
            "vmul.f32 q3, q3, q2",
            "ldr {t}, [{k}, #56]",
            "vadd.f32 q3, q3, {t}",
            "vmul.f32 q3, q3, q2",
            "ldr {t}, [{k}, #60]",
            "vadd.f32 q3, q3, {t}",
            "vmul.f32 q3, q3, q2",
            "ldr {t}, [{k}, #64]",
            "vadd.f32 q3, q3, {t}",
            // e^r = (p r^2 + r) + 1
            "vmul.f32 q4, q2, q2",
            "vmul.f32 q3, q3, q4",
            "vadd.f32 q3, q3, q2",
            "vadd.f32 q3, q3, {one}",
            // 2^n: (n << 23) + (127 << 23), 127 << 23 being the bits of 1.0
            "vcvt.s32.f32 q1, q1",
            "vshl.i32 q1, q1, #23",
            "vadd.i32 q1, q1, {one}",
            "vmul.f32 q3, q3, q1",
            // 0 where -87.33 > d: `gt` is false for NaN, which stays NaN (`lt` would
            // hold: Arm's LT is "less than or unordered")
            "vmov.i32 q4, #0",
            "vcmp.f32 gt, q7, q0",
            "vpsel q3, q4, q3",
            "vstrw.32 q3, [{x}], #16",
            "letp lr, 1b",
            "2:",
            x = inout(reg) x.as_mut_ptr() => _,
            n = in(reg) x.len(),
            k = in(reg) EXP_CONSTANTS.0.as_ptr(),
            m = in(reg) largest.to_bits(),
            log2e = in(reg) scalar::EXP_LOG2_E.to_bits(),
            round = in(reg) scalar::EXP_ROUND.to_bits(),
            one = in(reg) 1.0f32.to_bits(),
            p0 = in(reg) p0.to_bits(),
            t = out(reg) _,
            out("lr") _,
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
}

/// `x[i] *= scale` four lanes at a time; returns each lane's largest product (`-inf`
/// where a lane saw none; NaNs ignored, as `VMAXNM` does): the softmax's scaling and
/// maximum in one pass.
///
/// # Safety
/// The CPU must implement MVE with floating point.
#[inline(never)]
unsafe fn arm_mve_scale_max(x: &mut [f32], scale: f32) -> [f32; 4] {
    let mut lanes = [f32::NEG_INFINITY; 4];
    // SAFETY: the tail-predicated loop reads and writes exactly `x.len()` floats of `x`
    // (a unique borrow), and 16 bytes are stored to `lanes`; inactive lanes of the last
    // iteration keep their value; the asm clobbers only the registers it names.
    unsafe {
        asm!(
            "vldrw.u32 q1, [{lanes}]",
            "cmp {n}, #0",
            "beq 2f",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{x}]",
            "vmul.f32 q0, q0, {scale}",
            "vmaxnm.f32 q1, q1, q0",
            "vstrw.32 q0, [{x}], #16",
            "letp lr, 1b",
            "2:",
            "vstrw.32 q1, [{lanes}]",
            x = inout(reg) x.as_mut_ptr() => _,
            n = in(reg) x.len(),
            scale = in(reg) scale.to_bits(),
            lanes = in(reg) lanes.as_mut_ptr(),
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            options(nostack),
        );
    }
    lanes
}

/// The lane-ordered softmax's compensated sums of `x` (its exponentials, each `>= 0` or
/// NaN): element `j` added to lane `j % 4` by Neumaier's step, in order; returns the
/// lanes' sums and compensations. With both terms `>= 0`, `VMAXNM`/`VMINNM` give the
/// larger and the smaller, which is Neumaier's comparison of magnitudes (equal terms:
/// either way the same value); a NaN makes the lane's sum NaN either way.
///
/// # Safety
/// The CPU must implement MVE with floating point.
#[inline(never)]
unsafe fn arm_mve_lane_sums(x: &[f32]) -> ([f32; 4], [f32; 4]) {
    let mut out = [0.0f32; 8];
    // SAFETY: the tail-predicated loop reads exactly `x.len()` floats of `x`; 32 bytes
    // are stored to `out`; inactive lanes of the last iteration keep their value; the asm
    // clobbers only the registers it names.
    unsafe {
        asm!(
            "vmov.i32 q2, #0",
            "vmov.i32 q3, #0",
            "cmp {n}, #0",
            "beq 2f",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{x}], #16",
            "vmaxnm.f32 q4, q2, q0",
            "vminnm.f32 q5, q2, q0",
            // s = t = s + e; c += (larger - t) + smaller
            "vadd.f32 q2, q2, q0",
            "vsub.f32 q4, q4, q2",
            "vadd.f32 q4, q4, q5",
            "vadd.f32 q3, q3, q4",
            "letp lr, 1b",
            "2:",
            "vstrw.32 q2, [{out}]",
            "vstrw.32 q3, [{out}, #16]",
            x = inout(reg) x.as_ptr() => _,
            n = in(reg) x.len(),
            out = in(reg) out.as_mut_ptr(),
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            options(nostack),
        );
    }
    let [s0, s1, s2, s3, c0, c1, c2, c3] = out;
    ([s0, s1, s2, s3], [c0, c1, c2, c3])
}

/// `x[i] *= factor` four lanes at a time (the softmax's one reciprocal per row).
///
/// # Safety
/// The CPU must implement MVE with floating point.
#[inline(never)]
unsafe fn arm_mve_scale(x: &mut [f32], factor: f32) {
    // SAFETY: the tail-predicated loop reads and writes exactly `x.len()` floats of `x`
    // (a unique borrow); the asm clobbers only the registers it names.
    unsafe {
        asm!(
            "cmp {n}, #0",
            "beq 2f",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{x}]",
            "vmul.f32 q0, q0, {factor}",
            "vstrw.32 q0, [{x}], #16",
            "letp lr, 1b",
            "2:",
            x = inout(reg) x.as_mut_ptr() => _,
            n = in(reg) x.len(),
            factor = in(reg) factor.to_bits(),
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            options(nostack),
        );
    }
}

/// [`arm_mve_gelu`]'s constants, each as a 4-lane splat (16 bytes, so the loop loads it
/// with `VLDRW` between two arithmetic instructions, which the dual-beat core overlaps,
/// instead of a scalar `LDR` that stalls the vector pipeline): `ln 2` high and low parts
/// (byte offsets 0, 16), `1 / sqrt 2` (32), the erf polynomial `GELU_P` (48 to 208),
/// `exp_fast`'s polynomial (224 to 304), `GELU_Z_MAX` (320), 2 (336), 0.5 (352).
#[repr(C, align(16))]
struct GeluConstants([[f32; 4]; 23]);

static GELU_CONSTANTS: GeluConstants = {
    let p = lanes::GELU_P;
    let e = scalar::EXP_P;
    let scalars = [
        scalar::EXP_LN2_HIGH,
        scalar::EXP_LN2_LOW,
        core::f32::consts::FRAC_1_SQRT_2,
        p[0],
        p[1],
        p[2],
        p[3],
        p[4],
        p[5],
        p[6],
        p[7],
        p[8],
        p[9],
        p[10],
        e[0],
        e[1],
        e[2],
        e[3],
        e[4],
        e[5],
        lanes::GELU_Z_MAX,
        2.0,
        0.5,
    ];
    let mut splats = [[0.0f32; 4]; 23];
    let mut i = 0;
    while i < splats.len() {
        splats[i] = [scalars[i]; 4];
        i += 1;
    }
    GeluConstants(splats)
};

/// `x[i] = gelu(x[i])` four lanes at a time, each operation `generic::lanes::gelu_poly`'s
/// in its order: `z = |x| / sqrt 2`, the polynomial by `VFMA` (one rounding, as the
/// twin's `fmaf`), `exp_fast` of `-z P(z)` by [`arm_mve_exp_minus_max`]'s steps (the
/// argument is never below its threshold), 0 above `GELU_Z_MAX` (NaN stays NaN: `gt` is
/// false for it), `2 - e` or `e` by the sign of `x`, times `0.5 x`.
///
/// # Safety
/// The CPU must implement MVE with floating point.
#[inline(never)]
unsafe fn arm_mve_gelu(x: &mut [f32]) {
    // SAFETY: the tail-predicated loop reads and writes exactly `x.len()` floats of `x`
    // (a unique borrow) and reads the 368 bytes of `GELU_CONSTANTS` (16-byte aligned); the
    // asm clobbers only the registers it names and does not touch the stack.
    unsafe {
        asm!(
            "cmp {n}, #0",
            "beq 2f",
            "vldrw.u32 q5, [{k}]",
            "vldrw.u32 q6, [{k}, #16]",
            "vmov.i32 q4, #0",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{x}]",
            "vldrw.u32 q1, [{k}, #32]",
            "vabs.f32 q7, q0",
            "vldrw.u32 q3, [{k}, #48]",
            "vmul.f32 q7, q7, q1",
            // p = P(z) by Horner's rule, fused: p = c + p z (one rounding, as `VFMAS`)
            "vldrw.u32 q0, [{k}, #64]",
            "vfma.f32 q0, q3, q7",
            "vldrw.u32 q3, [{k}, #80]",
            "vfma.f32 q3, q0, q7",
            "vldrw.u32 q0, [{k}, #96]",
            "vfma.f32 q0, q3, q7",
            "vldrw.u32 q3, [{k}, #112]",
            "vfma.f32 q3, q0, q7",
            "vldrw.u32 q0, [{k}, #128]",
            "vfma.f32 q0, q3, q7",
            "vldrw.u32 q3, [{k}, #144]",
            "vfma.f32 q3, q0, q7",
            "vldrw.u32 q0, [{k}, #160]",
            "vfma.f32 q0, q3, q7",
            "vldrw.u32 q3, [{k}, #176]",
            "vfma.f32 q3, q0, q7",
            "vldrw.u32 q0, [{k}, #192]",
            "vfma.f32 q0, q3, q7",
            "vldrw.u32 q3, [{k}, #208]",
            "vfma.f32 q3, q0, q7",
            // d = -(z p)
            "vmul.f32 q3, q3, q7",
            "vneg.f32 q0, q3",
            // e = exp_fast(d), as arm_mve_exp_minus_max
            "vmul.f32 q1, q0, {log2e}",
            "vadd.f32 q1, q1, {round}",
            "vsub.f32 q1, q1, {round}",
            "vmul.f32 q2, q1, q5",
            "vsub.f32 q2, q0, q2",
            "vmul.f32 q3, q1, q6",
            "vsub.f32 q2, q2, q3",
            "vldrw.u32 q0, [{k}, #224]",
            "vmul.f32 q3, q2, q0",
            "vldrw.u32 q0, [{k}, #240]",
            "vadd.f32 q3, q3, q0",
            "vmul.f32 q3, q3, q2",
            "vldrw.u32 q0, [{k}, #256]",
            "vadd.f32 q3, q3, q0",
            "vmul.f32 q3, q3, q2",
            "vldrw.u32 q0, [{k}, #272]",
            "vadd.f32 q3, q3, q0",
            "vmul.f32 q3, q3, q2",
            "vldrw.u32 q0, [{k}, #288]",
            "vadd.f32 q3, q3, q0",
            "vmul.f32 q3, q3, q2",
            "vldrw.u32 q0, [{k}, #304]",
            "vadd.f32 q3, q3, q0",
            "vmul.f32 q0, q2, q2",
            "vmul.f32 q3, q3, q0",
            "vadd.f32 q3, q3, q2",
            "vadd.f32 q3, q3, {one}",
            "vcvt.s32.f32 q1, q1",
            "vshl.i32 q1, q1, #23",
            "vadd.i32 q1, q1, {one}",
            "vmul.f32 q3, q3, q1",
            // e = 0 where z > GELU_Z_MAX (q4 holds zeros)
            "vldrw.u32 q2, [{k}, #320]",
            "vcmp.f32 gt, q7, q2",
            "vpsel q3, q4, q3",
            // 1 + erf: -(e - 2) where x >= 0, else e; times 0.5 x
            "vldrw.u32 q0, [{x}]",
            "vldrw.u32 q2, [{k}, #336]",
            "vsub.f32 q1, q3, q2",
            "vneg.f32 q1, q1",
            "vcmp.f32 ge, q0, q4",
            "vpsel q3, q1, q3",
            "vldrw.u32 q2, [{k}, #352]",
            "vmul.f32 q0, q0, q2",
            "vmul.f32 q3, q3, q0",
            "vstrw.32 q3, [{x}], #16",
            "letp lr, 1b",
            "2:",
            x = inout(reg) x.as_mut_ptr() => _,
            n = in(reg) x.len(),
            k = in(reg) GELU_CONSTANTS.0.as_ptr(),
            log2e = in(reg) scalar::EXP_LOG2_E.to_bits(),
            round = in(reg) scalar::EXP_ROUND.to_bits(),
            one = in(reg) 1.0f32.to_bits(),
            out("lr") _,
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
}

/// LayerNorm's mean: four compensated (Neumaier) running sums of `x` of any sign,
/// element `j` in lane `j % 4` in order; returns the lanes' sums and compensations
/// (`generic::lanes::lane_sums`: the larger and smaller magnitude chosen by `VCMP` of the
/// absolute values, `>=` keeping the sum, as its `abs() >=`).
///
/// # Safety
/// The CPU must implement MVE with floating point.
#[inline(never)]
unsafe fn arm_mve_lane_sums_signed(x: &[f32]) -> ([f32; 4], [f32; 4]) {
    let mut out = [0.0f32; 8];
    // SAFETY: the tail-predicated loop reads exactly `x.len()` floats of `x`; 32 bytes
    // are stored to `out`; inactive lanes of the last iteration keep their value; the asm
    // clobbers only the registers it names.
    unsafe {
        asm!(
            "vmov.i32 q2, #0",
            "vmov.i32 q3, #0",
            "cmp {n}, #0",
            "beq 2f",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{x}], #16",
            "vabs.f32 q4, q2",
            "vabs.f32 q5, q0",
            "vcmp.f32 ge, q4, q5",
            "vpsel q4, q2, q0",
            "vpsel q5, q0, q2",
            // s = t = s + v; c += (larger - t) + smaller
            "vadd.f32 q2, q2, q0",
            "vsub.f32 q4, q4, q2",
            "vadd.f32 q4, q4, q5",
            "vadd.f32 q3, q3, q4",
            "letp lr, 1b",
            "2:",
            "vstrw.32 q2, [{out}]",
            "vstrw.32 q3, [{out}, #16]",
            x = inout(reg) x.as_ptr() => _,
            n = in(reg) x.len(),
            out = in(reg) out.as_mut_ptr(),
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            options(nostack),
        );
    }
    let [s0, s1, s2, s3, c0, c1, c2, c3] = out;
    ([s0, s1, s2, s3], [c0, c1, c2, c3])
}

/// LayerNorm's variance: [`arm_mve_lane_sums`] of `(x[j] - mean)^2` (each `>= 0` or NaN,
/// so `VMAXNM`/`VMINNM` order the magnitudes).
///
/// # Safety
/// The CPU must implement MVE with floating point.
#[inline(never)]
unsafe fn arm_mve_lane_square_sums(x: &[f32], mean: f32) -> ([f32; 4], [f32; 4]) {
    let mut out = [0.0f32; 8];
    // SAFETY: the tail-predicated loop reads exactly `x.len()` floats of `x`; 32 bytes
    // are stored to `out`; inactive lanes of the last iteration keep their value; the asm
    // clobbers only the registers it names.
    unsafe {
        asm!(
            "vmov.i32 q2, #0",
            "vmov.i32 q3, #0",
            "cmp {n}, #0",
            "beq 2f",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{x}], #16",
            "vsub.f32 q0, q0, {mean}",
            "vmul.f32 q0, q0, q0",
            "vmaxnm.f32 q4, q2, q0",
            "vminnm.f32 q5, q2, q0",
            "vadd.f32 q2, q2, q0",
            "vsub.f32 q4, q4, q2",
            "vadd.f32 q4, q4, q5",
            "vadd.f32 q3, q3, q4",
            "letp lr, 1b",
            "2:",
            "vstrw.32 q2, [{out}]",
            "vstrw.32 q3, [{out}, #16]",
            x = inout(reg) x.as_ptr() => _,
            n = in(reg) x.len(),
            mean = in(reg) mean.to_bits(),
            out = in(reg) out.as_mut_ptr(),
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            options(nostack),
        );
    }
    let [s0, s1, s2, s3, c0, c1, c2, c3] = out;
    ([s0, s1, s2, s3], [c0, c1, c2, c3])
}

/// `x[i] = (x[i] - mean) * inv_std * gamma[i] + beta[i]` (`+ 0` without `beta`), four
/// lanes at a time, unfused, in that order (LayerNorm's last step).
///
/// # Safety
/// `gamma` and `beta` (if any) must hold at least `x.len()` floats, and the CPU must
/// implement MVE with floating point.
#[inline(never)]
unsafe fn arm_mve_normalise(
    x: &mut [f32],
    gamma: &[f32],
    beta: Option<&[f32]>,
    mean: f32,
    inv_std: f32,
) {
    // SAFETY: the tail-predicated loop reads and writes exactly `x.len()` floats of `x`
    // (a unique borrow) and reads as many of `gamma` and `beta` (the caller's contract;
    // without `beta` the loop adds a zero register instead); the asm clobbers only the
    // registers it names.
    unsafe {
        asm!(
            "vmov.i32 q1, #0",
            "cmp {n}, #0",
            "beq 2f",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{x}]",
            "vsub.f32 q0, q0, {mean}",
            "vmul.f32 q0, q0, {inv_std}",
            "vldrw.u32 q2, [{g}], #16",
            "vmul.f32 q0, q0, q2",
            "cmp {b}, #0",
            "beq 3f",
            "vldrw.u32 q1, [{b}], #16",
            "3:",
            "vadd.f32 q0, q0, q1",
            "vstrw.32 q0, [{x}], #16",
            "letp lr, 1b",
            "2:",
            x = inout(reg) x.as_mut_ptr() => _,
            n = in(reg) x.len(),
            g = inout(reg) gamma.as_ptr() => _,
            b = inout(reg) beta.map_or(core::ptr::null(), <[f32]>::as_ptr) => _,
            mean = in(reg) mean.to_bits(),
            inv_std = in(reg) inv_std.to_bits(),
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            options(nostack),
        );
    }
}
