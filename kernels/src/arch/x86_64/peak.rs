//! This core's fused multiply-add peak (hosts, `std`): the rate against which the
//! benchmarks give the kernels' GFLOP/s as a share.

use crate::dispatch::Kernel;
use core::arch::x86_64::*;
use std::time::Instant;

/// Independent accumulators: enough to cover the FMA latency (4 cycles) on 2 pipes.
const CHAINS: usize = 12;
const STEPS: usize = 1 << 20;

/// GFLOP/s of `STEPS` rounds of `CHAINS` independent 8-lane (AVX2) fused multiply-adds.
#[target_feature(enable = "avx2,fma")]
fn fma_peak_avx2() -> f64 {
    let (a, b) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
    let mut acc = [_mm256_set1_ps(1.0); CHAINS];
    let start = Instant::now();
    for _ in 0..STEPS {
        for v in acc.iter_mut() {
            *v = _mm256_fmadd_ps(*v, a, b);
        }
    }
    let s = start.elapsed().as_secs_f64();
    core::hint::black_box(acc);
    (STEPS * CHAINS * 8 * 2) as f64 / s / 1e9
}

/// As [`fma_peak_avx2`] with 16-lane AVX-512 vectors.
#[target_feature(enable = "avx512f")]
fn fma_peak_avx512() -> f64 {
    let (a, b) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
    let mut acc = [_mm512_set1_ps(1.0); CHAINS];
    let start = Instant::now();
    for _ in 0..STEPS {
        for v in acc.iter_mut() {
            *v = _mm512_fmadd_ps(*v, a, b);
        }
    }
    let s = start.elapsed().as_secs_f64();
    core::hint::black_box(acc);
    (STEPS * CHAINS * 16 * 2) as f64 / s / 1e9
}

/// The f32 FMA peak of `kernel` on this core in GFLOP/s (best of `runs`), `None` for a
/// kernel without one here (the scalar reference, other architectures' kernels).
pub fn fma_peak_gflop_s(kernel: Kernel, runs: usize) -> Option<f64> {
    let once = || match kernel {
        Kernel::Avx512 if std::is_x86_feature_detected!("avx512f") => {
            // SAFETY: AVX-512F detected just here.
            Some(unsafe { fma_peak_avx512() })
        }
        Kernel::Avx2
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") =>
        {
            // SAFETY: AVX2 and FMA detected just here.
            Some(unsafe { fma_peak_avx2() })
        }
        _ => None,
    };
    (0..runs.max(1)).filter_map(|_| once()).reduce(f64::max)
}
