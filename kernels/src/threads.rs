//! Host threads (feature `threads`, which implies `std`): the linear layers split their
//! work over the threads of the rayon pool the caller runs in ([`with_threads`]).
//!
//! - More input rows than output columns (an encoder's 1500 rows): each thread takes a
//!   run of whole rows, all output columns.
//! - Fewer (a forward pass of a few dozen positions, a decode step): each thread takes a
//!   run of output columns (weight rows), all input rows, cut at multiples of
//!   [`COLUMN_GRAIN`] so that every kernel's tiles of weight rows fall where they fall in
//!   one thread's run. Each weight is read by one thread (by rows, every thread would
//!   stream the whole matrix, at half the rows a pass); several rows' columns are staged
//!   in a buffer of the calling thread and copied into place by rows.
//!
//! - Elementwise functions of many elements (GELU): each thread takes a run of them;
//!   a convolution (Whisper's stem), a run of output rows.
//!
//! - Attention of one query row over many keys (an encoder's, Whisper's 1500): each
//!   thread takes a run of heads, with a scores buffer of its own.
//!
//! Every output element is computed by the same instructions on the same operands as in
//! one thread (a kernel's tile gives each element what it gives alone, and int8 sums are
//! exact), so the results are bit-identical whatever the thread count; the tests hold
//! this. Outside a pool (firmware has none; neither has a library caller who never calls
//! [`with_threads`]) nothing changes: one thread, no allocation.

extern crate std;

use core::ops::Range;

/// Output columns are split at multiples of this: a multiple of every kernel's tile of
/// weight rows (f32 `MR` = 4, f16 and int8 tiles of up to 8 rows).
pub const COLUMN_GRAIN: usize = 16;

/// Multiply-adds below which a product stays on one thread: handing work to another
/// thread costs a few microseconds, ~20 k multiply-adds on one core.
pub const MIN_PARALLEL_WORK: usize = 1 << 16;

/// Runs `f` on a pool of `threads` threads, inside which the linear layers split their
/// work; `threads <= 1` (or a pool that cannot be built) runs `f` here, on one thread.
pub fn with_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    if threads <= 1 {
        return f();
    }
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(f),
        Err(_) => f(),
    }
}

/// Threads the current product may use: the size of the pool this thread works in, 1
/// outside any.
pub fn current_threads() -> usize {
    if rayon::current_thread_index().is_some() {
        rayon::current_num_threads()
    } else {
        1
    }
}

/// One thread's part of a product: `(x_part, columns, y_part)`.
pub(crate) type Part<'a> = dyn Fn(&[f32], Range<usize>, &mut [f32]) + Sync + 'a;

/// Splits `y[rows, n] = f(x[rows, k])` over the pool's threads when it is worth it:
/// `run(x_part, columns, y_part)` computes `y_part` (rows of `columns.len()` values) from
/// `x_part` (whole rows of `k`); where `accumulate`, it adds to what `y_part` holds, which
/// is then `y`'s values. Returns false, having run nothing, when the product stays on one
/// thread.
pub(crate) fn split_linear(
    x: &[f32],
    k: usize,
    n: usize,
    y: &mut [f32],
    accumulate: bool,
    run: &Part,
) -> bool {
    let threads = current_threads();
    let rows = x.len().checked_div(k).unwrap_or(0);
    if threads <= 1
        || rows.saturating_mul(n).saturating_mul(k) < MIN_PARALLEL_WORK
        || y.len() < rows * n
    {
        return false;
    }
    let x = &x[..rows * k];
    let y = &mut y[..rows * n];
    let by_columns = rows < n && n >= 2 * COLUMN_GRAIN;
    if rows >= threads && !by_columns {
        let per = rows.div_ceil(threads);
        rayon::scope(|s| {
            for (x_part, y_part) in x.chunks(per * k).zip(y.chunks_mut(per * n)) {
                s.spawn(move |_| run(x_part, 0..n, y_part));
            }
        });
        true
    } else if by_columns {
        let per = n.div_ceil(threads).div_ceil(COLUMN_GRAIN) * COLUMN_GRAIN;
        if rows == 1 {
            rayon::scope(|s| {
                for (i, y_part) in y.chunks_mut(per).enumerate() {
                    let start = i * per;
                    s.spawn(move |_| run(x, start..start + y_part.len(), y_part));
                }
            });
        } else {
            with_stage(rows * n, |stage| {
                split_columns_staged(x, rows, n, per, y, stage, accumulate, run)
            });
        }
        true
    } else {
        false
    }
}

