//! A decode step's products: one input row through weights that come cold from memory
//! (cycling through 256 MiB of matrices, as a decoder streams its layers), in f32, f16
//! and int8, each against this machine's read bandwidth (one thread summing 256 MiB in 8
//! streams).
//! Decoding one token is bound by reading the weights: f16 should take about half of
//! f32's time and int8 a quarter, each near the bandwidth (issue 18).
//! `cargo run --release -p picoformer-kernels --example decode_speed`
use picoformer_kernels::quant::{self, activation_scales, activation_values, f16};
use picoformer_kernels::{active_kernel_for, Activations, Dtype, I8Matrix, Matrix};
use std::time::Instant;

/// The f16 kernel before issue 18 (4 rows, no prefetch), through the same frame: the
/// baseline the f16 lines compare the active kernel with, in the same run. `false` where
/// it does not exist (not x86_64, no F16C).
fn f16_plain(x: &[f32], w: &[f16], k: usize, y: &mut [f32]) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use picoformer_kernels::arch::x86_64::f16::Avx2F16Plain;
        use picoformer_kernels::frame::f16::{linear_f16, F16Dot};
        if let Some(kern) = Avx2F16Plain::detect() {
            linear_f16(kern, x, w, None, k, y);
            return true;
        }
    }
    let _ = (x, w, k, y);
    false
}

/// Best times of two products over `REPEATS` runs each, alternating, each run on the
/// next of the cold copies.
fn best_times(copies: usize, mut a: impl FnMut(usize), mut b: impl FnMut(usize)) -> (f64, f64) {
    let (mut best_a, mut best_b) = (f64::INFINITY, f64::INFINITY);
    for rep in 0..REPEATS {
        let start = Instant::now();
        a((2 * rep) % copies);
        best_a = best_a.min(start.elapsed().as_secs_f64());
        let start = Instant::now();
        b((2 * rep + 1) % copies);
        best_b = best_b.min(start.elapsed().as_secs_f64());
    }
    (best_a, best_b)
}

/// Bytes of weights cycled through per shape: well beyond any cache.
const COLD_BYTES: usize = 256 << 20;
const REPEATS: usize = 40;

/// GB/s of one thread summing `COLD_BYTES` of u64 (best of 5), read as 8 sequential
/// streams at once (one stream leaves the memory idle part of the time: the kernels,
/// which fetch ahead, read faster than it does).
fn read_bandwidth() -> f64 {
    const STREAMS: usize = 8;
    let words: Vec<u64> = (0..COLD_BYTES / 8).map(|i| i as u64).collect();
    let part = words.len() / STREAMS;
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        // eight independent sums, so the loop is bound by the loads, not by one chain
        let mut sum = [0u64; 8];
        let streams: Vec<&[u64]> = words.chunks_exact(part).collect();
        for at in (0..part).step_by(8) {
            for stream in &streams {
                for (a, v) in sum.iter_mut().zip(&stream[at..at + 8]) {
                    *a = a.wrapping_add(*v);
                }
            }
        }
        best = best.min(start.elapsed().as_secs_f64());
        std::hint::black_box(sum);
    }
    COLD_BYTES as f64 / best / 1e9
}

/// Best time of one product over `REPEATS` runs, each on the next of the cold copies.
fn best_time(copies: usize, mut product: impl FnMut(usize)) -> f64 {
    let mut best = f64::INFINITY;
    for rep in 0..REPEATS {
        let start = Instant::now();
        product(rep % copies);
        best = best.min(start.elapsed().as_secs_f64());
    }
    best
}

