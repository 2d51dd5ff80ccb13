"""WHAT objects: what the mail contains (PMG ``RuleDB/{Spam,Virus,MatchField,...}.pm``).

Spam and Virus match the whole mail (marks ``()``); the others test each MIME part and return
the aids of the parts that matched (``None`` when none did). ``part_hits`` is the pure,
one-object-at-a-time test the pure engine uses; the compiled rule set answers the same in one
pass over all objects.

- Match Field: every instance of the header ``field`` (name compared ignoring case) in every
  part (only the top part with ``top-part-only``), decoded, searched case-insensitively and
  unanchored; the aid is counted once per matching instance, as in PMG.
- Content Type Filter: searched case-sensitively and unanchored in the sniffed (magic) type,
  then, unless ``only-content``, in the header type and the filename (glob) type.
- Match Filename: the part's filename, Perl ``m|^<re>$|i``.
- Archive Filter: header, magic and glob type, else any type found inside the archive.
- Match Archive Filename: the part's own filename, else any member basename of its archive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar, Self

from pmgfast.rules.facts import Part
from pmgfast.rules.objects.base import FIELD_CHARS, Field, RuleObject, check_regex, flag, text

OLD_TYPES = {
    "application/x-msdos-program": r"application/vnd\.microsoft\.portable-executable",
    "application/x-ms-dos-executable": r"application/vnd\.microsoft\.portable-executable",
    "application/java-vm": "application/x-java",
    "application/x-javascript": "application/javascript",
}


def _compile(source: str, flags: int = 0) -> re.Pattern[str] | None:
    try:
        return re.compile(source, flags)
    except re.error:
        return None


def _truthy(value: str | None) -> bool:
    """Perl truth of a string: defined, not empty and not ``"0"``."""
    return bool(value) and value != "0"


@dataclass(frozen=True, kw_only=True)
class WhatObject(RuleObject):
    oclass: ClassVar[str] = "what"

    def part_hits(self, part: Part, top: bool) -> int:
        """How many times this object marks ``part`` (0: not at all)."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class Spam(WhatObject):
    otype: ClassVar[int] = 3000
    type_name: ClassVar[str] = "spamfilter"
    title: ClassVar[str] = "Spam Filter"
    FIELDS = (Field("spamlevel", "level", int),)

    level: int = 5

    def validate(self) -> list[str]:
        return [] if self.level >= 0 else [f"spamlevel: {self.level} is below 0"]

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        match = re.match(rb"\s*(\d+)", value)
        return cls(id=object_id, level=int(match.group(1)) if match else 0)

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        return str(self.level).encode(), {}

    def describe(self) -> str:
        return f"Level {self.level}"


@dataclass(frozen=True, kw_only=True)
class Virus(WhatObject):
    otype: ClassVar[int] = 3001
    type_name: ClassVar[str] = "virusfilter"
    title: ClassVar[str] = "Virus Filter"

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        return cls(id=object_id)

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        return b"", {}

    def describe(self) -> str:
        return "active"


@dataclass(frozen=True, kw_only=True)
class MatchField(WhatObject):
    otype: ClassVar[int] = 3002
    type_name: ClassVar[str] = "matchfield"
    title: ClassVar[str] = "Match Field"
    FIELDS = (
        Field("field", "field", str, max_length=1024),
        Field("value", "value", str, max_length=1024),
        Field("top-part-only", "top_part_only", bool, False),
    )

    field: str = ""
    value: str = ""
    top_part_only: bool = False

    @cached_property
    def _compiled(self) -> re.Pattern[str] | None:
        return _compile(self.value, re.IGNORECASE)

    def validate(self) -> list[str]:
        problems: list[str] = []
        if not FIELD_CHARS.fullmatch(self.field):
            problems.append(f"field: {self.field!r} is not a header field name")
        check_regex(self.value, "value", problems)
        return problems

    def part_hits(self, part: Part, top: bool) -> int:
        compiled = self._compiled
        if compiled is None or not self.field or (self.top_part_only and not top):
            return 0
        name = self.field.lower()
        return sum(
            1 for key, value in part.headers if key.lower() == name and compiled.search(value)
        )

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        field, _, regex = text(value).partition(":")
        return cls(
            id=object_id, field=field, value=regex, top_part_only=flag(attrs.get("top_part_only"))
        )

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        attrs = {"top_part_only": b"1"} if self.top_part_only else {}
        return f"{self.field}:{self.value}".encode(), attrs

    def describe(self) -> str:
        return f"{self.field}={self.value}"


