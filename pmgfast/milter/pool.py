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

Draining cannot use libmilter's own stop (``smfi_stop``, or the SIGTERM its signal thread
handles): that ends the open sessions too, and Postfix would answer their mail with a
temporary failure. So a draining worker stops accepting by putting an idle listening socket
in place of the shared one (``dup2`` on the same descriptor number): libmilter keeps running
every session it has, never sees another connection, and the worker exits once its sessions
are done. The master asks for a drain over a pipe per worker; a worker whose master is gone
(the pipe closes) drains by itself.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import signal
import socket
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import Milter
import milter

from pmgfast.milter.client import parse_spec

log = logging.getLogger(__name__)

MILTER_NAME = "pmgfast"
IDLE_GRACE = 2.0  # seconds a draining worker must stay idle before it exits


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
    control: int  # write end of the worker's control pipe
    retiring: bool = False


def listening_fd(spec: str) -> int:
    """The descriptor of the listening socket libmilter opened for ``spec``."""
    family, address = parse_spec(spec)
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            probe = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        try:
            if probe.family != family or not probe.getsockopt(
                socket.SOL_SOCKET, socket.SO_ACCEPTCONN
            ):
                continue
            here = probe.getsockname()
            if family == socket.AF_UNIX:
                if here == address:
                    return fd
            elif isinstance(address, tuple) and here[1] == address[1]:
                return fd
        finally:
            probe.close()
    raise RuntimeError(f"cannot find the milter's listening socket for {spec}")


@dataclass
class Worker:
    """The child side. ``serve`` never returns: the process exits when drained."""

    spec: PoolSpec
    status_fd: int
    control_fd: int
    listen_fd: int
    on_ready: Callable[[], Callable[[], None]]  # builds the runtime, returns its shutdown
    messages: Callable[[], int] = lambda: 0
    sessions: Callable[[], int] = lambda: 0
    baseline: float = field(default_factory=rss_mib)
    _shutdown: Callable[[], None] = lambda: None
    _draining: threading.Lock = field(default_factory=threading.Lock)
    _retiring: bool = False
    _decoy: socket.socket | None = None

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
        threading.Thread(target=self.drain, name="drain", daemon=True).start()

    def stop_accepting(self) -> None:
        """Put an idle listening socket in place of the shared one: libmilter keeps serving its
        sessions and accepts no new connection (at most one accept already waiting)."""
        family, _ = parse_spec(self.spec.socket)
        decoy = socket.socket(family, socket.SOCK_STREAM)
        if family == socket.AF_UNIX:
            decoy.bind(f"\0pmgfast-drained-{os.getpid()}")
        else:
            decoy.bind(("127.0.0.1" if family == socket.AF_INET else "::1", 0))
        decoy.listen(1)
        os.dup2(decoy.fileno(), self.listen_fd, inheritable=False)
        self._decoy = decoy

    def drain(self) -> None:
        """Stop accepting, wait for the open sessions (up to ``drain_timeout``), exit."""
        if not self._draining.acquire(blocking=False):
            return
        try:
            self.stop_accepting()
            deadline = time.monotonic() + self.spec.drain_timeout
            idle_since: float | None = None
            while time.monotonic() < deadline:
                if self.sessions() > 0:
                    idle_since = None
                elif idle_since is None:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since >= IDLE_GRACE:
                    break
                time.sleep(0.05)
            self._shutdown()
        except BaseException as err:  # a worker must always exit by os._exit
            log.exception("milter worker %d: draining failed: %s", os.getpid(), err)
        finally:
            os._exit(0)

    def _control(self) -> None:
        """Wait for the master's drain request (or its death: the pipe closes)."""
        while True:
            try:
                data = os.read(self.control_fd, 64)
            except InterruptedError:
                continue
            except OSError:
                data = b""
            if not data or b"drain" in data:
                self.drain()
                return

    def serve(self) -> None:
        code = 0
        try:
            self._shutdown = self.on_ready()
            self.baseline = rss_mib()
            threading.Thread(target=self._control, name="control", daemon=True).start()
            _tell(self.status_fd, f"ready {os.getpid()}")
            try:
                milter.main()  # returns only when libmilter stops by itself (a signal)
            except milter.error as err:
                log.error("milter worker %d: %s", os.getpid(), err)
                code = 1
            self._shutdown()
        except BaseException as err:  # a worker must always exit by os._exit
            log.exception("milter worker %d failed: %s", os.getpid(), err)
            code = 1
        finally:
            os._exit(code)


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
        self.listen_fd = -1

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
        self.listen_fd = listening_fd(self.spec.socket)
        if family != socket.AF_UNIX:
            # accepted sockets inherit TCP_NODELAY from the listener (Linux): libmilter writes a
            # reply in several small packets, which Nagle would hold back for a delayed ACK
            with socket.socket(fileno=os.dup(self.listen_fd)) as listener:
                listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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
        control_r, control_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            try:
                for sig in (
                    signal.SIGTERM,
                    signal.SIGINT,
                    signal.SIGHUP,
                    signal.SIGCHLD,
                ):
                    signal.signal(sig, signal.SIG_DFL)
                os.close(control_w)
                for fd in (self._wake_r, self._wake_w, self._status_r):
                    os.close(fd)
                for info in self.workers.values():  # the other workers' control pipes
                    os.close(info.control)
                worker = Worker(
                    self.spec,
                    self._status_w,
                    control_r,
                    self.listen_fd,
                    on_ready=lambda: self.start_worker(worker),
                )
                worker.serve()
            finally:
                os._exit(1)
        os.close(control_r)
        self.workers[pid] = WorkerInfo(pid, self.generation, time.monotonic(), control_w)

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
            _close(info.control)
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
            _drain(w)
        self.announce(f"reloading configuration (generation {self.generation})")

    def _check_socket_path(self) -> None:
        keep, path = self.keep_link, self.socket_path
        if keep is not None and path is not None and not path.exists():
            _relink(keep, path)

    def _shutdown(self) -> int:
        for w in self.workers.values():
            _drain(w)
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


def _drain(info: WorkerInfo) -> None:
    """Ask a worker to drain (write to its control pipe)."""
    with contextlib.suppress(OSError):
        os.write(info.control, b"drain\n")


def _close(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


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
