//! Term dictionaries of a segment: senders, recipients and clients, each term with the entries
//! that carry it.
//!
//! pmg-log-tracker's `-f`, `-t` and `-h` are case-insensitive substring filters, so a query scans
//! the dictionary (a few MB, one SIMD substring search) instead of the log, and unions the
//! posting lists of the terms that match.

use rustc_hash::FxHashMap;

use super::codec::{put_varint, Reader};
use crate::find::Finder;

/// Collects terms while a segment is written.
#[derive(Default)]
pub struct DictBuilder {
    terms: FxHashMap<Box<[u8]>, Vec<u32>>,
}

impl DictBuilder {
    /// Records that entry `id` carries `term` (compared lower-cased; empty terms are skipped).
    pub fn add(&mut self, term: &[u8], id: u32) {
        if term.is_empty() || term.contains(&b'\n') {
            return;
        }
        let key = term.to_ascii_lowercase();
        let list = self.terms.entry(key.into()).or_default();
        if list.last() != Some(&id) {
            list.push(id);
        }
    }

    /// Encodes the dictionary: term count, term blob (terms separated by `\n`), term offsets,
    /// posting offsets, postings (delta varints).
    pub fn finish(self) -> Vec<u8> {
        let mut terms: Vec<(Box<[u8]>, Vec<u32>)> = self.terms.into_iter().collect();
        terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut blob = Vec::new();
        let mut term_offsets = Vec::with_capacity(terms.len() + 1);
        let mut postings = Vec::new();
        let mut posting_offsets = Vec::with_capacity(terms.len() + 1);
        for (term, ids) in &terms {
            term_offsets.push(blob.len() as u32);
            blob.extend_from_slice(term);
            blob.push(b'\n');
            posting_offsets.push(postings.len() as u32);
            let mut prev = 0u32;
            for &id in ids {
                put_varint(&mut postings, u64::from(id - prev));
                prev = id;
            }
        }
        term_offsets.push(blob.len() as u32);
        posting_offsets.push(postings.len() as u32);
        let mut out = Vec::new();
        out.extend_from_slice(&(terms.len() as u64).to_le_bytes());
        out.extend_from_slice(&(blob.len() as u64).to_le_bytes());
        out.extend_from_slice(&blob);
        for o in term_offsets.iter().chain(&posting_offsets) {
            out.extend_from_slice(&o.to_le_bytes());
        }
        out.extend_from_slice(&postings);
        out
    }
}

/// A dictionary read back from a segment.
pub struct Dict<'a> {
    blob: &'a [u8],
    term_offsets: &'a [u8],
    posting_offsets: &'a [u8],
    postings: &'a [u8],
    n: usize,
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    let s = b.get(i * 4..i * 4 + 4)?;
    Some(u32::from_le_bytes(s.try_into().ok()?))
}

impl<'a> Dict<'a> {
    /// Reads the encoding of [`DictBuilder::finish`]; None if it is damaged.
    pub fn parse(data: &'a [u8]) -> Option<Dict<'a>> {
        let mut r = Reader::new(data);
        let n = usize::try_from(r.u64_le()?).ok()?;
        let blob_len = usize::try_from(r.u64_le()?).ok()?;
        let rest = data.get(16..)?;
        let blob = rest.get(..blob_len)?;
        let rest = &rest[blob_len..];
        let offs_len = n.checked_add(1)?.checked_mul(4)?;
        let term_offsets = rest.get(..offs_len)?;
        let posting_offsets = rest.get(offs_len..offs_len.checked_mul(2)?)?;
        let postings = &rest[offs_len * 2..];
        Some(Dict {
            blob,
            term_offsets,
            posting_offsets,
            postings,
            n,
        })
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Entry ids of all terms containing `needle` (case-insensitive), sorted and unique.
    pub fn containing(&self, needle: &Finder) -> Vec<u32> {
        let mut terms: Vec<usize> = Vec::new();
        let mut from = 0;
        while let Some(pos) = needle.find(self.blob, from) {
            let Some(t) = self.term_at(pos) else {
                break;
            };
            terms.push(t);
            // continue after this term
            from = match u32_at(self.term_offsets, t + 1) {
                Some(next) => (next as usize).max(pos + 1),
                None => break,
            };
        }
        let mut ids = Vec::new();
        for t in terms {
            self.postings_of(t, &mut ids);
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The term whose text covers blob position `pos`.
    fn term_at(&self, pos: usize) -> Option<usize> {
        let (mut lo, mut hi) = (0usize, self.n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if (u32_at(self.term_offsets, mid + 1)? as usize) <= pos {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        (lo < self.n).then_some(lo)
    }

    fn postings_of(&self, t: usize, out: &mut Vec<u32>) {
        let (Some(a), Some(b)) = (
            u32_at(self.posting_offsets, t),
            u32_at(self.posting_offsets, t + 1),
        ) else {
            return;
        };
        let Some(data) = self.postings.get(a as usize..b as usize) else {
            return;
        };
        let mut r = Reader::new(data);
        let mut prev = 0u64;
        while !r.is_empty() {
            let Some(d) = r.varint() else {
                return;
            };
            prev += d;
            if let Ok(id) = u32::try_from(prev) {
                out.push(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substring_terms_and_postings() {
        let mut b = DictBuilder::default();
        b.add(b"Alice@Example.org", 1);
        b.add(b"alice@example.org", 4);
        b.add(b"bob@example.net", 2);
        b.add(b"carol@other.org", 3);
        let bytes = b.finish();
        let d = Dict::parse(&bytes).unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d.containing(&Finder::new(b"EXAMPLE")), vec![1, 2, 4]);
        assert_eq!(d.containing(&Finder::new(b".org")), vec![1, 3, 4]);
        assert_eq!(d.containing(&Finder::new(b"nobody")), Vec::<u32>::new());
        assert!(Dict::parse(&bytes[..10]).is_none());
    }
}