@dataclass(frozen=True, kw_only=True)
class ContentTypeFilter(WhatObject):
    otype: ClassVar[int] = 3003
    type_name: ClassVar[str] = "contenttype"
    title: ClassVar[str] = "ContentType Filter"
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("contenttype", "contenttype", str, max_length=1024),
        Field("only-content", "only_content", bool, False),
    )

    contenttype: str = ""
    only_content: bool = False

    def __post_init__(self) -> None:
        if self.contenttype in OLD_TYPES:
            object.__setattr__(self, "contenttype", OLD_TYPES[self.contenttype])

    @cached_property
    def _compiled(self) -> re.Pattern[str] | None:
        return _compile(self.contenttype)

    def validate(self) -> list[str]:
        problems: list[str] = []
        if not FIELD_CHARS.fullmatch(self.contenttype):
            problems.append(f"contenttype: {self.contenttype!r} has characters not allowed")
        check_regex(self.contenttype, "contenttype", problems)
        return problems

    def _types(self, part: Part) -> tuple[str, ...]:
        if self.only_content:
            return (part.magic_type,)
        return (part.magic_type, part.content_type, part.glob_type)

    def part_hits(self, part: Part, top: bool) -> int:
        compiled = self._compiled
        if compiled is None:
            return 0
        return int(any(_truthy(t) and compiled.search(t) for t in self._types(part)))

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        _, _, regex = text(value).partition(":")
        return cls(id=object_id, contenttype=regex, only_content=flag(attrs.get("only_content")))

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        attrs = {"only_content": b"1"} if self.only_content else {}
        return f"content-type:{self.contenttype}".encode(), attrs

    def describe(self) -> str:
        return f"content-type={self.contenttype}"


@dataclass(frozen=True, kw_only=True)
class MatchFilename(WhatObject):
    otype: ClassVar[int] = 3004
    type_name: ClassVar[str] = "filenamefilter"
    title: ClassVar[str] = "Match Filename"
    FIELDS = (Field("filename", "filename", str, max_length=1024),)

    filename: str = ""

    @property
    def anchored_source(self) -> str:
        return f"^{self.filename}$"

    @cached_property
    def _compiled(self) -> re.Pattern[str] | None:
        return _compile(self.anchored_source, re.IGNORECASE)

    def validate(self) -> list[str]:
        problems: list[str] = []
        check_regex(self.anchored_source, "filename", problems)
        return problems

    def part_hits(self, part: Part, top: bool) -> int:
        compiled = self._compiled
        if compiled is None or not _truthy(part.filename):
            return 0
        return int(compiled.search(part.filename or "") is not None)

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        return cls(id=object_id, filename=text(value))

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        return self.filename.encode(), {}

    def describe(self) -> str:
        return f"filename={self.filename}"


@dataclass(frozen=True, kw_only=True)
class ArchiveFilter(ContentTypeFilter):
    otype: ClassVar[int] = 3005
    type_name: ClassVar[str] = "archivefilter"
    title: ClassVar[str] = "Archive Filter"
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("contenttype", "contenttype", str, max_length=1024),
    )

    def _types(self, part: Part) -> tuple[str, ...]:
        return (part.content_type, part.magic_type, part.glob_type, *part.archive_types)

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        _, _, regex = text(value).partition(":")
        return cls(id=object_id, contenttype=regex)

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        return f"content-type:{self.contenttype}".encode(), {}


@dataclass(frozen=True, kw_only=True)
class MatchArchiveFilename(MatchFilename):
    otype: ClassVar[int] = 3006
    type_name: ClassVar[str] = "archivefilenamefilter"
    title: ClassVar[str] = "Match Archive Filename"

    def part_hits(self, part: Part, top: bool) -> int:
        compiled = self._compiled
        if compiled is None:
            return 0
        if part.filename is not None and compiled.search(part.filename):
            return 1
        return int(any(compiled.search(name) for name in part.archive_filenames))


WHAT_TYPES: tuple[type[WhatObject], ...] = (
    Spam, Virus, MatchField, ContentTypeFilter, MatchFilename, ArchiveFilter,
    MatchArchiveFilename,
)  # fmt: skip
PART_TYPES = (MatchField, ContentTypeFilter, MatchFilename, ArchiveFilter, MatchArchiveFilename)
