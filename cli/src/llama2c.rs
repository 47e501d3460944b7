//! llama2.c checkpoints (`picoformer convert --from llama2c MODEL.bin`): the legacy format
//! of Karpathy's `export.py` (its "version 0", what `run.c` reads) into a model blob.
//!
//! ```text
//! 7 x int32   dim, hidden_dim, n_layers, n_heads, n_kv_heads,
//!             vocab_size (negative: separate classifier), seq_len
//! float32     token_embedding [vocab, dim]
//!             rms_att [L, dim], wq [L, dim, dim], wk [L, kvd, dim], wv [L, kvd, dim],
//!             wo [L, dim, dim], rms_ffn [L, dim], w1 [L, hidden, dim],
//!             w2 [L, dim, hidden], w3 [L, hidden, dim], rms_final [dim],
//!             freq_cis_real [seq_len, dk/2], freq_cis_imag [seq_len, dk/2],
//!             wcls [vocab, dim]   (only with a separate classifier)
//! ```
//! (`kvd = n_kv_heads * dk`, `dk = dim / n_heads`.) The checkpoint stores neither the
//! norm epsilon nor `rope_theta`: they are options (llama2.c's 1e-5 and 10000), and the
//! stored rotary tables are checked against `rope_theta`, so a model trained with another
//! base is refused rather than converted wrongly. llama2.c rotates adjacent pairs, so the
//! blob's positional is [`Positional::Rope`]. `W1` and `W3` are stacked into the blob's
//! gated `FfnW1` `[2 hidden, dim]`.
//!
//! The newer versioned exports (magic `ak42`, versions 1 and 2) are refused with an error
//! that says so.

use crate::blob_writer::write_blob;
use anyhow::{bail, ensure, Result};
use picoformer::blob::TensorKind as K;
use picoformer::config::{Activation, Config, Dims, FeedForward, Norm, NormKind, Positional};

/// `export.py`'s magic of the versioned formats: "ak42" read as a little-endian u32.
const VERSIONED_MAGIC: u32 = 0x616b_3432;
/// Bytes of the legacy header: seven int32.
const HEADER_BYTES: usize = 28;
/// Largest difference allowed between a stored rotary table entry and the one computed
/// from `rope_theta` (float32 tables: the angle's rounding at position 512 is ~6e-5).
const ROPE_TABLE_TOLERANCE: f64 = 1e-3;

/// What a llama2.c checkpoint does not say.
#[derive(Debug, Clone, Copy)]
pub struct Llama2cOptions {
    /// Base of the rotary frequencies (llama2.c: 10000).
    pub rope_theta: f32,
    /// RMSNorm epsilon (llama2.c: 1e-5).
    pub norm_eps: f32,
    /// Beginning-of-sequence id (llama's sentencepiece: 1).
    pub bos_id: u32,
    /// End-of-sequence id, where generation stops (llama's sentencepiece: 2).
    pub eos_id: u32,
    /// Store the q/k weight rows in Hugging Face's order ([`rotate_half_rows`]) with the
    /// rotate-half pairing ([`Positional::RopeHalf`]): the same model, computed the way
    /// `LlamaForCausalLM` does.
    pub rotate_half: bool,
}

impl Default for Llama2cOptions {
    fn default() -> Self {
        Llama2cOptions {
            rope_theta: 10000.0,
            norm_eps: 1e-5,
            bos_id: 1,
            eos_id: 2,
            rotate_half: false,
        }
    }
}

/// The header's seven fields.
#[derive(Debug, Clone, Copy)]
struct Header {
    dim: usize,
    hidden_dim: usize,
    n_layers: usize,
    n_heads: usize,
    n_kv_heads: usize,
    vocab: usize,
    shared_classifier: bool,
    seq_len: usize,
}

fn read_header(bytes: &[u8]) -> Result<Header> {
    if bytes.len() >= 8 {
        let magic = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        if magic == VERSIONED_MAGIC {
            let version = i32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
            bail!(
                "llama2.c versioned checkpoint (magic \"ak42\", version {version}) is not supported: \
                 export it in the legacy format (llama2.c's export.py --version 0)"
            );
        }
    }
    ensure!(
        bytes.len() >= HEADER_BYTES,
        "llama2.c checkpoint truncated: the header needs {HEADER_BYTES} bytes, the file has {}",
        bytes.len()
    );
    let field = |i: usize| {
        i32::from_le_bytes([
            bytes[4 * i],
            bytes[4 * i + 1],
            bytes[4 * i + 2],
            bytes[4 * i + 3],
        ])
    };
    let names = [
        "dim",
        "hidden_dim",
        "n_layers",
        "n_heads",
        "n_kv_heads",
        "vocab_size",
        "seq_len",
    ];
    let mut values = [0usize; 7];
    for (i, name) in names.iter().enumerate() {
        let v = field(i);
        let magnitude = if i == 5 {
            v.unsigned_abs()
        } else {
            v.max(0) as u32
        };
        ensure!(
            (i == 5 && v != 0) || v > 0,
            "llama2.c header field {name} is {v}, must be {}",
            if i == 5 { "non-zero" } else { "positive" }
        );
        values[i] = magnitude as usize;
    }
    let [dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab, seq_len] = values;
    ensure!(
        dim % n_heads == 0,
        "llama2.c header: dim {dim} is not a multiple of n_heads {n_heads}"
    );
    ensure!(
        n_kv_heads <= n_heads && n_heads % n_kv_heads == 0,
        "llama2.c header: n_heads {n_heads} is not a multiple of n_kv_heads {n_kv_heads}"
    );
    ensure!(
        (dim / n_heads) % 2 == 0,
        "llama2.c header: the head width dim / n_heads = {} is odd (rotary pairs need it even)",
        dim / n_heads
    );
    Ok(Header {
        dim,
        hidden_dim,
        n_layers,
        n_heads,
        n_kv_heads,
        vocab,
        shared_classifier: field(5) > 0,
        seq_len,
    })
}

