//! The glue every picoformer firmware shares (the test-suite boards of `targets/cortex-m`
//! and `targets/riscv`, and `targets/dates`): the exit statuses QEMU reports through
//! semihosting, the panic and fault handlers that end a run with them, and stack
//! painting. The architecture-specific parts (reading the stack pointer, the fault and
//! trap handlers of cortex-m-rt and riscv-rt) come with the `cortex-m` or the `riscv`
//! feature.
//!
//! Scripts that check a status read [`ExitStatus`]'s values from this file
//! (`tools/firmware-exit-status.sh`), so each number is written once.
#![no_std]
#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

#[cfg(all(feature = "defmt", feature = "stdio"))]
compile_error!("choose one panic report: the `defmt` or the `stdio` feature");
#[cfg(not(any(feature = "cortex-m", feature = "riscv")))]
compile_error!("choose the architecture: the `cortex-m` or the `riscv` feature");
#[cfg(all(feature = "cortex-m", feature = "riscv"))]
compile_error!("choose one architecture: the `cortex-m` or the `riscv` feature");

#[cfg(feature = "defmt")]
use defmt_semihosting as _; // the global defmt logger: frames go to semihosting stdout

/// How a firmware run ends: the status QEMU exits with. `tools/firmware-exit-status.sh`
/// reads these lines (one `Name = value,` each), so keep that shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum ExitStatus {
    /// Every test or phrase passed.
    Passed = 0,
    /// A test, check or phrase failed.
    Failed = 1,
    /// A fault: a HardFault on Cortex-M, any exception (illegal instruction, misaligned
    /// or faulting access) on RISC-V.
    Fault = 3,
    /// An exception or interrupt nothing expects (Cortex-M's default handler).
    UnexpectedException = 4,
    /// A panic (the status Rust's own runtime uses).
    Panic = 101,
}

impl ExitStatus {
    /// [`ExitStatus::Passed`] when `passed`, else [`ExitStatus::Failed`].
    pub fn from_passed(passed: bool) -> Self {
        if passed {
            Self::Passed
        } else {
            Self::Failed
        }
    }
}

/// Ends the run: QEMU exits with `status`.
#[inline(always)]
pub fn exit(status: ExitStatus) -> ! {
    semihosting::process::exit(status as i32)
}

/// The test suites' panic handler: logs the message through defmt, then ends the run
/// with [`ExitStatus::Panic`].
#[cfg(feature = "defmt")]
#[inline(always)]
pub fn report_panic(info: &core::panic::PanicInfo) -> ! {
    defmt::println!("panicked: {}", defmt::Display2Format(info));
    exit(ExitStatus::Panic)
}

/// The panic handler of firmware that prints text: writes the message to semihosting
/// stdout, then ends the run with [`ExitStatus::Panic`].
#[cfg(feature = "stdio")]
#[inline(always)]
pub fn report_panic(info: &core::panic::PanicInfo) -> ! {
    semihosting::println!("panicked: {}", info);
    exit(ExitStatus::Panic)
}

/// The size probes' panic handler: ends the run with [`ExitStatus::Panic`] and links no
/// formatting code, as production firmware would.
pub fn exit_on_panic() -> ! {
    exit(ExitStatus::Panic)
}

/// Word written over the free stack before a measured run.
const PAINT: u32 = 0x5754_4143;
/// How far below the caller's stack pointer to paint: far more than a decode uses, far
/// less than any board's RAM.
const PAINT_LIMIT: usize = 32 * 1024;

extern "C" {
    /// The runtime's (cortex-m-rt's, riscv-rt's) first address after `.bss` and
    /// `.uninit`: the stack never goes lower.
    static __sheap: u32;
}

#[cfg(feature = "cortex-m")]
fn stack_pointer() -> usize {
    cortex_m::register::msp::read() as usize
}

#[cfg(feature = "riscv")]
fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads the stack pointer into a register; touches no memory.
    unsafe { core::arch::asm!("mv {}, sp", out(reg) sp, options(nomem, nostack)) };
    sp
}

/// Paints the free stack below this frame, runs `work`, and returns how many bytes below
/// this frame's stack pointer the deepest changed word lies.
#[inline(never)]
pub fn stack_used(work: &mut dyn FnMut()) -> usize {
    let statics_end = &raw const __sheap as usize;
    let top = stack_pointer() & !3;
    let bottom = statics_end.max(top.saturating_sub(PAINT_LIMIT));
    for addr in (bottom..top).step_by(4) {
        // SAFETY: [bottom, top) lies between the end of the statics and this frame's
        // stack pointer: no live object is there (interrupts are off, no frame is below
        // ours), and every address is word aligned and inside RAM.
        unsafe { core::ptr::write_volatile(addr as *mut u32, PAINT) };
    }
    work();
    let lowest = (bottom..top)
        .step_by(4)
        // SAFETY: the same words, read back after `work` returned (their frames are gone).
        .find(|&addr| unsafe { core::ptr::read_volatile(addr as *const u32) } != PAINT)
        .unwrap_or(top);
    top - lowest
}

/// Cortex-M: a HardFault ends the run with [`ExitStatus::Fault`].
#[cfg(feature = "cortex-m")]
#[cortex_m_rt::exception]
unsafe fn HardFault(_frame: &cortex_m_rt::ExceptionFrame) -> ! {
    exit(ExitStatus::Fault)
}

/// Cortex-M: any other exception or interrupt ends the run with
/// [`ExitStatus::UnexpectedException`].
#[cfg(feature = "cortex-m")]
#[cortex_m_rt::exception]
unsafe fn DefaultHandler(_irq: i16) -> ! {
    exit(ExitStatus::UnexpectedException)
}

/// RISC-V: every exception ends the run with [`ExitStatus::Fault`] (riscv-rt's default
/// would spin until the timeout).
#[cfg(feature = "riscv")]
#[export_name = "ExceptionHandler"]
fn exception_handler(_frame: &riscv_rt::TrapFrame) -> ! {
    exit(ExitStatus::Fault)
}
