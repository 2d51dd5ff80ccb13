//! Mails: printed entries joined into one result per mail, with one status per recipient.
//!
//! An after-queue filtered mail prints as two entries: the received copy (rows `A` with the
//! queue id of the re-injected copy as relay) and the re-injected copy (rows with the delivery
//! DSN). PMG's API joins them by that queue id and recipient; so does [`Assembler`], across the
//! stream of entries, holding entries for a window of log time until their partner shows up.
//! Each recipient gets one status from the admin guide's vocabulary (section 6.3): the last
//! delivery attempt wins.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use crate::find::naive_find;
use crate::model::{DStatus, Entry, EntryId, LogLine};

/// The status of a recipient (PMG admin guide, 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Rejected,
    Greylisted,
    QueuedDeferred,
    QueuedBounced,
    QueuedDelivered,
    Quarantine,
    Blocked,
    /// Accepted by the filter; the re-injected copy was not found (yet).
    Accepted,
    AcceptedDeferred,
    AcceptedBounced,
    AcceptedDelivered,
}

impl Status {
    /// Every status, in display order.
    pub const ALL: [Status; 11] = [
        Status::Rejected,
        Status::Greylisted,
        Status::QueuedDeferred,
        Status::QueuedBounced,
        Status::QueuedDelivered,
        Status::Quarantine,
        Status::Blocked,
        Status::Accepted,
        Status::AcceptedDeferred,
        Status::AcceptedBounced,
        Status::AcceptedDelivered,
    ];

    /// The admin guide's name.
    pub fn name(self) -> &'static str {
        match self {
            Status::Rejected => "rejected",
            Status::Greylisted => "greylisted",
            Status::QueuedDeferred => "queued/deferred",
            Status::QueuedBounced => "queued/bounced",
            Status::QueuedDelivered => "queued/delivered",
            Status::Quarantine => "quarantine",
            Status::Blocked => "blocked",
            Status::Accepted => "accepted",
            Status::AcceptedDeferred => "accepted/deferred",
            Status::AcceptedBounced => "accepted/bounced",
            Status::AcceptedDelivered => "accepted/delivered",
        }
    }

    /// The status of a row (`dstatus`) and, for an accepted row, of the re-injected copy's row.
    pub fn of(dstatus: DStatus, relayed: Option<DStatus>) -> Status {
        let downstream = |d: Option<DStatus>| match d {
            Some(DStatus::Dsn(2) | DStatus::BqPass) => Status::AcceptedDelivered,
            Some(DStatus::Dsn(4) | DStatus::BqDefer) => Status::AcceptedDeferred,
            Some(DStatus::Dsn(5) | DStatus::BqReject) => Status::AcceptedBounced,
            Some(DStatus::Quarantine) => Status::Quarantine,
            Some(DStatus::Block) => Status::Blocked,
            _ => Status::Accepted,
        };
        match dstatus {
            DStatus::Accept => downstream(relayed),
            DStatus::Hop if relayed.is_some() => downstream(relayed),
            DStatus::Hop => Status::QueuedDelivered,
            DStatus::BqPass => Status::AcceptedDelivered,
            DStatus::BqDefer => Status::AcceptedDeferred,
            DStatus::BqReject => Status::AcceptedBounced,
            DStatus::Quarantine => Status::Quarantine,
            DStatus::Block => Status::Blocked,
            DStatus::Greylist => Status::Greylisted,
            DStatus::Noqueue | DStatus::Invalid => Status::Rejected,
            DStatus::Dsn(2) => Status::QueuedDelivered,
            DStatus::Dsn(4) => Status::QueuedDeferred,
            DStatus::Dsn(_) => Status::QueuedBounced,
        }
    }
}

/// One recipient of a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub to: Box<[u8]>,
    pub status: Status,
    /// pmg-log-tracker's letter for the row, and for the re-injected copy's row.
    pub dstatus: char,
    pub rstatus: Option<char>,
    /// Relay (`host[ip]:port`), re-injected queue id, quarantine id or `none`.
    pub relay: Box<[u8]>,
    /// Time of the row (the last delivery attempt).
    pub time: i64,
}

/// One mail: a session's rejects, or a queue entry with its filter run and re-injected copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The id of the first entry (queue id, or `T…L…` for a session).
    pub id: String,
    /// The time of the mail's first log line.
    pub time: i64,
    pub from: Box<[u8]>,
    pub client: Box<[u8]>,
    pub msgid: Box<[u8]>,
    pub size: u64,
    /// Queue ids of all joined entries (received copy first).
    pub qids: Vec<Box<[u8]>>,
    pub filter_id: Box<[u8]>,
    pub recipients: Vec<Recipient>,
    /// Log lines of all joined entries, in log order (empty unless lines are kept).
    pub lines: Vec<LogLine>,
    /// Whether some line matched the search string.
    pub text_match: bool,
}

