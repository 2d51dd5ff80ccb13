"""Recipient groups whose copies of the mail differ (PMG ``ModGroup.pm``).

All recipients start in one group sharing one copy. An action that changes the mail for some
recipients asks for :meth:`ModGroup.subgroups` of its targets: every group that is only partly
targeted is split, and the untargeted part gets its own copy (here: its own edit list), so the
change reaches only the targeted recipients. Read-only users (accept, quarantine, BCC) get the
same split view without changing the groups.

PMG's read-only split also appends the unsplit copy to its list of copies, which shifts the
pairing of later groups and copies; pmgfast keeps groups and copies paired (a deliberate fix).
"""

from __future__ import annotations

from collections.abc import Iterable

from pmgfast.rules.outcome import ContentGroup, Edit


class ModGroup:
    def __init__(self, recipients: Iterable[str], edits: tuple[Edit, ...] = ()) -> None:
        self.groups: list[list[str]] = [list(recipients)]
        self.contents: list[tuple[Edit, ...]] = [edits]

    def subgroups(
        self, targets: Iterable[str], read_only: bool = False
    ) -> list[tuple[tuple[str, ...], int]]:
        """``(recipients, copy index)`` for every group holding some of ``targets``."""
        wanted = set(targets)
        groups = list(self.groups) if read_only else self.groups
        result = []
        for i in range(len(groups)):
            group = groups[i]
            matched = [r for r in group if r in wanted]
            if not matched:
                continue
            if len(matched) < len(group):
                groups[i] = matched
                groups.append([r for r in group if r not in wanted])
                if not read_only:
                    self.contents.append(self.contents[i])
            result.append((tuple(matched), i))
        return result

    def add(self, index: int, edit: Edit) -> None:
        self.contents[index] = (*self.contents[index], edit)

    @property
    def base(self) -> tuple[Edit, ...]:
        """The first copy: PMG's original entity, which actions on its group change in place."""
        return self.contents[0]

    def result(self) -> tuple[ContentGroup, ...]:
        return tuple(
            ContentGroup(tuple(g), c) for g, c in zip(self.groups, self.contents, strict=True)
        )
