"""Builders of test archives in memory (zip, tar, gzip, bzip2, xz, cpio newc) and corpus access."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
from pathlib import Path

XOR_KEY = (
    b"bhcftqarohcdiayfohalohkgmoefxrrgfnczssgybajvkzjaahpfrlqsratkhhfvpxytculmwgmtyz"
    b"ujlbjlgrhtwxhzpjazlibbwepffyjyfkjwzyofgpopoueurinpdujkphxwhnaxfkaiwrpzdqsnwughtejr"
)

Files = list[tuple[str, bytes]]


def clamav(corpus: Path, name: str) -> bytes:
    """A decoded file of corpus/av/clamav (stored XOR-obfuscated; decoded in memory only)."""
    raw = (corpus / "av" / "clamav" / f"{name}.xor").read_bytes()
    return bytes(b ^ XOR_KEY[i % len(XOR_KEY)] for i, b in enumerate(raw))


def make_zip(
    files: Files, method: int = zipfile.ZIP_DEFLATED, encrypted: tuple[str, ...] = ()
) -> bytes:
    """A zip of ``files``; members named in ``encrypted`` get the encryption flag set (their
    content stays plain: enough for listers, which must not try to read it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for name, content in files:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = method
            z.writestr(info, content)
    data = bytearray(out.getvalue())
    for name in encrypted:
        for signature, flags_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
            pos = data.find(signature)
            while pos >= 0:
                if data[pos + name_at : pos + name_at + len(name)] == name.encode():
                    data[pos + flags_at] |= 0x1
                pos = data.find(signature, pos + 4)
    return bytes(data)


def make_tar(files: Files, compression: str = "") -> bytes:
    """A tar of ``files``, compressed with ``gz``, ``bz2`` or ``xz`` if asked."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=f"w:{compression}") as t:
        for name, content in files:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            t.addfile(info, io.BytesIO(content))
    return out.getvalue()


def compress(fmt: str, content: bytes, filename: str | None = None) -> bytes:
    """``content`` as a gzip (with an optional recorded name), bzip2 or xz stream."""
    if fmt == "gzip":
        out = io.BytesIO()
        with gzip.GzipFile(filename=filename or "", fileobj=out, mode="wb", mtime=0) as g:
            g.write(content)
        return out.getvalue()
    if fmt == "bzip2":
        return bz2.compress(content)
    return lzma.compress(content)


def make_cpio(files: Files) -> bytes:
    """A cpio archive in the portable "newc" format."""
    out = bytearray()

    def entry(name: bytes, mode: int, content: bytes) -> None:
        fields = [1, mode, 0, 0, 1, 0, len(content), 0, 0, 0, 0, len(name) + 1, 0]
        out.extend(b"070701" + b"".join(b"%08X" % f for f in fields) + name + b"\0")
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(content)
        out.extend(b"\0" * (-len(out) % 4))

    for name, content in files:
        entry(name.encode(), 0o100644, content)
    entry(b"TRAILER!!!", 0, b"")
    return bytes(out)
