"""The Rust core against the pure twin, and the sparse scan against the full one (Hypothesis).

- Line soup: real lines (corpus and pmgfast logs) shuffled, repeated, cut and with bytes
  flipped, read in both dialects with random filters: same output, byte for byte, and no
  exception anywhere.
- Generated logs (bench/loggen.py, random seeds and mixes): the same mails for random sender,
  recipient, client, id and text queries, from the Rust sparse scan, the Rust full scan and the
  twin.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import loggen
from pmgfast import native
from pmgfast.tracking import Mail, Query, Recipient, search
from pmgfast.tracking.twin.correlate import PrintFilter, parse_id
from pmgfast.tracking.twin.scan import PmgQuery, run_pmg
from pmgfast.tracking.twin.stamps import Zone
from tests.conftest import CORPUS
from tests.tracking.conftest import DATA, GEN_NOW, GEN_START

SOURCES = [
    CORPUS / "logs" / "pmg-log-tracker" / "test_input_mixed",
    CORPUS / "logs" / "pmg-log-tracker" / "test_input_foreign_lines",
    DATA / "pmgfast_milter.log",
]
POOL = [line for p in SOURCES for line in p.read_bytes().split(b"\n") if line]
POOL += [
    line
    for line in (CORPUS / "logs" / "postfix-logsums" / "mail.log").read_bytes().split(b"\n")[:3000]
    if line
]
WORDS = [b"test", b"localhost", b"REJECT", b"example", b"4F1A22C0A1", b"corp", b"192.168", b"<xyz>"]
ZONE = "Europe/Vienna"


def mutate(rng: random.Random, line: bytes) -> bytes:
    r = rng.random()
    if r < 0.6:
        return line
    if r < 0.75:
        return line[: rng.randrange(len(line) + 1)]
    if r < 0.9:
        b = bytearray(line)
        for _ in range(rng.randint(1, 3)):
            if b:
                b[rng.randrange(len(b))] = rng.choice(b" :;<>[]()=0Az\xff\x00")
        return bytes(b)
    return line + line[: rng.randrange(len(line) + 1)]


@st.composite
def soups(draw: st.DrawFn) -> bytes:
    rng = random.Random(draw(st.integers(0, 2**32)))
    n = draw(st.integers(1, 300))
    start = rng.randrange(len(POOL))
    picked = POOL[start : start + n] if rng.random() < 0.5 else rng.choices(POOL, k=n)
    lines = [mutate(rng, line) for line in picked]
    tail = b"" if rng.random() < 0.5 else b"\n"
    return b"\n".join(lines) + tail


@st.composite
def pmg_filters(draw: st.DrawFn) -> PrintFilter:
    word = st.sampled_from(WORDS)
    maybe = st.one_of(st.just(b""), word)
    return PrintFilter(
        sender=draw(maybe),
        to=draw(maybe),
        host=draw(maybe),
        msgid=draw(st.one_of(st.just(b""), st.just(b"<xyz>"))),
        ids=draw(
            st.lists(
                st.sampled_from(["4F1A22C0A1", "1C6B541C5D", "T5FDCB6DFL00000000"]), max_size=2
            )
        ),
        exclude_greylist=draw(st.booleans()),
        exclude_ndr=draw(st.booleans()),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=soups(),
    f=pmg_filters(),
    text=st.sampled_from([b"", *WORDS]),
    verbose=st.integers(0, 2),
    limit=st.integers(0, 5),
)
def test_pmg_output_native_equals_pure(data, f, text, verbose, limit):
    zone = Zone.from_tz_value(ZONE)
    ids = [parse_id(i) for i in f.ids]  # type: ignore[arg-type]
    pf = PrintFilter(f.sender, f.to, f.host, f.msgid, ids, False, f.exclude_greylist, f.exclude_ndr)
    q = PmgQuery(0, 1 << 40, 3600, 1609455599, ("bytes", data), pf, text, limit, verbose)
    pure = run_pmg(q, zone)
    rust = native.rust()
    if rust is None:
        return
    got = rust.track_pmg(
        start=0, end=1 << 40, offset=3600, now=1609455599, source="bytes", data=data,
        sender=f.sender.decode(), recipient=f.to.decode(), host=f.host.decode(),
        msgid=f.msgid.decode(), ids=list(f.ids), text=text.decode(),
        exclude_greylist=f.exclude_greylist, exclude_ndr=f.exclude_ndr, limit=limit,
        verbose=verbose, tz=ZONE,
    )  # fmt: skip
    assert got == pure


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=soups(),
    word=st.sampled_from([b"", *WORDS]),
    field=st.sampled_from(["sender", "recipient", "host", "text"]),
)
def test_mails_native_equal_pure(data, word, field):
    q = Query(
        start=0, end=1 << 40, now=1701388800, tz=ZONE, lines=True, include_greylisted=True,
        include_rejected=True, include_ndr=True, **{field: word.decode()},
    )  # fmt: skip
    pure = search(q, data=data, pure=True)
    assert records(pure.mails)
    if native.rust() is None:
        return
    got = search(q, data=data).mails
    # equal as tuples, and the same record classes (a plain tuple would compare equal too)
    assert got == pure.mails and records(got)
    assert got == search(replace(q, full_scan=True), data=data).mails


def records(mails: tuple[Mail, ...]) -> bool:
    """Every mail a Mail of str/int fields, every recipient a Recipient."""
    return all(
        type(m) is Mail
        and all(type(r) is Recipient for r in m.recipients)
        and all(type(x) is str for x in (m.id, m.sender, m.client, m.msgid, *m.qids, *m.lines))
        and type(m.time) is int
        and type(m.recipients) is tuple
        for m in mails
    )


@st.composite
def generated_logs(draw: st.DrawFn) -> tuple[int, loggen.Mix]:
    seed = draw(st.integers(0, 10_000))
    mix = loggen.Mix(
        deferred=draw(st.sampled_from([0.03, 0.2])),
        split=draw(st.sampled_from([0.01, 0.1])),
        greylist=draw(st.sampled_from([0.05, 0.2])),
        bounced=draw(st.sampled_from([0.01, 0.1])),
    )
    return seed, mix


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gen=generated_logs(), pick=st.integers(0, 10**6), field=st.sampled_from(
    ["sender", "recipient", "host", "text", "qids", "msgid", "window"]))  # fmt: skip
def test_sparse_full_and_pure_agree_on_generated_logs(gen, pick, field):
    seed, mix = gen
    with tempfile.TemporaryDirectory() as tmp:
        paths = loggen.generate(
            Path(tmp), mails_per_day=1500, days=1, seed=seed, mix=mix, gzip_from=9
        )
        text = paths[0].read_text()
        lines = text.splitlines()
        line = lines[pick % len(lines)]
        rng = random.Random(pick)
        value: object
        if field == "sender":
            value = rng.choice([w for w in text.split("from=<")[1:]]).split(">")[0] or "news"
        elif field == "recipient":
            value = rng.choice(text.split("to=<")[1:]).split(">")[0][:12]
        elif field == "host":
            value = line.split(" ")[3] if "connect from" in line else "mail3."
        elif field == "text":
            value = line[30:45]
        elif field == "qids":
            value = (line.split(": ")[1][:10],) if ": " in line else ("0000000000",)
        elif field == "msgid":
            value = rng.choice(text.split("message-id=")[1:]).split("\n")[0]
        else:
            value = None
        filters: dict[str, object] = {"include_greylisted": True, "include_rejected": True}
        start, end = GEN_START, GEN_START + 86400
        if field == "window":
            start = GEN_START + pick % 80000
            end = start + 3600
        elif value is not None:
            filters[field] = value
        q = Query(
            start=start, end=end, now=GEN_NOW, tz="UTC", lines=True, include_ndr=True, **filters
        )  # type: ignore[arg-type]
        pure = search(q, files=paths, pure=True).mails
        if native.rust() is None:
            return
        sparse = search(q, files=paths).mails
        full = search(replace(q, full_scan=True), files=paths).mails
        assert full == pure
        assert sparse == pure
