//! The discrete Fourier transform of a real signal (scalar reference; SIMD later).
//!
//! `rfft` computes `X[k] = Σ_t x[t] · e^(−2πi·k·t/n)` for `k = 0..=n/2` (the other half is
//! the complex conjugate) of a real `x` of even length `n`, exactly as `numpy.fft.rfft`
//! defines it (no scaling). Method: the `n` real values are read as `m = n/2` complex
//! values `z[t] = x[2t] + i·x[2t+1]`, transformed by a mixed-radix (4, 2, 3, 5) Stockham
//! FFT of size `m`, which ends in natural order without a digit-reversal pass, and split
//! into the spectrum of `x`. Whisper's `n = 400` gives `m = 200 = 4·2·5·5`.
//!
//! Nothing allocates: the twiddle factors `e^(−2πi·k/n)` (`k = 0..n`) are computed once by
//! [`rfft_twiddles`] into a caller's table, and the transform works in a caller's buffer.
//! Layouts (f32 elements, complex values interleaved `[re, im]`):
//! - `twiddles`: `[n, 2]`, [`rfft_twiddles_len`] elements;
//! - `work`: `[2, m, 2]` (two ping-pong buffers of `m` complex values), [`rfft_work_len`];
//! - `spectrum`: `[n/2 + 1, 2]`, [`rfft_spectrum_len`].
//!
//! Like every kernel, these never panic: a length that does not fit, or an `n` whose half
//! has a prime factor other than 2, 3 and 5, makes them return `false` without touching
//! anything beyond the slices.

/// A complex number in f32 (re, im).
#[derive(Clone, Copy, Default)]
struct Complex {
    re: f32,
    im: f32,
}

impl From<[f32; 2]> for Complex {
    #[inline]
    fn from([re, im]: [f32; 2]) -> Self {
        Self { re, im }
    }
}

impl Complex {
    #[inline]
    fn add(self, o: Self) -> Self {
        Self {
            re: self.re + o.re,
            im: self.im + o.im,
        }
    }
    #[inline]
    fn sub(self, o: Self) -> Self {
        Self {
            re: self.re - o.re,
            im: self.im - o.im,
        }
    }
    #[inline]
    fn mul(self, o: Self) -> Self {
        Self {
            re: self.re * o.re - self.im * o.im,
            im: self.re * o.im + self.im * o.re,
        }
    }
    #[inline]
    fn scale(self, s: f32) -> Self {
        Self {
            re: self.re * s,
            im: self.im * s,
        }
    }
    /// `i·self`.
    #[inline]
    fn times_i(self) -> Self {
        Self {
            re: -self.im,
            im: self.re,
        }
    }
    /// `−i·self`.
    #[inline]
    fn times_minus_i(self) -> Self {
        Self {
            re: self.im,
            im: -self.re,
        }
    }
    #[inline]
    fn conj(self) -> Self {
        Self {
            re: self.re,
            im: -self.im,
        }
    }
}

/// The radix of the next stage for a remaining length `len`: 4 while it divides, then 2,
/// 3, 5; `0` when `len` has another prime factor.
const fn next_radix(len: usize) -> usize {
    if len.is_multiple_of(4) {
        4
    } else if len.is_multiple_of(2) {
        2
    } else if len.is_multiple_of(3) {
        3
    } else if len.is_multiple_of(5) {
        5
    } else {
        0
    }
}

/// Whether [`rfft`] transforms length `n`: even, at least 2, and `n/2` a product of 2s, 3s
/// and 5s.
pub const fn rfft_supported(n: usize) -> bool {
    if n < 2 || !n.is_multiple_of(2) {
        return false;
    }
    let mut len = n / 2;
    while len > 1 {
        let radix = next_radix(len);
        if radix == 0 {
            return false;
        }
        len /= radix;
    }
    true
}

/// Elements of the twiddle table for length `n`: `n` complex values.
pub const fn rfft_twiddles_len(n: usize) -> usize {
    2 * n
}

/// Elements of the work buffer for length `n`: two buffers of `n/2` complex values.
pub const fn rfft_work_len(n: usize) -> usize {
    2 * n
}

/// Elements of the spectrum for length `n`: `n/2 + 1` complex values.
pub const fn rfft_spectrum_len(n: usize) -> usize {
    n + 2
}

