//! Audio in for Whisper on the host: a WAV file of any common rate and sample format
//! (`hound`), downmixed to mono and resampled to 16 kHz (`rubato`), then Whisper's
//! log-mel features by the engine's own front end (`picoformer::audio`), cut into 30 s
//! windows.

use anyhow::{bail, ensure, Context};
use picoformer::audio::{log_mel_scratch_len, log_mel_spectrogram, FRAMES_30S, HOP_LENGTH};
use rubato::audioadapter::Adapter;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use std::path::Path;

/// Whisper's sample rate.
pub const SAMPLE_RATE: u32 = picoformer::audio::SAMPLE_RATE as u32;

/// The sample rates read: telephone 8 kHz and below down to 1 kHz, studio 768 kHz at
/// most. The resampler's FFT length grows with `rate / gcd(rate, 16000)`, so an absurd
/// header rate would ask it for gigabytes.
pub const RATES: core::ops::RangeInclusive<u32> = 1_000..=768_000;

/// Largest sample magnitude read (float WAVs are full scale at 1.0; this allows 60 dB
/// of overs): far larger finite values overflow the resampler's FFT into NaN, which it
/// answers with a panic.
pub const MAX_SAMPLE_MAGNITUDE: f32 = 1000.0;

/// Samples in one 30 s window.
pub const WINDOW_SAMPLES: usize = FRAMES_30S * HOP_LENGTH;

/// Interleaved samples of a WAV file scaled to [−1, 1], as read.
#[derive(Debug, Clone)]
pub struct Wav {
    /// Frames per second.
    pub rate: u32,
    /// Channels (interleaved in `samples`).
    pub channels: usize,
    /// `[frames, channels]`.
    pub samples: Vec<f32>,
}

/// Reads a WAV file: 8/16/24/32-bit integer PCM (scaled by 2^(bits−1), so 16-bit
/// samples become `i / 32768` as Whisper's ffmpeg path makes them) or 32-bit float.
pub fn read_wav(path: &Path) -> anyhow::Result<Wav> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    read_wav_from(std::io::BufReader::new(file), &path.display().to_string())
}

/// [`read_wav`] from any reader; `name` says what it reads in the errors.
pub fn read_wav_from(reader: impl std::io::Read, name: &str) -> anyhow::Result<Wav> {
    let context = || format!("reading {name}");
    let reader = hound::WavReader::new(reader)
        .map_err(wav_error)
        .with_context(context)?;
    let spec = reader.spec();
    ensure!(
        spec.channels > 0,
        "{}: the WAV header says 0 channels",
        name
    );
    ensure!(
        RATES.contains(&spec.sample_rate),
        "{}: the WAV header says {} samples per second; {} to {} are read",
        name,
        spec.sample_rate,
        RATES.start(),
        RATES.end()
    );
    let samples: Result<Vec<f32>, hound::Error> = match spec.sample_format {
        hound::SampleFormat::Float => {
            ensure!(
                spec.bits_per_sample == 32,
                "{}: {}-bit float samples; only 32-bit float or integer PCM is read",
                name,
                spec.bits_per_sample
            );
            reader.into_samples::<f32>().collect()
        }
        hound::SampleFormat::Int => {
            ensure!(
                (1..=32).contains(&spec.bits_per_sample),
                "{}: {}-bit integer samples",
                name,
                spec.bits_per_sample
            );
            let scale = 1.0 / f64::from(1u32 << (spec.bits_per_sample - 1));
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|s| (f64::from(s) * scale) as f32))
                .collect()
        }
    };
    let samples = samples.map_err(wav_error).with_context(context)?;
    if let Some(index) = samples.iter().position(|s| !s.is_finite()) {
        bail!("{}: sample {index} is not a finite number", name);
    }
    if let Some(index) = samples.iter().position(|s| s.abs() > MAX_SAMPLE_MAGNITUDE) {
        bail!(
            "{}: sample {index} is {:e}, beyond ±{MAX_SAMPLE_MAGNITUDE} (full scale is ±1)",
            name,
            samples[index]
        );
    }
    Ok(Wav {
        rate: spec.sample_rate,
        channels: usize::from(spec.channels),
        samples,
    })
}

/// hound's errors in a WAV reader's terms (its `Display` says "Ill-formed WAVE file" and
/// the like; this adds what to do about an unsupported one).
fn wav_error(e: hound::Error) -> anyhow::Error {
    match e {
        hound::Error::IoError(e) => anyhow::Error::new(e),
        hound::Error::Unsupported => {
            anyhow::anyhow!("unsupported WAV encoding (PCM integer or 32-bit float only; convert it with e.g. `ffmpeg -i IN -ar 16000 -ac 1 OUT.wav`)")
        }
        other => anyhow::anyhow!("not a readable WAV file: {other}"),
    }
}

