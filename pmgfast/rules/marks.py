"""How object results combine into group and class results (PMG ``RuleCache.pm``).

Boolean classes (FROM, TO, WHEN) combine with :func:`match_list_with_mode`, once for the
objects of a group (the group's ``and``/``invert``) and once for the groups of a class (the
rule's ``<class>-and``/``<class>-invert``).

WHAT results are *marks*, the attachment ids (aids) that matched:

- ``None``: no match (PMG ``undef``);
- ``()`` (:data:`WHOLE`): the whole mail matched, no particular part (Spam and Virus objects);
- a non-empty tuple of aids. Object results may repeat an aid (a Match Field object adds the
  aid once per matching header instance); group and class results are sorted and unique.

PMG quirks kept on purpose, because they decide which parts "remove matching attachments"
removes: an ``all`` group whose objects all matched the whole mail is normalised to ``()`` only
when the number of parts equals the number of objects (PMG compares with the object count), and
counts a repeated aid twice; inverting a result that lacks exactly one part gives no match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

Marks = tuple[int, ...] | None
WHOLE: tuple[int, ...] = ()

T = TypeVar("T")


def match_list_with_mode(
    items: Iterable[T], and_: bool, invert: bool, test: Callable[[T], object]
) -> bool:
    """``any`` (or ``all`` with ``and_``) of ``test`` over ``items``, negated by ``invert``.

    Evaluation stops at the first element that decides, as in PMG. An empty list gives
    ``invert`` in ``any`` mode and ``not invert`` in ``all`` mode.
    """
    if and_:
        for item in items:
            if not test(item):
                return invert
    else:
        for item in items:
            if test(item):
                return not invert
    return and_ != invert


def invert_marks(marks: Marks, max_aid: int) -> Marks:
    """The complement of ``marks`` over ``1..max_aid`` (PMG ``invert_mark_list``)."""
    if marks is not None:
        count = len(marks)
        if count == 0 or count == max_aid - 1:
            return None
        present = set(marks)
        return tuple(aid for aid in range(1, max_aid + 1) if aid not in present)
    return tuple(range(1, max_aid + 1))


def combine_group(results: Sequence[Marks], and_: bool, invert: bool, max_aid: int) -> Marks:
    """The marks of one WHAT group from its objects' results (PMG ``group_match_and_invert``)."""
    encountered = False
    if and_:
        counts: dict[int, int] = {}
        for marks in results:
            if marks is None:
                counts = {}
                break
            if marks:
                encountered = True
                for aid in marks:
                    counts[aid] = counts.get(aid, 0) + 1
            else:
                for aid in range(1, max_aid + 1):
                    counts[aid] = counts.get(aid, 0) + 1
        wanted = len(results)
        survivors = sorted(aid for aid, n in counts.items() if n == wanted)
        combined: Marks
        if not survivors:
            combined = None
        elif len(survivors) == wanted and not encountered:
            combined = WHOLE
        else:
            combined = tuple(survivors)
    else:
        seen: set[int] = set()
        for marks in results:
            if marks is None:
                continue
            if marks:
                encountered = True
                seen.update(marks)
            else:
                seen.update(range(1, max_aid + 1))
        if len(seen) == max_aid and not encountered:
            combined = WHOLE
        elif not seen:
            combined = None
        else:
            combined = tuple(sorted(seen))
    if invert:
        combined = invert_marks(combined, max_aid)
    return combined


def combine_class(group_marks: Sequence[Marks], and_: bool, invert: bool) -> Marks:
    """The WHAT class result: a boolean over the groups and, when it holds, the union of the
    groups' marks (PMG ``what_match_and_invert``)."""
    if len(group_marks) == 1:  # the usual case: group results are already sorted and unique
        marks = group_marks[0]
        if invert:
            return WHOLE if marks is None else None
        return marks
    if not match_list_with_mode(group_marks, and_, invert, _is_match):
        return None
    union: set[int] = set()
    for marks in group_marks:
        if marks:
            union.update(marks)
    return tuple(sorted(union))


def _is_match(marks: Marks) -> bool:
    return marks is not None
