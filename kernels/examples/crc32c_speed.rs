//! CRC-32C throughput: the scalar 16-entry table (what firmware runs) against the kernel
//! `crc32c_update` dispatches to on this CPU, over 64 MiB (more than the caches hold, as
//! verifying a blob of 100+ MB streams it from memory). Minimum time over repetitions, so
//! that other work on a shared machine inflates no figure; prints `figure` lines for
//! tools/host-crc.sh, which writes them into docs/blob.md.
//! `cargo run --release -p picoformer-kernels --example crc32c_speed`
use picoformer_kernels::generic::crc32c::crc32c_update as scalar_crc;
use picoformer_kernels::{crc32c_kernel_name, crc32c_update};
use std::hint::black_box;
use std::time::Instant;

const BYTES: usize = 64 << 20;

/// MB/s (10^6 bytes per second) of the fastest of `reps` runs of `crc` over `data`, and
/// its result.
fn best_mb_s(reps: usize, data: &[u8], crc: impl Fn(u32, &[u8]) -> u32) -> (f64, u32) {
    let mut best = f64::INFINITY;
    let mut result = 0;
    for _ in 0..reps {
        let start = Instant::now();
        result = black_box(!crc(black_box(!0), black_box(data)));
        best = best.min(start.elapsed().as_secs_f64());
    }
    (data.len() as f64 / best / 1e6, result)
}

fn main() {
    let mut s = 0x9E37_79B9u32;
    let data: Vec<u8> = (0..BYTES)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s as u8
        })
        .collect();
    let (scalar, want) = best_mb_s(5, &data, scalar_crc);
    let (kernel, got) = best_mb_s(20, &data, crc32c_update);
    assert_eq!(
        got, want,
        "the kernel's CRC differs from the scalar table's"
    );
    println!("kernel {}", crc32c_kernel_name());
    println!("figure crc32c_scalar_mb_s {scalar:.0}");
    println!("figure crc32c_kernel_mb_s {kernel:.0}");
}
