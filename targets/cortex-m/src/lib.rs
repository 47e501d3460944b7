//! picoformer firmware for Arm Cortex-M boards under QEMU: the suite run every board
//! binary shares. The exit statuses, the panic and fault handlers and stack painting are
//! the board glue of `picoformer-board` (`targets/board`), shared with the RISC-V boards
//! and the date firmware.
#![no_std]
#![deny(missing_docs)]

#[cfg(feature = "suite")]
use picoformer_board::{self as board, ExitStatus};
#[cfg(feature = "suite")]
use picoformer_firmware_suite::{self as suite, Board, Kernels, SuiteScratch};

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
