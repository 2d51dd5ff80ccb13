"""Where a ClamAV installation keeps its files: Debian's paths by default, a test's own otherwise.

The rendered clamd.conf and freshclam.conf take their paths from here (template variables
``clamd.*`` and ``freshclam.*``), and the client and ``pmgfast virus status`` read the same
clamd.conf back, so a socket or database directory is written down in one place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ClamdLayout:
    """Paths, socket and process options of one clamd (and its freshclam).

    The defaults are Debian's clamav-daemon (what PMG's templates hard-code). ``tcp_port``
    ``None`` means no TCP listener; ``local_socket`` ``None`` means no Unix socket.
    ``log_file`` / ``freshclam_log_file`` ``None`` log to syslog (facility LOCAL6, as PMG
    does). ``user`` ``None`` keeps clamd running as the user that starts it.
    """

    conf_path: Path = Path("/etc/clamav/clamd.conf")
    freshclam_conf_path: Path = Path("/etc/clamav/freshclam.conf")
    local_socket: str | None = "/var/run/clamav/clamd.ctl"
    tcp_port: int | None = None
    tcp_addr: str = "127.0.0.1"
    database_dir: str = "/var/lib/clamav/"
    pid_file: str = "/var/run/clamav/clamd.pid"
    freshclam_pid_file: str = "/var/run/clamav/freshclam.pid"
    user: str | None = "clamav"
    foreground: bool = False
    log_file: str | None = None
    freshclam_log_file: str | None = None
    temporary_dir: str = "/tmp"
    max_threads: int = 12
    service: str = "clamav-daemon"
    freshclam_service: str = "clamav-freshclam"

    def template_vars(self) -> dict[str, object]:
        """The ``clamd`` template variable."""
        values = asdict(self)
        values["conf_path"] = str(self.conf_path)
        values["freshclam_conf_path"] = str(self.freshclam_conf_path)
        return values


SYSTEM = ClamdLayout()


def layout_from_config(conf: Any) -> ClamdLayout:
    """Debian's layout, with the clamd.conf path ``pmgfast.clamd_conf`` of a PmgConf."""
    return replace(SYSTEM, conf_path=Path(str(conf.get("pmgfast", "clamd_conf"))))
