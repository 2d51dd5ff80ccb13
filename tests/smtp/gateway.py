"""A gateway whose Postfix is configured by ``pmgfast config sync`` alone (issue 11).

Reuses the mail-flow harness (:mod:`tests.e2e.harness`: ports, smtp-sink, the milter pool) and
differs in one thing: main.cf, master.cf and every table come from running
``pmgfast config sync --service postfix`` against the pool's config directory. What only a test
needs (a log file, fast retries, XCLIENT from loopback so a test can pretend to connect from
an outside address) goes into ``<config dir>/templates/main.cf.local.in``, the admin's hook
for additions.

Postfix looks names up through /etc/resolv.conf only (port 53). The instance therefore runs in
a mount namespace of its own (``unshare -m``) where a private resolv.conf points at a test
unbound listening on port 53 of a loopback address of its own (127.53.x.y); the rest of the
machine never sees it. The milter pool asks the same server (``pmgfast.dns_nameservers``).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import smtplib
import ssl
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.dns import UnboundServer, Zone
from tests.e2e.harness import Pool, Ports, Reply, Sink, port_open, run_with_tty, wait_for

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


class SyncedPostfix:
    def __init__(self, root: Path, ports: Ports, resolv: Path) -> None:
        self.root = root / "postfix"
        self.etc = self.root / "etc"
        self.queue = self.root / "queue"
        self.data = self.root / "data"
        self.maillog = self.root / "maillog"
        self.resolv = resolv
        self.ports = ports
        self.running = False

    def prepare(self) -> None:
        for d in (self.etc, self.queue, self.data):
            d.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.data, "postfix")

    def command(self, *args: str) -> str:
        code, out = run_with_tty(["postfix", "-c", str(self.etc), *args])
        if code != 0:
            raise RuntimeError(f"postfix {' '.join(args)} failed ({code}): {out.strip()}")
        return out

    def start(self) -> None:
        script = f"mount --bind {self.resolv} /etc/resolv.conf && exec postfix -c {self.etc} start"
        code, out = run_with_tty(["unshare", "-m", "--propagation", "private", "sh", "-c", script])
        if code != 0:
            raise RuntimeError(f"postfix start failed ({code}): {out.strip()}")
        self.running = True
        wait_for(lambda: port_open(self.ports.ext), 20, "Postfix to listen")

    def stop(self) -> None:
        if self.running:
            self.command("stop")
            self.running = False

    def reloads(self) -> int:
        """How many times Postfix was reloaded (master's 'reload' lines in the log)."""
        return sum(
            1 for line in self.log().splitlines() if "postfix/master" in line and " reload " in line
        )

    def queue_ids(self) -> list[str]:
        import re

        out = subprocess.run(
            ["postqueue", "-c", str(self.etc), "-j"], capture_output=True, check=False
        ).stdout
        return [q.decode() for q in re.findall(rb'"queue_id": "([0-9A-Za-z]+)"', out)]

    def flush(self) -> None:
        subprocess.run(["postqueue", "-c", str(self.etc), "-f"], capture_output=True, check=False)

    def log(self) -> str:
        return self.maillog.read_text("utf-8", "replace") if self.maillog.exists() else ""


@dataclass
class Sent:
    reply: Reply
    rcpt_replies: list[tuple[int, str]]


class SyncedGateway:
    def __init__(self, root: Path, dsn: str, mode: str) -> None:
        self.root = root
        self.mode = mode
        self.ports = Ports()
        self.reject_port = Ports().sink
        self.filter_ports = (Ports().sink, Ports().sink)
        self.sink = Sink(root, self.ports.sink)
        self.rejecting = RejectingSink(root / "rejecting", self.reject_port)
        self.dns: UnboundServer | None = None
        self.resolv = root / "resolv.conf"
        self.postfix = SyncedPostfix(root, self.ports, self.resolv)
        self.pool = Pool(root, self.ports, dsn, self.postfix.maillog)
        self.config_dir = self.pool.config_dir

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
    def start(
        cls,
        root: Path,
        dsn: str,
        zone: Zone,
        mode: str = "before-queue",
        extra: Mapping[str, Mapping[str, str]] | None = None,
        lists: Mapping[str, str] | None = None,
        before_sync: Iterable[tuple[str, ...]] = (),
    ) -> SyncedGateway:
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o755)
        gw = cls(root, dsn, mode)
        try:
            address = dns_address()
            gw.dns = UnboundServer.start(zone, interface=address, port=53)
            gw.resolv.write_text(f"nameserver {address}\noptions timeout:1 attempts:2\n")
            gw.postfix.prepare()
            gw.configure(extra, lists)
            for command in before_sync:
                gw.pmgfast(*command)
            gw.sync(restart=False)
            gw.sink.start()
            gw.rejecting.start()
            gw.pool.start()
            gw.postfix.start()
        except BaseException:
            gw.stop()
            raise
        return gw

    def stop(self) -> None:
        for step in (self.postfix.stop, self.pool.stop, self.sink.stop, self.rejecting.stop):
            with contextlib.suppress(Exception):  # stop everything started, whatever failed
                step()
        if self.dns is not None:
            self.dns.stop()
            self.dns = None

    # --- SMTP ---------------------------------------------------------------------------------
    def smtp(
        self,
        client_ip: str | None = None,
        port: int | None = None,
        helo: str = "client.ext.example",
    ) -> smtplib.SMTP:
        """A session on the incoming port (or ``port``), as ``client_ip`` when given (XCLIENT)."""
        smtp = smtplib.SMTP("127.0.0.1", port or self.ports.ext, timeout=60)
        smtp.ehlo(helo)
        if client_ip is not None:
            code, text = smtp.docmd("XCLIENT", f"ADDR={client_ip} NAME=[UNAVAILABLE]")
            if code != 220:
                raise RuntimeError(f"XCLIENT refused: {code} {text!r}")
            smtp.ehlo_resp = None
            smtp.does_esmtp = False
            smtp.esmtp_features = {}
            smtp.ehlo(helo)
        return smtp

    def send(
        self,
        raw: bytes,
        sender: str,
        recipients: Iterable[str],
        client_ip: str | None = "192.0.2.10",
        port: int | None = None,
        starttls: bool = False,
    ) -> Sent:
        """One transaction; the final reply and every RCPT reply."""
        rcpt_replies: list[tuple[int, str]] = []
        with self.smtp(client_ip, port) as smtp:
            if starttls:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                smtp.starttls(context=context)
                smtp.ehlo("client.ext.example")
            code, text = smtp.mail(sender)
            if code != 250:
                return Sent(Reply(code, text.decode("utf-8", "replace")), rcpt_replies)
            for rcpt in recipients:
                code, text = smtp.rcpt(rcpt)
                rcpt_replies.append((code, text.decode("utf-8", "replace")))
            if not any(c in (250, 251) for c, _ in rcpt_replies):
                last = rcpt_replies[-1] if rcpt_replies else (503, "no recipients")
                return Sent(Reply(*last), rcpt_replies)
            try:
                code, text = smtp.data(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
            except smtplib.SMTPResponseException as err:
                code, text = err.smtp_code, err.smtp_error
            return Sent(Reply(code, text.decode("utf-8", "replace")), rcpt_replies)

    def wait_settled(self, timeout: float = 60.0) -> None:
        def empty() -> bool:
            if self.postfix.queue_ids():
                self.postfix.flush()
                return False
            return True

        wait_for(empty, timeout, "Postfix's queue to empty")
