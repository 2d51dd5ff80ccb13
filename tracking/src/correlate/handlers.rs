//! One handler per daemon: which lines each reads and how they link entries.
//!
//! Each handler starts with the line forms it accepts. Lines of a known daemon that match none of
//! them are still attached to their entry (so they show in the entry's log) when they carry its id.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use super::entries::{
    Filtered, FilteredRef, Queued, QueuedRef, Rejected, Session, SessionRef, ToRow,
};
use super::key::IdKey;
use super::Correlator;
use crate::model::{DStatus, LogLine};
use crate::qid::{filter_id, filter_id_prefix, postfix_qid, postfix_qid_prefix};
use crate::syslog::Dialect;

/// The greylisting reply that marks a reject as `G` (PMG's policy daemon, pmgfast's milter).
pub const GREYLIST_TEXT: &[u8] = b"Recipient address rejected: Service is unavailable (try later)";

/// The bytes of `data` up to (not including) `stop`, and the rest starting at `stop`.
pub(crate) fn until(data: &[u8], stop: u8) -> (&[u8], &[u8]) {
    let n = memchr::memchr(stop, data).unwrap_or(data.len());
    data.split_at(n)
}

/// The bytes of `data` up to the first ASCII white space.
fn until_space(data: &[u8]) -> &[u8] {
    let n = data
        .iter()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(data.len());
    &data[..n]
}

/// `find!(data, b"needle")`: the position of the needle in `data`, with the needle's searcher
/// built once (building one costs more than searching a log line).
macro_rules! find {
    ($data:expr, $needle:expr) => {{
        static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new($needle));
        FINDER.find($data)
    }};
}

impl Correlator {
    fn session(&mut self) -> SessionRef {
        let pid = self.cur.pid;
        if let Some(s) = self.sessions.get(&pid) {
            return Rc::clone(s);
        }
        let seq = self.next_seq();
        let s = Rc::new(RefCell::new(Session {
            time: self.cur.time,
            rel: self.rel,
            seq,
            first_line: self.cur.lineno,
            ..Session::default()
        }));
        self.sessions.insert(pid, Rc::clone(&s));
        s
    }

    pub(super) fn queue_entry(&mut self, qid: &[u8]) -> QueuedRef {
        if let Some(q) = self.queued.get(qid) {
            return Rc::clone(q);
        }
        let seq = self.next_seq();
        let head = self.flushed.get(qid);
        let continued = head.is_some();
        let (bq_filtered, from) =
            head.map_or((false, Box::default()), |h| (h.bq_filtered, h.from.clone()));
        let q = Rc::new(RefCell::new(Queued {
            qid: qid.into(),
            continued,
            bq_filtered,
            from,
            first_time: self.cur.time,
            seq,
            first_line: self.cur.lineno,
            ..Queued::default()
        }));
        if let Some(k) = IdKey::new(qid) {
            self.queued.insert(k, Rc::clone(&q));
        }
        q
    }

    fn filter_run(&mut self, id: &[u8]) -> FilteredRef {
        if let Some(f) = self.filtered.get(id) {
            return Rc::clone(f);
        }
        let f = Rc::new(RefCell::new(Filtered {
            id: id.into(),
            first_time: self.cur.time,
            first_line: self.cur.lineno,
            ..Filtered::default()
        }));
        if let Some(k) = IdKey::new(id) {
            self.filtered.insert(k, Rc::clone(&f));
        }
        f
    }

