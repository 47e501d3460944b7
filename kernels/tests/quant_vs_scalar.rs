//! The quantized kernels against their scalar twins.
//!
//! - int8: every [`I8Dot`] kernel this CPU runs (scalar, AVX2, SDOT, SMLAD), through the
//!   shared frame, must reproduce [`scalar::linear_i8`] **bit for bit** (the integer sums
//!   are exact and the epilogue is shared), for reduction lengths `0..=4 x BLOCK + 1` and
//!   the model shapes, 1–9 weight rows and 1–9 input rows, and edge values (weights at
//!   -128 and 127, all-zero rows, huge, tiny and denormal activations). The raw integer
//!   tiles are compared with [`scalar::dot_i8`] too.
//! - f16: the frame (with a plain kernel), the AVX2 + F16C kernel, the Arm FPU kernel
//!   (`vcvtb`/`vcvtt`, under qemu-arm) and the dispatched one against
//!   [`scalar::linear_f16`] within the f32 budget of `simd_vs_scalar.rs`
//!   (`(k + 2) eps sum|x w|`: the same exact products, summed in another order), odd `k`
//!   and rows off word boundaries included.
//! - With `PICOFORMER_KERNEL` set, the quantized kernel that goes with it must serve the
//!   calls (and no other), and its f16 twin the f16 product.

use picoformer_kernels::quant::f16dot::{self, F16Dot};
use picoformer_kernels::quant::{
    self, f16, linear_i8, quantize_row, scalar, Activations, F16Kernel, I8Dot, I8Matrix, Matrix,
    QuantKernel,
};
use picoformer_kernels::simd::MR;

fn xorshift(seed: u32) -> impl FnMut() -> u32 {
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    move || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        s
    }
}

fn f32s(n: usize, seed: u32, scale: f32) -> Vec<f32> {
    let mut next = xorshift(seed);
    (0..n)
        .map(|_| ((next() >> 8) as f32 / (1u32 << 23) as f32 - 1.0) * scale)
        .collect()
}

fn i8s(n: usize, seed: u32) -> Vec<i8> {
    let mut next = xorshift(seed);
    (0..n).map(|_| (next() >> 13) as u8 as i8).collect()
}

fn lengths(block: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..=4 * block + 1).collect();
    v.extend([48, 64, 80, 256, 384, 512, 1024, 2048]);
    v
}

/// Weight matrices of every kind for `n` rows of `k`: (values, scales).
fn weight_cases(n: usize, k: usize) -> Vec<(Vec<i8>, Vec<f32>)> {
    let scales = f32s(n, 11, 0.05)
        .iter()
        .map(|s| s.abs())
        .collect::<Vec<_>>();
    vec![
        (i8s(n * k, 1), scales.clone()),
        (vec![-128; n * k], scales.clone()),
        (vec![127; n * k], scales.clone()),
        (vec![0; n * k], scales.clone()),
        (i8s(n * k, 2), vec![0.0; n]),
    ]
}

/// Activations of every kind for `rows` rows of `k`.
fn activation_cases(rows: usize, k: usize) -> Vec<Vec<f32>> {
    let denormal = f32::MIN_POSITIVE / 8.0;
    vec![
        f32s(rows * k, 3, 1.0),
        vec![0.0; rows * k],
        f32s(rows * k, 4, 1e30),
        f32s(rows * k, 5, denormal),
        vec![-2.5; rows * k],
        f32s(rows * k, 6, 1e-3)
            .iter()
            .enumerate()
            .map(|(i, v)| if i % 7 == 0 { v * 1e4 } else { *v })
            .collect(),
    ]
}

