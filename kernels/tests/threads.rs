//! Host threads (feature `threads`): every linear layer gives the same bits on 2 and 3
//! threads as on one, for every dtype, both ways of splitting (rows; one row's output
//! columns) and shapes whose tiles and tails fall across the split points; and the
//! split really happens (the kernel record counts one product per thread's part).

use picoformer_kernels::quant::{self, activation_scales, activation_values, f16, Activations};
use picoformer_kernels::threads::{current_threads, with_threads, MIN_PARALLEL_WORK};
use picoformer_kernels::{active_kernel, kernel_calls, Dtype, I8Matrix, Matrix};

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

/// (rows, n, k): one row split by columns (n not a multiple of any grain), several rows
/// split by columns (fewer rows than columns: staged, then copied by rows) and by rows
/// (counts that leave a short last part), reductions with tails.
const SHAPES: [(usize, usize, usize); 6] = [
    (1, 1000, 131),
    (1, 517, 512),
    (2, 300, 257),
    (7, 130, 100),
    (19, 1030, 64),
    (33, 61, 77),
];

/// `product` run outside any pool and inside pools of 2 and 3 threads: the same bits.
fn same_bits_on_threads(name: &str, product: impl Fn() -> Vec<f32> + Sync) {
    let alone = product();
    for threads in [2, 3] {
        let split = with_threads(threads, || {
            assert_eq!(current_threads(), threads);
            product()
        });
        assert_eq!(bits(&split), bits(&alone), "{name} on {threads} threads");
    }
}

#[test]
fn f32_linear_and_linear_acc_are_bit_identical_on_threads() {
    for (rows, n, k) in SHAPES {
        assert!(
            rows * n * k >= MIN_PARALLEL_WORK,
            "{rows}x{n}x{k} would not split"
        );
        let x = values(rows * k, 1);
        let w = values(n * (k + 5), 2);
        let bias = values(n, 3);
        same_bits_on_threads(&format!("linear {rows}x{n}x{k}"), || {
            let mut y = vec![0.0; rows * n];
            picoformer_kernels::linear(&x, &w[..n * k], Some(&bias), k, &mut y);
            y
        });
        // a column block of [n, k + 5] weights onto values already there
        same_bits_on_threads(&format!("linear_acc {rows}x{n}x{k}"), || {
            let mut y = values(rows * n, 4);
            picoformer_kernels::linear_acc(&x, &w[3..], k + 5, k, &mut y);
            y
        });
    }
}

#[test]
fn f16_and_int8_linear_are_bit_identical_on_threads() {
    for (rows, n, k) in SHAPES {
        let x = values(rows * k, 5);
        let w = values(n * k, 6);
        let bias = values(n, 7);
        let w16: Vec<f16> = w.iter().map(|&v| f16::from_f32(v)).collect();
        same_bits_on_threads(&format!("f16 {rows}x{n}x{k}"), || {
            let mut y = vec![0.0; rows * n];
            quant::linear(
                &x,
                &Matrix::F16(&w16),
                Some(&bias),
                k,
                &mut y,
                &mut Activations::none(),
            );
            y
        });
        let mut q = vec![0i8; n * k];
        let scales: Vec<f32> = q
            .chunks_exact_mut(k)
            .zip(w.chunks_exact(k))
            .map(|(q, w)| quant::quantize_weight_row(w, q))
            .collect();
        let w8 = Matrix::I8(I8Matrix {
            values: &q,
            scales: &scales,
        });
        same_bits_on_threads(&format!("int8 {rows}x{n}x{k}"), || {
            let mut act_values = vec![0i8; activation_values(rows, k).unwrap()];
            let mut act_scales = vec![0f32; activation_scales(rows)];
            let mut act = Activations {
                values: &mut act_values,
                scales: &mut act_scales,
            };
            let mut y = vec![0.0; rows * n];
            quant::linear(&x, &w8, Some(&bias), k, &mut y, &mut act);
            y
        });
    }
}

#[test]
fn gelu_is_bit_identical_on_threads() {
    // a length off every line and part size, beyond the split's threshold
    let x = values(
        3 * picoformer_kernels::threads::MIN_PARALLEL_ELEMENTS + 5,
        30,
    );
    let x: Vec<f32> = x.iter().map(|v| v * 9.0).collect();
    same_bits_on_threads("gelu", || {
        let mut y = x.clone();
        picoformer_kernels::gelu(&mut y);
        y
    });
}

#[test]
fn conv1d_is_bit_identical_on_threads() {
    use picoformer_kernels::generic::f32::conv1d_out_len;
    // (c_in, c_out, l_in, stride): Whisper's two convolutions, small (taps 3, padding 1),
    // row counts that leave a short last part and rows at both padded edges.
    for (c_in, c_out, l_in, stride) in [(80, 64, 301, 1), (64, 36, 301, 2), (24, 20, 97, 2)] {
        let (taps, padding) = (3, 1);
        let input = values(l_in * c_in, 31);
        let weight = values(c_out * taps * c_in, 32);
        let bias = values(c_out, 33);
        let l_out = conv1d_out_len(l_in, taps, stride, padding);
        same_bits_on_threads(&format!("conv1d {c_in}->{c_out} x{l_in} /{stride}"), || {
            let mut out = vec![f32::NAN; l_out * c_out];
            picoformer_kernels::conv1d(
                &input,
                c_in,
                &weight,
                Some(&bias),
                taps,
                stride,
                padding,
                &mut out,
            );
            out
        });
    }
}