/// Fills `twiddles` (`[n, 2]`) with `e^(−2πi·k/n)` for `k = 0..n`: computed in f64 and
/// rounded once, so each is the f32 nearest the true value (f32's own `cosf`/`sinf` of an
/// f32 angle would add the angle's rounding, up to ~1e-7 relative per twiddle). The
/// quarter points are exact (`cos(π/2)` in f64 is 6e-17, not 0). Returns `false` (and
/// writes nothing) when `twiddles` has the wrong length or `n` is not supported.
pub fn rfft_twiddles(n: usize, twiddles: &mut [f32]) -> bool {
    if !rfft_supported(n) || twiddles.len() != rfft_twiddles_len(n) {
        return false;
    }
    // k = 0..=n/2 from their angles; above, W_n^k = conj W_n^(n−k) (half the calls)
    let half = n / 2;
    let (first, second) = twiddles.split_at_mut(2 * (half + 1));
    for (k, pair) in first.chunks_exact_mut(2).enumerate() {
        let (re, im) = if (4 * k).is_multiple_of(n) {
            match (4 * k) / n {
                0 => (1.0, 0.0),
                1 => (0.0, -1.0),
                _ => (-1.0, 0.0),
            }
        } else {
            let angle = -2.0 * core::f64::consts::PI * k as f64 / n as f64;
            (libm::cos(angle) as f32, libm::sin(angle) as f32)
        };
        if let [r, i] = pair {
            *r = re;
            *i = im;
        }
    }
    let (first, _) = first.as_chunks::<2>();
    let (second, _) = second.as_chunks_mut::<2>();
    // second[j] is k = n/2 + 1 + j, from n − k = n/2 − 1 − j: first[1..n/2] backwards
    let mirror = first.get(1..half).unwrap_or_default();
    for (pair, &[re, im]) in second.iter_mut().zip(mirror.iter().rev()) {
        *pair = [re, -im];
    }
    true
}

/// The spectrum of the real signal `input` (`[n]`) into `spectrum` (`[n/2 + 1, 2]`):
/// `X[k] = Σ_t input[t] · e^(−2πi·k·t/n)`, unscaled, as `numpy.fft.rfft`. `twiddles` is
/// [`rfft_twiddles`]'s table for the same `n`; `work` is [`rfft_work_len`] elements of
/// scratch. Returns `false` (with `spectrum` unspecified) when a length does not fit or
/// `n` is not supported.
pub fn rfft(input: &[f32], twiddles: &[f32], work: &mut [f32], spectrum: &mut [f32]) -> bool {
    let n = input.len();
    if !rfft_supported(n)
        || twiddles.len() != rfft_twiddles_len(n)
        || work.len() != rfft_work_len(n)
        || spectrum.len() != rfft_spectrum_len(n)
    {
        return false;
    }
    rfft_checked(input, twiddles, work, spectrum).is_some()
}

