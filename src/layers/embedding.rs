//! Input embedding: `x[p] = E[token_p] * (sqrt(D) if scale_embeddings) + T[0] + P[position_p]`
//! (`T[0]`: the first token-type row, BERT's single segment, when the model has one), and
//! the positional signal alone for inputs that are already vectors (`docs/spec.md`,
//! "Input embedding" and "Positional signal").

use crate::config::{Config, Positional};
use crate::error::{Error, Result};
#[cfg(all(feature = "int8", feature = "llama"))]
use picoformer_kernels::quant::Matrix;

/// An embedding table `[vocab, D]`: f32, or in builds that read int8 target embeddings
/// (`blob::I8_EMBEDDING_BUILT`) a weight matrix of any dtype (int8: rows with a scale).
#[cfg(all(feature = "int8", feature = "llama"))]
pub(crate) type Table<'a> = Matrix<'a>;
/// An embedding table `[vocab, D]` (f32 only in this build).
#[cfg(not(all(feature = "int8", feature = "llama")))]
pub(crate) type Table<'a> = &'a [f32];

/// `table` as a [`Table`].
#[inline(always)]
pub(crate) fn f32_table(table: &[f32]) -> Table<'_> {
    #[cfg(all(feature = "int8", feature = "llama"))]
    return Matrix::F32(table);
    #[cfg(not(all(feature = "int8", feature = "llama")))]
    table
}

/// Where each embedded row sits in its sequence.
#[derive(Clone, Copy)]
pub(crate) enum Positions {
    /// Row `p` is position `first + p` (a whole sequence).
    From(usize),
    /// Every row is at the same position (one step of several hypotheses).
    All(usize),
}

/// Embeds `tokens` into `x` `[n, D]`.
///
/// - `table`: `[vocab, D]` embedding matrix (f32, or int8 with a scale per row: the row
///   is dequantized, `scale * q`)
/// - `token_type`: `[D]` token-type row added to every token (before the position), or
///   `None`
/// - `position_table`: `[max_len, D]`, the blob's table (learned, or stored sinusoids)
pub(crate) fn embed(
    config: &Config,
    table: &Table<'_>,
    token_type: Option<&[f32]>,
    position_table: Option<&[f32]>,
    tokens: &[u32],
    positions: Positions,
    x: &mut [f32],
) -> Result<()> {
    let d = config.dims.d_model;
    let scale = if config.scale_embeddings {
        picoformer_kernels::sqrt(d as f32)
    } else {
        1.0
    };
    for (p, (&token, row)) in tokens.iter().zip(x.chunks_exact_mut(d.max(1))).enumerate() {
        embedding_row(table, token, scale, row)?;
        if let Some(token_type) = token_type {
            picoformer_kernels::add_assign(row, token_type);
        }
        let position = match positions {
            // Cannot wrap (positions count rows of one sequence); a wrapped position
            // would only miss the table (`SequenceTooLong`).
            Positions::From(first) => first.wrapping_add(p),
            Positions::All(position) => position,
        };
        add_position(config, position_table, position, row)?;
    }
    Ok(())
}

/// Writes row `token` of `table` `[vocab, D]`, times `scale`, into `row` `[D]`.
#[cfg(not(all(feature = "int8", feature = "llama")))]
#[inline(always)]
fn embedding_row(table: &Table<'_>, token: u32, scale: f32, row: &mut [f32]) -> Result<()> {
    let d = row.len();
    let start = (token as usize).checked_mul(d).ok_or(Error::SizeOverflow)?;
    let embedding = table
        .get(start..start.saturating_add(d))
        .ok_or(Error::TokenOutOfRange {
            token,
            vocab: table.len() / d.max(1),
        })?;
    for (dst, &e) in row.iter_mut().zip(embedding) {
        *dst = e * scale;
    }
    Ok(())
}

/// Writes row `token` of `table` `[vocab, D]`, times `scale`, into `row` `[D]`.
#[cfg(all(feature = "int8", feature = "llama"))]
fn embedding_row(table: &Table<'_>, token: u32, scale: f32, row: &mut [f32]) -> Result<()> {
    let d = row.len();
    let start = (token as usize).checked_mul(d).ok_or(Error::SizeOverflow)?;
    let range = start..start.saturating_add(d);
    let out_of_range = |len: usize| Error::TokenOutOfRange {
        token,
        vocab: len / d.max(1),
    };
    match table {
        Matrix::F32(table) => {
            let embedding = table.get(range).ok_or_else(|| out_of_range(table.len()))?;
            for (dst, &e) in row.iter_mut().zip(embedding) {
                *dst = e * scale;
            }
        }
        Matrix::I8(table) => {
            let values = table
                .values
                .get(range)
                .ok_or_else(|| out_of_range(table.values.len()))?;
            let row_scale = table
                .scales
                .get(token as usize)
                .ok_or_else(|| out_of_range(table.values.len()))?;
            for (dst, &q) in row.iter_mut().zip(values) {
                *dst = row_scale * f32::from(q) * scale;
            }
        }
        // Embeddings are never f16 (only weight matrices are).
        #[cfg(feature = "f16")]
        Matrix::F16(_) => return Err(Error::MissingTensor { index: 0 }),
    }
    Ok(())
}

