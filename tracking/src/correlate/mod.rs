//! The correlator: reads log lines in order and turns them into printed [`Entry`]s.
//!
//! It keeps open sessions, queue entries and filter runs (see [`entries`]), attaches each line
//! to the entry it belongs to (one handler per daemon, in [`handlers`]), and prints an entry
//! when it is complete (in [`print`]). Its rules are pmg-log-tracker 3.1's, so on a PMG log it
//! prints the same entries in the same order; pmgfast's dialect adds the extensions listed in
//! `FORMAT.md`. Printing applies pmg-log-tracker's query filters, which can change entries that
//! are printed later, exactly as in the original.

pub mod entries;
mod handlers;
mod key;
mod print;

use std::cell::RefCell;
use std::rc::Weak;

use rustc_hash::FxHashMap;

use crate::find::Finder;
use crate::model::{Entry, LogLine};
use crate::syslog::{read_header, Dialect, Service};
use crate::time::StampReader;
use entries::{FilteredRef, Queued, QueuedRef, SessionRef};
use key::IdKey;

/// Lines between two prunings of the Message-ID table (pmgfast's dialect).
const PRUNE_EVERY: u64 = 1 << 20;

/// What a continuation inherits from the part of its queue entry printed before.
#[derive(Debug, Clone)]
struct Flushed {
    time: i64,
    bq_filtered: bool,
    from: Box<[u8]>,
}

/// Seconds the correlator remembers the queue ids of entries printed incomplete.
const FLUSHED_MEMORY: i64 = 7 * 86_400;

/// An id given with `-q`: a queue or filter id, or an smtpd entry's `T…L…` id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdMatch {
    Queue(Box<[u8]>),
    Smtpd { time: i64, rel: u64 },
}

impl IdMatch {
    /// Reads `T%08lXL%08lX` (as `sscanf` does: hex digits, at most 8 each) or takes the text as
    /// a queue id.
    pub fn parse(text: &str) -> IdMatch {
        fn hex8(s: &[u8]) -> Option<(u64, &[u8])> {
            let n = s
                .iter()
                .take(8)
                .take_while(|b| b.is_ascii_hexdigit())
                .count();
            if n == 0 {
                return None;
            }
            let v = s[..n].iter().fold(0u64, |a, &b| {
                a * 16 + u64::from(char::from(b).to_digit(16).unwrap_or(0))
            });
            Some((v, &s[n..]))
        }
        let b = text.as_bytes();
        let smtpd = b.strip_prefix(b"T").and_then(|r| {
            let (time, r) = hex8(r)?;
            let r = r.strip_prefix(b"L")?;
            let (rel, _) = hex8(r)?;
            Some(IdMatch::Smtpd {
                time: time as i64,
                rel,
            })
        });
        smtpd.unwrap_or_else(|| IdMatch::Queue(b.into()))
    }
}

/// pmg-log-tracker's query filters, applied when an entry is printed.
#[derive(Debug, Clone, Default)]
pub struct PrintFilter {
    /// Sender substring (`-f`), case-insensitive.
    pub from: Vec<u8>,
    /// Recipient substring (`-t`).
    pub to: Vec<u8>,
    /// Client host or IP substring (`-h`).
    pub host: Vec<u8>,
    /// Message-ID, exact and case-insensitive (`-m`).
    pub msgid: Vec<u8>,
    /// Ids (`-q`).
    pub ids: Vec<IdMatch>,
    /// Only print entries with a line containing the search string (`-x`).
    pub text: bool,
    /// `-g`, `-n`.
    pub exclude_greylist: bool,
    pub exclude_ndr: bool,
}

/// A cheap test at print time, for pmgfast's searches: an entry that is not joined with
/// others (see [`crate::mails`]) and fails it is not printed at all. It only drops entries the
/// mail filter would drop too, so it changes speed, not answers.
#[derive(Debug, Clone, Default)]
pub struct Prefilter {
    pub from: Option<Finder>,
    pub to: Option<Finder>,
    pub host: Option<Finder>,
    /// Some line must have matched the search string.
    pub text: bool,
    /// The entry's first line must lie in this range.
    pub start: i64,
    pub end: i64,
    /// Queue ids always printed (the sparse scan follows them from an earlier region).
    pub keep: std::sync::Arc<rustc_hash::FxHashSet<Box<[u8]>>>,
}

impl Prefilter {
    /// Whether an entry with these facts may belong to a wanted mail.
    pub(crate) fn may_want<'a>(
        &self,
        first_time: i64,
        text_match: bool,
        clients: &[&[u8]],
        mut from: impl Iterator<Item = &'a [u8]>,
        mut to: impl Iterator<Item = &'a [u8]>,
    ) -> bool {
        (first_time >= self.start && first_time <= self.end)
            && (!self.text || text_match)
            && self
                .host
                .as_ref()
                .is_none_or(|h| clients.iter().any(|c| h.is_match(c)))
            && self
                .from
                .as_ref()
                .is_none_or(|f| from.any(|x| f.is_match(x)))
            && self.to.as_ref().is_none_or(|f| to.any(|x| f.is_match(x)))
    }
}

