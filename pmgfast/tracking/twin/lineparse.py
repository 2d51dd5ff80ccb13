"""Queue ids, filter ids and the syslog header of a line (twin of ``qid.rs``, ``syslog.rs``)."""

from __future__ import annotations

from enum import Enum

_HEX = frozenset(b"0123456789abcdefABCDEF")
_ALNUM = frozenset(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_VOWELS = frozenset(b"aeiouAEIOU")
_SPACE = frozenset(b" \t\n\r\x0c")
_ALPHA = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

MILTER_IDENT = b"pmgfast-milter"


def postfix_qid(data: bytes) -> tuple[bytes, bytes] | None:
    """A Postfix queue id at the start of ``data``: short (6-21 hex) or long (>= 12 base-52
    characters with a ``z``, no vowel)."""
    if len(data) < 6:
        return None
    most = min(25, len(data))
    kind = 0  # 0 unknown, 1 short, 2 long
    saw_z = False
    end = most
    for i in range(most):
        b = data[i]
        if kind in (0, 1) and b in _HEX:
            if b in _VOWELS:
                kind = 1
            continue
        if kind == 1:
            end = i
            break
        if b in _ALNUM:
            if b in _VOWELS:
                return None
            if b == 0x7A:
                saw_z = True
            kind = 2
            continue
        end = i
        break
    ok = (not saw_z and 6 <= end <= 21) if kind in (0, 1) else (saw_z and end >= 12)
    return (data[:end], data[end:]) if ok else None


def postfix_qid_prefix(msg: bytes) -> tuple[bytes, bytes] | None:
    found = postfix_qid(msg)
    if found is None or not found[1].startswith(b": "):
        return None
    return found[0], found[1][2:]


def filter_id(data: bytes) -> tuple[bytes, bytes] | None:
    """A filter id (7-25 hex characters) at the start of ``data``."""
    most = min(25, len(data))
    if most < 7:
        return None
    n = 0
    while n < most and data[n] in _HEX:
        n += 1
    if n < 7:
        return None
    return data[:n], data[n:]


def filter_id_prefix(msg: bytes) -> tuple[bytes, bytes] | None:
    found = filter_id(msg)
    if found is None or not found[1].startswith(b": "):
        return None
    return found[0], found[1][2:]


class Dialect(Enum):
    PMG = "pmg"
    PMGFAST = "pmgfast"


class Service(Enum):
    FILTER = 1
    POSTSCREEN = 2
    SMTPD = 3
    CLEANUP = 4
    QMGR = 5
    LMTP = 6
    DELIVERY = 7
    OTHER = 8
    BOUNCE = 9


_DAEMONS = {
    b"postscreen": Service.POSTSCREEN,
    b"smtpd": Service.SMTPD,
    b"cleanup": Service.CLEANUP,
    b"qmgr": Service.QMGR,
    b"lmtp": Service.LMTP,
    b"smtp": Service.DELIVERY,
    b"local": Service.DELIVERY,
    b"error": Service.DELIVERY,
}
_EXTRA_DELIVERY = (b"pipe", b"virtual", b"discard", b"retry")


def classify(name: bytes, dialect: Dialect) -> Service:
    if name in (b"pmg-smtp-filter", MILTER_IDENT):
        return Service.FILTER
    if dialect is Dialect.PMG:
        if not name.startswith(b"postfix/"):
            return Service.OTHER
        daemon = name[8:]
    else:
        if not name.startswith(b"postfix"):
            return Service.OTHER
        i = name.rfind(b"/")
        if i < 0:
            return Service.OTHER
        daemon = name[i + 1 :]
        if daemon in _EXTRA_DELIVERY:
            return Service.DELIVERY
        if daemon == b"bounce":
            return Service.BOUNCE
    return _DAEMONS.get(daemon, Service.OTHER)


def read_header(rest: bytes, dialect: Dialect) -> tuple[bytes, Service, int, bytes] | None:
    """``host service[pid]: msg`` -> (host, service, pid, msg)."""
    host_len = -1
    for i, b in enumerate(rest):
        if b in _SPACE:
            host_len = i
            break
    if host_len < 0:
        return None
    host = rest[:host_len]
    data = rest[host_len + 1 :]
    n = 0
    if dialect is Dialect.PMG:
        while n < len(data) and (data[n] in _ALPHA or data[n] in b"/-"):
            n += 1
    else:
        while n < len(data) and data[n] != 0x5B and data[n] not in _SPACE:
            n += 1
    name = data[:n]
    if data[n : n + 1] != b"[":
        return None
    data = data[n + 1 :]
    d = 0
    while d < len(data) and 48 <= data[d] <= 57:
        d += 1
    if d == 0:
        return None
    pid = int(data[:d])
    if pid >= 1 << 64:
        return None
    if data[d : d + 3] != b"]: ":
        return None
    return host, classify(name, dialect), pid, data[d + 3 :]
