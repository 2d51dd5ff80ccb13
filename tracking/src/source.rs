//! Where log lines come from: one file, standard input, bytes in memory, or a rotated series
//! (`syslog`, `syslog.1`, `syslog.2.gz`, …), read in large line-aligned chunks.
//!
//! Gzip files are inflated on a second thread so that inflating and correlating overlap. A
//! rotated series is read oldest first, starting with the newest file whose first line lies
//! before the start of the range (pmg-log-tracker's rule); files that begin after the end of
//! the range are not opened at all.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use flate2::read::MultiGzDecoder;

use crate::error::Error;

/// The most files of a rotated series that are looked at (the live file and 31 rotations).
pub const MAX_ROTATIONS: usize = 32;

/// Bytes per chunk handed to the correlator.
const CHUNK: usize = 1 << 20;

/// One input.
#[derive(Debug, Clone)]
pub enum Input {
    /// A plain or `.gz` file.
    File(PathBuf),
    /// Standard input.
    Stdin,
    /// Log text in memory (tests and the Python API).
    Bytes(std::sync::Arc<Vec<u8>>),
}

/// The path of rotation `index` of `base`: the plain file if it exists, else its `.gz`.
pub fn rotated_path(base: &Path, index: usize) -> Option<PathBuf> {
    let plain = if index == 0 {
        base.to_path_buf()
    } else {
        let mut s = base.as_os_str().to_owned();
        s.push(format!(".{index}"));
        PathBuf::from(s)
    };
    if plain.is_file() {
        return Some(plain);
    }
    let mut gz = plain.into_os_string();
    gz.push(".gz");
    let gz = PathBuf::from(gz);
    gz.is_file().then_some(gz)
}

/// The first line of a file (plain or gzip), without its newline; None if unreadable or empty.
pub fn first_line(path: &Path) -> Option<Vec<u8>> {
    let mut reader = BufReader::new(open(path).ok()?);
    let mut line = Vec::new();
    match reader.read_until(b'\n', &mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => {
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            Some(line)
        }
    }
}

/// The files of a rotated series to read, oldest first, chosen the way pmg-log-tracker 3.1
/// chooses them: rotations are looked at from the newest until one starts before `start`.
pub fn series(
    base: &Path,
    mut first_time: impl FnMut(&[u8]) -> Option<i64>,
    start: i64,
) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for index in 0..MAX_ROTATIONS {
        let Some(path) = rotated_path(base, index) else {
            break;
        };
        let Some(line) = first_line(&path) else {
            break;
        };
        paths.push(path);
        if first_time(&line).is_some_and(|t| t < start) {
            break;
        }
    }
    paths.reverse();
    paths
}

/// Opens a file, inflating it when its name ends in `.gz`.
pub fn open(path: &Path) -> Result<Box<dyn Read + Send>, Error> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(MultiGzDecoder::new(BufReader::with_capacity(
            1 << 16,
            file,
        ))))
    } else {
        Ok(Box::new(file))
    }
}

/// Whether a path names a gzip file.
pub fn is_gzip(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

/// Reads `input` and calls `each` with line-aligned chunks (every chunk ends with a newline,
/// except possibly the last). Gzip files are inflated on a helper thread. `each` returns false
/// to stop early.
pub fn for_each_chunk(input: &Input, each: &mut dyn FnMut(&[u8]) -> bool) -> Result<(), Error> {
    match input {
        Input::Bytes(data) => {
            each(data);
            Ok(())
        }
        Input::Stdin => chunks_of(io::stdin().lock(), Path::new("-"), each),
        Input::File(path) => {
            let reader = open(path)?;
            if is_gzip(path) {
                chunks_threaded(reader, path, each)
            } else {
                chunks_of(reader, path, each)
            }
        }
    }
}

/// Fills `buf` from `reader` until it holds at least one full chunk or the input ends; returns
/// how many bytes at the front form whole lines (all of them at the end of input).
fn fill(reader: &mut dyn Read, buf: &mut Vec<u8>, path: &Path) -> Result<(usize, bool), Error> {
    let mut eof = false;
    while buf.len() < CHUNK {
        let old = buf.len();
        buf.resize(old + CHUNK, 0);
        let n = loop {
            match reader.read(&mut buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    buf.truncate(old);
                    return Err(Error::io(path, e));
                }
            }
        };
        buf.truncate(old + n);
        if n == 0 {
            eof = true;
            break;
        }
    }
    if eof {
        return Ok((buf.len(), true));
    }
    match memchr::memrchr(b'\n', buf) {
        Some(i) => Ok((i + 1, false)),
        None => Ok((0, false)),
    }
}

fn chunks_of(
    mut reader: impl Read,
    path: &Path,
    each: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<(), Error> {
    let mut buf = Vec::with_capacity(2 * CHUNK);
    loop {
        let (whole, eof) = fill(&mut reader, &mut buf, path)?;
        if whole > 0 && !each(&buf[..whole]) {
            return Ok(());
        }
        if eof {
            return Ok(());
        }
        buf.drain(..whole);
    }
}

fn chunks_threaded(
    mut reader: Box<dyn Read + Send>,
    path: &Path,
    each: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<(), Error> {
    let (tx, rx) = mpsc::sync_channel::<Result<Vec<u8>, Error>>(4);
    let (back_tx, back_rx) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        let p = path.to_path_buf();
        scope.spawn(move || {
            let mut buf: Vec<u8> = Vec::with_capacity(2 * CHUNK);
            loop {
                match fill(&mut reader, &mut buf, &p) {
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                    Ok((whole, eof)) => {
                        let mut out = back_rx.try_recv().unwrap_or_default();
                        out.clear();
                        out.extend_from_slice(&buf[..whole]);
                        if !out.is_empty() && tx.send(Ok(out)).is_err() {
                            return;
                        }
                        if eof {
                            return;
                        }
                        buf.drain(..whole);
                    }
                }
            }
        });
        for chunk in rx {
            let chunk = chunk?;
            if !each(&chunk) {
                return Ok(());
            }
            let _ = back_tx.send(chunk);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_prefers_plain_then_gz() {
        let dir = std::env::temp_dir().join(format!("pmgfast-tracking-rot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let base = dir.join("syslog");
        std::fs::write(&base, b"").unwrap();
        std::fs::write(dir.join("syslog.1"), b"").unwrap();
        std::fs::write(dir.join("syslog.2.gz"), b"").unwrap();
        assert_eq!(rotated_path(&base, 0), Some(base.clone()));
        assert_eq!(rotated_path(&base, 1), Some(dir.join("syslog.1")));
        assert_eq!(rotated_path(&base, 2), Some(dir.join("syslog.2.gz")));
        assert_eq!(rotated_path(&base, 3), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn chunks_end_on_lines() {
        let mut text = Vec::new();
        for i in 0..200_000 {
            text.extend_from_slice(format!("line {i} with some text\n").as_bytes());
        }
        text.extend_from_slice(b"last line without newline");
        let mut seen = Vec::new();
        chunks_of(&text[..], Path::new("x"), &mut |c: &[u8]| {
            assert!(c.ends_with(b"\n") || c.ends_with(b"newline"));
            seen.extend_from_slice(c);
            true
        })
        .unwrap();
        assert_eq!(seen, text);
    }
}
