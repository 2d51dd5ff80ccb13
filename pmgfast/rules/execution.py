"""What an action sees while it runs: the message, its recipient groups and the rule's match.

The engine makes one :class:`ActionRun` per matching rule and hands it to each of the rule's
actions in turn (PMG's ``execute`` arguments: queue, mod_group, targets, msginfo, vars,
marks). Actions add steps and edits; they never touch the network or the disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pmgfast.rules import content
from pmgfast.rules.facts import MessageFacts
from pmgfast.rules.macros import Lookup
from pmgfast.rules.marks import Marks
from pmgfast.rules.modgroup import ModGroup
from pmgfast.rules.outcome import Edit, Step


@dataclass(slots=True)
class ActionRun:
    facts: MessageFacts
    modgroup: ModGroup
    steps: list[Step]
    notes: list[str]
    rule: str
    rule_id: int | None
    targets: tuple[str, ...]
    marks: Mapping[str, Marks]
    lookup: Lookup

    def tree(self, edits: tuple[Edit, ...]) -> content.Node:
        return content.tree(self.facts, edits)
