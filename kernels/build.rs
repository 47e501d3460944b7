//! Maps the target to the cfgs of the hand-written kernels: on stable Rust,
//! `cfg(target_feature = ...)` is always false for Arm FPU/DSP/MVE and RISC-V V, so the
//! kernels are gated by cfgs derived from the target triple instead.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(pf_arm_fpu)");
    println!("cargo::rustc-check-cfg=cfg(pf_rvv_static)");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    println!("cargo::rerun-if-env-changed=TARGET");
    let target = std::env::var("TARGET").unwrap_or_default();
    // Single-precision VFPv4/FPv5 with fused multiply-add and 32 s-registers:
    // Cortex-M4F/M7 (thumbv7em ...eabihf), Cortex-M33/M55 (thumbv8m.main ...eabihf), and
    // 32-bit Arm Linux with hard float (where the same kernel is tested under qemu-arm).
    let arm_fpu = target.starts_with("thumbv7em-none-eabihf")
        || target.starts_with("thumbv8m.main-none-eabihf")
        || target.starts_with("armv7-unknown-linux-gnueabihf");
    if arm_fpu {
        println!("cargo::rustc-cfg=pf_arm_fpu");
    }
    // RISC-V V without `std` (no runtime detection): on when the build enables the
    // extension for the whole crate (`-C target-feature=+v`), which stable Rust's
    // `cfg(target_feature)` does not report.
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let rvv_flag = flags
        .split('\x1f')
        .flat_map(|f| f.split(','))
        .any(|f| f.trim_start_matches("target-feature=") == "+v");
    if target.starts_with("riscv64") && rvv_flag {
        println!("cargo::rustc-cfg=pf_rvv_static");
    }
}
