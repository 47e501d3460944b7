//! Argument errors (clap's: unknown options, bad values, missing arguments, unknown
//! subcommands) are one line on stderr, `error: ...` with clap's tip and where to read
//! more, exit status 2; `--help` and `--version` still print in full on stdout.

use std::process::{Command, Output};

fn picoformer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_picoformer"))
        .args(args)
        .output()
        .expect("the picoformer binary runs")
}

/// The one line an argument error prints, after checking it is one line and exit 2.
fn one_line_error(args: &[&str]) -> String {
    let out = picoformer(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed on stdout");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{args:?} printed {} lines:\n{stderr}",
        lines.len()
    );
    assert!(lines[0].starts_with("error: "), "{stderr}");
    lines[0].to_string()
}

#[test]
fn unknown_option_is_one_line_with_the_suggestion() {
    let line = one_line_error(&["decode", "m.pfm", "--src", "1", "--bem", "4"]);
    assert_eq!(
        line,
        "error: unexpected argument '--bem' found (a similar argument exists: '--beam'); \
         see 'picoformer decode --help'"
    );
}

#[test]
fn bad_value_is_one_line_naming_the_option() {
    let line = one_line_error(&["decode", "m.pfm", "--src", "1", "--beam", "x"]);
    assert!(
        line.contains("invalid value 'x' for '--beam <BEAM>'"),
        "{line}"
    );
    assert!(line.ends_with("; see 'picoformer decode --help'"), "{line}");
}

#[test]
fn possible_values_stay_on_the_line() {
    let line = one_line_error(&["convert", "--from", "nope", "a", "-o", "b"]);
    assert!(
        line.contains("invalid value 'nope' for '--from <FROM>' [possible values: torch,"),
        "{line}"
    );
}

#[test]
fn missing_arguments_are_listed_on_one_line() {
    let line = one_line_error(&["decode"]);
    assert_eq!(
        line,
        "error: the following required arguments were not provided: --src <SRC>, <MODEL>; \
         see 'picoformer decode --help'"
    );
}

#[test]
fn unknown_subcommand_is_one_line() {
    let line = one_line_error(&["frobnicate"]);
    assert_eq!(
        line,
        "error: unrecognized subcommand 'frobnicate'; see 'picoformer --help'"
    );
}

#[test]
fn help_and_version_still_print_in_full() {
    let help = picoformer(&["decode", "--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.lines().count() > 5 && text.contains("Usage: picoformer decode"),
        "{text}"
    );
    let version = picoformer(&["--version"]);
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("picoformer "));
}
