"""The table-driven rule engine suite: every case on the compiled and the pure engine.

The cases live in ``cases_*.py``; each shows its rules, its mail and the expected decisions in
one place. Both engines must give the expected outcome, and the same outcome as each other.
"""

from __future__ import annotations

import pytest

from tests.rules import cases_flow_macros, cases_modes_marks, cases_what, cases_who_when
from tests.rules.dsl import Case, run_case

CASES: list[Case] = [
    *cases_who_when.CASES,
    *cases_what.CASES,
    *cases_modes_marks.CASES,
    *cases_flow_macros.CASES,
]


def test_the_table_is_large_and_ids_are_unique():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 80


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case(case: Case):
    compiled = run_case(case, native=True)
    pure = run_case(case, native=False)
    assert compiled == pure
