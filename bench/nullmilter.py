"""A do-nothing milter: pmgfast's prefork pool and callbacks with a pipeline that accepts
everything unchanged. The ceiling the real filter is measured against in the same run.

    python -m bench.nullmilter inet:PORT@127.0.0.1 WORKERS
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from pmgfast.milter.callbacks import Runtime, Session
from pmgfast.milter.context import Direction
from pmgfast.milter.pool import Pool, PoolSpec, Worker
from pmgfast.pipeline import Mail, Reply


class Accept:
    def process(self, mail: Mail) -> Reply:
        return Reply("accept")


def start_worker(worker: Worker) -> Callable[[], None]:
    runtime = Runtime(
        Accept(),
        Direction(),
        1 << 20,
        100 << 20,  # type: ignore[arg-type]
        on_message=worker.check_recycle,
    )
    Session.runtime = runtime
    worker.messages = lambda: runtime.messages
    worker.sessions = lambda: runtime.sessions
    return lambda: None


def main() -> int:
    spec = PoolSpec(
        socket=sys.argv[1],
        workers=int(sys.argv[2]),
        max_messages=10**9,
        drain_timeout=10,
    )
    return Pool(spec, Session, start_worker).run()


if __name__ == "__main__":
    sys.exit(main())
