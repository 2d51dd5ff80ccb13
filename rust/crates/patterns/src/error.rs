//! The one error type of the crate: a pattern that cannot be compiled, and why.
use std::fmt;

/// A refused pattern: its position in the input list, its id, its source and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// Index of the offending spec in the list given to [`crate::PatternSet::new`].
    pub index: usize,
    /// The spec's id.
    pub id: i64,
    /// The regex as given.
    pub pattern: String,
    /// Why it was refused (the engine's message, or the limit that was exceeded).
    pub reason: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid pattern {:?} (id {}): {}",
            self.pattern, self.id, self.reason
        )
    }
}

impl std::error::Error for PatternError {}
