//! Load a model blob from a file and print what it holds: its shape, weight type and the
//! exact scratch each call needs.
//!
//! `cargo run --example load_blob [MODEL.pfm]` (default: the bundled date model).

use picoformer::Model;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/models/dates/dates.pfm").into());
    let bytes = std::fs::read(&path)?;
    // The engine reads tensors in place, so the blob must start on a 16-byte boundary
    // (firmware: `#[repr(align(16))]` around `include_bytes!`). A `Vec<u128>` is.
    let mut words = vec![0u128; bytes.len().div_ceil(16)];
    let aligned: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
    aligned[..bytes.len()].copy_from_slice(&bytes);
    let model = Model::from_blob(&aligned[..bytes.len()])?;

    let dims = &model.config().dims;
    println!(
        "{path}: {} bytes, {:?} weights",
        model.blob_bytes(),
        model.dtype()
    );
    println!(
        "  D {}, {} heads, F {}, {} + {} layers, vocab {} / {}, {} source / {} target positions",
        dims.d_model,
        dims.n_heads,
        dims.d_ff,
        dims.n_encoder_layers,
        dims.n_decoder_layers,
        dims.src_vocab,
        dims.tgt_vocab,
        dims.max_src_len,
        dims.max_tgt_len
    );
    println!("  {} parameters", model.parameter_count());
    println!("  scratch: greedy {} bytes", model.greedy_scratch_bytes()?);
    println!("           beam 4 {} bytes", model.beam_scratch_bytes(4)?);
    Ok(())
}
