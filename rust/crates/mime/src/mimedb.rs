//! Content types from bytes (magic) and from file names (globs), xdgmime-style, over the table
//! `pmgfast/mime/mimedb.txt` generated from shared-mime-info's `freedesktop.org.xml`. The pure
//! twin reads the same file, so both walks name types identically.
//!
//! Magic: entries by priority (highest first, file order on ties); an entry matches when one
//! of its top-level matches does, a match being a byte compare (under a mask) at any offset in
//! its range whose sub-matches (if any) also match one. Nothing matches: empty data is
//! `application/x-zerosize`, data whose first 128 bytes hold no control character but TAB,
//! LF, CR is `text/plain`, anything else `application/octet-stream` (xdgmime's fallbacks).
//!
//! Globs: a literal name first (case-sensitive, then ASCII case-insensitive), then the longest
//! matching `*.suffix` (ties: higher weight, then file order), then full fnmatch patterns
//! (highest weight, file order); nothing: `application/octet-stream`.
use std::sync::OnceLock;

const TABLE: &str = include_str!("../../../../pmgfast/mime/mimedb.txt");

/// How much of a body magic looks at (PMG reads the first 40 KiB).
pub const MAGIC_BYTES: usize = 40 * 1024;
pub const OCTET_STREAM: &str = "application/octet-stream";

struct Match {
    start: usize,
    end: usize,
    value: Vec<u8>,
    finder: memchr::memmem::Finder<'static>,
    mask: Option<Vec<u8>>,
    children: Vec<Match>,
}

struct Entry {
    priority: u32,
    mime: &'static str,
    matches: Vec<Match>,
    /// When every top-level match is an unmasked compare at offset 0: the first bytes that
    /// can match (a quick pre-check; 256 flags).
    first: Option<Box<[bool; 256]>>,
}

struct Glob {
    weight: u32,
    case_sensitive: bool,
    mime: &'static str,
    pattern: &'static str,
    /// The pattern as compared: ASCII lower-cased unless case-sensitive (suffix globs: the
    /// part after `*`).
    key: String,
    chars: Vec<char>,
}

struct Db {
    magic: Vec<Entry>,
    literal: Vec<Glob>,
    suffix: Vec<Glob>,
    /// Suffix globs by their last `.ext` (ASCII lower-cased); the rest are in `suffix_other`.
    suffix_by_ext: std::collections::HashMap<String, Vec<usize>>,
    suffix_other: Vec<usize>,
    full: Vec<Glob>,
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

fn push_match(list: &mut Vec<Match>, level: usize, m: Match) {
    if level == 0 {
        list.push(m);
    } else if let Some(last) = list.last_mut() {
        push_match(&mut last.children, level - 1, m);
    }
}

fn load() -> Db {
    let mut db = Db {
        magic: Vec::new(),
        literal: Vec::new(),
        suffix: Vec::new(),
        suffix_by_ext: Default::default(),
        suffix_other: Vec::new(),
        full: Vec::new(),
    };
    for line in TABLE.lines() {
        let f: Vec<&'static str> = line.split('\t').collect();
        match f.first().copied() {
            Some("G") if f.len() == 5 => {
                let case_sensitive = f[2] == "1";
                let pattern = f[4];
                let key = if case_sensitive {
                    pattern.to_owned()
                } else {
                    pattern.to_ascii_lowercase()
                };
                let mut g = Glob {
                    weight: f[1].parse().unwrap_or(50),
                    case_sensitive,
                    mime: f[3],
                    pattern,
                    chars: key.chars().collect(),
                    key,
                };
                let special = |s: &str| s.contains(['*', '?', '[']);
                if !special(g.pattern) {
                    db.literal.push(g);
                } else if g.pattern.starts_with('*') && !special(&g.pattern[1..]) {
                    g.key.remove(0);
                    db.suffix.push(g);
                } else {
                    db.full.push(g);
                }
            }
            Some("M") if f.len() == 3 => db.magic.push(Entry {
                priority: f[1].parse().unwrap_or(50),
                mime: f[2],
                matches: Vec::new(),
                first: None,
            }),
            Some("m") if f.len() == 6 => {
                let value = hex(f[4]);
                let m = Match {
                    start: f[2].parse().unwrap_or(0),
                    end: f[3].parse().unwrap_or(0),
                    finder: memchr::memmem::Finder::new(&value).into_owned(),
                    value,
                    mask: (!f[5].is_empty()).then(|| hex(f[5])),
                    children: Vec::new(),
                };
                if let Some(e) = db.magic.last_mut() {
                    push_match(&mut e.matches, f[1].parse().unwrap_or(0), m);
                }
            }
            _ => {}
        }
    }
    db.magic.sort_by_key(|e| std::cmp::Reverse(e.priority));
    for e in &mut db.magic {
        let at_zero =
            |m: &Match| m.start == 0 && m.end == 0 && m.mask.is_none() && !m.value.is_empty();
        if !e.matches.is_empty() && e.matches.iter().all(at_zero) {
            let mut first = Box::new([false; 256]);
            for m in &e.matches {
                first[m.value[0] as usize] = true;
            }
            e.first = Some(first);
        }
    }
    for (i, g) in db.suffix.iter().enumerate() {
        match g.key.rfind('.') {
            Some(dot) => db
                .suffix_by_ext
                .entry(g.key[dot..].to_ascii_lowercase())
                .or_default()
                .push(i),
            None => db.suffix_other.push(i),
        }
    }
    db
}

fn db() -> &'static Db {
    static DB: OnceLock<Db> = OnceLock::new();
    DB.get_or_init(load)
}

