//! Code-size probe: the firmware runtime alone (startup, exit, panic and fault handlers).
//! `size-engine` minus this is the engine's code.
#![no_std]
#![no_main]

use picoformer_board as board;

#[cortex_m_rt::entry]
fn main() -> ! {
    semihosting::process::exit(core::hint::black_box(0))
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    board::exit_on_panic()
}
