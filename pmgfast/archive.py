"""Archive inspection for PMG's ArchiveFilter and MatchArchiveFilename objects.

:func:`list_archive` takes the bytes of a MIME part and, when they are an archive, lists every
file inside (and inside archives inside it, down to ``max_depth``): path, basename, magic type,
filename-glob type, size and whether it is encrypted. Nothing is written to disk; decompression
is streamed in memory under limits (PMG's ``archivemaxfiles``, ``archivemaxrec``,
``archivemaxsize`` and a time budget). :attr:`Listing.types` and :attr:`Listing.filenames` are
what the rule objects match: each member's magic type and its glob type (unless
``application/octet-stream``), plus :data:`UNREADABLE` when anything could not be listed -
corrupt or unsupported data, a limit or the time budget exceeded, headers encrypted.
Encrypted members of a readable archive are listed (name and glob type) with ``encrypted=True``
and no magic type; they do not make the archive unreadable.

Formats are detected by signature: zip, tar (also inside gzip, bzip2 and xz), gzip, bzip2, xz,
7z, rar and cpio. The compiled lister (``pmgfast_native``) reads all of them; RAR members are
listed from their headers, so a compressed RAR member has no magic type.

:func:`pure_list_archive` is the pure-Python twin on :mod:`zipfile`, :mod:`tarfile`,
:mod:`gzip`, :mod:`bz2` and :mod:`lzma` (and a small cpio reader): the reference for
differential tests and the benchmark baseline. It reports 7z and rar archives, and zip members
with methods :mod:`zipfile` lacks (deflate64, implode), as unreadable: in pure mode such parts
carry :data:`UNREADABLE`, the documented, stricter answer.

Member types come from the MIME walk's shared-mime-info table (:mod:`pmgfast.mime.mimedb`,
:func:`magic_type`, :func:`glob_type`), in both listers, so a member and an attachment of the
same file get the same types.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pmgfast import native
from pmgfast.mime import mimedb

UNREADABLE = "proxmox/unreadable-archive"
HEAD_LEN = 4096
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one listing."""

    max_files: int = 1000  # archivemaxfiles, over all levels
    max_depth: int = 5  # archivemaxrec: the part itself is level 1
    max_size: int = 25 * 1024 * 1024  # archivemaxsize: bytes decompressed over all members
    time_budget: float = 30.0  # seconds of wall time


@dataclass(frozen=True, slots=True)
class Member:
    """One file found in the archive (paths of nested members are prefixed ``outer/``)."""

    path: str
    basename: str
    magic: str | None
    glob: str | None
    size: int
    encrypted: bool
    depth: int


@dataclass(frozen=True, slots=True)
class Listing:
    """Everything found in one part; ``format`` is None when the part is no archive."""

    format: str | None
    members: tuple[Member, ...] = ()
    unreadable: bool = False
    errors: tuple[str, ...] = field(default=(), compare=False)

    @property
    def types(self) -> frozenset[str]:
        """Magic and glob types of all members, and :data:`UNREADABLE` if anything failed."""
        found = {m.magic for m in self.members if m.magic is not None}
        found |= {
            m.glob
            for m in self.members
            if m.glob is not None and m.glob != "application/octet-stream"
        }
        if self.unreadable:
            found.add(UNREADABLE)
        return frozenset(found)

    @property
    def filenames(self) -> frozenset[str]:
        """Basenames of all members."""
        return frozenset(m.basename for m in self.members)


def list_archive(data: bytes, name: str = "", limits: Limits | None = None) -> Listing:
    """List the archive in ``data`` (a part called ``name``): compiled when available."""
    limits = limits or Limits()
    module = native.rust()
    if module is None:
        return pure_list_archive(data, name, limits)
    raw = module.list_archive(
        bytes(data),
        name,
        max_files=limits.max_files,
        max_depth=limits.max_depth,
        max_size=limits.max_size,
        time_budget=limits.time_budget,
    )
    return Listing(
        format=raw["format"],
        members=tuple(Member(*row) for row in raw["members"]),
        unreadable=raw["unreadable"],
        errors=tuple(raw["errors"]),
    )


# --- member types: the MIME walk's shared-mime-info table -------------------------------------


def magic_type(head: bytes) -> str:
    """Type from content (the first :data:`HEAD_LEN` bytes), by shared-mime-info's magic:
    the same table as the MIME walk (:mod:`pmgfast.mime.mimedb`)."""
    return mimedb.magic(head)


def glob_type(name: str) -> str | None:
    """Type from a file name by shared-mime-info's globs, or None when no glob matches."""
    found = mimedb.glob(name)
    return None if found == mimedb.OCTET_STREAM else found


# --- format detection (the same signatures as the Rust crate) --------------------------------


def detect(data: bytes) -> str | None:
    """The archive format of ``data`` by signature, or None."""
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08PK\x03\x04")):
        return "zip"
    if data.startswith(b"\x1f\x8b"):
        return "gzip"
    if data.startswith(b"BZh") and len(data) > 3 and 0x31 <= data[3] <= 0x39:
        return "bzip2"
    if data.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if data.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if data.startswith((b"Rar!\x1a\x07\x00", b"Rar!\x1a\x07\x01\x00")):
        return "rar"
    if data.startswith((b"070701", b"070702", b"070707", b"\xc7\x71", b"\x71\xc7")):
        return "cpio"
    if is_tar(data):
        return "tar"
    return None


