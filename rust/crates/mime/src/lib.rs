//! pmgfast-mime: the MIME walk. Raw message bytes in, a flat part table out.
//!
//! # Model
//! A message is a tree of entities; the walk flattens it into [`Part`]s in depth-first order
//! and numbers them from 1 (`aid`), as PMG does: the message itself is part 1, every
//! multipart container and every `message/*` container gets a number too. Each part knows its
//! parent's aid (0 for the message), its depth, its header fields (RFC 2047 decoded), the
//! content type from its header (as Python's `email` package computes it; a multipart without
//! a usable boundary becomes `application/x-unparseable-multipart`, PMG's `fixup_multipart`),
//! its parameters, charset, transfer encoding, disposition and file name (RFC 2231 and 2047
//! decoded, NUL made a space, trimmed). Leaves (parts with a body) also carry the body's byte
//! range in the raw message, the decoded size, the type detected from the first 40 KiB of the
//! decoded body (magic) and the type of the file name (glob), both from shared-mime-info's
//! data; text leaves carry their text converted to UTF-8, HTML leaves also a plain-text
//! rendering. URIs and host names found in text leaves are collected per message.
//!
//! # Agreement with the pure twin
//! The structure pass ([`parse`]) is the stdlib `email.feedparser` algorithm over byte offsets;
//! the decoders repeat CPython's `binascii` leniency. Header decoding, charset conversion, the
//! HTML rendering, URI scanning and type detection are small fixed algorithms that
//! `pmgfast/mime/pure.py` implements the same way; `tests/mime` checks that they agree.
//!
//! # Bad input
//! Nothing in the input can make the walk fail or panic: what is wrong is recorded as a
//! [`Defect`] (the stdlib's defect class names where it has one) and the walk goes on. Limits
//! bound the work: parts past `max_parts` are dropped (`TooManyPartsDefect`), containers at
//! `max_depth` are kept as opaque leaves (`TooDeepDefect`), bytes past `max_size` are ignored
//! (`TruncatedDefect`).
pub mod charset;
pub mod decode;
pub mod html;
pub mod mimedb;
pub mod params;
pub mod parse;
mod pystr;
pub mod rfc2047;
pub mod uri;

use parse::{first_header, Kind, Node};

/// Bounds on the work one walk does. Zero means "no limit".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Parts kept in the table (PMG: `clamav.archivemaxfiles`, default 1000).
    pub max_parts: usize,
    /// Containers deeper than this are not descended into.
    pub max_depth: usize,
    /// Bytes of the message looked at.
    pub max_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_parts: 1000,
            max_depth: 64,
            max_size: 0,
        }
    }
}

/// Something wrong with the message, and the part where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Defect {
    pub aid: u32,
    pub kind: &'static str,
}

/// One entity of the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub aid: u32,
    pub parent: u32,
    pub depth: u32,
    pub content_type: String,
    pub params: Vec<(String, String)>,
    pub charset: Option<String>,
    pub transfer_encoding: String,
    pub disposition: Option<String>,
    pub filename: Option<String>,
    /// True for parts with a body of their own (not a container).
    pub is_leaf: bool,
    pub magic_type: Option<&'static str>,
    pub glob_type: Option<&'static str>,
    pub header_start: usize,
    pub body_start: usize,
    pub body_end: usize,
    pub decoded_size: usize,
    pub text: Option<String>,
    pub html_text: Option<String>,
    pub headers: Vec<(String, String)>,
}

/// The walk's result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    pub parts: Vec<Part>,
    pub defects: Vec<Defect>,
    pub uris: Vec<String>,
    pub domains: Vec<String>,
}

fn guess_str(b: &[u8]) -> String {
    charset::guess(b)
}

/// The decoded body bytes of a leaf, and the base64 defects met.
pub fn decode_body(body: &[u8], transfer_encoding: &str) -> (Vec<u8>, Vec<&'static str>) {
    match transfer_encoding {
        "base64" => {
            let (out, defects) = decode::base64_body(body);
            let names = defects
                .into_iter()
                .map(|d| match d {
                    decode::B64Defect::Padding => "InvalidBase64PaddingDefect",
                    decode::B64Defect::Characters => "InvalidBase64CharactersDefect",
                    decode::B64Defect::Length => "InvalidBase64LengthDefect",
                })
                .collect();
            (out, names)
        }
        "quoted-printable" => (decode::a2b_qp(body, false), Vec::new()),
        _ => (body.to_vec(), Vec::new()),
    }
}

