//! picoformer firmware for Arm Cortex-M boards under QEMU: the glue every board binary
//! shares (the suite run, semihosting exit, stack painting, fault handlers).
//!
//! Exit status through semihosting: 0 all tests passed, 1 a test failed, [`PANIC_STATUS`]
//! a panic, [`HARD_FAULT_STATUS`] a HardFault, [`UNEXPECTED_IRQ_STATUS`] any other exception.
#![no_std]
#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

use cortex_m_rt::{exception, ExceptionFrame};
use defmt_semihosting as _; // the global defmt logger: frames go to semihosting stdout
use picoformer_firmware_suite::{self as suite, Board, Kernels, SuiteScratch};

/// Exit status after a HardFault.
pub const HARD_FAULT_STATUS: i32 = 3;
/// Exit status after an exception nothing expects.
pub const UNEXPECTED_IRQ_STATUS: i32 = 4;

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
/// less than any board's RAM.
const PAINT_LIMIT: usize = 32 * 1024;

extern "C" {
    /// cortex-m-rt's first address after `.bss` and `.uninit`: the stack never goes lower.
    static __sheap: u32;
}

/// Paints the free stack below this frame, runs `work`, and returns how many bytes below
/// this frame's stack pointer the deepest changed word lies.
#[inline(never)]
fn stack_used(work: &mut dyn FnMut()) -> usize {
    let statics_end = &raw const __sheap as usize;
    let top = cortex_m::register::msp::read() as usize & !3;
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

#[exception]
unsafe fn HardFault(_frame: &ExceptionFrame) -> ! {
    semihosting::process::exit(HARD_FAULT_STATUS)
}

#[exception]
unsafe fn DefaultHandler(_irq: i16) -> ! {
    semihosting::process::exit(UNEXPECTED_IRQ_STATUS)
}
