//! Printing generated text as it comes: token pieces are bytes, and a UTF-8 character
//! may be split over two tokens (llama's byte-fallback pieces `<0xE2>` …), so text is
//! released only up to the last complete character, with invalid bytes replaced exactly
//! as [`String::from_utf8_lossy`] replaces them in the whole: the pieces printed add up
//! to the text of the finished generation.

/// Bytes in, the text that can be printed so far out.
#[derive(Debug, Default)]
pub struct Utf8Stream {
    /// The start of a character whose remaining bytes have not come yet.
    pending: Vec<u8>,
}

impl Utf8Stream {
    /// The text `bytes` complete, after what earlier calls returned.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut text = String::new();
        let mut rest = self.pending.as_slice();
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    text.push_str(valid);
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    text.push_str(&String::from_utf8_lossy(valid));
                    match e.error_len() {
                        // Invalid bytes: one replacement character, as from_utf8_lossy.
                        Some(n) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[n..];
                        }
                        // A character cut off at the end: wait for its other bytes.
                        None => {
                            rest = after;
                            break;
                        }
                    }
                }
            }
        }
        self.pending = rest.to_vec();
        text
    }

    /// The end of the text: a character left incomplete is one replacement character.
    pub fn finish(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Split anywhere, the pieces add up to `from_utf8_lossy` of the whole.
    #[test]
    fn pieces_add_up_to_the_lossy_whole() {
        let samples: [&[u8]; 5] = [
            "héllo wörld – ✓ 𝄞".as_bytes(),
            b"ab\xe2\x82",
            b"\xff\xfe a \xe2\x28\xa1 b \xf0\x9f\x98",
            b"\xc3",
            b"",
        ];
        for bytes in samples {
            let whole = String::from_utf8_lossy(bytes).into_owned();
            for a in 0..=bytes.len() {
                for b in a..=bytes.len() {
                    let mut stream = Utf8Stream::default();
                    let text = [
                        stream.push(&bytes[..a]),
                        stream.push(&bytes[a..b]),
                        stream.push(&bytes[b..]),
                        stream.finish(),
                    ]
                    .concat();
                    assert_eq!(text, whole, "{bytes:?} split at {a}, {b}");
                }
            }
        }
    }
}
