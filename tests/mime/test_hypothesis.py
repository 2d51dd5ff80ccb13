"""Hypothesis-generated messages through both walks: well-formed MIME trees (random types,
charsets, transfer encodings, RFC 2047/2231 file names, CRLF or LF), the same trees damaged
(bytes inserted, deleted, cut), and MIME token soup. Native and pure must agree on the whole
part table; without the native module the pure table is checked for consistency."""

from __future__ import annotations

import base64
import quopri
import urllib.parse

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmgfast.mime import Limits, walk_native, walk_pure
from pmgfast.mime.compare import differences
from tests.mime.test_corpus import check_table

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHARSETS = [
    "utf-8",
    "iso-8859-1",
    "windows-1252",
    "koi8-r",
    "shift_jis",
    "big5",
    "utf-16le",
    "us-ascii",
    "x-bogus",
]
LEAF_TYPES = ["text/plain", "text/html", "application/octet-stream", "image/png", "application/zip"]
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)
MAGIC = [
    b"",
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    b"PK\x03\x04\x14\0",
    b"MZ\x90\0",
    b"%PDF-1.4\n",
    b"\x7fELF\x02",
]


@st.composite
def filenames(draw: st.DrawFn) -> tuple[str, str] | None:
    """(header parameter text, parameter name) or None."""
    if draw(st.booleans()):
        return None
    name = draw(st.text(min_size=1, max_size=20)) + draw(
        st.sampled_from([".txt", ".exe", ".zip", ".tar.gz", ""])
    )
    param = draw(st.sampled_from(["filename", "name"]))
    style = draw(
        st.sampled_from(["plain", "quoted", "2047b", "2047q", "2231", "2231split", "raw8bit"])
    )
    if style == "plain" and all(c.isalnum() or c in "._-" for c in name) and name.isascii():
        return f"{param}={name}", param
    if style == "2047b":
        enc = base64.b64encode(name.encode()).decode()
        return f'{param}="=?utf-8?b?{enc}?="', param
    if style == "2047q":
        enc = "".join(
            c if c.isascii() and c.isalnum() else "".join(f"={b:02X}" for b in c.encode())
            for c in name
        )
        return f'{param}="=?UTF-8?Q?{enc}?="', param
    if style == "2231":
        return f"{param}*=utf-8''{urllib.parse.quote(name)}", param
    if style == "2231split":
        q = urllib.parse.quote(name)
        return f"{param}*0*=utf-8''{q[: len(q) // 2]}; {param}*1*={q[len(q) // 2 :]}", param
    if style == "raw8bit":
        return f'{param}="{name}"', param
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'{param}="{escaped}"', param


