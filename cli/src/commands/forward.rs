//! `picoformer forward`: teacher-forced decoder logits.

use super::{scratch, ModelFile};
use anyhow::Result;
use serde_json::json;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    model: PathBuf,
    /// Source token ids, comma separated.
    #[arg(long, value_delimiter = ',', required = true)]
    src: Vec<u32>,
    /// Target token ids (starting with bos), comma separated.
    #[arg(long, value_delimiter = ',', required = true)]
    tgt: Vec<u32>,
    #[arg(long)]
    json: bool,
}

pub fn run(
    Args {
        model,
        src,
        tgt,
        json,
    }: Args,
) -> Result<()> {
    let file = ModelFile::read(&model)?;
    let m = file.model()?;
    let vocab = m.config().dims.tgt_vocab;
    let mut logits = vec![0f32; tgt.len() * vocab];
    let mut scratch = scratch(m.forward_scratch_bytes_for_len(tgt.len()))?;
    m.forward(&src, &tgt, &mut logits, scratch.as_mut_slice())?;
    let rows: Vec<&[f32]> = logits.chunks(vocab).collect();
    if json {
        outln!("{}", json!({ "logits": rows }));
    } else {
        for (i, row) in rows.iter().enumerate() {
            let best = picoformer::kernels::argmax(row).unwrap_or(0);
            outln!("position {i}: argmax {best} ({:.4})", row[best]);
        }
    }
    Ok(())
}
