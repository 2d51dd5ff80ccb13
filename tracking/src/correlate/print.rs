//! When entries are complete, whether the query wants them, and what they print.
//!
//! A queue entry is complete when qmgr removed it, its session has disconnected and its filter
//! run (after-queue) has finished; a session without queue entries when it disconnects. The
//! filter checks run at print time and, as in pmg-log-tracker, the recipient filter trims the
//! rows of the entry and of its filter run for good.

use std::rc::{Rc, Weak};

use super::entries::{FilteredRef, QueuedRef, Session, SessionRef, ToRow};
use super::{Correlator, IdMatch, Prefilter};
use crate::find::naive_find;
use crate::model::{DStatus, Entry, EntryId, Flags, LogLine, Row, Section, SectionKind};

/// pmg-log-tracker's case-insensitive substring test (an empty haystack never matches).
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !hay.is_empty() && naive_find(hay, needle).is_some()
}

fn sorted(mut lines: Vec<LogLine>) -> Vec<LogLine> {
    lines.sort_by_key(|l| l.lineno);
    lines
}

impl Correlator {
    /// Prints a session (rejects, postscreen, before-queue blocked or quarantined mail).
    pub(super) fn print_session(&mut self, se: &SessionRef) {
        let f = self.cfg.filter.clone();
        if !f.msgid.is_empty() {
            return;
        }
        if !f.host.is_empty() && !contains(&se.borrow().client, &f.host) {
            return;
        }
        if !f.ids.is_empty() {
            let (time, rel) = {
                let s = se.borrow();
                (s.time, s.rel)
            };
            let mut found = false;
            for m in &f.ids {
                match m {
                    IdMatch::Queue(_) => return,
                    IdMatch::Smtpd { time: t, rel: r } => {
                        if *t == time && *r == rel {
                            found = true;
                            break;
                        }
                    }
                }
            }
            if !found {
                return;
            }
        }
        if !self.session_wanted(se) {
            return;
        }
        let s = se.borrow();
        let fe = s.filter();
        if let Some(p) = &self.cfg.prefilter {
            let fb = fe.as_ref().map(|f| f.borrow());
            let first = fb.as_ref().map_or(s.time, |f| s.time.min(f.first_time));
            let text = s.text_match || fb.as_ref().is_some_and(|f| f.text_match);
            let from = s
                .rejected
                .iter()
                .map(|r| &r.from[..])
                .chain([&s.bq_from[..]]);
            let to = s
                .rejected
                .iter()
                .map(|r| &r.to[..])
                .chain(fb.iter().flat_map(|f| f.rows.iter().map(|r| &r.to[..])));
            if !p.may_want(first, text, &[&s.client], from, to) {
                return;
            }
        }
        if f.text {
            let filter_match = fe.as_ref().is_some_and(|f| f.borrow().text_match);
            if !s.text_match && !filter_match {
                return;
            }
        }
        let mut rows = Vec::new();
        for r in s.rejected.iter().rev() {
            if r.status != DStatus::Invalid {
                rows.push(Row {
                    time: r.time,
                    status: r.status,
                    from: r.from.clone(),
                    to: r.to.clone(),
                    relay: None,
                });
            }
        }
        let mut first_time = s.time;
        let mut filter_id: Box<[u8]> = Box::default();
        let mut text_match = s.text_match;
        if let Some(fe) = &fe {
            let fb = fe.borrow();
            filter_id = fb.id.clone();
            text_match |= fb.text_match;
            first_time = first_time.min(fb.first_time);
            if fb.bq && !fb.accepted && (s.bq_accepted || s.bq_rejected) {
                for t in fb.rows.iter().rev() {
                    rows.push(Row {
                        time: t.time,
                        status: t.status,
                        from: s.bq_from.clone(),
                        to: t.to.clone(),
                        // not printed for sessions; the mail view shows the quarantine id
                        relay: Some(t.relay.clone()),
                    });
                }
            }
        }
        let mut sections = Vec::new();
        if self.keep() {
            let mut lines = s.lines.to_vec();
            if let Some(fe) = &fe {
                lines.extend(fe.borrow().lines.to_vec());
            }
            sections.push(Section {
                title: SectionKind::Logs,
                lines: sorted(lines),
            });
        }
        self.count += rows.len() as u64;
        self.out.push(Entry {
            id: EntryId::Smtpd {
                time: s.time,
                rel: s.rel,
            },
            ctime: self.ctime,
            size: 0,
            origin: s.client.clone(),
            client: s.client.clone(),
            msgid: Box::default(),
            filter_id,
            text_match,
            rows,
            sections,
            first_time,
            flags: Flags::default(),
        });
    }

