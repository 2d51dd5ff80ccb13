//! The structure pass: the stdlib `email.feedparser` algorithm (Python 3.11, compat32) redone
//! over byte offsets, so that the native walk finds the same parts, headers and bodies as the
//! pure twin without copying a byte.
//!
//! Kept from the feedparser: lines end at `\r\n`, `\r` or `\n`; a header block ends at the
//! first line that is not a header (a blank line is dropped, anything else starts the body
//! with a `MissingHeaderBodySeparatorDefect`); every enclosing boundary ends an inner part;
//! a boundary line is `--boundary`, optional `--`, optional blanks, end of line; repeated
//! boundary lines are skipped; the line ending before a boundary belongs to the boundary;
//! `message/*` bodies are parsed as messages, `message/delivery-status` as header blocks.
//! Added: parts at `max_depth` are not descended into (`TooDeepDefect`).
use crate::params;
use crate::pystr;

/// What a node holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A body (bytes in `body_start..body_end`).
    Leaf,
    /// A multipart with sub-parts.
    Multipart,
    /// A `message/*` container with one sub-part.
    Message,
    /// `message/delivery-status`: header blocks as sub-parts.
    DeliveryStatus,
}

/// A header field as byte ranges of the raw message (value as compat32 keeps it: leading
/// blanks of the first line and the final line ending removed, folding kept).
#[derive(Clone, Copy, Debug)]
pub struct RawHeader {
    pub name: (usize, usize),
    pub value: (usize, usize),
}

/// One entity of the message, in depth-first (creation) order.
#[derive(Clone, Debug)]
pub struct Node {
    pub parent: Option<usize>,
    pub depth: usize,
    pub header_start: usize,
    pub headers: Vec<RawHeader>,
    pub body_start: usize,
    pub body_end: usize,
    /// `get_content_type()`: lower-cased, defaulted; bytes >= 0x80 of the header are 0xFF.
    pub ctype: Vec<u8>,
    pub kind: Kind,
    pub no_boundary: bool,
    pub too_deep: bool,
    pub defects: Vec<&'static str>,
}

impl Node {
    pub fn maintype(&self) -> &[u8] {
        match memchr::memchr(b'/', &self.ctype) {
            Some(i) => &self.ctype[..i],
            None => &self.ctype,
        }
    }
}

enum Eof {
    Boundary(Option<Vec<u8>>),
    Blank,
}

/// `--boundary` line test: `Some(is_close)` when `line` is a boundary line for `sep`.
fn boundary_match(line: &[u8], sep: &[u8]) -> Option<bool> {
    let rest = line.strip_prefix(sep)?;
    let tail_ok = |t: &[u8]| {
        let t = &t[t.iter().take_while(|&&c| c == b' ' || c == b'\t').count()..];
        matches!(t, b"" | b"\r\n" | b"\r" | b"\n")
    };
    if let Some(after) = rest.strip_prefix(b"--") {
        if tail_ok(after) {
            return Some(true);
        }
    }
    tail_ok(rest).then_some(false)
}

impl Eof {
    fn matches(&self, line: &[u8]) -> bool {
        match self {
            Eof::Boundary(Some(sep)) => boundary_match(line, sep).is_some(),
            Eof::Boundary(None) => false,
            Eof::Blank => matches!(line.first(), Some(b'\r' | b'\n')),
        }
    }
}

fn is_header_line(line: &[u8]) -> bool {
    if line.starts_with(b"From ") || matches!(line.first(), Some(b' ' | b'\t')) {
        return true;
    }
    let n = line
        .iter()
        .take_while(|&&c| matches!(c, 0x21..=0x39 | 0x3b..=0x7e))
        .count();
    line.get(n) == Some(&b':')
}

/// A header value as the stdlib sees it through `Message.get()`: bytes >= 0x80 become
/// U+FFFD there (compat32 wraps such values in a `Header`); here they become 0xFF.
pub fn sanitized(value: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if value.is_ascii() {
        std::borrow::Cow::Borrowed(value)
    } else {
        std::borrow::Cow::Owned(
            value
                .iter()
                .map(|&b| if b >= 0x80 { 0xFF } else { b })
                .collect(),
        )
    }
}

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    eof: Vec<Eof>,
    nodes: Vec<Node>,
    stack: Vec<usize>,
    last: usize,
    max_depth: usize,
}

