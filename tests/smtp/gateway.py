"""A gateway whose Postfix is configured by ``pmgfast config sync`` alone (issue 11).

Builds on the mail-flow harness (:class:`tests.e2e.harness.Gateway`: ports, smtp-sink, the
milter pool, Postfix's life cycle, SMTP transactions) and differs in one thing: main.cf,
master.cf and every table come from running ``pmgfast config sync --service postfix`` against
the pool's config directory. What only a test needs (a log file, fast retries, XCLIENT from
loopback so a test can pretend to connect from an outside address) goes into
``<config dir>/templates/main.cf.local.in``, the admin's hook for additions.

Postfix looks names up through /etc/resolv.conf only (port 53). The instance therefore runs in
a mount namespace of its own (``unshare -m``) where a private resolv.conf points at a test
unbound listening on port 53 of a loopback address of its own (127.53.x.y); the rest of the
machine never sees it. The milter pool asks the same server (``pmgfast.dns_nameservers``).
"""

from __future__ import annotations

import os
import random
import smtplib
import ssl
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.dns import UnboundServer, Zone
from tests.e2e.harness import (
    Gateway,
    Ports,
    Postfix,
    Sent,
    Sink,
    port_open,
    run_with_tty,
    transaction,
    wait_for,
)

PMGFAST = str(Path(sys.executable).parent / "pmgfast")

LOCAL_TEMPLATE = """\
# test-only additions (tests/smtp/gateway.py)
maillog_file = {maillog}
maillog_file_prefixes = {root}
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
smtp_connection_cache_on_demand = no
smtpd_authorized_xclient_hosts = 127.0.0.0/8
default_process_limit = 50
address_verify_poll_delay = 1s
"""


def dns_address() -> str:
    """A loopback address of this test run for the DNS server on port 53."""
    rng = random.Random(os.getpid() ^ int.from_bytes(os.urandom(4), "big"))
    return f"127.53.{rng.randrange(1, 255)}.{rng.randrange(1, 255)}"


