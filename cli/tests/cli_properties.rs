//! A property test of the command line as a whole (issue 19, item 0): the binary driven
//! with random arguments (subcommands, flags, numbers at the edges: 0, 1, huge, negative,
//! NaN, not numbers) and random or mutated blobs (the golden models and the bundled date
//! model with bytes flipped, header fields set to edge values, truncated, extended),
//! under a memory limit. Whatever it is given, the binary
//! - ends by itself (no signal: no abort on a failed allocation, no stack overflow),
//!   with exit status 0, 1 (an error) or 2 (an argument error);
//! - never prints a panic;
//! - reports an error on one line (`dates`: one line per phrase it could not read).
//!
//! Seeded and reproducible: `PICOFORMER_CLI_SEED` (default 19) and `PICOFORMER_CLI_CASES`
//! (default 500) choose the run; a failure prints its case's seed and arguments, and
//! `PICOFORMER_CLI_VERBOSE=1` every case's (with `--nocapture`).

mod common;

use common::golden_cases;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Virtual memory the binary may map, in KiB (as `bounds.rs`): far above what the small
/// models need for any request, far below what a size taken unchecked from a blob or an
/// argument asks for.
const MEMORY_LIMIT_KIB: u64 = 2 * 1024 * 1024;

/// Seconds a case may run: the models are small, so only a hang takes this long.
const TIME_LIMIT_S: u32 = 60;

/// splitmix64: a small seeded generator, so a failing case replays from its seed alone.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Numbers at the edges, and strings that are not numbers.
const EDGE_NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "4",
    "8",
    "16",
    "63",
    "64",
    "65",
    "255",
    "1000000",
    "4294967295",
    "4294967296",
    "1099511627776",
    "2305843009213693952",
    "18446744073709551615",
    "18446744073709551616",
    "-1",
    "-0",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "1e30",
    "-1e30",
    "0.5",
    "1.5",
    "1e-45",
    "",
    "abc",
    "0x10",
    " 3",
];

/// Date phrases, odd text and text that is no phrase at all.
const PHRASES: &[&str] = &[
    "1 may 2020",
    "sat 28th of november, 2026",
    "11/28/26",
    "",
    " ",
    "tomorrow",
    "feb 29 2025",
    "31/31/2026",
    "十一月",
    "\u{1}\u{7f}",
    "--",
    "-1",
    "a very long phrase that goes on and on well past the forty-eight characters a date model reads",
];

/// What a flag takes.
#[derive(Clone, Copy)]
enum Value {
    /// A switch without a value.
    Switch,
    /// One number (or not).
    Number,
    /// A comma-separated token list.
    Tokens,
    /// A file (a model, a tokenizer, a WAV, a log-mel).
    File,
    /// A date phrase or other text.
    Text,
    /// One of these words.
    Word(&'static [&'static str]),
}

/// A subcommand: its name, its positional arguments (`File`: the model; `Text`:
/// phrases) and its flags with what each takes.
type Subcommand = (&'static str, Vec<Value>, Vec<(&'static str, Value)>);

/// Every subcommand but `convert` (its inputs are checkpoints, fuzzed by its own tests).
fn subcommands() -> Vec<Subcommand> {
    use Value::*;
    vec![
        (
            "info",
            vec![File],
            vec![("--beam", Number), ("--json", Switch)],
        ),
        (
            "forward",
            vec![File],
            vec![("--src", Tokens), ("--tgt", Tokens), ("--json", Switch)],
        ),
        (
            "decode",
            vec![File],
            vec![
                ("--src", Tokens),
                ("--beam", Number),
                ("--top", Number),
                ("--alpha", Number),
                ("--max-len", Number),
                ("--json", Switch),
            ],
        ),
        (
            "generate",
            vec![File, Tokens],
            vec![
                ("--prompt", Text),
                ("--tokenizer", File),
                ("--steps", Number),
                ("--temperature", Number),
                ("--top-p", Number),
                ("--seed", Number),
                ("--json", Switch),
            ],
        ),
        (
            "dates",
            vec![Text, Text],
            vec![
                ("--beam", Number),
                ("--model", File),
                ("--min-score", Number),
                ("--json", Switch),
            ],
        ),
        (
            "attention",
            vec![File],
            vec![
                ("--src", Text),
                ("--tgt", Text),
                ("--layer", Number),
                ("--head", Number),
                ("--kind", Word(&["cross", "encoder", "decoder", "nonsense"])),
            ],
        ),
        (
            "bench",
            vec![File],
            vec![("--src", Tokens), ("--tgt", Tokens), ("--max-len", Number)],
        ),
        (
            "embed",
            vec![File],
            vec![
                ("--tokenizer", File),
                ("--text", Text),
                ("--timings", Switch),
                ("--json", Switch),
            ],
        ),
        (
            "transcribe",
            vec![File],
            vec![
                ("--wav", File),
                ("--mel", File),
                ("--beam", Number),
                ("--alpha", Number),
                ("--prompt", Tokens),
                ("--max-len", Number),
                ("--tokenizer", File),
                ("--frames", Number),
                ("--audio-context", Number),
                ("--timings", Switch),
                ("--tokens", Switch),
                ("--json", Switch),
            ],
        ),
    ]
}