/// The mean of the channels of each frame (what ffmpeg's `-ac 1` does for stereo).
pub fn downmix(wav: &Wav) -> Vec<f32> {
    if wav.channels == 1 {
        return wav.samples.clone();
    }
    let scale = 1.0 / wav.channels as f32;
    wav.samples
        .chunks_exact(wav.channels)
        .map(|frame| frame.iter().sum::<f32>() * scale)
        .collect()
}

/// `mono` at `rate` resampled to 16 kHz with rubato's synchronous FFT resampler
/// (band-limited, Blackman-Harris anti-aliasing; its start-up delay trimmed, so sample
/// `i` stays at time `i / rate`). 16 kHz input is returned unchanged.
pub fn resample_to_16k(mono: &[f32], rate: u32) -> anyhow::Result<Vec<f32>> {
    if rate == SAMPLE_RATE || mono.is_empty() {
        return Ok(mono.to_vec());
    }
    let mut resampler = Fft::<f32>::new(
        rate as usize,
        SAMPLE_RATE as usize,
        1024,
        1,
        FixedSync::Input,
    )
    .with_context(|| format!("resampling {rate} Hz to {SAMPLE_RATE} Hz"))?;
    let input = InterleavedSlice::new(mono, 1, mono.len())
        .map_err(|e| anyhow::anyhow!("resampling: {e}"))?;
    let output = resampler
        .process_all(&input, mono.len(), None)
        .with_context(|| format!("resampling {rate} Hz to {SAMPLE_RATE} Hz"))?;
    Ok((0..output.frames())
        .map(|frame| output.read_sample(0, frame).unwrap_or(0.0))
        .collect())
}

/// A WAV file as Whisper hears it: mono 16 kHz samples in [−1, 1].
pub fn read_16k_mono(path: &Path) -> anyhow::Result<Vec<f32>> {
    to_16k_mono(&read_wav(path)?, &path.display().to_string())
}

/// [`read_16k_mono`] of a WAV already read (`name` for the errors).
pub fn to_16k_mono(wav: &Wav, name: &str) -> anyhow::Result<Vec<f32>> {
    ensure!(
        !wav.samples.is_empty(),
        "{name}: the WAV file holds no samples"
    );
    resample_to_16k(&downmix(wav), wav.rate).with_context(|| name.to_string())
}

/// Whisper's features of `samples` (16 kHz mono) in 30 s windows of [`FRAMES_30S`]
/// frames, each `[frames, n_mels]` time-major as the engine's stem reads them
/// (`Source::Frames`).
///
/// As openai-whisper's `transcribe()` computes them: one spectrogram over the whole clip
/// followed by 30 s of zeros (so the `max − 8` clamp is the clip's, not each window's),
/// cut into consecutive windows from frame 0 while any audio is left. Consecutive
/// windows are also where Whisper moves on after a window decoded without timestamps
/// (the `<|notimestamps|>` prompt used here); with timestamps it would restart at the
/// last complete segment instead.
pub fn mel_windows(samples: &[f32], n_mels: usize) -> anyhow::Result<Vec<Vec<f32>>> {
    ensure!(!samples.is_empty(), "no audio samples");
    let audio_frames = samples.len() / HOP_LENGTH;
    let frames = audio_frames
        .checked_add(FRAMES_30S)
        .context("audio too long")?;
    let len = n_mels.checked_mul(frames).context("audio too long")?;
    let mut mel = vec![0f32; len]; // [n_mels, frames]
    let mut scratch = vec![0f32; log_mel_scratch_len(n_mels)];
    log_mel_spectrogram(samples, frames, n_mels, &mut mel, &mut scratch)
        .map_err(|e| anyhow::anyhow!("log-mel features: {e}"))?;
    // At least one window; a clip whose length is a multiple of 30 s gets no empty extra.
    let windows = audio_frames.div_ceil(FRAMES_30S).max(1);
    Ok((0..windows)
        .map(|w| {
            let start = w * FRAMES_30S;
            let mut window = vec![0f32; FRAMES_30S * n_mels]; // [FRAMES_30S, n_mels]
            for (bin, row) in mel.chunks_exact(frames).enumerate() {
                for (t, &v) in row[start..start + FRAMES_30S].iter().enumerate() {
                    window[t * n_mels + bin] = v;
                }
            }
            window
        })
        .collect())
}