def is_tar(data: bytes) -> bool:
    """``ustar`` magic, or a first 512-byte header with a correct checksum."""
    if len(data) < 512:
        return False
    header = data[:512]
    if header[257:262] == b"ustar":
        return True
    if header[0] == 0:
        return False
    digits = header[148:156].lstrip(b" ")
    end = 0
    while end < len(digits) and 0x30 <= digits[end] <= 0x37:
        end += 1
    if end == 0:
        return False
    return int(digits[:end], 8) == sum(header[:148]) + 8 * 32 + sum(header[156:])


# --- the pure walk ------------------------------------------------------------------------


class _Stop(Exception):
    """A limit was hit: the whole walk stops."""


class _Bad(Exception):
    """This archive cannot be read further."""


class _Walk:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.time_budget
        self.files = 0
        self.bytes = 0
        self.stopped = False
        self.members: list[Member] = []
        self.errors: list[str] = []

    def limit(self, reason: str) -> _Stop:
        if not self.stopped:
            self.stopped = True
            self.errors.append(reason)
        return _Stop()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise self.limit("time budget exceeded")

    def count(self, n: int) -> None:
        self.bytes += n
        if self.bytes > self.limits.max_size:
            raise self.limit(f"more than {self.limits.max_size} bytes decompressed")

    def read(self, chunks: Callable[[int], bytes]) -> bytes:
        """Read from ``chunks(size)`` until it returns b'', under the size and time budget."""
        out = bytearray()
        while True:
            self.check_time()
            try:
                chunk = chunks(_CHUNK)
            except (
                OSError,
                EOFError,
                ValueError,
                zlib.error,
                lzma.LZMAError,
                zipfile.BadZipFile,
                tarfile.TarError,
            ) as err:
                raise _Bad(str(err)) from None
            if not chunk:
                return bytes(out)
            self.count(len(chunk))
            out += chunk

    def archive(self, fmt: str, data: bytes, name: str, depth: int, prefix: str) -> None:
        if self.stopped:
            return
        if depth > self.limits.max_depth:
            self.errors.append(f"{prefix}{name}: nested deeper than {self.limits.max_depth}")
            return
        try:
            self.check_time()
            _READERS[fmt](self, data, name, depth, prefix)
        except _Stop:
            pass
        except _Bad as err:
            what = name if not prefix and depth == 1 else prefix.rstrip("/")
            self.errors.append(f"{fmt} {what}: {err}")

    def member(
        self,
        path: str,
        size: int,
        content: bytes | None,
        depth: int,
        prefix: str,
        encrypted: bool = False,
    ) -> None:
        if self.stopped:
            raise _Stop()
        self.files += 1
        if self.files > self.limits.max_files:
            raise self.limit(f"more than {self.limits.max_files} files")
        basename = path.replace("\\", "/").rsplit("/", 1)[-1]
        full = prefix + path
        magic = magic_type(content[:HEAD_LEN]) if content is not None else None
        self.members.append(
            Member(
                full,
                basename,
                magic,
                glob_type(basename),
                len(content) if content is not None else size,
                encrypted,
                depth,
            )
        )
        inner = detect(content) if content is not None else None
        if inner is not None and content is not None:
            self.archive(inner, content, basename, depth + 1, full + "/")
        if self.stopped:
            raise _Stop()


def _zip(w: _Walk, data: bytes, _name: str, depth: int, prefix: str) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        raise _Bad(str(err)) from None
    for info in infos:
        w.check_time()
        if info.is_dir():
            continue
        if info.flag_bits & 0x1:
            w.member(info.filename, info.file_size, None, depth, prefix, encrypted=True)
            continue
        try:
            stream = archive.open(info)
        except NotImplementedError as err:
            w.errors.append(f"zip member {info.filename}: {err}")
            w.member(info.filename, info.file_size, None, depth, prefix)
            continue
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
            raise _Bad(str(err)) from None
        with stream:
            content = w.read(stream.read)
        w.member(info.filename, info.file_size, content, depth, prefix)


def _tar(w: _Walk, data: bytes, _name: str, depth: int, prefix: str) -> None:
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:")  # noqa: SIM115 - in memory
    except (tarfile.TarError, OSError, ValueError, EOFError) as err:
        raise _Bad(str(err)) from None
    while True:
        w.check_time()
        try:
            info = archive.next()
        except (tarfile.TarError, OSError, ValueError, EOFError) as err:
            raise _Bad(str(err)) from None
        if info is None:
            return
        if info.type not in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE):
            continue
        stream = archive.extractfile(info)
        content = w.read(stream.read) if stream is not None else b""
        if len(content) != info.size:
            raise _Bad("truncated member")
        w.member(info.name, info.size, content, depth, prefix)