fn main() {
    let bandwidth = read_bandwidth();
    println!("read bandwidth {bandwidth:.1} GB/s (one thread)");
    println!(
        "kernels: f32 {:?}, f16 {:?}, int8 {:?}",
        active_kernel_for(Dtype::F32),
        active_kernel_for(Dtype::F16),
        active_kernel_for(Dtype::I8)
    );
    // The paper base's decode shapes ([n, k]: feed-forward in and out, the generator of
    // an 8000-token vocabulary) and Whisper base's logits (51865 x 512).
    for (n, k) in [(2048, 512), (512, 2048), (8000, 512), (51865, 512)] {
        let x: Vec<f32> = (0..k).map(|i| ((i % 13) as f32 - 6.0) * 0.1).collect();
        let mut y = vec![0.0f32; n];
        let values = n * k;
        let mut act_values = vec![0i8; activation_values(1, k).unwrap_or(k)];
        let mut act_scales = vec![0f32; activation_scales(1)];
        let mut act = Activations {
            values: &mut act_values,
            scales: &mut act_scales,
        };

        let copies = (COLD_BYTES / (4 * values)).max(2);
        let w32: Vec<Vec<f32>> = (0..copies)
            .map(|c| (0..values).map(|i| ((i + c) % 7) as f32 * 0.1).collect())
            .collect();
        let t32 = best_time(copies, |c| {
            quant::linear(&x, &Matrix::F32(&w32[c]), None, k, &mut y, &mut act)
        });
        drop(w32);

        let copies16 = (COLD_BYTES / (2 * values)).max(2);
        let w16: Vec<Vec<f16>> = (0..copies16)
            .map(|c| {
                (0..values)
                    .map(|i| f16::from_f32(((i + c) % 7) as f32 * 0.1))
                    .collect()
            })
            .collect();
        let t16 = best_time(copies16, |c| {
            quant::linear(&x, &Matrix::F16(&w16[c]), None, k, &mut y, &mut act)
        });
        // The f16 kernel before issue 18 against the active one, alternating; then a
        // forward pass's product (32 input rows) both ways.
        let share16 = |t: f64| 100.0 * (2 * values) as f64 / t / 1e9 / bandwidth;
        let mut y_old = vec![0.0f32; n];
        // (an empty product: whether the plain kernel exists, without warming a copy)
        if f16_plain(&[], &[], k, &mut []) {
            let (old, new) = best_times(
                copies16,
                |c| {
                    f16_plain(&x, &w16[c], k, &mut y_old);
                },
                |c| quant::linear(&x, &Matrix::F16(&w16[c]), None, k, &mut y, &mut act),
            );
            // the last runs were on neighbouring copies: one more of the plain on the same
            f16_plain(&x, &w16[(2 * REPEATS - 1) % copies16], k, &mut y_old);
            assert!(
                y.iter()
                    .zip(&y_old)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "f16 1 x {k} -> {n}: the active kernel's sums differ from the plain kernel's"
            );
            println!(
            "  f16 1 x {k} -> {n}: plain {:.3} ms ({:.0}%), active {:.3} ms ({:.0}%; {:.2}x plain, {:.2}x f32)",
            old * 1e3,
            share16(old),
            new * 1e3,
            share16(new),
            new / old,
            new / t32
        );
            if n <= 8000 {
                const ROWS: usize = 32;
                let xs: Vec<f32> = (0..ROWS * k)
                    .map(|i| ((i % 11) as f32 - 5.0) * 0.1)
                    .collect();
                let mut ys = vec![0.0f32; ROWS * n];
                let mut ys_old = vec![0.0f32; ROWS * n];
                let mut act_values = vec![0i8; activation_values(ROWS, k).unwrap_or(ROWS * k)];
                let mut act_scales = vec![0f32; activation_scales(ROWS)];
                let mut act = Activations {
                    values: &mut act_values,
                    scales: &mut act_scales,
                };
                let (old, new) = best_times(
                    copies16,
                    |c| {
                        f16_plain(&xs, &w16[c], k, &mut ys_old);
                    },
                    |c| quant::linear(&xs, &Matrix::F16(&w16[c]), None, k, &mut ys, &mut act),
                );
                f16_plain(&xs, &w16[(2 * REPEATS - 1) % copies16], k, &mut ys_old);
                assert!(
                ys.iter()
                    .zip(&ys_old)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "f16 {ROWS} x {k} -> {n}: the active kernel's sums differ from the plain kernel's"
            );
                println!(
                    "  f16 {ROWS} x {k} -> {n}: plain {:.3} ms, active {:.3} ms ({:.2}x plain)",
                    old * 1e3,
                    new * 1e3,
                    new / old
                );
            }
        }
        drop(w16);

        let copies8 = (COLD_BYTES / values).max(2);
        let w8: Vec<Vec<i8>> = (0..copies8)
            .map(|c| (0..values).map(|i| ((i + c) % 255) as u8 as i8).collect())
            .collect();
        let scales = vec![0.01f32; n];
        let t8 = best_time(copies8, |c| {
            let w = Matrix::I8(I8Matrix {
                values: &w8[c],
                scales: &scales,
            });
            quant::linear(&x, &w, None, k, &mut y, &mut act)
        });
        drop(w8);

        let share = |bytes: usize, t: f64| 100.0 * bytes as f64 / t / 1e9 / bandwidth;
        #[cfg(target_arch = "x86_64")]
        f32_one_row(&x, n, k, bandwidth);
        #[cfg(target_arch = "x86_64")]
        int8_one_row(&x, n, k, bandwidth);
        println!(
            "1 x {k} -> {n}: f32 {:.3} ms ({:.0}% of bandwidth), f16 {:.3} ms ({:.0}%; {:.2}x f32), int8 {:.3} ms ({:.0}%; {:.2}x f32)",
            t32 * 1e3,
            share(4 * values, t32),
            t16 * 1e3,
            share(2 * values, t16),
            t16 / t32,
            t8 * 1e3,
            share(values, t8),
            t8 / t32,
        );
    }
}

