"""The milter pool as pmgfast runs it: configuration and rules in the master, a pipeline per
worker.

:func:`load_state` reads pmg.conf and the rule database in the master (again on SIGHUP);
workers inherit the compiled rule set when they are forked and open their own database
connections (quarantine, statistics) afterwards, so nothing that holds a socket or a thread
crosses ``fork``.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmgfast import pipeline
from pmgfast.actions.effects import GatewayEffects
from pmgfast.actions.log import sink_for
from pmgfast.actions.reinject import Reinjector
from pmgfast.config import Settings, load_all
from pmgfast.db.connect import Database, DatabaseUnavailable
from pmgfast.greylist.worker import build_stage, dkim_signer, milter_check
from pmgfast.milter.callbacks import Runtime, Session
from pmgfast.milter.context import Direction
from pmgfast.milter.pool import Pool, PoolSpec, Worker
from pmgfast.paths import Paths
from pmgfast.quarantine import DatabaseHandle, QuarantineStore
from pmgfast.rules import Generations, HostInfo, RuleDB
from pmgfast.rules import store as rules_store
from pmgfast.scan import Scanner
from pmgfast.scan.configured import configured_scanners
from pmgfast.spam.userprefs import UserPrefsCache
from pmgfast.stats import StatsWriter

log = logging.getLogger(__name__)


def _int(conf: Any, section: str, key: str) -> int:
    value = conf.get(section, key)
    return int(value) if value is not None else 0


def host_info(settings: Settings) -> HostInfo:
    fqdn = socket.getfqdn()
    host, _, domain = fqdn.partition(".")
    return HostInfo(
        admin_email=str(settings.pmg.get("admin", "email") or "admin@domain.tld"),
        hostname=host or "localhost",
        domain=domain,
        version="pmgfast",
    )


@dataclass
class State:
    """What the master loads and the workers inherit."""

    paths: Paths
    settings: Settings
    database: Database
    generations: Generations
    pipeline_settings: pipeline.Settings
    spec: PoolSpec
    scanners: tuple[Scanner, ...]

    @property
    def spill_dir(self) -> Path:
        return self.paths.spool_dir / "tmp"


def load_rules(database: Database, wait: float = 0.0) -> RuleDB:
    """The rule database; waits up to ``wait`` seconds for the database to come up."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with database.connect() as conn:
                return rules_store.load(conn)
        except DatabaseUnavailable:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.5)


def load_state(
    paths: Paths,
    socket_spec: str | None = None,
    workers: int | None = None,
    wait: float = 30.0,
) -> State:
    settings = load_all(paths.config_dir)
    database = Database.choose(settings, paths)
    generations = Generations(load_rules(database, wait))
    return _state(paths, settings, database, generations, socket_spec, workers)


def _state(
    paths: Paths,
    settings: Settings,
    database: Database,
    generations: Generations,
    socket_spec: str | None,
    workers: int | None,
) -> State:
    conf = settings.pmg
    tmp = paths.spool_dir / "tmp"
    psettings = pipeline.Settings.from_config(conf, tmp, host_info(settings))
    spec = PoolSpec(
        socket=socket_spec or str(conf.get("pmgfast", "milter_socket")),
        workers=workers if workers is not None else _int(conf, "mail", "max_filters"),
        max_messages=_int(conf, "pmgfast", "milter_max_messages"),
        max_growth_mib=float(_int(conf, "pmgfast", "milter_max_growth")),
        drain_timeout=float(_int(conf, "mail", "filter-timeout")),
        milter_timeout=_int(conf, "mail", "filter-timeout"),
    )
    # custom check, ClamAV, spam (with the network tests); connections open in the workers
    scanners = configured_scanners(settings, "scanner" in psettings.fail_open, database.connect)
    dkim_signer(settings)  # a DKIM key that cannot be used stops the start (issue 11)
    return State(paths, settings, database, generations, psettings, spec, scanners)


def reload_state(state: State) -> None:
    """SIGHUP in the master: read pmg.conf and the rules again (the socket stays)."""
    fresh = load_all(state.paths.config_dir)
    database = Database.choose(fresh, state.paths)
    state.generations.load(load_rules(database))
    new = _state(
        state.paths,
        fresh,
        database,
        state.generations,
        state.spec.socket,
        state.spec.workers,
    )
    state.settings = fresh
    state.database = database
    state.pipeline_settings = new.pipeline_settings
    state.scanners = new.scanners
    new.spec.socket = state.spec.socket
    state.spec.max_messages = new.spec.max_messages
    state.spec.max_growth_mib = new.spec.max_growth_mib


def start_worker(state: State, worker: Worker) -> Callable[[], None]:
    """In a freshly forked worker: its pipeline, database handles and statistics thread."""
    conf = state.settings.pmg
    database = state.database
    stats = StatsWriter(database.connect).start()
    quarantine_db = DatabaseHandle(database.connect)
    store = QuarantineStore(state.paths.spool_dir, quarantine_db)
    reinjector = Reinjector(
        "127.0.0.1",
        _int(conf, "pmgfast", "reinject_port"),
        state.pipeline_settings.host.fqdn,
    )
    pipe = pipeline.Pipeline(
        state.pipeline_settings,
        state.generations,
        state.scanners,
        GatewayEffects(reinjector, store),
        sink_for(conf.get("pmgfast", "log_file")),  # type: ignore[arg-type]
        stats,
        signer=dkim_signer(state.settings),
        user_lists=UserPrefsCache(database.connect).lists,
    )
    runtime = Runtime(
        pipe,
        Direction(
            _int(conf, "mail", "int_port"),
            bool(conf.get("mail", "before_queue_filtering")),
        ),
        spill_size=_int(conf, "pmgfast", "milter_spill_size"),
        maxsize=_int(conf, "mail", "maxsize"),
        spill_dir=state.spill_dir,
        on_message=worker.check_recycle,
    )
    # the RCPT stage (issue 11): greylisting, SPF, the SMTP whitelist
    stage = build_stage(state.settings, database.connect, lambda: state.generations.current)
    if stage is not None:
        runtime.recipient_check = milter_check(stage)
        runtime.gates = not bool(conf.get("mail", "before_queue_filtering"))
    Session.runtime = runtime
    worker.messages = lambda: runtime.messages
    worker.sessions = lambda: runtime.sessions

    def shutdown() -> None:
        stats.close(10.0)
        quarantine_db.close()
        if stage is not None:
            stage.close()

    return shutdown


def make_pool(state: State, announce: Callable[[str], None]) -> Pool:
    return Pool(
        state.spec,
        Session,
        start_worker=lambda worker: start_worker(state, worker),
        reload=lambda: reload_state(state),
        announce=announce,
    )
