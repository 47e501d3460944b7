//! CRC-32C with the Armv8 CRC32 extension (FEAT_CRC32, target feature `crc`):
//! `CRC32CX` computes exactly the Castagnoli CRC over 8 bytes, `CRC32CB` over one.

use crate::frame::crc32c::Crc32cKernel;
use core::arch::aarch64::{__crc32cb, __crc32cd};

/// `CRC32C*` (exists only where the `crc` feature was detected).
#[derive(Debug, Clone, Copy)]
pub struct ArmCrc32c(());

impl Crc32cKernel for ArmCrc32c {
    const NAME: &'static str = "crc32cx";

    fn detect() -> Option<Self> {
        #[cfg(feature = "std")]
        let found = std::arch::is_aarch64_feature_detected!("crc");
        #[cfg(not(feature = "std"))]
        let found = cfg!(target_feature = "crc");
        found.then_some(ArmCrc32c(()))
    }

    fn update(self, crc: u32, bytes: &[u8]) -> u32 {
        // SAFETY: `self` exists only if the `crc` feature was detected.
        unsafe { aarch64crc_crc32c_u8(crc, bytes) }
    }
}

/// The register `crc` continued over `bytes`, 8 at a time.
///
/// # Safety
/// The CPU must have FEAT_CRC32.
#[target_feature(enable = "crc")]
unsafe fn aarch64crc_crc32c_u8(mut crc: u32, bytes: &[u8]) -> u32 {
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut le = [0u8; 8];
        le.copy_from_slice(word);
        // Little-endian: the reflected CRC consumes the word's bytes low first.
        crc = __crc32cd(crc, u64::from_le_bytes(le));
    }
    for &byte in words.remainder() {
        crc = __crc32cb(crc, byte);
    }
    crc
}
