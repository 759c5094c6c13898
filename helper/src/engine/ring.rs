//! The system buffer: a fixed-size byte ring between one producer (the
//! source reader, later the WebSocket session) and one consumer (the writer
//! thread). Memory is allocated once; nothing grows with the file.

use std::sync::{Condvar, Mutex, MutexGuard};

/// The ring was aborted: the other side gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aborted;

/// What [`Ring::pop_exact`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pop {
    /// The buffer was filled completely.
    Full,
    /// The producer finished with fewer bytes left than asked for (that many remain).
    Short(usize),
}

#[derive(Debug)]
struct State {
    buf: Box<[u8]>,
    head: usize,
    len: usize,
    finished: bool,
    aborted: bool,
}

/// A bounded single-producer single-consumer byte ring.
#[derive(Debug)]
pub struct Ring {
    state: Mutex<State>,
    readable: Condvar,
    writable: Condvar,
    capacity: usize,
}

impl Ring {
    /// A ring of `capacity` bytes (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Ring {
            state: Mutex::new(State {
                buf: vec![0u8; capacity].into_boxed_slice(),
                head: 0,
                len: 0,
                finished: false,
                aborted: false,
            }),
            readable: Condvar::new(),
            writable: Condvar::new(),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent across a panic (indices move after copies).
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Total size in bytes (TotalSystemBuffer).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes waiting to be written (UsedSystemBuffer).
    pub fn len(&self) -> usize {
        self.lock().len
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends all of `data`, waiting for space as needed.
    pub fn push(&self, mut data: &[u8]) -> Result<(), Aborted> {
        let mut s = self.lock();
        while !data.is_empty() {
            while s.len == self.capacity && !s.aborted {
                s = self
                    .writable
                    .wait(s)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            if s.aborted {
                return Err(Aborted);
            }
            let tail = (s.head + s.len) % self.capacity;
            let room = (self.capacity - s.len).min(self.capacity - tail);
            let n = room.min(data.len());
            s.buf[tail..tail + n].copy_from_slice(&data[..n]);
            s.len += n;
            data = &data[n..];
            self.readable.notify_one();
        }
        Ok(())
    }

    /// Waits until the ring holds `target` bytes (at most its capacity), or
    /// the producer finished.
    pub fn wait_fill(&self, target: usize) -> Result<(), Aborted> {
        let target = target.min(self.capacity);
        let mut s = self.lock();
        while s.len < target && !s.finished && !s.aborted {
            s = self
                .readable
                .wait(s)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        if s.aborted { Err(Aborted) } else { Ok(()) }
    }

    /// Fills `out` completely, waiting for data; if the producer has finished
    /// with fewer bytes than `out.len()`, takes nothing and says how many remain.
    pub fn pop_exact(&self, out: &mut [u8]) -> Result<Pop, Aborted> {
        let mut s = self.lock();
        while s.len < out.len() && !s.finished && !s.aborted {
            s = self
                .readable
                .wait(s)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        if s.aborted {
            return Err(Aborted);
        }
        if s.len < out.len() {
            return Ok(Pop::Short(s.len));
        }
        let want = out.len();
        let first = (self.capacity - s.head).min(want);
        let head = s.head;
        out[..first].copy_from_slice(&s.buf[head..head + first]);
        out[first..].copy_from_slice(&s.buf[..want - first]);
        s.head = (s.head + out.len()) % self.capacity;
        s.len -= out.len();
        self.writable.notify_one();
        Ok(Pop::Full)
    }

    /// The producer is done: no more data will come.
    pub fn finish(&self) {
        self.lock().finished = true;
        self.readable.notify_all();
    }

    /// True once either side gave up.
    pub fn is_aborted(&self) -> bool {
        self.lock().aborted
    }

    /// Either side gives up: wakes and fails every waiter.
    pub fn abort(&self) {
        self.lock().aborted = true;
        self.readable.notify_all();
        self.writable.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_around_and_keeps_order() {
        let ring = Ring::new(10);
        let mut out = [0u8; 4];
        for round in 0u8..20 {
            let chunk = [round, round + 1, round + 2, round + 3];
            ring.push(&chunk).unwrap();
            assert_eq!(ring.pop_exact(&mut out), Ok(Pop::Full));
            assert_eq!(out, chunk);
        }
        assert!(ring.is_empty());
    }

    #[test]
    fn producer_blocks_when_full_and_consumer_sees_every_byte() {
        let ring = Ring::new(1000);
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut got = Vec::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                for chunk in data.chunks(777) {
                    ring.push(chunk).unwrap();
                    assert!(ring.len() <= ring.capacity());
                }
                ring.finish();
            });
            let mut unit = [0u8; 512];
            loop {
                match ring.pop_exact(&mut unit).unwrap() {
                    Pop::Full => got.extend_from_slice(&unit),
                    Pop::Short(n) => {
                        let mut tail = vec![0u8; n];
                        assert_eq!(ring.pop_exact(&mut tail), Ok(Pop::Full));
                        got.extend_from_slice(&tail);
                        break;
                    }
                }
            }
        });
        assert_eq!(got, data);
    }

    #[test]
    fn wait_fill_returns_when_full_or_finished() {
        let r = Ring::new(8);
        std::thread::scope(|s| {
            let w = s.spawn(|| r.wait_fill(100));
            r.push(&[1; 4]).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert!(!w.is_finished(), "4 of 8 bytes is not full");
            r.push(&[2; 4]).unwrap();
            assert_eq!(w.join().unwrap(), Ok(()));
        });
        let r = Ring::new(8);
        r.push(&[1; 2]).unwrap();
        r.finish();
        assert_eq!(r.wait_fill(8), Ok(()));
        r.abort();
        assert_eq!(r.wait_fill(8), Err(Aborted));
    }

    #[test]
    fn abort_wakes_both_sides() {
        let ring = Ring::new(4);
        ring.push(&[1, 2, 3, 4]).unwrap();
        std::thread::scope(|s| {
            let blocked = s.spawn(|| ring.push(&[5]));
            std::thread::sleep(std::time::Duration::from_millis(20));
            ring.abort();
            assert_eq!(blocked.join().unwrap(), Err(Aborted));
        });
        assert_eq!(ring.pop_exact(&mut [0u8; 1]), Err(Aborted));
    }
}
