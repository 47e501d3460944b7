//! Armv8.1-M MVE (Helium, Cortex-M55) int8 kernel: `VMLADAVA.S8` multiplies 16 pairs of
//! int8 lanes and adds all the products to a 32-bit general register. A tail-predicated
//! loop (`DLSTP.8` / `LETP`) runs over the whole row, so any length is one kernel call
//! (`BLOCK` = 1: the frame leaves no tail); per 16 bytes and 4 weight rows the loop issues
//! 9 instructions for 64 multiply-accumulates. The whole linear layer ([`linear_i8`]) takes
//! 6 weight rows per pass and 64 bytes per iteration where it can, and dequantizes in
//! Helium.

use crate::frame::f32::MR;
use crate::frame::i8::I8Dot;
use crate::generic::attention_i8::{
    all_head, all_head_steps, all_stride, exp_i8, head_scores, head_weighted_sum, round_weights,
    AllHead, CacheHead,
};
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

    fn cache_scores(
        self,
        query: &mut [f32],
        sq: f32,
        keys: &[u32],
        at: CacheHead,
        scores: &mut [f32],
    ) -> f32 {
        cache_scores_mve(query, sq, keys, at, scores)
            .unwrap_or_else(|| head_scores(query, sq, keys, at, scores))
    }

    /// The exponentials by [`exp_i8_minus_max_mve`] (the scalar `exp_i8`'s bits for every
    /// score `<= largest`; a NaN score stays NaN and zeroes the head in both), then the
    /// reference's sum in position order and weights.
    fn cache_exp_weights(
        self,
        scores: &mut [f32],
        largest: f32,
        values: &[u32],
        at: CacheHead,
    ) -> (f32, f32) {
        exp_i8_minus_max_mve(scores, largest);
        let mut sum = 0.0f32;
        let mut w_max = 0.0f32;
        for (j, s) in scores.iter_mut().enumerate() {
            let p = *s;
            sum += p;
            let sv = values
                .get(j * at.row_words + at.value_words + at.head)
                .copied()
                .unwrap_or(0);
            *s = p * f32::from_bits(sv);
            if *s > w_max {
                w_max = *s;
            }
        }
        (sum, w_max)
    }

    fn cache_weighted_sum(
        self,
        weights: &mut [f32],
        inv: f32,
        values: &[u32],
        at: CacheHead,
        factor: f32,
        out: &mut [f32],
    ) {
        // step 4's int16 rounding as the reference does it, then step 5 in Helium: the
        // bits of `head_round_weighted_sum`
        round_weights(weights, inv);
        if cache_weighted_sum_mve(weights, values, at, factor, out).is_none() {
            head_weighted_sum(weights, values, at, factor, out)
        }
    }

    /// [`quantize_row_mve`]: `quantize_row`'s integers and scale.
    fn quantize_head(self, x: &[f32], q: &mut [i8]) -> f32 {
        quantize_row_mve(x, q)
    }

    /// Four values an instruction (`VSTRB.32` with offsets `0, stride, 2 stride, 3
    /// stride`) where `q` is whole groups of 4 inside `v`; else the scalar stores.
    fn spread_head(self, q: &[i8], v: &mut [i8], stride: usize, j: usize) {
        let dk = q.len();
        let fits = dk > 0
            && dk.is_multiple_of(4)
            && j < stride
            && stride <= (u32::MAX / 4) as usize
            && dk.checked_mul(stride).is_some_and(|n| n <= v.len());
        if !fits {
            crate::generic::attention_i8::spread_head(q, v, stride, j);
            return;
        }
        let s = stride as u32;
        let offsets = [0, s, 2 * s, 3 * s];
        // SAFETY: `dk / 4` passes each read 4 bytes of `q` (`dk` in all) and store 4
        // bytes at `base + c * stride` for `c` of the pass, base from `v + j`: the largest
        // address `(dk - 1) stride + j < dk stride <= v.len()` (checked); `offsets` 16
        // bytes; only the named registers are written; the target has MVE.
        unsafe {
            asm!(
                "vldrw.u32 q1, [{offsets}]",
                "dls lr, {passes}",
                "1:",
                "vldrb.s32 q0, [{q}], #4",
                "vstrb.32 q0, [{base}, q1]",
                "add {base}, {step}",
                "le lr, 1b",
                q = inout(reg) q.as_ptr() => _,
                base = inout(reg) v.as_mut_ptr().add(j) => _,
                step = in(reg) 4 * stride,
                passes = in(reg) dk / 4,
                offsets = in(reg) offsets.as_ptr(),
                out("lr") _,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _,
                out("s4") _, out("s5") _, out("s6") _, out("s7") _,
                options(nostack),
            );
        }
    }

    /// Four lanes at a time ([`exp_i8_minus_max_mve`]).
    fn exp_i8_minus_max(self, x: &mut [f32], largest: f32) {
        exp_i8_minus_max_mve(x, largest)
    }

    /// Steps 2-5 in Helium ([`all_head_mve`]), the reference where it declines.
    fn all_head(self, query: &mut [f32], sq: f32, head: AllHead, scores: &mut [f32]) {
        if all_head_mve(query, sq, head, scores).is_none() {
            all_head(query, sq, head, scores)
        }
    }

    /// Steps 1-5 of two rows in Helium ([`all_pair_mve`]), one at a time where it
    /// declines.
    fn all_head_pair(
        self,
        a: &mut [f32],
        b: &mut [f32],
        scale: f32,
        head: AllHead,
        scores: &mut [f32],
    ) {
        if all_pair_mve(a, b, scale, head, scores).is_none() {
            let step =
                |q: &mut [f32], sq: f32, h: AllHead, s: &mut [f32]| self.all_head(q, sq, h, s);
            all_head_steps(step, a, scale, head, scores);
            all_head_steps(step, b, scale, head, scores);
        }
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
/// scan (`VMAXNMA`, 33 instructions per 64 values) and the scaling, rounding and narrowing
/// store (81 per 64 values), each then a tail-predicated loop over the rest (3 and 5
/// per 4 values). Helium flushes subnormal inputs and results to zero, which
/// cannot change an integer when `max |x| >= 2^-100` (a subnormal value or product is
/// then far below half a step); smaller maxima, and those that are not finite, go to
/// `quantize_row`. `q` holds `x.len()` values. Returns the scale.
pub fn quantize_row_mve(x: &[f32], q: &mut [i8]) -> f32 {
    let n = x.len().min(q.len());
    let (Some(x), Some(q)) = (x.get(..n), q.get_mut(..n)) else {
        return 0.0;
    };
    match quantize_row_with::<4>(x, q) {
        Some(scale) => scale,
        None => quantize_row_scalar(x, q),
    }
}

/// [`quantize_row_mve`] of the row `x` (`n = x.len()`, a multiple of 64) into 16-byte chunks
/// interleaved with another row's: chunk `c` of the row at `q[32 c..32 c + 16]` (the other
/// row's at `q[32 c + 16..]`: pass `q[16..]`), for [`arm_mve_matmul_i8_2x3`]. `q` holds
/// `2 n - 16` bytes. `None` (nothing written) where [`quantize_row_mve`] would take the
/// scalar rule (empty, tiny, not finite) or the shape does not fit.
fn quantize_row_interleaved(x: &[f32], q: &mut [i8]) -> Option<f32> {
    let n = x.len();
    if !n.is_multiple_of(64) || q.len() < (2 * n).checked_sub(16)? {
        return None;
    }
    quantize_row_with::<20>(x, q)
}

/// The Helium steps of [`quantize_row_mve`], storing as [`quantize_scaled`] does with `LAST`;
/// `None` (nothing written) where the row takes the scalar rule instead.
#[inline(always)]
fn quantize_row_with<const LAST: i32>(x: &[f32], q: &mut [i8]) -> Option<f32> {
    let n = x.len();
    if n == 0 {
        return None;
    }
    let mut amax_bits = 0u32;
    // SAFETY: the loops read exactly `n` floats from `x` (`n / 64` blocks of 64, then the
    // tail-predicated rest); they write only the registers they name (q0-q4 as s0-s19,
    // lr).
    unsafe {
        asm!(
            "vmov.i32 q4, #0",
            "wls lr, {blocks}, 2f",
            "1:",
            "vldrw.u32 q0, [{x}], #16",
            "vldrw.u32 q1, [{x}], #16",
            "vmaxnma.f32 q4, q0",
            "vldrw.u32 q2, [{x}], #16",
            "vmaxnma.f32 q4, q1",
            "vldrw.u32 q3, [{x}], #16",
            "vmaxnma.f32 q4, q2",
            "vldrw.u32 q0, [{x}], #16",
            "vmaxnma.f32 q4, q3",
            "vldrw.u32 q1, [{x}], #16",
            "vmaxnma.f32 q4, q0",
            "vldrw.u32 q2, [{x}], #16",
            "vmaxnma.f32 q4, q1",
            "vldrw.u32 q3, [{x}], #16",
            "vmaxnma.f32 q4, q2",
            "vldrw.u32 q0, [{x}], #16",
            "vmaxnma.f32 q4, q3",
            "vldrw.u32 q1, [{x}], #16",
            "vmaxnma.f32 q4, q0",
            "vldrw.u32 q2, [{x}], #16",
            "vmaxnma.f32 q4, q1",
            "vldrw.u32 q3, [{x}], #16",
            "vmaxnma.f32 q4, q2",
            "vldrw.u32 q0, [{x}], #16",
            "vmaxnma.f32 q4, q3",
            "vldrw.u32 q1, [{x}], #16",
            "vmaxnma.f32 q4, q0",
            "vldrw.u32 q2, [{x}], #16",
            "vmaxnma.f32 q4, q1",
            "vldrw.u32 q3, [{x}], #16",
            "vmaxnma.f32 q4, q2",
            "vmaxnma.f32 q4, q3",
            "le lr, 1b",
            "2:",
            "wlstp.32 lr, {rest}, 4f",
            "3:",
            "vldrw.u32 q0, [{x}], #16",
            "vmaxnma.f32 q4, q0",
            "letp lr, 3b",
            "4:",
            "vmaxnmav.f32 {m}, q4",
            blocks = in(reg) n / 64,
            rest = in(reg) n % 64,
            x = inout(reg) x.as_ptr() => _,
            m = inout(reg) amax_bits,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            options(nostack, readonly),
        );
    }
    let amax = f32::from_bits(amax_bits);
    // 2^-100: below it (or NaN, or infinite), the exact rule of `quantize_row`.
    const SMALLEST_AMAX: f32 = f32::from_bits(0x0d80_0000);
    // one unsigned compare of the bits (`VMAXNMAV` gives `|m|`): NaN and infinity are
    // above the finite range, anything below 2^-100 wraps around above it
    if amax_bits.wrapping_sub(SMALLEST_AMAX.to_bits())
        >= f32::INFINITY.to_bits() - SMALLEST_AMAX.to_bits()
    {
        return None;
    }
    let inv = crate::quant::I8_MAX / amax;
    quantize_scaled::<LAST>(x, q, inv);
    Some(amax / crate::quant::I8_MAX)
}

/// The scaling, rounding and narrowing store of [`quantize_row_mve`]: `n = x.len()` values
/// times `inv` into `q`, 16 values (4 stores of 4 bytes) at a time, the fourth store of each
/// 16 advancing `q` by `LAST` bytes (4: contiguous; 20: chunks of 16 bytes interleaved with
/// another row's, [`quantize_row_interleaved`]).
///
/// `q` must hold the bytes written: `n` for `LAST = 4`; for `LAST = 20`, `n % 64 == 0` and
/// `2 * n - 16` bytes.
#[inline(always)]
fn quantize_scaled<const LAST: i32>(x: &[f32], q: &mut [i8], inv: f32) {
    let n = x.len();
    let needed = if LAST == 4 {
        Some(n)
    } else if n.is_multiple_of(64) {
        (2 * n).checked_sub(16)
    } else {
        None
    };
    if needed.is_none_or(|needed| q.len() < needed) {
        return;
    }
    // `round_to_i8(p)`: `p' = p + p * nudge` (`VFMA`, see
    // `arm_fpu::i8::ROUNDING_NUDGE`: it moves the one product where `p + 0.5` rounds up,
    // `|p| = 0.5 - 2^-25`, to 0.5 and no other across a half-integer), then `VCVTA`
    // (nearest, ties away from zero); `|p| <= 127 * (1 + 2^-23)` needs no clamp, NaN
    // gives 0. 64 values per iteration, then the tail-predicated rest.
    // SAFETY: the loops read `n` floats from `x` and write `n` bytes to `q` (`LAST = 4`),
    // or the interleaved chunks ([`quantize_row_interleaved`], `n % 64 == 0`: the tail loop
    // does not run) inside it; they write only the registers they name (q0-q3 as s0-s15, lr).
    unsafe {
        asm!(
            "wls lr, {blocks}, 2f",
            "1:",
            "vldrw.u32 q0, [{x}], #16",
            "vmul.f32 q0, q0, {inv}",
            "vldrw.u32 q1, [{x}], #16",
            "vfma.f32 q0, q0, {nudge}",
            "vldrw.u32 q2, [{x}], #16",
            "vcvta.s32.f32 q0, q0",
            "vstrb.32 q0, [{q}], #4",
            "vmul.f32 q1, q1, {inv}",
            "vldrw.u32 q3, [{x}], #16",
            "vfma.f32 q1, q1, {nudge}",
            "vldrw.u32 q0, [{x}], #16",
            "vcvta.s32.f32 q1, q1",
            "vstrb.32 q1, [{q}], #4",
            "vmul.f32 q2, q2, {inv}",
            "vldrw.u32 q1, [{x}], #16",
            "vfma.f32 q2, q2, {nudge}",
            "vcvta.s32.f32 q2, q2",
            "vstrb.32 q2, [{q}], #4",
            "vmul.f32 q3, q3, {inv}",
            "vldrw.u32 q2, [{x}], #16",
            "vfma.f32 q3, q3, {nudge}",
            "vcvta.s32.f32 q3, q3",
            "vstrb.32 q3, [{q}], #{last}",
            "vmul.f32 q0, q0, {inv}",
            "vldrw.u32 q3, [{x}], #16",
            "vfma.f32 q0, q0, {nudge}",
            "vcvta.s32.f32 q0, q0",
            "vstrb.32 q0, [{q}], #4",
            "vmul.f32 q1, q1, {inv}",
            "vldrw.u32 q0, [{x}], #16",
            "vfma.f32 q1, q1, {nudge}",
            "vcvta.s32.f32 q1, q1",
            "vstrb.32 q1, [{q}], #4",
            "vmul.f32 q2, q2, {inv}",
            "vldrw.u32 q1, [{x}], #16",
            "vfma.f32 q2, q2, {nudge}",
            "vcvta.s32.f32 q2, q2",
            "vstrb.32 q2, [{q}], #4",
            "vmul.f32 q3, q3, {inv}",
            "vldrw.u32 q2, [{x}], #16",
            "vfma.f32 q3, q3, {nudge}",
            "vcvta.s32.f32 q3, q3",
            "vstrb.32 q3, [{q}], #{last}",
            "vmul.f32 q0, q0, {inv}",
            "vldrw.u32 q3, [{x}], #16",
            "vfma.f32 q0, q0, {nudge}",
            "vcvta.s32.f32 q0, q0",
            "vstrb.32 q0, [{q}], #4",
            "vmul.f32 q1, q1, {inv}",
            "vldrw.u32 q0, [{x}], #16",
            "vfma.f32 q1, q1, {nudge}",
            "vcvta.s32.f32 q1, q1",
            "vstrb.32 q1, [{q}], #4",
            "vmul.f32 q2, q2, {inv}",
            "vldrw.u32 q1, [{x}], #16",
            "vfma.f32 q2, q2, {nudge}",
            "vcvta.s32.f32 q2, q2",
            "vstrb.32 q2, [{q}], #4",
            "vmul.f32 q3, q3, {inv}",
            "vldrw.u32 q2, [{x}], #16",
            "vfma.f32 q3, q3, {nudge}",
            "vcvta.s32.f32 q3, q3",
            "vstrb.32 q3, [{q}], #{last}",
            "vmul.f32 q0, q0, {inv}",
            "vldrw.u32 q3, [{x}], #16",
            "vfma.f32 q0, q0, {nudge}",
            "vcvta.s32.f32 q0, q0",
            "vstrb.32 q0, [{q}], #4",
            "vmul.f32 q1, q1, {inv}",
            "vfma.f32 q1, q1, {nudge}",
            "vcvta.s32.f32 q1, q1",
            "vstrb.32 q1, [{q}], #4",
            "vmul.f32 q2, q2, {inv}",
            "vfma.f32 q2, q2, {nudge}",
            "vcvta.s32.f32 q2, q2",
            "vstrb.32 q2, [{q}], #4",
            "vmul.f32 q3, q3, {inv}",
            "vfma.f32 q3, q3, {nudge}",
            "vcvta.s32.f32 q3, q3",
            "vstrb.32 q3, [{q}], #{last}",
            "le lr, 1b",
            "2:",
            "wlstp.32 lr, {rest}, 4f",
            "3:",
            "vldrw.u32 q0, [{x}], #16",
            "vmul.f32 q0, q0, {inv}",
            "vfma.f32 q0, q0, {nudge}",
            "vcvta.s32.f32 q0, q0",
            "vstrb.32 q0, [{q}], #4",
            "letp lr, 3b",
            "4:",
            blocks = in(reg) n / 64,
            rest = in(reg) n % 64,
            x = inout(reg) x.as_ptr() => _,
            q = inout(reg) q.as_mut_ptr() => _,
            inv = in(reg) inv.to_bits(),
            last = const LAST,
            nudge = in(reg) crate::arch::arm_fpu::i8::ROUNDING_NUDGE.to_bits(),
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            options(nostack),
        );
    }
}

/// [`crate::quant::quantize_row`] out of line: the rare rows (empty, tiny or not finite)
/// keep the common path's registers free.
#[cold]
#[inline(never)]
fn quantize_row_scalar(x: &[f32], q: &mut [i8]) -> f32 {
    crate::quant::quantize_row(x, q)
}

/// The generic frame out of line, for the shapes the one-pass kernel does not take.
#[cold]
#[inline(never)]
fn frame_linear_i8(
    x: &[f32],
    w: crate::quant::I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    act: &mut crate::quant::Activations,
) {
    crate::frame::i8::linear_i8(MveI8(()), x, w, bias, k, y, act)
}

/// The sums of one row again and the scalar-FPU epilogue, where the Helium epilogue could
/// not prove its outputs exact.
///
/// # Safety
/// As [`row_sums`].
#[cold]
#[inline(never)]
unsafe fn dequantize_row_scalar(
    q: &[i8],
    values: &[i8],
    y_row: &mut [f32],
    sx: f32,
    scales: &[f32],
    bias: Option<&[f32]>,
) {
    // SAFETY: the caller's guarantee.
    unsafe { row_sums(q, values, y_row) };
    crate::arch::arm_fpu::i8::dequantize_sums(y_row, sx, scales, bias);
}

/// The int8 linear layer on Helium, bit-identical to [`crate::generic::i8::linear_i8`]: each
/// input row quantized once ([`quantize_row_mve`]), one asm pass over the weight rows in
/// groups of 6 and then 4 (`row_sums`), and the epilogue in Helium
/// (`arm_mve_dequantize`), which proves per row that flushing subnormals to zero changed
/// nothing; where it cannot (tiny or zero scales, a zero output with a bias, NaN), the
/// row's sums are computed again and go through the scalar-FPU epilogue of the SMLAD
/// kernel. Fewer than 4 weight rows go through the generic frame.
pub fn linear_i8(
    x: &[f32],
    w: crate::quant::I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    act: &mut crate::quant::Activations,
) {
    if k == 0 || k > crate::quant::I8_MAX_K {
        return frame_linear_i8(x, w, bias, k, y, act);
    }
    // two rows at a time in tiles where `k % 128 == 0` and the buffer holds both
    if x.len() >= 2 * k
        && k.is_multiple_of(128)
        && act.values.len() >= 2 * k
        && linear_i8_pairs(x, &w, bias, k, y, act.values)
    {
        return;
    }
    let rows = x.len() / k;
    let n = w.values.len() / k;
    let (Some(q), Some(values), Some(scales), true) = (
        act.values.get_mut(..k),
        w.values.get(..n * k),
        w.scales.get(..n),
        n >= 4 && y.len() >= rows * n,
    ) else {
        return frame_linear_i8(x, w, bias, k, y, act);
    };
    debug_assert_eq!(y.len(), rows * n, "y must be [rows, n]");
    let bias = bias.map(|b| b.get(..n).unwrap_or(b));
    // the Helium epilogue reads `n` biases; a shorter bias (zeros past its end) goes scalar
    let vector_bias = match bias {
        Some(b) if b.len() < n => None,
        Some(b) => Some(b.as_ptr()),
        None => Some(core::ptr::null()),
    };
    let (mut x_rest, mut y_rest) = (x, y);
    for _ in 0..rows {
        let (Some((x_row, x_next)), Some((y_row, y_next))) =
            (x_rest.split_at_checked(k), y_rest.split_at_mut_checked(n))
        else {
            break;
        };
        (x_rest, y_rest) = (x_next, y_next);
        let sx = quantize_row_mve(x_row, q);
        // SAFETY: `q` holds `k > 0` bytes, `values` `n * k`, `y_row`, `scales` and a
        // non-null bias `n >= 4` values; the target has MVE (build.rs).
        unsafe {
            row_sums(q, values, y_row);
            let exact = match vector_bias {
                Some(b) => arm_mve_dequantize(y_row, sx, scales.as_ptr(), b),
                None => false,
            };
            if !exact {
                dequantize_row_scalar(q, values, y_row, sx, scales, bias);
            }
        }
    }
}

/// [`linear_i8`] two rows at a time ([`Weights::rows`]), out of line (the one-row calls of
/// the decoder keep their code); `false` (nothing written) where the shapes are not the
/// one-pass kernels' (`linear_i8` goes on as for one row).
#[inline(never)]
fn linear_i8_pairs(
    x: &[f32],
    w: &crate::quant::I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    buffer: &mut [i8],
) -> bool {
    let rows = x.len() / k;
    let n = w.values.len() / k;
    let (Some(values), Some(scales), true) = (
        w.values.get(..n * k),
        w.scales.get(..n),
        n >= 4 && y.len() >= rows * n && buffer.len() >= 2 * k,
    ) else {
        return false;
    };
    let bias = bias.map(|b| b.get(..n).unwrap_or(b));
    // the Helium epilogue reads `n` biases; a shorter bias (zeros past its end) goes scalar
    let vector_bias = match bias {
        Some(b) if b.len() < n => None,
        Some(b) => Some(b.as_ptr()),
        None => Some(core::ptr::null()),
    };
    let weights = Weights {
        values,
        scales,
        bias,
        vector_bias,
        range: scale_range(scales),
    };
    weights.rows(x.get(..rows * k).unwrap_or(&[]), k, buffer, y);
    true
}

/// The weights of [`linear_i8`], checked: `values` holds `n * k` bytes (`n =
/// scales.len() >= 4`, `k > 0`), `vector_bias` is null, `bias`' pointer with `n` values or
/// `None` (the scalar epilogue).
struct Weights<'a> {
    values: &'a [i8],
    scales: &'a [f32],
    bias: Option<&'a [f32]>,
    vector_bias: Option<*const f32>,
    /// The least and largest scale where all are positive normal floats
    /// ([`scale_range`], taken for row pairs only).
    range: Option<(f32, f32)>,
}

