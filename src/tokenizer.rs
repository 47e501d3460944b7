//! llama2.c's tokenizer (`tokenizer.bin`, `tok512.bin`; feature `llama`), read in place:
//! its file format and its BPE encode and decode, as `run.c` does them, without
//! allocation (the caller lends an index of `2 V` words).
//!
//! ```text
//! int32 max_token_length
//! per token (vocab_size of them, as many as the model's vocabulary):
//!     float32 score, int32 length, `length` bytes of UTF-8
//! ```
//!
//! Encode: bos, a "dummy prefix" space piece (for non-empty text), one piece per UTF-8
//! character (a character without a piece becomes its bytes, token `byte + 3`, as
//! sentencepiece's byte fallback), then, repeatedly, the adjacent pair whose concatenation
//! is a piece of the highest score (the first such pair on ties) is merged, until none is.
//! Decode: a piece after bos loses its leading space; a piece `<0xXX>` is that byte.
//!
//! ```
//! use picoformer::tokenizer::{index_len, Llama2cTokenizer};
//! // A made-up tokenizer of 5 pieces: "<unk>", "<s>", "</s>", " ", "a".
//! let mut file = 8i32.to_le_bytes().to_vec();
//! for piece in ["<unk>", "<s>", "</s>", " ", "a"] {
//!     file.extend(0f32.to_le_bytes());
//!     file.extend((piece.len() as i32).to_le_bytes());
//!     file.extend(piece.as_bytes());
//! }
//! let mut index = [0u32; 10];
//! assert_eq!(index_len(5), Some(10));
//! let tokenizer = Llama2cTokenizer::new(&file[..], 5, &mut index[..])?;
//! let mut tokens = [0u32; 8];
//! let n = tokenizer.encode("aa", &mut tokens)?;
//! assert_eq!(&tokens[..n], &[1, 3, 4, 4]);
//! let text = tokenizer.decode_text::<16>(1, &tokens[1..n])?;
//! assert_eq!(text.as_str(), "aa"); // the leading space after bos is dropped
//! # Ok::<(), picoformer::tokenizer::TokenizerError>(())
//! ```

use core::cmp::Ordering;

/// Beginning-of-sequence id of llama's sentencepiece vocabulary.
pub const BOS: u32 = 1;

/// Token of byte `b` in sentencepiece's byte fallback: `b + BYTE_TOKEN_OFFSET`.
const BYTE_TOKEN_OFFSET: u32 = 3;

/// Every byte value, so a `<0xXX>` piece decodes to a slice that lives as long as the
/// tokenizer without a copy.
static BYTES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = i as u8;
        i += 1;
    }
    table
};

/// Words of the index [`Llama2cTokenizer::new`] needs for `vocab` tokens: an offset per
/// token and the tokens sorted by their bytes (`None` when it overflows).
pub const fn index_len(vocab: usize) -> Option<usize> {
    vocab.checked_mul(2)
}

/// Most tokens [`Llama2cTokenizer::encode`] writes for `text`: bos, the dummy prefix and
/// one per byte (before any merge).
pub const fn max_encoded_len(text: &str) -> usize {
    text.len().saturating_add(2)
}