impl Mail {
    /// A mail made of `main` and the re-injected copies `relays`.
    pub fn join(main: Entry, relays: Vec<Entry>) -> Mail {
        let id = main.id.text();
        let mut qids = Vec::new();
        if let EntryId::Queue(q) = &main.id {
            qids.push(q.clone());
        }
        let mut time = main.first_time;
        let mut text_match = main.text_match;
        let mut lines: Vec<LogLine> = Vec::new();
        // (copy's queue id, recipient) -> (time, status) of the copy's last row
        type CopyRows<'a> = FxHashMap<(&'a [u8], &'a [u8]), (i64, DStatus)>;
        let mut relay_rows: CopyRows<'_> = FxHashMap::default();
        for r in &relays {
            if let EntryId::Queue(q) = &r.id {
                for row in &r.rows {
                    let key = (&q[..], &row.to[..]);
                    let newer = relay_rows.get(&key).is_none_or(|(t, _)| row.time >= *t);
                    if newer {
                        relay_rows.insert(key, (row.time, row.status));
                    }
                }
            }
        }
        let mut recipients: Vec<Recipient> = Vec::with_capacity(main.rows.len());
        let mut from: Box<[u8]> = Box::default();
        // pmg-log-tracker prints rows newest first; walk them oldest first so the last wins.
        for row in main.rows.into_iter().rev() {
            if from.is_empty() {
                from = row.from;
            }
            let relay = row.relay.unwrap_or_else(|| b"none"[..].into());
            let relayed = row
                .status
                .passes_on()
                .then(|| relay_rows.get(&(&relay[..], &row.to[..])).map(|(_, s)| *s))
                .flatten();
            let rec = Recipient {
                to: row.to,
                status: Status::of(row.status, relayed),
                dstatus: row.status.letter(),
                rstatus: relayed.map(DStatus::letter),
                relay,
                time: row.time,
            };
            match recipients.iter_mut().find(|r| r.to == rec.to) {
                Some(old) if rec.time >= old.time => *old = rec,
                Some(_) => {}
                None => recipients.push(rec),
            }
        }
        lines.extend(main.sections.into_iter().flat_map(|s| s.lines));
        // the filter id of the mail: its own, or (after-queue) its filtered copy's
        let mut filter_id = main.filter_id;
        for r in relays {
            if filter_id.is_empty() {
                filter_id = r.filter_id.clone();
            }
            time = time.min(r.first_time);
            text_match |= r.text_match;
            if let EntryId::Queue(q) = r.id {
                if !qids.contains(&q) {
                    qids.push(q);
                }
            }
            lines.extend(r.sections.into_iter().flat_map(|s| s.lines));
        }
        lines.sort_by_key(|l| l.lineno);
        lines.dedup_by_key(|l| l.lineno);
        Mail {
            id,
            time,
            from,
            client: trim_client(main.origin),
            msgid: main.msgid,
            size: main.size,
            qids,
            filter_id,
            recipients,
            lines,
            text_match,
        }
    }
}

/// A client without the comma pmg-log-tracker keeps from `client=…, orig_client=…`.
fn trim_client(client: Box<[u8]>) -> Box<[u8]> {
    match client.strip_suffix(b",") {
        Some(c) => c.into(),
        None => client,
    }
}

/// Combines the fragments of one queue entry (printed in parts) into one entry.
pub fn merge_fragments(mut parts: Vec<Entry>) -> Entry {
    parts.sort_by_key(|e| e.first_time);
    let mut it = parts.into_iter();
    let mut acc = it.next().expect("at least one fragment");
    for mut e in it {
        if acc.flags.bq && !e.flags.bq {
            // a later part read without its filter link delivers what the filter passed
            for r in &mut e.rows {
                r.status = match r.status {
                    DStatus::Dsn(2) => DStatus::BqPass,
                    DStatus::Dsn(4) => DStatus::BqDefer,
                    DStatus::Dsn(5) => DStatus::BqReject,
                    other => other,
                };
            }
        }
        acc.ctime = acc.ctime.max(e.ctime);
        acc.size = acc.size.max(e.size);
        for (mine, theirs) in [
            (&mut acc.client, e.client),
            (&mut acc.origin, e.origin),
            (&mut acc.msgid, e.msgid),
            (&mut acc.filter_id, e.filter_id),
        ] {
            if mine.is_empty() {
                *mine = theirs;
            }
        }
        acc.text_match |= e.text_match;
        // rows are printed newest first: the later fragment's rows go in front
        let mut rows = e.rows;
        for r in &mut rows {
            if r.from.is_empty() && !acc.rows.is_empty() {
                r.from = acc.rows[0].from.clone();
            }
        }
        rows.append(&mut acc.rows);
        acc.rows = rows;
        acc.sections.extend(e.sections);
        acc.flags.relayed |= e.flags.relayed;
        acc.flags.bq |= e.flags.bq;
    }
    if let Some(from) = acc
        .rows
        .iter()
        .map(|r| r.from.clone())
        .find(|f| !f.is_empty())
    {
        for r in &mut acc.rows {
            if r.from.is_empty() {
                r.from = from.clone();
            }
        }
    }
    acc
}

