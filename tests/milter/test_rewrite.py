"""Copies of the mail built from the received bytes and the rule engine's edits.

- no edits: the received bytes, exactly;
- ``locate`` (the offsets pmgfast finds itself when the walk has none, as the pure twin) agrees
  with the native walk's offsets on the corpus;
- removed attachments, disclaimers, header edits and the multipart wrap give well-formed mail
  with exactly the intended change, on real corpus messages and on generated edits.
"""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmgfast import mime
from pmgfast.actions import rewrite
from pmgfast.rules.outcome import (
    AddDisclaimer,
    DeleteHeader,
    DisclaimerTarget,
    PrefixMessageId,
    RemoveAttachments,
    Replacement,
    SetHeader,
)


def corpus_files(corpus: Path) -> list[Path]:
    files = [p for p in sorted((corpus / "mime").rglob("*")) if p.is_file()]
    files = [p for p in files if p.suffix != ".md" and p.name != "COPYING"]
    return files + sorted((corpus / "spamassassin" / "spam").iterdir())[:150]


def test_a_copy_without_edits_is_the_received_message(corpus):
    for path in corpus_files(corpus)[::7]:
        raw = path.read_bytes()
        parts = mime.walk(raw).parts
        copy = rewrite.apply(raw, parts, ())
        fields, body_at = rewrite.split_head(raw)
        assert copy.body == raw[body_at:], path
        assert copy.fields == fields


def test_located_spans_nest_inside_their_parents(corpus):
    for path in corpus_files(corpus)[::3]:
        raw = path.read_bytes()
        parts = mime.walk_pure(raw).parts
        spans = {s.aid: s for s in rewrite.locate(raw, parts)}
        for span in spans.values():
            assert 0 <= span.header_start <= span.body_start <= span.body_end <= len(raw), path
            parent = spans.get(span.parent)
            if parent is not None:
                assert parent.body_start <= span.header_start, path
                assert span.body_end <= parent.body_end, path


def test_locate_finds_the_offsets_of_the_native_walk(corpus, rust_module):
    if rust_module is None:  # pure build: the nesting test above checks locate alone
        return
    agree = differ = 0
    known = []
    for path in corpus_files(corpus):
        raw = path.read_bytes()
        native = mime.walk_native(raw, mime.Limits(), rust_module)
        pure = mime.walk_pure(raw, mime.Limits())
        if [(p.aid, p.content_type) for p in pure.parts] != [
            (p.aid, p.content_type) for p in native.parts
        ]:
            continue  # the walks themselves differ here (tests/mime lists why)
        spans = rewrite.locate(raw, pure.parts)
        got = [(s.header_start, s.body_start, s.body_end) for s in spans]
        want = [(p.header_start, p.body_start, p.body_end) for p in native.parts]
        if got == want:
            agree += 1
            continue
        differ += 1
        # Deliberate: only malformed multiparts (text after a missing or broken close
        # delimiter) may end a part a few bytes apart; a well-formed message never does.
        assert native.defects, path
        known.append(path.name)
    assert agree > 700
    assert differ <= 8, known


def walk(raw: bytes):
    return mime.walk(raw).parts


def test_removing_an_attachment_keeps_everything_else_byte_for_byte(corpus):
    raw = (corpus / "mime" / "flanker" / "attached-pdf.eml").read_bytes()
    parts = walk(raw)
    spans = rewrite.locate(raw, parts) if parts[0].header_start < 0 else parts
    pdf = next(
        s for s, p in zip(spans, parts, strict=True) if p.filename and p.filename.endswith(".pdf")
    )
    filename = parts[pdf.aid - 1].filename
    rep = Replacement(
        pdf.aid,
        filename,
        f"REMOVED_ATTACHMENT_{pdf.aid}.txt",
        "text/plain",
        f"This attachment was removed: {filename}\n",
    )
    copy = rewrite.apply(raw, parts, (RemoveAttachments("strip", (rep,)),)).bytes()
    assert raw[: pdf.header_start] == copy[: pdf.header_start]
    tail = raw[pdf.body_end :]
    assert copy.endswith(tail)
    msg = email.message_from_bytes(copy, policy=policy.default)
    names = [p.get_filename() for p in msg.walk() if p.get_filename()]
    assert names == [f"REMOVED_ATTACHMENT_{pdf.aid}.txt"]
    assert not msg.defects


