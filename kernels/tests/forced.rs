//! With `PICOFORMER_KERNEL=NAME`, the dispatching functions must run exactly that kernel:
//! this test fails when the forced kernel is unknown, unavailable on this CPU, or did not
//! serve the calls. CI runs the suite once per kernel so every SIMD path is proven to
//! execute, not silently replaced by the fallback.

use picoformer_kernels::{active_kernel, kernel_calls, linear, Kernel};

#[test]
fn forced_kernel_serves_the_calls() {
    let x = [1.0f32; 3 * 40];
    let w = [0.5f32; 5 * 40];
    let mut y = [0.0f32; 3 * 5];
    linear(&x, &w, None, 40, &mut y);
    assert!(y.iter().all(|&v| v == 20.0));
    let Ok(name) = std::env::var("PICOFORMER_KERNEL") else {
        eprintln!(
            "PICOFORMER_KERNEL unset: the best available kernel is {:?}",
            active_kernel()
        );
        assert!(kernel_calls(active_kernel()) > 0);
        return;
    };
    let forced = Kernel::from_name(&name)
        .unwrap_or_else(|| panic!("PICOFORMER_KERNEL={name} names no kernel"));
    assert!(
        forced.available(),
        "PICOFORMER_KERNEL={name}: this CPU cannot run it"
    );
    assert_eq!(active_kernel(), forced);
    assert!(
        kernel_calls(forced) > 0,
        "the forced kernel {name} did not run"
    );
    for other in Kernel::ALL.into_iter().filter(|&k| k != forced) {
        assert_eq!(
            kernel_calls(other),
            0,
            "{other:?} ran although {name} was forced"
        );
    }
}
