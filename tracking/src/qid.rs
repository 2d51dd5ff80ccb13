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

/// Character classes of queue id bytes, looked up by byte.
const HEX: u8 = 1;
const ALNUM: u8 = 2;
const VOWEL: u8 = 4;
static CLASS: [u8; 256] = classes();

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        let mut k = 0;
        if c.is_ascii_hexdigit() {
            k |= HEX;
        }
        if c.is_ascii_alphanumeric() {
            k |= ALNUM;
        }
        if matches!(c | 0x20, b'a' | b'e' | b'i' | b'o' | b'u') && c.is_ascii_alphabetic() {
            k |= VOWEL;
        }
        t[b] = k;
        b += 1;
    }
    t
}

/// A Postfix queue id at the start of `data`: `(id, rest)`.
///
/// Hex digits make a short id (ended by the first other byte once a hex vowel `a`/`e` was
/// seen); any other letter or digit makes it a long id, which has no vowel and needs a `z`.
pub fn postfix_qid(data: &[u8]) -> Option<(&[u8], &[u8])> {
    if data.len() < SHORT_MIN {
        return None;
    }
    let head = &data[..QID_MAX.min(data.len())];
    // the run of hex digits, and whether a vowel (a, e) made it a short id
    let mut end = 0;
    let mut short = false;
    while end < head.len() {
        let k = CLASS[usize::from(head[end])];
        if k & HEX == 0 {
            break;
        }
        short |= k & VOWEL != 0;
        end += 1;
    }
    let long_next = end < head.len() && CLASS[usize::from(head[end])] & ALNUM != 0;
    if short || !long_next {
        return (SHORT_MIN..=SHORT_MAX)
            .contains(&end)
            .then(|| data.split_at(end));
    }
    // a long id: letters and digits without a vowel, with a z
    let mut saw_z = false;
    while end < head.len() {
        let b = head[end];
        let k = CLASS[usize::from(b)];
        if k & ALNUM == 0 {
            break;
        }
        if k & VOWEL != 0 {
            return None;
        }
        saw_z |= b == b'z';
        end += 1;
    }
    (saw_z && end >= LONG_MIN).then(|| data.split_at(end))
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
        .position(|&b| CLASS[usize::from(b)] & HEX == 0)
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
    use proptest::prelude::*;

    /// pmg-log-tracker's reading, byte by byte (the table-driven one must agree).
    fn reference_qid(data: &[u8]) -> Option<(&[u8], &[u8])> {
        if data.len() < SHORT_MIN {
            return None;
        }
        let vowel = |b: u8| matches!(b | 0x20, b'a' | b'e' | b'i' | b'o' | b'u');
        let max = QID_MAX.min(data.len());
        let (mut short, mut long, mut saw_z, mut end) = (false, false, false, max);
        for (i, &b) in data[..max].iter().enumerate() {
            if !long && b.is_ascii_hexdigit() {
                short |= vowel(b);
            } else if !short && b.is_ascii_alphanumeric() {
                if vowel(b) {
                    return None;
                }
                saw_z |= b == b'z';
                long = true;
            } else {
                end = i;
                break;
            }
        }
        let ok = if long {
            saw_z && end >= LONG_MIN
        } else {
            !saw_z && (SHORT_MIN..=SHORT_MAX).contains(&end)
        };
        ok.then(|| data.split_at(end))
    }

    proptest! {
        #[test]
        fn table_reading_agrees_with_the_reference(
            data in proptest::collection::vec(
                prop::sample::select(b"0123456789abcdefzAEFZxyqk: -\xff".to_vec()), 0..32)
        ) {
            prop_assert_eq!(postfix_qid(&data), reference_qid(&data));
        }
    }

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
