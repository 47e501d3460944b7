//! Proves the RV32 cycle model of `tools/qemu-icount` (docs/cycles.md) on a hand-counted
//! instruction sequence: `tools/test.d/20-firmware.sh` runs it with the plugin's region
//! between `cycle_probe_start` and `cycle_probe_stop` and compares the counts with the
//! ones below. Changing a cost in `tools/qemu-icount/cycles.h` must change them.
//!
//! | instruction                  | RV32 in-order model                 |
//! |------------------------------|-------------------------------------|
//! | `lw a1, 0(a0)`               | 2 (load)                            |
//! | `lw a2, 4(a0)`               | 2                                   |
//! | `add a1, a1, a2`             | 1                                   |
//! | `mul a3, a1, a2`             | 1                                   |
//! | `divu a4, a1, a2`            | 34                                  |
//! | `sw a4, 12(a0)`              | 1 (store)                           |
//! | `li t0, 3`                   | 1                                   |
//! | 3 x `addi t0, t0, -1; bnez`  | 3 x (1 + 1) + 2 taken x 2 = 10      |
//! | total: 13 instructions       | **52 cycles**                       |
#![no_std]
#![no_main]

use picoformer_board::{self as board, ExitStatus};
use picoformer_firmware_riscv as _; // its start-up hook (`__pre_init`)

// The `nop` puts the region's start inside the translated block, after the call's jump.
core::arch::global_asm!(
    ".global cycle_probe",
    ".global cycle_probe_start",
    ".global cycle_probe_stop",
    "cycle_probe:",
    "    nop",
    "cycle_probe_start:",
    "    lw a1, 0(a0)",
    "    lw a2, 4(a0)",
    "    add a1, a1, a2",
    "    mul a3, a1, a2",
    "    divu a4, a1, a2",
    "    sw a4, 12(a0)",
    "    li t0, 3",
    "1:",
    "    addi t0, t0, -1",
    "    bnez t0, 1b",
    "cycle_probe_stop:",
    "    ret",
);

extern "C" {
    /// The measured sequence; reads the first two words at `words`, writes the fourth.
    fn cycle_probe(words: *mut u32);
}

#[riscv_rt::entry]
fn main() -> ! {
    let mut words = [1u32, 2, 3, 0];
    // SAFETY: the probe reads words[0..2] and writes words[3], all inside the array, and
    // touches only caller-saved registers (a1-a4, t0).
    unsafe { cycle_probe(words.as_mut_ptr()) };
    core::hint::black_box(&words);
    board::exit(ExitStatus::Passed)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    board::report_panic(info)
}
