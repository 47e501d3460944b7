//! Arm DSP-extension int8 kernel (Cortex-M4/M7/M33/M55, Armv7-A): `SXTB16` splits a word
//! of four int8 values into two pairs of i16 (`[b0, b2]` and, rotated by 8, `[b1, b3]`),
//! and `SMLAD` adds both products of a pair to an i32 accumulator. The activation word
//! is split once and used against two weight rows; per 8 bytes and 2 rows the loop issues
//! 27 instructions for 16 multiply-accumulates. Plain `LDR` (the M-profile cores and
//! Armv7-A load unaligned words), so rows need no alignment.

use super::{I8Dot, MR};
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

/// Quantizes `x` exactly as [`super::quantize_row`] does (same scale, same integers) and
/// stores the integers the way the SMLAD loop consumes them: for each 4 values
/// `q0 q1 q2 q3`, the word `[q0, q2]` then the word `[q1, q3]` (sign-extended 16-bit
/// halves, low half first), which is what `SXTB16` makes of a weight word and of the
/// same word rotated by 8. `pairs` holds `2 * x.len().div_ceil(4)` words; a partial last
/// group is padded with zeros. Returns the scale.
pub fn quantize_row_pairs(x: &[f32], pairs: &mut [u32]) -> f32 {
    // max |x| as the bits of the magnitude: the order of non-negative floats is the order
    // of their bits; a NaN (bits above infinity's) sends the scan to the float fold,
    // which skips NaN as `quantize_row` does.
    let bits_max = x
        .iter()
        .fold(0u32, |m, &v| m.max(v.to_bits() & 0x7fff_ffff));
    let amax = if bits_max > f32::INFINITY.to_bits() {
        x.iter().fold(0.0f32, |m, &v| m.max(v.abs()))
    } else {
        f32::from_bits(bits_max)
    };
    if amax == 0.0 || !amax.is_finite() {
        pairs.fill(0);
        return if amax == 0.0 { 0.0 } else { amax };
    }
    let inv = super::I8_MAX / amax;
    // With a tiny `amax` (below `127 / f32::MAX`) `inv` is infinite and the products
    // need the clamp of `round_to_i8`; otherwise they stay within 127 without it.
    if inv.is_finite() {
        store_pairs::<false>(x, inv, pairs);
    } else {
        store_pairs::<true>(x, inv, pairs);
    }
    amax / super::I8_MAX
}

/// `round_to_i8(v * inv)` for every `v` of `x`, stored in the layout of
/// [`quantize_row_pairs`]. `round_to_i8(p)` is `trunc(|p| + 0.5)` with the sign of `v` (that
/// of `p`, as `inv > 0`): `p - 0.5 == -(|p| + 0.5)` exactly, NaN gives 0 and `-0.0` gives 0;
/// with a finite `inv`, `|p| <= 127 * (1 + 2^-23)` rounds to at most 127, so only an
/// infinite `inv` needs the clamp (`CLAMP`).
#[inline(always)]
fn store_pairs<const CLAMP: bool>(x: &[f32], inv: f32, pairs: &mut [u32]) {
    let q = |v: f32| -> u32 {
        let mut t = ((v * inv).abs() + 0.5) as i32;
        if CLAMP {
            t = t.min(127);
        }
        let sign = (v.to_bits() as i32) >> 31;
        ((t ^ sign) - sign) as u32 & 0xffff
    };
    let groups = x.chunks_exact(4);
    let tail = groups.remainder();
    let mut words = pairs.chunks_exact_mut(2);
    for (g, w) in groups.zip(&mut words) {
        if let ([v0, v1, v2, v3], [even, odd]) = (g, w) {
            *even = q(*v0) | q(*v2) << 16;
            *odd = q(*v1) | q(*v3) << 16;
        }
    }
    if let Some([even, odd]) = words.next() {
        let at = |i: usize| tail.get(i).map_or(0, |&v| q(v));
        *even = at(0) | at(2) << 16;
        *odd = at(1) | at(3) << 16;
    }
}

/// The value of element `i` of a row stored by [`quantize_row_pairs`].
pub fn pair_value(pairs: &[u32], i: usize) -> i8 {
    let word = pairs.get(2 * (i / 4) + (i & 1)).copied().unwrap_or(0);
    (word >> (16 * ((i >> 1) & 1))) as i16 as i8
}