/// The query filters on mails (all case-insensitive; empty means "any").
#[derive(Debug, Clone, Default)]
pub struct MailFilter {
    pub start: i64,
    pub end: i64,
    /// Sender substring.
    pub from: Vec<u8>,
    /// Recipient substring: only matching recipients are kept.
    pub to: Vec<u8>,
    /// Client host or IP substring.
    pub host: Vec<u8>,
    /// Message-ID (exact, case-insensitive).
    pub msgid: Vec<u8>,
    /// Queue ids, filter ids or session ids (exact).
    pub ids: Vec<Vec<u8>>,
    /// Require a line containing the search string (evaluated by the searcher).
    pub text: bool,
    pub include_greylisted: bool,
    pub include_rejected: bool,
    /// Include mails with the empty sender (bounces, NDRs).
    pub include_ndr: bool,
}

fn has(hay: &[u8], needle: &[u8]) -> bool {
    naive_find(hay, needle).is_some()
}

impl MailFilter {
    /// Whether `mail` is wanted; trims recipients the recipient, greylist and reject filters
    /// exclude (a mail with no recipient left is not wanted).
    pub fn keep(&self, mail: &mut Mail) -> bool {
        if mail.time < self.start || mail.time > self.end {
            return false;
        }
        if !self.from.is_empty() && !has(&mail.from, &self.from) {
            return false;
        }
        if !self.include_ndr && mail.from.is_empty() {
            return false;
        }
        if !self.host.is_empty() && !has(&mail.client, &self.host) {
            return false;
        }
        if !self.msgid.is_empty() && !mail.msgid.eq_ignore_ascii_case(&self.msgid) {
            return false;
        }
        if !self.ids.is_empty() {
            let found = self.ids.iter().any(|id| {
                mail.id.as_bytes() == &id[..]
                    || mail.qids.iter().any(|q| q[..] == id[..])
                    || (!mail.filter_id.is_empty() && mail.filter_id[..] == id[..])
            });
            if !found {
                return false;
            }
        }
        if self.text && !mail.text_match {
            return false;
        }
        mail.recipients.retain(|r| {
            (self.to.is_empty() || has(&r.to, &self.to))
                && (self.include_greylisted || r.status != Status::Greylisted)
                && (self.include_rejected || r.status != Status::Rejected)
        });
        !mail.recipients.is_empty()
    }
}

/// How many windows an accepted entry waits for its re-injected copies.
pub const WAIT_FACTOR: i64 = 24;

/// Joins a stream of entries into mails.
///
/// An entry with accepted rows waits (up to [`WAIT_FACTOR`] windows of log time: a re-injected
/// copy prints only when it leaves the queue, which a deferral delays) for the copies its rows
/// name. A copy that prints first (flagged [`crate::model::Flags::relayed`]) is held for a window
/// until its mail shows up. Every other entry is a mail of its own and leaves at once.
pub struct Assembler {
    window: i64,
    wait: i64,
    /// Re-injected copies waiting for their received copy, by queue id.
    held: FxHashMap<Box<[u8]>, Held>,
    held_order: VecDeque<(i64, Box<[u8]>)>,
    /// Received copies waiting for their re-injected copies.
    waiting: FxHashMap<u64, Waiting>,
    waiting_order: VecDeque<(i64, u64)>,
    /// Relay queue id -> waiting slot.
    wanted: FxHashMap<Box<[u8]>, u64>,
    next_slot: u64,
    /// Log time of the newest entry.
    now: i64,
}

struct Held {
    entry: Entry,
    at: i64,
}

struct Waiting {
    main: Entry,
    relays: Vec<Entry>,
    missing: usize,
}

