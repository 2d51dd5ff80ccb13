"""``pmgfast rules``: list, show, export, import, reset and digest the rule database.

Export writes the canonical JSON document (:mod:`pmgfast.rules.exchange`); import checks all of
it first and then replaces the rule database in one transaction, so a faulty file changes
nothing. Reset installs PMG's factory rules again and keeps the greylist (SMTP welcomelist)
groups, like PMG's ``pmgdb reset``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import psycopg

from pmgfast.cli import common
from pmgfast.db import migrate
from pmgfast.rules import exchange, store
from pmgfast.rules.model import DIRECTIONS, GROUP_CLASS_OF, RULE_CLASSES, RuleDB


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="list, show, export, import and reset the mail filter rules",
        description=__doc__,
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="the rules in the order they run").set_defaults(func=cmd_list)
    show = sub.add_parser("show", help="one rule with its groups and objects")
    show.add_argument("rule", help="rule id or name")
    show.set_defaults(func=cmd_show)
    export = sub.add_parser("export", help="write the rule database as JSON")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    export.set_defaults(func=cmd_export)
    load = sub.add_parser("import", help="replace the rule database with a JSON export")
    load.add_argument("file", help="the JSON file ('-' for standard input)")
    load.add_argument("--check", action="store_true", help="only check the file")
    load.set_defaults(func=cmd_import)
    reset = sub.add_parser("reset", help="install the factory rules (greylist groups stay)")
    reset.add_argument("--yes", action="store_true", help="confirm: all rules are replaced")
    reset.set_defaults(func=cmd_reset)
    sub.add_parser("digest", help="the rule database digest (cluster sync)").set_defaults(
        func=cmd_digest
    )


class _SchemaMissing(RuntimeError):
    pass


def _ready(conn: psycopg.Connection) -> None:
    if migrate.current_version(conn) == 0:
        raise _SchemaMissing("the database has no schema yet: run 'pmgfast db init'")


def _load(args: argparse.Namespace) -> RuleDB:
    with common.connection(common.database(args)) as conn:
        _ready(conn)
        return store.load(conn)


def _error(message: str) -> int:
    print(f"pmgfast rules: error: {message}", file=sys.stderr)
    return 1


def cmd_list(args: argparse.Namespace) -> int:
    try:
        db = _load(args)
    except _SchemaMissing as err:
        return _error(str(err))
    rows = sorted(db.rules, key=lambda r: (r.priority, r.id or 0), reverse=True)
    print(f"{'ID':>4} {'PRIO':>4}  {'ACTIVE':6} {'DIR':4} {'HITS':>8}  NAME")
    for rule in rows:
        print(
            f"{rule.id:>4} {rule.priority:>4}  {'yes' if rule.active else 'no':6} "
            f"{DIRECTIONS[rule.direction]:4} {rule.count:>8}  {rule.name}"
        )
    return 0


MODES = {
    (False, False): "any must match",
    (True, False): "all must match",
    (True, True): "at least one must not match",
    (False, True): "none must match",
}


def format_rule(db: RuleDB, key: str) -> str | None:
    rule = db.rule_by(key)
    if rule is None:
        return None
    groups = db.group_map()
    lines = [
        f"Rule {rule.id}: {rule.name}",
        f"  priority {rule.priority}, {'active' if rule.active else 'inactive'}, "
        f"direction {DIRECTIONS[rule.direction]}, hits {rule.count}",
    ]
    for cls in RULE_CLASSES:
        use = rule.use(cls)
        if not use.groups:
            lines.append(f"  {cls}: -" + (" (always matches)" if cls != "action" else ""))
            continue
        mode = "" if cls == "action" else f" ({MODES[use.and_, use.invert]})"
        lines.append(f"  {cls}{mode}:")
        for gid in sorted(use.groups):
            group = groups[gid]
            gmode = (
                "" if GROUP_CLASS_OF[cls] == "action" else f" ({MODES[group.and_, group.invert]})"
            )
            lines.append(f"    group {gid} {group.name!r}{gmode}")
            for obj in group.objects:
                lines.append(f"      {obj.id:>5} {obj.title}: {obj.describe()}")
    return "\n".join(lines)


def cmd_show(args: argparse.Namespace) -> int:
    try:
        db = _load(args)
    except _SchemaMissing as err:
        return _error(str(err))
    text = format_rule(db, args.rule)
    if text is None:
        return _error(f"no rule {args.rule!r}")
    print(text)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    try:
        data = exchange.dumps(_load(args))
    except _SchemaMissing as err:
        return _error(str(err))
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as err:
        return _error(f"cannot read {args.file}: {err.strerror}")
    try:
        db = exchange.loads(raw)
    except exchange.RuleSetError as err:
        return _error(str(err))
    summary = (
        f"{len(db.rules)} rules, {len(db.groups)} groups, "
        f"{sum(len(g.objects) for g in db.groups)} objects"
    )
    if args.check:
        print(f"{args.file}: fine ({summary})")
        return 0
    with common.connection(common.database(args)) as conn:
        try:
            _ready(conn)
        except _SchemaMissing as err:
            return _error(str(err))
        try:
            store.replace(conn, db)
        except psycopg.Error as err:
            return _error(f"import failed, nothing was changed: {err}")
    print(f"imported {summary}; digest {exchange.digest(db)}")
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    if not args.yes:
        print(
            "this replaces every rule, group and object with the factory rules; "
            "repeat with --yes to confirm"
        )
        return 2
    with common.connection(common.database(args)) as conn:
        try:
            _ready(conn)
        except _SchemaMissing as err:
            return _error(str(err))
        store.reset(conn)
        db = store.load(conn)
    print(f"factory rules installed ({len(db.rules)} rules); digest {exchange.digest(db)}")
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    try:
        print(exchange.digest(_load(args)))
    except _SchemaMissing as err:
        return _error(str(err))
    return 0
