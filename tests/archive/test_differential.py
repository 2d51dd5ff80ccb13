"""Native and pure archive listers agree on Hypothesis-generated archives.

Archives are trees: zip (deflate, stored, bzip2, lzma), tar (plain, gz, bz2, xz), single-file
gzip/bzip2/xz and cpio, nested in each other, with member names and contents drawn to hit the
classifier (executables, text, empty, binary) and limits drawn small enough to trip. Corrupt
input (random bytes behind a signature, truncated archives) must be recorded, never raised.
"""

from __future__ import annotations

import zipfile

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pmgfast.archive import Limits, list_archive, pure_list_archive

from .build import compress, make_cpio, make_tar, make_zip

NAMES = st.sampled_from(
    [
        "a.txt",
        "b.exe",
        "C.JPG",
        "dir/d.js",
        "e",
        "f.tar.gz",
        "g.zip",
        "sub/dir/h.pdf",
        "ü.doc",
        "i.com",
    ]
)
# 7z and rar are read by the compiled lister only, so no leaf may happen to be one.
NATIVE_ONLY = (b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07")
CONTENTS = st.one_of(
    st.sampled_from(
        [
            b"",
            b"hello\n",
            b"MZ\x90\x00",
            b"%PDF-1.4",
            b"\x00\x01\x02",
            "é".encode(),
            b"\xff\xd8\xff\xe0",
        ]
    ),
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
).filter(lambda b: not b.startswith(NATIVE_ONLY))


def _containers(inner: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    files = st.lists(st.tuples(NAMES, inner), min_size=0, max_size=4, unique_by=lambda f: f[0])
    return st.one_of(
        st.builds(
            make_zip,
            files,
            st.sampled_from(
                [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
            ),
        ),
        st.builds(make_tar, files, st.sampled_from(["", "gz", "bz2", "xz"])),
        st.builds(
            compress,
            st.sampled_from(["gzip", "bzip2", "xz"]),
            inner,
            st.sampled_from([None, "orig.exe"]),
        ),
        st.builds(make_cpio, files),
    )


ARCHIVES = st.recursive(CONTENTS, _containers, max_leaves=10).filter(lambda b: len(b) > 0)
LIMITS = st.builds(
    Limits,
    max_files=st.integers(1, 12),
    max_depth=st.integers(1, 4),
    max_size=st.integers(0, 40_000),
)
PART_NAMES = st.sampled_from(["", "part.zip", "x.TGZ", "y.gz", "z.bz2", "w.xz"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=ARCHIVES, name=PART_NAMES, limits=st.one_of(st.just(Limits()), LIMITS))
def test_native_agrees_with_pure(rust_module, data, name, limits):
    if rust_module is None:
        pytest.skip("pure mode: there is no native lister to compare")
    pure = pure_list_archive(data, name, limits)
    fast = list_archive(data, name, limits)
    event(
        f"format={pure.format} depth={max((m.depth for m in pure.members), default=0)} "
        f"unreadable={pure.unreadable}"
    )
    assert fast == pure, (fast.errors, pure.errors)


@settings(max_examples=300, deadline=None)
@given(
    sig=st.sampled_from(
        [
            b"PK\x03\x04",
            b"\x1f\x8b\x08",
            b"BZh9",
            b"\xfd7zXZ\x00",
            b"7z\xbc\xaf\x27\x1c",
            b"Rar!\x1a\x07\x00",
            b"Rar!\x1a\x07\x01\x00",
            b"070701",
            b"070707",
            b"\xc7\x71",
        ]
    ),
    tail=st.binary(max_size=600),
)
def test_garbage_behind_a_signature_is_unreadable(rust_module, sig, tail):
    for lister in (pure_list_archive, list_archive):
        listing = lister(sig + tail, "x")
        assert listing.format is not None
        assert listing.unreadable == bool(listing.errors)


@settings(max_examples=200, deadline=None)
@given(data=ARCHIVES, cut=st.integers(0, 10_000), flip=st.integers(0, 10_000))
def test_damaged_archives_never_raise(rust_module, data, cut, flip):
    damaged = bytearray(data[: cut % (len(data) + 1)])
    if damaged:
        damaged[flip % len(damaged)] ^= 0x55
    for lister in (pure_list_archive, list_archive):
        listing = lister(bytes(damaged), "x")
        assert listing.unreadable == bool(listing.errors)
