//! Python bindings of pmgfast's compiled hot paths.
//!
//! This file is a table of contents: each engine lives in its own pure-Rust crate under
//! `rust/crates/` (no pyo3 there, so `cargo test` runs without Python), and each `py_*` module
//! here converts between Python objects and that crate's types, releasing the GIL for the work.
use pyo3::prelude::*;

mod py_archive;
mod py_mime;
mod py_patterns;
mod py_tracking;

/// The compiled module `pmgfast_native._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    py_mime::register(m)?;
    py_patterns::register(m)?;
    py_archive::register(m)?;
    py_tracking::register(m)?;
    Ok(())
}
