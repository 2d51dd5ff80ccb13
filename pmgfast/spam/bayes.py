"""The Bayesian filter as the engine uses it: tokenize, look up, classify, learn, forget.

:class:`BayesFilter` joins the tokenizer and the chi-squared combiner (:mod:`pmgfast.bayes`,
compiled with pure twins) to a :class:`~pmgfast.spam.bayes_store.TokenStore`. It has no
opinion until ``min_spam`` spam and ``min_ham`` ham messages were learned (SpamAssassin's
``bayes_min_spam_num``/``bayes_min_ham_num``, 200 each): a filter that has seen a handful of
messages is noise, and noise must not move a score.

A message is judged in two views (:func:`pmgfast.bayes.tokenize_views`: its text, its headers;
see :mod:`pmgfast.bayes.classifier` for why): :meth:`BayesFilter.classify_views` gives a
:class:`BayesOpinion` with both verdicts and their joined probability. Learning takes all of a
message's ids at once (:meth:`BayesFilter.token_ids`, both views), so the store knows nothing
of views.

Learning is idempotent per message (``BayesSeen``): the same message learned twice counts once,
and learning it as the other class moves its counts over (SpamAssassin's ``sa-learn``
behaviour). :func:`autolearn_decision` is the policy for learning from the engine's own
verdicts.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from pmgfast.bayes import ChiSquaredParams, Verdict, classify, combine_views, tokenize
from pmgfast.bayes.classifier import DEFAULT_PARAMS
from pmgfast.bayes.tokenizer import tokenize_views
from pmgfast.spam.bayes_store import TokenStore, message_key
from pmgfast.spam.view import MailView

__all__ = [
    "AutolearnPolicy",
    "BayesFilter",
    "BayesOpinion",
    "LearnResult",
    "autolearn_decision",
    "merge_ids",
]


@dataclass(frozen=True, slots=True)
class LearnResult:
    """What learning one message did: ``learned``, ``relearned`` (moved from the other class),
    ``already`` (learned as this class before) or ``forgotten`` / ``unknown`` (forget)."""

    status: str
    tokens: int = 0


@dataclass(frozen=True, slots=True)
class BayesOpinion:
    """The Bayesian opinion of one message: the verdict of each view and the two joined."""

    text: Verdict
    header: Verdict
    probability: float
    """Both views' log-odds added (:func:`pmgfast.bayes.combine_views`): what is reported."""


def merge_ids(a: array[int], b: array[int]) -> array[int]:
    """The sorted unique union of two id arrays (a message's two views: what is learned)."""
    return array("q", sorted(set(a).union(b)))


class BayesFilter:
    """Tokenizer + store + combiner (see the module docstring)."""

    def __init__(
        self,
        store: TokenStore,
        params: ChiSquaredParams = DEFAULT_PARAMS,
        min_spam: int = 200,
        min_ham: int = 200,
    ) -> None:
        self.store = store
        self.params = params
        self.min_spam = min_spam
        self.min_ham = min_ham

    @staticmethod
    def token_ids(view: MailView) -> array[int]:
        return tokenize(view.tokenizer_input)

    def ready(self) -> bool:
        nspam, nham = self.store.totals()
        return nspam >= self.min_spam and nham >= self.min_ham

    def classify_ids(self, ids: array[int]) -> Verdict | None:
        """The verdict on a message's token ids; None while the filter is not trained."""
        nspam, nham = self.store.totals()
        if nspam < self.min_spam or nham < self.min_ham:
            return None
        spam, ham = self.store.counts(ids)
        return classify(spam, ham, nspam, nham, self.params)

    @staticmethod
    def view_ids(view: MailView) -> tuple[array[int], array[int]]:
        """The ids of the text view and of the header view."""
        return tokenize_views(view.tokenizer_input)

    def classify_views(self, text_ids: array[int], header_ids: array[int]) -> BayesOpinion | None:
        """Both views' verdicts and the joined probability; None while not trained."""
        nspam, nham = self.store.totals()
        if nspam < self.min_spam or nham < self.min_ham:
            return None
        spam, ham = self.store.counts(text_ids + header_ids)
        n = len(text_ids)
        text = classify(spam[:n], ham[:n], nspam, nham, self.params)
        header = classify(spam[n:], ham[n:], nspam, nham, self.params)
        return BayesOpinion(text, header, combine_views((text.probability, header.probability)))

    def classify(self, view: MailView) -> BayesOpinion | None:
        return self.classify_views(*self.view_ids(view))

    def learn_ids(self, ids: array[int], spam: bool, key: str | None) -> LearnResult:
        """Learn a message's ids as spam or ham (once per ``key``)."""
        label = "S" if spam else "H"
        before = self.store.seen(key) if key is not None else None
        if before == label:
            return LearnResult("already", len(ids))
        if before is not None:
            self.store.learn(ids, before == "S", None, -1)
        self.store.learn(ids, spam, key, 1)
        return LearnResult("relearned" if before is not None else "learned", len(ids))

    def learn(self, view: MailView, spam: bool) -> LearnResult:
        return self.learn_ids(self.token_ids(view), spam, key_of(view))

    def forget(self, view: MailView) -> LearnResult:
        key = key_of(view)
        before = self.store.seen(key)
        if before is None:
            return LearnResult("unknown")
        ids = self.token_ids(view)
        self.store.learn(ids, before == "S", key, -1)
        return LearnResult("forgotten", len(ids))


def key_of(view: MailView) -> str:
    ids = view.header_values("message-id")
    return message_key(view.raw, ids[0] if ids else "")


@dataclass(frozen=True, slots=True)
class AutolearnPolicy:
    """When the engine learns from its own verdicts (SpamAssassin's thresholds, made safer).

    Scores here leave out the Bayes tests themselves (a filter must not confirm itself) and
    tests flagged ``noautolearn``. Spam: at least ``spam_threshold`` points, of which at least
    ``min_header`` from header tests and ``min_body`` from body tests (two independent kinds
    of evidence), and Bayes not saying ham. Ham: at most ``ham_threshold`` points and Bayes,
    when trained, not saying spam or unsure. Whitelisted or blacklisted senders are never
    learned (their verdict is the user's, not the content's).
    """

    enabled: bool = True
    ham_threshold: float = 0.1
    spam_threshold: float = 6.0
    min_header: float = 1.5
    min_body: float = 1.5


def autolearn_decision(
    policy: AutolearnPolicy,
    rule_score: float,
    header_points: float,
    body_points: float,
    bayes: float | None,
) -> str | None:
    """``"spam"``, ``"ham"`` or None (do not learn)."""
    if not policy.enabled:
        return None
    if rule_score <= policy.ham_threshold and (bayes is None or bayes < 0.2):
        return "ham"
    if (
        rule_score >= policy.spam_threshold
        and header_points >= policy.min_header
        and body_points >= policy.min_body
        and (bayes is None or bayes > 0.5)
    ):
        return "spam"
    return None
