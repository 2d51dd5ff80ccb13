//! The index's state file: which log files it has read, how far, where to restart, and which
//! segments make up the index.
//!
//! Lines are numbered `file number << 40 | byte offset`, so a number names the same line in
//! every run (files keep their number when logrotate renames or compresses them; they are
//! recognised by a hash of their first line). The file is plain text, one record per line,
//! and is replaced atomically (write, fsync, rename).

use std::path::{Path, PathBuf};

use crate::error::Error;

/// Bits of a line number that hold the byte offset.
pub const OFFSET_BITS: u32 = 40;
const VERSION: u32 = 1;

/// A line number from a file number and an offset.
pub fn line_id(file_no: u32, offset: u64) -> u64 {
    (u64::from(file_no) << OFFSET_BITS) | (offset & ((1 << OFFSET_BITS) - 1))
}

/// The file number and offset of a line number.
pub fn split_id(id: u64) -> (u32, u64) {
    ((id >> OFFSET_BITS) as u32, id & ((1 << OFFSET_BITS) - 1))
}

/// A log file the index has read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRec {
    pub no: u32,
    /// Hash of the file's first line.
    pub head: u64,
}

/// A segment of the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegRec {
    pub name: String,
    pub entries: u32,
    pub min_t: i64,
    pub max_t: i64,
    pub bytes: u64,
}

/// Everything the state file holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    pub next_seg: u64,
    pub next_file: u32,
    /// Entries completed before this line are in the index.
    pub cursor: u64,
    /// The next update starts reading here (the oldest line of an entry still open).
    pub restart: u64,
    /// Log time of the last line read.
    pub last_time: i64,
    /// Bytes of log read, over all updates.
    pub read_bytes: u64,
    /// Seconds spent updating, over all updates.
    pub build_seconds: f64,
    pub files: Vec<FileRec>,
    pub segments: Vec<SegRec>,
}

impl State {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("state")
    }

    /// Reads the state of the index in `dir`; a missing file is an empty index.
    pub fn load(dir: &Path) -> Result<State, Error> {
        let path = State::path(dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::default()),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let bad = |why: String| Error::bad_index(&path, why);
        let mut st = State::default();
        for (n, line) in text.lines().enumerate() {
            let f: Vec<&str> = line.split(' ').collect();
            let num = |i: usize| -> Result<i64, Error> {
                f.get(i)
                    .and_then(|s| s.parse::<i64>().ok())
                    .ok_or_else(|| bad(format!("line {}: {line:?}", n + 1)))
            };
            let unum = |i: usize| -> Result<u64, Error> {
                f.get(i)
                    .and_then(|s| s.parse::<u64>().ok())
                    .ok_or_else(|| bad(format!("line {}: {line:?}", n + 1)))
            };
            match f[0] {
                "version" => {
                    if unum(1)? != u64::from(VERSION) {
                        return Err(bad(format!("version {} is not {VERSION}", f[1])));
                    }
                }
                "next_seg" => st.next_seg = unum(1)?,
                "next_file" => st.next_file = unum(1)? as u32,
                "cursor" => st.cursor = unum(1)?,
                "restart" => st.restart = unum(1)?,
                "last_time" => st.last_time = num(1)?,
                "read_bytes" => st.read_bytes = unum(1)?,
                "build_seconds" => {
                    st.build_seconds = f
                        .get(1)
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| bad(format!("line {}", n + 1)))?
                }
                "file" => st.files.push(FileRec {
                    no: unum(1)? as u32,
                    head: unum(2)?,
                }),
                "segment" => st.segments.push(SegRec {
                    name: f
                        .get(1)
                        .filter(|s| s.starts_with("seg-") && !s.contains('/'))
                        .ok_or_else(|| bad(format!("line {}", n + 1)))?
                        .to_string(),
                    entries: unum(2)? as u32,
                    min_t: num(3)?,
                    max_t: num(4)?,
                    bytes: unum(5)?,
                }),
                "" => {}
                other => return Err(bad(format!("unknown record {other:?}"))),
            }
        }
        Ok(st)
    }

    /// Replaces the state file atomically.
    pub fn save(&self, dir: &Path) -> Result<(), Error> {
        use std::io::Write;
        let mut text = format!(
            "version {VERSION}\nnext_seg {}\nnext_file {}\ncursor {}\nrestart {}\nlast_time {}\n\
             read_bytes {}\nbuild_seconds {:.3}\n",
            self.next_seg,
            self.next_file,
            self.cursor,
            self.restart,
            self.last_time,
            self.read_bytes,
            self.build_seconds
        );
        for f in &self.files {
            text.push_str(&format!("file {} {}\n", f.no, f.head));
        }
        for s in &self.segments {
            text.push_str(&format!(
                "segment {} {} {} {} {}\n",
                s.name, s.entries, s.min_t, s.max_t, s.bytes
            ));
        }
        let path = State::path(dir);
        let tmp = dir.join("state.tmp");
        let mut file = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))
    }

    /// The number of the file with first-line hash `head`.
    pub fn file_no(&self, head: u64) -> Option<u32> {
        self.files.iter().find(|f| f.head == head).map(|f| f.no)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trip() {
        let dir = std::env::temp_dir().join(format!("pmgfast-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let st = State {
            next_seg: 3,
            next_file: 2,
            cursor: line_id(1, 77),
            restart: line_id(1, 5),
            last_time: 1_600_000_000,
            read_bytes: 99,
            build_seconds: 1.5,
            files: vec![FileRec { no: 0, head: 42 }, FileRec { no: 1, head: 43 }],
            segments: vec![SegRec {
                name: "seg-000001.pti".into(),
                entries: 10,
                min_t: 1,
                max_t: 2,
                bytes: 300,
            }],
        };
        st.save(&dir).unwrap();
        assert_eq!(State::load(&dir).unwrap(), st);
        assert_eq!(split_id(st.cursor), (1, 77));
        std::fs::write(State::path(&dir), "version 1\nsegment ../evil 1 1 1 1\n").unwrap();
        assert!(State::load(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
