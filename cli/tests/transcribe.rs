//! `picoformer transcribe` inputs without the pretrained checkpoint (those runs are in
//! `tests/pretrained.rs`): WAV reading, downmixing and resampling (`picoformer_cli::wav`),
//! the 30 s windows against the golden features of `tools/reference/logmel_reference.py`,
//! the `.npy` shapes `--mel` accepts, and the command line end to end on a tiny random
//! model of Whisper's shape (80 mel bins, 1500 encoder positions, Whisper's vocabulary
//! size): the same tokens from `--wav` as from `--mel` of the same features, and one-line
//! errors for bad input.

use picoformer::audio::FRAMES_30S;
use picoformer::blob::{slot, slot_count};
use picoformer::config::NormKind;
use picoformer::{Activation, Config, Dims, FeedForward, Norm, Positional};
use picoformer_cli::npy::{read_npy, Array};
use picoformer_cli::pretrained::mel_array_frames;
use picoformer_cli::wav::{self, Wav};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/logmel_speech")
}

fn speech_wav() -> PathBuf {
    golden_dir().join("speech.wav")
}

fn tmp(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("transcribe_{name}"))
}

/// A C-ordered `<f4` `.npy` (format 1.0).
fn write_npy(path: &Path, shape: &[usize], data: &[f32]) {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in data {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

/// The committed clip's 16 kHz mono samples, read with hound independently of the
/// module under test.
fn speech_samples() -> Vec<f32> {
    let mut reader = hound::WavReader::open(speech_wav()).unwrap();
    assert_eq!(reader.spec().sample_rate, 16_000);
    assert_eq!(reader.spec().channels, 1);
    reader
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect()
}

/// The golden 30 s window of the clip (`window_80`), `[80, 3000]`: the stored frames and
/// the constant tail.
fn golden_window() -> Vec<f32> {
    let cases: Value =
        serde_json::from_str(&std::fs::read_to_string(golden_dir().join("cases.json")).unwrap())
            .unwrap();
    let case = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "window_80")
        .unwrap();
    let tail = case["tail_value"].as_f64().unwrap() as f32;
    let stored = read_npy(&std::fs::read(golden_dir().join("window_80.npy")).unwrap()).unwrap();
    let kept = stored.shape[1];
    let mut out = vec![tail; 80 * FRAMES_30S];
    for (bin, row) in stored.data.chunks_exact(kept).enumerate() {
        out[bin * FRAMES_30S..bin * FRAMES_30S + kept].copy_from_slice(row);
    }
    out
}

/// `[frames, bins]` (the engine's layout) back to `[bins, frames]`.
fn bins_major(frames_major: &[f32], bins: usize) -> Vec<f32> {
    let frames = frames_major.len() / bins;
    let mut out = vec![0f32; frames_major.len()];
    for (t, row) in frames_major.chunks_exact(bins).enumerate() {
        for (m, &v) in row.iter().enumerate() {
            out[m * frames + t] = v;
        }
    }
    out
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn wav_reads_the_clip_as_whisper_does() {
    let samples = wav::read_16k_mono(&speech_wav()).unwrap();
    assert_eq!(samples, speech_samples());
}

#[test]
fn the_first_window_matches_the_golden_features() {
    let windows = wav::mel_windows(&speech_samples(), 80).unwrap();
    assert_eq!(windows.len(), 1);
    let got = bins_major(&windows[0], 80);
    let worst = max_abs_diff(&got, &golden_window());
    eprintln!("30 s window vs the reference: max |diff| {worst:e}");
    assert!(worst <= 1e-4, "{worst}");
}

#[test]
fn long_audio_is_cut_into_consecutive_30s_windows() {
    let speech = speech_samples();
    let per_window = wav::WINDOW_SAMPLES;
    // 30 s exactly: one window, no empty second one.
    let mut exact = vec![0f32; per_window];
    exact[..speech.len()].copy_from_slice(&speech);
    assert_eq!(wav::mel_windows(&exact, 80).unwrap().len(), 1);
    // 65 s with the clip at the start of the third window: three windows; the third
    // begins as the clip's own spectrogram does (the clamp, max − 8, is the whole clip's,
    // and the clip is the only sound, so its window's features are the clip's).
    let mut long = vec![0f32; 65 * 16_000];
    long[2 * per_window..2 * per_window + speech.len()].copy_from_slice(&speech);
    let windows = wav::mel_windows(&long, 80).unwrap();
    assert_eq!(windows.len(), 3);
    let third = bins_major(&windows[2], 80);
    let golden = golden_window();
    // From frame 2 (frames 0 and 1 reach before the clip: reflection alone, silence in
    // the long input) to 5 s.
    let first_frames = |w: &[f32]| -> Vec<f32> {
        w.chunks_exact(FRAMES_30S)
            .flat_map(|row| row[2..500].to_vec())
            .collect()
    };
    let worst = max_abs_diff(&first_frames(&third), &first_frames(&golden));
    assert!(
        worst <= 1e-4,
        "third window vs the clip's features: {worst}"
    );
    // The first two windows are silence at the clamp floor.
    let floor = golden[80 * FRAMES_30S - 1];
    assert!(windows[0].iter().all(|&v| (v - floor).abs() <= 1e-4));
}

/// The clip at 44.1 kHz in stereo 16-bit (upsampled with the same resampler, the right
/// channel at half amplitude, written with hound).
fn write_44k_stereo(path: &Path) {
    let speech = speech_samples();
    let mut up =
        rubato::Fft::<f32>::new(16_000, 44_100, 1024, 1, rubato::FixedSync::Input).unwrap();
    use rubato::Resampler;
    let input =
        rubato::audioadapter_buffers::direct::InterleavedSlice::new(&speech, 1, speech.len())
            .unwrap();
    let up = up
        .process_all(&input, speech.len(), None)
        .unwrap()
        .take_data();
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    let to_i16 = |v: f32| (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
    for &v in &up {
        writer.write_sample(to_i16(v)).unwrap();
        writer.write_sample(to_i16(v * 0.5)).unwrap();
    }
    writer.finalize().unwrap();
}

/// A 44.1 kHz stereo file reads back as nearly the clip: the two resamplings are
/// band-limited, so the top of the band and the i16 rounding differ, nothing else.
#[test]
fn a_44k_stereo_wav_gives_nearly_the_same_features() {
    let path = tmp("44k_stereo.wav");
    write_44k_stereo(&path);
    let wav = wav::read_wav(&path).unwrap();
    assert_eq!((wav.rate, wav.channels), (44_100, 2));
    let samples = wav::read_16k_mono(&path).unwrap();
    let speech = speech_samples();
    // Mean of the channels: 0.75 of the clip. Length within one sample of the clip's.
    assert!(
        samples.len().abs_diff(speech.len()) <= 1,
        "{}",
        samples.len()
    );
    let n = samples.len().min(speech.len());
    let errors: Vec<f32> = samples[..n]
        .iter()
        .zip(&speech[..n])
        .map(|(a, b)| a - 0.75 * b)
        .collect();
    let rms = |v: &mut dyn Iterator<Item = f32>| {
        let (sum, count) = v.fold((0.0f64, 0usize), |(s, c), x| (s + f64::from(x * x), c + 1));
        (sum / count as f64).sqrt()
    };
    let error_rms = rms(&mut errors.iter().copied());
    let signal_rms = rms(&mut speech[..n].iter().map(|s| 0.75 * s));
    let worst_at = (0..n)
        .max_by(|&i, &j| errors[i].abs().total_cmp(&errors[j].abs()))
        .unwrap();
    eprintln!(
        "44.1 kHz stereo round trip: error rms {error_rms:e} vs signal rms {signal_rms:e}, worst {} at sample {worst_at} of {n}",
        errors[worst_at]
    );
    // Features of the mono mix against those of the clip scaled by 0.75 (the gain alone
    // would shift the log features by log10(0.75²)/4 = −0.062).
    let scaled: Vec<f32> = speech.iter().map(|s| 0.75 * s).collect();
    let a = wav::mel_windows(&samples, 80).unwrap();
    let b = wav::mel_windows(&scaled, 80).unwrap();
    // Per mel bin: the anti-aliasing filters of the two resamplings (rubato's
    // Blackman-Harris low-pass, as any resampler has one) remove the top of the band,
    // so the three highest bins (7.4–8 kHz) differ (measured up to 0.92 in bin 79);
    // below, the resampled clip has the clip's features within 0.02 (docs/pretrained.md
    // states the measured figures; the test checks them).
    let (a, b) = (bins_major(&a[0], 80), bins_major(&b[0], 80));
    let per_bin: Vec<f32> = (0..80)
        .map(|m| {
            let row = m * FRAMES_30S..(m + 1) * FRAMES_30S;
            max_abs_diff(&a[row.clone()], &b[row])
        })
        .collect();
    let below = per_bin[..77].iter().copied().fold(0.0, f32::max);
    eprintln!(
        "44.1 kHz stereo round trip: features max |diff| {below:e} in bins 0-76, {:?} in bins 77-79",
        &per_bin[77..]
    );
    assert!(below <= 0.02, "{per_bin:?}");
    // docs/pretrained.md states both measurements.
    let top = per_bin[77..].iter().copied().fold(0.0, f32::max);
    let page = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/pretrained.md"),
    )
    .unwrap();
    let page = page.split_whitespace().collect::<Vec<_>>().join(" ");
    for figure in [
        format!("(its features within {below:.4} below 7.4 kHz;"),
        format!("the top three mel bins by up to {top:.2}:"),
    ] {
        assert!(
            page.contains(&figure),
            "docs/pretrained.md should say \"{figure}\" (what this test measures)"
        );
    }
    // And the samples: no delay (the error is smallest at lag 0) and an error of about
    // a tenth of the signal (the removed top band; measured rms 0.0049 vs 0.059).
    let lag_error = |lag: usize| -> f64 {
        (10..n - 10)
            .map(|i| f64::from(samples[i] - 0.75 * speech[i + lag - 1]).powi(2))
            .sum()
    };
    assert!(lag_error(1) < lag_error(0) && lag_error(1) < lag_error(2));
    assert!(
        error_rms <= 0.15 * signal_rms,
        "{error_rms} vs {signal_rms}"
    );
}

#[test]
fn other_sample_formats_read_as_the_same_samples() {
    let speech = speech_samples();
    for (bits, format) in [
        (8, hound::SampleFormat::Int),
        (24, hound::SampleFormat::Int),
        (32, hound::SampleFormat::Int),
        (32, hound::SampleFormat::Float),
    ] {
        let path = tmp(&format!("format_{bits}_{format:?}.wav"));
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: bits,
            sample_format: format,
        };
        let mut writer = hound::WavWriter::create(&path, spec).unwrap();
        for &s in &speech {
            match (format, bits) {
                (hound::SampleFormat::Float, _) => writer.write_sample(s).unwrap(),
                (_, 8) => writer.write_sample((s * 128.0).round() as i8).unwrap(),
                _ => writer
                    .write_sample((f64::from(s) * f64::from(1u32 << (bits - 1))) as i32)
                    .unwrap(),
            }
        }
        writer.finalize().unwrap();
        let got = wav::read_16k_mono(&path).unwrap();
        let tolerance = if bits == 8 { 1.0 / 128.0 } else { 0.0 };
        let worst = max_abs_diff(&got, &speech);
        assert!(worst <= tolerance, "{bits}-bit {format:?}: {worst}");
    }
}

#[test]
fn downmix_is_the_mean_of_the_channels() {
    let wav = Wav {
        rate: 8_000,
        channels: 3,
        samples: vec![0.3, 0.6, 0.0, -1.0, 1.0, 0.5],
    };
    let mono = wav::downmix(&wav);
    assert_eq!(mono.len(), 2);
    assert!((mono[0] - 0.3).abs() < 1e-7 && (mono[1] - 1.0 / 6.0).abs() < 1e-7);
}

fn array(shape: &[usize]) -> Array {
    let len = shape.iter().product();
    Array {
        shape: shape.to_vec(),
        data: (0..len).map(|i| i as f32).collect(),
    }
}

#[test]
fn mel_accepts_bins_frames_and_a_batch_of_one() {
    let plain = mel_array_frames(&array(&[80, 7]), 80).unwrap();
    assert_eq!(plain.len(), 560);
    // Time-major: frame 1 of bin 0 is value 1, bin 1 of frame 0 is value 7.
    assert_eq!((plain[80], plain[1]), (1.0, 7.0));
    assert_eq!(mel_array_frames(&array(&[1, 80, 7]), 80).unwrap(), plain);
    assert_eq!(mel_array_frames(&array(&[128, 7]), 128).unwrap().len(), 896);
    assert_eq!(
        mel_array_frames(&array(&[1, 128, 7]), 128).unwrap().len(),
        896
    );
}

#[test]
fn mel_rejects_wrong_shapes_by_name() {
    let error =
        |shape: &[usize], bins| format!("{:#}", mel_array_frames(&array(shape), bins).unwrap_err());
    assert!(error(&[2, 80, 7], 80).contains("batch of 2 spectrograms"));
    assert!(error(&[80], 80).contains("expected [mel bins, frames] or [1, mel bins, frames]"));
    assert!(error(&[1, 1, 80, 7], 80).contains("expected [mel bins, frames]"));
    assert!(
        error(&[128, 7], 80).contains("128 mel bins (shape [128, 7]), the model's stem reads 80")
    );
    assert!(error(&[1, 80, 7], 128).contains("80 mel bins"));
    assert!(error(&[80, 0], 80).contains("no frames"));
    // Data that does not fill the shape (a hand-made array).
    let short = Array {
        shape: vec![80, 7],
        data: vec![0.0; 10],
    };
    assert!(format!("{:#}", mel_array_frames(&short, 80).unwrap_err()).contains("10 values"));
}

/// A random model of Whisper's shape (tiny widths): 80-bin stem, 1500 encoder positions,
/// Whisper's multilingual vocabulary and special tokens, 12 decoder positions.
fn tiny_whisper(path: &Path) {
    let config = Config {
        dims: Dims {
            d_model: 8,
            n_heads: 2,
            d_ff: 16,
            n_encoder_layers: 1,
            n_decoder_layers: 1,
            src_vocab: 0,
            tgt_vocab: 51865,
            max_src_len: 1500,
            max_tgt_len: 12,
            type_vocab: 0,
            stem_channels: 80,
            n_kv_heads: 2,
            feed_forward: FeedForward::Plain,
            kv_cache: picoformer::config::CacheType::F32,
        },
        norm: Norm::Pre,
        activation: Activation::Gelu,
        positional: Positional::Learned,
        layer_norm_eps: 1e-5,
        norm_kind: NormKind::LayerNorm,
        rope_theta: 0.0,
        scale_embeddings: false,
        tie_output: true,
        final_norm: true,
        src_embed_norm: false,
        bos_id: 50258,
        eos_id: 50257,
        pad_id: 50257,
    };
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let tensors: Vec<Vec<f32>> = (0..slot_count(&config.dims))
        .map(|i| {
            let slot = slot(&config, i).unwrap().unwrap();
            (0..slot.len).map(|_| random()).collect()
        })
        .collect();
    let blob =
        picoformer_cli::blob_writer::write_blob(&config, |i, _| Some(&tensors[i][..])).unwrap();
    std::fs::write(path, blob).unwrap();
}

fn picoformer(args: &[&Path]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_picoformer"))
        .args(args)
        .output()
        .unwrap()
}

fn tokens_of(out: &std::process::Output) -> Vec<u32> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    serde_json::from_value(json["tokens"].clone()).unwrap()
}

