"""A rule file compiled for matching: :class:`CompiledRules`.

Compilation (once per rule-set generation) puts every regex test of an area into one native
pattern set (:func:`pmgfast.patterns.compile_set`), so each message area is matched in one call:
one set for ``body``, ``rawbody``, ``uri`` and ``full``, and one per header spec (``Subject``,
``From:addr``, ``ALL``, ...), since each header test reads its own value. Body, rawbody and uri
patterns get Perl's per-line anchors (``(?m)``): the areas hold one paragraph (one URI) per
line, so ``^``/``$`` keep SpamAssassin's per-paragraph meaning. Eval tests call
:mod:`pmgfast.spam.evals`; meta tests are checked arithmetic/boolean expressions over the other
tests' results, evaluated last in dependency order.

Scores: the rule file's score for this Bayes/network combination, then the admin's overrides
(PMG's custom scores). A test whose score is 0 and that no meta needs is not run, as in
SpamAssassin. Problems (unknown eval, bad meta, a cycle, a regex the pattern sets refuse) are
lint errors and drop only that test.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

from pmgfast.patterns import Pattern, PatternError, PatternSet, compile_set
from pmgfast.spam.evals import EVALS
from pmgfast.spam.rulefile import LintError, RuleFile, TestDef
from pmgfast.spam.view import MailView

__all__ = ["CompiledRules", "RuleInfo"]

_META_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_]\w*)|(&&|\|\||[<>=!]=|[-+*/()<>!]))")
_ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.Name,
    ast.Constant,
    ast.Load,
    ast.And,
    ast.Or,
    ast.Not,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.USub,
    ast.UAdd,
    ast.Gt,
    ast.Lt,
    ast.GtE,
    ast.LtE,
    ast.Eq,
    ast.NotEq,
)
_PERLINE_AREAS = ("body", "rawbody", "uri")


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A test's reporting data: name, score, description, flags."""

    name: str
    area: str
    score: float
    description: str
    tflags: frozenset[str] = frozenset()

    @property
    def learn(self) -> bool:
        """Bayes results themselves (ignored when deciding whether to autolearn)."""
        return "learn" in self.tflags or self.name.startswith("BAYES_")


def _meta_python(expr: str) -> str:
    """Perl meta syntax as a Python expression (raises ValueError on anything else)."""
    out = []
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        m = _META_TOKEN.match(expr, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"unexpected text at {expr[pos : pos + 10]!r}")
        number, name, op = m.groups()
        if number is not None:
            out.append(number)
        elif name is not None:
            out.append(name)
        elif op == "&&":
            out.append(" and ")
        elif op == "||":
            out.append(" or ")
        elif op == "!":
            out.append(" not ")
        else:
            out.append(op)
        pos = m.end()
    return " ".join(out)


def _compile_meta(expr: str) -> tuple[CodeType, frozenset[str]]:
    source = _meta_python(expr)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as err:
        raise ValueError(f"syntax error: {err.msg}") from None
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ValueError(f"{type(node).__name__} is not allowed in a meta")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise ValueError("only numbers are allowed as constants")
        if isinstance(node, ast.Name):
            names.add(node.id)
    return compile(tree, "<meta>", "eval"), frozenset(names)


@dataclass
class _AreaSet:
    patterns: PatternSet
    tests: dict[int, TestDef]
    on_empty: frozenset[int] = frozenset()  # ids matching the empty string


