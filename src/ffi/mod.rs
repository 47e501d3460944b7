//! The C API (feature `ffi`; `std` turns it on too): `extern "C"` functions with a `pf_`
//! prefix over [`Model`], declared in the generated header `include/picoformer.h`.
//!
//! Rules every function keeps:
//! - Nothing is allocated. The model handle ([`pf_model`]), the scratch buffer and every
//!   output array live in the caller's memory; the model reads its weights in place from
//!   the caller's blob, which must outlive the handle and stay unmodified.
//! - The result is an `int32_t` status (`PF_OK` or a `PF_ERR_*` code, see
//!   [`pf_status_message`]); values come back through out-pointers, which are written
//!   only on success. Output arrays are left untouched when a call fails its checks (a
//!   decode that stops on `PF_ERR_NON_FINITE_LOGITS` may have written its earlier tokens).
//! - Every pointer is checked before use: NULL (`PF_ERR_NULL_POINTER`; an input or output
//!   *array* may be NULL only with length 0), alignment for its element type
//!   (`PF_ERR_MISALIGNED_POINTER`; the scratch buffer: `PF_ERR_SCRATCH_MISALIGNED`), a
//!   length whose byte size cannot exist (`PF_ERR_BAD_LENGTH`) and overlap between the
//!   arrays of one call when one of them is written (`PF_ERR_OVERLAP`).
//! - No panic crosses the boundary: on the host (`std`) each body runs inside
//!   `catch_unwind` (`PF_ERR_PANIC`); `no_std` targets build with `panic = "abort"`.
//!
//! What C cannot be checked for: a pointer that is non-NULL and aligned but does not
//! point to as many elements as its length says, and a blob that is freed or changed
//! while a handle uses it.

#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_camel_case_types)] // the C names of the handle and structs

pub mod status;

pub use status::*;

use crate::config::{Activation, Norm, Positional};
use crate::error::Error;
use crate::model::Model;
use crate::scratch::MAX_BEAM;
use crate::search::{BeamParams, Greedy};
use core::ffi::{c_char, c_void};
use core::mem::{align_of, size_of};

/// Bytes of a [`pf_model`] handle on every target.
pub const PF_MODEL_SIZE: usize = 256;
/// Alignment the model blob and the scratch buffer must have.
pub const PF_ALIGN: usize = 16;
/// Largest beam size [`pf_beam_search`] accepts.
pub const PF_MAX_BEAM: u32 = 64;

/// `pf_config.norm`: post-norm, the paper's `LN(x + sublayer(x))`.
pub const PF_NORM_POST: u32 = 0;
/// `pf_config.norm`: pre-norm, `x + sublayer(LN(x))`.
pub const PF_NORM_PRE: u32 = 1;
/// `pf_config.activation`: ReLU.
pub const PF_ACTIVATION_RELU: u32 = 0;
/// `pf_config.activation`: exact (erf) GELU.
pub const PF_ACTIVATION_GELU: u32 = 1;
/// `pf_config.positional`: none.
pub const PF_POSITIONAL_NONE: u32 = 0;
/// `pf_config.positional`: the paper's interleaved sinusoids.
pub const PF_POSITIONAL_SINUSOIDAL: u32 = 1;
/// `pf_config.positional`: tensor2tensor's concatenated sinusoids.
pub const PF_POSITIONAL_SINUSOIDAL_CONCAT: u32 = 2;
/// `pf_config.positional`: learned position tables.
pub const PF_POSITIONAL_LEARNED: u32 = 3;

// The header's literals (cbindgen reads this file alone) are the engine's values.
const _: () = {
    assert!(PF_MAX_BEAM as usize == MAX_BEAM);
    assert!(PF_ALIGN == crate::blob::ALIGN);
    assert!(PF_NORM_POST == Norm::Post as u32 && PF_NORM_PRE == Norm::Pre as u32);
    assert!(PF_ACTIVATION_RELU == Activation::Relu as u32);
    assert!(PF_ACTIVATION_GELU == Activation::Gelu as u32);
    assert!(PF_POSITIONAL_NONE == Positional::None as u32);
    assert!(PF_POSITIONAL_SINUSOIDAL == Positional::Sinusoidal as u32);
    assert!(PF_POSITIONAL_SINUSOIDAL_CONCAT == Positional::SinusoidalConcat as u32);
    assert!(PF_POSITIONAL_LEARNED == Positional::Learned as u32);
};

/// A validated model, in caller memory: declare one (`pf_model model;`, a `static`, or a
/// struct member) and set it up with [`pf_model_init`]. Opaque; 256 bytes, 8-byte
/// aligned on every target. It may be copied with `memcpy` once set up.
#[repr(C)]
pub struct pf_model {
    _opaque: [u64; 32],
}

