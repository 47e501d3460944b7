//! An embedding from the encoder: `Model::encode` writes one `D`-wide vector per source
//! token; their mean, L2-normalised, is a sentence embedding (what `picoformer embed` does
//! with a BERT model such as all-MiniLM-L6-v2). Here the bundled date model's encoder
//! compares phrases: two spellings of one date lie closer than two different dates.
//!
//! `cargo run --example embed`

use picoformer::{dates, Model};

#[repr(C, align(16))]
struct Aligned<T: ?Sized>(T);
static BLOB: &Aligned<[u8]> = &Aligned(*include_bytes!("../models/dates/dates.pfm"));

fn embed(model: &Model, phrase: &str, scratch: &mut [u8]) -> Result<Vec<f32>, picoformer::Error> {
    let d = model.config().dims.d_model;
    let mut src = [0u32; 48];
    let n = dates::encode_source(phrase, &mut src)?;
    let mut rows = vec![0f32; n * d];
    model.encode(&src[..n], &mut rows, scratch)?;
    let mut mean = vec![0f32; d];
    for row in rows.chunks_exact(d) {
        for (m, x) in mean.iter_mut().zip(row) {
            *m += x / n as f32;
        }
    }
    let norm = mean.iter().map(|x| x * x).sum::<f32>().sqrt();
    Ok(mean.iter().map(|x| x / norm).collect())
}

fn main() -> Result<(), picoformer::Error> {
    let model = Model::from_blob(&BLOB.0)?;
    let mut words = vec![0u128; model.encode_scratch_bytes()?.div_ceil(16)];
    let scratch: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
    let a = embed(&model, "sat 28th of november, 2026", scratch)?;
    let b = embed(&model, "saturday november 28th 2026", scratch)?;
    let c = embed(&model, "3/4/1961", scratch)?;
    let cos = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>();
    println!("{} dimensions", a.len());
    println!("cos(same date, two spellings) = {:.4}", cos(&a, &b));
    println!("cos(two different dates)      = {:.4}", cos(&a, &c));
    Ok(())
}
