//! pmg-log-tracker's text output (consumed by PMG's `MailTracker.pm` and the GUI).
//!
//! With `-v` each entry starts with `SMTPD:`/`QENTRY:` and `CTIME`, `SIZE`, `CLIENT`, `MSGID`;
//! `TO:` rows always print; `-vv` adds the log sections. Every entry ends with an empty line.
//! The number formats (`{:8X}` against `{:08X}`, line numbers cut to 32 bits) are the
//! original's, byte for byte.

use std::io::{self, Write};

use crate::model::{Entry, EntryId, SectionKind};

/// The line printed when `-l` stops the search.
pub const LIMIT_STATUS: &[u8] = b"STATUS: aborted by limit (too many hits)\n";

/// Writes one entry at verbosity `verbose` (0, 1 or 2+).
pub fn write_entry(out: &mut dyn Write, e: &Entry, verbose: u8) -> io::Result<()> {
    match &e.id {
        EntryId::Smtpd { time, rel } => {
            if verbose > 0 {
                writeln!(out, "SMTPD: T{:8X}L{:08X}", time, *rel as u32)?;
                writeln!(out, "CTIME: {:8X}", e.ctime)?;
                if !e.client.is_empty() {
                    out.write_all(b"CLIENT: ")?;
                    out.write_all(&e.client)?;
                    out.write_all(b"\n")?;
                }
            }
            for r in &e.rows {
                write!(
                    out,
                    "TO:{:X}:T{:08X}L{:08X}:{}: from <",
                    r.time,
                    time,
                    rel,
                    r.status.letter()
                )?;
                out.write_all(&r.from)?;
                out.write_all(b"> to <")?;
                out.write_all(&r.to)?;
                out.write_all(b">\n")?;
            }
        }
        EntryId::Queue(qid) => {
            if verbose > 0 {
                out.write_all(b"QENTRY: ")?;
                out.write_all(qid)?;
                out.write_all(b"\n")?;
                writeln!(out, "CTIME: {:8X}", e.ctime)?;
                writeln!(out, "SIZE: {}", e.size)?;
                if !e.client.is_empty() {
                    out.write_all(b"CLIENT: ")?;
                    out.write_all(&e.client)?;
                    out.write_all(b"\n")?;
                }
                if !e.msgid.is_empty() {
                    out.write_all(b"MSGID: ")?;
                    out.write_all(&e.msgid)?;
                    out.write_all(b"\n")?;
                }
            }
            for r in &e.rows {
                write!(out, "TO:{:X}:", r.time)?;
                out.write_all(qid)?;
                write!(out, ":{}: from <", r.status.letter())?;
                out.write_all(&r.from)?;
                out.write_all(b"> to <")?;
                out.write_all(&r.to)?;
                out.write_all(b"> (")?;
                out.write_all(r.relay.as_deref().unwrap_or(b""))?;
                out.write_all(b")\n")?;
            }
        }
    }
    if verbose > 1 {
        for s in &e.sections {
            match &s.title {
                SectionKind::Logs => out.write_all(b"LOGS:\n")?,
                SectionKind::Smtp => out.write_all(b"SMTP:\n")?,
                SectionKind::Qmgr => out.write_all(b"QMGR:\n")?,
                SectionKind::Filter(id) => {
                    out.write_all(b"FILTER: ")?;
                    out.write_all(id)?;
                    out.write_all(b"\n")?;
                }
            }
            for l in &s.lines {
                write!(out, "L{:08X} ", l.lineno as u32)?;
                out.write_all(&l.text)?;
                out.write_all(b"\n")?;
            }
        }
    }
    out.write_all(b"\n")
}
