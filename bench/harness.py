"""What every benchmark module shares: timing, the result record, peak memory and the table.

A benchmark module ``bench/bench_<area>.py`` defines ``run(quick: bool) -> list[Result]``.
Each :class:`Result` carries the native figure, the baseline figure measured in the same run,
their ratio, and whether both gave the same answers (``agreed``): a disagreement is a
correctness error, a slow figure never is.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Result:
    """One benchmark line: ``value`` in ``unit`` for the native path and for the baseline."""

    area: str
    name: str
    unit: str  # e.g. "msg/s", "MB/s", "us/msg"
    value: float  # native (or the only) figure
    baseline: float | None = None  # the baseline's figure in the same unit
    baseline_name: str = ""
    agreed: bool | None = None  # None: nothing to compare
    higher_is_better: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """How many times better the native figure is than the baseline."""
        if not self.baseline or not self.value:
            return None
        return self.value / self.baseline if self.higher_is_better else self.baseline / self.value

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


def best_time(fn: Callable[[], object], repeat: int = 3, min_seconds: float = 0.2) -> float:
    """The best wall time of one call of ``fn`` over ``repeat`` rounds; each round calls ``fn``
    until ``min_seconds`` have passed, so fast functions are timed over many calls."""
    best = float("inf")
    for _ in range(repeat):
        calls = 0
        start = time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        best = min(best, elapsed / calls)
    return best


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def format_table(results: list[Result]) -> str:
    """The results as an aligned text table."""
    rows = [("area", "benchmark", "native", "baseline", "ratio", "agreed")]
    for r in results:
        base = f"{r.baseline:,.1f} {r.unit} ({r.baseline_name})" if r.baseline is not None else "-"
        ratio = f"{r.ratio:,.1f}x" if r.ratio is not None else "-"
        agreed = {None: "-", True: "yes", False: "NO"}[r.agreed]
        rows.append((r.area, r.name, f"{r.value:,.1f} {r.unit}", base, ratio, agreed))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
