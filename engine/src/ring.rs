//! The system buffer: a pool of blocks of whole transfer units, handed
//! between one producer (the source reader) and one consumer (the writer
//! thread). The reader reads straight into a free block and queues it; the
//! writer sends its WRITEs straight from the queued block and gives it back.
//! The bytes are copied once on their way through (into the block); memory
//! is allocated once and nothing grows with the file.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};

/// The ring was aborted: the other side gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aborted;

/// A block the reader filled: `data[..len]` is the data.
#[derive(Debug)]
pub struct Filled {
    /// The block (whole transfer units long).
    pub data: Vec<u8>,
    /// Bytes of data in it: the unit, or less at the end of the source.
    pub len: usize,
}

#[derive(Debug)]
struct State {
    free: Vec<Vec<u8>>,
    queue: VecDeque<Filled>,
    /// Bytes in `queue`.
    queued: usize,
    /// Bytes the reader has put in the block it is filling.
    filling: usize,
    finished: bool,
    aborted: bool,
}

/// A bounded single-producer single-consumer pool of blocks.
#[derive(Debug)]
pub struct Ring {
    state: Mutex<State>,
    readable: Condvar,
    writable: Condvar,
    capacity: usize,
    /// Bytes the blocks hold together (at most `capacity`, but two blocks at least).
    held: usize,
}

