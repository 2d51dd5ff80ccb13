"""Archive listings give the documented answers, for built archives and the corpus."""

from __future__ import annotations

import base64
import email
import email.policy
import zipfile

import pytest

from pmgfast import archive
from pmgfast.archive import UNREADABLE, Limits, list_archive, pure_list_archive

from .build import XOR_KEY, clamav, compress, make_cpio, make_tar, make_zip

EXE = b"MZ" + bytes(200)
FILES = [("doc/readme.txt", b"hello\n"), ("bin/setup.exe", EXE), ("empty", b"")]
EXPECTED_TYPES = {
    "text/plain",
    "application/vnd.microsoft.portable-executable",
    "application/x-zerosize",
}


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (make_zip(FILES), "zip"),
        (make_zip(FILES, zipfile.ZIP_STORED), "zip"),
        (make_zip(FILES, zipfile.ZIP_BZIP2), "zip"),
        (make_zip(FILES, zipfile.ZIP_LZMA), "zip"),
        (make_tar(FILES), "tar"),
        (make_tar(FILES, "gz"), "gzip"),
        (make_tar(FILES, "bz2"), "bzip2"),
        (make_tar(FILES, "xz"), "xz"),
        (make_cpio(FILES), "cpio"),
    ],
)
def test_every_format_lists_every_file(lister, data, fmt):
    listing = lister(data, "part")
    assert listing.format == fmt
    assert [m.path for m in listing.members] == [name for name, _ in FILES]
    assert listing.filenames == {"readme.txt", "setup.exe", "empty"}
    assert listing.types == EXPECTED_TYPES
    assert [m.size for m in listing.members] == [6, len(EXE), 0]
    assert not listing.unreadable and listing.errors == ()


@pytest.mark.parametrize("fmt", ["gzip", "bzip2", "xz"])
def test_single_compressed_file_is_named_after_the_part(lister, fmt):
    listing = lister(
        compress(fmt, EXE), "Invoice.EXE." + {"gzip": "gz", "bzip2": "bz2", "xz": "xz"}[fmt]
    )
    assert [(m.basename, m.magic, m.glob) for m in listing.members] == [
        (
            "Invoice.EXE",
            "application/vnd.microsoft.portable-executable",
            "application/vnd.microsoft.portable-executable",
        )
    ]


def test_gzip_recorded_name_wins(lister):
    listing = lister(compress("gzip", b"text", filename="original.js"), "x.gz")
    assert listing.filenames == {"original.js"}
    assert listing.types == {"text/plain", "application/javascript"}


def test_nested_archives_are_listed_with_paths_and_depths(lister):
    inner = make_tar([("deep/payload.exe", EXE)], "gz")
    middle = make_zip([("inner.tgz", inner), ("note.txt", b"x")])
    listing = lister(make_zip([("middle.zip", middle)]), "outer.zip")
    assert [(m.path, m.depth) for m in listing.members] == [
        ("middle.zip", 1),
        ("middle.zip/inner.tgz", 2),
        ("middle.zip/inner.tgz/deep/payload.exe", 3),
        ("middle.zip/note.txt", 2),
    ]
    assert "application/vnd.microsoft.portable-executable" in listing.types
    assert "application/x-compressed-tar" in listing.types


def test_depth_limit_makes_the_part_unreadable(lister):
    data = make_zip([("a.txt", b"a")])
    for i in range(6):
        data = make_zip([(f"level{i}.zip", data)])
    deep = lister(data, "x.zip")
    assert deep.unreadable and UNREADABLE in deep.types
    assert max(m.depth for m in deep.members) == 5
    ok = lister(data, "x.zip", Limits(max_depth=8))
    assert not ok.unreadable and "a.txt" in ok.filenames


def test_file_limit(lister):
    data = make_zip([(f"f{i}.txt", b"x") for i in range(30)])
    listing = lister(data, "x.zip", Limits(max_files=10))
    assert len(listing.members) == 10 and listing.unreadable
    assert "more than 10 files" in listing.errors[0]


def test_size_limit_stops_a_zip_bomb(lister):
    bomb = make_zip([("zeros.bin", bytes(30 * 1024 * 1024))])
    assert len(bomb) < 100_000
    listing = lister(bomb, "bomb.zip")
    assert listing.unreadable and listing.members == ()
    assert "bytes decompressed" in listing.errors[0]
    two = make_zip([("a", bytes(3000)), ("b", bytes(3000))])
    small = lister(two, "t.zip", Limits(max_size=4000))
    assert [m.basename for m in small.members] == ["a"] and small.unreadable
    # A compressed tar counts once whole, then member by member.
    tgz = make_tar([("a", bytes(3000)), ("b", bytes(3000))], "gz")
    assert len(make_tar([("a", bytes(3000)), ("b", bytes(3000))])) == 10 * 1024
    assert lister(tgz, "t.tgz", Limits(max_size=10 * 1024 - 1)).members == ()
    assert not lister(tgz, "t.tgz", Limits(max_size=12 * 1024)).unreadable


