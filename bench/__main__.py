"""``python -m bench``: run every benchmark, print the table, write the JSON.

    python -m bench [--quick] [--only AREA ...] [--output FILE]
    python -m bench compare OLD.json NEW.json

Each ``bench/bench_<area>.py`` module's ``run(quick)`` is called in turn. The table goes to the
terminal; the results, with the machine's description, go to ``bench/results/<time>.json``
(or ``--output``), checked against ``bench/schema.json`` before they are written. The exit code
is 1 when any native result disagreed with its baseline (a correctness error) and 0 otherwise:
a slow figure never fails the run.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path

import orjson

import bench
from bench import compare as compare_mod
from bench.harness import Result, format_table
from bench.machine import describe_machine
from bench.schema import validate

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def discover() -> list[str]:
    """The areas with a benchmark module, in name order."""
    return sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules(bench.__path__)
        if m.name.startswith("bench_")
    )


def run_areas(areas: list[str], quick: bool) -> tuple[list[Result], list[str]]:
    """Run the areas; an area that crashes is reported as an error, the others still run."""
    results: list[Result] = []
    errors: list[str] = []
    for area in areas:
        started = time.perf_counter()
        print(f"-- {area} ...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"bench.bench_{area}")
            found = module.run(quick=quick)
        except Exception:
            errors.append(f"{area}: {traceback.format_exc().strip().splitlines()[-1]}")
            print(traceback.format_exc(), file=sys.stderr)
            continue
        results.extend(found)
        print(
            f"-- {area}: {len(found)} results in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    return results, errors


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["compare"]:
        return compare_mod.main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small inputs, well under 3 minutes")
    parser.add_argument(
        "--only", nargs="+", metavar="AREA", help=f"areas to run ({', '.join(discover())})"
    )
    parser.add_argument("--output", type=Path, help="JSON file (default bench/results/<time>.json)")
    args = parser.parse_args(argv)

    areas = discover()
    if args.only:
        unknown = sorted(set(args.only) - set(areas))
        if unknown:
            parser.error(f"unknown area(s): {', '.join(unknown)} (known: {', '.join(areas)})")
        areas = [a for a in areas if a in args.only]
    started = time.time()
    results, errors = run_areas(areas, args.quick)
    document = {
        "schema": 1,
        "started": started,
        "seconds": round(time.time() - started, 3),
        "quick": args.quick,
        "machine": describe_machine(),
        "errors": errors,
        "results": [r.to_dict() for r in results],
    }
    validate(document)
    output = args.output or RESULTS_DIR / time.strftime("%Y%m%d-%H%M%S.json", time.gmtime(started))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))

    print(format_table(results))
    disagreements = [r for r in results if r.agreed is False]
    for r in disagreements:
        print(
            f"DISAGREEMENT: {r.area} / {r.name}: native and {r.baseline_name} gave different "
            "answers",
            file=sys.stderr,
        )
    for error in errors:
        print(f"ERROR: {error}", file=sys.stderr)
    print(
        f"bench: {len(results)} results, {len(disagreements)} disagreements, {len(errors)} "
        f"errors, {document['seconds']:.0f} s; written to {output}"
    )
    return 1 if disagreements or errors else 0


if __name__ == "__main__":
    sys.exit(main())
