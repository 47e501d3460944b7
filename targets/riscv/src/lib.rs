//! picoformer firmware for RISC-V (rv32) under QEMU's virt machine: the glue the board
//! binaries share with the size probes (the suite run, semihosting exit, stack painting,
//! the trap handler, the vector unit's start-up).
//!
//! Two builds: `riscv32imac-unknown-none-elf` (soft float, scalar kernels; binary `virt`)
//! and `riscv32imafc-unknown-none-elf` with `-C target-feature=+zve32f` (hardware single
//! precision and the embedded vector profile: the RVV kernels; binary `virt-rvv`).
//!
//! Exit status through semihosting: 0 all tests passed, 1 a test failed, [`PANIC_STATUS`]
//! a panic, [`TRAP_STATUS`] an exception.
#![no_std]
#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

use core::sync::atomic::{AtomicBool, Ordering};
use defmt_semihosting as _; // the global defmt logger: frames go to semihosting stdout
use picoformer_firmware_suite::{self as suite, Board, Kernels, SuiteScratch};

/// Exit status after an exception (illegal instruction, misaligned or faulting access).
pub const TRAP_STATUS: i32 = 3;

/// The int8 weights of the suite's measured products: zeros in `.bss` (RAM cleared at
/// start-up) rather than 256 KiB of flash.
#[link_section = ".bss.picoformer_matvec_i8"]
static MATVEC_I8: [i8; suite::figures::MATVEC_I8_VALUES] = [0; suite::figures::MATVEC_I8_VALUES];

/// Runs the suite on board `name` (whose build must dispatch to `kernels`) with the one
/// scratch buffer, then ends QEMU with the suite's exit status.
pub fn run(name: &'static str, kernels: Kernels, scratch: &'static mut SuiteScratch) -> ! {
    let board = Board {
        name,
        kernels,
        stack_used,
        matvec_i8: &MATVEC_I8,
    };
    let summary = suite::run(&board, scratch);
    semihosting::process::exit(summary.exit_code())
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

/// Exit status after a panic.
pub const PANIC_STATUS: i32 = 101;

/// The suites' panic handler: logs the message, then ends QEMU with [`PANIC_STATUS`].
pub fn report_panic(info: &core::panic::PanicInfo) -> ! {
    defmt::println!("panicked: {}", defmt::Display2Format(info));
    semihosting::process::exit(PANIC_STATUS)
}

/// The size probes' panic handler: ends QEMU with [`PANIC_STATUS`] and links no
/// formatting code, as production firmware would.
pub fn exit_on_panic() -> ! {
    semihosting::process::exit(PANIC_STATUS)
}

/// Word written over the free stack before a measured run.
const PAINT: u32 = 0x5754_4143;
/// How far below the caller's stack pointer to paint: far more than a decode uses, far
/// less than the machine's RAM.
const PAINT_LIMIT: usize = 32 * 1024;

extern "C" {
    /// riscv-rt's first address after `.bss` and `.uninit`: the stack never goes lower.
    static __sheap: u32;
}

fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads the stack pointer into a register; touches no memory.
    unsafe { core::arch::asm!("mv {}, sp", out(reg) sp, options(nomem, nostack)) };
    sp
}

/// Paints the free stack below this frame, runs `work`, and returns how many bytes below
/// this frame's stack pointer the deepest changed word lies.
#[inline(never)]
fn stack_used(work: &mut dyn FnMut()) -> usize {
    let statics_end = &raw const __sheap as usize;
    let top = stack_pointer() & !3;
    let bottom = statics_end.max(top.saturating_sub(PAINT_LIMIT));
    for addr in (bottom..top).step_by(4) {
        // SAFETY: [bottom, top) lies between the end of the statics and this frame's
        // stack pointer: no live object is there (interrupts are off, no frame is below
        // ours), and every address is word aligned and inside RAM.
        unsafe { core::ptr::write_volatile(addr as *mut u32, PAINT) };
    }
    work();
    let lowest = (bottom..top)
        .step_by(4)
        // SAFETY: the same words, read back after `work` returned (their frames are gone).
        .find(|&addr| unsafe { core::ptr::read_volatile(addr as *const u32) } != PAINT)
        .unwrap_or(top);
    top - lowest
}

/// Every exception ends the run (riscv-rt's default would spin until the timeout).
#[export_name = "ExceptionHandler"]
fn exception_handler(_frame: &riscv_rt::TrapFrame) -> ! {
    semihosting::process::exit(TRAP_STATUS)
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
