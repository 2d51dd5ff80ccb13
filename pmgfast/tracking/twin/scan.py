"""Reading logs through the correlator: pmg-log-tracker's run and pmgfast's search, pure Python
(twin of ``source.rs``, ``scan.rs``, ``pmg.rs``, ``search.rs``).

The twin always correlates every line (the Rust core's sparse scan is an optimisation with the
same answers, which the differential tests check against this twin).
"""

from __future__ import annotations

import gzip
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, cast

from pmgfast.tracking.errors import TrackingError
from pmgfast.tracking.twin.correlate import Correlator, Entry, Prefilter, PrintFilter
from pmgfast.tracking.twin.lineparse import Dialect
from pmgfast.tracking.twin.mails import Assembler, MailFilter, RawMail, finish
from pmgfast.tracking.twin.pmgformat import LIMIT_STATUS, write_entry
from pmgfast.tracking.twin.stamps import StampReader, Zone

MAX_ROTATIONS = 32


def rotated_path(base: str, index: int) -> str | None:
    plain = base if index == 0 else f"{base}.{index}"
    if os.path.isfile(plain):
        return plain
    gz = plain + ".gz"
    return gz if os.path.isfile(gz) else None


def _open(path: str) -> BinaryIO:
    try:
        if path.endswith(".gz"):
            return cast(BinaryIO, gzip.open(path, "rb"))
        return open(path, "rb")
    except OSError as err:
        raise TrackingError(f"{path}: {err.strerror}") from err


def first_line(path: str) -> bytes | None:
    try:
        with _open(path) as fh:
            line = fh.readline()
    except (OSError, EOFError, TrackingError):
        return None
    if not line:
        return None
    return line[:-1] if line.endswith(b"\n") else line


def series(base: str, first_time: Callable[[bytes], int | None], start: int) -> list[str]:
    """pmg-log-tracker's choice of rotated files, oldest first."""
    paths: list[str] = []
    for index in range(MAX_ROTATIONS):
        path = rotated_path(base, index)
        if path is None:
            break
        line = first_line(path)
        if line is None:
            break
        paths.append(path)
        t = first_time(line)
        if t is not None and t < start:
            break
    paths.reverse()
    return paths


def series_for_range(base: str, stamps: StampReader, start: int, end: int) -> list[str]:
    """The files of a rotated series that can hold lines in ``[start, end]``, oldest first."""
    files: list[tuple[str, int | None]] = []
    for index in range(MAX_ROTATIONS):
        path = rotated_path(base, index)
        if path is None:
            break
        line = first_line(path)
        t = stamps.read(line, False) if line is not None else None
        files.append((path, t[0] if t is not None else None))
    out: list[str] = []
    for i in range(len(files) - 1, -1, -1):
        begins = files[i][1]
        next_begins = files[i - 1][1] if i > 0 else None
        starts_late = begins is not None and begins > end
        ends_early = next_begins is not None and next_begins < start
        if not starts_late and not ends_early:
            out.append(files[i][0])
    return out


def lines_of(source: str | bytes, pmg_last_line: bool) -> Iterator[bytes]:
    """The lines of a file path, ``-`` (stdin) or bytes; pmg-log-tracker drops the last byte of
    a final line without a newline."""
    if isinstance(source, bytes):
        data = source
    elif source == "-":
        data = sys.stdin.buffer.read()
    else:
        with _open(source) as fh:
            try:
                data = fh.read()
            except (OSError, EOFError) as err:
                raise TrackingError(f"{source}: {err}") from err
    if not data:
        return
    parts = data.split(b"\n")
    last = parts.pop()
    yield from parts
    if last:
        yield last[:-1] if pmg_last_line else last


def scan(
    sources: list[str | bytes],
    cor: Correlator,
    text: bytes,
    limit: int,
    pmg_last_line: bool,
    number_all_lines: bool,
    sink: Callable[[Entry], None],
) -> tuple[bool, int]:
    """Feeds every line; returns whether the row limit stopped the scan, and the bytes read."""
    needle = text.lower()
    n = 0
    size = 0
    for src in sources:
        cor.begin_file()
        for line in lines_of(src, pmg_last_line):
            n += 1
            size += len(line) + 1
            hit = bool(needle) and needle in line.lower()
            more = cor.feed(line, hit, n if number_all_lines else None)
            for e in cor.take_printed():
                sink(e)
            if not more:
                break
            if limit > 0 and cor.count >= limit:
                return True, size
    cor.finish()
    for e in cor.take_printed():
        sink(e)
    return False, size


@dataclass
class PmgQuery:
    """A pmg-log-tracker query (twin of ``pmg::Query``)."""

    start: int
    end: int
    offset: int
    now: int
    #: ("file", path) | ("stdin", None) | ("series", base) | ("bytes", data)
    source: tuple[str, object]
    filter: PrintFilter = field(default_factory=PrintFilter)
    text: bytes = b""
    limit: int = 0
    verbose: int = 0


def run_pmg(q: PmgQuery, zone: Zone) -> bytes:
    """pmg-log-tracker's output after the ``#`` header."""
    if q.end < q.start:
        raise TrackingError(f"end time {q.end} is before start time {q.start}")
    q.filter.text = bool(q.text)
    stamps = StampReader(q.now, zone, q.offset)
    kind, value = q.source
    sources: list[str | bytes]
    if kind == "stdin":
        sources = ["-"]
    elif kind == "bytes":
        sources = [value]  # type: ignore[list-item]
    elif kind == "file":
        sources = [value] if os.path.isfile(str(value)) and os.access(str(value), os.R_OK) else []  # type: ignore[list-item]
    else:
        probe = StampReader(q.now, zone, q.offset)

        def first(line: bytes) -> int | None:
            t = probe.read(line, True)
            return t[0] if t is not None else None

        sources = list(series(str(value), first, q.start))
    cor = Correlator(Dialect.PMG, q.start, q.end, q.verbose > 1, q.filter, stamps)
    out: list[bytes] = []
    stopped, _ = scan(
        sources, cor, q.text, q.limit, True, False, lambda e: out.append(write_entry(e, q.verbose))
    )
    if stopped:
        out.append(LIMIT_STATUS)
    return b"".join(out)


def search(
    filter: MailFilter,
    text: bytes,
    limit: int,
    keep_lines: bool,
    margin: int,
    now: int,
    sources: list[str | bytes],
    zone: Zone,
) -> tuple[list[RawMail], bool, int]:
    """pmgfast's search over logs: (mails in time order, truncated, bytes read)."""
    if filter.end < filter.start:
        raise TrackingError(f"end time {filter.end} is before start time {filter.start}")
    margin = max(margin, 0)
    stamps = StampReader(now, zone, zone)
    pre = Prefilter(filter.sender, filter.to, filter.host, bool(text), filter.start, filter.end)
    cor = Correlator(
        Dialect.PMGFAST,
        filter.start - margin,
        filter.end + margin,
        keep_lines,
        PrintFilter(),
        stamps,
        pre,
    )
    filter.text = bool(text)
    mails: list[RawMail] = []

    def keep(m: RawMail) -> None:
        if filter.keep(m):
            mails.append(m)

    asm = Assembler(max(margin, 60))
    _, size = scan(sources, cor, text, 0, False, True, lambda e: asm.push(e, keep))
    asm.finish(keep)
    kept, truncated = finish(mails, limit)
    return kept, truncated, size
