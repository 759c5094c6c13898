//! Digests taken while the section streams to the drive: SHA-256 of the
//! whole section (what `sha256sum` of the file prints, when the file is whole
//! sectors) and a 64-bit [`Checksum`] per block of sectors, so a verify can
//! name the first bad sector. At most [`MAX_BLOCKS`] blocks are kept (1 MiB):
//! sections up to 131,072 sectors are located to the sector, longer ones to
//! a block.

use std::io::Read;

use sha2::{Digest, Sha256};

use super::checksum::Checksum;

/// Most block digests kept for one section.
pub const MAX_BLOCKS: u64 = 131_072;

/// A block digest: its 64-bit checksum.
pub type BlockDigest = u64;

/// The digests of one section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionDigest {
    /// SHA-256 of every byte of the section.
    pub whole: [u8; 32],
    /// Sectors per block.
    pub block_sectors: u64,
    /// Bytes per sector.
    pub bytes_per_sector: u64,
    /// One digest per block, the last block possibly short.
    pub blocks: Vec<BlockDigest>,
}

impl SectionDigest {
    /// Lowercase hex of the whole-section SHA-256.
    pub fn hex(&self) -> String {
        webburn_shared::units::hex(&self.whole)
    }

    /// Bytes in one block.
    pub fn block_bytes(&self) -> u64 {
        self.block_sectors * self.bytes_per_sector
    }
}

/// The block size for a section of `sectors`: 1 sector up to [`MAX_BLOCKS`].
pub fn block_sectors_for(sectors: u64) -> u64 {
    sectors.div_ceil(MAX_BLOCKS).max(1)
}

/// Hashes a byte stream into a [`SectionDigest`] block by block.
#[derive(Debug, Clone)]
pub struct Digester {
    whole: Sha256,
    block: Checksum,
    in_block: u64,
    block_bytes: u64,
    block_sectors: u64,
    bytes_per_sector: u64,
    blocks: Vec<BlockDigest>,
}

impl Digester {
    /// A digester for `sectors` sectors of `bytes_per_sector`.
    pub fn new(sectors: u64, bytes_per_sector: u64) -> Self {
        Self::with_blocks(block_sectors_for(sectors), bytes_per_sector)
    }

    /// A digester whose blocks are `block_sectors` sectors long: a read-back
    /// digests in the blocks the write was digested in, whatever part of
    /// the section it covers (an open-ended write's section is the whole
    /// medium, its data much less).
    pub fn with_blocks(block_sectors: u64, bytes_per_sector: u64) -> Self {
        let block_sectors = block_sectors.max(1);
        Digester {
            whole: Sha256::new(),
            block: Checksum::default(),
            in_block: 0,
            block_bytes: block_sectors * bytes_per_sector.max(1),
            block_sectors,
            bytes_per_sector,
            blocks: Vec::new(),
        }
    }

    /// Feeds bytes in stream order.
    pub fn update(&mut self, mut data: &[u8]) {
        self.whole.update(data);
        while !data.is_empty() {
            let take = usize::try_from(self.block_bytes - self.in_block)
                .unwrap_or(usize::MAX)
                .min(data.len());
            self.block.update(&data[..take]);
            self.in_block += take as u64;
            data = &data[take..];
            if self.in_block == self.block_bytes {
                let done = std::mem::take(&mut self.block);
                self.blocks.push(done.finish());
                self.in_block = 0;
            }
        }
    }

    /// Whole blocks digested so far.
    pub fn blocks_done(&self) -> usize {
        self.blocks.len()
    }

    /// The digest of whole block `i`, once done.
    pub fn block(&self, i: usize) -> Option<&BlockDigest> {
        self.blocks.get(i)
    }

    /// The digests of everything fed.
    pub fn finish(mut self) -> SectionDigest {
        if self.in_block > 0 {
            self.blocks.push(self.block.finish());
        }
        SectionDigest {
            whole: self.whole.finalize().into(),
            block_sectors: self.block_sectors,
            bytes_per_sector: self.bytes_per_sector,
            blocks: self.blocks,
        }
    }
}

/// A [`Read`] that digests what passes through it.
#[derive(Debug)]
pub struct DigestingReader<R> {
    inner: R,
    digester: Digester,
}

impl<R: Read> DigestingReader<R> {
    /// Wraps `inner`, a source of `sectors` sectors of `bytes_per_sector`.
    pub fn new(inner: R, sectors: u64, bytes_per_sector: u64) -> Self {
        DigestingReader {
            inner,
            digester: Digester::new(sectors, bytes_per_sector),
        }
    }

    /// The digests of what was read.
    pub fn finish(self) -> SectionDigest {
        self.digester.finish()
    }
}

impl<R: Read> Read for DigestingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digester.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_digest_is_plain_sha256_and_blocks_split_anywhere() {
        let data: Vec<u8> = (0..10 * 512).map(|i| (i * 7 % 251) as u8).collect();
        let mut r = DigestingReader::new(&data[..], 10, 512);
        let mut sink = Vec::new();
        // Odd read sizes cross block boundaries.
        let mut buf = [0u8; 300];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            sink.extend_from_slice(&buf[..n]);
        }
        let d = r.finish();
        assert_eq!(sink, data);
        assert_eq!(d.whole, <[u8; 32]>::from(Sha256::digest(&data)));
        assert_eq!(d.hex().len(), 64, "hex of the SHA-256: {}", d.hex());
        assert_eq!((d.block_sectors, d.blocks.len()), (1, 10));
        let mut third = Checksum::default();
        third.update(&data[1536..2048]);
        assert_eq!(d.blocks[3], third.finish());
    }

    #[test]
    fn long_sections_keep_at_most_max_blocks() {
        assert_eq!(block_sectors_for(1), 1);
        assert_eq!(block_sectors_for(MAX_BLOCKS), 1);
        assert_eq!(block_sectors_for(MAX_BLOCKS + 1), 2);
        // A 25 GB BD-R: 12,219,392 sectors in blocks of 94.
        assert_eq!(block_sectors_for(12_219_392), 94);
        let mut d = Digester::new(MAX_BLOCKS * 3, 1);
        d.update(&vec![1u8; (MAX_BLOCKS * 3) as usize]);
        let s = d.finish();
        assert_eq!((s.block_sectors, s.blocks.len() as u64), (3, MAX_BLOCKS));
    }
}
