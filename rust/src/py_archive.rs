//! Python binding of `pmgfast-archive`: `list_archive(data, name, ...)` with the GIL released.
//!
//! Returns a plain dict (`format`, `members` as tuples, `unreadable`, `errors`) that
//! `pmgfast.archive` turns into its `Listing`. Members are classified by the MIME crate's
//! shared-mime-info table, as the pure twin does.
use std::time::Duration;

use pmgfast_archive as engine;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// List the archive in `data` (a part named `name`): see `pmgfast.archive.list_archive`.
#[pyfunction]
#[pyo3(signature = (data, name = "", *, max_files = 1000, max_depth = 5, max_size = 26_214_400, time_budget = 30.0))]
fn list_archive<'py>(
    py: Python<'py>,
    data: &[u8],
    name: &str,
    max_files: usize,
    max_depth: u32,
    max_size: u64,
    time_budget: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let time_budget = Duration::try_from_secs_f64(time_budget)
        .map_err(|e| PyValueError::new_err(format!("time_budget: {e}")))?;
    let limits = engine::Limits {
        max_files,
        max_depth,
        max_size,
        time_budget,
    };
    let listing = py.detach(|| engine::list(data, name, &MimeDbClassifier, &limits));
    let members = PyList::empty(py);
    for m in &listing.members {
        let row = (
            &m.path,
            &m.basename,
            m.magic.as_deref(),
            m.glob.as_deref(),
            m.size,
            m.encrypted,
            m.depth,
        );
        members.append(row)?;
    }
    let d = PyDict::new(py);
    d.set_item("format", listing.format.map(engine::Format::name))?;
    d.set_item("members", members)?;
    d.set_item("unreadable", listing.unreadable)?;
    d.set_item("errors", &listing.errors)?;
    Ok(d)
}

/// Add the archive lister to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(list_archive, m)?)?;
    m.add("UNREADABLE_ARCHIVE", engine::UNREADABLE)?;
    Ok(())
}

/// Member types from the MIME walk's shared-mime-info table (`pmgfast-mime`), so that a member
/// and an attachment of the same file get the same types.
struct MimeDbClassifier;

impl engine::Classifier for MimeDbClassifier {
    fn magic(&self, head: &[u8]) -> String {
        pmgfast_mime::mimedb::magic(head).to_owned()
    }

    fn glob(&self, name: &str) -> Option<String> {
        let found = pmgfast_mime::mimedb::glob(name);
        (found != "application/octet-stream").then(|| found.to_owned())
    }
}
