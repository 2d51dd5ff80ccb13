"""pmgfast's own pmgperf lines: its hot paths measured on a built-in sample.

Each probe runs one hot path for about the probe time on a small generated sample (no corpus
needed, so the figures are comparable between machines) and reports a rate, with ``native`` or
``pure`` in the note to say which implementation ran.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from pmgfast.perf import Line


def _rate(work: Callable[[], int], seconds: float) -> float:
    """Units of work per second: ``work()`` returns the units one call did."""
    done = 0
    start = time.perf_counter()
    while True:
        done += work()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


SAMPLE_HEADERS = [
    "Subject: Your invoice 48213 is ready",
    "Content-Type: application/pdf",
    "Content-Type: image/png",
    "From: billing@example.com",
    "X-Mailer: Outlook 16.0",
    "Content-Type: application/vnd.ms-excel",
    "Subject: meeting tomorrow at 10",
]


def pattern_matches(seconds: float) -> Line:
    """Subjects matched per second against the default rule set's content-type patterns."""
    from pmgfast.patterns import Pattern, compile_set

    regexes = [
        r"image/.*",
        r"audio/.*",
        r"video/.*",
        r"application/vnd\.ms-excel",
        r"application/msword",
        r"application/vnd\.openxmlformats-officedocument\..*",
        r"application/x-msdownload",
        r"application/javascript",
        r"message/partial",
        r"application/vnd\.microsoft\.portable-executable",
        r"application/x-executable",
    ]
    patterns = compile_set([Pattern(i, r) for i, r in enumerate(regexes)])

    def work() -> int:
        for subject in SAMPLE_HEADERS:
            patterns.matches(subject)
        return len(SAMPLE_HEADERS)

    kind = "native" if type(patterns).__name__ != "PurePatternSet" else "pure"
    return Line(
        "PATTERN MATCH/S", f"{_rate(work, seconds):.0f}", f"{kind}, {len(regexes)} patterns"
    )


def lines(seconds: float) -> Iterator[Line]:
    yield pattern_matches(seconds)
