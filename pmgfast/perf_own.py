"""pmgfast's own pmgperf lines: its hot paths measured on a built-in sample.

Each probe runs one hot path for about the probe time on a small generated sample (no corpus
needed, so the figures are comparable between machines) and reports a rate, with ``native`` or
``pure`` in the note to say which implementation ran. The milter line
(:mod:`pmgfast.perf_milter`) sends the same sample through a short-lived milter pool.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from pmgfast.perf import Line


def _rate(work: Callable[[], int], seconds: float) -> float:
    """Units of work per second: ``work()`` returns the units one call did."""
    done = 0
    start = time.perf_counter()
    while True:
        done += work()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


SAMPLE_HEADERS = [
    "Subject: Your invoice 48213 is ready",
    "Content-Type: application/pdf",
    "Content-Type: image/png",
    "From: billing@example.com",
    "X-Mailer: Outlook 16.0",
    "Content-Type: application/vnd.ms-excel",
    "Subject: meeting tomorrow at 10",
]


def pattern_matches(seconds: float) -> Line:
    """Subjects matched per second against the default rule set's content-type patterns."""
    from pmgfast.patterns import Pattern, compile_set

    regexes = [
        r"image/.*",
        r"audio/.*",
        r"video/.*",
        r"application/vnd\.ms-excel",
        r"application/msword",
        r"application/vnd\.openxmlformats-officedocument\..*",
        r"application/x-msdownload",
        r"application/javascript",
        r"message/partial",
        r"application/vnd\.microsoft\.portable-executable",
        r"application/x-executable",
    ]
    patterns = compile_set([Pattern(i, r) for i, r in enumerate(regexes)])

    def work() -> int:
        for subject in SAMPLE_HEADERS:
            patterns.matches(subject)
        return len(SAMPLE_HEADERS)

    kind = "native" if type(patterns).__name__ != "PurePatternSet" else "pure"
    return Line(
        "PATTERN MATCH/S", f"{_rate(work, seconds):.0f}", f"{kind}, {len(regexes)} patterns"
    )


def sample_message() -> bytes:
    """A built-in ~20 KB mail: text and HTML alternatives, a PDF-like and a zip attachment."""
    from email.message import EmailMessage

    words = (
        "invoice",
        "meeting",
        "report",
        "quarterly",
        "budget",
        "schedule",
        "review",
        "contract",
        "delivery",
        "project",
        "update",
        "customer",
        "support",
        "request",
        "approval",
        "deadline",
        "offer",
    )
    body = " ".join(words[(i * 7) % len(words)] for i in range(1200))
    msg = EmailMessage()
    msg["From"] = "Billing <billing@example.com>"
    msg["To"] = "user@example.org"
    msg["Subject"] = "Your invoice 48213 is ready"
    msg["Message-ID"] = "<perf-sample@example.com>"
    msg.set_content(body)
    msg.add_alternative(
        f"<html><body><p>{body}</p><a href='http://example.com/x'>x</a></body></html>",
        subtype="html",
    )
    msg.add_attachment(
        b"%PDF-1.4\n" + bytes(range(256)) * 16,
        maintype="application",
        subtype="pdf",
        filename="invoice.pdf",
    )
    msg.add_attachment(
        b"PK\x03\x04" + bytes(2000), maintype="application", subtype="zip", filename="data.zip"
    )
    return msg.as_bytes()


def _kind(native_used: bool) -> str:
    return "native" if native_used else "pure"


def mime_walk(seconds: float, raw: bytes) -> Line:
    """Messages walked per second, with the full part table."""
    from pmgfast import mime, native

    def work() -> int:
        mime.walk(raw)
        return 1

    rate = _rate(work, seconds)
    note = f"{_kind(native.rust() is not None)}, {rate * len(raw) / 1e6:.1f} MB/s"
    return Line("MIME WALK", f"{rate:.0f} msg/s", note)


def bayes_tokens(seconds: float, raw: bytes) -> Line:
    """Bayes tokens produced per second from the sample's text."""
    from pmgfast import mime
    from pmgfast.bayes import tokenizer

    text = " ".join(p.text or p.html_text or "" for p in mime.walk(raw).parts)
    count = len(tokenizer.tokenize_text(text))

    def work() -> int:
        tokenizer.tokenize_text(text)
        return count

    return Line(
        "BAYES TOKENS/S", f"{_rate(work, seconds):.0f}", _kind(tokenizer.IMPLEMENTATION == "cython")
    )


def rule_evaluations(seconds: float, raw: bytes) -> Line:
    """Messages evaluated per second against PMG's factory rule set (compiled)."""
    from pmgfast import native
    from pmgfast.rules import compile_rules, evaluate, factory
    from pmgfast.rules.mime_facts import facts_from_bytes

    ruleset = compile_rules(factory(), native=True)
    facts = facts_from_bytes(raw, sender="billing@example.com", recipients=("user@example.org",))

    def work() -> int:
        evaluate(ruleset, facts)
        return 1

    return Line(
        "RULE EVAL/S",
        f"{_rate(work, seconds):.0f}",
        f"{_kind(native.rust() is not None)}, factory rules",
    )


def lines(seconds: float) -> Iterator[Line]:
    from pmgfast.perf_milter import milter_messages

    raw = sample_message()
    yield mime_walk(seconds, raw)
    yield bayes_tokens(seconds, raw)
    yield rule_evaluations(seconds, raw)
    yield pattern_matches(seconds)
    yield milter_messages(seconds, raw)
