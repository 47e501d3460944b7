//! Model configuration: the dimensions and the architecture switches of `docs/spec.md`.

use crate::error::{Error, Result};

/// Sub-layer wiring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Norm {
    /// The paper: `x = LN(x + sublayer(x))`.
    Post = 0,
    /// `x = x + sublayer(LN(x))`.
    Pre = 1,
}

/// Activation of the position-wise feed-forward network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Activation {
    /// `max(x, 0)` (the paper).
    Relu = 0,
    /// Exact GELU, erf form.
    Gelu = 1,
    /// SiLU (swish), `x * sigmoid(x)`: with a gated feed-forward network, llama's SwiGLU
    /// (feature `llama`).
    Silu = 2,
}

/// Positional signal added to the embeddings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Positional {
    /// No positional signal.
    None = 0,
    /// The paper's interleaved sinusoids: `sin` at even, `cos` at odd columns.
    Sinusoidal = 1,
    /// tensor2tensor's `get_timing_signal_1d`: all `sin` columns, then all `cos`.
    SinusoidalConcat = 2,
    /// A stored table `[max_len, d_model]` per side.
    Learned = 3,
    /// Rotary embedding of queries and keys (nothing added to the embeddings), adjacent
    /// pairs `(2i, 2i+1)` of each head rotated (llama2.c, Meta's llama; feature `llama`).
    Rope = 4,
    /// Rotary embedding, pairs `(i, i + dk/2)` of each head rotated ("rotate-half",
    /// Hugging Face's llama; feature `llama`).
    RopeHalf = 5,
}

impl Positional {
    /// True for the rotary embeddings, which act inside attention.
    pub const fn is_rope(self) -> bool {
        matches!(self, Positional::Rope | Positional::RopeHalf)
    }
}

/// Which normalisation every norm of the model is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NormKind {
    /// LayerNorm: `gamma (x - mean) / sqrt(var + eps) + beta` (the paper).
    LayerNorm = 0,
    /// RMSNorm: `gamma x / sqrt(mean(x^2) + eps)` (llama; feature `llama`).
    RmsNorm = 1,
}

impl NormKind {
    /// From the blob's code.
    pub const fn from_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(NormKind::LayerNorm),
            1 => Some(NormKind::RmsNorm),
            _ => None,
        }
    }
}

/// Element type of the decoder self-attention's key/value cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
// A whole word, as `FeedForward`.
#[repr(u32)]
pub enum CacheType {
    /// f32 keys and values (`n_kv_heads * D / H` floats a row).
    F32 = 0,
    /// int8 keys and values with one f32 scale per key/value head and position
    /// (`picoformer_kernels::generic::attention_i8`; blob flag `FLAG_I8_KV_CACHE`,
    /// llama-family models with the `int8` and `llama` features). In an encoder-decoder
    /// model (feature `int8-attention`): the encoder self-attention's keys and values in
    /// int8 rows of that rule, the decoder's cache f32.
    I8 = 1,
}

/// Shape of the position-wise feed-forward network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
// A whole word: `Dims` stays a run of words, which firmware copies without `memcpy`.
#[repr(u32)]
pub enum FeedForward {
    /// `W2 act(W1 x + b1) + b2`, `W1 [F, D]` (the paper).
    Plain = 0,
    /// `W2 (act(W1 x) * (W3 x))`: `W1` and `W3` stored stacked as one `[2F, D]` matrix,
    /// `W1` first (llama's SwiGLU with SiLU; feature `llama`).
    Gated = 1,
}

impl FeedForward {
    /// From the blob's code.
    pub const fn from_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(FeedForward::Plain),
            1 => Some(FeedForward::Gated),
            _ => None,
        }
    }

    /// Rows of the first weight matrix (and width of the hidden buffer) per `d_ff`: 1 or 2.
    pub const fn hidden_factor(self) -> usize {
        match self {
            FeedForward::Plain => 1,
            FeedForward::Gated => 2,
        }
    }
}

