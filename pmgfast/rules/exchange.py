"""The rule database as JSON: ``pmgfast rules export`` / ``import``, and the digest.

The document is canonical: groups, objects and rules sorted by id, keys sorted, so an export
imported and exported again gives the same bytes. Object fields use the names of PMG's API
(``contenttype``, ``only-content``, ``spamlevel``, ...). :func:`loads` checks everything and
raises :class:`RuleSetError` listing every problem (with its place in the document) before
anything may be stored. :func:`digest` is a SHA-1 over the canonical document without the hit
counts (which change with every mail), for cluster sync and caches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from pmgfast.rules import objects
from pmgfast.rules.model import DIRECTIONS, RULE_CLASSES, ClassUse, Group, Rule, RuleDB
from pmgfast.rules.objects import ObjectError, RuleObject

FORMAT = "pmgfast-rules"
VERSION = 1
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE


class RuleSetError(ValueError):
    """A rule set that cannot be imported; ``problems`` lists every fault found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n  ".join(problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} problem(s) in the rule set:\n  {shown}{more}")


def _sort_key(item_id: int | None) -> tuple[int, int]:
    return (1, 0) if item_id is None else (0, item_id)


def to_document(db: RuleDB, counts: bool = True) -> dict[str, Any]:
    groups = []
    for group in sorted(db.groups, key=lambda g: _sort_key(g.id)):
        groups.append(
            {
                "id": group.id,
                "name": group.name,
                "info": group.info,
                "class": group.cls,
                "and": group.and_,
                "invert": group.invert,
                "objects": [
                    o.to_json() for o in sorted(group.objects, key=lambda o: _sort_key(o.id))
                ],
            }
        )
    rules = []
    for rule in sorted(db.rules, key=lambda r: _sort_key(r.id)):
        entry: dict[str, Any] = {
            "id": rule.id,
            "name": rule.name,
            "priority": rule.priority,
            "active": rule.active,
            "direction": DIRECTIONS[rule.direction],
        }
        if counts:
            entry["count"] = rule.count
        for cls in RULE_CLASSES:
            use = rule.use(cls)
            entry[cls] = {"groups": sorted(use.groups)}
            if cls != "action":
                entry[cls].update({"and": use.and_, "invert": use.invert})
        rules.append(entry)
    return {"format": FORMAT, "version": VERSION, "groups": groups, "rules": rules}


def dumps(db: RuleDB) -> bytes:
    """The canonical JSON export of ``db``."""
    return orjson.dumps(to_document(db), option=_OPTIONS)


