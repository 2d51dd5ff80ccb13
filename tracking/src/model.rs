//! The correlator's output: one [`Entry`] per smtpd session or Postfix queue entry, as
//! pmg-log-tracker prints them, with delivery rows and the raw log lines.

/// The status of one recipient row (pmg-log-tracker's letters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DStatus {
    /// No status (a row filtered out); never printed.
    #[default]
    Invalid,
    /// `A`: accepted by the filter and re-injected.
    Accept,
    /// `Q`: moved to a quarantine.
    Quarantine,
    /// `B`: blocked by the filter.
    Block,
    /// `G`: greylisted (temporary reject).
    Greylist,
    /// `N`: rejected before queueing.
    Noqueue,
    /// `P`/`D`/`R`: before-queue filtered and then delivered / deferred / bounced.
    BqPass,
    BqDefer,
    BqReject,
    /// `2`/`4`/`5`: the class of the delivery DSN.
    Dsn(u8),
    /// pmgfast's dialect: delivered to the same host's loopback smtpd, which queued it anew
    /// (an after-queue content filter such as pmgfast's or amavis); the relay is the new
    /// queue id. Printed as `2`.
    Hop,
}

impl DStatus {
    /// Whether the row hands the mail on to another queue entry of this log (its relay).
    pub fn passes_on(self) -> bool {
        matches!(self, DStatus::Accept | DStatus::Hop)
    }

    /// The letter pmg-log-tracker prints (`\0` for [`DStatus::Invalid`]).
    pub fn letter(self) -> char {
        match self {
            DStatus::Invalid => '\0',
            DStatus::Accept => 'A',
            DStatus::Quarantine => 'Q',
            DStatus::Block => 'B',
            DStatus::Greylist => 'G',
            DStatus::Noqueue => 'N',
            DStatus::BqPass => 'P',
            DStatus::BqDefer => 'D',
            DStatus::BqReject => 'R',
            DStatus::Dsn(d) => char::from(b'0' + d % 10),
            DStatus::Hop => '2',
        }
    }
}

/// One raw log line with its line number (lines counted from the start of the range) and
/// the time of its stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub lineno: u64,
    pub time: i64,
    pub text: Box<[u8]>,
}

/// One recipient row (`TO:` line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub time: i64,
    pub status: DStatus,
    pub from: Box<[u8]>,
    pub to: Box<[u8]>,
    /// The relay column of queue entries (`None` for smtpd entries).
    pub relay: Option<Box<[u8]>>,
}

/// Which kind of entry, and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryId {
    /// An smtpd session without a queue entry: its first line's time and relative line number.
    Smtpd { time: i64, rel: u64 },
    /// A Postfix queue entry.
    Queue(Box<[u8]>),
}

impl EntryId {
    /// The id as pmg-log-tracker writes it in `TO:` lines (`T%08XL%08X` or the queue id).
    pub fn text(&self) -> String {
        match self {
            EntryId::Smtpd { time, rel } => format!("T{time:08X}L{rel:08X}"),
            EntryId::Queue(qid) => String::from_utf8_lossy(qid).into_owned(),
        }
    }
}

/// A titled group of log lines (`SMTP:`, `FILTER: <id>`, `QMGR:`, or `LOGS:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub title: SectionKind,
    pub lines: Vec<LogLine>,
}

/// The title of a [`Section`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionKind {
    /// `LOGS:` (smtpd entries).
    Logs,
    /// `SMTP:` (the smtpd session lines of a queue entry).
    Smtp,
    /// `FILTER: <filter id>`.
    Filter(Box<[u8]>),
    /// `QMGR:` (cleanup, qmgr and delivery lines).
    Qmgr,
}

/// One printed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: EntryId,
    /// The time of the line being read when the entry was printed.
    pub ctime: i64,
    pub size: u64,
    /// The client (`host[ip]`) or empty, as pmg-log-tracker prints it.
    pub client: Box<[u8]>,
    /// The client that sent the mail to the gateway (differs from `client` for mail re-injected
    /// by a before-queue filter).
    pub origin: Box<[u8]>,
    /// The Message-ID (queue entries) or empty.
    pub msgid: Box<[u8]>,
    /// The filter id linked to this entry, or empty.
    pub filter_id: Box<[u8]>,
    /// Whether any line of the entry (or its session and filter) matched the text filter.
    pub text_match: bool,
    /// The rows in pmg-log-tracker's print order.
    pub rows: Vec<Row>,
    /// The log sections (filled only when lines are kept).
    pub sections: Vec<Section>,
    /// The time of the first line attached to the entry (`i64::MAX` when none).
    pub first_time: i64,
    /// How this entry relates to others (see [`Flags`]).
    pub flags: Flags,
}

/// Facts about an entry that decide which other entries it must be joined with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// A filter's `accept mail to … (<qid>)` named this queue entry as the re-injected copy of
    /// another one (after-queue filtering): it belongs to that mail.
    pub relayed: bool,
    /// Printed before it was complete (open too long); more of it may follow.
    pub incomplete: bool,
    /// The later part of a queue entry printed incomplete before, or a queue entry whose
    /// beginning (client, Message-ID, sender) was not seen.
    pub continued: bool,
    /// Filtered before the queue (its delivery rows are `P`/`D`/`R`).
    pub bq: bool,
}

impl Flags {
    pub fn bits(self) -> u8 {
        u8::from(self.relayed)
            | u8::from(self.incomplete) << 1
            | u8::from(self.continued) << 2
            | u8::from(self.bq) << 3
    }

    pub fn from_bits(b: u8) -> Flags {
        Flags {
            relayed: b & 1 != 0,
            incomplete: b & 2 != 0,
            continued: b & 4 != 0,
            bq: b & 8 != 0,
        }
    }
}

impl Entry {
    /// All log lines of the entry, in line-number order.
    pub fn lines(&self) -> Vec<&LogLine> {
        let mut all: Vec<&LogLine> = self.sections.iter().flat_map(|s| s.lines.iter()).collect();
        all.sort_by_key(|l| l.lineno);
        all.dedup_by_key(|l| l.lineno);
        all
    }
}
