"""A real clamd for tests: Debian's clamav-daemon with a signature database the tests build.

No signature download is possible here, so :func:`write_signatures` builds a private database:

- ``pmgfast-test.ndb``: a body signature ``Eicar-Test-Signature`` for the EICAR string, written
  from the corpus' (XOR-obfuscated) eicar.com, decoded at run time;
- ``clamav-testfiles.hdb``: ``sigtool --md5`` of Debian's ``clamav-testfiles`` ``clam.exe``
  (reported as ``clam.exe.UNOFFICIAL``);
- ``corpus.hdb``: the corpus' own ``clamav.hdb`` (``ClamAV-Test-File``).

:class:`ClamdServer` renders its clamd.conf with pmgfast's own template
(:mod:`pmgfast.render`), so every test also exercises the rendered configuration: a Unix socket
in a temp dir and a TCP socket on 127.0.0.1:<free port>, ``Foreground``, no ``User``, a log
file, no freshclam. ``pmg_conf`` lines (``"clamav archiveblockencrypted 1"``) change the
rendering the way an admin's pmg.conf would. Start, stop and restart are real process
operations, so outage tests see what production sees.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from pmgfast.clamav import ClamdAddress, ClamdClient, read_clamd_conf
from pmgfast.clamav.layout import ClamdLayout
from pmgfast.config import pmgconf
from pmgfast.render import TemplateEngine, build_context
from tests.pg import free_port

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
AV = CORPUS / "av"
TESTFILES = Path("/usr/share/clamav-testfiles")
XOR_KEY = (
    b"bhcftqarohcdiayfohalohkgmoefxrrgfnczssgybajvkzjaahpfrlqsratkhhfvpxytculmwgmtyzujlbjlgrhtwx"
    b"hzpjazlibbwepffyjyfkjwzyofgpopoueurinpdujkphxwhnaxfkaiwrpzdqsnwughtejr"
)
EICAR_NAME = "Eicar-Test-Signature.UNOFFICIAL"
CLAM_EXE_NAME = "ClamAV-Test-File.UNOFFICIAL"


def xor_decode(path: Path) -> bytes:
    """A corpus payload, decoded (the XOR is its own inverse; see corpus/av/README.md)."""
    data = path.read_bytes()
    key = XOR_KEY
    return bytes(b ^ key[i % len(key)] for i, b in enumerate(data))


def eicar() -> bytes:
    return xor_decode(AV / "eicar" / "eicar.com.xor")


def write_signatures(directory: Path) -> list[Path]:
    """Build the private signature database in ``directory``; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    ndb = directory / "pmgfast-test.ndb"
    ndb.write_text(f"Eicar-Test-Signature:0:*:{eicar().hex()}\n")
    written = [ndb]
    sigtool = shutil.which("sigtool") or "/usr/bin/sigtool"
    line = subprocess.run(
        [sigtool, "--md5", str(TESTFILES / "clam.exe")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    hdb = directory / "clamav-testfiles.hdb"
    hdb.write_text(line)
    written.append(hdb)
    corpus_hdb = directory / "corpus.hdb"
    shutil.copyfile(AV / "clamav" / "clamav.hdb", corpus_hdb)
    written.append(corpus_hdb)
    return written


@dataclass
class ClamdServer:
    """One private clamd (see the module docstring)."""

    root: Path
    layout: ClamdLayout
    pmg_conf: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    clients: list[ClamdClient] = field(default_factory=list)

    @classmethod
    def create(cls, pmg_conf: tuple[str, ...] = (), tcp: bool = True) -> ClamdServer:
        root = Path(tempfile.mkdtemp(prefix="pmgfast-clamd-"))
        os.chmod(root, 0o755)
        layout = ClamdLayout(
            conf_path=root / "clamd.conf",
            freshclam_conf_path=root / "freshclam.conf",
            local_socket=str(root / "clamd.sock"),
            tcp_port=free_port() if tcp else None,
            database_dir=str(root / "db"),
            pid_file=str(root / "clamd.pid"),
            freshclam_pid_file=str(root / "freshclam.pid"),
            user=None,
            foreground=True,
            log_file=str(root / "clamd.log"),
            temporary_dir=str(root / "tmp"),
            max_threads=4,
        )
        (root / "tmp").mkdir()
        write_signatures(root / "db")
        server = cls(root, layout, pmg_conf)
        server.render()
        return server

    @classmethod
    def start_new(cls, pmg_conf: tuple[str, ...] = (), tcp: bool = True) -> ClamdServer:
        server = cls.create(pmg_conf, tcp)
        server.start()
        return server

    def render(self) -> None:
        sections: dict[str, list[str]] = {}
        for line in self.pmg_conf:
            section, _, rest = line.partition(" ")
            sections.setdefault(section, []).append(f"\t{rest}\n")
        text = "".join(f"section: {name}\n{''.join(keys)}" for name, keys in sections.items())
        conf = pmgconf.parse(text, self.root / "pmg.conf")
        self.layout.conf_path.write_text(
            TemplateEngine(None).render("clamd.conf.in", build_context(conf, self.layout))
        )

    @property
    def conf_path(self) -> Path:
        return self.layout.conf_path

    @property
    def unix_address(self) -> ClamdAddress:
        assert self.layout.local_socket is not None
        return ClamdAddress.unix(self.layout.local_socket)

    @property
    def tcp_address(self) -> ClamdAddress:
        assert self.layout.tcp_port is not None
        return ClamdAddress.tcp("127.0.0.1", self.layout.tcp_port)

    def client(self, tcp: bool = False, **options: object) -> ClamdClient:
        """A client for this clamd (closed when the server is torn down)."""
        if tcp:
            client = ClamdClient(self.tcp_address, **options)  # type: ignore[arg-type]
        else:
            client = ClamdClient.from_conf(read_clamd_conf(self.conf_path), **options)
        self.clients.append(client)
        return client

    def start(self, timeout: float = 60.0) -> None:
        if self.running:
            return
        binary = shutil.which("clamd") or "/usr/sbin/clamd"
        self.process = subprocess.Popen(
            [binary, "-c", str(self.conf_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        probe = ClamdClient(self.unix_address if self.layout.local_socket else self.tcp_address)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                self.process = None
                raise RuntimeError(f"clamd exited: {err.strip()}\n{self.log_tail()}")
            if probe.ping(timeout=1.0):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"clamd did not answer within {timeout}s\n{self.log_tail()}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr:
            process.stderr.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(
                (self.root / "clamd.log").read_text(errors="replace").splitlines()[-lines:]
            )
        except OSError:
            return ""

    def destroy(self) -> None:
        for client in self.clients:
            client.close()
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