/// What is wrong with a tokenizer file or a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TokenizerError {
    /// The file ends inside a field: `what` needs bytes `start..end` of `len`.
    Truncated {
        /// The field.
        what: &'static str,
        /// Its first byte.
        start: usize,
        /// One past its last byte.
        end: usize,
        /// The file's length.
        len: usize,
    },
    /// `max_token_length` is not positive.
    MaxTokenLength {
        /// The value in the file.
        found: i32,
    },
    /// A token's length is negative or above `max_token_length`.
    TokenLength {
        /// The token.
        token: usize,
        /// Its length in the file.
        len: i32,
        /// The file's `max_token_length`.
        max: i32,
    },
    /// Bytes follow the last token: a tokenizer of another vocabulary size.
    TrailingBytes {
        /// How many.
        extra: usize,
        /// The vocabulary size it was read for.
        vocab: usize,
    },
    /// The file is larger than 4 GiB (offsets are 32-bit).
    FileTooLarge {
        /// Its length.
        len: usize,
    },
    /// The index lent to [`Llama2cTokenizer::new`] is shorter than [`index_len`].
    IndexTooSmall {
        /// [`index_len`] of the vocabulary.
        needed: usize,
        /// Its length.
        got: usize,
    },
    /// A token id outside the vocabulary.
    TokenOutOfRange {
        /// The id.
        token: u32,
        /// The vocabulary size.
        vocab: usize,
    },
    /// Encoding non-empty text needs a `" "` piece (the dummy prefix).
    NoSpacePiece,
    /// A character has no piece, and the byte fallback token of one of its bytes is
    /// outside the vocabulary.
    NoByteFallback {
        /// The character.
        character: char,
        /// The byte's fallback token.
        token: u32,
    },
    /// The output buffer is too short.
    OutputTooSmall {
        /// What the call needs (for `encode`: [`max_encoded_len`]).
        needed: usize,
        /// What it got.
        got: usize,
    },
}

