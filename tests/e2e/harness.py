"""A real mail path for tests: a private Postfix, smtp-sink downstream, the pmgfast milter pool.

Reusable by any test that needs mail to flow (issues 5, 8, 11)::

    gw = Gateway.start(root, pg_dsn, mode="before-queue")   # Postfix + sink + pool
    reply = gw.send(raw, "a@ext.example", ["b@local.example"])   # SMTP to the ext port
    gw.wait_settled()                                             # queue empty
    gw.sink.messages()                                            # what arrived downstream
    gw.stop()

- :class:`Postfix`: an instance under ``root/postfix`` (own config, queue and data directories,
  loopback high ports, ``maillog_file``), started with ``postfix -c``; never the system one.
  Its filter configuration is exactly what ``pmgfast config postfix`` renders
  (:func:`pmgfast.postfix.render`); the harness adds only what any instance needs (paths,
  ``relayhost`` = the sink, fast retry timers).
- :class:`Sink`: Postfix's ``smtp-sink`` dumping every delivered mail to a file; a dump carries
  the envelope (``X-Mail-Args``, ``X-Rcpt-Args``) before the message.
- :class:`Pool`: ``pmgfast milter`` as a child process with its own state and config
  directory (pmg.conf written by the test), logging into Postfix's maillog file.

Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import pty
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pmgfast.config import pmgconf
from pmgfast.postfix import render
from tests.pg import free_port

VENV_BIN = Path(sys.executable).parent

BASE_MASTER = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def run_with_tty(command: Sequence[str]) -> tuple[int, str]:
    """Run a Postfix command with a pseudo terminal: Postfix tools print their errors to
    stderr only when it is a terminal (otherwise to syslog, which tests do not have)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], list(command))
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


@dataclass
class Ports:
    ext: int = field(default_factory=free_port)
    int: int = field(default_factory=free_port)
    reinject: int = field(default_factory=free_port)
    scan_in: int = field(default_factory=free_port)
    scan_out: int = field(default_factory=free_port)
    milter: int = field(default_factory=free_port)
    sink: int = field(default_factory=free_port)


# --- the downstream server ---------------------------------------------------------------


@dataclass
class Delivered:
    """One mail as smtp-sink received it."""

    sender: str
    recipients: tuple[str, ...]
    raw: bytes  # the message (smtp-sink's own Received header removed)
    path: Path

    @property
    def head(self) -> bytes:
        return self.raw.split(b"\n\n", 1)[0]

    def header(self, name: str) -> list[str]:
        """Unfolded values of header ``name`` in the top header block."""
        from pmgfast.actions.headers import split_head

        fields, _ = split_head(self.raw)
        return [
            re.sub(r"\s*\n\s*", " ", f.value.decode("utf-8", "replace")).strip()
            for f in fields
            if f.key == name.lower()
        ]


