//! pmgfast-tracking: the tracking center's search core (pure Rust, no Python).
//!
//! It reads Postfix, pmg-smtp-filter and pmgfast milter syslog lines, correlates them into one
//! entry per smtpd session or queue entry (as pmg-log-tracker does), joins the legs of a mail
//! into one result per mail and recipient, and answers queries by scanning logs or through an
//! incremental on-disk index.
//!
//! Table of contents, in the order data flows:

/// Errors of queries, files and the index.
pub mod error;
/// Time stamps, the local zone and query times.
pub mod time;
/// Postfix queue ids and filter ids.
pub mod qid;
/// The syslog header of a line and the daemon that wrote it.
pub mod syslog;
/// Case-insensitive substring search.
pub mod find;
/// Log inputs: files, gzip, rotated series.
pub mod source;
/// The correlator's output types.
pub mod model;
/// Lines to entries: pmg-log-tracker's state machine.
pub mod correlate;
/// The searcher: inputs through a correlator into a sink.
pub mod scan;
/// pmg-log-tracker's text output.
pub mod pmgfmt;
/// pmg-log-tracker re-implemented on top of the above.
pub mod pmg;

pub use error::Error;
