//! Python binding of `pmgfast-mime`: bytes in, a flat part table out.
//!
//! `mime_walk(raw, max_parts, max_depth, max_size)` returns `(parts, defects, uris, domains)`
//! where each part is a plain tuple in the field order of `pmgfast.mime.Part` (so the Python
//! side builds its records with one `tuple.__new__` each) and each defect is `(aid, kind)`.
//! `mime_body(raw, start, end, transfer_encoding)` decodes one leaf's body on demand, for
//! consumers that want the bytes (the archive inspector). Both run with the GIL released. The
//! walk has no error path: bad input becomes defects.
use pmgfast_mime as engine;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

fn part_tuple<'py>(py: Python<'py>, p: &engine::Part) -> PyResult<Bound<'py, PyTuple>> {
    let pairs = |v: &[(String, String)]| {
        PyTuple::new(
            py,
            v.iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        )
    };
    let items: [Bound<'py, PyAny>; 19] = [
        p.aid.into_pyobject(py)?.into_any(),
        p.parent.into_pyobject(py)?.into_any(),
        p.depth.into_pyobject(py)?.into_any(),
        p.content_type.as_str().into_pyobject(py)?.into_any(),
        pairs(&p.params)?.into_any(),
        p.charset.as_deref().into_pyobject(py)?.into_any(),
        p.transfer_encoding.as_str().into_pyobject(py)?.into_any(),
        p.disposition.as_deref().into_pyobject(py)?.into_any(),
        p.filename.as_deref().into_pyobject(py)?.into_any(),
        p.is_leaf.into_pyobject(py)?.to_owned().into_any(),
        p.magic_type.into_pyobject(py)?.into_any(),
        p.glob_type.into_pyobject(py)?.into_any(),
        p.header_start.into_pyobject(py)?.into_any(),
        p.body_start.into_pyobject(py)?.into_any(),
        p.body_end.into_pyobject(py)?.into_any(),
        p.decoded_size.into_pyobject(py)?.into_any(),
        p.text.as_deref().into_pyobject(py)?.into_any(),
        p.html_text.as_deref().into_pyobject(py)?.into_any(),
        pairs(&p.headers)?.into_any(),
    ];
    PyTuple::new(py, items)
}

/// Walk a raw message: `(parts, defects, uris, domains)`.
#[pyfunction]
#[pyo3(signature = (raw, max_parts = 1000, max_depth = 64, max_size = 0))]
fn mime_walk<'py>(
    py: Python<'py>,
    raw: &Bound<'py, PyBytes>,
    max_parts: usize,
    max_depth: usize,
    max_size: usize,
) -> PyResult<Bound<'py, PyTuple>> {
    let data = raw.as_bytes();
    let limits = engine::Limits {
        max_parts,
        max_depth,
        max_size,
    };
    let msg = py.detach(|| engine::walk(data, &limits));
    let parts = PyList::empty(py);
    for p in &msg.parts {
        parts.append(part_tuple(py, p)?)?;
    }
    let defects = PyList::empty(py);
    for d in &msg.defects {
        defects.append((d.aid, d.kind))?;
    }
    (parts, defects, msg.uris, msg.domains).into_pyobject(py)
}

/// The decoded bytes of `raw[start:end]` under `transfer_encoding`, and the defects met.
#[pyfunction]
fn mime_body<'py>(
    py: Python<'py>,
    raw: &Bound<'py, PyBytes>,
    start: usize,
    end: usize,
    transfer_encoding: &str,
) -> PyResult<(Bound<'py, PyBytes>, Vec<&'static str>)> {
    let data = raw.as_bytes();
    let end = end.min(data.len());
    let start = start.min(end);
    let (body, defects) = py.detach(|| engine::decode_body(&data[start..end], transfer_encoding));
    Ok((PyBytes::new(py, &body), defects))
}

/// Add the MIME functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(mime_walk, m)?)?;
    m.add_function(wrap_pyfunction!(mime_body, m)?)?;
    Ok(())
}
