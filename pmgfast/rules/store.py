"""The rule database in PostgreSQL: PMG's tables (migration 0001), read and written whole.

:func:`load` reads one consistent snapshot (a repeatable-read, read-only transaction).
:func:`replace` writes a whole rule set in one transaction: either every row is replaced or,
on any error, nothing changed. Object values are stored in PMG's formats as raw BYTEA (bytes
parameters, so no escape-format doubling of backslashes is needed). Group ``and``/``invert``
and the rule's ``<class>-and``/``<class>-invert`` rows are only written when set, as PMG does.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

import psycopg

from pmgfast.rules import objects
from pmgfast.rules.defaults import factory
from pmgfast.rules.model import GROUPTYPE, ClassUse, Group, Rule, RuleDB
from pmgfast.rules.objects.base import flag

_CLASS_OF_GROUPTYPE = {v: k for k, v in GROUPTYPE.items()}
_RULE_ATTR = re.compile(r"(from|to|when|what)-(and|invert)")


def load(conn: psycopg.Connection, problems: list[str] | None = None) -> RuleDB:
    """The whole rule database. Objects of a type pmgfast does not know are left out and
    reported in ``problems`` (when given)."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        group_rows = conn.execute(
            "SELECT ID, Name, Info, Class FROM Objectgroup ORDER BY ID"
        ).fetchall()
        group_attrs = conn.execute(
            "SELECT Objectgroup_ID, Name, Value FROM Objectgroup_Attributes"
        ).fetchall()
        object_rows = conn.execute(
            "SELECT ID, ObjectType, Objectgroup_ID, Value FROM Object ORDER BY ID"
        ).fetchall()
        object_attrs = conn.execute("SELECT Object_ID, Name, Value FROM Attribut").fetchall()
        rule_rows = conn.execute(
            "SELECT ID, Name, Priority, Active, Direction, Count FROM Rule ORDER BY ID"
        ).fetchall()
        rule_groups = conn.execute(
            "SELECT Rule_ID, Grouptype, Objectgroup_ID FROM RuleGroup "
            "ORDER BY Rule_ID, Grouptype, Objectgroup_ID"
        ).fetchall()
        rule_attrs = conn.execute("SELECT Rule_ID, Name, Value FROM Rule_Attributes").fetchall()

    gattrs: dict[int, dict[str, bytes]] = defaultdict(dict)
    for gid, name, value in group_attrs:
        gattrs[gid][name] = bytes(value)
    oattrs: dict[int, dict[str, bytes]] = defaultdict(dict)
    for oid, name, value in object_attrs:
        oattrs[oid][name] = bytes(value)
    members: dict[int, list[objects.RuleObject]] = defaultdict(list)
    for oid, otype, gid, value in object_rows:
        cls = objects.by_otype(otype)
        if cls is None:
            if problems is not None:
                problems.append(f"object {oid} in group {gid}: unknown object type {otype}")
            continue
        members[gid].append(cls.from_db(oid, bytes(value), oattrs.get(oid, {})))
    groups = tuple(
        Group(
            gid,
            name,
            cls,
            info=info,
            and_=flag(gattrs[gid].get("and")),
            invert=flag(gattrs[gid].get("invert")),
            objects=tuple(members[gid]),
        )
        for gid, name, info, cls in group_rows
    )

    uses: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for rid, grouptype, gid in rule_groups:
        rule_class = _CLASS_OF_GROUPTYPE.get(grouptype)
        if rule_class is not None:
            uses[rid][rule_class].append(gid)
    modes: dict[int, dict[str, dict[str, bool]]] = defaultdict(lambda: defaultdict(dict))
    for rid, name, value in rule_attrs:
        match = _RULE_ATTR.fullmatch(name)
        if match:
            modes[rid][match.group(1)][match.group(2)] = flag(bytes(value))
    rules = []
    for rid, name, priority, active, direction, count in rule_rows:
        classes = set(uses[rid]) | set(modes[rid])
        rule_uses = {
            cls: ClassUse(
                tuple(uses[rid].get(cls, ())),
                modes[rid][cls].get("and", False),
                modes[rid][cls].get("invert", False),
            )
            for cls in classes
        }
        rules.append(
            Rule(
                rid,
                name,
                priority,
                active > 0,
                direction,
                count,
                {c: u for c, u in rule_uses.items() if u != ClassUse()},
            )
        )
    return RuleDB(groups, tuple(rules))


def _bump(conn: psycopg.Connection, table: str) -> None:
    """Move ``table``'s id sequence past the ids in use (rows may have been given ids)."""
    conn.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
        f"GREATEST((SELECT max(id) FROM {table}), 1), (SELECT max(id) FROM {table}) IS NOT NULL)"
    )


def _insert(
    conn: psycopg.Connection,
    table: str,
    columns: tuple[str, ...],
    rows: list[tuple[int | None, tuple]],
) -> list[int]:
    """Insert ``(id or None, values)`` rows; given ids first, then the sequence's. Returns the
    ids in the order of ``rows``."""
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    ids: list[int | None] = [row_id for row_id, _ in rows]
    with conn.cursor() as cur:
        given = [(row_id, *values) for row_id, values in rows if row_id is not None]
        if given:
            cur.executemany(f"INSERT INTO {table} (ID, {names}) VALUES (%s, {marks})", given)
            _bump(conn, table)
        for i, (row_id, values) in enumerate(rows):
            if row_id is None:
                cur.execute(f"INSERT INTO {table} ({names}) VALUES ({marks}) RETURNING ID", values)
                row = cur.fetchone()
                assert row is not None
                ids[i] = int(row[0])
    return [int(i) for i in ids if i is not None]


