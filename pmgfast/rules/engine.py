"""The rule engine: one message's facts in, PMG's decisions and edits out (``apply_rules``).

Pure: no network, no disk, no clock (the time is a fact). For one message:

1. The rules of its direction run in order (priority, then id, descending). A rule applies when
   FROM (sender and client IP) and WHEN match; WHAT gives marks per recipient; every recipient
   that is not final yet, has marks and passes TO is recorded for the rule, and becomes final
   when the rule has a final action. Later rules still see the recipients left open.
2. ``__RULE_INFO__`` summarises the matching rules.
3. The actions run rule by rule, sorted by priority and stopping after the first final one,
   on recipient groups that split whenever an action changes the mail for only some of them.
4. Recipients no final rule caught are accepted by the implicit ``default-accept``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pmgfast.rules.compile import CClass, CRule, RuleSet
from pmgfast.rules.execution import ActionRun
from pmgfast.rules.facts import HostInfo, MessageFacts, SpamHit
from pmgfast.rules.ldap import NO_LDAP, LdapResolver
from pmgfast.rules.macros import spam_info
from pmgfast.rules.marks import WHOLE, Marks, combine_class, combine_group, match_list_with_mode
from pmgfast.rules.modgroup import ModGroup
from pmgfast.rules.objects import RuleObject
from pmgfast.rules.objects.action import Accept
from pmgfast.rules.objects.what import Spam, Virus
from pmgfast.rules.objects.when import WhenObject
from pmgfast.rules.outcome import (
    Block,
    Decision,
    Deliver,
    Edit,
    Outcome,
    Quarantine,
    SetHeader,
    Step,
)

DEFAULT_HOST = HostInfo()
_DEFAULT_ACCEPT = Accept()
BLOCKLIST_HIT = SpamHit("USER_IN_BLOCKLIST", 100, "From: address is in the user block-list")


@dataclass(frozen=True, slots=True)
class SpamInfo:
    """The spam data a rule's macros show (PMG ``spaminfo``)."""

    score: int
    hits: tuple[SpamHit, ...]

    @property
    def hit_names(self) -> str:
        return ",".join(hit.rule for hit in self.hits)


@dataclass(slots=True)
class _Match:
    rule: CRule
    targets: tuple[str, ...]
    marks: dict[str, Marks]
    spaminfo: SpamInfo | None


