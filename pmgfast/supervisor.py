"""Run the gateway's long-lived services together, in the foreground, and stop them cleanly.

``pmgfast start`` builds the list of services for this configuration and hands it to
:func:`run`: services start in order, each says where it listens, and on SIGINT/SIGTERM (Ctrl-C
or ``pmgfast stop``) they stop in reverse order, so no process is left behind. Each capability
joins by adding a :class:`Service` to :func:`services_for`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

from pmgfast.config import ConfigError, Settings
from pmgfast.db import migrate
from pmgfast.db.connect import Database, redact
from pmgfast.housekeeping import Plan as HousekeepingPlan
from pmgfast.paths import Paths


class Service(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def describe(self) -> str: ...


@dataclass
class DatabaseService:
    """The database: the embedded server started (if used) and the schema brought up to date."""

    database: Database
    name: str = "database"
    version: int = 0

    def start(self) -> None:
        if self.database.embedded is not None:
            self.database.embedded.start()
        with self.database.connect(autocommit=True) as conn:
            migrate.upgrade(conn)
            self.version = migrate.current_version(conn)

    def stop(self) -> None:
        if self.database.embedded is not None:
            self.database.embedded.stop()

    def describe(self) -> str:
        server = self.database.embedded
        dsn = redact(self.database.dsn)
        where = (
            "external PostgreSQL"
            if server is None
            else f"embedded PostgreSQL on {server.describe()}"
        )
        return f"{where}, dsn '{dsn}', schema version {self.version}"


@dataclass
class MilterService:
    """The milter pool (``pmgfast milter``) as a child process: started once the database is
    up, ready when its socket accepts connections, drained and stopped on SIGTERM."""

    paths: Paths
    socket: str
    workers: int
    name: str = "milter"
    timeout: float = 60.0
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        from pmgfast.milter.client import parse_spec

        command = [
            sys.executable,
            "-m",
            "pmgfast",
            "--state-dir",
            str(self.paths.state_dir),
            "--config-dir",
            str(self.paths.config_dir),
            "milter",
        ]
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent
        )
        family, address = parse_spec(self.socket)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the milter pool exited with status {self.process.returncode}")
            try:
                with socket.socket(family, socket.SOCK_STREAM) as probe:
                    probe.settimeout(1.0)
                    probe.connect(address)  # type: ignore[arg-type]
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the milter pool did not listen on {self.socket} in time")

    def stop(self) -> None:
        if self.process is not None:
            _terminate(self.process, self.timeout)
        self.process = None

    def describe(self) -> str:
        workers = self.workers or os.cpu_count() or 1
        pid = self.process.pid if self.process is not None else "-"
        return f"milter pool on {self.socket}, {workers} workers (pid {pid})"


def _terminate(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM a child, give it ``timeout`` seconds to finish, then SIGKILL it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _die_with_parent() -> None:
    """In a child before exec: SIGTERM when the parent dies (even by kill -9), so a killed
    ``pmgfast start`` leaves no milter pool behind (Linux prctl PR_SET_PDEATHSIG)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)


@dataclass
class ClamavStatus:
    """ClamAV as the filter will use it: not a process pmgfast runs (clamd is the system's
    clamav-daemon, fed by freshclam), but said at start, in plain words, where the filter will
    look for it and whether it answers: with ``admin.clamav`` on and clamd away, every mail is
    answered 451 until clamd runs, and an admin should learn that now, not from the queue."""

    settings: Settings
    name: str = "clamav"
    state: str = ""

    def start(self) -> None:
        from pmgfast.clamav.conf import ClamdConfError
        from pmgfast.clamav.scanner import from_config

        conf = self.settings.pmg
        try:
            scanner = from_config(conf)
        except ClamdConfError as err:
            raise ConfigError(conf.path, None, "pmgfast.clamd_conf", str(err)) from None
        if scanner is None:
            self.state = "off (admin.clamav is 0): mail is not scanned for viruses"
            return
        client = scanner.client
        try:
            version = client.version(timeout=2.0)
        except Exception as err:
            self.state = (
                f"{err}; mail is answered 451 until clamd runs. Start clamav-daemon once "
                "freshclam has fetched signatures, or switch virus scanning off with "
                "'pmgfast config set admin clamav 0'"
            )
        else:
            self.state = f"clamd at {client.address}, {version}"
        finally:
            client.close()

    def stop(self) -> None:
        return None

    def describe(self) -> str:
        return self.state