impl Positional {
    /// The sinusoid table `[rows, D]` of this positional layout, as the engine computes
    /// it (bit for bit: the converter stores it so firmware built without the
    /// `sinusoid` feature needs no sin/cos). `table.len()` must be a multiple of
    /// `d_model`; `None`/`Learned` write zeros.
    #[cfg(feature = "sinusoid")]
    pub fn sinusoid_table(self, d_model: usize, table: &mut [f32]) {
        for (position, row) in table.chunks_exact_mut(d_model.max(1)).enumerate() {
            row.fill(0.0);
            crate::layers::embedding::sinusoid(self, position, row);
        }
    }
}

impl Norm {
    /// From the blob's code.
    pub const fn from_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(Norm::Post),
            1 => Some(Norm::Pre),
            _ => None,
        }
    }
}

impl Activation {
    /// From the blob's code.
    pub const fn from_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(Activation::Relu),
            1 => Some(Activation::Gelu),
            2 => Some(Activation::Silu),
            _ => None,
        }
    }
}

impl Positional {
    /// From the blob's code.
    pub const fn from_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(Positional::None),
            1 => Some(Positional::Sinusoidal),
            2 => Some(Positional::SinusoidalConcat),
            3 => Some(Positional::Learned),
            4 => Some(Positional::Rope),
            5 => Some(Positional::RopeHalf),
            _ => None,
        }
    }
}

/// Element type of the weight matrices (the linear layers' weights: attention Q/K/V/out,
/// feed-forward W1/W2, the untied output projection). Embeddings, position tables,
/// biases, LayerNorm parameters and the convolution stem are f32 in every blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WeightType {
    /// f32 (4 bytes per weight).
    F32 = 0,
    /// IEEE half precision (2 bytes per weight), widened to f32; f32 accumulation.
    F16 = 1,
    /// int8 (1 byte per weight) with one f32 scale per output row, symmetric:
    /// `w[o][i] = scale[o] * q[o][i]`. Activations are quantized per row on the fly and
    /// the dot products are exact i32 sums.
    I8 = 2,
}

impl WeightType {
    /// From the blob's `dtype` code.
    pub const fn from_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(WeightType::F32),
            1 => Some(WeightType::F16),
            2 => Some(WeightType::I8),
            _ => None,
        }
    }

    /// `f32`, `f16` or `i8`.
    pub const fn name(self) -> &'static str {
        match self {
            WeightType::F32 => "f32",
            WeightType::F16 => "f16",
            WeightType::I8 => "i8",
        }
    }

    /// Bytes a weight matrix of `rows` rows and `len` values takes in the blob, before
    /// the padding to 16: `4 len`, `2 len`, or (int8) the scales `4 rows` padded to 16,
    /// then `len` values. `None` on overflow.
    pub const fn matrix_bytes(self, rows: usize, len: usize) -> Option<usize> {
        match self {
            WeightType::F32 => len.checked_mul(4),
            WeightType::F16 => len.checked_mul(2),
            WeightType::I8 => match rows.checked_mul(4) {
                Some(s) => match s.checked_add(15) {
                    Some(p) => (p / 16 * 16).checked_add(len),
                    None => None,
                },
                None => None,
            },
        }
    }
}

