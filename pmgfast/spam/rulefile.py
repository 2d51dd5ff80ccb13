"""The rule-file format: SpamAssassin's ``.cf`` syntax for content tests, read into plain values.

Admins bring the rules they know. A file is a sequence of lines; ``#`` starts a comment (``\\#``
is a literal ``#``), blank lines are ignored. The directives read:

=============================================  ===============================================
``header NAME Header =~ /re/flags``            the decoded value(s) of ``Header`` (several
                                               instances joined by ``\\n``) match; ``!~`` for
                                               "does not match". ``Header:raw`` (undecoded),
                                               ``Header:addr`` (the address), ``Header:name``
                                               (the display name); ``ALL`` (the whole header,
                                               ``Name: value`` lines), ``ToCc``, ``MESSAGEID``,
                                               ``EnvelopeFrom``; ``[if-unset: TEXT]`` at the
                                               end gives the value of a missing header
``header NAME exists:Header``                  the header is present
``header|body|... NAME eval:func(args)``       a built-in test (:mod:`pmgfast.spam.evals`)
``body NAME /re/``                             the rendered body text: Subject, then every
                                               text part decoded, HTML as visible text; one
                                               paragraph per line
``rawbody NAME /re/``                          the decoded text parts, HTML as written
``uri NAME /re/``                              each URI of the message (one per line)
``full NAME /re/``                             the whole raw message
``meta NAME expr``                             an expression over other tests' results:
                                               names, numbers, ``&& || ! + - * / < > <= >= ==
                                               !=`` and parentheses
``score NAME s`` or ``score NAME s0 s1 s2 s3``  the score (the four-score form is SpamAssassin's
                                               [no Bayes, no net] / [net] / [Bayes] /
                                               [Bayes+net] choice)
``describe NAME text``                         the description shown in the hits
``tflags NAME flag ...``                       ``nice`` (may score below 0), ``net``,
                                               ``noautolearn``, ``learn``, ``userconf``,
                                               ``multiple`` (read; counted as one hit)
``required_score N``                           the engine's own threshold (log line ``x/N``)
``ifplugin X`` / ``if (expr)`` ... ``else``     blocks: every condition is taken as true (our
... ``endif``                                  evaluator has no plugins to miss); ``else``
                                               branches are skipped
=============================================  ===============================================

Names starting with ``__`` are sub-tests (score 0, never shown: building blocks for metas).
A test without a ``score`` line scores 1.0 (0.01 for ``T_`` names), as in SpamAssassin. A
later definition of the same name replaces the earlier one, across files too, so a
``custom.cf`` read after the default file overrides it.

Reading never raises on bad content: each problem is a :class:`LintError` (file, line,
message) and that line is skipped; ``pmgfast`` can show them all at once (``lint``).
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pmgfast.spam.perlre import PerlRegexError, parse_literal, to_python

__all__ = [
    "AREAS",
    "LintError",
    "RuleFile",
    "TestDef",
    "parse",
    "parse_files",
]

AREAS = ("header", "body", "rawbody", "uri", "full", "meta")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_HEADER_RULE = re.compile(
    r"(?P<header>[^\s=!]+)\s*(?P<op>=~|!~)\s*(?P<re>.+?)(?:\s+\[if-unset:\s*(?P<unset>[^\]]*)\])?\s*\Z"
)
_EVAL = re.compile(r"eval:(?P<func>[A-Za-z_][A-Za-z0-9_]*)\s*\((?P<args>.*)\)\s*\Z")
_HEADER_MODIFIERS = frozenset({"raw", "addr", "name"})
KNOWN_TFLAGS = frozenset(
    {
        "nice",
        "net",
        "noautolearn",
        "learn",
        "userconf",
        "multiple",
        "publish",
        "a",
        "autolearn_force",
    }
)
_IGNORED = frozenset(
    {
        "lang",
        "loadplugin",
        "tryplugin",
        "include",
        "priority",
        "report",
        "clear_report_template",
        "add_header",
        "remove_header",
        "rewrite_header",
        "report_safe",
        "use_bayes",
        "bayes_auto_learn",
        "skip_rbl_checks",
        "envelope_sender_header",
        "trusted_networks",
        "internal_networks",
        "dns_available",
        "lock_method",
        "ok_languages",
        "ok_locales",
        "whitelist_bounce_relays",
        "welcomelist_bounce_relays",
        "bayes_path",
        "use_auto_whitelist",
        "normalize_charset",
        "body_part_scan_size",
        "rawbody_part_scan_size",
        "maxscore",
    }
)


@dataclass(frozen=True, slots=True)
class LintError:
    """One problem in a rule file: where, and what."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class TestDef:
    """One test as written: its area and either a regex, an eval call or a meta expression."""

    name: str
    area: str
    regex: str | None = None  # Python syntax, inline flags in front
    negate: bool = False  # ``!~``
    header: str | None = None  # the header spec (``Subject``, ``From:addr``, ``ALL``, ...)
    if_unset: str | None = None
    exists: bool = False  # ``exists:Header``
    eval: tuple[str, tuple[object, ...]] | None = None
    meta: str | None = None
    where: tuple[str, int] = ("", 0)