/// What `pf_model` holds (never seen by C).
#[repr(C)]
struct Slot {
    /// [`HANDLE_MAGIC`] once set up; anything else is not a handle.
    magic: u64,
    /// The blob's address and length (for the overlap checks).
    blob: Span,
    /// The model, borrowing the caller's blob; the lifetime is the caller's promise
    /// (see [`pf_model_init`]) and never leaves a call.
    model: Model<'static>,
}

const HANDLE_MAGIC: u64 = u64::from_le_bytes(*b"pfmodel1");

const _: () = assert!(size_of::<pf_model>() == PF_MODEL_SIZE);
const _: () = assert!(align_of::<pf_model>() == 8);
const _: () = assert!(size_of::<Slot>() <= size_of::<pf_model>());
const _: () = assert!(align_of::<Slot>() <= align_of::<pf_model>());

/// A model's configuration, as [`pf_model_config`] reports it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct pf_config {
    /// `D`, width of every hidden vector.
    pub d_model: u32,
    /// `H`, attention heads.
    pub n_heads: u32,
    /// `F`, inner width of the feed-forward network.
    pub d_ff: u32,
    /// Encoder layers (0: decoder-only).
    pub n_encoder_layers: u32,
    /// Decoder layers (0: encoder-only).
    pub n_decoder_layers: u32,
    /// Source vocabulary size.
    pub src_vocab: u32,
    /// Target vocabulary size.
    pub tgt_vocab: u32,
    /// `S`, longest source sequence.
    pub max_src_len: u32,
    /// `T`, longest target sequence.
    pub max_tgt_len: u32,
    /// `PF_NORM_*`.
    pub norm: u32,
    /// `PF_ACTIVATION_*`.
    pub activation: u32,
    /// `PF_POSITIONAL_*`.
    pub positional: u32,
    /// LayerNorm epsilon.
    pub layer_norm_eps: f32,
    /// Start-of-sequence token of the decoder.
    pub bos_id: u32,
    /// End-of-sequence token of the decoder.
    pub eos_id: u32,
    /// Padding token (pads unused slots of [`pf_beam_search`]'s token rows).
    pub pad_id: u32,
    /// Embeddings are multiplied by `sqrt(d_model)`.
    pub scale_embeddings: bool,
    /// The output projection is the target embedding matrix.
    pub tie_output: bool,
    /// LayerNorm on the top encoder and decoder outputs.
    pub final_norm: bool,
    /// Weight elements stored in the blob.
    pub parameter_count: u64,
}

/// Beam-search settings of [`pf_beam_search`].
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct pf_beam_params {
    /// Beam size B: 1..=`PF_MAX_BEAM`, and below the target vocabulary.
    pub beam: u32,
    /// Hypotheses returned, K: 1..=B.
    pub top: u32,
    /// Most tokens generated per hypothesis, eos included: 1..=`max_tgt_len`.
    pub max_len: u32,
    /// GNMT length-penalty exponent alpha (>= 0; 0 ranks by raw log-probability).
    pub alpha: f32,
}

/// Sampling settings of [`pf_generate`] (llama2.c's sampler, `docs/spec.md`, "Sampling").
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct pf_sampling_params {
    /// Divides the logits before the softmax; 0 is greedy decoding (finite, `>= 0`).
    pub temperature: f32,
    /// Nucleus: draw only from the most likely tokens whose probabilities first exceed
    /// `top_p` in sum; `<= 0` or `>= 1` draws from all of them. Finite.
    pub top_p: f32,
    /// State of the generator (xorshift64*); not 0.
    pub seed: u64,
}

// ---------------------------------------------------------------------------------------
// Pointer checks
// ---------------------------------------------------------------------------------------

/// The bytes one pointer argument covers.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
struct Span {
    start: usize,
    bytes: usize,
    written: bool,
}

const EMPTY: Span = Span {
    start: 0,
    bytes: 0,
    written: false,
};

/// Checks a pointer to `len` elements of `T`: `(NULL, 0)` is an empty array, otherwise it
/// must be non-NULL, aligned for `T`, and its bytes must fit the address space.
fn span<T>(ptr: *const T, len: usize, written: bool) -> Result<Span, i32> {
    if len == 0 {
        return Ok(Span { written, ..EMPTY });
    }
    if ptr.is_null() {
        return Err(PF_ERR_NULL_POINTER);
    }
    if !ptr.is_aligned() {
        return Err(PF_ERR_MISALIGNED_POINTER);
    }
    let bytes = len
        .checked_mul(size_of::<T>())
        .filter(|&b| b <= isize::MAX as usize)
        .ok_or(PF_ERR_BAD_LENGTH)?;
    let start = ptr.addr();
    start.checked_add(bytes).ok_or(PF_ERR_BAD_LENGTH)?;
    Ok(Span {
        start,
        bytes,
        written,
    })
}