fn rfft_checked(
    input: &[f32],
    twiddles: &[f32],
    work: &mut [f32],
    spectrum: &mut [f32],
) -> Option<()> {
    let n = input.len();
    let m = n / 2;
    // Complex values as `[re, im]` pairs (no remainder: every length is even).
    let (input, _) = input.as_chunks::<2>();
    let (twiddles, _) = twiddles.as_chunks::<2>();
    let (work, _) = work.as_chunks_mut::<2>();
    let (spectrum, _) = spectrum.as_chunks_mut::<2>();
    let (a, b) = work.split_at_mut_checked(m)?;

    // Stockham, decimation in frequency: a stage of radix p turns `len`-point transforms
    // at stride `stride` into `len/p`-point ones at stride `stride·p`, from the input
    // (z[t] = input[2t] + i·input[2t+1]: the real pairs are already interleaved complex)
    // into `a`, then ping-ponging between `a` and `b`.
    // W_m^j = W_n^(2j): the table for n serves the size-m transform.
    let mut len = m;
    let mut stride: usize = 1;
    // where the data is: 0 the input, 1 `a`, 2 `b`
    let mut at = 0u8;
    while len > 1 {
        let p = next_radix(len);
        if p == 0 {
            return None;
        }
        let (src, dst): (&[[f32; 2]], &mut [[f32; 2]]) = match at {
            0 => (input, &mut *a),
            1 => (&*a, &mut *b),
            _ => (&*b, &mut *a),
        };
        let shape = Stage {
            len,
            stride,
            step: n / len,
        };
        match p {
            4 => stage4(src, dst, twiddles, shape, radix4),
            2 => stage2(src, dst, twiddles, shape, radix2),
            3 => {
                let w = twiddles.get(n / 3)?;
                let omega = Radix3 { c: w[0], s: w[1] };
                stage3(src, dst, twiddles, shape, |v| omega.butterfly(v))
            }
            5 => {
                let (w1, w2) = (twiddles.get(n / 5)?, twiddles.get((n / 5).wrapping_mul(2))?);
                let omega = Radix5 {
                    c1: w1[0],
                    s1: w1[1],
                    c2: w2[0],
                    s2: w2[1],
                };
                stage5(src, dst, twiddles, shape, |v| omega.butterfly(v))
            }
            _ => None,
        }?;
        at = if at == 1 { 2 } else { 1 };
        len /= p;
        stride = stride.wrapping_mul(p); // stride · len stays m
    }
    let z: &[[f32; 2]] = match at {
        0 => input,
        1 => a,
        _ => b,
    };
    let z = z.get(..m)?;

    // Split: with Z = FFT_m(z), for k = 0..=m (Z[m] = Z[0]):
    //   even part E[k] = (Z[k] + conj Z[m−k]) / 2, odd part O[k] = (Z[k] − conj Z[m−k]) / 2i,
    //   X[k] = E[k] + W_n^k · O[k].
    let split = |zk: Complex, zmk: Complex, w: Complex| {
        let zmk = zmk.conj();
        let even = zk.add(zmk);
        let diff = zk.sub(zmk);
        // diff / i = (im, −re)
        let odd = Complex {
            re: diff.im,
            im: -diff.re,
        };
        let value = even.add(w.mul(odd));
        [0.5 * value.re, 0.5 * value.im]
    };
    let z0 = Complex::from(*z.first()?);
    let (first, rest) = spectrum.split_first_mut()?;
    let (last, middle) = rest.split_last_mut()?;
    *first = split(z0, z0, Complex::from(*twiddles.first()?));
    *last = split(z0, z0, Complex::from(*twiddles.get(m)?));
    // k = 1..m: Z[k] rising, Z[m − k] falling
    let rising = z.get(1..)?.iter();
    let falling = z.get(1..)?.iter().rev();
    let w = twiddles.get(1..m)?.iter();
    for (x, ((&zk, &zmk), &w)) in middle.iter_mut().zip(rising.zip(falling).zip(w)) {
        *x = split(zk.into(), zmk.into(), w.into());
    }
    Some(())
}

/// One Stockham stage's shape: `len`-point transforms at stride `stride` (`stride · len =
/// m`), and the twiddle table's step for them (`n / len`: W_len^j = W_n^(j·step)).
#[derive(Clone, Copy)]
struct Stage {
    len: usize,
    stride: usize,
    step: usize,
}

/// A complex value as stored: `[re, im]`.
type Pair = [f32; 2];

/// Output `y` of a butterfly, times the stage twiddle `w` when `TWIDDLE`, as stored.
#[inline(always)]
fn twiddled<const TWIDDLE: bool>(y: Complex, w: Complex) -> Pair {
    let y = if TWIDDLE { y.mul(w) } else { y };
    [y.re, y.im]
}

