//! RISC-V Vector (RVV 1.0) int8 kernel in `asm!`, integer instructions of the Zve32x
//! subset only (8-, 16- and 32-bit elements), which every Zve32f/V core implements.
//!
//! Per strip of `vl` elements (LMUL 4 at 8 bits: 64 elements at VLEN 128): one load of
//! the activations, one load per weight row, `vwmul.vv` to exact 16-bit products (an i8
//! product is at most 2^14 in magnitude), and `vwredsum.vs` of those products into a
//! 32-bit sum in element 0 of one register per weight row. No partial sum is ever held
//! in 16 bits, so the result is the exact i32 sum (wrapping, like
//! [`crate::generic::i8::dot_i8`]) at any vector length and strip length. The strips
//! handle any element count, so the kernel's block is one element and the frame has no
//! scalar tail.
//!
//! The 16-bit products of one strip fill an LMUL 8 group, so two rows at a time are
//! multiplied (at e8, LMUL 4) and then reduced (at e16, LMUL 8: the same SEW/LMUL ratio,
//! so `vsetvli zero, zero` keeps `vl`).
//!
//! The whole product ([`I8Dot::linear`]) quantizes each activation row with the shared
//! [`crate::quant::quantize_row`], runs one asm loop over all groups of 4 weight rows
//! (`riscvrvv_matvec_i8`, its sums stored as i32 into the output row), then applies
//! the frame's [`dequantize`] to each sum: bit-identical to the frame, without its
//! per-tile slicing.
//!
//! Availability: the f32 kernel's ([`super::f32`]): `AT_HWCAP` under `std`, the build's
//! `-C target-feature=+zve32f`/`+v` on firmware.
//!
//! Names follow `<arch><isa>_<op>_<dtype>_<tile>`.

use super::f32::Rvv;
use crate::frame::f32::{F32Simd, MR};
use crate::frame::i8::{dequantize, linear_i8, I8Dot};
use crate::quant::{Activations, I8Matrix, I8_MAX_K};
use core::arch::asm;

/// The RVV int8 kernel (Zve32x integer instructions).
#[derive(Debug, Clone, Copy)]
pub struct RvvI8(());

impl I8Dot for RvvI8 {
    const NAME: &'static str = "rvv-vwredsum";
    const BLOCK: usize = 1;

    fn detect() -> Option<Self> {
        <Rvv as F32Simd>::detect().map(|_| RvvI8(()))
    }

    fn dot_tile(self, x: &[i8], w: [&[i8]; MR], blocks: usize) -> [i32; MR] {
        let n = w.iter().fold(blocks.min(x.len()), |n, s| n.min(s.len()));
        // SAFETY: the vector extension is present (`self` exists only if `detect` found
        // it) and every slice holds at least `n` elements (just above).
        unsafe { riscvrvv_dot_i8_4x1(x, &w, n) }
    }

    fn linear(
        self,
        x: &[f32],
        w: I8Matrix,
        bias: Option<&[f32]>,
        k: usize,
        y: &mut [f32],
        act: &mut Activations,
    ) {
        if k == 0 || k > I8_MAX_K {
            return linear_i8(self, x, w, bias, k, y, act);
        }
        let rows = x.len() / k;
        let n = w.values.len() / k;
        // `None`: a bias shorter than the rows (the frame gives the missing ones 0).
        let bias_rows = match bias {
            Some(b) => b.get(..n).map(Some),
            None => Some(None),
        };
        // Fewer than 4 weight rows, or buffers the frame would handle otherwise: the frame.
        let (Some(q), Some(values), Some(scales), Some(bias_rows), true) = (
            act.values.get_mut(..k),
            w.values.get(..n * k),
            w.scales.get(..n),
            bias_rows,
            n >= MR && y.len() >= rows * n,
        ) else {
            return linear_i8(self, x, w, bias, k, y, act);
        };
        debug_assert_eq!(y.len(), rows * n, "y must be [rows, n]");
        for (x_row, y_row) in x.chunks_exact(k).zip(y.chunks_exact_mut(n)) {
            let sx = crate::quant::quantize_row(x_row, q);
            let sums = y_row.as_mut_ptr().cast::<i32>();
            // SAFETY: the vector extension is present (`self` exists only if `detect`
            // found it); `q` holds `k > 0` bytes, `values` `n * k`, `y_row` `n >= 4`
            // words. The last pass (when `n % 4 != 0`) recomputes the sums of the rows it
            // shares with the one before, before any is dequantized.
            unsafe {
                riscvrvv_matvec_i8(q, values.as_ptr(), k, n / MR, sums);
                if !n.is_multiple_of(MR) {
                    riscvrvv_matvec_i8(
                        q,
                        values.as_ptr().wrapping_add((n - MR) * k),
                        k,
                        1,
                        sums.wrapping_add(n - MR),
                    );
                }
            }
            dequantize_sums(y_row, sx, scales, bias_rows);
        }
    }
}