impl Weights<'_> {
    /// [`linear_i8`] of the rows of `x` (`k` values each, `k % 128 == 0`; `buffer` holds
    /// `2 k` bytes) two at a time ([`pair`](Self::pair)), an odd last row alone.
    #[inline(never)]
    fn rows(&self, x: &[f32], k: usize, buffer: &mut [i8], y: &mut [f32]) {
        let n = self.scales.len();
        let (mut x_rest, mut y_rest) = (x, y);
        loop {
            if x_rest.len() >= 2 * k && y_rest.len() >= 2 * n {
                let (Some((x_pair, x_next)), Some((y_pair, y_next))) = (
                    x_rest.split_at_checked(2 * k),
                    core::mem::take(&mut y_rest).split_at_mut_checked(2 * n),
                ) else {
                    return;
                };
                (x_rest, y_rest) = (x_next, y_next);
                let (x0, x1) = x_pair.split_at(k);
                let (y0, y1) = y_pair.split_at_mut(n);
                self.pair(x0, x1, buffer, y0, y1);
                continue;
            }
            if let (Some(x_row), Some(y_row)) = (x_rest.get(..k), y_rest.get_mut(..n)) {
                self.row(x_row, buffer, y_row);
            }
            return;
        }
    }

    /// One output row `y_row` (`n` values) of the input row `x_row` (`k` values), with
    /// `buffer` (at least `k` bytes) for its quantized values.
    #[inline(always)]
    fn row(&self, x_row: &[f32], buffer: &mut [i8], y_row: &mut [f32]) {
        let Some(q) = buffer.get_mut(..x_row.len()) else {
            return;
        };
        let sx = quantize_row_mve(x_row, q);
        // SAFETY: `q` holds `k > 0` bytes, `values` `n * k`, `y_row` `n >= 4` values (the
        // caller's split); the target has MVE (build.rs).
        unsafe { row_sums(q, self.values, y_row) };
        self.dequantize(x_row, buffer, y_row, sx, false);
    }

    /// Two output rows of two input rows (`k % 128 == 0` values each; `buffer` holds `2 k`
    /// bytes): both quantized into `buffer` interleaved, their sums by
    /// [`arm_mve_matmul_i8_2x3`]; rows that take the scalar quantization go one by one.
    #[inline(never)]
    fn pair(&self, x0: &[f32], x1: &[f32], buffer: &mut [i8], y0: &mut [f32], y1: &mut [f32]) {
        let (k, n) = (x0.len(), y0.len());
        let fits = n == y1.len() && k == x1.len() && k.is_multiple_of(128);
        let scales = match (buffer.get_mut(..2 * k), fits) {
            (Some(pair), true) => quantize_row_interleaved(x0, pair).and_then(|s0| {
                let second = pair.get_mut(16..)?;
                Some((s0, quantize_row_interleaved(x1, second)?))
            }),
            _ => None,
        };
        let Some((s0, s1)) = scales else {
            self.rows_apart(x0, x1, buffer, y0, y1);
            return;
        };
        let (tiles, back) = (n / 3, n - 3);
        let w = self.values.as_ptr();
        // SAFETY: `buffer` holds the two rows interleaved (`2 k` bytes, `k % 128 == 0`
        // (`linear_i8`), `k > 0`); `values` `n * k` bytes, `y0` and `y1` `n >= 4` words each: the
        // `n / 3` tiles cover the first `3 (n / 3)` rows, and the last 3 rows (`n % 3`
        // left) once more, rewriting sums with the same values; the target has MVE.
        unsafe {
            let matmul = |w: *const i8, tiles: usize, y: &[*mut f32; 2]| {
                if k == 512 {
                    arm_mve_matmul_i8_2x3_512(buffer.as_ptr(), w, tiles, y)
                } else {
                    arm_mve_matmul_i8_2x3(buffer.as_ptr(), w, k, tiles, y)
                }
            };
            matmul(w, tiles, &[y0.as_mut_ptr(), y1.as_mut_ptr()]);
            if n % 3 != 0 {
                let last = [
                    y0.as_mut_ptr().wrapping_add(back),
                    y1.as_mut_ptr().wrapping_add(back),
                ];
                matmul(w.wrapping_add(back * k), 1, &last);
            }
        }
        if let (true, Some(b)) = (self.pair_scales_exact(s0, s1), self.vector_bias) {
            // SAFETY: `y0` and `y1` hold `n` sums each, `scales` and a non-null bias `n`
            // values; the target has MVE (build.rs).
            let exact = unsafe {
                arm_mve_dequantize_pair(
                    y0.as_mut_ptr(),
                    y1.as_mut_ptr(),
                    n,
                    [s0, s1],
                    self.scales.as_ptr(),
                    b,
                )
            };
            if !exact {
                self.again(x0, buffer, y0, s0, true);
                self.again(x1, buffer, y1, s1, true);
            }
            return;
        }
        self.dequantize(x0, buffer, y0, s0, true);
        self.dequantize(x1, buffer, y1, s1, true);
    }

    /// [`row`](Self::row) of each of two rows (a pair one of whose rows takes the
    /// scalar quantization), out of line.
    #[cold]
    #[inline(never)]
    fn rows_apart(
        &self,
        x0: &[f32],
        x1: &[f32],
        buffer: &mut [i8],
        y0: &mut [f32],
        y1: &mut [f32],
    ) {
        self.row(x0, buffer, y0);
        self.row(x1, buffer, y1);
    }

    /// Whether every product `sx * sw` of both rows' scales `sx` with the weight scales lies
    /// in `[2^-96, inf)`, from the least and the largest weight scale: where all are
    /// positive normal floats, rounding is monotonic and Helium's products (normal inputs,
    /// results from `2^-96` up) are the FPU's, so the products lie between
    /// `sx * least` and `sx * largest`.
    fn pair_scales_exact(&self, s0: f32, s1: f32) -> bool {
        let in_range = |sx: f32, (least, largest): (f32, f32)| {
            (sx * least).to_bits() >= LEAST_SCALE_BITS
                && (sx * largest).to_bits() < f32::INFINITY.to_bits()
        };
        self.range
            .is_some_and(|range| in_range(s0, range) && in_range(s1, range))
    }

    /// The epilogue of the row `x_row`'s i32 sums in `y_row` (scale `sx`): Helium where it
    /// is provably exact, else the row's sums again (quantized into `buffer` first when
    /// `requantize`: the buffer then holds another layout) and the scalar epilogue.
    #[inline(always)]
    fn dequantize(
        &self,
        x_row: &[f32],
        buffer: &mut [i8],
        y_row: &mut [f32],
        sx: f32,
        requantize: bool,
    ) {
        let exact = match self.vector_bias {
            // SAFETY: `scales` and a non-null bias hold `n = y_row.len()` values; the
            // target has MVE (build.rs).
            Some(b) => unsafe { arm_mve_dequantize(y_row, sx, self.scales.as_ptr(), b) },
            None => false,
        };
        if !exact {
            self.again(x_row, buffer, y_row, sx, requantize);
        }
    }

    /// The row's sums again and the scalar epilogue (quantized into `buffer` first when
    /// `requantize`: the buffer then holds another layout).
    #[cold]
    #[inline(never)]
    fn again(
        &self,
        x_row: &[f32],
        buffer: &mut [i8],
        y_row: &mut [f32],
        sx: f32,
        requantize: bool,
    ) {
        let Some(q) = buffer.get_mut(..x_row.len()) else {
            return;
        };
        if requantize {
            quantize_row_mve(x_row, q);
        }
        // SAFETY: `q` holds the row's `k > 0` quantized bytes, `values` `n * k`, `y_row`
        // `n >= 4` values.
        unsafe { dequantize_row_scalar(q, self.values, y_row, sx, self.scales, self.bias) };
    }
}

/// The i32 sums of the quantized row `q` (`k = q.len()` bytes) with the `n = y_row.len()`
/// weight rows of `values`, stored to `y_row`: [`arm_mve_matvec_i8_wide`] when
/// `k % 64 == 0`, else [`arm_mve_matvec_i8`], over the even rows, then for odd `n` the
/// last 4 rows once more (rewriting 3 sums with the same values).
///
/// # Safety
/// `k > 0`, `n >= 4`, `values` holds `n * k` bytes; the CPU has MVE with the
/// low-overhead-branch extension.
#[inline(always)]
unsafe fn row_sums(q: &[i8], values: &[i8], y_row: &mut [f32]) {
    let (k, n) = (q.len(), y_row.len());
    // SAFETY: the caller's guarantee.
    unsafe {
        if k.is_multiple_of(64) {
            arm_mve_matvec_i8_wide(q.as_ptr(), values.as_ptr(), k, n, y_row.as_mut_ptr());
        } else {
            arm_mve_matvec_i8(q.as_ptr(), values.as_ptr(), k, n, y_row.as_mut_ptr());
        }
        if n % 2 == 1 {
            last_4_sums(q, values, y_row);
        }
    }
}

/// The sums of the last 4 weight rows (odd `n`), out of line.
///
/// # Safety
/// As [`row_sums`].
#[cold]
#[inline(never)]
unsafe fn last_4_sums(q: &[i8], values: &[i8], y_row: &mut [f32]) {
    let (k, back) = (q.len(), y_row.len() - 4);
    let w = values.as_ptr().wrapping_add(back * k);
    let sums = y_row.as_mut_ptr().wrapping_add(back);
    // SAFETY: the caller's guarantee: rows `n - 4..n` and their sums are in bounds.
    unsafe {
        if k.is_multiple_of(64) {
            arm_mve_matvec_i8_wide(q.as_ptr(), w, k, 4, sums);
        } else {
            arm_mve_matvec_i8(q.as_ptr(), w, k, 4, sums);
        }
    }
}

/// One 16-byte chunk of [`arm_mve_matmul_i8_2x3`]: the two rows' chunk in `$a`, `$b`, the
/// three weight rows' loaded into q2, q3, q6 and multiplied in by `$op` (`VMLADAVA`, or
/// `VMLADAV` for a tile's first chunk, which sets the sums), the loads and multiplies
/// alternating (5 loads and 6 multiplies, the two rows' next chunk loaded into `$na`, `$nb`
/// between them unless `$next` comments those loads out).
macro_rules! tile_chunk {
    ($op:literal, $a:literal, $b:literal, $na:literal, $nb:literal, $next:literal) => {
        concat!(
            "vldrb.u8 q2, [r3], #16\n",
            $op,
            " r0, ",
            $a,
            ", q2\n",
            "vldrb.u8 q3, [r5], #16\n",
            $op,
            " r6, ",
            $b,
            ", q2\n",
            "vldrb.u8 q6, [r7], #16\n",
            $op,
            " r2, ",
            $a,
            ", q3\n",
            $next,
            "vldrb.u8 ",
            $na,
            ", [r1], #16\n",
            $op,
            " r8, ",
            $b,
            ", q3\n",
            $next,
            "vldrb.u8 ",
            $nb,
            ", [r1], #16\n",
            $op,
            " r4, ",
            $a,
            ", q6\n",
            $op,
            " r10, ",
            $b,
            ", q6\n",
        )
    };
}

