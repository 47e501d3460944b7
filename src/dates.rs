//! The text side of the bundled date normaliser (`models/dates/dates.pfm`, trained by
//! `tools/dates/train.py`): "sat 28th of november, 2026" → "2026-11-28".
//!
//! Characters are tokens. Ids 0–3 are pad, bos, eos and unknown; the source alphabet
//! [`SOURCE_CHARS`] and the target alphabet [`TARGET_CHARS`] follow, in order. The
//! tokenizer folds ASCII capitals to small letters, so letter case never matters;
//! any other character outside the alphabet is the unknown token. The tables are the
//! ones the training script writes to `models/dates/tokenizer.json` (a test checks).
//!
//! An answer is checked before it is given ([`Reading::doubt`]): the phrase must hold a
//! digit (every phrase the model learnt writes its year in digits), a four-digit year in
//! it must lie in the model's range [`FIRST_YEAR`]–[`LAST_YEAR`], the model's answer
//! must be a calendar date in that range, and its log-probability must reach
//! [`MIN_SCORE`], the threshold `tools/dates/threshold.py` chose on phrases held out
//! from training (its false-accept and false-reject rates: `docs/dates.md`).
//!
//! Everything here is `no_std` and allocation-free: the firmware uses it as it is.

use crate::error::{Error, Result};
use crate::model::Model;
use crate::search::BeamParams;
use crate::static_model::StaticModel;

/// The bundled model's shape (`models/dates/config.json`): D 32, 4 heads, F 128, 2 + 2
/// layers, 46 source / 15 target ids, 48 source characters, 12 target positions.
pub type DateModel<'a> = StaticModel<'a, 32, 4, 128, 2, 2, 46, 15, 48, 12>;

/// Characters of the source phrases, ids `FIRST_CHAR_ID..`.
pub const SOURCE_CHARS: &str = " ',-./0123456789abcdefghijklmnopqrstuvwxyz";
/// Characters of the ISO dates, ids `FIRST_CHAR_ID..`.
pub const TARGET_CHARS: &str = "-0123456789";
/// Id of the unknown character.
pub const UNKNOWN_ID: u32 = 3;
/// Id of the first alphabet character (after pad, bos, eos, unknown).
pub const FIRST_CHAR_ID: u32 = 4;
/// Names of the special ids 0–3.
pub const SPECIAL_NAMES: [&str; 4] = ["<pad>", "<bos>", "<eos>", "<unk>"];
/// Length of an ISO date, `YYYY-MM-DD`.
pub const ISO_LEN: usize = 10;
/// Tokens the model generates for one date: the ten characters and eos.
pub const MAX_TOKENS: usize = ISO_LEN + 1;
/// The first year of the model's range: its training dates run from 1950-01-01
/// (`FIRST_DAY` in `tools/dates/phrases.py`).
pub const FIRST_YEAR: u32 = 1950;
/// The last year of the model's range: its training dates end on 2049-12-31
/// (`LAST_DAY` in `tools/dates/phrases.py`); two-digit years mean 1950–2049.
pub const LAST_YEAR: u32 = 2049;
/// The least log-probability (natural log, summed over the answer's tokens) of an answer
/// that is given: chosen by `tools/dates/threshold.py` on held-out dates and non-date
/// phrases, which writes it, with its error rates, to `docs/dates.md` (a test checks that
/// the two agree).
pub const MIN_SCORE: f32 = -0.55;

/// The id of `c` in `alphabet`, if it is there.
fn id_in(alphabet: &str, c: char) -> Option<u32> {
    alphabet
        .chars()
        .position(|a| a == c)
        .and_then(|i| u32::try_from(i).ok())
        .map(|i| i + FIRST_CHAR_ID)
}

/// The character of `id` in `alphabet` (`None` for the special ids and beyond).
fn char_in(alphabet: &str, id: u32) -> Option<char> {
    let index = id.checked_sub(FIRST_CHAR_ID)?;
    alphabet.chars().nth(usize::try_from(index).ok()?)
}

/// Source id of a character (letters folded to small; unknown characters give
/// [`UNKNOWN_ID`]).
pub fn source_id(c: char) -> u32 {
    id_in(SOURCE_CHARS, c.to_ascii_lowercase()).unwrap_or(UNKNOWN_ID)
}

/// The character a source id stands for (`None` for the special ids).
pub fn source_char(id: u32) -> Option<char> {
    char_in(SOURCE_CHARS, id)
}

/// The character a target id stands for (`None` for the special ids).
pub fn target_char(id: u32) -> Option<char> {
    char_in(TARGET_CHARS, id)
}

/// Target id of a character of an ISO date (`None` outside `-0123456789`).
pub fn target_id(c: char) -> Option<u32> {
    id_in(TARGET_CHARS, c)
}