    /// pmg-smtp-filter and pmgfast's milter, all lines start with the filter id:
    /// `accept mail to <to> (<qid>)`, `moved mail for <to> to … quarantine - <id>`,
    /// `block mail to <to>`, `processing time: <t> …` (the run is finished), and pmgfast's
    /// `queue=<qid> client=… from=<…> size=N` (the run belongs to that Postfix queue entry).
    pub(super) fn on_filter(&mut self, msg: &[u8], line: &[u8]) {
        let Some((id, data)) = filter_id_prefix(msg) else {
            return;
        };
        let fe = self.filter_run(id);
        let time = self.cur.time;
        {
            let mut f = fe.borrow_mut();
            if self.cur.hit {
                f.text_match = true;
            }
            if self.cfg.keep_lines {
                f.lines.push(line, self.cur.lineno, self.cur.time);
            }
        }
        if let Some(data) = data.strip_prefix(b"accept mail to <") {
            let (to, rest) = until(data, b'>');
            let Some(rest) = rest.strip_prefix(b"> (") else {
                return;
            };
            let (qid, _) = until(rest, b')');
            fe.borrow_mut().add_row(to, qid, DStatus::Accept, time);
            // pmgfast's milter accepting onto the mail's own queue entry names no copy
            let own = fe.borrow().milter
                && fe
                    .borrow()
                    .queued()
                    .is_some_and(|q| &q.borrow().qid[..] == qid);
            if let (false, Some(k)) = (own, IdKey::new(qid)) {
                self.accept_targets.insert(k, Rc::downgrade(&fe));
            }
            // pmgfast's milter names its own queue entry, or a re-injected copy of part of the
            // mail; neither takes the run away from the entry its `queue=` line named.
            let milter = fe.borrow().milter;
            if let Some(qe) = self.queued.get(qid).cloned().filter(|_| !milter) {
                if !qe.borrow().filtered {
                    let mut q = qe.borrow_mut();
                    q.bq_filtered = true;
                    q.filter = Some(Rc::clone(&fe));
                    fe.borrow_mut().queued = Some(Rc::downgrade(&qe));
                }
            }
        } else if let Some(data) = data.strip_prefix(b"moved mail for <") {
            let (to, rest) = until(data, b'>');
            let Some(i) = find!(rest, b"quarantine - ") else {
                return;
            };
            let Some((qid, _)) = filter_id(&rest[i + 13..]) else {
                return;
            };
            fe.borrow_mut().add_row(to, qid, DStatus::Quarantine, time);
        } else if let Some(data) = data.strip_prefix(b"block mail to <") {
            let (to, _) = until(data, b'>');
            fe.borrow_mut().add_row(to, b"none", DStatus::Block, time);
        } else if data.starts_with(b"processing time: ") {
            fe.borrow_mut().finished = true;
        } else if let Some(data) = data.strip_prefix(b"queue=") {
            let Some((qid, rest)) = postfix_qid(data) else {
                return;
            };
            let qe = self.queue_entry(qid);
            let mut q = qe.borrow_mut();
            q.milter = true;
            q.bq_filtered = true;
            q.filter = Some(Rc::clone(&fe));
            if let Some(i) = find!(rest, b" from=<") {
                let (from, rest) = until(&rest[i + 7..], b'>');
                if q.from.is_empty() {
                    q.from = from.into();
                }
                if let Some(size) = rest.strip_prefix(b"> size=") {
                    let digits = size.iter().take_while(|b| b.is_ascii_digit()).count();
                    if let Ok(n) = std::str::from_utf8(&size[..digits]).unwrap_or("").parse() {
                        if q.size == 0 {
                            q.size = n;
                        }
                    }
                }
            }
            let mut f = fe.borrow_mut();
            f.bq = true;
            f.milter = true;
            f.queued = Some(Rc::downgrade(&qe));
        }
    }

    /// postscreen: only `NOQUEUE: reject: RCPT from …; client [<ip>] …; from=<…>, to=<…>`,
    /// a mail rejected before smtpd saw it; it is printed at once.
    pub(super) fn on_postscreen(&mut self, msg: &[u8], line: &[u8]) {
        let Some(data) = msg.strip_prefix(b"NOQUEUE: reject: RCPT from ") else {
            return;
        };
        let Some(i) = find!(data, b"; client [") else {
            return;
        };
        let (client, data) = until(&data[i + 10..], b']');
        let Some(i) = find!(data, b"; from=<") else {
            return;
        };
        let (from, data) = until(&data[i + 8..], b'>');
        let Some(data) = data.strip_prefix(b">, to=<") else {
            return;
        };
        let (to, _) = until(data, b'>');
        let se = self.session();
        {
            let mut s = se.borrow_mut();
            if self.cur.hit {
                s.text_match = true;
            }
            if self.cfg.keep_lines {
                s.lines.push(line, self.cur.lineno, self.cur.time);
            }
            s.rejected.push(Rejected {
                from: from.into(),
                to: to.into(),
                status: DStatus::Noqueue,
                time: self.cur.time,
            });
            s.set_client(client);
            s.disconnected = true;
        }
        self.print_session(&se);
        self.sessions.remove(&self.cur.pid);
    }

