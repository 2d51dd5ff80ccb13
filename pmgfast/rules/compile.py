"""A rule database compiled for evaluation: one generation, immutable, swapped whole on reload.

:func:`compile_rules` keeps PMG's rule cache order (active rules by priority, then id, both
descending; groups by id; objects by id), splits the rules by direction, and prepares the
matchers:

- :class:`SetMatcher` (the default): every regex, content-type and filename object of the
  generation compiled into pattern sets (:func:`pmgfast.patterns.compile_set`, native when
  built), so a message is matched against all of them in one pass per subject kind, with the
  answers for recurring subjects (``image/png``) remembered per generation; mail addresses and
  domains are set lookups.
- :class:`PureMatcher`: each object tested on its own with :mod:`re`; the reference the
  differential tests compare with and the baseline of the benchmark.

:class:`Generations` holds the current :class:`RuleSet`; a reload builds the next one aside
and swaps it in with one assignment, so a message always sees one whole generation.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from pmgfast.patterns import Pattern, PatternError, compile_set
from pmgfast.rules import exchange
from pmgfast.rules.facts import MessageFacts, Part
from pmgfast.rules.ldap import LdapResolver
from pmgfast.rules.marks import match_list_with_mode
from pmgfast.rules.model import BOTH, IN, OUT, Group, RuleDB
from pmgfast.rules.objects import ActionObject, RuleObject
from pmgfast.rules.objects.action import ModField
from pmgfast.rules.objects.what import (
    PART_TYPES,
    ArchiveFilter,
    ContentTypeFilter,
    MatchArchiveFilename,
    MatchField,
    MatchFilename,
    Spam,
)
from pmgfast.rules.objects.who import (
    Domain,
    EMail,
    IPAddress,
    IPNet,
    LdapGroup,
    LdapUser,
    WhoObject,
    WhoRegex,
    domain_of,
    parse_ip,
)
from pmgfast.rules.outcome import DeleteHeader

CACHE_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class CGroup:
    """A compiled object group: ``objects`` are ``(key, object)`` with a generation-wide key."""

    and_: bool
    invert: bool
    objects: tuple[tuple[int, RuleObject], ...]
    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    regex_keys: frozenset[int] = frozenset()
    ips: frozenset[str] = frozenset()
    networks: tuple[tuple[int, int, frozenset[int]], ...] = ()
    others: tuple[tuple[int, RuleObject], ...] = ()
    part_keys: frozenset[int] | None = None  # set when every object is a per-part object


def _networks(objects: Iterable[RuleObject]) -> tuple[tuple[int, int, frozenset[int]], ...]:
    """IP networks as (IP version, prefix length, the networks' leading bits): a client is in
    one when its leading bits are in the set, one lookup per distinct prefix length."""
    by_prefix: dict[tuple[int, int], set[int]] = {}
    for obj in objects:
        if isinstance(obj, IPNet) and obj.network is not None:
            net = obj.network
            bits = net.max_prefixlen - net.prefixlen
            by_prefix.setdefault((net.version, net.prefixlen), set()).add(
                int(net.network_address) >> bits
            )
    return tuple((v, p, frozenset(s)) for (v, p), s in sorted(by_prefix.items()))


@lru_cache(maxsize=4096)
def _ip_number(ip: str | None) -> tuple[int, int] | None:
    parsed = parse_ip(ip)
    return None if parsed is None else (parsed.version, int(parsed))


@dataclass(frozen=True, slots=True)
class CClass:
    """A rule's class; ``ldap`` is its first LDAP object, if any (for the "no LDAP" note)."""

    and_: bool
    invert: bool
    groups: tuple[CGroup, ...]
    ldap: RuleObject | None = None


@dataclass(frozen=True, slots=True)
class CRule:
    id: int
    name: str
    priority: int
    direction: int
    from_: CClass | None
    to: CClass | None
    when: CClass | None
    what: CClass | None
    actions: tuple[ActionObject, ...]
    run_order: tuple[ActionObject, ...]
    final: bool
    has_spam: bool
    descriptions: tuple[str, ...] = ()


def _subject_ok(value: str | None) -> bool:
    """Perl truth: PMG skips empty (and ``"0"``) types and filenames."""
    return bool(value) and value != "0"


class PureMatcher:
    """One object at a time, with :mod:`re` (the reference semantics)."""

    native = False

    def __init__(self, objects: Iterable[tuple[int, RuleObject]]) -> None:
        self.part_objects = tuple((k, o) for k, o in objects if isinstance(o, PART_TYPES))
        self.problems: list[str] = []

    def who_group(self, group: CGroup, address: str, ip: str | None, ldap: LdapResolver) -> bool:
        return match_list_with_mode(
            group.objects,
            group.and_,
            group.invert,
            lambda item: isinstance(item[1], WhoObject) and item[1].matches(address, ip, ldap),
        )

    def part_hits(self, facts: MessageFacts) -> dict[int, tuple[int, ...]]:
        root = facts.parts[0].aid if facts.parts else 0
        hits: dict[int, tuple[int, ...]] = {}
        for key, obj in self.part_objects:
            assert isinstance(obj, PART_TYPES)
            aids = [
                part.aid
                for part in facts.parts
                for _ in range(obj.part_hits(part, part.aid == root))
            ]
            if aids:
                hits[key] = tuple(aids)
        return hits


def _in_networks(ip: str | None, networks: tuple[tuple[int, int, frozenset[int]], ...]) -> bool:
    number = _ip_number(ip)
    if number is None:
        return False
    version, value = number
    width = 32 if version == 4 else 128
    return any(v == version and value >> (width - p) in nets for v, p, nets in networks)


class _CachedSet:
    """A compiled pattern set with the answers for recent subjects remembered."""

    def __init__(self, patterns: list[Pattern], problems: list[str]) -> None:
        self.cache: dict[str, tuple[int, ...]] = {}
        while True:
            try:
                self.set = compile_set(patterns) if patterns else None
                break
            except PatternError as err:
                problems.append(f"pattern {err.pattern.regex!r} left out: {err.reason}")
                patterns = [p for p in patterns if p.id != err.pattern.id]

    def __call__(self, subject: str) -> tuple[int, ...]:
        found = self.cache.get(subject)
        if found is None:
            found = tuple(self.set.matches(subject)) if self.set is not None else ()
            if len(self.cache) >= CACHE_LIMIT:
                self.cache.clear()
            self.cache[subject] = found
        return found


class SetMatcher:
    """All objects of a kind matched in one pass through compiled pattern sets."""

    native = True

    def __init__(self, objects: Iterable[tuple[int, RuleObject]]) -> None:
        self.problems: list[str] = []
        who: list[Pattern] = []
        ct: dict[str, int] = {}
        fn: dict[str, int] = {}
        fields: dict[str, dict[str, int]] = {}
        # pattern id -> [(key, kind, only_content / top_part_only)]
        self.ct_objects: dict[int, list[tuple[int, str, bool]]] = {}
        self.fn_objects: dict[int, list[tuple[int, str]]] = {}
        self.field_objects: dict[str, dict[int, list[tuple[int, bool]]]] = {}
        for key, obj in objects:
            if isinstance(obj, WhoRegex):
                who.append(Pattern(key, obj.anchored_source, case_insensitive=True))
            elif isinstance(obj, ContentTypeFilter):
                pid = ct.setdefault(obj.contenttype, len(ct))
                kind = "archive" if isinstance(obj, ArchiveFilter) else "ct"
                self.ct_objects.setdefault(pid, []).append((key, kind, obj.only_content))
            elif isinstance(obj, MatchFilename):
                pid = fn.setdefault(obj.anchored_source, len(fn))
                kind = "archfn" if isinstance(obj, MatchArchiveFilename) else "fn"
                self.fn_objects.setdefault(pid, []).append((key, kind))
            elif isinstance(obj, MatchField) and obj.field:
                name = obj.field.lower()
                patterns = fields.setdefault(name, {})
                pid = patterns.setdefault(obj.value, len(patterns))
                self.field_objects.setdefault(name, {}).setdefault(pid, []).append(
                    (key, obj.top_part_only)
                )
        # pattern id -> object keys: every kind (sniffed type) / not only-content (header and
        # filename types) / archive filters only (types inside archives)
        self.ct_all = {pid: tuple(k for k, _, _ in objs) for pid, objs in self.ct_objects.items()}
        self.ct_typed = {
            pid: tuple(k for k, kind, only in objs if kind == "archive" or not only)
            for pid, objs in self.ct_objects.items()
        }
        self.ct_archive = {
            pid: tuple(k for k, kind, _ in objs if kind == "archive")
            for pid, objs in self.ct_objects.items()
        }
        self.fn_all = {pid: tuple(k for k, _ in objs) for pid, objs in self.fn_objects.items()}
        self.fn_archive = {
            pid: tuple(k for k, kind in objs if kind == "archfn")
            for pid, objs in self.fn_objects.items()
        }
        self.part_cache: dict[tuple, tuple[int, ...]] = {}
        self.who_set = _CachedSet(who, self.problems)
        self.ct_set = _CachedSet([Pattern(i, r) for r, i in ct.items()], self.problems)
        self.fn_set = _CachedSet(
            [Pattern(i, r, case_insensitive=True) for r, i in fn.items()], self.problems
        )
        self.field_sets = {
            name: _CachedSet(
                [Pattern(i, r, case_insensitive=True) for r, i in pats.items()], self.problems
            )
            for name, pats in fields.items()
        }

    def who_group(self, group: CGroup, address: str, ip: str | None, ldap: LdapResolver) -> bool:
        if group.and_:
            return match_list_with_mode(
                group.objects,
                True,
                group.invert,
                lambda item: self._who(item[0], item[1], address, ip, ldap),
            )
        hit = (
            (group.emails and address.lower() in group.emails)
            or (group.domains and (domain_of(address) or "").lower() in group.domains)
            or (group.regex_keys and not group.regex_keys.isdisjoint(self.who_set(address)))
            or (group.ips and ip in group.ips)
            or (group.networks and _in_networks(ip, group.networks))
            or any(
                isinstance(o, WhoObject) and o.matches(address, ip, ldap) for _, o in group.others
            )
        )
        return (not group.invert) if hit else group.invert

    def _who(
        self, key: int, obj: RuleObject, address: str, ip: str | None, ldap: LdapResolver
    ) -> bool:
        if isinstance(obj, WhoRegex):
            return key in self.who_set(address)
        return isinstance(obj, WhoObject) and obj.matches(address, ip, ldap)

    def part_hits(self, facts: MessageFacts) -> dict[int, tuple[int, ...]]:
        hits: dict[int, list[int]] = {}
        root = facts.parts[0].aid if facts.parts else 0
        part_cache = self.part_cache
        for part in facts.parts:
            key = (
                part.magic_type,
                part.content_type,
                part.glob_type,
                part.filename,
                part.archive_types,
                part.archive_filenames,
            )
            got = part_cache.get(key)
            if got is None:
                got = self._part_keys(part)
                if len(part_cache) >= CACHE_LIMIT:
                    part_cache.clear()
                part_cache[key] = got
            for object_key in got:
                hits.setdefault(object_key, []).append(part.aid)
            if self.field_objects and part.headers:
                self._fields(part, part.aid == root, hits)
        return {key: tuple(aids) for key, aids in hits.items()}

    def _part_keys(self, part: Part) -> tuple[int, ...]:
        """The content-type and filename objects that mark ``part`` (header fields aside)."""
        got: set[int] = set()
        ct = self.ct_set
        if self.ct_all:
            if _subject_ok(part.magic_type):
                for pid in ct(part.magic_type):
                    got.update(self.ct_all[pid])
            for subject in (part.content_type, part.glob_type):
                if _subject_ok(subject):
                    for pid in ct(subject):
                        got.update(self.ct_typed[pid])
            for subject in part.archive_types:
                if _subject_ok(subject):
                    for pid in ct(subject):
                        got.update(self.ct_archive[pid])
        if self.fn_all:
            fn = self.fn_set
            if part.filename is not None:
                table = self.fn_all if _subject_ok(part.filename) else self.fn_archive
                for pid in fn(part.filename):
                    got.update(table[pid])
            for name in part.archive_filenames:
                for pid in fn(name):
                    got.update(self.fn_archive[pid])
        return tuple(sorted(got))

    def _fields(self, part: Part, top: bool, hits: dict[int, list[int]]) -> None:
        for name, value in part.headers:
            lower = name.lower()
            field_set = self.field_sets.get(lower)
            if field_set is None:
                continue
            for pid in field_set(value):
                for key, top_only in self.field_objects[lower][pid]:
                    if top or not top_only:
                        hits.setdefault(key, []).append(part.aid)


Matcher = PureMatcher | SetMatcher


@dataclass(frozen=True)
class RuleSet:
    """One compiled generation of the rule database."""

    db: RuleDB
    digest: str
    generation: int
    incoming: tuple[CRule, ...]
    outgoing: tuple[CRule, ...]
    strip_incoming: tuple[DeleteHeader, ...]
    strip_outgoing: tuple[DeleteHeader, ...]
    matcher: Matcher
    greylist_senders: tuple[WhoObject, ...] = ()
    greylist_receivers: tuple[WhoObject, ...] = ()
    problems: tuple[str, ...] = field(default=())

    def rules(self, trusted: bool) -> tuple[CRule, ...]:
        """The rules that run for a message: outgoing ones for trusted mail."""
        return self.outgoing if trusted else self.incoming

    def strip(self, trusted: bool) -> tuple[DeleteHeader, ...]:
        return self.strip_outgoing if trusted else self.strip_incoming

    def needs_spam(self, trusted: bool) -> bool:
        """Whether a rule of this direction has a Spam object (PMG runs the spam scan lazily,
        so mail for which this is false gets no spam analysis)."""
        return any(rule.has_spam for rule in self.rules(trusted))

    def needs_archives(self, trusted: bool) -> bool:
        """Whether archives must be listed (a rule of this direction has an Archive Filter or
        Match Archive Filename object)."""
        return any(
            isinstance(obj, (ArchiveFilter, MatchArchiveFilename))
            for rule in self.rules(trusted)
            if rule.what
            for group in rule.what.groups
            for _, obj in group.objects
        )

    def greylist_match(self, sender: str, ip: str | None, ldap: LdapResolver) -> bool:
        """The SMTP welcomelist (greylist exclusion) for the sender side."""
        return any(obj.matches(sender, ip, ldap) for obj in self.greylist_senders)

    def greylist_match_receiver(self, receiver: str, ldap: LdapResolver) -> bool:
        return any(obj.matches(receiver, None, ldap) for obj in self.greylist_receivers)


_generation = itertools.count(1)


def compile_rules(db: RuleDB, native: bool = True) -> RuleSet:
    """Compile ``db`` into a :class:`RuleSet` (with pattern sets unless ``native`` is off)."""
    groups = db.group_map()
    keys = itertools.count(1)
    all_objects: list[tuple[int, RuleObject]] = []
    compiled_groups: dict[int, CGroup] = {}
    problems: list[str] = []

    def cgroup(gid: int) -> CGroup:
        if gid not in compiled_groups:
            group = groups.get(gid)
            if group is None:  # the database's foreign keys rule this out; be safe anyway
                problems.append(f"group {gid} does not exist; it is treated as empty")
                group = Group(gid, "missing", "who")
            ordered = sorted(group.objects, key=lambda o: (o.id is None, o.id or 0))
            members = tuple((next(keys), obj) for obj in ordered)
            all_objects.extend(members)
            compiled_groups[gid] = CGroup(
                group.and_,
                group.invert,
                members,
                emails=frozenset(o.email.lower() for _, o in members if isinstance(o, EMail)),
                domains=frozenset(o.domain.lower() for _, o in members if isinstance(o, Domain)),
                regex_keys=frozenset(k for k, o in members if isinstance(o, WhoRegex)),
                ips=frozenset(o.ip for _, o in members if isinstance(o, IPAddress)),
                networks=_networks(o for _, o in members),
                others=tuple(
                    (k, o)
                    for k, o in members
                    if not isinstance(o, (EMail, Domain, WhoRegex, IPAddress, IPNet))
                ),
                part_keys=frozenset(k for k, _ in members)
                if all(isinstance(o, PART_TYPES) for _, o in members)
                else None,
            )
        return compiled_groups[gid]

    def cclass(rule_use_groups: tuple[int, ...], and_: bool, invert: bool) -> CClass | None:
        if not rule_use_groups:
            return None
        used = tuple(cgroup(g) for g in sorted(set(rule_use_groups)))
        ldap = next(
            (o for g in used for _, o in g.objects if isinstance(o, (LdapGroup, LdapUser))), None
        )
        return CClass(and_, invert, used, ldap)

    rules = []
    for rule in sorted(
        (r for r in db.rules if r.active), key=lambda r: (r.priority, r.id or 0), reverse=True
    ):
        classes = {}
        for cls in ("from", "to", "when", "what"):
            use = rule.use(cls)
            classes[cls] = cclass(use.groups, use.and_, use.invert)
        actions: list[ActionObject] = []
        for gid in sorted(set(rule.use("action").groups)):
            for _, obj in cgroup(gid).objects:
                if isinstance(obj, ActionObject):
                    actions.append(obj)
                else:
                    problems.append(
                        f"rule {rule.id}: {obj.title} object {obj.id} in an action "
                        "group is not an action and is ignored"
                    )
        run_order: list[ActionObject] = []
        for action in sorted(actions, key=lambda a: a.priority):
            run_order.append(action)
            if action.final:
                break
        what = classes["what"]
        rules.append(
            CRule(
                rule.id or 0,
                rule.name,
                rule.priority,
                rule.direction,
                classes["from"],
                classes["to"],
                classes["when"],
                what,
                tuple(actions),
                tuple(run_order),
                any(a.final for a in actions),
                what is not None
                and any(isinstance(o, Spam) for g in what.groups for _, o in g.objects),
                tuple(a.describe() for a in actions),
            )
        )
    incoming = tuple(r for r in rules if r.direction in (IN, BOTH))
    outgoing = tuple(r for r in rules if r.direction in (OUT, BOTH))
    greylist = [
        obj
        for g in sorted(db.groups, key=lambda g: g.id or 0)
        if g.cls == "greylist"
        for obj in sorted(g.objects, key=lambda o: o.id or 0)
        if isinstance(obj, WhoObject)
    ]
    matcher: Matcher = SetMatcher(all_objects) if native else PureMatcher(all_objects)
    return RuleSet(
        db=db,
        digest=exchange.digest(db),
        generation=next(_generation),
        incoming=incoming,
        outgoing=outgoing,
        strip_incoming=_strip(incoming),
        strip_outgoing=_strip(outgoing),
        matcher=matcher,
        greylist_senders=tuple(o for o in greylist if not o.receiver_test),
        greylist_receivers=tuple(o for o in greylist if o.receiver_test),
        problems=tuple(problems + matcher.problems),
    )


def _strip(rules: Iterable[CRule]) -> tuple[DeleteHeader, ...]:
    """PMG's anti-spoofing step: every ``X-`` header an active rule of this direction sets is
    deleted from the received mail before the rules run."""
    seen: dict[str, DeleteHeader] = {}
    for rule in rules:
        for action in rule.actions:
            if isinstance(action, ModField) and action.field.lower().startswith("x-"):
                seen.setdefault(action.field.lower(), DeleteHeader(action.field))
    return tuple(seen.values())


class Generations:
    """The current rule set of a process; :meth:`load` compiles and swaps atomically."""

    def __init__(self, db: RuleDB | None = None, native: bool = True) -> None:
        self.native = native
        self._lock = threading.Lock()
        self.current: RuleSet = compile_rules(db or RuleDB(), native)

    def load(self, db: RuleDB) -> RuleSet:
        """Compile ``db`` and make it current (unchanged digest: keep the current one)."""
        with self._lock:
            if exchange.digest(db) == self.current.digest:
                return self.current
            fresh = compile_rules(db, self.native)
            self.current = fresh
            return fresh
