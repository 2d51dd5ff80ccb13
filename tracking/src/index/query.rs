//! Answering a search from the index, plus the part of the log not indexed yet.
//!
//! Per segment, the dictionaries (sender, recipient, client), the link table (ids) and the
//! gram bitmaps (search string, Message-ID) pick candidate entries without reading the log;
//! only their blocks are inflated. Candidates are then joined with the entries they belong
//! with (re-injected copies, fragments of one queue entry) and filtered as whole mails, the same
//! way a scan does. The log after the index's cursor is scanned and merged in.

use std::path::Path;
use std::rc::Rc;

use rustc_hash::{FxHashMap, FxHashSet};

use super::codec::LineMode;
use super::follow;
use super::grams::buckets_of;
use super::segment::{id_hash, Field, LinkTable, RawBlock, Segment};
use super::state::State;
use super::update::{feed_files, number_files, plan};
use crate::correlate::{Config, Correlator, PrintFilter};
use crate::error::Error;
use crate::find::Finder;
use crate::mails::{merge_fragments, Assembler, Mail, MailFilter, Status};
use crate::model::{DStatus, Entry, EntryId};
use crate::search::{finish, Found, Query};
use crate::syslog::Dialect;
use crate::time::{LocalRule, StampReader, Zone};

type Key = (usize, u32);
/// A segment's link table: (hash of an id, entry).
type Links = Rc<LinkTable>;

/// Segments with their decoded blocks and link tables, loaded on demand.
struct Store {
    segs: Vec<Segment>,
    blocks: FxHashMap<(usize, usize), Rc<RawBlock>>,
    links: Vec<Option<Links>>,
    text: Option<Finder>,
    inflated: u64,
    /// The part of the log a scan of the query reads (the range with its margins).
    cut: (i64, i64),
    /// How much of the lines to decode (texts only for the lines or the search string).
    lines: LineMode,
    /// Inflated buffers of blocks dropped from the cache, for the next blocks.
    spare: Vec<Vec<u8>>,
    /// The mails' lines are wanted (else an entry's lines are dropped once its first time and
    /// text match are known).
    keep_lines: bool,
}

/// Decoded blocks kept at once (candidates come in block order; partners are near).
const CACHED_BLOCKS: usize = 64;

impl Store {
    /// Entry `id` of segment `si`, as a scan of `[lo, hi]` would have seen it: rows and lines
    /// outside the range are dropped, the first time and the text match follow what is left.
    fn entry(&mut self, key: Key) -> Result<Option<Entry>, Error> {
        let Some(mut e) = self.raw_entry(key)? else {
            return Ok(None);
        };
        let (lo, hi) = self.cut;
        e.rows.retain(|r| r.time >= lo && r.time <= hi);
        let mut first = i64::MAX;
        for s in &mut e.sections {
            s.lines.retain(|l| l.time >= lo && l.time <= hi);
            first = first.min(s.lines.iter().map(|l| l.time).min().unwrap_or(i64::MAX));
        }
        if first != i64::MAX {
            e.first_time = first;
        }
        if let Some(f) = &self.text {
            e.text_match = e
                .sections
                .iter()
                .flat_map(|s| &s.lines)
                .any(|l| f.is_match(&l.text));
        }
        if !self.keep_lines {
            e.sections.clear();
        }
        Ok(Some(e))
    }

    fn raw_entry(&mut self, (si, id): Key) -> Result<Option<Entry>, Error> {
        let Some(b) = self.segs[si].block_of(id) else {
            return Ok(None);
        };
        let block = match self.blocks.get(&(si, b)) {
            Some(block) => block.clone(),
            None => {
                let spare = self.spare.pop().unwrap_or_default();
                let raw = self.segs[si].raw_block_into(b, self.lines, spare)?;
                let m = &self.segs[si].blocks[b];
                self.inflated += u64::from(m.ulen)
                    + if self.lines == LineMode::Full {
                        u64::from(m.tulen)
                    } else {
                        0
                    };
                let block = Rc::new(raw);
                if self.blocks.len() >= CACHED_BLOCKS {
                    for (_, old) in self.blocks.drain() {
                        if let Ok(old) = Rc::try_unwrap(old) {
                            self.spare.push(old.into_buffer());
                        }
                    }
                }
                self.blocks.insert((si, b), block.clone());
                block
            }
        };
        let first = self.segs[si].blocks[b].first;
        match block.entry((id - first) as usize) {
            Some(e) => Ok(Some(e)),
            None => Err(Error::bad_index(
                self.segs[si].path(),
                format!("block {b}, entry {id}"),
            )),
        }
    }

