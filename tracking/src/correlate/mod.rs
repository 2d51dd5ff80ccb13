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
mod print;

use std::cell::RefCell;
use std::rc::Weak;

use rustc_hash::FxHashMap;

use crate::model::{Entry, LogLine};
use crate::syslog::{read_header, Dialect, Service};
use crate::time::StampReader;
use entries::{FilteredRef, Queued, QueuedRef, SessionRef};

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
            let n = s.iter().take(8).take_while(|b| b.is_ascii_hexdigit()).count();
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
}

/// The state of one pass over the log.
pub struct Correlator {
    cfg: Config,
    stamps: StampReader,
    strict_stamps: bool,
    sessions: FxHashMap<u64, SessionRef>,
    queued: FxHashMap<Box<[u8]>, QueuedRef>,
    filtered: FxHashMap<Box<[u8]>, FilteredRef>,
    by_msgid: FxHashMap<Box<[u8]>, Weak<RefCell<Queued>>>,
    tls_by_pid: FxHashMap<u64, LogLine>,
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
        let Some((time, rest)) = self.stamps.read(line, self.strict_stamps) else {
            self.stats.skipped += 1;
            return Flow::Continue;
        };
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
        let Some(header) = read_header(rest, self.cfg.dialect) else {
            self.stats.skipped += 1;
            return Flow::Continue;
        };
        self.ctime = time;
        self.cur = Current {
            pid: header.pid,
            time,
            lineno: self.stats.lines,
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

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn keep(&self) -> bool {
        self.cfg.keep_lines
    }
}