/// The sizes that determine every weight shape and the scratch size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Dims {
    /// `D`, width of every hidden vector.
    pub d_model: usize,
    /// `H`, attention heads; `D % H == 0`.
    pub n_heads: usize,
    /// `F`, inner width of the feed-forward network.
    pub d_ff: usize,
    /// `Le`, encoder layers (0: decoder-only).
    pub n_encoder_layers: usize,
    /// `Ld`, decoder layers (0: encoder-only).
    pub n_decoder_layers: usize,
    /// Source vocabulary size; 0 when the encoder reads vectors or stem frames only.
    pub src_vocab: usize,
    /// Target vocabulary size.
    pub tgt_vocab: usize,
    /// `S`, longest source sequence.
    pub max_src_len: usize,
    /// `T`, longest target sequence (decoder positions).
    pub max_tgt_len: usize,
    /// Rows of the source token-type (segment) embedding added to every source token
    /// embedding (BERT: 2); 0 = none. The engine adds row 0 (a single segment).
    pub type_vocab: usize,
    /// Input channels of the convolution stem in front of the encoder (Whisper: 80 mel
    /// bins); 0 = no stem. The stem is two `Conv1d` of kernel 3 and padding 1, strides 1
    /// then 2, each followed by GELU, so `2 S` input frames give `S` encoder rows.
    pub stem_channels: usize,
    /// Key/value heads of the decoder's self-attention; `n_heads` is a multiple of it
    /// (equal: multi-head, fewer: grouped-query, 1: multi-query attention). The
    /// self-attention cache holds `n_kv_heads * D / H` values per position.
    pub n_kv_heads: usize,
    /// Plain or gated feed-forward network (the gated one's first matrix is `[2F, D]`).
    pub feed_forward: FeedForward,
    /// Element type of the self-attention cache (f32, or int8 rows with per-head scales).
    pub kv_cache: CacheType,
}

impl Dims {
    /// Elements (4-byte words) of one position's key (or value) row in the
    /// self-attention cache: [`Self::kv_width`] floats, or with an int8 cache the int8
    /// values four to a word then one f32 scale per key/value head.
    pub const fn kv_row_words(&self) -> usize {
        // (Builds without the int8 cache, which refuse it at load, fold this away.)
        // (An encoder-decoder model's int8 attention keeps an f32 decoder cache.)
        if cfg!(all(feature = "int8", feature = "llama"))
            && matches!(self.kv_cache, CacheType::I8)
            && self.n_encoder_layers == 0
        {
            self.kv_width().div_ceil(4).saturating_add(self.n_kv_heads)
        } else {
            self.kv_width()
        }
    }

    /// Width of a key or value row of the decoder's self-attention: `n_kv_heads * D / H`.
    pub const fn kv_width(&self) -> usize {
        match self.d_model.checked_div(self.n_heads) {
            Some(dk) => dk.saturating_mul(self.n_kv_heads),
            None => 0,
        }
    }
}

/// Kernel size of both convolutions of the stem.
pub const STEM_KERNEL: usize = 3;
/// Stride of the stem's second convolution (the first has stride 1).
pub const STEM_STRIDE: usize = 2;

/// Largest value any single dimension may take; keeps every size computation far from
/// overflow on 32-bit targets before the checked arithmetic even starts.
pub const MAX_DIM: usize = 1 << 20;

/// Largest number of layers on either side.
pub const MAX_LAYERS: usize = 256;

/// A complete model configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// The sizes.
    pub dims: Dims,
    /// Post-norm (paper) or pre-norm wiring.
    pub norm: Norm,
    /// Feed-forward activation.
    pub activation: Activation,
    /// Positional signal.
    pub positional: Positional,
    /// LayerNorm (or RMSNorm) epsilon.
    pub layer_norm_eps: f32,
    /// LayerNorm or RMSNorm, for every norm of the model.
    pub norm_kind: NormKind,
    /// Base of the rotary embedding's frequencies (`theta_i = rope_theta^(-2i/dk)`; llama
    /// 10000, llama 3 500000); unused (0 in blobs) without rotary positions.
    pub rope_theta: f32,
    /// Multiply embeddings by `sqrt(d_model)`.
    pub scale_embeddings: bool,
    /// The output projection is the target embedding matrix.
    pub tie_output: bool,
    /// LayerNorm on the top encoder output and on the top decoder output.
    pub final_norm: bool,
    /// LayerNorm on the source embedding (token + token type + position), before the
    /// first encoder layer (BERT).
    pub src_embed_norm: bool,
    /// Start-of-sequence token of the decoder.
    pub bos_id: u32,
    /// End-of-sequence token of the decoder.
    pub eos_id: u32,
    /// Padding token (not used by the engine; kept for tools).
    pub pad_id: u32,
}