/// The first header named `name` (ASCII case-insensitive) of `node`, as raw bytes.
pub fn first_header<'d>(data: &'d [u8], node: &Node, name: &[u8]) -> Option<&'d [u8]> {
    node.headers
        .iter()
        .find(|h| data[h.name.0..h.name.1].eq_ignore_ascii_case(name))
        .map(|h| &data[h.value.0..h.value.1])
}

impl Parser<'_> {
    fn line_end(&self, from: usize) -> usize {
        match memchr::memchr2(b'\r', b'\n', &self.data[from..]) {
            Some(i) => {
                let j = from + i;
                if self.data[j] == b'\r' && self.data.get(j + 1) == Some(&b'\n') {
                    j + 2
                } else {
                    j + 1
                }
            }
            None => self.data.len(),
        }
    }

    fn at_false_eof(&self, start: usize, end: usize) -> bool {
        let line = &self.data[start..end];
        !self.eof.is_empty()
            && matches!(line.first(), Some(b'-' | b'\r' | b'\n'))
            && self.eof.iter().rev().any(|m| m.matches(line))
    }

    fn readline(&mut self) -> Option<(usize, usize)> {
        if self.pos >= self.data.len() {
            return None;
        }
        let s = self.pos;
        let e = self.line_end(s);
        if self.at_false_eof(s, e) {
            return None;
        }
        self.pos = e;
        Some((s, e))
    }

    /// Consume lines up to the (false) end of file.
    fn read_to_eof(&mut self) {
        if self.eof.is_empty() {
            self.pos = self.data.len();
            return;
        }
        if self.eof.iter().any(|m| matches!(m, Eof::Blank)) {
            while self.readline().is_some() {}
            return;
        }
        // Only boundaries: a candidate line starts with "--".
        let start = self.pos;
        let mut from = start;
        while let Some(i) = memchr::memmem::find(&self.data[from..], b"--") {
            let p = from + i;
            if p == start || matches!(self.data[p - 1], b'\r' | b'\n') {
                let e = self.line_end(p);
                if self.at_false_eof(p, e) {
                    self.pos = p;
                    return;
                }
            }
            from = p + 1;
        }
        self.pos = self.data.len();
    }

    fn parse_headers(&mut self, idx: usize, lines: &[(usize, usize)]) {
        let mut cur: Option<(usize, usize, usize)> = None; // name start, colon, end
        let mut headers = Vec::with_capacity(lines.len());
        let mut defects = Vec::new();
        let data = self.data;
        let finish = |h: (usize, usize, usize), headers: &mut Vec<RawHeader>| {
            let (ns, colon, end) = h;
            let mut vs = colon + 1;
            while vs < end && matches!(data[vs], b' ' | b'\t') {
                vs += 1;
            }
            let mut ve = end;
            while ve > vs && matches!(data[ve - 1], b'\r' | b'\n') {
                ve -= 1;
            }
            headers.push(RawHeader {
                name: (ns, colon),
                value: (vs, ve),
            });
        };
        for (lineno, &(s, e)) in lines.iter().enumerate() {
            let line = &data[s..e];
            if matches!(line[0], b' ' | b'\t') {
                match cur.as_mut() {
                    Some(h) => h.2 = e,
                    None => defects.push("FirstHeaderLineIsContinuationDefect"),
                }
                continue;
            }
            if let Some(h) = cur.take() {
                finish(h, &mut headers);
            }
            if line.starts_with(b"From ") {
                if lineno == 0 {
                    continue;
                } else if lineno == lines.len() - 1 {
                    self.pos = s;
                    break;
                } else {
                    defects.push("MisplacedEnvelopeHeaderDefect");
                    continue;
                }
            }
            match memchr::memchr(b':', line) {
                Some(0) => defects.push("InvalidHeaderDefect"),
                Some(i) => cur = Some((s, s + i, e)),
                None => {}
            }
        }
        if let Some(h) = cur.take() {
            finish(h, &mut headers);
        }
        let node = &mut self.nodes[idx];
        node.headers = headers;
        node.defects.extend(defects);
    }

    fn content_type(&self, idx: usize, default: &[u8]) -> Vec<u8> {
        match first_header(self.data, &self.nodes[idx], b"content-type") {
            None => default.to_vec(),
            Some(v) => {
                let v = sanitized(v);
                let ct = pystr::lower(params::main_value(&v));
                if ct.iter().filter(|&&c| c == b'/').count() != 1 {
                    b"text/plain".to_vec()
                } else {
                    ct
                }
            }
        }
    }

    /// `get_boundary()`: None when absent; Some(None) when present but unable to match any
    /// line (it held 8-bit bytes); the parameter list failing to parse counts as absent.
    fn boundary(&self, idx: usize) -> Option<Option<Vec<u8>>> {
        let v = first_header(self.data, &self.nodes[idx], b"content-type")?;
        let v = sanitized(v);
        let list = params::params(&v).ok()?;
        let b = match params::get(&list, b"boundary")? {
            params::Value::Plain(p) => p,
            params::Value::Extended { text, .. } => text,
        };
        let b = pystr::rstrip(&b);
        if b.contains(&0xFF) || !b.is_ascii() {
            return Some(None);
        }
        let mut sep = b"--".to_vec();
        sep.extend_from_slice(b);
        Some(Some(sep))
    }

    fn strip_last(&mut self) {
        let n = &mut self.nodes[self.last];
        let multipart = n.maintype() == b"multipart" && !n.too_deep;
        if !multipart && n.kind == Kind::Leaf {
            let body = &self.data[n.body_start..n.body_end];
            n.body_end = n.body_start + pystr::strip_eol(body).len();
        }
    }

    fn leaf_to_eof(&mut self, idx: usize) {
        self.read_to_eof();
        self.nodes[idx].body_end = self.pos;
    }

    fn parsegen(&mut self) {
        let parent = self.stack.last().copied();
        let depth = self.stack.len();
        let digest = parent.is_some_and(|p| self.nodes[p].ctype == b"multipart/digest");
        let idx = self.nodes.len();
        self.nodes.push(Node {
            parent,
            depth,
            header_start: self.pos,
            headers: Vec::new(),
            body_start: self.pos,
            body_end: self.pos,
            ctype: Vec::new(),
            kind: Kind::Leaf,
            no_boundary: false,
            too_deep: false,
            defects: Vec::new(),
        });
        self.stack.push(idx);
        self.last = idx;

        let mut lines = Vec::new();
        loop {
            let save = self.pos;
            let Some((s, e)) = self.readline() else { break };
            let line = &self.data[s..e];
            if !is_header_line(line) {
                if !matches!(line[0], b'\r' | b'\n') {
                    self.nodes[idx]
                        .defects
                        .push("MissingHeaderBodySeparatorDefect");
                    self.pos = save;
                }
                break;
            }
            lines.push((s, e));
        }
        self.parse_headers(idx, &lines);
        let default: &[u8] = if digest {
            b"message/rfc822"
        } else {
            b"text/plain"
        };
        let ctype = self.content_type(idx, default);
        let node = &mut self.nodes[idx];
        node.ctype = ctype;
        node.body_start = self.pos;
        node.body_end = self.pos;
        let main = node.maintype().to_vec();
        if depth >= self.max_depth && (main == b"multipart" || main == b"message") {
            node.too_deep = true;
            node.defects.push("TooDeepDefect");
            self.leaf_to_eof(idx);
        } else if node.ctype == b"message/delivery-status" {
            node.kind = Kind::DeliveryStatus;
            loop {
                self.eof.push(Eof::Blank);
                self.parsegen();
                self.eof.pop();
                self.readline();
                let save = self.pos;
                if self.readline().is_none() {
                    break;
                }
                self.pos = save;
            }
            self.nodes[idx].body_end = self.pos;
        } else if main == b"message" {
            node.kind = Kind::Message;
            self.parsegen();
            self.nodes[idx].body_end = self.pos;
        } else if main == b"multipart" {
            self.multipart(idx);
        } else {
            self.leaf_to_eof(idx);
        }
        self.stack.pop();
    }

    fn multipart(&mut self, idx: usize) {
        let Some(sep) = self.boundary(idx) else {
            let node = &mut self.nodes[idx];
            node.defects.push("NoBoundaryInMultipartDefect");
            node.no_boundary = true;
            self.leaf_to_eof(idx);
            return;
        };
        let cte = first_header(self.data, &self.nodes[idx], b"content-transfer-encoding")
            .map(|v| pystr::lower(&sanitized(v)));
        if let Some(cte) = cte {
            if !matches!(cte.as_slice(), b"7bit" | b"8bit" | b"binary") {
                self.nodes[idx]
                    .defects
                    .push("InvalidMultipartContentTransferEncodingDefect");
            }
        }
        let bmatch = |line: &[u8]| sep.as_deref().and_then(|s| boundary_match(line, s));
        let mut capturing = true;
        let mut close_seen = false;
        let mut preamble_end;
        loop {
            preamble_end = self.pos;
            let Some((s, e)) = self.readline() else { break };
            match bmatch(&self.data[s..e]) {
                Some(true) => {
                    close_seen = true;
                    preamble_end = s;
                    break;
                }
                Some(false) => {
                    if capturing {
                        capturing = false;
                        self.pos = s;
                        continue;
                    }
                    loop {
                        let save = self.pos;
                        match self.readline() {
                            Some((s2, e2)) if bmatch(&self.data[s2..e2]).is_some() => {}
                            Some(_) => {
                                self.pos = save;
                                break;
                            }
                            None => break,
                        }
                    }
                    self.eof.push(Eof::Boundary(sep.clone()));
                    self.parsegen();
                    self.strip_last();
                    self.eof.pop();
                    self.last = idx;
                }
                None => {}
            }
        }
        if capturing {
            self.nodes[idx].defects.push("StartBoundaryNotFoundDefect");
            self.nodes[idx].body_end = if close_seen { preamble_end } else { self.pos };
            self.read_to_eof();
            return;
        }
        self.nodes[idx].kind = Kind::Multipart;
        if !close_seen {
            self.nodes[idx].defects.push("CloseBoundaryNotFoundDefect");
        } else {
            self.read_to_eof();
        }
        self.nodes[idx].body_end = self.pos;
    }
}

