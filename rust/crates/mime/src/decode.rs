//! Content-Transfer-Encoding decoders with CPython's exact leniency, so the native walk and the
//! pure twin (which calls `base64`/`quopri`) decode broken bodies to the same bytes.
//!
//! - base64: `email._encoded_words.decode_b` over `binascii.a2b_base64` (strict first, then
//!   lenient), reporting the same three defects.
//! - quoted-printable: `binascii.a2b_qp` (what `quopri.decodestring` calls).

/// A base64 problem the decoder worked around.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum B64Defect {
    Padding,
    Characters,
    Length,
}

const INVALID: u8 = 0xff;

const fn b64_table() -> [u8; 256] {
    let mut t = [INVALID; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t
}

static B64: [u8; 256] = b64_table();

/// `binascii.a2b_base64(data, strict_mode=strict)`; `None` where CPython raises.
pub fn a2b_base64(data: &[u8], strict: bool, out: &mut Vec<u8>) -> Option<()> {
    a2b_base64_iter(data.iter().copied(), data.len(), strict, out)
}

/// [`a2b_base64`] over any byte sequence (`len` is an upper bound, for the allocation).
fn a2b_base64_iter(
    data: impl Iterator<Item = u8>,
    len: usize,
    strict: bool,
    out: &mut Vec<u8>,
) -> Option<()> {
    let start_len = out.len();
    out.reserve(len / 4 * 3 + 3);
    let mut data = data.peekable();
    if strict && data.peek() == Some(&b'=') {
        return None;
    }
    let mut quad_pos = 0u8;
    let mut left = 0u32;
    let mut pads = 0u8;
    let mut padding_started = false;
    while let Some(ch) = data.next() {
        if ch == b'=' {
            padding_started = true;
            if quad_pos >= 2 {
                pads += 1;
                if quad_pos + pads >= 4 {
                    if strict && data.peek().is_some() {
                        out.truncate(start_len);
                        return None;
                    }
                    return Some(());
                }
            }
            continue;
        }
        let v = B64[ch as usize];
        if v == INVALID {
            if strict {
                out.truncate(start_len);
                return None;
            }
            continue;
        }
        if strict && padding_started {
            out.truncate(start_len);
            return None;
        }
        pads = 0;
        let v = u32::from(v);
        match quad_pos {
            0 => {
                left = v;
                quad_pos = 1;
            }
            1 => {
                out.push(((left << 2) | (v >> 4)) as u8);
                left = v & 0x0f;
                quad_pos = 2;
            }
            2 => {
                out.push(((left << 4) | (v >> 2)) as u8);
                left = v & 0x03;
                quad_pos = 3;
            }
            _ => {
                out.push(((left << 6) | v) as u8);
                left = 0;
                quad_pos = 0;
            }
        }
    }
    if quad_pos != 0 {
        out.truncate(start_len);
        return None;
    }
    Some(())
}

/// `email._encoded_words.decode_b`: the decoded bytes and the defects, or the input itself
/// with a `Length` defect when nothing decodes.
pub fn decode_b(encoded: &[u8]) -> (Vec<u8>, Vec<B64Defect>) {
    decode_b_skipping(encoded, false)
}

/// [`decode_b`] of `encoded` with every CR and LF removed first (`skip_eol`), without
/// copying it.
fn decode_b_skipping(encoded: &[u8], skip_eol: bool) -> (Vec<u8>, Vec<B64Defect>) {
    let keep = move |b: &u8| !(skip_eol && (*b == b'\r' || *b == b'\n'));
    let bytes = || encoded.iter().copied().filter(keep);
    let len = if skip_eol {
        encoded.iter().filter(|b| keep(b)).count()
    } else {
        encoded.len()
    };
    let mut out = Vec::new();
    let pad_err = len % 4;
    let pad: &[u8] = if pad_err == 0 {
        b""
    } else {
        &b"==="[..4 - pad_err]
    };
    if a2b_base64_iter(bytes().chain(pad.iter().copied()), len + 3, true, &mut out).is_some() {
        let defects = if pad_err != 0 {
            vec![B64Defect::Padding]
        } else {
            vec![]
        };
        return (out, defects);
    }
    if a2b_base64_iter(bytes(), len, false, &mut out).is_some() {
        return (out, vec![B64Defect::Characters]);
    }
    if a2b_base64_iter(bytes().chain(*b"=="), len + 2, false, &mut out).is_some() {
        return (out, vec![B64Defect::Characters, B64Defect::Padding]);
    }
    (bytes().collect(), vec![B64Defect::Length])
}

/// A body's base64 decoding as the stdlib's `get_payload(decode=True)` does it
/// (`decode_b(b"".join(body.splitlines()))`), without copying the body.
pub fn base64_body(body: &[u8]) -> (Vec<u8>, Vec<B64Defect>) {
    decode_b_skipping(body, true)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `binascii.a2b_qp(data, header=header)`.
pub fn a2b_qp(data: &[u8], header: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let n = data.len();
    let mut i = 0;
    while i < n {
        let c = data[i];
        if c == b'=' {
            i += 1;
            if i >= n {
                break;
            }
            let d = data[i];
            if d == b'\n' || d == b'\r' {
                if d != b'\n' {
                    while i < n && data[i] != b'\n' {
                        i += 1;
                    }
                }
                if i < n {
                    i += 1;
                }
            } else if d == b'=' {
                out.push(b'=');
                i += 1;
            } else if i + 1 < n {
                match (hex_val(d), hex_val(data[i + 1])) {
                    (Some(h), Some(l)) => {
                        out.push((h << 4) | l);
                        i += 2;
                    }
                    _ => out.push(b'='),
                }
            } else {
                out.push(b'=');
            }
        } else if header && c == b'_' {
            out.push(b' ');
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_like_cpython() {
        assert_eq!(decode_b(b"aGVsbG8="), (b"hello".to_vec(), vec![]));
        assert_eq!(
            decode_b(b"aGVsbG8"),
            (b"hello".to_vec(), vec![B64Defect::Padding])
        );
        assert_eq!(
            decode_b(b"aGV*sbG8="),
            (b"hello".to_vec(), vec![B64Defect::Characters])
        );
        assert_eq!(decode_b(b"a"), (b"a".to_vec(), vec![B64Defect::Length]));
        assert_eq!(decode_b(b"aGVsbG8=junk").0, b"hello");
    }

    #[test]
    fn qp_like_cpython() {
        assert_eq!(a2b_qp(b"a=3Db=\r\nc=\nd=zz=", false), b"a=bcd=zz");
        assert_eq!(a2b_qp(b"a_b", true), b"a b");
    }
}
