//! Puts `memory.x` where cortex-m-rt's `link.x` finds it, and turns the first held-out
//! phrases of `models/dates/heldout.tsv` into a table the firmware checks itself against.

use std::fmt::Write;
use std::path::PathBuf;

/// Held-out phrases embedded for the on-target check (`dates --held-out`).
const HELD_OUT: usize = 200;

fn main() -> std::io::Result<()> {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    std::fs::copy("memory.x", out.join("memory.x"))?;
    println!("cargo::rustc-link-search={}", out.display());
    println!("cargo::rerun-if-changed=memory.x");

    let tsv = "../../models/dates/heldout.tsv";
    println!("cargo::rerun-if-changed={tsv}");
    println!("cargo::rerun-if-changed=../../models/dates/dates.pfm");
    let text = std::fs::read_to_string(tsv)?;
    let mut table = String::from("/// (phrase, true ISO date), from models/dates/heldout.tsv.\n");
    table.push_str("pub static HELD_OUT: &[(&str, &str)] = &[\n");
    let cases = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('\t'))
        .take(HELD_OUT);
    for (phrase, iso) in cases {
        let _ = writeln!(table, "    ({phrase:?}, {iso:?}),");
    }
    table.push_str("];\n");
    std::fs::write(out.join("held_out.rs"), table)?;
    println!("cargo::rerun-if-changed=build.rs");
    Ok(())
}
