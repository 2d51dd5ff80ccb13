//! Tar (plain; compressed ones arrive here decompressed): its regular files.
use super::bad;
use crate::walk::{Content, Stop, Walk};

pub(crate) fn list(w: &mut Walk, data: &[u8], depth: u32, prefix: &str) -> Result<(), Stop> {
    let mut archive = ::tar::Archive::new(data);
    for entry in archive.entries().map_err(bad)? {
        w.check_time()?;
        let mut entry = entry.map_err(bad)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let size = entry.size();
        let content = w.read(&mut entry)?;
        w.member(&path, size, Content::Bytes(content), depth, prefix)?;
    }
    Ok(())
}
