"""The MIME tree of one copy of the mail, as far as the rules need it.

Remove-attachment and disclaimer actions walk the tree of the copy they change, and earlier
removals change that tree (a removed part becomes a text leaf without an aid, a single-part mail
becomes ``multipart/mixed``). :func:`tree` rebuilds the tree of a copy from the message facts
and the copy's edits; :func:`removal` and :func:`disclaimer_targets` are PMG's walks
(``Remove::delete_marked_parts`` and ``Disclaimer::sign``).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from pmgfast.rules.facts import MessageFacts
from pmgfast.rules.outcome import Edit, RemoveAttachments

_TEXT = re.compile(r"text/(html|plain)")


@dataclass(slots=True)
class Node:
    """``ref``: the aid, ``-aid`` for a replacement part, ``None`` for a container made here."""

    ref: int | None
    mime_type: str
    charset: str | None = None
    children: list[Node] = field(default_factory=list)

    @property
    def is_multipart(self) -> bool:
        return self.mime_type.startswith("multipart/")


def _from_facts(facts: MessageFacts) -> Node:
    nodes = {p.aid: Node(p.aid, p.mime_type, p.charset) for p in facts.parts}
    root: Node | None = None
    for part in facts.parts:
        parent = nodes.get(part.parent)
        # aids are depth-first, so a parent's is smaller: other links (malformed facts) would
        # make cycles, and are treated as a second root (ignored) instead
        if parent is not None and part.parent < part.aid:
            parent.children.append(nodes[part.aid])
        elif root is None:
            root = nodes[part.aid]
    return root or Node(None, "text/plain")


def _replace(node: Node, replaced: dict[int, Node]) -> None:
    for i, child in enumerate(node.children):
        if child.ref is not None and child.ref in replaced:
            node.children[i] = replaced[child.ref]
        else:
            _replace(child, replaced)


def tree(facts: MessageFacts, edits: Iterable[Edit]) -> Node:
    """The tree of the copy that ``edits`` made from the received message."""
    root = _from_facts(facts)
    for edit in edits:
        if not isinstance(edit, RemoveAttachments):
            continue
        if edit.make_multipart:
            root = Node(None, "multipart/mixed", None, [root])
        _replace(root, {r.aid: Node(-r.aid, r.content_type, "UTF-8") for r in edit.replacements})
    return root


def needs_multipart(root: Node, remove_all: bool) -> bool:
    """PMG makes a single-part mail multipart first, except a text mail under "remove all"."""
    return not root.is_multipart and (not remove_all or "text/" not in root.mime_type)


def removal(root: Node, remove_all: bool, marks: Collection[int]) -> list[int]:
    """The aids the Remove action replaces, in walk order. ``root`` must already be the
    multipart form when :func:`needs_multipart` said so (wrap it in a container first)."""
    removed: list[int] = []
    seen = False

    def walk(entity: Node) -> None:
        nonlocal seen
        alternative = "multipart/alternative" in entity.mime_type
        last = len(entity.children) - 1
        for i, part in enumerate(entity.children):
            found = False
            if part.ref is not None and part.ref > 0:
                if remove_all:
                    is_text = "text/plain" in part.mime_type or "text/html" in part.mime_type
                    if seen:
                        found = True
                    elif alternative:
                        found = not is_text
                        if i == last:
                            seen = True
                    elif is_text:
                        seen = True
                    elif "multipart/" not in part.mime_type:
                        found = True
                else:
                    found = part.ref in marks
            if found:
                removed.append(part.ref)  # type: ignore[arg-type]
            else:
                walk(part)

    walk(root)
    return removed


def encodable(text: str, charset: str) -> bool:
    """Whether ``text`` can be written in ``charset`` (an unknown charset cannot)."""
    try:
        codecs.lookup(charset)
        text.encode(charset)
    except (LookupError, UnicodeError, ValueError):
        return False
    return True


def disclaimer_targets(root: Node) -> list[Node]:
    """The text leaves a disclaimer goes into: the first text leaf of a multipart, every
    alternative of a ``multipart/alternative``; nested messages are not entered."""
    targets: list[Node] = []

    def sign(entity: Node) -> bool:
        if "multipart/alternative" in entity.mime_type:
            found = False
            for part in entity.children:
                found = sign(part) or found
            return found
        if "multipart/" in entity.mime_type:
            return any(sign(part) for part in entity.children)
        if _TEXT.search(entity.mime_type):
            targets.append(entity)
            return True
        return False

    sign(root)
    return targets
