"""Time stamps and the local zone (pure twin of ``tracking/src/time.rs``).

Traditional stamps (``Mmm dd hh:mm:ss``) get their year from "now" (a log month after the
current month is last year) and become UTC with one fixed offset (pmg-log-tracker) or with the
zone's offset at that local time (pmgfast). RFC 3339 stamps are read strictly (27 or 32
characters, pmg-log-tracker) or with any fraction. The zone follows ``TZ``.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from pmgfast.tracking.errors import TrackingError

_EPOCH = re.compile(rb"-?[0-9]+")
_DAYS_BEFORE = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
_MONTHS = {
    b"Jan": 0, b"Feb": 1, b"Mar": 2, b"Apr": 3, b"May": 4, b"Jun": 5,
    b"Jul": 6, b"Aug": 7, b"Sep": 8, b"Oct": 9, b"Nov": 10, b"Dec": 11,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Civil:
    year: int
    month0: int
    day: int
    hour: int
    minute: int
    second: int


def _div(a: int, b: int) -> int:
    """Division truncating toward zero, as Rust's ``/`` on integers."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def timegm(c: Civil) -> int:
    """Seconds since the epoch of a civil time read as UTC, computed like pmg-log-tracker."""
    month0 = min(max(c.month0, 0), 11)
    year = c.year
    days = (year - 1970) * 365 + _DAYS_BEFORE[month0]
    if month0 <= 1:
        year -= 1
    days += _div(year - 1968, 4)
    days -= _div(year - 1900, 100)
    days += _div(year - 1600, 400)
    days += c.day - 1
    return ((days * 24 + c.hour) * 60 + c.minute) * 60 + c.second


def civil_from_epoch(epoch: int) -> Civil:
    t = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=epoch)
    return Civil(t.year, t.month - 1, t.day, t.hour, t.minute, t.second)


class Zone:
    """The local zone: an IANA zone, UTC, or (for a ``TZ`` the zone database does not know,
    or no ``TZ``) the C library's local time."""

    def __init__(self, tz: ZoneInfo | timezone | None) -> None:
        self._tz = tz  # None: the C library

    @classmethod
    def from_env(cls) -> Zone:
        value = os.environ.get("TZ")
        if value is None:
            return cls(None)
        return cls.from_tz_value(value)

    @classmethod
    def from_tz_value(cls, value: str) -> Zone:
        name = value[1:] if value.startswith(":") else value
        if not name:
            return cls(UTC)
        try:
            if name.startswith("/"):
                with open(name, "rb") as fh:
                    return cls(ZoneInfo.from_file(fh, key=name))
            return cls(ZoneInfo(name))
        except (OSError, ValueError, KeyError):
            pass
        if os.environ.get("TZ") == value:
            time.tzset()
            return cls(None)
        return cls(UTC)

    def offset_at(self, epoch: int) -> int:
        if self._tz is None:
            return time.localtime(epoch).tm_gmtoff
        dt = datetime.fromtimestamp(epoch, self._tz)
        off = dt.utcoffset()
        return int(off.total_seconds()) if off is not None else 0

    def civil(self, epoch: int) -> Civil:
        return civil_from_epoch(epoch + self.offset_at(epoch))

    def to_epoch(self, c: Civil) -> int | None:
        """The instant of a local time; a repeated time is read as the earlier one, a skipped
        time is moved forward."""
        try:
            if self._tz is None:
                return int(
                    time.mktime((c.year, c.month0 + 1, c.day, c.hour, c.minute, c.second, 0, 0, -1))
                )
            dt = datetime(c.year, c.month0 + 1, c.day, c.hour, c.minute, c.second, tzinfo=self._tz)
        except (ValueError, OverflowError):
            return None
        return int(dt.timestamp())

    def format(self, epoch: int) -> str:
        c = self.civil(epoch)
        date = f"{c.year:04d}-{c.month0 + 1:02d}-{c.day:02d}"
        return f"{date} {c.hour:02d}:{c.minute:02d}:{c.second:02d}"


def _number(data: bytes, pos: int, most: int) -> tuple[int, int] | None:
    n = 0
    while n < most and pos + n < len(data) and 48 <= data[pos + n] <= 57:
        n += 1
    if n == 0:
        return None
    return int(data[pos : pos + n]), pos + n


def read_traditional(line: bytes, cur_year: int, cur_month0: int) -> tuple[int, bytes] | None:
    """``Mmm dd hh:mm:ss`` as local seconds (read like UTC) and the rest after one separator."""
    if len(line) < 15:
        return None
    month0 = _MONTHS.get(line[0:3])
    if month0 is None:
        return None
    year = cur_year - 1 if cur_month0 < month0 else cur_year
    pos = 3
    while pos < len(line) and line[pos] in b" \t\n\r\x0c":
        pos += 1
    r = _number(line, pos, 2)
    if r is None or r[0] == 0:
        return None
    day, pos = r
    if pos >= len(line):
        return None
    pos += 1
    r = _number(line, pos, 2)
    if r is None:
        return None
    hour, pos = r
    if line[pos : pos + 1] != b":":
        return None
    r = _number(line, pos + 1, 2)
    if r is None:
        return None
    minute, pos = r
    if line[pos : pos + 1] != b":":
        return None
    r = _number(line, pos + 1, 2)
    if r is None:
        return None
    second, pos = r
    rest = line[pos + 1 :]
    return timegm(Civil(year, month0, day, hour, minute, second)), rest