/// A required single value (an out-pointer or the handle).
fn one<T>(ptr: *const T, written: bool) -> Result<Span, i32> {
    if ptr.is_null() {
        return Err(PF_ERR_NULL_POINTER);
    }
    span(ptr, 1, written)
}

/// Rejects two spans that share a byte when at least one of them is written.
fn disjoint(spans: &[Span]) -> Result<(), i32> {
    for (i, a) in spans.iter().enumerate() {
        for b in spans.iter().skip(i + 1) {
            let shared = a.bytes > 0
                && b.bytes > 0
                // saturating: a span running to the end of the address space ends there
                && a.start < b.start.saturating_add(b.bytes)
                && b.start < a.start.saturating_add(a.bytes);
            if shared && (a.written || b.written) {
                return Err(PF_ERR_OVERLAP);
            }
        }
    }
    Ok(())
}

/// A 16-byte aligned type, for the address of empty arrays.
#[repr(C, align(16))]
struct Align16([u8; 16]);

/// The address an empty array gets: its own when that is a valid one, else a dangling
/// 16-byte aligned address (so an empty scratch buffer is "too small", not "misaligned").
fn empty_at<T>(ptr: *mut T) -> *mut T {
    const { assert!(align_of::<T>() <= 16) };
    if ptr.is_null() || !ptr.is_aligned() {
        core::ptr::NonNull::<Align16>::dangling().as_ptr().cast()
    } else {
        ptr
    }
}

/// The array behind a span checked by [`span`].
///
/// # Safety
/// `span` accepted `(ptr, len)`, and `ptr` points to `len` initialised elements that
/// nothing writes while the returned slice lives.
unsafe fn input<'a, T>(ptr: *const T, len: usize) -> &'a [T] {
    let ptr = if len == 0 {
        empty_at(ptr.cast_mut()).cast_const()
    } else {
        ptr
    };
    // SAFETY: non-NULL and aligned (checked by `span`, or the empty-array address), within
    // isize::MAX bytes (checked); the caller promises `len` readable, initialised
    // elements left unchanged during the call.
    unsafe { core::slice::from_raw_parts(ptr, len) }
}

/// The writable array behind a span checked by [`span`] and [`disjoint`].
///
/// # Safety
/// `span` accepted `(ptr, len)`, `disjoint` found it apart from every other array of the
/// call, and `ptr` points to `len` writable elements of `T` (any bit pattern of the
/// plain number types used here is a valid value).
unsafe fn output<'a, T>(ptr: *mut T, len: usize) -> &'a mut [T] {
    let ptr = if len == 0 { empty_at(ptr) } else { ptr };
    // SAFETY: non-NULL and aligned (checked by `span`, or the empty-array address), within
    // isize::MAX bytes and apart from every other array of this call (checked); the
    // caller promises `len` writable elements, and `T` is a plain number type for which
    // every bit pattern is valid.
    unsafe { core::slice::from_raw_parts_mut(ptr, len) }
}

/// The model in a handle, and the spans of the handle and of its blob.
///
/// # Safety
/// `handle` is NULL or points to `PF_MODEL_SIZE` readable bytes; when it was set up by
/// [`pf_model_init`], the blob it borrows is still valid and unchanged.
unsafe fn model_of<'a>(handle: *const pf_model) -> Result<(Model<'a>, Span, Span), i32> {
    let at = one(handle, false)?;
    // SAFETY: `handle` is non-NULL and 8-byte aligned (checked by `one`) and the caller
    // promises PF_MODEL_SIZE readable bytes; the magic is a plain u64 at offset 0 of the
    // repr(C) Slot, valid for any bits.
    let magic = unsafe { handle.cast::<u64>().read() };
    if magic != HANDLE_MAGIC {
        return Err(PF_ERR_INVALID_HANDLE);
    }
    // SAFETY: the magic says `pf_model_init` wrote a complete Slot here (size and
    // alignment const-asserted above), and the caller promises its blob is still live.
    let slot = unsafe { &*handle.cast::<Slot>() };
    Ok((slot.model, at, slot.blob))
}

/// Runs `body` and turns its result into a status; under `std` a panic becomes
/// `PF_ERR_PANIC` instead of unwinding into C.
fn guard(body: impl FnOnce() -> Result<(), i32>) -> i32 {
    #[cfg(feature = "std")]
    let result =
        std::panic::catch_unwind(core::panic::AssertUnwindSafe(body)).unwrap_or(Err(PF_ERR_PANIC));
    #[cfg(not(feature = "std"))]
    let result = body();
    match result {
        Ok(()) => PF_OK,
        Err(status) => status,
    }
}

