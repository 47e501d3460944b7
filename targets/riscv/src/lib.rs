//! picoformer firmware for RISC-V (rv32) under QEMU's virt machine: the glue the board
//! binaries share with the size probes (the suite run, the scratch buffer, the vector
//! unit's start-up).
//!
//! Two builds: `riscv32imac-unknown-none-elf` (soft float, scalar kernels; binary `virt`)
//! and `riscv32imafc-unknown-none-elf` with `-C target-feature=+zve32f` (hardware single
//! precision and the embedded vector profile: the RVV kernels; binary `virt-rvv`).
//!
//! The exit statuses, the panic and trap handlers and stack painting are the board glue
//! of `picoformer-board` (`targets/board`), shared with the Cortex-M boards and the date
//! firmware.
#![no_std]
#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

use core::sync::atomic::{AtomicBool, Ordering};
#[cfg(feature = "suite")]
use picoformer_board::{self as board, ExitStatus};
use picoformer_firmware_suite::SuiteScratch;
#[cfg(feature = "suite")]
use picoformer_firmware_suite::{self as suite, Board, Kernels};

/// The int8 weights of the suite's measured products: zeros in `.bss` (RAM cleared at
/// start-up) rather than 256 KiB of flash.
#[cfg(feature = "suite")]
#[link_section = ".bss.picoformer_matvec_i8"]
static MATVEC_I8: [i8; suite::figures::MATVEC_I8_VALUES] = [0; suite::figures::MATVEC_I8_VALUES];

/// Runs the suite on board `name` (whose build must dispatch to `kernels`) with the one
/// scratch buffer, then ends QEMU with [`ExitStatus::Passed`] or [`ExitStatus::Failed`].
#[cfg(feature = "suite")]
pub fn run(name: &'static str, kernels: Kernels, scratch: &'static mut SuiteScratch) -> ! {
    let board = Board {
        name,
        kernels,
        stack_used: board::stack_used,
        matvec_i8: &MATVEC_I8,
    };
    let summary = suite::run(&board, scratch);
    board::exit(ExitStatus::from_passed(summary.all_passed()))
}

/// The engine's only RAM, handed out once by [`take_scratch`].
static mut SCRATCH: SuiteScratch = SuiteScratch::new();
static SCRATCH_TAKEN: AtomicBool = AtomicBool::new(false);

/// The scratch buffer, on the first call only (riscv-rt's entry, unlike cortex-m-rt's,
/// does not turn a `static mut` into a `&'static mut`).
pub fn take_scratch() -> Option<&'static mut SuiteScratch> {
    if SCRATCH_TAKEN.swap(true, Ordering::AcqRel) {
        return None;
    }
    // SAFETY: the flag lets only the first call through, so this is the only reference
    // ever made to SCRATCH.
    unsafe { (&raw mut SCRATCH).as_mut() }
}

// riscv-rt's `pre-init` hook, before RAM is initialised (assembly only; s0-s2 are not
// ours). In builds with the vector extension it sets `mstatus.VS` to Initial (bit 9):
// riscv-rt sets `FS` for the float registers but never `VS`, and with VS Off every
// vector instruction traps as illegal (mcause 2). Before `main`, so that no vector
// instruction the compiler emits anywhere runs first.
#[cfg(pf_fw_rvv)]
core::arch::global_asm!(
    ".section .init.pre_init, \"ax\"",
    ".global __pre_init",
    "__pre_init:",
    "    li t0, 0x200",
    "    csrs mstatus, t0",
    "    ret",
);
#[cfg(not(pf_fw_rvv))]
core::arch::global_asm!(
    ".section .init.pre_init, \"ax\"",
    ".global __pre_init",
    "__pre_init:",
    "    ret",
);
