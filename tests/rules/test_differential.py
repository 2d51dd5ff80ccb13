"""Random rule sets on random mail: the compiled engine (pattern sets) against the pure one
(each object with ``re``), PMG's invariants, and no crash on malformed input."""

from __future__ import annotations

from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmgfast.rules import compile_rules, evaluate, exchange
from pmgfast.rules.facts import MessageFacts, Part
from pmgfast.rules.model import ClassUse, Group, Rule, RuleDB
from pmgfast.rules.objects.action import Remove
from pmgfast.rules.objects.what import ContentTypeFilter, MatchField, MatchFilename
from pmgfast.rules.objects.who import WhoRegex
from pmgfast.rules.outcome import Block, Deliver, Quarantine
from tests.rules.strategies import messages, rule_dbs

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(rule_dbs(), messages())
def test_compiled_and_pure_engines_agree(db, facts):
    compiled = evaluate(compile_rules(db), facts)
    pure = evaluate(compile_rules(db, native=False), facts)
    assert compiled == pure
    # one final decision per recipient, taken by one step
    assert [d.recipient for d in compiled.decisions] == list(facts.recipients)
    settled = [
        r
        for s in compiled.steps
        if isinstance(s, (Deliver, Quarantine, Block))
        for r in s.recipients
    ]
    assert sorted(settled) == sorted(facts.recipients)
    # the recipient groups partition the recipients
    grouped = [r for g in compiled.groups for r in g.recipients]
    assert sorted(grouped) == sorted(facts.recipients)
    names = {r.name for r in db.rules} | {"default-accept"}
    assert {d.rule for d in compiled.decisions} <= names


@settings(max_examples=200, deadline=None)
@given(rule_dbs())
def test_export_is_canonical_and_round_trips(db):
    assert db.problems() == []
    text = exchange.dumps(db)
    again = exchange.loads(text)
    assert again == db
    assert exchange.dumps(again) == text
    assert exchange.digest(again) == exchange.digest(db)


text = st.text(max_size=30)


@st.composite
def malformed_facts(draw: st.DrawFn) -> MessageFacts:
    """Parts with parents that loop or point nowhere, repeated or odd aids, any text."""
    parts = tuple(
        Part(
            draw(st.integers(-2, 12)),
            draw(st.integers(-2, 12)),
            draw(text),
            draw(text),
            draw(text),
            draw(st.none() | text),
            draw(st.none() | text),
            tuple(draw(st.lists(st.tuples(text, text), max_size=3))),
            tuple(draw(st.lists(text, max_size=2))),
            tuple(draw(st.lists(text, max_size=2))),
        )
        for _ in range(draw(st.integers(0, 6)))
    )
    return MessageFacts(
        sender=draw(text),
        recipients=tuple(draw(st.lists(text, min_size=1, max_size=3, unique=True))),
        parts=parts,
        client_ip=draw(st.none() | text),
        subject=draw(st.none() | text),
        trusted=draw(st.booleans()),
        time=datetime(2024, 1, 1, 3, 4),
    )


BROKEN_DB = RuleDB(
    (
        Group(1, "who", "who", objects=(WhoRegex(id=1, regex="("), WhoRegex(id=2, regex=".*"))),
        Group(
            2,
            "what",
            "what",
            objects=(
                ContentTypeFilter(id=3, contenttype="["),
                MatchField(id=4, field="Subject", value="(?P<"),
                MatchFilename(id=5, filename=".*"),
            ),
        ),
        Group(3, "act", "action", objects=(Remove(id=6, all=True),)),
    ),
    (
        Rule(
            1,
            "r",
            50,
            True,
            2,
            uses={"from": ClassUse((1,)), "what": ClassUse((2,)), "action": ClassUse((3,))},
        ),
    ),
)


def test_invalid_regexes_from_the_database_are_left_out_and_reported():
    compiled = compile_rules(BROKEN_DB)
    assert len(compiled.problems) == 3 and all("left out" in p for p in compiled.problems)


def test_inconsistent_databases_compile_with_problems_named():
    db = RuleDB(
        (Group(1, "act", "action", objects=(WhoRegex(id=1, regex=".*"), Remove(id=2))),),
        (Rule(1, "r", 50, True, 2, uses={"from": ClassUse((7,)), "action": ClassUse((1,))}),),
    )
    compiled = compile_rules(db)
    assert compiled.problems == (
        "group 7 does not exist; it is treated as empty",
        "rule 1: Regular Expression object 1 in an action group is not an action and is ignored",
    )
    outcome = evaluate(compiled, MessageFacts(sender="a@b", recipients=("c@d",)))
    assert outcome.decisions[0].rule == "default-accept"  # an empty FROM group never matches


@settings(max_examples=300, deadline=None)
@given(malformed_facts(), st.sampled_from([True, False]))
def test_malformed_facts_never_crash_the_engine(facts, native):
    from pmgfast.rules import factory

    for db in (factory(), BROKEN_DB):
        outcome = evaluate(compile_rules(db, native=native), facts)
        assert [d.recipient for d in outcome.decisions] == list(facts.recipients)
