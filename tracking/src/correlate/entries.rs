//! The three kinds of open entries the correlator keeps while it reads a log.
//!
//! * [`Session`]: one smtpd (or postscreen) connection, keyed by the process id.
//! * [`Queued`]: one Postfix queue entry, keyed by its queue id.
//! * [`Filtered`]: one run of the content filter (pmg-smtp-filter or pmgfast's milter), keyed
//!   by the filter id.
//!
//! They point at each other the way pmg-log-tracker's entries do, with the same ownership:
//! a queue entry owns (keeps alive) its session and its filter run; sessions and filter runs
//! only observe queue entries. That ownership decides which links still resolve when an entry
//! is printed, so it is kept exactly.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use crate::model::{DStatus, LogLine};

pub type SessionRef = Rc<RefCell<Session>>;
pub type QueuedRef = Rc<RefCell<Queued>>;
pub type FilteredRef = Rc<RefCell<Filtered>>;

/// Log lines attached to an entry, stored in one buffer per entry.
#[derive(Debug, Default, Clone)]
pub struct Lines {
    text: Vec<u8>,
    index: Vec<(usize, usize, u64, i64)>,
}

impl Lines {
    pub fn push(&mut self, line: &[u8], lineno: u64, time: i64) {
        let start = self.text.len();
        self.text.extend_from_slice(line);
        self.index.push((start, line.len(), lineno, time));
    }

    pub fn push_line(&mut self, line: &LogLine) {
        self.push(&line.text, line.lineno, line.time);
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The lines as owned values, in the order they were attached.
    pub fn to_vec(&self) -> Vec<LogLine> {
        self.index
            .iter()
            .map(|&(s, n, lineno, time)| LogLine {
                lineno,
                time,
                text: self.text[s..s + n].into(),
            })
            .collect()
    }
}

/// A recipient row of a queue entry or a filter run.
#[derive(Debug, Clone)]
pub struct ToRow {
    pub to: Box<[u8]>,
    pub relay: Box<[u8]>,
    pub status: DStatus,
    pub time: i64,
}

/// A recipient rejected in the session (NOQUEUE), or a postscreen reject.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub from: Box<[u8]>,
    pub to: Box<[u8]>,
    pub status: DStatus,
    pub time: i64,
}

/// An smtpd (or postscreen) session.
#[derive(Debug, Default)]
pub struct Session {
    pub lines: Lines,
    pub client: Box<[u8]>,
    /// Queue entries started in this session (observed, not owned).
    pub queued: Vec<Weak<RefCell<Queued>>>,
    pub rejected: Vec<Rejected>,
    pub disconnected: bool,
    /// The filter run of a before-queue filtered mail without a queue entry of its own.
    pub filter: Option<Weak<RefCell<Filtered>>>,
    pub text_match: bool,
    /// Time and relative line number of the session's first line (its `T…L…` id).
    pub time: i64,
    pub rel: u64,
    /// Before-queue filtering accepted the mail for at least one recipient.
    pub bq_accepted: bool,
    /// Before-queue filtering rejected the mail for all recipients.
    pub bq_rejected: bool,
    /// The sender of a before-queue filtered mail (from the proxy line).
    pub bq_from: Box<[u8]>,
    pub seq: u64,
    /// Number of the first line attached (the index restarts reading from open entries).
    pub first_line: u64,
}

impl Session {
    pub fn set_client(&mut self, client: &[u8]) {
        if self.client.is_empty() {
            self.client = client.into();
        }
    }

    pub fn filter(&self) -> Option<FilteredRef> {
        self.filter.as_ref().and_then(Weak::upgrade)
    }
}

/// A Postfix queue entry.
#[derive(Debug, Default)]
pub struct Queued {
    pub lines: Lines,
    /// The session that queued it (owned).
    pub smtpd: Option<SessionRef>,
    /// The filter run that handled it (owned).
    pub filter: Option<FilteredRef>,
    pub qid: Box<[u8]>,
    pub from: Box<[u8]>,
    pub client: Box<[u8]>,
    pub msgid: Box<[u8]>,
    pub size: u64,
    pub rows: Vec<ToRow>,
    /// Seen by cleanup, qmgr or a delivery agent (a real queue entry, not just a session id).
    pub cleanup: bool,
    pub removed: bool,
    /// Linked to a filter run by an lmtp delivery (after-queue filtering).
    pub filtered: bool,
    pub text_match: bool,
    /// Re-injected by a before-queue filter (or queued by pmgfast's milter).
    pub bq_filtered: bool,
    /// The original session of a before-queue filtered mail (owned).
    pub bq_session: Option<SessionRef>,
    /// The other queue entry with the same Message-ID (after-queue re-injection).
    pub twin: Option<Weak<RefCell<Queued>>>,
    /// Linked to a filter run by pmgfast's milter (`<fid>: queue=<qid> …`).
    pub milter: bool,
    /// The later part of an entry printed incomplete before.
    pub continued: bool,
    pub first_time: i64,
    pub seq: u64,
    pub first_line: u64,
}

impl Queued {
    pub fn set_client(&mut self, client: &[u8]) {
        if self.client.is_empty() {
            self.client = client.into();
        }
    }
}

/// A run of the content filter.
#[derive(Debug, Default)]
pub struct Filtered {
    pub lines: Lines,
    pub id: Box<[u8]>,
    pub rows: Vec<ToRow>,
    pub text_match: bool,
    /// The `processing time` line was seen.
    pub finished: bool,
    /// Some recipient was accepted (re-injected).
    pub accepted: bool,
    /// The queue entry this run belongs to (observed).
    pub queued: Option<Weak<RefCell<Queued>>>,
    /// Before-queue filtering (proxy or milter).
    pub bq: bool,
    /// pmgfast's milter (linked by its `queue=` line).
    pub milter: bool,
    pub first_time: i64,
    pub first_line: u64,
}

impl Filtered {
    pub fn queued(&self) -> Option<QueuedRef> {
        self.queued.as_ref().and_then(Weak::upgrade)
    }

    pub fn add_row(&mut self, to: &[u8], relay: &[u8], status: DStatus, time: i64) {
        self.rows.push(ToRow {
            to: to.into(),
            relay: relay.into(),
            status,
            time,
        });
        if status == DStatus::Accept {
            self.accepted = true;
        }
    }
}
