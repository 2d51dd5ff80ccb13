"""The walk's behaviour on hand-written messages: PMG's numbering and relabelling, file names,
types, decoding, charsets, HTML text, URIs, limits. Each test runs on the walk pmgfast uses
(native when built) and on the pure twin."""

from __future__ import annotations

import base64

import pytest

from pmgfast import mime
from pmgfast.config.pmgconf import parse as parse_pmgconf
from pmgfast.mime import Limits, Message, mimedb, text, walk_native, walk_pure

DEFAULT = Limits()


@pytest.fixture(params=["native", "pure"])
def walk(request, rust_module):
    if request.param == "pure":
        return walk_pure
    if rust_module is None:  # PMGFAST_NO_EXTENSIONS=1: the public walk is the pure twin
        return mime.walk
    return lambda raw, limits=DEFAULT: walk_native(raw, limits, rust_module)


NESTED = b"""From: a@example.com
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=
Content-Type: multipart/mixed; boundary="outer"

preamble
--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

caf=E9 http://Shop.Example.com/a?b=1.
--inner
Content-Type: text/html; charset=utf-8

<html><style>p{}</style><p>caf&eacute; &amp; <b>more</b></p><div>www.example.org</div></html>
--inner--
--outer
Content-Type: message/rfc822

Subject: inner
Content-Type: application/octet-stream; name="x.exe"
Content-Transfer-Encoding: base64

TVqQAAMAAAAEAAAA//8AALgAAAA=
--outer
Content-Type: application/octet-stream
Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9%00.zip
Content-Transfer-Encoding: base64

UEsDBBQAAAAIAA==
--outer--
"""


def shape(m: Message) -> list[tuple[int, int, int, str]]:
    return [(p.aid, p.parent, p.depth, p.content_type) for p in m.parts]


def test_parts_numbered_depth_first_from_one(walk) -> None:
    m = walk(NESTED)
    assert shape(m) == [
        (1, 0, 0, "multipart/mixed"),
        (2, 1, 1, "multipart/alternative"),
        (3, 2, 2, "text/plain"),
        (4, 2, 2, "text/html"),
        (5, 1, 1, "message/rfc822"),
        (6, 5, 2, "application/octet-stream"),
        (7, 1, 1, "application/octet-stream"),
    ]
    assert [p.is_leaf for p in m.parts] == [False, False, True, True, False, True, True]
    assert m.defects == []


def test_headers_text_and_uris(walk) -> None:
    m = walk(NESTED)
    assert m.parts[0].header("subject") == ["Grüße"]
    assert (
        m.parts[2].text == "café http://Shop.Example.com/a?b=1."
    )  # the EOL belongs to the boundary
    assert m.parts[2].charset == "iso-8859-1"
    assert m.parts[3].html_text == "café & more\nwww.example.org"
    assert m.uris == ["http://Shop.Example.com/a?b=1", "www.example.org"]
    assert m.domains == ["shop.example.com", "www.example.org"]


def test_filenames_and_types(walk) -> None:
    m = walk(NESTED)
    exe, zipped = m.parts[5], m.parts[6]
    # Debian 12's shared-mime-info calls it x-ms-dos-executable; PMG's newer name is reported
    assert (exe.filename, exe.magic_type, exe.glob_type) == (
        "x.exe",
        "application/vnd.microsoft.portable-executable",
        "application/vnd.microsoft.portable-executable",
    )
    assert m.body(6).startswith(b"MZ")
    # RFC 2231, NUL made a space; magic sees a zip, the name says zip
    assert (zipped.filename, zipped.magic_type, zipped.glob_type) == (
        "résumé .zip",
        "application/zip",
        "application/zip",
    )
    # no file name: PMG globs MIME::Parser's dump name (msg.txt for text)
    assert m.parts[2].glob_type == "text/plain"
    assert m.parts[0].magic_type is None and m.body(1) == b""


def test_multipart_without_boundary_is_unparseable(walk) -> None:
    m = walk(b"Content-Type: multipart/mixed\n\n--x\nhello\n")
    assert m.parts[0].content_type == "application/x-unparseable-multipart"
    assert m.parts[0].is_leaf
    assert {d.kind for d in m.defects} == {
        "NoBoundaryInMultipartDefect",
        "MultipartInvariantViolationDefect",
    }


def test_unreadable_rfc2231_boundary(walk) -> None:
    """Sections both numbered and not: the stdlib's decode_params raises; both walks see no
    boundary instead of failing."""
    raw = b"Content-Type: multipart/mixed; boundary*=us-ascii''b1; boundary*0=x\n\n--b1\n\nhi\n"
    m = walk(raw)
    assert m.parts[0].content_type == "application/x-unparseable-multipart"
    assert (1, "NoBoundaryInMultipartDefect") in m.defects


