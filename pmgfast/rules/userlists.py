"""Per-user welcome and blocklists as the Spam object consults them (PMG ``RuleDB/Spam.pm``).

A list is the ``UserPrefs.Data`` text: entries separated by commas, each an address or a
SpamAssassin-style glob (``*`` any run, ``?`` one character). Entries are lower-cased; an
address is on the list when it equals an entry or matches an entry's glob, case-insensitively.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_SPLIT = re.compile(r"\s*,\s*")


def glob_regex(entry: str) -> str:
    """PMG's conversion of one entry: NUL, backslash and ``(`` become ``_``, every other
    character but ``*``, ``?``, ``_`` and alphanumerics is literal, ``?`` is one character and a
    run of ``*`` is any run; the result is anchored."""
    out = []
    star = False
    for char in re.sub(r"[\x00\\(]", "_", entry):
        if char == "*":
            if not star:
                out.append(".*")
            star = True
            continue
        star = False
        if char == "?":
            out.append(".")
        elif char == "_" or (char.isascii() and char.isalnum()):
            out.append(char)
        else:
            out.append(re.escape(char))
    return "^" + "".join(out) + "$"


@dataclass(frozen=True, slots=True)
class AddressList:
    """One parsed list: exact entries for a fast hit, then every entry as an anchored glob."""

    exact: frozenset[str] = frozenset()
    patterns: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def parse(cls, data: str | None) -> AddressList:
        entries = [e.lower() for e in _SPLIT.split(data.strip())] if data else []
        entries = [e for e in entries if e]
        return cls(
            frozenset(entries),
            tuple(re.compile(glob_regex(e), re.IGNORECASE | re.DOTALL) for e in entries),
        )

    def __bool__(self) -> bool:
        return bool(self.exact)

    def matches(self, addresses: Iterable[str]) -> bool:
        """True when any of ``addresses`` is on the list."""
        for address in addresses:
            address = address.lower()
            if address in self.exact:
                return True
            if any(p.search(address) for p in self.patterns):
                return True
        return False


@dataclass(frozen=True, slots=True)
class UserLists:
    """A user's welcomelist (``WL``) and blocklist (``BL``)."""

    welcome: AddressList = AddressList()
    block: AddressList = AddressList()

    @classmethod
    def parse(cls, welcome: str | None = None, block: str | None = None) -> UserLists:
        return cls(AddressList.parse(welcome), AddressList.parse(block))
