//! Greedy decoding with a model held as firmware holds it: the blob in the binary
//! (`include_bytes!`, 16-byte aligned), a shape checked at compile time, one scratch
//! buffer of the exact size. The bundled date model writes a phrase as an ISO date.
//!
//! `cargo run --example greedy ["PHRASE" ...]`

use picoformer::dates::{self, DateModel, IsoDate, MAX_TOKENS};
use picoformer::Scratch;

#[repr(C, align(16))]
struct Aligned<T: ?Sized>(T);
static BLOB: &Aligned<[u8]> = &Aligned(*include_bytes!("../models/dates/dates.pfm"));

fn main() -> Result<(), picoformer::Error> {
    let model = DateModel::from_blob(&BLOB.0)?;
    // Sized at compile time from the model's dimensions: a smaller buffer does not compile.
    let mut scratch = Box::new(Scratch::<{ DateModel::GREEDY_SCRATCH_BYTES }>::new());
    let mut phrases: Vec<String> = std::env::args().skip(1).collect();
    if phrases.is_empty() {
        phrases = vec!["sat 28th of november, 2026".into(), "11/28/26".into()];
    }
    for phrase in &phrases {
        let mut src = [0u32; 48];
        let n = dates::encode_source(phrase, &mut src)?;
        // Room for the model's longest output (12 target positions).
        let mut out = [0u32; 12];
        let greedy = model.greedy(&src[..n], MAX_TOKENS, &mut out, &mut *scratch)?;
        let date = IsoDate::from_tokens(&out[..greedy.len]);
        println!(
            "{date}  <-  {phrase:?}  (log-probability {:.4})",
            greedy.score
        );
    }
    Ok(())
}
