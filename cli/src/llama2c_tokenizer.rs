//! llama2.c's tokenizer (`tokenizer.bin`, `tok512.bin`) on the host: the engine's no_std
//! implementation ([`picoformer::tokenizer::Llama2cTokenizer`], the one the firmware
//! runs) over an owned file and index, with `Vec`/`String` results.

use anyhow::Result;
use picoformer::tokenizer::{self, Llama2cTokenizer};

/// A llama2.c tokenizer.
#[derive(Debug, Clone)]
pub struct Tokenizer(Llama2cTokenizer<Vec<u8>, Vec<u32>>);

impl Tokenizer {
    /// Reads `tokenizer.bin` for a model of `vocab_size` tokens.
    pub fn parse(bytes: &[u8], vocab_size: usize) -> Result<Self> {
        let index_len = tokenizer::index_len(vocab_size)
            .ok_or_else(|| anyhow::anyhow!("vocabulary of {vocab_size} tokens is too large"))?;
        let index = vec![0u32; index_len];
        Ok(Tokenizer(Llama2cTokenizer::new(
            bytes.to_vec(),
            vocab_size,
            index,
        )?))
    }

    /// The tokens of `text`, starting with bos (see the engine's module documentation).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let mut out = vec![0u32; tokenizer::max_encoded_len(text)];
        let len = self.0.encode(text, &mut out)?;
        out.truncate(len);
        Ok(out)
    }

    /// The bytes of `token` printed after `prev`.
    pub fn decode(&self, prev: u32, token: u32) -> Result<Vec<u8>> {
        Ok(self.0.decode(prev, token)?.to_vec())
    }

    /// The text of `tokens` generated after `prev` (invalid UTF-8 replaced).
    pub fn decode_all(&self, mut prev: u32, tokens: &[u32]) -> Result<String> {
        let mut bytes = Vec::new();
        for &t in tokens {
            bytes.extend_from_slice(self.0.decode(prev, t)?);
            prev = t;
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}