/// One stage of radix `p`: for `q < len/p` and `r < stride`, the `p` values
/// `a_j = src[stride·(q + j·len/p) + r]` go through `butterfly` (the `p`-point DFT,
/// `Σ_j a_j·ω_p^(j·k)`) and output `k`, times the stage twiddle `W_len^(q·k)`, lands in
/// `dst[stride·(p·q + k) + r]`. `None` when a slice is shorter than the shape says.
///
/// Written out per radix (`radix_stage!(NAME, p, a0 s0 o0 w0, ...)`: the `j`-th value,
/// its input row, output row and twiddle): the firmware is built for size, which
/// unrolls no loop over `j` or `k`, and an array indexed by them lives on the stack.
/// Two loop orders: the first stage (`stride == 1`) runs `q` in the inner loop, reading
/// `p` rows of `len/p` values and writing `p` values at a time; the others run `r`
/// inside, over rows of `stride` values, with the twiddles of one `q` in registers
/// (and not applied for `q = 0`, where they are 1).
macro_rules! radix_stage {
    ($name:ident, $p:literal, $a0:ident $s0:ident $o0:ident, $($a:ident $s:ident $o:ident $w:ident $k:literal),+) => {
        #[inline(always)]
        fn $name(
            src: &[Pair],
            dst: &mut [Pair],
            twiddles: &[Pair],
            shape: Stage,
            butterfly: impl Fn([Complex; $p]) -> [Complex; $p],
        ) -> Option<()> {
            let Stage { len, stride, step } = shape;
            let sub = len / $p;
            // wrapping below: every index is less than stride · len = m, or than
            // p · q · step <= len · step = n for the twiddles
            if stride == 1 {
                let rest = src;
                let ($s0, rest) = rest.split_at_checked(sub)?;
                $(let ($s, rest) = rest.split_at_checked(sub)?;)+
                let _ = rest;
                let (outs, _) = dst.as_chunks_mut::<$p>();
                let outs = outs.get_mut(..sub)?;
                let mut qs = 0usize; // q · step
                for q in 0..sub {
                    $(let $w = Complex::from(*twiddles.get(qs.wrapping_mul($k))?);)+
                    let $a0 = Complex::from(*$s0.get(q)?);
                    $(let $a = Complex::from(*$s.get(q)?);)+
                    let [$a0, $($a),+] = butterfly([$a0, $($a),+]);
                    let [$o0, $($o),+] = outs.get_mut(q)?;
                    *$o0 = [$a0.re, $a0.im];
                    $(*$o = twiddled::<true>($a, $w);)+
                    qs = qs.wrapping_add(step);
                }
                return Some(());
            }
            let row = sub.wrapping_mul(stride); // src's row j: its q-th block of `stride`
            let block = stride.wrapping_mul($p); // dst's q-th block: p rows of `stride`
            let mut first = 0usize; // q · stride
            let mut out_first = 0usize; // q · block
            let mut qs = 0usize; // q · step
            for _ in 0..sub {
                let rest = dst.get_mut(out_first..out_first.wrapping_add(block))?;
                let ($o0, rest) = rest.split_at_mut_checked(stride)?;
                $(let ($o, rest) = rest.split_at_mut_checked(stride)?;)+
                let _ = rest;
                let mut at = first;
                let $s0 = src.get(at..at.wrapping_add(stride))?;
                $(
                    at = at.wrapping_add(row);
                    let $s = src.get(at..at.wrapping_add(stride))?;
                )+
                $(let $w = Complex::from(*twiddles.get(qs.wrapping_mul($k))?);)+
                // the same loop twice: with the twiddles, and without them for q = 0
                macro_rules! rows_loop {
                    ($twiddle:literal) => {
                        for r in 0..stride {
                            let $a0 = Complex::from(*$s0.get(r)?);
                            $(let $a = Complex::from(*$s.get(r)?);)+
                            let [$a0, $($a),+] = butterfly([$a0, $($a),+]);
                            *$o0.get_mut(r)? = [$a0.re, $a0.im];
                            $(*$o.get_mut(r)? = twiddled::<$twiddle>($a, $w);)+
                        }
                    };
                }
                if qs == 0 {
                    rows_loop!(false);
                } else {
                    rows_loop!(true);
                }
                first = first.wrapping_add(stride);
                out_first = out_first.wrapping_add(block);
                qs = qs.wrapping_add(step);
            }
            Some(())
        }
    };
}

radix_stage!(stage2, 2, a0 s0 o0, a1 s1 o1 w1 1);
radix_stage!(stage3, 3, a0 s0 o0, a1 s1 o1 w1 1, a2 s2 o2 w2 2);
radix_stage!(stage4, 4, a0 s0 o0, a1 s1 o1 w1 1, a2 s2 o2 w2 2, a3 s3 o3 w3 3);
radix_stage!(
    stage5, 5, a0 s0 o0, a1 s1 o1 w1 1, a2 s2 o2 w2 2, a3 s3 o3 w3 3, a4 s4 o4 w4 4
);

/// The 2-point DFT.
#[inline(always)]
fn radix2([a0, a1]: [Complex; 2]) -> [Complex; 2] {
    [a0.add(a1), a0.sub(a1)]
}

/// The 4-point DFT (ω_4 = −i: its products are exact swaps and sign changes).
#[inline(always)]
fn radix4([a0, a1, a2, a3]: [Complex; 4]) -> [Complex; 4] {
    let (s02, d02) = (a0.add(a2), a0.sub(a2));
    let (s13, d13) = (a1.add(a3), a1.sub(a3));
    let rot = d13.times_minus_i();
    [s02.add(s13), d02.add(rot), s02.sub(s13), d02.sub(rot)]
}