@st.composite
def leaves(draw: st.DrawFn) -> bytes:
    ctype = draw(st.sampled_from(LEAF_TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    cte = draw(st.sampled_from(["", "base64", "quoted-printable", "7bit", "8bit", "BASE64 "]))
    fn = draw(filenames())
    if ctype.startswith("text/"):
        text = draw(TEXT)
        if ctype == "text/html":
            host = draw(st.sampled_from(["a.example", "b.example.org"]))
            entity = draw(st.sampled_from(["&amp;", "&eacute;", "&#x41;", "&#0;", "&bogus;", "&"]))
            text = f"<html><body><p>{text}{entity}</p><a href='http://{host}/x'>l</a></body></html>"
        codec = {"x-bogus": "utf-8", "us-ascii": "ascii"}.get(charset, charset)
        body = text.encode(codec, "replace")
    else:
        body = draw(st.sampled_from(MAGIC)) + draw(st.binary(max_size=300))
    if cte.strip().lower() == "base64":
        body = base64.encodebytes(body)
        if draw(st.booleans()):
            body = body.rstrip(b"=\n") + draw(st.sampled_from([b"", b"*", b"=", b"A", b"!!"]))
    elif cte == "quoted-printable":
        body = quopri.encodestring(body)
    headers = [
        f"Content-Type: {ctype}; charset={charset}"
        + (f"; {fn[0]}" if fn and fn[1] == "name" else "")
    ]
    if cte:
        headers.append(f"Content-Transfer-Encoding: {cte}")
    if fn and fn[1] == "filename":
        headers.append(f"Content-Disposition: attachment; {fn[0]}")
    return "\n".join(headers).encode() + b"\n\n" + body


def containers(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    @st.composite
    def multipart(draw: st.DrawFn) -> bytes:
        sub = draw(st.sampled_from(["mixed", "alternative", "digest", "related"]))
        boundary = draw(st.sampled_from(["b1", "=_x", "simple boundary", "a'b"])) + str(
            draw(st.integers(0, 99))
        )
        parts = draw(st.lists(children, min_size=0, max_size=4))
        quoted = f'"{boundary}"' if " " in boundary or draw(st.booleans()) else boundary
        out = f"Content-Type: multipart/{sub}; boundary={quoted}\n\n".encode()
        if draw(st.booleans()):
            out += b"preamble\n"
        for p in parts:
            out += b"--" + boundary.encode() + b"\n" + p + b"\n"
        if draw(st.integers(0, 4)):
            out += b"--" + boundary.encode() + b"--\n"
        if draw(st.booleans()):
            out += b"epilogue\n"
        return out

    @st.composite
    def message(draw: st.DrawFn) -> bytes:
        inner = draw(children)
        subject = draw(TEXT)
        word = base64.b64encode(subject.encode()).decode()
        return (
            b"Content-Type: message/rfc822\n\nSubject: =?utf-8?b?" + word.encode() + b"?=\n" + inner
        )

    return st.one_of(multipart(), message())


TREES = st.recursive(leaves(), containers, max_leaves=8)


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(TREES))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["insert", "delete", "cut", "crlf"]))
        at = draw(st.integers(0, len(raw)))
        if op == "insert":
            raw[at:at] = draw(
                st.sampled_from([b"\r", b"\n", b"--", b"\x00", b"\xff", b"=?", b":", b" "])
            )
        elif op == "delete":
            del raw[at : at + draw(st.integers(1, 8))]
        elif op == "cut":
            del raw[at:]
        else:
            raw = bytearray(bytes(raw).replace(b"\n", b"\r\n"))
    return bytes(raw)


TOKENS = [
    b"Content-Type: multipart/mixed; boundary=b1\n",
    b"Content-Type: message/rfc822\n",
    b"Content-Type: message/delivery-status\n",
    b"Content-Type: multipart/mixed; boundary*=us-ascii''b1; boundary*0=x\n",
    b"Content-Type: text/html; charset=utf-8\n",
    b"Content-Transfer-Encoding: base64\n",
    b"Content-Transfer-Encoding: quoted-printable\n",
    b"From x\n",
    b" folded\n",
    b":bad\n",
    b"--b1\n",
    b"--b1--\n",
    b"\n",
    b"\r\n",
    b"\r",
    b"aGVsbG8=\n",
    b"=41=\n",
    b"<p>http://a.example</p>",
    b"\x00\xff\x80",
]
SOUP = st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=8)), max_size=60).map(
    b"".join
)


DEFAULT = Limits()


def agree(raw: bytes, rust_module, limits: Limits = DEFAULT) -> None:
    pure = walk_pure(raw, limits)
    check_table(raw, pure)
    if rust_module is not None:
        native = walk_native(raw, limits, rust_module)
        check_table(raw, native)
        assert differences(native, pure) == []


@SETTINGS
@given(raw=TREES, crlf=st.booleans())
def test_wellformed_trees_agree(rust_module, raw: bytes, crlf: bool) -> None:
    agree(raw.replace(b"\n", b"\r\n") if crlf else raw, rust_module)


@SETTINGS
@given(raw=damaged())
def test_damaged_trees_agree(rust_module, raw: bytes) -> None:
    agree(raw, rust_module)


@SETTINGS
@given(raw=SOUP, max_parts=st.integers(0, 5), max_depth=st.integers(0, 4), cut=st.integers(0, 400))
def test_token_soup_agrees_under_limits(
    rust_module, raw: bytes, max_parts: int, max_depth: int, cut: int
) -> None:
    agree(raw, rust_module, Limits(max_parts=max_parts, max_depth=max_depth, max_size=cut))


@SETTINGS
@given(raw=st.binary(max_size=600))
def test_random_bytes_agree(rust_module, raw: bytes) -> None:
    agree(raw, rust_module)
