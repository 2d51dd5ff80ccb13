"""Every message of ../shared/corpus through both walks: they must agree, the table must be
consistent, and the defects of the notable broken files are what a reader of the file expects.

Under PMGFAST_NO_EXTENSIONS=1 there is no native walk: the pure twin alone is checked for
consistency and for the expected defects.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pmgfast.mime import Limits, Message, walk_native, walk_pure
from pmgfast.mime.compare import differences

FOLDERS = [
    "mime/python-email",
    "mime/mail-parser",
    "mime/mime-tools",
    "mime/flanker",
    "mime/crymap",
    "mime/spamassassin-tdata",
    "mime/rspamd",
    "spamassassin/ham",
    "spamassassin/spam",
]
NOT_MAIL = {"COPYING", "INDEX.md", "index.tsv"}
LIMITS = Limits()


def messages(corpus: Path, folder: str) -> list[Path]:
    files = sorted(
        p for p in (corpus / folder).rglob("*") if p.is_file() and p.name not in NOT_MAIL
    )
    assert files, f"no messages under {folder}"
    return files


def check_table(raw: bytes, m: Message) -> None:
    """The invariants of a part table."""
    assert m.parts, "a walk always has the message itself as part 1"
    for i, p in enumerate(m.parts):
        assert p.aid == i + 1
        assert 0 <= p.parent < p.aid
        assert p.depth == (0 if p.parent == 0 else m.parts[p.parent - 1].depth + 1)
        if p.is_leaf:
            assert p.magic_type and p.glob_type
            assert len(m.body(p.aid)) == p.decoded_size
            if p.body_start >= 0:
                assert p.header_start <= p.body_start <= p.body_end <= len(raw)
        else:
            assert p.magic_type is None and p.text is None
            assert any(q.parent == p.aid for q in m.parts) or p.aid == len(m.parts)
        assert (p.text is not None) == (p.is_leaf and p.content_type.startswith("text/"))
        assert (p.html_text is not None) == (p.is_leaf and p.content_type == "text/html")
    for d in m.defects:
        assert 1 <= d.aid <= len(m.parts)


@pytest.mark.parametrize("folder", FOLDERS)
def test_corpus_walks_agree(corpus: Path, rust_module, folder: str) -> None:
    failures = []
    for path in messages(corpus, folder):
        raw = path.read_bytes()
        pure = walk_pure(raw, LIMITS)
        check_table(raw, pure)
        if rust_module is not None:
            native = walk_native(raw, LIMITS, rust_module)
            check_table(raw, native)
            diff = differences(native, pure)
            if diff:
                failures.append(f"{path.relative_to(corpus)}: {diff[:3]}")
    assert not failures, "\n".join(failures)


def _walk(corpus: Path, rust_module, name: str, limits: Limits = LIMITS) -> Message:
    raw = (corpus / "mime" / name).read_bytes()
    return walk_pure(raw, limits) if rust_module is None else walk_native(raw, limits, rust_module)


def kinds(m: Message) -> set[tuple[int, str]]:
    return {(d.aid, d.kind) for d in m.defects}


# (file, defects a reader expects, defects that must not be there)
EXPECTED = [
    ("flanker/missing-final-boundary.eml", {(1, "CloseBoundaryNotFoundDefect")}, set()),
    ("mime-tools/testin/multi-bad.msg", {(1, "CloseBoundaryNotFoundDefect")}, set()),
    ("rspamd/badboundary.eml", {(1, "CloseBoundaryNotFoundDefect")}, set()),
    ("flanker/false-multipart.eml", {(1, "StartBoundaryNotFoundDefect")}, set()),
    ("mime-tools/testin/badbound.msg", {(1, "StartBoundaryNotFoundDefect")}, set()),
    ("python-email/msg_15.txt", {(2, "StartBoundaryNotFoundDefect")}, set()),
    ("python-email/msg_25.txt", {(1, "NoBoundaryInMultipartDefect")}, set()),
    ("python-email/msg_19.txt", {(1, "MissingHeaderBodySeparatorDefect")}, set()),
    ("python-email/msg_39.txt", {(4, "InvalidBase64PaddingDefect")}, set()),
    ("mail-parser/thirdparty/002.eml", {(3, "InvalidBase64CharactersDefect")}, set()),
    ("flanker/enclosed-broken-body.eml", {(5, "InvalidBase64LengthDefect")}, set()),
    ("rspamd/fname.eml", {(2, "InvalidBase64LengthDefect")}, set()),
    # well-formed: no defect at all
    ("crymap/torture-test.eml", set(), {"*"}),
    ("flanker/torture.eml", set(), {"*"}),
    ("rspamd/zip.eml", set(), {"*"}),
    ("flanker/missing-boundaries.eml", set(), {"*"}),  # header-like text in a text/plain body
]


@pytest.mark.parametrize(("name", "expected", "forbidden"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_defects_a_reader_expects(corpus: Path, rust_module, name, expected, forbidden) -> None:
    found = kinds(_walk(corpus, rust_module, name))
    assert expected <= found
    if forbidden == {"*"}:
        assert found == set()


def test_torture_test_structure(corpus: Path, rust_module) -> None:
    """Mark Crispin's torture test: 52 entities, six levels, the same in LF and CRLF form."""
    lf = _walk(corpus, rust_module, "flanker/torture.eml")
    crlf = _walk(corpus, rust_module, "crymap/torture-test.eml")
    assert len(lf.parts) == len(crlf.parts) == 52
    assert max(p.depth for p in lf.parts) == 6
    assert [(p.parent, p.content_type, p.filename) for p in lf.parts] == [
        (p.parent, p.content_type, p.filename) for p in crlf.parts
    ]


def test_no_boundary_is_relabelled(corpus: Path, rust_module) -> None:
    m = _walk(corpus, rust_module, "python-email/msg_41.txt")
    assert m.parts[0].content_type == "application/x-unparseable-multipart"
    assert m.parts[0].is_leaf


def test_part_limit_from_config(corpus: Path, rust_module) -> None:
    """enclosed-endless.eml has ~3,000 parts: the table stops at archivemaxfiles."""
    m = _walk(corpus, rust_module, "flanker/enclosed-endless.eml", Limits(max_parts=1000))
    assert len(m.parts) == 1000
    assert (1, "TooManyPartsDefect") in kinds(m)
    m = _walk(corpus, rust_module, "flanker/enclosed-endless.eml", Limits(max_parts=0))
    assert len(m.parts) > 1000
    assert (1, "TooManyPartsDefect") not in kinds(m)


def test_encoded_filenames(corpus: Path, rust_module) -> None:
    for name in (
        "attachment-filename-encoding-UTF8.msg",
        "attachment-filename-encoding-Latin1.msg",
    ):
        m = _walk(corpus, rust_module, "mime-tools/testmsgs/" + name)
        assert "attachment.äöü" in [p.filename for p in m.parts]
    m = _walk(corpus, rust_module, "rspamd/fname.eml")
    assert m.parts[1].filename == "[삼성생명]2020.08.14 데일리 경제뉴스.pdf"
    m = _walk(corpus, rust_module, "mail-parser/legacy/045.eml")  # RFC 2231
    assert m.parts[2].filename == "HasenundFrösche.txt"


def test_archive_types(corpus: Path, rust_module) -> None:
    m = _walk(corpus, rust_module, "rspamd/zip.eml")
    zip_part = m.parts[1]
    assert (zip_part.filename, zip_part.magic_type, zip_part.glob_type) == (
        "f.zip",
        "application/zip",
        "application/zip",
    )
    assert m.body(2).startswith(b"PK\x03\x04")
