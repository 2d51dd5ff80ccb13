"""Bayesian spam filtering: the tokenizer and the chi-squared combiner.

A message's features (:class:`TokenizerInput`, filled by the MIME walk) become a sorted set of
64-bit token ids (:func:`tokenize`); the token store (not here) gives each id's spam and ham
counts, and :func:`classify` turns those into a probability and a band. A message is judged in
two views (:func:`tokenize_views`: its text, its headers) whose verdicts
:func:`combine_views` joins. The hot paths are
compiled (``ext/bayes_tokenizer.pyx``) with pure-Python twins that give identical answers.
"""

from pmgfast.bayes.classifier import Band, ChiSquaredParams, Verdict, classify, combine_views
from pmgfast.bayes.features import TokenizerInput
from pmgfast.bayes.tokenizer import token_id, tokenize, tokenize_text, tokenize_views

__all__ = [
    "Band",
    "ChiSquaredParams",
    "TokenizerInput",
    "Verdict",
    "classify",
    "combine_views",
    "token_id",
    "tokenize",
    "tokenize_text",
    "tokenize_views",
]
