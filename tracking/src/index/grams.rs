//! The text filter of the index: which blocks of entries can contain a search string.
//!
//! Every 4-byte window of every (lower-cased) log line is hashed into one of [`BUCKETS`]
//! buckets. A segment stores, per bucket, a bitmap over its blocks ("bit-sliced", so a query
//! reads only the bitmaps of its own grams). A block can hold the search string only if the
//! buckets of all the string's 4-grams are set for it; the blocks that pass are then searched
//! for real. Strings shorter than 4 bytes cannot be filtered and select every block.

/// Number of buckets (a power of two).
pub const BUCKETS: usize = 1 << 16;
const SHIFT: u32 = 32 - 16;

#[inline]
fn bucket(g: u32) -> usize {
    (g.wrapping_mul(0x9E37_79B1) >> SHIFT) as usize
}

/// The buckets of the 4-grams of `text` (lower-cased), each once.
pub fn buckets_of(text: &[u8]) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    if text.len() < 4 {
        return out;
    }
    let mut g: u32 = 0;
    for (i, &b) in text.iter().enumerate() {
        g = (g << 8) | u32::from(b.to_ascii_lowercase());
        if i >= 3 {
            out.push(bucket(g));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The buckets present in one block, as a bitset.
#[derive(Clone)]
pub struct BlockGrams {
    bits: Vec<u64>,
}

impl Default for BlockGrams {
    fn default() -> Self {
        BlockGrams {
            bits: vec![0; BUCKETS / 64],
        }
    }
}

impl BlockGrams {
    /// Adds the 4-grams of one line.
    pub fn add(&mut self, line: &[u8]) {
        let mut g: u32 = 0;
        for (i, &b) in line.iter().enumerate() {
            g = (g << 8) | u32::from(b.to_ascii_lowercase());
            if i >= 3 {
                let k = bucket(g);
                self.bits[k >> 6] |= 1 << (k & 63);
            }
        }
    }

    pub fn clear(&mut self) {
        self.bits.iter_mut().for_each(|w| *w = 0);
    }

    /// Buckets set, for tests and reports.
    pub fn count(&self) -> u32 {
        self.bits.iter().map(|w| w.count_ones()).sum()
    }
}

/// Bit-sliced bitmaps: for each bucket, one bit per block.
pub struct Sliced {
    words_per_bucket: usize,
    words: Vec<u64>,
}

impl Sliced {
    /// Transposes per-block bitsets.
    pub fn build(blocks: &[BlockGrams]) -> Sliced {
        let wpb = blocks.len().div_ceil(64).max(1);
        let mut words = vec![0u64; BUCKETS * wpb];
        for (b, grams) in blocks.iter().enumerate() {
            for (wi, &w) in grams.bits.iter().enumerate() {
                let mut w = w;
                while w != 0 {
                    let bit = w.trailing_zeros() as usize;
                    w &= w - 1;
                    let k = (wi << 6) | bit;
                    words[k * wpb + (b >> 6)] |= 1 << (b & 63);
                }
            }
        }
        Sliced {
            words_per_bucket: wpb,
            words,
        }
    }

    /// Words per bucket (blocks / 64, rounded up).
    pub fn words_per_bucket(&self) -> usize {
        self.words_per_bucket
    }

    /// The little-endian bytes of all bitmaps, bucket after bucket.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.words.len() * 8);
        for w in &self.words {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_passes_for_its_own_text() {
        let mut blocks = vec![BlockGrams::default(), BlockGrams::default()];
        blocks[0].add(b"Dec 18 pmg postfix/qmgr[1]: ABC: from=<Alice@Example.org>");
        blocks[1].add(b"Dec 18 pmg postfix/qmgr[1]: DEF: from=<bob@example.net>");
        let s = Sliced::build(&blocks);
        let bytes = s.to_bytes();
        let wpb = s.words_per_bucket();
        let passes = |needle: &[u8], block: usize| {
            buckets_of(needle).iter().all(|&k| {
                let at = (k * wpb + block / 64) * 8;
                let w = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
                w & (1 << (block % 64)) != 0
            })
        };
        assert!(passes(b"alice@example", 0));
        assert!(passes(b"BOB@EXAMPLE.NET", 1));
    }
}