/// [`split_linear`] by runs of `per` output columns over several input rows: part `i`
/// computes its `[rows, cols_i]` in its own stretch of `stage` (`[rows, n]` in all, the
/// parts one after another; filled from `y` first where `accumulate`), then the rows of
/// `y` are copied out of the parts, a run of rows per thread.
#[allow(clippy::too_many_arguments)] // the product's shape, its buffers and its parts
fn split_columns_staged(
    x: &[f32],
    rows: usize,
    n: usize,
    per: usize,
    y: &mut [f32],
    stage: &mut [f32],
    accumulate: bool,
    run: &Part,
) {
    let parts = n.div_ceil(per);
    let columns = |i: usize| i * per..n.min((i + 1) * per);
    {
        let y_read: &[f32] = y;
        rayon::scope(|s| {
            let mut rest = &mut stage[..];
            for i in 0..parts {
                let cols = columns(i);
                let (part, tail) = rest.split_at_mut(rows * cols.len());
                rest = tail;
                s.spawn(move |_| {
                    if accumulate {
                        for (dst, src) in part.chunks_exact_mut(cols.len()).zip(y_read.chunks(n)) {
                            dst.copy_from_slice(&src[cols.clone()]);
                        }
                    }
                    run(x, cols, part)
                });
            }
        });
    }
    let stage: &[f32] = stage;
    let per_rows = rows.div_ceil(current_threads());
    rayon::scope(|s| {
        for (j, y_rows) in y.chunks_mut(per_rows * n).enumerate() {
            s.spawn(move |_| {
                for (r, y_row) in (j * per_rows..).zip(y_rows.chunks_exact_mut(n)) {
                    for i in 0..parts {
                        let cols = columns(i);
                        let part = &stage[rows * cols.start..];
                        let row = &part[r * cols.len()..(r + 1) * cols.len()];
                        y_row[cols].copy_from_slice(row);
                    }
                }
            });
        }
    });
}

/// Runs `f` with this thread's staging buffer of `len` entries ([`split_columns_staged`]).
fn with_stage<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    use std::cell::RefCell;
    use std::vec::Vec;
    std::thread_local! {
        static STAGE: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    }
    STAGE.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        if buffer.len() < len {
            buffer.resize(len, 0.0);
        }
        f(&mut buffer[..len])
    })
}

/// Elements below which an elementwise function stays on one thread (~20 k
/// multiply-adds' worth of work each way, see [`MIN_PARALLEL_WORK`]).
pub const MIN_PARALLEL_ELEMENTS: usize = 1 << 14;

/// Splits an elementwise function of `x` in place over the pool's threads (runs of
/// whole 64-byte lines each) when it is worth it: `run(part)` for each part. Returns
/// false, having run nothing, when it stays on one thread.
pub(crate) fn split_elements(x: &mut [f32], run: &(dyn Fn(&mut [f32]) + Sync)) -> bool {
    let threads = current_threads();
    if threads <= 1 || x.len() < MIN_PARALLEL_ELEMENTS {
        return false;
    }
    let per = x.len().div_ceil(threads).next_multiple_of(16);
    rayon::scope(|s| {
        for part in x.chunks_mut(per) {
            s.spawn(move |_| run(part));
        }
    });
    true
}

