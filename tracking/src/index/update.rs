//! Bringing the index up to date with the log: read what is new, write the entries that
//! completed, remember where to restart.
//!
//! An update re-reads the log from the oldest line of the entries that were still open at the
//! end of the previous update, so that open entries are rebuilt whole; entries that completed
//! before the previous end were written then and are skipped now. Entries that stay open longer
//! than the horizon are written as they are (a later part of the same queue entry becomes a
//! second fragment; queries merge fragments by queue id). The updater only reads logs and
//! writes its own directory: it never touches the mail path.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::codec::LineMode;
use super::follow::{self, LogFile};
use super::segment::{Segment, SegmentWriter};
use super::state::{line_id, split_id, FileRec, SegRec, State};
use crate::correlate::{Config, Correlator, PrintFilter};
use crate::error::Error;
use crate::find::Finder;
use crate::model::{Entry, EntryId};
use crate::syslog::Dialect;
use crate::time::{LocalRule, StampReader, Zone};

/// Settings of an update.
#[derive(Debug, Clone)]
pub struct UpdateOptions {
    /// Entries open longer than this (log seconds) at the end of an update are written as they are.
    pub horizon: i64,
    /// Entries per segment.
    pub segment_entries: u32,
    /// "Now", for the year of traditional stamps.
    pub now: i64,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        UpdateOptions {
            horizon: 900,
            segment_entries: 1 << 18,
            now: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        }
    }
}

/// What an update did.
#[derive(Debug, Clone, Default)]
pub struct UpdateReport {
    pub bytes: u64,
    pub entries: u64,
    pub segments: usize,
    pub seconds: f64,
}

/// Lines between two flushes of entries open for very long, within one update.
const LONG_FLUSH_EVERY: u64 = 1 << 20;
/// Entries open longer than this (log seconds) are flushed even in the middle of an update.
const LONG_OPEN: i64 = 6 * 3600;

/// Holds the index's lock file for one update (one writer at a time).
struct Lock(#[allow(dead_code)] File);

#[allow(clippy::incompatible_msrv)]
fn lock(dir: &Path) -> Result<Lock, Error> {
    let path = dir.join("lock");
    let f = File::create(&path).map_err(|e| Error::io(&path, e))?;
    match f.try_lock() {
        Ok(()) => Ok(Lock(f)),
        Err(_) => Err(Error::BadArgument(format!(
            "the tracking index {} is being updated by another process",
            dir.display()
        ))),
    }
}

/// Numbers the files of the series (known files keep their number) and returns, oldest first,
/// each file with its number.
pub(crate) fn number_files(st: &mut State, files: Vec<LogFile>) -> Vec<(LogFile, u32)> {
    let mut out = Vec::new();
    for f in files {
        let no = match st.file_no(f.head) {
            Some(no) => no,
            None => {
                let no = st.next_file;
                st.next_file += 1;
                st.files.push(FileRec { no, head: f.head });
                no
            }
        };
        out.push((f, no));
    }
    out
}

/// Which files to read and from where: the restart file from its offset, newer files whole.
pub(crate) fn plan(files: &[(LogFile, u32)], restart: u64) -> Vec<(LogFile, u32, u64)> {
    let (rf, roff) = split_id(restart);
    files
        .iter()
        .filter(|(_, no)| *no >= rf)
        .map(|(f, no)| (f.clone(), *no, if *no == rf { roff } else { 0 }))
        .collect()
}

/// Feeds whole-line chunks to a correlator with stable line numbers; `sink` gets the entries
/// printed and the number of the line that completed them.
pub(crate) fn feed_files(
    plan: &[(LogFile, u32, u64)],
    cor: &mut Correlator,
    text: Option<&Finder>,
    sink: &mut dyn FnMut(Entry, u64) -> Result<(), Error>,
) -> Result<(u64, u64), Error> {
    let mut end = 0u64;
    let mut bytes = 0u64;
    let mut lines = 0u64;
    for (file, no, offset) in plan {
        cor.begin_file();
        let stop = follow::read_from(file, *offset, &mut |chunk, at| {
            bytes += chunk.len() as u64;
            let mut pos = 0usize;
            while pos < chunk.len() {
                let nl = memchr::memchr(b'\n', &chunk[pos..]).map_or(chunk.len(), |i| pos + i);
                let id = line_id(*no, at + pos as u64);
                let line = &chunk[pos..nl];
                let hit = text.is_some_and(|f| f.is_match(line));
                cor.feed_numbered(line, hit, Some(id));
                for e in cor.take_printed() {
                    sink(e, id)?;
                }
                lines += 1;
                if lines % LONG_FLUSH_EVERY == 0 {
                    if let Some(t) = cor.last_time() {
                        cor.flush_opened_before(t - LONG_OPEN);
                        for e in cor.take_printed() {
                            sink(e, id)?;
                        }
                    }
                }
                pos = nl + 1;
            }
            Ok(())
        })?;
        end = line_id(*no, stop);
    }
    Ok((end, bytes))
}

/// Whether an entry is worth keeping: it has rows, or it is part of a queue entry.
pub(crate) fn worth_keeping(e: &Entry) -> bool {
    !e.rows.is_empty() || matches!(e.id, EntryId::Queue(_))
}

/// Reads the new part of the log at `base` into the index in `dir`.
pub fn update(
    dir: &Path,
    base: &Path,
    zone: &Zone,
    opts: &UpdateOptions,
) -> Result<UpdateReport, Error> {
    let clock = Instant::now();
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let _lock = lock(dir)?;
    let mut st = State::load(dir)?;
    let files = number_files(&mut st, follow::list(base));
    let plan = plan(&files, st.restart);
    let cfg = Config {
        dialect: Dialect::Pmgfast,
        start: i64::MIN,
        end: i64::MAX,
        keep_lines: true,
        filter: PrintFilter::default(),
        prefilter: None,
    };
    let stamps = StampReader::new(opts.now, zone, LocalRule::Zone(zone.clone()));
    let mut cor = Correlator::new(cfg, stamps);
    let cursor = st.cursor;
    let mut writer = Writer::new(dir, &mut st, opts.segment_entries);
    let mut report = UpdateReport::default();
    let (end, bytes) = feed_files(&plan, &mut cor, None, &mut |e, at| {
        if at >= cursor && worth_keeping(&e) {
            writer.add(e)?;
        }
        Ok(())
    })?;
    let end = if plan.is_empty() {
        cursor
    } else {
        end.max(cursor)
    };
    if let Some(t) = cor.last_time() {
        cor.flush_opened_before(t - opts.horizon);
        for e in cor.take_printed() {
            if worth_keeping(&e) {
                writer.add(e)?;
            }
        }
    }
    let restart = cor.oldest_open_line().map_or(end, |l| l.min(end));
    let (written, entries) = writer.finish()?;
    report.segments = written;
    report.entries = entries;
    report.bytes = bytes;
    if let Some(t) = cor.last_time() {
        st.last_time = st.last_time.max(t);
    }
    st.cursor = end;
    st.restart = restart;
    st.read_bytes += bytes;
    report.seconds = clock.elapsed().as_secs_f64();
    st.build_seconds += report.seconds;
    st.save(dir)?;
    compact(dir, &mut st, opts.segment_entries)?;
    Ok(report)
}

/// Writes entries into segments of `per_segment` entries and records them in the state.
struct Writer<'a> {
    dir: PathBuf,
    st: &'a mut State,
    per_segment: u32,
    cur: Option<(SegmentWriter, String)>,
    segments: usize,
    entries: u64,
}

