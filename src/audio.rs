//! Whisper's log-mel front end: 16 kHz mono samples → the `[n_mels, frames]` features the
//! encoder's convolution stem reads (feature `audio`).
//!
//! Exactly `whisper.audio.log_mel_spectrogram` (openai-whisper), step by step:
//! 1. the signal is the samples, zero-padded at the end to `frames · HOP_LENGTH` samples
//!    when shorter (Whisper's `padding`);
//! 2. STFT as `torch.stft(center=True, pad_mode="reflect")`: the signal is reflect-padded by
//!    `N_FFT/2` each side, frame `t` is padded samples `t·160 .. t·160 + 400`, times the
//!    periodic Hann window of 400, through the real FFT ([`picoformer_kernels::fft`]);
//! 3. power `|X[k]|²` of bins `k = 0..=200`; Whisper drops the STFT's last frame, so a
//!    signal of `L` samples gives `L / 160` frames;
//! 4. the Slaney mel filterbank (`librosa.filters.mel(sr=16000, n_fft=400, n_mels)`,
//!    computed here from its definition, see `build_filterbank`);
//! 5. `log10(max(mel, 1e-10))`, clamped below at (the largest value) − 8, then `(x + 4) / 4`.
//!
//! Where `samples` is longer than the frames need, only the samples the frames see are read
//! (frame `frames − 1` ends 40 samples past `frames · 160`), so a caller cutting a 30 s
//! window out of longer audio passes `frames = 3000` and the rest is ignored. The clamp's
//! maximum is over the frames computed. (Whisper's `transcribe` computes one spectrogram of
//! the whole file and takes the maximum over all of it; a caller who needs that can compute
//! the whole file at once.)
//!
//! No allocation: every buffer is the caller's; [`log_mel_scratch_len`] is the exact scratch
//! size. Working in f32 except the filterbank's and window's construction (f64, rounded
//! once, as librosa computes them in f64 and stores f32).

use picoformer_kernels::{dispatch, fft};

/// Whisper's sample rate (Hz).
pub const SAMPLE_RATE: usize = 16_000;
/// STFT window and FFT length (25 ms).
pub const N_FFT: usize = 400;
/// STFT hop (10 ms).
pub const HOP_LENGTH: usize = 160;
/// Power-spectrum bins per frame, `N_FFT/2 + 1`.
pub const N_BINS: usize = N_FFT / 2 + 1;
/// Frames in Whisper's 30 s window.
pub const FRAMES_30S: usize = 3000;
/// The mel counts Whisper's checkpoints use (80; 128 for large-v3).
pub const SUPPORTED_MEL_COUNTS: [usize; 2] = [80, 128];

/// Why [`log_mel_spectrogram`] refused its input; one variant per cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum MelError {
    /// `samples` is empty.
    NoSamples,
    /// `frames` is 0.
    NoFrames,
    /// `n_mels` is not one of [`SUPPORTED_MEL_COUNTS`].
    UnsupportedMelCount {
        /// The count asked for.
        n_mels: usize,
    },
    /// The (zero-padded) signal is too short to reflect-pad by `N_FFT/2`: it needs more
    /// than 200 samples (only possible with `frames == 1`).
    SignalTooShort {
        /// Samples in the padded signal.
        samples: usize,
        /// Samples it needs at least.
        needed: usize,
    },
    /// A sample read by the frames is NaN or infinite.
    NonFiniteSample {
        /// Its index in `samples`.
        index: usize,
    },
    /// `n_mels · frames` overflows `usize`.
    TooManyFrames,
    /// `out` is not `n_mels · frames` elements.
    OutputSize {
        /// Elements it must have.
        needed: usize,
        /// Elements it has.
        got: usize,
    },
    /// `scratch` is shorter than [`log_mel_scratch_len`].
    ScratchTooShort {
        /// Elements it must have at least.
        needed: usize,
        /// Elements it has.
        got: usize,
    },
}

