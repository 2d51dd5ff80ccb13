"""A message body that stays in memory up to a threshold and spills to a temporary file beyond.

The milter receives a body in chunks. :class:`BodyBuffer` keeps them in memory until the total
passes ``spill_size``; then it moves everything to an unnamed-on-close temporary file under the
spool directory and appends there. ``maxsize`` is enforced as the chunks arrive: once the
message is larger, further chunks are dropped and :attr:`too_big` is set, so an oversized
message never costs more than ``maxsize`` bytes of memory or disk.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO


class BodyBuffer:
    """The body of one message as it arrives."""

    def __init__(self, spill_size: int, maxsize: int, spill_dir: Path | None = None) -> None:
        self.spill_size = spill_size
        self.maxsize = maxsize
        self.spill_dir = spill_dir
        self.size = 0  # bytes received, including any beyond maxsize
        self.too_big = False
        self._chunks: list[bytes] = []
        self._file: BinaryIO | None = None
        self._path: Path | None = None

    @property
    def spilled(self) -> bool:
        return self._file is not None

    def write(self, chunk: bytes, already: int = 0) -> None:
        """Append one chunk; ``already`` is what the message has besides the body (headers),
        which counts against ``maxsize`` too."""
        self.size += len(chunk)
        if self.too_big:
            return
        if already + self.size > self.maxsize:
            self.too_big = True
            self._drop()
            return
        if self._file is None and self.size > self.spill_size:
            self._spill()
        if self._file is not None:
            self._file.write(chunk)
        else:
            self._chunks.append(chunk)

    def getvalue(self) -> bytes:
        """The whole body (read back from the file if it spilled)."""
        if self._file is None:
            if len(self._chunks) > 1:
                self._chunks = [b"".join(self._chunks)]
            return self._chunks[0] if self._chunks else b""
        self._file.flush()
        self._file.seek(0)
        data = self._file.read()
        self._file.seek(0, os.SEEK_END)
        return data

    def close(self) -> None:
        """Release memory and delete the spill file."""
        self._drop()

    def _spill(self) -> None:
        directory = self.spill_dir
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="body-", dir=directory)
        self._path = Path(name)
        self._file = os.fdopen(fd, "w+b")
        for chunk in self._chunks:
            self._file.write(chunk)
        self._chunks = []

    def _drop(self) -> None:
        self._chunks = []
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._path is not None:
            self._path.unlink(missing_ok=True)
            self._path = None