    /// Entries linked to `id` in any segment (hash matches; the caller checks).
    fn linked(&mut self, id: &[u8]) -> Result<Vec<Key>, Error> {
        let h = id_hash(id);
        let mut out = Vec::new();
        for si in 0..self.segs.len() {
            let table = match &self.links[si] {
                Some(t) => t.clone(),
                None => {
                    let t = Rc::new(self.segs[si].links()?);
                    self.links[si] = Some(t.clone());
                    t
                }
            };
            out.extend(table.entries_of(h).map(|e| (si, e)));
        }
        Ok(out)
    }
}

fn queue_id(e: &Entry) -> Option<&[u8]> {
    match &e.id {
        EntryId::Queue(q) => Some(q),
        EntryId::Smtpd { .. } => None,
    }
}

fn relays_of(e: &Entry) -> Vec<Box<[u8]>> {
    let own = queue_id(e);
    let mut out: Vec<Box<[u8]>> = Vec::new();
    if own.is_none() {
        return out;
    }
    for r in &e.rows {
        if let (true, Some(relay)) = (r.status.passes_on(), &r.relay) {
            if Some(&relay[..]) != own && !out.contains(relay) {
                out.push(relay.clone());
            }
        }
    }
    out
}

/// Sorted intersection.
fn intersect(a: Option<Vec<u32>>, b: Vec<u32>) -> Option<Vec<u32>> {
    Some(match a {
        None => b,
        Some(a) => {
            let mut out = Vec::with_capacity(a.len().min(b.len()));
            let (mut i, mut j) = (0, 0);
            while i < a.len() && j < b.len() {
                match a[i].cmp(&b[j]) {
                    std::cmp::Ordering::Less => i += 1,
                    std::cmp::Ordering::Greater => j += 1,
                    std::cmp::Ordering::Equal => {
                        out.push(a[i]);
                        i += 1;
                        j += 1;
                    }
                }
            }
            out
        }
    })
}