/// The i32 sums of two quantized rows with `3 * tiles` weight rows of `k` bytes (`w`),
/// stored as i32 to `y[0]` (the first row's `3 * tiles` sums) and `y[1]` (the second's):
/// tiles of 2 rows by 3 weight rows, the six sums in r0, r2, r4 (first row) and r6, r8,
/// r10. `x` holds the two rows interleaved in 16-byte chunks
/// ([`quantize_row_interleaved`]), so one pointer walks both. Per 16 bytes 5 loads and 6
/// `VMLADAVA`s alternate (96 multiply-accumulates in 12 estimated cycles), each chunk
/// loading the next chunk's rows: per tile the first chunk (`VMLADAV`, which sets the
/// sums), `k / 128 - 1` loop iterations of 8 chunks (`WLS` / `LE`), the last 7 chunks
/// after the loop (the last loading nothing past the rows).
///
/// # Safety
/// `k % 128 == 0`, `k > 0`, `tiles > 0`; `x` points at `2 k` readable bytes, `w` at
/// `3 tiles k`, `y[0]` and `y[1]` each at `3 tiles` writable words; the CPU has MVE with
/// the low-overhead-branch extension.
#[inline(never)]
unsafe fn arm_mve_matmul_i8_2x3(
    x: *const i8,
    w: *const i8,
    k: usize,
    tiles: usize,
    y: &[*mut f32; 2],
) {
    // SAFETY: per tile the asm reads `2 k` bytes from `x` (2 chunks before the first, 2
    // in it, 16 per iteration of the `k / 128 - 1`, 12 after it) and `k` from each of
    // three weight rows, and writes three words to each `y` row; the tiles walk the
    // `3 tiles` weight rows and their sums, in bounds by the caller's guarantee. r4-r11
    // are saved on the stack and restored; below them the asm keeps a frame of 1 word (sp
    // is restored); the other registers it writes are declared.
    unsafe {
        asm!(
            "push {{r4-r11}}",
            "ldrd r11, r12, [r12]",
            // r9: loop count, r3: end of the weight rows (frame), r3, r5, r7: the rows
            "lsrs r9, r2, #7",
            "subs r9, r9, #1",
            "mul r3, r3, r2",
            "add r3, r3, r3, lsl #1",
            "add r3, r3, r1",
            "push {{r3}}",
            "mov r3, r1",
            "add r5, r3, r2",
            "add r7, r5, r2",
            "mov r1, r0",
            "2:",
            "vldrb.u8 q0, [r1], #16",
            "vldrb.u8 q1, [r1], #16",
            tile_chunk!("vmladav.s8", "q0", "q1", "q4", "q5", ""),
            "wls lr, r9, 3f",
            "1:",
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            "le lr, 1b",
            "3:",
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", "@ "),
            "stmia r11!, {{r0, r2, r4}}",
            "stmia r12!, {{r6, r8, r10}}",
            // the next tile: r7 is its first row, `k = r5 - r3`; `x` back by `2 k`
            "sub r0, r7, r5",
            "sub r1, r1, r0, lsl #1",
            "mov r3, r7",
            "add r5, r7, r0",
            "add r7, r5, r0",
            "ldr r2, [sp]",
            "cmp r3, r2",
            "bne 2b",
            "add sp, sp, #4",
            "pop {{r4-r11}}",
            inout("r0") x => _,
            inout("r1") w => _,
            inout("r2") k => _,
            inout("r3") tiles => _,
            inout("r12") y.as_ptr() => _,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            out("s24") _, out("s25") _, out("s26") _, out("s27") _,
        )
    }
}

/// [`arm_mve_matmul_i8_2x3`] for `k == 512` (Whisper base's projections and first
/// feed-forward matrix), the 32 chunks of each tile written out: no loop inside a tile
/// (no `WLS`/`LE` and their block boundaries), the rows' steps immediates, the end of the
/// weight rows in r9; the same `VMLADAV`/`VMLADAVA` sums in the same order.
///
/// # Safety
/// As [`arm_mve_matmul_i8_2x3`] with `k == 512`.
#[inline(never)]
unsafe fn arm_mve_matmul_i8_2x3_512(x: *const i8, w: *const i8, tiles: usize, y: &[*mut f32; 2]) {
    // SAFETY: per tile the asm reads 1024 bytes from `x` (2 chunks before the first, 2 in
    // each of the first 31, none in the last) and 512 from each of three weight rows, and
    // writes three words to each `y` row; the tiles walk the `3 tiles` weight rows and
    // their sums, in bounds by the caller's guarantee. r4-r11 are saved on the stack and
    // restored (sp is restored); the other registers it writes are declared.
    unsafe {
        asm!(
            "push {{r4-r11}}",
            "ldrd r11, r12, [r12]",
            // r9: end of the weight rows, r3, r5, r7: the rows
            "add r9, r3, r3, lsl #1",
            "add r9, r1, r9, lsl #9",
            "mov r3, r1",
            "add r5, r3, #512",
            "add r7, r3, #1024",
            "mov r1, r0",
            "2:",
            "vldrb.u8 q0, [r1], #16",
            "vldrb.u8 q1, [r1], #16",
            tile_chunk!("vmladav.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", ""),
            tile_chunk!("vmladava.s8", "q0", "q1", "q4", "q5", ""),
            tile_chunk!("vmladava.s8", "q4", "q5", "q0", "q1", "@ "),
            "stmia r11!, {{r0, r2, r4}}",
            "stmia r12!, {{r6, r8, r10}}",
            // the next tile: r7 is its first row; `x` back by 1024
            "sub r1, r1, #1024",
            "mov r3, r7",
            "add r5, r7, #512",
            "add r7, r7, #1024",
            "cmp r3, r9",
            "bne 2b",
            "pop {{r4-r11}}",
            inout("r0") x => _,
            inout("r1") w => _,
            out("r2") _,
            inout("r3") tiles => _,
            inout("r12") y.as_ptr() => _,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            out("s24") _, out("s25") _, out("s26") _, out("s27") _,
        )
    }
}

/// The asm of [`arm_mve_matvec_i8`] (tail-predicated loop, 16 bytes per iteration) and
/// [`arm_mve_matvec_i8_wide`] (`k % 64 == 0`: a plain loop, 64 bytes per iteration).
/// Arguments: r0 `x`, r1 `w`, r2 `k`, r3 `n`, r12 `sums`. The even rows `n & !1` are
/// `6 * groups6 + 4 * groups4` with at most 2 groups of 4 (remainder 2: one group of 6
/// fewer). Per group the asm loads its zero sums and `x` (and, `wide`, the loop count
/// into lr) with one `LDM` from the frame it keeps below the saved r4-r11, and advances
/// each row pointer from its end (with the tail-predicated loop's overrun `-k mod 16`)
/// to the same row of the next group.
macro_rules! matvec_asm {
    ($x:expr, $w:expr, $k:expr, $n:expr, $sums:expr,
     [$($count:literal),*], [$($enter6:literal),*], $end:literal,
     [$($body6:literal),*], $start4:literal, [$($body4:literal),*]) => {
        asm!(
            "push {{r4-r11}}",
            "mov r4, r2",
            "bic r6, r3, #1",
            "movs r5, #6",
            "udiv r7, r6, r5",
            "mls r6, r7, r5, r6",
            "lsrs r5, r6, #2",
            "cmp r6, #2",
            "itt eq",
            "subeq r7, r7, #1",
            "moveq r5, #2",
            // r7: the first row after the groups of 6, `w + 6 * k * groups6`
            "mul r7, r4, r7",
            "add r7, r7, r7, lsl #1",
            "add r7, r1, r7, lsl #1",
            // r3: loop count, r8: overrun
            $($count,)*
            // r6: step6 = 5 k - overrun, r8: step4 = 3 k - overrun
            "add r6, r4, r4, lsl #2",
            "subs r6, r6, r8",
            "rsb r8, r8, r4, lsl #1",
            "add r8, r8, r4",
            // frame, sp+28 up: count, k, groups4, step6, end6, step4, sums
            "push {{r3, r4, r5, r6, r7, r8, r12}}",
            "mov r3, r1",
            "mov r1, r0",
            "movs r0, #0",
            "movs r2, #0",
            "movs r4, #0",
            "movs r6, #0",
            "movs r8, #0",
            "movs r10, #0",
            // sp+0 up: zero sums, `x`
            "push {{r0, r1, r2, r4, r6, r8, r10}}",
            "cmp r3, r7",
            "beq 5f",
            "ldr r0, [sp, #32]",
            "add r5, r3, r0",
            "add r7, r5, r0",
            "add r9, r7, r0",
            "add r11, r9, r0",
            "add r12, r11, r0",
            // groups of 6 rows: r3, r5, r7, r9, r11, r12; sums r0, r2, r4, r6, r8, r10
            "2:",
            $($enter6,)*
            "1:",
            $($body6,)*
            concat!($end, " lr, 1b"),
            "ldr lr, [sp, #52]",
            "stmia lr!, {{r0, r2, r4, r6, r8, r10}}",
            "str lr, [sp, #52]",
            "ldrd r0, r2, [sp, #40]",
            "add r3, r3, r0",
            "add r5, r5, r0",
            "add r7, r7, r0",
            "add r9, r9, r0",
            "add r11, r11, r0",
            "add r12, r12, r0",
            "cmp r3, r2",
            "bne 2b",
            // groups of 4 rows: r3, r5, r7, r9; sums r0, r2, r4, r6
            "5:",
            "ldr r10, [sp, #36]",
            "cmp r10, #0",
            "beq 8f",
            "ldr r8, [sp, #32]",
            "add r5, r3, r8",
            "add r7, r5, r8",
            "add r9, r7, r8",
            "ldr r8, [sp, #28]",
            "ldr r12, [sp, #52]",
            "ldr r11, [sp, #48]",
            "3:",
            concat!($start4, " lr, r8"),
            "ldm sp, {{r0, r1, r2, r4, r6}}",
            "4:",
            $($body4,)*
            concat!($end, " lr, 4b"),
            "stmia r12!, {{r0, r2, r4, r6}}",
            "add r3, r3, r11",
            "add r5, r5, r11",
            "add r7, r7, r11",
            "add r9, r9, r11",
            "subs r10, r10, #1",
            "bne 3b",
            "8:",
            "add sp, sp, #56",
            "pop {{r4-r11}}",
            inout("r0") $x => _,
            inout("r1") $w => _,
            inout("r2") $k => _,
            inout("r3") $n => _,
            inout("r12") $sums => _,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
        )
    };
}

/// The sums of the int8 row `x` (`k` bytes) with the even weight rows `n & !1` of `w`
/// (`k` bytes each), stored as i32 to `sums`: groups of 6 rows (per 16 bytes one
/// activation load and 6 `VLDRB` + `VMLADAVA` pairs, 14 instructions for 96
/// multiply-accumulates, 15 around each group), then up to 2 groups of 4 (10 for 64).
/// The tail-predicated loop (`DLSTP.8` / `LETP`) takes any `k`.
///
/// # Safety
/// `k > 0`, `n >= 4`, `x` holds `k` bytes, `w` points at `n * k` readable bytes and `sums`
/// at `n` writable words; the CPU has MVE with the low-overhead-branch extension.
#[inline(always)]
unsafe fn arm_mve_matvec_i8(x: *const i8, w: *const i8, k: usize, n: usize, sums: *mut f32) {
    // SAFETY: per group the loop reads `k` bytes of `x` and of each of its weight rows
    // (the last iteration's lanes past `k` are predicated off) and writes one word per
    // row to `sums`, in bounds by the caller's guarantee. r4-r11 are saved on the stack
    // and restored; below them the asm keeps the frame it reads (sp is restored); the
    // other registers it writes are declared.
    unsafe {
        matvec_asm!(
            x,
            w,
            k,
            n,
            sums,
            ["mov r3, r4", "rsbs r8, r4, #0", "and r8, r8, #15"],
            [
                "ldr r0, [sp, #28]",
                "dlstp.8 lr, r0",
                "ldm sp, {{r0, r1, r2, r4, r6, r8, r10}}"
            ],
            "letp",
            [
                "vldrb.u8 q0, [r1], #16",
                "vldrb.u8 q1, [r3], #16",
                "vmladava.s8 r0, q0, q1",
                "vldrb.u8 q1, [r5], #16",
                "vmladava.s8 r2, q0, q1",
                "vldrb.u8 q1, [r7], #16",
                "vmladava.s8 r4, q0, q1",
                "vldrb.u8 q1, [r9], #16",
                "vmladava.s8 r6, q0, q1",
                "vldrb.u8 q1, [r11], #16",
                "vmladava.s8 r8, q0, q1",
                "vldrb.u8 q1, [r12], #16",
                "vmladava.s8 r10, q0, q1"
            ],
            "dlstp.8",
            [
                "vldrb.u8 q0, [r1], #16",
                "vldrb.u8 q1, [r3], #16",
                "vmladava.s8 r0, q0, q1",
                "vldrb.u8 q1, [r5], #16",
                "vmladava.s8 r2, q0, q1",
                "vldrb.u8 q1, [r7], #16",
                "vmladava.s8 r4, q0, q1",
                "vldrb.u8 q1, [r9], #16",
                "vmladava.s8 r6, q0, q1"
            ]
        );
    }
}

/// [`arm_mve_matvec_i8`] for `k % 64 == 0`: a plain low-overhead loop (`DLS` / `LE`) of
/// `k / 64` iterations, four activation loads shared by the rows (53 instructions for 384
/// multiply-accumulates with 6 rows, 37 for 256 with 4; the group's `LDM` loads the
/// count too).
///
/// # Safety
/// As [`arm_mve_matvec_i8`], with `k % 64 == 0`.
#[inline(always)]
unsafe fn arm_mve_matvec_i8_wide(x: *const i8, w: *const i8, k: usize, n: usize, sums: *mut f32) {
    // SAFETY: per group the loop reads exactly `k` bytes of `x` and of each of its
    // weight rows and writes one word per row to `sums`, in bounds by the caller's
    // guarantee; registers and stack as in `arm_mve_matvec_i8`.
    unsafe {
        matvec_asm!(
            x,
            w,
            k,
            n,
            sums,
            ["lsrs r3, r4, #6", "movs r8, #0"],
            ["ldm sp, {{r0, r1, r2, r4, r6, r8, r10, lr}}", "dls lr, lr"],
            "le",
            [
                "vldrb.u8 q0, [r1], #16",
                "vldrb.u8 q1, [r1], #16",
                "vldrb.u8 q2, [r1], #16",
                "vldrb.u8 q3, [r1], #16",
                "vldrb.u8 q4, [r3], #16",
                "vmladava.s8 r0, q0, q4",
                "vldrb.u8 q4, [r3], #16",
                "vmladava.s8 r0, q1, q4",
                "vldrb.u8 q4, [r3], #16",
                "vmladava.s8 r0, q2, q4",
                "vldrb.u8 q4, [r3], #16",
                "vmladava.s8 r0, q3, q4",
                "vldrb.u8 q4, [r5], #16",
                "vmladava.s8 r2, q0, q4",
                "vldrb.u8 q4, [r5], #16",
                "vmladava.s8 r2, q1, q4",
                "vldrb.u8 q4, [r5], #16",
                "vmladava.s8 r2, q2, q4",
                "vldrb.u8 q4, [r5], #16",
                "vmladava.s8 r2, q3, q4",
                "vldrb.u8 q4, [r7], #16",
                "vmladava.s8 r4, q0, q4",
                "vldrb.u8 q4, [r7], #16",
                "vmladava.s8 r4, q1, q4",
                "vldrb.u8 q4, [r7], #16",
                "vmladava.s8 r4, q2, q4",
                "vldrb.u8 q4, [r7], #16",
                "vmladava.s8 r4, q3, q4",
                "vldrb.u8 q4, [r9], #16",
                "vmladava.s8 r6, q0, q4",
                "vldrb.u8 q4, [r9], #16",
                "vmladava.s8 r6, q1, q4",
                "vldrb.u8 q4, [r9], #16",
                "vmladava.s8 r6, q2, q4",
                "vldrb.u8 q4, [r9], #16",
                "vmladava.s8 r6, q3, q4",
                "vldrb.u8 q4, [r11], #16",
                "vmladava.s8 r8, q0, q4",
                "vldrb.u8 q4, [r11], #16",
                "vmladava.s8 r8, q1, q4",
                "vldrb.u8 q4, [r11], #16",
                "vmladava.s8 r8, q2, q4",
                "vldrb.u8 q4, [r11], #16",
                "vmladava.s8 r8, q3, q4",
                "vldrb.u8 q4, [r12], #16",
                "vmladava.s8 r10, q0, q4",
                "vldrb.u8 q4, [r12], #16",
                "vmladava.s8 r10, q1, q4",
                "vldrb.u8 q4, [r12], #16",
                "vmladava.s8 r10, q2, q4",
                "vldrb.u8 q4, [r12], #16",
                "vmladava.s8 r10, q3, q4"
            ],
            "dls",
            [
                "vldrb.u8 q0, [r1], #16",
                "vldrb.u8 q1, [r1], #16",
                "vldrb.u8 q2, [r1], #16",
                "vldrb.u8 q3, [r1], #16",
                "vldrb.u8 q4, [r3], #16",
                "vmladava.s8 r0, q0, q4",
                "vldrb.u8 q4, [r3], #16",
                "vmladava.s8 r0, q1, q4",
                "vldrb.u8 q4, [r3], #16",
                "vmladava.s8 r0, q2, q4",
                "vldrb.u8 q4, [r3], #16",
                "vmladava.s8 r0, q3, q4",
                "vldrb.u8 q4, [r5], #16",
                "vmladava.s8 r2, q0, q4",
                "vldrb.u8 q4, [r5], #16",
                "vmladava.s8 r2, q1, q4",
                "vldrb.u8 q4, [r5], #16",
                "vmladava.s8 r2, q2, q4",
                "vldrb.u8 q4, [r5], #16",
                "vmladava.s8 r2, q3, q4",
                "vldrb.u8 q4, [r7], #16",
                "vmladava.s8 r4, q0, q4",
                "vldrb.u8 q4, [r7], #16",
                "vmladava.s8 r4, q1, q4",
                "vldrb.u8 q4, [r7], #16",
                "vmladava.s8 r4, q2, q4",
                "vldrb.u8 q4, [r7], #16",
                "vmladava.s8 r4, q3, q4",
                "vldrb.u8 q4, [r9], #16",
                "vmladava.s8 r6, q0, q4",
                "vldrb.u8 q4, [r9], #16",
                "vmladava.s8 r6, q1, q4",
                "vldrb.u8 q4, [r9], #16",
                "vmladava.s8 r6, q2, q4",
                "vldrb.u8 q4, [r9], #16",
                "vmladava.s8 r6, q3, q4"
            ]
        );
    }
}

