"""ACTION objects: what a matching rule does (PMG ``RuleDB/{Accept,Block,Notify,...}.pm``).

Each action has PMG's ``priority`` (actions of a rule run in ascending priority) and ``final``
flag (a final action ends the rule's action list and settles its recipients). ``execute`` turns
the action into steps and edits on an :class:`~pmgfast.rules.execution.ActionRun`:

| action | priority | final | changes the mail |
|---|---|---|---|
| Header Attribute (``field``) | 10 | no | yes, its recipients' copy |
| Remove attachments | 40 | no | yes |
| Disclaimer | 49 | no | yes (first recipient group only, as PMG) |
| BCC | 80 | no | no |
| Notification | 89 | no | no |
| Quarantine | 90 | yes | no |
| Block | 98 | yes | no |
| Accept | 99 | yes | only when DKIM signs |
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Self

from pmgfast.rules import content
from pmgfast.rules.macros import (
    header_value,
    header_values,
    html_to_text,
    macros_in,
    substitute,
)
from pmgfast.rules.objects.base import FIELD_CHARS, Field, RuleObject, flag, text
from pmgfast.rules.outcome import (
    AddDisclaimer,
    AttachmentQuarantine,
    Bcc,
    Deliver,
    DisclaimerTarget,
    PrefixMessageId,
    RemoveAttachments,
    Replacement,
    SetHeader,
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

if TYPE_CHECKING:
    from pmgfast.rules.execution import ActionRun

DEFAULT_NOTIFY_BODY = """Proxmox Notification:

Sender:   __SENDER__
Receiver: __RECEIVERS__
Targets:  __TARGETS__

Subject: __SUBJECT__

Matching Rule: __RULE__

__RULE_INFO__

__VIRUS_INFO__
__SPAM_INFO__
"""

DEFAULT_DISCLAIMER = (
    "This e-mail and any attached files are confidential and may be legally privileged. If you "
    "are not the addressee, any disclosure, reproduction, copying, distribution, or other "
    "dissemination or use of this communication is strictly prohibited. If you have received "
    "this transmission in error please notify the sender immediately and then delete this "
    "mail.<br>\n"
    "E-mail transmission cannot be guaranteed to be secure or error free as information could "
    "be intercepted, corrupted, lost, destroyed, arrive late or incomplete, or contain viruses. "
    "The sender therefore does not accept liability for any errors or omissions in the "
    "contents of this message which arise as a result of e-mail transmission or changes to "
    "transmitted date not specifically approved by the sender.<br>\n"
    "If this e-mail or attached files contain information which do not relate to our "
    "professional activity we do not accept liability for such information.\n"
)

_HTML_TAG = re.compile(r"<\w+>")
_TEXT_KIND = re.compile(r"text/(html|plain)")
_LIST_SPLIT = re.compile(r"\s*,\s*")


def _split_targets(value: str) -> tuple[str, ...]:
    return tuple(t for t in _LIST_SPLIT.split(value.strip()) if t)


@dataclass(frozen=True, kw_only=True)
class ActionObject(RuleObject):
    oclass: ClassVar[str] = "action"
    priority: ClassVar[int]
    final: ClassVar[bool] = False
    edits_mail: ClassVar[bool] = False

    def execute(self, run: ActionRun) -> None:
        raise NotImplementedError

    def macros(self) -> frozenset[str]:
        """The macro names this action's texts use."""
        return frozenset()

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        return cls(id=object_id)

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        return b"", {}


@dataclass(frozen=True, kw_only=True)
class Accept(ActionObject):
    otype: ClassVar[int] = 4000
    type_name: ClassVar[str] = "accept"
    title: ClassVar[str] = "Accept"
    priority: ClassVar[int] = 99
    final: ClassVar[bool] = True

    def execute(self, run: ActionRun) -> None:
        dkim = run.facts.dkim_sign
        for recipients, index in run.modgroup.subgroups(run.targets, read_only=not dkim):
            run.steps.append(
                Deliver(run.rule, run.rule_id, recipients, run.modgroup.contents[index], dkim)
            )

    def describe(self) -> str:
        return "accept message"