fn err(e: Error) -> i32 {
    status::code(&e)
}

// ---------------------------------------------------------------------------------------
// The API
// ---------------------------------------------------------------------------------------

/// The static, NUL-terminated message of a status code (`"ok"` for `PF_OK`; unknown codes
/// get a message too). Never NULL; the string must not be freed.
#[unsafe(no_mangle)]
pub extern "C" fn pf_status_message(status: i32) -> *const c_char {
    status::message_ptr(status)
}

/// The library version, a static NUL-terminated string such as `"0.1.0"`.
#[unsafe(no_mangle)]
pub extern "C" fn pf_version() -> *const c_char {
    const VERSION: &core::ffi::CStr = match core::ffi::CStr::from_bytes_with_nul(
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
    ) {
        Ok(v) => v,
        Err(_) => c"unknown",
    };
    VERSION.as_ptr()
}

/// Validates the model blob `blob[0..blob_len]` in place, its two CRC-32C checksums
/// included (`PF_ERR_HEADER_CHECKSUM`, `PF_ERR_DATA_CHECKSUM`), and sets up `model` to use
/// it. Nothing is copied: the blob (in flash, a `static`, or a buffer) must start on a
/// 16-byte boundary, be exactly as long as it declares, and stay valid and unmodified for
/// as long as `model` (or a copy of it) is used.
///
/// On failure `model` is marked invalid (later calls with it return
/// `PF_ERR_INVALID_HANDLE`).
///
/// # Safety
/// `model` is NULL or points to a writable `pf_model`; `blob` is NULL or points to
/// `blob_len` readable bytes that outlive every use of `model` unchanged.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pf_model_init(
    model: *mut pf_model,
    blob: *const u8,
    blob_len: usize,
) -> i32 {
    // SAFETY: the caller's promises are this function's.
    unsafe { model_init(model, blob, blob_len, Model::from_blob) }
}

/// As `pf_model_init`, but without computing the blob's checksums: for an image whose
/// integrity is already proven (a bootloader verified the checksums, or a signature, of
/// the flash it lives in). Every other check remains.
///
/// # Safety
/// As `pf_model_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pf_model_init_verified(
    model: *mut pf_model,
    blob: *const u8,
    blob_len: usize,
) -> i32 {
    // SAFETY: the caller's promises are this function's.
    unsafe { model_init(model, blob, blob_len, Model::from_verified_blob) }
}

/// `pf_model_init` with the loader of `Model` to use.
///
/// # Safety
/// As `pf_model_init`.
unsafe fn model_init(
    model: *mut pf_model,
    blob: *const u8,
    blob_len: usize,
    load: fn(&'static [u8]) -> crate::Result<Model<'static>>,
) -> i32 {
    guard(|| {
        let handle = one(model.cast_const(), true)?;
        if blob.is_null() {
            return Err(PF_ERR_NULL_POINTER);
        }
        let blob_span = span(blob, blob_len, false)?;
        disjoint(&[handle, blob_span])?;
        // SAFETY: checked by `span`; the caller promises `blob_len` readable bytes that
        // stay unchanged while the handle is used (the 'static lifetime is that promise;
        // the model never leaves a call of this API).
        let bytes: &'static [u8] = unsafe { input(blob, blob_len) };
        let slot = match load(bytes) {
            Ok(m) => Slot {
                magic: HANDLE_MAGIC,
                blob: blob_span,
                model: m,
            },
            Err(e) => {
                // SAFETY: `model` is non-NULL, 8-byte aligned and writable (checked /
                // promised); the magic is the first u64 of the handle.
                unsafe { model.cast::<u64>().write(0) };
                return Err(err(e));
            }
        };
        // SAFETY: `model` is non-NULL, aligned and writable for PF_MODEL_SIZE bytes, which
        // hold a Slot (const-asserted); it does not overlap the blob (checked).
        unsafe { model.cast::<Slot>().write(slot) };
        Ok(())
    })
}

/// Writes the model's configuration to `*out`.
///
/// # Safety
/// `model` is NULL or points to a `pf_model` (set up or not); `out` is NULL or points to a
/// writable `pf_config`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pf_model_config(model: *const pf_model, out: *mut pf_config) -> i32 {
    guard(|| {
        // SAFETY: the caller promises a readable pf_model; model_of checks the rest.
        let (m, handle, blob) = unsafe { model_of(model) }?;
        let out_span = one(out.cast_const(), true)?;
        disjoint(&[handle, blob, out_span])?;
        let c = m.config();
        let d = &c.dims;
        let u = |v: usize| v as u32; // every dimension is <= 2^20 (validated)
        let config = pf_config {
            d_model: u(d.d_model),
            n_heads: u(d.n_heads),
            d_ff: u(d.d_ff),
            n_encoder_layers: u(d.n_encoder_layers),
            n_decoder_layers: u(d.n_decoder_layers),
            src_vocab: u(d.src_vocab),
            tgt_vocab: u(d.tgt_vocab),
            max_src_len: u(d.max_src_len),
            max_tgt_len: u(d.max_tgt_len),
            norm: c.norm as u32,
            activation: c.activation as u32,
            positional: c.positional as u32,
            layer_norm_eps: c.layer_norm_eps,
            bos_id: c.bos_id,
            eos_id: c.eos_id,
            pad_id: c.pad_id,
            scale_embeddings: c.scale_embeddings,
            tie_output: c.tie_output,
            final_norm: c.final_norm,
            parameter_count: m.parameter_count() as u64,
        };
        // SAFETY: `out` is non-NULL, aligned and apart from the other arguments (checked);
        // the caller promises it is writable.
        unsafe { out.write(config) };
        Ok(())
    })
}

