"""Golden results of pmgfast's mail view (``tracking/tests/data/*.expected.json``), pinned on:

- ``pmgfast_milter.log``: what a gateway running pmgfast's milter logs (Postfix 3.7 wording plus
  the lines of ``tracking/FORMAT.md``): accepted, quarantined, blocked (milter-reject), all
  quarantined (milter-discard), greylisted and rejected recipients, a deferral delivered later,
  a bounce with its NDR, a local mail and a mail split onto a re-injected copy;
- the corpus ``pmg-log-tracker/test_input_mixed`` (PMG before- and after-queue filtering);
- the corpus ``postfix-logsums/mail.log`` (a real Postfix with amavis as after-queue filter:
  both legs of each mail are joined).

The Rust core and the pure twin must both give exactly the pinned answer. The fail2ban corpus
checks each annotated reject line against its ``failJSON`` (time and recipient).
"""

from __future__ import annotations

import itertools
import json
import re
import time
from pathlib import Path

import pytest

from pmgfast.tracking import Query, search
from tests.tracking.conftest import DATA

ALL = {"include_greylisted": True, "include_rejected": True, "include_ndr": True}

GOLDEN = [
    # log (relative to the corpus or DATA), expected, start, end, now, tz, with lines
    ("DATA/pmgfast_milter.log", "pmgfast_milter.expected.json", 1678784400, 1678791600,
     1701388800, "UTC", True),
    ("logs/pmg-log-tracker/test_input_mixed", "pmg_mixed.expected.json", 1608300000,
     1608307200, 1609455599, "Europe/Vienna", True),
    ("logs/postfix-logsums/mail.log", "postfix_logsums.expected.json", 1678665600, 1678924800,
     1701388800, "UTC", False),
]  # fmt: skip


@pytest.mark.parametrize("case", GOLDEN, ids=lambda c: c[1].split(".")[0])
def test_mails_match_the_pinned_result(case, impl, corpus):
    log, expected, start, end, now, tz, lines = case
    path = DATA / log[5:] if log.startswith("DATA/") else corpus / log
    q = Query(start=start, end=end, now=now, tz=tz, lines=lines, **ALL)
    got = [m.to_dict(lines=lines) for m in search(q, files=[path], pure=impl == "pure").mails]
    assert got == json.loads((DATA / expected).read_text())


def test_filters_pick_from_the_pinned_result(impl):
    q = dict(start=1678784400, end=1678791600, now=1701388800, tz="UTC")
    path = DATA / "pmgfast_milter.log"
    pure = impl == "pure"

    def ids(**filters: object) -> list[str]:
        return [m.id for m in search(Query(**q, **filters), files=[path], pure=pure).mails]  # type: ignore[arg-type]

    assert ids() == [
        "4F1A22C0A1",
        "7C2D11E0B3",
        "8D3E22F0C4",
        "9E4F3301D5",
        "B16A5523F7",
        "C27B6634A8",
    ]
    assert ids(include_rejected=True, include_greylisted=True) == [
        "4F1A22C0A1", "T641045DCL00000000", "T64104618L00000000", "7C2D11E0B3", "8D3E22F0C4",
        "9E4F3301D5", "B16A5523F7", "C27B6634A8",
    ]  # fmt: skip
    assert ids(sender="OPS@example") == ["9E4F3301D5"]
    assert ids(sender="ops@example", include_ndr=True) == ["9E4F3301D5"]
    assert ids(recipient="ops@", include_ndr=True) == ["A05F4412E6"]
    assert ids(host="198.51.100.20") == ["7C2D11E0B3"]
    assert ids(msgid="<SPLIT@example.com>") == ["C27B6634A8"]
    assert ids(qids=("D38C7745B9",)) == ["C27B6634A8"]
    assert ids(qids=("5A1B2C3D4E5F60004",)) == ["8D3E22F0C4"]
    assert ids(text="Eicar-Signature") == ["7C2D11E0B3"]
    assert ids(text="timed out") == ["9E4F3301D5"]
    assert ids(text="try LATER", include_greylisted=True) == ["T641045DCL00000000"]
    split = search(Query(**q, recipient="kim@"), files=[path], pure=pure).mails  # type: ignore[arg-type]
    assert [(r.to, r.status) for r in split[0].recipients] == [
        ("kim@corp.example", "accepted/delivered")
    ]


def test_row_limit(impl):
    path = DATA / "pmgfast_milter.log"
    q = Query(start=1678784400, end=1678791600, now=1701388800, tz="UTC", limit=4, **ALL)
    r = search(q, files=[path], pure=impl == "pure")
    assert r.truncated
    assert sum(len(m.recipients) for m in r.mails) <= 4
    assert [m.id for m in r.mails] == ["4F1A22C0A1"]


FAIL = re.compile(r'# failJSON: \{ "time": "(\d{4})-(\d\d)-(\d\d)T(\d\d:\d\d:\d\d)", "match": true')
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def test_fail2ban_rejects_are_found(impl, corpus):
    """Every annotated ``NOQUEUE: reject: RCPT`` line of the fail2ban corpus belongs to a mail
    that shows its recipient as rejected (or greylisted), and the mail's time is the
    annotated one when it starts with that line (the year comes from "now", as in
    pmg-log-tracker, so only month, day and time are compared)."""
    path = corpus / "logs" / "fail2ban" / "postfix"
    lines = path.read_text("utf-8", "replace").splitlines()
    want: list[tuple[str, str, str]] = []
    for note, line in itertools.pairwise(lines):
        m = FAIL.match(note)
        if m and "NOQUEUE: reject: RCPT from" in line and "/smtpd[" in line:
            to = re.search(r"; from=<[^>]*> to=<([^>]*)>", line)
            if to:
                want.append((f"{MONTHS[int(m[2]) - 1]} {int(m[3]):2d} {m[4]}", to[1], line))
    assert len(want) >= 15
    q = Query(start=0, end=1 << 40, now=1136069999, tz="UTC", lines=True, **ALL)  # 2005-12-31
    got = search(q, files=[path], pure=impl == "pure").mails
    for stamp, to, line in want:
        (mail,) = [m for m in got if line in m.lines]
        assert any(r.to == to and r.status in ("rejected", "greylisted") for r in mail.recipients)
        if mail.lines[0] == line:
            assert _stamp(mail.time) == stamp


def _stamp(epoch: int) -> str:
    t = time.gmtime(epoch)
    return f"{MONTHS[t.tm_mon - 1]} {t.tm_mday:2d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"


def test_native_and_pure_agree_on_every_corpus_log(corpus, rust_module):
    if rust_module is None:
        return  # pure-only run: nothing to compare against
    logs = [p for p in (corpus / "logs").rglob("*") if p.is_file() and p.suffix != ".yaml"]
    logs += [DATA / "pmgfast_milter.log"]
    for path in logs:
        q = Query(start=0, end=1 << 40, now=1701388800, tz="Europe/Vienna", lines=True, **ALL)
        native_result = search(q, files=[path])
        pure_result = search(q, files=[path], pure=True)
        assert native_result.mails == pure_result.mails, path
        assert native_result.bytes_read == pure_result.bytes_read, path


def test_lines_are_kept_verbatim(impl):
    path = DATA / "pmgfast_milter.log"
    q = Query(start=1678784400, end=1678791600, now=1701388800, tz="UTC", lines=True, **ALL)
    text = set(Path(path).read_text().splitlines())
    for m in search(q, files=[path], pure=impl == "pure").mails:
        assert m.lines and all(line in text for line in m.lines)
