"""Where clamd listens: a Unix socket path or a TCP host and port.

Written as ``unix:/run/clamav/clamd.ctl`` (or just an absolute path) and ``tcp:HOST:PORT``
(``[v6]:PORT`` for IPv6, or just ``HOST:PORT``). :meth:`ClamdAddress.parse` reads both;
:func:`pmgfast.clamav.conf.read_clamd_conf` gives the ones a clamd.conf declares.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ClamdAddress:
    """A Unix socket (``path``) or a TCP endpoint (``host``, ``port``)."""

    path: str | None = None
    host: str | None = None
    port: int | None = None

    def __post_init__(self) -> None:
        if (self.path is None) == (self.host is None):
            raise ValueError("a clamd address is either a socket path or a host and port")
        if self.host is not None and (self.port is None or not 0 < self.port < 65536):
            raise ValueError(f"bad clamd TCP port: {self.port!r}")

    @classmethod
    def unix(cls, path: str) -> ClamdAddress:
        return cls(path=path)

    @classmethod
    def tcp(cls, host: str, port: int) -> ClamdAddress:
        return cls(host=host, port=port)

    @classmethod
    def parse(cls, text: str) -> ClamdAddress:
        value = text.strip()
        if value.startswith("unix:"):
            value = value[len("unix:") :]
            if not value:
                raise ValueError(f"empty socket path in {text!r}")
            return cls.unix(value)
        if value.startswith("/"):
            return cls.unix(value)
        if value.startswith("tcp:"):
            value = value[len("tcp:") :]
        host, sep, port = value.rpartition(":")
        if not sep or not host:
            raise ValueError(f"not a clamd address (unix:/PATH or tcp:HOST:PORT): {text!r}")
        host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        try:
            number = int(port)
        except ValueError:
            raise ValueError(f"bad port in clamd address {text!r}") from None
        return cls.tcp(host, number)

    @property
    def family(self) -> socket.AddressFamily:
        if self.path is not None:
            return socket.AF_UNIX
        return socket.AF_INET6 if self.host and ":" in self.host else socket.AF_INET

    @property
    def sockaddr(self) -> str | tuple[str, int]:
        if self.path is not None:
            return self.path
        assert self.host is not None and self.port is not None
        return (self.host, self.port)

    def __str__(self) -> str:
        if self.path is not None:
            return f"unix:{self.path}"
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"tcp:{host}:{self.port}"