/// Replaces each i32 sum stored (as bits) in `y` by its [`dequantize`]d value with the
/// row's weight scale and bias (0 without bias).
#[inline(always)]
fn dequantize_sums(y: &mut [f32], sx: f32, scales: &[f32], bias: Option<&[f32]>) {
    match bias {
        Some(bias) => {
            for ((dst, &sw), &b) in y.iter_mut().zip(scales).zip(bias) {
                *dst = dequantize(dst.to_bits() as i32, sx, sw, b);
            }
        }
        None => {
            for (dst, &sw) in y.iter_mut().zip(scales) {
                *dst = dequantize(dst.to_bits() as i32, sx, sw, 0.0);
            }
        }
    }
}

/// The sums of the int8 row `x` (`k` bytes) with `4 * groups` consecutive weight rows of
/// `k` bytes from `w`, stored as i32 to `sums`: per group, the strip loop of
/// [`riscvrvv_dot_i8_4x1`] (24 instructions per strip) and 23 around it.
///
/// # Safety
/// The CPU must implement RVV 1.0 (`Zve32x` at least); `k > 0`, `groups > 0`, `x` holds
/// `k` bytes, `w` points at `4 * groups * k` readable bytes and `sums` at `4 * groups`
/// writable, 4-byte aligned words.
unsafe fn riscvrvv_matvec_i8(x: &[i8], w: *const i8, k: usize, groups: usize, sums: *mut i32) {
    // SAFETY: the loops read `k` bytes of `x` and `4 * groups * k` bytes from `w`, and
    // write `4 * groups` words to `sums` (the caller's contract); the asm writes only the
    // vector registers it declares and its own operands.
    unsafe {
        asm!(
            ".option push",
            ".option arch, +zve32x",
            "1:",
            // One 32-bit sum per weight row of this group, in element 0 of v28..v31.
            "vsetivli zero, 1, e32, m1, ta, ma",
            "vmv.s.x v28, zero",
            "vmv.s.x v29, zero",
            "vmv.s.x v30, zero",
            "vmv.s.x v31, zero",
            "mv {xp}, {x}",
            "mv {n}, {k}",
            "add {w1}, {w0}, {k}",
            "add {w2}, {w1}, {k}",
            "add {w3}, {w2}, {k}",
            "2:",
            "vsetvli {vl}, {n}, e8, m4, ta, ma",
            "vle8.v v0, ({xp})",
            "vle8.v v4, ({w0})",
            "vle8.v v24, ({w1})",
            "vwmul.vv v8, v0, v4",
            "vwmul.vv v16, v0, v24",
            "vsetvli zero, zero, e16, m8, ta, ma",
            "vwredsum.vs v28, v8, v28",
            "vwredsum.vs v29, v16, v29",
            "vsetvli zero, zero, e8, m4, ta, ma",
            "vle8.v v4, ({w2})",
            "vle8.v v24, ({w3})",
            "vwmul.vv v8, v0, v4",
            "vwmul.vv v16, v0, v24",
            "vsetvli zero, zero, e16, m8, ta, ma",
            "vwredsum.vs v30, v8, v30",
            "vwredsum.vs v31, v16, v31",
            "add {xp}, {xp}, {vl}",
            "add {w0}, {w0}, {vl}",
            "add {w1}, {w1}, {vl}",
            "add {w2}, {w2}, {vl}",
            "add {w3}, {w3}, {vl}",
            "sub {n}, {n}, {vl}",
            "bnez {n}, 2b",
            "vsetivli zero, 1, e32, m1, ta, ma",
            "vmv.x.s {t}, v28",
            "sw {t}, 0({sums})",
            "vmv.x.s {t}, v29",
            "sw {t}, 4({sums})",
            "vmv.x.s {t}, v30",
            "sw {t}, 8({sums})",
            "vmv.x.s {t}, v31",
            "sw {t}, 12({sums})",
            "addi {sums}, {sums}, 16",
            // The last row's pointer has moved past it: the next group's first row.
            "mv {w0}, {w3}",
            "addi {groups}, {groups}, -1",
            "bnez {groups}, 1b",
            ".option pop",
            x = in(reg) x.as_ptr(),
            k = in(reg) k,
            w0 = inout(reg) w => _,
            groups = inout(reg) groups => _,
            sums = inout(reg) sums => _,
            xp = out(reg) _,
            n = out(reg) _,
            w1 = out(reg) _,
            w2 = out(reg) _,
            w3 = out(reg) _,
            vl = out(reg) _,
            t = out(reg) _,
            out("v0") _, out("v1") _, out("v2") _, out("v3") _,
            out("v4") _, out("v5") _, out("v6") _, out("v7") _,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            out("v16") _, out("v17") _, out("v18") _, out("v19") _,
            out("v20") _, out("v21") _, out("v22") _, out("v23") _,
            out("v24") _, out("v25") _, out("v26") _, out("v27") _,
            out("v28") _, out("v29") _, out("v30") _, out("v31") _,
            options(nostack),
        );
    }
}

