"""The milter callbacks: collect a message from Postfix, run the pipeline, answer.

One :class:`Session` object per milter connection (libmilter runs each in its own thread).
Every stage before end of message is declared no-reply (``SMFIP_NR_*``), so Postfix streams
the whole message and waits only once, for the verdict. At end of message the pipeline's
:class:`~pmgfast.pipeline.Reply` is applied: recipients removed (``delrcpt``), headers changed
(``chgheader``/``addheader``), the body replaced, or the message rejected, discarded or
tempfailed with the filter id in the reply text. Anything that goes wrong while answering is a
tempfail, never a crash of the worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import Milter

from pmgfast.milter.context import (
    KEEP_RCPT_PARAMS,
    Connection,
    Direction,
    MessageContext,
    esmtp_params,
    new_message,
    strip_brackets,
)
from pmgfast.pipeline import Pipeline, Recipient, Reply

log = logging.getLogger(__name__)

GATE = "pmgfast-gate"  # {daemon_name} of a receiving smtpd that only runs the RCPT stage
RecipientCheck = Callable[[Connection, MessageContext, str, bool], tuple[str, str, str] | None]


@dataclass
class Runtime:
    """What every session of one worker shares."""

    pipeline: Pipeline
    direction: Direction
    spill_size: int
    maxsize: int
    spill_dir: Path | None = None
    on_message: Callable[[], None] = lambda: None  # called after each message (recycling)
    # The RCPT stage (issue 11: greylisting, SPF, whitelist): None lets a recipient through,
    # else the (code, extended code, text) Postfix answers it with. With a check set, the
    # milter asks Postfix to wait for its RCPT answers.
    recipient_check: RecipientCheck | None = None
    gates: bool = False  # after-queue: receiving smtpds that only run the RCPT stage (GATE)
    sessions: int = 0
    messages: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def opened(self) -> None:
        with self.lock:
            self.sessions += 1

    def closed(self) -> None:
        with self.lock:
            self.sessions -= 1


@Milter.header_leading_space
class Session(Milter.Base):
    runtime: ClassVar[Runtime]

    def __init__(self) -> None:
        self.conn = Connection()
        self.msg: MessageContext | None = None
        self.counted = False

    def setsymlist(self, stage: int, *macros: str) -> None:
        """pymilter 1.0.5 hands libmilter bytes where its C side wants str."""
        self._ctx.setsymlist(stage, " ".join(macros))

    def negotiate(self, opts: list[int]) -> int:
        """pymilter's negotiation, then: wait for RCPT answers when there is a RCPT stage,
        and for DATA answers when after-queue gates may connect (a gate accepts at DATA)."""
        result = super().negotiate(opts)
        rt = getattr(type(self), "runtime", None)
        if result == Milter.CONTINUE and rt is not None:
            if rt.recipient_check is not None:
                opts[1] &= ~Milter.P_NR_RCPT
            if rt.gates:
                opts[1] &= ~Milter.P_NR_DATA
            self._protocol = opts[1]
        return result

    def _open(self) -> None:
        if not self.counted:
            self.counted = True
            self.runtime.opened()

    @Milter.symlist("{daemon_name}", "{daemon_port}")
    @Milter.noreply
    def connect(self, hostname: str, family: int, hostaddr: object) -> int:
        self._open()
        self.conn = Connection(hostname=hostname or "unknown")
        if isinstance(hostaddr, tuple) and hostaddr:
            self.conn.address = str(hostaddr[0])
        self.conn.daemon_name = self.getsymval("{daemon_name}")
        self.conn.daemon_port = self.getsymval("{daemon_port}")
        return Milter.CONTINUE

    @Milter.noreply
    def hello(self, hostname: str) -> int:
        self.conn.helo = hostname
        return Milter.CONTINUE

    @Milter.symlist("{auth_authen}")
    @Milter.noreply
    def envfrom(self, sender: str, *params: str) -> int:
        self._open()
        self._drop_message()
        rt = self.runtime
        self.msg = new_message(sender, params, rt.spill_size, rt.maxsize, rt.spill_dir)
        self.msg.authenticated = bool(self.getsymval("{auth_authen}"))
        return Milter.CONTINUE

    @Milter.noreply
    def envrcpt(self, to: str, *params: str) -> int:
        if self.msg is not None:
            recipient = Recipient(strip_brackets(to), esmtp_params(params, KEEP_RCPT_PARAMS))
            check = self.runtime.recipient_check
            if check is not None and not self._protocol & Milter.P_NR_RCPT:
                refused = self._check_recipient(check, recipient.address)
                if refused is not None:
                    return refused
            self.msg.recipients.append((to, recipient))
        return Milter.CONTINUE

    def _check_recipient(self, check: RecipientCheck, address: str) -> int | None:
        """The RCPT stage for one recipient: None to go on, else the refusal to answer."""
        assert self.msg is not None
        trusted, _ = self.runtime.direction.classify(
            self.conn.daemon_name, self.conn.daemon_port, self.msg.authenticated
        )
        try:
            refusal = check(self.conn, self.msg, address, trusted)
        except Exception as err:  # a bug in a check must not cost the recipient
            log.error("%s: RCPT stage failed for <%s>: %s", self.msg.filter_id, address, err)
            return None
        if refusal is None:
            return None
        code, xcode, text = refusal
        self.setreply(code, xcode, text.replace("%", "%%"))
        return Milter.TEMPFAIL if code.startswith("4") else Milter.REJECT

    @Milter.noreply
    def data(self) -> int:
        if self.conn.daemon_name == GATE and not self._protocol & Milter.P_NR_DATA:
            self._drop_message()
            return Milter.ACCEPT  # after-queue: the filter smtpd behind the queue does the rest
        return Milter.CONTINUE

    @Milter.noreply
    def header(self, field: str, value: str) -> int:  # declares NR_HDR; header_bytes is used
        return Milter.CONTINUE

    def header_bytes(self, fld: str, val: bytes) -> int:
        if self.msg is not None:
            self.msg.add_header(fld, val)
        return Milter.NOREPLY if self._protocol & Milter.P_NR_HDR else Milter.CONTINUE

    @Milter.noreply
    def eoh(self) -> int:
        return Milter.CONTINUE

    @Milter.noreply
    def body(self, chunk: bytes) -> int:
        if self.msg is not None:
            self.msg.body.write(chunk, self.msg.header_size)
        return Milter.CONTINUE

    @Milter.symlist("i")
    def eom(self) -> int:
        msg = self.msg
        if msg is None:
            return Milter.CONTINUE
        rt = self.runtime
        try:
            mail = msg.mail(self.conn, rt.direction, self.getsymval("i") or None)
            reply = rt.pipeline.process(mail)
            return self._answer(msg, reply)
        except Exception as err:  # answering failed (connection lost, protocol error)
            log.error("%s: cannot answer Postfix: %s", msg.filter_id, err)
            return Milter.TEMPFAIL
        finally:
            self._drop_message()
            self.conn.messages += 1
            with rt.lock:
                rt.messages += 1
            rt.on_message()

    def _answer(self, msg: MessageContext, reply: Reply) -> int:
        if reply.action in ("reject", "tempfail"):
            assert reply.smtp is not None
            code, xcode, text = reply.smtp
            self.setreply(code, xcode, text.replace("%", "%%"))
            return Milter.REJECT if reply.action == "reject" else Milter.TEMPFAIL
        if reply.action == "discard":
            return Milter.DISCARD
        for address in reply.remove:
            self.delrcpt(msg.original_recipient(address))
        for op in reply.header_ops:
            value = op.value.decode("utf-8", "surrogateescape") if op.value is not None else ""
            if op.index == 0:
                self.addheader(op.name, value)
            else:
                self.chgheader(op.name, op.index, value)
        if reply.body is not None:
            self.replacebody(reply.body)
        return Milter.ACCEPT

    def abort(self) -> int:
        self._drop_message()
        return Milter.CONTINUE

    def close(self) -> int:
        self._drop_message()
        if self.counted:
            self.counted = False
            self.runtime.closed()
        return Milter.CONTINUE

    def _drop_message(self) -> None:
        if self.msg is not None:
            self.msg.body.close()
            self.msg = None
