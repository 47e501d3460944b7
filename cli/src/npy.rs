//! `.npy` arrays of f32 (or f16) values, as the reference scripts write them.

use anyhow::{bail, Context};

/// A row-major array read from a `.npy` file.
#[derive(Debug, Clone)]
pub struct Array {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Elements in row-major (C) order.
    pub data: Vec<f32>,
}

/// Reads a C-ordered `.npy` array of `<f4` or `<f2` elements.
pub fn read_npy(bytes: &[u8]) -> anyhow::Result<Array> {
    let npy = npyz::NpyFile::new(bytes).context("reading .npy")?;
    if npy.order() != npyz::Order::C {
        bail!(".npy array is Fortran-ordered; write it C-ordered");
    }
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let data = match npy.dtype() {
        npyz::DType::Plain(t) if t.to_string() == "<f4" => npy.into_vec::<f32>()?,
        npyz::DType::Plain(t) if t.to_string() == "<f2" => npy
            .into_vec::<half::f16>()?
            .into_iter()
            .map(half::f16::to_f32)
            .collect(),
        other => bail!(".npy dtype {other:?} is not <f4 or <f2"),
    };
    Ok(Array { shape, data })
}