def test_single_part_mail_becomes_multipart_when_its_body_is_removed():
    raw = (
        b"From: a@b.example\r\nSubject: exe\r\nContent-Type: application/octet-stream;"
        b" name=x.exe\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAA==\r\n"
    )
    rep = Replacement(1, "x.exe", "REMOVED_ATTACHMENT_1.txt", "text/plain", "gone: x.exe\n")
    copy = rewrite.apply(raw, walk(raw), (RemoveAttachments("r", (rep,), True),)).bytes()
    msg = email.message_from_bytes(copy, policy=policy.default)
    assert msg.get_content_type() == "multipart/mixed"
    assert msg["Subject"] == "exe"
    (part,) = msg.iter_parts()
    assert part.get_filename() == "REMOVED_ATTACHMENT_1.txt"
    assert part.get_content().replace("\r\n", "\n") == "gone: x.exe\n"


@pytest.mark.parametrize("cte", ["7bit", "quoted-printable", "base64", "8bit"])
@pytest.mark.parametrize("position", ["start", "end"])
def test_disclaimer_goes_into_the_text_part_in_its_encoding(cte, position):
    body_text = "Grüße aus dem Büro.\n" if cte != "7bit" else "Hello from the office.\n"
    msg = email.message.EmailMessage()
    msg["Subject"] = "d"
    msg.set_content(body_text, charset="utf-8", cte=cte)
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="a.pdf")
    raw = msg.as_bytes()
    parts = walk(raw)
    text = next(p for p in parts if p.content_type == "text/plain")
    edit = AddDisclaimer(
        "disc",
        position,
        "<br>--<br>Legal\n",
        "\n--\nLegal\n",
        (DisclaimerTarget(text.aid, "text", "utf-8", True),),
    )
    copy = rewrite.apply(raw, parts, (edit,)).bytes()
    out = email.message_from_bytes(copy, policy=policy.default)
    got = out.get_body(("plain",)).get_content()
    legal = "\n--\nLegal\n"
    expected = legal + body_text if position == "start" else body_text + legal
    assert got == expected
    assert [p.get_filename() for p in out.iter_attachments()] == ["a.pdf"]


def test_html_disclaimer_goes_inside_the_body_element():
    raw = b"Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hi</p></body></html>\r\n"
    edit = AddDisclaimer(
        "disc", "end", "<br>--<br>Legal\n", "", (DisclaimerTarget(1, "html", "utf-8", True),)
    )
    copy = rewrite.apply(raw, walk(raw), (edit,)).bytes()
    assert b"<p>Hi</p><br>--<br>Legal\r\n</body></html>" in copy


def test_header_edits_and_message_id_prefix():
    raw = b"X-Spam: forged\r\nSubject: s\r\nMessage-ID: <abc@x>\r\nX-Spam: again\r\n\r\nbody\r\n"
    copy = rewrite.apply(
        raw,
        walk(raw),
        (
            DeleteHeader("x-spam"),
            SetHeader("X-SPAM-LEVEL", "3", "3"),
            SetHeader("Subject", "SPAM: s", "SPAM: s"),
            PrefixMessageId(),
        ),
    ).bytes()
    assert copy.startswith(b"Subject: SPAM: s\r\nMessage-ID: <pmg-aquar-")
    assert b"X-Spam:" not in copy and b"X-SPAM-LEVEL: 3\r\n\r\nbody\r\n" in copy


def _edits(parts):
    aids = [p.aid for p in parts if p.parent]
    leaves = [p for p in parts if p.is_leaf and p.content_type.startswith("text/")]
    remove = st.lists(st.sampled_from(aids), unique=True, max_size=3).map(
        lambda chosen: RemoveAttachments(
            "r", tuple(Replacement(a, "f", f"REMOVED_ATTACHMENT_{a}.txt", "text/plain", "x\n")
                       for a in chosen))) if aids else st.nothing()  # fmt: skip
    disclaim = st.sampled_from(leaves).map(
        lambda p: AddDisclaimer("d", "end", "<br>L\n", "L\n",
                                (DisclaimerTarget(p.aid, "html" if "html" in p.content_type
                                                  else "text", p.charset or "utf-8", True),))
    ) if leaves else st.nothing()  # fmt: skip
    header = st.sampled_from(
        [
            DeleteHeader("Received"),
            SetHeader("X-T", "v", "v"),
            SetHeader("Subject", "new", "new"),
            PrefixMessageId(),
        ]
    )
    return st.lists(st.one_of(remove, disclaim, header), max_size=4)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_edits_on_any_corpus_message_give_parseable_mail(corpus, data):
    files = corpus_files(corpus)
    raw = data.draw(st.sampled_from(files)).read_bytes()
    parts = walk(raw)
    edits = data.draw(_edits(parts))
    copy = rewrite.apply(raw, parts, edits).bytes()
    again = mime.walk(copy)
    assert again.parts  # parses; the edit did not swallow the message
    removed = {r.aid for e in edits if isinstance(e, RemoveAttachments) for r in e.replacements}
    if removed:
        names = {p.filename for p in again.parts if p.filename}
        assert any(n and n.startswith("REMOVED_ATTACHMENT_") for n in names) or len(removed) > 1
