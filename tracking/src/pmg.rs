//! pmg-log-tracker, re-implemented: the query, the file choice and the text output.
//!
//! [`run`] takes a parsed command line (the Python entry point parses pmg-log-tracker's flags)
//! and returns the body of the output: the entries and, if the limit stopped the search, the
//! `STATUS:` line. The `#` header is printed by the caller.

use std::path::PathBuf;

use crate::correlate::{Config, Correlator, PrintFilter};
use crate::error::Error;
use crate::find::Finder;
use crate::pmgfmt::{write_entry, LIMIT_STATUS};
use crate::scan::{scan, Outcome, ScanOptions};
use crate::source::{series, Input};
use crate::syslog::Dialect;
use crate::time::{LocalRule, StampReader, Zone};

/// Where pmg-log-tracker reads from.
#[derive(Debug, Clone)]
pub enum Inputs {
    /// `-i FILE` (a missing file yields no entries, as in the original).
    File(PathBuf),
    /// `-i -`.
    Stdin,
    /// `--input-base BASE` (default `/var/log/syslog`).
    Series(PathBuf),
    /// Text in memory.
    Bytes(std::sync::Arc<Vec<u8>>),
}

/// A pmg-log-tracker query.
#[derive(Debug, Clone)]
pub struct Query {
    pub start: i64,
    pub end: i64,
    /// The offset (seconds east of UTC) applied to every traditional stamp: the start time's.
    pub offset: i64,
    /// "Now": the year of traditional stamps comes from it.
    pub now: i64,
    pub filter: PrintFilter,
    /// `-x` (empty: none).
    pub text: Vec<u8>,
    pub limit: u64,
    pub verbose: u8,
    pub inputs: Inputs,
}

/// Runs the query; returns the output after the `#` header.
pub fn run(q: &Query, zone: &Zone) -> Result<Vec<u8>, Error> {
    if q.end < q.start {
        return Err(Error::EndBeforeStart {
            start: q.start,
            end: q.end,
        });
    }
    let mut filter = q.filter.clone();
    filter.text = !q.text.is_empty();
    let cfg = Config {
        dialect: Dialect::Pmg,
        start: q.start,
        end: q.end,
        keep_lines: q.verbose > 1,
        filter,
        prefilter: None,
    };
    let stamps = StampReader::new(q.now, zone, LocalRule::Fixed(q.offset));
    let inputs = match &q.inputs {
        Inputs::Stdin => vec![Input::Stdin],
        Inputs::Bytes(b) => vec![Input::Bytes(b.clone())],
        Inputs::File(p) => {
            if std::fs::File::open(p).is_ok() {
                vec![Input::File(p.clone())]
            } else {
                Vec::new()
            }
        }
        Inputs::Series(base) => {
            let mut probe = stamps.clone();
            series(base, |line| probe.read(line, true).map(|(t, _)| t), q.start)
                .into_iter()
                .map(Input::File)
                .collect()
        }
    };
    let mut cor = Correlator::new(cfg, stamps);
    let opts = ScanOptions {
        text: (!q.text.is_empty()).then(|| Finder::new(&q.text)),
        limit: q.limit,
        pmg_last_line: true,
        number_all_lines: false,
    };
    let mut out = Vec::new();
    let mut write_err = None;
    let outcome = scan(&inputs, &mut cor, &opts, &mut |e| {
        if let Err(err) = write_entry(&mut out, &e, q.verbose) {
            write_err = Some(err);
        }
    })?;
    if let Some(err) = write_err {
        return Err(Error::io("<output>", err));
    }
    if outcome == Outcome::Limit {
        out.extend_from_slice(LIMIT_STATUS);
    }
    Ok(out)
}
