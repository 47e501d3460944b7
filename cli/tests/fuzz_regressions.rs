//! Replays every committed fuzz input: `tests/fuzz_inputs/<target>/*` through the same
//! target bodies `cargo fuzz` runs (`fuzz/src/targets.rs`). Every crash, hang or
//! out-of-memory the fuzzers find is committed there with its fix, and stays fixed.
//!
//! `cargo test --test fuzz_regressions -- --ignored write_fuzz_seeds` rewrites the seed
//! corpus of `tools/fuzz.sh` (`fuzz/seeds/`).

#[path = "../../fuzz/src/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fuzz_inputs")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_none_or(|x| x != "md"))
        .collect();
    files.sort();
    files
}

fn replay(target: &str, body: fn(&[u8])) {
    for file in inputs(target) {
        let data = std::fs::read(&file).unwrap();
        eprintln!("replaying {}", file.display());
        body(&data);
    }
}

#[test]
fn blob_inputs() {
    replay("blob", targets::blob);
}

#[test]
fn blob_mutate_inputs() {
    replay("blob_mutate", targets::blob_mutate);
}

#[test]
fn convert_inputs() {
    replay("convert", targets::convert);
}

#[test]
fn api_inputs() {
    replay("api", targets::api);
}

#[test]
fn blob_checksum_inputs() {
    replay("blob_checksum", targets::blob_checksum);
}

#[test]
fn llama2c_inputs() {
    replay("llama2c", targets::llama2c);
}

#[test]
fn hf_llama_inputs() {
    replay("hf_llama", targets::hf_llama);
}

#[test]
fn wav_inputs() {
    replay("wav", targets::wav);
}

#[test]
fn tokenizer_inputs() {
    replay("tokenizer", targets::tokenizer);
}

/// The targets accept their own trivial inputs (the harness itself is sound).
#[test]
fn targets_accept_empty_and_small_inputs() {
    for data in [&[][..], &[0], &[0xFF; 64], &[1, 2, 3, 4, 5, 6, 7, 8, 9]] {
        targets::blob(data);
        targets::blob_checksum(data);
        targets::blob_mutate(data);
        targets::convert(data);
        targets::api(data);
        targets::llama2c(data);
        targets::hf_llama(data);
        targets::wav(data);
        targets::tokenizer(data);
    }
}

/// The committed blob seeds are the API models as this build writes them (a format
/// change makes them stale: run `write_fuzz_seeds`), and they load, checksums included.
#[test]
fn blob_seeds_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/blob");
    for i in 1..targets::API_MODELS {
        let seed = std::fs::read(dir.join(format!("synthetic-{i}.pfm"))).unwrap();
        assert!(
            seed == targets::api_model(i).as_slice(),
            "fuzz/seeds/blob/synthetic-{i}.pfm is stale: cargo test --test fuzz_regressions -- --ignored write_fuzz_seeds"
        );
        let aligned = picoformer_cli::AlignedBytes::copy_from(&seed);
        picoformer::Model::from_blob(aligned.as_slice()).unwrap();
    }
}

/// Writes the seed corpus of `tools/fuzz.sh`: the API models as blobs (target `blob`),
/// and small checkpoints behind their config selectors (target `convert`) and the other
/// front ends' inputs.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    for i in 1..targets::API_MODELS {
        let blob = targets::api_model(i);
        let dir = root.join("blob");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("synthetic-{i}.pfm")), blob.as_slice()).unwrap();
    }
    for (target, seeds) in front_end_seeds() {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in seeds {
            std::fs::write(dir.join(format!("{name}.bin")), bytes).unwrap();
        }
    }
}

/// Named seed files of one target.
type Seeds = Vec<(String, Vec<u8>)>;

/// The generated seeds of the front-end targets, by target.
fn front_end_seeds() -> Vec<(&'static str, Seeds)> {
    let owned = |seeds: Vec<(&str, Vec<u8>)>| -> Seeds {
        seeds.into_iter().map(|(n, b)| (n.to_string(), b)).collect()
    };
    vec![
        ("convert", targets::convert_seeds()),
        ("llama2c", owned(targets::llama2c_seeds())),
        ("hf_llama", targets::hf_llama_seeds()),
        ("wav", owned(targets::wav_seeds())),
        ("tokenizer", owned(targets::tokenizer_seeds())),
    ]
}

/// The front-end seeds are valid inputs (each converts, reads or encodes; a seed that
/// fails would start the fuzzer from nothing), and the committed ones are current.
#[test]
fn front_end_seeds_are_valid_and_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    for (target, seeds) in front_end_seeds() {
        for (name, bytes) in seeds {
            let committed =
                std::fs::read(root.join(target).join(format!("{name}.bin"))).unwrap_or_default();
            assert!(
                committed == bytes,
                "fuzz/seeds/{target}/{name}.bin is stale: cargo test --test fuzz_regressions -- --ignored write_fuzz_seeds"
            );
            let valid = match target {
                "convert" => picoformer_cli::convert::convert_torch(
                    &targets::convert_config(bytes[0]),
                    &bytes[1..],
                )
                .map(drop),
                "llama2c" => picoformer_cli::llama2c::convert_llama2c(
                    &bytes[1..],
                    &picoformer_cli::llama2c::Llama2cOptions::default(),
                )
                .map(drop),
                "hf_llama" if bytes[0] < 0x80 => picoformer_cli::hf_llama::convert_hf_llama(
                    targets::HF_LLAMA_CONFIGS[usize::from(bytes[0])],
                    &bytes[1..],
                )
                .map(drop),
                "wav" => picoformer_cli::wav::read_wav_from(&bytes[..], "seed")
                    .and_then(|w| picoformer_cli::wav::to_16k_mono(&w, "seed"))
                    .map(drop),
                _ => Ok(()),
            };
            if let Err(e) = valid {
                panic!("seed {target}/{name} is refused: {e:#}");
            }
        }
    }
}