/// The file extension MIME::Parser gives a body without a file name (PMG globs that name).
fn default_name(ctype: &str) -> &'static str {
    if ctype.starts_with("text/") {
        "msg.txt"
    } else if ctype == "application/octet-stream" {
        "msg.bin"
    } else if ctype.starts_with("audio/") {
        "msg.snd"
    } else if ctype.starts_with("image/") {
        "msg.img"
    } else {
        "msg.dat"
    }
}

fn param_list(data: &[u8], node: &Node, header: &[u8]) -> Option<Vec<(Vec<u8>, params::Value)>> {
    params::params(first_header(data, node, header)?).ok()
}

fn value_text(v: &params::Value) -> String {
    match v {
        params::Value::Plain(p) => guess_str(p),
        params::Value::Extended { charset, text } => {
            charset::decode(text, charset.as_deref().filter(|c| !c.is_empty())).text
        }
    }
}

fn filename(data: &[u8], node: &Node) -> Option<String> {
    let from = |header: &[u8], name: &[u8]| {
        param_list(data, node, header).and_then(|l| params::get(&l, name))
    };
    let v = from(b"content-disposition", b"filename").or_else(|| from(b"content-type", b"name"))?;
    let s = match v {
        params::Value::Plain(p) => rfc2047::decode_header(&pystr::unquote(&p)),
        ext => value_text(&ext),
    };
    let s = s.replace('\0', " ");
    let t = s.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c));
    (!t.is_empty()).then(|| t.to_owned())
}

fn ctype_string(ct: &[u8]) -> String {
    ct.iter()
        .map(|&b| if b >= 0x80 { '\u{fffd}' } else { b as char })
        .collect()
}

struct Sink {
    uris: Vec<String>,
    domains: Vec<String>,
    seen_uris: std::collections::HashSet<String>,
    seen_domains: std::collections::HashSet<String>,
}

impl Sink {
    fn scan(&mut self, text: &str) {
        uri::scan(text, |u, host| {
            if !self.seen_uris.contains(u) {
                self.seen_uris.insert(u.to_owned());
                self.uris.push(u.to_owned());
            }
            let lowered;
            let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
                lowered = host.to_ascii_lowercase();
                lowered.as_str()
            } else {
                host
            };
            if !self.seen_domains.contains(host) {
                self.seen_domains.insert(host.to_owned());
                self.domains.push(host.to_owned());
            }
        });
    }
}

