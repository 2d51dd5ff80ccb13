//! Python binding of `pmgfast-tracking` (the tracking center's search core).
//!
//! Four functions, all running with the GIL released: `track_pmg` (pmg-log-tracker's output
//! body), `track_search` (mails, from logs and/or the index), `track_index_update` and
//! `track_index_info`. Mails cross as flat tuples (see `_native.pyi`); `pmgfast.tracking` turns
//! them into its dataclasses. Errors are raised as `pmgfast.tracking.errors.TrackingError`.
use std::path::PathBuf;
use std::sync::Arc;

use pmgfast_tracking as engine;
use pyo3::prelude::*;

use engine::correlate::{IdMatch, PrintFilter};
use engine::mails::{Mail, MailFilter};
use engine::source::Input;
use engine::time::Zone;

pyo3::import_exception!(pmgfast.tracking.errors, TrackingError);

fn err(e: engine::Error) -> PyErr {
    TrackingError::new_err(e.to_string())
}

fn zone(tz: Option<&str>) -> Zone {
    match tz {
        Some(v) => Zone::from_tz_value(v),
        None => Zone::from_env(),
    }
}

/// A recipient: (to, status, dstatus, rstatus, relay, time).
type PyRecipient = (String, &'static str, String, Option<String>, String, i64);
/// A mail: (id, time, from, client, msgid, size, qids, filter_id, recipients, lines).
type PyMail = (
    String,
    i64,
    String,
    String,
    String,
    u64,
    Vec<String>,
    String,
    Vec<PyRecipient>,
    Vec<(u64, String)>,
);

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn flat(m: Mail) -> PyMail {
    (
        m.id,
        m.time,
        text(&m.from),
        text(&m.client),
        text(&m.msgid),
        m.size,
        m.qids.iter().map(|q| text(q)).collect(),
        text(&m.filter_id),
        m.recipients
            .into_iter()
            .map(|r| {
                (
                    text(&r.to),
                    r.status.name(),
                    r.dstatus.to_string(),
                    r.rstatus.map(|c| c.to_string()),
                    text(&r.relay),
                    r.time,
                )
            })
            .collect(),
        m.lines
            .into_iter()
            .map(|l| (l.lineno, text(&l.text)))
            .collect(),
    )
}

/// pmg-log-tracker's output after the `#` header (entries, and the limit's `STATUS:` line).
#[pyfunction]
#[pyo3(signature = (*, start, end, offset, now, source, input = None, data = None,
    sender = String::new(), recipient = String::new(), host = String::new(),
    msgid = String::new(), ids = Vec::new(), text = String::new(),
    exclude_greylist = false, exclude_ndr = false, limit = 0, verbose = 0, tz = None))]
#[allow(clippy::too_many_arguments)]
fn track_pmg(
    py: Python<'_>,
    start: i64,
    end: i64,
    offset: i64,
    now: i64,
    source: &str,
    input: Option<String>,
    data: Option<Vec<u8>>,
    sender: String,
    recipient: String,
    host: String,
    msgid: String,
    ids: Vec<String>,
    text: String,
    exclude_greylist: bool,
    exclude_ndr: bool,
    limit: u64,
    verbose: u8,
    tz: Option<String>,
) -> PyResult<Vec<u8>> {
    use engine::pmg::{Inputs, Query};
    let inputs = match (source, input, data) {
        ("file", Some(p), _) => Inputs::File(PathBuf::from(p)),
        ("series", Some(p), _) => Inputs::Series(PathBuf::from(p)),
        ("stdin", _, _) => Inputs::Stdin,
        ("bytes", _, Some(d)) => Inputs::Bytes(Arc::new(d)),
        _ => {
            return Err(TrackingError::new_err(format!(
                "bad input source {source:?}"
            )))
        }
    };
    let q = Query {
        start,
        end,
        offset,
        now,
        filter: PrintFilter {
            from: sender.into_bytes(),
            to: recipient.into_bytes(),
            host: host.into_bytes(),
            msgid: msgid.into_bytes(),
            ids: ids.iter().map(|i| IdMatch::parse(i)).collect(),
            text: false,
            exclude_greylist,
            exclude_ndr,
        },
        text: text.into_bytes(),
        limit,
        verbose,
        inputs,
    };
    py.detach(|| engine::pmg::run(&q, &zone(tz.as_deref())))
        .map_err(err)
}

