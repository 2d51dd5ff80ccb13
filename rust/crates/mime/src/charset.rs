//! Charset conversion to UTF-8 with WHATWG labels (`encoding_rs`), the one policy both walks use.
//!
//! - A byte-order mark wins over the label (and is removed).
//! - No label, `us-ascii` or an unknown-8bit label: UTF-8 when the bytes are valid UTF-8,
//!   otherwise windows-1252 ("guess"), because mail that says nothing is usually one of those.
//! - An unknown label: the guess, and the caller records an `UnknownCharsetDefect`.
//! - Malformed input: U+FFFD replacements, and the caller records a `CharsetDecodeDefect`.
use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

/// The result of one conversion.
pub struct Decoded {
    pub text: String,
    pub had_errors: bool,
    pub unknown_label: bool,
}

/// UTF-8 when valid, else windows-1252 (which maps every byte).
pub fn guess(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

fn is_guess_label(label: &[u8]) -> bool {
    matches!(
        label,
        b"" | b"us-ascii" | b"ascii" | b"unknown-8bit" | b"x-unknown" | b"unknown" | b"default"
    )
}

/// `bytes` converted from the charset named by `label` (None: no charset parameter).
pub fn decode(bytes: &[u8], label: Option<&[u8]>) -> Decoded {
    let (bom_enc, rest): (Option<&'static Encoding>, &[u8]) =
        if let Some(r) = bytes.strip_prefix(b"\xef\xbb\xbf") {
            (Some(UTF_8), r)
        } else if let Some(r) = bytes.strip_prefix(b"\xff\xfe") {
            (Some(UTF_16LE), r)
        } else if let Some(r) = bytes.strip_prefix(b"\xfe\xff") {
            (Some(UTF_16BE), r)
        } else {
            (None, bytes)
        };
    let mut unknown_label = false;
    let enc = match bom_enc {
        Some(e) => Some(e),
        None => {
            let l = label
                .map(|l| l.trim_ascii().to_ascii_lowercase())
                .unwrap_or_default();
            if is_guess_label(&l) {
                None
            } else {
                let found = Encoding::for_label(&l);
                unknown_label = found.is_none();
                found
            }
        }
    };
    match enc {
        Some(e) => {
            let (text, had_errors) = e.decode_without_bom_handling(rest);
            Decoded {
                text: text.into_owned(),
                had_errors,
                unknown_label,
            }
        }
        None => Decoded {
            text: guess(rest),
            had_errors: false,
            unknown_label,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_guess() {
        assert_eq!(decode(b"caf\xe9", Some(b"iso-8859-1")).text, "café");
        assert_eq!(decode(b"caf\xc3\xa9", None).text, "café");
        assert_eq!(decode(b"caf\xe9", None).text, "café");
        let d = decode(b"x", Some(b"no-such-charset"));
        assert!(d.unknown_label);
        assert!(decode(b"\xff", Some(b"utf-8")).had_errors);
        assert_eq!(decode(b"\xff\xfea\x00", Some(b"utf-8")).text, "a");
    }
}
