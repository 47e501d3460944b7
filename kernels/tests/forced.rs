//! With `PICOFORMER_KERNEL=NAME`, the dispatching functions must run exactly that kernel
//! for every dtype it has a member for: these tests fail when the forced kernel is
//! unknown, unavailable on this CPU, or did not serve the calls (and no other kernel may
//! have). CI runs the suite once per kernel so every kernel path is proven to execute, not
//! silently replaced by the fallback. Test names carry their dtype (`f32`, `f16`, `i8`).

use picoformer_kernels::quant::{self, f16, Activations, I8Matrix, Matrix};
use picoformer_kernels::{
    active_kernel, active_kernel_for, kernel_calls, last_kernel, linear, Dtype, Kernel,
};

/// Whether the forced kernel's set has its own `dtype` member on the machines CI runs it
/// on (else the scalar reference serves that dtype).
fn has_member(name: &str, dtype: Dtype) -> bool {
    match (name, dtype) {
        (_, Dtype::F32) => !matches!(name, "scalar" | "scalar-fma"),
        ("avx2" | "avx512" | "arm-fpu" | "mve", _) => true,
        ("neon" | "rvv", Dtype::I8) => true,
        _ => false,
    }
}

/// After one `dtype` product: the kernel that serves `dtype` served it (and is recorded
/// as the latest), and with `PICOFORMER_KERNEL` set it is the forced kernel's member and
/// no other kernel served any `dtype` product.
fn check_served(dtype: Dtype) {
    let serving = active_kernel_for(dtype);
    eprintln!("{} kernel: {}", dtype.name(), serving.name());
    assert!(
        kernel_calls(dtype, serving) > 0,
        "the {} kernel did not run",
        dtype.name()
    );
    assert_eq!(last_kernel(dtype), Some(serving));
    let Ok(name) = std::env::var("PICOFORMER_KERNEL") else {
        return;
    };
    let forced = Kernel::from_name(&name)
        .unwrap_or_else(|| panic!("PICOFORMER_KERNEL={name} names no kernel"));
    assert!(
        forced.available(),
        "PICOFORMER_KERNEL={name}: this CPU cannot run it"
    );
    assert_eq!(active_kernel(), forced);
    assert_eq!(serving, forced.serving(dtype));
    if has_member(&name, dtype) {
        assert_eq!(
            serving,
            forced,
            "{name} has no {} kernel on this CPU",
            dtype.name()
        );
    }
    for other in Kernel::ALL.into_iter().filter(|&k| k != serving) {
        assert_eq!(
            kernel_calls(dtype, other),
            0,
            "{other:?} served {} products although {name} was forced",
            dtype.name()
        );
    }
}

#[test]
fn forced_kernel_serves_the_f32_calls() {
    let x = [1.0f32; 3 * 40];
    let w = [0.5f32; 5 * 40];
    let mut y = [0.0f32; 3 * 5];
    linear(&x, &w, None, 40, &mut y);
    assert!(y.iter().all(|&v| v == 20.0));
    check_served(Dtype::F32);
}

#[test]
fn forced_kernel_serves_the_f16_calls() {
    let (n, k) = (6, 40);
    let x = vec![1.0f32; 2 * k];
    let w = vec![f16::from_f32(0.5); n * k];
    let mut y = vec![0.0f32; 2 * n];
    quant::linear(
        &x,
        &Matrix::F16(&w),
        None,
        k,
        &mut y,
        &mut Activations::none(),
    );
    assert!(y.iter().all(|&v| (v - 20.0).abs() < 1e-4), "{y:?}");
    check_served(Dtype::F16);
}

#[test]
fn forced_kernel_serves_the_i8_calls() {
    let (n, k) = (6, 40);
    let values = vec![3i8; n * k];
    let scales = vec![0.5f32; n];
    let x = vec![1.0f32; 2 * k];
    let mut y = vec![0.0f32; 2 * n];
    let mut qv = vec![0i8; 2 * k];
    let mut qs = vec![0.0f32; 2];
    let mut act = Activations {
        values: &mut qv,
        scales: &mut qs,
    };
    let w = Matrix::I8(I8Matrix {
        values: &values,
        scales: &scales,
    });
    quant::linear(&x, &w, None, k, &mut y, &mut act);
    // x quantizes to 127 with scale 1/127: 127 * 3 * 40 * (1/127 * 0.5) = 60.
    assert!(y.iter().all(|&v| (v - 60.0).abs() < 1e-4), "{y:?}");
    check_served(Dtype::I8);
}

