"""The prefork milter pool: one listening socket, N worker processes, none of them precious.

The master binds the milter socket once (pymilter: ``setconn``, ``register``,
``opensocket``), then forks the workers; each worker runs ``milter.main()`` on the inherited
socket, so the kernel spreads Postfix's connections over them. The master never serves mail:

- a worker that dies is replaced (with a growing delay if workers keep dying at once);
- a worker retires itself after ``max_messages`` messages or when its memory has grown by
  ``max_growth_mib``: it tells the master (which starts its replacement at once), stops
  accepting, finishes its open sessions and exits;
- SIGHUP: the master reloads (config and rules), starts a new set of workers with it and asks
  the old ones to drain: connections in progress finish on the old worker, none is dropped;
- SIGTERM/SIGINT: every worker drains (up to ``drain_timeout``), then the master exits.

A worker is asked to drain with SIGTERM, which libmilter's own signal thread turns into
"stop accepting"; ``milter.main()`` then returns and the worker waits for its sessions.
libmilter removes a Unix socket's path when a listener stops (unless running as root); the
master keeps a second hard link so the path is put back at once.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import Milter
import milter

from pmgfast.milter.client import parse_spec

log = logging.getLogger(__name__)

MILTER_NAME = "pmgfast"


def rss_mib() -> float:
    """Resident memory of this process in MiB (from /proc/self/statm)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


@dataclass
class PoolSpec:
    socket: str = "inet:10026@127.0.0.1"
    workers: int = 0  # 0: one per core
    max_messages: int = 10000
    max_growth_mib: float = 64.0
    drain_timeout: float = 600.0
    milter_timeout: int = 600  # libmilter's read/write timeout on Postfix's connection

    @property
    def worker_count(self) -> int:
        return self.workers if self.workers > 0 else (os.cpu_count() or 1)


@dataclass
class WorkerInfo:
    pid: int
    generation: int
    started: float
    retiring: bool = False


@dataclass
class Worker:
    """The child side. ``serve`` never returns: the process exits when drained."""

    spec: PoolSpec
    status_fd: int
    on_ready: Callable[[], Callable[[], None]]  # builds the runtime, returns its shutdown
    messages: Callable[[], int]
    sessions_idle: Callable[[float], bool]
    keep_link: Path | None = None
    socket_path: Path | None = None
    baseline: float = field(default_factory=rss_mib)
    _retiring: bool = False

    def check_recycle(self) -> None:
        """Called after every message: retire after N messages or M MiB of growth."""
        if self._retiring:
            return
        reason = None
        if self.messages() >= self.spec.max_messages:
            reason = f"{self.messages()} messages"
        else:
            grown = rss_mib() - self.baseline
            if grown > self.spec.max_growth_mib:
                reason = f"memory grew by {grown:.0f} MiB"
        if reason is None:
            return
        self._retiring = True
        _tell(self.status_fd, f"retire {os.getpid()} {reason}")
        milter.stop()

    def serve(self) -> None:
        code = 0
        try:
            shutdown = self.on_ready()
            self.baseline = rss_mib()
            _tell(self.status_fd, f"ready {os.getpid()}")
            try:
                milter.main()
            except milter.error as err:
                log.error("milter worker %d: %s", os.getpid(), err)
                code = 1
            self._restore_socket_path()
            self.sessions_idle(self.spec.drain_timeout)
            shutdown()
        except BaseException as err:  # a worker must always exit by os._exit
            log.exception("milter worker %d failed: %s", os.getpid(), err)
            code = 1
        finally:
            os._exit(code)

    def _restore_socket_path(self) -> None:
        if self.keep_link is not None and self.socket_path is not None:
            _relink(self.keep_link, self.socket_path)


def _tell(fd: int, message: str) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, (message + "\n").encode())


def _relink(keep: Path, path: Path) -> None:
    try:
        os.link(keep, path)
    except FileExistsError:
        pass
    except OSError as err:
        log.error("cannot restore the milter socket %s: %s", path, err)


def install_callbacks(factory: type[Milter.Base]) -> None:
    """What ``Milter.runmilter`` does before ``main``: route libmilter's callbacks to
    ``factory`` instances (one per connection)."""
    Milter.factory = factory
    milter.set_connect_callback(Milter.connect_callback)
    milter.set_helo_callback(lambda ctx, host: ctx.getpriv().hello(host))
    milter.set_envfrom_callback(lambda ctx, *b: ctx.getpriv().envfrom_bytes(*b))
    milter.set_envrcpt_callback(lambda ctx, *b: ctx.getpriv().envrcpt_bytes(*b))
    milter.set_header_callback(lambda ctx, f, v: ctx.getpriv().header_bytes(f, v))
    milter.set_eoh_callback(lambda ctx: ctx.getpriv().eoh())
    milter.set_body_callback(lambda ctx, chunk: ctx.getpriv().body(chunk))
    milter.set_eom_callback(lambda ctx: ctx.getpriv().eom())
    milter.set_abort_callback(lambda ctx: ctx.getpriv().abort())
    milter.set_close_callback(Milter.close_callback)