@dataclass(frozen=True, kw_only=True)
class Block(ActionObject):
    otype: ClassVar[int] = 4001
    type_name: ClassVar[str] = "block"
    title: ClassVar[str] = "Block"
    priority: ClassVar[int] = 98
    final: ClassVar[bool] = True

    def execute(self, run: ActionRun) -> None:
        run.steps.append(BlockStep(run.rule, run.rule_id, run.targets))

    def describe(self) -> str:
        return "block message"


@dataclass(frozen=True, kw_only=True)
class Quarantine(ActionObject):
    """Final. Virus quarantine when a virus was found, else spam quarantine."""

    otype: ClassVar[int] = 4006
    type_name: ClassVar[str] = "quarantine"
    title: ClassVar[str] = "Move to quarantine"
    priority: ClassVar[int] = 90
    final: ClassVar[bool] = True

    def execute(self, run: ActionRun) -> None:
        qtype = "V" if run.facts.virus else "S"
        for recipients, index in run.modgroup.subgroups(run.targets, read_only=True):
            run.steps.append(
                QuarantineStep(
                    run.rule, run.rule_id, qtype, recipients, run.modgroup.contents[index]
                )
            )

    def describe(self) -> str:
        return "Move to quarantine."


@dataclass(frozen=True, kw_only=True)
class Notify(ActionObject):
    """A notification mail; ``to`` takes ``,`` and ``;`` separated addresses and macros."""

    otype: ClassVar[int] = 4002
    type_name: ClassVar[str] = "notification"
    title: ClassVar[str] = "Notification"
    priority: ClassVar[int] = 89
    FIELDS = (
        Field("to", "to", str, "__ADMIN__", max_length=200),
        Field("subject", "subject", str, "Notification: __SUBJECT__", max_length=100),
        Field("body", "body", str, DEFAULT_NOTIFY_BODY, max_length=2048),
        Field("attach", "attach", bool, False),
    )

    to: str = "__ADMIN__"
    subject: str = "Notification: __SUBJECT__"
    body: str = DEFAULT_NOTIFY_BODY
    attach: bool = False

    def macros(self) -> frozenset[str]:
        return macros_in(self.to) | macros_in(self.subject) | macros_in(self.body)

    def execute(self, run: ActionRun) -> None:
        to = substitute(self.to, run.lookup)
        if not to.strip():
            run.notes.append(f"notify <> (rule: {run.rule}, ignored)")
            return
        to = re.sub(r"\s+", ",", re.sub(r"[;,]", " ", to))
        run.steps.append(
            NotifyStep(
                run.rule,
                run.rule_id,
                _split_targets(to),
                substitute(self.subject, run.lookup),
                substitute(self.body, run.lookup),
                self.attach,
            )
        )

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        return cls(
            id=object_id,
            to=text(value),
            subject=text(attrs.get("subject", b"Notification: __SUBJECT__")),
            body=text(attrs.get("body", DEFAULT_NOTIFY_BODY.encode())),
            attach=attrs.get("attach") == b"O",
        )

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        return self.to.encode(), {
            "subject": self.subject.encode(),
            "body": self.body.encode(),
            "attach": b"O" if self.attach else b"N",
        }

    def describe(self) -> str:
        return f"notify {self.to}"


@dataclass(frozen=True, kw_only=True)
class ModField(ActionObject):
    """Header Attribute: set ``field`` to the expanded ``value`` (first instance replaced)."""

    otype: ClassVar[int] = 4003
    type_name: ClassVar[str] = "field"
    title: ClassVar[str] = "Header Attribute"
    priority: ClassVar[int] = 10
    edits_mail: ClassVar[bool] = True
    FIELDS = (
        Field("field", "field", str, max_length=1024),
        Field("value", "value", str, max_length=1024),
    )

    field: str = ""
    value: str = ""

    def validate(self) -> list[str]:
        if not FIELD_CHARS.fullmatch(self.field):
            return [f"field: {self.field!r} is not a header field name"]
        return []

    def macros(self) -> frozenset[str]:
        return macros_in(self.value)

    def execute(self, run: ActionRun) -> None:
        value, plain = header_values(self.value, run.lookup)
        edit = SetHeader(self.field, value, plain)
        for _, index in run.modgroup.subgroups(run.targets):
            run.modgroup.add(index, edit)

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        field, _, field_value = text(value).partition(":")
        return cls(id=object_id, field=field, value=field_value)

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        return f"{self.field}:{self.value}".encode(), {}

    def describe(self) -> str:
        return f"modify field: {self.field}:{self.value}"


