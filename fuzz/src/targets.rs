//! The bodies of the fuzz targets, shared by `fuzz/fuzz_targets/*.rs` (libFuzzer) and
//! `tests/fuzz_regressions.rs` (which replays every committed input in
//! `tests/fuzz_inputs/<target>/`). Each body panics only when a property fails; the
//! engine itself must never panic, loop forever or touch memory outside its buffers.
//!
//! - [`blob`]: `Model::from_blob` on arbitrary bytes; a blob it accepts is decoded.
//! - [`blob_mutate`]: structured edits (header fields, table entries, truncation,
//!   non-finite weights) of the valid golden `tied` blob, then load and decode.
//! - [`convert`]: `convert_torch` on arbitrary safetensors bytes and a small config; a
//!   blob it writes must load.
//! - [`api`]: the inference API (Rust and C) with arbitrary tokens, lengths, beam
//!   settings, scratch and output sizes, over small valid models.
//! - [`llama2c`]: `convert_llama2c` (`convert --from llama2c`) on arbitrary checkpoint
//!   bytes; a blob it writes must load and decode.
//! - [`hf_llama`]: `convert_hf_llama` (`convert --from hf-llama`) on arbitrary
//!   safetensors bytes for small fixed configs, or on an arbitrary `config.json` too.
//! - [`wav`]: the WAV reader of `transcribe --wav` on arbitrary bytes, then the downmix
//!   and resampling to 16 kHz of what it reads.
//! - [`tokenizer`]: the engine's no_std llama2.c tokenizer (and the host wrapper) on an
//!   arbitrary `tokenizer.bin` table, vocabulary size and text: encode and decode.
#![allow(dead_code)] // each includer uses some of the targets
#![allow(unsafe_code)] // the C API is part of what is fuzzed

use picoformer::blob::{TABLE_ENTRY_BYTES, TABLE_OFFSET};
use picoformer::ffi::*;
use picoformer::{Activation, BeamParams, Config, Dims, Model, Norm, Positional};
use picoformer_cli::{config_json::ConfigJson, convert::convert_torch, AlignedBytes};
use std::sync::OnceLock;

const TIED_CONFIG: &str = include_str!("../../tests/golden/tied/config.json");
const TIED_WEIGHTS: &[u8] = include_bytes!("../../tests/golden/tied/weights.safetensors");

/// Largest scratch buffer a fuzzed call may ask for (keeps every execution fast).
const SCRATCH_LIMIT: usize = 1 << 20;

/// The golden `tied` model (1 + 2 layers, D 32, vocab 50, no positions), converted.
pub fn tied_blob() -> &'static AlignedBytes {
    static BLOB: OnceLock<AlignedBytes> = OnceLock::new();
    BLOB.get_or_init(|| {
        let config = ConfigJson::parse(TIED_CONFIG).expect("golden config");
        let (blob, _) = convert_torch(&config, TIED_WEIGHTS).expect("golden weights");
        AlignedBytes::copy_from(&blob)
    })
}

/// A tiny model of the given shape with deterministic weights (D 8, 2 heads, F 16).
pub fn synthetic_config(enc: usize, dec: usize, variant: u8) -> Config {
    Config {
        dims: Dims {
            d_model: 8,
            n_heads: 2,
            d_ff: 16,
            n_encoder_layers: enc,
            n_decoder_layers: dec,
            src_vocab: if enc > 0 { 11 } else { 0 },
            tgt_vocab: if dec > 0 { 13 } else { 0 },
            max_src_len: if enc > 0 { 6 } else { 0 },
            max_tgt_len: if dec > 0 { 5 } else { 0 },
            type_vocab: 0,
            stem_channels: 0,
            n_kv_heads: 2,
            feed_forward: picoformer::config::FeedForward::Plain,
            kv_cache: picoformer::config::CacheType::F32,
        },
        norm: if variant & 1 == 0 {
            Norm::Post
        } else {
            Norm::Pre
        },
        activation: if variant & 2 == 0 {
            Activation::Relu
        } else {
            Activation::Gelu
        },
        positional: match (variant >> 2) & 3 {
            0 => Positional::None,
            1 => Positional::Sinusoidal,
            2 => Positional::SinusoidalConcat,
            _ => Positional::Learned,
        },
        layer_norm_eps: 1e-5,
        norm_kind: picoformer::config::NormKind::LayerNorm,
        rope_theta: 0.0,
        scale_embeddings: variant & 16 != 0,
        tie_output: variant & 32 != 0,
        src_embed_norm: false,
        final_norm: variant & 64 != 0,
        bos_id: 1,
        eos_id: 2,
        pad_id: 0,
    }
}

fn synthetic_blob(enc: usize, dec: usize, variant: u8) -> AlignedBytes {
    let config = synthetic_config(enc, dec, variant);
    let data: Vec<f32> = (0..4096)
        .map(|i| ((i * 7919) % 97) as f32 / 97.0 - 0.5)
        .collect();
    let bytes = picoformer_cli::blob_writer::write_blob(&config, |_, slot| data.get(..slot.len))
        .expect("synthetic model");
    AlignedBytes::copy_from(&bytes)
}

/// How many models [`api`] drives (see [`api_model`]).
pub const API_MODELS: usize = 4;

