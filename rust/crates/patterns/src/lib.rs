//! pmgfast-patterns: many regexes compiled once into a set, matched against a subject in one call.
//!
//! A [`PatternSet`] is built from [`PatternSpec`]s (id, regex in the `regex` crate's syntax,
//! anchored?, case-insensitive?). Matching returns the sorted ids of every pattern that matches.
//!
//! How a set is fast:
//! - every pattern is compiled on its own with the `regex` crate (lazy DFA, bounded size);
//! - from each pattern the literals that any match must contain are extracted
//!   ([`literals::required_literals`]); all of them go into one Aho-Corasick automaton, so one
//!   pass over the subject tells which patterns can possibly match, and only those are run;
//! - the patterns without a usable literal run together, a small group at a time, in
//!   multi-pattern lazy DFAs (one pass per group instead of one per pattern);
//! - patterns the `regex` crate cannot compile (look-around, back-references, atomic groups)
//!   fall back to `fancy-regex` (a backtracker) and are reported by [`PatternSet::slow_ids`]. A
//!   caller may give such a pattern a *prefilter*: a relaxed regex that matches a superset (the
//!   look-arounds dropped, say); it gates the backtracker and supplies the literals.
//!
//! Invalid patterns are refused with the pattern and the reason ([`PatternError`]); compiled
//! size is bounded per pattern and per set ([`Limits`]). Matching never panics on any input.
mod error;
pub mod literals;
mod set;

pub use error::PatternError;
pub use set::{Limits, PatternSet, PatternSpec, SetStats};
