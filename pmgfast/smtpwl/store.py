"""Whitelist entries in the rule database: the objects of the ``greylist`` class group.

An entry is one who-object: ``email``, ``domain``, ``regex`` (sender side), ``ip``,
``network`` (the client), ``receiver``, ``receiver_domain``, ``receiver_regex`` (the
recipient). :func:`add` puts it into the first greylist group, creating PMG's
``GreyExclusion`` group when there is none. Running milter workers see a change after a
reload (SIGHUP), Postfix after ``pmgfast config sync --restart``.
"""

from __future__ import annotations

import psycopg

from pmgfast.rules import store as rules_store
from pmgfast.rules.objects import by_name
from pmgfast.rules.objects.base import ObjectError
from pmgfast.rules.objects.who import WhoObject

ENTRY_TYPES = (
    "email",
    "domain",
    "regex",
    "ip",
    "network",
    "receiver",
    "receiver_domain",
    "receiver_regex",
)
_FIELD = {
    "email": "email",
    "domain": "domain",
    "regex": "regex",
    "ip": "ip",
    "network": "cidr",
    "receiver": "email",
    "receiver_domain": "domain",
    "receiver_regex": "regex",
}


def make_entry(kind: str, value: str) -> WhoObject:
    """A checked whitelist entry; raises ObjectError saying what is wrong."""
    cls = by_name(kind)
    if kind not in ENTRY_TYPES or cls is None:
        raise ObjectError([f"unknown whitelist entry type {kind!r} ({', '.join(ENTRY_TYPES)})"])
    obj = cls(**{_FIELD[kind]: value})  # type: ignore[arg-type]
    problems = obj.validate()
    if problems:
        raise ObjectError(problems)
    assert isinstance(obj, WhoObject)
    return obj


def entries(conn: psycopg.Connection) -> list[WhoObject]:
    """Every entry of every greylist group, in id order."""
    db = rules_store.load(conn)
    return [
        obj
        for group in sorted(db.groups, key=lambda g: g.id or 0)
        if group.cls == "greylist"
        for obj in sorted(group.objects, key=lambda o: o.id or 0)
        if isinstance(obj, WhoObject)
    ]


def _group(conn: psycopg.Connection) -> int:
    found = conn.execute(
        "SELECT ID FROM Objectgroup WHERE Class = 'greylist' ORDER BY ID LIMIT 1"
    ).fetchone()
    if found is not None:
        return int(found[0])
    created = conn.execute(
        "INSERT INTO Objectgroup (Name, Info, Class) VALUES ('GreyExclusion', '-', 'greylist')"
        " RETURNING ID"
    ).fetchone()
    assert created is not None
    return int(created[0])


def add(conn: psycopg.Connection, entry: WhoObject) -> int:
    """Store ``entry``; returns its object id (an equal entry already there is reused)."""
    value, attrs = entry.to_db()
    with conn.transaction():
        conn.execute("LOCK TABLE Objectgroup IN SHARE ROW EXCLUSIVE MODE")
        gid = _group(conn)
        same = conn.execute(
            "SELECT ID FROM Object WHERE Objectgroup_ID = %s AND ObjectType = %s AND Value = %s",
            (gid, entry.otype, value),
        ).fetchone()
        if same is not None:
            return int(same[0])
        row = conn.execute(
            "INSERT INTO Object (ObjectType, Objectgroup_ID, Value) VALUES (%s, %s, %s)"
            " RETURNING ID",
            (entry.otype, gid, value),
        ).fetchone()
        assert row is not None
        oid = int(row[0])
        for name, data in attrs.items():
            conn.execute(
                "INSERT INTO Attribut (Object_ID, Name, Value) VALUES (%s, %s, %s)",
                (oid, name, data),
            )
    return oid


def remove(conn: psycopg.Connection, object_id: int) -> bool:
    """Delete the entry with this object id; False when no whitelist entry has it."""
    deleted = conn.execute(
        "DELETE FROM Object WHERE ID = %s AND Objectgroup_ID IN"
        " (SELECT ID FROM Objectgroup WHERE Class = 'greylist')",
        (object_id,),
    ).rowcount
    return deleted > 0
