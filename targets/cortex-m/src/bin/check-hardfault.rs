//! Proves the fault path: a bus fault escalates to HardFault, whose handler must end QEMU
//! with `HARD_FAULT_STATUS` (checked by `tools/test.d/20-firmware.sh`).
#![no_std]
#![no_main]

use picoformer_firmware_cortex_m as firmware;

#[cortex_m_rt::entry]
fn main() -> ! {
    // Nothing is mapped at the top of the address space on the MPS2/MPS3 boards.
    let unmapped = 0xFFFF_FFF0usize as *const u32;
    // SAFETY: not safe on purpose: this read must fault, and the fault ends the program.
    let value = unsafe { core::ptr::read_volatile(unmapped) };
    semihosting::process::exit(if value == 0 {
        0
    } else {
        firmware::HARD_FAULT_STATUS + 1
    })
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    firmware::report_panic(info)
}
