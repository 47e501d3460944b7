//! The text side of the bundled date normaliser (`models/dates/dates.pfm`, trained by
//! `tools/dates/train.py`): "sat 28th of november, 2026" → "2026-11-28".
//!
//! Characters are tokens. Ids 0–3 are pad, bos, eos and unknown; the source alphabet
//! [`SOURCE_CHARS`] and the target alphabet [`TARGET_CHARS`] follow, in order. The
//! tokenizer folds ASCII capitals to small letters, so letter case never matters;
//! any other character outside the alphabet is the unknown token. The tables are the
//! ones the training script writes to `models/dates/tokenizer.json` (a test checks).
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

/// An ISO date as the model wrote it: up to [`ISO_LEN`] characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsoDate {
    bytes: [u8; ISO_LEN],
    len: usize,
}

impl IsoDate {
    /// Reads generated target ids up to eos (special ids, which a trained model does not
    /// emit before eos, are skipped).
    pub fn from_tokens(tokens: &[u32]) -> Self {
        let mut date = IsoDate {
            bytes: [0; ISO_LEN],
            len: 0,
        };
        for &id in tokens {
            if id == 2 {
                break;
            }
            let Some(c) = target_char(id) else { continue };
            if let Some(slot) = date.bytes.get_mut(date.len) {
                // TARGET_CHARS is ASCII, so one byte per character.
                *slot = c as u8;
                date.len += 1;
            }
        }
        date
    }

    /// The date text, e.g. `"2026-11-28"`.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.bytes.get(..self.len).unwrap_or(&[])).unwrap_or("")
    }
}

impl core::fmt::Display for IsoDate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
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
/// `model.beam_scratch_bytes(beam)`).
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
/// let mut src = [0u32; 48];
/// let n = dates::encode_source("11/28/26", &mut src)?;
/// let src = &src[..n];
/// let mut scratch = Scratch::<{ 96 * 1024 }>::new(); // at least model.beam_scratch_bytes(4)
/// let mut buffer = [0u32; 48];
/// let date = dates::normalise(&model, "sat 28th of november, 2026", dates::Search::Beam(4), &mut buffer, scratch.as_bytes_mut())?;
/// assert_eq!(date.as_str(), "2026-11-28");
/// let _ = src;
/// # Ok(()) }
/// ```
pub fn normalise(
    model: &Model,
    text: &str,
    search: Search,
    src: &mut [u32],
    scratch: &mut [u8],
) -> Result<IsoDate> {
    let max_src = src.len().min(model.config().dims.max_src_len);
    let n = encode_source(text, src.get_mut(..max_src).unwrap_or(&mut []))?;
    let src = src.get(..n).unwrap_or(&[]);
    match search {
        Search::Greedy => {
            let mut out = [0u32; MAX_TOKENS];
            let len = model.greedy(src, MAX_TOKENS, &mut out, scratch)?.len;
            Ok(IsoDate::from_tokens(out.get(..len).unwrap_or(&[])))
        }
        Search::Beam(beam) => {
            let params = BeamParams {
                beam,
                top: 1,
                alpha: 0.0,
                max_len: MAX_TOKENS,
            };
            let best = model.beam_search(src, &params, scratch)?;
            Ok(IsoDate::from_tokens(
                best.get(0).map(|h| h.tokens).unwrap_or(&[]),
            ))
        }
    }
}
