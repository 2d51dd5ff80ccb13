"""The rule engine's answer for one message: decisions, steps to run and edits to make.

The engine decides; the pipeline acts. An :class:`Outcome` holds

- one :class:`Decision` per recipient: its final action (accept, block, quarantine) and the
  rule that took it (``default-accept`` when no final rule matched);
- the :data:`Step` list in PMG's execution order: deliveries, quarantine copies, blocks,
  notifications and BCCs. A step that sends content carries the edits that content has at
  that moment, so the pipeline can build exactly what PMG would have sent;
- the final content groups (PMG's ModGroup): recipients whose copies of the mail differ, each
  with its :data:`Edit` list (header changes, removed attachments, disclaimers);
- the matched rule ids (for the hit counters), ``__RULE_INFO__`` text, the spam level for the
  statistics and ``notes``: log lines about decisions (user lists, unavailable LDAP).

Parts are named by aid; a negative reference ``-n`` names the replacement text part that took
the place of removed part ``n``.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- edits: what to change in one copy of the mail ----------------------------------------


@dataclass(frozen=True, slots=True)
class DeleteHeader:
    """Delete every instance of header ``name`` (PMG deletes incoming ``X-`` headers that an
    active rule would set, before any rule runs)."""

    name: str


@dataclass(frozen=True, slots=True)
class SetHeader:
    """Set header ``name`` to ``value`` (already RFC 2047 encoded and folded; may be empty):
    the first instance is replaced, or the header added when there is none (PMG's
    ``Mail::Header::replace``). ``text`` is the value before encoding."""

    name: str
    value: str
    text: str


@dataclass(frozen=True, slots=True)
class Replacement:
    """A removed part and the text attachment put in its place."""

    aid: int
    original_filename: str
    filename: str
    content_type: str
    text: str


@dataclass(frozen=True, slots=True)
class RemoveAttachments:
    """Replace parts by text attachments. With ``make_multipart`` the single-part mail first
    becomes ``multipart/mixed`` with its body as the first (and only) part."""

    rule: str
    replacements: tuple[Replacement, ...]
    make_multipart: bool = False


@dataclass(frozen=True, slots=True)
class PrefixMessageId:
    """Insert ``prefix`` + the process id + ``-`` after the ``<`` of ``Message-ID`` (PMG does
    this after an attachment-quarantine copy was stored, so two mails never share an id)."""

    prefix: str = "pmg-aquar-"


@dataclass(frozen=True, slots=True)
class DisclaimerTarget:
    """One text leaf the disclaimer goes into: ``kind`` ``html`` or ``text``; ``ok`` False
    when the text cannot be written in the part's ``charset`` (then the part stays as it is
    and PMG logs "adding disclaimer failed")."""

    ref: int
    kind: str
    charset: str
    ok: bool


@dataclass(frozen=True, slots=True)
class AddDisclaimer:
    """Add ``html`` (to text/html) or ``text`` (to text/plain) at the ``position`` (``start``
    or ``end``) of each target part; each already ends with a newline."""

    rule: str
    position: str
    html: str
    text: str
    targets: tuple[DisclaimerTarget, ...]


Edit = DeleteHeader | SetHeader | RemoveAttachments | PrefixMessageId | AddDisclaimer

# --- steps: what to do, in order ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deliver:
    """Re-inject the content (``edits``) to ``recipients``; DKIM-sign it when asked."""

    rule: str
    rule_id: int | None
    recipients: tuple[str, ...]
    edits: tuple[Edit, ...]
    dkim_sign: bool = False


@dataclass(frozen=True, slots=True)
class Quarantine:
    """Store the content in the spam (``S``) or virus (``V``) quarantine for ``recipients``."""

    rule: str
    rule_id: int | None
    qtype: str
    recipients: tuple[str, ...]
    edits: tuple[Edit, ...]


@dataclass(frozen=True, slots=True)
class AttachmentQuarantine:
    """Store the content, before its attachments are removed, in the attachment quarantine."""

    rule: str
    rule_id: int | None
    recipients: tuple[str, ...]
    edits: tuple[Edit, ...]


@dataclass(frozen=True, slots=True)
class Block:
    rule: str
    rule_id: int | None
    recipients: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Notify:
    """Send a notification (envelope sender ``postmaster``); ``attach_original`` attaches the
    received message as ``original_message.eml``."""

    rule: str
    rule_id: int | None
    to: tuple[str, ...]
    subject: str
    body: str
    attach_original: bool


@dataclass(frozen=True, slots=True)
class Bcc:
    """Send a copy (``edits``) to ``to`` with the original envelope sender, NOTIFY=NEVER."""

    rule: str
    rule_id: int | None
    to: tuple[str, ...]
    edits: tuple[Edit, ...]
    original: bool


Step = Deliver | Quarantine | AttachmentQuarantine | Block | Notify | Bcc

# --- the answer ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """A recipient's final fate: ``accept``, ``block`` or ``quarantine`` (``S``/``V``)."""

    recipient: str
    action: str
    rule: str
    rule_id: int | None
    quarantine: str | None = None


@dataclass(frozen=True, slots=True)
class ContentGroup:
    recipients: tuple[str, ...]
    edits: tuple[Edit, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    decisions: tuple[Decision, ...]
    steps: tuple[Step, ...]
    groups: tuple[ContentGroup, ...]
    matched_rules: tuple[int, ...]
    rule_info: str
    spam_level: int
    notes: tuple[str, ...]

    def decision(self, recipient: str) -> Decision:
        for decision in self.decisions:
            if decision.recipient == recipient:
                return decision
        raise KeyError(recipient)

    def edits_for(self, recipient: str) -> tuple[Edit, ...]:
        """The edits of the content group ``recipient`` ends up in."""
        for group in self.groups:
            if recipient in group.recipients:
                return group.edits
        raise KeyError(recipient)