/// The common body of the `pf_*_scratch_bytes` queries: checks the handle and `out_bytes`,
/// asks `size` for the byte count and writes it, leaving `*out_bytes` untouched on error.
///
/// # Safety
/// `model` is NULL or points to a `pf_model`; `out_bytes` is NULL or points to a writable
/// `size_t`.
unsafe fn write_scratch_size(
    model: *const pf_model,
    out_bytes: *mut usize,
    size: impl FnOnce(&Model) -> Result<usize, i32>,
) -> i32 {
    guard(|| {
        // SAFETY: the caller promises a readable pf_model; model_of checks the rest.
        let (m, handle, blob) = unsafe { model_of(model) }?;
        let out_span = one(out_bytes.cast_const(), true)?;
        disjoint(&[handle, blob, out_span])?;
        let bytes = size(&m)?;
        // SAFETY: checked non-NULL, aligned and apart from the other arguments; the
        // caller promises it is writable.
        unsafe { out_bytes.write(bytes) };
        Ok(())
    })
}

/// Writes to `*out_bytes` the exact scratch size of [`pf_forward`] (it computes blocks of
/// target positions together, so it may need more than [`pf_greedy_scratch_bytes`]).
///
/// # Safety
/// `model` is NULL or points to a `pf_model`; `out_bytes` is NULL or points to a writable
/// `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pf_forward_scratch_bytes(
    model: *const pf_model,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: forwarded from this function's own contract.
    unsafe { write_scratch_size(model, out_bytes, |m| m.forward_scratch_bytes().map_err(err)) }
}

/// Writes to `*out_bytes` the exact scratch size of [`pf_greedy`].
///
/// # Safety
/// `model` is NULL or points to a `pf_model`; `out_bytes` is NULL or points to a writable
/// `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pf_greedy_scratch_bytes(
    model: *const pf_model,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: forwarded from this function's own contract.
    unsafe { write_scratch_size(model, out_bytes, |m| m.greedy_scratch_bytes().map_err(err)) }
}

/// Writes to `*out_bytes` the exact scratch size of [`pf_encode`] (smaller than
/// [`pf_greedy_scratch_bytes`], which covers it too).
///
/// # Safety
/// `model` is NULL or points to a `pf_model`; `out_bytes` is NULL or points to a writable
/// `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pf_encode_scratch_bytes(
    model: *const pf_model,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: forwarded from this function's own contract.
    unsafe { write_scratch_size(model, out_bytes, |m| m.encode_scratch_bytes().map_err(err)) }
}

/// Writes to `*out_bytes` the exact scratch size of [`pf_beam_search`] with beam size
/// `beam` (`PF_ERR_BEAM_SIZE_OUT_OF_RANGE` for a beam the search refuses).
///
/// # Safety
/// `model` is NULL or points to a `pf_model`; `out_bytes` is NULL or points to a writable
/// `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pf_beam_scratch_bytes(
    model: *const pf_model,
    beam: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: forwarded from this function's own contract.
    unsafe {
        // `beam_scratch_bytes` refuses, by the search's own rule, a beam the search would.
        write_scratch_size(model, out_bytes, |m| {
            m.beam_scratch_bytes(beam).map_err(err)
        })
    }
}

