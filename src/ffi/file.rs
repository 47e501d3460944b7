//! Host conveniences (feature `std`): reading a model file into caller memory. The
//! library still allocates nothing: size the buffer with [`pf_file_size`], allocate it
//! 16-byte aligned yourself (`aligned_alloc(16, ...)`), fill it with [`pf_read_file`]
//! and hand it to [`pf_model_init`](super::pf_model_init).

use super::{
    disjoint, guard, one, output, span, PF_ERR_IO, PF_ERR_NULL_POINTER, PF_ERR_OUTPUT_TOO_SMALL,
};
use core::ffi::{c_char, c_void, CStr};
use std::io::Read;
use std::path::PathBuf;

/// The path behind a C string.
///
/// # Safety
/// `path` is NULL or points to a NUL-terminated string.
unsafe fn path_of(path: *const c_char) -> Result<PathBuf, i32> {
    if path.is_null() {
        return Err(PF_ERR_NULL_POINTER);
    }
    // SAFETY: non-NULL; the caller promises a NUL-terminated string that lives for the
    // call.
    let c = unsafe { CStr::from_ptr(path) };
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(c.to_bytes())))
    }
    #[cfg(not(unix))]
    {
        c.to_str().map(PathBuf::from).map_err(|_| PF_ERR_IO)
    }
}

/// Writes the size in bytes of the file at `path` to `*out_size`.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out_size` is NULL or a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pf_file_size(path: *const c_char, out_size: *mut usize) -> i32 {
    guard(|| {
        // SAFETY: the caller promises a NUL-terminated string.
        let path = unsafe { path_of(path) }?;
        one(out_size.cast_const(), true)?;
        let len = std::fs::metadata(path).map_err(|_| PF_ERR_IO)?.len();
        let len = usize::try_from(len).map_err(|_| PF_ERR_IO)?;
        // SAFETY: checked non-NULL and aligned; the caller promises it is writable.
        unsafe { out_size.write(len) };
        Ok(())
    })
}

/// Reads the whole file at `path` into `buf[0..buf_len]` and writes its length to
/// `*out_len`; `PF_ERR_OUTPUT_TOO_SMALL` when the file is longer than `buf_len` (the
/// buffer may then hold a prefix of it), `PF_ERR_IO` when it cannot be read.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `buf` is NULL or points to `buf_len`
/// writable bytes; `out_len` is NULL or a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pf_read_file(
    path: *const c_char,
    buf: *mut c_void,
    buf_len: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: the caller promises a NUL-terminated string.
        let path = unsafe { path_of(path) }?;
        let buf = buf.cast::<u8>();
        disjoint(&[
            span(buf.cast_const(), buf_len, true)?,
            one(out_len.cast_const(), true)?,
        ])?;
        // SAFETY: checked by `span` and `disjoint`; the caller promises the bytes.
        let buf = unsafe { output(buf, buf_len) };
        let mut file = std::fs::File::open(path).map_err(|_| PF_ERR_IO)?;
        let mut len = 0;
        loop {
            let Some(rest) = buf.get_mut(len..) else {
                return Err(PF_ERR_IO);
            };
            if rest.is_empty() {
                // Full: the file must end here.
                let mut probe = [0u8; 1];
                match file.read(&mut probe) {
                    Ok(0) => break,
                    Ok(_) => return Err(PF_ERR_OUTPUT_TOO_SMALL),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => return Err(PF_ERR_IO),
                }
            }
            match file.read(rest) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return Err(PF_ERR_IO),
            }
        }
        // SAFETY: checked non-NULL, aligned and apart from `buf`; the caller promises it
        // is writable.
        unsafe { out_len.write(len) };
        Ok(())
    })
}
