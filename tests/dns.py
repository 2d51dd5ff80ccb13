"""A real DNS server for tests: Debian's unbound on a loopback port, serving local zones.

``UnboundServer.start(zone_lines)`` writes an unbound.conf with the given ``local-zone`` and
``local-data`` lines (no recursion, nothing leaves the machine: every other name is answered
NXDOMAIN or REFUSED locally), starts unbound in the foreground on 127.0.0.1:<free port> and waits
until it answers. Network tests of issue 7 add their zones the same way.

:class:`Zone` builds those lines from records (``zone.txt(name, "v=spf1 -all")``), escaping
names and TXT bytes for unbound, declaring a ``static`` local zone for every top-level domain
used (so a missing name is NXDOMAIN, never a recursive query) and a ``deny`` zone for a name
that must time out (unbound drops those queries unanswered, except for the types it has data
for). ``UnboundServer.start(Zone(...))`` accepts a zone directly.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import dns.message
import dns.query
import dns.rcode

from tests.pg import free_port


def _free_udp_port() -> int:
    return free_port()


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the process that started us dies, so a
    killed test or benchmark run never leaves an unbound behind (Linux prctl)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def escape_name(name: str) -> str:
    """A domain name in unbound's zone syntax: odd characters as \\DDD, absolute."""
    labels = name.rstrip(".").split(".")
    out = []
    for label in labels:
        out.append(
            "".join(
                c if (c.isascii() and (c.isalnum() or c in "-_*")) else f"\\{ord(c):03d}"
                for c in label
            )
        )
    return ".".join(out) + "."


def _quote_txt(data: bytes) -> str:
    """One TXT character-string: quoted, with every byte that is not plain text as \\DDD."""
    return (
        '"'
        + "".join(
            chr(b) if 0x20 <= b < 0x7F and chr(b) not in "\"\\'" else f"\\{b:03d}" for b in data
        )
        + '"'
    )


@dataclass
class Zone:
    """Records for a test server, turned into unbound ``local-zone``/``local-data`` lines."""

    ttl: int = 300
    records: list[tuple[str, str, str]] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)
    root: str = "static"  # what every other name gets: "static" is NXDOMAIN, "deny" no answer

    def add(self, name: str, rtype: str, rdata: str) -> Zone:
        """A record with its data in zone-file syntax (``"A", "192.0.2.1"``)."""
        self.records.append((name, rtype.upper(), rdata))
        return self

    def a(self, name: str, *addresses: str) -> Zone:
        for address in addresses:
            self.add(name, "AAAA" if ":" in address else "A", address)
        return self

    def txt(self, name: str, *strings: str | bytes, rtype: str = "TXT") -> Zone:
        """One TXT (or SPF) record of the given strings; long strings are split at 255 bytes."""
        chunks: list[bytes] = []
        for item in strings:
            data = item.encode("latin-1") if isinstance(item, str) else item
            chunks.extend(data[i : i + 255] for i in range(0, len(data), 255) or [0])
        return self.add(name, rtype, " ".join(_quote_txt(c) for c in chunks) or '""')

    def timeout(self, name: str) -> Zone:
        """Queries for ``name`` go unanswered, except types it has records of (names below it
        that have records of their own answer normally; other names below time out too)."""
        self.timeouts.append(name)
        return self

    def lines(self) -> list[str]:
        names = [n for n, _, _ in self.records] + self.timeouts
        tops = sorted({n.rstrip(".").rsplit(".", 1)[-1].lower() for n in names if n.strip(".")})
        out = [f'local-zone: "{escape_name(top)}" static' for top in tops]
        denied = [n.rstrip(".").lower() for n in dict.fromkeys(self.timeouts)]
        out += [f'local-zone: "{escape_name(n)}" deny' for n in denied]
        below = {
            n.rstrip(".").lower()
            for n, _, _ in self.records
            if any(n.rstrip(".").lower().endswith("." + d) for d in denied)
        }
        out += [f'local-zone: "{escape_name(n)}" static' for n in sorted(below - set(denied))]
        for name, rtype, rdata in self.records:
            out.append(f"local-data: '{escape_name(name)} {self.ttl} IN {rtype} {rdata}'")
        return out


@dataclass
class UnboundServer:
    root: Path
    port: int
    process: subprocess.Popen[bytes]
    interface: str = "127.0.0.1"

    @property
    def address(self) -> str:
        return f"{self.interface}:{self.port}"

    @classmethod
    def start(
        cls,
        zone_lines: list[str] | Zone,
        root_zone: str = "refuse",
        interface: str = "127.0.0.1",
        port: int | None = None,
    ) -> UnboundServer:
        """Serve the zone lines (or a :class:`Zone`); ``root_zone`` is the local-zone type of
        "." (``refuse`` by default; a :class:`Zone` brings its own). ``interface``/``port``:
        where to listen (default 127.0.0.1 and a free port; port 53 on another loopback
        address serves programs that only read /etc/resolv.conf, such as Postfix)."""
        binary = shutil.which("unbound") or "/usr/sbin/unbound"
        if isinstance(zone_lines, Zone):
            root_zone = zone_lines.root
            zone_lines = zone_lines.lines()
        root = Path(tempfile.mkdtemp(prefix="pmgfast-dns-"))
        os.chmod(root, 0o755)
        port = port or _free_udp_port()
        conf = root / "unbound.conf"
        zones = "\n".join(f"    {line}" for line in zone_lines)
        conf.write_text(
            "server:\n"
            f"    interface: {interface}\n    port: {port}\n"
            '    do-daemonize: no\n    username: ""\n    chroot: ""\n'
            f'    directory: "{root}"\n    pidfile: "{root}/unbound.pid"\n'
            '    use-syslog: no\n    logfile: ""\n    verbosity: 0\n'
            "    do-ip6: no\n    access-control: 127.0.0.0/8 allow\n"
            '    module-config: "iterator"\n    do-not-query-localhost: yes\n'
            f'    local-zone: "." {root_zone}\n'
            f"{zones}\n"
            "remote-control:\n    control-enable: no\n"
        )
        process = subprocess.Popen(
            [binary, "-d", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,
        )
        server = cls(root, port, process, interface)
        try:
            server._wait_ready()
        except BaseException:
            server.stop()
            raise
        return server

    def _wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        query = dns.message.make_query("ready.invalid.", "A")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"unbound exited: {err.strip()}")
            try:
                dns.query.udp(query, self.interface, port=self.port, timeout=0.2)
                return
            except (dns.exception.Timeout, OSError):
                time.sleep(0.05)
        raise RuntimeError("unbound did not answer in time")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)
