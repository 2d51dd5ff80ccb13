"""PMG's object-oriented rule system: model, store, compiled rule sets and the pure engine.

Typical use (the pipeline)::

    generations = Generations(store.load(conn))        # compile once per change
    outcome = evaluate(generations.current, facts)     # per message, no I/O

| module | job |
|---|---|
| ``facts`` | the engine's input: one message as plain values (parts, spam, virus, lists) |
| ``objects/`` | every object type, one module per family (who, what, when, action) |
| ``model`` | groups, rules, the rule database as values, and their checks |
| ``marks`` | how object results combine (any/all/invert, per-part marks) |
| ``compile`` | a rule database compiled into one generation with pattern sets |
| ``engine`` | ``evaluate``: PMG's ``apply_rules`` without the I/O |
| ``modgroup``, ``content``, ``execution`` | recipient groups, a copy's MIME tree, action input |
| ``outcome`` | the answer: decisions, steps, edits, recipient groups |
| ``macros``, ``mimewords`` | ``__MACRO__`` expansion and header encoding as PMG does it |
| ``userlists``, ``ldap`` | user welcome/blocklists; the LDAP resolver protocol |
| ``defaults``, ``store``, ``exchange`` | factory rules, PostgreSQL, JSON export/import and digest |
| ``mime_facts`` | the facts of a message from the MIME walk (the pipeline, tests, benchmarks) |

``pmgfast rules`` (:mod:`pmgfast.cli.rules`) lists, shows, exports, imports, resets and digests
the rule database.
"""

from __future__ import annotations

from pmgfast.rules.compile import Generations, RuleSet, compile_rules
from pmgfast.rules.defaults import factory
from pmgfast.rules.engine import evaluate
from pmgfast.rules.exchange import RuleSetError, digest, dumps, loads
from pmgfast.rules.facts import HostInfo, MessageFacts, Part, SpamHit, SpamResult
from pmgfast.rules.ldap import NO_LDAP, LdapResolver
from pmgfast.rules.model import ClassUse, Group, Rule, RuleDB
from pmgfast.rules.outcome import Decision, Outcome
from pmgfast.rules.userlists import UserLists

__all__ = [
    "NO_LDAP",
    "ClassUse",
    "Decision",
    "Generations",
    "Group",
    "HostInfo",
    "LdapResolver",
    "MessageFacts",
    "Outcome",
    "Part",
    "Rule",
    "RuleDB",
    "RuleSet",
    "RuleSetError",
    "SpamHit",
    "SpamResult",
    "UserLists",
    "compile_rules",
    "digest",
    "dumps",
    "evaluate",
    "factory",
    "loads",
]
