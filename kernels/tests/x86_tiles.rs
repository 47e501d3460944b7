//! x86_64 f32 kernels: a tile of input rows gives every row the bits it gets alone, at
//! every tile size the frame uses (AVX2 up to 3 rows, AVX-512 up to 4), so a forward
//! pass's products agree bit for bit with a decode step's, and a product split by rows
//! over threads with one thread's. (Against the scalar reference the kernels are held to
//! an error budget: kernels_vs_scalar.rs.)
#![cfg(target_arch = "x86_64")]

use picoformer_kernels::arch::x86_64::f32::{Avx2Fma, Avx512};
use picoformer_kernels::frame::f32::{self as frame, F32Simd, MR};

fn values(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        })
        .collect()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn tile_rows_match_alone<K: F32Simd, const ROWS: usize>(kernel: K, k: usize) {
    let blocks = k / K::LANES;
    let x = values(ROWS * k, 1 + k as u32);
    let w = values(MR * k, 2 + k as u32);
    let x_tile: [&[f32]; ROWS] = core::array::from_fn(|r| &x[r * k..(r + 1) * k]);
    let w_tile: [&[f32]; MR] = core::array::from_fn(|m| &w[m * k..(m + 1) * k]);
    let tile = kernel.dot_tile::<ROWS>(x_tile, w_tile, blocks);
    for (r, sums) in tile.iter().enumerate() {
        let [alone] = kernel.dot_tile::<1>([x_tile[r]], w_tile, blocks);
        assert_eq!(
            bits(sums),
            bits(&alone),
            "{} {ROWS} rows, row {r}, k {k}",
            K::NAME
        );
    }
}

fn linear_rows_match_alone<K: F32Simd>(kernel: K) {
    for k in [1, 15, 16, 64, 77, 512] {
        for (k, n) in [(k, 9), (k, 64)] {
            let w = values(n * k, 3);
            let bias = values(n, 4);
            for rows in 1..=13 {
                let x = values(rows * k, 5 + rows as u32);
                let mut y = vec![0.0; rows * n];
                frame::linear(kernel, &x, &w, Some(&bias), k, &mut y);
                for (x_row, y_row) in x.chunks_exact(k).zip(y.chunks_exact(n)) {
                    let mut alone = vec![0.0; n];
                    frame::linear(kernel, x_row, &w, Some(&bias), k, &mut alone);
                    assert_eq!(
                        bits(y_row),
                        bits(&alone),
                        "{} linear rows {rows} k {k}",
                        K::NAME
                    );
                }
            }
        }
    }
}

/// Many rows (several runs of rows, several blocks of weight rows, the prefetching
/// tiles, a last partial tile): each row's bits as alone, `linear_acc` too.
fn linear_runs_match_alone<K: F32Simd>(kernel: K) {
    for (rows, n, k, stride) in [
        (70, 203, 2048, 2050),
        (200, 150, 1040, 1040),
        (37, 9, 48, 64),
    ] {
        let w = values(n * stride, 6);
        let bias = values(n, 7);
        let x = values(rows * k, 8);
        let mut y = vec![0.0; rows * n];
        let mut acc = values(rows * n, 9);
        let start = acc.clone();
        if stride == k {
            frame::linear(kernel, &x, &w, Some(&bias), k, &mut y);
        }
        frame::linear_acc(kernel, &x, &w, stride, k, &mut acc);
        for (r, x_row) in x.chunks_exact(k).enumerate() {
            let (mut alone, mut alone_acc) = (vec![0.0; n], start[r * n..(r + 1) * n].to_vec());
            frame::linear_acc(kernel, x_row, &w, stride, k, &mut alone_acc);
            assert_eq!(
                bits(&acc[r * n..(r + 1) * n]),
                bits(&alone_acc),
                "{} acc row {r}",
                K::NAME
            );
            if stride == k {
                frame::linear(kernel, x_row, &w, Some(&bias), k, &mut alone);
                assert_eq!(
                    bits(&y[r * n..(r + 1) * n]),
                    bits(&alone),
                    "{} row {r}",
                    K::NAME
                );
            }
        }
    }
    // The prefetching tile gives the plain tile's bits.
    let k = 512;
    let (x, w) = (values(4 * k, 10), values(8 * k, 11));
    let x_tile: [&[f32]; 4] = core::array::from_fn(|r| &x[r * k..(r + 1) * k]);
    let w_tile: [&[f32]; MR] = core::array::from_fn(|m| &w[m * k..(m + 1) * k]);
    let plain = kernel.dot_tile::<4>(x_tile, w_tile, k / K::LANES);
    let ahead = kernel.dot_tile_ahead::<4>(x_tile, w_tile, k / K::LANES, &w[4 * k..]);
    for (p, a) in plain.iter().zip(&ahead) {
        assert_eq!(bits(p), bits(a), "{} dot_tile_ahead", K::NAME);
    }
}

/// The one-row product (a decoding step's, which fetches the weight rows some KiB
/// ahead, past the matrix's end on its last tiles) gives the tile-by-tile bits, with
/// rows wider than the product and as wide.
fn one_row_streams_its_tiles_bits<K: F32Simd>(kernel: K) {
    for (n, k, stride) in [
        (8, 16, 16),
        (64, 512, 512),
        (36, 512, 520),
        (12, 2048, 2048),
    ] {
        let blocks = k / K::LANES;
        let (x, w) = (values(k, 12), values(n * stride, 13));
        let (mut streamed, mut tiled) = (vec![0.0; n], vec![0.0; n]);
        kernel.dot_rows(&x, &w, stride, blocks, &mut streamed);
        frame::dot_rows_by_tiles(kernel, &x, &w, stride, blocks, &mut tiled);
        assert_eq!(
            bits(&streamed),
            bits(&tiled),
            "{} dot_rows n {n} k {k}",
            K::NAME
        );
    }
}

fn check<K: F32Simd>(kernel: Option<K>, name: &str) {
    let Some(kernel) = kernel else {
        eprintln!("skipped: this CPU has no {name}");
        return;
    };
    for k in [0, 16, 48, 64, 512, 2048] {
        tile_rows_match_alone::<K, 2>(kernel, k);
        tile_rows_match_alone::<K, 3>(kernel, k);
        tile_rows_match_alone::<K, 4>(kernel, k);
    }
    linear_rows_match_alone(kernel);
    linear_runs_match_alone(kernel);
    one_row_streams_its_tiles_bits(kernel);
}

#[test]
fn f32_avx2_tiles_give_each_row_its_own_bits() {
    check(Avx2Fma::detect(), "AVX2 + FMA");
}

#[test]
fn f32_avx512_tiles_give_each_row_its_own_bits() {
    check(Avx512::detect(), "AVX-512F");
}