fn match_at(m: &Match, data: &[u8]) -> bool {
    let n = m.value.len();
    if n == 0 {
        return false;
    }
    let hit = match &m.mask {
        None if m.start == m.end => data.get(m.start..m.start + n) == Some(&m.value[..]),
        None => {
            if m.start + n > data.len() {
                false
            } else {
                let stop = (m.end + n).min(data.len());
                m.finder.find(&data[m.start..stop]).is_some()
            }
        }
        Some(mask) => (m.start..=m.end)
            .take_while(|o| o + n <= data.len())
            .any(|o| {
                m.value
                    .iter()
                    .zip(mask)
                    .zip(&data[o..o + n])
                    .all(|((v, k), d)| v & k == d & k)
            }),
    };
    hit && (m.children.is_empty() || m.children.iter().any(|c| match_at(c, data)))
}

/// The type of `data` by content (only the first [`MAGIC_BYTES`] are looked at).
pub fn magic(data: &[u8]) -> &'static str {
    let data = &data[..data.len().min(MAGIC_BYTES)];
    if data.is_empty() {
        return "application/x-zerosize";
    }
    for e in &db().magic {
        if e.first.as_ref().is_some_and(|f| !f[data[0] as usize]) {
            continue;
        }
        if e.matches.iter().any(|m| match_at(m, data)) {
            return e.mime;
        }
    }
    if data
        .iter()
        .take(128)
        .any(|&c| c < 32 && !matches!(c, b'\t' | b'\n' | b'\r'))
    {
        OCTET_STREAM
    } else {
        "text/plain"
    }
}

