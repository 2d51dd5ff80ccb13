"""The path of one message through pmgfast, top to bottom. This module only wires the stages.

::

    parse    the native MIME walk: a flat part table with types, filenames, defects
    scan     custom check, virus and spam scanners, each within its time budget
    rules    the compiled rule set decides per recipient (PMG's apply_rules and ModGroup)
    act      quarantine copies, re-inject copies that differ, notifications, BCC, NDR
    reply    what Postfix is told: accept (with header/body/recipient changes), reject,
             discard, or 451 with the filter id

The milter (:mod:`pmgfast.milter`) calls :meth:`Pipeline.process` at the end of each message;
``pmgfast scan`` calls the same method with dry-run effects, so both give the same verdicts.

Failure policy: an error anywhere in a message's processing (a scanner failing or out of time,
the database down, a re-injection refused, a native panic, any bug) answers ``451 4.x.x`` with
the filter id and logs why; Postfix keeps the mail and retries. Only the causes the admin lists
in ``pmgfast.milter_fail_open`` let the mail pass unfiltered instead (logged).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pmgfast import mime, unpack
from pmgfast.actions import generate, rewrite
from pmgfast.actions import log as loglines
from pmgfast.actions.effects import DryRun, Effects
from pmgfast.actions.headers import HeaderOp, header_ops, split_head
from pmgfast.actions.log import ListSink, Sink
from pmgfast.actions.plan import Plan, plan
from pmgfast.actions.reinject import Origin, ReinjectError, Target
from pmgfast.db.connect import DatabaseUnavailable
from pmgfast.quarantine.store import file_uid
from pmgfast.rules import Generations, HostInfo, MessageFacts, Outcome, SpamResult, evaluate
from pmgfast.rules import SpamHit as RuleSpamHit
from pmgfast.rules.ldap import NO_LDAP, LdapResolver
from pmgfast.rules.mime_facts import last_header, message_facts
from pmgfast.rules.outcome import (
    AddDisclaimer,
    AttachmentQuarantine,
    Bcc,
    Block,
    DeleteHeader,
    Deliver,
    Edit,
    Notify,
    Quarantine,
    RemoveAttachments,
    SetHeader,
)
from pmgfast.rules.userlists import UserLists
from pmgfast.scan import ScanItem, Scanner, ScannerFailure, ScanReport, run_scanners
from pmgfast.stats import StatRecipient, StatRow, StatsWriter

Mode = Literal["before-queue", "after-queue", "offline"]
FATAL_DEFECTS = frozenset({"TooManyPartsDefect", "TooDeepDefect"})
FAIL_OPEN_CAUSES = ("scanner", "database", "internal")


# --- what comes in -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    """An envelope recipient as Postfix gave it, with its ESMTP parameters."""

    address: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Envelope:
    """The SMTP side of a message. ``trusted``: outgoing mail (PMG's port 26 / 10023)."""

    sender: str
    recipients: tuple[Recipient, ...]
    sender_params: tuple[tuple[str, str], ...] = ()
    client_address: str | None = None
    client_name: str | None = None
    helo: str | None = None
    trusted: bool = False
    queue_id: str | None = None
    mode: Mode = "offline"

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(r.address for r in self.recipients)


@dataclass(slots=True)
class Mail:
    """One message: its envelope and its bytes (headers, blank line, body)."""

    envelope: Envelope
    raw: bytes
    filter_id: str = field(default_factory=lambda: file_uid()[0])
    received: float = field(default_factory=time.time)
    size: int | None = None  # the size Postfix saw (may exceed len(raw) when too big)

    @property
    def bytes_received(self) -> int:
        return len(self.raw) if self.size is None else self.size


@dataclass(frozen=True)
class Settings:
    """The configuration the pipeline reads (from pmg.conf; see :meth:`from_config`)."""

    maxsize: int = 10485760
    ndr_on_block: bool = False
    accept_broken_mime: bool = False
    hide_received: bool = False
    filter_timeout: float = 600.0
    fail_open: frozenset[str] = frozenset()
    max_parts: int = 1000
    admin_from: str = generate.DEFAULT_FROM
    host: HostInfo = field(default_factory=HostInfo)
    tmp_dir: Path = Path(tempfile.gettempdir())

    @classmethod
    def from_config(cls, conf: Any, tmp_dir: Path, host: HostInfo) -> Settings:
        """From a :class:`pmgfast.config.PmgConf`."""
        fail_open = str(conf.get("pmgfast", "milter_fail_open") or "none")
        causes = frozenset(c.strip() for c in fail_open.split(",") if c.strip() != "none")
        unknown = causes - set(FAIL_OPEN_CAUSES)
        if unknown:
            from pmgfast.config import ConfigError

            raise ConfigError(
                conf.path,
                None,
                "pmgfast.milter_fail_open",
                f"unknown cause {', '.join(sorted(unknown))} (allowed: none, "
                + ", ".join(FAIL_OPEN_CAUSES)
                + ")",
            )
        return cls(
            maxsize=int(conf.get("mail", "maxsize")),
            ndr_on_block=bool(conf.get("mail", "ndr_on_block")),
            accept_broken_mime=bool(conf.get("mail", "accept-broken-mime")),
            hide_received=bool(conf.get("mail", "hide_received")),
            filter_timeout=float(conf.get("mail", "filter-timeout")),
            fail_open=causes,
            max_parts=int(conf.get("clamav", "archivemaxfiles")) or 1000,
            admin_from=str(conf.get("admin", "admin-mail-from") or generate.DEFAULT_FROM),
            host=host,
            tmp_dir=tmp_dir,
        )


# --- what goes out -------------------------------------------------------------------------


@dataclass
class Analysis:
    """Everything decided about one message before anything is done."""

    mail: Mail
    parts: Sequence[Any]  # the MIME walk's part table
    defects: tuple[str, ...]
    facts: MessageFacts
    scan: ScanReport
    outcome: Outcome
    base_edits: tuple[Edit, ...]  # PMG's own edits on every copy (VInfo, Received, broken)
    broken: bool


@dataclass
class Reply:
    """The answer for Postfix. ``action``: accept, reject, tempfail or discard; ``smtp``: the
    (code, extended code, text) of a reject or tempfail; for accept the changes to make to
    Postfix's copy."""

    action: str
    smtp: tuple[str, str, str] | None = None
    remove: tuple[str, ...] = ()
    header_ops: tuple[HeaderOp, ...] = ()
    body: bytes | None = None
    analysis: Analysis | None = None
    plan: Plan | None = None
    cause: str | None = None  # why it is a tempfail / passed unfiltered


class FilterTimeout(RuntimeError):
    pass


# --- the pipeline --------------------------------------------------------------------------


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        rules: Generations,
        scanners: Sequence[Scanner] = (),
        effects: Effects | None = None,
        sink: Sink | None = None,
        stats: StatsWriter | None = None,
        ldap: LdapResolver = NO_LDAP,
        signer: Any = None,
        user_lists: Callable[[Iterable[str]], Mapping[str, UserLists]] | None = None,
    ) -> None:
        self.settings = settings
        self.rules = rules
        self.scanners = tuple(scanners)
        self.effects: Effects = effects if effects is not None else DryRun()
        self.sink: Sink = sink if sink is not None else ListSink()
        self.stats = stats
        self.ldap = ldap
        # DKIM signing of accepted outgoing mail (issue 11: pmgfast.dkimsign.Signer)
        self.signer = signer
        # per-recipient welcome/blocklists (PMG UserPrefs), read when a spam score is needed
        self.user_lists = user_lists

    def log(self, line: str, error: bool = False) -> None:
        self.sink.write(line, error)

    # --- the whole path ---------------------------------------------------------------
    def process(self, mail: Mail) -> Reply:
        """Filter one message and say what Postfix should do with it. Never raises (but for
        SystemExit/KeyboardInterrupt): every failure becomes a 451 or, where the admin asked
        for it, an unfiltered pass."""
        start = time.monotonic()
        fid = mail.filter_id
        try:
            if mail.bytes_received > self.settings.maxsize:
                self.log(loglines.too_big(fid, mail.bytes_received, self.settings.maxsize))
                return Reply("reject", ("552", "5.3.4", "Message size exceeds fixed limit"))
            analysis = self.analyse(mail)
            if time.monotonic() - start > self.settings.filter_timeout:
                raise FilterTimeout(
                    f"processing took longer than filter-timeout "
                    f"({self.settings.filter_timeout:g} s)"
                )
            reply = self.act(analysis)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as err:  # a native panic is a BaseException
            return self._failed(mail, err)
        ms = (time.monotonic() - start) * 1000
        report = analysis.scan
        self.log(
            loglines.processing_time(
                fid,
                ms,
                report.ms.get("spam", 0.0),
                report.ms.get("virus", 0.0),
                report.ms.get("custom", 0.0),
            )
        )
        if self.stats is not None:
            self.stats.add(_stat_row(mail, analysis, int(ms)))
        return reply

    def _failed(self, mail: Mail, err: BaseException) -> Reply:
        fid = mail.filter_id
        if isinstance(err, ScannerFailure):
            cause = "scanner"
        elif isinstance(err, DatabaseUnavailable):
            cause = "database"
        elif isinstance(err, ReinjectError):
            cause = "reinject"
        elif isinstance(err, BrokenMessage):
            cause = "parse"
        else:
            cause = "internal"
        reason = f"{type(err).__name__}: {err}" if cause == "internal" else str(err)
        reason = " ".join(reason.split())[:500]
        if cause in self.settings.fail_open:
            self.log(loglines.fail_open(fid, cause, reason), error=True)
            return Reply("accept", cause=cause)
        self.log(loglines.tempfail(fid, cause, reason), error=True)
        # the reply tracking/FORMAT.md specifies for every temporary failure (PMG's words)
        return Reply(
            "tempfail", ("451", "4.4.0", f"detected undelivered mail ({fid})"), cause=cause
        )

    # --- parse, scan, rules -----------------------------------------------------------
    def analyse(self, mail: Mail) -> Analysis:
        """Parse, scan and apply the rules; nothing is sent or stored (scanners do run)."""
        env = mail.envelope
        fid = mail.filter_id
        message = _walk(mail.raw, self.settings.max_parts, self.settings.maxsize)
        parts = message.parts
        top = parts[0] if parts else None
        message_id = last_header(top, "message-id").strip() if top is not None else ""
        self.log(loglines.new_mail(fid, message_id))
        if env.queue_id:
            self.log(
                loglines.postfix_queue(
                    fid,
                    env.queue_id,
                    env.client_name or "unknown",
                    env.client_address or "",
                    env.sender,
                    mail.bytes_received,
                )
            )
        defects = tuple(sorted({d.kind for d in message.defects}))
        broken = bool(FATAL_DEFECTS.intersection(defects))
        if broken and not self.settings.accept_broken_mime:
            raise BrokenMessage(f"message cannot be parsed safely: {', '.join(defects)}")
        ruleset = self.rules.current
        scanners = [s for s in self.scanners if s.kind != "spam" or ruleset.needs_spam(env.trusted)]
        item = ScanItem(
            fid,
            mail.raw,
            env.sender,
            env.addresses,
            env.trusted,
            env.client_address,
            self.settings.tmp_dir,
            client_name=env.client_name,
            helo=env.helo,
        )
        try:
            report = run_scanners(scanners, item)
        finally:
            item.cleanup()
        for line, is_error in report.log:
            self.log(line, is_error)
        if report.virus_name is not None:
            self.log(loglines.virus(fid, report.virus_name, report.virus_scanner or "?"))
        archives = (
            unpack.list_parts(message, fid, self.settings.max_parts, self.log)
            if unpack.needed(ruleset, env.trusted, report.virus)
            else {}
        )
        needs_spam = ruleset.needs_spam(env.trusted)
        facts = message_facts(
            message,
            env.sender,
            env.addresses,
            archives,
            sender_headers=needs_spam,
            client_ip=env.client_address,
            trusted=env.trusted,
            time=datetime.fromtimestamp(mail.received),
            spam=SpamResult(
                score=max(0, int(report.score)),
                required=report.required,
                hits=tuple(RuleSpamHit(h.rule, h.score, h.desc) for h in report.hits),
            ),
            virus=report.virus,
            user_lists=(
                self.user_lists(a.lower() for a in env.addresses)
                if needs_spam and self.user_lists is not None
                else {}
            ),
        )
        outcome = evaluate(ruleset, facts, self.settings.host, self.ldap)
        for note in outcome.notes:
            self.log(f"{fid}: {note}")
        base: list[Edit] = []
        if env.trusted and self.settings.hide_received:
            base.append(DeleteHeader("Received"))
        if report.virus and not env.trusted:
            base.append(SetHeader("X-Proxmox-VInfo", report.virus, report.virus))
        if broken:
            text = "caused errors while parsing"
            base.append(SetHeader("X-Proxmox-Broken-Message", text, text))
        return Analysis(mail, parts, defects, facts, report, outcome, tuple(base), broken)

    # --- act and reply ----------------------------------------------------------------
    def act(self, analysis: Analysis) -> Reply:
        mail = analysis.mail
        env = mail.envelope
        fid = mail.filter_id
        outcome = analysis.outcome
        p = plan(outcome, env.addresses, env.mode != "after-queue", self.settings.ndr_on_block)
        copies: dict[tuple[Edit, ...], rewrite.Copy] = {}

        def copy(edits: tuple[Edit, ...]) -> rewrite.Copy:
            if edits not in copies:
                copies[edits] = rewrite.apply(mail.raw, analysis.parts, analysis.base_edits + edits)
            return copies[edits]

        params = {r.address: r.params for r in env.recipients}

        def targets(addresses: Sequence[str], extra: tuple[tuple[str, str], ...] = ()):
            return [Target(a, params.get(a, ()) + extra) for a in addresses]

        origin = Origin(env.client_name, env.client_address, env.helo)
        sender_params = dict(env.sender_params)
        spamlevel = outcome.spam_level
        # 1. quarantine copies first: the only step that needs the database, so an outage
        #    answers 451 before any copy has left
        stored: dict[int, str] = {}
        for stored_step in p.store:
            qtype = "A" if isinstance(stored_step, AttachmentQuarantine) else stored_step.qtype
            info = (
                analysis.facts.virus
                if qtype == "V"
                else ",".join(f"{h.rule}:{h.score}" for h in analysis.facts.spam.hits) or None
            )
            stored[id(stored_step)] = self.effects.quarantine(
                qtype,
                copy(stored_step.edits).bytes(),
                env.sender,
                stored_step.recipients,
                spamlevel,
                info,
            )
        # 2. copies whose content differs from the one Postfix keeps
        queued: dict[int, str] = {}
        kept_qid = env.queue_id or ("dry-run" if env.mode == "offline" else "unknown")
        for delivery in p.kept:
            queued[id(delivery)] = kept_qid
        for delivery in p.reinject:
            try:
                data = copy(delivery.edits).bytes()
                if self.signer is not None and env.trusted:
                    data = self.signer.sign(data, env.sender)
                queued[id(delivery)] = self.effects.reinject(
                    env.sender,
                    targets(delivery.recipients),
                    data,
                    sender_params,
                    origin,
                )
            except ReinjectError:
                for rcpt in delivery.recipients:
                    self.log(loglines.reinject_failed(fid, rcpt, delivery.rule), error=True)
                raise
        # 3. notifications and BCC copies (a failure is logged, the mail goes on)
        sent: dict[tuple[int, str], str | None] = {}
        for send in p.sends:
            for to in send.to:
                try:
                    if isinstance(send, Notify):
                        data = generate.notification(
                            self.settings.admin_from,
                            [to],
                            send.subject,
                            send.body,
                            mail.raw if send.attach_original else None,
                            self.settings.host.fqdn,
                        )
                        qid = self.effects.reinject("postmaster", [Target(to)], data)
                    else:
                        qid = self.effects.reinject(
                            env.sender,
                            [Target(to, (("NOTIFY", "NEVER"),))],
                            copy(send.edits).bytes(),
                            sender_params,
                            origin,
                        )
                except ReinjectError as err:
                    self.log(f"{fid}: sending to <{to}> failed: {err}", error=True)
                    qid = None
                sent[(id(send), to)] = qid
        # 4. log lines in PMG's order: edits as the actions made them, then the decisions
        field_rules = _field_rules(outcome.rule_info)
        for group in outcome.groups:
            self._log_edits(fid, group.recipients, group.edits, field_rules)
        for step in outcome.steps:
            if isinstance(step, Deliver):
                for rcpt in step.recipients:
                    self.log(loglines.accept(fid, rcpt, queued[id(step)], step.rule))
            elif isinstance(step, Quarantine | AttachmentQuarantine):
                qtype = "A" if isinstance(step, AttachmentQuarantine) else step.qtype
                for rcpt in step.recipients:
                    self.log(loglines.quarantine(fid, rcpt, qtype, stored[id(step)], step.rule))
            elif isinstance(step, Block):
                for rcpt in step.recipients:
                    self.log(loglines.block(fid, rcpt, step.rule))
            elif isinstance(step, Notify):
                for to in step.to:
                    self.log(loglines.notify(fid, to, step.rule, sent.get((id(step), to))))
            elif isinstance(step, Bcc):
                for to in step.to:
                    self.log(loglines.bcc(fid, to, step.rule, sent.get((id(step), to))))
        # 5. the NDR for blocked recipients and the reply
        if p.ndr and env.sender:
            head_end = split_head(mail.raw)[1]
            data = generate.ndr(
                env.sender,
                self.settings.admin_from,
                p.ndr,
                fid,
                self.settings.host.fqdn,
                mail.raw[:head_end],
            )
            try:
                qid = self.effects.reinject("", [Target(env.sender)], data)
                self.log(loglines.ndr_sent(fid, qid))
            except ReinjectError as err:
                self.log(f"{fid}: sending the NDR failed: {err}", error=True)
        if p.reply == "reject":
            self.log(loglines.reject_all(fid))
            return Reply(
                "reject",
                ("554", "5.7.1", f"Rejected for policy reasons ({fid})"),
                analysis=analysis,
                plan=p,
            )
        if p.reply == "discard":
            return Reply("discard", remove=p.remove, analysis=analysis, plan=p)
        kept = copy(p.kept_edits)
        body = None if kept.body_unchanged else kept.body
        ops = header_ops(kept.original, kept.fields)
        if self.signer is not None and env.trusted and p.kept:
            signature = self.signer.signature(kept.bytes(), env.sender)
            if signature is not None:
                ops.append(HeaderOp("DKIM-Signature", 0, signature))
        return Reply(
            "accept",
            remove=p.remove,
            header_ops=tuple(ops),
            body=body,
            analysis=analysis,
            plan=p,
        )

    def _log_edits(
        self,
        fid: str,
        recipients: Sequence[str],
        edits: Sequence[Edit],
        field_rules: dict[str, str],
    ) -> None:
        for edit in edits:
            if isinstance(edit, SetHeader):
                rule = field_rules.get(edit.name.lower())
                if rule is not None:
                    self.log(loglines.modified_header(fid, edit.name, recipients, rule))
            elif isinstance(edit, RemoveAttachments):
                for rep in edit.replacements:
                    self.log(
                        loglines.removed_attachment(fid, rep.aid, rep.original_filename, edit.rule)
                    )
            elif isinstance(edit, AddDisclaimer):
                ok = all(t.ok for t in edit.targets) and bool(edit.targets)
                self.log(loglines.disclaimer(fid, edit.rule, ok))