/// The bits of the least and the largest of the weight scales `scales` (as unsigned words:
/// for non-negative floats their order), in Helium; `Some` where every scale is a positive
/// normal finite float (no zero, subnormal, negative, infinite or NaN scale), the
/// condition under which [`Weights::pair_scales_exact`] may decide a row's scales from the
/// two.
#[inline(never)]
fn scale_range(scales: &[f32]) -> Option<(f32, f32)> {
    let (least, largest): (u32, u32);
    // SAFETY: the tail-predicated loop reads `scales.len()` values of `scales`; it writes
    // only the registers it names (q0-q2 as s0-s11, lr).
    unsafe {
        asm!(
            "vmov.i8 q0, #0xff",
            "vmov.i32 q1, #0",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q2, [{sw}], #16",
            "vmin.u32 q0, q0, q2",
            "vmax.u32 q1, q1, q2",
            "letp lr, 1b",
            "mov {least}, #-1",
            "vminv.u32 {least}, q0",
            "movs {largest}, #0",
            "vmaxv.u32 {largest}, q1",
            n = in(reg) scales.len(),
            sw = inout(reg) scales.as_ptr() => _,
            least = out(reg) least,
            largest = out(reg) largest,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            options(nostack, readonly),
        );
    }
    let normal = f32::MIN_POSITIVE.to_bits();
    (!scales.is_empty() && least >= normal && largest < f32::INFINITY.to_bits())
        .then(|| (f32::from_bits(least), f32::from_bits(largest)))
}

/// `dequantize(sum, sx, sw, b)` of two rows' i32 sums `y0`, `y1` (`n` each, scales `sx0`,
/// `sx1`), in place, in Helium, one load of the weight scales and biases for both rows
/// (per 4 columns 6 loads and stores, 12 arithmetic instructions); returns whether both
/// rows are provably what the scalar FPU computes, given that every product `sx * sw`
/// lies in `[2^-96, inf)` (the caller's [`Weights::pair_scales_exact`]): as in
/// [`arm_mve_dequantize`], with one running sum and one least `|y|` over both rows (a NaN
/// or zero output in either sends both to the scalar epilogue). `bias` is null or points
/// at `n` values; on `false` the rows hold garbage and the caller computes the sums again.
///
/// # Safety
/// `y0` and `y1` point at `n` words each, `scales` at `n` readable values, `bias` is null
/// or points at `n`; the CPU has MVE with the low-overhead-branch extension.
unsafe fn arm_mve_dequantize_pair(
    y0: *mut f32,
    y1: *mut f32,
    n: usize,
    sx: [f32; 2],
    scales: *const f32,
    bias: *const f32,
) -> bool {
    if bias.is_null() {
        // SAFETY: the tail-predicated loop reads and writes `n` values at `y0` and `y1`
        // and reads `n` scales, in bounds by the caller's guarantee; it writes only the
        // registers it names (q0-q3 as s0-s15, lr).
        unsafe {
            asm!(
                "dlstp.32 lr, {n}",
                "1:",
                "vldrw.u32 q0, [{sw}], #16",
                "vmul.f32 q1, q0, {sx0}",
                "vldrw.u32 q2, [{y0}]",
                "vmul.f32 q0, q0, {sx1}",
                "vldrw.u32 q3, [{y1}]",
                "vcvt.f32.s32 q2, q2",
                "vcvt.f32.s32 q3, q3",
                "vmul.f32 q2, q2, q1",
                "vstrw.32 q2, [{y0}], #16",
                "vmul.f32 q3, q3, q0",
                "vstrw.32 q3, [{y1}], #16",
                "letp lr, 1b",
                n = in(reg) n,
                y0 = inout(reg) y0 => _,
                y1 = inout(reg) y1 => _,
                sw = inout(reg) scales => _,
                sx0 = in(reg) sx[0].to_bits(),
                sx1 = in(reg) sx[1].to_bits(),
                out("lr") _,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _,
                out("s4") _, out("s5") _, out("s6") _, out("s7") _,
                out("s8") _, out("s9") _, out("s10") _, out("s11") _,
                out("s12") _, out("s13") _, out("s14") _, out("s15") _,
                options(nostack),
            );
        }
        // with scales in range `y = p + 0.0 = p`, never NaN
        return true;
    }
    let (doubled_sum, least_abs): (u32, u32);
    // SAFETY: as above, with `n` biases read; q4-q6 (s16-s27) too.
    unsafe {
        asm!(
            "vmov.i32 q5, #0",
            "vmov.i32 q6, #0x7f000000",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{sw}], #16",
            "vmul.f32 q1, q0, {sx0}",
            "vldrw.u32 q4, [{b}], #16",
            "vmul.f32 q0, q0, {sx1}",
            "vldrw.u32 q2, [{y0}]",
            "vcvt.f32.s32 q2, q2",
            "vldrw.u32 q3, [{y1}]",
            "vmul.f32 q2, q2, q1",
            "vcvt.f32.s32 q3, q3",
            "vadd.f32 q2, q2, q4",
            "vstrw.32 q2, [{y0}], #16",
            "vmul.f32 q3, q3, q0",
            "vadd.f32 q3, q3, q4",
            "vstrw.32 q3, [{y1}], #16",
            "vadd.f32 q5, q5, q2",
            "vminnma.f32 q6, q2",
            "vadd.f32 q5, q5, q3",
            "vminnma.f32 q6, q3",
            "letp lr, 1b",
            "vshl.i32 q5, q5, #1",
            "movs {sum}, #0",
            "vmaxv.u32 {sum}, q5",
            "mov {least_abs}, #0x7f000000",
            "vminnmav.f32 {least_abs}, q6",
            n = in(reg) n,
            y0 = inout(reg) y0 => _,
            y1 = inout(reg) y1 => _,
            sw = inout(reg) scales => _,
            b = inout(reg) bias => _,
            sx0 = in(reg) sx[0].to_bits(),
            sx1 = in(reg) sx[1].to_bits(),
            sum = lateout(reg) doubled_sum,
            least_abs = lateout(reg) least_abs,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            out("s24") _, out("s25") _, out("s26") _, out("s27") _,
            options(nostack),
        );
    }
    // no NaN output (doubled bits above those of infinity), no zero (or flushed) output
    doubled_sum <= 0xff00_0000 && least_abs != 0
}

/// `2^-96`, as bits: the least scale `sx * sw` the Helium epilogue takes.
const LEAST_SCALE_BITS: u32 = 0x0f80_0000;

/// `dequantize(sum, sx, sw, b)` of the `n = y_row.len()` i32 sums in `y_row`, in place, in
/// Helium (`VCVT`, `VMUL` by `sx * sw`, `VADD` of the bias; 4 outputs per iteration,
/// tail-predicated), when that is provably what the scalar FPU computes; returns whether
/// it was. Helium flushes subnormal inputs and results to zero and gives the default NaN;
/// the IEEE operations agree otherwise. With every scale `s = sx * sw` in `[2^-96, inf)`,
/// a product `p = sum * s` is 0 or at least `2^-96`, so it is exact as is, and `p + b`
/// can only differ where `p = 0` and `b` is subnormal (Helium gives 0; a nonzero `p`
/// absorbs a subnormal `b` whole: `|b| < 2^-126` is below half its ulp); `p + b` is never
/// subnormal when `p != 0` (`|b| < |p| / 2` leaves at least `2^-97`; otherwise both are
/// multiples of `2^-124`). So the loop records the largest `bits(s) - bits(2^-96)`
/// (unsigned: scales below the range wrap above it, NaN and infinity are above it) and,
/// with a bias, a running sum of the outputs (NaN if any is NaN: a NaN bias keeps its
/// payload on the FPU) and the least `|y|` (0 where an output is 0 or was flushed).
/// Without a bias `y = p + 0.0 = p` (`p` is never -0 with `s > 0`) and, with finite
/// scales, never NaN. `bias` is null or points at `n` values; on `false` `y_row` holds
/// garbage and the caller computes the sums again.
///
/// # Safety
/// `scales` points at `n` readable values, `bias` is null or points at `n`; the CPU has
/// MVE with the low-overhead-branch extension.
#[inline(always)]
unsafe fn arm_mve_dequantize(
    y_row: &mut [f32],
    sx: f32,
    scales: *const f32,
    bias: *const f32,
) -> bool {
    let n = y_row.len();
    /// Scales in `[2^-96, inf)`: `bits(s) - bits(2^-96)` below this.
    const SCALE_EXCESS_LIMIT: u32 = 0x7f80_0000 - LEAST_SCALE_BITS;
    let scale_excess: u32;
    if bias.is_null() {
        // SAFETY: the tail-predicated loop reads and writes `n` values of `y_row` and
        // reads `n` scales, in bounds by the caller's guarantee; it writes only the
        // registers it names (q0-q2, q6 as s0-s11, s24-s27, lr).
        unsafe {
            asm!(
                "vmov.i32 q6, #0",
                "dlstp.32 lr, {n}",
                "1:",
                "vldrw.u32 q0, [{y}]",
                "vldrw.u32 q1, [{sw}], #16",
                "vcvt.f32.s32 q0, q0",
                "vmul.f32 q1, q1, {sx}",
                "vmul.f32 q0, q0, q1",
                "vsub.i32 q2, q1, {least}",
                "vmax.u32 q6, q6, q2",
                "vstrw.32 q0, [{y}], #16",
                "letp lr, 1b",
                "movs {excess}, #0",
                "vmaxv.u32 {excess}, q6",
                n = in(reg) n,
                y = inout(reg) y_row.as_mut_ptr() => _,
                sw = inout(reg) scales => _,
                sx = in(reg) sx.to_bits(),
                least = in(reg) LEAST_SCALE_BITS,
                excess = out(reg) scale_excess,
                out("lr") _,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _,
                out("s4") _, out("s5") _, out("s6") _, out("s7") _,
                out("s8") _, out("s9") _, out("s10") _, out("s11") _,
                out("s24") _, out("s25") _, out("s26") _, out("s27") _,
                options(nostack),
            );
        }
        // finite scales give finite or infinite products, never NaN, and no zero needs
        // a check
        return scale_excess < SCALE_EXCESS_LIMIT;
    }
    {
        let (doubled_sum, least_abs): (u32, u32);
        // SAFETY: as above, with `n` biases read; q5 and q7 (s20-s23, s28-s31) too.
        unsafe {
            asm!(
                "vmov.i32 q5, #0x7f000000",
                "vmov.i32 q6, #0",
                "vmov.i32 q7, #0",
                "dlstp.32 lr, {n}",
                "1:",
                "vldrw.u32 q0, [{y}]",
                "vldrw.u32 q1, [{sw}], #16",
                "vcvt.f32.s32 q0, q0",
                "vmul.f32 q1, q1, {sx}",
                "vldrw.u32 q2, [{b}], #16",
                "vmul.f32 q0, q0, q1",
                "vadd.f32 q0, q0, q2",
                "vsub.i32 q2, q1, {least}",
                "vmax.u32 q6, q6, q2",
                "vadd.f32 q7, q7, q0",
                "vminnma.f32 q5, q0",
                "vstrw.32 q0, [{y}], #16",
                "letp lr, 1b",
                "movs {excess}, #0",
                "vmaxv.u32 {excess}, q6",
                "vshl.i32 q7, q7, #1",
                "movs {sum}, #0",
                "vmaxv.u32 {sum}, q7",
                "mov {least_abs}, #0x7f000000",
                "vminnmav.f32 {least_abs}, q5",
                n = in(reg) n,
                y = inout(reg) y_row.as_mut_ptr() => _,
                sw = inout(reg) scales => _,
                b = inout(reg) bias => _,
                sx = in(reg) sx.to_bits(),
                least = in(reg) LEAST_SCALE_BITS,
                excess = out(reg) scale_excess,
                sum = out(reg) doubled_sum,
                least_abs = out(reg) least_abs,
                out("lr") _,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _,
                out("s4") _, out("s5") _, out("s6") _, out("s7") _,
                out("s8") _, out("s9") _, out("s10") _, out("s11") _,
                out("s20") _, out("s21") _, out("s22") _, out("s23") _,
                out("s24") _, out("s25") _, out("s26") _, out("s27") _,
                out("s28") _, out("s29") _, out("s30") _, out("s31") _,
                options(nostack),
            );
        }
        // scales in range, no NaN output (doubled bits above those of infinity), no zero
        // (or flushed) output
        scale_excess < SCALE_EXCESS_LIMIT && doubled_sum <= 0xff00_0000 && least_abs != 0
    }
}

/// Where one key/value head's `dk` values lie in `rows` cached int8 rows of `cache`
/// (`docs/spec.md`, "int8 key/value cache"): `Some(row_bytes)` where every row's values
/// and scale word lie inside `cache` and the head's values inside the value words
/// (`None` otherwise: the caller takes the reference).
fn cache_head_fits(cache: &[u32], at: CacheHead, rows: usize) -> Option<usize> {
    let values_end = at.head.checked_add(1)?.checked_mul(at.dk)?;
    let last_scale = rows
        .checked_sub(1)?
        .checked_mul(at.row_words)?
        .checked_add(at.value_words)?
        .checked_add(at.head)?;
    let fits = at.dk > 0
        && at.dk <= 512
        && values_end <= at.value_words.checked_mul(4)?
        && at.value_words.checked_add(at.head)? < at.row_words
        && last_scale < cache.len();
    if fits {
        at.row_words.checked_mul(4)
    } else {
        None
    }
}

/// [`head_scores`] in Helium: the query's int8 values (step 1's) packed four to a word
/// in place (the reference's `query` is not read again), each key's integer dot by
/// `VMLADAVA.S8` over the key bytes, four keys a pass (16 products an instruction; exact
/// in i32 for `dk <= 512`), then the reference's float step per key. `None` (query untouched) where the shape is not one the loop reads in bounds.
fn cache_scores_mve(
    query: &mut [f32],
    sq: f32,
    keys: &[u32],
    at: CacheHead,
    scores: &mut [f32],
) -> Option<f32> {
    let rows = scores.len();
    let dk = at.dk;
    let row_bytes = cache_head_fits(keys, at, rows)?;
    if query.len() < dk {
        return None;
    }
    // Word i takes values 4i to 4i + 3 (the low byte of each: its int8), all read before
    // it is written (i <= 4i).
    for i in 0..dk.div_ceil(4) {
        let value = |c: usize| query.get(c).map_or(0, |v| v.to_bits() as u8);
        let bytes = [
            value(4 * i),
            value(4 * i + 1),
            value(4 * i + 2),
            value(4 * i + 3),
        ];
        if let Some(slot) = query.get_mut(i) {
            *slot = f32::from_bits(u32::from_le_bytes(bytes));
        }
    }
    let first = at.head * dk; // in bounds: cache_head_fits
    let mut largest = f32::NEG_INFINITY;
    let mut dots = [0i32; 4];
    for (j, s) in scores.iter_mut().enumerate() {
        if j % 4 == 0 {
            let key = |r: usize| {
                // SAFETY: (of the `add`) key rows `< rows` lie inside `keys`
                // (cache_head_fits); a row past the last repeats it (its dot unused).
                unsafe {
                    keys.as_ptr()
                        .cast::<i8>()
                        .add(r.min(rows - 1) * row_bytes + first)
                }
            };
            // SAFETY: the four key pointers each lead to the head's `dk` bytes inside
            // `keys`, the packed query to `dk` bytes inside `query` (`query.len() >= dk`
            // words); `0 < dk`; the target has MVE (build.rs).
            dots = unsafe {
                arm_mve_dots8_x4(
                    query.as_ptr().cast::<i8>(),
                    [key(j), key(j + 1), key(j + 2), key(j + 3)],
                    dk,
                )
            };
        }
        let dot = dots.get(j % 4).copied().unwrap_or(0);
        let sk = keys
            .get(j * at.row_words + at.value_words + at.head)
            .copied()
            .unwrap_or(0);
        *s = dot as f32 * (sq * f32::from_bits(sk));
        if *s > largest {
            largest = *s;
        }
    }
    Some(largest)
}

/// `sum_c q[c] * k[r][c]` for four key rows `k[r]` over `n` int8 `q` and int8 key
/// values, exact in i32 for `n <= 2^17`: per 16 values one query load, four key loads and
/// four `VMLADAVA.S8`.
///
/// # Safety
/// `n > 0`; `q` and each `k[r]` must point to `n` readable bytes; the CPU must have MVE
/// with the low-overhead-branch extension.
#[inline(never)]
unsafe fn arm_mve_dots8_x4(q: *const i8, k: [*const i8; 4], n: usize) -> [i32; 4] {
    let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
    // SAFETY: the tail-predicated loop reads exactly `n` bytes from `q` and from each
    // `k[r]` (the caller's guarantee); it writes only the registers it names (q0, q1 as
    // s0-s7) and not the stack.
    unsafe {
        asm!(
            "dlstp.8 lr, {n}",
            "1:",
            "vldrb.u8 q0, [{q}], #16",
            "vldrb.u8 q1, [r1], #16",
            "vmladava.s8 r0, q0, q1",
            "vldrb.u8 q1, [r2], #16",
            "vmladava.s8 r8, q0, q1",
            "vldrb.u8 q1, [r3], #16",
            "vmladava.s8 r10, q0, q1",
            "vldrb.u8 q1, [r4], #16",
            "vmladava.s8 r12, q0, q1",
            "letp lr, 1b",
            n = in(reg) n,
            q = inout(reg) q => _,
            inout("r1") k[0] => _,
            inout("r2") k[1] => _,
            inout("r3") k[2] => _,
            inout("r4") k[3] => _,
            inout("r0") a0,
            inout("r8") a1,
            inout("r10") a2,
            inout("r12") a3,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            options(nostack, readonly),
        );
    }
    [a0, a1, a2, a3]
}

