//! Following a rotated log series: which files exist, which is which across rotations, and
//! reading a file from a byte offset in whole lines.
//!
//! A file is recognised by a hash of its first line, which logrotate's renaming and
//! compressing do not change. A plain file may still be written to, so only complete lines
//! are read from it; the rest is read next time.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::source::{first_line, is_gzip, open, rotated_path, MAX_ROTATIONS};

/// Receives whole-line chunks and the file offset of their first byte.
pub type ChunkSink<'a> = dyn FnMut(&[u8], u64) -> Result<(), Error> + 'a;

/// One file of the series.
#[derive(Debug, Clone)]
pub struct LogFile {
    pub path: PathBuf,
    /// Hash of the first line (0 for an empty file).
    pub head: u64,
}

/// FNV-1a, 64 bits.
pub fn hash64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// The files of the series at `base`, oldest first (empty files are left out).
pub fn list(base: &Path) -> Vec<LogFile> {
    let mut out = Vec::new();
    for index in 0..MAX_ROTATIONS {
        let Some(path) = rotated_path(base, index) else {
            break;
        };
        let Some(line) = first_line(&path) else {
            continue;
        };
        out.push(LogFile {
            head: hash64(&line),
            path,
        });
    }
    out.reverse();
    out
}

/// Reads `file` from `offset` and calls `each(chunk, offset_of_chunk)` with whole lines. Returns
/// the offset after the last whole line read. A gzip file is complete, so a last line without a
/// newline is read too; in a plain file it is left for later.
pub fn read_from(file: &LogFile, offset: u64, each: &mut ChunkSink<'_>) -> Result<u64, Error> {
    const CHUNK: usize = 1 << 22;
    let path = &file.path;
    let gz = is_gzip(path);
    let mut reader: Box<dyn Read> = if gz {
        let mut r = open(path)?;
        let skipped = std::io::copy(&mut (&mut r).take(offset), &mut std::io::sink())
            .map_err(|e| Error::io(path, e))?;
        if skipped < offset {
            return Ok(skipped);
        }
        Box::new(r)
    } else {
        let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io(path, e))?;
        Box::new(f)
    };
    let mut pos = offset;
    let mut buf: Vec<u8> = Vec::with_capacity(2 * CHUNK);
    loop {
        let old = buf.len();
        buf.resize(old + CHUNK, 0);
        let n = loop {
            match reader.read(&mut buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(path, e)),
            }
        };
        buf.truncate(old + n);
        if n == 0 {
            if gz && !buf.is_empty() {
                each(&buf, pos)?;
                pos += buf.len() as u64;
            }
            return Ok(pos);
        }
        if let Some(i) = memchr::memrchr(b'\n', &buf) {
            let whole = i + 1;
            each(&buf[..whole], pos)?;
            pos += whole as u64;
            buf.drain(..whole);
        }
    }
}