/// Writes the source ids of `text` into `out`; returns how many. An empty text is
/// `EmptySequence`, one longer than `out` is `SequenceTooLong`.
pub fn encode_source(text: &str, out: &mut [u32]) -> Result<usize> {
    let len = text.chars().count();
    if len == 0 {
        return Err(Error::EmptySequence);
    }
    if len > out.len() {
        return Err(Error::SequenceTooLong {
            len,
            max: out.len(),
        });
    }
    for (slot, c) in out.iter_mut().zip(text.chars()) {
        *slot = source_id(c);
    }
    Ok(len)
}

/// An ISO date as the model wrote it: up to [`ISO_LEN`] characters, in a
/// `heapless::String` (no allocation; [`as_heapless`](Self::as_heapless) hands it over).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoDate {
    text: heapless::String<ISO_LEN>,
}

impl IsoDate {
    /// Reads generated target ids up to eos (special ids, which a trained model does not
    /// emit before eos, are skipped; characters beyond [`ISO_LEN`] are dropped).
    pub fn from_tokens(tokens: &[u32]) -> Self {
        let mut text = heapless::String::new();
        for &id in tokens {
            if id == 2 {
                break;
            }
            let Some(c) = target_char(id) else { continue };
            // Full: the rest is dropped, as a date has no more characters.
            if text.push(c).is_err() {
                break;
            }
        }
        IsoDate { text }
    }

    /// The date text, e.g. `"2026-11-28"`.
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }

    /// The date text as the bounded string it is kept in.
    pub fn as_heapless(&self) -> &heapless::String<ISO_LEN> {
        &self.text
    }
}

impl core::fmt::Display for IsoDate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl IsoDate {
    /// The year, month and day when the text is `YYYY-MM-DD` and names a day of the
    /// proleptic Gregorian calendar (`2025-02-29` does not).
    pub fn calendar_date(&self) -> Option<(u32, u32, u32)> {
        let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *self.text.as_bytes() else {
            return None;
        };
        let year = digits(&[y0, y1, y2, y3])?;
        let month = digits(&[m0, m1])?;
        let day = digits(&[d0, d1])?;
        is_calendar_day(year, month, day).then_some((year, month, day))
    }
}

/// Whether `day` of `month` (1–12) is in `year` of the proleptic Gregorian calendar.
fn is_calendar_day(year: u32, month: u32, day: u32) -> bool {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// Month names as the model learnt them (`MONTHS`, `MONTH_ABBR` of
/// `tools/dates/phrases.py`, and "sept"), January first.
const MONTH_NAMES: [[&str; 2]; 12] = [
    ["january", "jan"],
    ["february", "feb"],
    ["march", "mar"],
    ["april", "apr"],
    ["may", "may"],
    ["june", "jun"],
    ["july", "jul"],
    ["august", "aug"],
    ["september", "sep"],
    ["october", "oct"],
    ["november", "nov"],
    ["december", "dec"],
];

/// The month (1–12) a word names, if it names one.
fn month_of_word(word: &[u8]) -> Option<u32> {
    if word.eq_ignore_ascii_case(b"sept") {
        return Some(9);
    }
    (1u32..)
        .zip(MONTH_NAMES)
        .find(|(_, names)| {
            names
                .iter()
                .any(|n| word.eq_ignore_ascii_case(n.as_bytes()))
        })
        .map(|(month, _)| month)
}

/// The year a run of digits writes: four digits as they are, two as 1950–2049 (the
/// model's reading of a two-digit year); `None` for other lengths.
fn year_of_digits(run: &[u8]) -> Option<u32> {
    let value = digits(run)?;
    match run.len() {
        4 => Some(value),
        2 if value >= FIRST_YEAR % 100 => Some(1900 + value),
        2 => Some(2000 + value),
        _ => None,
    }
}

/// Whether `text` is written in one of the date forms the model learnt and names a day
/// no calendar has: `M/D/Y`, `M-D-Y`, `Y-M-D`, `Y/M/D` or `D.M.Y` with a month beyond
/// 12 or a day beyond its month ("31/31/2026", "2025-02-30"), or a month name with one
/// day number and one year ("feb 29 2025", "june 31st, 2026") or a day number up to 31
/// that month never has ("feb 30"; 2000 is a leap year). A phrase in no such form
/// is not judged here (the model's answer still is).
fn names_no_such_day(text: &str) -> bool {
    let bytes = text.trim().as_bytes();
    // Up to 3 runs of digits (more: not a date form judged here) and the month words.
    let mut runs: [&[u8]; 3] = [&[]; 3];
    let mut run_count = 0usize;
    let mut months = 0u32;
    let mut month = 0u32;
    let mut letters = false;
    let mut separators: [u8; 2] = [0; 2];
    for (is_digit, run) in Runs::new(bytes) {
        if is_digit {
            match runs.get_mut(run_count) {
                Some(slot) => *slot = run,
                None => return false,
            }
            run_count += 1;
        } else if run.first().is_some_and(u8::is_ascii_alphabetic) {
            letters = true;
            if let Some(m) = month_of_word(run) {
                months += 1;
                month = m;
            }
        } else if (1..=2).contains(&run_count) && run.len() == 1 {
            // the separator after the first or the second number
            if let (Some(slot), Some(&b)) = (separators.get_mut(run_count - 1), run.first()) {
                *slot = b;
            }
        }
    }
    let [a, b, c] = runs;
    if !letters && run_count == 3 {
        // The numeric forms: one separator, used twice.
        let [first, second] = separators;
        if first != second || !matches!(first, b'/' | b'-' | b'.') {
            return false;
        }
        let (year, month, day) = if a.len() == 4 {
            (a, b, c)
        } else if first == b'.' {
            (c, b, a)
        } else {
            (c, a, b)
        };
        let (Some(year), Some(month), Some(day)) =
            (year_of_digits(year), digits(month), digits(day))
        else {
            return false;
        };
        return !is_calendar_day(year, month, day);
    }
    if months == 1 && run_count == 2 && a.len() <= 2 {
        // A month name, the day, then the year.
        let (Some(day), Some(year)) = (digits(a), year_of_digits(b)) else {
            return false;
        };
        return !is_calendar_day(year, month, day);
    }
    if months == 1 && run_count == 1 && a.len() <= 2 {
        // A month name and a day it never has ("feb 30", "april 31"); a larger number
        // may be a year ("feb 45"), and is not judged.
        let Some(day) = digits(a) else { return false };
        return day <= 31 && !is_calendar_day(2000, month, day);
    }
    false
}

/// The runs of a phrase: digits, letters, or one other character at a time (spaces
/// skipped), each with whether it is digits.
struct Runs<'t> {
    rest: &'t [u8],
}