impl Prefilter {
    /// [`Prefilter::may_want`] for a printed entry.
    pub fn may_want_entry(&self, e: &Entry) -> bool {
        self.may_want(
            e.first_time,
            e.text_match,
            &[&e.client, &e.origin],
            e.rows.iter().map(|r| &r.from[..]),
            e.rows.iter().map(|r| &r.to[..]),
        )
    }
}

/// What the correlator is asked to do.
#[derive(Debug, Clone)]
pub struct Config {
    pub dialect: Dialect,
    /// Lines before `start` are skipped; reading stops at the first line after `end`.
    pub start: i64,
    pub end: i64,
    /// Keep the raw lines of entries (pmg-log-tracker's `-vv`).
    pub keep_lines: bool,
    pub filter: PrintFilter,
    /// pmgfast's searches: skip entries no wanted mail can contain.
    pub prefilter: Option<Prefilter>,
}

/// What to do after a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The line lies after the end of the range: stop reading this file.
    PastEnd,
}

/// Counters of what was read, for reports and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Lines with a valid stamp inside the range.
    pub lines: u64,
    /// Lines without a stamp, or without a `host service[pid]: ` header.
    pub skipped: u64,
    /// Queue ids claimed by two sessions (pmg-log-tracker prints "qentry ref already set").
    pub conflicts: u64,
    /// Bytes of the lines fed (with their newlines).
    pub bytes: u64,
}

/// The state of one pass over the log.
pub struct Correlator {
    cfg: Config,
    stamps: StampReader,
    strict_stamps: bool,
    sessions: FxHashMap<u64, SessionRef>,
    queued: FxHashMap<IdKey, QueuedRef>,
    filtered: FxHashMap<IdKey, FilteredRef>,
    by_msgid: FxHashMap<Box<[u8]>, Weak<RefCell<Queued>>>,
    /// TLS lines waiting for their delivery line, by process id, with their time.
    tls_by_pid: FxHashMap<u64, (LogLine, i64)>,
    /// Queue ids named by a filter's `accept mail to … (<qid>)`, with that filter run.
    accept_targets: FxHashMap<IdKey, Weak<RefCell<entries::Filtered>>>,
    /// Queue ids of entries printed incomplete (their later lines start a continuation).
    flushed: FxHashMap<IdKey, Flushed>,
    last_time: Option<i64>,
    cur: Current,
    rel: u64,
    prev_time: i64,
    ctime: i64,
    count: u64,
    seq: u64,
    stats: Stats,
    out: Vec<Entry>,
}

/// The line being handled.
#[derive(Debug, Clone, Copy, Default)]
struct Current {
    pid: u64,
    time: i64,
    lineno: u64,
    hit: bool,
    lmtp: bool,
}

