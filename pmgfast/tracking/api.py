"""The tracking center's Python API: search logs or the index, keep the index up to date.

Every call runs in the Rust core (GIL released) when ``pmgfast_native`` is built, else in the
pure-Python twin (``pmgfast.tracking.twin``) with the same answers. The index is the Rust
core's; without it a search reads the logs.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmgfast import native
from pmgfast.tracking.errors import TrackingError
from pmgfast.tracking.model import Result
from pmgfast.tracking.query import Query
from pmgfast.tracking.twin import mails as twin_mails
from pmgfast.tracking.twin import scan as twin_scan
from pmgfast.tracking.twin.stamps import StampReader, Zone

PathLike = str | Path


def _zone(tz: str | None) -> Zone:
    return Zone.from_env() if tz is None else Zone.from_tz_value(tz)


def search(
    query: Query,
    *,
    files: Sequence[PathLike] = (),
    series: PathLike | None = None,
    data: bytes | None = None,
    index: PathLike | None = None,
    pure: bool = False,
) -> Result:
    """Mails matching ``query``, in time order.

    Logs come from ``files`` (plain or ``.gz``, read in the order given), ``data`` (log text),
    and ``series`` (a rotated series base such as ``/var/log/syslog``: only its files that
    overlap the range are read). With ``index``, the index answers and ``series`` supplies the
    part of the log the index has not read yet. ``pure`` forces the Python twin.
    """
    with _gc_paused():
        return _search(query, files, series, data, index, pure)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pauses Python's cyclic garbage collector: a large answer is tens of thousands of small
    objects, none of them in a cycle, and collections triggered by creating them took half the
    time of an hour's query."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _search(
    query: Query,
    files: Sequence[PathLike],
    series: PathLike | None,
    data: bytes | None,
    index: PathLike | None,
    pure: bool,
) -> Result:
    rust = None if pure else native.rust()
    now = query.clock()
    if rust is not None:
        try:
            mails, truncated, nbytes = rust.track_search(
                start=query.start,
                end=query.end,
                now=now,
                files=[str(f) for f in files],
                data=data,
                series=None if series is None else str(series),
                index=None if index is None else str(index),
                sender=query.sender,
                recipient=query.recipient,
                host=query.host,
                msgid=query.msgid,
                ids=list(query.qids),
                text=query.text,
                include_greylisted=query.include_greylisted,
                include_rejected=query.include_rejected,
                include_ndr=query.include_ndr,
                limit=query.limit,
                lines=query.lines,
                margin=query.margin,
                full_scan=query.full_scan,
                tz=query.tz,
            )
        except BaseException as err:
            if type(err).__name__ == "PanicException":
                raise TrackingError(f"internal error in the tracking core: {err}") from err
            raise
        return Result(mails, truncated, nbytes)
    if index is not None and series is None and not files and data is None:
        raise TrackingError("searching the index needs the compiled module (pmgfast_native)")
    zone = _zone(query.tz)
    sources: list[str | bytes] = [str(f) for f in files]
    if series is not None:
        stamps = StampReader(now, zone, zone)
        m = max(query.margin, 0)
        sources += twin_scan.series_for_range(str(series), stamps, query.start - m, query.end + m)
    if data is not None:
        sources.append(data)
    enc = str.encode
    f = twin_mails.MailFilter(
        start=query.start,
        end=query.end,
        sender=enc(query.sender),
        to=enc(query.recipient),
        host=enc(query.host),
        msgid=enc(query.msgid),
        ids=[enc(q) for q in query.qids],
        include_greylisted=query.include_greylisted,
        include_rejected=query.include_rejected,
        include_ndr=query.include_ndr,
    )
    raw, truncated, nbytes = twin_scan.search(
        f, enc(query.text), query.limit, query.lines, query.margin, now, sources, zone
    )
    return Result(tuple(m.public() for m in raw), truncated, nbytes)


@dataclass(frozen=True)
class IndexUpdate:
    bytes_read: int
    entries: int
    segments: int
    seconds: float


@dataclass(frozen=True)
class IndexInfo:
    segments: int
    entries: int
    #: Bytes of the index files.
    bytes: int
    #: Bytes of log read to build it, and the seconds that took (all updates).
    read_bytes: int
    build_seconds: float
    #: Log time of the last line indexed (epoch seconds).
    last_time: int


def _rust_for_index() -> Any:
    rust = native.rust()
    if rust is None:
        raise TrackingError("the tracking index needs the compiled module (pmgfast_native)")
    return rust


def update_index(
    index: PathLike,
    base: PathLike,
    *,
    now: int | None = None,
    horizon: int = 900,
    segment_entries: int = 1 << 18,
    tz: str | None = None,
) -> IndexUpdate:
    """Reads what is new in the log series at ``base`` into the index directory ``index``
    (created if missing). Only reads logs: safe to run beside the mail path at any time; one
    updater at a time (a second one gets :class:`TrackingError`)."""
    rust = _rust_for_index()
    clock = int(time.time()) if now is None else now
    r = rust.track_index_update(
        str(index), str(base), now=clock, horizon=horizon, segment_entries=segment_entries, tz=tz
    )
    return IndexUpdate(*r)


def index_info(index: PathLike) -> IndexInfo:
    """Size, contents and build cost of the index in ``index``."""
    return IndexInfo(*_rust_for_index().track_index_info(str(index)))
