//! A fast 64-bit checksum for locating a bad block on read-back (the
//! section's SHA-256 decides whether it verified; this only says where).
//!
//! Each little-endian 8-byte word is mixed into the state with an xor, an odd
//! multiply and an xor-shift. Every step is a bijection of the state, so two
//! inputs that differ in exactly one word always give different checksums;
//! other differences collide with a chance of about 2^-64.

/// The streaming checksum state; feed it pieces of any size.
#[derive(Debug, Clone)]
pub(super) struct Checksum {
    h: u64,
    carry: [u8; 8],
    carried: usize,
    len: u64,
}

const K: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(h: u64, w: u64) -> u64 {
    let x = (h ^ w).wrapping_mul(K);
    x ^ (x >> 29)
}

impl Default for Checksum {
    fn default() -> Self {
        Checksum {
            h: 0x243F_6A88_85A3_08D3,
            carry: [0; 8],
            carried: 0,
            len: 0,
        }
    }
}

impl Checksum {
    /// Feeds bytes in stream order.
    pub(super) fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        if self.carried > 0 {
            let take = (8 - self.carried).min(data.len());
            self.carry[self.carried..self.carried + take].copy_from_slice(&data[..take]);
            self.carried += take;
            data = &data[take..];
            if self.carried < 8 {
                return;
            }
            self.h = mix(self.h, u64::from_le_bytes(self.carry));
            self.carried = 0;
        }
        // Whole words as arrays: no per-word slice checks, which made
        // debug builds (the tests') hash at a fifth of their speed.
        let (words, rest) = data.as_chunks::<8>();
        for w in words {
            self.h = mix(self.h, u64::from_le_bytes(*w));
        }
        self.carry[..rest.len()].copy_from_slice(rest);
        self.carried = rest.len();
    }

    /// The checksum of everything fed (its length included).
    pub(super) fn finish(mut self) -> u64 {
        if self.carried > 0 {
            self.carry[self.carried..].fill(0);
            self.h = mix(self.h, u64::from_le_bytes(self.carry));
        }
        mix(mix(self.h, self.len), K)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(data: &[u8]) -> u64 {
        let mut c = Checksum::default();
        c.update(data);
        c.finish()
    }

    #[test]
    fn pieces_do_not_matter_and_every_single_byte_change_shows() {
        let data: Vec<u8> = (0..2048u32).map(|i| (i * 31 % 253) as u8).collect();
        let whole = of(&data);
        for split in [1, 3, 7, 8, 9, 1000, 2047] {
            let mut c = Checksum::default();
            c.update(&data[..split]);
            c.update(&data[split..]);
            assert_eq!(c.finish(), whole, "split at {split}");
        }
        for at in (0..data.len()).step_by(97) {
            let mut bad = data.clone();
            bad[at] ^= 0x01;
            assert_ne!(of(&bad), whole, "a flipped bit at {at}");
        }
        // Zeros of different lengths differ.
        assert_ne!(of(&[0; 8]), of(&[0; 16]));
        assert_ne!(of(&[]), of(&[0]));
    }
}