/// `sum_c q[c] * k[r][c]` for four rows `k[r]` over `n` int16 `q` (step 5's weights) and
/// int8 values, wrapping in i32: per 8 values one `q` load, four widened row loads and
/// four `VMLADAVA.S16`.
///
/// # Safety
/// `n > 0`; `q` must point to `n` readable halfwords (2-byte aligned) and each `k[r]` to
/// `n` readable bytes; the CPU must have MVE with the low-overhead-branch extension.
#[inline(never)]
unsafe fn arm_mve_dots_i16_i8_x4(q: *const i16, k: [*const i8; 4], n: usize) -> [i32; 4] {
    let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
    // SAFETY: the tail-predicated loop reads exactly `n` halfwords from `q` and `n` bytes
    // from each `k[r]` (the caller's guarantee); it writes only the registers it names
    // (q0, q1 as s0-s7) and not the stack.
    unsafe {
        asm!(
            "dlstp.16 lr, {n}",
            "1:",
            "vldrh.s16 q0, [{q}], #16",
            "vldrb.s16 q1, [r1], #8",
            "vmladava.s16 r0, q0, q1",
            "vldrb.s16 q1, [r2], #8",
            "vmladava.s16 r8, q0, q1",
            "vldrb.s16 q1, [r3], #8",
            "vmladava.s16 r10, q0, q1",
            "vldrb.s16 q1, [r4], #8",
            "vmladava.s16 r12, q0, q1",
            "letp lr, 1b",
            n = in(reg) n,
            q = inout(reg) q => _,
            // (a widening load's base is a low register)
            inout("r1") k[0] => _,
            inout("r2") k[1] => _,
            inout("r3") k[2] => _,
            inout("r4") k[3] => _,
            inout("r0") a0,
            inout("r8") a1,
            inout("r10") a2,
            inout("r12") a3,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            options(nostack, readonly),
        );
    }
    [a0, a1, a2, a3]
}

/// Keys per i32 block of [`cache_weighted_sum_mve`]: `512 * 32767 * 128 < 2^31`, so a
/// block's sums are exact in i32 before they join the i64 sums.
const WEIGHT_BLOCK: usize = 512;

/// [`head_weighted_sum`] in Helium for heads of a multiple of 16 values: 16 output
/// columns at a time in four i32 vectors, per key one weight and four `VLDRB.S32` +
/// `VMLA.S32` (vector times the key's weight), blocks of [`WEIGHT_BLOCK`] keys added into
/// i64 sums (exact: any order gives the reference's sums), then the reference's float
/// step. `None` where the shape is not that.
fn cache_weighted_sum_mve(
    weights: &[f32],
    values: &[u32],
    at: CacheHead,
    factor: f32,
    out: &mut [f32],
) -> Option<()> {
    let rows = weights.len();
    let dk = at.dk;
    let row_bytes = cache_head_fits(values, at, rows)?;
    if !dk.is_multiple_of(16) || out.len() < dk {
        return None;
    }
    let first = at.head * dk;
    for (block, out) in out.chunks_exact_mut(16).take(dk / 16).enumerate() {
        let mut sums = [0i64; 16];
        for start in (0..rows).step_by(WEIGHT_BLOCK) {
            let n = WEIGHT_BLOCK.min(rows - start);
            let mut partial = [0i32; 16];
            // SAFETY: keys `start..start + n` (`< rows`) hold the head's columns `16 *
            // block..+16` at `j * row_bytes + first + 16 * block` inside `values`
            // (cache_head_fits, `dk` a multiple of 16), `weights` holds `n` words from
            // `start`; `n > 0`; the target has MVE.
            unsafe {
                arm_mve_weighted_columns16(
                    weights.as_ptr().add(start).cast::<i32>(),
                    values
                        .as_ptr()
                        .cast::<i8>()
                        .add(start * row_bytes + first + 16 * block),
                    row_bytes,
                    n,
                    &mut partial,
                );
            }
            for (sum, &p) in sums.iter_mut().zip(&partial) {
                *sum += i64::from(p);
            }
        }
        for (o, &sum) in out.iter_mut().zip(&sums) {
            *o = sum as f32 * factor;
        }
    }
    Some(())
}

