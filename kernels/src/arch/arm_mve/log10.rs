//! `log10f` four lanes at a time, bit for bit libm's (the log-mel front end's logarithms).
//!
//! libm's `log10f` (FreeBSD's `e_log10f.c`) is, for a positive normal finite `x`, a fixed
//! sequence of integer steps, one division and f32 multiplies and adds, each rounded once
//! (no fused multiply-add): the same steps on Helium's lanes give the same bits. Helium
//! has no vector division, so the one division runs on the four lanes' `s` registers (the
//! `q` registers alias them). Other inputs (zero, negative, subnormal, infinite, NaN)
//! take libm's own branches: a row holding one goes through libm whole.

use core::arch::asm;

/// libm's `log10f` constants, in the order the kernel loads them (`ldr` offsets 0..36).
#[repr(C, align(16))]
struct Log10Constants([u32; 10]);

static LOG10_CONSTANTS: Log10Constants = Log10Constants([
    0x3f2a_aaaa, // LG1 = 0.66666662693  (0xaaaaaa.0p-24)
    0x3ecc_ce13, // LG2 = 0.40000972152  (0xccce13.0p-25)
    0x3e91_e9ee, // LG3 = 0.28498786688  (0x91e9ee.0p-25)
    0x3e78_9e26, // LG4 = 0.24279078841  (0xf89e26.0p-26)
    0x3f00_0000, // 0.5
    0x3e9a_2080, // LOG10_2HI
    0x3554_27db, // LOG10_2LO
    0x3ede_6000, // IVLN10HI
    0xb804_ead9, // IVLN10LO
    0x4000_0000, // 2.0
]);

/// Whether libm's `log10f` takes its main path for `x`: positive, normal, finite (the
/// kernel's domain).
#[inline]
fn in_domain(x: f32) -> bool {
    (0x0080_0000..0x7f80_0000).contains(&x.to_bits())
}

/// `x[i] = libm::log10f(x[i])`, bit for bit, for every element.
pub(crate) fn log10(x: &mut [f32]) {
    if x.iter().all(|&v| in_domain(v)) {
        // SAFETY: MVE is present (this module is compiled for Cortex-M55 only); the
        // kernel reads and writes exactly `x.len()` floats of `x`, all in its domain.
        unsafe { arm_mve_log10(x) }
    } else {
        for v in x.iter_mut() {
            *v = libm::log10f(*v);
        }
    }
}

