//! The searcher: feeds the lines of the inputs to a correlator and hands printed entries to a
//! sink, stopping at the row limit.
//!
//! The search string is found over whole chunks (one SIMD scan per chunk, not one per line),
//! and each line only asks whether the next hit falls inside it.

use crate::correlate::{Correlator, Flow};
use crate::error::Error;
use crate::find::Finder;
use crate::model::Entry;
use crate::source::{for_each_chunk, Input};

/// How a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// All inputs were read and the open entries printed.
    Complete,
    /// The row limit was reached (pmg-log-tracker prints `STATUS: aborted by limit …`).
    Limit,
}

/// Scan settings besides the correlator's own.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// The search string, if any (case-insensitive).
    pub text: Option<Finder>,
    /// Stop once this many rows were printed (0: no limit).
    pub limit: u64,
    /// Drop the last byte of a final line that has no newline, as pmg-log-tracker does.
    pub pmg_last_line: bool,
    /// Number lines by their position in the inputs (all lines counted), not by
    /// pmg-log-tracker's count of lines in the range (pmgfast's dialect; the sparse scan
    /// numbers lines the same way).
    pub number_all_lines: bool,
}

/// Reads `inputs` in order through `cor`, calling `sink` for every printed entry.
pub fn scan(
    inputs: &[Input],
    cor: &mut Correlator,
    opts: &ScanOptions,
    sink: &mut dyn FnMut(Entry),
) -> Result<Outcome, Error> {
    let mut outcome = Outcome::Complete;
    let mut line = 0u64;
    for input in inputs {
        cor.begin_file();
        for_each_chunk(input, &mut |chunk: &[u8]| match feed_chunk(
            chunk, cor, opts, sink, &mut line,
        ) {
            ChunkEnd::More => true,
            ChunkEnd::PastEnd => false,
            ChunkEnd::Limit => {
                outcome = Outcome::Limit;
                false
            }
        })?;
        if outcome == Outcome::Limit {
            return Ok(outcome);
        }
    }
    cor.finish();
    for e in cor.take_printed() {
        sink(e);
    }
    Ok(outcome)
}

enum ChunkEnd {
    More,
    PastEnd,
    Limit,
}

fn feed_chunk(
    chunk: &[u8],
    cor: &mut Correlator,
    opts: &ScanOptions,
    sink: &mut dyn FnMut(Entry),
    line_no: &mut u64,
) -> ChunkEnd {
    let limit = opts.limit;
    // The first match at or after the current line, found over the rest of the chunk at once.
    let mut next_hit: Option<usize> = None;
    let mut exhausted = false;
    let mut start = 0usize;
    while start < chunk.len() {
        let (end, next) = match memchr::memchr(b'\n', &chunk[start..]) {
            Some(i) => (start + i, start + i + 1),
            None if opts.pmg_last_line => (chunk.len() - 1, chunk.len()),
            None => (chunk.len(), chunk.len()),
        };
        let line = &chunk[start..end];
        let hit = match &opts.text {
            None => false,
            Some(f) => {
                if !exhausted && next_hit.is_none_or(|h| h < start) {
                    next_hit = f.find(chunk, start);
                    exhausted = next_hit.is_none();
                }
                // A line holds a match only if the match ends before the line does.
                matches!(next_hit, Some(h) if h < end && h + f.needle().len() <= end)
            }
        };
        *line_no += 1;
        let flow = if opts.number_all_lines {
            cor.feed_numbered(line, hit, Some(*line_no))
        } else {
            cor.feed(line, hit)
        };
        for e in cor.take_printed() {
            sink(e);
        }
        if flow == Flow::PastEnd {
            return ChunkEnd::PastEnd;
        }
        if limit > 0 && cor.count() >= limit {
            return ChunkEnd::Limit;
        }
        start = next;
    }
    ChunkEnd::More
}