/// Runs `transcribe` and returns its one-line error (exit 1, not a panic's 101).
fn error_of(args: &[&Path]) -> String {
    let out = picoformer(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    stderr
}

#[test]
fn cli_wav_and_mel_of_the_same_features_decode_alike() {
    let model = tmp("tiny_whisper.pfm");
    tiny_whisper(&model);
    let transcribe = Path::new("transcribe");
    let (wav_flag, mel_flag, json) = (Path::new("--wav"), Path::new("--mel"), Path::new("--json"));
    let from_wav = tokens_of(&picoformer(&[
        transcribe,
        &model,
        wav_flag,
        &speech_wav(),
        json,
    ]));
    assert!(!from_wav.is_empty());
    // The same features through `--mel`, both shapes.
    let window = bins_major(&wav::mel_windows(&speech_samples(), 80).unwrap()[0], 80);
    let mel = tmp("speech_mel.npy");
    write_npy(&mel, &[80, FRAMES_30S], &window);
    let batch = tmp("speech_mel_batch.npy");
    write_npy(&batch, &[1, 80, FRAMES_30S], &window);
    assert_eq!(
        tokens_of(&picoformer(&[transcribe, &model, mel_flag, &mel, json])),
        from_wav
    );
    assert_eq!(
        tokens_of(&picoformer(&[transcribe, &model, mel_flag, &batch, json])),
        from_wav
    );
    // No tokenizer beside the model: token ids on stdout, a note on stderr.
    let plain = picoformer(&[transcribe, &model, wav_flag, &speech_wav()]);
    assert!(plain.status.success());
    assert_eq!(
        String::from_utf8_lossy(&plain.stdout).trim(),
        format!("{from_wav:?}")
    );
    assert!(String::from_utf8_lossy(&plain.stderr).contains("no tokenizer"));

    // A long input: 65 s, three windows, each decoded.
    let long = tmp("long.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&long, spec).unwrap();
    for i in 0..65 * 16_000 {
        writer.write_sample(((i % 50) as i16 - 25) * 100).unwrap();
    }
    writer.finalize().unwrap();
    let out = picoformer(&[transcribe, &model, wav_flag, &long, json]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let windows = json["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 3);
    let all: Vec<u32> = windows
        .iter()
        .flat_map(|w| serde_json::from_value::<Vec<u32>>(w.clone()).unwrap())
        .collect();
    assert_eq!(
        serde_json::from_value::<Vec<u32>>(json["tokens"].clone()).unwrap(),
        all
    );
}

#[test]
fn cli_bad_audio_and_spectrograms_are_one_line_errors() {
    let model = tmp("tiny_whisper_errors.pfm");
    tiny_whisper(&model);
    let transcribe = Path::new("transcribe");
    let (wav_flag, mel_flag) = (Path::new("--wav"), Path::new("--mel"));
    let run = |flag: &Path, input: &Path| error_of(&[transcribe, &model, flag, input]);

    let missing = tmp("missing.wav");
    assert!(run(wav_flag, &missing).contains("reading"));

    let not_wav = tmp("not_a.wav");
    std::fs::write(&not_wav, b"this is not audio at all, just text").unwrap();
    assert!(run(wav_flag, &not_wav).contains("not a readable WAV file"));

    let empty = tmp("empty.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    hound::WavWriter::create(&empty, spec)
        .unwrap()
        .finalize()
        .unwrap();
    assert!(run(wav_flag, &empty).contains("holds no samples"));

    // The clip cut off inside its data chunk.
    let truncated = tmp("truncated.wav");
    let bytes = std::fs::read(speech_wav()).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2 + 1]).unwrap();
    let message = run(wav_flag, &truncated);
    assert!(
        message.contains(&truncated.display().to_string()),
        "{message}"
    );

    // A mono WAV of 16 zero bytes, header written by hand.
    let hand_made = |name: &str, format: u16, rate: u32, bits: u16| {
        let path = tmp(name);
        let block = bits / 8;
        let mut header = Vec::new();
        header.extend_from_slice(b"RIFF");
        header.extend_from_slice(&(36u32 + 16).to_le_bytes());
        header.extend_from_slice(b"WAVEfmt ");
        header.extend_from_slice(&16u32.to_le_bytes());
        header.extend_from_slice(&format.to_le_bytes());
        header.extend_from_slice(&1u16.to_le_bytes()); // mono
        header.extend_from_slice(&rate.to_le_bytes());
        header.extend_from_slice(&rate.wrapping_mul(u32::from(block)).to_le_bytes());
        header.extend_from_slice(&block.to_le_bytes());
        header.extend_from_slice(&bits.to_le_bytes());
        header.extend_from_slice(b"data");
        header.extend_from_slice(&16u32.to_le_bytes());
        header.extend_from_slice(&[0u8; 16]);
        std::fs::write(&path, header).unwrap();
        path
    };
    // 64-bit float samples (format tag 3): hound reads none.
    let message = run(wav_flag, &hand_made("f64.wav", 3, 16_000, 64));
    assert!(message.contains("not a readable WAV file"), "{message}");
    // A rate no recording has, which would size the resampler's FFT in gigabytes.
    let message = run(wav_flag, &hand_made("rate.wav", 1, 2_000_000_011, 16));
    assert!(
        message.contains("2000000011 samples per second; 1000 to 768000 are read"),
        "{message}"
    );
    // The same header at a rate read: a valid (silent) WAV, to show the two above fail
    // for the field they change.
    let silent = picoformer(&[
        transcribe,
        &model,
        wav_flag,
        &hand_made("silent.wav", 1, 22_050, 16),
    ]);
    assert!(
        silent.status.success(),
        "{}",
        String::from_utf8_lossy(&silent.stderr)
    );

    // A float WAV holding NaN.
    let nan = tmp("nan.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(&nan, spec).unwrap();
    for s in [0.0, 0.1, f32::NAN, 0.2] {
        writer.write_sample(s).unwrap();
    }
    writer.finalize().unwrap();
    assert!(run(wav_flag, &nan).contains("sample 2 is not a finite number"));

    let batch = tmp("batch2.npy");
    write_npy(&batch, &[2, 80, 5], &[0.0; 800]);
    assert!(run(mel_flag, &batch).contains("batch of 2 spectrograms"));
    let no_frames = tmp("no_frames.npy");
    write_npy(&no_frames, &[80, 0], &[]);
    assert!(run(mel_flag, &no_frames).contains("no frames"));
    let too_long = tmp("frames3002.npy");
    write_npy(&too_long, &[1, 80, 3002], &vec![0.0; 80 * 3002]);
    assert!(run(mel_flag, &too_long).contains("3002 frames; the model reads at most 3000"));
    let wrong_bins = tmp("bins128.npy");
    write_npy(&wrong_bins, &[128, 5], &[0.0; 640]);
    assert!(run(mel_flag, &wrong_bins).contains("the model's stem reads 80"));
}

/// A word-level `tokenizer.json` naming every id of Whisper's vocabulary `w<id>`.
fn word_tokenizer(path: &Path) {
    let vocab: serde_json::Map<String, Value> = (0..51865u32)
        .map(|i| (format!("w{i}"), Value::from(i)))
        .collect();
    let json = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
        "normalizer": null, "pre_tokenizer": null, "post_processor": null, "decoder": null,
        "model": { "type": "WordLevel", "vocab": vocab, "unk_token": "w0" }
    });
    std::fs::write(path, json.to_string()).unwrap();
}

#[test]
fn cli_finds_the_tokenizer_beside_the_model() {
    let model = tmp("tiny_whisper_text.pfm");
    tiny_whisper(&model);
    let sidecar = picoformer_cli::tokenizer_sidecar(&model);
    assert_eq!(
        sidecar.file_name().unwrap(),
        "transcribe_tiny_whisper_text.pfm.tokenizer.json"
    );
    word_tokenizer(&sidecar);
    let transcribe = Path::new("transcribe");
    let (wav_flag, speech) = (Path::new("--wav"), speech_wav());
    let tokens = tokens_of(&picoformer(&[
        transcribe,
        &model,
        wav_flag,
        &speech,
        Path::new("--json"),
    ]));
    let words: Vec<String> = tokens.iter().map(|t| format!("w{t}")).collect();
    // Text by default, from the tokenizer beside the model.
    let text = picoformer(&[transcribe, &model, wav_flag, &speech]);
    assert!(text.status.success());
    assert_eq!(
        String::from_utf8_lossy(&text.stdout).trim(),
        words.join(" ")
    );
    // --tokens: the ids instead.
    let ids = picoformer(&[transcribe, &model, wav_flag, &speech, Path::new("--tokens")]);
    assert_eq!(
        String::from_utf8_lossy(&ids.stdout).trim(),
        format!("{tokens:?}")
    );
    // A broken tokenizer beside the model is an error before any decoding, not ids.
    std::fs::write(&sidecar, "{ not json").unwrap();
    let message = error_of(&[transcribe, &model, wav_flag, &speech]);
    assert!(
        message.contains(&sidecar.display().to_string()),
        "{message}"
    );
    // --tokenizer wins over the file beside the model.
    let other = tmp("other_tokenizer.json");
    word_tokenizer(&other);
    let text = picoformer(&[
        transcribe,
        &model,
        wav_flag,
        &speech,
        Path::new("--tokenizer"),
        &other,
    ]);
    assert!(
        text.status.success(),
        "{}",
        String::from_utf8_lossy(&text.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&text.stdout).trim(),
        words.join(" ")
    );
    std::fs::remove_file(&sidecar).unwrap();
}

/// Corrupt WAVs never panic nor allocate without bound: 3,000 variants of the committed
/// clip, with bytes of the header (the first 64) or anywhere overwritten, or cut short,
/// each read, downmixed, resampled and (one in 25) turned into features, must give
/// samples or an error.
#[test]
fn corrupt_wavs_are_errors_not_panics() {
    let clip = std::fs::read(speech_wav()).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut read, mut refused) = (0, 0);
    const CASES: usize = 3000;
    for case in 0..CASES {
        let mut bytes = clip.clone();
        for _ in 0..1 + next() % 4 {
            let span = if next() % 4 == 0 { bytes.len() } else { 64 };
            let at = (next() % span as u64) as usize;
            bytes[at] = next() as u8;
        }
        if next() % 5 == 0 {
            bytes.truncate((next() % bytes.len() as u64) as usize);
        }
        let name = format!("case {case}");
        let result = wav::read_wav_from(std::io::Cursor::new(&bytes), &name)
            .and_then(|w| wav::to_16k_mono(&w, &name))
            .and_then(|samples| {
                if case % 25 == 0 {
                    wav::mel_windows(&samples, 80)?;
                }
                Ok(samples)
            });
        match result {
            Ok(samples) => {
                assert!(samples.iter().all(|s| s.is_finite()), "{name}");
                read += 1;
            }
            Err(e) => {
                assert!(format!("{e:#}").contains(&name));
                refused += 1;
            }
        }
    }
    eprintln!("corrupt WAVs: {read} read, {refused} refused");
    assert!(read > 0 && refused > 0);
    // docs/pretrained.md states how many variants this test reads.
    let page = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/pretrained.md"),
    )
    .unwrap();
    let page = page.split_whitespace().collect::<Vec<_>>().join(" ");
    let figure = format!("{},{:03} corrupted variants", CASES / 1000, CASES % 1000);
    assert!(
        page.contains(&figure),
        "docs/pretrained.md should say \"{figure}\" (what this test reads)"
    );
}