/// `ln(10000)`, the base of the sinusoids' geometric frequency progression.
#[cfg(feature = "sinusoid")]
const LN_10000: f32 = 9.210_340_4;
/// Adds the positional signal of positions `0..n` to the rows of `x` `[n, D]` (inputs that
/// are already vectors: a front end's output).
pub(crate) fn add_positions(
    config: &Config,
    position_table: Option<&[f32]>,
    x: &mut [f32],
) -> Result<()> {
    let d = config.dims.d_model.max(1);
    // (a range, not `.enumerate()`: its counter is overflow-checked where checks are on)
    for (position, row) in (0..x.len()).zip(x.chunks_exact_mut(d)) {
        add_position(config, position_table, position, row)?;
    }
    Ok(())
}

/// Adds the positional signal of `position` to one row `[D]`: row `position` of the
/// blob's table (learned, or sinusoids the converter stored), else the sinusoids
/// computed here (feature `sinusoid`).
fn add_position(
    config: &Config,
    position_table: Option<&[f32]>,
    position: usize,
    row: &mut [f32],
) -> Result<()> {
    let d = row.len();
    match (config.positional, position_table) {
        // Rotary positions act inside attention (`layers::llama::rope`).
        (Positional::None | Positional::Rope | Positional::RopeHalf, _) => {}
        (_, Some(table)) => {
            let start = position.checked_mul(d).ok_or(Error::SizeOverflow)?;
            let signal =
                table
                    .get(start..start.saturating_add(d))
                    .ok_or(Error::SequenceTooLong {
                        len: position.saturating_add(1),
                        max: table.len() / d.max(1),
                    })?;
            picoformer_kernels::add_assign(row, signal);
        }
        (Positional::Learned, None) => return Err(Error::MissingTensor { index: 0 }),
        #[cfg(feature = "sinusoid")]
        (positional, None) => sinusoid(positional, position, row),
        // Refused at load (`Error::FeatureDisabled`); kept as an error, never a panic.
        #[cfg(not(feature = "sinusoid"))]
        (_, None) => {
            return Err(Error::FeatureDisabled {
                feature: "sinusoid",
            })
        }
    }
    Ok(())
}

/// Adds the sinusoids of `position` to `row` `[D]` (`positional`: one of the two
/// sinusoidal layouts; anything else adds nothing).
///
/// Sinusoids are evaluated in f32 (firmware FPUs are single precision; f64 software math
/// would double the engine's code size). The angle `p * w_i` is then exact to about
/// `1.2e-7 * p * w_i`, so the signal differs from an f64 evaluation by at most ~1e-6 at
/// position 10 and ~2e-4 at position 1500; models with long sequences (Whisper) store
/// their position table instead. The converter's stored tables come from this same
/// function, so a model computes the same numbers with or without them.
#[cfg(feature = "sinusoid")]
pub(crate) fn sinusoid(positional: Positional, position: usize, row: &mut [f32]) {
    let d = row.len();
    let half = d / 2;
    let p = position as f32;
    match positional {
        Positional::Sinusoidal => {
            // P[p][2i] = sin(p / 10000^(2i/D)), P[p][2i+1] = cos(p / 10000^(2i/D))
            for (i, pair) in row.chunks_exact_mut(2).enumerate() {
                let angle = p * libm::expf(-((2 * i) as f32 / d as f32) * LN_10000);
                if let [even, odd] = pair {
                    *even += libm::sinf(angle);
                    *odd += libm::cosf(angle);
                }
            }
        }
        Positional::SinusoidalConcat => {
            // w_i = exp(-i ln(10000) / max(n - 1, 1)); P[p][i] = sin(p w_i), P[p][n+i] = cos(p w_i)
            let increment = LN_10000 / (half.saturating_sub(1).max(1)) as f32;
            let (sines, cosines) = row.split_at_mut(half);
            // (a range, not `.enumerate()`: its counter is overflow-checked)
            for (i, (s, c)) in (0..half).zip(sines.iter_mut().zip(cosines.iter_mut())) {
                let angle = p * libm::expf(-(i as f32) * increment);
                *s += libm::sinf(angle);
                *c += libm::cosf(angle);
            }
        }
        Positional::None | Positional::Learned | Positional::Rope | Positional::RopeHalf => {}
    }
}
