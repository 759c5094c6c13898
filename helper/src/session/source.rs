//! The data source a session hands to WriteSection: payloads of data frames
//! arrive through a channel, and every byte the engine takes is reported
//! back as credit the session can grant again.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};

use bytes::{Buf, Bytes};
use tokio::sync::mpsc::UnboundedSender;

use super::WriteEvent;

/// Credit is reported in batches of at least this many bytes (or when the
/// reader is about to wait, so a small window never stalls).
const REPORT_EVERY: u64 = 1 << 20;

/// A `Read` over data-frame payloads.
#[derive(Debug)]
pub(crate) struct ChannelReader {
    rx: Receiver<Bytes>,
    current: Bytes,
    unreported: u64,
    events: UnboundedSender<WriteEvent>,
    write_id: u32,
    /// Set by a cancel before the sender is dropped: the end of the data is
    /// then an error, so the engine writes nothing more.
    cancelled: Arc<AtomicBool>,
}

impl ChannelReader {
    pub fn new(
        rx: Receiver<Bytes>,
        events: UnboundedSender<WriteEvent>,
        write_id: u32,
        cancelled: Arc<AtomicBool>,
    ) -> Self {
        ChannelReader {
            rx,
            current: Bytes::new(),
            unreported: 0,
            events,
            write_id,
            cancelled,
        }
    }

    /// The sender is gone: the session ended or cancelled the write.
    fn ended(&mut self) -> std::io::Result<usize> {
        self.report();
        if self.cancelled.load(Ordering::Acquire) {
            Err(std::io::Error::other("the write was cancelled"))
        } else {
            Ok(0)
        }
    }

    fn report(&mut self) {
        if self.unreported > 0 {
            // A closed session no longer needs credit.
            let _ = self
                .events
                .send(WriteEvent::Credit(self.write_id, self.unreported));
            self.unreported = 0;
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.try_recv() {
                Ok(b) => self.current = b,
                Err(TryRecvError::Disconnected) => return self.ended(),
                Err(TryRecvError::Empty) => {
                    self.report();
                    match self.rx.recv() {
                        Ok(b) => self.current = b,
                        Err(_) => return self.ended(),
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
        let mut r = ChannelReader::new(rx, etx, 7, Arc::clone(&cancelled));
        tx.send(Bytes::from_static(b"hello ")).unwrap();
        tx.send(Bytes::from_static(b"world")).unwrap();
        drop(tx);
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello world");
        let mut credited = 0;
        while let Ok(WriteEvent::Credit(7, n)) = erx.try_recv() {
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
        let mut r = ChannelReader::new(rx, etx, 1, cancelled);
        drop(tx);
        assert!(r.read(&mut [0u8; 8]).is_err());
    }
}