/// `convert --tokenizer` copies a tokenizer beside the blob (any `--from`); an unreadable
/// one stops the conversion before anything is written.
#[test]
fn convert_writes_the_tokenizer_beside_the_blob() {
    let golden = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/tied");
    let tokenizer = tmp("convert_tokenizer.json");
    word_tokenizer(&tokenizer);
    let out = tmp("convert_tied.pfm");
    let sidecar = picoformer_cli::tokenizer_sidecar(&out);
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&sidecar);
    let convert = |tokenizer: &Path| {
        Command::new(env!("CARGO_BIN_EXE_picoformer"))
            .args(["convert", "--from", "torch"])
            .arg(golden.join("weights.safetensors"))
            .arg("--config")
            .arg(golden.join("config.json"))
            .arg("--tokenizer")
            .arg(tokenizer)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap()
    };
    let ok = convert(&tokenizer);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(
        std::fs::read(&sidecar).unwrap(),
        std::fs::read(&tokenizer).unwrap()
    );
    std::fs::remove_file(&out).unwrap();
    std::fs::remove_file(&sidecar).unwrap();
    let broken = tmp("convert_broken_tokenizer.json");
    std::fs::write(&broken, "{ not json").unwrap();
    let failed = convert(&broken);
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("convert_broken_tokenizer.json"), "{stderr}");
    assert!(!out.exists() && !sidecar.exists());
}