    /// The sender, recipient, greylist and NDR filters of a session; they mark rejected rows
    /// invalid and trim the rows of a before-queue filter run.
    fn session_wanted(&mut self, se: &SessionRef) -> bool {
        let f = self.cfg.filter.clone();
        if f.from.is_empty() && f.to.is_empty() && !f.exclude_greylist && !f.exclude_ndr {
            return true;
        }
        let mut s = se.borrow_mut();
        let mut found = false;
        for r in s.rejected.iter_mut().rev() {
            let unwanted = (!f.from.is_empty() && !contains(&r.from, &f.from))
                || (f.exclude_greylist && r.status == DStatus::Greylist)
                || (f.exclude_ndr && r.from.is_empty())
                || (!f.to.is_empty() && !contains(&r.to, &f.to));
            if unwanted {
                r.status = DStatus::Invalid;
            }
            if r.status != DStatus::Invalid {
                found = true;
            }
        }
        // A session whose filter link was never set has nothing else to show; one whose filter
        // run is gone prints (without rows), as in pmg-log-tracker.
        if !found && s.filter.is_none() {
            return false;
        }
        let Some(fe) = s.filter() else {
            return true;
        };
        if !f.from.is_empty() && !contains(&s.bq_from, &f.from) {
            return false;
        }
        let (bq, accepted) = {
            let fb = fe.borrow();
            (fb.bq, fb.accepted)
        };
        if !f.to.is_empty() && bq && !accepted {
            fe.borrow_mut().rows.retain(|t| {
                let keep = contains(&t.to, &f.to);
                found |= keep;
                keep
            });
            if !found {
                return false;
            }
        }
        true
    }