impl Config {
    /// Checks every rule the engine relies on; each broken rule has its own message.
    pub fn validate(&self) -> Result<()> {
        let d = &self.dims;
        let bad = |reason| Err(Error::InvalidConfig { reason });
        let fields = [
            d.d_model,
            d.n_heads,
            d.d_ff,
            d.src_vocab,
            d.tgt_vocab,
            d.max_src_len,
            d.max_tgt_len,
            d.type_vocab,
            d.stem_channels,
        ];
        if fields.iter().any(|&v| v > MAX_DIM) {
            return bad("a dimension exceeds 2^20");
        }
        if d.n_encoder_layers > MAX_LAYERS || d.n_decoder_layers > MAX_LAYERS {
            return bad("more than 256 layers on one side");
        }
        if d.n_encoder_layers + d.n_decoder_layers == 0 {
            return bad("the model has neither encoder nor decoder layers");
        }
        if d.d_model == 0 {
            return bad("d_model is 0");
        }
        if d.n_heads == 0 {
            return bad("n_heads is 0");
        }
        if !d.d_model.is_multiple_of(d.n_heads) {
            return bad("d_model is not a multiple of n_heads");
        }
        if d.d_ff == 0 {
            return bad("d_ff is 0");
        }
        if d.n_encoder_layers > 0 && d.max_src_len == 0 {
            return bad("an encoder needs max_src_len > 0");
        }
        let encoder = d.n_encoder_layers > 0;
        if !encoder && (d.type_vocab > 0 || d.stem_channels > 0 || self.src_embed_norm) {
            return bad("type_vocab, stem_channels and src_embed_norm need an encoder");
        }
        if d.type_vocab > 0 && d.src_vocab == 0 {
            return bad("a token-type embedding needs a source embedding (src_vocab > 0)");
        }
        if d.n_decoder_layers > 0 {
            if d.tgt_vocab < 2 || d.max_tgt_len == 0 {
                return bad("a decoder needs tgt_vocab >= 2 and max_tgt_len > 0");
            }
            let vocab = d.tgt_vocab as u64;
            if u64::from(self.bos_id) >= vocab || u64::from(self.eos_id) >= vocab {
                return bad("bos_id or eos_id is not below tgt_vocab");
            }
            // The C API pads its token outputs with pad_id: it must be a token too.
            if u64::from(self.pad_id) >= vocab {
                return bad("pad_id is not below tgt_vocab");
            }
        } else if d.src_vocab > 0 && self.pad_id as usize >= d.src_vocab {
            // An encoder's padding token is a source token.
            return bad("pad_id is not below src_vocab");
        }
        if matches!(
            self.positional,
            Positional::Sinusoidal | Positional::SinusoidalConcat
        ) && !d.d_model.is_multiple_of(2)
        {
            return bad("sinusoidal positions need an even d_model");
        }
        if !(self.layer_norm_eps.is_finite() && self.layer_norm_eps >= 0.0) {
            return bad("layer_norm_eps must be finite and >= 0");
        }
        if self.tie_output && d.n_decoder_layers > 0 && d.tgt_vocab == 0 {
            return bad("tie_output needs a target embedding");
        }
        // An encoder-decoder model's int8 attention (the encoder self-attention's keys and
        // values in int8 rows of the llama cache's rule).
        // Builds without the feature fold it away and keep the rules below (which refuse
        // an encoder's int8 cache).
        let i8_attention = cfg!(feature = "int8-attention")
            && d.n_encoder_layers > 0
            && matches!(d.kv_cache, CacheType::I8);
        if i8_attention {
            if self.uses_llama_layers() || d.n_kv_heads != d.n_heads {
                return bad("int8 attention in an encoder needs multi-head, non-llama layers");
            }
            // The kernels' scores are i32 sums of int16 x int8 products.
            // ... and the packed rows, keys and values, fit in the `[S, D]` buffer the
            // engine packs them into (`2 (D / 4 + H) <= D` from a head width of 8).
            if !(8..=512).contains(&(d.d_model / d.n_heads)) {
                return bad("int8 attention needs a head width d_model / n_heads of 8 to 512");
            }
        }
        #[cfg(feature = "llama")]
        return self.validate_llama();
        // Without the feature there is no llama code to check the fields for.
        #[cfg(not(feature = "llama"))]
        if self.uses_llama_layers() || (matches!(d.kv_cache, CacheType::I8) && !i8_attention) {
            return Err(Error::FeatureDisabled { feature: "llama" });
        }
        #[cfg(not(feature = "llama"))]
        Ok(())
    }

