"""The walk's result types: :class:`Limits`, :class:`Part`, :class:`Defect`, :class:`Message`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple


@dataclass(frozen=True)
class Limits:
    """Bounds on one walk; 0 means no limit.

    ``max_parts`` is PMG's ``clamav.archivemaxfiles`` (default 1000); ``max_depth`` bounds
    container nesting; ``max_size`` the bytes looked at.
    """

    max_parts: int = 1000
    max_depth: int = 64
    max_size: int = 0

    @classmethod
    def from_config(cls, config: Any) -> Limits:
        """Limits from a loaded pmg.conf (``clamav.archivemaxfiles``, ``mail.maxsize``).

        ``config`` is anything with ``get(section, key)``; the size limit is twice
        ``mail.maxsize`` (what Postfix lets through to re-injection, PMG's 2 x maxsize).
        """
        return cls(
            max_parts=int(config.get("clamav", "archivemaxfiles")),
            max_size=2 * int(config.get("mail", "maxsize")),
        )


class Part(NamedTuple):
    """One entity of the message; see the package docstring for every field."""

    aid: int
    parent: int
    depth: int
    content_type: str
    params: tuple[tuple[str, str], ...]
    charset: str | None
    transfer_encoding: str
    disposition: str | None
    filename: str | None
    is_leaf: bool
    magic_type: str | None
    glob_type: str | None
    header_start: int
    body_start: int
    body_end: int
    decoded_size: int
    text: str | None
    html_text: str | None
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive), in order."""
        low = name.lower()
        return [v for k, v in self.headers if k.lower() == low]


class Defect(NamedTuple):
    """Something wrong with the message: the part (aid) and the defect's name."""

    aid: int
    kind: str


class Message:
    """A walked message: ``parts`` (depth-first, ``parts[aid - 1]``), ``defects``, ``uris``,
    ``domains``, and :meth:`body` for a leaf's decoded bytes."""

    __slots__ = ("_body", "defects", "domains", "parts", "uris")

    def __init__(
        self,
        parts: list[Part],
        defects: list[Defect],
        uris: list[str],
        domains: list[str],
        body: Callable[[Part], bytes],
    ) -> None:
        self.parts = parts
        self.defects = defects
        self.uris = uris
        self.domains = domains
        self._body = body

    def part(self, aid: int) -> Part:
        """The part numbered ``aid`` (from 1)."""
        if not 1 <= aid <= len(self.parts):
            raise KeyError(aid)
        return self.parts[aid - 1]

    def body(self, aid: int) -> bytes:
        """The decoded body of leaf ``aid`` (empty for containers)."""
        part = self.part(aid)
        return self._body(part) if part.is_leaf else b""

    def __repr__(self) -> str:
        return f"<Message {len(self.parts)} parts, {len(self.defects)} defects>"
