"""Read what the client needs from a clamd.conf: where clamd listens and its stream limit.

The rendered clamd.conf (``pmgfast config sync``) is the one place these are set, so the
client reads them back from it instead of keeping a second copy in pmg.conf. clamd's format:
one ``Option value`` per line, ``#`` comments, option names case-insensitive, sizes with an
optional ``K``/``M``/``G`` suffix, booleans ``yes``/``no``/``true``/``false``/``1``/``0``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pmgfast.clamav.address import ClamdAddress
from pmgfast.clamav.protocol import DEFAULT_STREAM_MAX

SYSTEM_CLAMD_CONF = Path("/etc/clamav/clamd.conf")
# clamd's compiled-in defaults for the options the client cares about.
DEFAULT_DATABASE_DIR = "/var/lib/clamav"
DEFAULT_TCP_ADDR = "127.0.0.1"

_SUFFIX = {"k": 1024, "m": 1024**2, "g": 1024**3}
_TRUE = {"yes", "true", "1", "on"}
_FALSE = {"no", "false", "0", "off"}


class ClamdConfError(ValueError):
    """A clamd.conf that cannot be used (unreadable, no socket, bad value)."""


def parse_size(text: str) -> int:
    value = text.strip().lower()
    factor = 1
    if value and value[-1] in _SUFFIX:
        factor = _SUFFIX[value[-1]]
        value = value[:-1]
    if not value.isdigit():
        raise ValueError(f"not a size: {text!r}")
    return int(value) * factor


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"not a boolean: {text!r}")


def parse_options(text: str) -> dict[str, list[str]]:
    """Every option (lower-cased name) with its values in file order."""
    options: dict[str, list[str]] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, _, value = stripped.partition(" ")
        if "\t" in name:
            name, _, rest = name.partition("\t")
            value = f"{rest} {value}".strip()
        options.setdefault(name.lower(), []).append(value.strip())
    return options


@dataclass(frozen=True)
class ClamdConf:
    """The parts of a clamd.conf that a scanning client needs."""

    path: Path | None
    addresses: tuple[ClamdAddress, ...]
    stream_max_length: int = DEFAULT_STREAM_MAX
    database_dir: Path = Path(DEFAULT_DATABASE_DIR)
    options: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def address(self) -> ClamdAddress:
        """The preferred address: the Unix socket when there is one (no TCP overhead)."""
        return self.addresses[0]

    def last(self, option: str, default: str | None = None) -> str | None:
        values = self.options.get(option.lower())
        return values[-1] if values else default


def parse_clamd_conf(text: str, path: Path | None = None) -> ClamdConf:
    where = str(path) if path else "clamd.conf"
    options = parse_options(text)
    if "example" in options:
        raise ClamdConfError(f"{where}: still contains the 'Example' line; clamd refuses it")
    addresses: list[ClamdAddress] = []
    try:
        for socket_path in options.get("localsocket", [])[-1:]:
            addresses.append(ClamdAddress.unix(socket_path))
        for port in options.get("tcpsocket", [])[-1:]:
            hosts = options.get("tcpaddr") or [DEFAULT_TCP_ADDR]
            addresses.extend(ClamdAddress.tcp(host, int(port)) for host in hosts)
        stream_max = parse_size(options.get("streammaxlength", [str(DEFAULT_STREAM_MAX)])[-1])
    except ValueError as err:
        raise ClamdConfError(f"{where}: {err}") from None
    if not addresses:
        raise ClamdConfError(f"{where}: neither LocalSocket nor TCPSocket is set")
    database_dir = Path(options.get("databasedirectory", [DEFAULT_DATABASE_DIR])[-1])
    return ClamdConf(path, tuple(addresses), stream_max, database_dir, options)


def read_clamd_conf(path: Path = SYSTEM_CLAMD_CONF) -> ClamdConf:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise ClamdConfError(f"cannot read {path}: {err.strerror or err}") from None
    return parse_clamd_conf(text, path)
