"""What several subcommands need: the instance's paths, settings and database."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from pmgfast.config import Settings, load_all
from pmgfast.db.connect import Database
from pmgfast.paths import Paths


def paths(args: argparse.Namespace) -> Paths:
    return Paths.resolve(args.state_dir, args.config_dir)


def settings(args: argparse.Namespace) -> Settings:
    return load_all(paths(args).config_dir)


def database(args: argparse.Namespace) -> Database:
    return Database.choose(settings(args), paths(args))


@contextmanager
def connection(database: Database) -> Iterator[psycopg.Connection]:
    """A connection for a one-shot command. An embedded server that is not running is started
    for the command and stopped again afterwards, so no process is left behind."""
    server = database.embedded
    started_here = False
    if server is not None and not server.is_running():
        server.start()
        started_here = True
    try:
        with database.connect(autocommit=True) as conn:
            yield conn
    finally:
        if started_here and server is not None:
            server.stop()
