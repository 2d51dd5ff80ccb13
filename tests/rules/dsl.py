"""A small language for writing rule-engine test cases as readable tables.

A case names its rules (``rule(...)`` with groups of objects), its mail (``mail(...)``) and the
expected outcome (``expect``: ``"<action> <rule>"`` for every recipient, or per recipient), plus
optional details: removed parts, headers set, steps, notes, recipient groups. ``run_case``
checks a case against an engine and returns the outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pmgfast.rules import objects as o
from pmgfast.rules.compile import compile_rules
from pmgfast.rules.engine import evaluate
from pmgfast.rules.facts import HostInfo, MessageFacts, Part, SpamHit, SpamResult
from pmgfast.rules.ldap import NO_LDAP, LdapResolver
from pmgfast.rules.model import BOTH, IN, OUT, ClassUse, Group, Rule, RuleDB
from pmgfast.rules.objects.action import (
    BCC,
    Accept,
    Block,
    Disclaimer,
    ModField,
    Notify,
    Quarantine,
    Remove,
)
from pmgfast.rules.objects.what import (
    ArchiveFilter,
    ContentTypeFilter,
    MatchArchiveFilename,
    MatchField,
    MatchFilename,
    Spam,
    Virus,
)
from pmgfast.rules.objects.when import TimeFrame, minutes_of
from pmgfast.rules.objects.who import (
    Domain,
    EMail,
    IPAddress,
    IPNet,
    LdapGroup,
    LdapUser,
    Receiver,
    ReceiverDomain,
    ReceiverRegex,
    WhoRegex,
)
from pmgfast.rules.outcome import (
    AttachmentQuarantine,
    Bcc,
    Deliver,
    Outcome,
    RemoveAttachments,
    SetHeader,
    Step,
)
from pmgfast.rules.outcome import (
    Block as BlockStep,
)
from pmgfast.rules.outcome import (
    Notify as NotifyStep,
)
from pmgfast.rules.outcome import (
    Quarantine as QuarantineStep,
)
from pmgfast.rules.userlists import UserLists

HOST = HostInfo(
    admin_email="postmaster@gw.example", hostname="gw", domain="example.net", version="pmgfast/test"
)
ME = "user@local.example"
OTHER = "other@local.example"
EXT = "sender@ext.example"

# --- objects ------------------------------------------------------------------------------


def email(v: str) -> o.RuleObject:
    return EMail(email=v)


def domain(v: str) -> o.RuleObject:
    return Domain(domain=v)


def regex(v: str) -> o.RuleObject:
    return WhoRegex(regex=v)


def ip(v: str) -> o.RuleObject:
    return IPAddress(ip=v)


def net(v: str) -> o.RuleObject:
    return IPNet(cidr=v)


def receiver(v: str) -> o.RuleObject:
    return Receiver(email=v)


def receiver_domain(v: str) -> o.RuleObject:
    return ReceiverDomain(domain=v)


def receiver_regex(v: str) -> o.RuleObject:
    return ReceiverRegex(regex=v)


def spam(level: int) -> o.RuleObject:
    return Spam(level=level)


def virus() -> o.RuleObject:
    return Virus()


def fname(v: str) -> o.RuleObject:
    return MatchFilename(filename=v)


def archive(v: str) -> o.RuleObject:
    return ArchiveFilter(contenttype=v)


def archfn(v: str) -> o.RuleObject:
    return MatchArchiveFilename(filename=v)


def ldap(mode: str, group: str = "", profile: str = "") -> o.RuleObject:
    return LdapGroup(mode=mode, group=group, profile=profile)


def ldapuser(account: str, profile: str) -> o.RuleObject:
    return LdapUser(account=account, profile=profile)


def ct(v: str, only: bool = False) -> o.RuleObject:
    return ContentTypeFilter(contenttype=v, only_content=only)


def header(name: str, value: str, top: bool = False) -> o.RuleObject:
    return MatchField(field=name, value=value, top_part_only=top)


def time(start: str, end: str) -> o.RuleObject:
    return TimeFrame(start=minutes_of(start) or 0, end=minutes_of(end) or 0)


ACCEPT: o.RuleObject = Accept()
BLOCK: o.RuleObject = Block()
QUARANTINE: o.RuleObject = Quarantine()


def notify(
    to: str, subject: str = "N: __SUBJECT__", body: str = "body", attach: bool = False
) -> o.RuleObject:
    return Notify(to=to, subject=subject, body=body, attach=attach)


def setheader(name: str, value: str) -> o.RuleObject:
    return ModField(field=name, value=value)


def bcc(target: str, original: bool = True) -> o.RuleObject:
    return BCC(target=target, original=original)


def remove(all: bool = False, quarantine: bool = False, text: str = "") -> o.RuleObject:
    return Remove(all=all, quarantine=quarantine, text=text)


def disclaimer(
    text: str = "Legal <b>note</b>", position: str = "end", separator: bool = True
) -> o.RuleObject:
    return Disclaimer(disclaimer=text, position=position, add_separator=separator)


# --- groups, classes, rules ---------------------------------------------------------------


@dataclass(eq=False)
class G:
    """A group; the same ``G`` used in two rules is one group."""

    objects: tuple[o.RuleObject, ...]
    all: bool = False
    invert: bool = False
    name: str = ""


def group(*objects: o.RuleObject, all: bool = False, invert: bool = False) -> G:
    return G(objects, all, invert)


@dataclass
class C:
    """A rule's class: its groups and the rule's own any/all and invert."""

    groups: tuple[G, ...]
    all: bool = False
    invert: bool = False


def cls(*groups: G, all: bool = False, invert: bool = False) -> C:
    return C(groups, all, invert)


ClassSpec = C | G | o.RuleObject | Sequence[o.RuleObject | G] | None


def _as_class(spec: ClassSpec) -> C | None:
    if spec is None:
        return None
    if isinstance(spec, C):
        return spec
    if isinstance(spec, G):
        return C((spec,))
    if isinstance(spec, o.RuleObject):
        return C((G((spec,)),))
    items = list(spec)
    if all(isinstance(i, G) for i in items):
        return C(tuple(items))  # type: ignore[arg-type]
    return C((G(tuple(items)),))  # type: ignore[arg-type]


@dataclass
class R:
    name: str
    priority: int
    classes: dict[str, C | None]
    direction: int = IN
    active: bool = True


def rule(
    name: str,
    priority: int = 50,
    *,
    frm: ClassSpec = None,
    to: ClassSpec = None,
    when: ClassSpec = None,
    what: ClassSpec = None,
    action: ClassSpec = None,
    direction: str = "in",
    active: bool = True,
) -> R:
    return R(
        name,
        priority,
        {
            "from": _as_class(frm),
            "to": _as_class(to),
            "when": _as_class(when),
            "what": _as_class(what),
            "action": _as_class(action),
        },
        {"in": IN, "out": OUT, "both": BOTH}[direction],
        active,
    )


CLASS_OF = {"from": "who", "to": "who", "when": "when", "what": "what", "action": "action"}


def build(rules: Sequence[R]) -> RuleDB:
    """The rule database the specs describe; ids follow the order of appearance."""
    group_ids: dict[int, int] = {}
    groups: list[Group] = []
    object_id = 0
    built = []
    for rid, spec in enumerate(rules, start=1):
        uses = {}
        for cname, cspec in spec.classes.items():
            if cspec is None:
                continue
            ids = []
            for g in cspec.groups:
                if id(g) not in group_ids:
                    objs = []
                    for obj in g.objects:
                        object_id += 1
                        objs.append(_with_id(obj, object_id))
                    gid = len(groups) + 1
                    groups.append(
                        Group(
                            gid,
                            g.name or f"g{gid}",
                            CLASS_OF[cname],
                            and_=g.all,
                            invert=g.invert,
                            objects=tuple(objs),
                        )
                    )
                    group_ids[id(g)] = gid
                ids.append(group_ids[id(g)])
            uses[cname] = ClassUse(tuple(ids), cspec.all, cspec.invert)
        built.append(Rule(rid, spec.name, spec.priority, spec.active, spec.direction, uses=uses))
    db = RuleDB(tuple(groups), tuple(built))
    problems = db.problems()
    assert not problems, problems
    return db


def _with_id(obj: o.RuleObject, object_id: int) -> o.RuleObject:
    from dataclasses import replace

    return replace(obj, id=object_id)


# --- mail ---------------------------------------------------------------------------------


@dataclass
class P:
    """A MIME part; ``parent`` is the index (1-based) of the enclosing part, 0 for the top."""

    content_type: str = "text/plain"
    magic: str | None = None
    glob: str = ""
    name: str | None = None
    parent: int = 0
    charset: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    archive_types: tuple[str, ...] = ()
    archive_names: tuple[str, ...] = ()


def _parts(specs: Sequence[P]) -> tuple[Part, ...]:
    return tuple(
        Part(
            aid,
            s.parent,
            s.content_type,
            s.magic
            if s.magic is not None
            else ("" if s.content_type.lower().startswith("multipart/") else s.content_type),
            s.glob,
            s.name,
            s.charset,
            s.headers,
            s.archive_types,
            s.archive_names,
        )
        for aid, s in enumerate(specs, start=1)
    )


def mixed(*attachments: P, body: str = "text/plain") -> list[P]:
    """multipart/mixed (aid 1) with a text body (aid 2) and attachments (aid 3...)."""
    return [
        P("multipart/mixed"),
        P(body, parent=1),
        *[P(**{**a.__dict__, "parent": a.parent or 1}) for a in attachments],
    ]


def mail(
    sender: str = EXT,
    to: Sequence[str] = (ME,),
    parts: Sequence[P] | None = None,
    score: int = 0,
    hits: Sequence[tuple[str, float, str | None]] = (),
    virus: str | None = None,
    client_ip: str | None = "192.0.2.10",
    trusted: bool = False,
    at: str = "12:00",
    subject: str | None = "Hello",
    message_id: str = "<id@ext.example>",
    welcome: dict[str, str] | None = None,
    block: dict[str, str] | None = None,
    from_addresses: Sequence[str] = (),
    dkim: bool = False,
) -> MessageFacts:
    hh, mm = (int(x) for x in at.split(":"))
    lists = {}
    for pmail in {*(welcome or {}), *(block or {})}:
        lists[pmail] = UserLists.parse((welcome or {}).get(pmail), (block or {}).get(pmail))
    return MessageFacts(
        sender=sender,
        recipients=tuple(to),
        parts=_parts([P()] if parts is None else parts),
        client_ip=client_ip,
        trusted=trusted,
        time=datetime(2024, 5, 6, hh, mm),
        subject=subject,
        message_id=message_id,
        spam=SpamResult(score, 5, tuple(SpamHit(*h) for h in hits)),
        virus=virus,
        user_lists=lists,
        from_addresses=tuple(from_addresses),
        dkim_sign=dkim,
    )


class FakeLdap:
    """A directory for LDAP object cases: known addresses, group members, account addresses."""

    available = True

    def __init__(
        self,
        known: set[str] = frozenset(),
        groups: dict[str, set[str]] | None = None,
        accounts: dict[str, set[str]] | None = None,
    ) -> None:
        self.known = {a.lower() for a in known}
        self.groups = groups or {}
        self.accounts = accounts or {}

    def mail_exists(self, address: str, profile: str) -> bool:
        return address.lower() in self.known

    def user_in_group(self, address: str, group: str, profile: str) -> bool:
        return address.lower() in self.groups.get(group, set())

    def account_has_address(self, account: str, address: str, profile: str) -> bool:
        return address.lower() in self.accounts.get(account, set())


# --- cases --------------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    rules: list[R]
    mail: MessageFacts
    expect: str | dict[str, str]
    removed: list[int] | dict[str, list[int]] | None = None
    headers: dict[str, str] | dict[str, dict[str, str]] | None = None
    steps: list[str] | None = None
    notes: list[str] | None = None
    groups: list[list[str]] | None = None
    check: Callable[[Outcome], Any] | None = None
    ldap: LdapResolver = NO_LDAP
    host: HostInfo = HOST
    extra: dict[str, Any] = field(default_factory=dict)


def summarize(step: Step) -> str:
    if isinstance(step, Deliver):
        return f"deliver {','.join(step.recipients)}"
    if isinstance(step, QuarantineStep):
        return f"quarantine-{step.qtype} {','.join(step.recipients)}"
    if isinstance(step, AttachmentQuarantine):
        return f"attachment-quarantine {','.join(step.recipients)}"
    if isinstance(step, BlockStep):
        return f"block {','.join(step.recipients)}"
    if isinstance(step, NotifyStep):
        return f"notify {','.join(step.to)}"
    if isinstance(step, Bcc):
        return f"bcc {','.join(step.to)}" + (" original" if step.original else "")
    raise AssertionError(step)


def removed_aids(outcome: Outcome, recipient: str) -> list[int]:
    return [
        r.aid
        for e in outcome.edits_for(recipient)
        if isinstance(e, RemoveAttachments)
        for r in e.replacements
    ]


def headers_set(outcome: Outcome, recipient: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for edit in outcome.edits_for(recipient):
        if isinstance(edit, SetHeader):
            found[edit.name] = edit.value
    return found


def _per_recipient(value: Any, recipients: Sequence[str]) -> dict[str, Any]:
    """A per-recipient dict stays; anything else applies to every recipient."""
    if isinstance(value, dict) and value and all(k in recipients for k in value):
        return value
    return dict.fromkeys(recipients, value)


def run_case(case: Case, native: bool) -> Outcome:
    ruleset = compile_rules(build(case.rules), native=native)
    outcome = evaluate(ruleset, case.mail, case.host, case.ldap)
    recipients = case.mail.recipients
    expected = _per_recipient(case.expect, recipients)
    got = {d.recipient: f"{d.action} {d.rule}" for d in outcome.decisions}
    assert got == expected, f"decisions {got} != {expected}\n{outcome.rule_info}"
    if case.removed is not None:
        for rcpt, aids in _per_recipient(case.removed, recipients).items():
            assert removed_aids(outcome, rcpt) == aids, (rcpt, removed_aids(outcome, rcpt))
    if case.headers is not None:
        for rcpt, hdrs in _per_recipient(case.headers, recipients).items():
            assert headers_set(outcome, rcpt) == hdrs, (rcpt, headers_set(outcome, rcpt))
    if case.steps is not None:
        assert [summarize(s) for s in outcome.steps] == case.steps, outcome.steps
    if case.notes is not None:
        assert list(outcome.notes) == case.notes, outcome.notes
    if case.groups is not None:
        assert [list(g.recipients) for g in outcome.groups] == case.groups, outcome.groups
    if case.check is not None:
        case.check(outcome)
    return outcome