class Pool:
    """The master. ``run`` returns the exit code after SIGTERM/SIGINT."""

    def __init__(
        self,
        spec: PoolSpec,
        factory: type[Milter.Base],
        start_worker: Callable[[Worker], Callable[[], None]],
        reload: Callable[[], None] = lambda: None,
        announce: Callable[[str], None] = lambda text: None,
    ) -> None:
        self.spec = spec
        self.factory = factory
        self.start_worker = start_worker  # in the child: set up the runtime, return shutdown
        self.reload = reload  # in the master, on SIGHUP, before new workers start
        self.announce = announce
        self.workers: dict[int, WorkerInfo] = {}
        self.generation = 0
        self.respawn_delay = 0.0
        self._stop = False
        self._reload = False
        self._wake_r, self._wake_w = os.pipe()
        self._status_r, self._status_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        os.set_blocking(self._status_r, False)
        self._buffer = b""
        self.socket_path: Path | None = None
        self.keep_link: Path | None = None

    # --- setup ----------------------------------------------------------------------
    def bind(self) -> None:
        install_callbacks(self.factory)
        family, address = parse_spec(self.spec.socket)
        if family == socket.AF_UNIX:
            self.socket_path = Path(str(address))
            self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        milter.setconn(self.spec.socket)
        milter.settimeout(self.spec.milter_timeout)
        milter.setbacklog(128)
        milter.register(
            MILTER_NAME,
            data=lambda ctx: ctx.getpriv().data(),
            unknown=lambda ctx, cmd: ctx.getpriv().unknown(cmd),
            negotiate=Milter.negotiate_callback,
        )
        milter.opensocket(True)
        if self.socket_path is not None:
            os.chmod(self.socket_path, 0o666)
            if os.geteuid() != 0:
                keep = self.socket_path.with_name(f".{self.socket_path.name}.keep")
                keep.unlink(missing_ok=True)
                os.link(self.socket_path, keep)
                self.keep_link = keep

    # --- the loop -------------------------------------------------------------------
    def run(self) -> int:
        self.bind()
        previous = {
            sig: signal.signal(sig, self._on_signal)
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD)
        }
        try:
            self.generation = 1
            for _ in range(self.spec.worker_count):
                self._spawn()
            self.announce(
                f"Filter daemon (re)started (max. {self.spec.worker_count} processes) "
                f"on {self.spec.socket}"
            )
            while not self._stop:
                self._wait(1.0)
                self._read_status()
                self._reap()
                if self._reload and not self._stop:
                    self._reload = False
                    self._rolling_reload()
                self._check_socket_path()
                self._fill()
            return self._shutdown()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: object) -> None:
        if signum in (signal.SIGTERM, signal.SIGINT):
            self._stop = True
        elif signum == signal.SIGHUP:
            self._reload = True
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def _wait(self, timeout: float) -> None:
        try:
            ready, _, _ = select.select([self._wake_r, self._status_r], [], [], timeout)
        except InterruptedError:
            return
        if self._wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, 4096)

    def _read_status(self) -> None:
        while True:
            try:
                chunk = os.read(self._status_r, 4096)
            except (BlockingIOError, InterruptedError):
                break
            if not chunk:
                break
            self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            words = line.decode("utf-8", "replace").split(" ", 2)
            if len(words) >= 2 and words[0] == "retire":
                pid = int(words[1])
                info = self.workers.get(pid)
                if info is not None and not info.retiring:
                    info.retiring = True
                    reason = words[2] if len(words) > 2 else ""
                    self.announce(f"worker {pid} retires ({reason})")

    def _spawn(self) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            try:
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
                    signal.signal(sig, signal.SIG_DFL)
                os.close(self._wake_r)
                os.close(self._wake_w)
                os.close(self._status_r)
                worker = Worker(
                    self.spec,
                    self._status_w,
                    on_ready=lambda: self.start_worker(worker),
                    messages=lambda: 0,
                    sessions_idle=lambda timeout: True,
                    keep_link=self.keep_link,
                    socket_path=self.socket_path,
                )
                worker.serve()
            finally:
                os._exit(1)
        self.workers[pid] = WorkerInfo(pid, self.generation, time.monotonic())

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            info = self.workers.pop(pid, None)
            if info is None:
                continue
            if info.retiring or info.generation != self.generation or self._stop:
                self.respawn_delay = 0.0
                continue
            lived = time.monotonic() - info.started
            self.announce(f"worker {pid} died ({_describe(status)}); starting a new one")
            if lived < 2.0:
                self.respawn_delay = min(10.0, max(0.5, self.respawn_delay * 2))
                time.sleep(self.respawn_delay)
            else:
                self.respawn_delay = 0.0

    def _serving(self) -> int:
        return sum(
            1 for w in self.workers.values() if not w.retiring and w.generation == self.generation
        )

    def _fill(self) -> None:
        while not self._stop and self._serving() < self.spec.worker_count:
            self._spawn()

    def _rolling_reload(self) -> None:
        try:
            self.reload()
        except Exception as err:
            self.announce(f"reloading configuration failed, keeping the old one: {err}")
            return
        old = [w for w in self.workers.values() if w.generation == self.generation]
        self.generation += 1
        self._fill()
        for w in old:
            w.retiring = True
            _signal(w.pid, signal.SIGTERM)
        self.announce(f"reloading configuration (generation {self.generation})")

    def _check_socket_path(self) -> None:
        keep, path = self.keep_link, self.socket_path
        if keep is not None and path is not None and not path.exists():
            _relink(keep, path)

    def _shutdown(self) -> int:
        for w in self.workers.values():
            _signal(w.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.spec.drain_timeout + 5
        while self.workers and time.monotonic() < deadline:
            self._wait(0.2)
            self._read_status()
            self._reap()
        for pid in list(self.workers):
            _signal(pid, signal.SIGKILL)
        while self.workers:
            try:
                pid, _ = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            self.workers.pop(pid, None)
        if self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)
        if self.keep_link is not None:
            self.keep_link.unlink(missing_ok=True)
        for fd in (self._wake_r, self._wake_w, self._status_r, self._status_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        return 0


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
    except OSError as err:
        if err.errno != errno.ESRCH:
            raise


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