_SUFFIXES = (
    (".tgz", ".tar"),
    (".taz", ".tar"),
    (".tbz2", ".tar"),
    (".tbz", ".tar"),
    (".txz", ".tar"),
    (".gz", ""),
    (".z", ""),
    (".bz2", ""),
    (".bz", ""),
    (".xz", ""),
)


def _inner_name(name: str, recorded: bytes | None) -> str:
    if recorded:
        return recorded.decode("utf-8", "replace")
    lower = (
        name.lower() if name.isascii() else "".join(c.lower() if c.isascii() else c for c in name)
    )
    for suffix, replacement in _SUFFIXES:
        if len(lower.encode()) > len(suffix) and lower.endswith(suffix):
            return name[: len(name) - len(suffix)] + replacement
    return name or "data"


def _gzip_name(data: bytes) -> bytes | None:
    """The FNAME field of a gzip header, if present."""
    if len(data) < 10 or not data[3] & 0x08:
        return None
    pos = 10
    if data[3] & 0x04:
        if len(data) < 12:
            return None
        pos = 12 + int.from_bytes(data[10:12], "little")
    end = data.find(b"\0", pos)
    return data[pos:end] if end >= 0 else None


def _decompressor(fmt: str, source: io.BytesIO) -> io.BufferedIOBase:
    if fmt == "gzip":
        return gzip.GzipFile(fileobj=source)
    if fmt == "bzip2":
        return bz2.BZ2File(source)
    return lzma.LZMAFile(source)


def _compressed(fmt: str) -> Callable[[_Walk, bytes, str, int, str], None]:
    def read(w: _Walk, data: bytes, name: str, depth: int, prefix: str) -> None:
        with _decompressor(fmt, io.BytesIO(data)) as stream:
            inner = w.read(stream.read)
        recorded = _gzip_name(data) if fmt == "gzip" else None
        if is_tar(inner):
            w.bytes -= len(inner)  # the tar's members are counted as they are read
            _tar(w, inner, name, depth, prefix)
            return
        w.member(_inner_name(name, recorded), len(inner), inner, depth, prefix)

    return read


def _cpio(w: _Walk, data: bytes, _name: str, depth: int, prefix: str) -> None:
    pos = 0
    while True:
        w.check_time()
        magic = data[pos : pos + 6]
        try:
            if magic in (b"070701", b"070702"):
                h = data[pos : pos + 110]
                if len(h) < 110:
                    raise _Bad("truncated")
                mode, size, namesize = (int(h[6 + 8 * i : 14 + 8 * i], 16) for i in (1, 6, 11))
                start_name, align = pos + 110, 4
            elif magic == b"070707":
                h = data[pos : pos + 76]
                if len(h) < 76:
                    raise _Bad("truncated")
                mode, namesize, size = int(h[18:24], 8), int(h[59:65], 8), int(h[65:76], 8)
                start_name, align = pos + 76, 1
            else:
                h = data[pos : pos + 26]
                if len(h) < 26 or h[:2] not in (b"\xc7\x71", b"\x71\xc7"):
                    raise _Bad("unknown magic")
                order: Literal["little", "big"] = "little" if h[:2] == b"\xc7\x71" else "big"
                words = [int.from_bytes(h[i : i + 2], order) for i in range(0, 26, 2)]
                mode, namesize, size = words[3], words[10], (words[11] << 16) | words[12]
                start_name, align = pos + 26, 2
        except ValueError:
            raise _Bad("corrupt cpio header: bad number") from None
        name = data[start_name : start_name + namesize]
        if len(name) < namesize:
            raise _Bad("corrupt cpio header: truncated")
        body_start = -(-(start_name + namesize) // align) * align
        body = data[body_start : body_start + size]
        if len(body) < size:
            raise _Bad("corrupt cpio header: truncated")
        name = name[:-1] if name.endswith(b"\0") else name
        if name == b"TRAILER!!!":
            return
        nxt = -(-(body_start + size) // align) * align
        if nxt <= pos:
            raise _Bad("corrupt cpio header: no progress")
        pos = nxt
        if mode & 0o170000 != 0o100000:
            continue
        w.count(len(body))
        w.member(name.decode("utf-8", "replace"), len(body), body, depth, prefix)


def _native_only(fmt: str) -> Callable[[_Walk, bytes, str, int, str], None]:
    def read(_w: _Walk, _data: bytes, _name: str, _depth: int, _prefix: str) -> None:
        raise _Bad(f"{fmt} is listed by the compiled lister only")

    return read


_READERS: dict[str, Callable[[_Walk, bytes, str, int, str], None]] = {
    "zip": _zip,
    "tar": _tar,
    "gzip": _compressed("gzip"),
    "bzip2": _compressed("bzip2"),
    "xz": _compressed("xz"),
    "cpio": _cpio,
    "7z": _native_only("7z"),
    "rar": _native_only("rar"),
}


def pure_list_archive(data: bytes, name: str = "", limits: Limits | None = None) -> Listing:
    """The pure-Python lister (see the module docstring for what it cannot read)."""
    walk = _Walk(limits or Limits())
    fmt = detect(data)
    if fmt is not None:
        walk.archive(fmt, data, name, 1, "")
    return Listing(fmt, tuple(walk.members), bool(walk.errors), tuple(walk.errors))
