//! `Model`: a validated weights blob, read in place, and the per-layer views the layer code
//! computes with.

use crate::blob::{self, TableEntry, TensorKind as K};
use crate::config::Config;
use crate::error::{Error, Result};

/// A runtime-shaped model: the configuration plus the weights, borrowed from the blob.
///
/// Creating one validates the blob completely; afterwards no access can fall outside it.
/// Nothing is copied: a blob in flash stays in flash.
#[derive(Clone, Copy)]
pub struct Model<'a> {
    config: Config,
    /// The whole blob as f32 words; tensors are found through the table.
    words: &'a [f32],
    table: &'a [TableEntry],
}

impl core::fmt::Debug for Model<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Model")
            .field("config", &self.config)
            .finish()
    }
}

/// Weights of one multi-head attention block. Matrices are `[D, D]`, biases `[D]`.
pub(crate) struct AttentionWeights<'a> {
    pub q: &'a [f32],
    pub q_bias: Option<&'a [f32]>,
    pub k: &'a [f32],
    pub k_bias: Option<&'a [f32]>,
    pub v: &'a [f32],
    pub v_bias: Option<&'a [f32]>,
    pub out: &'a [f32],
    pub out_bias: Option<&'a [f32]>,
}

/// LayerNorm parameters, `[D]` each.
pub(crate) struct NormWeights<'a> {
    pub gamma: &'a [f32],
    pub beta: Option<&'a [f32]>,
}

/// Position-wise feed-forward weights: `w1 [F, D]`, `b1 [F]`, `w2 [D, F]`, `b2 [D]`.
pub(crate) struct FfnWeights<'a> {
    pub w1: &'a [f32],
    pub b1: Option<&'a [f32]>,
    pub w2: &'a [f32],
    pub b2: Option<&'a [f32]>,
}

/// The convolution stem: `conv1 [D, 3, C]`, `conv2 [D, 3, D]` (kernel-major), biases `[D]`.
pub(crate) struct StemWeights<'a> {
    pub conv1: &'a [f32],
    pub conv1_bias: Option<&'a [f32]>,
    pub conv2: &'a [f32],
    pub conv2_bias: Option<&'a [f32]>,
}

/// One encoder layer: self-attention, then FFN, each with its LayerNorm.
pub(crate) struct EncoderLayer<'a> {
    pub self_attn: AttentionWeights<'a>,
    pub norm1: NormWeights<'a>,
    pub ffn: FfnWeights<'a>,
    pub norm2: NormWeights<'a>,
}

/// One decoder layer: masked self-attention, encoder-decoder attention (absent in a
/// decoder-only model), then FFN, each with its LayerNorm.
pub(crate) struct DecoderLayer<'a> {
    pub self_attn: AttentionWeights<'a>,
    pub norm1: NormWeights<'a>,
    pub cross_attn: Option<(AttentionWeights<'a>, NormWeights<'a>)>,
    pub ffn: FfnWeights<'a>,
    pub norm3: NormWeights<'a>,
}

impl<'a> Model<'a> {
    /// Validates `blob` and wraps it. The blob must start on a 16-byte boundary.
    pub fn from_blob(blob: &'a [u8]) -> Result<Self> {
        let (config, table) = blob::validate(blob)?;
        // validate() proved the length is a multiple of 16 and the start is aligned.
        let words = bytemuck::try_cast_slice(blob).map_err(|_| Error::BlobMisaligned)?;
        Ok(Model {
            config,
            words,
            table,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Total number of weight elements (parameters) stored in the blob.
    pub fn parameter_count(&self) -> usize {
        self.table.iter().map(|e| e[3] as usize).sum()
    }

    /// The tensor in table slot `index`, `None` when absent.
    pub(crate) fn tensor(&self, index: usize) -> Option<&'a [f32]> {
        let &[_, _, offset, len] = self.table.get(index)?;
        if len == 0 {
            return None;
        }
        let start = offset as usize / 4;
        self.words.get(start..start.checked_add(len as usize)?)
    }

    fn required(&self, index: usize) -> Result<&'a [f32]> {
        self.tensor(index).ok_or(Error::MissingTensor { index })
    }

    /// A global tensor, `None` when absent.
    pub(crate) fn global(&self, kind: K) -> Option<&'a [f32]> {
        self.tensor(blob::global_index(kind))
    }

