//! The embedded model against PyTorch's outputs: tokens exactly, scores within the host
//! golden tests' tolerance (plus, for int8 activations, a relative one: see
//! `golden::SCORE_RELATIVE_TOLERANCE`).

use crate::check::{close, ensure, loaded, Check};
use crate::golden::{self, BeamCase, GreedyCase};
use crate::{Net, SuiteScratch};

/// The host golden tests' score tolerance (`cli/tests/golden.rs`).
const SCORE_TOLERANCE: f32 = 1e-4;

/// The tolerance for an expected score `want`.
fn score_tolerance(want: f32) -> f32 {
    SCORE_TOLERANCE + golden::SCORE_RELATIVE_TOLERANCE * want.abs()
}

pub(crate) fn greedy(net: &Net, case: &GreedyCase, scratch: &mut SuiteScratch) -> Check {
    let mut out = [0u32; golden::MAX_TGT_LEN];
    let greedy = loaded(
        net.greedy(case.src, case.max_len, &mut out, scratch),
        "greedy",
    )?;
    ensure(out.get(..greedy.len) == Some(case.tokens), "greedy tokens")?;
    close(
        greedy.score,
        case.score,
        score_tolerance(case.score),
        "greedy score",
    )
}

pub(crate) fn beam(net: &Net, case: &BeamCase, scratch: &mut SuiteScratch) -> Check {
    let Some(result) = golden::beam_search(net, case, scratch) else {
        return ensure(false, "no beam_search instance for this beam size");
    };
    let found = loaded(result, "beam_search")?;
    ensure(found.len() == case.hypotheses.len(), "hypothesis count")?;
    for (got, want) in found.iter().zip(case.hypotheses) {
        ensure(got.tokens == want.tokens, "hypothesis tokens")?;
        close(
            got.score,
            want.score,
            score_tolerance(want.score),
            "hypothesis score",
        )?;
    }
    Ok(())
}
