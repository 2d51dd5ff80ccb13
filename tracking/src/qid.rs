//! Queue ids: Postfix queue ids and filter (pmg-smtp-filter / pmgfast milter) ids.
//!
//! A Postfix queue id is either short (6–21 hex characters) or long (`enable_long_queue_ids`:
//! at least 12 characters of Postfix's base-52 alphabet, containing a `z`, never a vowel). A
//! filter id is 7–25 hex characters (PMG writes `%X%X%05X`). The rules are pmg-log-tracker's, so
//! both trackers agree on which lines carry an id.

/// Longest Postfix queue id looked at (a long id is at most 24 characters).
const QID_MAX: usize = 25;
/// Shortest and longest short (hex) Postfix queue id.
const SHORT_MIN: usize = 6;
const SHORT_MAX: usize = 21;
/// Shortest long Postfix queue id.
const LONG_MIN: usize = 12;
/// Shortest and longest filter id.
const FILTER_MIN: usize = 7;
const FILTER_MAX: usize = 25;

fn is_vowel(b: u8) -> bool {
    matches!(b | 0x20, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// A Postfix queue id at the start of `data`: `(id, rest)`.
pub fn postfix_qid(data: &[u8]) -> Option<(&[u8], &[u8])> {
    if data.len() < SHORT_MIN {
        return None;
    }
    let max = QID_MAX.min(data.len());
    #[derive(PartialEq)]
    enum Kind {
        Unknown,
        Short,
        Long,
    }
    let mut kind = Kind::Unknown;
    let mut saw_z = false;
    let mut end = max;
    for (i, &b) in data[..max].iter().enumerate() {
        let keep_going = match kind {
            Kind::Unknown | Kind::Short if b.is_ascii_hexdigit() => {
                if is_vowel(b) {
                    kind = Kind::Short;
                }
                true
            }
            Kind::Short => false,
            Kind::Unknown | Kind::Long if b.is_ascii_alphanumeric() => {
                if is_vowel(b) {
                    return None;
                }
                saw_z |= b == b'z';
                kind = Kind::Long;
                true
            }
            _ => false,
        };
        if !keep_going {
            end = i;
            break;
        }
    }
    let ok = match kind {
        Kind::Unknown | Kind::Short => !saw_z && (SHORT_MIN..=SHORT_MAX).contains(&end),
        Kind::Long => saw_z && end >= LONG_MIN,
    };
    ok.then(|| data.split_at(end))
}

/// A Postfix queue id followed by `": "`: `(id, text after the delimiter)`.
pub fn postfix_qid_prefix(msg: &[u8]) -> Option<(&[u8], &[u8])> {
    let (qid, rest) = postfix_qid(msg)?;
    Some((qid, rest.strip_prefix(b": ")?))
}

/// A filter id at the start of `data`: `(id, rest)`.
pub fn filter_id(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let max = FILTER_MAX.min(data.len());
    if max < FILTER_MIN {
        return None;
    }
    let n = data[..max]
        .iter()
        .position(|b| !b.is_ascii_hexdigit())
        .unwrap_or(max);
    if n < FILTER_MIN {
        return None;
    }
    Some(data.split_at(n))
}

/// A filter id followed by `": "`: `(id, text after the delimiter)`.
pub fn filter_id_prefix(msg: &[u8]) -> Option<(&[u8], &[u8])> {
    let (id, rest) = filter_id(msg)?;
    Some((id, rest.strip_prefix(b": ")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_postfix_ids() {
        assert_eq!(
            postfix_qid_prefix(b"0022C3801B5: removed"),
            Some((&b"0022C3801B5"[..], &b"removed"[..]))
        );
        assert_eq!(
            postfix_qid(b"4Zk8mP2gqRz1: removed"),
            Some((&b"4Zk8mP2gqRz1"[..], &b": removed"[..]))
        );
        assert_eq!(
            postfix_qid(b"4Zk8mP72gqRzLp7Wn3Yt8Kc5: removed"),
            Some((&b"4Zk8mP72gqRzLp7Wn3Yt8Kc5"[..], &b": removed"[..]))
        );
        assert_eq!(postfix_qid(b"ab: x"), None);
        assert_eq!(postfix_qid(b"NOQUEUE: reject"), None);
        assert_eq!(postfix_qid(b"connect from x"), None);
        // a long id needs a z, a short one must not have one
        assert_eq!(postfix_qid(b"4Xk8mP2gqRy1: x"), None);
    }

    #[test]
    fn foreign_lines_have_no_id() {
        assert_eq!(postfix_qid_prefix(b"DEBUG:"), None);
        assert_eq!(
            postfix_qid_prefix(b"DEBUG:Module loader, version 1088"),
            None
        );
        assert_eq!(postfix_qid_prefix(b"DEBUGOUTPUT"), None);
        assert_eq!(postfix_qid_prefix(b"STATISTICS1:"), None);
    }

    #[test]
    fn filter_ids() {
        assert_eq!(
            filter_id(b"3802E45DFA503808B06"),
            Some((&b"3802E45DFA503808B06"[..], &b""[..]))
        );
        assert_eq!(
            filter_id(b"3802E45DFA503808B06)"),
            Some((&b"3802E45DFA503808B06"[..], &b")"[..]))
        );
        assert_eq!(filter_id(b"3"), None);
        assert_eq!(filter_id(b""), None);
        assert_eq!(filter_id(b"Warning"), None);
        assert_eq!(filter_id(b"ThisIsAtest"), None);
        assert_eq!(filter_id_prefix(b"DEBUG:"), None);
    }
}