@dataclass
class CompiledRules:
    """Compiled tests plus their reporting data; :meth:`run` evaluates a message."""

    rules: dict[str, RuleInfo]
    required_score: float
    errors: list[LintError] = field(default_factory=list)
    _areas: dict[str, _AreaSet] = field(default_factory=dict)
    _headers: dict[str, _AreaSet] = field(default_factory=dict)
    _exists: list[TestDef] = field(default_factory=list)
    _evals: list[tuple[str, object, tuple[object, ...]]] = field(default_factory=list)
    _metas: list[tuple[str, CodeType]] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        rf: RuleFile,
        bayes: bool = False,
        net: bool = False,
        overrides: Mapping[str, float] | None = None,
        run_all: bool = False,
        default_required: float = 5.0,
    ) -> CompiledRules:
        """Compile ``rf``. ``overrides`` are custom scores; ``run_all`` also runs the tests
        scored 0 (for linting and tests: their results show in :meth:`run`)."""
        overrides = overrides or {}
        errors = list(rf.errors)
        tests = dict(rf.tests)
        metas: dict[str, tuple[CodeType, frozenset[str]]] = {}
        for name, t in list(tests.items()):
            if t.eval is not None and t.eval[0] not in EVALS:
                errors.append(LintError(*t.where, f"{name}: unknown eval {t.eval[0]!r}"))
                del tests[name]
            elif t.meta is not None:
                try:
                    metas[name] = _compile_meta(t.meta)
                except (ValueError, SyntaxError, RecursionError) as err:
                    errors.append(LintError(*t.where, f"{name}: bad meta: {err}"))
                    del tests[name]
        for name, (_, refs) in list(metas.items()):
            unknown = refs - tests.keys()
            if unknown:
                errors.append(
                    LintError(
                        *tests[name].where,
                        f"{name}: meta refers to unknown tests "
                        f"{', '.join(sorted(unknown))} (taken as 0)",
                    )
                )
        order = _meta_order(metas, errors, tests)
        scores = {n: overrides.get(n, rf.score_of(n, bayes, net)) for n in tests}
        needed: set[str] = set()
        for name in reversed(order):  # users before what they use
            if name in tests and (scores[name] != 0 or run_all or name in needed):
                needed |= metas[name][1]
        active = {n for n in tests if scores[n] != 0 or run_all or n in needed}
        rules = {
            n: RuleInfo(
                n, tests[n].area, scores[n], rf.describe.get(n, ""), rf.tflags.get(n, frozenset())
            )
            for n in tests
        }
        self = cls(rules, rf.required_score if rf.required_score is not None else default_required)
        self.errors = errors
        by_area: dict[str, list[TestDef]] = {}
        by_header: dict[str, list[TestDef]] = {}
        for name, t in tests.items():
            if name not in active:
                continue
            if t.meta is not None:
                continue
            if t.eval is not None:
                self._evals.append((name, EVALS[t.eval[0]], t.eval[1]))
            elif t.exists:
                self._exists.append(t)
            elif t.area == "header":
                assert t.header is not None
                by_header.setdefault(t.header.lower(), []).append(t)
            else:
                by_area.setdefault(t.area, []).append(t)
        for area, defs in by_area.items():
            built = self._build_set(defs, area in _PERLINE_AREAS)
            if built is not None:
                self._areas[area] = built
        for spec, defs in by_header.items():
            built = self._build_set(defs, False)
            if built is not None:
                self._headers[spec] = built
        self._metas = [(n, metas[n][0]) for n in order if n in active and n in metas]
        return self

    def _build_set(self, defs: list[TestDef], per_line: bool) -> _AreaSet | None:
        kept: dict[int, TestDef] = {}
        patterns = []
        for i, t in enumerate(defs):
            assert t.regex is not None
            regex = f"(?m){t.regex}" if per_line else t.regex
            pattern = Pattern(i, regex)
            try:
                compile_set([pattern])
            except PatternError as err:
                self.errors.append(LintError(*t.where, f"{t.name}: {err.reason}"))
                continue
            kept[i] = t
            patterns.append(pattern)
        if not patterns:
            return None
        pset = compile_set(patterns)
        return _AreaSet(pset, kept, frozenset(pset.matches("")))

    # --- matching -----------------------------------------------------------------------
    def run(self, view: MailView) -> dict[str, float]:
        """Every active test's result on ``view``: 1.0 hit, 0.0 no hit (metas may count)."""
        results: dict[str, float] = {}
        for spec, aset in self._headers.items():
            value = view.header(spec)
            matched: frozenset[int] | list[int]
            unset_values = {}
            if value is None:
                matched = aset.on_empty
                for i, t in aset.tests.items():
                    if t.if_unset is not None:
                        unset_values[i] = t.if_unset
            else:
                matched = aset.patterns.matches(value) if value else aset.on_empty
            hit = set(matched)
            for i, t in aset.tests.items():
                if i in unset_values:
                    found = re.search(t.regex or "", unset_values[i], re.ASCII) is not None
                else:
                    found = i in hit
                results[t.name] = 1.0 if found != t.negate else 0.0
        for area, aset in self._areas.items():
            subject: str | bytes
            if area == "body":
                subject = view.body
            elif area == "rawbody":
                subject = view.rawbody
            elif area == "uri":
                subject = view.uri_text
            else:
                subject = view.full
            hit = set(aset.patterns.matches(subject)) if subject else set(aset.on_empty)
            for i, t in aset.tests.items():
                results[t.name] = 1.0 if i in hit else 0.0
        for t in self._exists:
            results[t.name] = 1.0 if view.has_header(t.header or "") else 0.0
        for name, fn, args in self._evals:
            try:
                results[name] = 1.0 if fn(view, *args) else 0.0  # type: ignore[operator]
            except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError):
                results[name] = 0.0  # an eval given the wrong arguments: recorded by lint
        for name, code in self._metas:
            scope = _Results(results)
            try:
                outcome: Any = eval(code, {"__builtins__": {}}, scope)
            except (ArithmeticError, TypeError):
                outcome = 0
            results[name] = float(outcome) if isinstance(outcome, int | float) and outcome else 0.0
        return results

    def hits(self, results: Mapping[str, float]) -> list[RuleInfo]:
        """The tests that hit and carry a score, shown ones only (no ``__`` sub-tests)."""
        out = []
        for name, value in results.items():
            if not value or name.startswith("__"):
                continue
            info = self.rules[name]
            if info.score != 0:
                out.append(info)
        return out


class _Results(dict[str, float]):
    """Meta lookup: an unknown or unrun test is 0."""

    def __init__(self, results: Mapping[str, float]) -> None:
        super().__init__()
        self._r = results

    def __missing__(self, key: str) -> float:
        return self._r.get(key, 0.0)


def _meta_order(
    metas: dict[str, tuple[CodeType, frozenset[str]]],
    errors: list[LintError],
    tests: dict[str, TestDef],
) -> list[str]:
    """Metas in dependency order; metas in a cycle are dropped (lint error)."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, path: list[str]) -> bool:
        if state.get(name) == 2:
            return True
        if state.get(name) == 1:
            errors.append(
                LintError(*tests[name].where, f"{name}: meta cycle {' -> '.join([*path, name])}")
            )
            return False
        state[name] = 1
        ok = True
        for ref in metas[name][1]:
            if ref in metas and not visit(ref, [*path, name]):
                ok = False
        state[name] = 2
        if ok:
            order.append(name)
        else:
            metas.pop(name, None)
        return ok

    for name in sorted(metas):
        if name in metas:
            visit(name, [])
    return [n for n in order if n in metas]