impl core::fmt::Display for MelError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::NoSamples => write!(f, "no audio samples"),
            Self::NoFrames => write!(f, "zero frames asked for"),
            Self::UnsupportedMelCount { n_mels } => {
                write!(f, "{n_mels} mel bins asked for; Whisper uses 80 or 128")
            }
            Self::SignalTooShort { samples, needed } => {
                write!(
                    f,
                    "signal of {samples} samples; reflect padding needs at least {needed}"
                )
            }
            Self::NonFiniteSample { index } => write!(f, "sample {index} is NaN or infinite"),
            Self::TooManyFrames => write!(f, "n_mels x frames overflows"),
            Self::OutputSize { needed, got } => {
                write!(f, "output has {got} elements; [n_mels, frames] is {needed}")
            }
            Self::ScratchTooShort { needed, got } => {
                write!(
                    f,
                    "scratch has {got} elements; the front end needs {needed}"
                )
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for MelError {}

// Scratch layout (f32 elements), in this order.
const WINDOW_LEN: usize = N_FFT;
const TWIDDLES_LEN: usize = fft::rfft_twiddles_len(N_FFT);
const FRAME_LEN: usize = N_FFT;
const WORK_LEN: usize = fft::rfft_work_len(N_FFT);
const SPECTRUM_LEN: usize = fft::rfft_spectrum_len(N_FFT);

/// Stored filterbank weights for `n_mels` filters, at most. Filter `i` is stored over the
/// bins from `floor(f_i / 40)` to `ceil(f_{i+2} / 40)` (its support and one bin each side,
/// zeros included); the mel points rise, so the supports overlap pairwise and add up to at
/// most `2·(N_BINS − 1)` bins, plus 2 per filter for the rounding outwards and 1 each for
/// the inclusive end.
const fn filter_weights_len(n_mels: usize) -> usize {
    2 * N_BINS + 3 * n_mels
}

/// Exact scratch elements (f32) [`log_mel_spectrogram`] needs for `n_mels` mel bins:
/// window, FFT twiddles and work, one frame, its spectrum, the filterbank's stored weights.
/// 3,444 elements (13.8 KB) for 80 bins, 3,588 for 128.
pub const fn log_mel_scratch_len(n_mels: usize) -> usize {
    WINDOW_LEN + TWIDDLES_LEN + FRAME_LEN + WORK_LEN + SPECTRUM_LEN + filter_weights_len(n_mels)
}

/// Where filter `i`'s weights lie: `len` bins from `first_bin`, stored at `offset` in the
/// weights area.
#[derive(Clone, Copy, Default)]
struct FilterSpan {
    first_bin: u16,
    len: u16,
    offset: u16,
}

/// The largest supported mel count (the span table lives on the stack).
const MAX_MELS: usize = 128;

/// Slaney's mel scale (librosa's `hz_to_mel`, `htk=False`): linear below 1 kHz, 200/3 Hz
/// per mel, logarithmic above (27 mels per factor 6.4).
fn hz_to_mel(hz: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + libm::log(hz / MIN_LOG_HZ) / (libm::log(6.4) / 27.0)
    } else {
        hz / F_SP
    }
}

/// The inverse of [`hz_to_mel`] (librosa's `mel_to_hz`).
fn mel_to_hz(mel: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * libm::exp(libm::log(6.4) / 27.0 * (mel - MIN_LOG_MEL))
    } else {
        F_SP * mel
    }
}

/// Mel point `j` of `n_mels + 2` spread evenly in mel from 0 Hz to 8 kHz, in Hz
/// (librosa's `mel_frequencies`: numpy's `linspace`, which ends exactly on its stop);
/// `top` is [`hz_to_mel`] of 8 kHz.
fn mel_point_hz(j: usize, n_mels: usize, top: f64) -> f64 {
    let last = n_mels.saturating_add(1);
    let mel = if j >= last {
        top
    } else {
        j as f64 * (top / last as f64)
    };
    mel_to_hz(mel)
}

