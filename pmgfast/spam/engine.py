"""The score engine: one message in, a total score and the tests that hit out.

:class:`SpamEngine` is built once per worker (and per rule-set generation) from the rule files
and the ``spam`` section of pmg.conf (:class:`SpamSettings`); :meth:`SpamEngine.check` scores a
message:

1. the message is cut to ``maxspamsize`` bytes (never below 64 KiB), as PMG hands SpamAssassin
   only the head of a big message;
2. the MIME walk and the :class:`~pmgfast.spam.view.MailView`;
3. the Bayesian verdict, when ``use_bayes`` is on and the filter is trained: the text view
   and the header view of the message are judged apart (``BAYES_*`` and ``BAYES_HDR_*`` tests
   read them) and the joined probability is reported;
4. every content test in one pass per area (:class:`~pmgfast.spam.ruleset.CompiledRules`);
5. the network tests' hits, when the caller ran them (:mod:`pmgfast.netcheck`; off in the
   accuracy evaluation, as SpamAssassin's ``-L``);
6. the auto-welcomelist (``use_awl``), then autolearn (``use_bayes``).

The result (:class:`SpamReport`) is the float total, the threshold, the hits as
(name, score, description) and PMG's ``SA score=...`` log line. The integer spam level (PMG
``int()``, never negative) is :attr:`SpamReport.level`. Scores: the rule files' scores, then the
admin's custom scores; ``spam.bounce_score`` is the score of ``ANY_BOUNCE_MESSAGE`` unless a
custom score names it.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pmgfast import mime
from pmgfast.spam import rulefile
from pmgfast.spam.awl import AWLStore, adjustment, network_of
from pmgfast.spam.bayes import (
    AutolearnPolicy,
    BayesFilter,
    autolearn_decision,
    key_of,
    merge_ids,
)
from pmgfast.spam.ruleset import CompiledRules, RuleInfo
from pmgfast.spam.view import Envelope, MailView

__all__ = [
    "DEFAULT_RULES",
    "Hit",
    "SpamEngine",
    "SpamReport",
    "SpamSettings",
    "default_rules",
    "load_rules",
    "read_scores",
]

MIN_MAXSPAMSIZE = 64 * 1024
AWL_RULE = "AWL"
AWL_DESC = "Adjusted score from AWL reputation of From: address"


def default_rules() -> str:
    """The text of the shipped rule file (``pmgfast/spam/rules/default.cf``)."""
    return resources.files("pmgfast.spam").joinpath("rules/default.cf").read_text("utf-8")


DEFAULT_RULES = "pmgfast/spam/rules/default.cf"


def load_rules(extra: Iterable[Path] = ()) -> rulefile.RuleFile:
    """The default rule file, then each of ``extra`` (custom.cf) that exists."""
    rf = rulefile.parse(default_rules(), DEFAULT_RULES)
    return rulefile.parse_files([p for p in extra if p.exists()], rf)


def read_scores(path: Path) -> tuple[dict[str, float], list[rulefile.LintError]]:
    """Custom scores from a ``score NAME value`` file (PMG's Custom Rule Scores)."""
    if not path.exists():
        return {}, []
    rf = rulefile.parse(path.read_text("utf-8", errors="replace"), str(path))
    return {name: values[0] for name, values in rf.scores.items()}, rf.errors


@dataclass(frozen=True, slots=True)
class Hit:
    """One test that hit: name, score and description."""

    name: str
    score: float
    description: str = ""


@dataclass(frozen=True)
class SpamSettings:
    """The ``spam`` section of pmg.conf, as far as the engine reads it."""

    maxspamsize: int = 262144
    bounce_score: int = 0
    use_bayes: bool = False
    use_awl: bool = False
    languages: tuple[str, ...] = ()  # empty: all
    wl_bounce_relays: tuple[str, ...] = ()
    clamav_heuristic_score: int = 3
    autolearn: AutolearnPolicy = field(default_factory=AutolearnPolicy)

    @classmethod
    def from_config(cls, conf: Any) -> SpamSettings:
        """From a :class:`pmgfast.config.PmgConf` (anything with ``get(section, key)``)."""
        langs = str(conf.get("spam", "languages") or "all").split()
        relays = str(conf.get("spam", "wl_bounce_relays") or "").replace(",", " ").split()
        return cls(
            maxspamsize=int(conf.get("spam", "maxspamsize")),
            bounce_score=int(conf.get("spam", "bounce_score")),
            use_bayes=bool(conf.get("spam", "use_bayes")),
            use_awl=bool(conf.get("spam", "use_awl")),
            languages=() if "all" in langs else tuple(langs),
            wl_bounce_relays=tuple(relays),
            clamav_heuristic_score=int(conf.get("spam", "clamav_heuristic_score")),
        )


@dataclass
class SpamReport:
    """The engine's verdict on one message."""

    score: float
    required: float
    hits: list[Hit]
    bayes: float | None = None
    autolearn: str = "no"
    elapsed: float = 0.0  # seconds
    results: dict[str, float] = field(default_factory=dict)
    truncated: bool = False

    @property
    def level(self) -> int:
        """PMG's spam level: the score as an integer, never below 0."""
        return max(0, int(self.score))

    def hit_list(self) -> str:
        return ",".join(f"{h.name}({_fmt(h.score)})" for h in self.hits)

    def log_line(self, fid: str) -> str:
        """PMG's ``<id>: SA score=<level>/<required> time=<s> bayes=<p> autolearn=<a> hits=...``."""
        bayes = "undefined" if self.bayes is None else f"{self.bayes:.6g}"
        return (
            f"{fid}: SA score={self.level}/{_fmt(self.required)} time={self.elapsed:0.3f} "
            f"bayes={bayes} autolearn={self.autolearn} hits={self.hit_list()}"
        )


def _fmt(score: float) -> str:
    return f"{score:.15g}"


class SpamEngine:
    """Rules, Bayes and AWL for one worker (see the module docstring)."""

    def __init__(
        self,
        rules: rulefile.RuleFile | None = None,
        settings: SpamSettings | None = None,
        bayes: BayesFilter | None = None,
        awl: AWLStore | None = None,
        scores: Mapping[str, float] | None = None,
        net: bool = False,
        neutralise: Iterable[str] = (),
        run_all: bool = False,
    ) -> None:
        self.settings = settings or SpamSettings()
        self.rulefile = rules if rules is not None else load_rules()
        self.bayes = bayes if self.settings.use_bayes else None
        self.awl = awl if self.settings.use_awl else None
        overrides = {"ANY_BOUNCE_MESSAGE": float(self.settings.bounce_score)}
        overrides.update(scores or {})
        for name in neutralise:
            overrides[name] = 0.0
        self.rules = CompiledRules.build(
            self.rulefile,
            bayes=self.bayes is not None,
            net=net,
            overrides=overrides,
            run_all=run_all,
        )

    @property
    def errors(self) -> list[rulefile.LintError]:
        return self.rules.errors

    def view(
        self,
        raw: bytes,
        envelope: Envelope = Envelope(),  # noqa: B008 (frozen)
        now: float | None = None,
    ) -> MailView:
        """The message cut to ``maxspamsize`` and prepared for the tests."""
        limit = max(MIN_MAXSPAMSIZE, self.settings.maxspamsize)
        data = raw[:limit]
        return MailView(
            data,
            mime.walk(data),
            envelope,
            now,
            self.settings.languages,
            self.settings.wl_bounce_relays,
        )

    def check(
        self,
        raw: bytes,
        envelope: Envelope = Envelope(),  # noqa: B008 (frozen)
        now: float | None = None,
        net_hits: Sequence[Hit] = (),
        learn: bool = True,
    ) -> SpamReport:
        """Score one message (see the module docstring)."""
        start = time.perf_counter()
        view = self.view(raw, envelope, now)
        views = None
        probability = None
        if self.bayes is not None:
            views = self.bayes.view_ids(view)
            opinion = self.bayes.classify_views(*views)
            if opinion is not None:
                probability = opinion.probability
                view.bayes_probability = probability
                view.bayes_views = {
                    "text": opinion.text.probability,
                    "header": opinion.header.probability,
                }
        results = self.rules.run(view)
        infos = self.rules.hits(results)
        hits = [Hit(i.name, i.score, i.description) for i in infos]
        hits.extend(net_hits)
        score = sum(h.score for h in hits)
        autolearn = "disabled" if self.bayes is None else "no"
        if self.awl is not None:
            score += self._awl(view, score, hits)
        if self.bayes is not None and views is not None and learn:
            autolearn = self._autolearn(view, views, infos, net_hits, probability)
        hits.sort(key=lambda h: (-h.score, h.name))
        return SpamReport(
            score=score,
            required=self.rules.required_score,
            hits=hits,
            bayes=probability,
            autolearn=autolearn,
            elapsed=time.perf_counter() - start,
            results=results,
            truncated=len(raw) > len(view.raw),
        )

    def _awl(self, view: MailView, score: float, hits: list[Hit]) -> float:
        assert self.awl is not None
        _, address = view.from_address
        address = address or (view.envelope.sender or "")
        if not address:
            return 0.0
        ip = view.envelope.client_ip
        net = network_of(ip)
        count, total = self.awl.history(address, net)
        delta = adjustment(score, count, total)
        self.awl.add(address, net, score)
        if delta:
            hits.append(Hit(AWL_RULE, round(delta, 3), AWL_DESC))
        return delta

    def _autolearn(
        self,
        view: MailView,
        views: tuple[array[int], array[int]],
        infos: Sequence[RuleInfo],
        net_hits: Sequence[Hit],
        probability: float | None,
    ) -> str:
        assert self.bayes is not None
        counted = [i for i in infos if not i.learn and "noautolearn" not in i.tflags]
        header = sum(i.score for i in counted if i.area == "header")
        body = sum(i.score for i in counted if i.area != "header")
        rule_score = header + body + sum(h.score for h in net_hits)
        decision = autolearn_decision(
            self.settings.autolearn, rule_score, header, body, probability
        )
        if decision is None:
            return "no"
        result = self.bayes.learn_ids(merge_ids(*views), decision == "spam", key_of(view))
        return decision if result.status != "already" else "no"