def test_missing_end_boundary_and_bad_base64(walk) -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\n\n"
        b"--b\nContent-Transfer-Encoding: base64\n\naGVsbG8\n"
    )
    m = walk(raw)
    assert m.body(2) == b"hello"
    assert sorted(m.defects) == [
        (1, "CloseBoundaryNotFoundDefect"),
        (2, "InvalidBase64PaddingDefect"),
    ]


def test_eight_bit_garbage_and_charsets(walk) -> None:
    m = walk(b"Subject: caf\xe9\nContent-Type: text/plain; charset=utf-8\n\nbad \xff here\n")
    assert m.parts[0].header("Subject") == ["café"]  # raw 8-bit header: UTF-8 or windows-1252
    assert m.parts[0].text == "bad \ufffd here\n"
    assert (1, "CharsetDecodeDefect") in m.defects
    m = walk(b"Content-Type: text/plain; charset=no-such\n\n\x80uro")
    assert m.parts[0].text == "€uro"
    assert (1, "UnknownCharsetDefect") in m.defects
    m = walk(b"Content-Type: text/plain; charset=shift_jis\n\n\x93\xfa\x96\x7b")
    assert m.parts[0].text == "日本"


def test_depth_limit(walk) -> None:
    raw = b"Content-Type: message/rfc822\n\n" * 5 + b"Subject: deep\n\nbody\n"
    m = walk(raw, Limits(max_depth=3))
    assert [p.depth for p in m.parts] == [0, 1, 2, 3]
    assert m.parts[3].is_leaf and m.parts[3].content_type == "message/rfc822"
    assert m.defects == [(4, "TooDeepDefect")]
    assert len(walk(raw).parts) == 6


def test_size_limit(walk) -> None:
    m = walk(NESTED, Limits(max_size=200))
    assert (1, "TruncatedDefect") in m.defects
    assert len(m.parts) < 7


def test_empty_and_headerless(walk) -> None:
    m = walk(b"")
    assert shape(m) == [(1, 0, 0, "text/plain")]
    assert m.parts[0].magic_type == "application/x-zerosize"
    m = walk(b"just a line\n")
    assert m.parts[0].text == "just a line\n"
    assert m.defects == [(1, "MissingHeaderBodySeparatorDefect")]


def test_limits_from_config() -> None:
    conf = parse_pmgconf(
        "section: clamav\n\tarchivemaxfiles 25\n\nsection: mail\n\tmaxsize 2000000\n"
    )
    assert Limits.from_config(conf) == Limits(max_parts=25, max_depth=64, max_size=4000000)


def test_magic_and_glob_tables() -> None:
    assert mimedb.magic(b"%PDF-1.4\n") == "application/pdf"
    assert mimedb.magic(b"\x1f\x8b\x08\0") == "application/gzip"
    assert mimedb.magic(b"7z\xbc\xaf\x27\x1c") == "application/x-7z-compressed"
    assert mimedb.magic(b"Rar!\x1a\x07\0") == "application/vnd.rar"
    assert mimedb.magic(b"\x01\x02binary") == "application/octet-stream"
    assert mimedb.glob("INVOICE.PDF") == "application/pdf"
    assert mimedb.glob("a.tar.gz") == "application/x-compressed-tar"
    assert mimedb.glob("x.js") == "application/javascript"
    assert mimedb.glob("noext") == "application/octet-stream"


def test_text_algorithms() -> None:
    assert text.decode_header(b"=?utf-8?b?4oKs?= =?utf-8?q?_x?= y") == "€ x y"
    assert text.decode_header(b"=?iso-2022-jp?B?GyRCRnxLXBsoQg==?=") == "日本"
    assert text.html_to_text("a<script>x</script>b&#x41;&#0;") == "abA\ufffd"
    assert list(text.scan_uris("x http://localhost/ ftp://Files.Example.NET:21/a")) == [
        ("ftp://Files.Example.NET:21/a", "files.example.net")
    ]
    assert text.decode_body(base64.b64encode(b"data"), "base64") == (b"data", [])
    assert text.decode_body(b"a=3Db=\nc", "quoted-printable") == (b"a=bc", [])


def test_table_is_built_from_the_installed_shared_mime_info() -> None:
    """mimedb.txt is what mimedb_build makes of Debian's shared-mime-info (scripts/bootstrap.sh
    installs it); a newer package means: run ``python -m pmgfast.mime.mimedb_build``."""
    from pmgfast.mime import mimedb_build

    assert mimedb_build.DEFAULT_XML.is_file(), "shared-mime-info is not installed"
    built = mimedb_build.build(mimedb_build.DEFAULT_XML)
    assert mimedb.TABLE.read_text(encoding="utf-8").splitlines() == built
