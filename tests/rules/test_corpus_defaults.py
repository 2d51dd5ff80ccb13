"""PMG's factory rules on the public corpus: the decisions PMG's defaults would make.

Every SpamAssassin-corpus message (ham and spam) and every MIME edge-case message goes through
the default rule set, incoming, and a tenth of them outgoing too. The spam scores are stand-ins
given here: spam scores 3 to 12, ham 0 to 2; every 97th message carries a stand-in virus. The
expectations are written from PMG's documented defaults, independently of the engine:

- incoming virus: "Block Viruses" notifies the admin and moves the mail to the virus
  quarantine; nothing else touches it;
- other incoming mail loses its dangerous attachments ("Block Dangerous Files"), gets the
  ``X-SPAM-LEVEL`` header ("Modify Header"), and with a score of 3 or more is marked "SPAM: "
  and moved to the spam quarantine; the rest is accepted by ``default-accept``;
- outgoing virus: "Virus Alert" notifies admin and sender and blocks; other outgoing mail is
  accepted untouched, and gets no spam analysis (spam level 0).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path

import pytest

from pmgfast.rules import compile_rules, evaluate, factory
from pmgfast.rules.facts import HostInfo, MessageFacts, SpamHit, SpamResult
from pmgfast.rules.mime_facts import facts_from_bytes
from pmgfast.rules.outcome import DeleteHeader, Notify, Outcome, RemoveAttachments, SetHeader

RCPT = "user@local.example"
SENDER = "sender@ext.example"
HOST = HostInfo(admin_email="admin@local.example")
VIRUS = "Eicar-Signature (clamav)"
DANGEROUS_TYPES = [
    r"application/vnd\.microsoft\.portable-executable",
    "application/x-msdownload",
    "application/x-java",
    "application/javascript",
    "application/x-executable",
    "message/partial",
]
DANGEROUS_NAMES = [r".*\.(vbs|pif|lnk|shs|shb)", r".*\.\{.+\}"]
SPAM_HIT = SpamHit("BAYES_99", 3.5, "Bayes spam probability is 99 to 100%")
HAM_HIT = SpamHit("BAYES_00", -1.9, "Bayes spam probability is 0 to 1%")


def _number(name: str) -> int:
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)


def stand_ins(path: Path, index: int, label: str) -> dict:
    n = _number(path.name)
    spam = label == "spam"
    score = 3 + n % 10 if spam else n % 3
    return {
        "spam": SpamResult(score, 5, (SPAM_HIT if spam else HAM_HIT,)),
        "virus": VIRUS if index % 97 == 0 else None,
        "client_ip": "192.0.2.77",
    }


@pytest.fixture(scope="module")
def messages(corpus) -> list[tuple[str, MessageFacts]]:
    found = []
    spamassassin = corpus / "spamassassin"
    for line in (spamassassin / "index.tsv").read_text().splitlines()[1:]:
        label, name = line.split("\t")[:2]
        found.append((label, spamassassin / name))
    found += [
        ("ham", p)
        for p in sorted((corpus / "mime").rglob("*"))
        if p.is_file()
        and p.suffix.lower() in (".eml", ".msg", ".txt", "")
        and p.name not in ("COPYING", "INDEX.md")
    ]
    return [
        (label, facts_from_bytes(path.read_bytes(), SENDER, (RCPT,), **stand_ins(path, i, label)))
        for i, (label, path) in enumerate(found)
    ]


def dangerous(facts: MessageFacts) -> list[int]:
    """The aids PMG's "Block Dangerous Files" removes, from the spec: parts whose sniffed,
    header or filename type contains a dangerous type, or whose filename matches; a removed
    part takes its inner parts with it; the top part goes only from a single-part mail."""

    def marked(part) -> bool:
        types = [t for t in (part.magic_type, part.content_type, part.glob_type) if t]
        name = part.filename
        return any(re.search(p, t) for p in DANGEROUS_TYPES for t in types) or bool(
            name
            and name != "0"
            and any(re.fullmatch(p, name, re.IGNORECASE) for p in DANGEROUS_NAMES)
        )

    marks = {p.aid for p in facts.parts if marked(p)}
    parents = {p.aid: p.parent for p in facts.parts}
    root = facts.parts[0]
    if len(facts.parts) == 1:
        return [root.aid] if root.aid in marks else []
    removed = []
    for part in facts.parts[1:]:
        ancestors = []
        parent = parents[part.aid]
        while parent and parent != root.aid:
            ancestors.append(parent)
            parent = parents.get(parent, 0)
        if part.aid in marks and not any(a in marks for a in ancestors):
            removed.append(part.aid)
    return removed


def spam_level_header(score: int, hit: SpamHit) -> str:
    return f"Spam detection results:  {score}\n\t{hit.rule:<22} {hit.score:>6} {hit.desc}"


def check_incoming(facts: MessageFacts, outcome: Outcome) -> str:
    decision = outcome.decision(RCPT)
    edits = outcome.edits_for(RCPT)
    assert outcome.spam_level == facts.spam.score
    assert edits[0] == DeleteHeader("X-SPAM-LEVEL")
    if facts.virus:
        assert (decision.action, decision.rule, decision.quarantine) == (
            "quarantine",
            "Block Viruses",
            "V",
        )
        assert [type(s).__name__ for s in outcome.steps] == ["Notify", "Quarantine"]
        assert outcome.steps[0].to == ("admin@local.example",)
        assert edits == (DeleteHeader("X-SPAM-LEVEL"),)
        return "virus"
    removed = [r.aid for e in edits if isinstance(e, RemoveAttachments) for r in e.replacements]
    assert removed == dangerous(facts)
    headers = {e.name: e for e in edits if isinstance(e, SetHeader)}
    assert headers["X-SPAM-LEVEL"].value == spam_level_header(facts.spam.score, facts.spam.hits[0])
    if facts.spam.score >= 3:
        assert (decision.action, decision.rule, decision.quarantine) == (
            "quarantine",
            "Quarantine/Mark Spam (Level 3)",
            "S",
        )
        subject = headers["subject"].text
        assert subject.startswith("SPAM: ")
        if facts.subject and facts.subject.isascii() and "\n" not in facts.subject:
            assert subject == "SPAM: " + facts.subject.rstrip()
        return "spam"
    assert (decision.action, decision.rule) == ("accept", "default-accept")
    assert "subject" not in headers
    return "stripped" if removed else "ham"


def check_outgoing(facts: MessageFacts, outcome: Outcome) -> str:
    decision = outcome.decision(RCPT)
    assert outcome.spam_level == 0
    if facts.virus:
        assert (decision.action, decision.rule) == ("block", "Virus Alert")
        notified = [s.to for s in outcome.steps if isinstance(s, Notify)]
        # both notifications have priority 89; they run in group order (admin's group first)
        assert notified == [("admin@local.example",), (SENDER,)]
        return "virus"
    assert (decision.action, decision.rule) == ("accept", "default-accept")
    assert outcome.edits_for(RCPT) == ()
    return "ham"


def test_default_rules_on_the_corpus(messages):
    compiled = compile_rules(factory())
    pure = compile_rules(factory(), native=False)
    tally: dict[str, int] = {}
    for i, (label, facts) in enumerate(messages):
        outcome = evaluate(compiled, facts, HOST)
        assert evaluate(pure, facts, HOST) == outcome
        kind = check_incoming(facts, outcome)
        tally[f"in-{kind}"] = tally.get(f"in-{kind}", 0) + 1
        if label == "spam" and kind not in ("spam", "virus"):
            raise AssertionError(f"spam message {i} was not quarantined")
        if i % 10 == 0:
            trusted = replace(facts, trusted=True)
            kind = check_outgoing(trusted, evaluate(compiled, trusted, HOST))
            tally[f"out-{kind}"] = tally.get(f"out-{kind}", 0) + 1
    # the corpus exercises every branch of the defaults
    assert tally["in-spam"] > 1000 and tally["in-ham"] > 2500
    assert tally["in-virus"] > 30 and tally["out-virus"] > 0
    assert tally["in-stripped"] >= 3, tally