#[test]
fn products_split_into_one_part_per_thread_and_small_ones_do_not() {
    let served = active_kernel().serving(Dtype::F32);
    let (n, k) = (1000, 131);
    let (x, w) = (values(k, 8), values(n * k, 9));
    let mut y = vec![0.0; n];
    // Other tests of this binary run at the same time: count on a private shape only by
    // the difference being at least the parts of this call.
    let before = kernel_calls(Dtype::F32, served);
    with_threads(2, || picoformer_kernels::linear(&x, &w, None, k, &mut y));
    assert!(
        kernel_calls(Dtype::F32, served) - before >= 2,
        "one row, 2 threads: 2 parts"
    );
    // Outside a pool nothing splits.
    assert_eq!(current_threads(), 1);
}

#[test]
fn f32_attention_split_by_heads_is_bit_identical_on_threads() {
    // (keys, d, heads): an encoder's long rows (a key count off every block size), and
    // a head count that leaves one thread a short run.
    for (m, d, n_heads) in [(301, 256, 4), (200, 384, 6), (150, 512, 8), (97, 640, 5)] {
        assert!(m * d >= MIN_PARALLEL_WORK / 2, "{m}x{d} would not split");
        let keys = values(m * d, 10);
        let vals = values(m * d, 11);
        let query = values(d, 12);
        same_bits_on_threads(&format!("attention {m}x{d}/{n_heads}"), || {
            let mut q = query.clone();
            let mut scores = vec![0.0; m + 3];
            picoformer_kernels::attention(&mut q, &keys, &vals, n_heads, &mut scores);
            q
        });
    }
}

#[test]
fn f32_attention_rows_head_by_head_match_one_call_per_row() {
    // (rows, keys, d, heads): Whisper-like long keys, a few rows, two rows, a run of rows
    // that leaves one thread a short part; `scores_len` below the key count cuts the keys
    // as `attention` does.
    for (rows, m, d, n_heads, scores_len) in [
        (9, 301, 256, 4, 301),
        (2, 150, 512, 8, 150),
        (5, 97, 640, 5, 97),
        (4, 40, 64, 2, 33),
    ] {
        let keys = values(m * d, 13);
        let vals = values(m * d, 14);
        let queries = values(rows * d, 15);
        let mut want = queries.clone();
        for q_row in want.chunks_exact_mut(d) {
            let mut scores = vec![0.0; scores_len];
            picoformer_kernels::attention(q_row, &keys, &vals, n_heads, &mut scores);
        }
        same_bits_on_threads(&format!("attention_rows {rows}x{m}x{d}/{n_heads}"), || {
            let mut q = queries.clone();
            assert!(picoformer_kernels::dispatch::attention_rows(
                &mut q, &keys, &vals, n_heads, d, scores_len
            ));
            assert_eq!(bits(&q), bits(&want), "against one call per row");
            q
        });
    }
    // The blocked attention (AVX-512: 16 rows per block, one per lane) on Whisper's
    // width over a run that leaves a partial block, with scores large enough that most
    // exponentials underflow to 0 and some lanes see one key dominate; and head widths of
    // 16 and 128. Each against one call per row, bit for bit.
    for (rows, m, d, n_heads, spread) in [
        (37, 203, 512, 8, 40.0),
        (17, 64, 64, 4, 1.0),
        (3, 9, 256, 2, 300.0),
    ] {
        let keys: Vec<f32> = values(m * d, 19).iter().map(|v| v * spread).collect();
        let vals = values(m * d, 20);
        let queries = values(rows * d, 21);
        let mut want = queries.clone();
        for q_row in want.chunks_exact_mut(d) {
            let mut scores = vec![0.0; m];
            picoformer_kernels::attention(q_row, &keys, &vals, n_heads, &mut scores);
        }
        same_bits_on_threads(
            &format!("attention_rows {rows}x{m}x{d}/{n_heads} x{spread}"),
            || {
                let mut q = queries.clone();
                assert!(picoformer_kernels::dispatch::attention_rows(
                    &mut q, &keys, &vals, n_heads, d, m
                ));
                assert_eq!(bits(&q), bits(&want), "against one call per row");
                q
            },
        );
    }
    // One row is left to `attention` (which splits its heads).
    let mut one = values(64, 16);
    assert!(!picoformer_kernels::dispatch::attention_rows(
        &mut one,
        &values(64 * 10, 17),
        &values(64 * 10, 18),
        2,
        64,
        10
    ));
}
