//! Linker scripts: the board's `memory.x` (before riscv-rt's `link.x`, which needs its
//! regions defined first) and defmt's `defmt.x`; the cfg `pf_fw_rvv` for builds that
//! enable the vector extension (`-C target-feature=+zve32f` or `+v`; stable Rust's
//! `cfg(target_feature)` does not report it), whose start-up must turn the unit on.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    std::fs::copy("memory.x", out.join("memory.x"))?;
    println!("cargo::rustc-link-search={}", out.display());
    println!("cargo::rustc-link-arg=-Tmemory.x");
    println!("cargo::rustc-link-arg=-Tlink.x");
    println!("cargo::rustc-link-arg=-Tdefmt.x");
    println!("cargo::rerun-if-changed=memory.x");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(pf_fw_rvv)");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let vector = flags
        .split('\x1f')
        .filter_map(|f| f.trim_start_matches("-C").strip_prefix("target-feature="))
        .flat_map(|f| f.split(','))
        .any(|f| ["+v", "+zve32x", "+zve32f", "+zve64x", "+zve64f", "+zve64d"].contains(&f));
    if vector {
        println!("cargo::rustc-cfg=pf_fw_rvv");
    }
    Ok(())
}
