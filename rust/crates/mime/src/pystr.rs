//! Byte-string helpers with the exact semantics of the Python `str` methods the stdlib `email`
//! package uses (`strip`, `lower`, `partition`), so the native walk and the pure twin agree.
//!
//! Header text is handled as bytes: a byte >= 0x80 stands for the surrogate escape the stdlib
//! parser turns it into, which no `str` method treats as whitespace or letters.

/// Python's `str.isspace()` restricted to the ASCII range (what a surrogate-escaped string holds).
pub fn is_py_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f | b' ')
}

/// `str.strip()`.
pub fn strip(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_py_space(b)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&b| !is_py_space(b))
        .map_or(start, |i| i + 1);
    &s[start..end.max(start)]
}

/// `str.rstrip()`.
pub fn rstrip(s: &[u8]) -> &[u8] {
    let end = s
        .iter()
        .rposition(|&b| !is_py_space(b))
        .map_or(0, |i| i + 1);
    &s[..end]
}

/// `str.lower()` on an ASCII/surrogate string.
pub fn lower(s: &[u8]) -> Vec<u8> {
    s.to_ascii_lowercase()
}

/// `email.utils.unquote`: one pair of surrounding double quotes (unescaping `\\` and `\"`)
/// or angle brackets removed.
pub fn unquote(s: &[u8]) -> Vec<u8> {
    if s.len() > 1 {
        if s[0] == b'"' && s[s.len() - 1] == b'"' {
            let inner = replace(&s[1..s.len() - 1], b"\\\\", b"\\");
            return replace(&inner, b"\\\"", b"\"");
        }
        if s[0] == b'<' && s[s.len() - 1] == b'>' {
            return s[1..s.len() - 1].to_vec();
        }
    }
    s.to_vec()
}

/// `email.utils.quote`: backslashes and double quotes escaped.
pub fn quote(s: &[u8]) -> Vec<u8> {
    let a = replace(s, b"\\", b"\\\\");
    replace(&a, b"\"", b"\\\"")
}

/// `str.replace(old, new)` (non-overlapping, left to right).
pub fn replace(s: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = memchr::memmem::find(rest, old) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(new);
        rest = &rest[i + old.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// `str.count(sub)` (non-overlapping).
pub fn count(s: &[u8], sub: &[u8]) -> usize {
    memchr::memmem::find_iter(s, sub).count()
}

/// A trailing line ending (`\r\n`, `\r` or `\n`) removed, like `NLCRE_eol`.
pub fn strip_eol(s: &[u8]) -> &[u8] {
    if s.ends_with(b"\r\n") {
        &s[..s.len() - 2]
    } else if s.ends_with(b"\n") || s.ends_with(b"\r") {
        &s[..s.len() - 1]
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_like_python() {
        assert_eq!(strip(b" \x1c a b \r\n"), b"a b");
        assert_eq!(strip(b"   "), b"");
        assert_eq!(rstrip(b"ab \t"), b"ab");
    }

    #[test]
    fn unquote_like_python() {
        assert_eq!(unquote(b"\"a\\\"b\""), b"a\"b");
        assert_eq!(unquote(b"<x>"), b"x");
        assert_eq!(unquote(b"\""), b"\"");
    }
}