def _write(conn: psycopg.Connection, db: RuleDB, fresh_ids: bool = False) -> None:
    """Insert ``db``. Given ids are kept unless ``fresh_ids``; then every row gets a new id
    from its sequence and the group ids in ``db`` only serve to resolve the rules' references.
    """
    groups = list(db.groups)
    group_ids = _insert(
        conn,
        "Objectgroup",
        ("Name", "Info", "Class"),
        [(None if fresh_ids else g.id, (g.name, g.info, g.cls)) for g in groups],
    )
    renumber = {g.id: new for g, new in zip(groups, group_ids, strict=True) if g.id is not None}
    attrs = [
        (new, name, b"1")
        for g, new in zip(groups, group_ids, strict=True)
        for name, on in (("and", g.and_), ("invert", g.invert))
        if on
    ]
    members = [(obj, new) for g, new in zip(groups, group_ids, strict=True) for obj in g.objects]
    stored = [(obj, obj.to_db()) for obj, _ in members]
    object_ids = _insert(
        conn,
        "Object",
        ("ObjectType", "Objectgroup_ID", "Value"),
        [
            (None if fresh_ids else obj.id, (obj.otype, gid, value))
            for (obj, gid), (_, (value, _)) in zip(members, stored, strict=True)
        ],
    )
    rules = list(db.rules)
    rule_ids = _insert(
        conn,
        "Rule",
        ("Name", "Priority", "Active", "Direction", "Count"),
        [
            (None if fresh_ids else r.id, (r.name, r.priority, int(r.active), r.direction, r.count))
            for r in rules
        ],
    )
    rule_groups = []
    rule_attrs = []
    for rule, rid in zip(rules, rule_ids, strict=True):
        for cls, use in rule.uses.items():
            rule_groups += [(renumber.get(gid, gid), rid, GROUPTYPE[cls]) for gid in use.groups]
            if cls != "action":
                rule_attrs += [
                    (rid, f"{cls}-{name}", b"1")
                    for name, on in (("and", use.and_), ("invert", use.invert))
                    if on
                ]
    with conn.cursor() as cur:
        if attrs:
            cur.executemany(
                "INSERT INTO Objectgroup_Attributes (Objectgroup_ID, Name, Value) "
                "VALUES (%s, %s, %s)",
                attrs,
            )
        object_attrs = [
            (oid, name, value)
            for oid, (_, (_, extra)) in zip(object_ids, stored, strict=True)
            for name, value in extra.items()
        ]
        if object_attrs:
            cur.executemany(
                "INSERT INTO Attribut (Object_ID, Name, Value) VALUES (%s, %s, %s)", object_attrs
            )
        if rule_groups:
            cur.executemany(
                "INSERT INTO RuleGroup (Objectgroup_ID, Rule_ID, Grouptype) VALUES (%s, %s, %s)",
                rule_groups,
            )
        if rule_attrs:
            cur.executemany(
                "INSERT INTO Rule_Attributes (Rule_ID, Name, Value) VALUES (%s, %s, %s)", rule_attrs
            )


def replace(
    conn: psycopg.Connection, db: RuleDB, keep_greylist: bool = False, fresh_ids: bool = False
) -> None:
    """Make ``db`` the whole rule database, in one transaction: on any error nothing changes.
    With ``keep_greylist`` the greylist groups and their objects stay (``db`` then holds
    none); with ``fresh_ids`` the rows get new ids instead of those in ``db``."""
    with conn.transaction():
        conn.execute(
            "LOCK TABLE Rule, RuleGroup, Rule_Attributes, Objectgroup, "
            "Objectgroup_Attributes, Object, Attribut IN EXCLUSIVE MODE"
        )
        conn.execute("DELETE FROM Rule")
        if keep_greylist:
            conn.execute("DELETE FROM Objectgroup WHERE Class <> 'greylist'")
        else:
            conn.execute("DELETE FROM Objectgroup")
        _write(conn, db, fresh_ids)


def is_empty(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "SELECT NOT EXISTS (SELECT 1 FROM Objectgroup) AND NOT EXISTS (SELECT 1 FROM Rule)"
    ).fetchone()
    return bool(row and row[0])


def reset(conn: psycopg.Connection) -> None:
    """``pmgfast rules reset``: the factory rules again. Greylist groups are kept and ids keep
    counting from where they were, as PMG's reset does."""
    replace(conn, factory(greylist=False), keep_greylist=True, fresh_ids=True)


def install_defaults(conn: psycopg.Connection) -> bool:
    """On an empty rule database install the factory rules (with the ``GreyExclusion``
    greylist group first); return True when it did."""
    with conn.transaction():
        conn.execute("LOCK TABLE Objectgroup, Rule IN EXCLUSIVE MODE")
        if not is_empty(conn):
            return False
        _write(conn, factory(greylist=True))
    return True


def add_hits(conn: psycopg.Connection, rule_ids: Iterable[int]) -> None:
    """Count one hit for each rule (PMG increments ``Rule.Count`` per matching rule)."""
    ids = sorted(set(rule_ids))
    if ids:
        conn.execute("UPDATE Rule SET Count = Count + 1 WHERE ID = ANY(%s)", (ids,))