/// The models [`api`] drives: 0 the golden `tied` model, 1 a decoder-only, 2 an
/// encoder-only and 3 a pre-norm GELU learned-position tied encoder-decoder model (each
/// built on first use, its checksums verified then: an execution loads it with
/// `from_verified_blob`, as CRC-32C over 140 KB under the fuzzer's instrumentation cost
/// more than the call fuzzed).
pub fn api_model(index: usize) -> &'static AlignedBytes {
    static MODELS: [OnceLock<AlignedBytes>; API_MODELS] = [const { OnceLock::new() }; API_MODELS];
    MODELS[index % API_MODELS].get_or_init(|| {
        let blob = match index % API_MODELS {
            0 => tied_blob().clone(),
            1 => synthetic_blob(0, 2, 0b0100_0101),
            2 => synthetic_blob(2, 0, 0b0101_1000),
            _ => synthetic_blob(1, 1, 0b0010_1111),
        };
        Model::from_blob(blob.as_slice()).expect("api model with its checksums");
        blob
    })
}

/// A little reader of fuzz bytes: every read succeeds (zeros once the data runs out).
pub struct Bytes<'d>(&'d [u8]);

impl<'d> Bytes<'d> {
    pub fn new(data: &'d [u8]) -> Self {
        Bytes(data)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn u8(&mut self) -> u8 {
        let (&b, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        b
    }
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    pub fn rest(&mut self) -> &'d [u8] {
        std::mem::take(&mut self.0)
    }
    /// A length near `around`: mostly small offsets from it, sometimes anything.
    pub fn len_near(&mut self, around: usize) -> usize {
        match self.u8() % 8 {
            0 => self.u16() as usize,
            1 => 0,
            2 => around.saturating_sub(usize::from(self.u8() % 17)),
            _ => around.saturating_add(usize::from(self.u8() % 5)),
        }
    }
    /// An f32 that is often special.
    pub fn f32(&mut self) -> f32 {
        match self.u8() % 8 {
            0 => f32::NAN,
            1 => f32::INFINITY,
            2 => f32::NEG_INFINITY,
            3 => -0.5,
            4 => f32::MAX,
            _ => f32::from(self.u8()) / 32.0,
        }
    }
}

/// Decodes a little with every entry point a model has; every result must be sane.
fn exercise(model: &Model) {
    let dims = model.config().dims;
    let Ok(bytes) = model
        .beam_scratch_bytes(2)
        .or_else(|_| model.greedy_scratch_bytes())
    else {
        return;
    };
    let need = bytes
        .max(model.forward_scratch_bytes().unwrap_or(0))
        .max(model.greedy_scratch_bytes().unwrap_or(0));
    if need > SCRATCH_LIMIT {
        return; // valid but too big to run at fuzzing speed
    }
    let mut scratch = AlignedBytes::zeroed(need);
    let scratch = scratch.as_mut_slice();
    let src: Vec<u32> = if model.config().has_encoder() {
        (0..dims.max_src_len.min(3) as u32)
            .map(|i| i % dims.src_vocab as u32)
            .collect()
    } else {
        Vec::new()
    };
    if model.config().has_encoder() {
        let mut out = vec![0f32; src.len() * dims.d_model];
        let _ = model.encode(&src, &mut out, scratch);
    }
    if !model.config().has_decoder() {
        return;
    }
    let max_len = dims.max_tgt_len.min(3);
    let mut out = vec![u32::MAX; max_len];
    if let Ok(g) = model.greedy(&src, max_len, &mut out, scratch) {
        check_greedy(model, max_len, &out, g.len);
    }
    let tgt = [model.config().bos_id];
    let mut logits = vec![0f32; dims.tgt_vocab];
    let _ = model.forward(&src, &tgt, &mut logits, scratch);
    if dims.tgt_vocab > 2 {
        let params = BeamParams {
            beam: 2,
            top: 2,
            alpha: 0.6,
            max_len,
        };
        if let Ok(found) = model.beam_search(&src, &params, scratch) {
            check_hypotheses(model, &params, &found);
        }
    }
}

fn check_greedy(model: &Model, max_len: usize, out: &[u32], len: usize) {
    let dims = model.config().dims;
    assert!(
        len >= 1 && len <= max_len,
        "greedy length {len} outside 1..={max_len}"
    );
    let tokens = &out[..len];
    assert!(
        tokens.iter().all(|&t| (t as usize) < dims.tgt_vocab),
        "token out of vocab: {tokens:?}"
    );
    let eos = model.config().eos_id;
    assert!(
        !tokens[..len - 1].contains(&eos),
        "greedy continued after eos: {tokens:?}"
    );
    assert!(
        out[len..].iter().all(|&t| t == u32::MAX),
        "greedy wrote past its length"
    );
}

fn check_hypotheses(model: &Model, params: &BeamParams, found: &picoformer::Hypotheses) {
    let dims = model.config().dims;
    assert!(
        found.len() <= params.top,
        "{} hypotheses for top {}",
        found.len(),
        params.top
    );
    assert_eq!(found.iter().count(), found.len());
    for h in found.iter() {
        assert!(
            !h.tokens.is_empty() && h.tokens.len() <= params.max_len,
            "length {}",
            h.tokens.len()
        );
        assert!(
            h.tokens.iter().all(|&t| (t as usize) < dims.tgt_vocab),
            "token out of vocab"
        );
        assert!(!h.score.is_nan(), "NaN score ranked");
    }
}

/// Target `blob`: arbitrary bytes as a model blob. Past the checksums (which random
/// bytes almost never match): the loader that trusts them, so the fuzzer reaches the
/// validation behind; `blob_checksum` fuzzes the checksums themselves.
pub fn blob(data: &[u8]) {
    let bytes = AlignedBytes::copy_from(data);
    if let Ok(model) = Model::from_verified_blob(bytes.as_slice()) {
        exercise(&model);
    }
}

/// Target `blob_checksum`: arbitrary bytes through the verifying loader, and sealed
/// (their checksums written as the converter does) through both loaders: a sealed blob
/// loads with its checksums verified exactly when it loads without, with the same error.
pub fn blob_checksum(data: &[u8]) {
    let mut bytes = AlignedBytes::copy_from(data);
    if let Ok(model) = Model::from_blob(bytes.as_slice()) {
        // Unsealed input that loads: its stored checksums are right.
        let [header, data_crc] =
            picoformer::blob::compute_checksums(bytes.as_slice()).expect("loaded blob");
        assert_eq!(
            get(bytes.as_slice(), picoformer::blob::HEADER_CRC_OFFSET),
            header
        );
        assert_eq!(
            get(bytes.as_slice(), picoformer::blob::DATA_CRC_OFFSET),
            data_crc
        );
        exercise(&model);
    }
    if picoformer::blob::seal(bytes.as_mut_slice()).is_ok() {
        // Compared as printed: a field unused by the model may be NaN (rope_theta of a
        // model without rotary positions), which `==` never equals.
        let verified = format!(
            "{:?}",
            Model::from_blob(bytes.as_slice()).map(|m| *m.config())
        );
        let trusted = format!(
            "{:?}",
            Model::from_verified_blob(bytes.as_slice()).map(|m| *m.config())
        );
        assert_eq!(
            verified, trusted,
            "sealed blob: the checksums changed the verdict"
        );
    }
}

/// The blob [`blob_mutate`] edits and its header length: API model 3, an
/// encoder-decoder with every kind of table entry (encoder and decoder layers, cross
/// attention, learned positions, tied output, pre-norm) in 8 KB. (The golden `tied`
/// blob, 140 KB, made every execution spend its time on checksums and copies.)
pub fn mutate_base() -> &'static (AlignedBytes, usize) {
    static BASE: OnceLock<(AlignedBytes, usize)> = OnceLock::new();
    BASE.get_or_init(|| {
        let blob = api_model(3).clone();
        let dims = Model::from_blob(blob.as_slice())
            .expect("base blob")
            .config()
            .dims;
        let header = picoformer::blob::header_len(&dims).expect("base header");
        (blob, header)
    })
}