/// Builds the Slaney-normalised triangular filterbank of `librosa.filters.mel(sr=16000,
/// n_fft=400, n_mels)` into `weights` (sparse: `spans` says where each filter lies).
///
/// librosa, for filter `i` with mel points `f_i < f_{i+1} < f_{i+2}` (Hz) and bin `k` at
/// `40·k` Hz: `w = max(0, min((40k − f_i)/(f_{i+1} − f_i), (f_{i+2} − 40k)/(f_{i+2} −
/// f_{i+1})))`, stored as f32, then multiplied (in f64, numpy's in-place promotion) by
/// `2/(f_{i+2} − f_i)` and stored as f32 again. We round at the same two places, so each
/// weight is librosa's (and Whisper's `mel_filters.npz`'s) to the last bit or within it.
/// Returns `None` when `weights` is too short (not for a supported `n_mels`).
fn build_filterbank(n_mels: usize, spans: &mut [FilterSpan], weights: &mut [f32]) -> Option<()> {
    let bin_hz = SAMPLE_RATE as f64 / N_FFT as f64;
    let mut offset = 0usize;
    // the mel points, each computed once: filter i's are lo, mid, hi = points i, i + 1, i + 2
    let top = hz_to_mel(SAMPLE_RATE as f64 / 2.0);
    let (mut lo, mut mid) = (mel_point_hz(0, n_mels, top), mel_point_hz(1, n_mels, top));
    // (a range, not `.enumerate()`: its counter is overflow-checked; i + 2 <= MAX_MELS + 1)
    for (i, span) in (0..n_mels).zip(spans.iter_mut()) {
        let hi = mel_point_hz(i.wrapping_add(2), n_mels, top);
        let enorm = 2.0 / (hi - lo);
        let first_bin = libm::floor(lo / bin_hz) as usize;
        let last_bin = (libm::ceil(hi / bin_hz) as usize).min(N_BINS - 1);
        // (wrapping: last_bin < N_BINS)
        let len = last_bin.checked_sub(first_bin)?.wrapping_add(1);
        let area = weights.get_mut(offset..offset.checked_add(len)?)?;
        for (k, w) in (first_bin..=last_bin).zip(area.iter_mut()) {
            let hz = k as f64 * bin_hz;
            let lower = (hz - lo) / (mid - lo);
            let upper = (hi - hz) / (hi - mid);
            let triangle = lower.min(upper).max(0.0) as f32;
            *w = (triangle as f64 * enorm) as f32;
        }
        *span = FilterSpan {
            first_bin: u16::try_from(first_bin).ok()?,
            len: u16::try_from(len).ok()?,
            offset: u16::try_from(offset).ok()?,
        };
        offset = offset.checked_add(len)?;
        (lo, mid) = (mid, hi);
    }
    Some(())
}

/// The dense filterbank, `[n_mels, N_BINS]` row-major into `out` (`n_mels · 201`
/// elements): the same weights the front end uses, for a converter that stores them in a
/// blob or a test that compares them with librosa's (`mel_filters.npz`).
pub fn mel_filterbank(n_mels: usize, out: &mut [f32]) -> Result<(), MelError> {
    if !SUPPORTED_MEL_COUNTS.contains(&n_mels) {
        return Err(MelError::UnsupportedMelCount { n_mels });
    }
    let needed = n_mels * N_BINS;
    if out.len() != needed {
        return Err(MelError::OutputSize {
            needed,
            got: out.len(),
        });
    }
    let mut spans = [FilterSpan::default(); MAX_MELS];
    let mut weights = [0f32; filter_weights_len(MAX_MELS)];
    let built = build_filterbank(n_mels, &mut spans, &mut weights);
    debug_assert!(built.is_some(), "filterbank does not fit its area");
    out.fill(0.0);
    for (row, span) in out.chunks_exact_mut(N_BINS).zip(&spans) {
        let offset = usize::from(span.offset);
        let w = weights
            .get(offset..offset + usize::from(span.len))
            .unwrap_or_default();
        let bins = row
            .get_mut(usize::from(span.first_bin)..)
            .unwrap_or_default();
        for (b, &w) in bins.iter_mut().zip(w) {
            *b = w;
        }
    }
    Ok(())
}

/// The periodic Hann window of `N_FFT` (`torch.hann_window(400)`):
/// `w[t] = 0.5 − 0.5·cos(2πt/400)`, computed in f64 and rounded once, for `t <= 200`;
/// the window is symmetric, `w[400 − t] = w[t]` (the same bits as computing those from
/// their own angles: test `hann_window_is_each_angles`).
fn hann_window(window: &mut [f32]) {
    let (first, second) = window.split_at_mut(N_FFT / 2 + 1);
    for (t, w) in first.iter_mut().enumerate() {
        *w = hann_at(t);
    }
    // second[j] is t = 201 + j, mirroring 400 − t = 199 − j: first[1..200] backwards
    let mirror = first.get(1..N_FFT / 2).unwrap_or_default();
    for (w, &v) in second.iter_mut().zip(mirror.iter().rev()) {
        *w = v;
    }
}