fn fnmatch(p: &[char], s: &[char]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let (mut star_p, mut star_s) = (None, 0);
    while si < s.len() {
        if pi < p.len() && p[pi] == '*' {
            star_p = Some(pi);
            star_s = si;
            pi += 1;
            continue;
        }
        let adv = if pi < p.len() {
            match p[pi] {
                '?' => Some(1),
                '[' => class(&p[pi..], s[si]),
                c => (c == s[si]).then_some(1),
            }
        } else {
            None
        };
        if let Some(n) = adv {
            pi += n;
            si += 1;
        } else if let Some(sp) = star_p {
            pi = sp + 1;
            star_s += 1;
            si = star_s;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Length of a `[...]` class at the start of `p` (1 when unterminated: a literal `[`).
fn class_len(p: &[char]) -> usize {
    let mut i = 1;
    if p.get(i) == Some(&'!') {
        i += 1;
    }
    if p.get(i) == Some(&']') {
        i += 1;
    }
    while i < p.len() && p[i] != ']' {
        i += 1;
    }
    if i < p.len() {
        i + 1
    } else {
        1
    }
}

fn class(p: &[char], c: char) -> Option<usize> {
    let len = class_len(p);
    if len == 1 {
        return (c == '[').then_some(1);
    }
    let body = &p[1..len - 1];
    let (neg, body) = match body.first() {
        Some('!') => (true, &body[1..]),
        _ => (false, body),
    };
    let mut hit = false;
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == '-' {
            hit |= body[i] <= c && c <= body[i + 2];
            i += 3;
        } else {
            hit |= body[i] == c;
            i += 1;
        }
    }
    (hit != neg).then_some(len)
}

/// The type of a file by its name.
pub fn glob(name: &str) -> &'static str {
    let d = db();
    let lower = name.to_ascii_lowercase();
    if let Some(g) = d.literal.iter().find(|g| g.pattern == name) {
        return g.mime;
    }
    if let Some(g) = d
        .literal
        .iter()
        .find(|g| !g.case_sensitive && g.key == lower)
    {
        return g.mime;
    }
    let mut best: Option<&Glob> = None;
    let by_ext = lower
        .rfind('.')
        .and_then(|dot| d.suffix_by_ext.get(&lower[dot..]));
    for g in by_ext
        .into_iter()
        .flatten()
        .chain(&d.suffix_other)
        .map(|&i| &d.suffix[i])
    {
        let hit = if g.case_sensitive {
            name.ends_with(&g.key)
        } else {
            lower.ends_with(&g.key)
        };
        if hit && best.is_none_or(|b| (g.pattern.len(), g.weight) > (b.pattern.len(), b.weight)) {
            best = Some(g);
        }
    }
    if let Some(g) = best {
        return g.mime;
    }
    let chars: Vec<char> = name.chars().collect();
    let lchars: Vec<char> = lower.chars().collect();
    let mut best: Option<&Glob> = None;
    for g in &d.full {
        let hit = fnmatch(&g.chars, if g.case_sensitive { &chars } else { &lchars });
        if hit && best.is_none_or(|b| g.weight > b.weight) {
            best = Some(g);
        }
    }
    best.map_or(OCTET_STREAM, |g| g.mime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_types() {
        assert_eq!(
            magic(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0"),
            "application/x-executable"
        );
        assert_eq!(magic(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(magic(b"PK\x03\x04\x14\0\0\0\x08\0"), "application/zip");
        assert_eq!(
            magic(b"MZ\x90\0"),
            "application/vnd.microsoft.portable-executable"
        );
        assert_eq!(magic(b"hello world\n"), "text/plain");
        assert_eq!(magic(b"\x01\x02"), OCTET_STREAM);
        assert_eq!(magic(b""), "application/x-zerosize");
    }

    #[test]
    fn glob_types() {
        assert_eq!(glob("a.PNG"), "image/png");
        assert_eq!(glob("x.tar.gz"), "application/x-compressed-tar");
        assert_eq!(
            glob("setup.exe"),
            "application/vnd.microsoft.portable-executable"
        );
        assert_eq!(glob("noext"), OCTET_STREAM);
        assert_eq!(glob("README"), "text/x-readme");
        assert_eq!(glob("foo.1"), "application/x-troff-man");
    }

    #[test]
    fn fnmatch_classes() {
        let f = |p: &str, s: &str| {
            fnmatch(
                &p.chars().collect::<Vec<_>>(),
                &s.chars().collect::<Vec<_>>(),
            )
        };
        assert!(f("*.[1-9]", "a.3"));
        assert!(!f("*.[!1-9]", "a.3"));
        assert!(f("[0-9][0-9][0-9].vdr", "001.vdr"));
        assert!(f("a[", "a["));
        assert!(!f("a?c", "ac"));
    }
}
