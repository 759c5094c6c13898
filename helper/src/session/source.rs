//! The data source a session hands to WriteSection: payloads of data frames
//! arrive through a queue the write's cancel token can wake, and every byte
//! the engine takes is reported back as credit the session can grant again.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use bytes::{Buf, Bytes};
use tokio::sync::mpsc::UnboundedSender;

use super::{TargetId, WriteEvent};
use webburn_engine::cancel::CancelToken;

/// Credit is reported in batches of at least this many bytes (or when the
/// reader is about to wait, so a small window never stalls).
const REPORT_EVERY: u64 = 1 << 20;

fn cancelled_error() -> std::io::Error {
    std::io::Error::other("the write was cancelled")
}

/// The payloads queued for one target's reader.
#[derive(Debug, Default)]
struct Queue {
    payloads: VecDeque<Bytes>,
    /// The session sends no more (the data ended, or the write was cancelled).
    closed: bool,
    /// The reader is gone: nothing more is queued.
    reader_gone: bool,
}

#[derive(Debug, Default)]
struct Feed {
    queue: Mutex<Queue>,
    ready: Condvar,
}

impl Feed {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes the reader (under the lock, so a reader about to wait cannot miss it).
    fn wake(&self) {
        let _q = self.lock();
        self.ready.notify_all();
    }
}

/// The session's end of a target's payload queue; dropping it ends the data.
#[derive(Debug)]
pub(crate) struct FeedSender(Arc<Feed>);

impl FeedSender {
    /// Queues a payload (shared, not copied); dropped if the reader is gone
    /// (its engine stopped; its result follows).
    pub(super) fn send(&self, payload: Bytes) {
        let mut q = self.0.lock();
        if !q.reader_gone {
            q.payloads.push_back(payload);
            self.0.ready.notify_all();
        }
    }
}

impl Drop for FeedSender {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.ready.notify_all();
    }
}

/// A `Read` over data-frame payloads.
pub(crate) struct ChannelReader {
    feed: Arc<Feed>,
    current: Bytes,
    unreported: u64,
    events: UnboundedSender<WriteEvent>,
    /// The write and the target this reader feeds.
    at: TargetId,
    /// The write's stop signal: a cancel ends the data in an error (so the
    /// engine writes nothing more), a failure stops a reader waiting for data.
    cancel: CancelToken,
}

impl std::fmt::Debug for ChannelReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelReader")
            .field("at", &self.at)
            .field("unreported", &self.unreported)
            .finish_non_exhaustive()
    }
}

impl Drop for ChannelReader {
    fn drop(&mut self) {
        let mut q = self.feed.lock();
        q.reader_gone = true;
        q.payloads.clear();
    }
}

/// A payload queue for one target: the session's sender and the engine's
/// reader, which `cancel` wakes when it fires.
pub(crate) fn feed(
    events: UnboundedSender<WriteEvent>,
    at: TargetId,
    cancel: &CancelToken,
) -> (FeedSender, ChannelReader) {
    let feed = Arc::new(Feed::default());
    {
        let feed = Arc::downgrade(&feed);
        cancel.on_stop(move || {
            if let Some(feed) = feed.upgrade() {
                feed.wake();
            }
        });
    }
    let reader = ChannelReader {
        feed: Arc::clone(&feed),
        current: Bytes::new(),
        unreported: 0,
        events,
        at,
        cancel: cancel.clone(),
    };
    (FeedSender(feed), reader)
}

impl ChannelReader {
    /// The next payload, waiting for one; `None` once the data ended.
    fn next(&mut self) -> std::io::Result<Option<Bytes>> {
        let mut q = self.feed.lock();
        loop {
            // Payloads still queued when the write was cancelled are not written.
            if self.cancel.is_cancelled() {
                return Err(cancelled_error());
            }
            if let Some(b) = q.payloads.pop_front() {
                return Ok(Some(b));
            }
            if q.closed {
                return Ok(None);
            }
            if self.cancel.is_stopped() {
                return Err(std::io::Error::other("the write stopped"));
            }
            // About to wait: the credit taken so far lets the client send more.
            drop(q);
            self.report();
            q = self.feed.lock();
            if q.payloads.is_empty() && !q.closed && !self.cancel.is_stopped() {
                q = self
                    .feed
                    .ready
                    .wait(q)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
    }

    fn report(&mut self) {
        if self.unreported > 0 {
            // A closed session no longer needs credit.
            let _ = self
                .events
                .send(WriteEvent::Credit(self.at, self.unreported));
            self.unreported = 0;
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.current.is_empty() {
            let Some(b) = self.next()? else {
                self.report();
                return Ok(0);
            };
            self.current = b;
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        self.unreported += n as u64;
        if self.unreported >= REPORT_EVERY {
            self.report();
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const AT: TargetId = TargetId {
        write_id: 7,
        target: 0,
    };

    #[test]
    fn reads_payloads_in_order_and_reports_credit_before_waiting() {
        let (etx, mut erx) = tokio::sync::mpsc::unbounded_channel();
        let (tx, mut r) = feed(etx, AT, &CancelToken::new());
        tx.send(Bytes::from_static(b"hello "));
        tx.send(Bytes::from_static(b"world"));
        drop(tx);
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello world");
        let mut credited = 0;
        while let Ok(WriteEvent::Credit(AT, n)) = erx.try_recv() {
            credited += n;
        }
        assert_eq!(
            credited, 11,
            "everything taken was reported before the reader waited"
        );
    }

    #[test]
    fn a_cancelled_stream_ends_in_an_error_not_eof() {
        let (etx, _erx) = tokio::sync::mpsc::unbounded_channel();
        let cancel = CancelToken::new();
        let (tx, mut r) = feed(etx, AT, &cancel);
        cancel.cancel();
        drop(tx);
        assert!(r.read(&mut [0u8; 8]).is_err());
    }

    #[test]
    fn payloads_queued_before_a_cancel_are_not_read() {
        let (etx, _erx) = tokio::sync::mpsc::unbounded_channel();
        let cancel = CancelToken::new();
        let (tx, mut r) = feed(etx, AT, &cancel);
        tx.send(Bytes::from_static(b"queued"));
        cancel.cancel();
        assert!(r.read(&mut [0u8; 8]).is_err());
    }

    #[test]
    fn a_waiting_reader_gives_up_at_once_when_the_write_fails() {
        let (etx, _erx) = tokio::sync::mpsc::unbounded_channel();
        let cancel = CancelToken::new();
        let (tx, mut r) = feed(etx, AT, &cancel);
        let t = std::thread::spawn(move || r.read(&mut [0u8; 8]).map_err(|e| e.to_string()));
        std::thread::sleep(Duration::from_millis(50));
        cancel.fail();
        let got = t.join().unwrap();
        assert!(got.is_err(), "the reader must not wait forever: {got:?}");
        drop(tx);
    }

    #[test]
    fn nothing_is_queued_once_the_reader_is_gone() {
        let (etx, _erx) = tokio::sync::mpsc::unbounded_channel();
        let (tx, r) = feed(etx, AT, &CancelToken::new());
        drop(r);
        tx.send(Bytes::from_static(b"late"));
        assert!(tx.0.lock().payloads.is_empty());
    }
}