/// Walk `raw` under `limits`.
pub fn walk(raw: &[u8], limits: &Limits) -> Message {
    let truncated = limits.max_size != 0 && raw.len() > limits.max_size;
    let data = if truncated {
        &raw[..limits.max_size]
    } else {
        raw
    };
    let max_depth = if limits.max_depth == 0 {
        usize::MAX
    } else {
        limits.max_depth
    };
    let nodes = parse::parse(data, max_depth);
    let keep = if limits.max_parts == 0 {
        nodes.len()
    } else {
        nodes.len().min(limits.max_parts)
    };
    let mut parts = Vec::with_capacity(keep);
    let mut defects = Vec::new();
    let mut sink = Sink {
        uris: Vec::new(),
        domains: Vec::new(),
        seen_uris: Default::default(),
        seen_domains: Default::default(),
    };
    for (i, node) in nodes[..keep].iter().enumerate() {
        let aid = i as u32 + 1;
        for d in &node.defects {
            defects.push(Defect { aid, kind: d });
        }
        let mut content_type = ctype_string(&node.ctype);
        if node.no_boundary {
            content_type = "application/x-unparseable-multipart".to_owned();
        }
        let ct_params = param_list(data, node, b"content-type").unwrap_or_default();
        let charset_raw = params::get(&ct_params, b"charset").map(|v| match v {
            params::Value::Plain(p) => p,
            params::Value::Extended { text, .. } => text,
        });
        let charset_name = charset_raw
            .as_ref()
            .filter(|c| c.is_ascii())
            .map(|c| guess_str(c).to_ascii_lowercase());
        let transfer_encoding = first_header(data, node, b"content-transfer-encoding")
            .map(|v| guess_str(&pystr::lower(pystr::strip(v))))
            .unwrap_or_default();
        let disposition = first_header(data, node, b"content-disposition")
            .map(|v| guess_str(&pystr::lower(params::main_value(v))));
        let filename = filename(data, node);
        let headers = node
            .headers
            .iter()
            .map(|h| {
                (
                    guess_str(&data[h.name.0..h.name.1]),
                    rfc2047::decode_header(&data[h.value.0..h.value.1]),
                )
            })
            .collect();
        let params_out = ct_params
            .iter()
            .skip(1)
            .map(|(k, v)| {
                let v = match v {
                    params::Value::Plain(p) => params::Value::Plain(pystr::unquote(p)),
                    params::Value::Extended { charset, text } => params::Value::Extended {
                        charset: charset.clone(),
                        text: pystr::unquote(text),
                    },
                };
                (guess_str(k), value_text(&v))
            })
            .collect();
        let is_leaf = node.kind == Kind::Leaf;
        let mut part = Part {
            aid,
            parent: node.parent.map_or(0, |p| p as u32 + 1),
            depth: node.depth as u32,
            content_type,
            params: params_out,
            charset: charset_name,
            transfer_encoding,
            disposition,
            filename,
            is_leaf,
            magic_type: None,
            glob_type: None,
            header_start: node.header_start,
            body_start: node.body_start,
            body_end: node.body_end,
            decoded_size: 0,
            text: None,
            html_text: None,
            headers,
        };
        if is_leaf {
            let (decoded, dd) = decode_body(
                &data[node.body_start..node.body_end],
                &part.transfer_encoding,
            );
            for d in dd {
                defects.push(Defect { aid, kind: d });
            }
            part.decoded_size = decoded.len();
            part.magic_type = Some(mimedb::magic(&decoded));
            part.glob_type = Some(mimedb::glob(
                part.filename
                    .as_deref()
                    .unwrap_or(default_name(&part.content_type)),
            ));
            if part.content_type.starts_with("text/") {
                let d = charset::decode(&decoded, charset_raw.as_deref());
                if d.unknown_label {
                    defects.push(Defect {
                        aid,
                        kind: "UnknownCharsetDefect",
                    });
                }
                if d.had_errors {
                    defects.push(Defect {
                        aid,
                        kind: "CharsetDecodeDefect",
                    });
                }
                sink.scan(&d.text);
                if part.content_type == "text/html" {
                    part.html_text = Some(html::to_text(&d.text));
                }
                part.text = Some(d.text);
            }
        }
        parts.push(part);
    }
    if truncated {
        defects.push(Defect {
            aid: 1,
            kind: "TruncatedDefect",
        });
    }
    if keep < nodes.len() {
        defects.push(Defect {
            aid: 1,
            kind: "TooManyPartsDefect",
        });
    }
    Message {
        parts,
        defects,
        uris: sink.uris,
        domains: sink.domains,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_basic() {
        let m = b"Subject: =?utf-8?q?h=C3=A9?=\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\n\nsee http://Example.com/x\n--b\nContent-Type: application/octet-stream; name=\"a.png\"\nContent-Transfer-Encoding: base64\n\niVBORw0KGgoAAAANSUhEUg==\n--b--\n";
        let w = walk(m, &Limits::default());
        assert_eq!(w.parts.len(), 3);
        assert_eq!(
            w.parts[0].headers[0],
            ("Subject".to_owned(), "hé".to_owned())
        );
        assert_eq!(w.parts[1].text.as_deref(), Some("see http://Example.com/x"));
        assert_eq!(w.parts[2].filename.as_deref(), Some("a.png"));
        assert_eq!(w.parts[2].magic_type, Some("image/png"));
        assert_eq!(w.parts[2].glob_type, Some("image/png"));
        assert_eq!(w.domains, vec!["example.com"]);
        assert!(w.defects.is_empty());
    }

    #[test]
    fn limits() {
        let m = b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\na\n--b\n\nb\n--b--\n";
        let w = walk(
            m,
            &Limits {
                max_parts: 2,
                max_depth: 0,
                max_size: 0,
            },
        );
        assert_eq!(w.parts.len(), 2);
        assert_eq!(
            w.defects,
            vec![Defect {
                aid: 1,
                kind: "TooManyPartsDefect"
            }]
        );
        let w = walk(
            m,
            &Limits {
                max_parts: 0,
                max_depth: 0,
                max_size: 10,
            },
        );
        assert!(w.defects.contains(&Defect {
            aid: 1,
            kind: "TruncatedDefect"
        }));
    }
}
