//! `picoformer info`: a model's configuration, size and scratch needs.

use super::ModelFile;
use anyhow::Result;
use picoformer_cli::config_json::ConfigJson;
use serde_json::json;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    model: PathBuf,
    /// Also report the scratch bytes of beam search with this beam size.
    #[arg(long, default_value_t = 4)]
    beam: usize,
    #[arg(long)]
    json: bool,
}

pub fn run(Args { model, beam, json }: Args) -> Result<()> {
    let file = ModelFile::read(&model)?;
    let m = file.model()?;
    let params = m.parameter_count();
    let greedy = m.greedy_scratch_bytes()?;
    let forward = m.forward_scratch_bytes()?;
    let beam_bytes = m.beam_scratch_bytes(beam)?;
    let config = ConfigJson::from(m.config());
    let blob_bytes = file.bytes().len();
    let weight_bytes = blob_bytes - picoformer::blob::header_len(&m.config().dims).unwrap_or(0);
    if json {
        let out = json!({
            "config": config,
            "dtype": m.dtype().name(),
            "parameters": params,
            "weight_bytes": weight_bytes,
            "blob_bytes": blob_bytes,
            "scratch_bytes": {
                "greedy": greedy,
                "forward": forward,
                "beam": {"beam": beam, "bytes": beam_bytes},
            },
        });
        outln!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        outln!("{}", serde_json::to_string_pretty(&config)?);
        outln!("parameters:            {params}");
        outln!("weight dtype:          {}", m.dtype().name());
        outln!("weight bytes:          {weight_bytes}");
        outln!("blob bytes:            {blob_bytes}");
        outln!("scratch, greedy:       {greedy}");
        outln!("scratch, forward:      {forward}");
        outln!("scratch, beam {beam:<3}:     {beam_bytes}");
    }
    Ok(())
}
