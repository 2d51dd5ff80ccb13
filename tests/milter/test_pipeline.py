"""The pipeline without the milter: the corpus and generated mail through PMG's default rules,
the log lines against tracking/FORMAT.md, the failure policy, and PMG's own edits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmgfast.actions.effects import DryRun
from pmgfast.actions.log import ListSink
from pmgfast.db.connect import DatabaseUnavailable
from pmgfast.pipeline import Envelope, Mail, Pipeline, Recipient, Settings
from pmgfast.rules import Generations, factory
from pmgfast.scan import ScanItem, Verdict

FID = r"[0-9A-F]{7,25}"
# tracking/FORMAT.md: the lines of one message, and the other lines with the fid prefix
FORMAT = [
    rf"{FID}: new mail message-id=.*",
    rf"{FID}: queue=\S+ client=\S*\[\S*\] from=<.*> size=\d+",
    rf"{FID}: accept mail to <[^>]*> \(\S+\) \(rule: .+\)",
    rf"{FID}: moved mail for <[^>]*> to (spam|virus|attachment) quarantine - "
    r"([0-9A-F]{7,25}|dry-run) \(rule: .+\)",  # DryRun (pmgfast scan) stores nothing
    rf"{FID}: block mail to <[^>]*> \(rule: .+\)",
    rf"{FID}: processing time: \d+(\.\d{{1,3}})? seconds \(\d+(\.\d{{1,3}})?, "
    r"\d+(\.\d{1,3})?, \d+(\.\d{1,3})?\)",
    rf"{FID}: virus detected: .+ \(\w+\)",
    rf"{FID}: (notify|bcc to) <[^>]*> \(rule: .+(, \S+| failed| ignored)?\)( failed)?",
    rf"{FID}: (modified header|removed attachment|added disclaimer|adding disclaimer) .*",
    rf"{FID}: reject mail {FID}",
    rf"{FID}: temporary failure \(\w+\): .+",
    rf"{FID}: passed unfiltered after a failure \(\w+, fail-open\): .+",
    rf"{FID}: sent NDR for rejecting recipients - \S+",
]
LINE = re.compile("|".join(f"(?:{f})" for f in FORMAT))


def pipeline(**overrides) -> tuple[Pipeline, ListSink, DryRun]:
    sink = ListSink()
    effects = DryRun()
    scanners = overrides.pop("scanners", ())
    stats = overrides.pop("stats", None)
    pipe = Pipeline(Settings(**overrides), Generations(factory()), scanners, effects, sink, stats)  # type: ignore[arg-type]
    return pipe, sink, effects


def envelope(
    trusted: bool = False,
    recipients: tuple[str, ...] = ("user@local.example",),
    mode: str = "before-queue",
) -> Envelope:
    return Envelope(
        "sender@ext.example",
        tuple(Recipient(r) for r in recipients),
        client_address="192.0.2.9",
        client_name="mx.ext.example",
        trusted=trusted,
        queue_id="4FA3C1234",
        mode=mode,
    )  # type: ignore[arg-type]


def check_lines(lines: list[str]) -> None:
    bad = [line for line in lines if not LINE.fullmatch(line)]
    assert not bad, bad
    assert " new mail message-id=" in lines[0]
    if not any("temporary failure" in line for line in lines):
        assert ": processing time: " in lines[-1]


def test_the_corpus_through_the_default_rules(corpus):
    files = sorted((corpus / "spamassassin" / "ham").iterdir())[::25]
    files += sorted((corpus / "spamassassin" / "spam").iterdir())[::25]
    files += [p for p in sorted((corpus / "mime").rglob("*")) if p.is_file()][::5]
    pipe, sink, _ = pipeline()
    outcomes = set()
    for path in files:
        sink.lines.clear()
        reply = pipe.process(Mail(envelope(), path.read_bytes()))
        outcomes.add(reply.action)
        if reply.action == "tempfail":
            assert reply.cause == "parse", (path, sink.lines)  # only beyond the MIME limits
        else:
            assert reply.action == "accept", (path, reply)
            # the default "Modify Header" rule sets X-SPAM-LEVEL on incoming mail (an incoming
            # X-Spam-Level that already says the same stays as it is)
            raw = path.read_bytes()
            assert any(op.name.lower() == "x-spam-level" for op in reply.header_ops) or re.search(
                rb"(?mi)^X-Spam-Level: *\r?$", raw
            ), path
        check_lines(sink.lines)
    assert "accept" in outcomes


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_get_a_verdict(raw):
    pipe, sink, _ = pipeline()
    reply = pipe.process(Mail(envelope(), raw))
    assert reply.action in ("accept", "tempfail")
    check_lines(sink.lines)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_mangled_corpus_mail_gets_a_verdict(corpus, data):
    files = sorted((corpus / "mime" / "mail-parser" / "malformed").iterdir())
    raw = data.draw(st.sampled_from([p for p in files if p.suffix == ".eml"])).read_bytes()
    cut = data.draw(st.integers(0, len(raw)))
    noise = data.draw(st.binary(max_size=200))
    pipe, sink, _ = pipeline()
    reply = pipe.process(Mail(envelope(), raw[:cut] + noise + raw[cut:]))
    assert reply.action in ("accept", "tempfail")
    check_lines(sink.lines)


@dataclass
class FakeScanner:
    """A scanner for the policy tests: a verdict, or an exception to raise."""

    name: str = "custom"
    kind: str = "custom"
    budget: float = 60.0
    on_failure: str = "tempfail"
    verdict: Verdict = field(default_factory=Verdict)
    error: BaseException | None = None

    def scan(self, item: ScanItem, deadline: float) -> Verdict:
        if self.error is not None:
            raise self.error
        return self.verdict


class Panic(BaseException):
    """What a Rust panic looks like in Python (pyo3's PanicException is a BaseException)."""


MAIL = b"From: a@ext.example\r\nSubject: s\r\nMessage-ID: <p@x>\r\n\r\nhello\r\n"


@pytest.mark.parametrize(
    ("error", "cause"),
    [(RuntimeError("scanner broke"), "scanner"), (Panic("native panic"), "internal")],
)
def test_failures_are_a_451_with_the_filter_id(error, cause):
    pipe, sink, _ = pipeline(scanners=(FakeScanner(error=error),))
    mail = Mail(envelope(), MAIL)
    reply = pipe.process(mail)
    assert reply.action == "tempfail" and reply.cause == cause
    assert reply.smtp == ("451", "4.4.0", f"detected undelivered mail ({mail.filter_id})")
    assert any(f"temporary failure ({cause})" in line for line in sink.lines)
    check_lines(sink.lines)


def test_fail_open_only_where_the_admin_asks():
    pipe, sink, _ = pipeline(
        scanners=(FakeScanner(error=RuntimeError("down")),), fail_open=frozenset({"scanner"})
    )
    reply = pipe.process(Mail(envelope(), MAIL))
    assert reply.action == "accept" and reply.cause == "scanner"
    assert not reply.header_ops and reply.body is None and not reply.remove
    assert any("passed unfiltered after a failure (scanner, fail-open)" in x for x in sink.lines)
    pipe, _, _ = pipeline(
        scanners=(FakeScanner(error=Panic("x")),), fail_open=frozenset({"scanner"})
    )
    assert pipe.process(Mail(envelope(), MAIL)).action == "tempfail"  # not an internal error


def test_a_scanner_out_of_time_follows_its_policy():
    slow = FakeScanner(budget=-1.0)  # its deadline has passed when it returns
    pipe, _, _ = pipeline(scanners=(slow,))
    assert pipe.process(Mail(envelope(), MAIL)).cause == "scanner"
    ok_policy = FakeScanner(budget=-1.0, on_failure="ok")
    pipe, sink, _ = pipeline(scanners=(ok_policy,))
    assert pipe.process(Mail(envelope(), MAIL)).action == "accept"
    assert any("custom: ran out of its -1 s budget" in line for line in sink.lines)


class BrokenStore(DryRun):
    def quarantine(self, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
        raise DatabaseUnavailable("cannot connect to PostgreSQL (test): refused")


def test_a_virus_is_quarantined_with_pmg_header_and_lines():
    virus = FakeScanner(verdict=Verdict(virus="Eicar-Test-Signature"))
    pipe, sink, effects = pipeline(scanners=(virus,))
    reply = pipe.process(Mail(envelope(), MAIL))
    # PMG's default "Block Viruses": notify the admin, quarantine (virus quarantine)
    assert reply.action == "discard"
    assert [s[0] for s in effects.stored] == ["V"]
    assert any(to == ("admin@domain.tld",) for _, to, _ in effects.sent)
    assert any(" to virus quarantine - " in line for line in sink.lines)
    assert any("virus detected: Eicar-Test-Signature (custom)" in line for line in sink.lines)
    check_lines(sink.lines)
    # the database is gone: 451, nothing pretends to be stored
    pipe.effects = BrokenStore()
    reply = pipe.process(Mail(envelope(), MAIL))
    assert reply.action == "tempfail" and reply.cause == "database"


def test_outgoing_mail_loses_received_headers_with_hide_received():
    raw = b"Received: from a\r\nReceived: from b\r\nSubject: s\r\n\r\nbody\r\n"
    pipe, _, _ = pipeline(hide_received=True)
    reply = pipe.process(Mail(envelope(trusted=True), raw))
    deletes = [(op.name, op.index, op.value) for op in reply.header_ops]
    assert deletes == [("Received", 2, None), ("Received", 1, None)]
    reply = pipe.process(Mail(envelope(trusted=False), raw))
    assert not [op for op in reply.header_ops if op.name == "Received"]


def test_oversized_mail_is_refused():
    pipe, sink, _ = pipeline(maxsize=1000)
    reply = pipe.process(Mail(envelope(), MAIL, size=5000))
    assert reply.smtp == ("552", "5.3.4", "Message size exceeds fixed limit")
    assert any("message size 5000 exceeds maxsize 1000" in line for line in sink.lines)


class Rows:
    def __init__(self) -> None:
        self.rows: list = []

    def add(self, row) -> None:  # type: ignore[no-untyped-def]
        self.rows.append(row)


def test_one_statistics_row_per_message_with_its_recipients():
    rows = Rows()
    pipe, _, _ = pipeline(stats=rows)
    pipe.process(Mail(envelope(recipients=("a@local.example", "b@local.example")), MAIL))
    (row,) = rows.rows
    assert row.incoming and row.sender == "sender@ext.example" and row.bytes == len(MAIL)
    assert [(r.receiver, r.action, r.rule) for r in row.recipients] == [
        ("a@local.example", "accept", "default-accept"),
        ("b@local.example", "accept", "default-accept"),
    ]
    assert row.rule_ids  # "Modify Header" matched