def test_time_budget(lister):
    listing = lister(make_zip([("a.txt", b"a")]), "x.zip", Limits(time_budget=0.0))
    assert listing.unreadable and "time budget" in listing.errors[0]


def test_encrypted_members_are_flagged_without_magic(lister):
    data = make_zip([("secret.exe", EXE), ("plain.txt", b"hi")], encrypted=("secret.exe",))
    listing = lister(data, "x.zip")
    secret, plain = listing.members
    assert (secret.encrypted, secret.magic, secret.glob) == (
        True,
        None,
        "application/vnd.microsoft.portable-executable",
    )
    assert (plain.encrypted, plain.magic) == (False, "text/plain")
    assert not listing.unreadable


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"plain text",
        b"PK\x03\x04garbage",
        b"\x1f\x8bxx",
        b"BZh9" + bytes(40),
        b"070701" + b"Z" * 200,
    ],
)
def test_bad_input_is_recorded_never_raised(lister, data):
    listing = lister(data, "x")
    assert listing.unreadable == (archive.detect(data) is not None)


def test_truncated_archives_keep_what_was_listed(lister):
    data = make_tar([("a.txt", b"a" * 600), ("b.txt", b"b" * 600)])
    listing = lister(data[:1200], "x.tar")
    assert [m.basename for m in listing.members] == ["a.txt"] and listing.unreadable


# --- real data: the corpus ---------------------------------------------------------------

CORPUS_ARCHIVES = [
    # (file, format, pure twin reads it)
    ("clam.zip", "zip", True),
    ("clam.bz2.zip", "zip", True),
    ("clam.tar.gz", "gzip", True),
    ("clam.exe_and_mail.tar.gz", "gzip", True),
    ("clam.exe.bz2", "bzip2", True),
    ("clam.split.oneseg.zip", "zip", True),
    ("clam.newc.cpio", "cpio", True),
    ("clam.odc.cpio", "cpio", True),
    ("clam.bin-le.cpio", "cpio", True),
    ("clam.bin-be.cpio", "cpio", True),
    ("clam.d64.zip", "zip", False),  # deflate64: zipfile lacks it
    ("clam.7z", "7z", False),
    ("clam-v2.rar", "rar", False),
    ("clam-v3.rar", "rar", False),
]


@pytest.mark.parametrize(("name", "fmt", "pure_reads"), CORPUS_ARCHIVES)
def test_corpus_archives_contain_clam_exe(corpus, rust_module, name, fmt, pure_reads):
    data = clamav(corpus, name)
    pure = pure_list_archive(data, name)
    assert pure.format == fmt
    assert "clam.exe" in pure.filenames or not pure_reads
    assert pure.unreadable != pure_reads
    if rust_module is None:
        return
    listing = list_archive(data, name)
    assert listing.format == fmt and not listing.unreadable, listing
    assert "clam.exe" in listing.filenames
    assert "application/vnd.microsoft.portable-executable" in listing.types
    if pure_reads:
        assert listing == pure


def test_corpus_nested_tgz_chain(corpus, lister):
    listing = lister(clamav(corpus, "clam_cache_emax.tgz"), "clam_cache_emax.tgz")
    assert [m.depth for m in listing.members][:5] == [1, 2, 3, 4, 5]
    assert listing.unreadable  # the chain is deeper than archivemaxrec (5)


def test_corpus_eicar_zip_attachment(corpus, lister):
    data = (corpus / "av" / "eicar" / "docker-mailserver-amavis-virus.eml.xor").read_bytes()
    eml = bytes(b ^ XOR_KEY[i % len(XOR_KEY)] for i, b in enumerate(data))
    # The header block ends early (see the corpus README), so the MIME structure is in the body.
    body = email.message_from_bytes(eml, policy=email.policy.compat32).get_payload()
    assert isinstance(body, str)
    inner = email.message_from_string(body.lstrip("\n"), policy=email.policy.compat32)
    parts = [p for p in inner.walk() if p.get_content_type() == "application/octet-stream"]
    assert len(parts) == 1, "the attachment"
    zipped = base64.b64decode(parts[0].get_payload())
    listing = lister(zipped, "")
    assert listing.filenames == {"eicar.com"}
    # EICAR is printable text and shared-mime-info has no *.com glob: PMG sees text/plain too
    assert listing.types == {"text/plain"}
    assert listing.members[0].magic == "text/plain"  # EICAR is printable ASCII