@dataclass(frozen=True, kw_only=True)
class BCC(ActionObject):
    """Send a copy to ``target``: the mail as received by the rule system's first copy
    (``original``), or each recipient group's current copy."""

    otype: ClassVar[int] = 4005
    type_name: ClassVar[str] = "bcc"
    title: ClassVar[str] = "BCC"
    priority: ClassVar[int] = 80
    FIELDS = (
        Field("target", "target", str, max_length=512),
        Field("original", "original", bool, True),
    )

    target: str = "receiver@domain.tld"
    original: bool = True

    def validate(self) -> list[str]:
        return [] if self.target.strip() else ["target: required"]

    def macros(self) -> frozenset[str]:
        return macros_in(self.target)

    def execute(self, run: ActionRun) -> None:
        groups = run.modgroup.subgroups(run.targets, read_only=True)
        to = header_value(self.target, run.lookup)
        if not to.strip():
            run.notes.append(f"bcc to <> (rule: {run.rule}, ignored)")
            return
        targets = _split_targets(to)
        if self.original:
            run.steps.append(Bcc(run.rule, run.rule_id, targets, run.modgroup.base, True))
            return
        for _, index in groups:
            run.steps.append(
                Bcc(run.rule, run.rule_id, targets, run.modgroup.contents[index], False)
            )

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        match = re.match(rb"([01]):(.*)", value, re.DOTALL)
        if not match:
            return cls(id=object_id, target=text(value))
        return cls(id=object_id, target=text(match.group(2)), original=match.group(1) == b"1")

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        return f"{int(self.original)}:{self.target}".encode(), {}

    def describe(self) -> str:
        return f"send bcc to: {self.target}" + (" (original)" if self.original else "")


@dataclass(frozen=True, kw_only=True)
class Remove(ActionObject):
    """Remove attachments: the parts the rule's WHAT marked, or with ``all`` every attachment
    and everything after the first text body; ``quarantine`` keeps the original in the
    attachment quarantine first. ``text`` replaces each removed part (``__FILENAME__``)."""

    otype: ClassVar[int] = 4007
    type_name: ClassVar[str] = "removeattachments"
    title: ClassVar[str] = "Remove attachments"
    priority: ClassVar[int] = 40
    edits_mail: ClassVar[bool] = True
    FIELDS = (
        Field("all", "all", bool, False),
        Field("quarantine", "quarantine", bool, False),
        Field("text", "text", str, "", max_length=2048),
    )

    all: bool = False
    quarantine: bool = False
    text: str = ""

    def macros(self) -> frozenset[str]:
        return macros_in(self.text)

    def replacement_text(self, run: ActionRun) -> str:
        html = substitute(self.text, run.lookup)
        if not html:
            html = "This attachment was removed: __FILENAME__\n"
            if self.quarantine:
                html += (
                    "It was put into the Attachment Quarantine, please contact your Administrator\n"
                )
        return html

    def execute(self, run: ActionRun) -> None:
        if not self.all and not any(run.marks.values()):
            return
        groups = run.modgroup.subgroups(run.targets)
        html = self.replacement_text(run)
        rtype = "text/html" if _HTML_TAG.search(html) else "text/plain"
        extension = "html" if rtype == "text/html" else "txt"
        filenames = {p.aid: p.filename or "" for p in run.facts.parts}
        for recipients, index in groups:
            if self.quarantine:
                run.steps.append(
                    AttachmentQuarantine(
                        run.rule, run.rule_id, recipients, run.modgroup.contents[index]
                    )
                )
                run.modgroup.add(index, PrefixMessageId())
            root = run.tree(run.modgroup.contents[index])
            make_multipart = content.needs_multipart(root, self.all)
            if make_multipart:
                root = content.Node(None, "multipart/mixed", None, [root])
            marks = run.marks.get(recipients[0]) or ()
            removed = content.removal(root, self.all, set(marks))
            if not removed and not make_multipart:
                continue
            replacements = tuple(
                Replacement(
                    aid,
                    filenames.get(aid, ""),
                    f"REMOVED_ATTACHMENT_{aid}.{extension}",
                    rtype,
                    html.replace("__FILENAME__", filenames.get(aid, "")),
                )
                for aid in removed
            )
            run.modgroup.add(index, RemoveAttachments(run.rule, replacements, make_multipart))

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        match = re.fullmatch(rb"([01]),([01])(?::(.*))?", value, re.DOTALL)
        if match:
            return cls(
                id=object_id,
                all=match.group(1) == b"1",
                quarantine=match.group(2) == b"1",
                text=text(match.group(3) or b""),
            )
        match = re.fullmatch(rb"([01])(?::(.*))?", value, re.DOTALL)
        if match:
            return cls(id=object_id, all=match.group(1) == b"1", text=text(match.group(2) or b""))
        return cls(id=object_id)

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        value = f"{int(self.all)},{int(self.quarantine)}"
        if self.text:
            value += f":{self.text}"
        return value.encode(), {}

    def describe(self) -> str:
        return "remove all attachments" if self.all else "remove matching attachments"