    /// Prints a queue entry; `se` is the session it is printed with (its own, or the original
    /// session of a before-queue filtered mail).
    pub(super) fn print_queued(&mut self, qe: &QueuedRef, se: Option<&SessionRef>) {
        let f = self.cfg.filter.clone();
        let fe = qe.borrow().filter.clone();
        if !f.msgid.is_empty() {
            let q = qe.borrow();
            if q.msgid.is_empty() || !q.msgid.eq_ignore_ascii_case(&f.msgid) {
                return;
            }
        }
        if !f.ids.is_empty() {
            let q = qe.borrow();
            let found = f.ids.iter().any(|m| match m {
                IdMatch::Queue(id) => {
                    fe.as_ref().is_some_and(|f| f.borrow().id == *id) || q.qid == *id
                }
                IdMatch::Smtpd { time, rel } => se.is_some_and(|s| {
                    let s = s.borrow();
                    s.time == *time && s.rel == *rel
                }),
            });
            if !found {
                return;
            }
        }
        if !f.host.is_empty() {
            let session_match = se.is_some_and(|s| contains(&s.borrow().client, &f.host));
            if !session_match && !contains(&qe.borrow().client, &f.host) {
                return;
            }
        }
        {
            let q = qe.borrow();
            if !f.from.is_empty() {
                if !contains(&q.from, &f.from) {
                    return;
                }
            } else if f.exclude_ndr && q.from.is_empty() {
                return;
            }
        }
        if !f.to.is_empty() {
            let mut found = false;
            qe.borrow_mut().rows.retain(|t| {
                let keep = contains(&t.to, &f.to);
                found |= keep;
                keep
            });
            if let Some(fe) = &fe {
                fe.borrow_mut().rows.retain(|t| {
                    let keep = contains(&t.to, &f.to);
                    found |= keep;
                    keep
                });
            }
            if !found {
                return;
            }
        }
        if f.text {
            let m = qe.borrow().text_match
                || se.is_some_and(|s| s.borrow().text_match)
                || fe.as_ref().is_some_and(|f| f.borrow().text_match);
            if !m {
                return;
            }
        }
        let bq_session = qe.borrow().bq_session.clone();
        let is_bq_session = matches!((&bq_session, se), (Some(a), Some(b)) if Rc::ptr_eq(a, b));
        if is_bq_session && se.is_some_and(|s| !s.borrow().disconnected) {
            return;
        }

        if let Some(p) = &self.cfg.prefilter {
            if !self.queued_may_be_wanted(p, qe, se, fe.as_ref(), bq_session.as_ref()) {
                return;
            }
        }
        let mut q = qe.borrow_mut();
        if q.bq_filtered {
            for r in q.rows.iter_mut() {
                r.status = match r.status {
                    DStatus::Dsn(2) => DStatus::BqPass,
                    DStatus::Dsn(4) => DStatus::BqDefer,
                    DStatus::Dsn(5) => DStatus::BqReject,
                    other => other,
                };
            }
        }
        // The client that sent the mail to the gateway: for a before-queue filtered mail the
        // original session's, not the re-injecting localhost.
        let origin: Box<[u8]> = match &bq_session {
            Some(s) if !s.borrow().client.is_empty() => s.borrow().client.clone(),
            _ => Box::default(),
        };
        let client: Box<[u8]> = if !q.client.is_empty() {
            q.client.clone()
        } else if !is_bq_session {
            se.map(|s| s.borrow().client.clone()).unwrap_or_default()
        } else {
            q.smtpd
                .as_ref()
                .map(|s| s.borrow().client.clone())
                .unwrap_or_default()
        };

        let mut rows = Vec::new();
        let filter_done = fe.as_ref().is_some_and(|f| {
            let fb = f.borrow();
            fb.finished && fb.bq
        });
        for r in q.rows.iter().rev() {
            if r.to.is_empty() {
                continue;
            }
            let mut shown: ToRow = r.clone();
            if r.status == DStatus::Dsn(2) {
                if let Some(fe) = &fe {
                    if !q.bq_filtered || filter_done {
                        if let Some(r2) = fe.borrow().rows.iter().rev().find(|r2| r2.to == r.to) {
                            shown = r2.clone();
                        }
                    }
                }
            }
            rows.push(Row {
                time: r.time,
                status: shown.status,
                from: q.from.clone(),
                to: shown.to,
                relay: Some(if q.bq_filtered {
                    r.relay.clone()
                } else {
                    shown.relay
                }),
            });
        }
        if q.bq_filtered && filter_done {
            if let Some(fe) = &fe {
                let own: Vec<Box<[u8]>> = q.rows.iter().map(|r| r.to.clone()).collect();
                let mut fb = fe.borrow_mut();
                fb.rows.retain(|t| !own.contains(&t.to));
                for t in fb.rows.iter().rev() {
                    rows.push(Row {
                        time: t.time,
                        status: t.status,
                        from: q.from.clone(),
                        to: t.to.clone(),
                        relay: Some(t.relay.clone()),
                    });
                }
            }
        }

        let mut sections = Vec::new();
        if self.keep() {
            let smtp = if !is_bq_session {
                se.map(|s| {
                    let mut lines = s.borrow().lines.to_vec();
                    if let Some(bq) = &bq_session {
                        lines.extend(bq.borrow().lines.to_vec());
                    }
                    sorted(lines)
                })
            } else {
                q.smtpd.as_ref().map(|s| {
                    let mut lines = s.borrow().lines.to_vec();
                    if let Some(se) = se {
                        lines.extend(se.borrow().lines.to_vec());
                    }
                    sorted(lines)
                })
            };
            if let Some(lines) = smtp.filter(|l| !l.is_empty()) {
                sections.push(Section {
                    title: SectionKind::Smtp,
                    lines,
                });
            }
            if let Some(fe) = &fe {
                let fb = fe.borrow();
                if (!q.bq_filtered || (fb.finished && fb.bq)) && !fb.lines.is_empty() {
                    sections.push(Section {
                        title: SectionKind::Filter(fb.id.clone()),
                        lines: fb.lines.to_vec(),
                    });
                }
            }
            if !q.lines.is_empty() {
                sections.push(Section {
                    title: SectionKind::Qmgr,
                    lines: sorted(q.lines.to_vec()),
                });
            }
        }

        let mut first_time = q.first_time;
        for s in [se, bq_session.as_ref(), q.smtpd.as_ref()]
            .into_iter()
            .flatten()
        {
            first_time = first_time.min(s.borrow().time);
        }
        let mut text_match = q.text_match || se.is_some_and(|s| s.borrow().text_match);
        let mut filter_id: Box<[u8]> = Box::default();
        if let Some(fe) = &fe {
            let fb = fe.borrow();
            first_time = first_time.min(fb.first_time);
            text_match |= fb.text_match;
            filter_id = fb.id.clone();
        }
        // Named as the re-injected copy by a filter run? Not when that run is this entry's own
        // before-queue run (proxy or milter: the entry is the whole mail); an after-queue copy
        // is printed without its run, or with it if the copy left the queue before the received
        // copy's LMTP reply was logged.
        let relayed = match self.accept_targets.remove(&q.qid[..]) {
            None => false,
            Some(target) => match &fe {
                Some(own) if Weak::ptr_eq(&target, &Rc::downgrade(own)) => {
                    !(own.borrow().bq || q.milter)
                }
                _ => true,
            },
        };
        let headless = q.client.is_empty() && q.msgid.is_empty() && q.from.is_empty();
        let flags = Flags {
            relayed,
            incomplete: false,
            continued: q.continued || headless,
            bq: q.bq_filtered,
        };
        self.count += rows.len() as u64;
        self.out.push(Entry {
            flags,
            id: EntryId::Queue(q.qid.clone()),
            ctime: self.ctime,
            size: q.size,
            origin: if origin.is_empty() {
                client.clone()
            } else {
                origin
            },
            client,
            msgid: q.msgid.clone(),
            filter_id,
            text_match,
            rows,
            sections,
            first_time,
        });
    }