impl<'t> Runs<'t> {
    fn new(text: &'t [u8]) -> Self {
        Runs { rest: text }
    }
}

impl<'t> Iterator for Runs<'t> {
    type Item = (bool, &'t [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.rest.iter().position(|b| *b != b' ')?;
        let rest = self.rest.get(start..)?;
        let first = *rest.first()?;
        let class = |b: &u8| {
            if b.is_ascii_digit() {
                0
            } else if b.is_ascii_alphabetic() {
                1
            } else {
                2
            }
        };
        let len = match class(&first) {
            2 => 1,
            c => rest
                .iter()
                .position(|b| class(b) != c)
                .unwrap_or(rest.len()),
        };
        let (run, after) = rest.split_at_checked(len)?;
        self.rest = after;
        Some((first.is_ascii_digit(), run))
    }
}

/// The value of ASCII decimal digits (`None` if one is not a digit).
fn digits(text: &[u8]) -> Option<u32> {
    text.iter().try_fold(0u32, |value, &b| {
        let digit = b.is_ascii_digit().then(|| u32::from(b - b'0'))?;
        value.checked_mul(10)?.checked_add(digit)
    })
}

/// Whether `year` lies in the model's range, [`FIRST_YEAR`]–[`LAST_YEAR`].
pub fn year_in_range(year: u32) -> bool {
    (FIRST_YEAR..=LAST_YEAR).contains(&year)
}

/// Why an answer is not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Doubt {
    /// The phrase has no digit: every date the model knows writes its year in digits
    /// ("tomorrow", "next friday", "十一月").
    NoDigit,
    /// The model's answer is not a calendar date.
    NotACalendarDate,
    /// The phrase itself names a day no calendar has ("feb 29 2025", "31/31/2026",
    /// "april 31 2026"), whatever the model reads in it.
    NoSuchDay,
    /// The model is unsure: the answer's log-probability is below the threshold.
    Unsure,
    /// A four-digit year in the phrase, or the answer's year, is outside
    /// [`FIRST_YEAR`]–[`LAST_YEAR`].
    OutsideRange,
}

impl core::fmt::Display for Doubt {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Doubt::NoDigit => f.write_str("no year in digits"),
            Doubt::NotACalendarDate => f.write_str("the reading is not a calendar date"),
            Doubt::NoSuchDay => f.write_str("no such day in the calendar"),
            Doubt::Unsure => f.write_str("the model is unsure"),
            Doubt::OutsideRange => write!(f, "outside {FIRST_YEAR}\u{2013}{LAST_YEAR}"),
        }
    }
}

/// Whether `text` holds a run of exactly four digits that is a year outside the model's
/// range ("in 1945" is; a two-digit year always lies inside it).
fn names_year_outside_range(text: &str) -> bool {
    text.as_bytes()
        .split(|b| !b.is_ascii_digit())
        .filter(|run| run.len() == 4)
        .filter_map(digits)
        .any(|year| !year_in_range(year))
}

