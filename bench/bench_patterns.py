"""Benchmark of pattern sets: SpamAssassin's body regexes over the corpus text, native vs ``re``.

The rules are read at run time from Debian's ``spamassassin`` package
(``/usr/share/spamassassin/*.cf``; never copied into the repository): every distinct
``body``/``rawbody`` regex, converted from Perl to Python syntax where the two differ. Rules
that Python cannot compile are skipped and counted. The subjects are the decoded text parts of
the SpamAssassin corpus messages, one subject per message (stdlib :mod:`email`).

The baseline is SpamAssassin's own model: every regex tried in turn, here with Python's
:mod:`re` (:class:`~pmgfast.patterns.PurePatternSet`). Both must give identical hit sets.
"""

from __future__ import annotations

import email
import email.policy
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Result, format_table
from pmgfast import native
from pmgfast.patterns import NativePatternSet, Pattern, PatternError, PurePatternSet

RULES_DIR = Path("/usr/share/spamassassin")
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "spamassassin"

_RULE = re.compile(rb"^\s*(?:body|rawbody)\s+(\S+)\s+(?!eval:)(\S.*?)\s*$")
_PERL_QUOTE = re.compile(r"\\Q(.*?)(?:\\E|$)")
_POSIX = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r"\s",
    "punct": r"!-/:-@\[-`{-~",
    "xdigit": "0-9A-Fa-f",
    "word": r"\w",
    "print": r"\x20-\x7e",
    "graph": r"\x21-\x7e",
    "cntrl": r"\x00-\x1f\x7f",
    "blank": r" \t",
}


@dataclass(frozen=True)
class Rule:
    """One SpamAssassin body rule: its name, the Perl source and the Python translation."""

    name: str
    perl: str
    regex: str
    case_insensitive: bool


def perl_to_python(body: str) -> str:
    """Python ``re`` syntax for a Perl regex body (the parts SpamAssassin's rules use)."""
    body = _PERL_QUOTE.sub(lambda m: re.escape(m.group(1)), body)
    body = re.sub(
        r"\[:(\^?)(\w+):\]",
        lambda m: _POSIX.get(m.group(2), m.group(0)) if not m.group(1) else m.group(0),
        body,
    )
    body = body.replace(r"\z", r"\Z").replace(r"\h", r"[ \t]").replace(r"\e", r"\x1b")
    body = re.sub(r"\\x\{([0-9A-Fa-f]{1,6})\}", lambda m: f"\\U{int(m.group(1), 16):08x}", body)
    return re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", body)


def _split_rule(spec: str) -> tuple[str, str] | None:
    """(regex body, flags) of a Perl match operator ``/re/flags`` or ``m{re}flags``."""
    if spec.startswith("m") and len(spec) > 1 and not spec[1].isalnum():
        spec = spec[1:]
    if not spec:
        return None
    opener = spec[0]
    closer = {"{": "}", "(": ")", "[": "]", "<": ">"}.get(opener, opener)
    end = spec.rfind(closer)
    if end <= 0:
        return None
    flags = spec[end + 1 :]
    if not re.fullmatch(r"[imsx]*", flags):
        return None
    return spec[1:end], flags


def load_rules(rules_dir: Path = RULES_DIR) -> tuple[list[Rule], int]:
    """Distinct body/rawbody regexes of the installed rules, and how many Python refused."""
    files = sorted(rules_dir.glob("*.cf"))
    if not files:
        raise RuntimeError(f"no SpamAssassin rules in {rules_dir} (install Debian's spamassassin)")
    rules: dict[str, Rule] = {}
    skipped = 0
    for path in files:
        for raw in path.read_bytes().splitlines():
            m = _RULE.match(raw)
            if not m:
                continue
            name = m.group(1).decode("latin-1")
            spec = m.group(2).decode("utf-8", "surrogateescape")
            split = _split_rule(spec)
            if split is None:
                skipped += 1
                continue
            body, flags = split
            regex = perl_to_python(body)
            inline = "".join(f for f in flags if f in "smx")
            regex = f"(?{inline}){regex}" if inline else regex
            key = f"{flags}/{regex}"
            if key in rules:
                continue
            try:
                PurePatternSet([Pattern(0, regex, case_insensitive="i" in flags)])
            except PatternError:
                skipped += 1
                continue
            rules[key] = Rule(name, spec, regex, "i" in flags)
    return list(rules.values()), skipped


def rule_patterns(rules: list[Rule]) -> list[Pattern]:
    return [Pattern(i, r.regex, case_insensitive=r.case_insensitive) for i, r in enumerate(rules)]


def message_text(raw: bytes) -> str:
    """The decoded text parts of one message, joined by newlines."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    texts = []
    for part in msg.walk():
        if part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        charset = part.get_content_charset() or "us-ascii"
        try:
            texts.append(payload.decode(charset, "replace"))
        except LookupError:
            texts.append(payload.decode("latin-1"))
    return "\n".join(texts)


def corpus_texts(limit: int | None = None) -> list[str]:
    paths = sorted(p for p in CORPUS.glob("*/*") if p.is_file())
    if not paths:
        raise RuntimeError(f"the SpamAssassin corpus is missing at {CORPUS}")
    if limit is not None:
        step = max(1, len(paths) // limit)
        paths = paths[::step][:limit]
    return [message_text(p.read_bytes()) for p in paths]


def _rate(fn, texts: list[str]) -> tuple[float, float, list[list[int]]]:
    """Messages per CPU second of this thread (per core: the machine is shared, so wall time
    would count other processes), messages per wall second, and the hit lists."""
    cpu, wall = time.thread_time(), time.perf_counter()
    hits = [fn(t) for t in texts]
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    return len(texts) / cpu, len(texts) / wall, hits


def run(quick: bool) -> list[Result]:
    module = native.rust()
    if module is None:
        raise RuntimeError("the pattern benchmark needs the compiled extension")
    rules, skipped = load_rules()
    pats = rule_patterns(rules)
    texts = corpus_texts(600 if quick else None)
    baseline_texts = texts[:: 10 if quick else 1]

    start = time.perf_counter()
    fast = NativePatternSet(pats, module)
    compile_native = time.perf_counter() - start
    start = time.perf_counter()
    pure = PurePatternSet(pats)
    compile_pure = time.perf_counter() - start

    _rate(fast.matches, texts[:50])  # first use builds the lazy DFAs' states
    native_rate, native_wall, _ = max(_rate(fast.matches, texts) for _ in range(2))
    _, _, native_hits = _rate(fast.matches, baseline_texts)
    pure_rate, pure_wall, pure_hits = _rate(pure.matches, baseline_texts)
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    stats = fast.stats()
    return [
        Result(
            area="patterns",
            name=f"SpamAssassin body rules ({len(pats)} regexes) over corpus text",
            unit="msg/s/core",
            value=native_rate,
            baseline=pure_rate,
            baseline_name="re, one regex at a time",
            agreed=native_hits == pure_hits,
            extra={
                "messages": len(texts),
                "compared_messages": len(baseline_texts),
                "skipped_rules": skipped,
                "slow_patterns": len(fast.slow_ids()),
                "native_wall_msg_per_s": native_wall,
                "baseline_wall_msg_per_s": pure_wall,
                "native_MB_per_s": native_rate * megabytes / len(texts),
                "compile_native_s": compile_native,
                "compile_pure_s": compile_pure,
                "rules_hit": len({i for h in native_hits for i in h}),
                **stats,
            },
        )
    ]


if __name__ == "__main__":
    results = run(quick="--quick" in sys.argv)
    print(format_table(results))
    for r in results:
        print(r.name, r.extra)
