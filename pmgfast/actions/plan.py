"""From the rule engine's outcome to what happens to the mail Postfix holds (pure, no I/O).

A milter answers once per message, for all recipients together, and can change Postfix's copy
(headers, body, recipients). So the outcome is mapped like this:

- the accepted recipients whose copy is the same form one *delivery*; the largest delivery
  stays in Postfix's copy (its edits become milter header and body changes), every other
  delivery is re-injected as a separate message and its recipients are removed from the
  original, so each recipient gets exactly the content its rules produced;
- quarantined and blocked recipients are removed from the original;
- the reply: ``accept`` while some recipient remains; all recipients blocked: ``reject``
  (before-queue: ``554 5.7.1``, PMG's answer; after-queue only with ``ndr_on_block``, so Postfix
  bounces, otherwise ``discard``, PMG's silent drop); nothing left but nobody blocked either
  (all quarantined or re-injected): ``discard`` (the client sees 250);
- with ``ndr_on_block``, blocked recipients of a mail that is not rejected as a whole get an NDR.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pmgfast.rules.outcome import (
    AttachmentQuarantine,
    Bcc,
    Block,
    Deliver,
    Edit,
    Notify,
    Outcome,
    Quarantine,
)


@dataclass(frozen=True, slots=True)
class Plan:
    kept: tuple[Deliver, ...]  # deliveries that stay in Postfix's copy
    kept_edits: tuple[Edit, ...]
    reinject: tuple[Deliver, ...]
    store: tuple[Quarantine | AttachmentQuarantine, ...]
    blocked: tuple[str, ...]
    sends: tuple[Notify | Bcc, ...]
    remove: tuple[str, ...]  # recipients to delete from Postfix's copy
    reply: str  # "accept", "reject" or "discard"
    ndr: tuple[str, ...]  # blocked recipients to report in an NDR

    @property
    def kept_recipients(self) -> tuple[str, ...]:
        return tuple(r for step in self.kept for r in step.recipients)


def plan(
    outcome: Outcome, recipients: Sequence[str], before_queue: bool, ndr_on_block: bool
) -> Plan:
    delivers = [s for s in outcome.steps if isinstance(s, Deliver)]
    # One delivery per distinct content; the largest stays in Postfix's copy.
    by_content: dict[tuple[Edit, ...], list[Deliver]] = {}
    for step in delivers:
        by_content.setdefault(step.edits, []).append(step)
    kept_edits: tuple[Edit, ...] = ()
    kept: list[Deliver] = []
    if by_content:
        kept_edits = max(by_content, key=lambda e: sum(len(s.recipients) for s in by_content[e]))
        kept = by_content[kept_edits]
    kept_ids = {id(s) for s in kept}
    reinject = tuple(s for s in delivers if id(s) not in kept_ids)
    store = tuple(s for s in outcome.steps if isinstance(s, Quarantine | AttachmentQuarantine))
    blocked = tuple(
        dict.fromkeys(r for s in outcome.steps if isinstance(s, Block) for r in s.recipients)
    )
    sends = tuple(s for s in outcome.steps if isinstance(s, Notify | Bcc))
    keep = {r for s in kept for r in s.recipients}
    remove = tuple(r for r in recipients if r not in keep)
    everyone = set(recipients)
    all_blocked = bool(everyone) and everyone <= set(blocked)
    if keep:
        reply = "accept"
    elif all_blocked and (before_queue or ndr_on_block):
        reply = "reject"
    else:
        reply = "discard"
    ndr = blocked if ndr_on_block and reply != "reject" else ()
    return Plan(
        kept=tuple(kept),
        kept_edits=kept_edits,
        reinject=reinject,
        store=store,
        blocked=blocked,
        sends=sends,
        remove=remove,
        reply=reply,
        ndr=ndr,
    )
