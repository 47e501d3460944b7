//! The on-target test suite on QEMU's rv32 `virt` machine with the vector extension
//! (riscv32imafc-unknown-none-elf built with `-C target-feature=+zve32f`, run on
//! `-cpu rv32,v=true,vlen=128`): the RVV kernels (f32, and int8 with Zve32x integer
//! instructions). Built without the flag it runs the scalar kernels, and
//! `kernel_active_is_expected` fails.
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
        "virt-rvv",
        Kernels {
            f32: Kernel::Rvv,
            int8: Kernel::Rvv,
        },
        scratch,
    )
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    board::report_panic(info)
}
