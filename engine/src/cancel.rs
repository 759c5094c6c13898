//! One way to stop a write: a token its owner (a session's write, the
//! command line) creates and passes down to the engine, the engine's ring
//! buffer and writer, the data source and the disc flow. It fires once,
//! either because someone cancelled (CancelWrite) or because a part failed
//! and the others must give up; everyone waiting wakes at once, nobody polls.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Why a token fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// CancelWrite: the write ends with E_IMAPI_REQUEST_CANCELLED.
    Cancelled,
    /// A part of the write failed; the others stop, the failure is reported.
    Failed,
}

type Hook = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct State {
    reason: Option<StopReason>,
    /// What to wake when the token fires (waits on other condition variables).
    hooks: Vec<Hook>,
}

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    fired: Condvar,
}

/// A write's stop signal. Clones share it.
#[derive(Clone, Default)]
pub struct CancelToken(Arc<Inner>);

impl std::fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CancelToken").field(&self.reason()).finish()
    }
}

impl CancelToken {
    /// A token that has not fired.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fire(&self, reason: StopReason) {
        let hooks = {
            let mut s = self.lock();
            if s.reason.is_some() {
                return;
            }
            s.reason = Some(reason);
            std::mem::take(&mut s.hooks)
        };
        self.0.fired.notify_all();
        for hook in hooks {
            hook();
        }
    }

    /// CancelWrite: stops the write; it ends with E_IMAPI_REQUEST_CANCELLED.
    pub fn cancel(&self) {
        self.fire(StopReason::Cancelled);
    }

    /// A part failed: the others stop; the failure, not a cancel, is reported.
    pub fn fail(&self) {
        self.fire(StopReason::Failed);
    }

    /// Why it fired, if it has.
    pub fn reason(&self) -> Option<StopReason> {
        self.lock().reason
    }

    /// Someone cancelled (not a failure).
    pub fn is_cancelled(&self) -> bool {
        self.reason() == Some(StopReason::Cancelled)
    }

    /// It fired, for whatever reason: stop.
    pub fn is_stopped(&self) -> bool {
        self.reason().is_some()
    }

    /// Sleeps `d`, waking early when the token fires; true if it has fired.
    pub fn sleep(&self, d: Duration) -> bool {
        let until = Instant::now() + d;
        let mut s = self.lock();
        while s.reason.is_none() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            s = self
                .0
                .fired
                .wait_timeout(s, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Runs `hook` once when the token fires (at once if it has): how a
    /// wait on another condition variable (the ring buffer's, a data
    /// queue's) is woken.
    pub fn on_stop(&self, hook: impl FnOnce() + Send + 'static) {
        {
            let mut s = self.lock();
            if s.reason.is_none() {
                s.hooks.push(Box::new(hook));
                return;
            }
        }
        hook();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn the_first_reason_wins() {
        let t = CancelToken::new();
        assert!(!t.is_stopped());
        t.fail();
        t.cancel();
        assert_eq!(t.reason(), Some(StopReason::Failed));
        assert!(!t.is_cancelled());
        assert!(t.is_stopped());
    }

    #[test]
    fn a_sleeper_wakes_when_it_fires() {
        let t = CancelToken::new();
        let other = t.clone();
        let started = Instant::now();
        let sleeper = std::thread::spawn(move || other.sleep(Duration::from_secs(30)));
        std::thread::sleep(Duration::from_millis(20));
        t.cancel();
        assert!(sleeper.join().unwrap());
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(!CancelToken::new().sleep(Duration::from_millis(1)));
    }

    #[test]
    fn hooks_run_once_and_late_ones_at_once() {
        let t = CancelToken::new();
        let ran = Arc::new(AtomicBool::new(false));
        let r = Arc::clone(&ran);
        t.on_stop(move || r.store(true, Ordering::Release));
        assert!(!ran.load(Ordering::Acquire));
        t.cancel();
        assert!(ran.load(Ordering::Acquire));
        let late = Arc::new(AtomicBool::new(false));
        let l = Arc::clone(&late);
        t.on_stop(move || l.store(true, Ordering::Release));
        assert!(late.load(Ordering::Acquire));
    }
}
