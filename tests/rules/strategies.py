"""Hypothesis strategies: random rule databases and random messages over small vocabularies,
so that objects and mails actually meet (addresses, types and names repeat)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from pmgfast.rules.facts import MessageFacts
from pmgfast.rules.model import ClassUse, Group, Rule, RuleDB
from tests.rules import dsl

ADDRESSES = ["a@x.org", "B@X.org", "c@y.net", "d@sub.x.org", "", "e@y.net"]
DOMAINS = ["x.org", "y.net", "X.ORG", "sub.x.org"]
WHO_REGEXES = [r".*@x\.org", r"[ab]@.*", r"c@y\.net|.*@sub\..*", r".*", r"e@.*\.net"]
IPS = ["192.0.2.1", "192.0.2.200", "2001:db8::1", "198.51.100.7"]
NETS = ["192.0.2.0/24", "2001:db8::/32", "198.51.100.0/30", "0.0.0.0/0"]
TYPES = [
    "text/plain",
    "text/html",
    "image/png",
    "application/pdf",
    "application/zip",
    "application/x-msdownload",
    "multipart/mixed",
    "multipart/alternative",
    "message/rfc822",
    "IMAGE/PNG",
    "application/octet-stream",
    "",
]
CT_REGEXES = [
    "image/.*",
    "application/[pz][di][fp]",
    "text/",
    "x-ms",
    "multipart/alternative",
    "message/rfc822",
    "proxmox/unreadable-archive",
]
NAMES = ["a.exe", "b.PDF", "c.txt", "notes.doc", "x.{1234}", "0", "", "archive.zip"]
NAME_REGEXES = [r".*\.exe", r".*\.pdf", r".*\.\{.+\}", r"c\..*", r".*"]
HEADERS = [
    ("Subject", "Hello world"),
    ("Subject", "VIAGRA offer"),
    ("X-Flag", "yes"),
    ("Content-Disposition", "attachment"),
    ("subject", "re: hello"),
]
FIELD_REGEXES = [
    ("Subject", "hello"),
    ("X-Flag", "^yes$"),
    ("content-disposition", "attach"),
    ("Subject", "viagra"),
]


def who_objects() -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from(ADDRESSES[:4]).map(dsl.email),
        st.sampled_from(DOMAINS).map(dsl.domain),
        st.sampled_from(WHO_REGEXES).map(dsl.regex),
        st.sampled_from(WHO_REGEXES).map(dsl.receiver_regex),
        st.sampled_from(IPS).map(dsl.ip),
        st.sampled_from(NETS).map(dsl.net),
        st.just(dsl.ldap("any")),
    )


def what_objects() -> st.SearchStrategy:
    return st.one_of(
        st.integers(0, 8).map(dsl.spam),
        st.just(dsl.virus()),
        st.tuples(st.sampled_from(FIELD_REGEXES), st.booleans()).map(
            lambda t: dsl.header(*t[0], top=t[1])
        ),
        st.tuples(st.sampled_from(CT_REGEXES), st.booleans()).map(lambda t: dsl.ct(*t)),
        st.sampled_from(CT_REGEXES).map(dsl.archive),
        st.sampled_from(NAME_REGEXES).map(dsl.fname),
        st.sampled_from(NAME_REGEXES).map(dsl.archfn),
    )


def _clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def when_objects() -> st.SearchStrategy:
    return st.tuples(st.integers(0, 1440), st.integers(0, 1440)).map(
        lambda t: dsl.time(_clock(t[0]), _clock(t[1]))
    )


def action_objects() -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from([dsl.ACCEPT, dsl.BLOCK, dsl.QUARANTINE]),
        st.sampled_from(["__SENDER__", "admin@x.org; __ADMIN__", ""]).map(
            lambda to: dsl.notify(to, body="__RULE__ __TARGETS__ __SPAM_INFO__")
        ),
        st.sampled_from(
            [
                ("X-Spam-Level", "__SPAM_INFO__"),
                ("subject", "SPAM: __SUBJECT__"),
                ("X-Tag", "Grüße __SPAMSTARS__"),
            ]
        ).map(lambda f: dsl.setheader(*f)),
        st.tuples(st.sampled_from(["bcc@x.org", "__SENDER__"]), st.booleans()).map(
            lambda t: dsl.bcc(*t)
        ),
        st.tuples(
            st.booleans(), st.booleans(), st.sampled_from(["", "<b>gone</b> __FILENAME__"])
        ).map(lambda t: dsl.remove(*t)),
        st.sampled_from(["start", "end"]).map(lambda p: dsl.disclaimer("Note", p)),
    )


OBJECTS = {
    "who": who_objects(),
    "what": what_objects(),
    "when": when_objects(),
    "action": action_objects(),
}


@st.composite
def rule_dbs(draw: st.DrawFn) -> RuleDB:
    groups = []
    object_id = 0
    by_class: dict[str, list[int]] = {"who": [], "what": [], "when": [], "action": []}
    for gid in range(1, draw(st.integers(1, 10)) + 1):
        cls = draw(st.sampled_from(list(by_class)))
        objs = []
        for obj in draw(st.lists(OBJECTS[cls], max_size=4)):
            object_id += 1
            objs.append(replace(obj, id=object_id))
        groups.append(
            Group(
                gid,
                f"group {gid}",
                cls,
                and_=draw(st.booleans()),
                invert=draw(st.booleans()),
                objects=tuple(objs),
            )
        )
        by_class[cls].append(gid)
    rules = []
    for rid in range(1, draw(st.integers(0, 8)) + 1):
        uses = {}
        for rule_class, group_class in (
            ("from", "who"),
            ("to", "who"),
            ("when", "when"),
            ("what", "what"),
            ("action", "action"),
        ):
            if by_class[group_class] and draw(st.booleans()):
                chosen = draw(
                    st.lists(
                        st.sampled_from(by_class[group_class]), min_size=1, max_size=3, unique=True
                    )
                )
                uses[rule_class] = ClassUse(tuple(chosen), draw(st.booleans()), draw(st.booleans()))
        rules.append(
            Rule(
                rid,
                f"rule {rid}",
                draw(st.integers(0, 100)),
                draw(st.booleans()),
                draw(st.integers(0, 2)),
                draw(st.integers(0, 5)),
                uses,
            )
        )
    return RuleDB(tuple(groups), tuple(rules))


@st.composite
def parts(draw: st.DrawFn) -> list[dsl.P]:
    count = draw(st.integers(0, 7))
    return [
        dsl.P(
            content_type=draw(st.sampled_from(TYPES)),
            magic=draw(st.sampled_from(TYPES)),
            glob=draw(st.sampled_from(TYPES)),
            name=draw(st.none() | st.sampled_from(NAMES)),
            parent=0 if aid == 1 else draw(st.integers(1, aid - 1)),
            charset=draw(st.sampled_from([None, "us-ascii", "utf-8", "iso-8859-1", "bogus"])),
            headers=tuple(draw(st.lists(st.sampled_from(HEADERS), max_size=3))),
            archive_types=tuple(draw(st.lists(st.sampled_from(TYPES), max_size=2))),
            archive_names=tuple(draw(st.lists(st.sampled_from(NAMES), max_size=2))),
        )
        for aid in range(1, count + 1)
    ]


@st.composite
def messages(draw: st.DrawFn) -> MessageFacts:
    recipients = draw(
        st.lists(st.sampled_from([*ADDRESSES[:4], "e@y.net"]), min_size=1, max_size=4, unique=True)
    )
    welcome: dict[str, str] = {}
    block: dict[str, str] = {}
    for address in draw(st.lists(st.sampled_from(recipients), max_size=2, unique=True)):
        for lists, choices in (
            (welcome, [None, "*@x.org", "c@y.net,?@x.org"]),
            (block, [None, "a@*", "*"]),
        ):
            entries = draw(st.sampled_from(choices))
            if entries is not None:
                lists[address.lower()] = entries
    hits = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["BAYES_99", "URIBL", "X"]), st.floats(-5, 5, allow_nan=False)
            ),
            max_size=3,
        )
    )
    return dsl.mail(
        sender=draw(st.sampled_from(ADDRESSES)),
        to=recipients,
        parts=draw(parts()),
        client_ip=draw(st.none() | st.sampled_from([*IPS, "IPv6:2001:db8::1", "garbage"])),
        trusted=draw(st.booleans()),
        at=_clock(draw(st.integers(0, 23 * 60 + 59))),
        subject=draw(st.none() | st.sampled_from(["", "0", "Hello", "Grüße", "a\nb"])),
        score=draw(st.integers(0, 12)),
        hits=[(rule, score, None) for rule, score in hits],
        virus=draw(st.none() | st.just("Eicar (clamav)")),
        welcome=welcome,
        block=block,
        from_addresses=draw(st.lists(st.sampled_from(ADDRESSES), max_size=2)),
        dkim=draw(st.booleans()),
    )
