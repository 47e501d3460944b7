//! Linker scripts: cortex-m-rt's `link.x`, defmt's `defmt.x`, and per binary the
//! `memory.x` of its board (the boards of one target differ in their memory maps).

use std::path::PathBuf;

/// Each board binary and its memory map under `memory/`.
const BOARDS: [(&str, &str); 6] = [
    ("mps2-an385", "mps2.x"),
    ("mps2-an386", "mps2.x"),
    ("mps2-an500", "mps2.x"),
    ("mps2-an505", "mps2-an505.x"),
    ("mps3-an547", "mps3-an547.x"),
    // Whisper base from raw audio: RAM, scratch and the loaded blob in DDR.
    ("whisper-m55", "mps3-an547-whisper.x"),
];

/// The code-size probes and the exit-path and cycle-model checks link for the first
/// board of their target (the checks run there too).
const PROBES: [&str; 6] = [
    "size-runtime",
    "size-greedy",
    "size-engine",
    "check-hardfault",
    "check-panic",
    "check-cycles",
];

fn main() -> std::io::Result<()> {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let target = std::env::var("TARGET").unwrap_or_default();
    let probe_map = if target.starts_with("thumbv8m") {
        "mps2-an505.x"
    } else {
        "mps2.x"
    };
    let bins = BOARDS
        .iter()
        .copied()
        .chain(PROBES.iter().map(|&probe| (probe, probe_map)));
    // The llama golden case's 0.7 MB scratch does not fit the Cortex-M55's SRAM.
    println!("cargo::rerun-if-env-changed=PICOFORMER_FIRMWARE_LLAMA");
    let llama = std::env::var_os("PICOFORMER_FIRMWARE_LLAMA").is_some();
    for (bin, map) in bins {
        let map = if llama && bin == "mps3-an547" {
            "mps3-an547-llama.x"
        } else {
            map
        };
        // link.x INCLUDEs "memory.x": give each binary a directory holding its own
        let dir = out.join(bin);
        std::fs::create_dir_all(&dir)?;
        std::fs::copy(format!("memory/{map}"), dir.join("memory.x"))?;
        println!("cargo::rustc-link-arg-bin={bin}=-L{}", dir.display());
        println!("cargo::rerun-if-changed=memory/{map}");
    }
    println!("cargo::rustc-link-arg=-Tlink.x");
    println!("cargo::rustc-link-arg=-Tdefmt.x");
    println!("cargo::rerun-if-changed=build.rs");
    Ok(())
}