fn check_i8_linear<K: I8Dot>(kern: K) {
    for k in lengths(K::BLOCK) {
        let (rows_list, n_list): (&[usize], &[usize]) = if k <= 4 * K::BLOCK + 1 {
            (&[1, 2, 3], &[1, 4, 5, 9])
        } else {
            (&[1, 9], &[1, 4, 7])
        };
        for &n in n_list {
            for &rows in rows_list {
                for (values, scales) in weight_cases(n, k) {
                    let w = I8Matrix {
                        values: &values,
                        scales: &scales,
                    };
                    let bias = f32s(n, 9, 1.0);
                    for x in activation_cases(rows, k) {
                        let mut want = vec![f32::NAN; rows * n];
                        let mut q = vec![0i8; k];
                        scalar::linear_i8(&x, w, Some(&bias), k, &mut want, &mut q);
                        // An activation buffer smaller than the row count: blocks of rows.
                        let cap = rows.min(2);
                        let mut values = vec![0i8; cap * k];
                        let mut act_scales = vec![0.0f32; cap];
                        let mut act = Activations {
                            values: &mut values,
                            scales: &mut act_scales,
                        };
                        let mut got = vec![f32::NAN; rows * n];
                        linear_i8(kern, &x, w, Some(&bias), k, &mut got, &mut act);
                        for (i, (g, r)) in got.iter().zip(&want).enumerate() {
                            assert!(
                                g.to_bits() == r.to_bits() || (g.is_nan() && r.is_nan()),
                                "{} int8 linear k={k} n={n} rows={rows} i={i}: {g} vs {r}",
                                K::NAME
                            );
                        }
                    }
                }
            }
        }
    }
}

fn check_i8_tiles<K: I8Dot>(kern: K) {
    for k in lengths(K::BLOCK) {
        let blocks = k / K::BLOCK;
        let head = blocks * K::BLOCK;
        for seed in 0..4u32 {
            // Activations never reach -128 (the quantizer's range is symmetric).
            let x: Vec<i8> = i8s(k, 100 + seed).iter().map(|&v| v.max(-127)).collect();
            let w: Vec<Vec<i8>> = (0..MR as u32).map(|m| i8s(k, 200 + 7 * seed + m)).collect();
            let got = kern.dot_tile(&x, core::array::from_fn(|m| &w[m][..]), blocks);
            for (m, g) in got.iter().enumerate() {
                let want = scalar::dot_i8(&x[..head], &w[m][..head]);
                assert_eq!(*g, want, "{} dot_tile k={k} row {m}", K::NAME);
            }
        }
    }
}

#[test]
fn quantize_row_is_symmetric_and_within_half_a_step() {
    for n in [0, 1, 7, 64, 513] {
        for x in activation_cases(1, n) {
            let mut q = vec![0i8; n];
            let s = quantize_row(&x, &mut q);
            assert!(s.is_finite() && s >= 0.0);
            for (&v, &qi) in x.iter().zip(&q) {
                assert!((-127..=127).contains(&qi));
                assert!((v - s * f32::from(qi)).abs() <= 0.5 * s * (1.0 + 1e-5) + 1e-37);
            }
        }
    }
}