/// Runs the encoder on `src[0..src_len]`: `out[0..src_len * d_model]` receives the top
/// encoder output, row-major `[src_len, d_model]`. `scratch` needs
/// [`pf_encode_scratch_bytes`] bytes, 16-byte aligned.
///
/// # Safety
/// `model` is NULL or points to a `pf_model`; each array pointer is NULL or points to as
/// many elements as its length says (`src`: readable; `out`, `scratch`: writable).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pf_encode(
    model: *const pf_model,
    src: *const u32,
    src_len: usize,
    out: *mut f32,
    out_len: usize,
    scratch: *mut c_void,
    scratch_len: usize,
) -> i32 {
    // SAFETY: forwarded from this function's own contract (no target: an empty array).
    unsafe {
        source_target_call(
            model,
            (src, src_len),
            (core::ptr::null(), 0),
            (out, out_len),
            (scratch, scratch_len),
            |m, src, _, out, scratch| m.encode(src, out, scratch),
        )
    }
}

/// Teacher-forced decoder logits: row `i` of `logits[0..tgt_len * tgt_vocab]` (row-major
/// `[tgt_len, tgt_vocab]`) is the distribution after reading `tgt[0..=i]` (start `tgt`
/// with bos). Decoder-only models take `src = NULL, src_len = 0`. `scratch` needs
/// [`pf_forward_scratch_bytes`] bytes, 16-byte aligned.
///
/// # Safety
/// `model` is NULL or points to a `pf_model`; each array pointer is NULL or points to as
/// many elements as its length says (`src`, `tgt`: readable; `logits`, `scratch`:
/// writable).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pf_forward(
    model: *const pf_model,
    src: *const u32,
    src_len: usize,
    tgt: *const u32,
    tgt_len: usize,
    logits: *mut f32,
    logits_len: usize,
    scratch: *mut c_void,
    scratch_len: usize,
) -> i32 {
    // SAFETY: forwarded from this function's own contract.
    unsafe {
        source_target_call(
            model,
            (src, src_len),
            (tgt, tgt_len),
            (logits, logits_len),
            (scratch, scratch_len),
            |m, src, tgt, logits, scratch| m.forward(src, tgt, logits, scratch),
        )
    }
}

/// The body [`pf_encode`] and [`pf_forward`] share: checks the handle and the arrays
/// (`src`, `tgt` readable; `out`, `scratch` writable; no written array sharing a byte with
/// another), then runs `call` on them.
///
/// # Safety
/// As the callers': `model` is NULL or points to a `pf_model`; each array pointer is NULL
/// or points to as many elements as its length says.
unsafe fn source_target_call(
    model: *const pf_model,
    (src_ptr, src_len): (*const u32, usize),
    (tgt_ptr, tgt_len): (*const u32, usize),
    (out_ptr, out_len): (*mut f32, usize),
    (scratch_ptr, scratch_len): (*mut c_void, usize),
    call: impl FnOnce(&Model, &[u32], &[u32], &mut [f32], &mut [u8]) -> Result<(), Error>,
) -> i32 {
    guard(|| {
        // SAFETY: the caller promises a readable pf_model; model_of checks the rest.
        let (m, handle, blob) = unsafe { model_of(model) }?;
        let scratch_ptr = scratch_ptr.cast::<u8>();
        let spans = [
            handle,
            blob,
            span(src_ptr, src_len, false)?,
            span(tgt_ptr, tgt_len, false)?,
            span(out_ptr.cast_const(), out_len, true)?,
            span(scratch_ptr.cast_const(), scratch_len, true)?,
        ];
        disjoint(&spans)?;
        // SAFETY: checked by `span` and `disjoint`; the caller promises the elements.
        let src = unsafe { input(src_ptr, src_len) };
        // SAFETY: as above.
        let tgt = unsafe { input(tgt_ptr, tgt_len) };
        // SAFETY: as above.
        let out = unsafe { output(out_ptr, out_len) };
        // SAFETY: as above.
        let scratch = unsafe { output(scratch_ptr, scratch_len) };
        call(&m, src, tgt, out, scratch).map_err(err)
    })
}

/// Greedy decoding from bos: writes the tokens (excluding bos, including eos when
/// emitted) to `tokens[0..*out_len]` (`tokens_len >= max_len`), their count to
/// `*out_len` and the sum of their log-probabilities to `*out_score`. Decoder-only
/// models take `src = NULL, src_len = 0`. `scratch` needs [`pf_greedy_scratch_bytes`]
/// bytes, 16-byte aligned.
///
/// # Safety
/// `model` is NULL or points to a `pf_model`; each array pointer is NULL or points to as
/// many elements as its length says (`src`: readable; `tokens`, `scratch`: writable);
/// `out_len` and `out_score` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pf_greedy(
    model: *const pf_model,
    src: *const u32,
    src_len: usize,
    max_len: usize,
    tokens: *mut u32,
    tokens_len: usize,
    out_len: *mut usize,
    out_score: *mut f32,
    scratch: *mut c_void,
    scratch_len: usize,
) -> i32 {
    // SAFETY: forwarded from this function's own contract (`out_score` is required).
    unsafe {
        token_search(
            model,
            (src, src_len),
            (tokens, tokens_len),
            out_len,
            Some(out_score),
            (scratch, scratch_len),
            |m, src, tokens, scratch| m.greedy(src, max_len, tokens, scratch),
        )
    }
}