def _digits(b: bytes) -> int | None:
    return int(b) if b.isdigit() else None


def _days_in_month(year: int, month: int) -> int:
    if month in (1, 3, 5, 7, 8, 10, 12):
        return 31
    if month in (4, 6, 9, 11):
        return 30
    return 29 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 28


def parse_rfc3339_parts(dt: bytes, zone: bytes) -> int | None:
    """``YYYY-MM-DDTHH:MM:SS`` and a zone (``Z``, ``±HH:MM``, ``±HHMM``) to epoch seconds."""
    if len(dt) != 19:
        return None
    if not (
        dt[4:5] == b"-"
        and dt[7:8] == b"-"
        and dt[10:11] in (b"T", b"t", b" ")
        and dt[13:14] == b":"
        and dt[16:17] == b":"
    ):
        return None
    parts = [_digits(dt[a:b]) for a, b in ((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19))]
    if any(p is None for p in parts):
        return None
    year, month, day, hour, minute, second = (p for p in parts if p is not None)
    if not (
        1 <= month <= 12
        and 1 <= day <= _days_in_month(year, month)
        and hour <= 23
        and minute <= 59
        and second <= 60
    ):
        return None
    if zone in (b"Z", b"z"):
        offset = 0
    elif len(zone) in (5, 6) and zone[0:1] in (b"+", b"-"):
        if len(zone) == 6:
            if zone[3:4] != b":":
                return None
            hh, mm = zone[1:3], zone[4:6]
        else:
            hh, mm = zone[1:3], zone[3:5]
        h, m = _digits(hh), _digits(mm)
        if h is None or m is None or h > 23 or m > 59:
            return None
        offset = h * 3600 + m * 60
        if zone[0:1] == b"-":
            offset = -offset
    else:
        return None
    return timegm(Civil(year, month - 1, day, hour, minute, second)) - offset


def read_rfc3339(line: bytes, strict: bool) -> tuple[int, bytes] | None:
    """An RFC 3339 stamp at the start of a line and the rest after the following space."""
    n = line.find(b" ")
    if n < 0:
        return None
    if strict and n not in (27, 32):
        return None
    if not strict and not 20 <= n <= 40:
        return None
    token = line[:n]
    if strict:
        dot = token.find(b".")
        if dot != 19 or dot + 7 > len(token):
            return None
        epoch = parse_rfc3339_parts(token[:dot], token[dot + 7 :])
        return None if epoch is None else (epoch, line[n + 1 :])
    zone_start = 19
    if token[19:20] == b".":
        zone_start = 20
        while zone_start < len(token) and 48 <= token[zone_start] <= 57:
            zone_start += 1
    epoch = parse_rfc3339_parts(token[:19], token[zone_start:])
    return None if epoch is None else (epoch, line[n + 1 :])


class StampReader:
    """Reads the stamp of a line: the year from ``now``, UTC by ``rule`` (an int: one fixed
    offset; a :class:`Zone`: the zone's offset at each local time)."""

    def __init__(self, now: int, zone: Zone, rule: int | Zone) -> None:
        c = zone.civil(now)
        self.year = c.year
        self.month0 = c.month0
        self.rule = rule
        self._hour = -(1 << 62)
        self._offset = 0

    def read(self, line: bytes, strict: bool) -> tuple[int, bytes] | None:
        found = read_rfc3339(line, strict)
        if found is not None:
            return found
        t = read_traditional(line, self.year, self.month0)
        if t is None:
            return None
        local, rest = t
        if isinstance(self.rule, int):
            return local - self.rule, rest
        hour = local - local % 3600
        if hour != self._hour:
            epoch = self.rule.to_epoch(civil_from_epoch(local))
            self._offset = local - epoch if epoch is not None else self.rule.offset_at(local)
            self._hour = hour
        return local - self._offset, rest


def parse_query_time(text: str, zone: Zone) -> int:
    """A time as pmg-log-tracker accepts it: RFC 3339, ``YYYY-MM-DD HH:MM:SS`` (local), or
    seconds since the epoch."""
    t = text.strip()
    b = t.encode("utf-8", "surrogateescape")
    if len(b) >= 20:
        rest = b[19:]
        if rest[:1] == b".":
            n = 1
            while n < len(rest) and 48 <= rest[n] <= 57:
                n += 1
            rest = rest[n:]
        epoch = parse_rfc3339_parts(b[:19], rest)
        if epoch is not None:
            return epoch
    if len(b) == 19 and parse_rfc3339_parts(b, b"Z") is not None:
        c = Civil(
            int(b[0:4]), int(b[5:7]) - 1, int(b[8:10]), int(b[11:13]), int(b[14:16]), int(b[17:19])
        )
        epoch = zone.to_epoch(c)
        if epoch is not None:
            return epoch
    if _EPOCH.fullmatch(b):
        value = int(b)
        if -(1 << 63) <= value < (1 << 63):
            return value
    raise TrackingError(
        f"cannot read time {text!r}: use YYYY-MM-DD HH:MM:SS, RFC 3339 or epoch seconds"
    )