/// Hann window value `t` from its angle.
fn hann_at(t: usize) -> f32 {
    let angle = 2.0 * core::f64::consts::PI * t as f64 / N_FFT as f64;
    (0.5 - 0.5 * libm::cos(angle)) as f32
}

/// Sample `index` of the reflect-padded signal (index `N_FFT/2` is the signal's first
/// sample): the signal is `samples` zero-padded or cut to `signal_len`; reflection
/// mirrors about the end samples without repeating them (`torch`'s `reflect`).
/// `signal_len > N_FFT/2` is the caller's check, so every reflected index is in range.
fn padded_sample(samples: &[f32], signal_len: usize, index: usize) -> f32 {
    let half = N_FFT / 2;
    let t = if index < half {
        half - index
    } else if index - half < signal_len {
        index - half
    } else {
        // 2·(L − 1) − (index − half), written so it cannot underflow when L > half.
        signal_len
            .saturating_mul(2)
            .saturating_sub((index - half).saturating_add(2))
    };
    samples.get(t).copied().unwrap_or(0.0)
}

/// Whisper's log-mel features of `samples` (16 kHz mono, any scale; Whisper's are in
/// [−1, 1]) into `out`, `[n_mels, frames]` row-major (`out[m·frames + t]`).
///
/// `frames`: how many 10 ms frames to compute; `samples.len() / 160` is Whisper's own
/// count for a clip, [`FRAMES_30S`] a 30 s window (zero-padded or cut, see the module
/// doc). `scratch`: at least [`log_mel_scratch_len`]`(n_mels)` elements, contents
/// irrelevant.
pub fn log_mel_spectrogram(
    samples: &[f32],
    frames: usize,
    n_mels: usize,
    out: &mut [f32],
    scratch: &mut [f32],
) -> Result<(), MelError> {
    if samples.is_empty() {
        return Err(MelError::NoSamples);
    }
    if frames == 0 {
        return Err(MelError::NoFrames);
    }
    if !SUPPORTED_MEL_COUNTS.contains(&n_mels) {
        return Err(MelError::UnsupportedMelCount { n_mels });
    }
    let needed = n_mels.checked_mul(frames).ok_or(MelError::TooManyFrames)?;
    if out.len() != needed {
        return Err(MelError::OutputSize {
            needed,
            got: out.len(),
        });
    }
    let scratch_len = log_mel_scratch_len(n_mels);
    if scratch.len() < scratch_len {
        return Err(MelError::ScratchTooShort {
            needed: scratch_len,
            got: scratch.len(),
        });
    }
    // The signal: zero-padded to frames·160 when shorter; when longer, the samples past
    // those the last frame reads (it ends at frames·160 + 40, reflection included) are
    // never read, so cutting at frames·160 + 159 (still `frames` frames) changes nothing.
    let padded_len = frames
        .checked_mul(HOP_LENGTH)
        .ok_or(MelError::TooManyFrames)?;
    let signal_len = samples
        .len()
        .clamp(padded_len, padded_len.saturating_add(HOP_LENGTH - 1));
    if signal_len <= N_FFT / 2 {
        return Err(MelError::SignalTooShort {
            samples: signal_len,
            needed: N_FFT / 2 + 1,
        });
    }
    let read = samples
        .get(..signal_len.min(samples.len()))
        .unwrap_or(samples);
    if let Some((index, _)) = (0..).zip(read).find(|(_, v)| !v.is_finite()) {
        return Err(MelError::NonFiniteSample { index });
    }

    // Scratch: [window 400 | twiddles 800 | frame 400 | work 800 | spectrum 402 | weights].
    // (Checked splits: the length test above makes them succeed, and the firmware's
    // link-time no-panic proof needs no optimiser insight to see it.)
    let too_short = MelError::ScratchTooShort {
        needed: scratch_len,
        got: scratch.len(),
    };
    let (window, rest) = scratch.split_at_mut_checked(WINDOW_LEN).ok_or(too_short)?;
    let (twiddles, rest) = rest.split_at_mut_checked(TWIDDLES_LEN).ok_or(too_short)?;
    let (frame, rest) = rest.split_at_mut_checked(FRAME_LEN).ok_or(too_short)?;
    let (work, rest) = rest.split_at_mut_checked(WORK_LEN).ok_or(too_short)?;
    let (spectrum, rest) = rest.split_at_mut_checked(SPECTRUM_LEN).ok_or(too_short)?;
    let weights = rest
        .get_mut(..filter_weights_len(n_mels))
        .ok_or(too_short)?;
    hann_window(window);
    let mut spans = [FilterSpan::default(); MAX_MELS];
    // Neither can fail for a supported n_mels and the sizes above (tested); were they to,
    // the output would be wrong, so say so rather than compute garbage.
    let built = fft::rfft_twiddles(N_FFT, twiddles)
        && build_filterbank(n_mels, &mut spans, weights).is_some();
    debug_assert!(built, "filterbank or twiddles do not fit their scratch");
    if !built {
        return Err(too_short);
    }

    // Pass 1: out[m, t] = log10(max(mel, 1e-10)) and its maximum.
    let mut max_log = f32::NEG_INFINITY;
    for t in 0..frames {
        // (wrapping: t < frames, and frames · HOP_LENGTH was checked above)
        let start = t.wrapping_mul(HOP_LENGTH);
        // Frame t is padded samples start .. start + 400, signal samples start − 200 ..
        // start + 200: read straight from `read` when they all lie in it (no reflection,
        // no zero padding), through `padded_sample` otherwise (the first two frames, the
        // last ones).
        let inside = start
            .checked_sub(N_FFT / 2)
            .and_then(|first| read.get(first..first.checked_add(N_FFT)?));
        match inside {
            Some(signal) => {
                // four at a time (N_FFT is a multiple of 4): fewer loop ends and
                // multi-register loads on a microcontroller
                let (frame4, _) = frame.as_chunks_mut::<4>();
                let (signal4, _) = signal.as_chunks::<4>();
                let (window4, _) = window.as_chunks::<4>();
                for ((f, x), w) in frame4.iter_mut().zip(signal4).zip(window4) {
                    *f = [x[0] * w[0], x[1] * w[1], x[2] * w[2], x[3] * w[3]];
                }
            }
            None => {
                for ((j, f), &w) in (0..FRAME_LEN).zip(frame.iter_mut()).zip(window.iter()) {
                    *f = padded_sample(read, signal_len, start.saturating_add(j)) * w;
                }
            }
        }
        let transformed = fft::rfft(frame, twiddles, work, spectrum);
        debug_assert!(transformed, "FFT buffers do not line up");
        // power |X[k]|² of bin k into frame[k] (the frame is spent)
        let (bins, _) = spectrum.as_chunks::<2>();
        for (p, &[re, im]) in frame.iter_mut().zip(bins) {
            *p = re * re + im * im;
        }
        let power = frame.get(..N_BINS).unwrap_or_default();
        // mel energies into the spent spectrum, then their logarithms (libm's `log10f`
        // bit for bit on every kernel; four lanes at a time on Helium)
        let mels = spectrum.get_mut(..n_mels).unwrap_or_default();
        for (mel, span) in mels.iter_mut().zip(spans.iter()) {
            let bins = power.get(usize::from(span.first_bin)..).unwrap_or_default();
            let offset = usize::from(span.offset);
            // (wrapping: the spans' offset and length are u16)
            let w = weights
                .get(offset..offset.wrapping_add(usize::from(span.len)))
                .unwrap_or_default();
            let sum: f32 = bins.iter().zip(w).map(|(p, w)| p * w).sum();
            *mel = sum.max(1e-10);
        }
        dispatch::log10(mels);
        // (wrapping: m < n_mels and t < frames, n_mels · frames checked above)
        for (m, &log) in (0..n_mels).zip(mels.iter()) {
            max_log = max_log.max(log);
            if let Some(o) = out.get_mut(m.wrapping_mul(frames).wrapping_add(t)) {
                *o = log;
            }
        }
    }
    // Pass 2: clamp 8 decades below the maximum, scale to about [−1, 1].
    let floor = max_log - 8.0;
    for v in out.iter_mut() {
        *v = (v.max(floor) + 4.0) / 4.0;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn hann_window_is_each_angles() {
        let mut window = [0f32; N_FFT];
        hann_window(&mut window);
        for (t, &w) in window.iter().enumerate() {
            assert_eq!(w.to_bits(), hann_at(t).to_bits(), "t = {t}");
        }
    }

    #[test]
    fn scratch_len_is_what_the_doc_says() {
        assert_eq!(log_mel_scratch_len(80), 3444);
        assert_eq!(log_mel_scratch_len(128), 3588);
    }

    #[test]
    fn filterbank_fits_its_area_and_covers_every_inner_bin() {
        for n_mels in SUPPORTED_MEL_COUNTS {
            let mut spans = [FilterSpan::default(); MAX_MELS];
            let mut weights = vec![0.0; filter_weights_len(n_mels)];
            assert!(build_filterbank(n_mels, &mut spans, &mut weights).is_some());
            // Every bin from 1 to 199 is covered by some filter with a positive weight
            // (librosa's 80/128 filters leave no gap over 0..8 kHz except the ends).
            let mut covered = [false; N_BINS];
            for s in spans.iter().take(n_mels) {
                for j in 0..usize::from(s.len) {
                    if weights[usize::from(s.offset) + j] > 0.0 {
                        covered[usize::from(s.first_bin) + j] = true;
                    }
                }
            }
            assert!(
                covered[1..N_BINS - 1].iter().all(|&c| c),
                "n_mels = {n_mels}"
            );
        }
    }

    #[test]
    fn dense_filterbank_refuses_bad_shapes() {
        let mut out = vec![0.0; 80 * N_BINS];
        assert_eq!(
            mel_filterbank(64, &mut out),
            Err(MelError::UnsupportedMelCount { n_mels: 64 })
        );
        assert_eq!(
            mel_filterbank(80, &mut out[1..]),
            Err(MelError::OutputSize {
                needed: 80 * N_BINS,
                got: 80 * N_BINS - 1
            })
        );
        assert_eq!(mel_filterbank(80, &mut out), Ok(()));
    }

    #[test]
    fn every_bad_input_has_its_own_error() {
        let mut scratch = vec![0.0; log_mel_scratch_len(80)];
        let samples = vec![0.1f32; 1600];
        let mut out = vec![0.0; 80 * 10];
        let call = |s: &[f32], frames, n_mels, out: &mut [f32], scratch: &mut [f32]| {
            log_mel_spectrogram(s, frames, n_mels, out, scratch)
        };
        assert_eq!(
            call(&[], 10, 80, &mut out, &mut scratch),
            Err(MelError::NoSamples)
        );
        assert_eq!(
            call(&samples, 0, 80, &mut out, &mut scratch),
            Err(MelError::NoFrames)
        );
        assert_eq!(
            call(&samples, 10, 64, &mut out, &mut scratch),
            Err(MelError::UnsupportedMelCount { n_mels: 64 })
        );
        assert_eq!(
            call(&samples, 10, 80, &mut out[1..], &mut scratch),
            Err(MelError::OutputSize {
                needed: 800,
                got: 799
            })
        );
        assert_eq!(
            call(&samples, usize::MAX / 2, 80, &mut out, &mut scratch),
            Err(MelError::TooManyFrames)
        );
        assert_eq!(
            call(&samples, 10, 80, &mut out, &mut scratch[1..]),
            Err(MelError::ScratchTooShort {
                needed: 3444,
                got: 3443
            })
        );
        assert_eq!(
            call(&samples[..100], 1, 80, &mut out[..80], &mut scratch),
            Err(MelError::SignalTooShort {
                samples: 160,
                needed: 201
            })
        );
        let mut bad = samples.clone();
        bad[1234] = f32::NAN;
        assert_eq!(
            call(&bad, 10, 80, &mut out, &mut scratch),
            Err(MelError::NonFiniteSample { index: 1234 })
        );
        // A NaN past what the frames read is not read: 1 frame reads samples[..319] at most.
        assert_eq!(call(&bad, 1, 80, &mut out[..80], &mut scratch), Ok(()));
        assert_eq!(call(&samples, 10, 80, &mut out, &mut scratch), Ok(()));
    }

    #[test]
    fn silence_is_the_floor_everywhere() {
        // All zeros: mel = 0 → log10(1e-10) = −10 everywhere, max − 8 = −18 below it,
        // (−10 + 4) / 4 = −1.5.
        let mut scratch = vec![0.0; log_mel_scratch_len(128)];
        let mut out = vec![0.0; 128 * 5];
        assert_eq!(
            log_mel_spectrogram(&[0.0; 800], 5, 128, &mut out, &mut scratch),
            Ok(())
        );
        assert!(out.iter().all(|&v| v == -1.5));
    }
}
