//! The errors of the tracking crate: bad query arguments, unreadable files and a damaged index.
//!
//! Malformed log lines are never errors: a line that does not parse is skipped, as
//! pmg-log-tracker skips it. Errors are for what the caller asked for or what the disk holds.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong in a search or an index update.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A time argument that is neither RFC 3339, `YYYY-MM-DD HH:MM:SS` nor epoch seconds.
    BadTime(String),
    /// The end of the range lies before its start.
    EndBeforeStart { start: i64, end: i64 },
    /// Any other invalid query argument (the text says which).
    BadArgument(String),
    /// A log file or index file could not be read or written.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// An index file is not in the expected format (the text says how).
    BadIndex { path: PathBuf, reason: String },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A damaged or foreign index file.
    pub fn bad_index(path: impl Into<PathBuf>, reason: impl Into<String>) -> Error {
        Error::BadIndex {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadTime(text) => write!(
                f,
                "cannot read time {text:?}: use YYYY-MM-DD HH:MM:SS, RFC 3339 or epoch seconds"
            ),
            Error::EndBeforeStart { start, end } => {
                write!(f, "end time {end} is before start time {start}")
            }
            Error::BadArgument(text) => f.write_str(text),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::BadIndex { path, reason } => {
                write!(f, "damaged tracking index {}: {reason}", path.display())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
