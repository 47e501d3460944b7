//! llama2.c's tokenizer (`tokenizer.bin`, `tok512.bin`): its file format and its BPE
//! encode and decode, as `run.c` does them (host only for now).
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

use anyhow::{bail, ensure, Result};
use std::collections::HashMap;

/// A llama2.c tokenizer.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    pieces: Vec<Vec<u8>>,
    scores: Vec<f32>,
    lookup: HashMap<Vec<u8>, u32>,
}

/// Beginning-of-sequence id of llama's sentencepiece vocabulary.
const BOS: u32 = 1;

impl Tokenizer {
    /// Reads `tokenizer.bin` for a model of `vocab_size` tokens.
    pub fn parse(bytes: &[u8], vocab_size: usize) -> Result<Self> {
        let mut at = 0usize;
        let mut take = |n: usize, what: &str| -> Result<&[u8]> {
            let end = at.checked_add(n).filter(|&e| e <= bytes.len());
            let Some(end) = end else {
                bail!(
                    "tokenizer file truncated: {what} needs bytes {at}..{} of {}",
                    at.saturating_add(n),
                    bytes.len()
                );
            };
            let field = &bytes[at..end];
            at = end;
            Ok(field)
        };
        let word = |b: &[u8]| [b[0], b[1], b[2], b[3]];
        let max_len = i32::from_le_bytes(word(take(4, "max_token_length")?));
        ensure!(
            max_len > 0,
            "tokenizer max_token_length is {max_len}, must be positive"
        );
        let (mut pieces, mut scores) = (Vec::new(), Vec::new());
        for id in 0..vocab_size {
            let score = f32::from_le_bytes(word(take(4, "a score")?));
            let len = i32::from_le_bytes(word(take(4, "a length")?));
            ensure!(
                (0..=max_len).contains(&len),
                "tokenizer token {id} has length {len}, outside 0..={max_len}"
            );
            pieces.push(take(len as usize, "a token's bytes")?.to_vec());
            scores.push(score);
        }
        ensure!(
            at == bytes.len(),
            "tokenizer file has {} bytes after its {vocab_size} tokens (a tokenizer of another vocabulary?)",
            bytes.len() - at
        );
        let lookup = pieces
            .iter()
            .enumerate()
            .map(|(i, p)| (p.clone(), i as u32))
            .collect();
        Ok(Tokenizer {
            pieces,
            scores,
            lookup,
        })
    }

    /// The tokens of `text`, starting with bos (see the module documentation).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let vocab = self.pieces.len() as u32;
        let mut body = Vec::new();
        if !text.is_empty() {
            match self.lookup.get(b" ".as_slice()) {
                Some(&space) => body.push(space),
                None => bail!("the tokenizer has no \" \" piece for the dummy prefix"),
            }
        }
        let mut utf8 = [0u8; 4];
        for ch in text.chars() {
            let bytes = ch.encode_utf8(&mut utf8).as_bytes();
            match self.lookup.get(bytes) {
                Some(&id) => body.push(id),
                None => {
                    for &b in bytes {
                        let id = u32::from(b) + 3;
                        ensure!(
                            id < vocab,
                            "character {ch:?} has no piece and its byte fallback token {id} is outside the vocabulary"
                        );
                        body.push(id);
                    }
                }
            }
        }
        loop {
            let mut best: Option<(f32, u32, usize)> = None;
            for (i, pair) in body.windows(2).enumerate() {
                let merged = [
                    self.pieces[pair[0] as usize].as_slice(),
                    &self.pieces[pair[1] as usize],
                ]
                .concat();
                if let Some(&id) = self.lookup.get(&merged) {
                    let score = self.scores[id as usize];
                    if best.is_none_or(|(s, _, _)| score > s) {
                        best = Some((score, id, i));
                    }
                }
            }
            let Some((_, id, i)) = best else { break };
            body[i] = id;
            body.remove(i + 1);
        }
        Ok([&[BOS][..], &body].concat())
    }

    /// The bytes of `token` printed after `prev`.
    pub fn decode(&self, prev: u32, token: u32) -> Result<Vec<u8>> {
        let Some(piece) = self.pieces.get(token as usize) else {
            bail!(
                "token {token} is outside the tokenizer's {} pieces",
                self.pieces.len()
            );
        };
        let piece = match piece.as_slice() {
            [b' ', rest @ ..] if prev == BOS => rest,
            p => p,
        };
        if let [b'<', b'0', b'x', hi, lo, b'>'] = piece {
            if let Ok(byte) = u8::from_str_radix(&String::from_utf8_lossy(&[*hi, *lo]), 16) {
                return Ok(vec![byte]);
            }
        }
        Ok(piece.to_vec())
    }

    /// The text of `tokens` generated after `prev` (invalid UTF-8 replaced).
    pub fn decode_all(&self, mut prev: u32, tokens: &[u32]) -> Result<String> {
        let mut bytes = Vec::new();
        for &t in tokens {
            bytes.extend(self.decode(prev, t)?);
            prev = t;
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}
