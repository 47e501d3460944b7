//! The engine's log-mel front end (`picoformer::audio`) against the golden features of
//! `tools/reference/logmel_reference.py` (float64 numpy, itself checked against
//! openai-whisper's `log_mel_spectrogram`): every case within 1e-4, absolute, on Whisper's
//! `(x + 4) / 4` scale, on a committed clip of espeak-ng speech.

use std::path::PathBuf;

use picoformer::audio::{log_mel_scratch_len, log_mel_spectrogram};
use picoformer_cli::npy::read_npy;
use serde_json::Value;

/// Absolute, on the (x + 4) / 4 scale (the acceptance bound). f32 STFT rounding
/// gives ~1e-5 here (measured, printed); whisper's own float32 torch path is 1.5e-5 off
/// the float64 reference (cases.json).
const TOLERANCE: f32 = 1e-4;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/logmel_speech")
}

/// The samples of a 16 kHz mono 16-bit PCM `.wav`, scaled to [−1, 1) as the reference
/// reads them (exact in f32).
fn read_wav_i16_mono_16k(bytes: &[u8]) -> Vec<f32> {
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(&bytes[8..12], b"WAVE");
    let mut pos = 12;
    let mut format_ok = false;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let len = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().unwrap()) as usize;
        let body = &bytes[pos + 8..pos + 8 + len];
        if id == b"fmt " {
            let channels = u16::from_le_bytes([body[2], body[3]]);
            let rate = u32::from_le_bytes(body[4..8].try_into().unwrap());
            let bits = u16::from_le_bytes([body[14], body[15]]);
            assert_eq!(
                (channels, rate, bits),
                (1, 16_000, 16),
                "16 kHz mono int16 expected"
            );
            format_ok = true;
        } else if id == b"data" {
            assert!(format_ok, "data before fmt");
            return body
                .chunks_exact(2)
                .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
                .collect();
        }
        pos += 8 + len + (len & 1);
    }
    panic!("no data chunk");
}

#[test]
fn features_match_the_reference_within_1e4() {
    let dir = golden_dir();
    let samples = read_wav_i16_mono_16k(&std::fs::read(dir.join("speech.wav")).unwrap());
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    assert_eq!(summary["samples"].as_u64().unwrap() as usize, samples.len());
    let cases = summary["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let n_mels = case["n_mels"].as_u64().unwrap() as usize;
        let frames = case["frames"].as_u64().unwrap() as usize;
        let given = case["samples"].as_u64().unwrap() as usize;
        let stored = case["stored_frames"].as_u64().unwrap() as usize;
        let golden = read_npy(&std::fs::read(dir.join(format!("{name}.npy"))).unwrap()).unwrap();
        assert_eq!(golden.shape, [n_mels, stored], "{name}");

        let mut scratch = vec![f32::NAN; log_mel_scratch_len(n_mels)];
        let mut out = vec![f32::NAN; n_mels * frames];
        log_mel_spectrogram(&samples[..given], frames, n_mels, &mut out, &mut scratch).unwrap();

        // out: [n_mels, frames]; golden: [n_mels, stored], the rest `tail_value`.
        let tail = case["tail_value"].as_f64().map(|v| v as f32);
        let mut worst = 0.0f32;
        for (m, row) in out.chunks(frames).enumerate() {
            for (t, &got) in row.iter().enumerate() {
                let want = if t < stored {
                    golden.data[m * stored + t]
                } else {
                    tail.expect("frames past the stored ones have a tail value")
                };
                let diff = (got - want).abs();
                assert!(
                    diff <= TOLERANCE,
                    "{name}: mel {m} frame {t}: {got} vs {want}"
                );
                worst = worst.max(diff);
            }
        }
        println!("{name}: [{n_mels}, {frames}] max |engine - reference| = {worst:.2e}");
    }
}

/// The engine's filterbank against a fingerprint of Whisper's own (`mel_filters.npz`,
/// librosa's, float32): per filter the weight sum, the peak and its bin. Both round the
/// same f64 formula to f32 at the same places, so the peaks agree to an ulp or two
/// (the reference script measures 5e-8 relative over the whole matrix) and the sums to
/// a few ulps of f32 summation.
#[test]
fn filterbank_matches_whispers() {
    use picoformer::audio::{mel_filterbank, N_BINS};
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(golden_dir().join("cases.json")).unwrap())
            .unwrap();
    for n_mels in [80usize, 128] {
        let want = &summary["whisper_filters"][n_mels.to_string()];
        let mut filters = vec![f32::NAN; n_mels * N_BINS];
        mel_filterbank(n_mels, &mut filters).unwrap();
        for (m, row) in filters.chunks(N_BINS).enumerate() {
            let sum: f64 = row.iter().map(|&w| f64::from(w)).sum();
            let (peak_bin, &peak) = row
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap();
            let want_sum = want["sum"][m].as_f64().unwrap();
            let want_peak = want["peak"][m].as_f64().unwrap();
            assert_eq!(
                peak_bin as u64,
                want["peak_bin"][m].as_u64().unwrap(),
                "{n_mels}/{m}"
            );
            assert!(
                (f64::from(peak) - want_peak).abs() <= 3e-7 * want_peak,
                "{n_mels}/{m}: peak {peak} vs {want_peak}"
            );
            assert!(
                (sum - want_sum).abs() <= 1e-6 * want_sum,
                "{n_mels}/{m}: sum {sum} vs {want_sum}"
            );
        }
    }
}
