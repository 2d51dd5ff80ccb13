//! Single-stream compressors (gzip, bzip2, xz): one member, or a tar inside.
use std::io::Read;

use crate::detect::{is_tar, Format};
use crate::walk::{Content, Stop, Walk};

/// The name of the decompressed file: gzip's recorded name, else the part's name without its
/// compression suffix (`.tgz` and friends become `.tar`).
fn inner_name(name: &str, recorded: Option<&[u8]>) -> String {
    if let Some(recorded) = recorded.filter(|r| !r.is_empty()) {
        return String::from_utf8_lossy(recorded).into_owned();
    }
    let lower = name.to_ascii_lowercase();
    for (suffix, replacement) in [
        (".tgz", ".tar"),
        (".taz", ".tar"),
        (".tbz2", ".tar"),
        (".tbz", ".tar"),
        (".txz", ".tar"),
        (".gz", ""),
        (".z", ""),
        (".bz2", ""),
        (".bz", ""),
        (".xz", ""),
    ] {
        if lower.len() > suffix.len() && lower.ends_with(suffix) {
            return format!("{}{replacement}", &name[..name.len() - suffix.len()]);
        }
    }
    if name.is_empty() {
        "data".to_owned()
    } else {
        name.to_owned()
    }
}

pub(crate) fn list(
    w: &mut Walk,
    format: Format,
    data: &[u8],
    name: &str,
    depth: u32,
    prefix: &str,
) -> Result<(), Stop> {
    let (inner, recorded) = match format {
        Format::Gzip => {
            let mut decoder = flate2::read::MultiGzDecoder::new(data);
            let inner = w.read(&mut decoder)?;
            let recorded = decoder
                .header()
                .and_then(|h| h.filename())
                .map(<[u8]>::to_vec);
            (inner, recorded)
        }
        Format::Bzip2 => (w.read(&mut bzip2::read::MultiBzDecoder::new(data))?, None),
        _ => {
            let mut reader: Box<dyn Read> = Box::new(lzma_rust2::XzReader::new(data, true));
            (w.read(&mut reader)?, None)
        }
    };
    if is_tar(&inner) {
        // The tar's members are read (and counted) again as they are listed.
        w.uncount(inner.len());
        return super::tar::list(w, &inner, depth, prefix);
    }
    let path = inner_name(name, recorded.as_deref());
    let size = inner.len() as u64;
    w.member(&path, size, Content::Bytes(inner), depth, prefix)
}

#[cfg(test)]
mod tests {
    use super::inner_name;

    #[test]
    fn names() {
        assert_eq!(inner_name("a.txt.gz", None), "a.txt");
        assert_eq!(inner_name("A.TGZ", None), "A.tar");
        assert_eq!(inner_name("x.gz", Some(b"orig.doc")), "orig.doc");
        assert_eq!(inner_name("", None), "data");
        assert_eq!(inner_name("noext", None), "noext");
    }
}
