"""PMG's own greylisting test (pmg-api ``src/tests/test_greylist.pl``) as data.

Each timeline is a list of (seconds after the first attempt, expected answer) for one triple;
``True`` is pmgpolicy's ``dunno`` (pass), ``False`` its ``defer``.
"""

from __future__ import annotations

from pmgfast.greylist.policy import DELAY as D
from pmgfast.greylist.policy import LIFETIME as AW
from pmgfast.greylist.policy import RETRY_WINDOW as L

START = 1

NORMAL = [
    [(0, False), (D - 3, False), (D - 1, False), (L - 1, True), (L - 1 + AW - 1, True),
     (L - 1 + AW - 1 + AW, False)],
    [(0, False), (D - 3, False), (D - 1, False), (L + 1, False), (L + 1 + D - 1, False),
     (L + 1 + D + 1, True), (L + 1 + D + 1 + AW - 1, True), (L + 1 + D + 1 + AW - 1 + AW, False)],
]  # fmt: skip

BOUNCE = [  # the empty sender: passes once after the delay, then is greylisted again
    [(0, False), (D - 3, False), (D - 1, False), (L - 1, True), (L + 1, False)],
    [(0, False), (D - 3, False), (D - 1, False), (L + 1, False), (L + 1 + D - 1, False),
     (L + 1 + D + 1, True), (L + 1 + D + 2, False)],
]  # fmt: skip