/// Mails matching a query, in time order: `(mails, truncated, bytes_read)`.
#[pyfunction]
#[pyo3(signature = (*, start, end, now, files = Vec::new(), data = None, series = None,
    index = None, sender = String::new(), recipient = String::new(), host = String::new(),
    msgid = String::new(), ids = Vec::new(), text = String::new(),
    include_greylisted = false, include_rejected = false, include_ndr = false,
    limit = 0, lines = false, margin = 600, full_scan = false, tz = None))]
#[allow(clippy::too_many_arguments)]
fn track_search(
    py: Python<'_>,
    start: i64,
    end: i64,
    now: i64,
    files: Vec<String>,
    data: Option<Vec<u8>>,
    series: Option<String>,
    index: Option<String>,
    sender: String,
    recipient: String,
    host: String,
    msgid: String,
    ids: Vec<String>,
    text: String,
    include_greylisted: bool,
    include_rejected: bool,
    include_ndr: bool,
    limit: usize,
    lines: bool,
    margin: i64,
    full_scan: bool,
    tz: Option<String>,
) -> PyResult<(Vec<PyMail>, bool, u64)> {
    use engine::search::Query;
    let q = Query {
        filter: MailFilter {
            start,
            end,
            from: sender.into_bytes(),
            to: recipient.into_bytes(),
            host: host.into_bytes(),
            msgid: msgid.into_bytes(),
            ids: ids.into_iter().map(String::into_bytes).collect(),
            text: false,
            include_greylisted,
            include_rejected,
            include_ndr,
        },
        text: text.into_bytes(),
        limit,
        keep_lines: lines,
        margin,
        now,
        full_scan,
    };
    let found = py
        .detach(|| {
            let zone = zone(tz.as_deref());
            if let Some(dir) = &index {
                let tail = series.as_ref().map(PathBuf::from);
                return engine::index::search(&PathBuf::from(dir), tail.as_deref(), &q, &zone);
            }
            let mut inputs: Vec<Input> = files.iter().map(|f| Input::File(f.into())).collect();
            if let Some(d) = data {
                inputs.push(Input::Bytes(Arc::new(d)));
            }
            if let Some(base) = &series {
                let mut stamps = engine::time::StampReader::new(
                    q.now,
                    &zone,
                    engine::time::LocalRule::Zone(zone.clone()),
                );
                let margin = q.margin.max(0);
                for p in engine::search::series_for_range(
                    &PathBuf::from(base),
                    &mut stamps,
                    start.saturating_sub(margin),
                    end.saturating_add(margin),
                ) {
                    inputs.push(Input::File(p));
                }
            }
            engine::search::search(&q, &inputs, &zone)
        })
        .map_err(err)?;
    let mails = found.mails.into_iter().map(flat).collect();
    Ok((mails, found.truncated, found.bytes))
}

/// Reads the new part of the log series at `base` into the index at `index`:
/// `(bytes_read, entries_written, segments_written, seconds)`.
#[pyfunction]
#[pyo3(signature = (index, base, *, now, horizon = 900, segment_entries = 262_144, tz = None))]
fn track_index_update(
    py: Python<'_>,
    index: String,
    base: String,
    now: i64,
    horizon: i64,
    segment_entries: u32,
    tz: Option<String>,
) -> PyResult<(u64, u64, usize, f64)> {
    let opts = engine::index::UpdateOptions {
        horizon,
        segment_entries,
        now,
    };
    let r = py
        .detach(|| {
            engine::index::update(
                &PathBuf::from(index),
                &PathBuf::from(base),
                &zone(tz.as_deref()),
                &opts,
            )
        })
        .map_err(err)?;
    Ok((r.bytes, r.entries, r.segments, r.seconds))
}

/// Facts about the index at `index`:
/// `(segments, entries, bytes, read_bytes, build_seconds, last_time)`.
#[pyfunction]
fn track_index_info(py: Python<'_>, index: String) -> PyResult<(usize, u64, u64, u64, f64, i64)> {
    let i = py
        .detach(|| engine::index::info(&PathBuf::from(index)))
        .map_err(err)?;
    Ok((
        i.segments,
        i.entries,
        i.bytes,
        i.read_bytes,
        i.build_seconds,
        i.last_time,
    ))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(track_pmg, m)?)?;
    m.add_function(wrap_pyfunction!(track_search, m)?)?;
    m.add_function(wrap_pyfunction!(track_index_update, m)?)?;
    m.add_function(wrap_pyfunction!(track_index_info, m)?)?;
    Ok(())
}