impl core::fmt::Display for TokenizerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            TokenizerError::Truncated {
                what,
                start,
                end,
                len,
            } => write!(
                f,
                "tokenizer file truncated: {what} needs bytes {start}..{end} of {len}"
            ),
            TokenizerError::MaxTokenLength { found } => write!(
                f,
                "tokenizer max_token_length is {found}, must be positive"
            ),
            TokenizerError::TokenLength { token, len, max } => write!(
                f,
                "tokenizer token {token} has length {len}, outside 0..={max}"
            ),
            TokenizerError::TrailingBytes { extra, vocab } => write!(
                f,
                "tokenizer file has {extra} bytes after its {vocab} tokens (a tokenizer of another vocabulary?)"
            ),
            TokenizerError::FileTooLarge { len } => {
                write!(f, "tokenizer file of {len} bytes is over 4 GiB")
            }
            TokenizerError::IndexTooSmall { needed, got } => write!(
                f,
                "tokenizer index needs {needed} words (2 per token), got {got}"
            ),
            TokenizerError::TokenOutOfRange { token, vocab } => write!(
                f,
                "token {token} is outside the tokenizer's {vocab} pieces"
            ),
            TokenizerError::NoSpacePiece => {
                write!(f, "the tokenizer has no \" \" piece for the dummy prefix")
            }
            TokenizerError::NoByteFallback { character, token } => write!(
                f,
                "character {character:?} has no piece and its byte fallback token {token} is outside the vocabulary"
            ),
            TokenizerError::OutputTooSmall { needed, got } => {
                write!(f, "output buffer holds {got}, needs {needed}")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TokenizerError {}

/// A llama2.c tokenizer over its file `B` (in flash, or any bytes) and an index `I` of
/// [`index_len`]`(V)` words the caller lends (a static buffer, or a `Vec` on a host).
#[derive(Debug, Clone)]
pub struct Llama2cTokenizer<B, I> {
    file: B,
    /// `[V]` offsets of each token's record (score), then `[V]` token ids sorted by
    /// their bytes (equal pieces by id).
    index: I,
    vocab: usize,
}

/// Reads the little-endian word at `at` (`None` past the end).
fn word(bytes: &[u8], at: usize) -> Option<[u8; 4]> {
    bytes.get(at..at.checked_add(4)?)?.try_into().ok()
}

impl<B: AsRef<[u8]>, I: AsRef<[u32]>> Llama2cTokenizer<B, I> {
    /// Validates `file` as the tokenizer of a `vocab`-token model and fills `index`
    /// (at least [`index_len`]`(vocab)` words). Every malformed field is its own error.
    pub fn new(file: B, vocab: usize, mut index: I) -> Result<Self, TokenizerError>
    where
        I: AsMut<[u32]>,
    {
        let bytes = file.as_ref();
        let len = bytes.len();
        if u32::try_from(len).is_err() {
            return Err(TokenizerError::FileTooLarge { len });
        }
        let needed = index_len(vocab).ok_or(TokenizerError::IndexTooSmall {
            needed: usize::MAX,
            got: index.as_ref().len(),
        })?;
        let got = index.as_ref().len();
        let (offsets, sorted) = index
            .as_mut()
            .get_mut(..needed)
            .ok_or(TokenizerError::IndexTooSmall { needed, got })?
            .split_at_mut(vocab);
        let truncated = |what, start: usize, n: usize| TokenizerError::Truncated {
            what,
            start,
            end: start.saturating_add(n),
            len,
        };
        let max = i32::from_le_bytes(word(bytes, 0).ok_or(truncated("max_token_length", 0, 4))?);
        if max <= 0 {
            return Err(TokenizerError::MaxTokenLength { found: max });
        }
        let mut at = 4usize;
        for (token, offset) in offsets.iter_mut().enumerate() {
            // (at <= len <= u32::MAX: checked above)
            *offset = at as u32;
            word(bytes, at).ok_or(truncated("a score", at, 4))?;
            let length_at = at + 4;
            let length = i32::from_le_bytes(
                word(bytes, length_at).ok_or(truncated("a length", length_at, 4))?,
            );
            if !(0..=max).contains(&length) {
                return Err(TokenizerError::TokenLength {
                    token,
                    len: length,
                    max,
                });
            }
            let start = length_at + 4;
            at = start
                .checked_add(length as usize)
                .filter(|&end| end <= len)
                .ok_or(truncated("a token's bytes", start, length as usize))?;
        }
        if at != len {
            return Err(TokenizerError::TrailingBytes {
                extra: len.saturating_sub(at), // (at < len here)
                vocab,
            });
        }
        for (token, slot) in sorted.iter_mut().enumerate() {
            *slot = token as u32;
        }
        let piece = |token: u32| piece_at(bytes, offsets, token as usize).unwrap_or(&[]);
        crate::sort::sort_by(sorted, |&a, &b| {
            piece(a).cmp(piece(b)).then(a.cmp(&b)).is_lt()
        });
        Ok(Llama2cTokenizer { file, index, vocab })
    }

    /// The vocabulary size.
    pub fn vocab(&self) -> usize {
        self.vocab
    }

    fn offsets(&self) -> &[u32] {
        self.index.as_ref().get(..self.vocab).unwrap_or(&[])
    }

    fn sorted(&self) -> &[u32] {
        let end = self.vocab.saturating_mul(2);
        self.index.as_ref().get(self.vocab..end).unwrap_or(&[])
    }

    /// The bytes of `token` as the file stores them (`<0x0A>` for a byte token).
    pub fn piece(&self, token: u32) -> Result<&[u8], TokenizerError> {
        piece_at(self.file.as_ref(), self.offsets(), token as usize).ok_or(
            TokenizerError::TokenOutOfRange {
                token,
                vocab: self.vocab,
            },
        )
    }

    /// The score of `token` (the merge priority).
    pub fn score(&self, token: u32) -> Result<f32, TokenizerError> {
        let offset = self.offsets().get(token as usize).copied();
        offset
            .and_then(|at| word(self.file.as_ref(), at as usize))
            .map(f32::from_le_bytes)
            .ok_or(TokenizerError::TokenOutOfRange {
                token,
                vocab: self.vocab,
            })
    }

    /// The token whose piece is `head` followed by `tail` (the highest id when pieces
    /// repeat).
    fn lookup(&self, head: &[u8], tail: &[u8]) -> Option<u32> {
        let bytes = self.file.as_ref();
        let offsets = self.offsets();
        let sorted = self.sorted();
        let order = |token: u32| {
            let piece = piece_at(bytes, offsets, token as usize).unwrap_or(&[]);
            piece.iter().cmp(head.iter().chain(tail))
        };
        let after = sorted.partition_point(|&t| order(t) != Ordering::Greater);
        let &found = sorted.get(after.checked_sub(1)?)?;
        (order(found) == Ordering::Equal).then_some(found)
    }

    /// Encodes `text` into `out` (bos first; see the module documentation); returns the
    /// number of tokens. `out` must hold [`max_encoded_len`]`(text)` tokens (past the
    /// count they are work space); a vocabulary without bos is refused
    /// ([`TokenizerError::TokenOutOfRange`]).
    pub fn encode(&self, text: &str, out: &mut [u32]) -> Result<usize, TokenizerError> {
        let needed = max_encoded_len(text);
        let got = out.len();
        let out = out
            .get_mut(..needed)
            .ok_or(TokenizerError::OutputTooSmall { needed, got })?;
        // A vocabulary too small to hold bos would get it out of range.
        if BOS as usize >= self.vocab {
            return Err(TokenizerError::TokenOutOfRange {
                token: BOS,
                vocab: self.vocab,
            });
        }
        let mut n = 0;
        let mut push = |token: u32| {
            // (n < needed: one token per byte at most, plus bos and the prefix)
            if let Some(slot) = out.get_mut(n) {
                *slot = token;
                n += 1;
            }
        };
        push(BOS);
        if !text.is_empty() {
            push(self.lookup(b" ", &[]).ok_or(TokenizerError::NoSpacePiece)?);
        }
        let mut utf8 = [0u8; 4];
        for character in text.chars() {
            let bytes = character.encode_utf8(&mut utf8).as_bytes();
            match self.lookup(bytes, &[]) {
                Some(token) => push(token),
                None => {
                    for &b in bytes {
                        let token = u32::from(b) + BYTE_TOKEN_OFFSET;
                        if token as usize >= self.vocab {
                            return Err(TokenizerError::NoByteFallback { character, token });
                        }
                        push(token);
                    }
                }
            }
        }
        let body = out.get_mut(1..n).unwrap_or(&mut []);
        let merged = self.merge(body)?;
        Ok(merged.wrapping_add(1)) // (merged < n <= out.len())
    }

    /// Merges the best-scoring adjacent pair of `tokens` until none forms a piece;
    /// returns how many tokens are left (at the front).
    fn merge(&self, tokens: &mut [u32]) -> Result<usize, TokenizerError> {
        let mut len = tokens.len();
        loop {
            let mut best: Option<(f32, u32, usize)> = None;
            for (i, pair) in tokens.get(..len).unwrap_or(&[]).windows(2).enumerate() {
                if let [a, b] = *pair {
                    if let Some(token) = self.lookup(self.piece(a)?, self.piece(b)?) {
                        let score = self.score(token)?;
                        if best.is_none_or(|(s, _, _)| score > s) {
                            best = Some((score, token, i));
                        }
                    }
                }
            }
            let Some((_, token, i)) = best else {
                return Ok(len);
            };
            if let Some(slot) = tokens.get_mut(i) {
                *slot = token;
            }
            // Removes the pair's second token: the rest moves one left. (Wrapping: pair i
            // was found, so i + 2 <= len <= tokens.len().)
            for j in i.wrapping_add(1)..len.wrapping_sub(1) {
                let next = tokens.get(j.wrapping_add(1)).copied();
                if let (Some(next), Some(slot)) = (next, tokens.get_mut(j)) {
                    *slot = next;
                }
            }
            len = len.wrapping_sub(1); // (len >= 2, as above)
        }
    }

    /// The bytes `token` prints after `prev`: a piece after bos loses its leading space,
    /// and `<0xXX>` is that byte.
    pub fn decode(&self, prev: u32, token: u32) -> Result<&[u8], TokenizerError> {
        let piece = match self.piece(token)? {
            [b' ', rest @ ..] if prev == BOS => rest,
            piece => piece,
        };
        if let [b'<', b'0', b'x', hi, lo, b'>'] = *piece {
            let value = core::str::from_utf8(&[hi, lo])
                .ok()
                .and_then(|digits| u8::from_str_radix(digits, 16).ok());
            if let Some(value) = value {
                let value = usize::from(value);
                return Ok(BYTES.get(value..=value).unwrap_or(&[]));
            }
        }
        Ok(piece)
    }

    /// Writes the bytes of `tokens`, generated after `prev`, to `out`; returns how many.
    pub fn decode_into(
        &self,
        mut prev: u32,
        tokens: &[u32],
        out: &mut [u8],
    ) -> Result<usize, TokenizerError> {
        let mut n: usize = 0;
        for &token in tokens {
            let bytes = self.decode(prev, token)?;
            // (saturating: an end past usize::MAX is past `out` all the same)
            let end = n.saturating_add(bytes.len());
            let got = out.len();
            let slots = out
                .get_mut(n..end)
                .ok_or(TokenizerError::OutputTooSmall { needed: end, got })?;
            for (slot, &b) in slots.iter_mut().zip(bytes) {
                *slot = b;
            }
            n = end;
            prev = token;
        }
        Ok(n)
    }

    /// The text of `tokens` generated after `prev` as a `heapless::String` of at most `N`
    /// bytes (invalid UTF-8, such as a character cut between byte tokens, becomes
    /// U+FFFD).
    pub fn decode_text<const N: usize>(
        &self,
        prev: u32,
        tokens: &[u32],
    ) -> Result<heapless::String<N>, TokenizerError> {
        let mut bytes = heapless::Vec::<u8, N>::new();
        // (resizing to the capacity cannot fail)
        let _ = bytes.resize(N, 0);
        let len = self.decode_into(prev, tokens, &mut bytes)?;
        bytes.truncate(len);
        lossy(bytes)
    }
}

/// The bytes of `token`'s piece (`None` outside the vocabulary or the file).
fn piece_at<'b>(bytes: &'b [u8], offsets: &[u32], token: usize) -> Option<&'b [u8]> {
    let at = *offsets.get(token)? as usize;
    let len = i32::from_le_bytes(word(bytes, at.checked_add(4)?)?);
    let start = at.checked_add(8)?;
    bytes.get(start..start.checked_add(usize::try_from(len).ok()?)?)
}