impl Ring {
    /// A buffer of `capacity` bytes in blocks of `block` bytes: as many as
    /// fit, and at least two so reading and writing overlap.
    pub fn new(capacity: usize, block: usize) -> Self {
        let unit = block.max(1);
        let capacity = capacity.max(1);
        let blocks = (capacity / unit).max(2);
        Ring {
            state: Mutex::new(State {
                free: (0..blocks).map(|_| vec![0u8; unit]).collect(),
                queue: VecDeque::with_capacity(blocks),
                queued: 0,
                filling: 0,
                finished: false,
                aborted: false,
            }),
            readable: Condvar::new(),
            writable: Condvar::new(),
            capacity,
            held: blocks * unit,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent across a panic (blocks move whole).
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Total size in bytes (TotalSystemBuffer).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes read and not yet written (UsedSystemBuffer).
    pub fn len(&self) -> usize {
        let s = self.lock();
        s.queued + s.filling
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The reader: a free block to read into, waiting for one as needed.
    pub fn take_free(&self) -> Result<Vec<u8>, Aborted> {
        let mut s = self.lock();
        loop {
            if s.aborted {
                return Err(Aborted);
            }
            if let Some(block) = s.free.pop() {
                return Ok(block);
            }
            s = self
                .writable
                .wait(s)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// The reader has `len` bytes in the block it is filling (for
    /// UsedSystemBuffer); `Err` when the writer gave up meanwhile.
    pub fn filling(&self, len: usize) -> Result<(), Aborted> {
        let mut s = self.lock();
        s.filling = len;
        if s.aborted { Err(Aborted) } else { Ok(()) }
    }

    /// The reader queues a block holding `len` bytes for the writer.
    pub fn queue(&self, data: Vec<u8>, len: usize) {
        let mut s = self.lock();
        s.filling = 0;
        if len == 0 {
            s.free.push(data);
            return;
        }
        s.queued += len;
        s.queue.push_back(Filled { data, len });
        self.readable.notify_one();
    }

    /// Waits until `target` bytes are queued (at most what the blocks hold),
    /// or the producer finished.
    pub fn wait_fill(&self, target: usize) -> Result<(), Aborted> {
        let target = target.min(self.held);
        let mut s = self.lock();
        while s.queued < target && !s.finished && !s.aborted {
            s = self
                .readable
                .wait(s)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        if s.aborted { Err(Aborted) } else { Ok(()) }
    }

    /// The writer: the next queued block, waiting for one; `None` once the
    /// producer finished and everything was taken.
    pub fn pop(&self) -> Result<Option<Filled>, Aborted> {
        let mut s = self.lock();
        loop {
            if s.aborted {
                return Err(Aborted);
            }
            if let Some(f) = s.queue.pop_front() {
                s.queued -= f.len;
                return Ok(Some(f));
            }
            if s.finished {
                return Ok(None);
            }
            s = self
                .readable
                .wait(s)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// The writer gives a block back once its WRITE is done.
    pub fn recycle(&self, data: Vec<u8>) {
        self.lock().free.push(data);
        self.writable.notify_one();
    }

    /// The producer is done: no more data will come.
    pub fn finish(&self) {
        self.lock().finished = true;
        self.readable.notify_all();
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

    /// Reads `data` through the ring in blocks of `unit`, as the reader and
    /// the writer do, on two threads; returns what the writer saw.
    fn through(ring: &Ring, data: &[u8], chunk: usize) -> Vec<Filled> {
        let mut got = Vec::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut rest = data;
                while !rest.is_empty() {
                    let mut block = ring.take_free().unwrap();
                    let mut len = 0;
                    while len < block.len() && !rest.is_empty() {
                        let n = chunk.min(block.len() - len).min(rest.len());
                        block[len..len + n].copy_from_slice(&rest[..n]);
                        len += n;
                        rest = &rest[n..];
                        ring.filling(len).unwrap();
                        assert!(ring.len() <= ring.held);
                    }
                    ring.queue(block, len);
                }
                ring.finish();
            });
            while let Some(f) = ring.pop().unwrap() {
                let copy = f.data[..f.len].to_vec();
                ring.recycle(f.data);
                got.push(Filled {
                    len: copy.len(),
                    data: copy,
                });
            }
        });
        got
    }

    #[test]
    fn blocks_carry_every_byte_in_order_in_whole_units() {
        let ring = Ring::new(1000, 256);
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let got = through(&ring, &data, 77);
        assert!(
            got[..got.len() - 1].iter().all(|f| f.len == 256),
            "whole units"
        );
        assert_eq!(got.last().unwrap().len, 100_000 % 256, "the short end");
        let joined: Vec<u8> = got.into_iter().flat_map(|f| f.data).collect();
        assert_eq!(joined, data);
        assert!(ring.is_empty());
    }

    #[test]
    fn the_blocks_fit_the_buffer_but_are_at_least_two() {
        let r = Ring::new(16 << 20, 63_504);
        assert_eq!(
            r.capacity(),
            16 << 20,
            "TotalSystemBuffer is the buffer asked for"
        );
        assert_eq!(r.held, 264 * 63_504);
        let small = Ring::new(1000, 4096);
        assert_eq!(small.held, 2 * 4096);
        assert_eq!(small.lock().free.len(), 2);
    }

    #[test]
    fn wait_fill_returns_when_full_or_finished() {
        let r = Ring::new(8, 4);
        std::thread::scope(|s| {
            let w = s.spawn(|| r.wait_fill(100));
            let b = r.take_free().unwrap();
            r.queue(b, 4);
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert!(!w.is_finished(), "4 of 8 bytes is not full");
            let b = r.take_free().unwrap();
            r.queue(b, 4);
            assert_eq!(w.join().unwrap(), Ok(()));
        });
        let r = Ring::new(8, 4);
        let b = r.take_free().unwrap();
        r.queue(b, 2);
        r.finish();
        assert_eq!(r.wait_fill(8), Ok(()));
        r.abort();
        assert_eq!(r.wait_fill(8), Err(Aborted));
    }

    #[test]
    fn an_empty_block_goes_back_to_the_pool() {
        let r = Ring::new(8, 4);
        let b = r.take_free().unwrap();
        r.queue(b, 0);
        r.finish();
        assert!(r.pop().unwrap().is_none());
        assert_eq!(r.lock().free.len(), 2);
    }

    #[test]
    fn a_reader_filling_a_block_learns_of_an_abort() {
        let r = Ring::new(8, 4);
        let _block = r.take_free().unwrap();
        assert_eq!(r.filling(2), Ok(()));
        assert_eq!(r.len(), 2);
        r.abort();
        assert_eq!(r.filling(3), Err(Aborted));
    }

    #[test]
    fn abort_wakes_both_sides() {
        let ring = Ring::new(8, 4);
        let (a, b) = (ring.take_free().unwrap(), ring.take_free().unwrap());
        ring.queue(a, 4);
        ring.queue(b, 4);
        std::thread::scope(|s| {
            let blocked = s.spawn(|| ring.take_free());
            std::thread::sleep(std::time::Duration::from_millis(20));
            ring.abort();
            assert_eq!(blocked.join().unwrap(), Err(Aborted));
        });
        assert!(ring.pop().is_err());
        let empty = Ring::new(8, 4);
        std::thread::scope(|s| {
            let waiting = s.spawn(|| empty.pop().map(|f| f.is_some()));
            std::thread::sleep(std::time::Duration::from_millis(20));
            empty.abort();
            assert_eq!(waiting.join().unwrap(), Err(Aborted));
        });
    }
}
