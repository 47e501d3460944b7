//! Arm DSP-extension int8 kernel (Cortex-M4/M7/M33/M55, Armv7-A): `SXTB16` splits a word
//! of four int8 values into two pairs of i16 (`[b0, b2]` and, rotated by 8, `[b1, b3]`),
//! and `SMLAD` adds both products of a pair to an i32 accumulator. The activation word
//! is split once and used against two weight rows; per 8 bytes and 2 rows the loop issues
//! 27 instructions for 16 multiply-accumulates. Plain `LDR` (the M-profile cores and
//! Armv7-A load unaligned words), so rows need no alignment.

use crate::frame::f32::MR;
use crate::frame::i8::I8Dot;
use crate::generic::attention_i8::{
    head_exp_weights, head_round_weighted_sum, head_scores, CacheHead,
};
use core::arch::asm;

/// One weight row's word of a block (in `$w`, loaded by the block), split by `SXTB16`
/// into `[b0, b2]` and (in r7) `[b1, b3]`, both multiplied into the sum `$sum` against
/// the activation pairs in `r4` and `r5`.
macro_rules! ROW {
    ($w:literal, $sum:literal) => {
        concat!(
            "sxtb16 r7, ",
            $w,
            ", ror #8\n",
            "sxtb16 ",
            $w,
            ", ",
            $w,
            "\n",
            "smlad ",
            $sum,
            ", r4, ",
            $w,
            ", ",
            $sum,
            "\n",
            "smlad ",
            $sum,
            ", r5, r7, ",
            $sum,
            "\n"
        )
    };
}

/// One block of [`arm_dsp_matvec_pairs`]: 4 activation values (`r0`: their two words of
/// pairs) against 4 weight rows (`r1`: row 0, `r1 + r3`: row 1, `r2`: row 2, `r2 + r3`:
/// row 3), sums in r8-r11. The weight words are loaded two at a time (rows 0 and 1 after
/// the activations' `LDRD`, then rows 2 and 3), so that the second load of each pair
/// pipelines (1 cycle on the Cortex-M4/M33, docs/cycles.md): 21 instructions and 25
/// estimated cycles per 16 multiply-accumulates (two `LDR` for the `LDRD` would save one
/// cycle more for one instruction more, over the instruction budgets).
macro_rules! BLOCK {
    () => {
        concat!(
            "ldrd r4, r5, [r0], #8\n",
            "ldr r6, [r1, r3]\n",
            "ldr lr, [r1], #4\n",
            ROW!("r6", "r9"),
            ROW!("lr", "r8"),
            "ldr r6, [r2, r3]\n",
            "ldr lr, [r2], #4\n",
            ROW!("r6", "r11"),
            ROW!("lr", "r10"),
        )
    };
}

/// Sets bit 0 of the register `$r` in Thumb code (an address loaded into pc selects the
/// instruction set by it), nothing in Arm code.
#[cfg(pf_thumb)]
macro_rules! ENTRY_THUMB_BIT {
    ($r:literal) => {
        concat!("orr ", $r, ", ", $r, ", #1")
    };
}

/// Sets bit 0 of the register `$r` in Thumb code, nothing in Arm code.
#[cfg(not(pf_thumb))]
macro_rules! ENTRY_THUMB_BIT {
    ($r:literal) => {
        ""
    };
}

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
        cache_scores_dk8(query, sq, keys, at, scores)
            .unwrap_or_else(|| head_scores(query, sq, keys, at, scores))
    }

    fn cache_exp_weights(
        self,
        scores: &mut [f32],
        largest: f32,
        values: &[u32],
        at: CacheHead,
    ) -> (f32, f32) {
        let rows = scores.len();
        let first_scale = at.value_words.saturating_add(at.head);
        let last = rows
            .checked_sub(1)
            .and_then(|r| r.checked_mul(at.row_words))
            .and_then(|r| r.checked_add(first_scale));
        match (last, values.get(first_scale..)) {
            (Some(last), Some(scales)) if last < values.len() => {
                // SAFETY: `rows > 0` scores, and the scale words of `rows` rows
                // (`row_words` apart from `scales`' first, the last at index `last`) lie
                // inside `values`; the FPU is present (this module's targets).
                unsafe { arm_fpu_exp_weights(scores, largest, scales, at.row_words) }
            }
            _ => head_exp_weights(scores, largest, values, at),
        }
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
        if cache_weighted_sum_dk8(weights, inv, values, at, factor, out).is_none() {
            head_round_weighted_sum(weights, inv, values, at, factor, out)
        }
    }
}

/// Where head `at.head`'s 8 values lie in `rows` cached rows of `cache` (`None` where the
/// head is not 8 values, or `cache` holds fewer rows): the words of the first row, from
/// the head's first value to the end of the last row's scale words (what the loops may
/// read), and the word offset of the head's scale from its first value.
#[inline(always)] // a few compares; out of line it costs a call per head and step
fn head_dk8_words(cache: &[u32], at: CacheHead, rows: usize) -> Option<(&[u32], usize)> {
    let scale_word = at.value_words.checked_add(at.head)?;
    if at.dk != 8 || rows == 0 || at.row_words <= scale_word {
        return None;
    }
    let first = at.head.checked_mul(2)?; // 8 values: two words per head
    if first.checked_add(2)? > at.value_words {
        return None;
    }
    let end = rows.checked_mul(at.row_words)?;
    let words = cache.get(first..end)?;
    // `first <= value_words <= scale_word` (just above): no wrap
    Some((words, scale_word.wrapping_sub(first)))
}

/// [`head_scores`] for 8-value heads: the query's 8 values (int8) packed into the pairs
/// `SXTB16` makes of a key word (`[q0, q2]`, `[q1, q3]`, `[q4, q6]`, `[q5, q7]`), the
/// integer dots of every key by [`arm_dsp_key_dots_dk8`] (14 instructions per key), then
/// the reference's float step per key. `None` where the shape is not that.
fn cache_scores_dk8(
    query: &mut [f32],
    sq: f32,
    keys: &[u32],
    at: CacheHead,
    scores: &mut [f32],
) -> Option<f32> {
    let rows = scores.len();
    let (words, scale_at) = head_dk8_words(keys, at, rows)?;
    let [q0, q1, q2, q3, q4, q5, q6, q7] = query.first_chunk::<8>()?.map(f32::to_bits);
    let pair = |lo: u32, hi: u32| (lo & 0xffff) | (hi << 16);
    let pairs = [pair(q0, q2), pair(q1, q3), pair(q4, q6), pair(q5, q7)];
    // SAFETY: `words` holds `rows` rows of `row_words` words from the head's first value
    // (`head_dk8_words`), so each row's two value words and its scale (at `scale_at`,
    // inside the row) are inside it; `scores` holds `rows > 0` words; the target has the
    // DSP extension (build.rs) and the FPU (this module).
    Some(unsafe { arm_dsp_key_scores_dk8(pairs, words, scale_at, at.row_words, sq, scores) })
}