/// `bytes` as a string, each invalid sequence replaced by U+FFFD.
fn lossy<const N: usize>(
    bytes: heapless::Vec<u8, N>,
) -> Result<heapless::String<N>, TokenizerError> {
    let too_long = |needed| TokenizerError::OutputTooSmall { needed, got: N };
    if core::str::from_utf8(&bytes).is_ok() {
        return heapless::String::from_utf8(bytes).map_err(|_| too_long(N));
    }
    // Written through our own count into a full-length buffer, then cut: heapless's
    // `push` counts with core's generic `+=`, which an overflow-checked build checks.
    let mut text = heapless::Vec::<u8, N>::new();
    // (resizing to the capacity cannot fail)
    let _ = text.resize(N, 0);
    let mut n = 0usize;
    let mut put = |piece: &[u8]| {
        let end = n.checked_add(piece.len()).filter(|&end| end <= N);
        let slots = end.and_then(|end| text.get_mut(n..end));
        let (Some(end), Some(slots)) = (end, slots) else {
            return Err(too_long(N.saturating_add(1)));
        };
        for (slot, &b) in slots.iter_mut().zip(piece) {
            *slot = b;
        }
        n = end;
        Ok(())
    };
    let mut replacement = [0u8; 4];
    let replacement = char::REPLACEMENT_CHARACTER
        .encode_utf8(&mut replacement)
        .as_bytes();
    let mut rest: &[u8] = &bytes;
    while !rest.is_empty() {
        let (valid, skip) = match core::str::from_utf8(rest) {
            Ok(valid) => (valid, rest.len()),
            Err(e) => {
                let valid_len = e.valid_up_to();
                let valid = rest
                    .get(..valid_len)
                    .and_then(|v| core::str::from_utf8(v).ok());
                // (valid_len <= rest.len(): saturating changes nothing)
                let bad = e
                    .error_len()
                    .unwrap_or(rest.len().saturating_sub(valid_len));
                (valid.unwrap_or(""), valid_len.saturating_add(bad.max(1)))
            }
        };
        put(valid.as_bytes())?;
        if skip > valid.len() {
            put(replacement)?;
        }
        rest = rest.get(skip..).unwrap_or(&[]);
    }
    text.truncate(n);
    heapless::String::from_utf8(text).map_err(|_| too_long(N))
}
