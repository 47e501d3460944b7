//! CRC-32C (Castagnoli: reflected polynomial `0x82F63B78`), the scalar reference: 4 bits
//! at a time from a 16-entry table, 64 bytes of flash (a byte-wise table would be 1 KiB,
//! a bit-wise loop twice as slow again). What firmware runs, and the twin every CRC
//! kernel ([`crate::frame::crc32c::Crc32cKernel`]) is tested against.

/// The CRC of every nibble value, one bit shifted out per step.
const CRC32C_NIBBLE_TABLE: [u32; 16] = {
    let mut table = [0u32; 16];
    let mut i = 0;
    while i < 16 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 4 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// Continues a CRC-32C over `bytes` from the running register `crc` (not inverted: start
/// from `!0`, invert the result at the end).
///
/// ```
/// use picoformer_kernels::generic::crc32c::crc32c_update;
/// assert_eq!(!crc32c_update(!0, b"123456789"), 0xE306_9283);
/// ```
#[inline]
pub fn crc32c_update(mut crc: u32, bytes: &[u8]) -> u32 {
    for &byte in bytes {
        crc ^= u32::from(byte);
        // `& 15` keeps the index in the table: no bounds check is compiled.
        crc = (crc >> 4) ^ CRC32C_NIBBLE_TABLE[(crc & 15) as usize];
        crc = (crc >> 4) ^ CRC32C_NIBBLE_TABLE[(crc & 15) as usize];
    }
    crc
}
