"""clamd's wire format without a daemon: INSTREAM framing, reply splitting, reply parsing."""

from __future__ import annotations

import io
import itertools
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmgfast.clamav.protocol import ReplyReader, encode_frames, instream_chunks
from pmgfast.clamav.result import Verdict, parse_reply


def unframe(wire: bytes) -> tuple[bytes, bool]:
    """Decode INSTREAM frames back to the payload; whether the end marker was seen."""
    payload, pos = bytearray(), 0
    while pos + 4 <= len(wire):
        (size,) = struct.unpack(">I", wire[pos : pos + 4])
        pos += 4
        if size == 0:
            return bytes(payload), pos == len(wire)
        payload += wire[pos : pos + size]
        pos += size
    return bytes(payload), False


@given(
    data=st.binary(max_size=5000),
    limit=st.integers(min_value=0, max_value=6000),
    chunk=st.integers(min_value=1, max_value=700),
    as_file=st.booleans(),
)
def test_frames_carry_the_message_up_to_the_limit(data, limit, chunk, as_file):
    source = io.BytesIO(data) if as_file else data
    stream = instream_chunks(source, limit, chunk)
    payload, ended = unframe(encode_frames(stream))
    assert ended
    assert payload == data[:limit]
    assert stream.sent == min(len(data), limit)
    assert stream.truncated == (len(data) > limit)


def test_frames_respect_chunk_size():
    stream = instream_chunks(b"x" * 10, 100, chunk=4)
    frames = list(stream)
    sizes = [struct.unpack(">I", f)[0] for f in frames[0::2]]
    assert sizes == [4, 4, 2, 0]


def test_chunk_size_must_be_positive():
    with pytest.raises(ValueError):
        instream_chunks(b"x", 10, chunk=0)


@given(
    replies=st.lists(st.binary(max_size=50).map(lambda b: b.replace(b"\0", b"")), max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=10),
)
def test_reply_reader_reassembles_any_fragmentation(replies, cuts):
    wire = b"".join(r + b"\0" for r in replies)
    points = sorted({c for c in cuts if c <= len(wire)} | {0, len(wire)})
    reader, got = ReplyReader(), []
    for start, end in itertools.pairwise(points):
        got += reader.feed(wire[start:end])
    assert got == replies
    assert reader.pending == b""


def test_reply_reader_refuses_endless_garbage():
    reader = ReplyReader(max_reply=100)
    with pytest.raises(ValueError):
        reader.feed(b"x" * 200)


@pytest.mark.parametrize(
    ("reply", "verdict", "name"),
    [
        (b"stream: OK\0", Verdict.CLEAN, None),
        (b"stream: Eicar-Test-Signature FOUND\0", Verdict.VIRUS, "Eicar-Test-Signature"),
        (b"3: stream: Win.Test.EICAR_HDB-1 FOUND", Verdict.VIRUS, "Win.Test.EICAR_HDB-1"),
        (
            b"1: stream: Heuristics.Encrypted.Zip FOUND",
            Verdict.HEURISTIC,
            "Heuristics.Encrypted.Zip",
        ),
        (b"stream: Heuristics.Phishing.Email.SpoofedDomain FOUND", Verdict.HEURISTIC, None),
        (b"INSTREAM size limit exceeded. ERROR", Verdict.ERROR, None),
        (b"2: COMMAND READ TIMED OUT ERROR", Verdict.ERROR, None),
        (b"UNKNOWN COMMAND", Verdict.ERROR, None),
        (b"", Verdict.ERROR, None),
        (b"stream: two words FOUND", Verdict.ERROR, None),
    ],
)
def test_parse_reply(reply, verdict, name):
    result = parse_reply(reply)
    assert result.verdict is verdict
    if name is not None:
        assert result.name == name
    assert (result.error is not None) == (verdict is Verdict.ERROR)


@given(st.binary(max_size=300))
def test_parse_reply_never_raises_and_never_calls_garbage_clean(raw):
    result = parse_reply(raw)
    text = raw.rstrip(b"\0\n").decode("utf-8", "replace").strip()
    if result.verdict is Verdict.CLEAN:
        assert text.endswith(": OK")
    if result.verdict in (Verdict.VIRUS, Verdict.HEURISTIC):
        assert text.endswith(" FOUND") and result.name
