"""The rule database in a real PostgreSQL: defaults, round trips, PMG's value formats, atomic
replacement, reset keeping the greylist groups, hit counts."""

from __future__ import annotations

from dataclasses import replace

import psycopg
import pytest

from pmgfast.rules import exchange, store
from pmgfast.rules.defaults import factory
from pmgfast.rules.model import ClassUse, Group, Rule, RuleDB
from pmgfast.rules.objects.what import ContentTypeFilter, MatchFilename
from pmgfast.rules.objects.who import EMail, LdapGroup, WhoRegex


@pytest.fixture
def conn(pg_dsn):
    with psycopg.connect(pg_dsn, autocommit=True) as connection:
        yield connection


def test_defaults_on_a_new_database_are_pmgs_factory_rules(conn):
    assert store.is_empty(conn)
    assert store.install_defaults(conn) is True
    assert store.install_defaults(conn) is False  # only once
    loaded = store.load(conn)
    assert loaded == factory(greylist=True)
    names = [r.name for r in loaded.rules]
    assert len(names) == 13 and names[0] == "Block Dangerous Files"
    active = {r.name for r in loaded.rules if r.active}
    assert active == {
        "Block Dangerous Files",
        "Block Viruses",
        "Virus Alert",
        "Blocklist",
        "Modify Header",
        "Welcomelist",
        "Quarantine/Mark Spam (Level 3)",
    }
    assert loaded.groups[0].name == "GreyExclusion" and loaded.groups[0].cls == "greylist"


def test_values_are_stored_in_pmgs_formats(conn):
    store.install_defaults(conn)
    rows = dict(
        conn.execute(
            "SELECT g.Name || '/' || o.ObjectType, o.Value FROM Object o "
            "JOIN Objectgroup g ON g.ID = o.Objectgroup_ID"
        ).fetchall()
    )
    assert bytes(rows["Images/3003"]) == b"content-type:image/.*"
    assert bytes(rows["Office Hours/2000"]) == b"08:00-16:00"
    assert bytes(rows["Remove attachments/4007"]) == b"0,0"
    assert bytes(rows["Attachment Quarantine (remove matching)/4007"]) == b"0,1"
    assert bytes(rows["Modify Spam Level/4003"]) == b"X-SPAM-LEVEL:__SPAM_INFO__"
    assert bytes(rows["Spam (Level 3)/3000"]) == b"3"
    assert bytes(rows["Notify Admin/4002"]) == b"__ADMIN__"
    attrs = dict(
        conn.execute(
            "SELECT a.Name, a.Value FROM Attribut a JOIN Object o ON o.ID = a.Object_ID "
            "JOIN Objectgroup g ON g.ID = o.Objectgroup_ID WHERE g.Name = 'Notify Admin'"
        ).fetchall()
    )
    assert bytes(attrs["attach"]) == b"N"
    assert bytes(attrs["subject"]) == b"Notification: __SUBJECT__"
    # backslashes are stored as they are (bytea parameters; no escape-format doubling)
    dangerous = [
        bytes(v)
        for (v,) in conn.execute(
            "SELECT o.Value FROM Object o JOIN Objectgroup g ON g.ID = o.Objectgroup_ID "
            "WHERE g.Name = 'Dangerous Content' AND o.ObjectType = 3004 ORDER BY o.ID"
        )
    ]
    assert dangerous == [rb".*\.(vbs|pif|lnk|shs|shb)", rb".*\.\{.+\}"]


def test_export_import_round_trips_exactly(conn):
    store.install_defaults(conn)
    first = exchange.dumps(store.load(conn))
    store.replace(conn, exchange.loads(first))
    assert exchange.dumps(store.load(conn)) == first


