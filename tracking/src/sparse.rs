//! The sparse scan: correlate only the parts of the log near lines that can matter.
//!
//! A query with a sender, recipient, client, id or search string can only want mails that have
//! a line containing that string. The log is cut into blocks of about [`BLOCK`] bytes; a block
//! is *hot* when it holds the string (one SIMD substring search over the block). Each run of
//! hot blocks, with one block before and after, is correlated by a fresh correlator (a
//! *region*); everything else is skipped unread by the state machine. A mail mostly lives
//! within seconds, so it falls inside its region. Those that do not are caught by a closure:
//! a wanted queue entry that was still open at the end of its region, or whose beginning lies
//! before its region, adds its queue id to the strings searched for, and the scan runs again
//! until no new ids turn up. The parts of a queue entry found in several regions are merged.
//!
//! The answers are the full scan's (the differential tests check this on generated logs with
//! deferred, bounced, split and greylisted mail), at the speed of the substring search.

use rustc_hash::FxHashSet;

use crate::correlate::{Config, Correlator};
use crate::error::Error;
use crate::find::Finder;
use crate::mails::{merge_fragments, Assembler, Mail, MailFilter};
use crate::model::{Entry, EntryId};
use crate::source::{for_each_chunk, Input};
use crate::time::StampReader;

/// Target bytes per block.
pub const BLOCK: usize = 64 * 1024;
/// Blocks fed before the first hot block of a region (a mail's first lines may precede the line
/// that makes it wanted by some seconds).
const LOOKBACK: usize = 2;
/// Rounds of closure before the scan gives up looking for more parts.
const MAX_ROUNDS: usize = 4;

/// The parts of one queue entry and where the last of them was printed.
type Parts = (Vec<Entry>, (u64, u64));

/// One printed entry and where it came from.
struct Found {
    entry: Entry,
    /// The number of the line that printed it and the print order (a full scan prints in
    /// this order, which the assembler's windows depend on).
    at: (u64, u64),
    /// Printed at the end of its region while still open.
    open: bool,
    /// Its region started after the beginning of the input.
    late_region: bool,
}

/// Correlates the regions around the blocks holding any of `needles`.
struct Regions<'a> {
    cfg: &'a Config,
    stamps: &'a StampReader,
    needles: &'a Needles,
    text: Option<&'a Finder>,
    cor: Option<Correlator>,
    /// Blocks still to feed after the last hot one.
    tail: usize,
    /// The last block, not fed (the lookback of the next region).
    /// The last blocks not fed (the lookback of the next region), with their first line's
    /// number.
    prev: std::collections::VecDeque<(Vec<u8>, u64)>,
    line: u64,
    out: Vec<Found>,
    late: bool,
    fed: u64,
    seen: u64,
    given_up: bool,
    printed: u64,
    last_fed: u64,
    /// Queue ids of entries left open at the end of a region, searched for in later blocks.
    pending: Vec<Finder>,
    forward: FxHashSet<Box<[u8]>>,
}