class BrokenMessage(ValueError):
    """The MIME structure is beyond the limits (``mail.accept-broken-mime`` is off)."""


# --- helpers -------------------------------------------------------------------------------


def _walk(raw: bytes, max_parts: int, maxsize: int) -> Any:
    return mime.walk(raw, mime.Limits(max_parts=max_parts, max_size=2 * maxsize))


def _field_rules(rule_info: str) -> dict[str, str]:
    """Header name -> the first matching rule that sets it, from ``__RULE_INFO__`` (its
    ``Action: modify field: NAME:VALUE`` lines), for PMG's "modified header" log line."""
    found: dict[str, str] = {}
    rule = None
    for line in rule_info.splitlines():
        if line.startswith("Rule: "):
            rule = line[6:]
        elif line.startswith("  Action: modify field: ") and rule is not None:
            name = line[len("  Action: modify field: ") :].split(":", 1)[0].lower()
            found.setdefault(name, rule)
    return found


def _stat_row(mail: Mail, analysis: Analysis, ptime: int) -> StatRow:
    env = mail.envelope
    outcome = analysis.outcome
    recipients = []
    for rcpt in env.addresses:
        try:
            decision = outcome.decision(rcpt)
        except KeyError:
            continue
        recipients.append(
            StatRecipient(rcpt, decision.action == "block", decision.action, decision.rule)
        )
    return StatRow(
        time=int(mail.received),
        bytes=mail.bytes_received,
        incoming=not env.trusted,
        spamlevel=float(outcome.spam_level),
        virus=analysis.facts.virus,
        ptime=ptime,
        sender=env.sender,
        recipients=tuple(recipients),
        rule_ids=outcome.matched_rules,
    )
