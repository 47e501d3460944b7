//! Proves the panic path: a panic must end QEMU with `ExitStatus::Panic` (the board
//! glue's panic handler), checked by `tools/test.d/20-firmware.sh`.
#![no_std]
#![no_main]

use picoformer_board::{self as board, ExitStatus};

#[cortex_m_rt::entry]
fn main() -> ! {
    let digits: [u32; 2] = [4, 2];
    // An index the compiler cannot prove in range: the bounds check panics.
    let index = core::hint::black_box(7usize);
    let digit = digits.get(index).copied();
    #[allow(clippy::expect_used)]
    let digit = digit.expect("index 7 of a 2-element array");
    core::hint::black_box(digit);
    // still running: the bounds check did not panic
    board::exit(ExitStatus::Failed)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    board::report_panic(info)
}