/// The checks of an answer: why `date`, read from `text` with log-probability `score`,
/// is not given, or `None` when it is (`min_score`: [`MIN_SCORE`] for the bundled model).
///
/// Out of line: its locals (the phrase's runs of digits and letters) stay out of the frame
/// that calls the decoder, the dates firmware's deepest stack path (2,024 -> 1,832 B).
#[inline(never)]
pub fn doubt(text: &str, date: &IsoDate, score: f32, min_score: f32) -> Option<Doubt> {
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return Some(Doubt::NoDigit);
    }
    if names_year_outside_range(text) {
        return Some(Doubt::OutsideRange);
    }
    if names_no_such_day(text) {
        return Some(Doubt::NoSuchDay);
    }
    let Some((year, _, _)) = date.calendar_date() else {
        return Some(Doubt::NotACalendarDate);
    };
    if !year_in_range(year) {
        return Some(Doubt::OutsideRange);
    }
    // A NaN score is doubt too.
    if score.is_nan() || score < min_score {
        return Some(Doubt::Unsure);
    }
    None
}

/// The model's reading of one phrase.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// What the model wrote (given only without [`doubt`](Self::doubt)).
    pub date: IsoDate,
    /// Its log-probability: the sum over its tokens, eos included.
    pub score: f32,
    /// Why it is not given, with the bundled model's threshold [`MIN_SCORE`]; `None`
    /// when it is.
    pub doubt: Option<Doubt>,
}

impl Reading {
    /// The date, or why there is none.
    pub fn date(&self) -> core::result::Result<&IsoDate, Doubt> {
        match self.doubt {
            None => Ok(&self.date),
            Some(doubt) => Err(doubt),
        }
    }
}

/// How to decode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Search {
    /// Greedy decoding.
    Greedy,
    /// Beam search with this beam size (the best hypothesis; no length penalty: every
    /// answer has the same length).
    Beam(usize),
}

/// Normalises one phrase with the date model: source ids into `src` (its length is the
/// longest phrase accepted, at most the model's `max_src_len`), the answer from greedy
/// decoding or beam search, using `scratch` (`model.greedy_scratch_bytes()` or
/// `model.beam_scratch_bytes(beam)`). The reading carries its score and the verdict of
/// [`doubt`] with [`MIN_SCORE`].
///
/// # Example
///
/// ```
/// # #[repr(C, align(16))] struct Aligned<T: ?Sized>(T);
/// # static BLOB: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/dates/dates.pfm")));
/// # fn main() -> Result<(), picoformer::Error> {
/// use picoformer::{dates, Model, Scratch};
/// // The bundled date model (phrase characters in, ISO date characters out).
/// let model = Model::from_blob(&BLOB.0)?;
/// let mut scratch = Scratch::<{ 96 * 1024 }>::new(); // at least model.beam_scratch_bytes(4)
/// let mut buffer = [0u32; 48];
/// let reading = dates::normalise(&model, "sat 28th of november, 2026", dates::Search::Beam(4), &mut buffer, scratch.as_bytes_mut())?;
/// assert_eq!(reading.date().map(|date| date.as_str()), Ok("2026-11-28"));
/// # Ok(()) }
/// ```
pub fn normalise(
    model: &Model,
    text: &str,
    search: Search,
    src: &mut [u32],
    scratch: &mut [u8],
) -> Result<Reading> {
    let (date, score) = read(model, text, search, src, scratch)?;
    let doubt = doubt(text, &date, score, MIN_SCORE);
    Ok(Reading { date, score, doubt })
}

/// The model's answer and its log-probability, unchecked.
fn read(
    model: &Model,
    text: &str,
    search: Search,
    src: &mut [u32],
    scratch: &mut [u8],
) -> Result<(IsoDate, f32)> {
    let max_src = src.len().min(model.config().dims.max_src_len);
    let n = encode_source(text, src.get_mut(..max_src).unwrap_or(&mut []))?;
    let src = src.get(..n).unwrap_or(&[]);
    match search {
        Search::Greedy => {
            let mut out = [0u32; MAX_TOKENS];
            let greedy = model.greedy(src, MAX_TOKENS, &mut out, scratch)?;
            let tokens = out.get(..greedy.len).unwrap_or(&[]);
            Ok((IsoDate::from_tokens(tokens), greedy.score))
        }
        Search::Beam(beam) => {
            let params = BeamParams {
                beam,
                top: 1,
                alpha: 0.0,
                max_len: MAX_TOKENS,
            };
            // alpha 0: the score is the plain log-probability, as greedy's.
            let best = model.beam_search(src, &params, scratch)?;
            Ok(best
                .get(0)
                .map_or((IsoDate::from_tokens(&[]), f32::NEG_INFINITY), |h| {
                    (IsoDate::from_tokens(h.tokens), h.score)
                }))
        }
    }
}
