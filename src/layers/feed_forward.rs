//! Position-wise feed-forward network: `ffn(x) = W2 act(W1 x + b1) + b2` (`docs/spec.md`,
//! "Feed-forward network").
//!
//! The hidden activations `[rows, F]` of a whole sequence do not fit the scratch buffer
//! (it holds `[R, F]`, `R = FFN_ROW_BLOCK`). On hosts the network trades width for rows:
//! it takes `FFN_SHARE x R` rows at a time through `F / FFN_SHARE` hidden columns at a
//! time, `out = b2 + sum over column blocks c of W2[:, c] act(W1[c] x + b1[c])`, so each
//! weight is read once per `FFN_SHARE x R` rows instead of once per `R` rows and the
//! matrix kernels get taller tiles. On bare metal (no caches to keep weights in) the
//! blocks are `R` whole rows.

use crate::config::{Activation, Config};
use crate::model::weights::FfnWeights;
use picoformer_kernels as k;
use picoformer_kernels::{Activations, Matrix};

/// How many times more rows than `R` share each weight read (hidden columns are cut into
/// as many blocks): 4 on hosts, 1 on bare metal, where flash has no cache hierarchy to
/// reuse weights from and longer dot products cost fewer instructions.
const FFN_SHARE: usize = if cfg!(target_os = "none") { 1 } else { 4 };

/// Whether hidden columns are ever cut into blocks (hosts only): on bare metal the
/// column-block path (`linear_acc`) is not even compiled into the firmware.
const COLUMN_BLOCKS: bool = FFN_SHARE > 1;

/// Hidden columns per block are a multiple of this (whole SIMD blocks on every kernel).
const COLUMN_ALIGN: usize = 16;

/// `out = ffn(input)` for `[n, D]` rows through `hidden` (`[rows_block, F]` floats).
pub(crate) fn feed_forward(
    config: &Config,
    ffn: &FfnWeights,
    input: &[f32],
    hidden: &mut [f32],
    rows_block: usize,
    out: &mut [f32],
    act: &mut Activations,
) {
    let (d, f) = (config.dims.d_model, config.dims.d_ff);
    if d == 0 || f == 0 {
        return;
    }
    let rows_block = rows_block.max(1);
    let rows = input.len() / d;
    // Rows per group and hidden columns per block: `group x cols <= rows_block x F`.
    let mut group = rows.min(rows_block.saturating_mul(FFN_SHARE)).max(1);
    let mut cols = f;
    // Column blocks need f32 weights (`linear_acc`); f16/int8 products take whole rows.
    let f32_weights = match (ffn.w1, ffn.w2) {
        (Matrix::F32(w1), Matrix::F32(w2)) => Some((w1, w2)),
        // (no other element type without the `f16` and `int8` features)
        #[allow(unreachable_patterns)]
        _ => None,
    };
    #[cfg(all(feature = "std", feature = "int8"))]
    if matches!(ffn.w1, Matrix::I8(_))
        && rows > rows_block
        && k::quant::packed_rows_i8()
        && wide_i8(config, ffn, input, rows_block, out, act)
    {
        return;
    }
    if f32_weights.is_none() {
        group = group.min(rows_block);
    } else if COLUMN_BLOCKS && group > rows_block {
        cols = (hidden.len() / group) / COLUMN_ALIGN * COLUMN_ALIGN;
        if cols == 0 || cols >= f {
            (group, cols) = (rows_block, f);
        }
    }
    // Non-zero and without overflow (the scratch plan sized `hidden` from the same
    // numbers); the check also shows `chunks` its non-zero chunk size.
    let Some(block) = group.checked_mul(d).filter(|&b| b > 0) else {
        return;
    };
    for (x_rows, out_rows) in input.chunks(block).zip(out.chunks_mut(block)) {
        let n = x_rows.len() / d;
        if cols >= f || !COLUMN_BLOCKS {
            let Some(h) = n.checked_mul(f).and_then(|len| hidden.get_mut(..len)) else {
                return;
            };
            k::quant::linear(x_rows, &ffn.w1, ffn.b1, d, h, act); // [n, F]
            activate(config, h);
            k::quant::linear(h, &ffn.w2, ffn.b2, f, out_rows, act); // [n, D]
            continue;
        }
        // out = b2, then each column block adds its share.
        let Some((w1, w2)) = f32_weights else {
            return;
        };
        for row in out_rows.chunks_exact_mut(d) {
            row.fill(0.0);
            if let Some(b2) = ffn.b2 {
                k::add_assign(row, b2);
            }
        }
        let mut c = 0;
        while c < f {
            let width = cols.min(f - c);
            let (Some(h), Some(w1), Some(w2)) = (
                hidden.get_mut(..n * width),
                w1.get(c * d..(c + width) * d),
                w2.get(c..),
            ) else {
                return;
            };
            let b1 = ffn.b1.and_then(|b| b.get(c..c + width));
            k::linear(x_rows, w1, b1, d, h); // [n, width]
            activate(config, h);
            k::linear_acc(h, w2, f, width, out_rows); // [n, D] += h W2[:, c..c + width]^T
            c += width;
        }
    }
}