#[test]
fn cli_audio_context_encodes_the_first_2n_frames() {
    let model = tmp("tiny_whisper_context.pfm");
    tiny_whisper(&model);
    let transcribe = Path::new("transcribe");
    let (wav_flag, json) = (Path::new("--wav"), Path::new("--json"));
    let speech = speech_wav();
    let run = |extra: &[&str]| {
        let mut args: Vec<&Path> = vec![transcribe, &model, wav_flag, &speech, json];
        args.extend(extra.iter().map(Path::new));
        tokens_of(&picoformer(&args))
    };
    // The clip: 34,157 samples = 213 frames, so auto = 107 positions = the first 214 frames.
    assert_eq!(speech_samples().len() / 160, 213);
    assert_eq!(run(&["--audio-context", "auto"]), run(&["--frames", "214"]));
    assert_eq!(run(&["--audio-context", "50"]), run(&["--frames", "100"]));
    // The whole window, as without the option.
    assert_eq!(run(&["--audio-context", "1500"]), run(&[]));
    assert!(error_of(&[
        transcribe,
        &model,
        wav_flag,
        &speech,
        Path::new("--audio-context"),
        Path::new("1501"),
    ])
    .contains("the model's encoder has 1500 positions"));
    for bad in ["0", "many"] {
        let out = picoformer(&[
            transcribe,
            &model,
            wav_flag,
            &speech,
            Path::new("--audio-context"),
            Path::new(bad),
        ]);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("or `auto`"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// `convert --i8-stem` (`convert::requantize_stored`): the stem's two convolution
/// weights stored as int8 matrices (blob flag bit 6), the rest as plain int8; the encoder
/// runs and stays near the plain int8 blob's output; the flag refused where it cannot
/// hold (an f32 blob, a model without a stem), the option refused with another dtype.
#[test]
fn int8_stem_option() {
    use picoformer::blob::FLAG_I8_STEM;
    use picoformer::{Error, Model, WeightType};
    use picoformer_cli::{convert, AlignedBytes};
    let path = tmp("tiny_whisper_i8_stem.pfm");
    tiny_whisper(&path);
    let f32_blob = std::fs::read(&path).unwrap();
    let (plain, plain_errors) = convert::requantize(&f32_blob, WeightType::I8).unwrap();
    let (blob, errors) =
        convert::requantize_stored(&f32_blob, WeightType::I8, false, true).unwrap();
    // Two more matrices reported, and stored as int8, tap-major with one scale per output
    // channel and tap: [3 x 8, 80] and [3 x 8, 8].
    assert_eq!(errors.len(), plain_errors.len() + 2);
    let pad = |n: usize| n.div_ceil(16) * 16;
    let saved = |k: usize| pad(4 * 8 * k) - pad(4 * 3 * 8) - pad(8 * k);
    assert_eq!(plain.len() - blob.len(), saved(240) + saved(24));
    let flags = u32::from_le_bytes(blob[76..80].try_into().unwrap());
    assert_eq!(flags & FLAG_I8_STEM, FLAG_I8_STEM);
    let (plain, blob) = (
        AlignedBytes::copy_from(&plain),
        AlignedBytes::copy_from(&blob),
    );
    let frames: Vec<f32> = (0..2 * 40 * 80)
        .map(|i| ((i * 7919) % 211) as f32 / 105.0 - 1.0)
        .collect();
    let encode = |blob: &AlignedBytes| {
        let model = Model::from_blob(blob.as_slice()).unwrap();
        let mut scratch = picoformer_cli::scratch(model.encode_scratch_bytes().unwrap());
        let mut out = vec![0.0f32; 40 * 8];
        model
            .encode_source(
                &picoformer::Source::Frames(&frames),
                &mut out,
                scratch.as_mut_slice(),
            )
            .unwrap();
        out
    };
    let (want, got) = (encode(&plain), encode(&blob));
    let err = want
        .iter()
        .zip(&got)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    let range = want.iter().map(|a| a.abs()).fold(0.0f32, f32::max);
    assert!(err > 0.0 && err < 0.1 * range, "{err} of {range}");

    // The flag on an f32 blob, or on a model without a stem: refused.
    let mut flagged = f32_blob.clone();
    flagged[76] |= FLAG_I8_STEM as u8;
    picoformer::blob::seal(&mut flagged).unwrap();
    assert!(matches!(
        Model::from_blob(AlignedBytes::copy_from(&flagged).as_slice()),
        Err(Error::InvalidConfig { .. })
    ));
    let dates = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/dates/dates.pfm");
    let dates = std::fs::read(dates).unwrap();
    let (mut no_stem, _) = convert::requantize(&dates, WeightType::I8).unwrap();
    no_stem[76] |= FLAG_I8_STEM as u8;
    picoformer::blob::seal(&mut no_stem).unwrap();
    assert!(matches!(
        Model::from_blob(AlignedBytes::copy_from(&no_stem).as_slice()),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(convert::requantize_stored(&dates, WeightType::I8, false, true).is_err());
    assert!(convert::requantize_stored(&f32_blob, WeightType::F16, false, true).is_err());
    // the command line: --i8-stem needs --dtype i8
    let out = Command::new(env!("CARGO_BIN_EXE_picoformer"))
        .args(["convert", "--from", "ct2-whisper", "--i8-stem", "-o"])
        .arg(tmp("tiny_whisper_i8_stem_out.pfm"))
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--i8-stem needs --dtype i8"), "{stderr}");
    std::fs::remove_file(&path).unwrap();
}
