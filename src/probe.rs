//! Watching one attention head: an [`AttentionProbe`] passed to
//! [`Model::forward_with_probe`](crate::Model::forward_with_probe) receives one (layer,
//! head)'s attention probabilities of a teacher-forced forward pass, as a
//! `[queries, keys]` matrix (the picture of "what each position looks at").
//!
//! Nothing is recomputed: the attention kernel copies the head's softmax out right after
//! computing it, the same numbers that then weight the values.

/// Which of the three attentions of the Transformer to watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttentionKind {
    /// Encoder self-attention: source positions (rows) over source positions (columns).
    EncoderSelf,
    /// Masked decoder self-attention: target positions over target positions (the
    /// masked future stays 0).
    DecoderSelf,
    /// Encoder-decoder attention: target positions over source positions.
    EncoderDecoder,
}

impl AttentionKind {
    /// `(rows, columns)` of this kind's matrix for a source of `src_len` and a target of
    /// `tgt_len` tokens.
    pub const fn shape(self, src_len: usize, tgt_len: usize) -> (usize, usize) {
        match self {
            AttentionKind::EncoderSelf => (src_len, src_len),
            AttentionKind::DecoderSelf => (tgt_len, tgt_len),
            AttentionKind::EncoderDecoder => (tgt_len, src_len),
        }
    }
}

/// Where one head's attention probabilities go: `weights` `[rows, columns]`, row-major,
/// with the shape [`AttentionKind::shape`] gives.
#[derive(Debug)]
pub struct AttentionProbe<'p> {
    kind: AttentionKind,
    layer: usize,
    head: usize,
    weights: &'p mut [f32],
    columns: usize,
}

impl<'p> AttentionProbe<'p> {
    /// Watches head `head` of layer `layer` (both from 0) of the `kind` attention;
    /// `weights` receives the matrix (checked by the forward pass against the model and
    /// the sequence lengths).
    pub fn new(kind: AttentionKind, layer: usize, head: usize, weights: &'p mut [f32]) -> Self {
        AttentionProbe {
            kind,
            layer,
            head,
            weights,
            columns: 0,
        }
    }

    /// The attention watched.
    pub fn kind(&self) -> AttentionKind {
        self.kind
    }

    /// The layer watched.
    pub fn layer(&self) -> usize {
        self.layer
    }

    /// The head watched.
    pub fn head(&self) -> usize {
        self.head
    }

    /// Checks the probe against the model (`layers` of this kind, `n_heads`) and the
    /// lengths and fixes its row width. Writes nothing: each row is cleared when the
    /// attention step hands it to the kernel (so a call that fails its later checks
    /// leaves the matrix untouched).
    pub(crate) fn start(
        &mut self,
        layers: usize,
        n_heads: usize,
        src_len: usize,
        tgt_len: usize,
    ) -> crate::Result<()> {
        if !cfg!(feature = "probe") {
            return Err(crate::Error::FeatureDisabled { feature: "probe" });
        }
        if self.layer >= layers {
            return Err(crate::Error::InvalidConfig {
                reason: "attention probe: the layer is not below the model's layer count",
            });
        }
        if self.head >= n_heads {
            return Err(crate::Error::InvalidConfig {
                reason: "attention probe: the head is not below n_heads",
            });
        }
        let (rows, columns) = self.kind.shape(src_len, tgt_len);
        let needed = rows
            .checked_mul(columns)
            .ok_or(crate::Error::SizeOverflow)?;
        if self.weights.len() < needed {
            return Err(crate::Error::OutputTooSmall {
                needed,
                got: self.weights.len(),
            });
        }
        self.columns = columns;
        Ok(())
    }
}

/// One attention step's view of an optional probe: the step's kind and layer, and the
/// position of its first query row.
pub(crate) struct ProbeSite<'x, 'p> {
    /// Without the `probe` feature there is none: every row gets `None`, a constant, and
    /// the attention kernel is compiled without its copying.
    #[cfg(feature = "probe")]
    probe: Option<&'x mut AttentionProbe<'p>>,
    #[cfg(not(feature = "probe"))]
    probe: core::marker::PhantomData<&'x mut AttentionProbe<'p>>,
    #[cfg_attr(not(feature = "probe"), allow(dead_code))]
    first_position: usize,
}

impl<'x, 'p> ProbeSite<'x, 'p> {
    /// The probe, if it watches `kind` at `layer`; query row `i` is position
    /// `first_position + i`.
    pub fn at(
        probe: Option<&'x mut AttentionProbe<'p>>,
        kind: AttentionKind,
        layer: usize,
        first_position: usize,
    ) -> Self {
        #[cfg(feature = "probe")]
        let probe = probe.filter(|p| p.kind == kind && p.layer == layer);
        // Without the feature no probe gets here: `start` refuses it.
        #[cfg(not(feature = "probe"))]
        let probe = {
            let _ = (probe, kind, layer);
            core::marker::PhantomData
        };
        ProbeSite {
            probe,
            first_position,
        }
    }

    /// True when the probe watches this site (host threads and the int8 attention leave
    /// such attention to the f32 row-by-row loop, which copies the probabilities).
    #[cfg(any(feature = "threads", feature = "int8-attention"))]
    pub fn watches(&self) -> bool {
        #[cfg(feature = "probe")]
        return self.probe.is_some();
        #[cfg(not(feature = "probe"))]
        false
    }

    /// What the attention kernel takes for query row `row`: the head and the matrix row,
    /// cleared (the kernel fills the keys the query sees; a masked future stays 0).
    #[cfg(not(feature = "probe"))]
    #[inline(always)]
    pub fn row(&mut self, _row: usize) -> Option<(usize, &mut [f32])> {
        None
    }

    /// What the attention kernel takes for query row `row`: the head and the matrix row,
    /// cleared (the kernel fills the keys the query sees; a masked future stays 0).
    #[cfg(feature = "probe")]
    pub fn row(&mut self, row: usize) -> Option<(usize, &mut [f32])> {
        let probe = self.probe.as_deref_mut()?;
        let start = (self.first_position + row).checked_mul(probe.columns)?;
        let out = probe
            .weights
            .get_mut(start..start.checked_add(probe.columns)?)?;
        out.fill(0.0);
        Some((probe.head, out))
    }
}
