//! The data source a session hands to WriteSection: payloads of data frames
//! arrive through a channel, and every byte the engine takes is reported
//! back as credit the session can grant again.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::Duration;

use bytes::{Buf, Bytes};
use tokio::sync::mpsc::UnboundedSender;

use super::WriteEvent;

/// Credit is reported in batches of at least this many bytes (or when the
/// reader is about to wait, so a small window never stalls).
const REPORT_EVERY: u64 = 1 << 20;

/// How often a reader waiting for data checks whether the write stopped.
const STOP_POLL: Duration = Duration::from_millis(50);

/// Tells a waiting reader that the engine stopped (a device error): nobody
/// will read what the client might still send, so the reader gives up.
pub(crate) type StopCheck = Box<dyn Fn() -> bool + Send>;

fn cancelled_error() -> std::io::Error {
    std::io::Error::other("the write was cancelled")
}

/// A `Read` over data-frame payloads.
pub(crate) struct ChannelReader {
    rx: Receiver<Bytes>,
    current: Bytes,
    unreported: u64,
    events: UnboundedSender<WriteEvent>,
    /// The write and the target this reader feeds.
    write: (u32, u32),
    /// Set by a cancel before the sender is dropped: the end of the data is
    /// then an error, so the engine writes nothing more.
    cancelled: Arc<AtomicBool>,
    stopped: StopCheck,
}

impl std::fmt::Debug for ChannelReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelReader")
            .field("write", &self.write)
            .field("unreported", &self.unreported)
            .finish_non_exhaustive()
    }
}

impl ChannelReader {
    pub fn new(
        rx: Receiver<Bytes>,
        events: UnboundedSender<WriteEvent>,
        write: (u32, u32),
        cancelled: Arc<AtomicBool>,
        stopped: StopCheck,
    ) -> Self {
        ChannelReader {
            rx,
            current: Bytes::new(),
            unreported: 0,
            events,
            write,
            cancelled,
            stopped,
        }
    }

    /// Waits for the next payload, giving up when the write stops.
    fn wait(&mut self) -> std::io::Result<Option<Bytes>> {
        loop {
            match self.rx.recv_timeout(STOP_POLL) {
                Ok(b) => return Ok(Some(b)),
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
                Err(RecvTimeoutError::Timeout) => {
                    if self.cancelled.load(Ordering::Acquire) || (self.stopped)() {
                        return Err(std::io::Error::other("the write stopped"));
                    }
                }
            }
        }
    }

    /// The sender is gone: the session ended or cancelled the write.
    fn ended(&mut self) -> std::io::Result<usize> {
        self.report();
        if self.cancelled.load(Ordering::Acquire) {
            Err(cancelled_error())
        } else {
            Ok(0)
        }
    }

    fn report(&mut self) {
        if self.unreported > 0 {
            // A closed session no longer needs credit.
            let _ = self.events.send(WriteEvent::Credit(
                self.write.0,
                self.write.1,
                self.unreported,
            ));
            self.unreported = 0;
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Payloads still queued when the write was cancelled are not written.
        if self.cancelled.load(Ordering::Acquire) {
            return Err(cancelled_error());
        }
        while self.current.is_empty() {
            match self.rx.try_recv() {
                Ok(b) => self.current = b,
                Err(TryRecvError::Disconnected) => return self.ended(),
                Err(TryRecvError::Empty) => {
                    self.report();
                    match self.wait()? {
                        Some(b) => self.current = b,
                        None => return self.ended(),
                    }
                }
            }
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
    use super::*;

    #[test]
    fn reads_payloads_in_order_and_reports_credit_before_waiting() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (etx, mut erx) = tokio::sync::mpsc::unbounded_channel();
        let cancelled = Arc::new(AtomicBool::new(false));
        let mut r = ChannelReader::new(rx, etx, (7, 0), Arc::clone(&cancelled), Box::new(|| false));
        tx.send(Bytes::from_static(b"hello ")).unwrap();
        tx.send(Bytes::from_static(b"world")).unwrap();
        drop(tx);
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello world");
        let mut credited = 0;
        while let Ok(WriteEvent::Credit(7, 0, n)) = erx.try_recv() {
            credited += n;
        }
        assert_eq!(
            credited, 11,
            "everything taken was reported before the reader waited"
        );
    }

    #[test]
    fn a_cancelled_stream_ends_in_an_error_not_eof() {
        let (tx, rx) = std::sync::mpsc::channel::<Bytes>();
        let (etx, _erx) = tokio::sync::mpsc::unbounded_channel();
        let cancelled = Arc::new(AtomicBool::new(true));
        let mut r = ChannelReader::new(rx, etx, (1, 0), cancelled, Box::new(|| false));
        drop(tx);
        assert!(r.read(&mut [0u8; 8]).is_err());
    }

    #[test]
    fn payloads_queued_before_a_cancel_are_not_read() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (etx, _erx) = tokio::sync::mpsc::unbounded_channel();
        let cancelled = Arc::new(AtomicBool::new(false));
        let mut r = ChannelReader::new(rx, etx, (1, 0), Arc::clone(&cancelled), Box::new(|| false));
        tx.send(Bytes::from_static(b"queued")).unwrap();
        cancelled.store(true, Ordering::Release);
        assert!(r.read(&mut [0u8; 8]).is_err());
    }

    #[test]
    fn a_waiting_reader_gives_up_when_the_engine_stops() {
        let (tx, rx) = std::sync::mpsc::channel::<Bytes>();
        let (etx, _erx) = tokio::sync::mpsc::unbounded_channel();
        let stopped = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stopped);
        let mut r = ChannelReader::new(
            rx,
            etx,
            (1, 0),
            Arc::new(AtomicBool::new(false)),
            Box::new(move || flag.load(Ordering::Acquire)),
        );
        let t = std::thread::spawn(move || r.read(&mut [0u8; 8]).map_err(|e| e.to_string()));
        std::thread::sleep(Duration::from_millis(120));
        stopped.store(true, Ordering::Release);
        let got = t.join().unwrap();
        assert!(got.is_err(), "the reader must not wait forever: {got:?}");
        drop(tx);
    }
}
