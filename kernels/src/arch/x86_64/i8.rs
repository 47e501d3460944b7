//! x86_64 int8 kernel: dot products with AVX2 (`vpsignb`/`vpabsb` to make the weights
//! unsigned, `vpmaddubsw` to pairs of i16, `vpmaddwd` to i32: exact, since `|w| <= 128`
//! and `|x| <= 127` keep every i16 pair sum below 32767).

use crate::frame::f32::MR;
use crate::frame::i8::I8Dot;
use core::arch::x86_64::*;

/// AVX2 int8 kernel: 32-byte blocks, 4 weight rows at a time.
#[derive(Debug, Clone, Copy)]
pub struct Avx2I8(());

impl I8Dot for Avx2I8 {
    const NAME: &'static str = "avx2";
    const BLOCK: usize = 32;

    fn detect() -> Option<Self> {
        #[cfg(feature = "std")]
        let found = std::is_x86_feature_detected!("avx2");
        #[cfg(not(feature = "std"))]
        let found = cfg!(target_feature = "avx2");
        found.then_some(Avx2I8(()))
    }

    fn dot_tile(self, x: &[i8], w: [&[i8]; MR], blocks: usize) -> [i32; MR] {
        let blocks = w
            .iter()
            .fold(blocks.min(x.len() / 32), |b, s| b.min(s.len() / 32));
        // SAFETY: `self` exists only if AVX2 was detected; every slice holds at least
        // `blocks * 32` elements (just above).
        unsafe { x86_64avx2_dot_i8_4x1(x, &w, blocks) }
    }
}

/// # Safety
/// AVX2 must be present; every slice must hold at least `blocks * 32` elements.
#[target_feature(enable = "avx2")]
unsafe fn x86_64avx2_dot_i8_4x1(x: &[i8], w: &[&[i8]; MR], blocks: usize) -> [i32; MR] {
    let ones = _mm256_set1_epi16(1);
    let mut acc = [_mm256_setzero_si256(); MR];
    let xp = x.as_ptr();
    let wp: [*const i8; MR] = core::array::from_fn(|m| w[m].as_ptr());
    for b in 0..blocks {
        // SAFETY: `b * 32 + 32 <= blocks * 32 <= len` of every slice (caller).
        unsafe {
            let xv = _mm256_loadu_si256(xp.add(b * 32).cast());
            for m in 0..MR {
                let wv = _mm256_loadu_si256(wp[m].add(b * 32).cast());
                let sx = _mm256_sign_epi8(xv, wv);
                let aw = _mm256_abs_epi8(wv);
                let pairs = _mm256_maddubs_epi16(aw, sx);
                acc[m] = _mm256_add_epi32(acc[m], _mm256_madd_epi16(pairs, ones));
            }
        }
    }
    acc.map(|v| {
        let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
        _mm_cvtsi128_si32(s)
    })
}

/// AVX-512 int8 kernel: 64-byte blocks, 4 weight rows at a time, by `vpdpbusd` (VNNI:
/// four u8 × i8 products added into each i32 lane in one instruction) where the CPU has
/// AVX-512 VNNI, else AVX2's tile ([`Avx2I8`]) two blocks of 32 at a time.
#[derive(Debug, Clone, Copy)]
pub struct Avx512I8 {
    vnni: bool,
}

impl I8Dot for Avx512I8 {
    const NAME: &'static str = "avx512-vnni";
    const BLOCK: usize = 64;

    fn detect() -> Option<Self> {
        Avx2I8::detect()?;
        #[cfg(feature = "std")]
        let vnni = std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vnni");
        #[cfg(not(feature = "std"))]
        let vnni = cfg!(all(
            target_feature = "avx512f",
            target_feature = "avx512bw",
            target_feature = "avx512vnni"
        ));
        Some(Avx512I8 { vnni })
    }

    fn dot_tile(self, x: &[i8], w: [&[i8]; MR], blocks: usize) -> [i32; MR] {
        if !self.vnni {
            // AVX2 was detected (`detect`); its blocks are half as long.
            return Avx2I8(()).dot_tile(x, w, 2 * blocks);
        }
        let blocks = w
            .iter()
            .fold(blocks.min(x.len() / 64), |b, s| b.min(s.len() / 64));
        // SAFETY: `vnni` is true only if AVX-512F, AVX-512BW and AVX-512 VNNI were
        // detected; every slice holds at least `blocks * 64` elements (just above).
        unsafe { x86_64avx512_dot_i8_4x1(x, &w, blocks) }
    }
}

/// `vpdpbusd` multiplies unsigned bytes by signed ones, so the input goes in offset by
/// 128 (`x ^ 0x80` is `x + 128` as a byte) and a second `vpdpbusd` of ones by the weights
/// sums them: `sum x w = sum (x + 128) w - 128 sum w`, exact modulo 2^32 as the scalar
/// reference's wrapping sum is (two instructions a block and row, where moving each
/// weight's sign onto the input took four).
///
/// # Safety
/// AVX-512F, AVX-512BW and AVX-512 VNNI must be present; every slice must hold at least
/// `blocks * 64` elements.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn x86_64avx512_dot_i8_4x1(x: &[i8], w: &[&[i8]; MR], blocks: usize) -> [i32; MR] {
    let zero = _mm512_setzero_si512();
    let mut acc = [zero; MR];
    let mut sums = [zero; MR];
    let bias = _mm512_set1_epi8(-128);
    let ones = _mm512_set1_epi8(1);
    let xp = x.as_ptr();
    let wp: [*const i8; MR] = core::array::from_fn(|m| w[m].as_ptr());
    // The next tile's rows follow these (one matrix, rows of `len` bytes): fetch them
    // while this one is multiplied (a hint: never faults, whatever the address).
    let ahead = MR * w[0].len();
    for b in 0..blocks {
        // SAFETY: `b * 64 + 64 <= blocks * 64 <= len` of every slice (caller).
        unsafe {
            let xv = _mm512_xor_si512(_mm512_loadu_si512(xp.add(b * 64).cast()), bias);
            for m in 0..MR {
                _mm_prefetch::<_MM_HINT_T0>(wp[m].wrapping_add(ahead + b * 64));
                let wv = _mm512_loadu_si512(wp[m].add(b * 64).cast());
                acc[m] = _mm512_dpbusd_epi32(acc[m], xv, wv);
                sums[m] = _mm512_dpbusd_epi32(sums[m], ones, wv);
            }
        }
    }
    core::array::from_fn(|m| {
        _mm512_reduce_add_epi32(acc[m]).wrapping_sub(_mm512_reduce_add_epi32(sums[m]) << 7)
    })
}
