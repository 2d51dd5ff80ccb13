//! Member types: the pluggable classifier and a minimal built-in one.
//!
//! The real detector (freedesktop shared-mime-info magic and globs) lives in the MIME crate;
//! the lister only needs `classify(name, head) -> (magic, glob)`. [`BuiltinClassifier`] knows
//! the archive formats themselves and a few common types, with freedesktop's type names.

/// How many leading bytes of a member a classifier is shown.
pub const HEAD_LEN: usize = 4096;

/// A member's types: from its content (`magic`) and from its name (`glob`, if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Types {
    pub magic: String,
    pub glob: Option<String>,
}

/// Decides a member's types from its file name and its first [`HEAD_LEN`] bytes.
pub trait Classifier {
    /// Types of the member called `name` whose content starts with `head`.
    fn classify(&self, name: &str, head: &[u8]) -> Types {
        Types {
            magic: self.magic(head),
            glob: self.glob(name),
        }
    }
    /// Type from the content.
    fn magic(&self, head: &[u8]) -> String;
    /// Type from the name, or `None` when no pattern matches.
    fn glob(&self, name: &str) -> Option<String>;
}

/// A small signature and extension table (freedesktop type names).
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltinClassifier;

const MAGIC: &[(&[u8], &str)] = &[
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"BZh", "application/x-bzip2"),
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"070701", "application/x-cpio"),
    (b"070702", "application/x-cpio"),
    (b"070707", "application/x-cpio"),
    (b"\xc7\x71", "application/x-cpio"),
    (b"\x71\xc7", "application/x-cpio"),
    (b"MZ", "application/x-msdownload"),
    (b"\x7fELF", "application/x-executable"),
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "application/x-ole-storage",
    ),
    (b"{\\rtf", "application/rtf"),
];

/// Longest suffixes first, so `.tar.gz` wins over `.gz`.
const GLOBS: &[(&str, &str)] = &[
    (".tar.gz", "application/x-compressed-tar"),
    (".tar.bz2", "application/x-bzip2-compressed-tar"),
    (".tar.xz", "application/x-xz-compressed-tar"),
    (".tgz", "application/x-compressed-tar"),
    (".tbz2", "application/x-bzip2-compressed-tar"),
    (".txz", "application/x-xz-compressed-tar"),
    (".zip", "application/zip"),
    (".tar", "application/x-tar"),
    (".gz", "application/gzip"),
    (".bz2", "application/x-bzip2"),
    (".xz", "application/x-xz"),
    (".7z", "application/x-7z-compressed"),
    (".rar", "application/vnd.rar"),
    (".cpio", "application/x-cpio"),
    (".exe", "application/x-msdownload"),
    (".dll", "application/x-msdownload"),
    (".com", "application/x-msdownload"),
    (".bat", "application/x-bat"),
    (".js", "text/javascript"),
    (".vbs", "text/vbscript"),
    (".pdf", "application/pdf"),
    (".doc", "application/msword"),
    (".png", "image/png"),
    (".jpg", "image/jpeg"),
    (".jpeg", "image/jpeg"),
    (".gif", "image/gif"),
    (".html", "text/html"),
    (".htm", "text/html"),
    (".txt", "text/plain"),
    (".eml", "message/rfc822"),
];

impl Classifier for BuiltinClassifier {
    fn magic(&self, head: &[u8]) -> String {
        if head.is_empty() {
            return "application/x-zerosize".into();
        }
        if let Some((_, t)) = MAGIC.iter().find(|(sig, _)| head.starts_with(sig)) {
            return (*t).into();
        }
        if head.len() > 262 && &head[257..262] == b"ustar" {
            return "application/x-tar".into();
        }
        // A multi-byte character cut at the end of the head is still text.
        let utf8 = std::str::from_utf8(head).map_or_else(|e| e.error_len().is_none(), |_| true);
        let text = utf8
            && !head
                .iter()
                .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c));
        if text {
            "text/plain".into()
        } else {
            "application/octet-stream".into()
        }
    }

    fn glob(&self, name: &str) -> Option<String> {
        let lower = name.to_ascii_lowercase();
        GLOBS
            .iter()
            .find(|(suffix, _)| lower.len() > suffix.len() && lower.ends_with(suffix))
            .map(|(_, t)| (*t).to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_types() {
        let c = BuiltinClassifier;
        assert_eq!(c.magic(b"MZ\x90\x00"), "application/x-msdownload");
        assert_eq!(c.magic(b"hello\n"), "text/plain");
        assert_eq!(c.magic(b"\x00\x01"), "application/octet-stream");
        assert_eq!(c.magic(b""), "application/x-zerosize");
        assert_eq!(
            c.glob("A.TAR.GZ").as_deref(),
            Some("application/x-compressed-tar")
        );
        assert_eq!(c.glob("x.gz").as_deref(), Some("application/gzip"));
        assert_eq!(c.glob(".exe"), None);
        assert_eq!(c.glob("README"), None);
    }
}