/// Target `blob_mutate`: edits of a small valid blob ([`mutate_base`]), 6 bytes each: an
/// operation, a place and a value (header fields and table entries are the likely
/// places).
pub fn blob_mutate(data: &[u8]) {
    let (base, header) = mutate_base();
    let header = *header;
    let mut bytes = base.as_slice().to_vec();
    let mut input = Bytes::new(data);
    let mut edits = 0;
    while !input.is_empty() && edits < 16 {
        edits += 1;
        let op = input.u8();
        let place = usize::from(input.u16());
        let len = bytes.len().max(1);
        let at = match op >> 4 {
            // a header field
            0..=5 => (place % (TABLE_OFFSET / 4)) * 4,
            // a table entry field
            6..=11 => TABLE_OFFSET + (place % ((header - TABLE_OFFSET) / 4)) * 4,
            // a weight
            _ => header + (place * 4) % (len.saturating_sub(header).max(4)),
        };
        match op % 8 {
            0 | 1 => {
                let v = input.u32();
                put(&mut bytes, at, v);
            }
            2 => {
                // a small signed change of a field (lengths, offsets, counts)
                let delta = i32::from(input.u8() as i8);
                let old = get(&bytes, at);
                put(&mut bytes, at, old.wrapping_add_signed(delta));
            }
            3 => {
                // a huge value
                let v = [u32::MAX, 1 << 20, (1 << 20) + 1, 1 << 31, 0x7FFF_FFF0]
                    [input.u8() as usize % 5];
                put(&mut bytes, at, v);
            }
            4 => {
                let v = input.f32();
                put(&mut bytes, at, v.to_bits());
            }
            5 => bytes.truncate(at.min(bytes.len())),
            6 => bytes.extend(std::iter::repeat_n(0, 16 * usize::from(input.u8() % 4 + 1))),
            _ => {
                // copy one table entry over another
                let rows = (header - TABLE_OFFSET) / TABLE_ENTRY_BYTES;
                let from = TABLE_OFFSET + (place % rows) * TABLE_ENTRY_BYTES;
                let to = TABLE_OFFSET + (usize::from(input.u16()) % rows) * TABLE_ENTRY_BYTES;
                if to + TABLE_ENTRY_BYTES <= bytes.len() && from + TABLE_ENTRY_BYTES <= bytes.len()
                {
                    bytes.copy_within(from..from + TABLE_ENTRY_BYTES, to);
                }
            }
        }
    }
    // Sealed again, as a converter would write the edited blob (where the header
    // length still allows): the edits, not the checksums, are what is fuzzed.
    let _ = picoformer::blob::seal(&mut bytes);
    let aligned = AlignedBytes::copy_from(&bytes);
    if let Ok(model) = Model::from_blob(aligned.as_slice()) {
        exercise(&model);
    }
}

