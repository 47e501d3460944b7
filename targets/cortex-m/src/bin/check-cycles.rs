//! Proves the cycle model of `tools/qemu-icount` (docs/cycles.md) on a hand-counted
//! instruction sequence: `tools/test.d/20-firmware.sh` runs it with the plugin's region
//! between `cycle_probe_start` and `cycle_probe_stop` and compares the counts with the
//! ones below. Changing a cost in `tools/qemu-icount/cycles.h` must change them.
//!
//! | instruction                   | Cortex-M4 (DDI 0439 3.3, 7.2.3) | Cortex-M7 (dual issue) |
//! |-------------------------------|------------|-----------------------------------------|
//! | `ldr r1, [r0]`                | 2 (after a push: not pipelined) | 1 |
//! | `ldr r2, [r0, #4]`            | 1 (pipelined after a load)      | 1 (two loads never pair) |
//! | `ldr r3, [r0, #8]`            | 1 (pipelined)                   | 1 |
//! | `adds r1, r1, r2`             | 1                               | 0 (pairs with the load) |
//! | `str r1, [r0, #12]`           | 1 (immediate offset)            | 1 (reads r1: no pair) |
//! | `smlad r1, r2, r3, r1`        | 1                               | 0 (pairs with the store) |
//! | `vldr s0, [r0]`               | 2                               | 1 |
//! | `vldr s1, [r0, #4]`           | 2                               | 1 (two loads) |
//! | `vfma.f32 s2, s0, s1`         | 3                               | 1 (reads s1: no pair) |
//! | `vldmia r0, {s0-s3}`          | 1 + 4 = 5                       | 1 + 4/2 = 3 |
//! | `push {r4, r5}`               | 1 + 2 = 3                       | 1 + 1 = 2 |
//! | `pop {r4, r5}`                | 3                               | 2 |
//! | `sdiv r1, r2, r3`             | 7 (middle of 2 to 12)           | 7 |
//! | `movs r4, #3`                 | 1                               | 1 |
//! | 3 x `subs r4, #1; bne 1b`     | 3 x (1 + 1) + 2 taken x 2 = 10  | 3 x (1 + 0) + 2 taken x 1 = 5 |
//! | total: 20 instructions        | **43 cycles**                   | **27 cycles** |
#![no_std]
#![no_main]

use picoformer_board::{self as board, ExitStatus};

core::arch::global_asm!(
    ".syntax unified",
    ".thumb",
    ".global cycle_probe",
    ".global cycle_probe_start",
    ".global cycle_probe_stop",
    ".type cycle_probe, %function",
    ".thumb_func",
    "cycle_probe:",
    "    push {{r4, lr}}",
    "cycle_probe_start:",
    "    ldr r1, [r0]",
    "    ldr r2, [r0, #4]",
    "    ldr r3, [r0, #8]",
    "    adds r1, r1, r2",
    "    str r1, [r0, #12]",
    "    smlad r1, r2, r3, r1",
    "    vldr s0, [r0]",
    "    vldr s1, [r0, #4]",
    "    vfma.f32 s2, s0, s1",
    "    vldmia r0, {{s0-s3}}",
    "    push {{r4, r5}}",
    "    pop {{r4, r5}}",
    "    sdiv r1, r2, r3",
    "    movs r4, #3",
    "1:",
    "    subs r4, #1",
    "    bne 1b",
    "cycle_probe_stop:",
    "    pop {{r4, pc}}",
);

extern "C" {
    /// The measured sequence; reads and writes the first four words at `words`.
    fn cycle_probe(words: *mut u32);
}

#[cortex_m_rt::entry]
fn main() -> ! {
    let mut words = [1u32, 2, 3, 0];
    // SAFETY: the probe reads words[0..3] and writes words[3], all inside the array,
    // and restores every callee-saved register it uses (r4, s16 and up are untouched).
    unsafe { cycle_probe(words.as_mut_ptr()) };
    core::hint::black_box(&words);
    board::exit(ExitStatus::Passed)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    board::report_panic(info)
}
