//! The CRC-32C kernel's trait: a kernel continues the running register over any bytes
//! (any length, any alignment) and must give the bits of
//! [`crate::generic::crc32c::crc32c_update`].

/// A CRC-32C kernel (the CPU's CRC instructions).
pub trait Crc32cKernel: Copy {
    /// Its name in reports.
    const NAME: &'static str;

    /// The kernel, if this CPU runs it (without `std`: if the build targets it).
    fn detect() -> Option<Self>;

    /// [`crate::generic::crc32c::crc32c_update`]: the register `crc` continued over
    /// `bytes`.
    fn update(self, crc: u32, bytes: &[u8]) -> u32;
}