/// The int8 linear layer on the SMLAD kernel, bit-identical to
/// [`super::scalar::linear_i8`]: each input row is quantized once into sign-extended
/// 16-bit pairs ([`quantize_row_pairs`]), then [`arm_dsp_dot_pairs_4`] takes 4 weight rows
/// per pass, all sharing each `LDRD` of activations. Shapes the pass does not cover
/// (`k % 4 != 0`, fewer than 4 weight rows, an activation buffer below
/// [`super::activation_values`]`(1, k)`) go through the generic frame with [`Smlad`].
pub fn linear_i8(
    x: &[f32],
    w: super::I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    act: &mut super::Activations,
) {
    if k == 0 || !k.is_multiple_of(4) || k > super::I8_MAX_K {
        return super::linear_i8(Smlad(()), x, w, bias, k, y, act);
    }
    let rows = x.len() / k;
    let n = w.values.len() / k;
    // SAFETY: any 4 bytes are a valid u32; `align_to_mut` only splits the slice.
    let (_, pairs, _) = unsafe { act.values.align_to_mut::<u32>() };
    let pairs = pairs.get_mut(..k / 2);
    let (Some(pairs), true) = (pairs, n >= 4 && y.len() >= rows * n) else {
        return super::linear_i8(Smlad(()), x, w, bias, k, y, act);
    };
    debug_assert_eq!(y.len(), rows * n, "y must be [rows, n]");
    let Some(values) = w.values.get(..n * k) else {
        return;
    };
    for (x_row, y_row) in x.chunks_exact(k).zip(y.chunks_exact_mut(n)) {
        let sx = quantize_row_pairs(x_row, pairs);
        let mut o = 0;
        while o < n {
            // The last pass overlaps the previous one when `n % 4 != 0` (it rewrites the
            // same values).
            let first = o.min(n - 4);
            let Some(w_rows) = values.get(first * k..(first + 4) * k) else {
                break;
            };
            // SAFETY: `pairs` holds `k / 2` words and `w_rows` 4 rows of `k` bytes, `k` a
            // positive multiple of 4; the target has the DSP extension (build.rs).
            let sums = unsafe { arm_dsp_dot_pairs_4(pairs, w_rows, k) };
            for (m, acc) in sums.into_iter().enumerate() {
                let row = first + m;
                let sw = w.scales.get(row).copied().unwrap_or(0.0);
                let b = bias.and_then(|b| b.get(row)).copied().unwrap_or(0.0);
                if let Some(dst) = y_row.get_mut(row) {
                    *dst = super::dequantize(acc, sx, sw, b);
                }
            }
            o = first + 4;
        }
    }
}

/// Dot products of one activation row in the layout of [`quantize_row_pairs`] with 4
/// consecutive weight rows of `k` bytes (`w` row-major): per 4 values, one `LDRD` of
/// activations shared by the 4 rows, and per row one `LDR`, two `SXTB16`, two `SMLAD`.
///
/// # Safety
/// `k` is a positive multiple of 4, `pairs` holds at least `k / 2` words and `w` at least
/// `4 * k` bytes; the CPU has the DSP extension and unaligned word loads.
#[inline(never)]
unsafe fn arm_dsp_dot_pairs_4(pairs: &[u32], w: &[i8], k: usize) -> [i32; 4] {
    let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
    // SAFETY: the loops read `k / 4` pairs of words from `pairs` and `blocks` words from
    // each of the 4 rows (rows 1 and 3 at offset `k` from the pointers of rows 0 and 2),
    // in bounds by the caller's guarantee; it writes only the registers it names.
    unsafe {
        asm!(
                        // blocks of 16 values, then single blocks of 4
            "lsrs {n}, {k}, #4",
            "beq 3f",
            "1:",
            ".rept 4",
            "ldrd r4, r5, [{x}], #8",
            "ldr {t}, [{w0}, {k}]",
            "sxtb16 lr, {t}, ror #8",
            "sxtb16 {t}, {t}",
            "smlad {a1}, r4, {t}, {a1}",
            "smlad {a1}, r5, lr, {a1}",
            "ldr {t}, [{w0}], #4",
            "sxtb16 lr, {t}, ror #8",
            "sxtb16 {t}, {t}",
            "smlad {a0}, r4, {t}, {a0}",
            "smlad {a0}, r5, lr, {a0}",
            "ldr {t}, [{w2}, {k}]",
            "sxtb16 lr, {t}, ror #8",
            "sxtb16 {t}, {t}",
            "smlad {a3}, r4, {t}, {a3}",
            "smlad {a3}, r5, lr, {a3}",
            "ldr {t}, [{w2}], #4",
            "sxtb16 lr, {t}, ror #8",
            "sxtb16 {t}, {t}",
            "smlad {a2}, r4, {t}, {a2}",
            "smlad {a2}, r5, lr, {a2}",
            ".endr",
            "subs {n}, {n}, #1",
            "bne 1b",
            "3:",
            "ands {n}, {k}, #12",
            "beq 5f",
            "4:",
            "ldrd r4, r5, [{x}], #8",
            "ldr {t}, [{w0}, {k}]",
            "sxtb16 lr, {t}, ror #8",
            "sxtb16 {t}, {t}",
            "smlad {a1}, r4, {t}, {a1}",
            "smlad {a1}, r5, lr, {a1}",
            "ldr {t}, [{w0}], #4",
            "sxtb16 lr, {t}, ror #8",
            "sxtb16 {t}, {t}",
            "smlad {a0}, r4, {t}, {a0}",
            "smlad {a0}, r5, lr, {a0}",
            "ldr {t}, [{w2}, {k}]",
            "sxtb16 lr, {t}, ror #8",
            "sxtb16 {t}, {t}",
            "smlad {a3}, r4, {t}, {a3}",
            "smlad {a3}, r5, lr, {a3}",
            "ldr {t}, [{w2}], #4",
            "sxtb16 lr, {t}, ror #8",
            "sxtb16 {t}, {t}",
            "smlad {a2}, r4, {t}, {a2}",
            "smlad {a2}, r5, lr, {a2}",
            "subs {n}, {n}, #4",
            "bne 4b",
            "5:",
                        x = inout(reg) pairs.as_ptr() => _,
            w0 = inout(reg) w.as_ptr() => _,
            w2 = inout(reg) w.as_ptr().wrapping_add(2 * k) => _,
            k = in(reg) k,
            n = out(reg) _,
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            a2 = inout(reg) a2,
            a3 = inout(reg) a3,
            // r4/r5: LDRD in A32 (the qemu-arm tests) wants an even, consecutive pair
            out("r4") _,
            out("r5") _,
            t = out(reg) _,
            out("lr") _,
            options(nostack, readonly),
        );
    }
    [a0, a1, a2, a3]
}