/// One key of [`arm_dsp_key_scores_dk8`] (its operands by name): the dot, the score
/// stored, the largest kept (24 instructions; 21 with FPv5's `VMAXNM`).
macro_rules! KEY_SCORE_DK8 {
    () => {
        concat!(
            "ldr {k}, [{kp}]\n",
            "sxtb16 {ko}, {k}, ror #8\n",
            "sxtb16 {k}, {k}\n",
            "smuad {acc}, {q0}, {k}\n",
            "smlad {acc}, {q1}, {ko}, {acc}\n",
            "ldr {k}, [{kp}, #4]\n",
            "add {kp}, {kp}, {stride}\n",
            "sxtb16 {ko}, {k}, ror #8\n",
            "sxtb16 {k}, {k}\n",
            "smlad {acc}, {q2}, {k}, {acc}\n",
            "smlad {acc}, {q3}, {ko}, {acc}\n",
            "vmov s0, {acc}\n",
            "vcvt.f32.s32 s0, s0\n",
            "vldr s1, [{sp}]\n",
            "add {sp}, {sp}, {stride}\n",
            "vmul.f32 s1, s1, s2\n", // sq * sk
            "vmul.f32 s0, s0, s1\n",
            "vstmia {out}!, {{s0}}\n",
            super::f32::keep_larger!("s3", "s0"),
        )
    };
}

/// The scores of the 8 int8 query values (int16 halves, `pairs`, see [`cache_scores_dk8`])
/// against the first two words (8 int8 values) of every row of `keys` (`row_words` words apart):
/// the dot `d` by 4 `SMLAD` (exact), then [`head_scores`]' `d as f32 * (sq * sk)` with
/// `sk` the row's scale at word `scale_at`, and the largest (an unordered compare is never
/// greater): 24 instructions per key (21 with FPv5), two keys per pass. Returns the
/// largest (`-inf` for none).
///
/// # Safety
/// `scores` is not empty, `keys` holds `(scores.len() - 1) * row_words + max(2, scale_at +
/// 1)` words, and the CPU has the DSP extension (`SXTB16`, `SMLAD`) and the FPU.
#[inline(never)]
unsafe fn arm_dsp_key_scores_dk8(
    pairs: [u32; 4],
    keys: &[u32],
    scale_at: usize,
    row_words: usize,
    sq: f32,
    scores: &mut [f32],
) -> f32 {
    let [q0, q1, q2, q3] = pairs;
    let largest: u32;
    // SAFETY: the loop reads two value words and the scale of each of `scores.len()` rows
    // and writes each of `scores` once, in bounds by the caller's guarantee; only named
    // registers change.
    unsafe {
        asm!(
            // sq in s2, the largest in s3 (from -inf), through the temporaries
            "vmov s2, {acc}",
            "vmov s3, {k}",
            // two keys per pass; an odd count enters at the second
            "subs {ko}, {end}, {out}",
            "lsls {ko}, {ko}, #30", // carry: bit 2 of the byte count, the count's parity
            "bcs 2f",
            "1:",
            KEY_SCORE_DK8!(),
            "2:",
            KEY_SCORE_DK8!(),
            "cmp {out}, {end}",
            "bne 1b",
            "vmov {acc}, s3",
            q0 = in(reg) q0,
            q1 = in(reg) q1,
            q2 = in(reg) q2,
            q3 = in(reg) q3,
            kp = inout(reg) keys.as_ptr() => _,
            sp = inout(reg) keys.as_ptr().add(scale_at) => _,
            // the rows lie in one slice (the caller's contract): `4 * row_words` bytes fit
            stride = in(reg) row_words.wrapping_mul(4),
            out = inout(reg) scores.as_mut_ptr() => _,
            end = in(reg) scores.as_mut_ptr().add(scores.len()),
            k = inout(reg) f32::NEG_INFINITY.to_bits() => _,
            ko = out(reg) _,
            acc = inout(reg) sq.to_bits() => largest,
            out("s0") _,
            out("s1") _,
            out("s2") _,
            out("s3") _,
            options(nostack),
        );
    }
    f32::from_bits(largest)
}

/// [`crate::generic::attention_i8::exp_i8`]'s constants in the order
/// [`arm_fpu_exp_weights`] loads them into s20-s27: `log2 e`, `R`, `c4`, `c3`, `c2`, `c1`,
/// 1, the threshold.
static EXP_I8_CONSTANTS: [f32; 8] = {
    use crate::generic::attention_i8::{EXP_I8_LOG2_E, EXP_I8_P, EXP_I8_ROUND, EXP_I8_ZERO_BELOW};
    let [c4, c3, c2, c1] = EXP_I8_P;
    [
        EXP_I8_LOG2_E,
        EXP_I8_ROUND,
        c4,
        c3,
        c2,
        c1,
        1.0,
        EXP_I8_ZERO_BELOW,
    ]
};

/// One position of [`arm_fpu_exp_weights`]: `p = exp_i8(score - largest)` by the scalar
/// `exp_i8`'s operations in its order (plain `vmul`, `vadd`, `vsub`; `2^n` from the low
/// bits of `t + R`, `n + 127`, shifted into the exponent; largest in s14, the constants
/// in s20-s27, +0.0 in s13), `sum` (s15) `+= p`, the weight `p * sv` stored over the
/// score, the largest weight in s16 (an unordered compare is never greater).
macro_rules! exp_weight_position {
    () => {
        concat!(
            "vldr s8, [{s}]\n",
            "vsub.f32 s8, s8, s14\n",  // d = score - largest
            "vmul.f32 s9, s8, s20\n",  // t = d log2 e
            "vadd.f32 s10, s9, s21\n", // u = t + R: n + 127 in its low bits
            "vmov {bits}, s10\n",
            "vsub.f32 s10, s10, s21\n", // n
            "vsub.f32 s10, s9, s10\n",  // f = t - n
            "vmul.f32 s11, s10, s22\n", // Horner: c4 f
            "vadd.f32 s11, s11, s23\n",
            "vmul.f32 s11, s11, s10\n",
            "vadd.f32 s11, s11, s24\n",
            "vmul.f32 s11, s11, s10\n",
            "vadd.f32 s11, s11, s25\n",
            "vmul.f32 s11, s11, s10\n",
            "vadd.f32 s11, s11, s26\n",  // p
            "lsl {bits}, {bits}, #23\n", // 2^n
            "vmov s12, {bits}\n",
            "vmul.f32 s11, s11, s12\n",
            "vcmp.f32 s8, s27\n",
            "vmrs APSR_nzcv, fpscr\n",
            "it mi\n", // d < -87.33 (not NaN): 0
            "vmovmi.f32 s11, s13\n",
            "vadd.f32 s15, s15, s11\n", // sum
            "vldr s12, [{sv}]\n",
            "add {sv}, {sv}, {stride}\n",
            "vmul.f32 s11, s11, s12\n", // weight p * sv
            "vstmia {s}!, {{s11}}\n",
            super::f32::keep_larger!("s16", "s11"),
        )
    };
}