/// The files the cases read: the golden blobs, the bundled date model, a log-mel, and
/// paths that are no model (missing, a directory, empty).
struct Corpus {
    dir: PathBuf,
    blobs: Vec<Vec<u8>>,
    others: Vec<PathBuf>,
}

impl Corpus {
    fn new() -> Corpus {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-properties");
        std::fs::create_dir_all(&dir).unwrap();
        let mut blobs: Vec<Vec<u8>> = golden_cases()
            .into_iter()
            .map(|c| c.blob.as_slice().to_vec())
            .collect();
        let dates = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/dates/dates.pfm");
        blobs.push(std::fs::read(dates).expect("the bundled date model"));
        let empty = dir.join("empty");
        std::fs::write(&empty, b"").unwrap();
        let mel = dir.join("mel.npy");
        std::fs::write(&mel, npy_f32(&[80, 4], 0.25)).unwrap();
        let no_frames = dir.join("mel-no-frames.npy");
        std::fs::write(&no_frames, npy_f32(&[80, 0], 0.0)).unwrap();
        let others = vec![dir.join("missing.pfm"), dir.clone(), empty, mel, no_frames];
        Corpus { dir, blobs, others }
    }

    /// A file for the `File` argument in slot `slot` of a case: mostly a blob, often
    /// mutated.
    fn file(&self, rng: &mut Rng, slot: usize) -> PathBuf {
        if rng.chance(15) {
            return rng.pick(&self.others).clone();
        }
        let mut blob = rng.pick(&self.blobs).clone();
        if rng.chance(50) {
            mutate(rng, &mut blob);
        }
        // One file per argument slot, rewritten by each case (the cases run one by one).
        let path = self.dir.join(format!("slot-{slot}.pfm"));
        std::fs::write(&path, &blob).unwrap();
        path
    }
}

/// A little-endian f32 `.npy` file of `shape`, every element `value`.
fn npy_f32(shape: &[usize], value: f32) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}",
        dims.join(", ")
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for _ in 0..shape.iter().product::<usize>() {
        out.extend_from_slice(&value.to_le_bytes());
    }
    out
}

/// Header words set to these: the edges of the fields' ranges and past them.
const EDGE_WORDS: &[u32] = &[
    0,
    1,
    2,
    3,
    64,
    65,
    1 << 20,
    (1 << 20) + 1,
    1_000_000,
    u32::MAX,
];

/// One or a few mutations of `blob`: header words at edge values, flipped bits (in the
/// header or anywhere), truncation, appended bytes.
fn mutate(rng: &mut Rng, blob: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(3) {
        match rng.below(5) {
            0 | 1 => {
                let words = (blob.len().min(160) / 4).max(1);
                let at = 4 * rng.below(words);
                if at + 4 <= blob.len() {
                    let word = *rng.pick(EDGE_WORDS);
                    blob[at..at + 4].copy_from_slice(&word.to_le_bytes());
                }
            }
            2 => {
                let span = if rng.chance(50) {
                    blob.len().min(160)
                } else {
                    blob.len()
                };
                if span > 0 {
                    let at = rng.below(span);
                    blob[at] ^= 1 << rng.below(8);
                }
            }
            3 => {
                let len = rng.below(blob.len() + 1);
                blob.truncate(len);
            }
            _ => {
                let extra = rng.below(64);
                blob.extend((0..extra).map(|i| i as u8));
            }
        }
    }
}

/// A random value for a flag or positional argument of kind `value`.
fn value(rng: &mut Rng, corpus: &Corpus, slot: usize, value: Value) -> String {
    match value {
        Value::Switch => String::new(),
        Value::Number => {
            // Mostly values the parser takes, so that the cases reach the commands.
            if rng.chance(65) {
                rng.below(40).to_string()
            } else {
                rng.pick(EDGE_NUMBERS).to_string()
            }
        }
        Value::Tokens => {
            let most = if rng.chance(10) { 200 } else { 12 };
            let n = rng.below(most);
            let tokens: Vec<String> = (0..n)
                .map(|_| {
                    if rng.chance(97) {
                        rng.below(100).to_string()
                    } else {
                        rng.pick(EDGE_NUMBERS).to_string()
                    }
                })
                .collect();
            tokens.join(",")
        }
        Value::File => corpus.file(rng, slot).display().to_string(),
        Value::Text => rng.pick(PHRASES).to_string(),
        Value::Word(words) => rng.pick(words).to_string(),
    }
}