/// Four exact dot products of `x` with `w[0..4]` over `n` elements.
///
/// # Safety
/// The CPU must implement RVV 1.0 (`Zve32x` at least), and every slice must hold at least
/// `n` elements.
unsafe fn riscvrvv_dot_i8_4x1(x: &[i8], w: &[&[i8]; MR], n: usize) -> [i32; MR] {
    let (s0, s1, s2, s3): (i32, i32, i32, i32);
    // SAFETY: the loop reads `n` bytes from each pointer (the caller's contract); the asm
    // writes only the vector registers it declares and its own operands.
    unsafe {
        asm!(
            ".option push",
            ".option arch, +zve32x",
            // One 32-bit sum per weight row, in element 0 of v28..v31.
            "vsetivli zero, 1, e32, m1, ta, ma",
            "vmv.s.x v28, zero",
            "vmv.s.x v29, zero",
            "vmv.s.x v30, zero",
            "vmv.s.x v31, zero",
            "beqz {n}, 2f",
            "1:",
            "vsetvli {vl}, {n}, e8, m4, ta, ma",
            "vle8.v v0, ({x})",
            "vle8.v v4, ({w0})",
            "vle8.v v24, ({w1})",
            "vwmul.vv v8, v0, v4",
            "vwmul.vv v16, v0, v24",
            "vsetvli zero, zero, e16, m8, ta, ma",
            "vwredsum.vs v28, v8, v28",
            "vwredsum.vs v29, v16, v29",
            "vsetvli zero, zero, e8, m4, ta, ma",
            "vle8.v v4, ({w2})",
            "vle8.v v24, ({w3})",
            "vwmul.vv v8, v0, v4",
            "vwmul.vv v16, v0, v24",
            "vsetvli zero, zero, e16, m8, ta, ma",
            "vwredsum.vs v30, v8, v30",
            "vwredsum.vs v31, v16, v31",
            "add {x}, {x}, {vl}",
            "add {w0}, {w0}, {vl}",
            "add {w1}, {w1}, {vl}",
            "add {w2}, {w2}, {vl}",
            "add {w3}, {w3}, {vl}",
            "sub {n}, {n}, {vl}",
            "bnez {n}, 1b",
            "2:",
            "vsetivli zero, 1, e32, m1, ta, ma",
            "vmv.x.s {s0}, v28",
            "vmv.x.s {s1}, v29",
            "vmv.x.s {s2}, v30",
            "vmv.x.s {s3}, v31",
            ".option pop",
            x = inout(reg) x.as_ptr() => _,
            w0 = inout(reg) w[0].as_ptr() => _,
            w1 = inout(reg) w[1].as_ptr() => _,
            w2 = inout(reg) w[2].as_ptr() => _,
            w3 = inout(reg) w[3].as_ptr() => _,
            n = inout(reg) n => _,
            vl = out(reg) _,
            s0 = out(reg) s0,
            s1 = out(reg) s1,
            s2 = out(reg) s2,
            s3 = out(reg) s3,
            out("v0") _, out("v1") _, out("v2") _, out("v3") _,
            out("v4") _, out("v5") _, out("v6") _, out("v7") _,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            out("v16") _, out("v17") _, out("v18") _, out("v19") _,
            out("v20") _, out("v21") _, out("v22") _, out("v23") _,
            out("v24") _, out("v25") _, out("v26") _, out("v27") _,
            out("v28") _, out("v29") _, out("v30") _, out("v31") _,
            options(nostack, readonly),
        );
    }
    [s0, s1, s2, s3]
}
