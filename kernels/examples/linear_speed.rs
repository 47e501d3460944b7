//! Times the dispatched `linear` on the paper's base shapes (best of many runs), with the
//! weights warm in the caches and cold (cycling through 64 MiB of weight matrices, as a
//! model's forward pass streams its layers).
//! First this core's fused multiply-add peak (a loop of independent FMAs, best of many
//! runs), against which each shape's GFLOP/s is given as a share.
//! Then the paper base forward pass's shapes (16 to 128 input rows; 512 -> 512, 512 ->
//! 2048, 2048 -> 512 and the 8000-word vocabulary), weights cold as in the forward pass,
//! which streams 190 MB of f32 weights from memory.
//! `cargo run --release -p picoformer-kernels --example linear_speed`
use picoformer_kernels::{active_kernel, attention, linear};
use std::time::Instant;

/// The active kernel's FMA peak in GFLOP/s (best of 20 runs); NaN where none is known.
fn fma_peak() -> f64 {
    #[cfg(target_arch = "x86_64")]
    return picoformer_kernels::arch::x86_64::peak::fma_peak_gflop_s(active_kernel(), 20)
        .unwrap_or(f64::NAN);
    #[cfg(not(target_arch = "x86_64"))]
    return f64::NAN;
}

fn main() {
    let peak = fma_peak();
    println!(
        "{:?} FMA peak {peak:.1} GFLOP/s (one core)",
        active_kernel()
    );
    for (rows, n, k) in [
        (32, 512, 512),
        (32, 2048, 512),
        (32, 512, 2048),
        (8, 2048, 512),
        (1, 2048, 512),
        (4, 2048, 512),
        (1500, 512, 512),
    ] {
        let x: Vec<f32> = (0..rows * k).map(|i| (i % 13) as f32 * 0.1).collect();
        let copies = (64 << 20) / (4 * n * k);
        let ws: Vec<Vec<f32>> = (0..copies)
            .map(|c| (0..n * k).map(|i| ((i + c) % 7) as f32 * 0.1).collect())
            .collect();
        let mut y = vec![0.0; rows * n];
        let (mut warm, mut cold) = (f64::INFINITY, f64::INFINITY);
        for rep in 0..(30 * 32 / rows).clamp(12, 30) {
            let w = &ws[rep % copies];
            let start = Instant::now();
            linear(&x, w, None, k, &mut y);
            cold = cold.min(start.elapsed().as_secs_f64());
            let start = Instant::now();
            linear(&x, w, None, k, &mut y);
            warm = warm.min(start.elapsed().as_secs_f64());
        }
        let flops = 2.0 * (rows * n * k) as f64 / 1e9;
        println!(
            "{:?} rows {rows:>2} n {n:>4} k {k:>4}: warm {:.3} ms {:.1} GFLOP/s ({:.0}%), cold {:.3} ms {:.1} GFLOP/s ({:.0}%)",
            active_kernel(),
            warm * 1e3,
            flops / warm,
            100.0 * flops / warm / peak,
            cold * 1e3,
            flops / cold,
            100.0 * flops / cold / peak,
        );
    }
    paper_shapes(peak);
    // Attention of one query over an encoder's keys (Whisper base: 1500 positions, D 512,
    // 8 heads): scores, softmax and the weighted sum of the values.
    let (m, d, heads) = (1500, 512, 8);
    let keys: Vec<f32> = (0..m * d).map(|i| ((i % 11) as f32 - 5.0) * 0.01).collect();
    let values: Vec<f32> = (0..m * d).map(|i| ((i % 5) as f32 - 2.0) * 0.1).collect();
    let mut scores = vec![0.0; m];
    let mut best = f64::INFINITY;
    for _ in 0..200 {
        let mut q: Vec<f32> = (0..d).map(|i| (i % 3) as f32 * 0.1).collect();
        let start = Instant::now();
        attention(&mut q, &keys, &values, heads, &mut scores);
        best = best.min(start.elapsed().as_secs_f64());
    }
    let flops = 4.0 * (m * d) as f64 / 1e9;
    println!(
        "{:?} attention 1 query x {m} keys, D {d}, {heads} heads: {:.1} us {:.1} GFLOP/s ({:.0}%)",
        active_kernel(),
        best * 1e6,
        flops / best,
        100.0 * flops / best / peak
    );
    encoder_attention(peak);
}

/// Whisper base's encoder self-attention (1500 query rows over 1500 keys, D 512, 8 heads)
/// through `attention_rows` (the blocked attention where the kernel has one), one thread.
fn encoder_attention(peak: f64) {
    let (m, d, heads) = (1500, 512, 8);
    let keys: Vec<f32> = (0..m * d).map(|i| ((i % 11) as f32 - 5.0) * 0.01).collect();
    let values: Vec<f32> = (0..m * d).map(|i| ((i % 5) as f32 - 2.0) * 0.1).collect();
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let mut q: Vec<f32> = (0..m * d).map(|i| (i % 3) as f32 * 0.1).collect();
        let start = Instant::now();
        picoformer_kernels::dispatch::attention_rows(&mut q, &keys, &values, heads, d, m);
        best = best.min(start.elapsed().as_secs_f64());
    }
    let flops = 4.0 * (m * m * d) as f64 / 1e9;
    println!(
        "{:?} attention {m} queries x {m} keys, D {d}, {heads} heads: {:.1} ms {:.1} GFLOP/s ({:.0}%)",
        active_kernel(),
        best * 1e3,
        flops / best,
        100.0 * flops / best / peak
    );
}

/// The paper base forward pass's linear layers at 16 to 128 rows, weights cold (a new
/// matrix of the 64 MiB set every call); best of several runs each.
fn paper_shapes(peak: f64) {
    for (n, k) in [(512, 512), (2048, 512), (512, 2048), (8000, 512)] {
        let copies = ((64 << 20) / (4 * n * k)).max(2);
        let ws: Vec<Vec<f32>> = (0..copies)
            .map(|c| (0..n * k).map(|i| ((i + c) % 7) as f32 * 0.1).collect())
            .collect();
        let mut line = format!("{:?} cold n {n:>4} k {k:>4}:", active_kernel());
        for rows in [16, 32, 64, 128] {
            let x: Vec<f32> = (0..rows * k).map(|i| (i % 13) as f32 * 0.1).collect();
            let mut y = vec![0.0; rows * n];
            let mut cold = f64::INFINITY;
            for rep in 0..(24 * 16 / rows).max(2 * copies.min(8)) {
                let w = &ws[rep % copies];
                let start = Instant::now();
                linear(&x, w, None, k, &mut y);
                cold = cold.min(start.elapsed().as_secs_f64());
            }
            let flops = 2.0 * (rows * n * k) as f64 / 1e9;
            line += &format!(
                " rows {rows} {:.3} ms ({:.0}%)",
                cold * 1e3,
                100.0 * flops / cold / peak
            );
        }
        println!("{line}");
    }
}