    /// qmgr: `<qid>: from=<…>, size=N, …` and `<qid>: removed` (the entry may now print).
    pub(super) fn on_qmgr(&mut self, msg: &[u8], line: &[u8]) {
        let Some((qid, data)) = postfix_qid_prefix(msg) else {
            return;
        };
        let qe = self.queue_entry(qid);
        {
            let mut q = qe.borrow_mut();
            if self.cur.hit {
                q.text_match = true;
            }
            q.cleanup = true;
            if self.cfg.keep_lines {
                q.lines.push(line, self.cur.lineno, self.cur.time);
            }
            if let Some(data) = data.strip_prefix(b"from=<") {
                let (from, data) = until(data, b'>');
                let Some(data) = data.strip_prefix(b">, size=") else {
                    return;
                };
                q.from = from.into();
                let digits = data.iter().take_while(|b| b.is_ascii_digit()).count();
                if let Some(size) = std::str::from_utf8(&data[..digits])
                    .ok()
                    .and_then(|s| s.parse().ok())
                {
                    q.size = size;
                }
                return;
            }
            if data != b"removed" {
                return;
            }
            q.removed = true;
        }
        self.finalize_queued(&qe);
    }

    /// lmtp, smtp, local, error (and pipe, virtual, … in pmgfast's dialect):
    /// `<qid>: to=<…>, relay=…, … dsn=X.Y.Z, status=…`; an lmtp `status=sent (250 2.5.0 OK
    /// (<fid>))` or `(250 2.7.0 BLOCKED (<fid>))` links the entry to the filter run that got it.
    /// `Trusted`/`Untrusted TLS connection established to …` lines are kept by process id and
    /// attached to the next entry that process delivers.
    pub(super) fn on_delivery(&mut self, msg: &[u8], line: &[u8]) {
        if msg.starts_with(b"Trusted TLS connection established to")
            || msg.starts_with(b"Untrusted TLS connection established to")
        {
            let text: Box<[u8]> = if self.keep() {
                line.into()
            } else {
                Box::default()
            };
            self.tls_by_pid.insert(
                self.cur.pid,
                (
                    LogLine {
                        lineno: self.cur.lineno,
                        time: self.cur.time,
                        text,
                    },
                    self.cur.time,
                ),
            );
            return;
        }
        let Some((qid, data)) = postfix_qid_prefix(msg) else {
            return;
        };
        let qe = self.queue_entry(qid);
        {
            let mut q = qe.borrow_mut();
            if self.cur.hit {
                q.text_match = true;
            }
            q.cleanup = true;
            if self.cfg.keep_lines {
                q.lines.push(line, self.cur.lineno, self.cur.time);
            }
        }
        if let Some((tls, _)) = self
            .tls_by_pid
            .remove(&self.cur.pid)
            .filter(|_| self.keep())
        {
            if self.cfg.keep_lines {
                qe.borrow_mut().lines.push_line(&tls);
            }
        }
        let Some(data) = data.strip_prefix(b"to=<") else {
            return;
        };
        let (to, data) = until(data, b'>');
        let Some(i) = find!(data, b"relay=") else {
            return;
        };
        let (relay, data) = until(&data[i + 6..], b',');
        let Some(i) = find!(data, b"dsn=") else {
            return;
        };
        let data = &data[i + 4..];
        let Some(&class) = data.first().filter(|b| b.is_ascii_digit()) else {
            return;
        };
        let hop = if self.cfg.dialect == Dialect::Pmgfast && class == b'2' && is_loopback(relay) {
            queued_as(data)
        } else {
            None
        };
        let (status, relay) = match hop {
            Some(next) => {
                if let Some(k) = IdKey::new(next) {
                    self.accept_targets.insert(k, Weak::new());
                }
                (DStatus::Hop, next)
            }
            None => (DStatus::Dsn(class - b'0'), relay),
        };
        qe.borrow_mut().rows.push(ToRow {
            to: to.into(),
            relay: relay.into(),
            status,
            time: self.cur.time,
        });
        if !self.cur.lmtp {
            return;
        }
        let Some(i) = find!(data, b"status=sent (250 2.") else {
            return;
        };
        let data = &data[i + 19..];
        let data = if data.starts_with(b"5.0 OK") {
            data.get(8..)
        } else if data.starts_with(b"7.0 BLOCKED") {
            data.get(13..)
        } else {
            None
        };
        let Some((fid, _)) = data.and_then(filter_id) else {
            return;
        };
        qe.borrow_mut().filtered = true;
        let Some(fe) = self.filtered.get(fid).cloned() else {
            return;
        };
        qe.borrow_mut().filter = Some(Rc::clone(&fe));
        let linked = fe.borrow().queued();
        if let Some(other) = linked {
            if !Rc::ptr_eq(&other, &qe) {
                {
                    let mut o = other.borrow_mut();
                    o.filtered = false;
                    o.bq_filtered = false;
                    o.filter = None;
                }
                fe.borrow_mut().queued = Some(Rc::downgrade(&qe));
            }
        }
    }