/// Splits the rows of `out` (`[rows, row_len]`, `work` multiply-adds in all) over the
/// pool's threads when it is worth it: `run(first_row, part)` computes each run of whole
/// rows. Returns false, having run nothing, when it stays on one thread.
pub(crate) fn split_out_rows(
    out: &mut [f32],
    row_len: usize,
    work: usize,
    run: &(dyn Fn(usize, &mut [f32]) -> bool + Sync),
) -> bool {
    let threads = current_threads();
    let rows = out.len().checked_div(row_len).unwrap_or(0);
    if threads <= 1 || rows < 2 || work < MIN_PARALLEL_WORK {
        return false;
    }
    let per = rows.div_ceil(threads);
    rayon::scope(|s| {
        for (i, part) in out.chunks_mut(per * row_len).enumerate() {
            s.spawn(move |_| {
                run(i * per, part);
            });
        }
    });
    true
}

/// One head of attention: `(h, q_h, scores)` computes head `h` in place in `q_h` with
/// `scores` (one per key) as its buffer.
pub(crate) type Head<'a> = dyn Fn(usize, &mut [f32], &mut [f32]) + Sync + 'a;

/// Splits one query row's attention over `m` keys by heads (`dk` columns each) over the
/// pool's threads when it is worth it. Returns false, having run nothing, when it stays
/// on one thread.
pub(crate) fn split_heads(query: &mut [f32], dk: usize, m: usize, head: &Head) -> bool {
    let threads = current_threads();
    let n_heads = query.len().checked_div(dk).unwrap_or(0);
    if threads <= 1 || n_heads < 2 || m.saturating_mul(query.len()) < MIN_PARALLEL_WORK / 2 {
        return false;
    }
    let per = n_heads.div_ceil(threads);
    rayon::scope(|s| {
        for (i, q_part) in query.chunks_mut(per * dk).enumerate() {
            s.spawn(move |_| {
                with_scores(m, |scores| {
                    for (j, q_h) in q_part.chunks_exact_mut(dk).enumerate() {
                        head(i * per + j, q_h, scores);
                    }
                })
            });
        }
    });
    true
}

/// Attention of a run of query rows: `(rows, scores)` computes `rows` (whole rows of the
/// model width) in place with `scores` (one per key) as its buffer.
pub(crate) type QueryRows<'a> = dyn Fn(&mut [f32], &mut [f32]) + Sync + 'a;

/// Runs `run` over `queries` (rows of `d`, attending over `m` keys) with a scores buffer
/// of `scratch` entries: in one part per thread of the pool (whole rows each), or here in
/// one part.
pub(crate) fn split_query_rows(
    queries: &mut [f32],
    d: usize,
    m: usize,
    scratch: usize,
    run: &QueryRows,
) {
    let threads = current_threads();
    let rows = queries.len().checked_div(d).unwrap_or(0);
    if threads <= 1 || rows < 2 || rows.saturating_mul(m).saturating_mul(d) < MIN_PARALLEL_WORK {
        with_scores(scratch, |scores| run(queries, scores));
        return;
    }
    let per = rows.div_ceil(threads);
    rayon::scope(|s| {
        for part in queries.chunks_mut(per * d) {
            s.spawn(move |_| with_scores(scratch, |scores| run(part, scores)));
        }
    });
}

/// Runs `f` with this thread's own attention scores buffer of `m` entries.
fn with_scores<R>(m: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    use std::cell::RefCell;
    use std::vec::Vec;
    std::thread_local! {
        static SCORES: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    }
    SCORES.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        if buffer.len() < m {
            buffer.resize(m, 0.0);
        }
        f(&mut buffer[..m])
    })
}

/// Runs `f` with this thread's own int8 activation buffer of `values` and `scales`
/// entries (the caller's one buffer cannot serve several threads at once).
#[cfg(feature = "int8")]
pub(crate) fn with_activations<R>(
    values: usize,
    scales: usize,
    f: impl FnOnce(&mut crate::quant::Activations) -> R,
) -> R {
    use std::cell::RefCell;
    use std::vec::Vec;
    std::thread_local! {
        static BUFFER: RefCell<(Vec<i8>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
    }
    BUFFER.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        let (v, s) = &mut *buffer;
        if v.len() < values {
            v.resize(values, 0);
        }
        if s.len() < scales {
            s.resize(scales, 0.0);
        }
        f(&mut crate::quant::Activations {
            values: &mut v[..values],
            scales: &mut s[..scales],
        })
    })
}