/// The 3-point DFT with ω_3 = `(c, s)` (`c = −1/2`, `s = −sin(2π/3)`, from the table).
#[derive(Clone, Copy)]
struct Radix3 {
    c: f32,
    s: f32,
}

impl Radix3 {
    #[inline(always)]
    fn butterfly(self, [a0, a1, a2]: [Complex; 3]) -> [Complex; 3] {
        let (t, d) = (a1.add(a2), a1.sub(a2));
        let mid = a0.add(t.scale(self.c));
        // ω·a1 + ω²·a2 = c·t + i·s·d; ω²·a1 + ω·a2 = c·t − i·s·d
        let rot = d.scale(self.s).times_i();
        [a0.add(t), mid.add(rot), mid.sub(rot)]
    }
}

/// The 5-point DFT with ω_5 = `(c1, s1)` and ω_5² = `(c2, s2)` (from the table; the `s`
/// are the negative sines).
#[derive(Clone, Copy)]
struct Radix5 {
    c1: f32,
    s1: f32,
    c2: f32,
    s2: f32,
}

impl Radix5 {
    #[inline(always)]
    fn butterfly(self, [a0, a1, a2, a3, a4]: [Complex; 5]) -> [Complex; 5] {
        let Self { c1, s1, c2, s2 } = self;
        let (t1, t3) = (a1.add(a4), a1.sub(a4));
        let (t2, t4) = (a2.add(a3), a2.sub(a3));
        // outputs 1 and 4: a0 + c1·t1 + c2·t2 ± i·(s1·t3 + s2·t4)
        let m1 = a0.add(t1.scale(c1)).add(t2.scale(c2));
        let r1 = t3.scale(s1).add(t4.scale(s2)).times_i();
        // outputs 2 and 3: a0 + c2·t1 + c1·t2 ± i·(s2·t3 − s1·t4)
        let m2 = a0.add(t1.scale(c2)).add(t2.scale(c1));
        let r2 = t3.scale(s2).sub(t4.scale(s1)).times_i();
        [
            a0.add(t1).add(t2),
            m1.add(r1),
            m2.add(r2),
            m2.sub(r2),
            m1.sub(r1),
        ]
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;
    use std::vec::Vec;

    /// The direct DFT in f64: the ground truth.
    fn dft_f64(x: &[f32]) -> Vec<(f64, f64)> {
        let n = x.len();
        (0..=n / 2)
            .map(|k| {
                x.iter().enumerate().fold((0.0, 0.0), |(re, im), (t, &v)| {
                    // k·t mod n keeps the angle small and exact.
                    let angle = -2.0 * core::f64::consts::PI * ((k * t) % n) as f64 / n as f64;
                    (re + v as f64 * angle.cos(), im + v as f64 * angle.sin())
                })
            })
            .collect()
    }

    /// A deterministic pseudo-random signal in [−1, 1) (xorshift).
    fn signal(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s as f32 / u32::MAX as f32) * 2.0 - 1.0
            })
            .collect()
    }

    fn transform(x: &[f32]) -> Vec<f32> {
        let n = x.len();
        let mut tw = vec![0.0; rfft_twiddles_len(n)];
        let mut work = vec![0.0; rfft_work_len(n)];
        let mut out = vec![0.0; rfft_spectrum_len(n)];
        assert!(rfft_twiddles(n, &mut tw));
        assert!(rfft(x, &tw, &mut work, &mut out));
        out
    }

    /// Largest |X − X_ref| over the bins, relative to the signal's norm ‖x‖₂.
    ///
    /// Why this tolerance: a floating-point FFT's error is bounded in norm,
    /// ‖X̂ − X‖₂ ≲ c·ε·log₂(n)·‖X‖₂ with ‖X‖₂ = √(n/2)·‖x‖₂ over the half spectrum
    /// (Parseval), and the rounding errors are spread over the bins rather than piled
    /// into one, so per bin |X̂[k] − X[k]| ≈ c·ε·log₂(n)·‖x‖₂ (ε = 6e-8, f32; the twiddles
    /// are correctly rounded, so c is small). We allow c = 2: 1.0e-6 at n = 400, where
    /// we measure ≈ 3.5e-7 (printed with --nocapture); a wrong twiddle or index gives
    /// errors of order 1.
    fn max_error(x: &[f32]) -> f64 {
        let got = transform(x);
        let want = dft_f64(x);
        let norm = x
            .iter()
            .map(|&v| (v as f64) * (v as f64))
            .sum::<f64>()
            .sqrt();
        let mut worst = 0.0f64;
        for (k, (re, im)) in want.iter().enumerate() {
            let d =
                ((got[2 * k] as f64 - re).powi(2) + (got[2 * k + 1] as f64 - im).powi(2)).sqrt();
            worst = worst.max(d / norm);
        }
        worst
    }

    #[test]
    fn matches_direct_dft_for_whisper_length_and_others() {
        // 400 = Whisper's window; the others reach every radix and the trivial sizes.
        // Under Miri (which interprets the direct DFT's trigonometry millions of times,
        // for hours) the small sizes alone still take every radix and code path, once.
        let (sizes, seeds): (&[usize], u32) = if cfg!(miri) {
            (&[2, 4, 6, 10, 16, 30, 50], 1)
        } else {
            (&[400, 2, 4, 6, 10, 16, 30, 50, 96, 160, 250, 512], 3)
        };
        for &n in sizes {
            for seed in 1..=seeds {
                let x = signal(n, seed * 7919 + n as u32);
                let err = max_error(&x);
                let tolerance = 2.0 * 6e-8 * (n as f64).log2();
                std::println!("n = {n}: max error / ‖x‖ = {err:.2e} (tolerance {tolerance:.1e})");
                assert!(err < tolerance, "n = {n}: {err:e} ≥ {tolerance:e}");
            }
        }
    }

    #[test]
    fn twiddles_above_half_are_the_conjugates_of_their_angles() {
        // the mirrored half equals the table computed from each angle (n = 400: every
        // entry; the others within one f32 rounding)
        for &n in &[400usize, 2, 6, 10, 16, 30, 96, 160, 250, 512] {
            let mut tw = vec![0.0; rfft_twiddles_len(n)];
            assert!(rfft_twiddles(n, &mut tw));
            for k in 0..n {
                let angle = -2.0 * core::f64::consts::PI * k as f64 / n as f64;
                let (re, im) = (libm::cos(angle) as f32, libm::sin(angle) as f32);
                let (got_re, got_im) = (tw[2 * k], tw[2 * k + 1]);
                if n == 400 && !(4 * k).is_multiple_of(n) {
                    assert_eq!((got_re, got_im), (re, im), "n = {n}, k = {k}");
                }
                assert!((got_re - re).abs() <= 1.2e-7 && (got_im - im).abs() <= 1.2e-7);
            }
        }
    }

    #[test]
    fn pure_tone_lands_in_its_bin() {
        let n = 400;
        let x: Vec<f32> = (0..n)
            .map(|t| (2.0 * core::f64::consts::PI * 37.0 * t as f64 / n as f64).cos() as f32)
            .collect();
        let out = transform(&x);
        // cos at bin 37: X[37] = n/2, everything else ~0.
        assert!((out[74] - 200.0).abs() < 1e-3 && out[75].abs() < 1e-3);
        for k in (0..=n / 2).filter(|&k| k != 37) {
            assert!(
                out[2 * k].abs() < 1e-3 && out[2 * k + 1].abs() < 1e-3,
                "bin {k}"
            );
        }
    }

    #[test]
    fn refuses_what_it_cannot_do() {
        assert!(!rfft_supported(0) && !rfft_supported(7) && !rfft_supported(14));
        assert!(rfft_supported(400) && rfft_supported(2));
        let mut tw = vec![0.0; rfft_twiddles_len(14)];
        assert!(!rfft_twiddles(14, &mut tw)); // 7 is not a supported factor
        let mut tw = vec![0.0; rfft_twiddles_len(400)];
        assert!(!rfft_twiddles(400, &mut tw[1..]));
        assert!(rfft_twiddles(400, &mut tw));
        let x = vec![0.0; 400];
        let mut work = vec![0.0; rfft_work_len(400)];
        let mut out = vec![0.0; rfft_spectrum_len(400)];
        assert!(!rfft(&x[1..], &tw, &mut work, &mut out));
        assert!(!rfft(&x, &tw[2..], &mut work, &mut out));
        assert!(!rfft(&x, &tw, &mut work[1..], &mut out));
        assert!(!rfft(&x, &tw, &mut work, &mut out[1..]));
        assert!(rfft(&x, &tw, &mut work, &mut out));
    }
}