/// Hosts with `std`, int8 weights on a kernel with its own pass over several rows
/// (`quant::packed_rows_i8`: AVX-512 VNNI): the network over `FFN_SHARE x rows_block` rows
/// at a time with whole hidden rows, in a buffer of this thread's own (`[rows, F]`: larger
/// than the scratch's `[R, F]`), so that each weight is read once per that many rows and
/// the kernel gets taller blocks of rows. Each row's result is the same: an int8
/// product quantizes and sums each row on its own. `false` (nothing done) where the
/// buffer is in use.
#[cfg(all(feature = "std", feature = "int8"))]
fn wide_i8(
    config: &Config,
    ffn: &FfnWeights,
    input: &[f32],
    rows_block: usize,
    out: &mut [f32],
    act: &mut Activations,
) -> bool {
    use std::cell::RefCell;
    std::thread_local! {
        static HIDDEN: RefCell<std::vec::Vec<f32>> = const { RefCell::new(std::vec::Vec::new()) };
    }
    let (d, f) = (config.dims.d_model, config.dims.d_ff);
    let group = rows_block.saturating_mul(FFN_SHARE).max(1);
    let (Some(block), Some(len)) = (
        group.checked_mul(d).filter(|&b| b > 0),
        group.checked_mul(f),
    ) else {
        return false;
    };
    HIDDEN.with(|hidden| {
        let Ok(mut hidden) = hidden.try_borrow_mut() else {
            return false;
        };
        if hidden.len() < len {
            hidden.resize(len, 0.0);
        }
        for (x_rows, out_rows) in input.chunks(block).zip(out.chunks_mut(block)) {
            let n = x_rows.len() / d;
            let Some(h) = hidden.get_mut(..n * f) else {
                return true;
            };
            k::quant::linear(x_rows, &ffn.w1, ffn.b1, d, h, act); // [n, F]
            activate(config, h);
            k::quant::linear(h, &ffn.w2, ffn.b2, f, out_rows, act); // [n, D]
        }
        true
    })
}

fn activate(config: &Config, h: &mut [f32]) {
    match config.activation {
        Activation::Relu => k::relu(h),
        #[cfg(feature = "gelu")]
        Activation::Gelu => k::gelu(h),
        // Refused at load (`Error::FeatureDisabled`): no erff is linked.
        #[cfg(not(feature = "gelu"))]
        Activation::Gelu => {}
        #[cfg(feature = "llama")]
        Activation::Silu => {
            for v in h.iter_mut() {
                *v = crate::layers::llama::silu(*v);
            }
        }
        // Refused at load (`Error::FeatureDisabled`).
        #[cfg(not(feature = "llama"))]
        Activation::Silu => {}
    }
}