/// [`head_exp_weights`] in one pass (31 instructions per position, 28 with FPv5, two
/// positions per pass with the loop's 2):
/// the scale of row `j` at word `j * row_words` of `scales`.
///
/// # Safety
/// `scores` is not empty, `scales` holds `(scores.len() - 1) * row_words + 1` words, and
/// the CPU has the single-precision FPU.
#[inline(never)]
unsafe fn arm_fpu_exp_weights(
    scores: &mut [f32],
    largest: f32,
    scales: &[u32],
    row_words: usize,
) -> (f32, f32) {
    let (sum, w_max): (u32, u32);
    // SAFETY: reads and rewrites each of `scores`, reads the scale of each row and the 8
    // constants (the caller's contract); clobbers only the s-registers it names, its own
    // operands and the flags; no stack.
    unsafe {
        asm!(
            "vldmia {c}, {{s20-s27}}",
            // +0.0 without a general-purpose register: 0.5 - 0.5
            "vmov.f32 s13, #0.5",
            "vsub.f32 s13, s13, s13",
            "vmov s14, {largest}",
            "vmov.f32 s15, s13",
            "vmov.f32 s16, s13",
            // two positions per pass; an odd count enters at the second
            "subs {bits}, {end}, {s}",
            "lsls {bits}, {bits}, #30", // carry: bit 2 of the byte count, the count's parity
            "bcs 2f",
            "1:",
            exp_weight_position!(),
            "2:",
            exp_weight_position!(),
            "cmp {s}, {end}",
            "bne 1b",
            "vmov {sum}, s15",
            "vmov {w_max}, s16",
            c = in(reg) EXP_I8_CONSTANTS.as_ptr(),
            largest = in(reg) largest.to_bits(),
            s = inout(reg) scores.as_mut_ptr() => _,
            end = in(reg) scores.as_mut_ptr().add(scores.len()),
            sv = inout(reg) scales.as_ptr() => _,
            // the rows lie in one slice (the caller's contract): `4 * row_words` bytes fit
            stride = in(reg) row_words.wrapping_mul(4),
            bits = out(reg) _,
            sum = lateout(reg) sum,
            w_max = lateout(reg) w_max,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            out("s24") _, out("s25") _, out("s26") _, out("s27") _,
            options(nostack),
        );
    }
    (f32::from_bits(sum), f32::from_bits(w_max))
}

/// Positions per i32 accumulation of [`cache_weighted_sum_dk8`]: `512 * 32767 * 128 <
/// 2^31`, so no sum of int16 weights times int8 values wraps (the reference sums in i64).
const WEIGHTED_SUM_BLOCK: usize = 512;

/// [`head_round_weighted_sum`] for 8-value heads: per at most [`WEIGHTED_SUM_BLOCK`]
/// positions, one [`arm_dsp_round_weighted_sum_8`] pass (the rounding of the weights and
/// the 8 columns) into i32, added into i64 (exact sums, so the reference's bits; one block's i32 sums convert to
/// f32 as the i64 would, without the i64 conversion's library call). `None` (nothing
/// written) where the shape is not that.
fn cache_weighted_sum_dk8(
    weights: &mut [f32],
    inv: f32,
    values: &[u32],
    at: CacheHead,
    factor: f32,
    out: &mut [f32],
) -> Option<()> {
    let rows = weights.len();
    let (words, _) = head_dk8_words(values, at, rows)?;
    if rows <= WEIGHTED_SUM_BLOCK {
        // SAFETY: `weights` (not empty: `head_dk8_words`, at most `WEIGHTED_SUM_BLOCK`)
        // and its rows lie inside `words`, words 0 and 1 of each are the head's value
        // words; the target has the DSP extension and the FPU.
        let sums = unsafe { arm_dsp_round_weighted_sum_8(weights, inv, words, at.row_words) };
        // one block's sum is exact in i32, and `i32 as f32` rounds it as `i64 as f32` does
        for (o, &acc) in out.iter_mut().zip(&sums) {
            *o = acc as f32 * factor;
        }
        return Some(());
    }
    // Block `b`'s rows start at word `b * WEIGHTED_SUM_BLOCK * row_words` of `words`, which
    // holds all `rows` rows from the head's first value word (`head_dk8_words`: the rows'
    // two value words and scales, so every `get` below succeeds; none wraps).
    let block_words = WEIGHTED_SUM_BLOCK.wrapping_mul(at.row_words);
    let mut sums = [0i64; 8];
    let mut first = 0usize;
    for chunk in weights.chunks(WEIGHTED_SUM_BLOCK) {
        let Some(rows_from) = words.get(first..) else {
            break;
        };
        // SAFETY: `chunk` (not empty, at most `WEIGHTED_SUM_BLOCK` weights) and its rows
        // lie inside `words` (the rows of `weights`, `head_dk8_words`), words 0 and 1 of
        // each are the head's value words; the target has the DSP extension and the FPU.
        let partial = unsafe { arm_dsp_round_weighted_sum_8(chunk, inv, rows_from, at.row_words) };
        for (a, p) in sums.iter_mut().zip(partial) {
            // |sum| <= rows * 32767 * 128 < 2^63 for any slice's rows: no wrap
            *a = a.wrapping_add(i64::from(p));
        }
        first = first.wrapping_add(block_words);
    }
    for (o, &acc) in out.iter_mut().zip(&sums) {
        *o = acc as f32 * factor;
    }
    Some(())
}

