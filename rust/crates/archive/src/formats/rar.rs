//! RAR (4.x and 5.x), listed from the block headers: names, sizes and encryption flags.
//!
//! There is no RAR decompressor here (RAR's is non-free), so only stored members have content
//! (and so a magic type and nested listing); compressed ones are listed by name alone. An
//! archive whose headers are encrypted cannot be listed at all.
use crate::walk::{Content, Stop, Walk};

const RAR4: &[u8] = b"Rar!\x1a\x07\x00";
const RAR5: &[u8] = b"Rar!\x1a\x07\x01\x00";

fn bad(what: &str) -> Stop {
    Stop::Bad(format!("corrupt rar: {what}"))
}

/// A little-endian reader over a byte slice that never reads past its end.
struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Stop> {
        let end = self.pos.checked_add(n).ok_or_else(|| bad("size"))?;
        let out = self
            .data
            .get(self.pos..end)
            .ok_or_else(|| bad("truncated header"))?;
        self.pos = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, Stop> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, Stop> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, Stop> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// RAR 5's variable-length integer (7 bits per byte, at most 10 bytes).
    fn vint(&mut self) -> Result<u64, Stop> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.u8()?;
            value |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(bad("variable-length integer too long"))
    }
}

fn to_usize(n: u64) -> Result<usize, Stop> {
    usize::try_from(n).map_err(|_| bad("size"))
}

fn content(
    w: &mut Walk,
    data: &[u8],
    start: usize,
    packed: u64,
    stored: bool,
    encrypted: bool,
) -> Result<Content, Stop> {
    if encrypted || !stored {
        return Ok(Content::Unavailable { encrypted });
    }
    let end = start
        .checked_add(to_usize(packed)?)
        .ok_or_else(|| bad("size"))?;
    let body = data
        .get(start..end)
        .ok_or_else(|| bad("truncated member"))?;
    Ok(Content::Bytes(w.take_stored(body)?.to_vec()))
}

pub(crate) fn list(w: &mut Walk, data: &[u8], depth: u32, prefix: &str) -> Result<(), Stop> {
    if data.starts_with(RAR5) {
        list5(w, data, depth, prefix)
    } else {
        list4(w, data, depth, prefix)
    }
}

fn list4(w: &mut Walk, data: &[u8], depth: u32, prefix: &str) -> Result<(), Stop> {
    let mut pos = RAR4.len();
    while pos < data.len() {
        w.check_time()?;
        let mut h = Bytes { data, pos };
        let _crc = h.u16()?;
        let kind = h.u8()?;
        let flags = h.u16()?;
        let size = usize::from(h.u16()?);
        if size < 7 {
            return Err(bad("header too small"));
        }
        let add_size = if flags & 0x8000 != 0 || kind == 0x74 {
            u64::from(h.u32()?)
        } else {
            0
        };
        match kind {
            0x73 if flags & 0x0080 != 0 => {
                return Err(Stop::Bad(
                    "encrypted headers: the file list cannot be read".into(),
                ));
            }
            0x74 => {
                let unpacked = h.u32()?;
                let _host = h.u8()?;
                let _crc = h.u32()?;
                let _time = h.u32()?;
                let _version = h.u8()?;
                let method = h.u8()?;
                let name_size = usize::from(h.u16()?);
                let _attributes = h.u32()?;
                let (mut packed, mut unpacked) = (add_size, u64::from(unpacked));
                if flags & 0x0100 != 0 {
                    packed |= u64::from(h.u32()?) << 32;
                    unpacked |= u64::from(h.u32()?) << 32;
                }
                let raw = h.take(name_size)?;
                // Unicode names are "ascii\0encoded"; the ASCII part is the readable one.
                let raw = raw.split(|&b| b == 0).next().unwrap_or(raw);
                let name = String::from_utf8_lossy(raw).replace('\\', "/");
                let data_start = pos.checked_add(size).ok_or_else(|| bad("size"))?;
                let is_dir = flags & 0x00e0 == 0x00e0;
                if !is_dir {
                    let encrypted = flags & 0x0004 != 0;
                    let c = content(w, data, data_start, packed, method == 0x30, encrypted)?;
                    w.member(&name, unpacked, c, depth, prefix)?;
                }
                pos = data_start
                    .checked_add(to_usize(packed)?)
                    .ok_or_else(|| bad("size"))?;
                continue;
            }
            0x7b => return Ok(()),
            _ => {}
        }
        pos = pos
            .checked_add(size)
            .and_then(|p| p.checked_add(to_usize(add_size).ok()?))
            .ok_or_else(|| bad("size"))?;
    }
    Ok(())
}

fn list5(w: &mut Walk, data: &[u8], depth: u32, prefix: &str) -> Result<(), Stop> {
    let mut pos = RAR5.len();
    while pos < data.len() {
        w.check_time()?;
        let mut h = Bytes { data, pos };
        let _crc = h.u32()?;
        let header_size = to_usize(h.vint()?)?;
        let header_start = h.pos;
        let header_end = header_start
            .checked_add(header_size)
            .ok_or_else(|| bad("size"))?;
        if header_end > data.len() || header_size == 0 {
            return Err(bad("truncated header"));
        }
        let kind = h.vint()?;
        let flags = h.vint()?;
        let extra_size = if flags & 0x1 != 0 {
            to_usize(h.vint()?)?
        } else {
            0
        };
        let data_size = if flags & 0x2 != 0 { h.vint()? } else { 0 };
        let data_end = header_end
            .checked_add(to_usize(data_size)?)
            .ok_or_else(|| bad("size"))?;
        match kind {
            4 => {
                return Err(Stop::Bad(
                    "encrypted headers: the file list cannot be read".into(),
                ))
            }
            5 => return Ok(()),
            2 => {
                let file_flags = h.vint()?;
                let unpacked = h.vint()?;
                let _attributes = h.vint()?;
                if file_flags & 0x2 != 0 {
                    h.u32()?;
                }
                if file_flags & 0x4 != 0 {
                    h.u32()?;
                }
                let compression = h.vint()?;
                let _host = h.vint()?;
                let name_len = to_usize(h.vint()?)?;
                let name = String::from_utf8_lossy(h.take(name_len)?).into_owned();
                let extra_start = header_end
                    .checked_sub(extra_size)
                    .ok_or_else(|| bad("extra"))?;
                let encrypted =
                    extra_records(data.get(extra_start..header_end).unwrap_or(&[]))?.contains(&1);
                if file_flags & 0x1 == 0 {
                    let stored = (compression >> 7) & 0x7 == 0;
                    let c = content(w, data, header_end, data_size, stored, encrypted)?;
                    w.member(&name, unpacked, c, depth, prefix)?;
                }
            }
            _ => {}
        }
        if data_end <= pos {
            return Err(bad("no progress"));
        }
        pos = data_end;
    }
    Ok(())
}

/// The record types of a RAR 5 extra area.
fn extra_records(area: &[u8]) -> Result<Vec<u64>, Stop> {
    let mut types = Vec::new();
    let mut r = Bytes { data: area, pos: 0 };
    while r.pos < area.len() {
        let size = to_usize(r.vint()?)?;
        let start = r.pos;
        types.push(r.vint()?);
        r.pos = start.checked_add(size).ok_or_else(|| bad("extra"))?;
    }
    Ok(types)
}
