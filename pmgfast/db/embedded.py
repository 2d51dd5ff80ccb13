"""The embedded PostgreSQL: a private server under the state directory, run by pmgfast.

With no DSN configured, pmgfast initialises (``initdb``) and starts (``pg_ctl``) its own
PostgreSQL instance in ``<state dir>/pg``: data in ``pg/data``, the Unix socket in ``pg/run``,
no TCP listener unless a port is asked for, ``trust`` authentication on the socket only (the
socket directory is private to the server's user). PostgreSQL refuses to run as root, so when
pmgfast runs as root the server runs as the unprivileged system user ``pmgfast``, created on
first use.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

DB_NAME = "pmgfast"
DB_USER = "pmgfast"
SERVICE_USER = "pmgfast"
DEFAULT_PORT = 5432


class EmbeddedError(RuntimeError):
    """The embedded server could not be set up, started or stopped; the message says why."""


def find_pg_bin(name: str) -> Path:
    """A PostgreSQL server program: on PATH, else the newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return Path(found)
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if candidates:
        return candidates[-1]
    raise EmbeddedError(
        f"PostgreSQL's {name} was not found (install the 'postgresql' package, or configure an "
        "external server with 'pmgfast config set pmgfast dsn ...')"
    )


@dataclass
class EmbeddedPostgres:
    """One private PostgreSQL instance rooted at ``root``."""

    root: Path
    port: int = DEFAULT_PORT
    tcp_address: str | None = None
    auth_host: str = "reject"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "postgresql.log"

    @property
    def dsn(self) -> str:
        return f"host={self.socket_dir} port={self.port} dbname={DB_NAME} user={DB_USER}"

    def describe(self) -> str:
        """Where the server listens, for people."""
        where = f"unix socket {self.socket_dir}/.s.PGSQL.{self.port}"
        if self.tcp_address:
            where += f" and {self.tcp_address}:{self.port}"
        return where

    # --- who runs the server ---------------------------------------------------------------

    def _service_user(self) -> pwd.struct_passwd | None:
        """The account the server runs as: ``pmgfast`` when we are root, else ourselves."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(SERVICE_USER)
        except KeyError:
            pass
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        result = subprocess.run(
            [
                useradd,
                "--system",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode not in (0, 9):  # 9: the user exists already (a race)
            raise EmbeddedError(
                f"cannot create the system user {SERVICE_USER!r}: {result.stderr.strip()}"
            )
        return pwd.getpwnam(SERVICE_USER)

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        user = self._service_user()
        if user is not None:
            argv = ["runuser", "-u", user.pw_name, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, cwd="/")
        if check and result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise EmbeddedError(
                f"{Path(argv[argv.index('--') + 1] if '--' in argv else argv[0]).name} failed: "
                + (detail[-1] if detail else f"exit code {result.returncode}")
                + f" (see {self.log_file})"
            )
        return result

    def _prepare_dirs(self) -> None:
        user = self._service_user()
        for path in (self.root, self.data_dir, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            os.chmod(path, 0o700)
            if user is not None:
                os.chown(path, user.pw_uid, user.pw_gid)
        if user is not None:
            self._check_traversable(user)

    def _check_traversable(self, user: pwd.struct_passwd) -> None:
        """Every parent of the root must let the service user through, or initdb fails obscurely."""
        for parent in self.root.parents:
            st = parent.stat()
            if st.st_uid == user.pw_uid:
                continue
            if not st.st_mode & 0o001:
                raise EmbeddedError(
                    f"the PostgreSQL user {user.pw_name!r} cannot enter {parent} (mode "
                    f"{oct(st.st_mode & 0o777)}); choose a state directory outside it "
                    "(--state-dir or PMGFAST_STATE_DIR)"
                )

    # --- lifecycle ------------------------------------------------------------------------

    def is_initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def initialise(self) -> bool:
        """Run initdb once; return True when this call created the cluster."""
        if self.is_initialised():
            return False
        self._prepare_dirs()
        self._run(
            [
                str(find_pg_bin("initdb")),
                "--pgdata",
                str(self.data_dir),
                "--username",
                DB_USER,
                "--auth-local",
                "trust",
                "--auth-host",
                self.auth_host,
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-instructions",
            ]
        )
        return True

    def is_running(self) -> bool:
        if not self.is_initialised():
            return False
        return (
            self._run(
                [str(find_pg_bin("pg_ctl")), "status", "-D", str(self.data_dir)], check=False
            ).returncode
            == 0
        )

    def start(self) -> None:
        """Start the server (initialising it first when needed) and create the database."""
        self.initialise()
        self._prepare_dirs()
        if not self.is_running():
            self._clear_stale_pid()
            listen = self.tcp_address or ""
            options = (
                f"-c listen_addresses='{listen}' -p {self.port} -k {self.socket_dir} "
                "-c fsync=on -c max_connections=200"
            )
            self._run(
                [
                    str(find_pg_bin("pg_ctl")),
                    "start",
                    "-D",
                    str(self.data_dir),
                    "-w",
                    "-t",
                    "60",
                    "-l",
                    str(self.log_file),
                    "-o",
                    options,
                ]
            )
        self._create_database()

    def _clear_stale_pid(self) -> None:
        """After a crash or kill -9 a postmaster.pid can outlive its process; pg_ctl handles a
        dead pid itself, so only a pid file naming a live non-postgres process needs help."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
        except FileNotFoundError:
            comm = ""
        if comm not in ("postgres", "postmaster"):
            pid_file.unlink(missing_ok=True)

    def _create_database(self) -> None:
        import psycopg

        admin_dsn = f"host={self.socket_dir} port={self.port} dbname=postgres user={DB_USER}"
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone():
                return
            conn.execute(f"CREATE DATABASE {DB_NAME} TEMPLATE template0 ENCODING 'UTF8'")

    def stop(self) -> bool:
        """Stop the server (fast shutdown); return True when one was running."""
        if not self.is_running():
            return False
        self._run(
            [
                str(find_pg_bin("pg_ctl")),
                "stop",
                "-D",
                str(self.data_dir),
                "-m",
                "fast",
                "-w",
                "-t",
                "60",
            ]
        )
        return True

    def destroy(self) -> None:
        """Stop the server and delete its data: ``pmgfast db reset --embedded`` and tests."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