/// One position of [`arm_dsp_round_weighted_sum_8`]: the weight at r0 rounded into r12,
/// the row's 8 values at r1 multiplied into r4-r11 (26 instructions).
macro_rules! ROUND_WEIGHTED_POSITION_8 {
    () => {
        concat!(
            "vldr s0, [r0]\n",
            "adds r0, r0, #4\n",
            "vmul.f32 s0, s0, s1\n",
            "vadd.f32 s0, s0, s2\n",
            "vcvt.s32.f32 s0, s0\n",
            "vmov r12, s0\n",
            "usat r12, #15, r12\n",
            "ldr lr, [r1]\n",
            "sxtb16 r3, lr, ror #8\n",
            "sxtb16 lr, lr\n",
            "smlabb r4, lr, r12, r4\n",
            "smlatb r6, lr, r12, r6\n",
            "smlabb r5, r3, r12, r5\n",
            "smlatb r7, r3, r12, r7\n",
            "ldr lr, [r1, #4]\n",
            "add r1, r1, r2\n",
            "sxtb16 r3, lr, ror #8\n",
            "sxtb16 lr, lr\n",
            "smlabb r8, lr, r12, r8\n",
            "smlatb r10, lr, r12, r10\n",
            "smlabb r9, r3, r12, r9\n",
            "smlatb r11, r3, r12, r11\n",
        )
    };
}

