//! The on-target test suite on QEMU's rv32 `virt` machine (riscv32imac: soft float).
#![no_std]
#![no_main]

use picoformer_board::{self as board, ExitStatus};
use picoformer_firmware_riscv as firmware;
use picoformer_firmware_suite::{Kernel, Kernels};

#[riscv_rt::entry]
fn main() -> ! {
    let Some(scratch) = firmware::take_scratch() else {
        board::exit(ExitStatus::Failed)
    };
    firmware::run(
        "virt",
        Kernels {
            f32: Kernel::Scalar,
            int8: Kernel::Scalar,
        },
        scratch,
    )
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    board::report_panic(info)
}
