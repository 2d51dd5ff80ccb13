"""Check a benchmark record against ``bench/schema.json`` (with the jsonschema library)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import orjson

SCHEMA_PATH = Path(__file__).resolve().parent / "schema.json"


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = orjson.loads(SCHEMA_PATH.read_bytes())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def validate(document: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError (naming the path) when the record does not fit."""
    # round-trip through JSON so that what is checked is what gets written
    _validator().validate(orjson.loads(orjson.dumps(document)))