def test_modes_and_attributes_survive_the_database(conn):
    db = RuleDB(
        (
            Group(
                5,
                "who",
                "who",
                and_=True,
                invert=True,
                objects=(WhoRegex(id=9, regex=r"a\d+@x\.org"), EMail(id=10, email="b@x.org")),
            ),
            Group(
                6,
                "what",
                "what",
                objects=(
                    ContentTypeFilter(id=11, contenttype="image/.*", only_content=True),
                    MatchFilename(id=12, filename=r".*\.exe"),
                ),
            ),
            Group(7, "ldap", "who", objects=(LdapGroup(id=13, mode="none", profile="corp"),)),
        ),
        (
            Rule(
                3,
                "r",
                42,
                True,
                1,
                7,
                {"from": ClassUse((5, 7), True, True), "what": ClassUse((6,), False, True)},
            ),
        ),
    )
    store.replace(conn, db)
    assert store.load(conn) == db
    attrs = sorted(conn.execute("SELECT Name, Value FROM Rule_Attributes").fetchall())
    assert [(n, bytes(v)) for n, v in attrs] == [
        ("from-and", b"1"),
        ("from-invert", b"1"),
        ("what-invert", b"1"),
    ]
    # the sequences moved past the given ids
    next_id = conn.execute(
        "INSERT INTO Objectgroup (Name, Class) VALUES ('n', 'who') RETURNING ID"
    ).fetchone()
    assert next_id is not None and next_id[0] == 8


def test_a_failing_replace_changes_nothing(conn):
    store.install_defaults(conn)
    before = exchange.dumps(store.load(conn))
    broken = RuleDB((), (Rule(1, "bad", 500),))  # the table's CHECK refuses priority 500
    with pytest.raises(psycopg.errors.CheckViolation):
        store.replace(conn, broken)
    assert exchange.dumps(store.load(conn)) == before


def test_reset_keeps_greylist_groups_and_counts_on(conn):
    store.install_defaults(conn)
    conn.execute(
        "INSERT INTO Object (ObjectType, Objectgroup_ID, Value) "
        "VALUES (1001, 1, 'friend@ext.example')"
    )
    db = store.load(conn)
    custom = replace(db, rules=(*db.rules, Rule(None, "mine", 10)))
    store.replace(conn, custom)
    store.reset(conn)
    after = store.load(conn)
    assert [r.name for r in after.rules] == [r.name for r in factory().rules]
    greylist = [g for g in after.groups if g.cls == "greylist"]
    assert [(g.id, g.name) for g in greylist] == [(1, "GreyExclusion")]
    assert [o.describe() for o in greylist[0].objects] == ["friend@ext.example"]
    assert min(g.id for g in after.groups if g.cls != "greylist") > max(g.id for g in db.groups)


def test_pmg_written_legacy_values_load(conn):
    conn.execute(
        "INSERT INTO Objectgroup (ID, Name, Class) VALUES (1, 'w', 'what'), "
        "(2, 'a', 'action'), (3, 'l', 'who')"
    )
    conn.execute(
        "INSERT INTO Object (ObjectType, Objectgroup_ID, Value) VALUES "
        "(3003, 1, 'content-type:application/x-msdos-program'), (4007, 2, '1:gone'), "
        "(1005, 3, 'cn=staff'), (4004, 2, ''), (4005, 2, '0:copy@x.org')"
    )
    problems: list[str] = []
    db = store.load(conn, problems)
    (ct,) = db.groups[0].objects
    assert ct.contenttype == r"application/vnd\.microsoft\.portable-executable"
    remove, bcc = db.groups[1].objects
    assert (remove.all, remove.quarantine, remove.text) == (True, False, "gone")
    assert (bcc.target, bcc.original) == ("copy@x.org", False)
    (ldap,) = db.groups[2].objects
    assert (ldap.mode, ldap.group, ldap.profile) == ("group", "cn=staff", "")
    assert ldap.describe() == "LDAP group without profile - fail always"
    assert problems == ["object 4 in group 2: unknown object type 4004"]


def test_hit_counts_do_not_change_the_digest(conn):
    store.install_defaults(conn)
    before = exchange.digest(store.load(conn))
    store.add_hits(conn, [1, 7, 7])
    db = store.load(conn)
    assert {r.id: r.count for r in db.rules if r.count} == {1: 1, 7: 1}
    assert exchange.digest(db) == before
