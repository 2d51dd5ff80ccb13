"""The housekeeping process: periodic maintenance beside the mail path, at low priority.

The supervisor's ``HousekeepingService`` runs ``python -m pmgfast.housekeeping PLAN`` (a
:class:`Plan` as JSON) as a child process, which lowers its own CPU and I/O priority and then
runs its jobs, each every ``interval`` seconds (counted from the end of its previous run):

- ``tracking index``: :func:`pmgfast.tracking.update_index` over the configured mail log
  (``pmgfast.tracking_log``), so tracking searches read the index, not the logs;
- ``greylist expiry``: :func:`pmgfast.greylist.expire.expire` (expired triples become statistics
  and are deleted; PMG's pmgpolicy does this itself).

A job that fails is logged in plain words and tried again at its next period; nothing a job
does can stop the others or the process. Log lines go to ``Plan.log`` or standard error.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TextIO

#: Added to the process's nice value: the mail path (milter, Postfix) always comes first.
NICENESS = 10


@dataclass(frozen=True)
class Plan:
    """What the housekeeping process does; an interval of 0 turns a job off."""

    index_dir: str
    tracking_log: str
    index_interval: float
    greylist_interval: float
    #: The database of the greylist (None: no greylist job).
    dsn: str | None
    #: Append log lines to this file (None: standard error).
    log: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Plan:
        return cls(**json.loads(text))

    def describe(self) -> str:
        jobs = [f"{job.name} every {job.interval:g} s" for job in jobs_of(self) if job.interval > 0]
        if self.index_interval > 0 and not os.path.exists(self.tracking_log):
            jobs.append(f"no mail log at {self.tracking_log} yet (pmgfast.tracking_log)")
        return ", ".join(jobs) or "no jobs"


@dataclass
class Job:
    name: str
    interval: float
    #: Does the work; returns a line worth logging, or None when there was nothing to do.
    work: Callable[[], str | None]
    due: float = 0.0


def jobs_of(plan: Plan) -> list[Job]:
    jobs = [Job("tracking index", plan.index_interval, lambda: _update_index(plan))]
    if plan.dsn is not None:
        jobs.append(Job("greylist expiry", plan.greylist_interval, lambda: _expire(plan)))
    return jobs


def _update_index(plan: Plan) -> str | None:
    from pmgfast.tracking import update_index

    r = update_index(plan.index_dir, plan.tracking_log)
    if r.bytes_read == 0:
        return None
    return (
        f"indexed {r.bytes_read / 1e6:.1f} MB of {plan.tracking_log}: {r.entries} entries "
        f"in {r.seconds:.1f} s"
    )


def _expire(plan: Plan) -> str | None:
    from pmgfast.db.connect import connect
    from pmgfast.greylist.expire import expire

    if plan.dsn is None:
        return None
    with connect(plan.dsn) as conn:
        done = expire(conn, int(time.time()))
    if done.deleted == 0:
        return None
    return (
        f"{done.mails} expired mails in the greylist ({done.receivers} recipients) became "
        f"statistics; deleted {done.deleted} expired triples"
    )


def run(plan: Plan, stop: threading.Event, out: TextIO) -> None:
    """Runs the plan's jobs until ``stop`` is set (checked between jobs)."""
    jobs = [job for job in jobs_of(plan) if job.interval > 0]
    if not jobs:
        stop.wait()
        return
    while not stop.is_set():
        job = min(jobs, key=lambda j: j.due)
        if stop.wait(max(0.0, job.due - time.monotonic())):
            return
        try:
            said = job.work()
        except Exception as err:
            reason = " ".join(str(err).split()) or type(err).__name__
            _log(out, f"{job.name} failed: {reason}; trying again in {job.interval:g} s")
        else:
            if said:
                _log(out, f"{job.name}: {said}")
        job.due = time.monotonic() + job.interval


def _log(out: TextIO, text: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} housekeeping: {text}", file=out, flush=True)


def lower_priority() -> None:
    """Nice 10 and, where ``ionice`` exists, the idle I/O class: the mail path comes first."""
    os.nice(NICENESS)
    ionice = shutil.which("ionice")
    if ionice is not None:
        with contextlib.suppress(OSError):
            subprocess.run(
                [ionice, "-c", "3", "-p", str(os.getpid())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )


def main(argv: list[str]) -> int:
    plan = Plan.from_json(argv[0])
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    lower_priority()
    if plan.log is None:
        run(plan, stop, sys.stderr)
    else:
        with open(plan.log, "a", encoding="utf-8") as out:
            run(plan, stop, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