class Sink:
    def __init__(self, root: Path, port: int) -> None:
        self.dir = root / "sink"
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.dir, "postfix")
        self.process = subprocess.Popen(
            ["smtp-sink", "-u", "postfix", "-d", f"{self.dir}/%Y%m%d%H%M%S.",
             f"127.0.0.1:{self.port}", "256"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(lambda: port_open(self.port), 10, "smtp-sink")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def clear(self) -> None:
        for path in self.dir.iterdir():
            path.unlink()

    def messages(self) -> list[Delivered]:
        found = []
        for path in sorted(self.dir.iterdir()):
            data = path.read_bytes()
            head, _, rest = data.partition(b"\nReceived: from ")
            # smtp-sink's Received header is three lines; the message follows
            message = rest.split(b"\n", 3)[3] if rest.count(b"\n") >= 3 else b""
            sender = ""
            recipients = []
            for line in head.decode("utf-8", "replace").splitlines():
                if line.startswith("X-Mail-Args: "):
                    sender = line.split()[1].strip("<>")
                elif line.startswith("X-Rcpt-Args: "):
                    recipients.append(line.split()[1].strip("<>"))
            if message.endswith(b"\n\n"):
                message = message[:-1]  # the empty line smtp-sink appends
            found.append(Delivered(sender, tuple(recipients), message, path))
        return found

    def for_recipient(self, address: str) -> list[Delivered]:
        return [m for m in self.messages() if address in m.recipients]


# --- Postfix --------------------------------------------------------------------------------


class Postfix:
    def __init__(self, root: Path, ports: Ports, hostname: str = "gw.pmgfast.test") -> None:
        self.root = root / "postfix"
        self.etc = self.root / "etc"
        self.queue = self.root / "queue"
        self.data = self.root / "data"
        self.maillog = self.root / "maillog"
        self.ports = ports
        self.hostname = hostname
        self.running = False

    def prepare(self) -> None:
        """The instance's directories (its data directory owned by postfix)."""
        for d in (self.etc, self.queue, self.data):
            d.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.data, "postfix")

    def configure(self, conf: pmgconf.PmgConf, config_dir: Path, mode: str) -> None:
        rendered = render(
            conf, config_dir, mode, listen="127.0.0.1",
            scan_ports=(self.ports.scan_in, self.ports.scan_out),
        )  # fmt: skip
        self.prepare()
        base = f"""\
compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {self.data}
mail_owner = postfix
setgid_group = postdrop
myhostname = {self.hostname}
mydomain = pmgfast.test
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{self.ports.sink}
smtp_dns_support_level = disabled
alias_maps =
alias_database =
maillog_file = {self.maillog}
maillog_file_prefixes = {self.root}
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
smtp_connection_cache_on_demand = no
default_process_limit = 50
"""
        (self.etc / "main.cf").write_text(base + rendered.main)
        (self.etc / "master.cf").write_text(BASE_MASTER + rendered.master)

    def command(self, *args: str) -> str:
        code, out = run_with_tty(["postfix", "-c", str(self.etc), *args])
        if code != 0:
            raise RuntimeError(f"postfix {' '.join(args)} failed ({code}): {out.strip()}")
        return out

    def start(self) -> None:
        self.command("start")
        self.running = True
        wait_for(lambda: port_open(self.ports.ext), 20, "Postfix to listen")

    def reload(self) -> None:
        self.command("reload")

    def stop(self) -> None:
        if self.running:
            self.command("stop")
            self.running = False

    def queue_ids(self) -> list[str]:
        out = subprocess.run(
            ["postqueue", "-c", str(self.etc), "-j"], capture_output=True, check=False
        ).stdout
        return [q.decode() for q in re.findall(rb'"queue_id": "([0-9A-Za-z]+)"', out)]

    def flush(self) -> None:
        subprocess.run(["postqueue", "-c", str(self.etc), "-f"], capture_output=True, check=False)

    def log(self) -> str:
        return self.maillog.read_text("utf-8", "replace") if self.maillog.exists() else ""


# --- the milter pool ----------------------------------------------------------------------


class Pool:
    """``pmgfast milter`` with its own state and config directory."""

    def __init__(
        self,
        root: Path,
        ports: Ports,
        dsn: str,
        log_file: Path,
        command: list[str] | None = None,
    ) -> None:
        self.command = command  # another milter to run instead (benchmarks: a do-nothing one)
        self.state = root / "state"
        self.config_dir = self.state / "etc"
        self.ports = ports
        self.dsn = dsn
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None
        self.worker_count = 2
        self.socket_spec: str | None = None  # e.g. unix:/path instead of the loopback port

    @property
    def socket(self) -> str:
        return self.socket_spec or f"inet:{self.ports.milter}@127.0.0.1"

    def write_config(self, mode: str, extra: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        path = self.config_dir / "pmg.conf"
        conf = pmgconf.load(path)
        values: dict[str, dict[str, str]] = {
            "admin": {"clamav": "0"},  # no clamd unless a test brings one (tests/clamd.py)
            "mail": {
                "ext_port": str(self.ports.ext),
                "int_port": str(self.ports.int),
                "before_queue_filtering": "1" if mode == "before-queue" else "0",
                "max_filters": "2",
                # the SMTP-time checks (greylisting, SPF: issue 11) only where a test asks
                "greylist": "0",
                "spf": "0",
            },
            "pmgfast": {
                "dsn": self.dsn,
                "milter_socket": self.socket,
                "reinject_port": str(self.ports.reinject),
                "log_file": str(self.log_file),
                # no DNS leaves the machine: network tests only where a test brings a resolver
                "spam_network_tests": "0",
            },
        }
        for section, keys in (extra or {}).items():
            values.setdefault(section, {}).update(keys)
        self.worker_count = int(values["mail"]["max_filters"])
        for section, keys in values.items():
            for key, value in keys.items():
                conf.set(section, key, value)
        conf.save()

    def conf(self) -> pmgconf.PmgConf:
        return pmgconf.load(self.config_dir / "pmg.conf")

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command or [str(VENV_BIN / "pmgfast"), "--state-dir", str(self.state),
                             "--config-dir", str(self.config_dir), "milter"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(self.state / "milter.err", "ab"),  # noqa: SIM115
        )  # fmt: skip
        wait_for(self.listening, 30, "the milter pool to listen")
        wait_for(lambda: len(self.workers()) >= self.worker_count, 30, "the milter workers")

    def listening(self) -> bool:
        from pmgfast.milter.client import parse_spec

        family, address = parse_spec(self.socket)
        try:
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.settimeout(0.5)
                probe.connect(address)  # type: ignore[arg-type]
            return True
        except OSError:
            return False

    def workers(self) -> list[int]:
        """Pids of the master's children."""
        if self.process is None:
            return []
        try:
            text = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def reload(self, timeout: float = 30.0) -> None:
        """SIGHUP, and wait until every worker of the old generation has finished."""
        assert self.process is not None
        old = set(self.workers())
        self.process.send_signal(signal.SIGHUP)
        wait_for(
            lambda: not old & set(self.workers()) and len(self.workers()) >= self.worker_count,
            timeout,
            "the old workers to finish after SIGHUP",
        )

    def stop(self, timeout: float = 60.0) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code

    def filter_log(self) -> list[str]:
        """The pool's own lines (ident pmgfast-milter) of the shared log file."""
        if not self.log_file.exists():
            return []
        text = self.log_file.read_text("utf-8", "replace")
        return [
            line.split("]: ", 1)[1]
            for line in text.splitlines()
            if " pmgfast-milter[" in line and "]: " in line
        ]


# --- all together ---------------------------------------------------------------------------


@dataclass
class Reply:
    code: int
    text: str

    @property
    def accepted(self) -> bool:
        return self.code == 250


@dataclass
class Sent:
    """One SMTP transaction: the final reply and every RCPT reply."""

    reply: Reply
    rcpt_replies: list[tuple[int, str]]


def transaction(smtp: smtplib.SMTP, raw: bytes, sender: str, recipients: Iterable[str]) -> Sent:
    """MAIL, RCPT for each recipient and DATA (when one was accepted) on an open session."""
    rcpt_replies: list[tuple[int, str]] = []
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


class Gateway:
    def __init__(
        self, root: Path, dsn: str, mode: str, milter_command: list[str] | None = None
    ) -> None:
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o755)
        self.root = root
        self.mode = mode
        self.ports = Ports()
        self.sink = Sink(root, self.ports.sink)
        self.postfix = self.make_postfix()
        command = None
        if milter_command is not None:
            command = [
                arg.format(socket=f"inet:{self.ports.milter}@127.0.0.1") for arg in milter_command
            ]
        self.pool = Pool(root, self.ports, dsn, self.postfix.maillog, command)

    def make_postfix(self) -> Postfix:
        return Postfix(self.root, self.ports)

    @classmethod
    def start(
        cls,
        root: Path,
        dsn: str,
        mode: str = "before-queue",
        extra: dict[str, dict[str, str]] | None = None,
        milter_command: list[str] | None = None,
    ) -> Gateway:
        """``milter_command`` runs another milter instead of ``pmgfast milter``; ``{socket}``
        in it is replaced by the milter socket."""
        gw = cls(root, dsn, mode, milter_command)
        gw.launch(lambda: gw.configure(extra))
        return gw

    def configure(self, extra: Mapping[str, Mapping[str, str]] | None = None) -> None:
        """pmg.conf for the pool, and Postfix configured from it."""
        self.pool.write_config(self.mode, extra)
        self.postfix.configure(self.pool.conf(), self.pool.config_dir, self.mode)

    def launch(self, configure: Callable[[], None]) -> None:
        """``configure()``, then start the services; whatever fails, stop what was started."""
        try:
            configure()
            self.start_services()
        except BaseException:
            self.stop()
            raise

    def start_services(self) -> None:
        self.sink.start()
        self.pool.start()
        self.postfix.start()

    def stop(self) -> None:
        try:
            self.postfix.stop()
        finally:
            try:
                self.pool.stop()
            finally:
                self.sink.stop()

    def smtp(
        self, port: int | None = None, timeout: float = 120.0, helo: str = "client.ext.example"
    ) -> smtplib.SMTP:
        """An SMTP session on the incoming port (or ``port``), after EHLO."""
        smtp = smtplib.SMTP("127.0.0.1", port or self.ports.ext, timeout=timeout)
        smtp.ehlo(helo)
        return smtp

    def send(
        self,
        raw: bytes,
        sender: str,
        recipients: Iterable[str],
        port: int | None = None,
        timeout: float = 120.0,
    ) -> Reply:
        """One SMTP transaction on the incoming port (or ``port``); the final reply."""
        with self.smtp(port, timeout) as smtp:
            return transaction(smtp, raw, sender, recipients).reply

    def wait_settled(self, timeout: float = 60.0) -> None:
        """Until Postfix's queue is empty (everything delivered, bounced or dropped)."""

        def empty() -> bool:
            if self.postfix.queue_ids():
                self.postfix.flush()
                return False
            return True

        wait_for(empty, timeout, "Postfix's queue to empty")