    /// smtpd: `connect from <client>`, `disconnect from …` (the session may now print),
    /// `NOQUEUE: … ; from=<…> to=<…>` (a rejected or greylisted recipient), before-queue
    /// `proxy-accept: END-OF-MESSAGE: 250 2.5.0 OK (<fid>) …` and `proxy-reject: END-OF-MESSAGE:
    /// … (<fid>) …`, and `<qid>: client=<client>` (the session queued that entry).
    pub(super) fn on_smtpd(&mut self, msg: &[u8], line: &[u8]) {
        let se = self.session();
        {
            let mut s = se.borrow_mut();
            if self.cur.hit {
                s.text_match = true;
            }
            if self.cfg.keep_lines {
                s.lines.push(line, self.cur.lineno, self.cur.time);
            }
        }
        if let Some(client) = msg.strip_prefix(b"connect from ") {
            se.borrow_mut().set_client(client);
            return;
        }
        if msg.starts_with(b"disconnect from") {
            self.on_disconnect(&se);
            return;
        }
        if let Some(data) = msg.strip_prefix(b"NOQUEUE:") {
            let lenient = self.cfg.dialect == Dialect::Pmgfast;
            if let Some(rejected) = read_reject(data, lenient) {
                se.borrow_mut().rejected.push(Rejected {
                    time: self.cur.time,
                    ..rejected
                });
            }
            return;
        }
        if let Some(data) = msg.strip_prefix(b"proxy-accept: ") {
            self.on_proxy_accept(&se, data);
            return;
        }
        if let Some(data) = msg.strip_prefix(b"proxy-reject: ") {
            self.on_proxy_reject(&se, data);
            return;
        }
        let Some((qid, data)) = postfix_qid_prefix(msg) else {
            return;
        };
        let qe = self.queue_entry(qid);
        if self.cur.hit {
            qe.borrow_mut().text_match = true;
        }
        self.add_ref(&se, &qe, false);
        if let Some(data) = data.strip_prefix(b"client=") {
            qe.borrow_mut().set_client(until_space(data));
            if self.cfg.dialect == Dialect::Pmgfast && find!(data, b", orig_queue_id=").is_some() {
                // XFORWARD IDENT: a copy re-injected by a content filter; its mail may print
                // after it, so it is held for that mail (see the hops in on_delivery)
                if let Some(k) = IdKey::new(qid) {
                    self.accept_targets.insert(k, Weak::new());
                }
            }
            return;
        }
        if self.cfg.dialect == Dialect::Pmgfast
            && (data.starts_with(b"reject: ") || data.starts_with(b"milter-reject: "))
        {
            // A recipient rejected after the queue file was opened (pmgfast's dialect).
            if let Some(rejected) = read_reject(data, true) {
                se.borrow_mut().rejected.push(Rejected {
                    time: self.cur.time,
                    ..rejected
                });
            }
        }
    }

    fn on_disconnect(&mut self, se: &SessionRef) {
        self.sessions.remove(&self.cur.pid);
        se.borrow_mut().disconnected = true;
        if self.drop_unqueued(se) == 0 {
            self.print_session(se);
            let filter = se.borrow().filter();
            if let Some(f) = filter {
                let id = f.borrow().id.clone();
                self.filtered.remove(&id[..]);
            }
            // pmg-log-tracker frees the session under its (never set) pid field, i.e. 0.
            self.sessions.remove(&0);
        } else {
            if self.cfg.dialect == Dialect::Pmgfast && !se.borrow().rejected.is_empty() {
                // Recipients rejected in a session that also queued mail (pmgfast's dialect).
                self.print_session(se);
            }
            self.finalize_session(se);
        }
    }

    fn on_proxy_accept(&mut self, se: &SessionRef, data: &[u8]) {
        let Some(data) = data.strip_prefix(b"END-OF-MESSAGE: ") else {
            return;
        };
        let Some(data) = data.strip_prefix(b"250 2.5.0 OK (") else {
            return;
        };
        let Some((fid, data)) = filter_id(data) else {
            return;
        };
        let fe = self.filter_run(fid);
        fe.borrow_mut().bq = true;
        let accepted = fe.borrow().accepted;
        if !accepted {
            let mut s = se.borrow_mut();
            s.filter = Some(Rc::downgrade(&fe));
            if let Some(i) = find!(data, b"from=<") {
                s.bq_from = until(&data[i + 6..], b'>').0.into();
            }
        } else {
            let linked = fe.borrow().queued();
            if let Some(qe) = linked {
                qe.borrow_mut().bq_session = Some(Rc::clone(se));
                self.add_ref(se, &qe, true);
            }
        }
        se.borrow_mut().bq_accepted = true;
    }