fn get(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn put(bytes: &mut [u8], at: usize, value: u32) {
    if let Some(field) = bytes.get_mut(at..at + 4) {
        field.copy_from_slice(&value.to_le_bytes());
    }
}

/// The configuration [`convert`] converts for: the golden `tied` one, or a tiny one
/// whose switches come from the first byte.
pub fn convert_config(selector: u8) -> Config {
    if selector == 0 {
        ConfigJson::parse(TIED_CONFIG).expect("golden config")
    } else {
        let (enc, dec) = [(1, 1), (0, 1), (1, 0), (2, 1)][usize::from(selector >> 6)];
        synthetic_config(enc, dec, selector & 0x7F)
    }
}

/// The selectors of [`convert`]'s seeds ([`convert_config`]), 1 layer per stack: a
/// pre-norm learned-position tied encoder-decoder with final norms, a decoder-only with
/// sinusoids, an encoder-only GELU one, and a post-norm tied one with final norms (the
/// switches of the golden `tied` model, whose 140 KB checkpoint made executions slow).
pub const CONVERT_SEED_SELECTORS: [u8; 4] = [0x6D, 0x44, 0x82, 0x60];

/// The seeds of [`convert`]: for each of [`CONVERT_SEED_SELECTORS`], a checkpoint of
/// every tensor its config reads, behind the selector.
pub fn convert_seeds() -> Vec<(String, Vec<u8>)> {
    CONVERT_SEED_SELECTORS
        .iter()
        .map(|&selector| {
            let config = convert_config(selector);
            let tensors: Vec<_> = picoformer_cli::convert::torch_tensors(&config)
                .expect("seed config")
                .into_iter()
                .enumerate()
                .map(|(salt, (name, shape))| {
                    let n = shape.iter().product::<usize>();
                    let values = (0..n)
                        .map(|i| (((i + salt) * 7919) % 97) as f32 / 97.0 - 0.5)
                        .collect();
                    (name, shape, values)
                })
                .collect();
            let file = safetensors_f32(&tensors);
            (
                format!("selector_{selector:02x}"),
                [&[selector][..], &file].concat(),
            )
        })
        .collect()
}

/// Target `convert`: `convert_torch` on arbitrary safetensors bytes; a blob it writes
/// must be one `Model::from_blob` accepts, with the configuration converted for.
pub fn convert(data: &[u8]) {
    let mut input = Bytes::new(data);
    let config = convert_config(input.u8());
    if let Ok((blob, _report)) = convert_torch(&config, input.rest()) {
        let aligned = AlignedBytes::copy_from(&blob);
        let model = Model::from_blob(aligned.as_slice())
            .unwrap_or_else(|e| panic!("convert_torch wrote a blob from_blob rejects: {e}"));
        assert_eq!(*model.config(), config, "the blob's config differs");
        exercise(&model);
    }
}

/// Target `api`: one call of the inference API, Rust or C, with fuzzed arguments.
pub fn api(data: &[u8]) {
    let mut input = Bytes::new(data);
    let blob = api_model(usize::from(input.u8()));
    let model = Model::from_verified_blob(blob.as_slice()).expect("api model");
    let dims = model.config().dims;
    let call = input.u8() % 12;
    // Tokens: mostly in range, sometimes the first id out of range or anything.
    let tokens = |input: &mut Bytes, max: usize, vocab: usize| -> Vec<u32> {
        let n = input.len_near(max.min(4));
        (0..n.min(max + 3))
            .map(|_| match input.u8() % 16 {
                0 => vocab as u32,
                1 => input.u32(),
                _ => u32::from(input.u8()) % vocab.max(1) as u32,
            })
            .collect()
    };
    let src = tokens(&mut input, dims.max_src_len, dims.src_vocab);
    let tgt = tokens(&mut input, dims.max_tgt_len, dims.tgt_vocab);
    let max_len = input.len_near(dims.max_tgt_len.min(4));
    let beam = input.len_near(3);
    let params = BeamParams {
        beam,
        top: input.len_near(2),
        alpha: input.f32(),
        // A beam wider than 4 searches at most 2 tokens (a valid length stays valid, an
        // invalid one invalid): every width up to 64 stays reachable, and the widest
        // over the 12 tokens of the D 32 model, which took most of the run's time once
        // found, costs no more than a narrow beam.
        max_len: if beam > 4 && max_len <= dims.max_tgt_len {
            max_len.min(2)
        } else {
            max_len
        },
    };
    let exact = match call % 4 {
        0 => model.encode_scratch_bytes(),
        1 => model.forward_scratch_bytes(),
        2 => model.greedy_scratch_bytes(),
        _ => model.beam_scratch_bytes(params.beam.clamp(1, 64)),
    }
    .unwrap_or(0);
    let scratch_len = input.len_near(exact).min(SCRATCH_LIMIT);
    let misalign = [0, 0, 0, 4, 8, 1][usize::from(input.u8()) % 6];
    let mut scratch_buf = AlignedBytes::zeroed(scratch_len + 16);
    let scratch = &mut scratch_buf.as_mut_slice()[misalign..misalign + scratch_len];
    let out_len = input
        .len_near(match call % 4 {
            0 => src.len() * dims.d_model,
            1 => tgt.len() * dims.tgt_vocab,
            _ => max_len.max(params.top.saturating_mul(max_len)),
        })
        .min(1 << 16);
    const SENTINEL: u32 = 0x7FC0_DEAD;
    match call {
        0 => {
            let mut out = vec![f32::from_bits(SENTINEL); out_len];
            if model.encode(&src, &mut out, scratch).is_err() {
                assert!(
                    out.iter().all(|v| v.to_bits() == SENTINEL),
                    "encode failed but wrote"
                );
            }
        }
        1 => {
            let mut out = vec![f32::from_bits(SENTINEL); out_len];
            if model.forward(&src, &tgt, &mut out, scratch).is_err() {
                assert!(
                    out.iter().all(|v| v.to_bits() == SENTINEL),
                    "forward failed but wrote"
                );
            }
        }
        2 => {
            let mut out = vec![u32::MAX; out_len];
            match model.greedy(&src, max_len, &mut out, scratch) {
                Ok(g) => check_greedy(&model, max_len, &out, g.len),
                // Non-finite logits stop decoding after the checks, maybe at a later step.
                Err(picoformer::Error::NonFiniteLogits) => {}
                Err(_) => assert!(
                    out.iter().all(|&t| t == u32::MAX),
                    "greedy failed but wrote"
                ),
            }
        }
        3 => {
            if let Ok(found) = model.beam_search(&src, &params, scratch) {
                check_hypotheses(&model, &params, &found);
            }
        }
        _ => c_api(
            &mut input,
            blob.as_slice(),
            &model,
            call,
            &src,
            &tgt,
            &params,
            scratch,
            out_len,
        ),
    }
}

/// The C API half of [`api`]: the same calls through `pf_*`, with NULL pointers and
/// overlapping arrays sometimes.
#[allow(clippy::too_many_arguments)]
fn c_api(
    input: &mut Bytes,
    blob: &[u8],
    model: &Model,
    call: u8,
    src: &[u32],
    tgt: &[u32],
    params: &BeamParams,
    scratch: &mut [u8],
    out_len: usize,
) {
    let mut handle = std::mem::MaybeUninit::<pf_model>::uninit();
    let h = handle.as_mut_ptr();
    // SAFETY: a writable handle and a live blob of that length. (Its checksums were
    // verified when it was built; `pf_model_init` itself is fuzzed by `blob_checksum`'s
    // loader, `Model::from_blob`.)
    let status = unsafe { pf_model_init_verified(h, blob.as_ptr(), blob.len()) };
    assert_eq!(status, PF_OK);
    let null_mask = if input.u8().is_multiple_of(8) {
        input.u8()
    } else {
        0
    };
    let ptr_or_null = |i: u8, p: *const u32| {
        if null_mask & (1 << i) != 0 {
            std::ptr::null()
        } else {
            p
        }
    };
    let (src_p, tgt_p) = (ptr_or_null(0, src.as_ptr()), ptr_or_null(1, tgt.as_ptr()));
    let scratch_p = if null_mask & 4 != 0 {
        std::ptr::null_mut()
    } else {
        scratch.as_mut_ptr().cast()
    };
    let mut out = vec![0f32; out_len];
    let mut tokens = vec![0u32; out_len];
    let mut lengths = vec![0usize; params.top.min(64)];
    let mut scores = vec![0f32; params.top.min(64)];
    let (mut len, mut score, mut count, mut bytes) = (0usize, 0f32, 0usize, 0usize);
    let mut config = std::mem::MaybeUninit::<pf_config>::uninit();
    let dims = model.config().dims;
    // SAFETY: every pointer is NULL (with any length: the API must refuse it) or a live
    // array of the length passed with it.
    let status = unsafe {
        match call {
            4 => pf_encode(
                h,
                src_p,
                src.len(),
                out.as_mut_ptr(),
                out.len(),
                scratch_p,
                scratch.len(),
            ),
            5 => pf_forward(
                h,
                src_p,
                src.len(),
                tgt_p,
                tgt.len(),
                out.as_mut_ptr(),
                out.len(),
                scratch_p,
                scratch.len(),
            ),
            6 => pf_greedy(
                h,
                src_p,
                src.len(),
                params.max_len,
                tokens.as_mut_ptr(),
                tokens.len(),
                &mut len,
                &mut score,
                scratch_p,
                scratch.len(),
            ),
            7 | 8 => {
                let p = pf_beam_params {
                    beam: params.beam as u32,
                    top: params.top as u32,
                    max_len: params.max_len as u32,
                    alpha: params.alpha,
                };
                pf_beam_search(
                    h,
                    src_p,
                    src.len(),
                    p,
                    tokens.as_mut_ptr(),
                    tokens.len(),
                    lengths.as_mut_ptr(),
                    lengths.len(),
                    scores.as_mut_ptr(),
                    scores.len(),
                    &mut count,
                    scratch_p,
                    scratch.len(),
                )
            }
            9 => pf_beam_scratch_bytes(h, params.beam, &mut bytes),
            10 => pf_model_config(h, config.as_mut_ptr()),
            _ => {
                // overlapping output and scratch: must be refused, never written
                let o = scratch.as_mut_ptr().cast::<f32>();
                let n = scratch.len() / 4;
                pf_encode(h, src_p, src.len(), o, n, scratch_p, scratch.len())
            }
        }
    };
    assert_ne!(status, PF_ERR_PANIC, "a panic reached the C boundary");
    if status == PF_OK {
        match call {
            6 => assert!(
                len >= 1
                    && len <= params.max_len
                    && tokens[..len].iter().all(|&t| (t as usize) < dims.tgt_vocab)
            ),
            7 | 8 => assert!(
                count <= params.top
                    && lengths[..count]
                        .iter()
                        .all(|&l| l >= 1 && l <= params.max_len)
            ),
            11 => assert!(scratch.len() < 4, "overlapping arrays accepted"),
            _ => {}
        }
    }
}

/// Largest blob a converter target decodes (larger valid ones are only loaded).
const DECODE_BLOB_LIMIT: usize = 1 << 16;

/// Target `llama2c`: a llama2.c checkpoint (`convert --from llama2c`), options from the
/// first byte; a blob the converter writes must load, with the checkpoint's shape.
pub fn llama2c(data: &[u8]) {
    let mut input = Bytes::new(data);
    let switches = input.u8();
    let options = picoformer_cli::llama2c::Llama2cOptions {
        rotate_half: switches & 1 != 0,
        eos_id: if switches & 2 != 0 { 3 } else { 2 },
        ..Default::default()
    };
    let checkpoint = input.rest();
    if let Ok(blob) = picoformer_cli::llama2c::convert_llama2c(checkpoint, &options) {
        let aligned = AlignedBytes::copy_from(&blob);
        let model = Model::from_blob(aligned.as_slice())
            .unwrap_or_else(|e| panic!("convert_llama2c wrote a blob from_blob rejects: {e}"));
        let dims = model.config().dims;
        let header = |i: usize| get(checkpoint, 4 * i) as i32;
        assert_eq!(dims.d_model as i32, header(0), "dim");
        assert_eq!(dims.n_decoder_layers as i32, header(2), "n_layers");
        assert_eq!(dims.tgt_vocab as i32, header(5).abs(), "vocab_size");
        if blob.len() <= DECODE_BLOB_LIMIT {
            exercise(&model);
        }
    }
}

/// The `config.json` texts [`hf_llama`] converts for (selected by the first byte): tied
/// grouped-query, untied multi-head, and tied multi-query with a 32-token context.
pub const HF_LLAMA_CONFIGS: [&str; 3] = [
    r#"{"hidden_size": 8, "intermediate_size": 12, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 9, "max_position_embeddings": 8, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "tie_word_embeddings": true, "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu"}"#,
    r#"{"hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 2, "vocab_size": 7, "max_position_embeddings": 6, "rms_norm_eps": 1e-06, "tie_word_embeddings": false, "hidden_act": "silu"}"#,
    r#"{"hidden_size": 12, "intermediate_size": 4, "num_hidden_layers": 1, "num_attention_heads": 3, "num_key_value_heads": 1, "vocab_size": 5, "max_position_embeddings": 32, "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "tie_word_embeddings": true, "bos_token_id": 1, "eos_token_id": [2, 3], "hidden_act": "silu"}"#,
];

/// Target `hf_llama`: `convert_hf_llama` on arbitrary safetensors bytes. First byte
/// below 0x80: one of [`HF_LLAMA_CONFIGS`]; otherwise the `config.json` text is fuzzed
/// too (the bytes up to the first NUL). A blob it writes must load.
pub fn hf_llama(data: &[u8]) {
    let mut input = Bytes::new(data);
    let selector = input.u8();
    let rest = input.rest();
    let (config, weights): (std::borrow::Cow<str>, &[u8]) = if selector < 0x80 {
        (
            HF_LLAMA_CONFIGS[usize::from(selector) % HF_LLAMA_CONFIGS.len()].into(),
            rest,
        )
    } else {
        let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        (
            String::from_utf8_lossy(&rest[..split]),
            rest.get(split + 1..).unwrap_or(&[]),
        )
    };
    if let Ok((blob, _report)) = picoformer_cli::hf_llama::convert_hf_llama(&config, weights) {
        let aligned = AlignedBytes::copy_from(&blob);
        let model = Model::from_blob(aligned.as_slice())
            .unwrap_or_else(|e| panic!("convert_hf_llama wrote a blob from_blob rejects: {e}"));
        let expected = picoformer_cli::hf_llama::llama_config(&config).expect("converted config");
        assert_eq!(*model.config(), expected, "the blob's config differs");
        if blob.len() <= DECODE_BLOB_LIMIT {
            exercise(&model);
        }
    }
}

/// Most samples [`wav`] resamples (longer files are only read: keeps executions fast).
const WAV_RESAMPLE_LIMIT: usize = 1 << 12;

/// Target `wav`: the WAV reader of `transcribe --wav` on arbitrary bytes; what it reads
/// is finite, whole frames of its channels, then downmixed and resampled to 16 kHz.
pub fn wav(data: &[u8]) {
    let Ok(wav) = picoformer_cli::wav::read_wav_from(std::io::Cursor::new(data), "fuzz.wav") else {
        return;
    };
    assert!(wav.channels > 0, "0 channels read");
    assert!(
        picoformer_cli::wav::RATES.contains(&wav.rate),
        "rate {} read",
        wav.rate
    );
    assert!(
        wav.samples.iter().all(|s| s.is_finite()),
        "non-finite sample read"
    );
    if wav.samples.len() <= WAV_RESAMPLE_LIMIT {
        if let Ok(mono) = picoformer_cli::wav::to_16k_mono(&wav, "fuzz.wav") {
            let frames = wav.samples.len() / wav.channels;
            let expected =
                frames as f64 * f64::from(picoformer_cli::wav::SAMPLE_RATE) / f64::from(wav.rate);
            assert!(
                (mono.len() as f64 - expected).abs() <= 2.0,
                "{frames} frames at {} Hz resampled to {} samples",
                wav.rate,
                mono.len()
            );
        }
    }
}

/// Target `tokenizer`: llama2.c's tokenizer over arbitrary bytes. Layout: vocabulary size
/// (u16), text length (u8), the text (lossy UTF-8), then the `tokenizer.bin` bytes. A
/// table the engine accepts encodes the text into in-vocabulary tokens after bos, within
/// `max_encoded_len` (the slots past the count are its work space), and decodes them;
/// the host wrapper agrees with the engine.
pub fn tokenizer(data: &[u8]) {
    use picoformer::tokenizer::{index_len, max_encoded_len, Llama2cTokenizer, TokenizerError};
    let mut input = Bytes::new(data);
    let vocab = usize::from(input.u16());
    let text_len = usize::from(input.u8());
    let rest = input.rest();
    let (text, file) = rest.split_at(text_len.min(rest.len()));
    let text = String::from_utf8_lossy(text);
    let index_words = index_len(vocab).expect("a u16 vocabulary");
    let host = picoformer_cli::llama2c_tokenizer::Tokenizer::parse(file, vocab);
    let engine = match Llama2cTokenizer::new(file, vocab, vec![0u32; index_words]) {
        Ok(engine) => engine,
        Err(e) => {
            assert!(
                host.is_err(),
                "host wrapper accepted what the engine refused: {e}"
            );
            return;
        }
    };
    let host = host.expect("host wrapper refused what the engine accepted");
    // A short index is refused, never overrun.
    if index_words > 0 {
        let short = Llama2cTokenizer::new(file, vocab, vec![0u32; index_words - 1]);
        assert!(
            matches!(short, Err(TokenizerError::IndexTooSmall { .. })),
            "short index: {short:?}"
        );
    }
    assert_eq!(engine.vocab(), vocab);
    let mut tokens = vec![u32::MAX; max_encoded_len(&text)];
    let encoded = engine.encode(&text, &mut tokens);
    assert_eq!(
        encoded.ok().map(|n| tokens[..n].to_vec()),
        host.encode(&text).ok(),
        "host and engine encode differently"
    );
    let Ok(n) = encoded else {
        return;
    };
    assert!(
        n >= 1 && n <= tokens.len(),
        "{n} tokens for {} bytes",
        text.len()
    );
    assert_eq!(tokens[0], picoformer::tokenizer::BOS);
    assert!(
        tokens[..n].iter().all(|&t| (t as usize) < vocab),
        "token out of vocabulary: {:?}",
        &tokens[..n]
    );
    // A buffer one short of the bound is refused or enough.
    let mut short = vec![0u32; tokens.len() - 1];
    match engine.encode(&text, &mut short) {
        Ok(m) => assert_eq!(&short[..m], &tokens[..n]),
        Err(e) => assert!(matches!(e, TokenizerError::OutputTooSmall { .. }), "{e}"),
    }
    let mut bytes = vec![0u8; 4096];
    if let Ok(len) = engine.decode_into(tokens[0], &tokens[1..n], &mut bytes) {
        let text = host
            .decode_all(tokens[0], &tokens[1..n])
            .expect("host decodes what the engine decodes");
        assert_eq!(String::from_utf8_lossy(&bytes[..len]), text);
        let _ = engine.decode_text::<64>(tokens[0], &tokens[1..n]);
    }
    // Out-of-vocabulary tokens are refused.
    assert!(engine.decode(tokens[0], vocab as u32).is_err());
    assert!(engine.piece(u32::MAX).is_err());
}

/// A small valid llama2.c checkpoint with deterministic weights (a seed of [`llama2c`]):
/// `[dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len]`, negative
/// `vocab_size` for a separate classifier; rotary tables for base 10000.
pub fn llama2c_checkpoint(header: [i32; 7]) -> Vec<u8> {
    let [dim, hidden, layers, heads, kv_heads, vocab, seq_len] =
        header.map(|v| v.unsigned_abs() as usize);
    let dk = dim / heads;
    let kvd = kv_heads * dk;
    let weights = |n: usize, salt: usize| -> Vec<f32> {
        (0..n)
            .map(|i| (((i + salt) * 7919) % 97) as f32 / 97.0 - 0.5)
            .collect()
    };
    let mut floats = weights(vocab * dim, 1);
    floats.extend(vec![1.0; layers * dim]); // rms_att
    floats.extend(weights(layers * dim * dim, 2)); // wq
    floats.extend(weights(2 * layers * kvd * dim, 3)); // wk, wv
    floats.extend(weights(layers * dim * dim, 4)); // wo
    floats.extend(vec![1.0; layers * dim]); // rms_ffn
    floats.extend(weights(3 * layers * hidden * dim, 5)); // w1, w2, w3
    floats.extend(vec![1.0; dim]); // rms_final
    let angle = |pos: usize, i: usize| pos as f64 / 10000f64.powf((2 * i) as f64 / dk as f64);
    for cos in [true, false] {
        for pos in 0..seq_len {
            for i in 0..dk / 2 {
                let a = angle(pos, i);
                floats.push(if cos { a.cos() } else { a.sin() } as f32);
            }
        }
    }
    if header[5] < 0 {
        floats.extend(weights(vocab * dim, 6)); // wcls
    }
    let mut bytes: Vec<u8> = header.iter().flat_map(|v| v.to_le_bytes()).collect();
    bytes.extend(floats.iter().flat_map(|v| v.to_le_bytes()));
    bytes
}

/// The seeds of [`llama2c`]: tied grouped-query, untied multi-head, and multi-query with
/// rotate-half rows, each behind its options byte.
pub fn llama2c_seeds() -> Vec<(&'static str, Vec<u8>)> {
    [
        ("gqa_tied", 0u8, [8, 12, 1, 2, 1, 9, 4]),
        ("mha_untied", 2, [8, 8, 2, 2, 2, -7, 3]),
        ("mqa_half", 1, [12, 4, 1, 3, 1, 5, 6]),
    ]
    .into_iter()
    .map(|(name, options, header)| (name, [&[options][..], &llama2c_checkpoint(header)].concat()))
    .collect()
}

/// A safetensors file of F32 tensors (`name`, shape, values), as `save_file` writes it.
pub fn safetensors_f32(tensors: &[(String, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
    let mut header = String::from("{");
    let mut at = 0;
    for (i, (name, shape, values)) in tensors.iter().enumerate() {
        let end = at + 4 * values.len();
        let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
        header += &format!(
            "{}\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{at},{end}]}}",
            if i > 0 { "," } else { "" },
            dims.join(",")
        );
        at = end;
    }
    header += "}";
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header.as_bytes());
    for (_, _, values) in tensors {
        bytes.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    }
    bytes
}

/// The seeds of [`hf_llama`]: a checkpoint of each of [`HF_LLAMA_CONFIGS`] behind its
/// selector, and the first again with its config text in the input.
pub fn hf_llama_seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    for (selector, text) in HF_LLAMA_CONFIGS.iter().enumerate() {
        let config = picoformer_cli::hf_llama::llama_config(text).expect("seed config");
        let d = config.dims;
        let (dm, f, v) = (d.d_model, d.d_ff, d.tgt_vocab);
        let kvd = d.n_kv_heads * (dm / d.n_heads);
        let weights = |shape: Vec<usize>, salt: usize| {
            let n = shape.iter().product::<usize>();
            let values = (0..n)
                .map(|i| (((i + salt) * 7919) % 97) as f32 / 97.0 - 0.5)
                .collect();
            (shape, values)
        };
        let mut tensors = vec![(
            "model.embed_tokens.weight".to_string(),
            weights(vec![v, dm], 1),
        )];
        for layer in 0..d.n_decoder_layers {
            let at = |s: &str| format!("model.layers.{layer}.{s}.weight");
            tensors.push((at("input_layernorm"), (vec![dm], vec![1.0; dm])));
            tensors.push((at("post_attention_layernorm"), (vec![dm], vec![1.0; dm])));
            tensors.push((at("self_attn.q_proj"), weights(vec![dm, dm], 2)));
            tensors.push((at("self_attn.k_proj"), weights(vec![kvd, dm], 3)));
            tensors.push((at("self_attn.v_proj"), weights(vec![kvd, dm], 4)));
            tensors.push((at("self_attn.o_proj"), weights(vec![dm, dm], 5)));
            tensors.push((at("mlp.gate_proj"), weights(vec![f, dm], 6)));
            tensors.push((at("mlp.up_proj"), weights(vec![f, dm], 7)));
            tensors.push((at("mlp.down_proj"), weights(vec![dm, f], 8)));
        }
        tensors.push(("model.norm.weight".to_string(), (vec![dm], vec![1.0; dm])));
        if !config.tie_output {
            tensors.push(("lm_head.weight".to_string(), weights(vec![v, dm], 9)));
        }
        let tensors: Vec<_> = tensors.into_iter().map(|(n, (s, w))| (n, s, w)).collect();
        let file = safetensors_f32(&tensors);
        seeds.push((
            format!("config{selector}"),
            [&[selector as u8][..], &file].concat(),
        ));
        if selector == 0 {
            let with_text = [&[0x80][..], text.as_bytes(), &[0], &file].concat();
            seeds.push(("config_text".to_string(), with_text));
        }
    }
    seeds
}

/// A RIFF/WAVE file: format tag (1 PCM, 3 float), channels, rate, bits and the sample
/// bytes.
pub fn wav_file(format: u16, channels: u16, rate: u32, bits: u16, samples: &[u8]) -> Vec<u8> {
    let block = channels * bits.div_ceil(8);
    let mut fmt = Vec::new();
    fmt.extend(format.to_le_bytes());
    fmt.extend(channels.to_le_bytes());
    fmt.extend(rate.to_le_bytes());
    fmt.extend((rate * u32::from(block)).to_le_bytes());
    fmt.extend(block.to_le_bytes());
    fmt.extend(bits.to_le_bytes());
    let mut body = b"WAVEfmt ".to_vec();
    body.extend((fmt.len() as u32).to_le_bytes());
    body.extend(fmt);
    body.extend(b"data");
    body.extend((samples.len() as u32).to_le_bytes());
    body.extend(samples);
    let mut file = b"RIFF".to_vec();
    file.extend((body.len() as u32).to_le_bytes());
    file.extend(body);
    file
}

/// The seeds of [`wav`]: 16-bit mono at 16 kHz, 8-bit stereo at 8 kHz, 24-bit at
/// 44.1 kHz and 32-bit float stereo at 48 kHz, a few dozen frames each.
pub fn wav_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let wave = |n: usize| (0..n).map(|i| ((i * 37) % 23) as f32 / 23.0 - 0.5);
    let pcm16: Vec<u8> = wave(40)
        .flat_map(|s| ((s * 32767.0) as i16).to_le_bytes())
        .collect();
    let pcm8: Vec<u8> = wave(48).map(|s| (s * 127.0 + 128.0) as u8).collect();
    let pcm24: Vec<u8> = wave(40)
        .flat_map(|s| {
            let [a, b, c, _] = ((s * 8_388_607.0) as i32).to_le_bytes();
            [a, b, c]
        })
        .collect();
    let float: Vec<u8> = wave(64).flat_map(|s| s.to_le_bytes()).collect();
    vec![
        ("pcm16_mono_16k", wav_file(1, 1, 16_000, 16, &pcm16)),
        ("pcm8_stereo_8k", wav_file(1, 2, 8_000, 8, &pcm8)),
        ("pcm24_mono_44k1", wav_file(1, 1, 44_100, 24, &pcm24)),
        ("float_stereo_48k", wav_file(3, 2, 48_000, 32, &float)),
    ]
}

