//! Times the dispatched `linear` on the paper's base shapes (best of many runs), with the
//! weights warm in the caches and cold (cycling through 64 MiB of weight matrices, as a
//! model's forward pass streams its layers).
//! `cargo run --release -p picoformer-kernels --example linear_speed`
use picoformer_kernels::{active_kernel, linear};
use std::time::Instant;

fn main() {
    for (rows, n, k) in [
        (32, 512, 512),
        (32, 2048, 512),
        (32, 512, 2048),
        (8, 2048, 512),
        (1, 2048, 512),
        (4, 2048, 512),
    ] {
        let x: Vec<f32> = (0..rows * k).map(|i| (i % 13) as f32 * 0.1).collect();
        let copies = (64 << 20) / (4 * n * k);
        let ws: Vec<Vec<f32>> = (0..copies)
            .map(|c| (0..n * k).map(|i| ((i + c) % 7) as f32 * 0.1).collect())
            .collect();
        let mut y = vec![0.0; rows * n];
        let (mut warm, mut cold) = (f64::INFINITY, f64::INFINITY);
        for rep in 0..30 {
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
            "{:?} rows {rows:>2} n {n:>4} k {k:>4}: warm {:.3} ms {:.1} GFLOP/s, cold {:.3} ms {:.1} GFLOP/s",
            active_kernel(),
            warm * 1e3,
            flops / warm,
            cold * 1e3,
            flops / cold,
        );
    }
}
