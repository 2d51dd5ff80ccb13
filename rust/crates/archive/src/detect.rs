//! Which archive format a byte string is, from its signature.

/// The archive formats the lister reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Zip,
    Tar,
    Gzip,
    Bzip2,
    Xz,
    SevenZ,
    Rar,
    Cpio,
}

impl Format {
    /// Short lowercase name (`"zip"`, `"tar"`, `"gzip"`, `"bzip2"`, `"xz"`, `"7z"`, `"rar"`, `"cpio"`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Zip => "zip",
            Format::Tar => "tar",
            Format::Gzip => "gzip",
            Format::Bzip2 => "bzip2",
            Format::Xz => "xz",
            Format::SevenZ => "7z",
            Format::Rar => "rar",
            Format::Cpio => "cpio",
        }
    }
}

/// The format of `data`, by signature, or `None` when it is no archive this crate reads.
pub fn detect(data: &[u8]) -> Option<Format> {
    let starts = |sig: &[u8]| data.starts_with(sig);
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") || starts(b"PK\x07\x08PK\x03\x04") {
        Some(Format::Zip)
    } else if starts(b"\x1f\x8b") {
        Some(Format::Gzip)
    } else if starts(b"BZh") && data.get(3).is_some_and(|d| (b'1'..=b'9').contains(d)) {
        Some(Format::Bzip2)
    } else if starts(b"\xfd7zXZ\x00") {
        Some(Format::Xz)
    } else if starts(b"7z\xbc\xaf\x27\x1c") {
        Some(Format::SevenZ)
    } else if starts(b"Rar!\x1a\x07\x00") || starts(b"Rar!\x1a\x07\x01\x00") {
        Some(Format::Rar)
    } else if starts(b"070701")
        || starts(b"070702")
        || starts(b"070707")
        || starts(b"\xc7\x71")
        || starts(b"\x71\xc7")
    {
        Some(Format::Cpio)
    } else if is_tar(data) {
        Some(Format::Tar)
    } else {
        None
    }
}

/// A tar archive: the `ustar` magic, or a first header whose checksum is right.
pub fn is_tar(data: &[u8]) -> bool {
    let Some(header) = data.get(..512) else {
        return false;
    };
    if &header[257..262] == b"ustar" {
        return true;
    }
    if header[0] == 0 {
        return false;
    }
    let field = &header[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .collect();
    if digits.is_empty() {
        return false;
    }
    let Ok(recorded) = u32::from_str_radix(std::str::from_utf8(&digits).unwrap_or("x"), 8) else {
        return false;
    };
    let sum: u32 = header
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    sum == recorded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures() {
        assert_eq!(detect(b"PK\x03\x04rest"), Some(Format::Zip));
        assert_eq!(detect(b"\x1f\x8b\x08"), Some(Format::Gzip));
        assert_eq!(detect(b"BZh9"), Some(Format::Bzip2));
        assert_eq!(detect(b"BZhx"), None);
        assert_eq!(detect(b"\xfd7zXZ\x00"), Some(Format::Xz));
        assert_eq!(detect(b"7z\xbc\xaf\x27\x1c"), Some(Format::SevenZ));
        assert_eq!(detect(b"Rar!\x1a\x07\x01\x00"), Some(Format::Rar));
        assert_eq!(detect(b"070701"), Some(Format::Cpio));
        assert_eq!(detect(b"plain text"), None);
        assert_eq!(detect(b""), None);
        assert_eq!(detect(&[0u8; 1024]), None);
    }
}
