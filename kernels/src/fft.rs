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
    fn conj(self) -> Self {
        Self {
            re: self.re,
            im: -self.im,
        }
    }
}

#[inline]
fn load(buf: &[f32], index: usize) -> Option<Complex> {
    // wrapping: every index is < n, and the buffers hold 2 n floats
    let at = index.wrapping_mul(2);
    let pair = buf.get(at..at.wrapping_add(2))?;
    Some(Complex {
        re: *pair.first()?,
        im: *pair.get(1)?,
    })
}

#[inline]
fn store(buf: &mut [f32], index: usize, value: Complex) -> Option<()> {
    // wrapping: as in `load`
    let at = index.wrapping_mul(2);
    let pair = buf.get_mut(at..at.wrapping_add(2))?;
    *pair.first_mut()? = value.re;
    *pair.get_mut(1)? = value.im;
    Some(())
}

/// The largest radix of a stage; a stage's butterfly holds this many values on the stack.
const MAX_RADIX: usize = 5;

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
    for (k, pair) in twiddles.chunks_exact_mut(2).enumerate() {
        let (re, im) = if (4 * k).is_multiple_of(n) {
            match (4 * k) / n {
                0 => (1.0, 0.0),
                1 => (0.0, -1.0),
                2 => (-1.0, 0.0),
                _ => (0.0, 1.0),
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
    let (mut x, mut y) = work.split_at_mut(n);
    // z[t] = input[2t] + i·input[2t+1]: the real pairs are already interleaved complex.
    x.copy_from_slice(input);

    // Stockham, decimation in frequency: a stage of radix p turns `len`-point transforms
    // at stride `stride` into `len/p`-point ones at stride `stride·p`, ping-ponging x → y.
    // W_m^j = W_n^(2j): the table for n serves the size-m transform.
    let mut len = m;
    let mut stride: usize = 1;
    while len > 1 {
        let p = next_radix(len);
        if p == 0 {
            return None;
        }
        let sub = len / p;
        // ω_p^t = W_n^(t·(n/p)) for t = 0..p (the butterfly's roots, read once per stage),
        // and the stage twiddle W_len^(q·k) = W_n^(q·k·(n/len)), whose index q·k·(n/len)
        // < p·(len/p)·(n/len) = n needs no reduction.
        let mut omega = [Complex::default(); MAX_RADIX];
        for (t, w) in omega.iter_mut().enumerate().take(p) {
            *w = load(twiddles, t * (n / p))?;
        }
        let stage_step = n / len;
        for q in 0..sub {
            let mut stage = [Complex::default(); MAX_RADIX];
            for (k, w) in stage.iter_mut().enumerate().take(p) {
                *w = load(twiddles, q * k * stage_step)?;
            }
            for r in 0..stride {
                let mut a = [Complex::default(); MAX_RADIX];
                for (j, aj) in a.iter_mut().enumerate().take(p) {
                    // wrapping here and below: stride · len = n, r < stride, q < sub,
                    // j, k < p, so every index is < n
                    let index = sub.wrapping_mul(j).wrapping_add(q);
                    *aj = load(x, stride.wrapping_mul(index).wrapping_add(r))?;
                }
                for (k, &stage_k) in stage.iter().enumerate().take(p) {
                    // Σ_j a_j·ω_p^(j·k), with j·k mod p stepped by k (no division).
                    let mut acc = a[0];
                    let mut t: usize = 0;
                    for &aj in a.iter().take(p).skip(1) {
                        t = t.wrapping_add(k); // t, k < p
                        if t >= p {
                            t -= p;
                        }
                        acc = acc.add(aj.mul(*omega.get(t)?));
                    }
                    let index = p.wrapping_mul(q).wrapping_add(k);
                    store(
                        y,
                        stride.wrapping_mul(index).wrapping_add(r),
                        acc.mul(stage_k),
                    )?;
                }
            }
        }
        core::mem::swap(&mut x, &mut y);
        len = sub;
        stride = stride.wrapping_mul(p); // stride · len stays n
    }

    // Split: with Z = FFT_m(z), for k = 0..=m (Z[m] = Z[0]):
    //   even part E[k] = (Z[k] + conj Z[m−k]) / 2, odd part O[k] = (Z[k] − conj Z[m−k]) / 2i,
    //   X[k] = E[k] + W_n^k · O[k].
    for k in 0..=m {
        let zk = load(x, k % m)?;
        let zmk = load(x, (m - k) % m)?.conj();
        let even = zk.add(zmk);
        let diff = zk.sub(zmk);
        // diff / i = (im, −re)
        let odd = Complex {
            re: diff.im,
            im: -diff.re,
        };
        let value = even.add(load(twiddles, k)?.mul(odd));
        store(
            spectrum,
            k,
            Complex {
                re: 0.5 * value.re,
                im: 0.5 * value.im,
            },
        )?;
    }
    Some(())
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
        for &n in &[400usize, 2, 4, 6, 10, 16, 30, 50, 96, 160, 250, 512] {
            for seed in 1..4 {
                let x = signal(n, seed * 7919 + n as u32);
                let err = max_error(&x);
                let tolerance = 2.0 * 6e-8 * (n as f64).log2();
                std::println!("n = {n}: max error / ‖x‖ = {err:.2e} (tolerance {tolerance:.1e})");
                assert!(err < tolerance, "n = {n}: {err:e} ≥ {tolerance:e}");
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
