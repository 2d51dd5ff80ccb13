"""The signature databases in clamd's DatabaseDirectory, as the GUI's ClamAV database panel.

Official databases (``main``, ``daily``, ``bytecode``) carry a 512-byte header
``ClamAV-VDB:<build time>:<version>:<signatures>:...`` in their ``.cvd``/``.cld`` file (or the
``.info`` file of an incremental ``.inc`` directory); PMG's ``clamav_dbstat`` reads the same.
Every other database file (``.hdb``, ``.ndb``, ``.ldb``, ...: unofficial signatures, such as the
test suite's own) is listed with its signature count and modification time.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

OFFICIAL = ("main", "daily", "bytecode")
_HEADER = re.compile(rb"^(ClamAV-VDB):([^:]+):(\d+):(\d+):")
# Signature database extensions clamd loads (sigtool/ClamAV docs: "Signature formats").
UNOFFICIAL_EXT = frozenset(
    {"hdb", "hsb", "hdu", "hsu", "mdb", "msb", "mdu", "msu", "ndb", "ndu", "ldb", "ldu", "idb"}
    | {"cdb", "cfg", "crb", "cat", "fp", "sfp", "ign", "ign2", "pdb", "gdb", "wdb", "ftm"}
    | {"info", "yar", "yara", "pwdb", "cbc", "hwp3"}
)


@dataclass(frozen=True)
class Database:
    """One row of the panel: name, type, build time, version (official only), signatures."""

    name: str
    type: str
    build_time: str
    nsigs: int
    version: int | None = None
    path: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def read_header(path: Path) -> Database | None:
    """The header of a CVD/CLD/info file, or None when it is not one."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError:
        return None
    match = _HEADER.match(head)
    if match is None:
        return None
    name = path.name.split(".")[0]
    return Database(
        name=name,
        type=match.group(1).decode(),
        build_time=match.group(2).decode("utf-8", "replace"),
        version=int(match.group(3)),
        nsigs=int(match.group(4)),
        path=str(path),
    )


def _official(directory: Path, name: str) -> Database | None:
    for candidate in (
        directory / f"{name}.inc" / f"{name}.info",
        directory / f"{name}.cvd",
        directory / f"{name}.cld",
    ):
        if candidate.is_file():
            found = read_header(candidate)
            if found is not None:
                return found
    return None


def count_signatures(path: Path) -> int:
    """Signature lines in a text database (blank lines and ``#`` comments do not count)."""
    count = 0
    try:
        with open(path, "rb") as handle:
            for line in handle:
                stripped = line.strip()
                if stripped and not stripped.startswith(b"#"):
                    count += 1
    except OSError:
        return 0
    return count


def _unofficial(path: Path) -> Database:
    mtime = path.stat().st_mtime
    return Database(
        name=path.name,
        type="unofficial",
        build_time=time.strftime("%d %b %Y %H-%M %z", time.localtime(mtime)),
        nsigs=count_signatures(path),
        path=str(path),
    )


def database_status(directory: Path) -> list[Database]:
    """Every signature database in ``directory``: official ones first, then the others."""
    rows = [found for name in OFFICIAL if (found := _official(directory, name)) is not None]
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return rows
    for entry in entries:
        suffix = entry.suffix.lstrip(".").lower()
        if entry.is_file() and suffix in UNOFFICIAL_EXT and entry.stem not in OFFICIAL:
            rows.append(_unofficial(entry))
    return rows
