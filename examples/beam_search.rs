//! Beam search with a runtime-shaped `Model`: the best hypotheses with their
//! length-normalised scores, in a scratch buffer sized by the model.
//!
//! `cargo run --example beam_search ["PHRASE"]`

use picoformer::dates::{self, IsoDate, MAX_TOKENS};
use picoformer::{BeamParams, Model};

#[repr(C, align(16))]
struct Aligned<T: ?Sized>(T);
static BLOB: &Aligned<[u8]> = &Aligned(*include_bytes!("../models/dates/dates.pfm"));

fn main() -> Result<(), picoformer::Error> {
    let model = Model::from_blob(&BLOB.0)?;
    let phrase = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "twenty-eighth nov 2026".into());
    let mut src = [0u32; 48];
    let n = dates::encode_source(&phrase, &mut src)?;

    let params = BeamParams {
        beam: 4,
        top: 3,
        alpha: 0.6,
        max_len: MAX_TOKENS,
    };
    // The scratch must start on a 16-byte boundary: u128 words give that.
    let mut words = vec![0u128; model.beam_scratch_bytes(params.beam)?.div_ceil(16)];
    let scratch: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
    let best = model.beam_search(&src[..n], &params, scratch)?;
    println!("{phrase:?}:");
    for hypothesis in best.iter() {
        let date = IsoDate::from_tokens(hypothesis.tokens);
        println!("  {date}  score {:.4}", hypothesis.score);
    }
    Ok(())
}
