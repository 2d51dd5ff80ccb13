//! Plain text from HTML, by a small fixed algorithm the pure twin repeats step for step:
//!
//! - comments `<!-- ... -->` and the content of `<script>`/`<style>` are dropped;
//! - every other tag is dropped; block tags end a line, table cells become a space;
//! - entities: decimal/hex character references (invalid ones -> U+FFFD) and the named ones
//!   in [`ENTITIES`]; anything else stays as written;
//! - per line, runs of white space become one space, lines are trimmed, empty lines dropped.

/// Named entities decoded (the common ones in mail).
pub const ENTITIES: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", '\u{a0}'),
    ("copy", '©'),
    ("reg", '®'),
    ("trade", '™'),
    ("hellip", '…'),
    ("mdash", '—'),
    ("ndash", '–'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("ldquo", '“'),
    ("rdquo", '”'),
    ("bull", '•'),
    ("middot", '·'),
    ("laquo", '«'),
    ("raquo", '»'),
    ("euro", '€'),
    ("pound", '£'),
    ("yen", '¥'),
    ("cent", '¢'),
    ("sect", '§'),
    ("para", '¶'),
    ("deg", '°'),
    ("plusmn", '±'),
    ("times", '×'),
    ("divide", '÷'),
    ("shy", '\u{ad}'),
    ("zwnj", '\u{200c}'),
    ("zwj", '\u{200d}'),
];

const BLOCK: &[&[u8]] = &[
    b"br", b"p", b"div", b"tr", b"li", b"h1", b"h2", b"h3", b"h4", b"h5", b"h6", b"table", b"ul",
    b"ol", b"blockquote", b"hr", b"title", b"dt", b"dd", b"pre",
];

fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len()).find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

fn entity(s: &[u8]) -> Option<(char, usize)> {
    // s starts after '&'; returns the char and the bytes consumed after '&'
    let semi = s.iter().take(40).position(|&b| b == b';')?;
    let body = &s[..semi];
    if let Some(num) = body.strip_prefix(b"#") {
        let (digits, radix) = match num.first() {
            Some(b'x') | Some(b'X') => (&num[1..], 16),
            _ => (num, 10),
        };
        if digits.is_empty() || !digits.iter().all(|b| (*b as char).is_digit(radix)) {
            return None;
        }
        let v = digits.iter().fold(0u32, |n, d| {
            n.saturating_mul(radix).saturating_add((*d as char).to_digit(radix).unwrap_or(0))
        });
        let c = if v == 0 { '\u{fffd}' } else { char::from_u32(v).unwrap_or('\u{fffd}') };
        return Some((c, semi + 1));
    }
    ENTITIES.iter().find(|(n, _)| n.as_bytes() == body).map(|(_, c)| (*c, semi + 1))
}

fn is_hws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\u{b}' | '\u{c}' | '\u{a0}')
}

/// The visible text of an HTML document.
pub fn to_text(html: &str) -> String {
    let b = html.as_bytes();
    let mut raw = String::with_capacity(html.len() / 2);
    let mut i = 0;
    let mut run = 0; // start of the pending literal run
    while i < b.len() {
        match b[i] {
            b'<' => {
                if b[i..].starts_with(b"<!--") {
                    raw.push_str(&html[run..i]);
                    i = match memchr::memmem::find(&b[i + 4..], b"-->") {
                        Some(p) => i + 4 + p + 3,
                        None => b.len(),
                    };
                    run = i;
                    continue;
                }
                let Some(close) = memchr::memchr(b'>', &b[i + 1..]) else {
                    i += 1;
                    continue;
                };
                raw.push_str(&html[run..i]);
                let tag = &b[i + 1..i + 1 + close];
                let closing = tag.first() == Some(&b'/');
                let name_start = usize::from(closing);
                let name_len = tag[name_start..].iter().take_while(|c| c.is_ascii_alphanumeric()).count();
                let name = tag[name_start..name_start + name_len].to_ascii_lowercase();
                i = i + 1 + close + 1;
                if !closing && (name == b"script" || name == b"style") {
                    let mut end_tag = b"</".to_vec();
                    end_tag.extend_from_slice(&name);
                    i = match find_ci(&b[i..], &end_tag) {
                        Some(p) => match memchr::memchr(b'>', &b[i + p..]) {
                            Some(q) => i + p + q + 1,
                            None => b.len(),
                        },
                        None => b.len(),
                    };
                } else if BLOCK.contains(&name.as_slice()) {
                    raw.push('\n');
                } else if name == b"td" || name == b"th" {
                    raw.push(' ');
                }
                run = i;
            }
            b'&' => match entity(&b[i + 1..]) {
                Some((c, n)) => {
                    raw.push_str(&html[run..i]);
                    raw.push(c);
                    i += 1 + n;
                    run = i;
                }
                None => i += 1,
            },
            _ => i += 1,
        }
    }
    raw.push_str(&html[run..]);
    let mut out = String::with_capacity(raw.len());
    for line in raw.split('\n') {
        let mut pending_space = false;
        let mut any = false;
        for c in line.chars() {
            if is_hws(c) {
                pending_space = any;
            } else {
                if pending_space {
                    out.push(' ');
                    pending_space = false;
                }
                if !any && !out.is_empty() {
                    out.push('\n');
                }
                any = true;
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text() {
        let h = "<html><head><style>p{}</style><title>T</title></head><body><p>Hi &amp; bye&#33;</p>\
                 <!-- x --><script>var a='<p>';</script><div>a  <b>b</b></div>&bogus; &#0;</body>";
        assert_eq!(to_text(h), "T\nHi & bye!\na b\n&bogus; \u{fffd}");
        assert_eq!(to_text("a < b"), "a < b");
    }
}
