"""Read, check and write ``pmg.conf`` in PMG's section format.

The format is PMG's::

    section: mail
        maxsize 10485760
        relay mail.example.com

    section: spam
        use_bayes 1

A ``section: NAME`` line opens a section; each following indented ``key value`` line sets one
key; ``#`` starts a comment line. Every key is checked against :mod:`pmgfast.config.schema`, and
the first bad line raises :class:`ConfigError` naming file, line, key and the allowed values.
Writing is atomic (temporary file, fsync, rename) so ``set`` never leaves a half-written file.
Comments are not kept when pmgfast rewrites the file (PMG does the same).
"""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from pmgfast.config.schema import SECTIONS, Key, iter_keys, lookup

Value = bool | int | str

_SECTION_LINE = re.compile(r"section:\s*(\S+)\s*")
_KEY_LINE = re.compile(r"[ \t]+(\S+)(?:[ \t]+(.*?))?[ \t]*")


class ConfigError(ValueError):
    """A configuration problem, located: ``file:line: section.key: what is wrong``."""

    def __init__(self, path: Path | str, line: int | None, key: str | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.key = key
        self.problem = problem
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


@dataclass
class PmgConf:
    """The keys set in one pmg.conf; unset keys read as their declared default."""

    path: Path
    values: dict[str, dict[str, Value]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    def get(self, section: str, name: str) -> Value | None:
        key = lookup(section, name)
        return self.values.get(section, {}).get(name, key.default)

    def is_set(self, section: str, name: str) -> bool:
        return name in self.values.get(section, {})

    def set(self, section: str, name: str, raw: str) -> Value:
        """Check and set one key from its text; raises ConfigError naming the key."""
        key = _declared(self.path, None, section, name)
        try:
            value = key.parse(raw)
        except ValueError as err:
            raise ConfigError(self.path, None, key.qualified, str(err)) from None
        candidate = {s: dict(keys) for s, keys in self.values.items()}
        candidate.setdefault(section, {})[name] = value
        _check_together(self.path, candidate, {})
        self.values = candidate
        return value

    def unset(self, section: str, name: str) -> None:
        _declared(self.path, None, section, name)
        self.values.get(section, {}).pop(name, None)

    def items(self) -> Iterator[tuple[Key, Value | None, bool]]:
        """Every declared key with its effective value and whether it is set in the file."""
        for key in iter_keys():
            set_here = self.is_set(key.section, key.name)
            yield key, self.get(key.section, key.name), set_here

    def render(self) -> str:
        """The file text: sections in declaration order, keys sorted, only keys that are set."""
        blocks = []
        for section in SECTIONS:
            keys = self.values.get(section)
            if not keys:
                continue
            body = "".join(
                f"\t{name} {lookup(section, name).format(keys[name])}\n" for name in sorted(keys)
            )
            blocks.append(f"section: {section}\n{body}")
        return "\n".join(blocks)

    def save(self) -> None:
        atomic_write(self.path, self.render())


def _declared(path: Path | str, line: int | None, section: str, name: str) -> Key:
    try:
        return lookup(section, name)
    except KeyError as err:
        raise ConfigError(path, line, f"{section}.{name}", err.args[0]) from None


def _check_together(
    path: Path | str, values: dict[str, dict[str, Value]], lines: dict[str, int]
) -> None:
    """Rules that involve more than one key."""
    mail = values.get("mail", {})
    ext_port = mail.get("ext_port", lookup("mail", "ext_port").default)
    int_port = mail.get("int_port", lookup("mail", "int_port").default)
    if ext_port == int_port:
        raise ConfigError(
            path,
            lines.get("mail.int_port") or lines.get("mail.ext_port"),
            "mail.ext_port",
            f"ext_port and int_port must differ (both are {ext_port})",
        )


def parse(text: str, path: Path | str = "pmg.conf") -> PmgConf:
    """Parse and check pmg.conf text; the first problem raises ConfigError with its line."""
    conf = PmgConf(path=Path(path))
    section: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        header = _SECTION_LINE.fullmatch(line)
        if header:
            section = header.group(1)
            if section not in SECTIONS:
                raise ConfigError(
                    path,
                    number,
                    None,
                    f"unknown section {section!r} (sections: {', '.join(SECTIONS)})",
                )
            if section in conf.values:
                raise ConfigError(path, number, None, f"section {section!r} appears twice")
            conf.values[section] = {}
            continue
        match = _KEY_LINE.fullmatch(line)
        if match is None:
            raise ConfigError(
                path,
                number,
                None,
                f"cannot read this line: {line.strip()!r} (expected 'section: NAME' or an "
                "indented 'key value')",
            )
        if section is None:
            raise ConfigError(path, number, None, "a key before any 'section: NAME' line")
        name, raw = match.group(1), match.group(2) or ""
        key = _declared(path, number, section, name)
        if name in conf.values[section]:
            raise ConfigError(path, number, key.qualified, "set twice in the same section")
        try:
            conf.values[section][name] = key.parse(raw)
        except ValueError as err:
            raise ConfigError(path, number, key.qualified, str(err)) from None
        conf.lines[key.qualified] = number
    _check_together(path, conf.values, conf.lines)
    return conf


def load(path: Path) -> PmgConf:
    """Load pmg.conf; a missing file is an empty configuration (all defaults)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return PmgConf(path=path)
    except UnicodeDecodeError as err:
        raise ConfigError(
            path, None, None, f"not valid UTF-8 ({err.reason} at byte {err.start})"
        ) from None
    return parse(text, path)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock beside ``path`` so concurrent writers take turns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def atomic_write(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace ``path`` with ``text`` at once: readers see the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