/// The arguments of case `case`.
fn arguments(rng: &mut Rng, corpus: &Corpus) -> Vec<String> {
    let commands = subcommands();
    if rng.chance(2) {
        return vec![rng.pick(&["nonsense", "", "-x", "--beam"]).to_string()];
    }
    let (name, positionals, flags) = rng.pick(&commands);
    let mut args = vec![name.to_string()];
    let mut slot = 0;
    for &positional in positionals {
        if rng.chance(95) {
            args.push(value(rng, corpus, slot, positional));
            slot += 1;
        }
    }
    for &(flag, kind) in flags {
        // Each flag now and then, the ones a command requires nearly always.
        let required = matches!(
            (*name, flag),
            (_, "--src" | "--tgt" | "--text" | "--tokenizer")
                | ("bench", "--max-len")
                | ("transcribe", "--mel")
        );
        let percent = if required { 92 } else { 40 };
        for _ in 0..1 + usize::from(rng.chance(5)) {
            if rng.chance(percent) {
                args.push(flag.to_string());
                if !matches!(kind, Value::Switch) {
                    args.push(value(rng, corpus, slot, kind));
                    slot += 1;
                }
            }
        }
    }
    if *name == "attention" {
        args.push("--output".into());
        args.push(corpus.dir.join("attention.svg").display().to_string());
    }
    if rng.chance(3) {
        args.push(
            rng.pick(&["--nonsense", "-z", "--json=3", "extra"])
                .to_string(),
        );
    }
    args
}

/// Runs the binary on `args` under the memory and time limits.
fn run_limited(args: &[String]) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {MEMORY_LIMIT_KIB} && exec timeout -s KILL {TIME_LIMIT_S} \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_picoformer"))
        .args(args)
        .output()
        .expect("sh runs")
}

/// What is wrong with a run's outcome, if anything.
fn fault(args: &[String], out: &std::process::Output) -> Option<String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = match out.status.code() {
        None => return Some(format!("ended by a signal ({:?})", out.status)),
        Some(137) => return Some(format!("ran past {TIME_LIMIT_S} s")),
        Some(code) => code,
    };
    if ![0, 1, 2].contains(&code) {
        return Some(format!("exit status {code}"));
    }
    for sign in [
        "panicked",
        "RUST_BACKTRACE",
        "memory allocation of",
        "overflowed its stack",
    ] {
        if stderr.contains(sign) {
            return Some(format!("stderr shows {sign:?}"));
        }
    }
    if code != 0 {
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.is_empty() {
            return Some("an error without a message".into());
        }
        // `dates` reports each phrase it could not read on its own line; everything
        // else ends at its one error.
        let allowed = if args.first().is_some_and(|a| a == "dates") {
            args.len()
        } else {
            1
        };
        let last = lines.last().copied().unwrap_or_default();
        if !last.starts_with("error") {
            return Some("the last line of stderr is not an error".into());
        }
        let errors = lines.iter().filter(|l| l.starts_with("error")).count();
        if errors > allowed {
            return Some(format!("{errors} error lines"));
        }
    }
    None
}

#[test]
fn random_arguments_and_blobs_end_in_a_one_line_error_or_success() {
    let seed: u64 = std::env::var("PICOFORMER_CLI_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(19);
    let cases: usize = std::env::var("PICOFORMER_CLI_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    // `PICOFORMER_CLI_VERBOSE=1` prints every case (with `--nocapture`).
    let verbose = std::env::var_os("PICOFORMER_CLI_VERBOSE").is_some();
    let corpus = Corpus::new();
    let mut failures = Vec::new();
    let mut codes = [0usize; 3];
    for case in 0..cases {
        // Each case from its own seed, so one replays alone.
        let case_seed = seed.wrapping_mul(1_000_003).wrapping_add(case as u64);
        let mut rng = Rng(case_seed);
        let args = arguments(&mut rng, &corpus);
        let out = run_limited(&args);
        if verbose {
            eprintln!(
                "case {case}: {:?} {args:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim_end()
            );
        }
        if let Some(code) = out.status.code().filter(|c| (0..3).contains(c)) {
            codes[code as usize] += 1;
        }
        if let Some(fault) = fault(&args, &out) {
            failures.push(format!(
                "case {case} (seed {seed}): {fault}\n  args: {args:?}\n  stderr: {}",
                String::from_utf8_lossy(&out.stderr).trim_end()
            ));
        }
    }
    std::fs::remove_dir_all(&corpus.dir).ok();
    eprintln!(
        "{cases} cases: exit 0: {}, 1: {}, 2: {}",
        codes[0], codes[1], codes[2]
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The cases reach past argument parsing into the commands, and some succeed.
    assert!(codes[0] > 0 && codes[1] > cases / 10, "{codes:?}");
}