/// The int8 one-row product, old and new side by side in one run: the frame tile by tile
/// over `dot_tile` (`frame::i8::linear_i8_by_tiles`, the path before `dot_rows_i8`) and
/// the frame's one-row path (`frame::i8::linear_i8`), alternating on the same cold copies,
/// for the AVX-512 VNNI kernel (where this CPU has it) and the AVX2 one.
#[cfg(target_arch = "x86_64")]
fn int8_one_row(x: &[f32], n: usize, k: usize, bandwidth: f64) {
    use picoformer_kernels::arch::x86_64::i8::{Avx2I8, Avx512I8};
    use picoformer_kernels::frame::i8::{linear_i8, linear_i8_by_tiles, I8Dot};
    fn pair<K: I8Dot>(kern: K, x: &[f32], n: usize, k: usize, bandwidth: f64) {
        let values = n * k;
        let copies = (COLD_BYTES / values).max(2);
        let w8: Vec<Vec<i8>> = (0..copies)
            .map(|c| (0..values).map(|i| ((i + c) % 255) as u8 as i8).collect())
            .collect();
        let scales = vec![0.01f32; n];
        let mut act_values = vec![0i8; activation_values(1, k).unwrap_or(k)];
        let mut act_scales = vec![0f32; activation_scales(1)];
        let mut act = Activations {
            values: &mut act_values,
            scales: &mut act_scales,
        };
        let (mut y_old, mut y_new) = (vec![0.0f32; n], vec![0.0f32; n]);
        let (mut old, mut new) = (f64::INFINITY, f64::INFINITY);
        for rep in 0..2 * REPEATS {
            let w = I8Matrix {
                values: &w8[rep % copies],
                scales: &scales,
            };
            let start = Instant::now();
            if rep % 2 == 0 {
                linear_i8_by_tiles(kern, x, w, None, k, &mut y_old, &mut act);
                old = old.min(start.elapsed().as_secs_f64());
            } else {
                linear_i8(kern, x, w, None, k, &mut y_new, &mut act);
                new = new.min(start.elapsed().as_secs_f64());
            }
        }
        let w = I8Matrix {
            values: &w8[0],
            scales: &scales,
        };
        linear_i8_by_tiles(kern, x, w, None, k, &mut y_old, &mut act);
        linear_i8(kern, x, w, None, k, &mut y_new, &mut act);
        assert!(y_old == y_new, "the one-row path changed the results");
        let share = |t: f64| 100.0 * values as f64 / t / 1e9 / bandwidth;
        println!(
            "  int8 {:<11} 1 x {k} -> {n}: by tiles {:.3} ms ({:.0}% of bandwidth), one-row {:.3} ms ({:.0}%), {:.2}x",
            K::NAME,
            old * 1e3,
            share(old),
            new * 1e3,
            share(new),
            old / new,
        );
    }
    if let Some(kern) = Avx512I8::detect().filter(|_| std::is_x86_feature_detected!("avx512vnni")) {
        pair(kern, x, n, k, bandwidth);
    }
    if let Some(kern) = Avx2I8::detect() {
        pair(kern, x, n, k, bandwidth);
    }
}

