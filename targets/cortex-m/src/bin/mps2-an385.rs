//! The on-target test suite on QEMU's `mps2-an385`: Cortex-M3 machine running Cortex-M0/M0+ code (thumbv6m: no FPU, no DSP). The micro:bit (the Cortex-M0 machine) has 16 KiB of RAM, below the golden model's scratch buffer.
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
        "mps2-an385",
        Kernels {
            f32: Kernel::Scalar,
            int8: Kernel::Scalar,
        },
        SCRATCH,
    )
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    board::report_panic(info)
}
