//! Header text decoding: unfolding, RFC 2047 encoded words, and raw 8-bit bytes.
//!
//! The algorithm (the pure twin implements the same one):
//! 1. every CR and LF is removed (unfolding keeps the folding whitespace);
//! 2. encoded words `=?charset[*lang]?B|Q?text?=` (charset and text without `?` or white
//!    space) are found left to right; white space that only separates two encoded words is
//!    dropped; adjacent words in the same charset are joined before conversion, so a
//!    multi-byte character split across words survives (not for the stateful `iso-2022-*`
//!    charsets, whose words each return to ASCII);
//! 3. B text is decoded like a base64 body, Q text with `_` as space; a word that does not
//!    decode is kept as written;
//! 4. text outside encoded words is UTF-8 when valid, else windows-1252.
use crate::charset;
use crate::decode::{a2b_qp, decode_b, B64Defect};

struct Word<'a> {
    start: usize,
    end: usize,
    charset: &'a [u8],
    bytes: Vec<u8>,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
}

/// Try to read an encoded word at `s[i..]` (which starts with `=?`).
fn word_at(s: &[u8], i: usize) -> Option<Word<'_>> {
    let cs_start = i + 2;
    let mut j = cs_start;
    while j < s.len() && s[j] != b'?' && !is_ws(s[j]) {
        j += 1;
    }
    if j == cs_start || j + 2 >= s.len() || s[j] != b'?' {
        return None;
    }
    let cs = &s[cs_start..j];
    let enc = s[j + 1];
    if !matches!(enc, b'b' | b'B' | b'q' | b'Q') || s[j + 2] != b'?' {
        return None;
    }
    let t_start = j + 3;
    let mut k = t_start;
    while k < s.len() && s[k] != b'?' && !is_ws(s[k]) {
        k += 1;
    }
    if k + 1 >= s.len() || s[k] != b'?' || s[k + 1] != b'=' {
        return None;
    }
    let text = &s[t_start..k];
    let bytes = if enc == b'b' || enc == b'B' {
        let (b, defects) = decode_b(text);
        if defects.contains(&B64Defect::Length) {
            return None;
        }
        b
    } else {
        let t: Vec<u8> = text
            .iter()
            .map(|&c| if c == b'_' { b' ' } else { c })
            .collect();
        a2b_qp(&t, false)
    };
    let charset = match memchr::memchr(b'*', cs) {
        Some(p) => &cs[..p],
        None => cs,
    };
    Some(Word {
        start: i,
        end: k + 2,
        charset,
        bytes,
    })
}

/// A raw header value (bytes as in the message, possibly folded) as readable text.
pub fn decode_header(raw: &[u8]) -> String {
    let unfolded: Vec<u8>;
    let s: &[u8] = if memchr::memchr2(b'\r', b'\n', raw).is_some() {
        unfolded = raw
            .iter()
            .copied()
            .filter(|&b| b != b'\r' && b != b'\n')
            .collect();
        &unfolded
    } else {
        raw
    };
    if memchr::memmem::find(s, b"=?").is_none() {
        return charset::guess(s);
    }
    let mut words = Vec::new();
    let mut i = 0;
    while let Some(p) = memchr::memmem::find(&s[i..], b"=?") {
        let at = i + p;
        match word_at(s, at) {
            Some(w) => {
                i = w.end;
                words.push(w);
            }
            None => i = at + 2,
        }
        if i >= s.len() {
            break;
        }
    }
    let mut out = String::with_capacity(s.len());
    let mut pos = 0;
    let mut w = 0;
    while w < words.len() {
        let lit = &s[pos..words[w].start];
        if !(w > 0 && lit.iter().all(|&b| is_ws(b))) {
            out.push_str(&charset::guess(lit));
        }
        // join following words of the same charset separated only by white space
        let mut bytes = std::mem::take(&mut words[w].bytes);
        let cs = words[w].charset;
        let mut end = words[w].end;
        let mut n = w + 1;
        let stateful = cs.len() >= 8 && cs[..8].eq_ignore_ascii_case(b"iso-2022");
        while n < words.len()
            && !stateful
            && words[n].charset.eq_ignore_ascii_case(cs)
            && s[end..words[n].start].iter().all(|&b| is_ws(b))
        {
            bytes.extend_from_slice(&words[n].bytes);
            end = words[n].end;
            n += 1;
        }
        out.push_str(&charset::decode(&bytes, Some(cs)).text);
        pos = end;
        w = n;
    }
    out.push_str(&charset::guess(&s[pos..]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(
            decode_header(b"=?utf-8?q?caf=C3=A9?= =?utf-8?b?w6k=?= x"),
            "caféé x"
        );
        assert_eq!(decode_header(b"a\r\n b"), "a b");
        assert_eq!(decode_header(b"=?iso-8859-1?Q?a_b?="), "a b");
        assert_eq!(decode_header(b"=?bad"), "=?bad");
        assert_eq!(decode_header(b"=?utf-8?b?4oKs?=x=?utf-8?b?4oKs?="), "€x€");
    }
}
