"""The greylisting state machine: PMG's own timelines, and properties of random timelines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pmgfast.greylist.policy import Constants, Row, passes, step
from tests.greylist.timelines import BOUNCE, NORMAL, START

C = Constants()


def run(timeline: list[tuple[int, bool]], empty_sender: bool) -> list[bool]:
    row: Row | None = None
    answers = []
    for i, (offset, _) in enumerate(timeline):
        now = START + offset
        row, passed = step(row, now, empty_sender, f"i{i}", C)
        assert passes(row, now, C) == passed
        answers.append(passed)
    return answers


def test_pmg_timelines_normal_sender():
    for timeline in NORMAL:
        assert run(timeline, False) == [expected for _, expected in timeline]


def test_pmg_timelines_empty_sender():
    for timeline in BOUNCE:
        assert run(timeline, True) == [expected for _, expected in timeline]


def test_first_pass_records_delay_and_counts():
    row, _ = step(None, 100, False, "a", C)
    row, _ = step(row, 150, False, "b", C)
    assert (row.blocked, row.passed, row.instance) == (2, 0, "a")
    row, passed = step(row, 100 + 200, False, "c", C)
    assert passed and row.delay == 200 and row.passed == 1 and row.extime == 300 + C.lifetime
    row, passed = step(row, 400, False, "d", C)
    assert passed and row.delay == 200 and row.passed == 2


def test_expired_row_starts_over_with_the_new_instance():
    row, _ = step(None, 0, False, "a", C)
    row, passed = step(row, C.retry_window + 5, False, "b", C)
    assert not passed
    assert (row.rctime, row.blocked, row.passed, row.instance) == (C.retry_window + 5, 1, 0, "b")


times = st.lists(st.integers(min_value=0, max_value=90 * 24 * 3600), min_size=1, max_size=30)


@given(times, st.booleans())
def test_never_passes_before_the_delay(offsets, empty):
    row = None
    for now in sorted(offsets):
        row, passed = step(row, now, empty, None, C)
        if passed:
            assert now - row.rctime >= C.delay
        assert passes(row, now, C) == passed
        assert row.extime >= row.rctime or empty


@given(times)
def test_a_passed_triple_keeps_passing_while_mail_keeps_coming(offsets):
    row = None
    last = None
    for now in sorted(offsets):
        row, passed = step(row, now, False, None, C)
        if last is not None and last[0] and now - last[1] < C.lifetime:
            assert passed  # auto-welcomed triples are not delayed again
        last = (passed, now)
