//! Header parameters exactly as the stdlib `email` package (compat32) reads them:
//! `_splitparam`, `_parseparam`, `utils.decode_params` (RFC 2231 continuations and charsets)
//! and `Message.get_param`. The multipart boundary, and so the part structure, depends on it.
use crate::pystr::{count, lower, quote, strip, unquote};

/// One parameter value: plain, or RFC 2231 extended `(charset, language, text)` where `text`
/// holds percent-decoded bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Plain(Vec<u8>),
    Extended {
        charset: Option<Vec<u8>>,
        text: Vec<u8>,
    },
}

/// `_splitparam(value)[0]`: the part before the first `;`, stripped.
pub fn main_value(value: &[u8]) -> &[u8] {
    let a = match memchr::memchr(b';', value) {
        Some(i) => &value[..i],
        None => value,
    };
    strip(a)
}

/// `_parseparam(value)`: the `;`-separated items (quotes respected), names lower-cased.
fn parseparam(value: &[u8]) -> Vec<Vec<u8>> {
    let mut s: Vec<u8> = Vec::with_capacity(value.len() + 1);
    s.push(b';');
    s.extend_from_slice(value);
    let mut plist = Vec::new();
    let mut pos = 0usize;
    while s.get(pos) == Some(&b';') {
        pos += 1;
        let rest = &s[pos..];
        let mut end = memchr::memchr(b';', rest).map(|i| i as isize).unwrap_or(-1);
        while end > 0 {
            let e = end as usize;
            let quotes = count(&rest[..e], b"\"") as isize - count(&rest[..e], b"\\\"") as isize;
            if quotes % 2 == 0 {
                break;
            }
            end = memchr::memchr(b';', &rest[e + 1..])
                .map(|i| (e + 1 + i) as isize)
                .unwrap_or(-1);
        }
        let end = if end < 0 { rest.len() } else { end as usize };
        let f = &rest[..end];
        let item = match memchr::memchr(b'=', f) {
            Some(i) => {
                let mut v = lower(strip(&f[..i]));
                v.push(b'=');
                v.extend_from_slice(strip(&f[i + 1..]));
                v
            }
            None => f.to_vec(),
        };
        plist.push(strip(&item).to_vec());
        pos += end;
    }
    plist
}

/// `urllib.parse.unquote(s, encoding="latin-1")` on bytes: `%XX` decoded.
fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            let h = (s[i + 1] as char).to_digit(16);
            let l = (s[i + 2] as char).to_digit(16);
            if let (Some(h), Some(l)) = (h, l) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// `^(\w+)\*((\d+)\*?)?$` (ASCII): the RFC 2231 name and its section number, if any.
fn continuation(name: &[u8]) -> Option<(&[u8], Option<u64>)> {
    let star = memchr::memchr(b'*', name)?;
    let base = &name[..star];
    if base.is_empty() || !base.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_') {
        return None;
    }
    let rest = &name[star + 1..];
    if rest.is_empty() {
        return Some((base, None));
    }
    let digits = rest.strip_suffix(b"*").unwrap_or(rest);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = digits.iter().fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    Some((base, Some(num)))
}

/// Why a parameter list could not be read: an RFC 2231 parameter given both with and
/// without section numbers (the stdlib raises `TypeError` sorting them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MixedSections;

/// `(section number, value, percent-encoded)` of one RFC 2231 section.
type Section = (Option<u64>, Vec<u8>, bool);

/// The parameter list of a header value as `Message._get_params_preserve` returns it
/// (the first item is the main value itself).
pub fn params(value: &[u8]) -> Result<Vec<(Vec<u8>, Value)>, MixedSections> {
    let mut raw = Vec::new();
    for p in parseparam(value) {
        match memchr::memchr(b'=', &p) {
            Some(i) => raw.push((strip(&p[..i]).to_vec(), strip(&p[i + 1..]).to_vec())),
            None => raw.push((strip(&p).to_vec(), Vec::new())),
        }
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut iter = raw.into_iter();
    if let Some((n, v)) = iter.next() {
        out.push((n, Value::Plain(v)));
    }
    // name -> [(num, value, encoded)], in first-seen order
    let mut groups: Vec<(Vec<u8>, Vec<Section>)> = Vec::new();
    for (name, value) in iter {
        let encoded = name.ends_with(b"*");
        let value = unquote(&value);
        match continuation(&name) {
            Some((base, num)) => {
                let base = base.to_vec();
                match groups.iter_mut().find(|(n, _)| *n == base) {
                    Some((_, list)) => list.push((num, value, encoded)),
                    None => groups.push((base, vec![(num, value, encoded)])),
                }
            }
            None => {
                let mut q = vec![b'"'];
                q.extend_from_slice(&quote(&value));
                q.push(b'"');
                out.push((name, Value::Plain(q)));
            }
        }
    }
    for (name, mut list) in groups {
        let has_none = list.iter().any(|c| c.0.is_none());
        let has_num = list.iter().any(|c| c.0.is_some());
        if has_none && has_num {
            return Err(MixedSections);
        }
        list.sort();
        let mut joined = Vec::new();
        let mut extended = false;
        for (_, s, enc) in &list {
            if *enc {
                joined.extend_from_slice(&percent_decode(s));
                extended = true;
            } else {
                joined.extend_from_slice(s);
            }
        }
        let value = quote(&joined);
        if extended {
            // decode_rfc2231: split on "'" at most twice
            let mut parts = value.splitn(3, |b| *b == b'\'');
            let a = parts.next().unwrap_or_default();
            let b = parts.next();
            let c = parts.next();
            match (b, c) {
                (Some(_), Some(text)) => {
                    let mut q = vec![b'"'];
                    q.extend_from_slice(text);
                    q.push(b'"');
                    out.push((
                        name,
                        Value::Extended {
                            charset: Some(a.to_vec()),
                            text: q,
                        },
                    ));
                }
                _ => {
                    let mut q = vec![b'"'];
                    q.extend_from_slice(&value);
                    q.push(b'"');
                    out.push((
                        name,
                        Value::Extended {
                            charset: None,
                            text: q,
                        },
                    ));
                }
            }
        } else {
            let mut q = vec![b'"'];
            q.extend_from_slice(&value);
            q.push(b'"');
            out.push((name, Value::Plain(q)));
        }
    }
    Ok(out)
}

/// `Message.get_param(name)` over an already-parsed list (values unquoted).
pub fn get(list: &[(Vec<u8>, Value)], name: &[u8]) -> Option<Value> {
    list.iter()
        .find(|(k, _)| lower(k) == name)
        .map(|(_, v)| match v {
            Value::Plain(p) => Value::Plain(unquote(p)),
            Value::Extended { charset, text } => Value::Extended {
                charset: charset.clone(),
                text: unquote(text),
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_and_2231() {
        let l = params(b"multipart/mixed; boundary=\"a;b\"; x=1").unwrap();
        assert_eq!(get(&l, b"boundary"), Some(Value::Plain(b"a;b".to_vec())));
        let l = params(b"attachment; filename*0*=utf-8''caf%C3%A9; filename*1=.txt").unwrap();
        assert_eq!(
            get(&l, b"filename"),
            Some(Value::Extended {
                charset: Some(b"utf-8".to_vec()),
                text: b"caf\xc3\xa9.txt".to_vec()
            })
        );
        assert!(params(b"a; f*=x; f*0=y").is_err());
        assert_eq!(main_value(b" Text/Plain ; x"), b"Text/Plain");
    }
}
