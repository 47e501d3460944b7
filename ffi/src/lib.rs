//! picoformer's C API as a library C links against: `libpicoformer_ffi.a` (host, Cortex-M,
//! RISC-V) and `libpicoformer_ffi.so` (host). The functions are
//! [`picoformer::ffi`]'s; this crate only gives them a library of their own, and on bare
//! metal the panic handler every Rust static library needs.
//!
//! The engine is panic-free by design; should a panic happen anyway on bare metal, the
//! handler executes a permanently undefined instruction, which traps into the
//! firmware's fault handler (HardFault on Cortex-M, the trap vector on RISC-V).
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub use picoformer::ffi::*;

#[cfg(not(feature = "std"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        trap();
    }
}

#[cfg(all(not(feature = "std"), target_arch = "arm"))]
fn trap() {
    // SAFETY: `udf` only raises an undefined-instruction fault (HardFault); it touches
    // no memory and no register.
    unsafe { core::arch::asm!("udf #0", options(nomem, nostack)) }
}

#[cfg(all(
    not(feature = "std"),
    any(target_arch = "riscv32", target_arch = "riscv64")
))]
fn trap() {
    // SAFETY: `unimp` only raises an illegal-instruction exception; it touches no memory
    // and no register.
    unsafe { core::arch::asm!("unimp", options(nomem, nostack)) }
}

#[cfg(all(
    not(feature = "std"),
    not(any(target_arch = "arm", target_arch = "riscv32", target_arch = "riscv64"))
))]
fn trap() {
    core::hint::spin_loop();
}
