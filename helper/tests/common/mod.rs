//! What the helper's command-line tests share.

/// A helper process killed when the test ends, also when an assertion
/// fails, so no failed test leaves a server running.
pub struct Running(pub std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