/// The body [`pf_greedy`] and [`pf_generate`] share: checks the handle and the arrays
/// (`input` readable; `tokens`, `scratch`, `*out_len` and, when given, `*out_score`
/// writable; no written array sharing a byte with another), runs `search` on them and
/// writes the token count and, when given, the score.
///
/// # Safety
/// As the callers': `model` is NULL or points to a `pf_model`; each array pointer is NULL
/// or points to as many elements as its length says; `out_len` and `out_score` are NULL
/// or writable.
unsafe fn token_search(
    model: *const pf_model,
    (input_ptr, input_len): (*const u32, usize),
    (tokens_ptr, tokens_len): (*mut u32, usize),
    out_len: *mut usize,
    out_score: Option<*mut f32>,
    (scratch_ptr, scratch_len): (*mut c_void, usize),
    search: impl FnOnce(&Model, &[u32], &mut [u32], &mut [u8]) -> Result<Greedy, Error>,
) -> i32 {
    guard(|| {
        // SAFETY: the caller promises a readable pf_model; model_of checks the rest.
        let (m, handle, blob) = unsafe { model_of(model) }?;
        let scratch_ptr = scratch_ptr.cast::<u8>();
        let score_span = match out_score {
            Some(score) => one(score.cast_const(), true)?,
            None => EMPTY,
        };
        let spans = [
            handle,
            blob,
            span(input_ptr, input_len, false)?,
            span(tokens_ptr.cast_const(), tokens_len, true)?,
            one(out_len.cast_const(), true)?,
            score_span,
            span(scratch_ptr.cast_const(), scratch_len, true)?,
        ];
        disjoint(&spans)?;
        // SAFETY: checked by `span` and `disjoint`; the caller promises the elements.
        let input = unsafe { input(input_ptr, input_len) };
        // SAFETY: as above.
        let tokens = unsafe { output(tokens_ptr, tokens_len) };
        // SAFETY: as above.
        let scratch = unsafe { output(scratch_ptr, scratch_len) };
        let done = search(&m, input, tokens, scratch).map_err(err)?;
        // SAFETY: `out_len` (and `out_score` when given) checked non-NULL, aligned and
        // apart from every other argument; the caller promises they are writable.
        unsafe {
            out_len.write(done.len);
            if let Some(score) = out_score {
                score.write(done.score);
            }
        }
        Ok(())
    })
}

/// Writes to `*out_bytes` the exact scratch size of [`pf_generate`].
///
/// # Safety
/// `model` is NULL or points to a `pf_model`; `out_bytes` is NULL or points to a writable
/// `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pf_generate_scratch_bytes(
    model: *const pf_model,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: forwarded from this function's own contract.
    unsafe { write_scratch_size(model, out_bytes, |m| m.sample_scratch_bytes().map_err(err)) }
}

/// Generation with a decoder-only model (llama's `generate`): feeds `prompt` (bos first,
/// as the model expects) and writes up to `steps` generated tokens (those after the
/// prompt, including eos when emitted: generation stops only there) to
/// `tokens[0..*out_len]` (`tokens_len >= steps`), their count to `*out_len`. Each token is
/// drawn with `params` (temperature 0: greedy decoding), reproducibly from its seed.
/// `scratch` needs [`pf_generate_scratch_bytes`] bytes, 16-byte aligned.
///
/// # Safety
/// `model` is NULL or points to a `pf_model`; each array pointer is NULL or points to as
/// many elements as its length says (`prompt`: readable; `tokens`, `scratch`: writable);
/// `out_len` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pf_generate(
    model: *const pf_model,
    prompt: *const u32,
    prompt_len: usize,
    steps: usize,
    params: pf_sampling_params,
    tokens: *mut u32,
    tokens_len: usize,
    out_len: *mut usize,
    scratch: *mut c_void,
    scratch_len: usize,
) -> i32 {
    let sampling = crate::search::SamplingParams {
        temperature: params.temperature,
        top_p: params.top_p,
        seed: params.seed,
    };
    // SAFETY: forwarded from this function's own contract (no score here).
    unsafe {
        token_search(
            model,
            (prompt, prompt_len),
            (tokens, tokens_len),
            out_len,
            None,
            (scratch, scratch_len),
            |m, prompt, tokens, scratch| {
                let source = crate::encoder::Source::Tokens(&[]);
                m.sample_with(&source, prompt, steps, &sampling, tokens, scratch)
            },
        )
    }
}

