"""Header fields of a raw message and the milter operations that turn one header list into
another (checked against a model of how Postfix applies chgheader/addheader)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pmgfast.actions.headers import (
    Field,
    HeaderOp,
    delete_field,
    header_ops,
    join_head,
    line_ending,
    set_field,
    split_head,
)


def apply_ops(fields: list[Field], ops: list[HeaderOp]) -> list[Field]:
    """What Postfix does: ``chgheader`` changes (or with an empty value deletes) the
    index-th field of that name (counted among the fields present now), ``addheader``
    appends."""
    out = list(fields)
    for op in ops:
        if op.index == 0:
            out.append(Field(op.name, op.value or b""))
            continue
        seen = 0
        for i, f in enumerate(out):
            if f.key == op.name.lower():
                seen += 1
                if seen == op.index:
                    if op.value is None:
                        del out[i]
                    else:
                        out[i] = Field(f.name, op.value)
                    break
    return out


def by_name(fields: list[Field]) -> dict[str, list[bytes]]:
    grouped: dict[str, list[bytes]] = {}
    for f in fields:
        grouped.setdefault(f.key, []).append(f.value)
    return grouped


names = st.sampled_from(["Subject", "X-A", "x-a", "Received", "To"])
values = st.binary(min_size=0, max_size=6).map(lambda b: b" " + b.replace(b"\n", b""))
field_lists = st.lists(st.builds(Field, names, values), max_size=8)


@given(field_lists, field_lists)
def test_header_ops_turn_the_old_list_into_the_new_one(old, new):
    result = apply_ops(old, header_ops(old, new))
    assert by_name(result) == by_name(new)


def test_split_and_join_give_back_the_same_bytes(corpus):
    files = sorted((corpus / "mime" / "python-email").iterdir())[:40]
    files += sorted((corpus / "spamassassin" / "ham").iterdir())[:40]
    checked = 0
    for path in files:
        raw = path.read_bytes()
        if raw.startswith(b"From "):
            continue
        fields, body_at = split_head(raw)
        eol = line_ending(raw)
        head = raw[:body_at]
        if head.endswith(eol + eol) and head.count(b"\r\n") in (0, head.count(b"\n")):
            assert join_head(fields, eol) + eol == head, path
            checked += 1
    assert checked > 20


def test_field_edits_follow_pmg():
    fields, _ = split_head(b"A: 1\nB: 2\nA: 3\nC: 4\n\nbody")
    replaced = set_field(fields, "a", b" new")
    assert [(f.name, f.value) for f in replaced] == [("A", b" new"), ("B", b" 2"), ("C", b" 4")]
    assert [f.name for f in set_field(fields, "D", b" x")][-1] == "D"
    assert [f.name for f in delete_field(fields, "A")] == ["B", "C"]


def test_folded_fields_and_junk_lines():
    fields, body_at = split_head(b"From nobody Mon\nA: x\n  y\nno colon here\n\nbody")
    assert fields == [Field("A", b" x\n  y")]
    assert body_at == len(b"From nobody Mon\nA: x\n  y\n")  # the body starts at the junk
