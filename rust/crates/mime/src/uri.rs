//! URIs and their host names found in text, for URI blocklists (SURBL) later.
//!
//! A URI starts at `http://`, `https://` or `ftp://` (any case), or at `www.` not preceded by
//! a letter, digit or one of `.-/@`; it runs to white space, a non-ASCII character or one of
//! `<>"'`(){}[]|\^`, and loses trailing `.,;:!?`. Its host is what follows the scheme up to
//! `/?#`, without user info and port, lower-cased, trailing dots removed; a URI whose host
//! has no dot is ignored. The pure twin implements the same scan.

const fn stop_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = c <= b' ' as usize || c >= 0x7f;
        c += 1;
    }
    let extra = b"<>\"'`(){}[]|\\^";
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}

static STOPS: [bool; 256] = stop_table();

fn stops(c: u8) -> bool {
    STOPS[c as usize]
}

fn starts_ci(s: &[u8], p: &[u8]) -> bool {
    s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p)
}

/// The host of a URI found by [`scan`], if it has one worth keeping (not yet lower-cased).
pub fn host_of(uri: &str) -> Option<&str> {
    let b = uri.as_bytes();
    let rest = match b.windows(3).position(|w| w == b"://") {
        Some(p) => &b[p + 3..],
        None => b,
    };
    let end = rest
        .iter()
        .position(|c| b"/?#".contains(c))
        .unwrap_or(rest.len());
    let mut host = &rest[..end];
    if let Some(at) = memchr::memrchr(b'@', host) {
        host = &host[at + 1..];
    }
    if let Some(colon) = memchr::memchr(b':', host) {
        host = &host[..colon];
    }
    while let Some(h) = host.strip_suffix(b".") {
        host = h;
    }
    if host.is_empty() || !host.contains(&b'.') {
        return None;
    }
    // `host` is ASCII (the scan stops at non-ASCII) and cut at ASCII bytes
    std::str::from_utf8(host).ok()
}

/// Calls `found(uri, host)` for every URI in `text`, in order; `host` may still need
/// ASCII lower-casing.
pub fn scan(text: &str, mut found: impl FnMut(&str, &str)) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] | 0x20;
        let len = if c == b'h' && starts_ci(&b[i..], b"http://") {
            7
        } else if c == b'h' && starts_ci(&b[i..], b"https://") {
            8
        } else if c == b'f' && starts_ci(&b[i..], b"ftp://") {
            6
        } else if c == b'w'
            && starts_ci(&b[i..], b"www.")
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b".-/@".contains(&b[i - 1])))
        {
            4
        } else {
            i += 1;
            continue;
        };
        let mut end = i + len;
        while end < b.len() && !stops(b[end]) {
            end += 1;
        }
        while end > i + len && b".,;:!?".contains(&b[end - 1]) {
            end -= 1;
        }
        let uri = &text[i..end];
        if let Some(host) = host_of(uri) {
            found(uri, host);
        }
        i = end.max(i + len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds() {
        let mut v = Vec::new();
        scan("see http://User@Example.COM:80/x?y. and www.foo.org, not awww.x.y nor http://localhost/", |u, h| {
            v.push((u.to_owned(), h.to_ascii_lowercase()))
        });
        assert_eq!(
            v,
            vec![
                (
                    "http://User@Example.COM:80/x?y".to_owned(),
                    "example.com".to_owned()
                ),
                ("www.foo.org".to_owned(), "www.foo.org".to_owned()),
            ]
        );
    }
}
