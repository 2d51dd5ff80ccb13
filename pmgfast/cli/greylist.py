"""``pmgfast greylist``: the greylist table and the SMTP whitelist.

- ``expire``: PMG's greylist maintenance once (expired triples that never passed become
  statistics rows, then every expired row is deleted); the housekeeping daemon runs the same.
- ``list``: the triples, newest first; ``--count`` only their number.
- ``whitelist list|add|remove``: the SMTP whitelist (objects of the ``greylist`` group):
  ``add email|domain|regex|ip|network|receiver|receiver_domain|receiver_regex VALUE``.
  Running milter workers see changes after ``pmgfast milter`` reloads (SIGHUP), Postfix after
  ``pmgfast config sync --restart``.
"""

from __future__ import annotations

import argparse
import time

from pmgfast.cli import common
from pmgfast.config import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "greylist", help="greylist maintenance and the SMTP whitelist", description=__doc__
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    expire = sub.add_parser("expire", help="move expired triples into the statistics, delete")
    expire.add_argument("--now", type=int, help="the time to expire at (epoch seconds)")
    expire.set_defaults(func=cmd_expire)

    listing = sub.add_parser("list", help="the greylist triples, newest first")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--count", action="store_true", help="only the number of triples")
    listing.set_defaults(func=cmd_list)

    wl = sub.add_parser("whitelist", help="the SMTP whitelist")
    wsub = wl.add_subparsers(dest="wl_action", metavar="ACTION", required=True)
    wsub.add_parser("list", help="every entry with its id").set_defaults(func=cmd_wl_list)
    add = wsub.add_parser("add", help="add an entry")
    add.add_argument("type", help="email, domain, regex, ip, network, receiver, ...")
    add.add_argument("value")
    add.set_defaults(func=cmd_wl_add)
    remove = wsub.add_parser("remove", help="remove the entry with this id")
    remove.add_argument("id", type=int)
    remove.set_defaults(func=cmd_wl_remove)


def cmd_expire(args: argparse.Namespace) -> int:
    from pmgfast.greylist.expire import expire

    now = args.now if args.now is not None else int(time.time())
    with common.connection(common.database(args)) as conn:
        done = expire(conn, now)
    print(
        f"found {done.mails} expired mails in greylisting database "
        f"({done.receivers} recipients); deleted {done.deleted} expired triples"
    )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with common.connection(common.database(args)) as conn:
        if args.count:
            found = conn.execute("SELECT count(*) FROM CGreylist").fetchone()
            print(found[0] if found else 0)
            return 0
        rows = conn.execute(
            "SELECT IPNet, Sender, Receiver, RCTime, ExTime, Blocked, Passed, Delay"
            " FROM CGreylist ORDER BY MTime DESC LIMIT %s",
            (max(0, args.limit),),
        ).fetchall()
    for ipnet, sender, receiver, rctime, extime, blocked, passed, delay in rows:
        first = time.strftime("%F %T", time.localtime(rctime))
        expires = time.strftime("%F %T", time.localtime(extime))
        print(
            f"{ipnet} <{sender}> -> <{receiver}> first {first} expires {expires} "
            f"blocked {blocked} passed {passed} delay {delay}s"
        )
    return 0


def cmd_wl_list(args: argparse.Namespace) -> int:
    from pmgfast.smtpwl import entries

    with common.connection(common.database(args)) as conn:
        for obj in entries(conn):
            print(f"{obj.id}\t{obj.type_name}\t{obj.describe()}")
    return 0


def cmd_wl_add(args: argparse.Namespace) -> int:
    from pmgfast.rules.objects.base import ObjectError
    from pmgfast.smtpwl import add, make_entry

    try:
        entry = make_entry(args.type, args.value)
    except ObjectError as err:
        raise ConfigError("whitelist", None, args.type, str(err)) from None
    with common.connection(common.database(args)) as conn:
        print(add(conn, entry))
    return 0


def cmd_wl_remove(args: argparse.Namespace) -> int:
    from pmgfast.smtpwl import remove

    with common.connection(common.database(args)) as conn:
        if not remove(conn, args.id):
            raise ConfigError("whitelist", None, None, f"no whitelist entry has id {args.id}")
    return 0