impl Assembler {
    /// An assembler that holds copies for `window` seconds of log time.
    pub fn new(window: i64) -> Assembler {
        Assembler {
            window,
            wait: window.saturating_mul(WAIT_FACTOR),
            held: FxHashMap::default(),
            held_order: VecDeque::new(),
            waiting: FxHashMap::default(),
            waiting_order: VecDeque::new(),
            wanted: FxHashMap::default(),
            next_slot: 0,
            now: i64::MIN,
        }
    }

    /// Takes one printed entry; calls `emit` for every mail that is complete.
    pub fn push(&mut self, entry: Entry, emit: &mut dyn FnMut(Mail)) {
        self.now = self.now.max(entry.ctime);
        let relays = accepted_relays(&entry);
        if let EntryId::Queue(qid) = &entry.id {
            if let Some(slot) = self.wanted.remove(qid) {
                if let Some(w) = self.waiting.get_mut(&slot) {
                    w.relays.push(entry);
                    w.missing = w.missing.saturating_sub(1);
                    if w.missing == 0 {
                        self.complete(slot, emit);
                    }
                }
                self.expire(emit);
                return;
            }
            if relays.is_empty() && entry.flags.relayed {
                let qid = qid.clone();
                self.held_order.push_back((entry.ctime, qid.clone()));
                let old = self.held.insert(
                    qid,
                    Held {
                        at: entry.ctime,
                        entry,
                    },
                );
                if let Some(old) = old {
                    emit(Mail::join(old.entry, Vec::new()));
                }
                self.expire(emit);
                return;
            }
        }
        if relays.is_empty() {
            if !entry.rows.is_empty() {
                emit(Mail::join(entry, Vec::new()));
            }
            self.expire(emit);
            return;
        }
        let mut got = Vec::new();
        let mut missing = Vec::new();
        for r in relays {
            match self.held.remove(&r) {
                Some(h) => got.push(h.entry),
                None => missing.push(r),
            }
        }
        if missing.is_empty() {
            emit(Mail::join(entry, got));
        } else {
            let slot = self.next_slot;
            self.next_slot += 1;
            for r in &missing {
                self.wanted.insert(r.clone(), slot);
            }
            self.waiting_order.push_back((self.now, slot));
            self.waiting.insert(
                slot,
                Waiting {
                    main: entry,
                    relays: got,
                    missing: missing.len(),
                },
            );
        }
        self.expire(emit);
    }

    fn complete(&mut self, slot: u64, emit: &mut dyn FnMut(Mail)) {
        if let Some(w) = self.waiting.remove(&slot) {
            for r in accepted_relays(&w.main) {
                if self.wanted.get(&r) == Some(&slot) {
                    self.wanted.remove(&r);
                }
            }
            emit(Mail::join(w.main, w.relays));
        }
    }

    /// Emits what has waited or been held too long.
    fn expire(&mut self, emit: &mut dyn FnMut(Mail)) {
        let limit = self.now.saturating_sub(self.window);
        while let Some((at, _)) = self.held_order.front() {
            if *at >= limit {
                break;
            }
            if let Some((at, qid)) = self.held_order.pop_front() {
                if self.held.get(&qid).is_some_and(|h| h.at == at) {
                    if let Some(h) = self.held.remove(&qid) {
                        emit(Mail::join(h.entry, Vec::new()));
                    }
                }
            }
        }
        let limit = self.now.saturating_sub(self.wait);
        while let Some((at, _)) = self.waiting_order.front() {
            if *at >= limit {
                break;
            }
            if let Some((_, slot)) = self.waiting_order.pop_front() {
                self.complete(slot, emit);
            }
        }
    }

    /// Emits everything still held (end of input).
    pub fn finish(&mut self, emit: &mut dyn FnMut(Mail)) {
        while let Some((_, slot)) = self.waiting_order.pop_front() {
            self.complete(slot, emit);
        }
        let mut rest: Vec<Held> = self.held.drain().map(|(_, h)| h).collect();
        rest.sort_by_key(|h| (h.entry.first_time, h.at));
        for h in rest {
            emit(Mail::join(h.entry, Vec::new()));
        }
        self.held_order.clear();
        self.wanted.clear();
    }
}

/// The distinct relay queue ids of an entry's accepted rows.
fn accepted_relays(e: &Entry) -> Vec<Box<[u8]>> {
    let mut out: Vec<Box<[u8]>> = Vec::new();
    if !matches!(e.id, EntryId::Queue(_)) {
        return out;
    }
    for r in &e.rows {
        if r.status.passes_on() {
            if let Some(relay) = &r.relay {
                if !relay.is_empty()
                    && !out.contains(relay)
                    && !matches!(e.id, EntryId::Queue(ref q) if q == relay)
                {
                    out.push(relay.clone());
                }
            }
        }
    }
    out
}