@dataclass
class RuleFile:
    """Everything read from one or more rule files (later files override earlier ones)."""

    tests: dict[str, TestDef] = field(default_factory=dict)
    scores: dict[str, tuple[float, ...]] = field(default_factory=dict)
    describe: dict[str, str] = field(default_factory=dict)
    tflags: dict[str, frozenset[str]] = field(default_factory=dict)
    required_score: float | None = None
    errors: list[LintError] = field(default_factory=list)

    def score_of(self, name: str, bayes: bool = False, net: bool = False) -> float:
        """The score of ``name`` for this combination of Bayes and network tests."""
        scores = self.scores.get(name)
        if scores is None:
            if name.startswith("__"):
                return 0.0
            return 0.01 if name.startswith("T_") else 1.0
        if len(scores) == 4:
            return scores[(2 if bayes else 0) + (1 if net else 0)]
        return scores[0]


def _strip_comment(line: str) -> str:
    out = []
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line) and line[i + 1] == "#":
            out.append("#")
            i += 2
            continue
        if c == "#":
            break
        out.append(c)
        i += 1
    return "".join(out).strip()


def _eval_call(text: str) -> tuple[str, tuple[object, ...]] | str:
    """``(function, args)`` of ``eval:f(...)``, or an error message."""
    m = _EVAL.match(text)
    if m is None:
        return f"malformed eval call {text!r}"
    args_text = m.group("args").strip()
    if not args_text:
        return m.group("func"), ()
    try:
        with warnings.catch_warnings():  # '\\s' in a quoted regex is an "invalid escape"
            warnings.simplefilter("ignore")
            args = ast.literal_eval(f"({args_text},)")
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return f"eval arguments must be numbers or quoted strings: {args_text!r}"
    if not all(isinstance(a, str | int | float) for a in args):
        return f"eval arguments must be numbers or quoted strings: {args_text!r}"
    return m.group("func"), tuple(args)


def _regex(text: str) -> str:
    pattern, flags = parse_literal(text)
    regex = to_python(pattern, flags)
    re.compile(regex)  # Python must accept it (re.error is reported by the caller)
    return regex


def _header_spec(spec: str) -> str | None:
    """Check a header spec; return an error message or None."""
    name, _, modifier = spec.partition(":")
    if not name or any(c.isspace() for c in name):
        return f"bad header name {spec!r}"
    if modifier and modifier not in _HEADER_MODIFIERS:
        return f"unknown header modifier {modifier!r} (raw, addr, name)"
    return None


