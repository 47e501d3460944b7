//! RISC-V Vector (RVV 1.0) kernels for riscv64 and riscv32, in `asm!`.
//!
//! The kernels use only the Zve32f subset of the vector extension (32-bit elements,
//! single-precision arithmetic, no 64-bit element or double-precision instruction), the
//! embedded profile that microcontroller-class cores implement; the full `V` extension
//! of application cores includes it. The scalar code around them needs nothing wider than
//! the target's general registers (`usize` counts and pointers, `slli` by 2 for bytes) and
//! its single-precision float registers, so the same module builds for riscv64 Linux
//! (riscv64gc) and for rv32 firmware with hardware float (riscv32imafc).
//!
//! The vector length is the hardware's (any VLEN): each loop strip-mines its
//! `n = blocks * 4` elements with `vsetvli`. The accumulators are initialised over the
//! whole register group (VLMAX) and updated tail-undisturbed (`tu`), so a short last strip
//! leaves the other lanes' partial sums in place; one `vfredusum` per accumulator reduces
//! them at the end.
//!
//! The asm strings enable the extension locally (`.option arch, +zve32f`), so the
//! assembler refuses any instruction outside that subset. Where the crate is not
//! compiled with the extension (riscv64 Linux), no vector instruction appears outside
//! these kernels and a CPU without V never executes one: [`Rvv::detect`] reads `AT_HWCAP`
//! under `std`. Firmware has no runtime detection: there the kernel exists only in builds
//! that enable the extension for the whole crate (`-C target-feature=+zve32f` or `+v`),
//! which `build.rs` turns into the cfg `pf_rvv_static`, and such firmware must set
//! `mstatus.VS` before the first vector instruction.
//!
//! Names follow `<arch><isa>_<op>_<dtype>_<tile>`.

use crate::frame::f32::{F32Simd, MR};
use core::arch::asm;

/// RVV 1.0 with 32-bit float vectors (`V` or `Zve32f`); `LANES` = 4 is the frame's block
/// (VLEN 128's f32 count), not the hardware vector length.
#[derive(Debug, Clone, Copy)]
pub struct Rvv(());

/// `AT_HWCAP` bit of the `V` extension (bit `'V' - 'A'`).
#[cfg(all(feature = "std", target_os = "linux"))]
const HWCAP_V: u64 = 1 << (b'V' - b'A');

#[cfg(all(feature = "std", target_os = "linux"))]
unsafe extern "C" {
    /// glibc's auxiliary-vector lookup.
    fn getauxval(kind: u64) -> u64;
}

impl F32Simd for Rvv {
    const NAME: &'static str = "rvv";
    const LANES: usize = 4;
    const ALIGN: usize = 4;

    fn detect() -> Option<Self> {
        #[cfg(all(feature = "std", target_os = "linux"))]
        // SAFETY: getauxval has no preconditions; AT_HWCAP (16) is a valid key.
        let found = unsafe { getauxval(16) } & HWCAP_V != 0;
        #[cfg(not(all(feature = "std", target_os = "linux")))]
        let found = cfg!(pf_rvv_static);
        found.then_some(Rvv(()))
    }

    fn dot_tile<const ROWS: usize>(
        self,
        x: [&[f32]; ROWS],
        w: [&[f32]; MR],
        blocks: usize,
    ) -> [[f32; MR]; ROWS] {
        let blocks = x.iter().chain(&w).fold(blocks, |b, s| b.min(s.len() / 4));
        let n = blocks * 4;
        let mut out = [[0.0; MR]; ROWS];
        // Pairs of input rows through the 4 x 2 kernel, a last odd row through 4 x 1.
        let mut pairs = out.chunks_exact_mut(2);
        let mut rows = x.chunks_exact(2);
        for (sums, pair) in pairs.by_ref().zip(rows.by_ref()) {
            if let ([s0, s1], [x0, x1]) = (sums, pair) {
                // SAFETY: V is present (`self` exists only if `detect` found it) and every
                // slice holds at least `n` elements (just above).
                [*s0, *s1] = unsafe { riscvrvv_dot_f32_4x2(x0, x1, &w, n) };
            }
        }
        for (sums, x_row) in pairs.into_remainder().iter_mut().zip(rows.remainder()) {
            // SAFETY: as above.
            *sums = unsafe { riscvrvv_dot_f32_4x1(x_row, &w, n) };
        }
        out
    }

    fn dot_blocks(self, a: &[f32], b: &[f32], blocks: usize) -> f32 {
        let n = (blocks * 4).min(a.len()).min(b.len());
        // SAFETY: V is present (see `detect`); `n <= len` of both.
        unsafe { riscvrvv_dot_f32_1x1(a, b, n) }
    }

