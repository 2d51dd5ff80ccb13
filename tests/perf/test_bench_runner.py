"""The benchmark runner's record and comparison: schema-checked JSON, ratios, flags."""

from __future__ import annotations

import jsonschema
import orjson
import pytest

from bench import compare
from bench.__main__ import discover
from bench.harness import Result, format_table
from bench.machine import describe_machine
from bench.schema import validate


def document(results: list[Result]) -> dict:
    return {
        "schema": 1,
        "started": 1.0,
        "seconds": 2.0,
        "quick": True,
        "machine": describe_machine(),
        "errors": [],
        "results": [r.to_dict() for r in results],
    }


def sample() -> list[Result]:
    return [
        Result("mime", "walk corpus", "msg/s", 12000.0, 400.0, "email pkg", agreed=True),
        Result(
            "rules",
            "default set",
            "us/msg",
            20.0,
            200.0,
            "pure",
            agreed=True,
            higher_is_better=False,
        ),
        Result("perf", "fsyncs", "1/s", 1500.0),
    ]


def test_record_validates_and_ratios_follow_the_unit_direction():
    results = sample()
    validate(document(results))
    assert results[0].ratio == pytest.approx(30.0)
    assert results[1].ratio == pytest.approx(10.0)
    assert results[2].ratio is None
    table = format_table(results)
    assert "30.0x" in table and "10.0x" in table and table.count("\n") == 4


def test_schema_rejects_a_result_without_agreement_field():
    broken = document(sample())
    del broken["results"][0]["agreed"]
    with pytest.raises(jsonschema.ValidationError, match="agreed"):
        validate(broken)


def test_compare_flags_regressions_and_disagreements(tmp_path, capsys):
    old, new = sample(), sample()
    new[0].value = 6000.0  # half as fast
    new[1].value = 10.0  # twice as fast (lower is better)
    new[1].agreed = False
    (tmp_path / "old.json").write_bytes(orjson.dumps(document(old)))
    (tmp_path / "new.json").write_bytes(orjson.dumps(document(new[:2])))
    assert compare.main([str(tmp_path / "old.json"), str(tmp_path / "new.json")]) == 0
    out = capsys.readouterr().out
    mime = next(line for line in out.splitlines() if line.startswith("mime"))
    rules = next(line for line in out.splitlines() if line.startswith("rules"))
    assert "0.50x" in mime and "SLOWER" in mime
    assert "2.00x" in rules and "faster now DISAGREES" in rules
    assert "only in old: perf / fsyncs" in out


def test_every_bench_module_has_a_run_function():
    import importlib

    for area in discover():
        module = importlib.import_module(f"bench.bench_{area}")
        assert callable(module.run), area