@dataclass(frozen=True, kw_only=True)
class Disclaimer(ActionObject):
    """Add an (HTML) disclaimer to the first text part (every alternative of a
    multipart/alternative) at the ``start`` or ``end``, with a ``--`` separator line unless
    ``add-separator`` is off. Like PMG, only the first recipient group gets it."""

    otype: ClassVar[int] = 4009
    type_name: ClassVar[str] = "disclaimer"
    title: ClassVar[str] = "Disclaimer"
    priority: ClassVar[int] = 49
    edits_mail: ClassVar[bool] = True
    FIELDS = (
        Field("disclaimer", "disclaimer", str, DEFAULT_DISCLAIMER, max_length=2048),
        Field("position", "position", str, "end"),
        Field("add-separator", "add_separator", bool, True),
    )

    disclaimer: str = DEFAULT_DISCLAIMER
    position: str = "end"
    add_separator: bool = True

    def validate(self) -> list[str]:
        problems = []
        if self.position not in ("start", "end"):
            problems.append(f"position: {self.position!r} is not start or end")
        if any(len(line.encode()) >= 998 for line in self.disclaimer.split("\n")):
            problems.append("disclaimer: a line of 998 bytes or more breaks RFC 5322")
        return problems

    def macros(self) -> frozenset[str]:
        return macros_in(self.disclaimer)

    def execute(self, run: ActionRun) -> None:
        groups = run.modgroup.subgroups(run.targets)
        if not groups:
            return
        _, index = groups[0]
        separator = "<br>--<br>" if self.add_separator else "<br>"
        value = substitute(self.disclaimer, run.lookup)
        html = value + separator if self.position == "start" else separator + value
        plain = html_to_text(html) + "\n"
        html += "\n"
        targets = []
        for node in content.disclaimer_targets(run.tree(run.modgroup.contents[index])):
            match = _TEXT_KIND.search(node.mime_type)
            kind = "html" if match and match.group(1) == "html" else "text"
            charset = node.charset or "ascii"
            data = html if kind == "html" else plain
            targets.append(
                DisclaimerTarget(node.ref or 0, kind, charset, content.encodable(data, charset))
            )
        run.modgroup.add(index, AddDisclaimer(run.rule, self.position, html, plain, tuple(targets)))

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        separator = attrs.get("separator")
        return cls(
            id=object_id,
            disclaimer=text(value),
            position="start" if flag(attrs.get("top")) else "end",
            add_separator=True if separator is None else flag(separator),
        )

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        attrs = {}
        if self.position == "start":
            attrs["top"] = b"1"
        if not self.add_separator:
            attrs["separator"] = b"0"
        return self.disclaimer.encode(), attrs

    def describe(self) -> str:
        return "disclaimer"


ACTION_TYPES: tuple[type[ActionObject], ...] = (
    Accept, Block, Quarantine, Notify, ModField, BCC, Remove, Disclaimer,
)  # fmt: skip