def digest(db: RuleDB) -> str:
    """SHA-1 (hex) of the rule set, hit counts excluded."""
    return hashlib.sha1(
        orjson.dumps(to_document(db, counts=False), option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


# --- import -------------------------------------------------------------------------------


def _bool(value: Any, where: str, problems: list[str]) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1) and isinstance(value, int):
        return bool(value)
    problems.append(f"{where}: expected true or false, got {value!r}")
    return False


def _int(value: Any, where: str, problems: list[str], default: int | None = None) -> int | None:
    if value is None and default is not None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    problems.append(f"{where}: expected an integer, got {value!r}")
    return default


def _str(value: Any, where: str, problems: list[str]) -> str:
    if isinstance(value, str):
        return value
    problems.append(f"{where}: expected a string, got {value!r}")
    return ""


def _object(data: Any, where: str, problems: list[str]) -> RuleObject | None:
    if not isinstance(data, Mapping):
        problems.append(f"{where}: expected an object, got {data!r}")
        return None
    cls = objects.by_name(data.get("type", ""))
    if cls is None:
        problems.append(f"{where}: unknown object type {data.get('type')!r}")
        return None
    try:
        return cls.from_json(data)
    except ObjectError as err:
        problems += [f"{where}.{p}" for p in err.problems]
        return None


def _group(data: Any, where: str, problems: list[str]) -> Group | None:
    if not isinstance(data, Mapping):
        problems.append(f"{where}: expected an object, got {data!r}")
        return None
    unknown = set(data) - {"id", "name", "info", "class", "and", "invert", "objects"}
    problems += [f"{where}.{key}: unknown field" for key in sorted(unknown)]
    items = data.get("objects", [])
    if not isinstance(items, list):
        problems.append(f"{where}.objects: expected a list")
        items = []
    objs = [_object(item, f"{where}.objects[{i}]", problems) for i, item in enumerate(items)]
    raw_id = data.get("id")
    return Group(
        id=None if raw_id is None else _int(raw_id, f"{where}.id", problems),
        name=_str(data.get("name"), f"{where}.name", problems),
        info=_str(data.get("info", ""), f"{where}.info", problems),
        cls=_str(data.get("class"), f"{where}.class", problems),
        and_=_bool(data.get("and", False), f"{where}.and", problems),
        invert=_bool(data.get("invert", False), f"{where}.invert", problems),
        objects=tuple(o for o in objs if o is not None),
    )


def _direction(value: Any, where: str, problems: list[str]) -> int:
    if value in DIRECTIONS:
        return DIRECTIONS.index(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 2:
        return value
    problems.append(f"{where}: expected one of in, out, both, got {value!r}")
    return 2


def _rule(data: Any, where: str, problems: list[str]) -> Rule | None:
    if not isinstance(data, Mapping):
        problems.append(f"{where}: expected an object, got {data!r}")
        return None
    unknown = set(data) - {"id", "name", "priority", "active", "direction", "count", *RULE_CLASSES}
    problems += [f"{where}.{key}: unknown field" for key in sorted(unknown)]
    uses = {}
    for cls in RULE_CLASSES:
        raw = data.get(cls, {})
        cwhere = f"{where}.{cls}"
        if not isinstance(raw, Mapping):
            problems.append(f"{cwhere}: expected an object")
            continue
        allowed = {"groups"} if cls == "action" else {"groups", "and", "invert"}
        problems += [f"{cwhere}.{key}: unknown field" for key in sorted(set(raw) - allowed)]
        groups = raw.get("groups", [])
        if not isinstance(groups, list):
            problems.append(f"{cwhere}.groups: expected a list of group ids")
            groups = []
        ids = tuple(
            g
            for i, g in enumerate(groups)
            if _int(g, f"{cwhere}.groups[{i}]", problems) is not None
        )
        use = ClassUse(
            ids,
            _bool(raw.get("and", False), f"{cwhere}.and", problems),
            _bool(raw.get("invert", False), f"{cwhere}.invert", problems),
        )
        if use != ClassUse():
            uses[cls] = use
    raw_id = data.get("id")
    return Rule(
        id=None if raw_id is None else _int(raw_id, f"{where}.id", problems),
        name=_str(data.get("name"), f"{where}.name", problems),
        priority=_int(data.get("priority"), f"{where}.priority", problems, 0) or 0,
        active=_bool(data.get("active", False), f"{where}.active", problems),
        direction=_direction(data.get("direction", "both"), f"{where}.direction", problems),
        count=_int(data.get("count", 0), f"{where}.count", problems, 0) or 0,
        uses=uses,
    )


def from_document(document: Any) -> RuleDB:
    """A checked :class:`RuleDB` from a parsed export; raises :class:`RuleSetError`."""
    problems: list[str] = []
    if not isinstance(document, Mapping):
        raise RuleSetError(["the document is not a JSON object"])
    if document.get("format") != FORMAT:
        problems.append(f"format: expected {FORMAT!r}, got {document.get('format')!r}")
    if document.get("version") != VERSION:
        problems.append(f"version: expected {VERSION}, got {document.get('version')!r}")
    unknown = set(document) - {"format", "version", "groups", "rules"}
    problems += [f"{key}: unknown field" for key in sorted(unknown)]
    raw_groups = document.get("groups", [])
    raw_rules = document.get("rules", [])
    if not isinstance(raw_groups, list) or not isinstance(raw_rules, list):
        raise RuleSetError([*problems, "groups and rules must be lists"])
    groups = [_group(g, f"groups[{i}]", problems) for i, g in enumerate(raw_groups)]
    rules = [_rule(r, f"rules[{i}]", problems) for i, r in enumerate(raw_rules)]
    db = RuleDB(tuple(g for g in groups if g), tuple(r for r in rules if r))
    problems += db.problems()
    if problems:
        raise RuleSetError(problems)
    return db


def loads(data: bytes | str) -> RuleDB:
    """Parse and check an export; raises :class:`RuleSetError`."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise RuleSetError([f"not valid JSON: {err}"]) from None
    return from_document(document)
