"""The supervisor's housekeeping process keeps the tracking index up to date while the log
grows, at low priority, and outlives failing jobs (logged, retried next period)."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bench import loggen
from pmgfast import native
from pmgfast.config import load_all
from pmgfast.db.connect import Database
from pmgfast.housekeeping import Plan
from pmgfast.paths import Paths
from pmgfast.supervisor import HousekeepingService, services_for
from pmgfast.tracking import Query, TrackingError, index_info, search

needs_native = pytest.mark.skipif(
    native.NO_EXTENSIONS, reason="the index is Rust-only (the job fails in pure mode)"
)
#: A loopback port nothing listens on: the greylist job cannot reach its database.
NO_DATABASE = "postgresql://pmgfast@127.0.0.1:1/pmgfast?connect_timeout=2"


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def entries(index: Path) -> int:
    try:
        return index_info(index).entries
    except TrackingError:  # not created yet
        return 0


@pytest.fixture
def log_parts(tmp_path: Path) -> list[bytes]:
    """One generated day of log in three parts, cut at line ends."""
    (path,) = loggen.generate(tmp_path / "gen", mails_per_day=3000, days=1, seed=3)
    data = path.read_bytes()
    cuts = [0]
    for share in (1 / 3, 2 / 3):
        cuts.append(data.index(b"\n", int(len(data) * share)) + 1)
    cuts.append(len(data))
    return [data[a:b] for a, b in itertools.pairwise(cuts)]


def nice_of(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])  # field 19 of stat, counted after "pid (comm)"


@needs_native
def test_the_index_follows_a_growing_log(tmp_path, log_parts, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    log = tmp_path / "log" / "syslog"
    log.parent.mkdir()
    log.write_bytes(log_parts[0])
    index = tmp_path / "index"
    plan = Plan(str(index), str(log), 0.2, 0, None, log=str(tmp_path / "housekeeping.log"))
    service = HousekeepingService(plan)
    service.start()
    try:
        assert service.process is not None
        pid = service.process.pid
        low = min(19, os.nice(0) + 10)
        wait_for(lambda: nice_of(pid) == low, "the process to lower its priority")
        seen = 0
        for part in log_parts[1:]:
            wait_for(lambda: entries(index) > seen, "the index to take in the log")  # noqa: B023
            seen = entries(index)
            with open(log, "ab") as fh:
                fh.write(part)
        # in the end the index holds what a scan of the whole log finds
        now = int(time.time())
        q = Query(start=0, end=now, now=now, tz="UTC", margin=10**9)
        scanned = search(q, files=[log]).mails
        wait_for(lambda: search(q, index=index).mails == scanned, "the index to hold the log")
        assert service.process.poll() is None
    finally:
        service.stop()
    assert service.process is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_failing_job_is_logged_and_retried_and_the_others_go_on(tmp_path, log_parts):
    log = tmp_path / "syslog"
    log.write_bytes(log_parts[0])
    index = tmp_path / "index"
    said = tmp_path / "housekeeping.log"
    plan = Plan(str(index), str(log), 0.2, 0.2, NO_DATABASE, log=str(said))
    service = HousekeepingService(plan)
    service.start()

    def lines(what: str) -> list[str]:
        text = said.read_text() if said.exists() else ""
        return [line for line in text.splitlines() if what in line]

    try:
        wait_for(lambda: len(lines("greylist expiry failed")) >= 2, "two greylist failures")
        if native.NO_EXTENSIONS:  # the index job fails too, and keeps being tried
            wait_for(lambda: len(lines("tracking index failed")) >= 2, "two index failures")
            assert "needs the compiled module" in lines("tracking index failed")[0]
        else:
            wait_for(lambda: entries(index) > 0, "the index job to run")
            assert lines("tracking index: indexed")
        assert service.process is not None and service.process.poll() is None
    finally:
        service.stop()
    first = lines("greylist expiry failed")[0]
    assert "cannot connect to PostgreSQL" in first and "trying again in 0.2 s" in first
    assert "Traceback" not in said.read_text()


def test_without_jobs_the_process_idles_until_stopped(tmp_path):
    plan = Plan(str(tmp_path / "index"), str(tmp_path / "syslog"), 0, 0, None)
    service = HousekeepingService(plan)
    assert "no jobs" in plan.describe()
    service.start()
    assert service.process is not None and service.process.poll() is None
    service.stop()
    assert not (tmp_path / "index").exists()


def test_the_supervisor_runs_housekeeping_as_configured(tmp_path):
    paths = Paths.resolve(tmp_path / "state", tmp_path / "conf")
    paths.config_dir.mkdir(parents=True)
    paths.pmg_conf.write_text(
        "section: pmgfast\n"
        "\ttracking_log /srv/log/mail.log\n"
        "\thousekeeping_index_interval 30\n"
        "\thousekeeping_greylist_interval 0\n"
    )
    settings = load_all(paths.config_dir)
    (service,) = [s for s in services_for(settings, paths) if s.name == "housekeeping"]
    assert isinstance(service, HousekeepingService)
    plan = service.plan
    assert plan.tracking_log == "/srv/log/mail.log"
    assert (plan.index_interval, plan.greylist_interval) == (30, 0)
    assert plan.index_dir == str(paths.state_dir / "tracking-index")
    assert plan.dsn == Database.choose(settings, paths).dsn
    assert plan.describe() == (
        "tracking index every 30 s, no mail log at /srv/log/mail.log yet (pmgfast.tracking_log)"
    )
