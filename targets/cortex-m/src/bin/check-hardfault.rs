//! Proves the fault path: a bus fault escalates to HardFault, whose handler must end QEMU
//! with `ExitStatus::Fault` (checked by `tools/test.d/20-firmware.sh`).
#![no_std]
#![no_main]

use picoformer_board::{self as board, ExitStatus};

#[cortex_m_rt::entry]
fn main() -> ! {
    // Nothing is mapped at the top of the address space on the MPS2/MPS3 boards.
    let unmapped = 0xFFFF_FFF0usize as *const u32;
    // SAFETY: not safe on purpose: this read must fault, and the fault ends the program.
    let value = unsafe { core::ptr::read_volatile(unmapped) };
    core::hint::black_box(value);
    // still running: the fault path is broken
    board::exit(ExitStatus::Failed)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    board::report_panic(info)
}
