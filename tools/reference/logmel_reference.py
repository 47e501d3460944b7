"""Golden log-mel features for the engine's front end (`picoformer::audio`).

An independent float64 numpy implementation of Whisper's `log_mel_spectrogram`, written
from its definition (reflect-padded STFT, periodic Hann 400, hop 160, |X|^2, Slaney mel
filterbank as librosa.filters.mel builds it, log10 clamped to max - 8, (x + 4) / 4, the
last STFT frame dropped). When the `openai-whisper` package is importable (its
`whisper/audio.py` is loaded on its own, without the package's model imports, so only
numpy and torch are needed), the script also checks:
  - our filterbank against Whisper's `assets/mel_filters.npz` (librosa's, stored float32),
  - every case against `whisper.audio.log_mel_spectrogram` (torch, float32),
and exits non-zero past the tolerances below. Without it, it says so and checks nothing.

Input: tests/golden/logmel_speech/speech.wav, 16 kHz mono int16 PCM, committed. It was
made by `--make-audio`: espeak-ng (22050 Hz) resampled to 16 kHz by FFT, then cut to a
length that is not a multiple of 160 (so the end's reflection is exercised). espeak
output differs between versions, so the golden never depends on re-synthesis.

Output (tests/golden/logmel_speech/):
  <case>.npy   float32 [n_mels, frames] (from the float64 implementation)
  cases.json   per case: n_mels, frames, samples used, the stored frame count
               (`stored_frames`; the rest, all padding, equal `tail_value`), and the
               measured differences; `whisper_filters`: per mel count, each filter's
               weight sum, peak and peak bin in Whisper's mel_filters.npz

    target/refenv/bin/pip install --no-deps openai-whisper    # optional cross-check
    target/refenv/bin/python tools/reference/logmel_reference.py [--make-audio]
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import types
import wave

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests/golden/logmel_speech")
WAV = os.path.join(OUT, "speech.wav")
SENTENCE = "Hello from a tiny microcontroller."

SR, N_FFT, HOP = 16000, 400, 160
# torch's float32 STFT against our float64: relative errors ~1e-7 of each frame's peak,
# i.e. ~1e-6 in log10 for the strong bins; the weakest kept bins (8 decades down) see
# more. Measured and printed; these bound it with margin.
FILTER_TOL = 1e-6  # relative, filterbank weights vs mel_filters.npz
WHISPER_TOL = 1e-4  # absolute, features vs whisper's


def make_audio():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "speech.wav")
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", path, SENTENCE], check=True)
        with wave.open(path) as w:
            rate = w.getframerate()
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    audio = pcm.astype(np.float64) / 32768.0
    n = int(round(len(audio) * SR / rate))
    resampled = np.fft.irfft(np.fft.rfft(audio)[: n // 2 + 1], n) * (n / len(audio))
    # Not a multiple of the hop: whisper's frame count floors, the end reflects real samples.
    n = (len(resampled) // HOP) * HOP - 83
    pcm16 = np.clip(np.round(resampled[:n] * 32768.0), -32768, 32767).astype("<i2")
    os.makedirs(OUT, exist_ok=True)
    with wave.open(WAV, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm16.tobytes())


def read_audio():
    with wave.open(WAV) as w:
        assert w.getframerate() == SR and w.getnchannels() == 1 and w.getsampwidth() == 2
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768.0  # exact in f32: what the engine test reads


# ---- the independent implementation (float64) ----

def hz_to_mel(f):
    f = np.asarray(f, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    logstep = np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_hz / f_sp + np.log(np.maximum(f, 1e-300) / min_log_hz) / logstep, f / f_sp)


def mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filters(n_mels):
    """Slaney-normalised triangles, librosa.filters.mel(sr=16000, n_fft=400, n_mels), f64."""
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SR / 2), n_mels + 2))
    fft_f = np.arange(N_FFT // 2 + 1) * (SR / N_FFT)
    w = np.zeros((n_mels, N_FFT // 2 + 1))
    for i in range(n_mels):
        lower = (fft_f - mel_f[i]) / (mel_f[i + 1] - mel_f[i])
        upper = (mel_f[i + 2] - fft_f) / (mel_f[i + 2] - mel_f[i + 1])
        w[i] = np.maximum(0.0, np.minimum(lower, upper)) * 2.0 / (mel_f[i + 2] - mel_f[i])
    return w


def log_mel(audio, n_mels, padding=0):
    """[n_mels, (len + padding) // 160], as whisper.audio.log_mel_spectrogram."""
    x = np.concatenate([np.asarray(audio, dtype=np.float64), np.zeros(padding)])
    x = np.pad(x, N_FFT // 2, mode="reflect")  # reflect: the edge sample is not repeated
    n_frames = 1 + (len(x) - N_FFT) // HOP
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann
    frames = np.stack([x[t * HOP : t * HOP + N_FFT] for t in range(n_frames)]) * window
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2  # [frames, 201]
    power = power[:-1]  # whisper drops the last STFT frame
    mel = mel_filters(n_mels) @ power.T  # [n_mels, frames]
    log = np.log10(np.maximum(mel, 1e-10))
    log = np.maximum(log, log.max() - 8.0)
    return (log + 4.0) / 4.0


def load_whisper_audio():
    """whisper/audio.py (and utils.py) as a stand-alone module, or None."""
    spec = importlib.util.find_spec("whisper")
    if spec is None or not spec.submodule_search_locations:
        return None
    pkg_dir = list(spec.submodule_search_locations)[0]
    pkg = types.ModuleType("_whisper_audio_only")
    pkg.__path__ = [pkg_dir]
    sys.modules["_whisper_audio_only"] = pkg
    for name in ("utils", "audio"):
        s = importlib.util.spec_from_file_location(f"_whisper_audio_only.{name}", os.path.join(pkg_dir, f"{name}.py"))
        m = importlib.util.module_from_spec(s)
        sys.modules[s.name] = m
        s.loader.exec_module(m)
    return sys.modules["_whisper_audio_only.audio"]


def main():
    if "--make-audio" in sys.argv:
        make_audio()
    audio = read_audio()
    n = len(audio)
    natural = n // HOP
    print(f"clip: {n} samples ({n / SR:.3f} s), {natural} frames")
    whisper_audio = load_whisper_audio()
    failures = []
    filters_summary = {}

    if whisper_audio is not None:
        import torch

        for n_mels in (80, 128):
            ours = mel_filters(n_mels)
            theirs = whisper_audio.mel_filters("cpu", n_mels).numpy().astype(np.float64)
            rel = np.abs(ours - theirs).max() / np.abs(theirs).max()
            print(f"filters {n_mels}: max |ours - mel_filters.npz| / max = {rel:.2e}")
            if rel > FILTER_TOL:
                failures.append(f"filters {n_mels}: {rel:e}")
            # A fingerprint of Whisper's own filters for the engine's test: per filter,
            # the sum of its weights, its peak and where.
            filters_summary[str(n_mels)] = {
                "sum": theirs.sum(axis=1).tolist(),
                "peak": theirs.max(axis=1).tolist(),
                "peak_bin": theirs.argmax(axis=1).tolist(),
            }
    else:
        print("openai-whisper not importable: NOT cross-checked against whisper")

    # (name, n_mels, frames, samples given): the engine is called with
    # audio[:samples_given] and `frames`; the reference with what that means.
    cases = [
        ("natural_80", 80, natural, n),
        ("natural_128", 128, natural, n),
        ("window_80", 80, 3000, n),  # zero-padded to 30 s
        ("cut_80", 80, 100, n),  # the first second of a longer clip
    ]
    summary = {"wav": "speech.wav", "sentence": SENTENCE, "samples": n, "cases": []}
    for name, n_mels, frames, given in cases:
        a = audio[:given]
        if len(a) <= frames * HOP:
            args = (a, n_mels, frames * HOP - len(a))
        else:
            # Only samples [..frames*160 + 40) reach the frames: cutting at +159 keeps
            # `frames` frames and every sample they see.
            args = (a[: frames * HOP + HOP - 1], n_mels, 0)
        ref = log_mel(*args)
        assert ref.shape == (n_mels, frames), (name, ref.shape)
        entry = {"name": name, "n_mels": n_mels, "frames": frames, "samples": given}
        if whisper_audio is not None:
            w = whisper_audio.log_mel_spectrogram(torch.from_numpy(np.ascontiguousarray(args[0])), args[1], padding=args[2]).numpy()
            diff = float(np.abs(w.astype(np.float64) - ref).max())
            entry["max_abs_diff_vs_whisper"] = diff
            print(f"{name}: [{n_mels}, {frames}] max |numpy f64 - whisper| = {diff:.2e}")
            if diff > WHISPER_TOL:
                failures.append(f"{name}: {diff:e}")
        # Padding frames are all one value (the floor); store only the frames with audio.
        stored = min(frames, natural + 3)
        tail = ref[:, stored:]
        if tail.size:
            assert np.all(tail == tail.flat[0]), f"{name}: padding frames differ"
            entry["tail_value"] = float(tail.flat[0])
        entry["stored_frames"] = stored
        np.save(os.path.join(OUT, f"{name}.npy"), np.ascontiguousarray(ref[:, :stored]).astype("<f4"))
        summary["cases"].append(entry)

    summary["whisper_checked"] = whisper_audio is not None
    summary["whisper_filters"] = filters_summary
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    if failures:
        print("FAILED:", *failures, sep="\n  ")
        sys.exit(1)


if __name__ == "__main__":
    main()
