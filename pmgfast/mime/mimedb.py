"""Content types from bytes (magic) and file names (globs), the pure twin of the Rust
``mimedb.rs``, over the same generated table ``mimedb.txt`` (see ``mimedb_build.py``).

Magic: entries by priority (highest first, file order on ties); an entry matches when one of
its top-level matches does; a match compares bytes (under a mask) at any offset of its range,
and its sub-matches, if any, must match one too. Fallbacks as xdgmime: empty data is
``application/x-zerosize``; no control character but TAB/LF/CR in the first 128 bytes is
``text/plain``; anything else ``application/octet-stream``.
Globs: literal names (exact, then ASCII case-insensitive), then the longest ``*.suffix``
(ties: higher weight, then file order), then fnmatch patterns (highest weight, file order).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).with_name("mimedb.txt")
MAGIC_BYTES = 40 * 1024
OCTET_STREAM = "application/octet-stream"


@dataclass
class _Match:
    start: int
    end: int
    value: bytes
    mask: bytes | None
    children: list[_Match] = field(default_factory=list)

    def hit(self, data: bytes) -> bool:
        n = len(self.value)
        if n == 0:
            return False
        if self.mask is None:
            if self.start + n > len(data):
                return False
            found = data.find(self.value, self.start, min(self.end + n, len(data))) >= 0
        else:
            found = False
            value = bytes(v & k for v, k in zip(self.value, self.mask, strict=True))
            for o in range(self.start, self.end + 1):
                if o + n > len(data):
                    break
                chunk = data[o : o + n]
                if bytes(d & k for d, k in zip(chunk, self.mask, strict=True)) == value:
                    found = True
                    break
        return found and (not self.children or any(c.hit(data) for c in self.children))


@dataclass
class _Glob:
    weight: int
    case_sensitive: bool
    mime: str
    pattern: str


@dataclass
class _Db:
    magic: list[tuple[int, str, list[_Match]]]
    literal: list[_Glob]
    suffix: list[_Glob]
    full: list[tuple[_Glob, re.Pattern[str]]]


@lru_cache(maxsize=1)
def _db() -> _Db:
    db = _Db([], [], [], [])
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        f = line.split("\t")
        if f[0] == "G" and len(f) == 5:
            g = _Glob(int(f[1]), f[2] == "1", f[3], f[4])
            special = re.compile(r"[*?\[]")
            if not special.search(g.pattern):
                db.literal.append(g)
            elif g.pattern.startswith("*") and not special.search(g.pattern[1:]):
                db.suffix.append(g)
            else:
                pat = g.pattern if g.case_sensitive else _ascii_lower(g.pattern)
                db.full.append((g, re.compile(fnmatch.translate(pat))))
        elif f[0] == "M" and len(f) == 3:
            db.magic.append((int(f[1]), f[2], []))
        elif f[0] == "m" and len(f) == 6 and db.magic:
            m = _Match(
                int(f[2]), int(f[3]), bytes.fromhex(f[4]), bytes.fromhex(f[5]) if f[5] else None
            )
            siblings = db.magic[-1][2]
            for _ in range(int(f[1])):
                siblings = siblings[-1].children
            siblings.append(m)
    db.magic.sort(key=lambda e: -e[0])
    return db


def magic(data: bytes) -> str:
    """The type of ``data`` by content (its first 40 KiB)."""
    data = data[:MAGIC_BYTES]
    if not data:
        return "application/x-zerosize"
    for _prio, mime, matches in _db().magic:
        if any(m.hit(data) for m in matches):
            return mime
    if any(c < 32 and c not in (9, 10, 13) for c in data[:128]):
        return OCTET_STREAM
    return "text/plain"


def _ascii_lower(s: str) -> str:
    return s.translate({c: c + 32 for c in range(65, 91)})


def glob(name: str) -> str:
    """The type of a file by its name."""
    db = _db()
    lower = _ascii_lower(name)
    for g in db.literal:
        if g.pattern == name:
            return g.mime
    for g in db.literal:
        if not g.case_sensitive and _ascii_lower(g.pattern) == lower:
            return g.mime
    best: _Glob | None = None
    for g in db.suffix:
        suffix = g.pattern[1:]
        hit = name.endswith(suffix) if g.case_sensitive else lower.endswith(_ascii_lower(suffix))
        if hit and (best is None or (len(g.pattern), g.weight) > (len(best.pattern), best.weight)):
            best = g
    if best is not None:
        return best.mime
    for g, rx in db.full:
        if rx.match(name if g.case_sensitive else lower) and (
            best is None or g.weight > best.weight
        ):
            best = g
    return best.mime if best is not None else OCTET_STREAM
