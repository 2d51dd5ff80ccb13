"""The store side of the quarantine: spool files and their database rows (pmg-behaviour.md 5.1,
4.2).

A quarantined copy is written to ``<spool>/<spam|virus|attachment>/<XX>/<uid>`` (``XX`` =
``%02X`` of the microseconds mod 256, ``uid`` the filter-style id), world-readable, with any
``Return-Path`` removed and ``Return-Path: <sender>`` and ``Delivered-To: <targets>`` prepended
(qmail style, as PMG does). The file and its directory are fsynced before the CMailStore row and
one CMSReceivers row per recipient are inserted in one transaction; if that fails the file is
removed again, so a temporary failure (451) and the retry that follows leave exactly one copy.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import psycopg

from pmgfast.db.connect import DatabaseUnavailable

T = TypeVar("T")

SUBDIRS = {"S": "spam", "V": "virus", "A": "attachment"}
_RETURN_PATH = re.compile(rb"^Return-Path:[^\n]*\n(?:[ \t][^\n]*\n)*", re.IGNORECASE | re.M)
_SUMMARY = re.compile(rb"^(Subject|From|Sender):[^\n]*\n(?:[ \t][^\n]*\n)*", re.IGNORECASE | re.M)


_uid_lock = threading.Lock()
_last_uid: list[int] = [0, 0]  # pid, last microsecond stamp handed out


def file_uid(now: float | None = None) -> tuple[str, int]:
    """A unique id in PMG's ``%X%X%05X`` form (PMG: inode, seconds, microseconds; here: pid,
    seconds, microseconds, never the same stamp twice in one process) and its microseconds.
    It is both the filter id of a message (log lines) and a quarantine file name."""
    stamp = int((time.time() if now is None else now) * 1_000_000)
    pid = os.getpid()
    with _uid_lock:
        if _last_uid[0] == pid and stamp <= _last_uid[1]:
            stamp = _last_uid[1] + 1
        _last_uid[0], _last_uid[1] = pid, stamp
    sec, usec = divmod(stamp, 1_000_000)
    return f"{pid:X}{sec:X}{usec:05X}", usec


def header_summary(raw: bytes) -> str:
    """CMailStore.Header: only the Subject, From and Sender lines of the top header block."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].replace(b"\r\n", b"\n") + b"\n"
    lines = b"".join(m.group(0) for m in _SUMMARY.finditer(head))
    return lines.decode("utf-8", "replace").replace("\0", " ")


@dataclass(frozen=True)
class Stored:
    uid: str
    path: str  # relative to the spool directory
    id: int  # CMailStore RID
    ticket_ids: tuple[int, ...]


class DatabaseHandle:
    """One lazily opened connection shared by a worker's threads (quarantine writes are rare);
    a connection that failed is dropped and the next use reconnects, so service resumes by
    itself when the database is back."""

    def __init__(self, connect: Callable[[], psycopg.Connection]) -> None:
        self._connect = connect
        self._conn: psycopg.Connection | None = None
        self.lock = threading.Lock()

    def run(self, work: Callable[[psycopg.Connection], T]) -> T:
        with self.lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = self._connect()
                with self._conn.transaction():
                    return work(self._conn)
            except DatabaseUnavailable:
                self._drop()
                raise
            except psycopg.OperationalError as err:
                self._drop()
                raise DatabaseUnavailable(f"database error: {err}") from None

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def close(self) -> None:
        with self.lock:
            self._drop()


class QuarantineStore:
    def __init__(self, spool_dir: Path, database: DatabaseHandle, cid: int = 0) -> None:
        self.spool_dir = spool_dir
        self.database = database
        self.cid = cid

    def store(
        self,
        qtype: str,
        content: bytes,
        sender: str,
        recipients: Sequence[str],
        spamlevel: int = 0,
        info: str | None = None,
        pmail: Callable[[str], str] = str.lower,
        now: float | None = None,
    ) -> Stored:
        """Write one quarantined copy for ``recipients``; raises DatabaseUnavailable."""
        now = time.time() if now is None else now
        uid, usec = file_uid(now)
        relative = f"{SUBDIRS[qtype]}/{usec % 256:02X}/{uid}"
        path = self.spool_dir / relative
        data = self._file_content(content, sender, recipients)
        self._write_file(path, data)
        try:
            rid, tickets = self.database.run(
                lambda conn: self._insert(
                    conn,
                    qtype,
                    len(data),
                    sender,
                    recipients,
                    spamlevel,
                    info,
                    header_summary(content),
                    relative,
                    pmail,
                    int(now),
                )
            )
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return Stored(uid, relative, rid, tickets)

    @staticmethod
    def _file_content(content: bytes, sender: str, recipients: Sequence[str]) -> bytes:
        body = content.replace(b"\r\n", b"\n")
        head_end = body.find(b"\n\n")
        head = body if head_end < 0 else body[: head_end + 1]
        rest = b"" if head_end < 0 else body[head_end + 1 :]
        head = _RETURN_PATH.sub(b"", head)
        prefix = f"Return-Path: <{sender}>\nDelivered-To: {','.join(recipients)}\n".encode(
            "utf-8", "surrogateescape"
        )
        return prefix + head + rest

    @staticmethod
    def _write_file(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _insert(
        self,
        conn: psycopg.Connection,
        qtype: str,
        size: int,
        sender: str,
        recipients: Sequence[str],
        spamlevel: int,
        info: str | None,
        header: str,
        relative: str,
        pmail: Callable[[str], str],
        now: int,
    ) -> tuple[int, tuple[int, ...]]:
        row = conn.execute(
            "INSERT INTO cmailstore (cid, rid, id, time, qtype, bytes, spamlevel, info, sender,"
            " header, file) SELECT %s, n, n, %s, %s, %s, %s, %s, %s, %s, %s"
            " FROM nextval('cmailstore_id_seq') AS n RETURNING rid",
            (self.cid, now, qtype, size, spamlevel, info, sender[:255], header, relative),
        ).fetchone()
        assert row is not None
        rid = int(row[0])
        ticket = secrets.randbelow(1 << 28)
        tickets = []
        seen: set[str] = set()
        for rcpt in recipients:
            primary = pmail(rcpt)[:255]
            if primary in seen:
                continue
            seen.add(primary)
            ticket += 1
            tickets.append(ticket)
            conn.execute(
                "INSERT INTO cmsreceivers (cmailstore_cid, cmailstore_rid, pmail, receiver,"
                " ticketid, status, mtime) VALUES (%s, %s, %s, %s, %s, 'N', %s)",
                (self.cid, rid, primary, None if rcpt == primary else rcpt[:255], ticket, now),
            )
        return rid, tuple(tickets)