class _Evaluation:
    def __init__(
        self, ruleset: RuleSet, facts: MessageFacts, host: HostInfo, ldap: LdapResolver
    ) -> None:
        self.ruleset = ruleset
        self.matcher = ruleset.matcher
        self.facts = facts
        self.host = host
        self.ldap = ldap
        self.notes: list[str] = []
        self.max_aid = facts.max_aid
        ip = facts.client_ip
        self.ip = ip[5:] if ip and ip.startswith("IPv6:") else ip
        self.parts: dict[int, tuple[int, ...]] | None = None
        self.spam_analyzed = False
        self.ldap_noted = False

    # --- WHO and WHEN -----------------------------------------------------------------------

    def _note_ldap(self, obj: RuleObject) -> None:
        if not self.ldap_noted:
            self.ldap_noted = True
            self.notes.append(
                f"LDAP object {obj.id} ({obj.describe()}) cannot be resolved: no LDAP is "
                "configured, so it does not match"
            )

    def who_class(self, cclass: CClass, address: str, ip: str | None) -> bool:
        """PMG ``match_list_with_mode`` over the groups, each over its objects."""
        if cclass.ldap is not None and not self.ldap.available:
            self._note_ldap(cclass.ldap)
        who_group = self.matcher.who_group
        ldap = self.ldap
        if cclass.and_:
            for group in cclass.groups:
                if not who_group(group, address, ip, ldap):
                    return cclass.invert
            return not cclass.invert
        for group in cclass.groups:
            if who_group(group, address, ip, ldap):
                return not cclass.invert
        return cclass.invert

    def when_class(self, cclass: CClass) -> bool:
        now = self.facts.time

        def test(key: int, obj: RuleObject) -> bool:
            return isinstance(obj, WhenObject) and obj.matches(now)

        return match_list_with_mode(
            cclass.groups,
            cclass.and_,
            cclass.invert,
            lambda group: match_list_with_mode(
                group.objects, group.and_, group.invert, lambda item: test(*item)
            ),
        )

    # --- WHAT --------------------------------------------------------------------------------

    def _spam(self, obj: Spam) -> tuple[dict[str, Marks], SpamInfo | None]:
        """Per recipient: ``()`` when the spam object matches, else None; and the spam info."""
        self.spam_analyzed = True
        facts = self.facts
        spam = facts.spam
        senders = (facts.sender, *facts.from_addresses)
        result: dict[str, Marks] = {}
        info: SpamInfo | None = None
        for target in facts.recipients:
            pmail = facts.primary(target)
            lists = facts.user_lists.get(pmail)
            if spam.score >= obj.level:
                if lists and lists.welcome and lists.welcome.matches(senders):
                    self._note(f"sender in user ({pmail}) welcomelist")
                    result[target] = None
                else:
                    result[target] = WHOLE
                    info = info or SpamInfo(spam.score, spam.hits)
            elif lists and lists.block and lists.block.matches(senders):
                self._note(f"sender in user ({pmail}) blocklist")
                result[target] = WHOLE
                info = info or SpamInfo(100, (BLOCKLIST_HIT,))
            else:
                result[target] = None
        return result, info

    def _note(self, line: str) -> None:
        if line not in self.notes:
            self.notes.append(line)

    def _object_marks(self, key: int, obj: RuleObject) -> Marks:
        if isinstance(obj, Virus):
            return WHOLE if self.facts.virus else None
        if self.parts is None:
            self.parts = self.matcher.part_hits(self.facts)
        return self.parts.get(key)

    def what_marks(self, rule: CRule) -> tuple[dict[str, Marks], SpamInfo | None]:
        targets = self.facts.recipients
        what = rule.what
        if what is None:
            return dict.fromkeys(targets, WHOLE), None
        max_aid = self.max_aid
        spaminfo: SpamInfo | None = None
        if not rule.has_spam:
            object_marks = self._object_marks
            group_marks: list[Marks] = []
            for g in what.groups:
                if g.part_keys is not None and max_aid and not g.and_ and not g.invert:
                    if self.parts is None:
                        self.parts = self.matcher.part_hits(self.facts)
                    if self.parts.keys().isdisjoint(g.part_keys):
                        group_marks.append(None)  # no part matched any object of the group
                        continue
                found = [object_marks(k, o) for k, o in g.objects]
                if max_aid and not g.and_ and not g.invert and all(r is None for r in found):
                    group_marks.append(None)  # the usual case: nothing in the mail matched
                else:
                    group_marks.append(combine_group(found, g.and_, g.invert, max_aid))
            marks = combine_class(group_marks, what.and_, what.invert)
            return dict.fromkeys(targets, marks), None
        per_target: dict[str, list[Marks]] = {t: [] for t in targets}
        for group in what.groups:
            results: dict[str, list[Marks]] = {t: [] for t in targets}
            for key, obj in group.objects:
                if isinstance(obj, Spam):
                    by_target, info = self._spam(obj)
                    if spaminfo is None:
                        spaminfo = info
                    for t in targets:
                        results[t].append(by_target[t])
                else:
                    marks = self._object_marks(key, obj)
                    for t in targets:
                        results[t].append(marks)
            for t in targets:
                per_target[t].append(combine_group(results[t], group.and_, group.invert, max_aid))
        return {t: combine_class(per_target[t], what.and_, what.invert) for t in targets}, spaminfo

    # --- the two passes ----------------------------------------------------------------------

    def match(self) -> list[_Match]:
        facts = self.facts
        final: dict[str, bool] = {}
        matches = []
        for rule in self.ruleset.rules(facts.trusted):
            if rule.from_ is not None and not self.who_class(rule.from_, facts.sender, self.ip):
                continue
            if rule.when is not None and not self.when_class(rule.when):
                continue
            marks, spaminfo = self.what_marks(rule)
            targets = []
            for target in facts.recipients:
                if final.get(target) or marks[target] is None:
                    continue
                if rule.to is not None and not self.who_class(rule.to, target, None):
                    continue
                final[target] = rule.final
                targets.append(target)
            if targets:
                matches.append(_Match(rule, tuple(targets), marks, spaminfo))
        self.final = final
        return matches

    def run(self) -> Outcome:
        facts = self.facts
        matches = self.match()
        lines = []
        for m in matches:
            lines.append(f"Rule: {m.rule.name}\n")
            lines += [f"  Receiver: {t}\n" for t in m.targets]
            lines += [f"  Action: {a}\n" for a in m.rule.descriptions]
        rule_info = "".join(lines)
        modgroup = ModGroup(facts.recipients, self.ruleset.strip(facts.trusted))
        steps: list[Step] = []
        for m in matches:
            lookup = _Macros(self, m, rule_info, modgroup.base)
            run = ActionRun(
                facts,
                modgroup,
                steps,
                self.notes,
                m.rule.name,
                m.rule.id,
                m.targets,
                m.marks,
                lookup,
            )
            for action in m.rule.run_order:
                action.execute(run)
        unmatched = tuple(t for t in facts.recipients if not self.final.get(t))
        if unmatched:
            run = ActionRun(
                facts,
                modgroup,
                steps,
                self.notes,
                "default-accept",
                None,
                unmatched,
                {},
                _default_lookup,
            )
            _DEFAULT_ACCEPT.execute(run)
        return Outcome(
            decisions=_decisions(facts.recipients, steps),
            steps=tuple(steps),
            groups=modgroup.result(),
            matched_rules=tuple(m.rule.id for m in matches),
            rule_info=rule_info,
            spam_level=facts.spam.score if self.spam_analyzed else 0,
            notes=tuple(self.notes),
        )