/// Converts a llama2.c legacy checkpoint into an f32 model blob.
pub fn convert_llama2c(bytes: &[u8], options: &Llama2cOptions) -> Result<Vec<u8>> {
    let h = read_header(bytes)?;
    let dk = h.dim / h.n_heads;
    let kvd = h.n_kv_heads * dk; // at most dim (n_kv_heads <= n_heads)
    let (d, f, l) = (h.dim, h.hidden_dim, h.n_layers);
    // The tensors in file order: (name, elements). The header's fields are up to 2^31
    // each: every product and sum is checked, so a forged header is an error, not a
    // wrapped size (which could match a short file).
    let product = |factors: &[usize]| factors.iter().try_fold(1usize, |p, &f| p.checked_mul(f));
    let half_rope = dk / 2;
    let mut sizes = vec![
        ("token_embedding", product(&[h.vocab, d])),
        ("rms_att", product(&[l, d])),
        ("wq", product(&[l, d, d])),
        ("wk", product(&[l, kvd, d])),
        ("wv", product(&[l, kvd, d])),
        ("wo", product(&[l, d, d])),
        ("rms_ffn", product(&[l, d])),
        ("w1", product(&[l, f, d])),
        ("w2", product(&[l, d, f])),
        ("w3", product(&[l, f, d])),
        ("rms_final", Some(d)),
        ("freq_cis_real", product(&[h.seq_len, half_rope])),
        ("freq_cis_imag", product(&[h.seq_len, half_rope])),
    ];
    if !h.shared_classifier {
        sizes.push(("wcls", product(&[h.vocab, d])));
    }
    let too_large = || {
        anyhow::anyhow!(
            "llama2.c header: dim {d}, hidden_dim {f}, n_layers {l}, vocab_size {}, seq_len {} \
             describe a checkpoint larger than memory can address",
            h.vocab,
            h.seq_len
        )
    };
    let sizes: Vec<(&str, usize)> = sizes
        .into_iter()
        .map(|(name, n)| n.map(|n| (name, n)))
        .collect::<Option<_>>()
        .ok_or_else(too_large)?;
    let expected = sizes
        .iter()
        .try_fold(0usize, |sum, &(_, n)| sum.checked_add(n))
        .and_then(|floats| floats.checked_mul(4))
        .and_then(|bytes| bytes.checked_add(HEADER_BYTES))
        .ok_or_else(too_large)?;
    if bytes.len() < expected {
        // Name the first tensor that is cut off.
        let mut at = HEADER_BYTES;
        let mut cut = "";
        for &(name, n) in &sizes {
            at += 4 * n;
            if at > bytes.len() {
                cut = name;
                break;
            }
        }
        bail!(
            "llama2.c checkpoint truncated: its header implies {expected} bytes, the file has {} \
             (tensor {cut} is cut off)",
            bytes.len()
        );
    }
    ensure!(
        bytes.len() == expected,
        "llama2.c checkpoint has {} bytes after the {expected} its header implies",
        bytes.len() - expected
    );
    let data: Vec<f32> = bytes[HEADER_BYTES..]
        .chunks_exact(4)
        .map(|w| f32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        .collect();
    let mut tensors = std::collections::HashMap::new();
    let mut at = 0;
    for &(name, n) in &sizes {
        crate::checkpoint::check_finite(name, &data[at..at + n])?;
        tensors.insert(name, &data[at..at + n]);
        at += n;
    }
    check_rope_tables(
        &h,
        tensors["freq_cis_real"],
        tensors["freq_cis_imag"],
        options.rope_theta,
    )?;

    let config = Config {
        dims: Dims {
            d_model: d,
            n_heads: h.n_heads,
            d_ff: f,
            n_encoder_layers: 0,
            n_decoder_layers: l,
            src_vocab: 0,
            tgt_vocab: h.vocab,
            max_src_len: 0,
            max_tgt_len: h.seq_len,
            type_vocab: 0,
            stem_channels: 0,
            n_kv_heads: h.n_kv_heads,
            feed_forward: FeedForward::Gated,
            kv_cache: picoformer::config::CacheType::F32,
        },
        norm: Norm::Pre,
        activation: Activation::Silu,
        positional: if options.rotate_half {
            Positional::RopeHalf
        } else {
            Positional::Rope
        },
        layer_norm_eps: options.norm_eps,
        norm_kind: NormKind::RmsNorm,
        rope_theta: options.rope_theta,
        scale_embeddings: false,
        tie_output: h.shared_classifier,
        final_norm: true,
        src_embed_norm: false,
        bos_id: options.bos_id,
        eos_id: options.eos_id,
        pad_id: 0,
    };
    config.validate()?;
    // W1 and W3 of each layer stacked: the gated network's [2F, D] first matrix.
    let (w1, w3) = (tensors["w1"], tensors["w3"]);
    let stacked: Vec<Vec<f32>> = (0..l)
        .map(|layer| {
            let rows = layer * f * d..(layer + 1) * f * d;
            [&w1[rows.clone()], &w3[rows]].concat()
        })
        .collect();
    let per_layer = |name: &str, layer: usize, n: usize| -> &[f32] {
        &tensors[name][layer * n..(layer + 1) * n]
    };
    // Rotate-half: q/k rows permuted per layer as Hugging Face's converter does.
    let permuted = |name: &str, rows: usize, heads: usize| -> Vec<Vec<f32>> {
        (0..l)
            .map(|layer| rotate_half_rows(per_layer(name, layer, rows * d), heads, d))
            .collect()
    };
    let (wq_half, wk_half) = if options.rotate_half {
        (
            permuted("wq", d, h.n_heads),
            permuted("wk", kvd, h.n_kv_heads),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let blob = write_blob(&config, |_, slot| {
        let layer = slot.layer;
        Some(match slot.kind {
            K::TgtEmbed => tensors["token_embedding"],
            K::OutWeight => tensors.get("wcls").copied()?,
            K::DecNormGamma => tensors["rms_final"],
            K::DecNorm1Gamma => per_layer("rms_att", layer, d),
            K::DecSelfQWeight if options.rotate_half => wq_half.get(layer)?.as_slice(),
            K::DecSelfKWeight if options.rotate_half => wk_half.get(layer)?.as_slice(),
            K::DecSelfQWeight => per_layer("wq", layer, d * d),
            K::DecSelfKWeight => per_layer("wk", layer, kvd * d),
            K::DecSelfVWeight => per_layer("wv", layer, kvd * d),
            K::DecSelfOutWeight => per_layer("wo", layer, d * d),
            K::DecNorm3Gamma => per_layer("rms_ffn", layer, d),
            K::DecFfnW1 => stacked.get(layer)?.as_slice(),
            K::DecFfnW2 => per_layer("w2", layer, d * f),
            _ => return None,
        })
    })
    .map_err(anyhow::Error::msg)?;
    Ok(blob)
}

/// The rows of a q or k projection `[heads * dk, cols]` reordered from adjacent rotary
/// pairs to rotate-half pairs, as Hugging Face's `convert_llama_weights_to_hf.py`
/// permutes them: in each head, output row `t * dk/2 + j` is input row `2j + t`.
pub fn rotate_half_rows(w: &[f32], heads: usize, cols: usize) -> Vec<f32> {
    let rows = w.len() / cols.max(1);
    let dk = rows / heads.max(1);
    let half = dk / 2;
    let mut out = vec![0.0; w.len()];
    for head in 0..heads {
        for j in 0..half {
            for t in 0..2 {
                let from = (head * dk + 2 * j + t) * cols;
                let to = (head * dk + t * half + j) * cols;
                out[to..to + cols].copy_from_slice(&w[from..from + cols]);
            }
        }
    }
    out
}

/// The stored `cos`/`sin` tables `[seq_len, dk/2]` agree with `rope_theta`.
fn check_rope_tables(h: &Header, real: &[f32], imag: &[f32], rope_theta: f32) -> Result<()> {
    let dk = h.dim / h.n_heads;
    let half = dk / 2;
    let mut worst = (0.0f64, 0, 0);
    for position in 0..h.seq_len {
        for i in 0..half {
            let frequency = 1.0 / f64::from(rope_theta).powf((2 * i) as f64 / dk as f64);
            let angle = position as f64 * frequency;
            let at = position * half + i;
            let diff = (f64::from(real[at]) - angle.cos())
                .abs()
                .max((f64::from(imag[at]) - angle.sin()).abs());
            if diff.is_nan() || diff > worst.0 {
                worst = (diff, position, i);
            }
        }
    }
    ensure!(
        worst.0 <= ROPE_TABLE_TOLERANCE,
        "the checkpoint's rotary tables do not match rope_theta = {rope_theta} (they differ by {:.3e} \
         at position {}, pair {}): pass the model's --rope-theta",
        worst.0,
        worst.1,
        worst.2
    );
    Ok(())
}
