//! The outcome of one test and the assertions that build it, none of which can panic.

use picoformer::Error;

/// `Ok` when the test passed; otherwise what went wrong.
pub(crate) type Check = Result<(), Failure>;

/// Why a test failed, printed under its `FAILED` line.
pub(crate) struct Failure {
    what: &'static str,
    detail: Detail,
}

enum Detail {
    None,
    Error(Error),
    Values(f32, f32),
}

impl Failure {
    pub(crate) fn log(&self) {
        match self.detail {
            Detail::None => defmt::println!("    {=str}", self.what),
            Detail::Error(e) => defmt::println!("    {=str}: got {}", self.what, e),
            Detail::Values(got, want) => {
                defmt::println!("    {=str}: got {=f32}, want {=f32}", self.what, got, want)
            }
        }
    }
}

/// Fails with `what` unless `condition` holds.
pub(crate) fn ensure(condition: bool, what: &'static str) -> Check {
    if condition {
        Ok(())
    } else {
        Err(Failure {
            what,
            detail: Detail::None,
        })
    }
}

/// Fails with the error when `result` is one.
pub(crate) fn ok<T>(result: &Result<T, Error>, what: &'static str) -> Check {
    match result {
        Ok(_) => Ok(()),
        Err(e) => Err(Failure {
            what,
            detail: Detail::Error(*e),
        }),
    }
}

/// Passes only when `result` is exactly the error `expected`.
pub(crate) fn fails_with<T>(
    result: Result<T, Error>,
    expected: Error,
    what: &'static str,
) -> Check {
    match result {
        Err(e) if e == expected => Ok(()),
        Err(e) => Err(Failure {
            what,
            detail: Detail::Error(e),
        }),
        Ok(_) => Err(Failure {
            what,
            detail: Detail::None,
        }),
    }
}

/// `|got - want| <= tolerance` (and neither is NaN).
pub(crate) fn close(got: f32, want: f32, tolerance: f32, what: &'static str) -> Check {
    if (got - want).abs() <= tolerance {
        Ok(())
    } else {
        Err(Failure {
            what,
            detail: Detail::Values(got, want),
        })
    }
}

/// Element-wise [`close`] over slices of the same length.
pub(crate) fn all_close(got: &[f32], want: &[f32], tolerance: f32, what: &'static str) -> Check {
    ensure(got.len() == want.len(), what)?;
    for (&g, &w) in got.iter().zip(want) {
        close(g, w, tolerance, what)?;
    }
    Ok(())
}

/// The value of `result`, or a failure naming `what` and the error.
pub(crate) fn loaded<T>(result: Result<T, Error>, what: &'static str) -> Result<T, Failure> {
    result.map_err(|e| Failure {
        what,
        detail: Detail::Error(e),
    })
}
