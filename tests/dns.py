"""A real DNS server for tests: Debian's unbound on a loopback port, serving local zones.

``UnboundServer.start(zone_lines)`` writes an unbound.conf with the given ``local-zone`` and
``local-data`` lines (no recursion, nothing leaves the machine: every other name is answered
NXDOMAIN or REFUSED locally), starts unbound in the foreground on 127.0.0.1:<free port> and waits
until it answers. Network tests of issue 7 add their zones the same way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import dns.message
import dns.query
import dns.rcode

from tests.pg import free_port


def _free_udp_port() -> int:
    return free_port()


@dataclass
class UnboundServer:
    root: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @classmethod
    def start(cls, zone_lines: list[str]) -> UnboundServer:
        binary = shutil.which("unbound") or "/usr/sbin/unbound"
        root = Path(tempfile.mkdtemp(prefix="pmgfast-dns-"))
        os.chmod(root, 0o755)
        port = _free_udp_port()
        conf = root / "unbound.conf"
        zones = "\n".join(f"    {line}" for line in zone_lines)
        conf.write_text(
            "server:\n"
            f"    interface: 127.0.0.1\n    port: {port}\n"
            '    do-daemonize: no\n    username: ""\n    chroot: ""\n'
            f'    directory: "{root}"\n    pidfile: "{root}/unbound.pid"\n'
            '    use-syslog: no\n    logfile: ""\n    verbosity: 0\n'
            "    do-ip6: no\n    access-control: 127.0.0.0/8 allow\n"
            '    module-config: "iterator"\n    do-not-query-localhost: yes\n'
            '    local-zone: "." refuse\n'
            f"{zones}\n"
            "remote-control:\n    control-enable: no\n"
        )
        process = subprocess.Popen(
            [binary, "-d", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        server = cls(root, port, process)
        server._wait_ready()
        return server

    def _wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        query = dns.message.make_query("ready.invalid.", "A")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"unbound exited: {err.strip()}")
            try:
                dns.query.udp(query, "127.0.0.1", port=self.port, timeout=0.2)
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
