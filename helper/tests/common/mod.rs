//! What the helper's command-line tests share.

// Each test binary includes this module and uses a part of it.
#![allow(dead_code)]

/// A test's prerequisite is missing: the test fails, naming it (a test
/// that did not run is never reported as passed; `cargo xtask test`
/// installs every one).
#[track_caller]
pub(crate) fn prerequisite_missing(what: &str) -> ! {
    panic!("missing prerequisite: {what} (cargo xtask test installs it)");
}

/// A helper process killed when the test ends, also when an assertion
/// fails, so no failed test leaves a server running.
pub(crate) struct Running(pub std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
