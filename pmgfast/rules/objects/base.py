"""What every rule object type shares: identity, its fields, JSON and database forms.

An object type is a frozen dataclass with class-level ``otype`` (PMG's number, stored in
``Object.ObjectType``), ``oclass`` (``who``, ``what``, ``when`` or ``action``), ``type_name``
(the name in PMG's API paths and in pmgfast's JSON export) and ``title`` (PMG's
``otype_text``). ``FIELDS`` declares the JSON fields once; :meth:`RuleObject.from_json` and
:meth:`RuleObject.to_json` follow it. The database form is PMG's: one ``Object.Value`` (BYTEA,
raw bytes, UTF-8 text) plus optional ``Attribut`` rows, produced by ``to_db``/``from_db``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self


class ObjectError(ValueError):
    """An object that cannot be built: each entry of ``problems`` names a field and the fault."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def json_id(data: Mapping[str, Any], problems: list[str]) -> int | None:
    """The ``id`` of an object's JSON form: None when absent; a problem unless a positive
    integer."""
    object_id = data.get("id")
    if object_id is None:
        return None
    if not isinstance(object_id, int) or isinstance(object_id, bool) or object_id < 1:
        problems.append(f"id: expected a positive integer, got {object_id!r}")
        return None
    return object_id


@dataclass(frozen=True, slots=True)
class Field:
    """One JSON field: its name, the attribute it fills, its type and default (``REQUIRED``)."""

    json: str
    attr: str
    kind: type
    default: Any = ...
    max_length: int | None = None


REQUIRED = ...

# PMG's pattern for header field names and content types (``[0-9a-zA-Z\/\\\[\]\+\-\.\*\_]+``).
FIELD_CHARS = re.compile(r"[0-9a-zA-Z/\\\[\]+\-.*_]+")


def check_regex(regex: str, what: str, problems: list[str]) -> None:
    """Record a problem when ``regex`` does not compile (Python ``re`` syntax, Perl-like)."""
    try:
        re.compile(regex)
    except (re.error, RecursionError, OverflowError) as err:
        problems.append(f"{what}: invalid regular expression {regex!r}: {err}")


def text(value: bytes) -> str:
    """A stored value as text: UTF-8 when valid (PMG ``try_decode_utf8``), else Latin-1."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def flag(value: bytes | None) -> bool:
    """A stored boolean attribute: Perl truth of the text (``''`` and ``'0'`` are false)."""
    return value is not None and value not in (b"", b"0")


@dataclass(frozen=True, kw_only=True)
class RuleObject:
    """The base of every object type."""

    otype: ClassVar[int]
    oclass: ClassVar[str]
    type_name: ClassVar[str]
    title: ClassVar[str]
    FIELDS: ClassVar[tuple[Field, ...]] = ()

    id: int | None = None

    # --- JSON ------------------------------------------------------------------------------

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """Build from the JSON form; raise :class:`ObjectError` listing every problem."""
        problems: list[str] = []
        known = {"id", "type"} | {f.json for f in cls.FIELDS}
        for key in data:
            if key not in known:
                problems.append(f"{key}: unknown field for a {cls.type_name} object")
        values: dict[str, Any] = {}
        for spec in cls.FIELDS:
            if spec.json not in data:
                if spec.default is REQUIRED:
                    problems.append(f"{spec.json}: required")
                else:
                    values[spec.attr] = spec.default
                continue
            value = data[spec.json]
            if spec.kind is bool and value in (0, 1) and not isinstance(value, float):
                value = bool(value)
            if not isinstance(value, spec.kind) or (spec.kind is int and isinstance(value, bool)):
                problems.append(f"{spec.json}: expected {spec.kind.__name__}, got {value!r}")
                continue
            if (
                spec.max_length is not None
                and isinstance(value, str)
                and len(value) > spec.max_length
            ):
                problems.append(f"{spec.json}: longer than {spec.max_length} characters")
            values[spec.attr] = value
        object_id = json_id(data, problems)
        if problems:
            raise ObjectError(problems)
        obj = cls(id=object_id, **values)
        problems = obj.validate()
        if problems:
            raise ObjectError(problems)
        return obj

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type_name}
        for spec in self.FIELDS:
            out[spec.json] = getattr(self, spec.attr)
        return out

    def validate(self) -> list[str]:
        """Problems with the field values (empty when the object is fine)."""
        return []

    # --- database --------------------------------------------------------------------------

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        """Build from an ``Object`` row and its ``Attribut`` rows (PMG's formats)."""
        raise NotImplementedError

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        """The ``Object.Value`` bytes and the ``Attribut`` rows (name -> value)."""
        raise NotImplementedError

    # --- people ----------------------------------------------------------------------------

    def describe(self) -> str:
        """PMG's ``short_desc``: one line for listings (and for actions, ``__RULE_INFO__``)."""
        return ""
