//! `picoformer`: the host command line (convert, info, forward, decode, bench, embed,
//! transcribe, and the bundled date model: dates, attention). One module per subcommand
//! in `commands/`; they share one way to load a model and set up scratch
//! (`commands/mod.rs`).
//!
//! Output goes through [`outln!`]: when the reader of stdout has gone (`picoformer embed …
//! | head -c 300`), the command ends quietly with exit status 0, as the reader took all
//! it wanted, where `println!` would panic.

/// `println!` for the commands' results on stdout, except that a closed pipe ends the
/// program quietly with exit status 0 (and any other write error with a one-line error
/// and status 1) instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::write_stdout_line(format_args!($($arg)*))
    };
}

mod commands;

use anyhow::Result;
use clap::{Parser, Subcommand};
use commands::{attention, bench, convert, dates, decode, forward, generate, info};
#[cfg(feature = "pretrained")]
use commands::{embed, transcribe};
use std::io::{self, Write};

#[derive(Parser)]
#[command(
    name = "picoformer",
    version,
    about = "The Transformer of \"Attention Is All You Need\", no_std and allocation-free: host tools"
)]
struct Cli {
    /// Threads for the matrix products (default: this machine's cores); the results are
    /// bit-identical whatever the count.
    #[arg(long, global = true, value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert trained weights into a picoformer model blob (.pfm).
    Convert(convert::Args),
    /// Show a model's configuration, size and scratch needs.
    Info(info::Args),
    /// Teacher-forced decoder logits, one row per target position.
    Forward(forward::Args),
    /// Decode a source sequence: greedy, or beam search with --beam.
    Decode(decode::Args),
    /// Continue a prompt with a decoder-only language model (llama2.c checkpoints):
    /// greedy with temperature 0.
    Generate(generate::Args),
    /// Normalise dates with the bundled model: "sat 28th of november, 2026" -> 2026-11-28.
    Dates(dates::Args),
    /// Draw one attention head of a date model as an SVG heatmap (rows: target tokens,
    /// columns: source tokens), computed by the engine's forward pass.
    Attention(attention::Args),
    /// Time teacher-forced forward and greedy decoding (median of --iters runs), and
    /// measure this machine's memory read bandwidth: the figures of tools/bench.
    Bench(bench::Args),
    #[cfg(feature = "pretrained")]
    /// Sentence embedding with an encoder-only model: mean of the encoder output over the
    /// tokens, L2-normalised (sentence-transformers' pooling).
    Embed(embed::Args),
    #[cfg(feature = "pretrained")]
    /// Speech to text with a Whisper model, from a WAV file or a log-mel spectrogram.
    Transcribe(transcribe::Args),
}

fn main() {
    let cli = parse_cli();
    let threads = cli.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    let result = picoformer::kernels::threads::with_threads(threads, || run(cli.command));
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

/// Parses the command line. `--help` and `--version` print as clap prints them; an
/// argument error is one line on stderr (`error: ...`, clap's tip, where to read more)
/// with clap's exit status 2, like every other error of the tool a single line a script
/// can log. A bare `picoformer` (no subcommand) still shows the help.
fn parse_cli() -> Cli {
    let error = match Cli::try_parse() {
        Ok(cli) => return cli,
        Err(error) => error,
    };
    if !error.use_stderr()
        || error.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    {
        error.exit();
    }
    // The subcommand whose help to point at: the first argument, when it names one.
    let subcommand = std::env::args().nth(1).filter(|name| {
        <Cli as clap::CommandFactory>::command()
            .find_subcommand(name)
            .is_some()
    });
    eprintln!(
        "{}",
        one_line_error(&error.render().to_string(), subcommand.as_deref())
    );
    std::process::exit(error.exit_code());
}

/// clap's rendered error (the message, possibly with indented lines of arguments or
/// possible values, then tips, usage and a "For more information" line) as one line: the
/// message with its indented lines joined, the tips in parentheses, and where to read
/// more (`picoformer SUBCOMMAND --help`).
fn one_line_error(rendered: &str, subcommand: Option<&str>) -> String {
    let mut message = String::new();
    let mut tips = Vec::new();
    let mut in_message = true;
    for line in rendered.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            in_message = message.is_empty();
        } else if let Some(tip) = trimmed.strip_prefix("tip: ") {
            tips.push(tip.to_string());
        } else if trimmed.starts_with("Usage: ") || trimmed.starts_with("For more information") {
            in_message = false;
        } else if in_message {
            if message.is_empty() {
                message.push_str(trimmed);
            } else {
                // "...not provided:" / "[possible values: ...]" read on; a list of
                // missing arguments is separated by commas.
                let separator = if message.ends_with(':') || trimmed.starts_with('[') {
                    " "
                } else {
                    ", "
                };
                message.push_str(separator);
                message.push_str(trimmed);
            }
        }
    }
    if !message.starts_with("error:") {
        message.insert_str(0, "error: ");
    }
    for tip in tips {
        message.push_str(&format!(" ({tip})"));
    }
    match subcommand {
        Some(name) => message.push_str(&format!("; see 'picoformer {name} --help'")),
        None => message.push_str("; see 'picoformer --help'"),
    }
    message
}

/// Writes one line of output for [`outln!`]; see there.
fn write_stdout_line(line: std::fmt::Arguments) {
    // Stdout is line-buffered, so a closed pipe shows here, at the newline.
    if let Err(e) = writeln!(io::stdout().lock(), "{line}") {
        stdout_failed(e);
    }
}

/// Writes `text` to stdout now (flushed), for output printed piece by piece as it is
/// computed (`generate`'s tokens); a closed pipe ends quietly as with [`outln!`].
fn write_stdout_now(text: &str) {
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        stdout_failed(e);
    }
}

/// Ends the program after a failed write to stdout: quietly with status 0 when the
/// reader has gone, else with a one-line error.
fn stdout_failed(e: io::Error) -> ! {
    if e.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: writing to stdout: {e}");
    std::process::exit(1);
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Convert(args) => convert::run(args),
        Command::Info(args) => info::run(args),
        Command::Forward(args) => forward::run(args),
        Command::Decode(args) => decode::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Dates(args) => dates::run(args),
        Command::Attention(args) => attention::run(args),
        Command::Bench(args) => bench::run(args),
        #[cfg(feature = "pretrained")]
        Command::Embed(args) => embed::run(args),
        #[cfg(feature = "pretrained")]
        Command::Transcribe(args) => transcribe::run(args),
    }
}