/// The f32 one-row product, old and new side by side in one run: tile after tile of the
/// kernel's `dot_tile` (`frame::f32::dot_rows_by_tiles`, the path before the streaming
/// `dot_rows`) and the kernel's `dot_rows` (each tile fetching the weights
/// `STREAM_AHEAD_BYTES` on), alternating on the same cold copies, for the AVX-512 and
/// AVX2 kernels.
#[cfg(target_arch = "x86_64")]
fn f32_one_row(x: &[f32], n: usize, k: usize, bandwidth: f64) {
    use picoformer_kernels::arch::x86_64::f32::{Avx2Fma, Avx512};
    use picoformer_kernels::frame::f32::{dot_rows_by_tiles, F32Simd, MR};
    fn pair<K: F32Simd>(kern: K, x: &[f32], n: usize, k: usize, bandwidth: f64) {
        let values = n * k;
        let copies = (COLD_BYTES / (4 * values)).max(2);
        let w32: Vec<Vec<f32>> = (0..copies)
            .map(|c| (0..values).map(|i| ((i + c) % 7) as f32 * 0.1).collect())
            .collect();
        let blocks = k / K::LANES;
        let rows = n / MR * MR;
        let (mut y_old, mut y_new) = (vec![0.0f32; rows], vec![0.0f32; rows]);
        let (mut old, mut new) = (f64::INFINITY, f64::INFINITY);
        for rep in 0..2 * REPEATS {
            let w = &w32[rep % copies];
            let start = Instant::now();
            if rep % 2 == 0 {
                dot_rows_by_tiles(kern, x, w, k, blocks, &mut y_old);
                old = old.min(start.elapsed().as_secs_f64());
            } else {
                kern.dot_rows(x, w, k, blocks, &mut y_new);
                new = new.min(start.elapsed().as_secs_f64());
            }
        }
        dot_rows_by_tiles(kern, x, &w32[0], k, blocks, &mut y_old);
        kern.dot_rows(x, &w32[0], k, blocks, &mut y_new);
        assert!(
            y_old == y_new,
            "the streaming one-row product changed the results"
        );
        let share = |t: f64| 100.0 * (4 * values) as f64 / t / 1e9 / bandwidth;
        println!(
            "  f32  {:<11} 1 x {k} -> {n}: by tiles {:.3} ms ({:.0}% of bandwidth), streaming {:.3} ms ({:.0}%), {:.2}x",
            K::NAME,
            old * 1e3,
            share(old),
            new * 1e3,
            share(new),
            old / new,
        );
    }
    if let Some(kern) = Avx512::detect() {
        pair(kern, x, n, k, bandwidth);
    }
    if let Some(kern) = Avx2Fma::detect() {
        pair(kern, x, n, k, bandwidth);
    }
}