class RejectingSink(Sink):
    """smtp-sink that refuses every RCPT TO with a 5xx (a downstream server that knows none
    of the addresses: what receiver verification asks about)."""

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["smtp-sink", "-u", "postfix", "-f", "rcpt", f"127.0.0.1:{self.port}", "64"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(lambda: port_open(self.port), 10, "the rejecting smtp-sink")


class SyncedPostfix(Postfix):
    """The harness's Postfix instance, configured by ``pmgfast config sync`` (not by the
    harness) and started in a mount namespace of its own with the test resolv.conf."""

    def __init__(self, root: Path, ports: Ports, resolv: Path) -> None:
        super().__init__(root, ports)
        self.resolv = resolv

    def start(self) -> None:
        script = f"mount --bind {self.resolv} /etc/resolv.conf && exec postfix -c {self.etc} start"
        code, out = run_with_tty(["unshare", "-m", "--propagation", "private", "sh", "-c", script])
        if code != 0:
            raise RuntimeError(f"postfix start failed ({code}): {out.strip()}")
        self.running = True
        wait_for(lambda: port_open(self.ports.ext), 20, "Postfix to listen")

    def reloads(self) -> int:
        """How many times Postfix was reloaded (master's 'reload' lines in the log)."""
        return sum(
            1 for line in self.log().splitlines() if "postfix/master" in line and " reload " in line
        )


class SyncedGateway(Gateway):
    """The harness's gateway (sink, pool, Postfix) with Postfix configured by ``pmgfast config
    sync``, a test DNS server, and a downstream server that rejects every recipient."""

    postfix: SyncedPostfix

    def __init__(self, root: Path, dsn: str, mode: str) -> None:
        self.resolv = root / "resolv.conf"
        super().__init__(root, dsn, mode)
        self.reject_port = Ports().sink
        self.filter_ports = (Ports().sink, Ports().sink)
        self.rejecting = RejectingSink(root / "rejecting", self.reject_port)
        self.dns: UnboundServer | None = None
        self.config_dir = self.pool.config_dir

    def make_postfix(self) -> SyncedPostfix:
        return SyncedPostfix(self.root, self.ports, self.resolv)

    # --- configuration ---------------------------------------------------------------------
    def base_config(self) -> dict[str, dict[str, str]]:
        assert self.dns is not None
        return {
            "mail": {
                "relay": "127.0.0.1",
                "relayport": str(self.ports.sink),
                "relaynomx": "1",
                "smarthost": "127.0.0.1",
                "smarthostport": str(self.ports.sink),
                "greylist": "1",
                "spf": "1",
            },
            "pmgfast": {
                "postfix_dir": str(self.postfix.etc),
                "postfix_queue_dir": str(self.postfix.queue),
                "postfix_data_dir": str(self.postfix.data),
                "postfix_inet_interfaces": "127.0.0.1",
                "postfix_filter_ports": f"{self.filter_ports[0]},{self.filter_ports[1]}",
                "dns_nameservers": self.dns.address,
                "dns_timeout_ms": "1000",
                "dns_budget_ms": "2000",
                "greylist_delay": "3",
            },
        }

    def configure(
        self,
        extra: Mapping[str, Mapping[str, str]] | None = None,
        lists: Mapping[str, str] | None = None,
    ) -> None:
        """pmg.conf, the list files and the test-only main.cf additions (no Postfix files:
        ``sync`` writes those)."""
        values = self.base_config()
        for section, keys in (extra or {}).items():
            values.setdefault(section, {}).update(keys)
        self.pool.write_config(self.mode, values)
        ports = {"reject_port": self.reject_port, "sink_port": self.ports.sink}
        for name, text in (lists or {}).items():
            path = self.config_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text.format_map(ports))
        templates = self.config_dir / "templates"
        templates.mkdir(exist_ok=True)
        (templates / "main.cf.local.in").write_text(
            LOCAL_TEMPLATE.format(maillog=self.postfix.maillog, root=self.postfix.root)
        )

    def set(self, section: str, key: str, value: str | None) -> None:
        args = ["config", "set", section, key, value] if value is not None else [
            "config", "unset", section, key]  # fmt: skip
        self.pmgfast(*args)

    def pmgfast(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [PMGFAST, "--state-dir", str(self.pool.state), "--config-dir", str(self.config_dir),
             *args],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise RuntimeError(f"pmgfast {' '.join(args)}: {done.stderr.strip()}")
        return done

    def sync(self, restart: bool = True) -> str:
        args = ["config", "sync", "--service", "postfix"] + (["--restart"] if restart else [])
        return self.pmgfast(*args).stdout

    # --- life cycle -------------------------------------------------------------------------
    @classmethod
    def start(  # type: ignore[override]
        cls,
        root: Path,
        dsn: str,
        zone: Zone,
        mode: str = "before-queue",
        extra: Mapping[str, Mapping[str, str]] | None = None,
        lists: Mapping[str, str] | None = None,
        before_sync: Iterable[tuple[str, ...]] = (),
    ) -> SyncedGateway:
        gw = cls(root, dsn, mode)

        def configure() -> None:
            address = dns_address()
            gw.dns = UnboundServer.start(zone, interface=address, port=53)
            gw.resolv.write_text(f"nameserver {address}\noptions timeout:1 attempts:2\n")
            gw.postfix.prepare()
            gw.configure(extra, lists)
            for command in before_sync:
                gw.pmgfast(*command)
            gw.sync(restart=False)

        gw.launch(configure)
        return gw

    def start_services(self) -> None:
        self.rejecting.start()
        super().start_services()

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            self.rejecting.stop()
            if self.dns is not None:
                self.dns.stop()
                self.dns = None

    # --- SMTP ---------------------------------------------------------------------------------
    def session(
        self, client_ip: str | None = None, port: int | None = None, starttls: bool = False
    ) -> smtplib.SMTP:
        """A session on the incoming port (or ``port``), as ``client_ip`` when given (XCLIENT),
        optionally after STARTTLS."""
        helo = "client.ext.example"
        smtp = self.smtp(port, timeout=60, helo=helo)
        if client_ip is not None:
            code, text = smtp.docmd("XCLIENT", f"ADDR={client_ip} NAME=[UNAVAILABLE]")
            if code != 220:
                raise RuntimeError(f"XCLIENT refused: {code} {text!r}")
            smtp.ehlo_resp = None
            smtp.does_esmtp = False
            smtp.esmtp_features = {}
            smtp.ehlo(helo)
        if starttls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            smtp.starttls(context=context)
            smtp.ehlo(helo)
        return smtp

    def send(  # type: ignore[override]
        self,
        raw: bytes,
        sender: str,
        recipients: Iterable[str],
        client_ip: str | None = "192.0.2.10",
        port: int | None = None,
        starttls: bool = False,
    ) -> Sent:
        """One transaction; the final reply and every RCPT reply."""
        with self.session(client_ip, port, starttls) as smtp:
            return transaction(smtp, raw, sender, recipients)
