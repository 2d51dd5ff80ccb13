//! 7z: the header's file list, and the members decompressed in order (bounded).
use std::io::Cursor;

use sevenz_rust2::{ArchiveReader, Error, Password};

use crate::walk::{Content, Stop, Walk};

/// Memory the 7z decoder may allocate for headers and dictionaries, in KiB.
const MEMORY_LIMIT_KB: usize = 128 * 1024;

fn is_password(err: &Error) -> bool {
    matches!(err, Error::PasswordRequired | Error::MaybeBadPassword(_))
}

pub(crate) fn list(w: &mut Walk, data: &[u8], depth: u32, prefix: &str) -> Result<(), Stop> {
    let mut reader =
        ArchiveReader::new_with_memory_limit(Cursor::new(data), Password::empty(), MEMORY_LIMIT_KB)
            .map_err(|err| {
                if is_password(&err) {
                    Stop::Bad("encrypted headers: the file list cannot be read".into())
                } else {
                    Stop::Bad(err.to_string())
                }
            })?;
    reader.set_thread_count(1);
    let files: Vec<(String, u64)> = reader
        .archive()
        .files
        .iter()
        .filter(|f| !f.is_directory)
        .map(|f| (f.name.clone(), f.size))
        .collect();
    let mut listed = 0usize;
    let mut stop: Option<Stop> = None;
    let result = reader.for_each_entries(|entry, content| {
        if entry.is_directory {
            return Ok(true);
        }
        let outcome = w.read(content).and_then(|bytes| {
            w.member(
                &entry.name,
                entry.size,
                Content::Bytes(bytes),
                depth,
                prefix,
            )
        });
        match outcome {
            Ok(()) => {
                listed += 1;
                Ok(true)
            }
            Err(s) => {
                stop = Some(s);
                Err(Error::Other("listing stopped".into()))
            }
        }
    });
    if let Some(s) = stop {
        return Err(s);
    }
    match result {
        Ok(()) => Ok(()),
        Err(err) if is_password(&err) => {
            // Encrypted content: the names are known, the content is not.
            for (name, size) in files.iter().skip(listed) {
                w.member(
                    name,
                    *size,
                    Content::Unavailable { encrypted: true },
                    depth,
                    prefix,
                )?;
            }
            Ok(())
        }
        Err(err) => Err(Stop::Bad(err.to_string())),
    }
}