impl Correlator {
    pub fn new(cfg: Config, stamps: StampReader) -> Correlator {
        let strict_stamps = cfg.dialect == Dialect::Pmg;
        Correlator {
            cfg,
            stamps,
            strict_stamps,
            sessions: FxHashMap::default(),
            queued: FxHashMap::default(),
            filtered: FxHashMap::default(),
            by_msgid: FxHashMap::default(),
            tls_by_pid: FxHashMap::default(),
            accept_targets: FxHashMap::default(),
            flushed: FxHashMap::default(),
            last_time: None,
            cur: Current::default(),
            rel: 0,
            prev_time: 0,
            ctime: 0,
            count: 0,
            seq: 0,
            stats: Stats::default(),
            out: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Starts a new file: relative line numbers restart (pmg-log-tracker counts them per file).
    pub fn begin_file(&mut self) {
        self.prev_time = 0;
    }

    /// `TO:` rows printed so far (what `-l` limits).
    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Takes the entries printed since the last call.
    pub fn take_printed(&mut self) -> Vec<Entry> {
        std::mem::take(&mut self.out)
    }

    /// Whether `line`'s stamp is after the end of the range (without reading the line).
    pub fn stamp(&mut self, line: &[u8]) -> Option<i64> {
        self.stamps.read(line, self.strict_stamps).map(|(t, _)| t)
    }

    /// Reads one line (without its newline). `hit` tells whether the line contains the search
    /// string (the caller searches whole buffers at once, which is much faster).
    pub fn feed(&mut self, line: &[u8], hit: bool) -> Flow {
        self.feed_numbered(line, hit, None)
    }

    /// Like [`Correlator::feed`], with the line's number given by the caller (the index numbers
    /// lines by file and offset, so numbers stay the same across runs).
    pub fn feed_numbered(&mut self, line: &[u8], hit: bool, lineno: Option<u64>) -> Flow {
        self.stats.bytes += line.len() as u64 + 1;
        let Some((time, rest)) = self.stamps.read(line, self.strict_stamps) else {
            self.stats.skipped += 1;
            return Flow::Continue;
        };
        self.last_time = Some(time);
        if time != self.prev_time {
            self.rel = 0;
        } else {
            self.rel += 1;
        }
        self.prev_time = time;
        if time < self.cfg.start {
            return Flow::Continue;
        }
        if time > self.cfg.end {
            return Flow::PastEnd;
        }
        self.stats.lines += 1;
        if self.stats.lines % PRUNE_EVERY == 0 && self.cfg.dialect == Dialect::Pmgfast {
            // pmg-log-tracker keeps every Message-ID it saw; pmgfast forgets those whose queue
            // entry is gone, so a week of logs fits in memory.
            self.by_msgid.retain(|_, w| w.strong_count() > 0);
            self.accept_targets.retain(|_, w| w.strong_count() > 0);
            let horizon = time.saturating_sub(FLUSHED_MEMORY);
            self.flushed.retain(|_, f| f.time >= horizon);
        }
        let Some(header) = read_header(rest, self.cfg.dialect) else {
            self.stats.skipped += 1;
            return Flow::Continue;
        };
        self.ctime = time;
        self.cur = Current {
            pid: header.pid,
            time,
            lineno: lineno.unwrap_or(self.stats.lines),
            hit,
            lmtp: matches!(header.service, Service::Delivery { lmtp: true }),
        };
        match header.service {
            Service::Filter => self.on_filter(header.msg, line),
            Service::Postscreen => self.on_postscreen(header.msg, line),
            Service::Qmgr => self.on_qmgr(header.msg, line),
            Service::Delivery { .. } => self.on_delivery(header.msg, line),
            Service::Smtpd => self.on_smtpd(header.msg, line),
            Service::Cleanup => self.on_cleanup(header.msg, line),
            Service::Bounce => self.on_bounce(header.msg, line),
            Service::Other => {}
        }
        Flow::Continue
    }

    /// Prints what is still open at the end of the input: queue entries first, then sessions,
    /// each in the order they were opened.
    pub fn finish(&mut self) {
        let mut queued: Vec<QueuedRef> = self.queued.drain().map(|(_, q)| q).collect();
        queued.sort_by_key(|q| q.borrow().seq);
        for q in queued {
            let smtpd = q.borrow().smtpd.clone();
            self.print_queued(&q, smtpd.as_ref());
        }
        let mut sessions: Vec<SessionRef> = self.sessions.drain().map(|(_, s)| s).collect();
        sessions.sort_by_key(|s| s.borrow().seq);
        for s in sessions {
            self.print_session(&s);
        }
    }

    /// The time of the last line with a valid stamp.
    pub fn last_time(&self) -> Option<i64> {
        self.last_time
    }

    /// The number of the oldest line still attached to an open entry (None: nothing open).
    pub fn oldest_open_line(&self) -> Option<u64> {
        let s = self.sessions.values().map(|s| s.borrow().first_line);
        let q = self.queued.values().map(|q| q.borrow().first_line);
        let f = self.filtered.values().map(|f| f.borrow().first_line);
        let t = self.tls_by_pid.values().map(|(l, _)| l.lineno);
        s.chain(q).chain(f).chain(t).min()
    }

    /// Prints and forgets entries opened before `time` (log time): queue entries first, then
    /// sessions; filter runs and pending TLS lines that old are dropped. The index uses this so
    /// that an entry that never completes (a mail deferred for days, a lost `removed` line)
    /// does not hold back where the next update starts reading.
    pub fn flush_opened_before(&mut self, time: i64) {
        let mut old: Vec<QueuedRef> = self
            .queued
            .values()
            .filter(|q| q.borrow().first_time < time)
            .cloned()
            .collect();
        old.sort_by_key(|q| q.borrow().seq);
        for q in old {
            let (qid, smtpd) = {
                let b = q.borrow();
                (b.qid.clone(), b.smtpd.clone())
            };
            let before = self.out.len();
            self.print_queued(&q, smtpd.as_ref());
            for e in &mut self.out[before..] {
                e.flags.incomplete = true;
            }
            if let Some(k) = IdKey::new(&qid) {
                let b = q.borrow();
                self.flushed.insert(
                    k,
                    Flushed {
                        time,
                        bq_filtered: b.bq_filtered,
                        from: b.from.clone(),
                    },
                );
            }
            self.queued.remove(&qid[..]);
            if let Some(s) = smtpd {
                s.borrow_mut()
                    .queued
                    .retain(|w| w.upgrade().is_some_and(|x| !std::rc::Rc::ptr_eq(&x, &q)));
            }
        }
        let mut old: Vec<(u64, SessionRef)> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.borrow().time < time)
            .map(|(pid, s)| (*pid, s.clone()))
            .collect();
        old.sort_by_key(|(_, s)| s.borrow().seq);
        for (pid, s) in old {
            self.sessions.remove(&pid);
            if !s.borrow().rejected.is_empty() {
                self.print_session(&s);
            }
        }
        self.filtered.retain(|_, f| f.borrow().first_time >= time);
        self.tls_by_pid.retain(|_, (_, t)| *t >= time);
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn keep(&self) -> bool {
        self.cfg.keep_lines
    }
}
