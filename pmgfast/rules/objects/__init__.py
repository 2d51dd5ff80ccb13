"""Every rule object type, one module per family (as PMG's ``RuleDB/*.pm``), and the registry.

:func:`by_otype` finds a type by PMG's number (``Object.ObjectType``), :func:`by_name` by its
API/JSON name (``email``, ``contenttype``, ``removeattachments``, ...).
"""

from __future__ import annotations

from pmgfast.rules.objects.action import ACTION_TYPES, ActionObject
from pmgfast.rules.objects.base import ObjectError, RuleObject
from pmgfast.rules.objects.what import WHAT_TYPES, WhatObject
from pmgfast.rules.objects.when import WHEN_TYPES, WhenObject
from pmgfast.rules.objects.who import WHO_TYPES, WhoObject

ALL_TYPES: tuple[type[RuleObject], ...] = (*WHO_TYPES, *WHEN_TYPES, *WHAT_TYPES, *ACTION_TYPES)
_BY_OTYPE = {cls.otype: cls for cls in ALL_TYPES}
_BY_NAME = {cls.type_name: cls for cls in ALL_TYPES}


def by_otype(otype: int) -> type[RuleObject] | None:
    return _BY_OTYPE.get(otype)


def by_name(name: str) -> type[RuleObject] | None:
    return _BY_NAME.get(name)


__all__ = [
    "ALL_TYPES",
    "ActionObject",
    "ObjectError",
    "RuleObject",
    "WhatObject",
    "WhenObject",
    "WhoObject",
    "by_name",
    "by_otype",
]
