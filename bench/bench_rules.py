"""Benchmark of rule evaluation: microseconds per message, compiled rule set against pure.

The messages are the SpamAssassin corpus (ham and spam) turned into rule facts as the pipeline
makes them, from the MIME walk (:mod:`pmgfast.rules.mime_facts`; not timed), with stand-in spam
scores. Two rule
sets: PMG's factory defaults, and the defaults plus 500 extra objects of which 200 are regexes
(150 mail addresses, 100 domains, 50 networks, 80 sender regexes, 50 content-type regexes,
40 filename regexes, 30 header regexes) in ten extra incoming rules.

"native" is :func:`pmgfast.rules.compile_rules` as the milter uses it: every regex, content-type
and filename object of the generation in pattern sets (:func:`pmgfast.patterns.compile_set`,
Rust when built), answers for recurring subjects remembered. The baseline is the pure engine,
which tests each object on its own with :mod:`re`. Both must decide every message the same.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bench.harness import Result, best_time, format_table
from pmgfast.patterns import Pattern, compile_set
from pmgfast.rules import compile_rules, evaluate, factory
from pmgfast.rules.facts import MessageFacts, SpamHit, SpamResult
from pmgfast.rules.mime_facts import facts_from_bytes
from pmgfast.rules.model import ClassUse, Group, Rule, RuleDB
from pmgfast.rules.objects import RuleObject
from pmgfast.rules.objects.action import ModField
from pmgfast.rules.objects.what import ContentTypeFilter, MatchField, MatchFilename
from pmgfast.rules.objects.who import Domain, EMail, IPNet, WhoRegex

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "spamassassin"
RECIPIENT = "user@local.example"


def extra_objects() -> tuple[list[RuleObject], list[RuleObject]]:
    """500 objects: (who objects, what objects); 200 of them regexes."""
    who: list[RuleObject] = [EMail(email=f"user{i}@partner{i % 10}.example") for i in range(150)]
    who += [Domain(domain=f"partner{i}.example") for i in range(100)]
    who += [IPNet(cidr=f"10.{i}.0.0/16") for i in range(50)]
    who += [
        WhoRegex(regex=rf"(news|info){i}[0-9]*@.*\.example|.*@mx{i}\.example\.net")
        for i in range(80)
    ]
    what: list[RuleObject] = [
        ContentTypeFilter(contenttype=rf"application/vnd\.vendor{i}\..*") for i in range(50)
    ]
    what += [MatchFilename(filename=rf".*\.(ext{i}|report{i}_[0-9]+\.pdf)") for i in range(40)]
    what += [
        MatchField(
            field=("Subject", "X-Mailer", "Received")[i % 3], value=rf"\b(offer|campaign)-{i}\b"
        )
        for i in range(30)
    ]
    return who, what


def with_extra(db: RuleDB) -> RuleDB:
    who, what = extra_objects()
    groups = list(db.groups)
    rules = list(db.rules)
    object_id = max(o.id or 0 for g in groups for o in g.objects)
    next_group = max(g.id or 0 for g in groups) + 1
    action = Group(
        next_group,
        "extra action",
        "action",
        objects=(ModField(id=object_id + 1, field="X-Partner", value="__RULE__"),),
    )
    groups.append(action)
    object_id += 1
    for n, (cls, chunk) in enumerate(
        [("who", who[i::5]) for i in range(5)] + [("what", what[i::5]) for i in range(5)]
    ):
        objs = []
        for obj in chunk:
            object_id += 1
            objs.append(replace(obj, id=object_id))
        gid = next_group + 1 + n
        groups.append(Group(gid, f"extra {cls} {n}", cls, objects=tuple(objs)))
        use = {
            "from" if cls == "who" else "what": ClassUse((gid,)),
            "action": ClassUse((action.id or 0,)),
        }
        rules.append(Rule(100 + n, f"extra {n}", 50 + n, True, 0, uses=use))
    extended = RuleDB(tuple(groups), tuple(rules))
    problems = extended.problems()
    assert not problems, problems
    return extended


def corpus_facts(quick: bool) -> list[MessageFacts]:
    files = sorted(p for p in CORPUS.glob("*/*") if p.is_file())
    if quick:
        files = files[::8]
    facts = []
    for path in files:
        n = int(hashlib.sha256(path.name.encode()).hexdigest()[:8], 16)
        spam = path.parent.name == "spam"
        result = SpamResult(
            3 + n % 10 if spam else n % 3,
            5,
            (
                SpamHit(
                    "BAYES_99" if spam else "BAYES_00",
                    3.5 if spam else -1.9,
                    "Bayes spam probability",
                ),
            ),
        )
        facts.append(
            facts_from_bytes(
                path.read_bytes(),
                f"sender{n % 50}@ext.example",
                (RECIPIENT,),
                spam=result,
                client_ip=f"10.{n % 60}.1.2",
            )
        )
    return facts


def cpu_us(fn: Callable[[], object], count: int, repeat: int = 3) -> float:
    """Best CPU time of ``fn`` in microseconds per message: wall time on a shared, busy machine
    also counts the time other processes had the core."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best / count * 1e6


def measure(name: str, db: RuleDB, facts: list[MessageFacts], quick: bool) -> list[Result]:
    start = time.perf_counter()
    compiled = compile_rules(db)
    compile_native = time.perf_counter() - start
    start = time.perf_counter()
    pure = compile_rules(db, native=False)
    compile_pure = time.perf_counter() - start
    agreed = [evaluate(compiled, f) for f in facts] == [evaluate(pure, f) for f in facts]
    seconds = 0.3 if quick else 1.0
    native_us = (
        best_time(lambda: [evaluate(compiled, f) for f in facts], min_seconds=seconds)
        / len(facts)
        * 1e6
    )
    pure_us = (
        best_time(lambda: [evaluate(pure, f) for f in facts], min_seconds=seconds)
        / len(facts)
        * 1e6
    )
    native_cpu = cpu_us(lambda: [evaluate(compiled, f) for f in facts], len(facts))
    pure_cpu = cpu_us(lambda: [evaluate(pure, f) for f in facts], len(facts))
    objects = sum(len(g.objects) for g in db.groups)
    return [
        Result(
            area="rules",
            name=f"{name} ({objects} objects), per message",
            unit="us/msg",
            value=native_us,
            baseline=pure_us,
            baseline_name="pure engine, re per object",
            agreed=agreed,
            higher_is_better=False,
            extra={
                "messages": len(facts),
                "native_cpu_us_per_msg": native_cpu,
                "pure_cpu_us_per_msg": pure_cpu,
                "compile_native_ms": compile_native * 1e3,
                "compile_pure_ms": compile_pure * 1e3,
                "problems": list(compiled.problems),
            },
        )
    ]


def run(quick: bool) -> list[Result]:
    facts = corpus_facts(quick)
    native_sets = type(compile_set([Pattern(1, "x")])).__name__
    results = measure("factory defaults", factory(), facts, quick)
    results += measure("defaults + 500 objects (200 regexes)", with_extra(factory()), facts, quick)
    for result in results:
        result.extra["pattern_sets"] = native_sets
    return results


if __name__ == "__main__":
    results = run(quick="--quick" in sys.argv)
    print(format_table(results))
    for r in results:
        print(r.name, r.extra)
