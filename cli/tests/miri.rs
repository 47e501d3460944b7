//! A Miri-sized end-to-end run (`cargo +nightly miri test --test miri`, see
//! `tools/test.d/90-miri.sh`): every entry point of the Rust and the C API, on tiny
//! synthetic models (decoder-only, encoder-only, pre-norm encoder-decoder), with valid
//! and broken arguments, through the fuzz targets' `api` body. Under Miri this checks the
//! `unsafe` code of the C boundary and the kernels for undefined behaviour; natively it
//! is one more quick test.

#[path = "../../fuzz/src/targets.rs"]
mod targets;

#[test]
fn every_call_on_every_small_model() {
    let mut calls = 0;
    for model in 1..targets::API_MODELS as u8 {
        for call in 0..12u8 {
            // model, call, then the arguments: 2 source tokens, 2 target tokens, max_len
            // near 4, beam 2..4, top near 2, alpha 0.6, exact scratch, aligned, outputs
            // of the exact size; then the same call with arguments broken one by one.
            let valid = [
                model, call, 3, 5, 7, 3, 1, 4, 3, 2, 3, 0, 3, 0, 5, 20, 3, 0, 3, 0, 3, 0,
            ];
            targets::api(&valid);
            calls += 1;
            for at in 2..valid.len() {
                let mut broken = valid;
                broken[at] = broken[at].wrapping_add(0x35);
                targets::api(&broken);
                calls += 1;
            }
        }
    }
    // docs/hardening.md states how many calls this is (natively: Miri's isolation keeps
    // the file system out of reach).
    #[cfg(not(miri))]
    {
        let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/hardening.md");
        let text = std::fs::read_to_string(page).unwrap();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let figure = format!("arguments: {calls} calls");
        assert!(
            text.contains(&figure),
            "docs/hardening.md should say \"{figure}\" (what tests/miri.rs runs today)"
        );
    }
}
