"""The filter's log lines, in PMG's pmg-smtp-filter vocabulary, and where they are written.

Every line of a message starts with its filter id and ``": "`` (pmg-behaviour.md 1.6, 11.1);
the tracking center (``tracking/FORMAT.md``) reads them back, so the formats below are a
contract: change one and the tracker's grammar changes with it. Lines go to syslog (ident
``pmgfast-milter``, facility mail) or to a file in syslog's traditional format
(``Mmm dd hh:mm:ss host pmgfast-milter[pid]: text``), appended with ``O_APPEND`` so it can be
the same file Postfix's ``maillog_file`` writes.
"""

from __future__ import annotations

import os
import socket
import syslog
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

IDENT = "pmgfast-milter"


def seconds(ms: float) -> str:
    """A duration as PMG prints ``ms/1000`` with Perl: ``0.041``, ``0``, ``1.5``."""
    text = f"{round(ms) / 1000:.3f}".rstrip("0").rstrip(".")
    return text or "0"


# --- the vocabulary (pmg-behaviour.md 1.6) -------------------------------------------------


def new_mail(fid: str, message_id: str) -> str:
    return f"{fid}: new mail message-id={message_id}"


def postfix_queue(fid: str, qid: str, name: str, addr: str, sender: str, size: int) -> str:
    """pmgfast: which Postfix queue entry this filter run is (a milter has no LMTP reply to
    carry the filter id, so this line links the two for the tracker); client as ``host[ip]``."""
    return f"{fid}: queue={qid} client={name}[{addr}] from=<{sender}> size={size}"


def accept(fid: str, rcpt: str, qid: str, rule: str) -> str:
    return f"{fid}: accept mail to <{rcpt}> ({qid}) (rule: {rule})"


def reinject_failed(fid: str, rcpt: str, rule: str) -> str:
    return f"{fid}: reinject mail to <{rcpt}> (rule: {rule}) failed"


QUARANTINE_NAMES = {"S": "spam", "V": "virus", "A": "attachment"}


def quarantine(fid: str, rcpt: str, qtype: str, uid: str, rule: str) -> str:
    kind = QUARANTINE_NAMES[qtype]
    return f"{fid}: moved mail for <{rcpt}> to {kind} quarantine - {uid} (rule: {rule})"


def block(fid: str, rcpt: str, rule: str) -> str:
    return f"{fid}: block mail to <{rcpt}> (rule: {rule})"


def _copy_sent(fid: str, verb: str, to: str, rule: str, qid: str | None) -> str:
    """A notification or BCC copy: ignored (no address), failed, or its queue id."""
    if not to:
        return f"{fid}: {verb} <> (rule: {rule}, ignored)"
    if qid is None:
        return f"{fid}: {verb} <{to}> (rule: {rule}) failed"
    return f"{fid}: {verb} <{to}> (rule: {rule}, {qid})"


def notify(fid: str, to: str, rule: str, qid: str | None) -> str:
    return _copy_sent(fid, "notify", to, rule, qid)


def bcc(fid: str, to: str, rule: str, qid: str | None) -> str:
    return _copy_sent(fid, "bcc to", to, rule, qid)


def modified_header(fid: str, name: str, targets: Iterable[str], rule: str) -> str:
    return f"{fid}: modified header '{name}' for <{'>, <'.join(targets)}> (rule: {rule})"


def removed_attachment(fid: str, aid: int, filename: str, rule: str) -> str:
    return f"{fid}: removed attachment {aid} ('{filename}', rule: {rule})"


def disclaimer(fid: str, rule: str, ok: bool) -> str:
    if ok:
        return f"{fid}: added disclaimer (rule: {rule})"
    return f"{fid}: adding disclaimer failed (rule: {rule})"


def virus(fid: str, name: str, scanner: str) -> str:
    return f"{fid}: virus detected: {name} ({scanner})"


def spam_score(fid: str, score: float, required: float, ms: float, hits: str) -> str:
    return f"{fid}: SA score={score:g}/{required:g} time={ms / 1000:0.3f} hits={hits}"


def processing_time(fid: str, total_ms: float, spam_ms: float, virus_ms: float, custom_ms: float):
    return (
        f"{fid}: processing time: {seconds(total_ms)} seconds "
        f"({seconds(spam_ms)}, {seconds(virus_ms)}, {seconds(custom_ms)})"
    )


def reject_all(fid: str) -> str:
    return f"{fid}: reject mail {fid}"


def ndr_sent(fid: str, qid: str) -> str:
    return f"{fid}: sent NDR for rejecting recipients - {qid}"


def tempfail(fid: str, cause: str, reason: str) -> str:
    """pmgfast: the message was answered 451 (``cause``: scanner, database, internal, ...)."""
    return f"{fid}: temporary failure ({cause}): {reason}"


def fail_open(fid: str, cause: str, reason: str) -> str:
    """pmgfast: the message passed unfiltered because the admin chose fail-open for ``cause``."""
    return f"{fid}: passed unfiltered after a failure ({cause}, fail-open): {reason}"


def too_big(fid: str, size: int, maxsize: int) -> str:
    return f"{fid}: message size {size} exceeds maxsize {maxsize}"


# --- sinks ---------------------------------------------------------------------------------


class Sink(Protocol):
    def write(self, line: str, error: bool = False) -> None: ...


class SyslogSink:
    """syslog, facility mail, ident ``pmgfast-milter`` with the pid."""

    def __init__(self, ident: str = IDENT) -> None:
        self.ident = ident
        self._opened_pid = 0

    def write(self, line: str, error: bool = False) -> None:
        if self._opened_pid != os.getpid():  # reopen after fork: the pid is in the ident line
            syslog.openlog(self.ident, syslog.LOG_PID, syslog.LOG_MAIL)
            self._opened_pid = os.getpid()
        syslog.syslog(syslog.LOG_ERR if error else syslog.LOG_INFO, line)


class FileSink:
    """A file in syslog's traditional format; one ``write`` per line (``O_APPEND``), so lines
    of several workers and of Postfix's postlogd never interleave."""

    def __init__(self, path: Path, ident: str = IDENT, hostname: str | None = None) -> None:
        self.path = path
        self.ident = ident
        self.hostname = (hostname or socket.gethostname()).split(".")[0]
        self._fd = -1
        self._fd_pid = 0
        self._lock = threading.Lock()

    def write(self, line: str, error: bool = False) -> None:
        stamp = time.strftime("%b %d %H:%M:%S", time.localtime())
        text = f"{stamp} {self.hostname} {self.ident}[{os.getpid()}]: {line}\n"
        data = text.encode("utf-8", "backslashreplace")
        with self._lock:
            if self._fd < 0 or self._fd_pid != os.getpid():
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
                self._fd_pid = os.getpid()
            os.write(self._fd, data)


class ListSink:
    """Keeps the lines in memory (``pmgfast scan`` and tests)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, line: str, error: bool = False) -> None:
        self.lines.append(line)


def sink_for(log_file: str | None) -> Sink:
    return FileSink(Path(log_file)) if log_file else SyslogSink()
