"""Labelled mail for learning and evaluation: reading messages from files, maildirs and mboxes,
and splitting a labelled set into cross-validation folds.

:func:`iter_messages` yields ``(name, raw bytes)`` from any mix of paths: a file holding one
message, an mbox (a file whose first line starts ``From ``), a maildir (``cur``/``new``
subdirectories) or a directory of message files (recursively, sorted, hidden files skipped).
:func:`labelled_corpus` reads a corpus directory with an ``index.tsv`` (label, file) or with
``ham/`` and ``spam/`` subdirectories. :func:`folds` deals the messages into ``k`` folds with a
fixed seed, each label shuffled and dealt round-robin, so every fold has the same ham/spam mix
and the split is the same in every run (and for every tool that is compared).
"""

from __future__ import annotations

import mailbox
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Sample", "count_messages", "folds", "iter_messages", "labelled_corpus"]


@dataclass(frozen=True, slots=True)
class Sample:
    """One labelled message on disk."""

    path: Path
    spam: bool

    @property
    def name(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}"


def _is_mbox(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(5) == b"From "
    except OSError:
        return False


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(
            part.startswith(".") for part in path.relative_to(root).parts
        ):
            yield path


def iter_messages(paths: Iterable[Path]) -> Iterator[tuple[str, bytes]]:
    """``(name, raw)`` of every message under ``paths`` (see the module docstring)."""
    for path in paths:
        if path.is_dir():
            if (path / "cur").is_dir() or (path / "new").is_dir():
                box = mailbox.Maildir(str(path), factory=None, create=False)
                for key in sorted(box.iterkeys()):
                    with box.get_file(key) as f:
                        yield f"{path}/{key}", f.read()
                continue
            for file in _files(path):
                yield from iter_messages([file])
        elif _is_mbox(path):
            mbox = mailbox.mbox(str(path), factory=None, create=False)
            for key in mbox.iterkeys():
                yield f"{path}#{key}", mbox.get_bytes(key)
        elif path.is_file():
            yield str(path), path.read_bytes()
        else:
            raise FileNotFoundError(path)


def count_messages(paths: Iterable[Path]) -> int:
    """How many messages :func:`iter_messages` will yield (for a progress bar)."""
    n = 0
    for path in paths:
        if path.is_dir():
            if (path / "cur").is_dir() or (path / "new").is_dir():
                n += sum(
                    1 for d in ("cur", "new") if (path / d).is_dir() for _ in (path / d).iterdir()
                )
            else:
                n += count_messages(list(_files(path)))
        elif _is_mbox(path):
            n += len(mailbox.mbox(str(path), create=False))
        elif path.is_file():
            n += 1
    return n


def labelled_corpus(root: Path) -> list[Sample]:
    """The labelled messages of a corpus directory (``index.tsv`` or ``ham/`` + ``spam/``)."""
    index = root / "index.tsv"
    samples = []
    if index.exists():
        for line in index.read_text("utf-8").splitlines()[1:]:
            cols = line.split("\t")
            if len(cols) >= 2 and cols[0] in ("ham", "spam"):
                samples.append(Sample(root / cols[1], cols[0] == "spam"))
        return samples
    for label in ("ham", "spam"):
        for path in _files(root / label):
            samples.append(Sample(path, label == "spam"))
    return samples


def folds(samples: list[Sample], k: int = 5, seed: int = 20030228) -> list[list[Sample]]:
    """``k`` stratified folds of ``samples``, the same for the same input and seed."""
    out: list[list[Sample]] = [[] for _ in range(k)]
    for label in (False, True):
        group = sorted((s for s in samples if s.spam == label), key=lambda s: s.name)
        random.Random(f"{seed}-{label}").shuffle(group)
        for i, sample in enumerate(group):
            out[i % k].append(sample)
    return out
