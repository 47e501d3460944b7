//! Multi-head attention: `Z_h = softmax(Q_h K_h^T / sqrt(Dk) + M) V_h`, `out = Z Wo^T + bo`.
//!
//! The projections and the per-query attention are separate steps because the three
//! uses differ only in where K and V come from: the same rows (encoder self-attention),
//! the cache of past positions (decoder self-attention: the causal mask is the cache
//! holding only positions `<= i`), or the encoder output (encoder-decoder attention).

use crate::model::AttentionWeights;
use crate::probe::ProbeSite;
use picoformer_kernels as k;
use picoformer_kernels::Activations;

/// `q = input Wq^T + bq` for `[n, D]` rows.
pub(crate) fn project_queries(
    w: &AttentionWeights,
    input: &[f32],
    d: usize,
    q: &mut [f32],
    act: &mut Activations,
) {
    k::quant::linear(input, w.q, w.q_bias, d, q, act);
}

/// `keys = input Wk^T + bk`, `values = input Wv^T + bv` for `[n, D]` rows.
pub(crate) fn project_keys_values(
    w: &AttentionWeights,
    input: &[f32],
    d: usize,
    keys: &mut [f32],
    values: &mut [f32],
    act: &mut Activations,
) {
    k::quant::linear(input, w.k, w.k_bias, d, keys, act);
    k::quant::linear(input, w.v, w.v_bias, d, values, act);
}

/// Attention of each query row in place over the same `keys`/`values` `[m, D]`
/// (every query sees every key: the encoder and encoder-decoder case). `probe` receives
/// the watched head's probabilities of each query row, if it watches this step.
pub(crate) fn attend_all(
    q: &mut [f32],
    keys: &[f32],
    values: &[f32],
    n_heads: usize,
    d: usize,
    scores: &mut [f32],
    mut probe: ProbeSite,
) {
    for (row, q_row) in q.chunks_exact_mut(d.max(1)).enumerate() {
        k::attention_probed(q_row, keys, values, n_heads, scores, probe.row(row));
    }
}

/// `out = z Wo^T + bo` for `[n, D]` rows.
pub(crate) fn project_output(
    w: &AttentionWeights,
    z: &[f32],
    d: usize,
    out: &mut [f32],
    act: &mut Activations,
) {
    k::quant::linear(z, w.out, w.out_bias, d, out, act);
}