/// The entities of `data`, in depth-first order (index 0 is the message itself).
pub fn parse(data: &[u8], max_depth: usize) -> Vec<Node> {
    let mut p = Parser {
        data,
        pos: 0,
        eof: Vec::new(),
        nodes: Vec::new(),
        stack: Vec::new(),
        last: 0,
        max_depth,
    };
    p.parsegen();
    let mut nodes = p.nodes;
    let root = &mut nodes[0];
    if root.maintype() == b"multipart" && root.kind != Kind::Multipart {
        root.defects.push("MultipartInvariantViolationDefect");
    }
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_lines() {
        assert_eq!(boundary_match(b"--b\r\n", b"--b"), Some(false));
        assert_eq!(boundary_match(b"--b-- \n", b"--b"), Some(true));
        assert_eq!(boundary_match(b"--bx\n", b"--b"), None);
        assert_eq!(boundary_match(b"--b", b"--b"), Some(false));
    }

    #[test]
    fn simple_multipart() {
        let m = b"Content-Type: multipart/mixed; boundary=x\n\npre\n--x\n\nA\n--x\nContent-Type: text/html\n\n<b>\n--x--\n";
        let n = parse(m, 10);
        assert_eq!(n.len(), 3);
        assert_eq!(&m[n[1].body_start..n[1].body_end], b"A");
        assert_eq!(&m[n[2].body_start..n[2].body_end], b"<b>");
        assert_eq!(n[2].ctype, b"text/html");
    }
}
