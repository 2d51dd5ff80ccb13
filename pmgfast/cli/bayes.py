"""``pmgfast bayes``: learn, forget, stats, export, import and eval for the Bayesian filter.

``learn --spam|--ham PATH...`` and ``forget PATH...`` read files, directories, maildirs and
mboxes and show a progress bar; the counts go to the PostgreSQL store (``BayesToken``), and a
message learned twice counts once (``BayesSeen``). ``export`` writes the store as text
(``nspam``/``nham`` lines, then ``token<TAB>spam<TAB>ham``) and ``import`` replaces the store
with such a file. ``eval`` measures accuracy without touching the database: cross-validation
of a labelled corpus (``index.tsv`` or ``ham/`` + ``spam/``) or ``--train``/``--test`` sets,
optionally against SpamAssassin on the same folds. ``lint`` checks the rule files; ``rules``
lists every content test with the score it has here (default rules, ``custom.cf``,
``customscores.cf``); ``rules --markdown`` is the reference page ``docs/spam-rules.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pmgfast.cli import common
from pmgfast.db import migrate
from pmgfast.spam import evaluate
from pmgfast.spam.bayes import BayesFilter
from pmgfast.spam.bayes_store import PgTokenStore
from pmgfast.spam.engine import SpamEngine, SpamSettings, load_rules, read_scores
from pmgfast.spam.learn import DEFAULT_BATCH, LearnSummary, Progress, learn_paths, total
from pmgfast.spam.scanner import CUSTOM_RULES, CUSTOM_SCORES

EXPORT_HEADER = "# pmgfast bayes export v1"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bayes", help="train, inspect and evaluate the Bayesian spam filter", description=__doc__
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    learn = sub.add_parser("learn", help="learn messages as spam or ham")
    kind = learn.add_mutually_exclusive_group(required=True)
    kind.add_argument("--spam", action="store_true", help="the messages are spam")
    kind.add_argument("--ham", action="store_true", help="the messages are ham")
    learn.add_argument("paths", nargs="+", type=Path, help="files, directories, maildirs, mboxes")
    learn.add_argument(
        "--batch", type=_positive, default=DEFAULT_BATCH, help="messages per database write"
    )
    learn.set_defaults(func=cmd_learn)
    forget = sub.add_parser("forget", help="undo the learning of messages")
    forget.add_argument("paths", nargs="+", type=Path)
    forget.add_argument(
        "--batch", type=_positive, default=DEFAULT_BATCH, help="messages per database write"
    )
    forget.set_defaults(func=cmd_forget)
    stats = sub.add_parser("stats", help="learned messages and tokens")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=cmd_stats)
    export = sub.add_parser("export", help="write the token store as text")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    export.set_defaults(func=cmd_export)
    load = sub.add_parser("import", help="replace the token store with an export")
    load.add_argument("file", help="the export file ('-' for standard input)")
    load.set_defaults(func=cmd_import)
    ev = sub.add_parser("eval", help="accuracy by cross-validation or on a test set")
    ev.add_argument("corpus", nargs="?", type=Path, help="labelled corpus to cross-validate")
    ev.add_argument("--train", type=Path, help="labelled set to learn")
    ev.add_argument("--test", type=Path, help="labelled set to score")
    ev.add_argument("--folds", type=int, default=5)
    ev.add_argument("--seed", type=int, default=20030228)
    ev.add_argument("--threshold", type=float, default=3.0)
    ev.add_argument("--spamassassin", action="store_true", help="also score with SpamAssassin")
    ev.add_argument("--sa-cache", type=Path, help="keep/reuse SpamAssassin's scores in this file")
    ev.add_argument("--errors", type=int, default=0, help="list this many misclassified messages")
    ev.add_argument("--json", action="store_true", help="print the figures as JSON")
    ev.set_defaults(func=cmd_eval)
    lint = sub.add_parser("lint", help="check the default, custom.cf and customscores.cf rules")
    lint.set_defaults(func=cmd_lint)
    rules = sub.add_parser("rules", help="list the content tests and their scores")
    rules.add_argument(
        "--markdown", action="store_true", help="the default rules as the docs/spam-rules.md page"
    )
    rules.set_defaults(func=cmd_rules)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


@contextmanager
def _store(args: argparse.Namespace) -> Iterator[PgTokenStore]:
    with common.connection(common.database(args)) as conn:
        if migrate.current_version(conn) == 0:
            raise SystemExit(
                "pmgfast bayes: error: the database has no schema yet: run 'pmgfast db init'"
            )
        store = PgTokenStore(lambda: conn)
        try:
            yield store
        finally:
            store.flush()


def _engine(args: argparse.Namespace, bayes: BayesFilter) -> SpamEngine:
    config_dir = common.paths(args).config_dir
    settings = SpamSettings(use_bayes=True)
    return SpamEngine(load_rules([config_dir / CUSTOM_RULES]), settings, bayes=bayes)


def cmd_learn(args: argparse.Namespace) -> int:
    with _store(args) as store:
        bayes = BayesFilter(store)
        engine = _engine(args, bayes)
        progress = Progress(total(args.paths), "learning " + ("spam" if args.spam else "ham"))
        summary = learn_paths(engine, bayes, args.paths, bool(args.spam), args.batch, progress)
        nspam, nham = store.totals()
    _summary(summary, nspam, nham)
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    with _store(args) as store:
        bayes = BayesFilter(store)
        engine = _engine(args, bayes)
        progress = Progress(total(args.paths), "forgetting")
        summary = learn_paths(engine, bayes, args.paths, None, args.batch, progress)
        nspam, nham = store.totals()
    _summary(summary, nspam, nham)
    return 0


def _summary(summary: LearnSummary, nspam: int, nham: int) -> None:
    parts = ", ".join(f"{n} {status}" for status, n in sorted(summary.counts.items()))
    rate = summary.messages / summary.seconds if summary.seconds else 0.0
    print(
        f"{summary.messages} messages ({parts or 'none'}) in {summary.seconds:.1f} s "
        f"({rate:.0f} msg/s); the store now holds {nspam} spam and {nham} ham"
    )


def cmd_stats(args: argparse.Namespace) -> int:
    with _store(args) as store:
        nspam, nham = store.totals()
        tokens = store.token_count()
    bayes = BayesFilter(store)
    data = {
        "nspam": nspam,
        "nham": nham,
        "tokens": tokens,
        "ready": nspam >= bayes.min_spam and nham >= bayes.min_ham,
        "min_spam": bayes.min_spam,
        "min_ham": bayes.min_ham,
    }
    if args.json:
        print(json.dumps(data))
    else:
        print(
            f"spam learned:  {nspam}\nham learned:   {nham}\ntokens:        {tokens}\n"
            f"ready:         {'yes' if data['ready'] else 'no'} (needs {bayes.min_spam} spam "
            f"and {bayes.min_ham} ham)"
        )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    out = open(args.output, "w", encoding="ascii") if args.output else sys.stdout  # noqa: SIM115
    try:
        with _store(args) as store:
            nspam, nham = store.totals()
            out.write(f"{EXPORT_HEADER}\nnspam\t{nspam}\nnham\t{nham}\n")
            for token, s, h in store.dump():
                out.write(f"{token}\t{s}\t{h}\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def parse_export(lines: Iterator[str]) -> tuple[int, int, list[tuple[int, int, int]]]:
    """(nspam, nham, rows) of an export; ValueError names the first bad line."""
    nspam = nham = -1
    rows = []
    for n, line in enumerate(lines, start=1):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        cols = line.split("\t")
        try:
            if cols[0] == "nspam" and len(cols) == 2:
                nspam = int(cols[1])
            elif cols[0] == "nham" and len(cols) == 2:
                nham = int(cols[1])
            elif len(cols) == 3:
                token, s, h = (int(c) for c in cols)
                if not -(2**63) <= token < 2**63 or s < 0 or h < 0 or s >= 2**31 or h >= 2**31:
                    raise ValueError("value out of range")
                rows.append((token, s, h))
            else:
                raise ValueError("want 'token<TAB>spam<TAB>ham'")
        except ValueError as err:
            raise ValueError(f"line {n}: {err}") from None
    if nspam < 0 or nham < 0:
        raise ValueError("the nspam and nham lines are missing")
    return nspam, nham, rows


def cmd_import(args: argparse.Namespace) -> int:
    source = sys.stdin if args.file == "-" else open(args.file, encoding="ascii", errors="replace")  # noqa: SIM115
    try:
        nspam, nham, rows = parse_export(iter(source))
    except ValueError as err:
        print(f"pmgfast bayes: error: {args.file}: {err}", file=sys.stderr)
        return 1
    finally:
        if source is not sys.stdin:
            source.close()
    with _store(args) as store:
        n = store.load(rows, nspam, nham)
    print(f"imported {n} tokens, {nspam} spam and {nham} ham")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    progress = (lambda m: print(m, file=sys.stderr)) if not args.json else (lambda m: None)
    if args.train or args.test:
        if not (args.train and args.test):
            print("pmgfast bayes: error: --train and --test go together", file=sys.stderr)
            return 2
        result = evaluate.train_test(args.train, args.test, args.threshold, progress)
    elif args.corpus is not None:
        result = evaluate.cross_validate(
            args.corpus,
            args.folds,
            args.seed,
            args.threshold,
            args.spamassassin,
            args.sa_cache,
            progress,
        )
    else:
        print("pmgfast bayes: error: give a corpus or --train and --test", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(evaluate.format_report(result, args.errors))
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    config_dir = common.paths(args).config_dir
    scores, score_errors = read_scores(config_dir / CUSTOM_SCORES)
    engine = SpamEngine(load_rules([config_dir / CUSTOM_RULES]), scores=scores, run_all=True)
    problems = [*engine.errors, *score_errors]
    unknown = sorted(set(scores) - set(engine.rules.rules))
    for p in problems:
        print(p)
    for name in unknown:
        print(f"{config_dir / CUSTOM_SCORES}: custom score for unknown test {name}")
    tests = [n for n in engine.rules.rules if not n.startswith("__")]
    print(f"{len(tests)} tests, {len(problems) + len(unknown)} problems")
    return 1 if problems or unknown else 0


RULES_PAGE_HEAD = """\
# Default content tests