/// The body of libm's `log10f` for positive normal finite inputs, four lanes at a time:
///
/// ```text
/// ix = bits(x) + (0x3f800000 − 0x3f3504f3);  k = (ix >> 23) − 0x7f
/// m = from_bits((ix & 0x007fffff) + 0x3f3504f3)   (x = 2^k m, m in [√2/2, √2))
/// f = m − 1;  s = f / (2 + f);  z = s s;  w = z z
/// r = z (LG1 + w LG3) + w (LG2 + w LG4);  hfsq = 0.5 f f
/// hi = bits(f − hfsq) & 0xfffff000;  lo = f − hi − hfsq + s (hfsq + r)
/// dk LOG10_2LO + (lo + hi) IVLN10LO + lo IVLN10HI + hi IVLN10HI + dk LOG10_2HI
/// ```
///
/// each operation rounded once, in libm's order (left to right).
///
/// # Safety
/// The CPU must implement MVE with floating point; every element of `x` must be positive,
/// normal and finite (elsewhere the result is not libm's).
#[inline(never)]
unsafe fn arm_mve_log10(x: &mut [f32]) {
    // SAFETY: the tail-predicated loop reads and writes exactly `x.len()` floats of `x`
    // (a unique borrow) and reads the 40 bytes of `LOG10_CONSTANTS` (16-byte aligned);
    // the scalar divisions of a last, partial vector divide stale lanes, whose results
    // are never stored (and raise no trap: exceptions only set FPSCR flags); the asm
    // clobbers only the registers it names and does not touch the stack.
    unsafe {
        asm!(
            "cmp {n}, #0",
            "beq 2f",
            "dlstp.32 lr, {n}",
            "1:",
            "vldrw.u32 q0, [{x}]",
            // ix = bits + (0x3f800000 − 0x3f3504f3); k = (ix >> 23) − 0x7f, as f32: q1
            "vadd.i32 q0, q0, {bias}",
            "vshr.u32 q1, q0, #23",
            "vsub.i32 q1, q1, {exp_bias}",
            "vcvt.f32.s32 q1, q1",
            // m = (ix & 0x007fffff) + 0x3f3504f3; f = m − 1: q0
            "vshl.i32 q0, q0, #9",
            "vshr.u32 q0, q0, #9",
            "vadd.i32 q0, q0, {sqrt_half}",
            "vsub.f32 q0, q0, {one}",
            // s = f / (2 + f), lane by lane on s12..s15 (q3)
            "ldr {t}, [{k}, #36]",
            "vadd.f32 q2, q0, {t}",
            "vdiv.f32 s12, s0, s8",
            "vdiv.f32 s13, s1, s9",
            "vdiv.f32 s14, s2, s10",
            "vdiv.f32 s15, s3, s11",
            // z = s s (q2); w = z z (q4)
            "vmul.f32 q2, q3, q3",
            "vmul.f32 q4, q2, q2",
            // t1 = w (LG2 + w LG4) (q5)
            "ldr {t}, [{k}, #12]",
            "vmul.f32 q5, q4, {t}",
            "ldr {t}, [{k}, #4]",
            "vadd.f32 q5, q5, {t}",
            "vmul.f32 q5, q4, q5",
            // t2 = z (LG1 + w LG3) (q4); r = t2 + t1 (q4)
            "ldr {t}, [{k}, #8]",
            "vmul.f32 q4, q4, {t}",
            "ldr {t}, [{k}, #0]",
            "vadd.f32 q4, q4, {t}",
            "vmul.f32 q4, q2, q4",
            "vadd.f32 q4, q4, q5",
            // hfsq = 0.5 f f (q5)
            "ldr {t}, [{k}, #16]",
            "vmul.f32 q5, q0, {t}",
            "vmul.f32 q5, q5, q0",
            // hi = bits(f − hfsq) & 0xfffff000 (q2)
            "vsub.f32 q2, q0, q5",
            "vbic.i32 q2, #0xff",
            "vbic.i32 q2, #0xf00",
            // lo = ((f − hi) − hfsq) + s (hfsq + r) (q0)
            "vsub.f32 q0, q0, q2",
            "vsub.f32 q0, q0, q5",
            "vadd.f32 q5, q5, q4",
            "vmul.f32 q5, q3, q5",
            "vadd.f32 q0, q0, q5",
            // (((dk LOG10_2LO + (lo + hi) IVLN10LO) + lo IVLN10HI) + hi IVLN10HI)
            //   + dk LOG10_2HI (q3)
            "ldr {t}, [{k}, #24]",
            "vmul.f32 q3, q1, {t}",
            "vadd.f32 q4, q0, q2",
            "ldr {t}, [{k}, #32]",
            "vmul.f32 q4, q4, {t}",
            "vadd.f32 q3, q3, q4",
            "ldr {t}, [{k}, #28]",
            "vmul.f32 q4, q0, {t}",
            "vadd.f32 q3, q3, q4",
            "vmul.f32 q4, q2, {t}",
            "vadd.f32 q3, q3, q4",
            "ldr {t}, [{k}, #20]",
            "vmul.f32 q4, q1, {t}",
            "vadd.f32 q3, q3, q4",
            "vstrw.32 q3, [{x}], #16",
            "letp lr, 1b",
            "2:",
            x = inout(reg) x.as_mut_ptr() => _,
            n = in(reg) x.len(),
            k = in(reg) LOG10_CONSTANTS.0.as_ptr(),
            bias = in(reg) 0x3f80_0000u32 - 0x3f35_04f3,
            exp_bias = in(reg) 0x7fu32,
            sqrt_half = in(reg) 0x3f35_04f3u32,
            one = in(reg) 1.0f32.to_bits(),
            t = out(reg) _,
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