    fn on_proxy_reject(&mut self, se: &SessionRef, data: &[u8]) {
        let Some(data) = data.strip_prefix(b"END-OF-MESSAGE: ") else {
            return;
        };
        se.borrow_mut().bq_rejected = true;
        if let Some(i) = memchr::memchr(b'(', data) {
            let data = &data[i + 1..];
            if let Some((fid, _)) = filter_id(data) {
                let fe = self.filter_run(fid);
                fe.borrow_mut().bq = true;
                let mut s = se.borrow_mut();
                s.filter = Some(Rc::downgrade(&fe));
                if let Some(i) = find!(data, b"from=<") {
                    s.bq_from = until(&data[i + 6..], b'>').0.into();
                }
            }
        } else if let Some(i) = find!(data, b"from=<") {
            let data = &data[i + 6..];
            let (from, _) = until(data, b'>');
            let mut s = se.borrow_mut();
            s.bq_from = from.into();
            if let Some(j) = find!(data, b"to=<") {
                let (to, _) = until(&data[j + 4..], b'>');
                s.rejected.push(Rejected {
                    from: from.into(),
                    to: to.into(),
                    status: DStatus::Noqueue,
                    time: self.cur.time,
                });
            }
        }
    }

    /// bounce (pmgfast's dialect): `<qid>: sender non-delivery notification: <ndr qid>` and the
    /// like join the log of the queue entry they report on (the NDR is a mail of its own).
    pub(super) fn on_bounce(&mut self, msg: &[u8], line: &[u8]) {
        let Some((qid, _)) = postfix_qid_prefix(msg) else {
            return;
        };
        let Some(qe) = self.queued.get(qid).cloned() else {
            return;
        };
        let mut q = qe.borrow_mut();
        if self.cur.hit {
            q.text_match = true;
        }
        if self.cfg.keep_lines {
            q.lines.push(line, self.cur.lineno, self.cur.time);
        }
    }

    /// cleanup: `<qid>: message-id=<…>`; two queue entries with the same Message-ID are the two
    /// legs of an after-queue filtered mail. pmgfast adds `<qid>: milter-reject: END-OF-MESSAGE
    /// …` and `<qid>: milter-discard: …` for mail its milter rejected or discarded whole.
    pub(super) fn on_cleanup(&mut self, msg: &[u8], line: &[u8]) {
        let Some((qid, data)) = postfix_qid_prefix(msg) else {
            return;
        };
        let qe = self.queue_entry(qid);
        {
            let mut q = qe.borrow_mut();
            if self.cur.hit {
                q.text_match = true;
            }
            if self.cfg.keep_lines {
                q.lines.push(line, self.cur.lineno, self.cur.time);
            }
        }
        let Some(data) = data.strip_prefix(b"message-id=") else {
            if data.starts_with(b"milter-reject: END-OF-MESSAGE ")
                || data.starts_with(b"milter-discard: END-OF-MESSAGE ")
            {
                self.on_milter_end(&qe, data);
            }
            return;
        };
        let msgid = until_space(data);
        if msgid.is_empty() {
            return;
        }
        if self.cfg.dialect == Dialect::Pmgfast {
            // pmgfast joins the legs of a mail by queue id, not Message-ID (which need not be
            // unique); pairing them only delays printing, so it is skipped.
            let mut q = qe.borrow_mut();
            if q.msgid.is_empty() {
                q.msgid = msgid.into();
            }
            q.cleanup = true;
            return;
        }
        {
            let mut q = qe.borrow_mut();
            if q.msgid.is_empty() {
                q.msgid = msgid.into();
            }
            q.cleanup = true;
        }
        match self.by_msgid.remove(msgid) {
            Some(weak) => {
                if let Some(other) = weak.upgrade() {
                    if Rc::ptr_eq(&other, &qe) {
                        self.by_msgid.insert(msgid.into(), weak);
                    } else {
                        qe.borrow_mut().twin = Some(weak);
                        other.borrow_mut().twin = Some(Rc::downgrade(&qe));
                    }
                }
            }
            None => {
                self.by_msgid.insert(msgid.into(), Rc::downgrade(&qe));
            }
        }
    }