@dataclass
class HousekeepingService:
    """Periodic maintenance (:mod:`pmgfast.housekeeping`: the tracking index as the log grows,
    greylist expiry) in a child process at low priority (nice 10, idle I/O), so it never holds
    up the mail path; a failed job is logged by the child and tried again next period."""

    plan: HousekeepingPlan
    name: str = "housekeeping"
    timeout: float = 10.0
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, paths: Paths, database: Database
    ) -> HousekeepingService:
        conf = settings.pmg
        return cls(
            HousekeepingPlan(
                index_dir=str(paths.state_dir / "tracking-index"),
                tracking_log=str(conf.get("pmgfast", "tracking_log")),
                index_interval=float(conf.get("pmgfast", "housekeeping_index_interval") or 0),
                greylist_interval=float(conf.get("pmgfast", "housekeeping_greylist_interval") or 0),
                dsn=database.dsn,
            )
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pmgfast.housekeeping", self.plan.to_json()],
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )

    def stop(self) -> None:
        if self.process is not None:
            _terminate(self.process, self.timeout)
        self.process = None

    def describe(self) -> str:
        pid = self.process.pid if self.process is not None else "-"
        return f"{self.plan.describe()} (pid {pid}, low priority)"


def services_for(settings: Settings, paths: Paths) -> list[Service]:
    """The services ``pmgfast start`` runs, in start order."""
    database = Database.choose(settings, paths)
    services: list[Service] = [DatabaseService(database)]
    if not settings.pmg.get("admin", "demo"):  # PMG: demo mode does not start the filter
        services.append(ClamavStatus(settings))
        services.append(
            MilterService(
                paths,
                str(settings.pmg.get("pmgfast", "milter_socket")),
                int(settings.pmg.get("mail", "max_filters") or 0),
            )
        )
    services.append(HousekeepingService.from_settings(settings, paths, database))
    return services


def pid_file(paths: Paths) -> Path:
    return paths.run_dir / "pmgfast.pid"


def run(services: list[Service], paths: Paths, out: TextIO = sys.stdout) -> int:
    """Start the services, wait for a stop signal, stop them; returns the exit code."""
    stop_requested = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop_requested.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    started: list[Service] = []
    pid_path = pid_file(paths)
    try:
        paths.run_dir.mkdir(parents=True, exist_ok=True)
        _claim_pid_file(pid_path)
        for service in services:
            if stop_requested.is_set():
                break
            service.start()
            started.append(service)
            print(f"{service.name}: {service.describe()}", file=out, flush=True)
        if not stop_requested.is_set():
            print(
                f"pmgfast is running (pid {os.getpid()}); stop with Ctrl-C or 'pmgfast stop'",
                file=out,
                flush=True,
            )
        while not stop_requested.wait(1.0):
            pass
        return 0
    finally:
        for service in reversed(started):
            try:
                service.stop()
                print(f"{service.name}: stopped", file=out, flush=True)
            except Exception as err:  # keep stopping the others
                print(f"{service.name}: stop failed: {err}", file=sys.stderr, flush=True)
        if pid_path.exists() and pid_path.read_text().strip() == str(os.getpid()):
            pid_path.unlink()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class AlreadyRunning(RuntimeError):
    pass


def running_pid(pid_path: Path) -> int | None:
    """The pid in the pid file if that process is alive, else None."""
    try:
        pid = int(pid_path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def _claim_pid_file(pid_path: Path) -> None:
    other = running_pid(pid_path)
    if other is not None and other != os.getpid():
        raise AlreadyRunning(
            f"pmgfast is already running (pid {other}); stop it with 'pmgfast stop'"
        )
    pid_path.write_text(f"{os.getpid()}\n")
