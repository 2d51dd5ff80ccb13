"""``pmgfast config``: read, check and change pmg.conf (PMG's ``pmgconfig``)."""

from __future__ import annotations

import argparse
from collections.abc import Sized
from typing import Any

from pmgfast.cli import common
from pmgfast.config import load_all, pmgconf
from pmgfast.config.schema import SECTIONS, Key, iter_keys, lookup


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "config", help="show, check and change the configuration", description=__doc__
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    dump = sub.add_parser("dump", help="print every key as 'section.key = value'")
    dump.add_argument("--changed", action="store_true", help="only keys set in pmg.conf")
    dump.set_defaults(func=cmd_dump)

    get = sub.add_parser("get", help="print one key's value")
    get.add_argument("section", choices=list(SECTIONS))
    get.add_argument("key")
    get.set_defaults(func=cmd_get)

    set_ = sub.add_parser("set", help="check and set one key (atomic write)")
    set_.add_argument("section", choices=list(SECTIONS))
    set_.add_argument("key")
    set_.add_argument("value")
    set_.set_defaults(func=cmd_set)

    unset = sub.add_parser("unset", help="remove a key from pmg.conf (back to its default)")
    unset.add_argument("section", choices=list(SECTIONS))
    unset.add_argument("key")
    unset.set_defaults(func=cmd_unset)

    check = sub.add_parser("check", help="check pmg.conf and every list file")
    check.set_defaults(func=cmd_check)

    docs = sub.add_parser("docs", help="print the key reference as Markdown")
    docs.set_defaults(func=cmd_docs)

    postfix = sub.add_parser(
        "postfix",
        help="print the Postfix main.cf and master.cf entries for the pmgfast milter",
        description="Render the main.cf and master.cf entries that put the pmgfast milter in "
        "Postfix's mail path: before-queue (smtpd_milters on mail.ext_port and mail.int_port) "
        "or after-queue (content_filter to a second smtpd running the milter), plus the "
        "re-injection smtpd (pmgfast.reinject_port). Templates: "
        "<config dir>/templates/postfix-milter-{main,master}.cf.in override the built-in ones.",
    )
    postfix.add_argument(
        "--mode",
        choices=("before-queue", "after-queue"),
        help="default: from mail.before_queue_filtering",
    )
    postfix.add_argument(
        "--listen", default="", help="address the receiving ports bind to (default: all)"
    )
    postfix.add_argument("--part", choices=("main", "master", "both"), default="both")
    postfix.set_defaults(func=cmd_postfix)

    sync = sub.add_parser(
        "sync",
        help="render service configuration (clamd.conf, freshclam.conf, Postfix's main.cf, "
        "master.cf and tables, ...) from templates",
        description="Render every service configuration file from its template "
        "(<config dir>/templates/ first, then the built-in ones) and write the files whose "
        "content changed. Postfix's files (main.cf, master.cf, the tables under "
        "<pmgfast.postfix_dir>/pmgfast/) are rendered when pmgfast.postfix_dir exists; the "
        "SMTP whitelist tables come from the rule database. PMG: pmgconfig sync.",
    )
    sync.add_argument(
        "--restart", action="store_true", help="restart the services whose files changed"
    )
    sync.add_argument(
        "--dry-run", action="store_true", help="show what would change; write nothing"
    )
    sync.add_argument("--diff", action="store_true", help="print a unified diff of each change")
    sync.add_argument(
        "--root", help="write under this directory instead of / (packaging, inspection)"
    )
    sync.add_argument(
        "--service",
        action="append",
        metavar="NAME",
        help="only the files of this service (postfix, clamav-daemon, clamav-freshclam); "
        "may be given more than once",
    )
    sync.set_defaults(func=cmd_sync)


def cmd_dump(args: argparse.Namespace) -> int:
    conf = pmgconf.load(common.paths(args).pmg_conf)
    for key, value, is_set in conf.items():
        if args.changed and not is_set:
            continue
        print(f"{key.qualified} = {key.format(value)}")
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    conf = pmgconf.load(common.paths(args).pmg_conf)
    key = _key(conf.path, args.section, args.key)
    print(key.format(conf.get(args.section, args.key)))
    return 0


def cmd_set(args: argparse.Namespace) -> int:
    path = common.paths(args).pmg_conf
    with pmgconf.locked(path):
        conf = pmgconf.load(path)
        conf.set(args.section, args.key, args.value)
        conf.save()
    return 0


