//! The quantized kernels against their scalar twins.
//!
//! - int8: every [`I8Dot`] kernel this CPU runs (scalar, AVX2, SDOT, SMLAD), through the
//!   shared frame, must reproduce [`scalar::linear_i8`] **bit for bit** (the integer sums
//!   are exact and the epilogue is shared), for reduction lengths `0..=4 x BLOCK + 1` and
//!   the model shapes, 1–9 weight rows and 1–9 input rows, and edge values (weights at
//!   -128 and 127, all-zero rows, huge, tiny and denormal activations). The raw integer
//!   tiles are compared with [`scalar::dot_i8`] too.
//! - f16: the AVX2 + F16C kernel against [`scalar::linear_f16`] within the f32 budget of
//!   `simd_vs_scalar.rs` (`(k + 2) eps sum|x w|`: the same products, summed in another
//!   order).
//! - With `PICOFORMER_KERNEL` set, the quantized kernel that goes with it must serve the
//!   calls (and no other).

#[cfg(target_arch = "x86_64")]
use picoformer_kernels::quant::f16;
use picoformer_kernels::quant::{
    self, linear_i8, quantize_row, scalar, Activations, I8Dot, I8Matrix, Matrix, QuantKernel,
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

#[cfg(target_arch = "x86_64")]
fn f16s(n: usize, seed: u32, scale: f32) -> Vec<f16> {
    f32s(n, seed, scale)
        .into_iter()
        .map(f16::from_f32)
        .collect()
}

#[cfg(target_arch = "x86_64")]
#[test]
fn avx2_f16_matches_scalar() {
    use quant::x86_64::{linear_f16, Avx2F16};
    let Some(kern) = Avx2F16::detect() else {
        eprintln!("skipped: no AVX2 + FMA + F16C");
        return;
    };
    for k in lengths(8) {
        for n in [1, 4, 5, 9] {
            for rows in [1, 2, 3] {
                for (wscale, xscale) in [(1.0, 1.0), (60000.0, 1e-3), (1e-6, 1e3)] {
                    let w = f16s(n * k, 7, wscale);
                    let x = f32s(rows * k, 8, xscale);
                    let bias = f32s(n, 9, 1.0);
                    let mut want = vec![0.0; rows * n];
                    scalar::linear_f16(&x, &w, Some(&bias), k, &mut want);
                    let mut got = vec![0.0; rows * n];
                    linear_f16(kern, &x, &w, Some(&bias), k, &mut got);
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
                                "f16 k={k} n={n} rows={rows}: {g} vs {wv}"
                            );
                        }
                    }
                }
            }
        }
    }
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