/// Beam search (B = `params.beam`, K = `params.top`): writes the best K hypotheses, best
/// first. Hypothesis `i`'s tokens (excluding bos, including eos when it finished with
/// one) go to `tokens[i * max_len ..]`, padded with the model's `pad_id` up to
/// `max_len`; its length to `lengths[i]`, its length-normalised score
/// `log P / ((5 + n) / 6)^alpha` to `scores[i]`. `*out_count` receives how many
/// hypotheses were found (K, or fewer when fewer finished; rows past it get length 0 and
/// score `-INFINITY`). Arrays: `tokens_len >= K * max_len`, `lengths_len >= K`,
/// `scores_len >= K`. `scratch` needs [`pf_beam_scratch_bytes`]`(B)` bytes, 16-byte
/// aligned.
///
/// # Safety
/// `model` is NULL or points to a `pf_model`; each array pointer is NULL or points to as
/// many elements as its length says (`src`: readable; `tokens`, `lengths`, `scores`,
/// `scratch`: writable); `out_count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pf_beam_search(
    model: *const pf_model,
    src: *const u32,
    src_len: usize,
    params: pf_beam_params,
    tokens: *mut u32,
    tokens_len: usize,
    lengths: *mut usize,
    lengths_len: usize,
    scores: *mut f32,
    scores_len: usize,
    out_count: *mut usize,
    scratch: *mut c_void,
    scratch_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: the caller promises a readable pf_model; model_of checks the rest.
        let (m, handle, blob) = unsafe { model_of(model) }?;
        let scratch = scratch.cast::<u8>();
        let spans = [
            handle,
            blob,
            span(src, src_len, false)?,
            span(tokens.cast_const(), tokens_len, true)?,
            span(lengths.cast_const(), lengths_len, true)?,
            span(scores.cast_const(), scores_len, true)?,
            one(out_count.cast_const(), true)?,
            span(scratch.cast_const(), scratch_len, true)?,
        ];
        disjoint(&spans)?;
        let bp = BeamParams {
            beam: params.beam as usize,
            top: params.top as usize,
            alpha: params.alpha,
            max_len: params.max_len as usize,
        };
        // Output sizes are checked before the search when the settings make sense (bad
        // settings are reported by the search itself, before it computes anything).
        let t = m.config().dims.max_tgt_len;
        if (1..=bp.beam.min(crate::MAX_BEAM)).contains(&bp.top) && (1..=t).contains(&bp.max_len) {
            // <= MAX_BEAM * 2^20 (max_tgt_len is checked at load): cannot wrap
            let needed = bp.top.wrapping_mul(bp.max_len);
            for (needed, got) in [
                (needed, tokens_len),
                (bp.top, lengths_len),
                (bp.top, scores_len),
            ] {
                if got < needed {
                    return Err(err(Error::OutputTooSmall { needed, got }));
                }
            }
        }
        // SAFETY: checked by `span` and `disjoint`; the caller promises the elements.
        let src = unsafe { input(src, src_len) };
        // SAFETY: as above.
        let scratch = unsafe { output(scratch, scratch_len) };
        let found = m.beam_search(src, &bp, scratch).map_err(err)?;
        // SAFETY: checked by `span` and `disjoint` (sizes just above); the caller
        // promises the elements.
        let tokens = unsafe { output(tokens, tokens_len) };
        // SAFETY: as above.
        let lengths = unsafe { output(lengths, lengths_len) };
        // SAFETY: as above.
        let scores = unsafe { output(scores, scores_len) };
        let pad = m.config().pad_id;
        // The search accepted `max_len`, so it is >= 1 and `max(1)` changes nothing.
        let rows = tokens.chunks_exact_mut(bp.max_len.max(1));
        // (a range, not `.enumerate()`: its counter is overflow-checked)
        for (i, ((row, len), score)) in
            (0..bp.top).zip(rows.zip(lengths.iter_mut()).zip(scores.iter_mut()))
        {
            row.fill(pad);
            match found.get(i) {
                Some(h) => {
                    for (dst, &src) in row.iter_mut().zip(h.tokens) {
                        *dst = src;
                    }
                    *len = h.tokens.len();
                    *score = h.score;
                }
                None => {
                    *len = 0;
                    *score = f32::NEG_INFINITY;
                }
            }
        }
        // SAFETY: checked non-NULL, aligned and apart from every other argument; the
        // caller promises it is writable.
        unsafe { out_count.write(found.len()) };
        Ok(())
    })
}

#[cfg(feature = "std")]
mod file;
#[cfg(feature = "std")]
pub use file::{pf_file_size, pf_read_file};