def cmd_unset(args: argparse.Namespace) -> int:
    path = common.paths(args).pmg_conf
    with pmgconf.locked(path):
        conf = pmgconf.load(path)
        conf.unset(args.section, args.key)
        conf.save()
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    paths = common.paths(args)
    settings = load_all(paths.config_dir)
    counts: dict[str, Sized] = {
        "domains": settings.domains,
        "mynetworks": settings.mynetworks,
        "transport": settings.transport,
        "tls_policy": settings.tls_policy,
        "tls_inbound_domains": settings.tls_inbound_domains,
        "dkim/domains": settings.dkim_domains,
    }
    summary = ", ".join(f"{name}: {len(entries)}" for name, entries in counts.items())
    print(f"{paths.config_dir}: configuration OK ({summary})")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pmgfast import render
    from pmgfast.clamav.layout import layout_from_config

    paths = common.paths(args)
    conf = pmgconf.load(paths.pmg_conf)
    engine = render.TemplateEngine(paths.config_dir)
    root = Path(args.root).absolute() if args.root else None
    postfix = _postfix_sync(args, root)  # issue 11: Postfix's main.cf, master.cf and tables
    try:
        layout = layout_from_config(conf)
        targets = render.default_targets(layout) + (postfix.targets if postfix else [])
        if args.service:
            targets = [t for t in targets if t.service in args.service]
        context = render.build_context(conf, layout) | (postfix.context if postfix else {})
        planned = render.plan(targets, context, engine, root)
    except render.TemplateError as err:
        raise pmgconf.ConfigError("template", None, None, err.args[0]) from None
    changed = [item for item in planned if item.changed]
    for item in planned:
        service = item.target.service
        note = f" ({item.target.action} {service})" if service and item.changed else ""
        print(f"{item.path}: {item.status}{note}")
        if args.diff and item.changed:
            print(item.diff(), end="")
    if args.dry_run:
        return 0
    if postfix is not None:
        from pmgfast.postfix import sync as postfix_sync

        if postfix_sync.ensure_tls(common.settings(args), postfix.layout, root):
            print(f"{postfix_sync.placed(postfix.layout.tls_cert, root)}: created")
    try:
        render.apply(changed)
    except OSError as err:
        where = err.filename or "config sync"
        raise pmgconf.ConfigError(where, None, None, err.strerror or str(err)) from None
    if args.restart:
        try:
            if postfix is not None:
                from pmgfast.postfix import sync as postfix_sync

                render.restart_services(changed, postfix_sync.runner(postfix.layout))
            else:
                render.restart_services(changed)
        except render.ServiceError as err:
            raise pmgconf.ConfigError("config sync", None, None, str(err)) from None
    return 0


def _postfix_sync(args: argparse.Namespace, root: object) -> Any:
    """The Postfix targets and variables (None when there is no Postfix to configure)."""
    import sys

    from pmgfast.postfix import sync as postfix_sync

    settings = common.settings(args)
    if not postfix_sync.installed(settings, root):  # type: ignore[arg-type]
        return None

    def whitelist() -> list[Any]:
        from pmgfast.smtpwl import entries

        with common.connection(common.database(args)) as conn:
            return list(entries(conn))

    prepared = postfix_sync.prepare(settings, whitelist, root)  # type: ignore[arg-type]
    if prepared.note:
        print(f"note: {prepared.note}", file=sys.stderr)
    return prepared


def cmd_docs(args: argparse.Namespace) -> int:
    print(reference_markdown(), end="")
    return 0


def reference_markdown() -> str:
    """The key reference, generated from the declarations (docs/config.md is this text)."""
    out = [
        "# pmg.conf reference\n\n",
        "Generated by `pmgfast config docs` from `pmgfast/config/schema.py`; do not edit.\n",
    ]
    section = None
    for key in iter_keys():
        if key.section != section:
            section = key.section
            out.append(
                f"\n## section: {section}\n\n| key | type | default | allowed | meaning |\n"
                "|---|---|---|---|---|\n"
            )
        default = key.format(key.default) if key.default is not None else "(unset)"
        meaning = key.help + (" *Deprecated.*" if key.deprecated else "")
        allowed = key.allowed().replace("|", "\\|")
        out.append(f"| `{key.name}` | {key.kind.value} | `{default}` | {allowed} | {meaning} |\n")
    return "".join(out)


def _key(path: object, section: str, name: str) -> Key:
    try:
        return lookup(section, name)
    except KeyError as err:
        raise pmgconf.ConfigError(str(path), None, f"{section}.{name}", err.args[0]) from None


def cmd_postfix(args: argparse.Namespace) -> int:
    from pmgfast.postfix import render

    paths = common.paths(args)
    rendered = render(pmgconf.load(paths.pmg_conf), paths.config_dir, args.mode, args.listen)
    if args.part in ("main", "both"):
        print("# main.cf\n" + rendered.main if args.part == "both" else rendered.main, end="")
    if args.part == "both":
        print()
    if args.part in ("master", "both"):
        print("# master.cf\n" + rendered.master if args.part == "both" else rendered.master, end="")
    return 0
