"""``python -m bench compare OLD.json NEW.json``: what got faster or slower between two runs.

For each benchmark present in both runs, prints OLD and NEW figures and NEW/OLD as a speed
ratio (above 1.00x: NEW is better, whatever the unit's direction), flagging changes beyond
``--threshold`` (default 10 %). Benchmarks present in one run only are listed below the table.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import orjson

from bench.schema import validate


def load(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    document = orjson.loads(path.read_bytes())
    validate(document)
    return {(r["area"], r["name"]): r for r in document["results"]}


def speedup(old: dict[str, Any], new: dict[str, Any]) -> float | None:
    if not old["value"] or not new["value"]:
        return None
    ratio = new["value"] / old["value"]
    return ratio if new["higher_is_better"] else 1 / ratio


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench compare", description=__doc__)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.10,
        help="relative change worth flagging (default 0.10)",
    )
    args = parser.parse_args(argv)
    old, new = load(args.old), load(args.new)
    rows = [("area", "benchmark", "old", "new", "new/old", "")]
    for key in sorted(old.keys() & new.keys()):
        a, b = old[key], new[key]
        change = speedup(a, b)
        flag = ""
        if change is not None and change < 1 - args.threshold:
            flag = "SLOWER"
        elif change is not None and change > 1 + args.threshold:
            flag = "faster"
        if a["agreed"] is not False and b["agreed"] is False:
            flag = (flag + " now DISAGREES").strip()
        rows.append(
            (
                key[0],
                key[1],
                f"{a['value']:,.1f} {a['unit']}",
                f"{b['value']:,.1f} {b['unit']}",
                f"{change:.2f}x" if change is not None else "-",
                flag,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    for label, keys in (
        ("only in old", old.keys() - new.keys()),
        ("only in new", new.keys() - old.keys()),
    ):
        for area, name in sorted(keys):
            print(f"{label}: {area} / {name}")
    return 0
