//! The on-target test suite on QEMU's `mps2-an500`: Cortex-M7 (thumbv7em-none-eabihf).
#![no_std]
#![no_main]

use picoformer_board as board;
use picoformer_firmware_cortex_m as firmware;
use picoformer_firmware_suite::{Kernel, Kernels, SuiteScratch};

#[cortex_m_rt::entry]
fn main() -> ! {
    // cortex-m-rt hands this to main as a `&'static mut`: the engine's only RAM.
    static mut SCRATCH: SuiteScratch = SuiteScratch::new();
    firmware::run(
        "mps2-an500",
        Kernels {
            f32: Kernel::ArmFpu,
            int8: Kernel::ArmFpu,
        },
        SCRATCH,
    )
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    board::report_panic(info)
}
