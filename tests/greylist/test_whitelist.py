"""The SMTP whitelist as objects of the greylist group: add, list, remove on real PostgreSQL,
the factory group reused, checks on values, and what the compiled rule set then matches."""

from __future__ import annotations

import pytest

from pmgfast.rules import compile_rules
from pmgfast.rules import store as rules_store
from pmgfast.rules.ldap import NO_LDAP
from pmgfast.rules.objects.base import ObjectError
from pmgfast.smtpwl import ENTRY_TYPES, add, entries, make_entry, remove


def test_entries_go_into_the_factory_greylist_group(conn):
    rules_store.install_defaults(conn)
    ids = [
        add(conn, make_entry("email", "friend@ext.example")),
        add(conn, make_entry("domain", "partner.example")),
        add(conn, make_entry("regex", r".*@lists\.example")),
        add(conn, make_entry("ip", "192.0.2.9")),
        add(conn, make_entry("network", "198.51.100.0/24")),
        add(conn, make_entry("receiver", "postmaster@local.example")),
        add(conn, make_entry("receiver_domain", "abuse.example")),
        add(conn, make_entry("receiver_regex", r"noc-.*@local\.example")),
    ]
    assert add(conn, make_entry("email", "friend@ext.example")) == ids[0]  # no duplicate
    groups = conn.execute("SELECT ID, Name FROM Objectgroup WHERE Class = 'greylist'").fetchall()
    assert groups == [(1, "GreyExclusion")]
    listed = entries(conn)
    assert [o.id for o in listed] == ids
    assert [o.type_name for o in listed] == list(ENTRY_TYPES)

    ruleset = compile_rules(rules_store.load(conn))
    assert ruleset.greylist_match("FRIEND@ext.example", "203.0.113.1", NO_LDAP)
    assert ruleset.greylist_match("x@partner.example", None, NO_LDAP)
    assert ruleset.greylist_match("digest@lists.example", None, NO_LDAP)
    assert ruleset.greylist_match("x@y.example", "192.0.2.9", NO_LDAP)
    assert ruleset.greylist_match("x@y.example", "198.51.100.200", NO_LDAP)
    assert not ruleset.greylist_match("x@y.example", "192.0.2.10", NO_LDAP)
    assert ruleset.greylist_match_receiver("postmaster@local.example", NO_LDAP)
    assert ruleset.greylist_match_receiver("anyone@abuse.example", NO_LDAP)
    assert ruleset.greylist_match_receiver("noc-eu@local.example", NO_LDAP)
    assert not ruleset.greylist_match_receiver("user@local.example", NO_LDAP)
    # receiver objects never match the sender side and vice versa
    assert not ruleset.greylist_match("postmaster@local.example", None, NO_LDAP)
    assert not ruleset.greylist_match_receiver("friend@ext.example", NO_LDAP)

    assert remove(conn, ids[0]) and not remove(conn, ids[0])
    rule_object = conn.execute("SELECT min(ID) FROM Object WHERE Objectgroup_ID <> 1").fetchone()
    assert not remove(conn, rule_object[0])  # only whitelist entries can be removed here
    assert [o.id for o in entries(conn)] == ids[1:]


def test_a_group_is_made_when_there_is_none(conn):
    add(conn, make_entry("ip", "192.0.2.1"))
    assert conn.execute(
        "SELECT Name, Info FROM Objectgroup WHERE Class = 'greylist'"
    ).fetchall() == [("GreyExclusion", "-")]


@pytest.mark.parametrize(
    ("kind", "value"),
    [("email", "not an address"), ("ip", "300.1.1.1"), ("network", "192.0.2.1"),
     ("regex", "(unclosed"), ("printer", "x"), ("domain", "a b")],
)  # fmt: skip
def test_bad_entries_are_refused(kind, value):
    with pytest.raises(ObjectError):
        make_entry(kind, value)
