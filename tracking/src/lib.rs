//! pmgfast-tracking: the tracking center's search core (pure Rust, no Python).
//!
//! It reads Postfix, pmg-smtp-filter and pmgfast milter syslog lines, correlates them into one
//! entry per smtpd session or queue entry (as pmg-log-tracker does), joins the legs of a mail
//! into one result per mail and recipient, and answers queries by scanning logs or through an
//! incremental on-disk index.
//!
//! Table of contents, in the order data flows:

/// Lines to entries: pmg-log-tracker's state machine.
pub mod correlate;
/// Errors of queries, files and the index.
pub mod error;
/// Case-insensitive substring search.
pub mod find;
/// The incremental on-disk index.
pub mod index;
/// Entries joined into mails, with the admin guide's status names.
pub mod mails;
/// The correlator's output types.
pub mod model;
/// pmg-log-tracker re-implemented on top of the above.
pub mod pmg;
/// pmg-log-tracker's text output.
pub mod pmgfmt;
/// Postfix queue ids and filter ids.
pub mod qid;
/// The searcher: inputs through a correlator into a sink.
pub mod scan;
/// pmgfast's search over log files.
pub mod search;
/// Log inputs: files, gzip, rotated series.
pub mod source;
/// The sparse scan: correlate only near lines that can matter.
pub mod sparse;
/// The syslog header of a line and the daemon that wrote it.
pub mod syslog;
/// Time stamps, the local zone and query times.
pub mod time;

pub use error::Error;