    fn axpy_blocks(self, alpha: f32, x: &[f32], y: &mut [f32], blocks: usize) {
        let n = (blocks * 4).min(x.len()).min(y.len());
        // SAFETY: V is present (see `detect`); `n <= len` of both.
        unsafe { riscvrvv_axpy_f32(alpha, x, y, n) }
    }

    // RMSNorm's sum of squares in the scalar reference's order: its 8 lanes as one vector
    // of 8 (products and sums rounded apart), its tree here.
    fn square_sum_blocks(self, x: &[f32], blocks: usize) -> f32 {
        let blocks = blocks.min(x.len() / 8);
        // SAFETY: V is present (see `detect`); `x` holds `blocks * 8` floats.
        let [l0, l1, l2, l3, l4, l5, l6, l7] = unsafe { riscvrvv_square_lanes(x, blocks) };
        ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7))
    }
}

/// The 8 lanes of the scalar reference's `dot(x, x)` over `blocks` blocks of 8: lane `j`
/// the sum, in order, of the squares of elements `j, j + 8, ...` (one vector of 8 at LMUL
/// 8, which holds 8 elements at every VLEN `Zve32f` allows).
///
/// # Safety
/// The CPU must implement RVV 1.0 (`Zve32f` at least), and `x` must hold at least
/// `blocks * 8` elements.
unsafe fn riscvrvv_square_lanes(x: &[f32], blocks: usize) -> [f32; 8] {
    let mut lanes = [0.0f32; 8];
    // SAFETY: the loop reads `blocks * 8` floats from `x` (the caller's contract) and
    // writes the 8 floats of `lanes`; the asm writes only the vector registers it
    // declares and its own operands.
    unsafe {
        asm!(
            ".option push",
            ".option arch, +zve32f",
            "vsetivli zero, 8, e32, m8, ta, ma",
            "vmv.v.i v16, 0",
            "beqz {n}, 2f",
            "1:",
            "vle32.v v0, ({x})",
            "vfmul.vv v0, v0, v0",
            "vfadd.vv v16, v16, v0",
            "addi {x}, {x}, 32",
            "addi {n}, {n}, -1",
            "bnez {n}, 1b",
            "2:",
            "vse32.v v16, ({out})",
            ".option pop",
            x = inout(reg) x.as_ptr() => _,
            n = inout(reg) blocks => _,
            out = in(reg) lanes.as_mut_ptr(),
            out("v0") _, out("v1") _, out("v2") _, out("v3") _,
            out("v4") _, out("v5") _, out("v6") _, out("v7") _,
            out("v16") _, out("v17") _, out("v18") _, out("v19") _,
            out("v20") _, out("v21") _, out("v22") _, out("v23") _,
            options(nostack),
        );
    }
    lanes
}

