//! The on-target test suite on QEMU's `mps3-an547`: Cortex-M55 (thumbv8m.main-none-eabihf,
//! built with `-C target-cpu=cortex-m55`: the Helium kernels).
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
        "mps3-an547",
        Kernels {
            f32: Kernel::Mve,
            int8: Kernel::Mve,
        },
        SCRATCH,
    )
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    board::report_panic(info)
}