/// Entries of the index that may belong to a wanted mail.
fn candidates(store: &mut Store, q: &Query, lo: i64, hi: i64) -> Result<Vec<Key>, Error> {
    let f = &q.filter;
    let from = (!f.from.is_empty()).then(|| Finder::new(&f.from));
    let to = (!f.to.is_empty()).then(|| Finder::new(&f.to));
    let host = (!f.host.is_empty()).then(|| Finder::new(&f.host));
    let mut gram_buckets: Vec<usize> = Vec::new();
    if !q.text.is_empty() {
        gram_buckets.extend(buckets_of(&q.text));
    }
    if !f.msgid.is_empty() {
        gram_buckets.extend(buckets_of(&f.msgid));
    }
    gram_buckets.sort_unstable();
    gram_buckets.dedup();
    let mut out = Vec::new();
    for si in 0..store.segs.len() {
        let seg = &store.segs[si];
        if seg.entries == 0 || seg.max_t < lo || seg.min_t > hi {
            continue;
        }
        let mut allowed: Vec<bool> = seg
            .blocks
            .iter()
            .map(|b| b.max_t >= lo && b.min_t <= hi)
            .collect();
        if !gram_buckets.is_empty() {
            let bits = seg.gram_blocks(&gram_buckets)?;
            for (b, a) in allowed.iter_mut().enumerate() {
                *a &= bits.get(b / 64).is_some_and(|w| w & (1 << (b % 64)) != 0);
            }
        }
        let mut ids: Option<Vec<u32>> = None;
        if let Some(n) = &from {
            ids = intersect(ids, seg.dict_ids(Field::From, n)?);
        }
        if let Some(n) = &to {
            ids = intersect(ids, seg.dict_ids(Field::To, n)?);
        }
        if let Some(n) = &host {
            ids = intersect(ids, seg.dict_ids(Field::Client, n)?);
        }
        if !f.ids.is_empty() {
            let mut set = Vec::new();
            let table = seg.links()?;
            for id in &f.ids {
                set.extend(table.entries_of(id_hash(id)));
            }
            set.sort_unstable();
            set.dedup();
            ids = intersect(ids, set);
        }
        match ids {
            Some(list) => {
                for id in list {
                    if seg.block_of(id).is_some_and(|b| allowed[b]) {
                        out.push((si, id));
                    }
                }
            }
            None => {
                for (b, meta) in seg.blocks.iter().enumerate() {
                    if allowed[b] {
                        out.extend((meta.first..meta.first + meta.count).map(|id| (si, id)));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Builds the mail of a group of related entries.
fn mail_of(group: Vec<Entry>) -> Mail {
    let mut by_id: Vec<(EntryId, Vec<Entry>)> = Vec::new();
    for e in group {
        match by_id.iter_mut().find(|(id, _)| *id == e.id) {
            Some((_, parts)) => parts.push(e),
            None => by_id.push((e.id.clone(), vec![e])),
        }
    }
    let mut entries: Vec<Entry> = by_id.into_iter().map(|(_, p)| merge_fragments(p)).collect();
    entries.sort_by_key(|e| e.first_time);
    let main = entries
        .iter()
        .position(|e| !relays_of(e).is_empty())
        .unwrap_or(0);
    let main = entries.remove(main);
    Mail::join(main, entries)
}

/// Searches the index in `dir` and, if `tail` names the log series, the log after the index.
pub fn search(dir: &Path, tail: Option<&Path>, q: &Query, zone: &Zone) -> Result<Found, Error> {
    let f = &q.filter;
    if f.end < f.start {
        return Err(Error::EndBeforeStart {
            start: f.start,
            end: f.end,
        });
    }
    let st = State::load(dir)?;
    let mut segs = Vec::new();
    for rec in &st.segments {
        segs.push(Segment::open(&dir.join(&rec.name))?);
    }
    let text = (!q.text.is_empty()).then(|| Finder::new(&q.text));
    let margin = q.margin.max(0);
    let mut store = Store {
        links: vec![None; segs.len()],
        segs,
        blocks: FxHashMap::default(),
        text: text.clone(),
        inflated: 0,
        cut: (f.start.saturating_sub(margin), f.end.saturating_add(margin)),
        lines: if q.keep_lines || text.is_some() {
            LineMode::Full
        } else {
            LineMode::Times
        },
        keep_lines: q.keep_lines,
        spare: Vec::new(),
    };
    let window = q.margin.max(60);
    let mut filter = f.clone();
    filter.text = text.is_some();
    let mut seeds = candidates(&mut store, q, f.start.saturating_sub(window), f.end)?;
    // earliest blocks first, so that a limited query can stop once the rest cannot come first
    let block_start = |store: &Store, (si, id): Key| {
        store.segs[si]
            .block_of(id)
            .map_or(i64::MIN, |b| store.segs[si].blocks[b].min_t)
    };
    seeds.sort_by_cached_key(|&k| (block_start(&store, k), k));
    let mut seen: FxHashSet<Key> = FxHashSet::default();
    let mut mails: Vec<Mail> = Vec::with_capacity(seeds.len());
    let mut rows = 0usize;
    let mut checked_rows = 0usize;
    let mut stopped = false;
    for seed in seeds {
        if seen.contains(&seed) {
            continue;
        }
        if q.limit > 0 && rows >= q.limit && rows >= checked_rows + q.limit / 4 {
            // the `limit`-th row's time so far; a seed in a later block starts no earlier
            checked_rows = rows;
            let mut times: Vec<i64> = Vec::new();
            for m in &mails {
                times.extend(std::iter::repeat_n(m.time, m.recipients.len()));
            }
            times.sort_unstable();
            if times[q.limit - 1] < block_start(&store, seed) {
                stopped = true;
                break;
            }
        }
        let Some(first) = store.entry(seed)? else {
            continue;
        };
        if text.is_some() && !first.text_match {
            // A wanted mail has a matching line, so some entry of it is a matching seed that
            // pulls this one in if it belongs.
            continue;
        }
        let mut group = Vec::new();
        let mut todo = vec![(seed, first)];
        seen.insert(seed);
        while let Some((_, e)) = todo.pop() {
            let mut wanted: Vec<(Box<[u8]>, bool)> =
                relays_of(&e).into_iter().map(|r| (r, true)).collect();
            if let Some(qid) = queue_id(&e) {
                if e.flags.relayed || e.flags.incomplete || e.flags.continued {
                    wanted.push((qid.into(), false));
                }
            }
            for (id, as_copy) in wanted {
                for key in store.linked(&id)? {
                    if seen.contains(&key) {
                        continue;
                    }
                    let Some(other) = store.entry(key)? else {
                        continue;
                    };
                    let related = if as_copy {
                        queue_id(&other) == Some(&id[..])
                    } else {
                        queue_id(&other) == Some(&id[..]) || relays_of(&other).contains(&id)
                    };
                    if related {
                        seen.insert(key);
                        todo.push((key, other));
                    }
                }
            }
            group.push(e);
        }
        let mut mail = mail_of(group);
        if filter.keep(&mut mail) {
            if !q.keep_lines {
                mail.lines.clear();
            }
            rows += mail.recipients.len();
            mails.push(mail);
        }
    }
    let mut found_bytes = store.inflated;
    if let Some(base) = tail {
        let (tail_mails, bytes) = scan_tail(&st, base, q, zone, &filter)?;
        found_bytes += bytes;
        if !tail_mails.is_empty() {
            mails.extend(tail_mails);
            mails = merge_duplicates(mails);
        }
    }
    let mut found = finish(mails, q.limit, found_bytes);
    found.truncated |= stopped;
    Ok(found)
}

/// Scans the log from the index's restart point; entries completed before its cursor are in
/// the index already.
fn scan_tail(
    st: &State,
    base: &Path,
    q: &Query,
    zone: &Zone,
    filter: &MailFilter,
) -> Result<(Vec<Mail>, u64), Error> {
    let mut st = st.clone();
    let files = number_files(&mut st, follow::list(base));
    let plan = plan(&files, st.restart);
    let cfg = Config {
        dialect: Dialect::Pmgfast,
        start: i64::MIN,
        end: i64::MAX,
        keep_lines: q.keep_lines,
        filter: PrintFilter::default(),
        prefilter: Some(crate::search::prefilter(q)),
    };
    let stamps = StampReader::new(q.now, zone, LocalRule::Zone(zone.clone()));
    let mut cor = Correlator::new(cfg, stamps);
    let text = (!q.text.is_empty()).then(|| Finder::new(&q.text));
    let mut asm = Assembler::new(q.margin.max(60));
    let mut mails = Vec::new();
    let mut keep = |mut m: Mail| {
        if filter.keep(&mut m) {
            mails.push(m);
        }
    };
    let cursor = st.cursor;
    let (_, bytes) = feed_files(&plan, &mut cor, text.as_ref(), &mut |e, at| {
        if at >= cursor {
            asm.push(e, &mut keep);
        }
        Ok(())
    })?;
    cor.finish();
    for e in cor.take_printed() {
        asm.push(e, &mut keep);
    }
    asm.finish(&mut keep);
    Ok((mails, bytes))
}

/// Merges mails found twice (a queue entry split between the index and the tail) and joins an
/// accepted mail with a re-injected copy found separately.
fn merge_duplicates(mails: Vec<Mail>) -> Vec<Mail> {
    let mut out: Vec<Mail> = Vec::new();
    let mut by_id: FxHashMap<String, usize> = FxHashMap::default();
    for m in mails {
        match by_id.get(&m.id) {
            Some(&i) => {
                let acc = &mut out[i];
                acc.time = acc.time.min(m.time);
                for mut r in m.recipients {
                    match acc.recipients.iter_mut().find(|x| x.to == r.to) {
                        Some(x) if r.time >= x.time => {
                            // a later part read without its filter link (see merge_fragments)
                            if matches!(x.dstatus, 'P' | 'D' | 'R') {
                                let (d, s) = match r.status {
                                    Status::QueuedDelivered => ('P', Status::AcceptedDelivered),
                                    Status::QueuedDeferred => ('D', Status::AcceptedDeferred),
                                    Status::QueuedBounced => ('R', Status::AcceptedBounced),
                                    other => (r.dstatus, other),
                                };
                                r.dstatus = d;
                                r.status = s;
                            }
                            *x = r
                        }
                        Some(_) => {}
                        None => acc.recipients.push(r),
                    }
                }
                acc.lines.extend(m.lines);
                acc.lines.sort_by_key(|l| l.lineno);
                acc.lines.dedup_by_key(|l| l.lineno);
                acc.text_match |= m.text_match;
            }
            None => {
                by_id.insert(m.id.clone(), out.len());
                out.push(m);
            }
        }
    }
    // a copy found on its own: fold it into the accepted mail that names it
    let mut absorbed = vec![false; out.len()];
    for i in 0..out.len() {
        let relays: Vec<Box<[u8]>> = out[i]
            .recipients
            .iter()
            .filter(|r| r.status == Status::Accepted)
            .map(|r| r.relay.clone())
            .collect();
        for relay in relays {
            let Some(&j) = by_id.get(&String::from_utf8_lossy(&relay).into_owned()) else {
                continue;
            };
            if j == i || absorbed[j] {
                continue;
            }
            let copy = out[j].clone();
            for r in &mut out[i].recipients {
                if r.status == Status::Accepted && r.relay == relay {
                    if let Some(c) = copy.recipients.iter().find(|c| c.to == r.to) {
                        let d = match c.status {
                            Status::QueuedDelivered => DStatus::Dsn(2),
                            Status::QueuedDeferred => DStatus::Dsn(4),
                            _ => DStatus::Dsn(5),
                        };
                        r.status = Status::of(DStatus::Accept, Some(d));
                        r.rstatus = Some(c.dstatus);
                    }
                }
            }
            out[i].qids.extend(copy.qids);
            out[i].lines.extend(copy.lines);
            out[i].lines.sort_by_key(|l| l.lineno);
            out[i].text_match |= copy.text_match;
            absorbed[j] = true;
        }
    }
    out.into_iter()
        .zip(absorbed)
        .filter(|(_, a)| !a)
        .map(|(m, _)| m)
        .collect()
}