def _test(area: str, name: str, rest: str, where: tuple[str, int]) -> TestDef | str:
    """A test definition from the text after ``<area> NAME``, or an error message."""
    if area == "meta":
        if not rest:
            return "meta without an expression"
        return TestDef(name, area, meta=rest, where=where)
    if rest.startswith("eval:"):
        call = _eval_call(rest)
        if isinstance(call, str):
            return call
        return TestDef(name, area, eval=call, where=where)
    if area == "header":
        if rest.startswith("exists:"):
            header = rest[7:].strip()
            problem = _header_spec(header)
            return problem or TestDef(name, area, header=header, exists=True, where=where)
        m = _HEADER_RULE.match(rest)
        if m is None:
            return f"malformed header test {rest!r} (want: Header =~ /regex/)"
        problem = _header_spec(m.group("header"))
        if problem:
            return problem
        try:
            regex = _regex(m.group("re"))
        except (PerlRegexError, re.error) as err:
            return f"bad regex: {err}"
        return TestDef(
            name,
            area,
            regex=regex,
            negate=m.group("op") == "!~",
            header=m.group("header"),
            if_unset=m.group("unset"),
            where=where,
        )
    try:
        regex = _regex(rest)
    except (PerlRegexError, re.error) as err:
        return f"bad regex: {err}"
    return TestDef(name, area, regex=regex, where=where)


def parse(text: str, filename: str = "<rules>", into: RuleFile | None = None) -> RuleFile:
    """Read rule-file ``text`` (into ``into``, which later definitions override)."""
    rf = into if into is not None else RuleFile()
    skipping: list[bool] = []  # one entry per open if/ifplugin: whether its branch is skipped

    def error(lineno: int, message: str) -> None:
        rf.errors.append(LintError(filename, lineno, message))

    for lineno, raw_line in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw_line)
        if not line:
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.lower()
        rest = rest.strip()
        if keyword in ("if", "ifplugin"):
            skipping.append(False if not skipping else skipping[-1])
            continue
        if keyword == "else":
            if not skipping:
                error(lineno, "else without if")
                continue
            skipping[-1] = True  # every condition is true, so its else branch never runs
            continue
        if keyword == "endif":
            if not skipping:
                error(lineno, "endif without if")
            else:
                skipping.pop()
            continue
        if skipping and skipping[-1]:
            continue
        if keyword in AREAS:
            name, _, body = rest.partition(" ")
            body = body.strip()
            if not _NAME.match(name):
                error(lineno, f"bad test name {name!r}")
                continue
            made = _test(keyword, name, body, (filename, lineno))
            if isinstance(made, str):
                error(lineno, f"{name}: {made}")
                continue
            rf.tests[name] = made
        elif keyword == "score":
            parts = rest.split()
            if len(parts) not in (2, 5) or not _NAME.match(parts[0]):
                error(lineno, "score wants a name and one or four numbers")
                continue
            try:
                values = tuple(float(v) for v in parts[1:])
            except ValueError:
                error(lineno, f"score of {parts[0]} is not a number")
                continue
            if not all(abs(v) < 1e6 for v in values):
                error(lineno, f"score of {parts[0]} is out of range")
                continue
            rf.scores[parts[0]] = values
        elif keyword == "describe":
            name, _, desc = rest.partition(" ")
            if not _NAME.match(name):
                error(lineno, f"bad test name {name!r}")
                continue
            rf.describe[name] = desc.strip()
        elif keyword == "tflags":
            name, _, flags = rest.partition(" ")
            if not _NAME.match(name):
                error(lineno, f"bad test name {name!r}")
                continue
            words = frozenset(flags.split())
            unknown = {w for w in words if w not in KNOWN_TFLAGS and not w.startswith("maxhits=")}
            if unknown:
                error(lineno, f"{name}: unknown tflags {', '.join(sorted(unknown))} (ignored)")
            rf.tflags[name] = words
        elif keyword == "required_score" or keyword == "required_hits":
            try:
                rf.required_score = float(rest)
            except ValueError:
                error(lineno, "required_score is not a number")
        elif keyword in _IGNORED:
            continue
        else:
            error(lineno, f"unknown directive {keyword!r} (ignored)")
    if skipping:
        error(len(text.splitlines()), "if/ifplugin without endif")
    return rf


def parse_files(paths: Iterable[Path], into: RuleFile | None = None) -> RuleFile:
    """Read several rule files in order; a missing or unreadable file is a lint error."""
    rf = into if into is not None else RuleFile()
    for path in paths:
        try:
            text = path.read_text("utf-8", errors="replace")
        except OSError as err:
            rf.errors.append(LintError(str(path), 0, f"cannot read: {err.strerror or err}"))
            continue
        parse(text, str(path), rf)
    return rf
