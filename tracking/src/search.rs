//! pmgfast's search over log files (no index): the query, the files it needs, and the mails.
//!
//! The range is read with a margin on both sides, so that a mail that starts in the range is
//! seen whole and a mail that started before it is recognised as such; mails are reported when
//! their first line lies in the range. This is also what the index answers, so both agree.

use std::path::{Path, PathBuf};

use crate::correlate::{Config, Correlator, Prefilter, PrintFilter};
use crate::error::Error;
use crate::find::Finder;
use crate::mails::{Assembler, Mail, MailFilter};
use crate::scan::{scan, ScanOptions};
use crate::source::{first_line, rotated_path, Input, MAX_ROTATIONS};
use crate::syslog::Dialect;
use crate::time::{LocalRule, StampReader, Zone};

/// Seconds read before and after the range by default.
pub const DEFAULT_MARGIN: i64 = 600;

/// A search.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub filter: MailFilter,
    /// The search string (empty: none).
    pub text: Vec<u8>,
    /// At most this many result rows (recipients); 0: no limit.
    pub limit: usize,
    /// Return the log lines of each mail.
    pub keep_lines: bool,
    /// Seconds read before and after the range.
    pub margin: i64,
    /// "Now", for the year of traditional stamps.
    pub now: i64,
    /// Correlate every line, never only the regions around hits (for tests and benchmarks).
    pub full_scan: bool,
}

/// What a search returns.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Mails in time order.
    pub mails: Vec<Mail>,
    /// Rows were left out because of the limit.
    pub truncated: bool,
    /// Bytes of log read.
    pub bytes: u64,
}

/// Mails by time, then id (stable). A mail is large: the order is found on indices and each
/// mail moved once.
fn sorted(mails: Vec<Mail>) -> Vec<Mail> {
    fn key(m: &Mail) -> (i64, &str) {
        (m.time, m.id.as_str())
    }
    if mails.is_sorted_by(|a, b| key(a) <= key(b)) {
        return mails;
    }
    let mut order: Vec<(i64, &str, usize)> = mails
        .iter()
        .enumerate()
        .map(|(i, m)| (m.time, m.id.as_str(), i))
        .collect();
    order.sort_unstable(); // unique keys (the index breaks ties): the stable order
    let order: Vec<usize> = order.into_iter().map(|(_, _, i)| i).collect();
    let mut slots: Vec<Option<Mail>> = mails.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// The files of a rotated series that can hold lines in `[start, end]`, oldest first.
pub fn series_for_range(
    base: &Path,
    stamps: &mut StampReader,
    start: i64,
    end: i64,
) -> Vec<PathBuf> {
    let mut files: Vec<(PathBuf, Option<i64>)> = Vec::new();
    for index in 0..MAX_ROTATIONS {
        let Some(path) = rotated_path(base, index) else {
            break;
        };
        let first = first_line(&path).and_then(|l| stamps.read(&l, false).map(|(t, _)| t));
        files.push((path, first));
    }
    // files[i] covers [first_i, first_{i-1}); index 0 is the live file.
    let mut out = Vec::new();
    for i in (0..files.len()).rev() {
        let begins = files[i].1;
        let next_begins = if i == 0 { None } else { files[i - 1].1 };
        let starts_late = begins.is_some_and(|b| b > end);
        let ends_early = next_begins.is_some_and(|n| n < start);
        if !starts_late && !ends_early {
            out.push(files[i].0.clone());
        }
    }
    out
}

/// Reads `inputs` and returns the mails `q` asks for.
pub fn search(q: &Query, inputs: &[Input], zone: &Zone) -> Result<Found, Error> {
    let f = &q.filter;
    if f.end < f.start {
        return Err(Error::EndBeforeStart {
            start: f.start,
            end: f.end,
        });
    }
    let margin = q.margin.max(0);
    let cfg = Config {
        dialect: Dialect::Pmgfast,
        start: f.start.saturating_sub(margin),
        end: f.end.saturating_add(margin),
        keep_lines: q.keep_lines,
        filter: PrintFilter::default(),
        prefilter: Some(prefilter(q)),
    };
    let stamps = StampReader::new(q.now, zone, LocalRule::Zone(zone.clone()));
    let text = (!q.text.is_empty()).then(|| Finder::new(&q.text));
    let mut filter = f.clone();
    filter.text = text.is_some();
    let window = margin.max(60);
    if let Some(needles) = needles(q).filter(|_| !q.full_scan) {
        let sparse = crate::sparse::search(
            inputs,
            &cfg,
            &stamps,
            needles,
            text.as_ref(),
            &filter,
            window,
        )?;
        if let Some((mails, bytes)) = sparse {
            return Ok(finish(mails, q.limit, bytes));
        }
    }
    let mut cor = Correlator::new(cfg, stamps);
    let opts = ScanOptions {
        text,
        limit: 0,
        pmg_last_line: false,
        number_all_lines: true,
    };
    let mut mails = Vec::new();
    let mut asm = Assembler::new(window);
    let mut keep = |mut m: Mail| {
        if filter.keep(&mut m) {
            mails.push(m);
        }
    };
    scan(inputs, &mut cor, &opts, &mut |e| asm.push(e, &mut keep))?;
    asm.finish(&mut keep);
    let bytes = cor.stats().bytes;
    Ok(finish(mails, q.limit, bytes))
}

/// The strings one of which every wanted mail has in some line, most selective first; None
/// when the query has none (then every line must be correlated).
pub fn needles(q: &Query) -> Option<Vec<Vec<u8>>> {
    let f = &q.filter;
    if q.text.len() >= 3 {
        return Some(vec![q.text.clone()]);
    }
    if f.msgid.len() >= 3 {
        return Some(vec![f.msgid.clone()]);
    }
    if !f.ids.is_empty() {
        // session ids (`T…L…`) appear in no line
        let all_queue = f
            .ids
            .iter()
            .all(|i| !(i.first() == Some(&b'T') && i.contains(&b'L')));
        if all_queue && f.ids.iter().all(|i| i.len() >= 3) {
            return Some(f.ids.clone());
        }
    }
    for n in [&f.from, &f.to, &f.host] {
        if n.len() >= 3 {
            return Some(vec![n.clone()]);
        }
    }
    None
}

/// The print-time test matching `q` (see [`Prefilter`]).
pub fn prefilter(q: &Query) -> Prefilter {
    let f = &q.filter;
    let needle = |n: &[u8]| (!n.is_empty()).then(|| Finder::new(n));
    Prefilter {
        from: needle(&f.from),
        to: needle(&f.to),
        host: needle(&f.host),
        text: !q.text.is_empty(),
        start: f.start,
        end: f.end,
        keep: Default::default(),
    }
}

/// Sorts mails by time and applies the row limit.
pub fn finish(mails: Vec<Mail>, limit: usize, bytes: u64) -> Found {
    let mut mails = sorted(mails);
    let mut truncated = false;
    if limit > 0 {
        let mut rows = 0usize;
        let mut keep = 0usize;
        for m in &mails {
            if rows + m.recipients.len() > limit {
                truncated = true;
                break;
            }
            rows += m.recipients.len();
            keep += 1;
        }
        mails.truncate(keep);
    }
    Found {
        mails,
        truncated,
        bytes,
    }
}
