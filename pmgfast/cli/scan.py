"""``pmgfast scan``: run the filter pipeline on mail files, offline, and show the verdicts.

The same pipeline as the milter (parse, scanners, rules, actions), with dry-run effects: nothing
is re-injected, stored or sent. For each message and recipient it prints the verdict, the rule
that decided it, the spam score and hits, the rules that matched and what the actions did (the
log lines the milter would write). ``--json`` prints one JSON object per message.

PATH is a message file, a directory (every file below it) or an mbox. The envelope comes from
``--from``/``--to`` or else from the message (Return-Path or From; To and Cc). Rules come from
the database as the milter uses them, or from ``--rules FILE`` (``pmgfast rules export``) or
``--factory-rules`` (PMG's defaults) without a database.
"""

from __future__ import annotations

import argparse
import mailbox
import sys
from collections.abc import Iterator
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import orjson

from pmgfast.actions.log import ListSink
from pmgfast.cli import common


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scan", help="run the filter on mail files and show the verdicts", description=__doc__
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="FILE.eml, DIR or mbox")
    parser.add_argument("--from", dest="sender", help="envelope sender")
    parser.add_argument(
        "--to", dest="recipients", action="append", help="envelope recipient (repeatable)"
    )
    parser.add_argument("--client", help="client IP address (default none)")
    parser.add_argument(
        "--outgoing", action="store_true", help="treat the mail as trusted/outgoing (port 26)"
    )
    rules = parser.add_mutually_exclusive_group()
    rules.add_argument("--rules", type=Path, help="rules from a JSON file (pmgfast rules export)")
    rules.add_argument(
        "--factory-rules", action="store_true", help="PMG's default rules, no database needed"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per message")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also print the filter's log lines"
    )
    parser.set_defaults(func=cmd_scan)


def messages(paths: list[str]) -> Iterator[tuple[str, bytes]]:
    """(name, raw bytes) of every message under ``paths``."""
    for text in paths:
        path = Path(text)
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                yield from messages([str(file)])
            continue
        data = path.read_bytes()
        if data.startswith(b"From ") and b"\nFrom " in data:
            box = mailbox.mbox(str(path), create=False)
            try:
                for i, key in enumerate(box.iterkeys(), start=1):
                    yield f"{path}#{i}", box.get_bytes(key)
            finally:
                box.close()
        else:
            yield str(path), data


def _envelope_from(raw: bytes) -> tuple[str, list[str]]:
    from pmgfast.actions.headers import split_head

    fields, _ = split_head(raw)
    values: dict[str, list[str]] = {}
    for f in fields:
        values.setdefault(f.key, []).append(f.value.decode("utf-8", "replace").strip())
    sender = ""
    for key in ("return-path", "from"):
        found = [a for _, a in getaddresses(values.get(key, [])) if a]
        if found:
            sender = found[0]
            break
    recipients = [a for _, a in getaddresses(values.get("to", []) + values.get("cc", [])) if a]
    return sender, recipients or ["postmaster@localhost"]


def _rules(args: argparse.Namespace) -> Any:
    from pmgfast import rules

    if args.factory_rules:
        return rules.Generations(rules.factory())
    if args.rules is not None:
        return rules.Generations(rules.loads(args.rules.read_bytes()))
    from pmgfast.rules import store

    with common.connection(common.database(args)) as conn:
        return rules.Generations(store.load(conn))


def cmd_scan(args: argparse.Namespace) -> int:
    from pmgfast import pipeline
    from pmgfast.milter.service import host_info
    from pmgfast.scan.configured import configured_scanners

    paths = common.paths(args)
    settings = common.settings(args)
    conf = settings.pmg
    generations = _rules(args)
    psettings = pipeline.Settings.from_config(conf, paths.spool_dir / "tmp", host_info(settings))
    # the milter's scanners; the database (Bayes, AWL, user lists) only when they need it
    database = common.database(args)
    scanners = configured_scanners(settings, "scanner" in psettings.fail_open, database.connect)
    names = {rule.id: rule.name for rule in generations.current.db.rules}
    status = 0
    for name, raw in messages(args.paths):
        sink = ListSink()
        pipe = pipeline.Pipeline(psettings, generations, scanners, sink=sink)
        sender, recipients = _envelope_from(raw)
        sender = args.sender if args.sender is not None else sender
        recipients = args.recipients or recipients
        envelope = pipeline.Envelope(
            sender=sender,
            recipients=tuple(pipeline.Recipient(r) for r in recipients),
            client_address=args.client,
            trusted=args.outgoing,
            mode="offline",
        )
        reply = pipe.process(pipeline.Mail(envelope, raw))
        result = _result(name, reply, sink.lines, names)
        if reply.action == "tempfail":
            status = 1
        if args.json:
            sys.stdout.buffer.write(orjson.dumps(result) + b"\n")
        else:
            _print(result, args.verbose)
    return status


def _result(name: str, reply: Any, lines: list[str], names: dict[Any, str]) -> dict[str, Any]:
    analysis = reply.analysis
    result: dict[str, Any] = {"file": name, "reply": reply.action}
    if reply.smtp is not None:
        result["smtp"] = " ".join(reply.smtp)
    if analysis is None:
        result["log"] = lines
        return result
    facts = analysis.facts
    outcome = analysis.outcome
    result.update(
        {
            "filter_id": analysis.mail.filter_id,
            "message_id": facts.message_id,
            "sender": facts.sender,
            "direction": "outgoing" if facts.trusted else "incoming",
            "score": outcome.spam_level,
            "virus": facts.virus,
            "hits": [{"rule": h.rule, "score": h.score} for h in facts.spam.hits],
            "defects": list(analysis.defects),
            "rules": [names.get(i, str(i)) for i in outcome.matched_rules],
            "recipients": [
                {
                    "address": d.recipient,
                    "verdict": d.action
                    if d.action != "quarantine"
                    else f"quarantine ({d.quarantine})",
                    "rule": d.rule,
                }
                for d in outcome.decisions
            ],
            "removed_from_original": list(reply.remove),
            "headers_changed": [op.name for op in reply.header_ops],
            "body_replaced": reply.body is not None,
            "log": lines,
        }
    )
    return result


def _print(result: dict[str, Any], verbose: bool) -> None:
    print(
        f"{result['file']}: {result['reply']}"
        + (f" ({result['smtp']})" if "smtp" in result else "")
    )
    if "recipients" not in result:
        for line in result["log"]:
            print(f"    {line}")
        return
    hits = ",".join(h["rule"] for h in result["hits"]) or "-"
    print(
        f"  {result['direction']}, score {result['score']}, virus {result['virus'] or '-'}, "
        f"hits {hits}; rules: {', '.join(result['rules']) or '-'}"
    )
    width = max((len(r["address"]) for r in result["recipients"]), default=0)
    for r in result["recipients"]:
        print(f"  {r['address'].ljust(width)}  {r['verdict']:<16} rule: {r['rule']}")
    if result["defects"]:
        print(f"  defects: {', '.join(result['defects'])}")
    lines = (
        result["log"]
        if verbose
        else [
            line
            for line in result["log"]
            if any(
                k in line
                for k in (
                    "modified header",
                    "removed attachment",
                    "disclaimer",
                    "notify",
                    "bcc to",
                    "virus detected",
                    "moved mail",
                )
            )
        ]
    )
    for line in lines:
        print(f"    {line.split(': ', 1)[-1]}")