/// `sum_j qw_j * v_j[c]` for the 8 int8 values `c` of the first two words of every row of
/// `values` (`row_words` apart), each weight first rounded to its int16 `qw_j =
/// round_weight(w_j * inv)` (`VMUL`, `VADD` of 0.5, `VCVT` toward zero, which saturates
/// and gives 0 for NaN as `as i32` does, `USAT` to `0..=32767`: the clamp): `SXTB16`
/// pairs the row's bytes, `SMLABB`/`SMLATB` multiply each by the weight (26 instructions
/// per row, two rows per pass). The weights are only read.
///
/// # Safety
/// `weights` is not empty and holds at most [`WEIGHTED_SUM_BLOCK`] weights, `values` holds
/// `(weights.len() - 1) * row_words + 2` words, and the CPU has the DSP extension and the
/// FPU.
#[inline(never)]
unsafe fn arm_dsp_round_weighted_sum_8(
    weights: &[f32],
    inv: f32,
    values: &[u32],
    row_words: usize,
) -> [i32; 8] {
    let mut sums = [0i32; 8];
    // SAFETY: reads each weight and the first two words of each of `weights.len()` rows,
    // in bounds by the caller's guarantee, and writes the 8 words of `sums`. r4-r11 (the
    // 8 sums) and `sums`' address (r12) are saved on the stack and restored (sp is
    // restored); the other registers it writes are declared.
    unsafe {
        asm!(
            "push {{r4-r12}}",
            "vmov s1, lr",
            "vmov.f32 s2, #0.5",
            "vmov s3, r3",
            "movs r4, #0",
            "movs r5, #0",
            "movs r6, #0",
            "movs r7, #0",
            "mov r8, #0",
            "mov r9, #0",
            "mov r10, #0",
            "mov r11, #0",
            // two positions per pass; an odd count enters at the second
            "subs lr, r3, r0",
            "lsls lr, lr, #30", // carry: bit 2 of the byte count, the count's parity
            "bcs 2f",
            "1:",
            ROUND_WEIGHTED_POSITION_8!(),
            "2:",
            ROUND_WEIGHTED_POSITION_8!(),
            "vmov lr, s3",
            "cmp r0, lr",
            "bne 1b",
            "ldr lr, [sp, #32]",
            "stm lr, {{r4-r11}}",
            "pop {{r4-r12}}",
            inout("r0") weights.as_ptr() => _,
            inout("r1") values.as_ptr() => _,
            // the rows lie in one slice (the caller's contract): `4 * row_words` bytes fit
            in("r2") row_words.wrapping_mul(4),
            inout("r3") weights.as_ptr().add(weights.len()) => _,
            inout("r12") sums.as_mut_ptr() => _,
            inout("lr") inv.to_bits() => _,
            out("s0") _,
            out("s1") _,
            out("s2") _,
            out("s3") _,
        );
    }
    sums
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

/// Quantizes `x` exactly as [`crate::quant::quantize_row`] does (same scale, same integers) and
/// stores the integers the way the SMLAD loop consumes them: for each 4 values
/// `q0 q1 q2 q3`, the word `[q0, q2]` then the word `[q1, q3]` (sign-extended 16-bit
/// halves, low half first), which is what `SXTB16` makes of a weight word and of the
/// same word rotated by 8. `pairs` holds `2 * x.len().div_ceil(4)` words; a partial last
/// group is padded with zeros. Returns the scale.
#[inline(never)] // out of line: inlined, its setup spills into the caller's row loop
pub fn quantize_row_pairs(x: &[f32], pairs: &mut [u32]) -> f32 {
    // max |x| as the bits of the magnitude: the order of non-negative floats is the order
    // of their bits; a NaN (bits above infinity's) sends it to a second scan that skips
    // NaN, as `quantize_row`'s `f32::max` does. The asm takes whole blocks of 16 values;
    // the rest (none in the models' shapes) is done here value by value.
    let blocks = x.len() / 16;
    let (head, rest) = x.split_at(16 * blocks);
    let magnitude = |v: &f32| v.to_bits() & 0x7fff_ffff;
    let mut bits_max = rest
        .iter()
        .map(magnitude)
        .fold(max_magnitude_bits(head), u32::max);
    if bits_max > f32::INFINITY.to_bits() {
        bits_max = x
            .iter()
            .map(magnitude)
            .filter(|&bits| bits <= f32::INFINITY.to_bits())
            .fold(0, u32::max);
    }
    let amax = f32::from_bits(bits_max);
    if amax == 0.0 || !amax.is_finite() {
        pairs.fill(0);
        return if amax == 0.0 { 0.0 } else { amax };
    }
    let inv = crate::quant::I8_MAX / amax;
    // Whole groups in asm where the FPU is there; `inv` may be infinite only with a tiny
    // `amax` (below `127 / f32::MAX`), where the products need the clamp of `round_to_i8`.
    let mut done = 0;
    #[cfg(pf_arm_fpu)]
    if let (true, Some(head_pairs)) = (inv.is_finite() && blocks > 0, pairs.get_mut(..8 * blocks)) {
        // SAFETY: `head` holds `16 * blocks > 0` values and `head_pairs` `8 * blocks`
        // words; `inv` is finite (the case that needs no clamp).
        unsafe { arm_quantize_pairs(head, inv, head_pairs, blocks) };
        done = 16 * blocks;
    }
    if let (Some(x_rest), Some(p_rest)) = (x.get(done..), pairs.get_mut(done / 2..)) {
        if !x_rest.is_empty() {
            store_pairs(x_rest, inv, p_rest);
        }
    }
    amax / crate::quant::I8_MAX
}

/// `round_to_i8(v * inv)` for every `v` of `x`, stored in the layout of
/// [`quantize_row_pairs`]. `round_to_i8(p)` is `trunc(|p| + 0.5)` with the sign of `v` (that
/// of `p`, as `inv > 0`): `p - 0.5 == -(|p| + 0.5)` exactly, NaN gives 0 and `-0.0` gives 0;
/// with a finite `inv`, `|p| <= 127 * (1 + 2^-23)` rounds to at most 127, so the clamp
/// matters only for an infinite `inv` (one copy for both).
/// Value by value: only the tails and the tiny-`amax` case come here.
fn store_pairs(x: &[f32], inv: f32, pairs: &mut [u32]) {
    if let Some(words) = pairs.get_mut(..2 * x.len().div_ceil(4)) {
        words.fill(0);
    }
    for (i, &v) in x.iter().enumerate() {
        let t = (((v * inv).abs() + 0.5) as i32).min(127);
        let sign = (v.to_bits() as i32) >> 31;
        let q = (t ^ sign).wrapping_sub(sign) as u32 & 0xffff; // |t| <= 127: no wrap
        if let Some(word) = pairs.get_mut(2 * (i / 4) + (i & 1)) {
            *word |= q << (16 * ((i >> 1) & 1));
        }
    }
}

/// One value of [`max_magnitude_bits`] (in `$r`): `$r << 1` kept when above the running
/// maximum (`{m}`), 3 instructions.
macro_rules! MAX_MAGNITUDE_1 {
    ($r:literal) => {
        concat!(
            "cmp {m}, ",
            $r,
            ", lsl #1\n",
            "it lo\n",
            "lsllo {m}, ",
            $r,
            ", #1\n"
        )
    };
}

/// 8 values of [`max_magnitude_bits`] with one `LDM`: 25 instructions.
macro_rules! MAX_MAGNITUDE_8 {
    () => {
        concat!(
            "ldmia {x}!, {{r2, r3, r4, r5, r8, r10, r12, lr}}\n",
            MAX_MAGNITUDE_1!("r2"),
            MAX_MAGNITUDE_1!("r3"),
            MAX_MAGNITUDE_1!("r4"),
            MAX_MAGNITUDE_1!("r5"),
            MAX_MAGNITUDE_1!("r8"),
            MAX_MAGNITUDE_1!("r10"),
            MAX_MAGNITUDE_1!("r12"),
            MAX_MAGNITUDE_1!("lr"),
        )
    };
}

/// The bits of `max |v|` over the first `16 * (x.len() / 16)` values of `x` (NaN bits,
/// above infinity's, included): 3 instructions per value, `x << 1` compared unsigned, 32
/// values per iteration (four `LDM` of 8).
fn max_magnitude_bits(x: &[f32]) -> u32 {
    let blocks = x.len() / 16;
    if blocks == 0 {
        return 0;
    }
    let mut doubled = 0u32;
    // SAFETY: the loop reads `blocks` blocks of 16 words from `x`, which holds them.
    unsafe {
        asm!(
            // 32 values per pass, an odd block of 16 by entering the first pass halfway
            "adds {n}, {n}, #1",
            "lsrs {n}, {n}, #1",
            "bcs 1f",
            "b 2f",
            "1:",
            MAX_MAGNITUDE_8!(),
            MAX_MAGNITUDE_8!(),
            "2:",
            MAX_MAGNITUDE_8!(),
            MAX_MAGNITUDE_8!(),
            "subs {n}, {n}, #1",
            "bne 1b",
            x = inout(reg) x.as_ptr() => _,
            n = inout(reg) blocks => _,
            m = inout(reg) doubled,
            out("r2") _,
            out("r3") _,
            out("r4") _,
            out("r5") _,
            out("r8") _,
            out("r10") _,
            out("r12") _,
            out("lr") _,
            options(nostack, readonly),
        );
    }
    doubled >> 1
}

/// Packs the fixed-point values `m` of 4 products (single registers `$a`-`$d`, see
/// `QUANTIZE_PAIRS_16`) into one `STRD` of pairs: two `PKHBT` pack `[m0, m2]` and
/// `[m1, m3]`, and per 16-bit half `q = (m + (m >= 0)) >> 1` (`BIC` of the halves' sign
/// bits from `{k}` = `0x0001_0001`, then `SHADD16`), which is `floor(|p'| + 0.5)` with
/// the sign of `m`: 9 instructions.
macro_rules! PACK_PAIRS_4 {
    ($a:literal, $b:literal, $c:literal, $d:literal) => {
        concat!(
            "vmov r0, r1, ",
            $a,
            ", ",
            $b,
            "\n",
            "vmov r2, r3, ",
            $c,
            ", ",
            $d,
            "\n",
            "pkhbt r0, r0, r2, lsl #16\n",
            "pkhbt r1, r1, r3, lsl #16\n",
            "bic r2, {k}, r0, lsr #15\n",
            "bic r3, {k}, r1, lsr #15\n",
            "shadd16 r0, r0, r2\n",
            "shadd16 r1, r1, r3\n",
            "strd r0, r1, [{q}], #8"
        )
    };
}

/// `round_to_i8(p)` of the products `p = v * inv` of 16 values (`s0-s15` loaded from
/// `{x}` with one `VLDM`, `s16` = `inv`, `s17` = [`ROUNDING_NUDGE`]): `VMUL`, then `VFMA`
/// `p' = p + p * nudge` (one rounding), then `VCVT` toward zero to fixed point with 1
/// fraction bit, `m = trunc(2 p')`, then [`PACK_PAIRS_4`] per 4 values: 85 instructions.
macro_rules! QUANTIZE_PAIRS_16 {
    () => {
        concat!(
            "vldmia {x}!, {{s0-s15}}
        vmul.f32 s0, s0, s16
        vmul.f32 s1, s1, s16
        vmul.f32 s2, s2, s16
        vmul.f32 s3, s3, s16
        vmul.f32 s4, s4, s16
        vmul.f32 s5, s5, s16
        vmul.f32 s6, s6, s16
        vmul.f32 s7, s7, s16
        vmul.f32 s8, s8, s16
        vmul.f32 s9, s9, s16
        vmul.f32 s10, s10, s16
        vmul.f32 s11, s11, s16
        vmul.f32 s12, s12, s16
        vmul.f32 s13, s13, s16
        vmul.f32 s14, s14, s16
        vmul.f32 s15, s15, s16
        vfma.f32 s0, s0, s17
        vfma.f32 s1, s1, s17
        vfma.f32 s2, s2, s17
        vfma.f32 s3, s3, s17
        vfma.f32 s4, s4, s17
        vfma.f32 s5, s5, s17
        vfma.f32 s6, s6, s17
        vfma.f32 s7, s7, s17
        vfma.f32 s8, s8, s17
        vfma.f32 s9, s9, s17
        vfma.f32 s10, s10, s17
        vfma.f32 s11, s11, s17
        vfma.f32 s12, s12, s17
        vfma.f32 s13, s13, s17
        vfma.f32 s14, s14, s17
        vfma.f32 s15, s15, s17
        vcvt.s32.f32 s0, s0, #1
        vcvt.s32.f32 s1, s1, #1
        vcvt.s32.f32 s2, s2, #1
        vcvt.s32.f32 s3, s3, #1
        vcvt.s32.f32 s4, s4, #1
        vcvt.s32.f32 s5, s5, #1
        vcvt.s32.f32 s6, s6, #1
        vcvt.s32.f32 s7, s7, #1
        vcvt.s32.f32 s8, s8, #1
        vcvt.s32.f32 s9, s9, #1
        vcvt.s32.f32 s10, s10, #1
        vcvt.s32.f32 s11, s11, #1
        vcvt.s32.f32 s12, s12, #1
        vcvt.s32.f32 s13, s13, #1
        vcvt.s32.f32 s14, s14, #1
        vcvt.s32.f32 s15, s15, #1
",
            PACK_PAIRS_4!("s0", "s1", "s2", "s3"),
            "\n",
            PACK_PAIRS_4!("s4", "s5", "s6", "s7"),
            "\n",
            PACK_PAIRS_4!("s8", "s9", "s10", "s11"),
            "\n",
            PACK_PAIRS_4!("s12", "s13", "s14", "s15"),
        )
    };
}

/// `2^-25 * (1 + 2^-8)`: `p + p * ROUNDING_NUDGE` (fused) moves the one product whose
/// `p + 0.5` rounds up to the next integer in `round_to_i8` (`|p| = 0.5 - 2^-25`, where
/// `0.5 - 2^-25 + 0.5` rounds to 1.0) up to 0.5, and moves no other `|p| <= 127.00002`
/// across a half-integer (it adds less than half an ulp below 126.5 and at most one ulp
/// up to a power of two, which is an integer or 0.5). Checked exhaustively over every
/// f32 below 128 in magnitude: `floor(|p'| + 0.5)` with the sign of `p` equals
/// `round_to_i8(p)`.
pub(crate) const ROUNDING_NUDGE: f32 = f32::from_bits(((127 - 25) << 23) | (1 << 15));

/// `round_to_i8(v * inv)` for the `16 * blocks` values of `x` (finite `inv`), stored as
/// [`quantize_row_pairs`] does: `QUANTIZE_PAIRS_16` per iteration (87 instructions per
/// 16 values with the loop's 2).
///
/// # Safety
/// `blocks > 0`, `x` holds `16 * blocks` values and `pairs` `8 * blocks` words; the CPU
/// has the FPU (with `VFMA`) and the DSP extension.
#[cfg(pf_arm_fpu)]
unsafe fn arm_quantize_pairs(x: &[f32], inv: f32, pairs: &mut [u32], blocks: usize) {
    // SAFETY: the loop reads `16 * blocks` floats from `x` and writes `8 * blocks` words
    // to `pairs`, in bounds by the caller's guarantee; it writes only the registers it
    // names.
    unsafe {
        asm!(
            "vmov s16, {inv}",
            "vmov s17, {nudge}",
            "1:",
            QUANTIZE_PAIRS_16!(),
            "subs {n}, {n}, #1",
            "bne 1b",
            x = inout(reg) x.as_ptr() => _,
            q = inout(reg) pairs.as_mut_ptr() => _,
            n = inout(reg) blocks => _,
            inv = in(reg) inv.to_bits(),
            nudge = in(reg) ROUNDING_NUDGE.to_bits(),
            k = in(reg) 0x0001_0001u32,
            out("r0") _,
            out("r1") _,
            out("r2") _,
            out("r3") _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _,
            options(nostack),
        );
    }
}

/// The value of element `i` of a row stored by [`quantize_row_pairs`].
pub fn pair_value(pairs: &[u32], i: usize) -> i8 {
    let word = pairs.get(2 * (i / 4) + (i & 1)).copied().unwrap_or(0);
    (word >> (16 * ((i >> 1) & 1))) as i16 as i8
}

/// The int8 linear layer on the SMLAD kernel, bit-identical to
/// [`crate::generic::i8::linear_i8`]: each input row is quantized once into sign-extended
/// 16-bit pairs ([`quantize_row_pairs`]), then `arm_dsp_matvec_pairs` takes 4 weight rows
/// per pass, all sharing each `LDRD` of activations. Shapes the pass does not cover
/// (`k % 4 != 0`, fewer than 4 weight rows, an activation buffer below
/// [`crate::quant::activation_values`]`(1, k)`) go through `linear_i8_unbuffered`: no
/// model the engine runs has them.
pub fn linear_i8(
    x: &[f32],
    w: crate::quant::I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    act: &mut crate::quant::Activations,
) {
    if !linear_i8_pairs(x, w, bias, k, y, act) {
        linear_i8_unbuffered(x, w, bias, k, y, act.values.len());
    }
}

/// The scalar twin ([`crate::generic::i8::linear_i8`]: the same guards, `act_len` standing
/// for its buffer) in less code: no quantized row is stored, each activation is quantized
/// again for every weight row, with the same `amax` and rounding as
/// [`crate::quant::quantize_row`], so the integers and the results are the same. Slower
/// (one rounding per multiply-accumulate), but only the shapes no model has come here.
fn linear_i8_unbuffered(
    x: &[f32],
    w: crate::quant::I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    act_len: usize,
) {
    use crate::quant::{round_to_i8, I8_MAX};
    if k == 0 {
        y.fill(0.0);
        return;
    }
    let n = w.values.len() / k;
    if act_len < k || n == 0 {
        return;
    }
    // Index loops: zipped `chunks_exact` cost an out-of-line `Zip::new`. `r < x.len() / k`
    // and `r < y.len() / n`: the row bounds are inside the slices, no wrap.
    for r in 0..(x.len() / k).min(y.len() / n) {
        let (x_at, y_at) = (r.wrapping_mul(k), r.wrapping_mul(n));
        let (Some(x_row), Some(y_row)) = (
            x.get(x_at..x_at.wrapping_add(k)),
            y.get_mut(y_at..y_at.wrapping_add(n)),
        ) else {
            break;
        };
        // `quantize_row`'s `amax` (NaN skipped) from the bits of the magnitudes, as
        // `quantize_row_pairs` takes it. A zero or infinite `amax` quantizes every value
        // to 0 there; here `inv` is infinite or 0 and every product rounds to 0 (0 * inf
        // and NaN round to 0), and `sx` is `amax` itself.
        let bits_max = x_row
            .iter()
            .map(|v| v.to_bits() & 0x7fff_ffff)
            .filter(|&bits| bits <= f32::INFINITY.to_bits())
            .fold(0, u32::max);
        let amax = f32::from_bits(bits_max);
        let (inv, sx) = (I8_MAX / amax, amax / I8_MAX);
        for (o, dst) in y_row.iter_mut().enumerate() {
            // `o < n = w.values.len() / k`: inside the slice, no wrap
            let w_at = o.wrapping_mul(k);
            let Some(w_row) = w.values.get(w_at..w_at.wrapping_add(k)) else {
                break;
            };
            let acc = x_row.iter().zip(w_row).fold(0i32, |acc, (&v, &q)| {
                acc.wrapping_add(i32::from(round_to_i8(v * inv)) * i32::from(q))
            });
            let sw = w.scales.get(o).copied().unwrap_or(0.0);
            let b = bias.and_then(|b| b.get(o)).copied().unwrap_or(0.0);
            *dst = crate::frame::i8::dequantize(acc, sx, sw, b);
        }
    }
}

/// [`linear_i8`] on the SMLAD pass; false (nothing written) for a shape it does not cover.
fn linear_i8_pairs(
    x: &[f32],
    w: crate::quant::I8Matrix,
    bias: Option<&[f32]>,
    k: usize,
    y: &mut [f32],
    act: &mut crate::quant::Activations,
) -> bool {
    if k == 0 || !k.is_multiple_of(4) || k > crate::quant::I8_MAX_K {
        return false;
    }
    let rows = x.len() / k;
    let n = w.values.len() / k;
    // SAFETY: any 4 bytes are a valid u32; `align_to_mut` only splits the slice.
    let (_, pairs, _) = unsafe { act.values.align_to_mut::<u32>() };
    let (Some(pairs), Some(values), Some(scales), true) = (
        pairs.get_mut(..k / 2),
        w.values.get(..n.wrapping_mul(k)), // `n * k <= w.values.len()`: no wrap
        w.scales.get(..n),
        n >= 4 && rows.checked_mul(n).is_some_and(|m| y.len() >= m),
    ) else {
        return false;
    };
    debug_assert_eq!(y.len(), rows * n, "y must be [rows, n]");
    let bias = bias.map(|b| b.get(..n).unwrap_or(b));
    let groups = n / 4;
    // An index loop: the zipped `chunks_exact` pair costs an out-of-line call per product.
    for r in 0..rows {
        // `r < rows`: `x`'s row `r` and (checked above) `y`'s are inside the slices, no wrap
        let (x_at, y_at) = (r.wrapping_mul(k), r.wrapping_mul(n));
        let (Some(x_row), Some(y_row)) = (
            x.get(x_at..x_at.wrapping_add(k)),
            y.get_mut(y_at..y_at.wrapping_add(n)),
        ) else {
            break;
        };
        let sx = quantize_row_pairs(x_row, pairs);
        // The raw i32 sums go into `y_row` first (as f32 bits), then the epilogue turns
        // them into outputs. When `n % 4 != 0`, a last pass over rows `n - 4..n` rewrites
        // the same sums for the rows it shares with the others.
        // SAFETY: `pairs` holds `k / 2` words, `values` `n * k` bytes, `y_row` `n`
        // values; `k` is a positive multiple of 4 and `n >= 4`; the target has the DSP
        // extension (build.rs).
        unsafe {
            arm_dsp_matvec_pairs(
                pairs.as_ptr(),
                values.as_ptr(),
                groups,
                k,
                y_row.as_mut_ptr(),
            );
            if !n.is_multiple_of(4) {
                arm_dsp_matvec_pairs(
                    pairs.as_ptr(),
                    // `4 <= n` and `n * k` bytes lie in `values`: no wrap
                    values
                        .as_ptr()
                        .wrapping_add(n.wrapping_sub(4).wrapping_mul(k)),
                    1,
                    k,
                    y_row.as_mut_ptr().wrapping_add(n.wrapping_sub(4)),
                );
            }
        }
        dequantize_sums(y_row, sx, scales, bias);
    }
    true
}

/// The epilogue of [`linear_i8`] over one output row whose values hold the raw i32 sums:
/// `dequantize(sum, sx, sw, b)` in place, 8 rows per iteration in asm where the FPU is
/// there (`VMLA` multiplies, rounds, adds and rounds, as `acc * (sx * sw) + b` does;
/// without a bias, `b` is 0.0 as in [`crate::frame::i8::dequantize`]'s callers).
pub(crate) fn dequantize_sums(y_row: &mut [f32], sx: f32, scales: &[f32], bias: Option<&[f32]>) {
    // A static, not a local array: a local costs a `memclr` call per row.
    static ZEROS: [f32; 8] = [0.0; 8];
    let zeros = &ZEROS;
    #[cfg(pf_arm_fpu)]
    let done = {
        let octets = y_row
            .len()
            .min(scales.len())
            .min(bias.map_or(usize::MAX, <[f32]>::len))
            / 8;
        let (b, step) = match bias {
            Some(b) => (b.as_ptr(), 16usize),
            None => (zeros.as_ptr(), 0),
        };
        if octets > 0 {
            // SAFETY: the loop reads and writes `8 * octets` values of `y_row`, reads as
            // many of `scales` and (with `step` 16) of `bias`, or (`step` 0) the 8 of
            // `zeros` each time, all in bounds by the `octets` above; it writes only the
            // registers it names.
            unsafe {
                asm!(
                    "vmov s31, {sx}",
                    // 8 outputs per iteration; the last `len % 8` in Rust below
                    "3:",
                    "vldmia {y}, {{s0-s7}}",
                    "vcvt.f32.s32 s0, s0",
                    "vcvt.f32.s32 s1, s1",
                    "vcvt.f32.s32 s2, s2",
                    "vcvt.f32.s32 s3, s3",
                    "vcvt.f32.s32 s4, s4",
                    "vcvt.f32.s32 s5, s5",
                    "vcvt.f32.s32 s6, s6",
                    "vcvt.f32.s32 s7, s7",
                    "vldmia {sw}!, {{s8-s15}}",
                    "vmul.f32 s8, s31, s8",
                    "vmul.f32 s9, s31, s9",
                    "vmul.f32 s10, s31, s10",
                    "vmul.f32 s11, s31, s11",
                    "vmul.f32 s12, s31, s12",
                    "vmul.f32 s13, s31, s13",
                    "vmul.f32 s14, s31, s14",
                    "vmul.f32 s15, s31, s15",
                    "vldmia {b}, {{s16-s23}}",
                    "add {b}, {b}, {step}, lsl #1",
                    "vmla.f32 s16, s0, s8",
                    "vmla.f32 s17, s1, s9",
                    "vmla.f32 s18, s2, s10",
                    "vmla.f32 s19, s3, s11",
                    "vmla.f32 s20, s4, s12",
                    "vmla.f32 s21, s5, s13",
                    "vmla.f32 s22, s6, s14",
                    "vmla.f32 s23, s7, s15",
                    "vstmia {y}!, {{s16-s23}}",
                    "subs {n}, {n}, #1",
                    "bne 3b",
                    sx = in(reg) sx.to_bits(),
                    y = inout(reg) y_row.as_mut_ptr() => _,
                    sw = inout(reg) scales.as_ptr() => _,
                    b = inout(reg) b => _,
                    step = in(reg) step,
                    n = inout(reg) octets => _,
                    out("s0") _, out("s1") _, out("s2") _, out("s3") _,
                    out("s4") _, out("s5") _, out("s6") _, out("s7") _,
                    out("s8") _, out("s9") _, out("s10") _, out("s11") _,
                    out("s12") _, out("s13") _, out("s14") _, out("s15") _,
                    out("s16") _, out("s17") _, out("s18") _, out("s19") _,
                    out("s20") _, out("s21") _, out("s22") _, out("s23") _,
                    out("s31") _,
                    options(nostack),
                );
            }
        }
        8 * octets
    };
    #[cfg(not(pf_arm_fpu))]
    let done = 0;
    for o in done..y_row.len() {
        if let (Some(dst), Some(&sw)) = (y_row.get_mut(o), scales.get(o)) {
            let b = bias.and_then(|b| b.get(o)).copied().unwrap_or(0.0);
            *dst = crate::frame::i8::dequantize(dst.to_bits() as i32, sx, sw, b);
        }
    }
}

/// The sums of one activation row in the layout of [`quantize_row_pairs`] with `4 *
/// groups` consecutive weight rows of `k` bytes, stored as i32 to `sums` (which may be
/// the f32 output row: the epilogue converts them in place). One asm loop over all row
/// groups; per 4 values and 4 rows, one `LDRD` of activations and per row one `LDR`, two
/// `SXTB16`, two `SMLAD` (rows 1 and 3 addressed at offset `k` from rows 0 and 2); the
/// loop takes 64 values per pass, the first pass entering its body where the passes
/// add up to `k` (one body for every `k`, no tail loop).
///
/// # Safety
/// `k` is a positive multiple of 4, `groups > 0`, `pairs` points at `k / 2` readable words,
/// `w` points at `4 * groups * k` readable bytes and `sums` at `4 * groups` writable
/// words; the CPU has the DSP extension and unaligned word loads.
#[inline(never)] // two callers (all groups, then the `n % 4` tail group): one copy
unsafe fn arm_dsp_matvec_pairs(
    pairs: *const u32,
    w: *const i8,
    groups: usize,
    k: usize,
    sums: *mut f32,
) {
    // SAFETY: the loops read `k / 2` words of `pairs` per group and `k` bytes of each
    // weight row, and write 4 words of `sums` per group, in bounds by the caller's
    // guarantee; the computed branch lands on a block boundary of the loop's body (the
    // blocks are identical instructions, so of equal size). r4-r11 are saved on the
    // stack and restored; below them the asm keeps `x`, four zero words, the pass count,
    // the entry (one `LDM` per group resets `x`, the 4 sums and the pass count and jumps
    // to the entry, its instruction set bit set as the code's), the end of `sums` and the
    // next group's sums (sp is restored); the other registers it writes are declared.
    unsafe {
        asm!(
            "push {{r4-r11}}",
            "add r10, lr, r2, lsl #4",
            // passes of the loop per group: ceil(k / 64); the first one enters the
            // 16 blocks at block `(-k / 4) % 16`, so that all passes add up to `k / 4`
            "add r8, r3, #60",
            "lsrs r8, r8, #6",
            "lsrs r5, r3, #2",
            "rsb r5, r5, #0",
            "and r5, r5, #15",
            "adr r6, 10f",
            "adr r7, 11f",
            "sub r7, r7, r6",
            "mla r9, r5, r7, r6",
            // the `LDM` below loads the entry into pc, which selects the instruction set
            // by bit 0 (`ADR` gives it clear): set in Thumb code
            ENTRY_THUMB_BIT!("r9"),
            "movs r4, #0",
            "movs r5, #0",
            "movs r6, #0",
            "movs r7, #0",
            "push {{r0, r4, r5, r6, r7, r8, r9, r10, lr}}",
            // stack: x, 0, 0, 0, 0, passes, entry, end of sums, sums (lr is a weight
            // register in the blocks)
            "2:",
            "add r2, r1, r3, lsl #1",
            // x, the 4 sums, the pass count, and the jump to the entry
            "ldm sp, {{r0, r8, r9, r10, r11, r12, pc}}",
            // word-aligned (as the blocks' size is a multiple of 4): `ADR` to an unaligned
            // Thumb label may come out 2 bytes off
            ".p2align 2",
            // written out, not `.rept`: LLVM sizes inline asm by its lines when it places
            // the function's literal pool (ARM mode reaches only 4 KiB)
            "10:",
            BLOCK!(),
            "11:",
            BLOCK!(),
            BLOCK!(),
            BLOCK!(),
            BLOCK!(),
            BLOCK!(),
            BLOCK!(),
            BLOCK!(),
            BLOCK!(),
            BLOCK!(),
            BLOCK!(),
            BLOCK!(),
            BLOCK!(),
            BLOCK!(),
            BLOCK!(),
            BLOCK!(),
            "subs r12, r12, #1",
            "bne 10b",
            "ldr r12, [sp, #32]",
            "stmia r12!, {{r8-r11}}",
            "str r12, [sp, #32]",
            "ldr r4, [sp, #28]",
            "add r1, r2, r3",
            "cmp r12, r4",
            "bne 2b",
            "add sp, sp, #36",
            "pop {{r4-r11}}",
            inout("r0") pairs => _,
            inout("r1") w => _,
            inout("r2") groups => _,
            inout("r3") k => _,
            inout("lr") sums => _,
            out("r12") _,
        );
    }
}
