"""``pmgfast db``: create, upgrade, inspect and reset the database (PMG's ``pmgdb``)."""

from __future__ import annotations

import argparse

from pmgfast.cli import common
from pmgfast.db import migrate
from pmgfast.rules import store as rules_store


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "db", help="create, upgrade, inspect and reset the database", description=__doc__
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser(
        "init", help="create the database (embedded: initdb) and its schema"
    ).set_defaults(func=cmd_init)
    sub.add_parser("upgrade", help="apply pending schema migrations").set_defaults(func=cmd_upgrade)
    sub.add_parser("status", help="show the server and the schema version").set_defaults(
        func=cmd_status
    )
    reset = sub.add_parser("reset", help="delete every table and recreate the schema")
    reset.add_argument("--yes", action="store_true", help="confirm: all data is deleted")
    reset.set_defaults(func=cmd_reset)


def cmd_init(args: argparse.Namespace) -> int:
    database = common.database(args)
    if database.embedded is not None and database.embedded.initialise():
        print(f"created the embedded PostgreSQL cluster in {database.embedded.data_dir}")
    return _upgrade(database, defaults=True)


def cmd_upgrade(args: argparse.Namespace) -> int:
    return _upgrade(common.database(args))


def _upgrade(database: common.Database, defaults: bool = False) -> int:
    """Apply pending migrations; with ``defaults`` also install the factory rules when the
    rule database is empty (a new database, as PMG's ``init_ruledb``)."""
    with common.connection(database) as conn:
        applied = migrate.upgrade(conn)
        version = migrate.current_version(conn)
        installed = defaults and rules_store.install_defaults(conn)
    for migration in applied:
        print(f"applied migration {migration.version:04d} {migration.name}")
    if installed:
        print("installed the factory mail filter rules")
    print(
        f"schema version {version} ({'upgraded' if applied else 'up to date'}) on "
        f"{database.describe()}"
    )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    database = common.database(args)
    print(f"database: {database.describe()}")
    if database.embedded is not None:
        server = database.embedded
        state = (
            "running"
            if server.is_running()
            else ("stopped" if server.is_initialised() else "not initialised")
        )
        print(f"embedded server: {state}, data in {server.data_dir}")
        if not server.is_initialised():
            print("schema version: none (run 'pmgfast db init')")
            return 1
    with common.connection(database) as conn:
        status = migrate.status(conn)
        server_version = conn.info.server_version
    print(f"server version: {server_version // 10000}.{server_version % 10000}")
    print(
        f"schema version: {status.current} of {status.latest}"
        + (
            ""
            if status.up_to_date
            else f" ({len(status.pending)} pending: run 'pmgfast db upgrade')"
        )
    )
    return 0 if status.up_to_date else 1


def cmd_reset(args: argparse.Namespace) -> int:
    database = common.database(args)
    if not args.yes:
        print(f"this deletes every table on {database.describe()}; repeat with --yes to confirm")
        return 2
    with common.connection(database) as conn:
        migrate.drop_all(conn)
        migrate.upgrade(conn)
        version = migrate.current_version(conn)
        rules_store.install_defaults(conn)
    print(f"database reset: schema version {version} on {database.describe()}")
    return 0
