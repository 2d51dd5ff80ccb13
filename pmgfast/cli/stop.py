"""``pmgfast stop``: stop a running ``pmgfast start`` and everything it started.

Sends SIGTERM to the running instance and waits until it has stopped its services. When that
instance died without cleaning up (kill -9), its embedded database is stopped directly.
"""

from __future__ import annotations

import argparse
import os
import signal
import time

from pmgfast import supervisor
from pmgfast.cli import common


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("stop", help="stop the running gateway", description=__doc__)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (default 60)")
    parser.set_defaults(func=cmd_stop)


def cmd_stop(args: argparse.Namespace) -> int:
    paths = common.paths(args)
    pid_path = supervisor.pid_file(paths)
    pid = supervisor.running_pid(pid_path)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + args.timeout
        while supervisor.running_pid(pid_path) == pid and time.monotonic() < deadline:
            time.sleep(0.1)
        if supervisor.running_pid(pid_path) == pid:
            print(f"pmgfast: error: pmgfast (pid {pid}) did not stop within {args.timeout:g} s")
            return 1
        print(f"stopped pmgfast (pid {pid})")
    database = common.database(args)
    if database.embedded is not None and database.embedded.stop():
        print("stopped the embedded database left running by an earlier instance")
    elif pid is None:
        print("pmgfast is not running")
    return 0
