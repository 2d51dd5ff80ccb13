//! cpio (newc, crc, odc and both binary byte orders): regular files, stored as they are.
use crate::walk::{Content, Stop, Walk};

const TRAILER: &[u8] = b"TRAILER!!!";
const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;

fn bad(what: &str) -> Stop {
    Stop::Bad(format!("corrupt cpio header: {what}"))
}

fn number(field: &[u8], radix: u32) -> Result<u64, Stop> {
    let text = std::str::from_utf8(field).map_err(|_| bad("non-ASCII number"))?;
    u64::from_str_radix(text.trim_end_matches('\0').trim(), radix).map_err(|_| bad("bad number"))
}

fn slice(data: &[u8], start: usize, len: u64) -> Result<&[u8], Stop> {
    let len = usize::try_from(len).map_err(|_| bad("size"))?;
    let end = start.checked_add(len).ok_or_else(|| bad("size"))?;
    data.get(start..end).ok_or_else(|| bad("truncated"))
}

fn align(pos: usize, to: usize) -> usize {
    pos.div_ceil(to) * to
}

/// One header: (mode, name, data start, data length, next header position).
struct Header<'a> {
    mode: u32,
    name: &'a [u8],
    data: &'a [u8],
    next: usize,
}

fn header(data: &[u8], pos: usize) -> Result<Header<'_>, Stop> {
    let magic = data.get(pos..pos + 6).ok_or_else(|| bad("truncated"))?;
    match magic {
        b"070701" | b"070702" => {
            let h = slice(data, pos, 110)?;
            let field = |i: usize| number(&h[6 + 8 * i..14 + 8 * i], 16);
            let (mode, size, namesize) = (field(1)?, field(6)?, field(11)?);
            let name = slice(data, pos + 110, namesize)?;
            let start = align(pos + 110 + name.len(), 4);
            let body = slice(data, start, size)?;
            Ok(Header {
                mode: mode as u32,
                name,
                data: body,
                next: align(start + body.len(), 4),
            })
        }
        b"070707" => {
            let h = slice(data, pos, 76)?;
            let (mode, namesize, size) = (
                number(&h[18..24], 8)?,
                number(&h[59..65], 8)?,
                number(&h[65..76], 8)?,
            );
            let name = slice(data, pos + 76, namesize)?;
            let start = pos + 76 + name.len();
            let body = slice(data, start, size)?;
            Ok(Header {
                mode: mode as u32,
                name,
                data: body,
                next: start + body.len(),
            })
        }
        _ => {
            let h = slice(data, pos, 26)?;
            let little = h[..2] == [0xc7, 0x71];
            if !little && h[..2] != [0x71, 0xc7] {
                return Err(bad("unknown magic"));
            }
            let word = |i: usize| {
                let b = [h[2 * i], h[2 * i + 1]];
                u64::from(if little {
                    u16::from_le_bytes(b)
                } else {
                    u16::from_be_bytes(b)
                })
            };
            let (mode, namesize, size) = (word(3), word(10), (word(11) << 16) | word(12));
            let name = slice(data, pos + 26, namesize)?;
            let start = align(pos + 26 + name.len(), 2);
            let body = slice(data, start, size)?;
            Ok(Header {
                mode: mode as u32,
                name,
                data: body,
                next: align(start + body.len(), 2),
            })
        }
    }
}

pub(crate) fn list(w: &mut Walk, data: &[u8], depth: u32, prefix: &str) -> Result<(), Stop> {
    let mut pos = 0;
    loop {
        w.check_time()?;
        let h = header(data, pos)?;
        let name = h.name.strip_suffix(b"\0").unwrap_or(h.name);
        if name == TRAILER {
            return Ok(());
        }
        if h.next <= pos {
            return Err(bad("no progress"));
        }
        pos = h.next;
        if h.mode & S_IFMT != S_IFREG {
            continue;
        }
        let path = String::from_utf8_lossy(name).into_owned();
        let content = w.take_stored(h.data)?.to_vec();
        w.member(
            &path,
            content.len() as u64,
            Content::Bytes(content),
            depth,
            prefix,
        )?;
    }
}