/// The CRC-32C has no record: the name of the implementation that serves it shows which
/// ran. With `PICOFORMER_KERNEL` forced, the sets with CRC instructions (x86_64 SSE4.2,
/// which every AVX2 CPU has; aarch64 `crc`, which every Armv8.1 CPU and qemu's default
/// have) serve it themselves and every other set runs the scalar table; the result is the
/// standard check value either way, and the table's bits on a longer unaligned run.
#[test]
fn forced_kernel_serves_the_crc32c() {
    use picoformer_kernels::{crc32c_kernel_name, crc32c_update, generic::crc32c};
    let served = crc32c_kernel_name();
    eprintln!("crc32c kernel: {served}");
    assert_eq!(!crc32c_update(!0, b"123456789"), 0xE306_9283);
    let bytes: Vec<u8> = (0u32..1000).map(|i| (i * 7 + i / 13) as u8).collect();
    assert_eq!(
        crc32c_update(!0, &bytes[1..]),
        crc32c::crc32c_update(!0, &bytes[1..])
    );
    let Ok(name) = std::env::var("PICOFORMER_KERNEL") else {
        return;
    };
    let expected = match name.as_str() {
        "avx2" | "avx512" => "sse4.2-crc32",
        "neon" => "crc32cx",
        _ => "scalar",
    };
    assert_eq!(served, expected, "PICOFORMER_KERNEL={name}");
}

/// The llama layer's fused attention (heads of 8 columns): the bits of the scalar twin the
/// active kernel names, the fused multiply-adds' (`generic::f32::attention_grouped_fused_fma`)
/// on `arm-fpu`, `mve` and `scalar-fma`, the reference's own elsewhere. `scalar-fma` is the
/// host's way to the Arm firmware's bits (the firmware suite's expected tokens), so it must
/// differ from the reference on these rows, where the two roundings do.
#[test]
fn forced_kernel_fused_attention_is_its_twin() {
    use picoformer_kernels::attention_grouped_fused;
    use picoformer_kernels::generic::f32 as scalar;
    let scalar_fma = Kernel::from_name("scalar-fma").expect("scalar-fma is a kernel name");
    assert!(scalar_fma.available());
    for dtype in Dtype::ALL {
        assert_eq!(scalar_fma.serving(dtype), Kernel::Scalar);
    }
    // 2 query heads over 1 key/value head of 8 columns, 37 positions
    let (heads, kv_heads, positions) = (2, 1, 37);
    let keys: Vec<f32> = (0..positions * 8)
        .map(|i| ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) * 3.1)
        .collect();
    let values: Vec<f32> = (0..positions * 8)
        .map(|i| ((i * 104_729 % 2039) as f32 / 2039.0 - 0.5) * 1.7)
        .collect();
    let query: Vec<f32> = (0..heads * 8).map(|i| 0.37 * i as f32 - 2.3).collect();
    let run = |f: &dyn Fn(&mut [f32], &mut [f32])| {
        let mut q = query.clone();
        let mut scores = vec![0.0f32; positions];
        f(&mut q, &mut scores);
        q.iter().map(|v| v.to_bits()).collect::<Vec<u32>>()
    };
    let got = run(&|q, s| attention_grouped_fused(q, &keys, &values, heads, kv_heads, s));
    let fused =
        run(&|q, s| scalar::attention_grouped_fused_fma(q, &keys, &values, heads, kv_heads, s));
    let plain = run(&|q, s| scalar::attention_grouped_fused(q, &keys, &values, heads, kv_heads, s));
    assert_ne!(
        fused, plain,
        "the two roundings agree on these rows: pick others"
    );
    let fma = matches!(
        active_kernel(),
        Kernel::ArmFpu | Kernel::Mve | Kernel::ScalarFma
    );
    assert_eq!(
        got,
        if fma { fused } else { plain },
        "{:?}",
        active_kernel()
    );
}
