"""The incremental index gives the scan's answers.

Built in one go or in many small updates while the log grows and rotates (plain, then
compressed), searched alone or with the not-yet-indexed tail: the same mails as a scan of the
whole log. A scan only sees the range plus its margin; with a margin covering the whole log both
see everything, and that is what is compared for windowed queries.
"""

from __future__ import annotations

import fcntl
import gzip
import shutil
from pathlib import Path

import pytest

from pmgfast import native
from pmgfast.tracking import Query, TrackingError, index_info, search, update_index
from tests.tracking.conftest import GEN_NOW, GEN_START

#: The index is the Rust core's own: with PMGFAST_NO_EXTENSIONS=1 only the refusal is tested.
needs_native = pytest.mark.skipif(
    native.NO_EXTENSIONS, reason="the index is Rust-only; pure mode refuses it (tested below)"
)

WIDE = 10**9
QUERIES = [
    {},
    {"sender": "newsletter@"},
    {"recipient": "corp.example"},
    {"host": "mail3."},
    {"text": "timed out"},
    {"text": "Eicar-Signature"},
    {"include_greylisted": True, "include_rejected": True, "include_ndr": True},
]


def query(start: int, end: int, margin: int = WIDE, **filters: object) -> Query:
    return Query(start=start, end=end, now=GEN_NOW, tz="UTC", margin=margin, **filters)  # type: ignore[arg-type]


def test_without_the_rust_core_the_index_is_refused(tmp_path):
    with pytest.raises(TrackingError, match="compiled module"):
        search(query(GEN_START, GEN_START + 3600), index=tmp_path, pure=True)


@pytest.fixture(scope="module")
def built(generated, tmp_path_factory, rust_module) -> Path:
    index = tmp_path_factory.mktemp("index")
    r = update_index(index, generated / "syslog", now=GEN_NOW, tz="UTC", segment_entries=2000)
    assert r.entries > 0 and r.segments >= 2
    return index


@needs_native
@pytest.mark.parametrize("filters", QUERIES, ids=lambda f: ",".join(f) or "all")
@pytest.mark.parametrize("hours", [(0, 48), (20, 21), (23, 26)])
def test_index_equals_scan(built, generated, filters, hours):
    q = query(GEN_START + hours[0] * 3600, GEN_START + hours[1] * 3600, **filters)
    scanned = search(q, series=generated / "syslog").mails
    assert scanned
    assert search(q, index=built).mails == scanned
    assert search(q, index=built, series=generated / "syslog").mails == scanned


@needs_native
@pytest.mark.parametrize("limit", [1, 50, 700])
def test_limited_queries_agree(built, generated, limit):
    q = query(GEN_START, GEN_START + 2 * 86400, limit=limit, include_rejected=True)
    scanned = search(q, series=generated / "syslog")
    indexed = search(q, index=built)
    assert indexed.mails == scanned.mails
    assert indexed.truncated == scanned.truncated is True


@needs_native
def test_lines_and_ids_from_the_index(built, generated):
    q = query(GEN_START, GEN_START + 86400, lines=True, text="Eicar-Signature")
    scanned = search(q, series=generated / "syslog").mails
    indexed = search(q, index=built).mails
    assert indexed == scanned and all(m.lines for m in indexed)
    some = indexed[len(indexed) // 2]
    for filters in ({"qids": some.qids[:1]}, {"qids": (some.filter_id,)}, {"msgid": some.msgid}):
        got = search(query(GEN_START, GEN_START + 2 * 86400, **filters), index=built).mails  # type: ignore[arg-type]
        assert some.id in [m.id for m in got]


@needs_native
def test_info_reports_size_and_cost(built):
    i = index_info(built)
    assert i.segments >= 2 and i.entries > 0 and i.bytes > 0
    assert i.read_bytes > 0 and i.build_seconds > 0 and i.last_time > GEN_START


@needs_native
def test_incremental_updates_while_the_log_grows_and_rotates(generated, tmp_path):
    """The log is replayed in pieces into a live ``syslog``; logrotate renames it to
    ``syslog.1`` and later compresses that to ``syslog.2.gz``. After every piece the index is
    updated, and searching index + tail answers like a scan of everything written so far."""
    lines = (generated / "syslog.1").read_bytes().splitlines(keepends=True)
    lines += (generated / "syslog").read_bytes().splitlines(keepends=True)
    live = tmp_path / "log" / "syslog"
    live.parent.mkdir()
    index = tmp_path / "index"
    pieces = 9
    step = len(lines) // pieces + 1
    for n in range(pieces):
        with open(live, "ab") as fh:
            chunk = b"".join(lines[n * step : (n + 1) * step])
            cut = len(chunk) if n == pieces - 1 else chunk.rfind(b"\n", 0, len(chunk) - 10) + 1
            fh.write(chunk[:cut])
            rest = chunk[cut:]
        if n == 3:  # logrotate: syslog -> syslog.1, new syslog
            live.rename(live.with_name("syslog.1"))
        if n == 6:  # and once more, compressing the older one
            old = live.with_name("syslog.1")
            with open(old, "rb") as src, gzip.open(live.with_name("syslog.2.gz"), "wb") as dst:
                shutil.copyfileobj(src, dst)
            old.unlink()
            live.rename(old)
        with open(live, "ab") as fh:
            fh.write(rest)
        update_index(index, live, now=GEN_NOW, tz="UTC", horizon=600, segment_entries=500)
        if n in (2, 5, 8):
            q = query(GEN_START, GEN_START + 3 * 86400, include_rejected=True)
            assert search(q, index=index, series=live).mails == search(q, series=live).mails
    info = index_info(index)
    assert info.read_bytes >= sum(len(x) for x in lines)
    q = query(GEN_START, GEN_START + 3 * 86400, sender="newsletter@", lines=True)
    assert search(q, index=index).mails == search(q, series=live).mails


@needs_native
def test_one_updater_at_a_time(generated, tmp_path):
    index = tmp_path / "index"
    index.mkdir()
    with open(index / "lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(TrackingError, match="another process"):
            update_index(index, generated / "syslog", now=GEN_NOW, tz="UTC")


@needs_native
def test_a_damaged_index_is_an_error(built, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(built, copy)
    seg = sorted(copy.glob("seg-*.pti"))[0]
    data = bytearray(seg.read_bytes())
    data[-3] ^= 0xFF  # the end marker
    seg.write_bytes(bytes(data))
    with pytest.raises(TrackingError, match="damaged"):
        search(query(GEN_START, GEN_START + 86400), index=copy)
    (copy / "state").write_text("version 99\n")
    with pytest.raises(TrackingError, match="version"):
        search(query(GEN_START, GEN_START + 86400), index=copy)
