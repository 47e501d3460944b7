//! Proves the panic path: a panic must end QEMU with status 101 (semihosting's panic
//! handler), checked by `tools/test.d/20-firmware.sh`.
#![no_std]
#![no_main]

use picoformer_firmware_cortex_m as firmware;

#[cortex_m_rt::entry]
fn main() -> ! {
    let digits: [u32; 2] = [4, 2];
    // An index the compiler cannot prove in range: the bounds check panics.
    let index = core::hint::black_box(7usize);
    let digit = digits.get(index).copied();
    #[allow(clippy::expect_used)]
    let digit = digit.expect("index 7 of a 2-element array");
    semihosting::process::exit(digit as i32)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    firmware::report_panic(info)
}