/// Four dot products of `x` with `w[0..4]` over `n` elements (LMUL 4: four accumulator
/// groups, one input group, the weight groups loaded one after another).
///
/// # Safety
/// The CPU must implement RVV 1.0 (`Zve32f` at least), and every slice must hold at least
/// `n` elements.
unsafe fn riscvrvv_dot_f32_4x1(x: &[f32], w: &[&[f32]; MR], n: usize) -> [f32; MR] {
    let (s0, s1, s2, s3): (f32, f32, f32, f32);
    // SAFETY: the loop reads `n` floats from each pointer (the caller's contract); the
    // asm writes only the vector registers it declares and its own operands.
    unsafe {
        asm!(
            ".option push",
            ".option arch, +zve32f",
            "vsetvli {vl}, zero, e32, m4, ta, ma",
            "vmv.v.i v16, 0",
            "vmv.v.i v20, 0",
            "vmv.v.i v24, 0",
            "vmv.v.i v28, 0",
            "beqz {n}, 2f",
            "1:",
            "vsetvli {vl}, {n}, e32, m4, tu, ma",
            "slli {step}, {vl}, 2",
            "vle32.v v0, ({x})",
            "vle32.v v4, ({w0})",
            "vle32.v v8, ({w1})",
            "vfmacc.vv v16, v0, v4",
            "vle32.v v12, ({w2})",
            "vfmacc.vv v20, v0, v8",
            "vle32.v v4, ({w3})",
            "vfmacc.vv v24, v0, v12",
            "vfmacc.vv v28, v0, v4",
            "add {x}, {x}, {step}",
            "add {w0}, {w0}, {step}",
            "add {w1}, {w1}, {step}",
            "add {w2}, {w2}, {step}",
            "add {w3}, {w3}, {step}",
            "sub {n}, {n}, {vl}",
            "bnez {n}, 1b",
            "2:",
            "vsetvli {vl}, zero, e32, m4, ta, ma",
            "vmv.s.x v0, zero",
            "vfredusum.vs v4, v16, v0",
            "vfmv.f.s {s0}, v4",
            "vfredusum.vs v4, v20, v0",
            "vfmv.f.s {s1}, v4",
            "vfredusum.vs v4, v24, v0",
            "vfmv.f.s {s2}, v4",
            "vfredusum.vs v4, v28, v0",
            "vfmv.f.s {s3}, v4",
            ".option pop",
            x = inout(reg) x.as_ptr() => _,
            w0 = inout(reg) w[0].as_ptr() => _,
            w1 = inout(reg) w[1].as_ptr() => _,
            w2 = inout(reg) w[2].as_ptr() => _,
            w3 = inout(reg) w[3].as_ptr() => _,
            n = inout(reg) n => _,
            vl = out(reg) _,
            step = out(reg) _,
            s0 = out(freg) s0,
            s1 = out(freg) s1,
            s2 = out(freg) s2,
            s3 = out(freg) s3,
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

/// `2 x 4` dot products of `x0`, `x1` with `w[0..4]` over `n` elements (LMUL 2: eight
/// accumulator groups; each weight group loaded once serves both input rows).
///
/// # Safety
/// The CPU must implement RVV 1.0 (`Zve32f` at least), and every slice must hold at least
/// `n` elements.
unsafe fn riscvrvv_dot_f32_4x2(
    x0: &[f32],
    x1: &[f32],
    w: &[&[f32]; MR],
    n: usize,
) -> [[f32; MR]; 2] {
    let (a0, a1, a2, a3, b0, b1, b2, b3): (f32, f32, f32, f32, f32, f32, f32, f32);
    // SAFETY: the loop reads `n` floats from each pointer (the caller's contract); the
    // asm writes only the vector registers it declares and its own operands.
    unsafe {
        asm!(
            ".option push",
            ".option arch, +zve32f",
            "vsetvli {vl}, zero, e32, m2, ta, ma",
            "vmv.v.i v16, 0",
            "vmv.v.i v18, 0",
            "vmv.v.i v20, 0",
            "vmv.v.i v22, 0",
            "vmv.v.i v24, 0",
            "vmv.v.i v26, 0",
            "vmv.v.i v28, 0",
            "vmv.v.i v30, 0",
            "beqz {n}, 2f",
            "1:",
            "vsetvli {vl}, {n}, e32, m2, tu, ma",
            "slli {step}, {vl}, 2",
            "vle32.v v0, ({x0})",
            "vle32.v v2, ({x1})",
            "vle32.v v4, ({w0})",
            "vle32.v v6, ({w1})",
            "vle32.v v8, ({w2})",
            "vle32.v v10, ({w3})",
            "vfmacc.vv v16, v0, v4",
            "vfmacc.vv v18, v0, v6",
            "vfmacc.vv v20, v0, v8",
            "vfmacc.vv v22, v0, v10",
            "vfmacc.vv v24, v2, v4",
            "vfmacc.vv v26, v2, v6",
            "vfmacc.vv v28, v2, v8",
            "vfmacc.vv v30, v2, v10",
            "add {x0}, {x0}, {step}",
            "add {x1}, {x1}, {step}",
            "add {w0}, {w0}, {step}",
            "add {w1}, {w1}, {step}",
            "add {w2}, {w2}, {step}",
            "add {w3}, {w3}, {step}",
            "sub {n}, {n}, {vl}",
            "bnez {n}, 1b",
            "2:",
            "vsetvli {vl}, zero, e32, m2, ta, ma",
            "vmv.s.x v0, zero",
            "vfredusum.vs v2, v16, v0",
            "vfmv.f.s {a0}, v2",
            "vfredusum.vs v2, v18, v0",
            "vfmv.f.s {a1}, v2",
            "vfredusum.vs v2, v20, v0",
            "vfmv.f.s {a2}, v2",
            "vfredusum.vs v2, v22, v0",
            "vfmv.f.s {a3}, v2",
            "vfredusum.vs v2, v24, v0",
            "vfmv.f.s {b0}, v2",
            "vfredusum.vs v2, v26, v0",
            "vfmv.f.s {b1}, v2",
            "vfredusum.vs v2, v28, v0",
            "vfmv.f.s {b2}, v2",
            "vfredusum.vs v2, v30, v0",
            "vfmv.f.s {b3}, v2",
            ".option pop",
            x0 = inout(reg) x0.as_ptr() => _,
            x1 = inout(reg) x1.as_ptr() => _,
            w0 = inout(reg) w[0].as_ptr() => _,
            w1 = inout(reg) w[1].as_ptr() => _,
            w2 = inout(reg) w[2].as_ptr() => _,
            w3 = inout(reg) w[3].as_ptr() => _,
            n = inout(reg) n => _,
            vl = out(reg) _,
            step = out(reg) _,
            a0 = out(freg) a0,
            a1 = out(freg) a1,
            a2 = out(freg) a2,
            a3 = out(freg) a3,
            b0 = out(freg) b0,
            b1 = out(freg) b1,
            b2 = out(freg) b2,
            b3 = out(freg) b3,
            out("v0") _, out("v1") _, out("v2") _, out("v3") _,
            out("v4") _, out("v5") _, out("v6") _, out("v7") _,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v16") _, out("v17") _, out("v18") _, out("v19") _,
            out("v20") _, out("v21") _, out("v22") _, out("v23") _,
            out("v24") _, out("v25") _, out("v26") _, out("v27") _,
            out("v28") _, out("v29") _, out("v30") _, out("v31") _,
            options(nostack, readonly),
        );
    }
    [[a0, a1, a2, a3], [b0, b1, b2, b3]]
}

/// One dot product over `n` elements (LMUL 8).
///
/// # Safety
/// The CPU must implement RVV 1.0 (`Zve32f` at least), and both slices must hold at least
/// `n` elements.
unsafe fn riscvrvv_dot_f32_1x1(a: &[f32], b: &[f32], n: usize) -> f32 {
    let sum: f32;
    // SAFETY: the loop reads `n` floats from each pointer (the caller's contract); the
    // asm writes only the vector registers it declares and its own operands.
    unsafe {
        asm!(
            ".option push",
            ".option arch, +zve32f",
            "vsetvli {vl}, zero, e32, m8, ta, ma",
            "vmv.v.i v16, 0",
            "beqz {n}, 2f",
            "1:",
            "vsetvli {vl}, {n}, e32, m8, tu, ma",
            "slli {step}, {vl}, 2",
            "vle32.v v0, ({a})",
            "vle32.v v8, ({b})",
            "vfmacc.vv v16, v0, v8",
            "add {a}, {a}, {step}",
            "add {b}, {b}, {step}",
            "sub {n}, {n}, {vl}",
            "bnez {n}, 1b",
            "2:",
            "vsetvli {vl}, zero, e32, m8, ta, ma",
            "vmv.s.x v0, zero",
            "vfredusum.vs v8, v16, v0",
            "vfmv.f.s {sum}, v8",
            ".option pop",
            a = inout(reg) a.as_ptr() => _,
            b = inout(reg) b.as_ptr() => _,
            n = inout(reg) n => _,
            vl = out(reg) _,
            step = out(reg) _,
            sum = out(freg) sum,
            out("v0") _, out("v1") _, out("v2") _, out("v3") _,
            out("v4") _, out("v5") _, out("v6") _, out("v7") _,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            out("v16") _, out("v17") _, out("v18") _, out("v19") _,
            out("v20") _, out("v21") _, out("v22") _, out("v23") _,
            options(nostack, readonly),
        );
    }
    sum
}

/// `y[i] += alpha * x[i]` over `n` elements (LMUL 8).
///
/// # Safety
/// The CPU must implement RVV 1.0 (`Zve32f` at least), and both slices must hold at least
/// `n` elements.
unsafe fn riscvrvv_axpy_f32(alpha: f32, x: &[f32], y: &mut [f32], n: usize) {
    // SAFETY: the loop reads `n` floats of `x` and reads and writes `n` floats of `y`
    // (the caller's contract; `y` is a unique borrow); the asm writes only the vector
    // registers it declares and its own operands.
    unsafe {
        asm!(
            ".option push",
            ".option arch, +zve32f",
            "beqz {n}, 2f",
            "1:",
            "vsetvli {vl}, {n}, e32, m8, ta, ma",
            "slli {step}, {vl}, 2",
            "vle32.v v0, ({x})",
            "vle32.v v8, ({y})",
            "vfmacc.vf v8, {alpha}, v0",
            "vse32.v v8, ({y})",
            "add {x}, {x}, {step}",
            "add {y}, {y}, {step}",
            "sub {n}, {n}, {vl}",
            "bnez {n}, 1b",
            "2:",
            ".option pop",
            x = inout(reg) x.as_ptr() => _,
            y = inout(reg) y.as_mut_ptr() => _,
            n = inout(reg) n => _,
            alpha = in(freg) alpha,
            vl = out(reg) _,
            step = out(reg) _,
            out("v0") _, out("v1") _, out("v2") _, out("v3") _,
            out("v4") _, out("v5") _, out("v6") _, out("v7") _,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            options(nostack),
        );
    }
}
