"""PMG's object-oriented rule system: model, store, compiled rule sets and the pure engine.

Typical use (the pipeline)::

    generations = Generations(store.load(conn))        # compile once per change
    outcome = evaluate(generations.current, facts)     # per message, no I/O

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