def _default_lookup(name: str) -> str | None:
    return "default-accept" if name == "RULE" else None


class _Macros:
    """The macro values of one rule (PMG ``get_prox_vars``), computed when first asked."""

    __slots__ = ("base", "cache", "evaluation", "match", "rule_info")

    def __init__(
        self, evaluation: _Evaluation, match: _Match, rule_info: str, base: tuple[Edit, ...]
    ) -> None:
        self.evaluation = evaluation
        self.match = match
        self.rule_info = rule_info
        self.base = base
        self.cache: dict[str, str | None] = {}

    def __call__(self, name: str) -> str | None:
        try:
            return self.cache[name]
        except KeyError:
            value = self.cache[name] = self._value(name)
            return value

    def _spaminfo(self) -> SpamInfo | None:
        if self.match.spaminfo is not None:
            return self.match.spaminfo
        if self.evaluation.spam_analyzed:
            spam = self.evaluation.facts.spam
            return SpamInfo(spam.score, spam.hits)
        return None

    def _subject(self) -> str:
        for edit in reversed(self.base):
            if isinstance(edit, SetHeader) and edit.name.lower() == "subject":
                return edit.text + "\n"
        subject = self.evaluation.facts.subject
        return subject + "\n" if subject and subject != "0" else "No Subject"

    def _value(self, name: str) -> str | None:
        facts = self.evaluation.facts
        host = self.evaluation.host
        if name == "SUBJECT":
            return self._subject()
        if name == "RULE":
            return self.match.rule.name
        if name == "RULE_INFO":
            return self.rule_info
        if name == "SENDER":
            return facts.sender
        if name == "SENDER_IP":
            return facts.client_ip
        if name == "TARGETS":
            return ", ".join(self.match.targets)
        if name == "RECEIVERS":
            return ", ".join(facts.recipients)
        if name in ("SPAMLEVEL", "SPAMSTARS", "SPAM_HITS", "SPAM_INFO"):
            info = self._spaminfo()
            if name == "SPAMLEVEL":
                return None if info is None else str(info.score)
            if name == "SPAMSTARS":
                return "*" * min(info.score if info else 0, 100)
            if name == "SPAM_HITS":
                return None if info is None else info.hit_names
            return "" if info is None else spam_info(info.score, info.hits)
        if name == "VIRUS_INFO":
            return f"Virus Info: {facts.virus}\n" if facts.virus else ""
        if name == "ADMIN":
            return host.admin_email
        if name == "HOST":
            return host.hostname
        if name == "DOMAIN":
            return host.domain
        if name == "FQDN":
            return host.fqdn
        if name == "MSGID":
            return facts.message_id
        if name == "VERSION":
            return host.version
        return None


def _decisions(recipients: tuple[str, ...], steps: list[Step]) -> tuple[Decision, ...]:
    found: dict[str, Decision] = {}
    for step in steps:
        if isinstance(step, Deliver):
            for r in step.recipients:
                found.setdefault(r, Decision(r, "accept", step.rule, step.rule_id))
        elif isinstance(step, Quarantine):
            for r in step.recipients:
                found.setdefault(r, Decision(r, "quarantine", step.rule, step.rule_id, step.qtype))
        elif isinstance(step, Block):
            for r in step.recipients:
                found.setdefault(r, Decision(r, "block", step.rule, step.rule_id))
    return tuple(found[r] for r in recipients if r in found)


def evaluate(
    ruleset: RuleSet,
    facts: MessageFacts,
    host: HostInfo = DEFAULT_HOST,
    ldap: LdapResolver = NO_LDAP,
) -> Outcome:
    """Apply ``ruleset`` to one message."""
    return _Evaluation(ruleset, facts, host, ldap).run()
