//! The engine's model features: which blobs a build without them refuses (and with which
//! error), and position tables stored by the converter (`convert --positions-table`),
//! which must give the very numbers the engine computes without them.

mod common;

use common::golden_cases;
use picoformer::blob::{Features, BUILD_FEATURES};
use picoformer::config::{Activation, Positional, WeightType};
use picoformer::{Error, Model};
use picoformer_cli::{convert, scratch, AlignedBytes};

/// The host build (std) has every feature, so it loads every blob.
#[test]
fn host_build_has_every_feature() {
    assert_eq!(
        BUILD_FEATURES,
        Features {
            int8: true,
            f16: true,
            gelu: true,
            conv_stem: true,
            sinusoid: true,
            llama: true,
        }
    );
}

/// Without features, each model feature is named by the check that refuses the blob; a
/// sinusoidal model with stored tables needs none.
#[test]
fn each_disabled_feature_is_named() {
    let none = Features::NONE;
    for case in golden_cases() {
        let config = case.config;
        let expected = if config.activation == Activation::Gelu {
            Some("gelu")
        } else if matches!(
            config.positional,
            Positional::Sinusoidal | Positional::SinusoidalConcat
        ) {
            Some("sinusoid")
        } else {
            None
        };
        assert_eq!(
            none.missing_for(&config, WeightType::F32, false),
            expected,
            "{}",
            case.name
        );
        if config.activation == Activation::Relu {
            assert_eq!(
                none.missing_for(&config, WeightType::F32, true),
                None,
                "{}: positions stored",
                case.name
            );
        }
        assert_eq!(
            none.missing_for(&config, WeightType::I8, true),
            Some("int8")
        );
        assert_eq!(
            none.missing_for(&config, WeightType::F16, true),
            Some("f16")
        );
        let only_int8 = Features { int8: true, ..none };
        assert_eq!(
            only_int8.missing_for(&config, WeightType::I8, true),
            expected.filter(|&f| f == "gelu")
        );
    }
    let mut stem = golden_cases()
        .into_iter()
        .find(|c| c.name == "tied")
        .expect("the tied golden case")
        .config;
    stem.dims.stem_channels = 8;
    assert_eq!(
        Features::NONE.missing_for(&stem, WeightType::F32, true),
        Some("conv-stem")
    );
    let with_stem = Features {
        conv_stem: true,
        ..Features::NONE
    };
    assert_eq!(with_stem.missing_for(&stem, WeightType::F32, true), None);
}

#[test]
fn feature_disabled_error_names_the_feature() {
    let e = Error::FeatureDisabled { feature: "int8" };
    let message = e.to_string();
    assert!(message.contains("`int8`"), "{message}");
    assert!(message.contains("feature"), "{message}");
}

/// Every sinusoidal golden model with its tables stored: a larger blob, the same greedy
/// tokens and score and the same teacher-forced logits, bit for bit.
#[test]
fn stored_position_tables_compute_the_same_numbers() {
    let mut checked = 0;
    for case in golden_cases() {
        let stored =
            AlignedBytes::copy_from(&convert::store_positions(case.blob.as_slice()).unwrap());
        let sinusoidal = matches!(
            case.config.positional,
            Positional::Sinusoidal | Positional::SinusoidalConcat
        );
        if !sinusoidal {
            assert_eq!(stored.as_slice(), case.blob.as_slice(), "{}", case.name);
            continue;
        }
        let d = case.config.dims.d_model;
        let rows = case.config.dims.max_src_len + case.config.dims.max_tgt_len;
        assert_eq!(
            stored.as_slice().len() - case.blob.as_slice().len(),
            rows * d * 4,
            "{}: both tables stored",
            case.name
        );
        let computed = Model::from_blob(case.blob.as_slice()).unwrap();
        let table = Model::from_blob(stored.as_slice()).unwrap();
        let mut work = scratch(computed.greedy_scratch_bytes().unwrap());
        let work = work.as_mut_slice();
        for greedy in &case.expected.greedy {
            let mut a = vec![0u32; greedy.max_len];
            let mut b = vec![0u32; greedy.max_len];
            let ga = computed
                .greedy(&greedy.src, greedy.max_len, &mut a, work)
                .unwrap();
            let gb = table
                .greedy(&greedy.src, greedy.max_len, &mut b, work)
                .unwrap();
            assert_eq!(a, b, "{}", case.name);
            assert_eq!(ga.score.to_bits(), gb.score.to_bits(), "{}", case.name);
        }
        for forward in &case.expected.forward {
            let v = case.config.dims.tgt_vocab;
            let mut work = scratch(computed.forward_scratch_bytes().unwrap());
            let work = work.as_mut_slice();
            let mut a = vec![0f32; forward.tgt.len() * v];
            let mut b = vec![0f32; forward.tgt.len() * v];
            computed
                .forward(&forward.src, &forward.tgt, &mut a, work)
                .unwrap();
            table
                .forward(&forward.src, &forward.tgt, &mut b, work)
                .unwrap();
            let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a), bits(&b), "{}", case.name);
        }
        checked += 1;
    }
    assert!(checked >= 3, "sinusoidal golden cases checked: {checked}");
}

/// Stored tables come before quantization: a quantized blob is refused, not silently
/// left without them.
#[test]
fn positions_are_stored_before_quantizing() {
    let case = golden_cases()
        .into_iter()
        .find(|c| c.name == "paper_small")
        .expect("the paper_small golden case");
    let (int8, _) = convert::requantize(case.blob.as_slice(), WeightType::I8).unwrap();
    let error = convert::store_positions(&int8).unwrap_err();
    assert!(error.to_string().contains("before quantizing"), "{error}");
}
