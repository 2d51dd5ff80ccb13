"""Compiled generations: order and direction split, reload swaps, what the pipeline may skip,
the greylist exclusion list, and the stdlib stand-in for message facts."""

from __future__ import annotations

import threading
from dataclasses import replace

from pmgfast.rules import Generations, compile_rules, evaluate, factory
from pmgfast.rules.ldap import NO_LDAP
from pmgfast.rules.mime_facts import facts_from_bytes
from pmgfast.rules.model import ClassUse, Group, Rule, RuleDB
from pmgfast.rules.objects.what import ArchiveFilter
from pmgfast.rules.objects.who import Domain, IPNet, Receiver
from tests.rules.dsl import P, mail, mixed

GREYLIST = RuleDB(
    (
        Group(
            1,
            "GreyExclusion",
            "greylist",
            objects=(
                IPNet(id=1, cidr="192.0.2.0/24"),
                Domain(id=2, domain="friend.example"),
                Receiver(id=3, email="postmaster@local.example"),
            ),
        ),
    )
)


def test_factory_order_and_directions():
    ruleset = compile_rules(factory())
    assert [r.name for r in ruleset.incoming] == [
        "Blocklist",
        "Block Viruses",
        "Block Dangerous Files",
        "Modify Header",
        "Welcomelist",
        "Quarantine/Mark Spam (Level 3)",
    ]
    assert [r.name for r in ruleset.outgoing] == ["Virus Alert"]
    assert [a.describe() for a in ruleset.incoming[1].run_order] == [
        "notify __ADMIN__",
        "Move to quarantine.",
    ]


def test_spam_and_archive_work_is_only_asked_for_when_a_rule_needs_it():
    ruleset = compile_rules(factory())
    assert ruleset.needs_spam(trusted=False) and not ruleset.needs_spam(trusted=True)
    assert not ruleset.needs_archives(trusted=False)
    db = factory()
    archive = Group(99, "arch", "what", objects=(ArchiveFilter(id=999, contenttype="x"),))
    rule = Rule(99, "arch", 10, True, 1, uses={"what": ClassUse((99,))})
    ruleset = compile_rules(RuleDB((*db.groups, archive), (*db.rules, rule)))
    assert ruleset.needs_archives(trusted=True) and not ruleset.needs_archives(trusted=False)


def test_greylist_exclusion_list():
    ruleset = compile_rules(GREYLIST)
    assert ruleset.greylist_match("x@y.example", "192.0.2.9", NO_LDAP)
    assert ruleset.greylist_match("x@friend.example", None, NO_LDAP)
    assert not ruleset.greylist_match("x@y.example", "198.51.100.1", NO_LDAP)
    assert ruleset.greylist_match_receiver("Postmaster@local.example", NO_LDAP)
    assert not ruleset.greylist_match("postmaster@local.example", None, NO_LDAP)


def test_reload_swaps_whole_generations():
    generations = Generations(factory())
    first = generations.current
    assert generations.load(factory()) is first  # same digest: nothing to do
    counted = factory()
    counted = replace(counted, rules=tuple(replace(r, count=5) for r in counted.rules))
    assert generations.load(counted) is first  # hit counts are not part of the rule set
    changed = replace(counted, rules=counted.rules[1:])  # without "Block Dangerous Files"
    second = generations.load(changed)
    assert second is generations.current and second.generation > first.generation
    # a message still holding the old generation is judged by all of it
    exe = mail(parts=mixed(P("application/x-msdownload", name="a.exe")))
    assert "Rule: Block Dangerous Files" in evaluate(first, exe).rule_info
    assert "Rule: Block Dangerous Files" not in evaluate(second, exe).rule_info


def test_concurrent_readers_see_one_generation_or_the_other():
    generations = Generations(factory())
    small = replace(factory(), rules=())
    seen: set[int] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            current = generations.current
            seen.add(len(current.incoming) + len(current.outgoing))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(20):
            generations.load(small)
            generations.load(factory())
    finally:
        stop.set()
        thread.join()
    assert seen <= {0, 7}


def test_mime_facts_number_parts_depth_first():
    raw = (
        b"From: a@b.example\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
        b"Message-Id: <1@x>\r\nMessage-Id: <2@x>\r\n"
        b"Content-Type: multipart/mixed; boundary=X\r\n\r\n"
        b"--X\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nhi\r\n"
        b"--X\r\nContent-Type: message/rfc822\r\n\r\n"
        b"Subject: inner\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n"
        b"--X\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="run.exe"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\r\n"
        b"--X--\r\n"
    )
    facts = facts_from_bytes(raw, "s@x", ("r@y",))
    assert [(p.aid, p.parent, p.content_type) for p in facts.parts] == [
        (1, 0, "multipart/mixed"),
        (2, 1, "text/plain"),
        (3, 1, "message/rfc822"),
        (4, 3, "text/html"),
        (5, 1, "application/octet-stream"),
    ]
    assert facts.subject == "Grüße" and facts.message_id == "<2@x>"
    assert facts.parts[4].filename == "run.exe"
    # shared-mime-info's name for an MZ header (the stdlib stand-in said x-msdownload)
    assert facts.parts[4].magic_type == "application/vnd.microsoft.portable-executable"
    assert facts.parts[1].charset == "us-ascii"
    assert facts.from_addresses == ("a@b.example",)
