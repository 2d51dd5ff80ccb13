"""The rule database as values: object groups, rules and the whole set (PMG ``Proxmox_ruledb``).

A :class:`Group` (``Objectgroup``) has a class (``who``, ``what``, ``when``, ``action`` or
``greylist``), the ``and``/``invert`` attributes and its objects. A :class:`Rule` has a name,
a priority (0-100), an active flag, a direction (0 in, 1 out, 2 both), a hit count, and for each
of its classes the groups it uses with the rule's own ``<class>-and``/``<class>-invert``. A
:class:`RuleDB` is one consistent snapshot of all of it; :meth:`RuleDB.problems` checks that
every reference resolves and every value is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pmgfast.rules.objects import RuleObject

GROUP_CLASSES = ("who", "what", "when", "action", "greylist")
RULE_CLASSES = ("from", "to", "when", "what", "action")
GROUP_CLASS_OF = {"from": "who", "to": "who", "when": "when", "what": "what", "action": "action"}
GROUPTYPE = {"from": 0, "to": 1, "when": 2, "what": 3, "action": 4}
DIRECTIONS = ("in", "out", "both")
IN, OUT, BOTH = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Group:
    id: int | None
    name: str
    cls: str
    info: str = ""
    and_: bool = False
    invert: bool = False
    objects: tuple[RuleObject, ...] = ()


@dataclass(frozen=True, slots=True)
class ClassUse:
    """The groups a rule uses for one class, and how it combines them."""

    groups: tuple[int, ...] = ()
    and_: bool = False
    invert: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", tuple(sorted(self.groups)))


@dataclass(frozen=True, slots=True)
class Rule:
    id: int | None
    name: str
    priority: int
    active: bool = False
    direction: int = BOTH
    count: int = 0
    uses: dict[str, ClassUse] = field(default_factory=dict)

    def __post_init__(self) -> None:
        action = self.uses.get("action")
        if action is not None and (action.and_ or action.invert):
            # PMG has no any/all or invert for actions: every action of the rule runs
            object.__setattr__(self, "uses", {**self.uses, "action": ClassUse(action.groups)})

    def use(self, cls: str) -> ClassUse:
        return self.uses.get(cls) or ClassUse()


@dataclass(frozen=True, slots=True)
class RuleDB:
    groups: tuple[Group, ...] = ()
    rules: tuple[Rule, ...] = ()

    def group_map(self) -> dict[int, Group]:
        return {g.id: g for g in self.groups if g.id is not None}

    def rule_by(self, key: str) -> Rule | None:
        """A rule by id (digits) or by name."""
        for rule in self.rules:
            if (key.isdigit() and rule.id == int(key)) or rule.name == key:
                return rule
        return None

    def problems(self) -> list[str]:
        """Everything wrong with this rule set (empty when it may be stored and compiled)."""
        problems: list[str] = []
        group_ids: set[int] = set()
        object_ids: set[int] = set()
        for gi, group in enumerate(self.groups):
            where = f"groups[{gi}] ({group.name!r})"
            problems += _new_id(where, group.id, group_ids)
            if not group.name or len(group.name) > 255:
                problems.append(f"{where}: name must have 1 to 255 characters")
            if len(group.info) > 255:
                problems.append(f"{where}: info is longer than 255 characters")
            if group.cls not in GROUP_CLASSES:
                problems.append(f"{where}: class {group.cls!r} is not one of {GROUP_CLASSES}")
            wanted = "who" if group.cls == "greylist" else group.cls
            for oi, obj in enumerate(group.objects):
                owhere = f"{where}.objects[{oi}]"
                if obj.oclass != wanted:
                    problems.append(
                        f"{owhere}: a {obj.type_name} object ({obj.oclass}) cannot be in a "
                        f"{group.cls} group"
                    )
                problems += _new_id(owhere, obj.id, object_ids)
                problems += [f"{owhere}: {p}" for p in obj.validate()]
        classes = {g.id: g.cls for g in self.groups if g.id is not None}
        rule_ids: set[int] = set()
        for ri, rule in enumerate(self.rules):
            where = f"rules[{ri}] ({rule.name!r})"
            problems += _new_id(where, rule.id, rule_ids)
            if not rule.name or len(rule.name) > 255:
                problems.append(f"{where}: name must have 1 to 255 characters")
            if not 0 <= rule.priority <= 100:
                problems.append(f"{where}: priority {rule.priority} is not within 0-100")
            if rule.direction not in (IN, OUT, BOTH):
                problems.append(f"{where}: direction {rule.direction} is not 0, 1 or 2")
            if rule.count < 0:
                problems.append(f"{where}: count {rule.count} is negative")
            for cls, use in rule.uses.items():
                if cls not in RULE_CLASSES:
                    problems.append(f"{where}: unknown class {cls!r}")
                    continue
                if len(set(use.groups)) != len(use.groups):
                    problems.append(f"{where}.{cls}: a group is listed twice")
                for gid in use.groups:
                    if gid not in classes:
                        problems.append(f"{where}.{cls}: group {gid} does not exist")
                    elif classes[gid] != GROUP_CLASS_OF[cls]:
                        problems.append(
                            f"{where}.{cls}: group {gid} is a {classes[gid]} group, not "
                            f"{GROUP_CLASS_OF[cls]}"
                        )
        return problems


def _new_id(where: str, given: int | None, seen: set[int]) -> list[str]:
    """The problem with an id (None: not chosen yet) that is not positive or already used."""
    if given is None:
        return []
    fresh = given >= 1 and given not in seen
    seen.add(given)
    return [] if fresh else [f"{where}: id {given} is not a new positive id"]
