//! Maps the target to the cfgs of the hand-written kernels: on stable Rust,
//! `cfg(target_feature = ...)` is always false for Arm FPU/DSP/MVE and RISC-V V, so the
//! kernels are gated by cfgs derived from the target triple instead.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(pf_arm_fpu)");
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
    // The DSP extension's SMLAD / SXTB16 (int8 dot products): every Armv7E-M core,
    // Armv7-A, and Armv8-M Mainline cores that have it (M33/M35P/M55/M85), which the
    // assembler accepts only with their `-C target-cpu`.
    println!("cargo::rustc-check-cfg=cfg(pf_arm_dsp)");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let v8m_dsp = ["cortex-m33", "cortex-m35p", "cortex-m55", "cortex-m85"]
        .iter()
        .any(|cpu| flags.contains(&format!("target-cpu={cpu}")));
    let arm_dsp = target.starts_with("thumbv7em-")
        || target.starts_with("armv7-unknown-linux-gnueabihf")
        || (target.starts_with("thumbv8m.main-") && v8m_dsp);
    if arm_dsp {
        println!("cargo::rustc-cfg=pf_arm_dsp");
    }
    // MVE (Helium): Armv8.1-M cores, which the assembler knows only with their target-cpu.
    println!("cargo::rustc-check-cfg=cfg(pf_arm_mve)");
    let mve = target.starts_with("thumbv8m.main-")
        && ["cortex-m55", "cortex-m85"]
            .iter()
            .any(|cpu| flags.contains(&format!("target-cpu={cpu}")));
    if mve {
        println!("cargo::rustc-cfg=pf_arm_mve");
    }
}