    /// The rules of the llama family's options (all of them decoder-only in this engine).
    #[cfg(feature = "llama")]
    fn validate_llama(&self) -> Result<()> {
        let d = &self.dims;
        let bad = |reason| Err(Error::InvalidConfig { reason });
        let encoder = d.n_encoder_layers > 0;
        if d.n_kv_heads == 0 {
            return bad("n_kv_heads is 0");
        }
        if d.n_kv_heads > d.n_heads || !d.n_heads.is_multiple_of(d.n_kv_heads) {
            return bad("n_heads is not a multiple of n_kv_heads");
        }
        if encoder && d.n_kv_heads != d.n_heads {
            return bad("grouped key/value heads need a decoder-only model");
        }
        if encoder && self.norm_kind == NormKind::RmsNorm {
            return bad("RMSNorm needs a decoder-only model");
        }
        if encoder && d.feed_forward == FeedForward::Gated {
            return bad("a gated feed-forward network needs a decoder-only model");
        }
        if d.feed_forward == FeedForward::Gated && self.activation != Activation::Silu {
            return bad("a gated feed-forward network needs the silu activation");
        }
        if d.kv_cache == CacheType::I8 && !(encoder && cfg!(feature = "int8-attention")) {
            if encoder || !self.uses_llama_layers() {
                return bad("an int8 key/value cache needs a decoder-only llama-family model");
            }
            // The kernels' scores are i32 sums of int16 x int8 products.
            if d.d_model / d.n_heads > 512 {
                return bad("an int8 key/value cache needs a head width d_model / n_heads <= 512");
            }
            if !cfg!(feature = "int8") {
                return Err(Error::FeatureDisabled { feature: "int8" });
            }
        }
        if self.positional.is_rope() {
            if encoder {
                return bad("rotary positions need a decoder-only model");
            }
            if !(d.d_model / d.n_heads).is_multiple_of(2) {
                return bad("rotary positions need an even head width d_model / n_heads");
            }
            if !(self.rope_theta.is_finite() && self.rope_theta > 0.0) {
                return bad("rope_theta must be finite and > 0");
            }
        }
        Ok(())
    }

    /// True when the model uses any of the llama family's layers (feature `llama`):
    /// RMSNorm, rotary positions, SiLU, a gated feed-forward network or grouped key/value
    /// heads.
    pub const fn uses_llama_layers(&self) -> bool {
        matches!(self.norm_kind, NormKind::RmsNorm)
            || self.positional.is_rope()
            || matches!(self.activation, Activation::Silu)
            || matches!(self.dims.feed_forward, FeedForward::Gated)
            || self.dims.n_kv_heads != self.dims.n_heads
    }

    /// True when the model has an encoder.
    pub const fn has_encoder(&self) -> bool {
        self.dims.n_encoder_layers > 0
    }

    /// True when the model has a decoder.
    pub const fn has_decoder(&self) -> bool {
        self.dims.n_decoder_layers > 0
    }
}
