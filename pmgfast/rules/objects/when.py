"""WHEN objects: the time of day a rule applies (PMG ``RuleDB/TimeFrame.pm``).

A time frame is a start and an end in minutes since midnight, both inclusive, in local time.
When the end is before the start the frame wraps midnight (``22:00-06:00``). Weekdays are not
part of PMG's model. Stored as ``HH:MM-HH:MM``; the default frame is the whole day.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Self

from pmgfast.rules.objects.base import Field, ObjectError, RuleObject, json_id, text

_HM = re.compile(r"(\d?\d):(\d?\d)")
_STORED = re.compile(r"(\d+):(\d+)-(\d+):(\d+)")


def hm(minutes: int) -> str:
    hours, mins = divmod(minutes, 60)
    return f"{hours:02d}:{mins:02d}"


def minutes_of(value: str) -> int | None:
    """``H:MM`` as minutes since midnight, None when malformed or past 24:00."""
    match = _HM.fullmatch(value)
    if not match:
        return None
    hours, mins = int(match.group(1)), int(match.group(2))
    total = hours * 60 + mins
    return total if mins < 60 and total <= 24 * 60 else None


@dataclass(frozen=True, kw_only=True)
class WhenObject(RuleObject):
    oclass: ClassVar[str] = "when"

    def matches(self, now: datetime) -> bool:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class TimeFrame(WhenObject):
    otype: ClassVar[int] = 2000
    type_name: ClassVar[str] = "timeframe"
    title: ClassVar[str] = "TimeFrame"
    FIELDS = (Field("start", "start_hm", str, "00:00"), Field("end", "end_hm", str, "24:00"))

    start: int = 0
    end: int = 24 * 60

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Self:
        problems = []
        values = {}
        for key, default in (("start", "00:00"), ("end", "24:00")):
            raw = data.get(key, default)
            minutes = minutes_of(raw) if isinstance(raw, str) else None
            if minutes is None:
                problems.append(f"{key}: expected a time H:MM up to 24:00, got {raw!r}")
            values[key] = minutes or 0
        unknown = [k for k in data if k not in ("id", "type", "start", "end")]
        problems += [f"{k}: unknown field for a timeframe object" for k in unknown]
        object_id = json_id(data, problems)
        if problems:
            raise ObjectError(problems)
        return cls(id=object_id, **values)

    @property
    def start_hm(self) -> str:
        return hm(self.start)

    @property
    def end_hm(self) -> str:
        return hm(self.end)

    def matches(self, now: datetime) -> bool:
        minute = now.hour * 60 + now.minute
        if self.end >= self.start:
            return self.start <= minute <= self.end
        return minute <= self.end or minute >= self.start

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        match = _STORED.search(text(value))
        if not match:
            return cls(id=object_id)
        sh, sm, eh, em = (int(g) for g in match.groups())
        return cls(id=object_id, start=sh * 60 + sm, end=eh * 60 + em)

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        return f"{self.start_hm}-{self.end_hm}".encode(), {}

    def describe(self) -> str:
        return f"{self.start_hm}-{self.end_hm}"


WHEN_TYPES: tuple[type[WhenObject], ...] = (TimeFrame,)