    /// The prefilter for a queue entry: an entry joined with others (accepted onto another
    /// queue id, or named as such a copy) is always printed; the mail filter decides.
    fn queued_may_be_wanted(
        &self,
        p: &Prefilter,
        qe: &QueuedRef,
        se: Option<&SessionRef>,
        fe: Option<&FilteredRef>,
        bq: Option<&SessionRef>,
    ) -> bool {
        let q = qe.borrow();
        if p.keep.contains(&q.qid) {
            return true;
        }
        let fb = fe.map(|f| f.borrow());
        let named = self
            .accept_targets
            .get(&q.qid[..])
            .is_some_and(|target| match fe {
                Some(own) if Weak::ptr_eq(target, &Rc::downgrade(own)) => {
                    !(own.borrow().bq || q.milter)
                }
                _ => true,
            });
        let joined = named
            || fb.as_ref().is_some_and(|f| {
                f.rows
                    .iter()
                    .any(|r| r.status == DStatus::Accept && !r.relay.is_empty() && r.relay != q.qid)
            })
            || q.rows.iter().any(|r| r.status == DStatus::Hop);
        if joined {
            return true;
        }
        let sessions: Vec<std::cell::Ref<'_, Session>> = [se, bq, q.smtpd.as_ref()]
            .into_iter()
            .flatten()
            .map(|s| s.borrow())
            .collect();
        let mut first = q.first_time;
        let mut text = q.text_match;
        let mut clients: Vec<&[u8]> = vec![&q.client];
        for s in &sessions {
            first = first.min(s.time);
            text |= s.text_match;
            clients.push(&s.client);
        }
        if let Some(f) = &fb {
            first = first.min(f.first_time);
            text |= f.text_match;
        }
        let to = q
            .rows
            .iter()
            .map(|r| &r.to[..])
            .chain(fb.iter().flat_map(|f| f.rows.iter().map(|r| &r.to[..])));
        p.may_want(first, text, &clients, std::iter::once(&q.from[..]), to)
    }

