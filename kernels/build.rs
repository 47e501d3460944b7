//! Maps the target to the cfgs of the hand-written kernels: on stable Rust,
//! `cfg(target_feature = ...)` is always false for Arm FPU/DSP/MVE and RISC-V V, so the
//! kernels are gated by cfgs derived from the target triple and the rustflags instead.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(pf_arm_fpu)");
    println!("cargo::rustc-check-cfg=cfg(pf_arm_dsp)");
    println!("cargo::rustc-check-cfg=cfg(pf_arm_fpv5)");
    println!("cargo::rustc-check-cfg=cfg(pf_arm_mve)");
    println!("cargo::rustc-check-cfg=cfg(pf_rvv)");
    println!("cargo::rustc-check-cfg=cfg(pf_rvv_static)");
    println!("cargo::rustc-check-cfg=cfg(pf_thumb)");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    println!("cargo::rerun-if-env-changed=TARGET");
    let target = std::env::var("TARGET").unwrap_or_default();
    // `-C target-cpu=x`, `-Ctarget-cpu=x`: one codegen option per item.
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let options: Vec<&str> = flags
        .split('\x1f')
        .map(|f| f.trim_start_matches("-C"))
        .collect();
    let cpu_is = |cpus: &[&str]| {
        cpus.iter()
            .any(|cpu| options.contains(&format!("target-cpu={cpu}").as_str()))
    };
    let features = || {
        options
            .iter()
            .filter_map(|o| o.strip_prefix("target-feature="))
            .flat_map(|f| f.split(','))
    };

    // Single-precision VFPv4/FPv5 with fused multiply-add and 32 s-registers:
    // Cortex-M4F/M7 (thumbv7em ...eabihf), Cortex-M33/M55 (thumbv8m.main ...eabihf), and
    // 32-bit Arm Linux with hard float (where the same kernel is tested under qemu-arm).
    let arm_fpu = target.starts_with("thumbv7em-none-eabihf")
        || target.starts_with("thumbv8m.main-none-eabihf")
        || target.starts_with("armv7-unknown-linux-gnueabihf");
    if arm_fpu {
        println!("cargo::rustc-cfg=pf_arm_fpu");
    }
    // FPv5 (Armv8-M's FPU: Cortex-M33/M55): `VMAXNM`, one instruction for the kernels'
    // running maximum where FPv4 (M4F) and the Armv7 tests under qemu-arm compare and move.
    if target.starts_with("thumbv8m.main-none-eabihf") {
        println!("cargo::rustc-cfg=pf_arm_fpv5");
    }
    // Thumb code (the M-profile targets; Armv7-A Linux is Arm code): an address loaded
    // into pc needs bit 0 set there (`target_feature = "thumb-mode"` is not a stable cfg).
    if target.starts_with("thumb") {
        println!("cargo::rustc-cfg=pf_thumb");
    }
    // The DSP extension's SMLAD / SXTB16 (int8 dot products): every Armv7E-M core,
    // Armv7-A, and Armv8-M Mainline cores that have it (M33/M35P/M55/M85), which the
    // assembler accepts only with their `-C target-cpu`.
    // Helium (MVE with floating point, for the f32 and the int8 kernels): Armv8.1-M
    // builds recognised by their `-C target-cpu` (or `+mve.fp`); the assembler accepts MVE
    // instructions only then. MVE implies the DSP extension (the Helium int8 path shares
    // the SMLAD module's epilogue).
    let mve_flag = cpu_is(&["cortex-m55", "cortex-m85"]) || features().any(|f| f == "+mve.fp");
    let arm_dsp = target.starts_with("thumbv7em-")
        || target.starts_with("armv7-unknown-linux-gnueabihf")
        || (target.starts_with("thumbv8m.main-")
            && (mve_flag || cpu_is(&["cortex-m33", "cortex-m35p", "cortex-m55", "cortex-m85"])));
    if arm_dsp {
        println!("cargo::rustc-cfg=pf_arm_dsp");
    }
    if target.starts_with("thumbv8m.main-none-eabihf") && mve_flag {
        println!("cargo::rustc-cfg=pf_arm_mve");
    }
    // RISC-V Vector (the `riscv` module, which uses only the Zve32f subset). riscv64: always
    // compiled (riscv64 Linux detects V at run time); rv32: only in builds that enable the
    // extension (`-C target-feature=+zve32f` or `+v`) on a target with hardware single
    // precision (riscv32imafc: the asm moves sums through f-registers), since firmware
    // cannot detect it. `pf_rvv_static`: the build enables the extension for the whole
    // crate, which stable Rust's `cfg(target_feature)` does not report; without `std`
    // (no run-time detection) the kernel is then the active one.
    let rvv_flag = features().any(|f| ["+v", "+zve32f", "+zve64f", "+zve64d"].contains(&f));
    let rv32_float = target
        .strip_prefix("riscv32")
        .and_then(|rest| rest.split('-').next())
        .is_some_and(|isa| isa.contains('f') || isa.contains('g'));
    let rvv_static = rvv_flag && (target.starts_with("riscv64") || rv32_float);
    if target.starts_with("riscv64") || rvv_static {
        println!("cargo::rustc-cfg=pf_rvv");
    }
    if rvv_static {
        println!("cargo::rustc-cfg=pf_rvv_static");
    }
}
