//! Code-size probe: the firmware runtime alone (startup, exit, panic and fault handlers).
//! `size-engine` minus this is the engine's code.
#![no_std]
#![no_main]

use picoformer_board as board;
use picoformer_firmware_riscv as _; // its start-up hook (`__pre_init`)

#[riscv_rt::entry]
fn main() -> ! {
    semihosting::process::exit(core::hint::black_box(0))
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    board::exit_on_panic()
}