/// `sums[c] = sum_j w[j] * v[j * stride + c]` for 16 columns and `n` keys, in i32.
///
/// # Safety
/// `n > 0`; `w` must point to `n` readable words, and `v + j * stride` to 16 readable
/// bytes for every `j < n`; the CPU must have MVE.
#[inline(never)]
unsafe fn arm_mve_weighted_columns16(
    w: *const i32,
    v: *const i8,
    stride: usize,
    n: usize,
    sums: &mut [i32; 16],
) {
    // SAFETY: the loop reads `n` words from `w` and 16 bytes at each of the `n` rows of
    // `v` (the caller's guarantee), writes the 64 bytes of `sums`, and only the registers
    // it names (q0-q7 as s0-s31).
    unsafe {
        asm!(
            "vmov.i32 q0, #0",
            "vmov.i32 q1, #0",
            "vmov.i32 q2, #0",
            "vmov.i32 q3, #0",
            "2:",
            "ldr {wj}, [{w}], #4",
            "vldrb.s32 q4, [{v}]",
            "vldrb.s32 q5, [{v}, #4]",
            "vldrb.s32 q6, [{v}, #8]",
            "vldrb.s32 q7, [{v}, #12]",
            "add {v}, {v}, {stride}",
            "vmla.s32 q0, q4, {wj}",
            "vmla.s32 q1, q5, {wj}",
            "vmla.s32 q2, q6, {wj}",
            "vmla.s32 q3, q7, {wj}",
            "subs {n}, {n}, #1",
            "bne 2b",
            "vstrw.32 q0, [{s}]",
            "vstrw.32 q1, [{s}, #16]",
            "vstrw.32 q2, [{s}, #32]",
            "vstrw.32 q3, [{s}, #48]",
            w = inout(reg) w => _,
            v = inout(reg) v => _,
            stride = in(reg) stride,
            n = inout(reg) n => _,
            wj = out(reg) _,
            s = in(reg) sums.as_mut_ptr(),
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

/// Widest head of [`all_head_mve`] (its int8 query lies on the stack).
const ALL_DK_MAX: usize = 128;

/// Smallest `W / max(1, max sv_j)` with which [`all_head_mve`]'s flushed weights cannot
/// change an int16 weight: a weight Helium flushes (a subnormal product, or a subnormal
/// `p_j` times `sv_j`) is below `2^-126 max(1, sv_j)`, so below `2^-109 W / 32767`, and
/// rounds to 0 as the reference's does.
const ALL_W_FLOOR: f32 = f32::from_bits(27 << 23); // 2^-100 (biased exponent 27)

/// [`all_head`] in Helium for heads of a multiple of 16 values up to [`ALL_DK_MAX`]:
/// step 2's dots by `VMLADAVA.S8` ([`all_dots`]), their float step (`VCVT`, two
/// `VMUL`, `VMAXNM`) four keys an instruction; step 3's exponentials by
/// [`exp_i8_minus_max_mve`], their sum in position order by scalar `VADD`s and step 4's
/// weights (`VMUL`, `VMAXNM`) in one pass; the weights' int16 rounding four an instruction; step
/// 5's sums over the transposed values by `VMLADAVA.S16`, eight keys and four columns a
/// pass, in i32 blocks of [`WEIGHT_BLOCK`] keys. The same operations and roundings as the
/// reference; Helium flushes subnormal inputs and results to zero, so it declines
/// (`None`, `query` untouched) where that could change a bit: a query scale `sq` or a
/// product `sq * sk_j` that is not normal (zero keys included), and weights below
/// [`ALL_W_FLOOR`]; also where any check of the reference would zero the head.
fn all_head_mve(query: &mut [f32], sq: f32, head: AllHead, scores: &mut [f32]) -> Option<()> {
    let (rows, dk) = (head.rows, head.dk);
    let stride = all_stride(rows);
    let fits = rows > 0
        && dk > 0
        && dk <= ALL_DK_MAX
        && dk.is_multiple_of(16)
        && query.len() >= dk
        && scores.len() >= rows
        && head.keys.len() >= rows.checked_mul(dk)?
        && head.values.len() >= dk.checked_mul(stride)?
        && head.key_scales.len() >= rows
        && head.value_scales.len() >= rows;
    if !fits || !(f32::MIN_POSITIVE..=f32::MAX).contains(&sq) {
        return None;
    }
    let scores = scores.get_mut(..rows)?;
    let mut qq = [0i8; ALL_DK_MAX];
    for (q, v) in qq.iter_mut().zip(query.iter()) {
        *q = v.to_bits() as i8; // step 1's int8 value (its i32 bits' low byte)
    }
    // 2. the dots, as i32 bits in `scores`
    all_dots(qq.get(..dk)?, head, scores)?;
    // their float step and maximum; the smallest key scale
    // SAFETY: `scores` and `key_scales` hold `rows` floats; the target has MVE.
    let (largest, sk_min) =
        unsafe { arm_mve_all_scale(scores.as_mut_ptr(), head.key_scales.as_ptr(), sq, rows) };
    // not normal (or NaN): a flush could change a bit
    let smallest_scale = sk_min * sq;
    if largest == f32::NEG_INFINITY || smallest_scale.is_nan() || smallest_scale < f32::MIN_POSITIVE
    {
        return None;
    }
    // 3. the exponentials (the scalar `exp_i8`'s bits for every score)
    exp_i8_minus_max_mve(scores, largest);
    // their sum in position order; 4. the weights and their maximum
    let whole = rows - rows % 4;
    let (mut sum, mut w_max, mut sv_max) = (0.0f32, 0.0f32, 0.0f32);
    if whole > 0 {
        // SAFETY: `scores` and `value_scales` hold `rows >= whole` floats, `whole` a
        // positive multiple of 4; the target has MVE.
        (sum, w_max, sv_max) =
            unsafe { arm_mve_all_weights(scores.as_mut_ptr(), head.value_scales.as_ptr(), whole) };
    }
    let rest = scores.iter_mut().zip(head.value_scales).skip(whole);
    for (s, &sv) in rest {
        let p = *s;
        sum += p;
        *s = p * sv;
        if *s > w_max {
            w_max = *s;
        }
        sv_max = sv_max.max(sv);
    }
    let floor = ALL_W_FLOOR * sv_max.max(1.0);
    if !(w_max.is_finite() && w_max >= floor && sum > 0.0) {
        return None;
    }
    let inv = crate::generic::attention_i8::WEIGHT_MAX / w_max;
    let factor = (w_max / crate::generic::attention_i8::WEIGHT_MAX) / sum;
    // the int16 weights, packed from the start of `scores`
    // SAFETY: `scores` holds `rows > 0` floats, read as floats and rewritten as
    // halfwords from its start (never past what was read); the target has MVE.
    unsafe { arm_mve_all_round(scores.as_mut_ptr(), inv, rows) };
    let weights = scores.as_ptr().cast::<i16>();
    // 5. the weighted sums, four columns a call, i32 blocks added in i64
    let values = head.values.as_ptr();
    for (c, out) in (0..dk).step_by(4).zip(query.chunks_exact_mut(4)) {
        let mut sums = [0i64; 4];
        for start in (0..rows).step_by(WEIGHT_BLOCK) {
            let n = WEIGHT_BLOCK.min(rows - start);
            let whole = n - n % 16;
            // SAFETY: (of the `add`) column `c + r < dk` holds `rows >= start + n`
            // values from `(c + r) * stride` inside `head.values` (checked above)
            let column = unsafe { values.add(c * stride + start) };
            let mut part = [0i32; 4];
            if whole > 0 {
                // SAFETY: `whole` weights from `start` (halfwords of `scores`, aligned)
                // and `whole` values of each of the four columns, `stride` apart; `part`
                // holds 4 words; the target has MVE.
                unsafe {
                    arm_mve_dots16_strided_x4(
                        weights.add(start),
                        column,
                        stride,
                        whole / 16,
                        part.as_mut_ptr(),
                    )
                };
            }
            if whole < n {
                // SAFETY: the `n - whole > 0` weights and values after the first `whole`
                let tail = unsafe {
                    let at = |r: usize| column.add(r * stride + whole);
                    arm_mve_dots_i16_i8_x4(
                        weights.add(start + whole),
                        [at(0), at(1), at(2), at(3)],
                        n - whole,
                    )
                };
                for (p, &t) in part.iter_mut().zip(&tail) {
                    *p = p.wrapping_add(t);
                }
            }
            for (sum, &p) in sums.iter_mut().zip(&part) {
                *sum += i64::from(p);
            }
        }
        for (o, &sum) in out.iter_mut().zip(&sums) {
            // (an i32 converts in one `VCVT`, an i64 in a library call; the same value
            // rounds to the same float either way)
            let sum = match i32::try_from(sum) {
                Ok(small) => small as f32,
                Err(_) => i64_to_f32(sum),
            };
            *o = sum * factor;
        }
    }
    Some(())
}

/// `x as f32` out of line: left inline, the compiler computes it (a library call) beside
/// the i32 conversion and selects, for every sum.
#[cold]
#[inline(never)]
fn i64_to_f32(x: i64) -> f32 {
    x as f32
}

/// Step 2's float step over `n > 0` dots (i32 bits in `s`): `s_j = (dot_j as f32) * (sq
/// * sk_j)`, four an instruction; returns the largest score (`VMAXNM`: NaN ignored, as the
/// reference's `>`) and the smallest key scale (subnormals flushed to 0).
///
/// # Safety
/// `s` and `sk` point to `n > 0` floats; the CPU must have MVE with floating point.
#[inline(never)]
unsafe fn arm_mve_all_scale(s: *mut f32, sk: *const f32, sq: f32, n: usize) -> (f32, f32) {
    let mut out = [0.0f32; 8];
    // SAFETY: the tail-predicated loop reads `n` floats of `sk` and reads and rewrites
    // `n` of `s` (the caller's guarantee); 32 bytes are stored to `out`; inactive lanes
    // of the last iteration keep their value; only the named registers are written.
    unsafe {
        asm!(
            "vdup.32 q2, {ninf}",
            "vdup.32 q3, {pinf}",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q1, [{sk}], #16",
            "vldrw.u32 q0, [{s}]",
            "vminnm.f32 q3, q3, q1",
            "vcvt.f32.s32 q0, q0",
            "vmul.f32 q1, q1, {sq}",
            "vmul.f32 q0, q0, q1",
            "vmaxnm.f32 q2, q2, q0",
            "vstrw.32 q0, [{s}], #16",
            "letp lr, 1b",
            "vstrw.32 q2, [{out}]",
            "vstrw.32 q3, [{out}, #16]",
            s = inout(reg) s => _,
            sk = inout(reg) sk => _,
            sq = in(reg) sq.to_bits(),
            n = in(reg) n,
            ninf = in(reg) f32::NEG_INFINITY.to_bits(),
            pinf = in(reg) f32::INFINITY.to_bits(),
            out = in(reg) out.as_mut_ptr(),
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            options(nostack),
        );
    }
    let (mut largest, mut smallest) = (f32::NEG_INFINITY, f32::INFINITY);
    for (&m, &k) in out.iter().zip(out.iter().skip(4)) {
        // (lane by lane; a NaN lane never wins, as in the loop)
        if m > largest {
            largest = m;
        }
        if k < smallest {
            smallest = k;
        }
    }
    (largest, smallest)
}

/// Steps 3-4 over `n` exponentials (`n` a positive multiple of 4): their sum in position
/// order (scalar `VADD`s on the loaded lanes: the reference's additions), `p_j * sv_j`
/// stored back, and the largest weight and value scale (`VMAXNM`, from +0).
///
/// # Safety
/// `p` and `sv` point to `n` floats, `n > 0` a multiple of 4; the CPU must have MVE with
/// floating point.
#[inline(never)]
unsafe fn arm_mve_all_weights(p: *mut f32, sv: *const f32, n: usize) -> (f32, f32, f32) {
    let mut out = [0.0f32; 8];
    let mut sum = 0.0f32;
    // SAFETY: the loop of `n / 4` passes reads `n` floats of `sv`, reads and rewrites `n`
    // of `p` (the caller's guarantee); 32 bytes are stored to `out`; only the named
    // registers are written.
    unsafe {
        asm!(
            "vmov.i32 q2, #0",
            "vmov.i32 q3, #0",
            "dls lr, {passes}",
            "1:",
            "vldrw.u32 q0, [{p}]",
            "vldrw.u32 q1, [{sv}], #16",
            "vadd.f32 s28, s28, s0",
            "vadd.f32 s28, s28, s1",
            "vadd.f32 s28, s28, s2",
            "vadd.f32 s28, s28, s3",
            "vmul.f32 q0, q0, q1",
            "vmaxnm.f32 q3, q3, q1",
            "vmaxnm.f32 q2, q2, q0",
            "vstrw.32 q0, [{p}], #16",
            "le lr, 1b",
            "vstrw.32 q2, [{out}]",
            "vstrw.32 q3, [{out}, #16]",
            p = inout(reg) p => _,
            sv = inout(reg) sv => _,
            passes = in(reg) n / 4,
            out = in(reg) out.as_mut_ptr(),
            inout("s28") sum,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            options(nostack),
        );
    }
    let (mut w_max, mut sv_max) = (0.0f32, 0.0f32);
    for (&w, &v) in out.iter().zip(out.iter().skip(4)) {
        if w > w_max {
            w_max = w;
        }
        sv_max = sv_max.max(v);
    }
    (sum, w_max, sv_max)
}

/// Step 4's rounding of `n > 0` weights in place: `qw_j = ((w_j * inv + 0.5) as i32)
/// .clamp(0, 32767)` (`VCVT` truncates and saturates, NaN gives 0, as `as i32`), stored
/// as int16 from the start of `w`.
///
/// # Safety
/// `w` points to `n > 0` floats; the CPU must have MVE with floating point.
#[inline(never)]
unsafe fn arm_mve_all_round(w: *mut f32, inv: f32, n: usize) {
    // SAFETY: the tail-predicated loop reads `n` floats of `w` and writes `n` halfwords
    // from its start, each after the floats it overwrites were read; only the named
    // registers are written.
    unsafe {
        asm!(
            "vdup.32 q2, {max}",
            "vmov.i32 q3, #0",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{w}], #16",
            "vmul.f32 q0, q0, {inv}",
            "vadd.f32 q0, q0, {half}",
            "vcvt.s32.f32 q0, q0",
            "vmin.s32 q0, q0, q2",
            "vmax.s32 q0, q0, q3",
            "vstrh.32 q0, [{o}], #8",
            "letp lr, 1b",
            w = inout(reg) w => _,
            o = inout(reg) w => _,
            inv = in(reg) inv.to_bits(),
            half = in(reg) 0.5f32.to_bits(),
            max = in(reg) 32767u32,
            n = in(reg) n,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            options(nostack),
        );
    }
}

/// [`arm_mve_all_round`] where no clamp can act: for weights `w_j` NaN or in `[-0,
/// w_max]` and `inv = 32767 / w_max` (`w_max` finite, at least `ALL_W_FLOOR`: `inv`
/// finite), `w_j * inv + 0.5` is NaN (`VCVT` gives 0) or in `[0.5, 32767.51]` (two
/// roundings up of at most `2^-24` each), so `VCVT`'s truncation is already in `0..=32767`:
/// the same int16 weights without the `VMIN` and `VMAX`.
///
/// # Safety
/// `w` points to `n > 0` floats, each NaN or in `[-0, 32767 / inv]`; the CPU must have MVE
/// with floating point.
#[inline(never)]
unsafe fn arm_mve_pair_round(w: *mut f32, inv: f32, n: usize) {
    // SAFETY: the tail-predicated loop reads `n` floats of `w` and writes `n` halfwords
    // from its start, each after the floats it overwrites were read; only the named
    // registers are written.
    unsafe {
        asm!(
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{w}], #16",
            "vmul.f32 q0, q0, {inv}",
            "vadd.f32 q0, q0, {half}",
            "vcvt.s32.f32 q0, q0",
            "vstrh.32 q0, [{o}], #8",
            "letp lr, 1b",
            w = inout(reg) w => _,
            o = inout(reg) w => _,
            inv = in(reg) inv.to_bits(),
            half = in(reg) 0.5f32.to_bits(),
            n = in(reg) n,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            options(nostack),
        );
    }
}

/// `sum_c q[c] * k[r][c]` over `16 * passes` int16 `q` (step 5's weights) and four int8
/// rows `k[r]` `stride` bytes apart from `k`, wrapping in i32, 16 values a pass (per 8 one
/// `q` load, four widened row loads and four `VMLADAVA.S16`), the sums stored to `out`.
///
/// # Safety
/// `passes > 0`; `q` must point to `16 * passes` readable halfwords (2-byte aligned),
/// `k + r * stride` to `16 * passes` readable bytes for `r < 4`, `out` to 4 writable
/// words; the CPU must have MVE with the low-overhead-branch extension.
#[inline(never)]
unsafe fn arm_mve_dots16_strided_x4(
    q: *const i16,
    k: *const i8,
    stride: usize,
    passes: usize,
    out: *mut i32,
) {
    // SAFETY: the loop reads exactly `16 * passes` halfwords from `q` and as many bytes
    // from each row (the caller's guarantee), stores 4 words to `out`; it writes only
    // the registers it names (q0-q3 as s0-s15) and not the stack.
    unsafe {
        asm!(
            "add r2, r1, {stride}",
            "add r3, r2, {stride}",
            "add r4, r3, {stride}",
            "movs r0, #0",
            "mov r8, r0",
            "mov r10, r0",
            "mov r12, r0",
            "dls lr, {n}",
            "1:",
            "vldrh.s16 q0, [{q}], #16",
            "vldrb.s16 q1, [r1], #8",
            "vmladava.s16 r0, q0, q1",
            "vldrb.s16 q2, [r2], #8",
            "vmladava.s16 r8, q0, q2",
            "vldrb.s16 q1, [r3], #8",
            "vmladava.s16 r10, q0, q1",
            "vldrb.s16 q2, [r4], #8",
            "vmladava.s16 r12, q0, q2",
            "vldrh.s16 q3, [{q}], #16",
            "vldrb.s16 q1, [r1], #8",
            "vmladava.s16 r0, q3, q1",
            "vldrb.s16 q2, [r2], #8",
            "vmladava.s16 r8, q3, q2",
            "vldrb.s16 q1, [r3], #8",
            "vmladava.s16 r10, q3, q1",
            "vldrb.s16 q2, [r4], #8",
            "vmladava.s16 r12, q3, q2",
            "le lr, 1b",
            "stm {out}, {{r0, r8, r10, r12}}",
            n = in(reg) passes,
            q = inout(reg) q => _,
            stride = in(reg) stride,
            out = in(reg) out,
            // (a widening load's base is a low register)
            inout("r1") k => _,
            out("r2") _,
            out("r3") _,
            out("r4") _,
            out("r0") _,
            out("r8") _,
            out("r10") _,
            out("r12") _,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            options(nostack),
        );
    }
}

/// One key of [`arm_mve_dots8_keys`]' 64-value path: its 64 bytes from `[{k}]` (four
/// loads, the pointer advanced) against the query in q0-q3, loads and `VMLADAV`s
/// alternating, the sum started in `$acc` by the first multiply.
macro_rules! dots8_key64 {
    ($acc:literal) => {
        concat!(
            "vldrb.u8 q4, [{k}], #16\n",
            "vmladav.s8 ",
            $acc,
            ", q0, q4\n",
            "vldrb.u8 q5, [{k}], #16\n",
            "vmladava.s8 ",
            $acc,
            ", q1, q5\n",
            "vldrb.u8 q4, [{k}], #16\n",
            "vmladava.s8 ",
            $acc,
            ", q2, q4\n",
            "vldrb.u8 q5, [{k}], #16\n",
            "vmladava.s8 ",
            $acc,
            ", q3, q5\n",
        )
    };
}

/// Step 2's integer dots of the int8 query `q` (`dk` bytes) with `4 * groups` consecutive
/// key rows of `dk` int8 values from `k`, stored as words to `out`, by `VMLADAVA.S8`
/// (16 products an instruction; exact in i32, `|q k| <= 127 * 128`). Where `dk == 64`
/// the query stays in q0-q3 and an iteration of one low-overhead loop takes four keys
/// through one pointer, 16 loads and 16 multiplies alternating (the sums started by
/// `VMLADAV`); otherwise per four keys a loop of 16 values a pass, the query loaded
/// again each pass.
///
/// # Safety
/// `groups > 0`, `dk` a positive multiple of 16; `q` must point to `dk` readable bytes,
/// `k` to `4 * groups * dk` readable bytes and `out` to `4 * groups` writable words
/// (4-byte aligned); the CPU must have MVE with the low-overhead-branch extension.
#[inline(never)]
unsafe fn arm_mve_dots8_keys(q: *const i8, k: *const i8, dk: usize, groups: usize, out: *mut i32) {
    if dk == 64 {
        // SAFETY: reads the query's 64 bytes once and, per iteration, the 256 bytes of
        // four consecutive key rows inside the `4 * groups` rows (`groups` iterations),
        // storing 4 words to `out` (the caller's guarantee); it writes only the registers
        // it names (q0-q5 as s0-s23) and not the stack.
        unsafe {
            asm!(
                "vldrb.u8 q0, [{q}]",
                "vldrb.u8 q1, [{q}, #16]",
                "vldrb.u8 q2, [{q}, #32]",
                "vldrb.u8 q3, [{q}, #48]",
                "dls lr, {n}",
                "1:",
                dots8_key64!("r0"),
                dots8_key64!("r2"),
                dots8_key64!("r8"),
                dots8_key64!("r10"),
                "stm {out}!, {{r0, r2, r8, r10}}",
                "le lr, 1b",
                q = in(reg) q,
                n = in(reg) groups,
                k = inout(reg) k => _,
                out = inout(reg) out => _,
                out("r0") _,
                out("r2") _,
                out("r8") _,
                out("r10") _,
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
        return;
    }
    // SAFETY: per group the loop reads `dk` bytes from `q` (rewound after) and `dk` bytes
    // from each of four rows inside the `4 * groups` rows (the caller's guarantee),
    // stores 4 words to `out`; it writes only the registers it names (q0-q2 as s0-s11,
    // s16 the group count) and not the stack.
    unsafe {
        asm!(
            "2:",
            "add r2, r1, {dk}",
            "add r3, r2, {dk}",
            "add r4, r3, {dk}",
            "movs r0, #0",
            "mov r8, r0",
            "mov r10, r0",
            "mov r12, r0",
            "lsr.w lr, {dk}, #4",
            "dls lr, lr",
            "1:",
            "vldrb.u8 q0, [{q}], #16",
            "vldrb.u8 q1, [r1], #16",
            "vmladava.s8 r0, q0, q1",
            "vldrb.u8 q2, [r2], #16",
            "vmladava.s8 r8, q0, q2",
            "vldrb.u8 q1, [r3], #16",
            "vmladava.s8 r10, q0, q1",
            "vldrb.u8 q2, [r4], #16",
            "vmladava.s8 r12, q0, q2",
            "le lr, 1b",
            "stm {out}!, {{r0, r8, r10, r12}}",
            // the next group's first row follows the last one's; the query again
            "mov r1, r4",
            "sub.w {q}, {q}, {dk}",
            "vmov r0, s16",
            "subs r0, #1",
            "vmov s16, r0",
            "bne 2b",
            q = inout(reg) q => _,
            dk = in(reg) dk,
            out = inout(reg) out => _,
            inout("s16") f32::from_bits(groups as u32) => _,
            inout("r1") k => _,
            out("r2") _,
            out("r3") _,
            out("r4") _,
            out("r0") _,
            out("r8") _,
            out("r10") _,
            out("r12") _,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            options(nostack),
        );
    }
}

/// Step 2's integer dots of one int8 query `q` (`dk` values, a positive multiple of 16,
/// `head.dk`) with every key of `head`, as i32 bits in `scores[..rows]`: four keys at a
/// time by [`arm_mve_dots8_keys`], the last `rows % 4` in scalar code (the same
/// integers: every sum is exact). `None` (nothing written) where the shapes do not fit.
fn all_dots(q: &[i8], head: AllHead, scores: &mut [f32]) -> Option<()> {
    let (rows, dk) = (head.rows, q.len());
    let fits = dk > 0
        && dk.is_multiple_of(16)
        && dk == head.dk
        && head.keys.len() >= rows.checked_mul(dk)?
        && scores.len() >= rows;
    if !fits {
        return None;
    }
    let whole = rows - rows % 4;
    if whole > 0 {
        // SAFETY: key rows `0..whole` (`<= rows`) lie inside `head.keys`, `dk` bytes
        // apart, `dk` a positive multiple of 16; `q` holds `dk` bytes; `scores` holds
        // `whole` words; the target has MVE (build.rs).
        unsafe {
            arm_mve_dots8_keys(
                q.as_ptr(),
                head.keys.as_ptr(),
                dk,
                whole / 4,
                scores.as_mut_ptr().cast::<i32>(),
            )
        };
    }
    for (j, s) in (whole..rows).zip(scores.iter_mut().skip(whole)) {
        // j < rows: `j * dk + dk <= keys.len()`, no wrap
        let at = j.wrapping_mul(dk);
        let key = head.keys.get(at..at.wrapping_add(dk))?;
        let mut dot = 0i32;
        for (&a, &k) in q.iter().zip(key) {
            dot = dot.wrapping_add(i32::from(a).wrapping_mul(i32::from(k)));
        }
        *s = f32::from_bits(dot as u32);
    }
    Some(())
}

/// Widest head of [`all_pair_mve`] (its two int8 queries and their i64 sums lie in the
/// per-pair work).
const PAIR_DK_MAX: usize = 64;
// the per-pair work after the two rows' scores holds the int8 queries (in `PAIR_DK_MAX`
// floats) and, 8-byte aligned (one float may be skipped), `2 PAIR_DK_MAX` i64
const _: () = assert!(crate::generic::attention_i8::PAIR_WORK > 5 * PAIR_DK_MAX);

/// Smallest `max|q_c / sqrt(dk)|` with which [`all_pair_mve`]'s step 1 keeps the
/// reference's bits under Helium's flush to zero: a subnormal product (flushed) times
/// `127 / max|q|` is then below `2^-19` and rounds to 0, as the reference's does.
const PAIR_Q_FLOOR: f32 = f32::from_bits(27 << 23); // 2^-100 (biased exponent 27)

/// [`all_head_steps`] of two query rows of one head in Helium, each load of a value
/// feeding both rows: step 1 (`q_c / sqrt(dk)`, `max|q|`, the rounding) four values an
/// instruction, each row's int8 query after the other's; step 2's dots of each row by
/// `VMLADAVA.S8` four keys a pass ([`all_dots`], the loads of a key each feeding 16
/// products, as many as the dual-beat core overlaps with its multiplies); step 2's
/// float step of both rows in one pass ([`arm_mve_pair_scale`]), steps 3-4's per row
/// as [`all_head_mve`] does them; step 5's sums two rows by two
/// columns, 32 keys a pass ([`arm_mve_weighted_pair`]), exact in 64 bits
/// (`VMLALDAVA.S16`). The reference's operations and roundings; it
/// declines (`None`, `a` and `b` untouched) where [`all_head_mve`] would for either row,
/// where `max|q|` is below [`PAIR_Q_FLOOR`] or not finite, and for heads that are not a
/// multiple of 32 values up to [`PAIR_DK_MAX`] or fewer than 2 keys.
fn all_pair_mve(
    a: &mut [f32],
    b: &mut [f32],
    scale: f32,
    head: AllHead,
    scores: &mut [f32],
) -> Option<()> {
    let (rows, dk) = (head.rows, head.dk);
    let stride = all_stride(rows);
    let fits = rows >= 2
        && (32..=PAIR_DK_MAX).contains(&dk)
        && dk.is_multiple_of(32)
        && a.len() >= dk
        && b.len() >= dk
        && scores.len() >= crate::generic::attention_i8::pair_scores_len(rows)
        && head.keys.len() >= rows.checked_mul(dk)?
        && head.values.len() >= dk.checked_mul(stride)?
        && head.key_scales.len() >= rows
        && head.value_scales.len() >= rows;
    if !fits {
        return None;
    }
    // the two rows' scores, then the per-pair work (`PAIR_WORK` floats): the int8
    // queries (in `PAIR_DK_MAX` floats: `4 PAIR_DK_MAX >= 2 dk` bytes), then the 64-bit
    // sums
    let (scores, work) = scores.split_at_mut_checked(rows.checked_mul(2)?)?;
    let (sa, sb) = scores.split_at_mut(rows);
    let (qq, work) = work.split_at_mut_checked(PAIR_DK_MAX)?;
    // SAFETY: every bit pattern is a valid i64 (the floats are initialised).
    let (_, sums, _) = unsafe { work.align_to_mut::<i64>() };
    let sums = sums.get_mut(..2 * PAIR_DK_MAX)?;
    // 1. both int8 queries: row a's `dk` bytes from the start of `qq`, row b's after them
    let qq = qq.as_mut_ptr().cast::<i8>();
    let sq_a = pair_query(a, scale, dk, qq)?;
    // SAFETY: (of the `add`) `dk < 4 PAIR_DK_MAX` bytes inside `qq`
    let sq_b = pair_query(b, scale, dk, unsafe { qq.add(dk) })?;
    // SAFETY: `qq` (from the `PAIR_DK_MAX` floats split off above, not used again)
    // holds `4 PAIR_DK_MAX >= 2 dk` bytes, initialised.
    let qq = unsafe { core::slice::from_raw_parts(qq.cast_const(), 2 * dk) };
    let (qa, qb) = qq.split_at(dk);
    // 2. the dots, as i32 bits in each row's scores
    all_dots(qa, head, sa)?;
    all_dots(qb, head, sb)?;
    // their float steps, 3. the exponentials, 4. the weights (each row's int16 weights
    // from the start of its scores)
    // both rows' scores `dot_j * (sq * sk_j)` and their maxima in one pass, with the
    // value scales' largest and smallest
    let mut largest = [0.0f32; 2];
    let mut sv_range = [0.0f32; 2];
    let sqs = [sq_a, sq_b];
    for sq in sqs {
        if !(f32::MIN_POSITIVE..=f32::MAX).contains(&sq) {
            return None;
        }
    }
    // SAFETY: `sa`, `sb`, `key_scales` and `value_scales` hold `rows > 0` floats (checked
    // above); the target has MVE.
    let sk_min = unsafe {
        arm_mve_pair_scale(
            [sa.as_mut_ptr(), sb.as_mut_ptr()],
            [head.key_scales.as_ptr(), head.value_scales.as_ptr()],
            sqs,
            rows,
            [&mut largest, &mut sv_range],
        )
    };
    let [sv_max, sv_min] = sv_range;
    // no value scale below 0 (NaN ignored): no weight below 0, the rounding's clamps idle
    let clamp = sv_min < 0.0;
    for (sq, m) in sqs.into_iter().zip(largest) {
        let smallest_scale = sk_min * sq;
        if m == f32::NEG_INFINITY || smallest_scale.is_nan() || smallest_scale < f32::MIN_POSITIVE {
            return None;
        }
    }
    let [largest_a, largest_b] = largest;
    let factor_a = pair_float_steps(sa, head, largest_a, (sv_max, clamp))?;
    let factor_b = pair_float_steps(sb, head, largest_b, (sv_max, clamp))?;
    // 5. the weighted sums, exact in 64 bits: row a's `dk` from 0, row b's from `PAIR_DK_MAX`
    // in `sums` (the kernel writes each of the `2 dk` sums read below). From 64 keys
    // on over whole passes of 32 and 64 keys: the weights after the last key zero (the
    // values there are `pack_all_kv`'s zero padding, `keys <= stride`), so the same sums.
    let keys = if rows >= 64 { stride } else { rows };
    if keys > rows {
        for s in [&mut *sa, &mut *sb] {
            // int16 weights `rows..keys` (`keys < rows + 32 <= 2 rows`: inside `s`); an
            // odd `rows` ends in the low half of a word (little-endian), whose high half
            // is weight `rows`
            if rows % 2 == 1 {
                let last = s.get_mut(rows / 2)?;
                *last = f32::from_bits(last.to_bits() & 0xffff);
            }
            s.get_mut(rows.div_ceil(2)..keys / 2)?.fill(0.0);
        }
    }
    let (wa, wb) = (sa.as_ptr().cast::<i16>(), sb.as_ptr().cast::<i16>());
    let mut params = [
        wa as usize,
        wb as usize,
        head.values.as_ptr() as usize,
        stride,
        keys,
        sums.as_mut_ptr() as usize,
        dk / 2,
        0,
    ];
    // SAFETY: `keys` int16 weights of each row (halfwords of its scores, aligned: `keys
    // <= 2 rows`), `keys <= stride` values of each of the `dk` transposed value rows
    // `stride` apart inside `head.values` (checked above); `sums` holds `2 PAIR_DK_MAX`
    // i64 (row b's at 512 bytes, `dk <= PAIR_DK_MAX`); `params` 8 words; the target has
    // MVE.
    unsafe { arm_mve_weighted_pair(params.as_mut_ptr()) };
    // (`arm_mve_weighted_pair` stored `dk <= PAIR_DK_MAX` i64 from the start of `sums`,
    // row a's, and `dk` from its middle, row b's)
    let (sums_a, sums_b) = sums.split_at(PAIR_DK_MAX);
    let (sums_a, sums_b) = (sums_a.get(..dk)?, sums_b.get(..dk)?);
    // each sum that fits in 32 bits by `VCVT` (the same rounding as `as f32`), times a
    // normal factor (a non-zero integer times it cannot be subnormal: nothing flushed)
    let normal = |f: f32| (f32::MIN_POSITIVE..=f32::MAX).contains(&f);
    if normal(factor_a) && normal(factor_b) {
        // SAFETY: `sums_a`, `sums_b` hold `dk` i64 and `a`, `b` `dk >= 32` floats each,
        // `dk` a multiple of 4; the target has MVE.
        let fit = unsafe {
            arm_mve_sums_to_f32(sums_a.as_ptr(), factor_a, dk, a.as_mut_ptr())
                & arm_mve_sums_to_f32(sums_b.as_ptr(), factor_b, dk, b.as_mut_ptr())
        };
        if fit {
            return Some(());
        }
    }
    let to_f32 = |sum: i64| match i32::try_from(sum) {
        Ok(small) => small as f32,
        Err(_) => i64_to_f32(sum),
    };
    for (o, &sum) in a.iter_mut().zip(sums_a) {
        *o = to_f32(sum) * factor_a;
    }
    for (o, &sum) in b.iter_mut().zip(sums_b.iter().take(dk)) {
        *o = to_f32(sum) * factor_b;
    }
    Some(())
}

/// Step 2's float step of two rows over `n > 0` dots (i32 bits in `s[0]` and `s[1]`):
/// [`arm_mve_all_scale`]'s operations for each row with its `sq[r]`, each key scale
/// (`scales[0]`) loaded once for both; each row's largest score into `out[0]` (`VMAXNM`
/// from -inf, NaN ignored); the largest and the smallest of the `n` value scales
/// (`scales[1]`) into `out[1]` (`VMAXNM`, `VMINNM` from +0: NaN ignored, as `f32::max`
/// and `f32::min`);
/// returns the smallest key scale (subnormals flushed to 0).
///
/// # Safety
/// `s[0]`, `s[1]`, `scales[0]` and `scales[1]` point to `n > 0` floats; the CPU must have
/// MVE with floating point.
#[inline(never)]
unsafe fn arm_mve_pair_scale(
    s: [*mut f32; 2],
    scales: [*const f32; 2],
    sq: [f32; 2],
    n: usize,
    out: [&mut [f32; 2]; 2],
) -> f32 {
    let mut lanes = [0.0f32; 20];
    // SAFETY: the tail-predicated loop reads `n` floats of each `scales[r]` and reads and
    // rewrites `n` of `s[0]` and of `s[1]` (the caller's guarantee); 80 bytes are stored
    // to `lanes`; inactive lanes of the last iteration keep their value; only the named
    // registers are written.
    unsafe {
        asm!(
            "vdup.32 q4, {ninf}",
            "vmov q6, q4",
            "vdup.32 q3, {pinf}",
            "vmov.i32 q5, #0",
            "vmov.i32 q7, #0",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q1, [{sk}], #16",
            "vmul.f32 q2, q1, {sqa}",
            "vldrw.u32 q0, [{a}]",
            "vcvt.f32.s32 q0, q0",
            "vmul.f32 q0, q0, q2",
            "vmul.f32 q2, q1, {sqb}",
            "vmaxnm.f32 q4, q4, q0",
            "vstrw.32 q0, [{a}], #16",
            "vminnm.f32 q3, q3, q1",
            "vldrw.u32 q1, [{sv}], #16",
            "vmaxnm.f32 q5, q5, q1",
            "vldrw.u32 q0, [{b}]",
            "vcvt.f32.s32 q0, q0",
            "vmul.f32 q0, q0, q2",
            "vminnm.f32 q7, q7, q1",
            "vmaxnm.f32 q6, q6, q0",
            "vstrw.32 q0, [{b}], #16",
            "letp lr, 1b",
            "vstrw.32 q4, [{lanes}]",
            "vstrw.32 q6, [{lanes}, #16]",
            "vstrw.32 q3, [{lanes}, #32]",
            "vstrw.32 q5, [{lanes}, #48]",
            "vstrw.32 q7, [{lanes}, #64]",
            a = inout(reg) s[0] => _,
            b = inout(reg) s[1] => _,
            sk = inout(reg) scales[0] => _,
            sv = inout(reg) scales[1] => _,
            sqa = in(reg) sq[0].to_bits(),
            sqb = in(reg) sq[1].to_bits(),
            n = in(reg) n,
            ninf = in(reg) f32::NEG_INFINITY.to_bits(),
            pinf = in(reg) f32::INFINITY.to_bits(),
            lanes = in(reg) lanes.as_mut_ptr(),
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
    let (maxima, rest) = lanes.split_at(8);
    let (smallest, values) = rest.split_at(4);
    let (ma, mb) = maxima.split_at(4);
    let (v_max, v_min) = values.split_at(4);
    let [largest, v_range] = out;
    *largest = [f32::NEG_INFINITY; 2];
    let mut sk_min = f32::INFINITY;
    for ((&a, &b), &k) in ma.iter().zip(mb).zip(smallest) {
        // (lane by lane; a NaN lane never wins, as in the loop)
        if a > largest[0] {
            largest[0] = a;
        }
        if b > largest[1] {
            largest[1] = b;
        }
        if k < sk_min {
            sk_min = k;
        }
    }
    *v_range = [
        v_max.iter().fold(0.0f32, |m, &v| m.max(v)),
        v_min.iter().fold(0.0f32, |m, &v| m.min(v)),
    ];
    sk_min
}

/// Step 1 of one row for [`all_pair_mve`]: `q / sqrt(dk)` rounded to int8 (the
/// reference's `quantize_query_head`: the same products, maximum and rounding) into the
/// `dk` bytes from `out`; returns the query's scale, `None` where
/// `max|q|` is below [`PAIR_Q_FLOOR`] or not finite.
fn pair_query(q: &[f32], scale: f32, dk: usize, out: *mut i8) -> Option<f32> {
    if q.len() < dk || dk == 0 || !dk.is_multiple_of(8) {
        return None;
    }
    // SAFETY: `q` holds `dk > 0` floats; the target has MVE.
    let amax = unsafe { arm_mve_query_amax(q.as_ptr(), scale, dk) };
    if !(PAIR_Q_FLOOR..=f32::MAX).contains(&amax) {
        return None;
    }
    let inv = crate::generic::attention_i8::QUERY_MAX / amax;
    // SAFETY: `q` holds `dk` floats, `dk` a positive multiple of 8; the caller's `out`
    // holds `dk` bytes.
    unsafe { arm_mve_query_round(q.as_ptr(), scale, inv, dk, out) };
    Some(amax / crate::generic::attention_i8::QUERY_MAX)
}

/// Steps 3-4's float work of one row for [`all_pair_mve`] (`s` its `rows` scores,
/// [`arm_mve_pair_scale`]'s, `largest` their maximum, `sv_max` the largest value scale,
/// `clamp` whether a value scale is below 0): [`all_head_mve`]'s operations and guards,
/// the exponentials fused with the sum and the weights ([`arm_mve_exp_weights`]); the
/// int16 weights from the start of `s` (without `clamp`, by [`arm_mve_pair_round`]);
/// returns step 5's factor `(W / 32767) / sum`.
fn pair_float_steps(
    s: &mut [f32],
    head: AllHead,
    largest: f32,
    (sv_max, clamp): (f32, bool),
) -> Option<f32> {
    let rows = s.len();
    if rows == 0 || head.value_scales.len() < rows {
        return None;
    }
    // 3. the exponentials, their sum in position order, 4. the weights and their maximum
    let whole = rows - rows % 4;
    let (mut sum, mut w_max) = (0.0f32, 0.0f32);
    if whole > 0 {
        // SAFETY: `s` and `value_scales` hold `rows >= whole` floats, `whole` a positive
        // multiple of 4; the target has MVE.
        (sum, w_max) = unsafe {
            arm_mve_exp_weights(s.as_mut_ptr(), head.value_scales.as_ptr(), largest, whole)
        };
    }
    for (p, &sv) in s.iter_mut().zip(head.value_scales).skip(whole) {
        let e = exp_i8(*p - largest);
        sum += e;
        *p = e * sv;
        if *p > w_max {
            w_max = *p;
        }
    }
    let floor = ALL_W_FLOOR * sv_max.max(1.0);
    if !(w_max.is_finite() && w_max >= floor && sum > 0.0) {
        return None;
    }
    let inv = crate::generic::attention_i8::WEIGHT_MAX / w_max;
    if clamp {
        // SAFETY: `s` holds `rows > 0` floats, rewritten as halfwords from its start; the
        // target has MVE.
        unsafe { arm_mve_all_round(s.as_mut_ptr(), inv, rows) };
    } else {
        // SAFETY: as above; every weight is NaN or in `[-0, w_max]` (`p_j >= 0` or NaN,
        // `sv_j >= -0` or NaN), `w_max` finite and at least `ALL_W_FLOOR`.
        unsafe { arm_mve_pair_round(s.as_mut_ptr(), inv, rows) };
    }
    Some((w_max / crate::generic::attention_i8::WEIGHT_MAX) / sum)
}

/// `max |q_c * scale|` over `n > 0` floats (`VMAXNM` from +0: NaN ignored, as the
/// reference's `f32::max`).
///
/// # Safety
/// `q` points to `n > 0` floats; the CPU must have MVE with floating point.
#[inline(never)]
unsafe fn arm_mve_query_amax(q: *const f32, scale: f32, n: usize) -> f32 {
    let mut out = [0.0f32; 4];
    // SAFETY: the tail-predicated loop reads `n` floats of `q` (the caller's guarantee);
    // 16 bytes are stored to `out`; inactive lanes keep their value; only the named
    // registers are written.
    unsafe {
        asm!(
            "vmov.i32 q1, #0",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{q}], #16",
            "vmul.f32 q0, q0, {scale}",
            "vabs.f32 q0, q0",
            "vmaxnm.f32 q1, q1, q0",
            "letp lr, 1b",
            "vstrw.32 q1, [{out}]",
            q = inout(reg) q => _,
            scale = in(reg) scale.to_bits(),
            n = in(reg) n,
            out = in(reg) out.as_mut_ptr(),
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            options(nostack),
        );
    }
    out.iter().fold(0.0f32, |m, &v| m.max(v))
}

/// Step 1's rounding of `n` floats (a positive multiple of 8): `round_query(q_c * scale *
/// inv)` (`± 0.5` by the product's sign, `VCVT` truncating; NaN gives 0), stored as int8
/// (`VSTRB.32`, the low byte of each lane) to the `n` bytes from `out`. The clamp to
/// `±127` never acts for `inv = 127 / max|q_c * scale|` (the same products, finite):
/// `|q_c * scale * inv|` is at most `127.0001` (two roundings up of `2^-24` each), so not
/// `127.5`, and each lane's integer fits a byte.
///
/// # Safety
/// `q` points to `n` floats, `out` to `n` writable bytes; the CPU must have MVE with
/// floating point.
#[inline(never)]
unsafe fn arm_mve_query_round(q: *const f32, scale: f32, inv: f32, n: usize, out: *mut i8) {
    // SAFETY: the loop of `n / 8` passes reads `n` floats of `q` and writes 8 bytes per
    // pass from `out` (the caller's guarantee); only the named registers are written.
    unsafe {
        asm!(
            "vdup.32 q4, {sign}",
            "vdup.32 q5, {half}",
            "dls lr, {passes}",
            "1:",
            "vldrw.u32 q0, [{q}], #16",
            "vmul.f32 q0, q0, {scale}",
            "vmul.f32 q0, q0, {inv}",
            "vand q1, q0, q4",
            "vorr q1, q1, q5",
            "vadd.f32 q0, q0, q1",
            "vcvt.s32.f32 q0, q0",
            "vstrb.32 q0, [{o}], #4",
            "vldrw.u32 q0, [{q}], #16",
            "vmul.f32 q0, q0, {scale}",
            "vmul.f32 q0, q0, {inv}",
            "vand q1, q0, q4",
            "vorr q1, q1, q5",
            "vadd.f32 q0, q0, q1",
            "vcvt.s32.f32 q0, q0",
            "vstrb.32 q0, [{o}], #4",
            "le lr, 1b",
            q = inout(reg) q => _,
            o = inout(reg) out => _,
            scale = in(reg) scale.to_bits(),
            inv = in(reg) inv.to_bits(),
            sign = in(reg) 0x8000_0000u32,
            half = in(reg) 0.5f32.to_bits(),
            passes = in(reg) n / 8,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            out("s24") _, out("s25") _, out("s26") _, out("s27") _,
            out("s28") _, out("s29") _, out("s30") _, out("s31") _,
            options(nostack),
        );
    }
}

/// 32 keys of two rows' int16 weights (`A` from `[r10]`, `B` from `[r11]`, 8 a load) by
/// two value rows widened (`[r6]`, `[r7]`), in 64-bit sums: `r1:r0 += A.V0`, `r3:r2 +=
/// B.V0`, `r5:r4 += A.V1`, `r9:r8 += B.V1` by `VMLALDAVA.S16`, loads and multiplies
/// alternating (the first four multiplies `VMLALDAV` where `$a` is "": the sums start
/// there); `$pre` (the previous pass's last multiply, [`pair_tail_long`], or "") after
/// the first load; the pass's own last multiply is left out: the caller puts
/// [`pair_tail_long`] after the next pass's first load or after the pass.
macro_rules! pair_pass_long {
    ($pre:expr) => {
        pair_pass_long!("a", $pre)
    };
    ($a:literal, $pre:expr) => {
        concat!(
            "vldrh.s16 q0, [r10], #16\n",
            $pre,
            "vldrb.s16 q2, [r6], #8\n",
            "vmlaldav",
            $a,
            ".s16 r0, r1, q0, q2\n",
            "vldrh.s16 q1, [r11], #16\n",
            "vmlaldav",
            $a,
            ".s16 r2, r3, q1, q2\n",
            "vldrb.s16 q3, [r7], #8\n",
            "vmlaldav",
            $a,
            ".s16 r4, r5, q0, q3\n",
            "vldrh.s16 q4, [r10], #16\n",
            "vmlaldav",
            $a,
            ".s16 r8, r9, q1, q3\n",
            "vldrb.s16 q6, [r6], #8\n",
            "vmlaldava.s16 r0, r1, q4, q6\n",
            "vldrh.s16 q5, [r11], #16\n",
            "vmlaldava.s16 r2, r3, q5, q6\n",
            "vldrb.s16 q7, [r7], #8\n",
            "vmlaldava.s16 r4, r5, q4, q7\n",
            "vldrh.s16 q0, [r10], #16\n",
            "vmlaldava.s16 r8, r9, q5, q7\n",
            "vldrb.s16 q2, [r6], #8\n",
            "vmlaldava.s16 r0, r1, q0, q2\n",
            "vldrh.s16 q1, [r11], #16\n",
            "vmlaldava.s16 r2, r3, q1, q2\n",
            "vldrb.s16 q3, [r7], #8\n",
            "vmlaldava.s16 r4, r5, q0, q3\n",
            "vldrh.s16 q4, [r10], #16\n",
            "vmlaldava.s16 r8, r9, q1, q3\n",
            "vldrb.s16 q6, [r6], #8\n",
            "vmlaldava.s16 r0, r1, q4, q6\n",
            "vldrh.s16 q5, [r11], #16\n",
            "vmlaldava.s16 r2, r3, q5, q6\n",
            "vldrb.s16 q7, [r7], #8\n",
            "vmlaldava.s16 r4, r5, q4, q7\n",
        )
    };
}

/// [`pair_pass_long`]'s last multiply.
macro_rules! pair_tail_long {
    () => {
        "vmlaldava.s16 r8, r9, q5, q7\n"
    };
}

/// Step 5's exact sums of two rows of int16 weights over `n` keys of `2 pairs` transposed
/// value rows: `params` = [weights of row a, weights of row b, the first value row, the
/// value rows' `stride` in bytes, `n`, `out`, `pairs`, any]; per two value rows
/// ("columns") 64-key passes (two [`pair_pass_long`]es), one of 32 where `n % 64 >= 32`,
/// then the last `n % 32` keys eight a pass, tail-predicated (`DLSTP.16`); where `n` is a
/// multiple of 32, the first 32 keys start the sums (`VMLALDAV`: nothing zeroed), the
/// rest go 32 a pass, four passes a loop iteration (the loop entered at the pass that
/// leaves a whole number of iterations: half as many loop ends as passes of 64), no tail
/// is checked and the value rows' pointers stay in registers; each column's 64-bit sums
/// stored to `out` (row a's) and 512 bytes on (row b's). `params` is used up.
///
/// # Safety
/// `params` holds 8 writable words: each weight pointer to `n` readable halfwords (2-byte
/// aligned), the value pointer to `n` readable bytes at each of `2 pairs` rows `stride`
/// bytes apart, `out` to `4 pairs` writable i64 from it and from 512 bytes on, `pairs >
/// 0`, `n > 0`; the CPU must have MVE with the low-overhead-branch extension.
#[inline(never)]
unsafe fn arm_mve_weighted_pair(params: *mut usize) {
    // SAFETY: per pair of value rows the asm reads `n` halfwords of each weight row
    // (from their starts) and `n` bytes of the two value rows, stores 2 i64 through `out`
    // and 2 at the offset, and rewrites `params` (the caller's guarantee). r4-r11 are
    // saved on the stack and restored (sp is restored); the other registers it writes
    // are declared.
    unsafe {
        asm!(
            "push {{r4-r11}}",
            "mov r12, r0",
            // `n` a positive multiple of 32: no zeroing, no tails
            "ldr lr, [r12, #16]",
            "tst lr, #31",
            "beq 10f",
            "2:",
            // r10, r11: the weights; r6, r7: the two value rows
            "ldrd r10, r11, [r12]",
            "ldrd r6, r7, [r12, #8]",
            "add r7, r6, r7",
            "movs r0, #0",
            "movs r1, #0",
            "movs r2, #0",
            "movs r3, #0",
            "movs r4, #0",
            "movs r5, #0",
            "mov r8, r0",
            "mov r9, r0",
            // 64 keys a pass, then 32 where `n % 64 >= 32`, then the last `n % 32`
            "ldr lr, [r12, #16]",
            "lsrs.w lr, lr, #6",
            "beq 4f",
            "dls lr, lr",
            "1:",
            pair_pass_long!(""),
            pair_pass_long!(pair_tail_long!()),
            pair_tail_long!(),
            "le lr, 1b",
            "4:",
            "ldr lr, [r12, #16]",
            "tst lr, #32",
            "beq 6f",
            pair_pass_long!(""),
            pair_tail_long!(),
            "6:",
            "ands lr, lr, #31",
            "beq 5f",
            "dlstp.16 lr, lr",
            "3:",
            "vldrh.s16 q0, [r10], #16",
            "vldrb.s16 q2, [r6], #8",
            "vmlaldava.s16 r0, r1, q0, q2",
            "vldrh.s16 q1, [r11], #16",
            "vmlaldava.s16 r2, r3, q1, q2",
            "vldrb.s16 q3, [r7], #8",
            "vmlaldava.s16 r4, r5, q0, q3",
            "vmlaldava.s16 r8, r9, q1, q3",
            "letp lr, 3b",
            "5:",
            "ldr lr, [r12, #20]",
            "strd r2, r3, [lr, #512]",
            "strd r8, r9, [lr, #520]",
            "strd r0, r1, [lr]",
            "strd r4, r5, [lr, #8]",
            "add lr, lr, #16",
            "str lr, [r12, #20]",
            "ldrd r0, r1, [r12, #8]",
            "add.w r0, r0, r1, lsl #1",
            "str r0, [r12, #8]",
            "ldr r0, [r12, #24]",
            "subs r0, #1",
            "str r0, [r12, #24]",
            "bne 2b",
            "b 8f",
            // once: params[2] = 2 stride - n (from the end of a column pair's first value
            // row to the next pair's); of the `q = n / 32 - 1` passes of 32 keys after the
            // first, params[4] = ceil(q / 4) loop iterations of four, params[7] the
            // address (Thumb bit set) of the pass to start at: `(-q) & 3` passes into the
            // loop, or after it where q = 0
            "10:",
            "ldrd r6, r7, [r12, #8]",
            "ldr r0, [r12, #16]",
            "lsls r1, r7, #1",
            "subs r1, r1, r0",
            "str r1, [r12, #8]",
            "lsrs r0, r0, #5",
            "subs r0, #1",
            "adds r1, r0, #3",
            "lsrs r1, r1, #2",
            "str r1, [r12, #16]",
            "adr r1, 25f",
            "cbz r0, 24f",
            "negs r0, r0",
            "and r0, r0, #3",
            "adr r1, 21f",
            "adr r2, 22f",
            "subs r2, r2, r1",
            "mla r1, r0, r2, r1",
            "24:",
            "orr r1, r1, #1",
            "str r1, [r12, #28]",
            "add r7, r6, r7",
            "7:",
            "ldrd r10, r11, [r12]",
            // the first 32 keys start the sums (`VMLALDAV`; their last multiply is the
            // first pass's, or after the loop); then 32 a pass, four a loop iteration,
            // entered at params[7]
            pair_pass_long!("", ""),
            "ldr lr, [r12, #16]",
            "dls lr, lr",
            "ldr pc, [r12, #28]",
            "21:",
            pair_pass_long!(pair_tail_long!()),
            "22:",
            pair_pass_long!(pair_tail_long!()),
            pair_pass_long!(pair_tail_long!()),
            pair_pass_long!(pair_tail_long!()),
            "le lr, 21b",
            "25:",
            pair_tail_long!(),
            // row b's sums 512 bytes on (the caller's offset)
            "ldr lr, [r12, #20]",
            "strd r2, r3, [lr, #512]",
            "strd r8, r9, [lr, #520]",
            "strd r4, r5, [lr, #8]",
            "strd r0, r1, [lr], #16",
            "str lr, [r12, #20]",
            "ldrd r0, r1, [r12, #8]",
            "add r6, r0",
            "add r7, r6, r1",
            "ldr r0, [r12, #24]",
            "subs r0, #1",
            "str r0, [r12, #24]",
            "bne 7b",
            "8:",
            "pop {{r4-r11}}",
            inout("r0") params => _,
            out("r1") _,
            out("r2") _,
            out("r3") _,
            out("r12") _,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            out("s24") _, out("s25") _, out("s26") _, out("s27") _,
            out("s28") _, out("s29") _, out("s30") _, out("s31") _,
        );
    }
}

/// The constants of [`exp_i8_steps`], four lanes each: the polynomial's coefficients
/// `c3`, `c2`, `c1` and 1.
#[repr(C, align(16))]
struct ExpI8Constants([f32; 16]);

static EXP_I8_CONSTANTS: ExpI8Constants = {
    use crate::generic::attention_i8::EXP_I8_P;
    let [_, c3, c2, c1] = EXP_I8_P;
    ExpI8Constants([
        c3, c3, c3, c3, c2, c2, c2, c2, c1, c1, c1, c1, 1.0, 1.0, 1.0, 1.0,
    ])
};

/// Step 3's exponential of four lanes, the scalar [`exp_i8`]'s operations in its order
/// (plain `VMUL`, `VADD`, `VSUB`): `d` in q0, `exp_i8(d)` into q3; q1, q2, q4 and q5
/// scratch; the operands `{log2e}`, `{round}`, `{c4}`, `{zero}` (the scalar constants'
/// bits) and `{k}` ([`EXP_I8_CONSTANTS`]). `2^n` is the low bits of `t + R` (`n + 127`)
/// shifted into the exponent, as the scalar builds it. Helium flushes subnormal inputs
/// and results, which changes no bit: `d` and `t` are 0 or normal where the scalar's
/// result is not exactly 1 (a `|d|` below 2^-25 gives `f = t`, `p = 1`), each product of
/// the polynomial that may be subnormal is next added to a constant of at least 5.5e-2
/// (which absorbs it in both), and `p 2^n` is normal for every `d >= -87.33`. 16 vector
/// operations with the caller's subtraction, where `exp_fast`'s took 25 (the loads
/// overlap them: by the cycle model about 43 estimated cycles per pass of
/// [`exp_weights_pass`], was 62; probe `i8att2_1500` 59.5 -> 54.9 per pair and head).
macro_rules! exp_i8_steps {
    () => {
        concat!(
            "vmul.f32 q1, q0, {log2e}\n", // t = d log2 e
            // u = t + R (its low bits: n + 127), 2^n, n = u - R, f = t - n
            "vadd.f32 q2, q1, {round}\n",
            "vshl.i32 q5, q2, #23\n",
            "vsub.f32 q2, q2, {round}\n",
            "vsub.f32 q2, q1, q2\n",
            // p = (((c4 f + c3) f + c2) f + c1) f + 1 (each constant's load overlaps the
            // multiply before it)
            "vmul.f32 q3, q2, {c4}\n",
            "vldrw.u32 q4, [{k}]\n",
            "vadd.f32 q3, q3, q4\n",
            "vmul.f32 q3, q3, q2\n",
            "vldrw.u32 q4, [{k}, #16]\n",
            "vadd.f32 q3, q3, q4\n",
            "vmul.f32 q3, q3, q2\n",
            "vldrw.u32 q4, [{k}, #32]\n",
            "vadd.f32 q3, q3, q4\n",
            "vmul.f32 q3, q3, q2\n",
            "vldrw.u32 q4, [{k}, #48]\n",
            "vadd.f32 q3, q3, q4\n",
            "vmul.f32 q3, q3, q5\n", // p 2^n
            // 0 where d < -87.33 (`lt`: false for NaN, which stays NaN)
            "vpt.f32 lt, q0, {zero}\n",
            "vmovt.i32 q3, #0\n",
        )
    };
}

/// `x[i] = exp_i8(x[i] - largest)` for every score: four lanes at a time by
/// [`arm_mve_exp_i8`] (the scalar's bits), the last `len % 4` by the scalar.
fn exp_i8_minus_max_mve(x: &mut [f32], largest: f32) {
    let whole = x.len() - x.len() % 4;
    if whole > 0 {
        // SAFETY: `x` holds `whole` floats, `whole` a positive multiple of 4; the target
        // has MVE (build.rs).
        unsafe { arm_mve_exp_i8(x.as_mut_ptr(), largest, whole) };
    }
    for v in x.iter_mut().skip(whole) {
        *v = exp_i8(*v - largest);
    }
}

/// `s_j = exp_i8(s_j - largest)` over `n` scores (`n` a positive multiple of 4), four
/// lanes a pass ([`exp_i8_steps`]).
///
/// # Safety
/// `s` points to `n` floats, `n > 0` a multiple of 4; the CPU must have MVE with floating
/// point.
#[inline(never)]
unsafe fn arm_mve_exp_i8(s: *mut f32, largest: f32, n: usize) {
    use crate::generic::attention_i8 as rule;
    // SAFETY: the `n / 4` passes read and rewrite `n` floats of `s` (the caller's
    // guarantee) and read the 64 bytes of `EXP_I8_CONSTANTS` (16-byte aligned); only the
    // named registers are written.
    unsafe {
        asm!(
            "wls lr, {passes}, 3f",
            "1:",
            "vldrw.u32 q0, [{s}]",
            "vsub.f32 q0, q0, {m}",
            exp_i8_steps!(),
            "vstrw.32 q3, [{s}], #16",
            "le lr, 1b",
            "3:",
            s = inout(reg) s => _,
            passes = in(reg) n / 4,
            k = in(reg) EXP_I8_CONSTANTS.0.as_ptr(),
            m = in(reg) largest.to_bits(),
            log2e = in(reg) rule::EXP_I8_LOG2_E.to_bits(),
            round = in(reg) rule::EXP_I8_ROUND.to_bits(),
            c4 = in(reg) rule::EXP_I8_P[0].to_bits(),
            zero = in(reg) rule::EXP_I8_ZERO_BELOW.to_bits(),
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

/// One pass of [`arm_mve_exp_weights`]: four scores from `{s}`, their exponentials
/// ([`exp_i8_steps`]), their weights stored back, the largest in `q6`, the exponentials
/// added to `s28` in position order.
macro_rules! exp_weights_pass {
    () => {
        concat!(
            "vldrw.u32 q0, [{s}]\n",
            "vsub.f32 q0, q0, {m}\n",
            exp_i8_steps!(),
            "vldrw.u32 q4, [{sv}], #16\n",
            "vmul.f32 q4, q3, q4\n",
            "vmaxnm.f32 q6, q6, q4\n",
            "vstrw.32 q4, [{s}], #16\n",
            // (after the store: a vector instruction after a scalar one overlaps nothing)
            "vadd.f32 s28, s28, s12\n",
            "vadd.f32 s28, s28, s13\n",
            "vadd.f32 s28, s28, s14\n",
            "vadd.f32 s28, s28, s15\n",
        )
    };
}

/// Steps 3-4 over `n` scores (`n` a positive multiple of 4): `p_j = exp_i8(s_j -
/// largest)` four lanes at a time ([`exp_i8_steps`]: the scalar's bits), their sum in
/// position order (scalar `VADD`s on the lanes: the reference's additions), `p_j sv_j`
/// stored back; returns the sum and the largest weight (`VMAXNM` from +0). Two passes a
/// loop ([`exp_weights_pass`]), an odd one first.
///
/// # Safety
/// `s` and `sv` point to `n` floats, `n > 0` a multiple of 4; the CPU must have MVE with
/// floating point.
#[inline(never)]
unsafe fn arm_mve_exp_weights(s: *mut f32, sv: *const f32, largest: f32, n: usize) -> (f32, f32) {
    use crate::generic::attention_i8 as rule;
    let mut out = [0.0f32; 4];
    let mut sum = 0.0f32;
    // SAFETY: the `n / 4` passes read `n` floats of `sv`, read and rewrite `n`
    // of `s` (the caller's guarantee) and read the 64 bytes of `EXP_I8_CONSTANTS`
    // (16-byte aligned); 16 bytes are stored to `out`; only the named registers are
    // written.
    unsafe {
        asm!(
            "vmov.i32 q6, #0",
            // an odd pass first (the sum stays in position order), then two a loop
            "lsrs {passes}, {passes}, #1",
            "bcc 2f",
            exp_weights_pass!(),
            "2:",
            "wls lr, {passes}, 3f",
            "1:",
            exp_weights_pass!(),
            exp_weights_pass!(),
            "le lr, 1b",
            "3:",
            "vstrw.32 q6, [{out}]",
            s = inout(reg) s => _,
            sv = inout(reg) sv => _,
            passes = inout(reg) n / 4 => _,
            k = in(reg) EXP_I8_CONSTANTS.0.as_ptr(),
            m = in(reg) largest.to_bits(),
            log2e = in(reg) rule::EXP_I8_LOG2_E.to_bits(),
            round = in(reg) rule::EXP_I8_ROUND.to_bits(),
            c4 = in(reg) rule::EXP_I8_P[0].to_bits(),
            zero = in(reg) rule::EXP_I8_ZERO_BELOW.to_bits(),
            out = in(reg) out.as_mut_ptr(),
            inout("s28") sum,
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            out("s24") _, out("s25") _, out("s26") _, out("s27") _,
            options(nostack),
        );
    }
    let w_max = out.iter().fold(0.0f32, |m, &w| if w > m { w } else { m });
    (sum, w_max)
}

/// `out[c] = (sums[c] as f32) * factor` for `n` sums (a positive multiple of 4), four an
/// instruction (`VLD20`/`VLD21` split each sum's halves, `VCVT` converts the low one);
/// returns whether every sum fits in 32 bits (where one does not, that lane's output is
/// not its value: the caller converts again).
///
/// # Safety
/// `sums` points to `n` readable i64 (8-byte aligned), `out` to `n` writable floats; the
/// CPU must have MVE with floating point.
#[inline(never)]
unsafe fn arm_mve_sums_to_f32(sums: *const i64, factor: f32, n: usize, out: *mut f32) -> bool {
    let mut lanes = [0u32; 4];
    // SAFETY: the loop of `n / 4` passes reads `n` i64 of `sums` and writes `n` floats to
    // `out` (the caller's guarantee); 16 bytes are stored to `lanes`; only the named
    // registers are written.
    unsafe {
        asm!(
            "vmov.i32 q4, #0",
            "dls lr, {passes}",
            "1:",
            "vld20.32 {{q0, q1}}, [{s}]",
            "vld21.32 {{q0, q1}}, [{s}]!",
            // the high word of a sum that fits is its low word's sign
            "vshr.s32 q2, q0, #31",
            "veor q2, q2, q1",
            "vorr q4, q4, q2",
            "vcvt.f32.s32 q0, q0",
            "vmul.f32 q0, q0, {factor}",
            "vstrw.32 q0, [{o}], #16",
            "le lr, 1b",
            "vstrw.32 q4, [{lanes}]",
            s = inout(reg) sums => _,
            o = inout(reg) out => _,
            factor = in(reg) factor.to_bits(),
            passes = in(reg) n / 4,
            lanes = in(reg) lanes.as_mut_ptr(),
            out("lr") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            options(nostack),
        );
    }
    lanes == [0; 4]
}
