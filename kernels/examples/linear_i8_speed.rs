//! Times the int8 linear layer (dynamic int8 activations, int8 weights) on the paper base
//! forward pass's shapes, x86_64 AVX-512 VNNI, one thread, two ways in one run, alternating
//! call by call on the same cold weights:
//! - `tiles`: blocks of the engine's buffer of activation rows (`activation_values`: 8
//!   rows) through the kernel's tile of several rows (`I8Dot::dot_tiles`), the path before
//!   the kernel's own pass (`frame::i8::linear_i8_by_row_blocks`);
//! - `packed`: the kernel's whole layer (`frame::i8::linear_i8`: on AVX-512 VNNI its own
//!   pass over packed rows, `I8Dot::linear_rows`).
//!
//! (The AVX2 kernel has no pass of its own: its two ways would run the same code.)
//!
//! Against this core's `vpdpbusd` peak (a loop of independent 512-bit `vpdpbusd`, 64
//! multiply-adds each, best of many runs), in GOPS (2 operations per multiply-add). Weights
//! cold (a new matrix of a 64 MiB set every call; with `WARM=1` in the environment, two
//! matrices, in turn), best of several calls.
//! `cargo run --release -p picoformer-kernels --example linear_i8_speed`

#[cfg(target_arch = "x86_64")]
mod x86 {
    use picoformer_kernels::arch::x86_64::i8::Avx512I8;
    use picoformer_kernels::frame::i8::{linear_i8, linear_i8_by_row_blocks, I8Dot};
    use picoformer_kernels::quant::{activation_scales, activation_values, Activations, I8Matrix};
    use std::arch::x86_64::*;
    use std::time::Instant;

    const CHAINS: usize = 12;
    const STEPS: usize = 1 << 20;

    /// GOPS of `STEPS` rounds of `CHAINS` independent 512-bit `vpdpbusd`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    fn vnni_peak_once() -> f64 {
        let (a, b) = (_mm512_set1_epi8(3), _mm512_set1_epi8(-5));
        let mut acc = [_mm512_setzero_si512(); CHAINS];
        let start = Instant::now();
        for _ in 0..STEPS {
            for v in acc.iter_mut() {
                *v = _mm512_dpbusd_epi32(*v, a, b);
            }
        }
        let s = start.elapsed().as_secs_f64();
        std::hint::black_box(acc);
        (STEPS * CHAINS * 64 * 2) as f64 / s / 1e9
    }

    /// Best seconds of the two ways (`tiles`, `packed`), alternating call by call.
    fn time<K: I8Dot>(
        kern: K,
        ws: &[(Vec<i8>, Vec<f32>)],
        rows: usize,
        n: usize,
        k: usize,
    ) -> (f64, f64) {
        let x: Vec<f32> = (0..rows * k)
            .map(|i| ((i % 13) as f32 - 6.0) * 0.1)
            .collect();
        let mut y = [vec![0.0; rows * n], vec![0.0; rows * n]];
        let mut values = vec![0i8; activation_values(rows, k).unwrap_or(0)];
        let mut scales = vec![0.0f32; activation_scales(rows)];
        let mut best = [f64::INFINITY; 2];
        for rep in 0..(24 * 16 / rows).max(2 * ws.len().min(8)) {
            for (way, (best, y)) in best.iter_mut().zip(y.iter_mut()).enumerate() {
                let (v, s) = &ws[(2 * rep + way) % ws.len()];
                let w = I8Matrix {
                    values: v,
                    scales: s,
                };
                let mut act = Activations {
                    values: &mut values,
                    scales: &mut scales,
                };
                let start = Instant::now();
                if way == 0 {
                    linear_i8_by_row_blocks(kern, &x, w, None, k, y, &mut act);
                } else {
                    linear_i8(kern, &x, w, None, k, y, &mut act);
                }
                *best = best.min(start.elapsed().as_secs_f64());
            }
        }
        // The same bits both ways, on one matrix.
        let (v, s) = &ws[0];
        let w = I8Matrix {
            values: v,
            scales: s,
        };
        let mut act = Activations {
            values: &mut values,
            scales: &mut scales,
        };
        let [y0, y1] = &mut y;
        linear_i8_by_row_blocks(kern, &x, w, None, k, y0, &mut act);
        linear_i8(kern, &x, w, None, k, y1, &mut act);
        assert!(
            y0.iter()
                .zip(y1.iter())
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "the two ways differ"
        );
        (best[0], best[1])
    }

    fn shapes<K: I8Dot>(kern: K, peak: f64) {
        let warm = std::env::var_os("WARM").is_some();
        for (n, k) in [(512, 512), (2048, 512), (512, 2048), (8000, 512)] {
            let copies = if warm {
                2
            } else {
                ((64 << 20) / (n * k)).max(2)
            };
            let ws: Vec<(Vec<i8>, Vec<f32>)> = (0..copies)
                .map(|c| {
                    let v = (0..n * k)
                        .map(|i| (((i * 7 + c) % 255) as i32 - 127) as i8)
                        .collect();
                    (v, vec![0.01; n])
                })
                .collect();
            for rows in [8, 16, 32, 64, 128] {
                let ops = 2.0 * (rows * n * k) as f64 / 1e9;
                let (a, b) = time(kern, &ws, rows, n, k);
                println!(
                    "{} {} n {n:>4} k {k:>4} rows {rows:>3}: tiles {:.3} ms {:.0} GOPS ({:.0}%), packed {:.3} ms {:.0} GOPS ({:.0}%), {:.2}x",
                    K::NAME,
                    if warm { "warm" } else { "cold" },
                    a * 1e3,
                    ops / a,
                    100.0 * ops / a / peak,
                    b * 1e3,
                    ops / b,
                    100.0 * ops / b / peak,
                    a / b
                );
            }
        }
    }

    pub fn main() {
        let Some(kern) = Avx512I8::detect() else {
            println!("no AVX2: nothing to time");
            return;
        };
        if !(is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vnni"))
        {
            println!("no AVX-512 VNNI: nothing to time");
            return;
        }
        // SAFETY: AVX-512F, BW and VNNI were detected just above.
        let peak = (0..20)
            .map(|_| unsafe { vnni_peak_once() })
            .fold(0.0, f64::max);
        println!("vpdpbusd peak {peak:.1} GOPS (one core)");
        shapes(kern, peak);
    }
}

fn main() {
    #[cfg(target_arch = "x86_64")]
    x86::main();
}
