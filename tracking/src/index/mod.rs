//! The incremental on-disk index: segments of printed entries with dictionaries, id links and
//! gram bitmaps, kept up to date by [`update`] and searched by [`query::search`].

pub mod codec;
pub mod dict;
pub mod follow;
pub mod grams;
pub mod query;
pub mod segment;
pub mod state;
pub mod update;

pub use query::search;
pub use update::{update, UpdateOptions, UpdateReport};

use std::path::Path;

use crate::error::Error;

/// Facts about an index, for reports.
#[derive(Debug, Clone, Default)]
pub struct Info {
    pub segments: usize,
    pub entries: u64,
    /// Bytes of all segment files.
    pub bytes: u64,
    /// Bytes of log read to build it, and the seconds that took.
    pub read_bytes: u64,
    pub build_seconds: f64,
    /// Log time of the last line read.
    pub last_time: i64,
}

/// Reads the facts of the index in `dir`.
pub fn info(dir: &Path) -> Result<Info, Error> {
    let st = state::State::load(dir)?;
    Ok(Info {
        segments: st.segments.len(),
        entries: st.segments.iter().map(|s| u64::from(s.entries)).sum(),
        bytes: st.segments.iter().map(|s| s.bytes).sum(),
        read_bytes: st.read_bytes,
        build_seconds: st.build_seconds,
        last_time: st.last_time,
    })
}