    /// A removed queue entry prints when its session, its before-queue session, its twin and
    /// (after-queue) its filter run are done.
    pub(super) fn finalize_queued(&mut self, qe: &QueuedRef) {
        {
            let q = qe.borrow();
            if !q.removed {
                return;
            }
            if q.smtpd.as_ref().is_some_and(|s| !s.borrow().disconnected) {
                return;
            }
            if q.bq_filtered
                && q.bq_session
                    .as_ref()
                    .is_some_and(|s| !s.borrow().disconnected)
            {
                return;
            }
        }
        let twin = qe.borrow().twin.as_ref().and_then(Weak::upgrade);
        if let Some(twin) = twin {
            if !twin.borrow().removed {
                return;
            }
            twin.borrow_mut().twin = None;
            self.finalize_queued(&twin);
        }
        let (filter, smtpd, bq_filtered, qid) = {
            let q = qe.borrow();
            (
                q.filter.clone(),
                q.smtpd.clone(),
                q.bq_filtered,
                q.qid.clone(),
            )
        };
        if let Some(fe) = &filter {
            if !bq_filtered && !fe.borrow().finished {
                return;
            }
        }
        self.print_queued(qe, smtpd.as_ref());
        self.free_queued(&qid, smtpd.as_ref());
        // pmg-log-tracker forgets an after-queue filter run here; a before-queue run is
        // forgotten with its session, except pmgfast's milter run, which belongs to this entry
        // alone (and would otherwise stay in memory for good).
        let milter = qe.borrow().milter;
        if let (Some(fe), true) = (&filter, !bq_filtered || milter) {
            let id = fe.borrow().id.clone();
            self.filtered.remove(&id[..]);
        }
    }

    /// At disconnect: forgets queue ids the session named that never became queue entries;
    /// returns how many real ones remain.
    pub(super) fn drop_unqueued(&mut self, se: &SessionRef) -> usize {
        let mut count = 0;
        let mut unqueued = Vec::new();
        se.borrow_mut().queued.retain(|w| match w.upgrade() {
            None => false,
            Some(q) => {
                if q.borrow().cleanup {
                    count += 1;
                    true
                } else {
                    unqueued.push(q);
                    false
                }
            }
        });
        for q in unqueued.iter().rev() {
            let qid = q.borrow().qid.clone();
            self.free_queued(&qid, Some(se));
        }
        count
    }

    /// At disconnect: prints the session's queue entries that are complete.
    pub(super) fn finalize_session(&mut self, se: &SessionRef) {
        let refs: Vec<QueuedRef> = se
            .borrow()
            .queued
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        let bq_accepted = se.borrow().bq_accepted;
        let mut ready = Vec::new();
        for q in refs {
            {
                let qb = q.borrow();
                if !qb.removed {
                    continue;
                }
                if let Some(f) = &qb.filter {
                    if !qb.bq_filtered && !f.borrow().finished {
                        continue;
                    }
                }
            }
            let bq_session = q.borrow().bq_session.clone();
            if !bq_accepted {
                if let Some(s) = bq_session {
                    if !s.borrow().disconnected {
                        self.add_ref(&s, &q, true);
                        continue;
                    }
                }
            }
            ready.push(q);
        }
        for q in ready.iter().rev() {
            self.print_queued(q, Some(se));
            let qid = q.borrow().qid.clone();
            self.free_queued(&qid, Some(se));
            let filter = q.borrow().filter.clone();
            if let Some(f) = filter {
                let id = f.borrow().id.clone();
                self.filtered.remove(&id[..]);
            }
        }
    }

    /// Forgets the queue entry `qid` (and the session's link to it).
    fn free_queued(&mut self, qid: &[u8], se: Option<&SessionRef>) {
        if let (Some(q), Some(s)) = (self.queued.get(qid).cloned(), se) {
            s.borrow_mut()
                .queued
                .retain(|w| w.upgrade().is_some_and(|x| !Rc::ptr_eq(&x, &q)));
        }
        self.queued.remove(qid);
    }
}