impl Regions<'_> {
    fn hot(&self, block: &[u8]) -> bool {
        self.needles.any(block) || self.pending.iter().any(|f| f.find(block, 0).is_some())
    }

    fn feed(&mut self, block: &[u8], first_line: u64) {
        let Some(cor) = self.cor.as_mut() else {
            return;
        };
        self.fed += block.len() as u64;
        let mut line = first_line;
        let mut pos = 0;
        while pos < block.len() {
            let end = memchr::memchr(b'\n', &block[pos..]).map_or(block.len(), |i| pos + i);
            let text = &block[pos..end];
            line += 1;
            let hit = self.text.is_some_and(|f| f.is_match(text));
            cor.feed_numbered(text, hit, Some(line));
            self.last_fed = line;
            for e in cor.take_printed() {
                self.printed += 1;
                self.out.push(Found {
                    entry: e,
                    at: (line, self.printed),
                    open: false,
                    late_region: self.late,
                });
            }
            pos = end + 1;
        }
    }

    /// Ends the region; `at_end`: because the input ended (open entries there are open in
    /// the full scan too).
    fn close(&mut self, at_end: bool) {
        if let Some(mut cor) = self.cor.take() {
            cor.finish();
            // open entries print after the region's last line (at the very end, for the input's end)
            let line = if at_end { u64::MAX } else { self.last_fed };
            for e in cor.take_printed() {
                self.printed += 1;
                let found = Found {
                    entry: e,
                    at: (line, self.printed),
                    open: !at_end,
                    late_region: self.late,
                };
                // the rest of an open queue entry that may be wanted comes later: look for its
                // id from now on
                let wanted = self
                    .cfg
                    .prefilter
                    .as_ref()
                    .is_none_or(|p| p.may_want_entry(&found.entry));
                if found.open && wanted {
                    if let EntryId::Queue(qid) = &found.entry.id {
                        if self.forward.insert(qid.clone()) {
                            self.pending.push(Finder::new(qid));
                        }
                    }
                }
                self.out.push(found);
            }
        }
    }

    /// Takes one block (whole lines) whose first line is number `first_line + 1`.
    fn block(&mut self, block: &[u8], first_line: u64) {
        self.seen += block.len() as u64;
        if self.seen > EARLY_LOOK && self.fed as f64 > MAX_SHARE * self.seen as f64 {
            // most blocks are hot: the caller will run the full scan
            self.given_up = true;
            return;
        }
        let lines = bytecount(block);
        if self.hot(block) {
            if self.cor.is_none() {
                // queue entries followed from earlier regions print here even when this part
                // alone would not pass the prefilter (a retry line carries no sender)
                let mut cfg = self.cfg.clone();
                if let Some(p) = &mut cfg.prefilter {
                    p.keep = std::sync::Arc::new(self.forward.clone());
                }
                let mut cor = Correlator::new(cfg, self.stamps.clone());
                cor.begin_file();
                self.late = first_line > 0;
                self.cor = Some(cor);
                let prev = std::mem::take(&mut self.prev);
                for (i, (data, line)) in prev.into_iter().enumerate() {
                    if i == 0 {
                        self.late = line > 0;
                    }
                    self.feed(&data, line);
                }
            }
            self.feed(block, first_line);
            self.tail = 1;
        } else if self.cor.is_some() && self.tail > 0 {
            self.feed(block, first_line);
            self.tail -= 1;
            if self.tail == 0 {
                self.close(false);
            }
        } else {
            let mut kept = if self.prev.len() >= LOOKBACK {
                self.prev.pop_front().map(|(v, _)| v).unwrap_or_default()
            } else {
                Vec::new()
            };
            kept.clear();
            kept.extend_from_slice(block);
            self.prev.push_back((kept, first_line));
        }
        self.line = first_line + lines;
    }
}

/// Newlines in a buffer.
fn bytecount(b: &[u8]) -> u64 {
    b.iter().filter(|&&c| c == b'\n').count() as u64
}

/// The strings that make a block hot: one (a SIMD substring search) or several (Aho-Corasick).
enum Needles {
    One(Finder),
    Many(aho_corasick::AhoCorasick),
}

impl Needles {
    fn new(list: &[Vec<u8>]) -> Needles {
        if list.len() == 1 {
            return Needles::One(Finder::new(&list[0]));
        }
        match aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(list)
        {
            Ok(ac) => Needles::Many(ac),
            // cannot happen for a handful of short strings; searching for the first still
            // finds a superset of nothing less than the first string's blocks
            Err(_) => Needles::One(Finder::new(list.first().map_or(&[][..], |v| v))),
        }
    }

    fn any(&self, block: &[u8]) -> bool {
        match self {
            Needles::One(f) => f.find(block, 0).is_some(),
            Needles::Many(ac) => ac.is_match(block),
        }
    }
}

/// Runs the regions over all inputs once.
fn one_pass(
    inputs: &[Input],
    cfg: &Config,
    stamps: &StampReader,
    needles: &Needles,
    text: Option<&Finder>,
) -> Result<Pass, Error> {
    let mut r = Regions {
        cfg,
        stamps,
        needles,
        text,
        cor: None,
        tail: 0,
        prev: Default::default(),
        line: 0,
        out: Vec::new(),
        late: false,
        fed: 0,
        seen: 0,
        given_up: false,
        printed: 0,
        last_fed: 0,
        pending: Vec::new(),
        forward: FxHashSet::default(),
    };
    for input in inputs {
        for_each_chunk(input, &mut |chunk: &[u8]| {
            let mut start = 0;
            while start < chunk.len() {
                let want = (start + BLOCK).min(chunk.len());
                let end = if want == chunk.len() {
                    want
                } else {
                    memchr::memchr(b'\n', &chunk[want..]).map_or(chunk.len(), |i| want + i + 1)
                };
                let line = r.line;
                r.block(&chunk[start..end], line);
                start = end;
            }
            !r.given_up
        })?;
    }
    r.close(true);
    Ok(Pass {
        found: r.out,
        fed: r.fed,
        seen: r.seen,
        given_up: r.given_up,
        forward: r.forward,
    })
}

