//! Byte encoding of entries inside index blocks: LEB128 varints and length-prefixed bytes.
//!
//! Decoding never panics: a short or damaged buffer gives `None`, and the reader reports the
//! segment as damaged.

use crate::model::{DStatus, Entry, EntryId, Flags, LogLine, Row, Section, SectionKind};

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn put_signed(out: &mut Vec<u8>, v: i64) {
    put_varint(out, ((v << 1) ^ (v >> 63)) as u64);
}

pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// A cursor over encoded bytes.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Bytes read so far.
    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn varint(&mut self) -> Option<u64> {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = *self.data.get(self.pos)?;
            self.pos += 1;
            if shift >= 64 {
                return None;
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
            shift += 7;
        }
    }

    pub fn signed(&mut self) -> Option<i64> {
        let v = self.varint()?;
        Some(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    pub fn byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.varint()?).ok()?;
        let end = self.pos.checked_add(n)?;
        let b = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(b)
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let b = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(b)
    }

    pub fn u64_le(&mut self) -> Option<u64> {
        let end = self.pos.checked_add(8)?;
        let b = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(u64::from_le_bytes(b.try_into().ok()?))
    }
}

fn status_code(s: DStatus) -> u8 {
    match s {
        DStatus::Invalid => 0,
        DStatus::Accept => 1,
        DStatus::Quarantine => 2,
        DStatus::Block => 3,
        DStatus::Greylist => 4,
        DStatus::Noqueue => 5,
        DStatus::BqPass => 6,
        DStatus::BqDefer => 7,
        DStatus::BqReject => 8,
        DStatus::Hop => 9,
        DStatus::Dsn(d) => 16 + d.min(9),
    }
}

fn status_of(c: u8) -> Option<DStatus> {
    Some(match c {
        0 => DStatus::Invalid,
        1 => DStatus::Accept,
        2 => DStatus::Quarantine,
        3 => DStatus::Block,
        4 => DStatus::Greylist,
        5 => DStatus::Noqueue,
        6 => DStatus::BqPass,
        7 => DStatus::BqDefer,
        8 => DStatus::BqReject,
        9 => DStatus::Hop,
        16..=25 => DStatus::Dsn(c - 16),
        _ => return None,
    })
}

/// Appends one entry (its lines flattened into one list in line order) to `out`, except the
/// lines' text, which goes to `texts` (`out` holds each text's length).
pub fn encode_entry(out: &mut Vec<u8>, texts: &mut Vec<u8>, e: &Entry) {
    match &e.id {
        EntryId::Smtpd { time, rel } => {
            out.push(0);
            put_signed(out, *time);
            put_varint(out, *rel);
        }
        EntryId::Queue(q) => {
            out.push(1);
            put_bytes(out, q);
        }
    }
    out.push(e.flags.bits());
    put_signed(out, e.first_time);
    put_signed(out, e.ctime - e.first_time);
    put_varint(out, e.size);
    put_bytes(out, &e.client);
    put_bytes(out, if e.origin == e.client { b"" } else { &e.origin });
    put_bytes(out, &e.msgid);
    put_bytes(out, &e.filter_id);
    put_varint(out, e.rows.len() as u64);
    for r in &e.rows {
        put_signed(out, r.time - e.first_time);
        out.push(status_code(r.status));
        put_bytes(out, &r.from);
        put_bytes(out, &r.to);
        match &r.relay {
            None => out.push(0),
            Some(relay) => {
                out.push(1);
                put_bytes(out, relay);
            }
        }
    }
    let lines = e.lines();
    put_varint(out, lines.len() as u64);
    let mut prev = 0u64;
    for l in lines {
        put_varint(out, l.lineno.wrapping_sub(prev));
        prev = l.lineno;
        put_signed(out, l.time.wrapping_sub(e.first_time));
        put_varint(out, l.text.len() as u64);
        texts.extend_from_slice(&l.text);
    }
}

/// How much of an entry's lines to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineMode {
    /// No lines.
    None,
    /// Line numbers and times, no text (enough to cut an entry to a time range).
    Times,
    /// Everything.
    Full,
}

/// Reads one entry; its lines come back as one `Logs` section (see [`LineMode`]). `texts` is
/// the cursor over the block's line texts, needed for [`LineMode::Full`] only.
pub fn decode_entry(
    r: &mut Reader<'_>,
    texts: Option<&mut Reader<'_>>,
    mode: LineMode,
) -> Option<Entry> {
    let with_lines = mode != LineMode::None;
    let id = match r.byte()? {
        0 => EntryId::Smtpd {
            time: r.signed()?,
            rel: r.varint()?,
        },
        1 => EntryId::Queue(r.bytes()?.into()),
        _ => return None,
    };
    let flags = Flags::from_bits(r.byte()?);
    let first_time = r.signed()?;
    let ctime = first_time.checked_add(r.signed()?)?;
    let size = r.varint()?;
    let client: Box<[u8]> = r.bytes()?.into();
    let origin = r.bytes()?;
    let origin: Box<[u8]> = if origin.is_empty() {
        client.clone()
    } else {
        origin.into()
    };
    let msgid = r.bytes()?.into();
    let filter_id = r.bytes()?.into();
    let nrows = usize::try_from(r.varint()?).ok()?;
    let mut rows = Vec::with_capacity(nrows.min(1024));
    for _ in 0..nrows {
        let time = first_time.checked_add(r.signed()?)?;
        let status = status_of(r.byte()?)?;
        let from = r.bytes()?.into();
        let to = r.bytes()?.into();
        let relay = match r.byte()? {
            0 => None,
            1 => Some(r.bytes()?.into()),
            _ => return None,
        };
        rows.push(Row {
            time,
            status,
            from,
            to,
            relay,
        });
    }
    let nlines = usize::try_from(r.varint()?).ok()?;
    let mut lines = Vec::with_capacity(if with_lines { nlines.min(1024) } else { 0 });
    let mut prev = 0u64;
    let mut texts = if mode == LineMode::Full {
        Some(texts?)
    } else {
        None
    };
    for _ in 0..nlines {
        prev = prev.wrapping_add(r.varint()?);
        let time = first_time.wrapping_add(r.signed()?);
        let len = usize::try_from(r.varint()?).ok()?;
        let text: Box<[u8]> = match texts.as_mut() {
            Some(t) => t.take(len)?.into(),
            None => Box::default(),
        };
        if with_lines {
            lines.push(LogLine {
                lineno: prev,
                time,
                text,
            });
        }
    }
    let sections = if with_lines {
        vec![Section {
            title: SectionKind::Logs,
            lines,
        }]
    } else {
        Vec::new()
    };
    Some(Entry {
        id,
        ctime,
        size,
        client,
        origin,
        msgid,
        filter_id,
        text_match: false,
        rows,
        sections,
        first_time,
        flags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        let mut out = Vec::new();
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            put_varint(&mut out, v);
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            put_signed(&mut out, v);
        }
        let mut r = Reader::new(&out);
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            assert_eq!(r.varint(), Some(v));
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(r.signed(), Some(v));
        }
        assert!(r.is_empty());
        assert_eq!(Reader::new(&[0xff; 12]).varint(), None);
    }
}