Generated by `pmgfast bayes rules --markdown` from `pmgfast/spam/rules/default.cf`; do not edit.
Scores are those with Bayes on and network tests off; an admin changes one in
`customscores.cf` (`score NAME value`) or replaces a test in `custom.cf` (see docs/spam.md).
`pmgfast bayes rules` lists the tests with the scores of this installation.

| test | area | score | description |
|---|---|---|---|
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def cmd_rules(args: argparse.Namespace) -> int:
    extra: list[Path] = []
    scores: dict[str, float] = {}
    if not args.markdown:  # the page shows the defaults; the listing this installation's
        config_dir = common.paths(args).config_dir
        extra = [config_dir / CUSTOM_RULES]
        scores, _ = read_scores(config_dir / CUSTOM_SCORES)
    engine = SpamEngine(
        load_rules(extra), SpamSettings(use_bayes=True), scores=scores, run_all=True
    )
    infos = sorted(
        (i for i in engine.rules.rules.values() if not i.name.startswith("__")),
        key=lambda i: i.name,
    )
    if args.markdown:
        rows = (f"| `{i.name}` | {i.area} | {i.score:g} | {_cell(i.description)} |" for i in infos)
        print(RULES_PAGE_HEAD + "\n".join(rows))
        return 0
    width = max(len(i.name) for i in infos)
    for i in infos:
        print(f"{i.name:<{width}}  {i.area:<7} {i.score:>7g}  {i.description}")
    print(f"{len(infos)} tests")
    return 0


__all__ = ["EXPORT_HEADER", "parse_export", "register"]
