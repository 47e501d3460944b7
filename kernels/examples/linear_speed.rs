//! Times the dispatched `linear` on the paper's base shapes (best of many runs).
//! `cargo run --release -p picoformer-kernels --example linear_speed`
use picoformer_kernels::{active_kernel, linear};
use std::time::Instant;

fn main() {
    for (rows, n, k) in [
        (32, 2048, 512),
        (32, 512, 2048),
        (1, 2048, 512),
        (4, 2048, 512),
    ] {
        let x: Vec<f32> = (0..rows * k).map(|i| (i % 13) as f32 * 0.1).collect();
        let w: Vec<f32> = (0..n * k).map(|i| (i % 7) as f32 * 0.1).collect();
        let mut y = vec![0.0; rows * n];
        let mut best = f64::INFINITY;
        for _ in 0..30 {
            let start = Instant::now();
            linear(&x, &w, None, k, &mut y);
            best = best.min(start.elapsed().as_secs_f64());
        }
        let gflops = 2.0 * (rows * n * k) as f64 / best / 1e9;
        println!(
            "{:?} rows {rows:>2} n {n} k {k}: {:.3} ms, {gflops:.1} GFLOP/s",
            active_kernel(),
            best * 1e3
        );
    }
}