#[test]
fn scalar_i8_frame_matches_reference() {
    check_i8_tiles(scalar::ScalarI8);
    check_i8_linear(scalar::ScalarI8);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn avx2_i8_matches_scalar() {
    let Some(kern) = quant::x86_64::Avx2I8::detect() else {
        eprintln!("skipped: no AVX2");
        return;
    };
    check_i8_tiles(kern);
    check_i8_linear(kern);
}

#[cfg(target_arch = "aarch64")]
#[test]
fn sdot_i8_matches_scalar() {
    let Some(kern) = quant::aarch64::Sdot::detect() else {
        eprintln!("skipped: no dotprod");
        return;
    };
    check_i8_tiles(kern);
    check_i8_linear(kern);
}

#[cfg(target_arch = "arm")]
#[test]
fn smlad_i8_matches_scalar() {
    let kern = quant::arm::Smlad::detect().expect("the DSP kernel is compiled in");
    check_i8_tiles(kern);
    check_i8_linear(kern);
}

/// The SMLAD product over activations quantized into 16-bit pairs, with the buffer the
/// engine gives it (`activation_values`), misaligned by 0-3 bytes, and one too small
/// for the pairs (the generic frame), against the scalar reference.
#[cfg(target_arch = "arm")]
#[test]
fn smlad_pairs_linear_matches_scalar() {
    let mut ks: Vec<usize> = (0..=20).collect();
    ks.extend([48, 60, 64, 68, 80, 256, 260, 512, 1024]);
    for k in ks {
        for &n in &[1usize, 3, 4, 5, 7, 8, 13] {
            for &rows in &[1usize, 2, 9] {
                for (values, scales) in weight_cases(n, k) {
                    let w = I8Matrix {
                        values: &values,
                        scales: &scales,
                    };
                    let bias = f32s(n, 9, 1.0);
                    for x in activation_cases(rows, k) {
                        let mut want = vec![f32::NAN; rows * n];
                        let mut q = vec![0i8; k];
                        scalar::linear_i8(&x, w, Some(&bias), k, &mut want, &mut q);
                        let needed = quant::activation_values(rows, k).expect("small sizes");
                        for (offset, len) in [(0, needed), (1, needed), (3, needed), (0, k)] {
                            let mut values = vec![0i8; offset + len];
                            let mut act_scales = vec![0.0f32; quant::activation_scales(rows)];
                            let mut act = Activations {
                                values: &mut values[offset..],
                                scales: &mut act_scales,
                            };
                            let mut got = vec![f32::NAN; rows * n];
                            quant::arm::linear_i8(&x, w, Some(&bias), k, &mut got, &mut act);
                            for (i, (g, r)) in got.iter().zip(&want).enumerate() {
                                assert!(
                                    g.to_bits() == r.to_bits() || (g.is_nan() && r.is_nan()),
                                    "smlad pairs k={k} n={n} rows={rows} offset={offset} \
                                     len={len} i={i}: {g} vs {r}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The pair layout holds exactly `quantize_row`'s integers and scale, NaN and infinity
/// included.
#[cfg(target_arch = "arm")]
#[test]
fn quantize_row_pairs_matches_quantize_row() {
    let mut cases = activation_cases(1, 37);
    cases.push((0..37).map(|i| i as f32 * 0.25 - 4.0).collect());
    let mut with_nan = f32s(37, 7, 3.0);
    with_nan[5] = f32::NAN;
    cases.push(with_nan);
    let mut with_inf = f32s(37, 8, 3.0);
    with_inf[9] = f32::NEG_INFINITY;
    cases.push(with_inf);
    // 0.5 - 2^-25 times 127 / amax: the one product where `p + 0.5` rounds up to 1.0.
    cases.push(vec![
        127.0,
        0.5 - 1.0 / 33_554_432.0,
        -(0.5 - 1.0 / 33_554_432.0),
        -0.0,
    ]);
    for x in cases {
        let mut want = vec![0i8; x.len()];
        let want_scale = quant::quantize_row(&x, &mut want);
        let mut pairs = vec![0xdead_beefu32; 2 * x.len().div_ceil(4)];
        let scale = quant::arm::quantize_row_pairs(&x, &mut pairs);
        assert_eq!(scale.to_bits(), want_scale.to_bits(), "{x:?}");
        for (i, &q) in want.iter().enumerate() {
            assert_eq!(quant::arm::pair_value(&pairs, i), q, "element {i} of {x:?}");
        }
    }
}

#[test]
fn i8_weights_with_f32_activations_are_close_to_dequantized_f32() {
    let (n, k) = (5, 70);
    let values = i8s(n * k, 1);
    let scales = vec![0.01, 0.02, 0.0, 0.5, 1e-3];
    let x = f32s(2 * k, 2, 1.0);
    let mut got = vec![0.0; 2 * n];
    let w = I8Matrix {
        values: &values,
        scales: &scales,
    };
    scalar::linear_i8_f32(&x, w, None, k, &mut got);
    let deq: Vec<f32> = values
        .chunks(k)
        .zip(&scales)
        .flat_map(|(r, s)| r.iter().map(move |&v| s * f32::from(v)))
        .collect();
    let mut want = vec![0.0; 2 * n];
    picoformer_kernels::scalar::linear(&x, &deq, None, k, &mut want);
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-4 * (1.0 + w.abs()), "{g} vs {w}");
    }
}

fn f16s(n: usize, seed: u32, scale: f32) -> Vec<f16> {
    f32s(n, seed, scale)
        .into_iter()
        .map(f16::from_f32)
        .collect()
}

/// An f16 linear layer under test: `(x, w, bias, k, y)`.
type F16Linear<'a> = &'a dyn Fn(&[f32], &[f16], Option<&[f32]>, usize, &mut [f32]);

/// `run` against [`scalar::linear_f16`] within the f32 budget (`(k + 2) eps` of the
/// products' magnitude): the widening is exact, only the order of the sums differs.
/// Lengths `0..=4 x block + 1` and the model shapes, 1–9 weight rows, 1–3 input rows,
/// weights from f16's subnormals to its largest values, a matrix that starts on an odd
/// half (its rows not word-aligned) and odd `k`.
fn check_f16_linear(name: &str, block: usize, run: F16Linear) {
    // f16 subnormals (2^-24 .. 2^-14) and values near f16::MAX (65504)
    let weight_scales = [(1.0, 1.0), (60000.0, 1e-3), (1e-6, 1e3), (6e-5, 1.0)];
    for k in lengths(block) {
        let (n_list, rows_list): (&[usize], &[usize]) = if k <= 4 * block + 1 {
            (&[1, 4, 5, 9], &[1, 2, 3])
        } else {
            (&[1, 4, 7], &[1, 3])
        };
        for &n in n_list {
            for &rows in rows_list {
                for (wscale, xscale) in weight_scales {
                    // one spare half in front: `&w_all[1..]` starts off a word boundary
                    let w_all = f16s(n * k + 1, 7 + k as u32, wscale);
                    let x = f32s(rows * k, 8, xscale);
                    let bias = f32s(n, 9, 1.0);
                    for w in [&w_all[..n * k], &w_all[1..]] {
                        let mut want = vec![0.0; rows * n];
                        scalar::linear_f16(&x, w, Some(&bias), k, &mut want);
                        let mut got = vec![f32::NAN; rows * n];
                        run(&x, w, Some(&bias), k, &mut got);
                        for r in 0..rows {
                            for o in 0..n {
                                let xr = &x[r * k..(r + 1) * k];
                                let wr = &w[o * k..(o + 1) * k];
                                let magnitude: f32 =
                                    xr.iter().zip(wr).map(|(a, b)| (a * b.to_f32()).abs()).sum();
                                let budget = (k as f32 + 2.0) * f32::EPSILON * (magnitude + 1.0)
                                    + f32::MIN_POSITIVE;
                                let (g, wv) = (got[r * n + o], want[r * n + o]);
                                assert!(
                                    (g - wv).abs() <= budget,
                                    "{name} f16 k={k} n={n} rows={rows}: {g} vs {wv}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn scalar_f16_frame_matches_reference() {
    // The frame with a kernel made of the scalar dot product: leftover rows, tails, bias.
    #[derive(Clone, Copy)]
    struct Plain;
    impl F16Dot for Plain {
        const NAME: &'static str = "plain";
        const BLOCK: usize = 8;
        fn detect() -> Option<Self> {
            Some(Plain)
        }
        fn dot_rows(self, x: &[f32], w: &[f16], stride: usize, blocks: usize, out: &mut [f32]) {
            let whole = out.len() / MR * MR;
            for (o, dst) in out.iter_mut().take(whole).enumerate() {
                *dst = self.dot_blocks(x, w.get(o * stride..).unwrap_or(&[]), blocks);
            }
        }
        fn dot_blocks(self, x: &[f32], w: &[f16], blocks: usize) -> f32 {
            let n = (blocks * 8).min(x.len()).min(w.len());
            scalar::dot_f16(&x[..n], &w[..n])
        }
    }
    check_f16_linear("plain", 8, &|x, w, b, k, y| {
        f16dot::linear_f16(Plain, x, w, b, k, y)
    });
}

#[cfg(target_arch = "x86_64")]
#[test]
fn avx2_f16_matches_scalar() {
    use quant::x86_64::{linear_f16, Avx2F16};
    let Some(kern) = Avx2F16::detect() else {
        eprintln!("skipped: no AVX2 + FMA + F16C");
        return;
    };
    check_f16_linear("avx2", 8, &|x, w, b, k, y| linear_f16(kern, x, w, b, k, y));
}

#[cfg(target_arch = "arm")]
#[test]
fn arm_fpu_f16_matches_scalar() {
    let kern = quant::arm_f16::ArmFpuF16::detect().expect("the FPU f16 kernel is compiled in");
    check_f16_linear(quant::arm_f16::ArmFpuF16::NAME, 8, &|x, w, b, k, y| {
        f16dot::linear_f16(kern, x, w, b, k, y)
    });
    // The tiles alone, exactly as a sum in the kernel's order would give them.
    let (n, k) = (8, 40);
    let w = f16s(n * k, 3, 2.0);
    let x = f32s(k, 4, 1.0);
    let mut out = vec![f32::NAN; n];
    kern.dot_rows(&x, &w, k, k / 8, &mut out);
    for (o, g) in out.iter().enumerate() {
        let want = scalar::dot_f16(&x, &w[o * k..(o + 1) * k]);
        assert!(
            (g - want).abs() <= 1e-5 * (1.0 + want.abs()),
            "row {o}: {g} vs {want}"
        );
    }
}

#[test]
fn dispatched_f16_linear_matches_scalar_on_the_active_kernel() {
    let active = quant::active_f16_kernel();
    eprintln!("f16 kernel: {}", active.name());
    check_f16_linear(active.name(), 8, &|x, w, b, k, y| {
        quant::linear(x, Matrix::F16(w), b, k, y, &mut Activations::none());
        assert_eq!(
            quant::last_f16_kernel(),
            Some(active),
            "the f16 kernel that ran"
        );
    });
}

#[test]
fn forced_kernel_serves_the_quantized_calls() {
    let (n, k) = (6, 40);
    let values = vec![3i8; n * k];
    let scales = vec![0.5f32; n];
    let x = vec![1.0f32; 2 * k];
    let mut y = vec![0.0f32; 2 * n];
    let mut qv = vec![0i8; 2 * k];
    let mut qs = vec![0.0f32; 2];
    let mut act = Activations {
        values: &mut qv,
        scales: &mut qs,
    };
    let w = Matrix::I8(I8Matrix {
        values: &values,
        scales: &scales,
    });
    quant::linear(&x, w, None, k, &mut y, &mut act);
    // x quantizes to 127 with scale 1/127: 127 * 3 * 40 * (1/127 * 0.5) = 60.
    assert!(y.iter().all(|&v| (v - 60.0).abs() < 1e-4), "{y:?}");
    let active = quant::active_quant_kernel();
    eprintln!("quantized kernel: {}", active.name());
    assert!(quant::quant_kernel_calls(active) > 0);
    let Ok(name) = std::env::var("PICOFORMER_KERNEL") else {
        return;
    };
    let forced = picoformer_kernels::Kernel::from_name(&name).expect("a kernel name");
    let expected = QuantKernel::for_kernel(forced);
    assert_eq!(active, expected);
    for other in [
        QuantKernel::Scalar,
        QuantKernel::Avx2,
        QuantKernel::Sdot,
        QuantKernel::Smlad,
        QuantKernel::Helium,
    ] {
        if other != expected {
            assert_eq!(quant::quant_kernel_calls(other), 0, "{other:?} ran");
        }
    }
    // f16 weights: the f16 kernel that goes with the forced one serves the call.
    let w16 = vec![f16::from_f32(0.5); n * k];
    quant::linear(
        &x,
        Matrix::F16(&w16),
        None,
        k,
        &mut y,
        &mut Activations::none(),
    );
    assert!(y.iter().all(|&v| (v - 20.0).abs() < 1e-4), "{y:?}");
    let f16_expected = F16Kernel::for_kernel(forced);
    assert_eq!(quant::last_f16_kernel(), Some(f16_expected));
    assert!(quant::f16_kernel_calls(f16_expected) > 0);
    let f16_twin = match name.as_str() {
        "avx2" | "avx512" => Some(F16Kernel::Avx2),
        "arm-fpu" => Some(F16Kernel::ArmFpu),
        "mve" => Some(F16Kernel::Helium),
        _ => None,
    };
    if let Some(twin) = f16_twin {
        assert_eq!(f16_expected, twin, "{name} has no f16 kernel on this CPU");
    }
    // Each SIMD f32 kernel has its integer twin on the machines CI runs it on.
    let twin = match name.as_str() {
        "avx2" | "avx512" => Some(QuantKernel::Avx2),
        "neon" => Some(QuantKernel::Sdot),
        "arm-fpu" => Some(QuantKernel::Smlad),
        _ => None,
    };
    if let Some(twin) = twin {
        assert_eq!(expected, twin, "{name} has no integer kernel on this CPU");
    }
}