    /// A whole mail rejected or discarded by a milter at the end of DATA: the queue entry will
    /// never reach qmgr, so it is complete now. Applies to mail linked to pmgfast's milter, and
    /// in pmgfast's dialect to any milter (the recipient is then shown as rejected).
    fn on_milter_end(&mut self, qe: &QueuedRef, data: &[u8]) {
        let linked = qe.borrow().milter;
        if !linked && self.cfg.dialect != Dialect::Pmgfast {
            return;
        }
        {
            let mut q = qe.borrow_mut();
            q.cleanup = true;
            if let Some(i) = find!(data, b"; from=<") {
                let (from, rest) = until(&data[i + 8..], b'>');
                if q.from.is_empty() {
                    q.from = from.into();
                }
                let to = find!(rest, b" to=<").map(|j| until(&rest[j + 5..], b'>').0);
                if let (false, Some(to)) = (linked, to) {
                    // No filter run says what happened: a reject is a reject, a discard a block.
                    let status = if data.starts_with(b"milter-reject") {
                        DStatus::Noqueue
                    } else {
                        DStatus::Block
                    };
                    q.rows.push(ToRow {
                        to: to.into(),
                        relay: b"none"[..].into(),
                        status,
                        time: self.cur.time,
                    });
                }
            }
            q.removed = true;
        }
        self.finalize_queued(qe);
    }

    /// Records that `se` started queue entry `qe` (`bq`: as the original session of a before-queue
    /// filtered mail, which does not own the entry).
    pub(super) fn add_ref(&mut self, se: &SessionRef, qe: &QueuedRef, bq: bool) {
        if !bq {
            let owner = qe.borrow().smtpd.clone();
            if let Some(owner) = owner {
                if !Rc::ptr_eq(&owner, se) {
                    self.stats.conflicts += 1;
                }
                return;
            }
        }
        let known = se
            .borrow()
            .queued
            .iter()
            .filter_map(Weak::upgrade)
            .any(|q| Rc::ptr_eq(&q, qe));
        if known {
            return;
        }
        se.borrow_mut().queued.push(Rc::downgrade(qe));
        if !bq {
            qe.borrow_mut().smtpd = Some(Rc::clone(se));
        }
    }
}

/// A relay on this host (`127.0.0.1[127.0.0.1]:10025`, `localhost[::1]:10025`, …).
fn is_loopback(relay: &[u8]) -> bool {
    let host = match memchr::memchr(b'[', relay) {
        Some(i) => &relay[i + 1..],
        None => relay,
    };
    host.starts_with(b"127.") || host.starts_with(b"::1]") || host.starts_with(b"ipv6:::1]")
}

/// The queue id in a delivery's `… status=sent (… queued as <qid>)`.
fn queued_as(data: &[u8]) -> Option<&[u8]> {
    let i = memchr::memmem::rfind(data, b"queued as ")?;
    postfix_qid(&data[i + 10..]).map(|(q, _)| q)
}

/// A reject line after `NOQUEUE:` (or `<qid>:`): `<kind>: <stage> from <client>: <reply>;
/// from=<…> to=<…> …`. The status is `G` when the reply is PMG's greylisting text.
/// pmg-log-tracker takes the reply up to its first `;`, so it misses replies that contain one
/// (Postfix's DNSBL rejects: `Service unavailable; Client host [ip] blocked using …`);
/// `lenient` (pmgfast's dialect) looks for the `; from=<` that follows instead.
fn read_reject(data: &[u8], lenient: bool) -> Option<Rejected> {
    let i = memchr::memchr(b':', data)?;
    let data = &data[i + 1..];
    let i = memchr::memchr(b':', data)?;
    let data = &data[i + 1..];
    let mut i = memchr::memchr(b';', data)?;
    if lenient && !data[i..].starts_with(b"; from=<") {
        i = find!(data, b"; from=<")?;
    }
    let (reply, data) = data.split_at(i);
    let status = if find!(reply, GREYLIST_TEXT).is_some() {
        DStatus::Greylist
    } else {
        DStatus::Noqueue
    };
    let data = data.strip_prefix(b"; from=<")?;
    let (from, data) = until(data, b'>');
    let data = data.strip_prefix(b"> to=<")?;
    let (to, _) = until(data, b'>');
    Some(Rejected {
        from: from.into(),
        to: to.into(),
        status,
        time: 0,
    })
}
