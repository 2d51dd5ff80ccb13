//! Python binding of `pmgfast-tracking` (the tracking center's search core).
//!
//! Four functions, all running with the GIL released: `track_pmg` (pmg-log-tracker's output
//! body), `track_search` (mails, from logs and/or the index), `track_index_update` and
//! `track_index_info`. Mails cross as flat tuples (see `_native.pyi`); `pmgfast.tracking` turns
//! them into its dataclasses. Errors are raised as `pmgfast.tracking.errors.TrackingError`.
use std::path::PathBuf;
use std::sync::Arc;

use pmgfast_tracking as engine;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple, PyType};

use engine::correlate::{IdMatch, PrintFilter};
use engine::mails::{Mail, MailFilter, Status};
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

/// Takes `ob`, a tuple whose items are atoms or untracked tuples, off the cyclic garbage
/// collector's list (what CPython's own `_PyTuple_MaybeUntrack` does for such tuples).
fn untrack(ob: &Bound<'_, PyAny>) {
    // SAFETY: `ob` is a live GC object owned by the caller; untracking an object that cannot
    // be part of a reference cycle only spares the collector from visiting it.
    unsafe { ffi::PyObject_GC_UnTrack(ob.as_ptr().cast()) }
}

/// Builds `pmgfast.tracking.model.Mail` and `Recipient` records (named tuples) straight from
/// the core's mails: each field becomes its Python object once, each record is made as
/// `tuple.__new__(cls, fields)` makes it (no Python-level `__init__`), and the status names
/// are shared.
struct Records<'py> {
    py: Python<'py>,
    mail: Bound<'py, PyType>,
    rcpt: Bound<'py, PyType>,
    statuses: Vec<Bound<'py, PyString>>,
    empty: Bound<'py, PyTuple>,
}

impl<'py> Records<'py> {
    fn new(py: Python<'py>) -> PyResult<Records<'py>> {
        let model = py.import("pmgfast.tracking.model")?;
        let statuses = Status::ALL
            .iter()
            .map(|s| PyString::intern(py, s.name()))
            .collect();
        let tuple_class = |name: &str| -> PyResult<Bound<'py, PyType>> {
            let cls = model.getattr(name)?.cast_into::<PyType>()?;
            if !cls.is_subclass_of::<PyTuple>()? {
                return Err(TrackingError::new_err(format!(
                    "{name} is not a tuple class"
                )));
            }
            Ok(cls)
        };
        Ok(Records {
            py,
            mail: tuple_class("Mail")?,
            rcpt: tuple_class("Recipient")?,
            statuses,
            empty: PyTuple::empty(py),
        })
    }

    /// Text as Python's `bytes.decode("utf-8", "replace")` gives it (what the twin does).
    fn text(&self, b: &[u8]) -> Bound<'py, PyAny> {
        match PyString::from_bytes(self.py, b) {
            Ok(s) => s.into_any(),
            Err(_) => PyString::new(self.py, &String::from_utf8_lossy(b)).into_any(),
        }
    }

    fn status(&self, s: Status) -> Bound<'py, PyAny> {
        let i = Status::ALL.iter().position(|x| *x == s).unwrap_or(0);
        self.statuses[i].clone().into_any()
    }

    /// `cls(*fields)` for a named tuple class, made the way `tuple.__new__(cls, fields)` makes
    /// it (the type's allocation, then the items) without building an argument tuple, and
    /// taken off the cyclic collector's list: a record holds only strings, numbers and
    /// untracked tuples of records, so it can never be part of a cycle (the collector would
    /// untrack it itself, after walking it for nothing).
    fn record<const N: usize>(
        &self,
        cls: &Bound<'py, PyType>,
        fields: [Bound<'py, PyAny>; N],
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        // N is 6 (Recipient) or 10 (Mail)
        let n = N as ffi::Py_ssize_t;
        // SAFETY: `cls` is a tuple subclass (checked in `Records::new`), whose instances are
        // allocated by `PyType_GenericAlloc` with room for `n` items, all NULL; each item is
        // then set once with an owned reference (`PyTuple_SetItem` steals it and accepts
        // subclasses), before the record is handed to Python.
        unsafe {
            let rec =
                Bound::from_owned_ptr_or_err(py, ffi::PyType_GenericAlloc(cls.as_type_ptr(), n))?;
            for (i, field) in (0..n).zip(fields) {
                if ffi::PyTuple_SetItem(rec.as_ptr(), i, field.into_ptr()) != 0 {
                    return Err(PyErr::fetch(py));
                }
            }
            untrack(&rec);
            Ok(rec)
        }
    }

    fn recipient(&self, r: &engine::mails::Recipient) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let rstatus = match r.rstatus {
            Some(c) => PyString::new(py, c.encode_utf8(&mut [0; 4])).into_any(),
            None => py.None().into_bound(py),
        };
        self.record(
            &self.rcpt,
            [
                self.text(&r.to),
                self.status(r.status),
                PyString::new(py, r.dstatus.encode_utf8(&mut [0; 4])).into_any(),
                rstatus,
                self.text(&r.relay),
                r.time.into_pyobject(py)?.into_any(),
            ],
        )
    }

    fn mail(&self, m: &Mail) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let qids = PyTuple::new(py, m.qids.iter().map(|q| self.text(q)))?;
        let rcpts = m
            .recipients
            .iter()
            .map(|r| self.recipient(r))
            .collect::<PyResult<Vec<_>>>()?;
        let lines = if m.lines.is_empty() {
            self.empty.clone()
        } else {
            PyTuple::new(py, m.lines.iter().map(|l| self.text(&l.text)))?
        };
        untrack(qids.as_any());
        untrack(lines.as_any());
        self.record(
            &self.mail,
            [
                PyString::new(py, &m.id).into_any(),
                m.time.into_pyobject(py)?.into_any(),
                self.text(&m.from),
                self.text(&m.client),
                self.text(&m.msgid),
                m.size.into_pyobject(py)?.into_any(),
                qids.into_any(),
                self.text(&m.filter_id),
                {
                    let r = PyTuple::new(py, rcpts)?;
                    untrack(r.as_any());
                    r.into_any()
                },
                lines.into_any(),
            ],
        )
    }
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
) -> PyResult<(Bound<'_, PyTuple>, bool, u64)> {
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
    let records = Records::new(py)?;
    let mails = found
        .mails
        .iter()
        .map(|m| records.mail(m))
        .collect::<PyResult<Vec<_>>>()?;
    let (truncated, bytes) = (found.truncated, found.bytes);
    // the core's mails (tens of thousands of small allocations for a busy hour) are freed
    // beside the caller, which has its answer already; if no thread can be started, the
    // failed spawn frees them here (Builder::spawn does not panic, unlike thread::spawn)
    let _ = std::thread::Builder::new()
        .name("track-free".into())
        .spawn(move || drop(found));
    Ok((PyTuple::new(py, mails)?, truncated, bytes))
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