/// What one pass found, how many bytes it correlated and how many it saw.
struct Pass {
    found: Vec<Found>,
    fed: u64,
    seen: u64,
    given_up: bool,
    /// Queue ids followed forward within the pass.
    forward: FxHashSet<Box<[u8]>>,
}

/// Whether a printed queue entry may have more lines outside its region.
fn needs_closure(f: &Found) -> Option<Box<[u8]>> {
    let EntryId::Queue(qid) = &f.entry.id else {
        return None;
    };
    let headless = f.entry.msgid.is_empty() && f.entry.client.is_empty();
    (f.open || (f.late_region && headless)).then(|| qid.clone())
}

/// Above this share of the input correlated, the sparse scan stops and says so (a full scan is
/// then as fast and has no closure rounds).
const MAX_SHARE: f64 = 0.5;
/// Bytes seen before the share is checked during a pass.
const EARLY_LOOK: u64 = 16 << 20;

/// The mails `filter` wants, correlating only near lines holding one of `primary` (or the ids
/// the closure adds). Returns the mails and the bytes fed to correlators, or None when most of
/// the input had to be correlated anyway (the caller then runs the full scan).
pub fn search(
    inputs: &[Input],
    cfg: &Config,
    stamps: &StampReader,
    primary: Vec<Vec<u8>>,
    text: Option<&Finder>,
    filter: &MailFilter,
    window: i64,
) -> Result<Option<(Vec<Mail>, u64)>, Error> {
    let mut needles = primary;
    let mut known: FxHashSet<Box<[u8]>> = FxHashSet::default();
    let mut fed_total = 0;
    let mut found;
    let mut round = 0;
    loop {
        let pass = one_pass(inputs, cfg, stamps, &Needles::new(&needles), text)?;
        fed_total += pass.fed;
        if pass.given_up || pass.fed as f64 > MAX_SHARE * pass.seen as f64 {
            return Ok(None);
        }
        found = pass.found;
        round += 1;
        // Open entries were followed forward within the pass; a part whose beginning lies
        // before its region needs another pass with its id among the needles.
        known.extend(pass.forward);
        let mut heads: FxHashSet<&[u8]> = FxHashSet::default();
        for f in &found {
            if let EntryId::Queue(qid) = &f.entry.id {
                if !(f.late_region && f.entry.msgid.is_empty() && f.entry.client.is_empty()) {
                    heads.insert(qid);
                }
            }
        }
        let mut more = false;
        for f in &found {
            let wanted = cfg
                .prefilter
                .as_ref()
                .is_none_or(|p| p.may_want_entry(&f.entry));
            if !wanted {
                continue;
            }
            if let Some(qid) = needs_closure(f) {
                let fresh = known.insert(qid.clone());
                if fresh && !f.open && !heads.contains(&qid[..]) {
                    needles.push(qid.to_vec());
                    more = true;
                }
            }
        }
        if !more || round >= MAX_ROUNDS {
            break;
        }
    }
    // parts of one queue entry from several regions become one entry, printed where its
    // last part was
    let mut entries: Vec<((u64, u64), Entry)> = Vec::new();
    let mut parts: rustc_hash::FxHashMap<Box<[u8]>, Parts> = Default::default();
    let mut order: Vec<Box<[u8]>> = Vec::new();
    for f in found {
        match &f.entry.id {
            EntryId::Queue(qid) if known.contains(qid) => {
                let slot = parts.entry(qid.clone()).or_insert_with(|| {
                    order.push(qid.clone());
                    (Vec::new(), (0, 0))
                });
                slot.1 = slot.1.max(f.at);
                slot.0.push(f.entry);
            }
            _ => entries.push((f.at, f.entry)),
        }
    }
    for qid in order {
        if let Some((p, at)) = parts.remove(&qid) {
            entries.push((at, merge_fragments(p)));
        }
    }
    entries.sort_by_key(|(at, _)| *at);
    let mut mails = Vec::new();
    let mut asm = Assembler::new(window);
    let mut keep = |mut m: Mail| {
        if filter.keep(&mut m) {
            mails.push(m);
        }
    };
    for (_, e) in entries {
        asm.push(e, &mut keep);
    }
    asm.finish(&mut keep);
    Ok(Some((mails, fed_total)))
}
