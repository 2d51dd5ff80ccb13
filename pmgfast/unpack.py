"""PMG's unpack step (pmg-behaviour.md 1.3, step 6): list the archives in a message's parts.

It runs only when some active rule of the message's direction has an ArchiveFilter or a
MatchArchiveFilename object (PMG's optimisation: ``RuleCache`` remembers whether any rule needs
archive contents) and no virus was found; otherwise nothing is decompressed at all. Every leaf
part whose decoded bytes are an archive is listed by :func:`pmgfast.archive.list_archive` (the
native lister, nothing written to disk) with PMG's ``PMG::Unpack`` settings: at most
``clamav.archivemaxfiles`` files, 4 levels (PMG: ``maxrec=-4``), 30 seconds. The result per
part is what the rule objects match: every contained type (plus ``proxmox/unreadable-archive``
when something could not be read) and every contained basename.

Log lines, as PMG's: ``found archive '<file>' (<type>)`` and
``unpack archive '<file>' done (<ms> ms)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pmgfast import archive

MAX_DEPTH = 4  # PMG::Unpack maxrec=-4: a soft limit of four levels
TIME_BUDGET = 30.0  # PMG::Unpack timeout


@dataclass(frozen=True, slots=True)
class Contents:
    """What one archive part holds, as the rule objects see it."""

    types: tuple[str, ...]
    filenames: tuple[str, ...]


def needed(ruleset: Any, trusted: bool, virus: str | None) -> bool:
    """Whether the unpack step runs for this message."""
    return virus is None and bool(ruleset.needs_archives(trusted))


def list_parts(
    message: Any,
    fid: str,
    max_files: int,
    log: Callable[[str], None],
) -> dict[int, Contents]:
    """Contents of every leaf part of ``message`` (a MIME walk) that is an archive, by aid."""
    limits = archive.Limits(max_files=max_files, max_depth=MAX_DEPTH, time_budget=TIME_BUDGET)
    found: dict[int, Contents] = {}
    for part in message.parts:
        if not part.is_leaf or not part.decoded_size:
            continue
        data = message.body(part.aid)
        if archive.detect(data) is None:
            continue
        name = part.filename or ""
        log(f"{fid}: found archive '{name}' ({part.magic_type or part.content_type})")
        start = time.monotonic()
        listing = archive.list_archive(data, name, limits)
        ms = int((time.monotonic() - start) * 1000)
        log(f"{fid}: unpack archive '{name}' done ({ms} ms)")
        found[part.aid] = Contents(tuple(sorted(listing.types)), tuple(sorted(listing.filenames)))
    return found