impl<'a> Writer<'a> {
    fn new(dir: &Path, st: &'a mut State, per_segment: u32) -> Writer<'a> {
        Writer {
            dir: dir.to_path_buf(),
            st,
            per_segment: per_segment.max(1),
            cur: None,
            segments: 0,
            entries: 0,
        }
    }

    fn add(&mut self, e: Entry) -> Result<(), Error> {
        if self.cur.is_none() {
            self.st.next_seg += 1;
            let name = format!("seg-{:06}.pti", self.st.next_seg);
            self.cur = Some((SegmentWriter::create(&self.dir.join(&name))?, name));
        }
        if let Some((w, _)) = &mut self.cur {
            w.add(e)?;
            self.entries += 1;
            if w.len() >= self.per_segment {
                self.close()?;
            }
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), Error> {
        if let Some((w, name)) = self.cur.take() {
            let path = w.finish()?;
            let seg = Segment::open(&path)?;
            self.st.segments.push(SegRec {
                name,
                entries: seg.entries,
                min_t: seg.min_t,
                max_t: seg.max_t,
                bytes: seg.bytes,
            });
            self.segments += 1;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<(usize, u64), Error> {
        self.close()?;
        Ok((self.segments, self.entries))
    }
}

/// Merges runs of small segments (frequent small updates) into one, once there are enough.
fn compact(dir: &Path, st: &mut State, per_segment: u32) -> Result<(), Error> {
    const RUN: usize = 8;
    let small = |s: &SegRec| s.entries < per_segment / 4;
    let tail = st.segments.iter().rev().take_while(|s| small(s)).count();
    if tail < RUN {
        return Ok(());
    }
    let first = st.segments.len() - tail;
    let old: Vec<SegRec> = st.segments[first..].to_vec();
    st.next_seg += 1;
    let name = format!("seg-{:06}.pti", st.next_seg);
    let mut w = SegmentWriter::create(&dir.join(&name))?;
    for rec in &old {
        let seg = Segment::open(&dir.join(&rec.name))?;
        for b in 0..seg.blocks.len() {
            for e in seg.read_block(b, LineMode::Full)? {
                w.add(e)?;
            }
        }
    }
    let path = w.finish()?;
    let seg = Segment::open(&path)?;
    st.segments.truncate(first);
    st.segments.push(SegRec {
        name,
        entries: seg.entries,
        min_t: seg.min_t,
        max_t: seg.max_t,
        bytes: seg.bytes,
    });
    st.save(dir)?;
    for rec in old {
        let _ = std::fs::remove_file(dir.join(rec.name));
    }
    Ok(())
}
