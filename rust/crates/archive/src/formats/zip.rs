//! Zip: the central directory's entries, decompressed one by one in memory.
use std::io::Cursor;

use super::bad;
use crate::walk::{Content, Stop, Walk};

pub(crate) fn list(w: &mut Walk, data: &[u8], depth: u32, prefix: &str) -> Result<(), Stop> {
    let mut archive = ::zip::ZipArchive::new(Cursor::new(data)).map_err(bad)?;
    for index in 0..archive.len() {
        w.check_time()?;
        let raw = archive.by_index_raw(index).map(|file| {
            let name = match file.name() {
                Ok(name) => name.into_owned(),
                Err(_) => String::from_utf8_lossy(file.name_raw()).into_owned(),
            };
            (name, file.size(), file.encrypted(), file.is_dir())
        });
        let (name, size, encrypted, is_dir) = match raw {
            Ok(entry) => entry,
            Err(err) => {
                // An unsupported method (implode, ...) fails even the raw entry: the name
                // still comes from the central directory, and the part is unreadable.
                let name = archive
                    .name_for_index(index)
                    .and_then(Result::ok)
                    .map(|n| n.into_owned())
                    .ok_or_else(|| bad(&err))?;
                w.note(format!("zip member {name}: {err}"));
                let content = Content::Unavailable { encrypted: false };
                if !name.ends_with('/') {
                    w.member(&name, 0, content, depth, prefix)?;
                }
                continue;
            }
        };
        if is_dir {
            continue;
        }
        let content = if encrypted {
            Content::Unavailable { encrypted: true }
        } else {
            match archive.by_index(index) {
                Ok(mut file) => Content::Bytes(w.read(&mut file)?),
                Err(err) => {
                    // An unsupported method (implode, ...): listed, but the part is unreadable.
                    w.note(format!("zip member {name}: {err}"));
                    Content::Unavailable { encrypted: false }
                }
            }
        };
        w.member(&name, size, content, depth, prefix)?;
    }
    Ok(())
}