/// The seeds of [`tokenizer`]: a made-up table of pieces with byte fallback and merges,
/// with a text of ASCII and one character without a piece.
pub fn tokenizer_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut pieces: Vec<(f32, Vec<u8>)> = ["<unk>", "<s>", "</s>"]
        .iter()
        .map(|p| (0.0, p.as_bytes().to_vec()))
        .collect();
    pieces.extend((0..=255u8).map(|b| (0.0, format!("<0x{b:02X}>").into_bytes())));
    for (i, p) in [" ", "a", "b", "c", "ab", " a", "abc", " ab", "é"]
        .iter()
        .enumerate()
    {
        pieces.push((i as f32 - 3.0, p.as_bytes().to_vec()));
    }
    let mut file = 8i32.to_le_bytes().to_vec();
    for (score, piece) in &pieces {
        file.extend(score.to_le_bytes());
        file.extend((piece.len() as i32).to_le_bytes());
        file.extend(piece);
    }
    let seed = |text: &str| {
        let mut bytes = (pieces.len() as u16).to_le_bytes().to_vec();
        bytes.push(text.len() as u8);
        bytes.extend(text.as_bytes());
        bytes.extend(&file);
        bytes
    };
    vec![("abc", seed("abc cab ab a")), ("fallback", seed("aé€b"))]
}