    /// A global tensor this call cannot do without.
    pub(crate) fn required_global(&self, kind: K) -> Result<&'a [f32]> {
        self.required(blob::global_index(kind))
    }

    /// The weights of the convolution stem.
    pub(crate) fn stem(&self) -> Result<StemWeights<'a>> {
        Ok(StemWeights {
            conv1: self.required_global(K::StemConv1Weight)?,
            conv1_bias: self.global(K::StemConv1Bias),
            conv2: self.required_global(K::StemConv2Weight)?,
            conv2_bias: self.global(K::StemConv2Bias),
        })
    }

    /// The weights of encoder layer `layer`.
    pub(crate) fn encoder_layer(&self, layer: usize) -> Result<EncoderLayer<'a>> {
        let get = |kind| self.tensor(blob::encoder_index(layer, kind));
        let req = |kind| self.required(blob::encoder_index(layer, kind));
        Ok(EncoderLayer {
            self_attn: AttentionWeights {
                q: req(K::EncSelfQWeight)?,
                q_bias: get(K::EncSelfQBias),
                k: req(K::EncSelfKWeight)?,
                k_bias: get(K::EncSelfKBias),
                v: req(K::EncSelfVWeight)?,
                v_bias: get(K::EncSelfVBias),
                out: req(K::EncSelfOutWeight)?,
                out_bias: get(K::EncSelfOutBias),
            },
            norm1: NormWeights {
                gamma: req(K::EncNorm1Gamma)?,
                beta: get(K::EncNorm1Beta),
            },
            ffn: FfnWeights {
                w1: req(K::EncFfnW1)?,
                b1: get(K::EncFfnB1),
                w2: req(K::EncFfnW2)?,
                b2: get(K::EncFfnB2),
            },
            norm2: NormWeights {
                gamma: req(K::EncNorm2Gamma)?,
                beta: get(K::EncNorm2Beta),
            },
        })
    }

    /// The weights of decoder layer `layer`.
    pub(crate) fn decoder_layer(&self, layer: usize) -> Result<DecoderLayer<'a>> {
        let dims = &self.config.dims;
        let get = |kind| self.tensor(blob::decoder_index(dims, layer, kind));
        let req = |kind| self.required(blob::decoder_index(dims, layer, kind));
        let cross_attn = if self.config.has_encoder() {
            Some((
                AttentionWeights {
                    q: req(K::DecCrossQWeight)?,
                    q_bias: get(K::DecCrossQBias),
                    k: req(K::DecCrossKWeight)?,
                    k_bias: get(K::DecCrossKBias),
                    v: req(K::DecCrossVWeight)?,
                    v_bias: get(K::DecCrossVBias),
                    out: req(K::DecCrossOutWeight)?,
                    out_bias: get(K::DecCrossOutBias),
                },
                NormWeights {
                    gamma: req(K::DecNorm2Gamma)?,
                    beta: get(K::DecNorm2Beta),
                },
            ))
        } else {
            None
        };
        Ok(DecoderLayer {
            self_attn: AttentionWeights {
                q: req(K::DecSelfQWeight)?,
                q_bias: get(K::DecSelfQBias),
                k: req(K::DecSelfKWeight)?,
                k_bias: get(K::DecSelfKBias),
                v: req(K::DecSelfVWeight)?,
                v_bias: get(K::DecSelfVBias),
                out: req(K::DecSelfOutWeight)?,
                out_bias: get(K::DecSelfOutBias),
            },
            norm1: NormWeights {
                gamma: req(K::DecNorm1Gamma)?,
                beta: get(K::DecNorm1Beta),
            },
            cross_attn,
            ffn: FfnWeights {
                w1: req(K::DecFfnW1)?,
                b1: get(K::DecFfnB1),
                w2: req(K::DecFfnW2)?,
                b2: get(K::DecFfnB2),
            },
            norm3: NormWeights {
                gamma: req(K::DecNorm3Gamma)?,
                beta: get(K::DecNorm3Beta),
            },
        })
    }
}
