//! CRC-32C with SSE4.2's `crc32` instruction, which computes exactly the Castagnoli CRC
//! (reflected polynomial `0x82F63B78`): 8 bytes per instruction, then the tail bytewise.

use crate::frame::crc32c::Crc32cKernel;
use core::arch::x86_64::{_mm_crc32_u64, _mm_crc32_u8};

/// SSE4.2 `crc32` (exists only where SSE4.2 was detected).
#[derive(Debug, Clone, Copy)]
pub struct Sse42Crc32c(());

impl Crc32cKernel for Sse42Crc32c {
    const NAME: &'static str = "sse4.2-crc32";

    fn detect() -> Option<Self> {
        #[cfg(feature = "std")]
        let found = std::is_x86_feature_detected!("sse4.2");
        #[cfg(not(feature = "std"))]
        let found = cfg!(target_feature = "sse4.2");
        found.then_some(Sse42Crc32c(()))
    }

    fn update(self, crc: u32, bytes: &[u8]) -> u32 {
        // SAFETY: `self` exists only if SSE4.2 was detected.
        unsafe { x86_64sse42_crc32c_u8(crc, bytes) }
    }
}

/// The register `crc` continued over `bytes`, 8 at a time.
///
/// # Safety
/// The CPU must support SSE4.2.
#[target_feature(enable = "sse4.2")]
unsafe fn x86_64sse42_crc32c_u8(crc: u32, bytes: &[u8]) -> u32 {
    let mut words = bytes.chunks_exact(8);
    let mut crc64 = u64::from(crc);
    for word in &mut words {
        let mut le = [0u8; 8];
        le.copy_from_slice(word);
        // Unaligned loads cost nothing extra here; the word is taken little-endian,
        // as the reflected CRC consumes its bytes low first.
        crc64 = _mm_crc32_u64(crc64, u64::from_le_bytes(le));
    }
    // The instruction leaves the 32-bit register zero-extended in the 64-bit one.
    let mut crc = crc64 as u32;
    for &byte in words.remainder() {
        crc = _mm_crc32_u8(crc, byte);
    }
    crc
}
