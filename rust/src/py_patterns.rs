//! Python binding of `pmgfast-patterns`: the compiled `PatternSet`.
//!
//! Specs arrive as `(id, regex, anchored, case_insensitive, prefilter)` tuples whose regexes are
//! already in the Rust engine's syntax (`pmgfast.patterns` translates Python `re` syntax).
//! Compilation and matching run with the GIL released. A refused pattern raises
//! `PatternCompileError(index, reason)`; `pmgfast.patterns` turns it into its `PatternError`.
use pmgfast_patterns as engine;
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

create_exception!(
    _native,
    PatternCompileError,
    PyValueError,
    "A pattern the native set refused; args are (index of the spec, reason)."
);

type SpecTuple = (i64, String, bool, bool, Option<String>);

/// A compiled pattern set: `matches(subject)` returns the sorted ids of all matching patterns.
#[pyclass(module = "pmgfast_native._native", name = "PatternSet", frozen)]
pub struct PyPatternSet {
    inner: engine::PatternSet,
    refused: Vec<(usize, String)>,
}

#[pymethods]
impl PyPatternSet {
    #[new]
    #[pyo3(signature = (specs, *, lenient = false, backtrack_limit = None, set_size_limit = None))]
    fn new(
        py: Python<'_>,
        specs: Vec<SpecTuple>,
        lenient: bool,
        backtrack_limit: Option<usize>,
        set_size_limit: Option<usize>,
    ) -> PyResult<Self> {
        let specs: Vec<engine::PatternSpec> = specs
            .into_iter()
            .map(
                |(id, regex, anchored, case_insensitive, prefilter)| engine::PatternSpec {
                    id,
                    regex,
                    anchored,
                    case_insensitive,
                    prefilter,
                },
            )
            .collect();
        let defaults = engine::Limits::default();
        let limits = engine::Limits {
            backtrack_limit: backtrack_limit.unwrap_or(defaults.backtrack_limit),
            set_size_limit: set_size_limit.unwrap_or(defaults.set_size_limit),
            ..defaults
        };
        if lenient {
            let (inner, refused) = py.detach(|| engine::PatternSet::new_lenient(&specs, &limits));
            let refused = refused.into_iter().map(|e| (e.index, e.reason)).collect();
            return Ok(PyPatternSet { inner, refused });
        }
        py.detach(|| engine::PatternSet::new(&specs, &limits))
            .map(|inner| PyPatternSet {
                inner,
                refused: Vec::new(),
            })
            .map_err(|err| PatternCompileError::new_err((err.index, err.reason)))
    }

    /// With `lenient=True`: the `(index, reason)` of every spec left out of the set.
    fn refused(&self) -> Vec<(usize, String)> {
        self.refused.clone()
    }

    /// Ids of the patterns matching `subject` (str, or bytes read as UTF-8 with replacement).
    fn matches(&self, py: Python<'_>, subject: &Bound<'_, PyAny>) -> PyResult<Vec<i64>> {
        if let Ok(text) = subject.cast::<PyString>() {
            let text = text.to_str()?;
            return Ok(py.detach(|| self.inner.matches(text)));
        }
        let bytes = subject.cast::<PyBytes>()?.as_bytes();
        Ok(py.detach(|| self.inner.matches(&String::from_utf8_lossy(bytes))))
    }

    /// How many patterns the literal prefilter leaves to run on `text`.
    fn candidates(&self, py: Python<'_>, text: &str) -> usize {
        py.detach(|| self.inner.candidates(text))
    }

    /// Ids of the patterns that run on the slow fallback engine.
    fn slow_ids(&self) -> Vec<i64> {
        self.inner.slow_ids()
    }

    /// What the set consists of: counts, literals, memory, fallback errors.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.stats();
        let d = PyDict::new(py);
        d.set_item("patterns", s.patterns)?;
        d.set_item("prefiltered", s.prefiltered)?;
        d.set_item("always_run", s.always_run)?;
        d.set_item("grouped", s.grouped)?;
        d.set_item("fallback", s.fallback)?;
        d.set_item("literals", s.literals)?;
        d.set_item("memory", s.memory)?;
        d.set_item("fallback_errors", s.fallback_errors)?;
        Ok(d)
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }
}

/// Add the pattern-set class and its error to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPatternSet>()?;
    m.add(
        "PatternCompileError",
        m.py().get_type::<PatternCompileError>(),
    )?;
    Ok(())
}
