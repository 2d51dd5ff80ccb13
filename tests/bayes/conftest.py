"""Fixtures of the Bayes tests: the compiled module (or the twins in pure mode) and the corpus
messages as tokenizer input."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from pmgfast import native
from pmgfast.bayes import classifier, stdlib_email, tokenizer
from pmgfast.bayes.features import TokenizerInput


def _pure_twins() -> SimpleNamespace:
    """The pure twins behind the compiled module's interface."""

    def combine(spam, ham, nspam, nham, strength, assumed, min_strength, max_clues):
        params = classifier.ChiSquaredParams(strength, assumed, min_strength, max_clues)
        return classifier.combine_py(spam, ham, nspam, nham, params)

    return SimpleNamespace(
        tokenize=tokenizer.tokenize_py,
        tokenize_views=tokenizer.tokenize_views_py,
        tokenize_text=tokenizer.tokenize_text_py,
        token_id=tokenizer.token_id_py,
        combine=combine,
        MIN_WORD=tokenizer.MIN_WORD,
        MAX_WORD=tokenizer.MAX_WORD,
        MAX_TEXT_CHARS=tokenizer.MAX_TEXT_CHARS,
        MAX_FIELD_CHARS=tokenizer.MAX_FIELD_CHARS,
    )


@pytest.fixture(scope="session")
def bayes_native():
    """``pmgfast.bayes._tokenizer``, the compiled tokenizer and combiner.

    Under PMGFAST_NO_EXTENSIONS=1 the pure twins stand in (so every test runs in both modes and
    the differential tests hold the twin to its own answers); otherwise a missing build is an
    error, never a silent skip.
    """
    module = native.load("pmgfast.bayes._tokenizer")
    if module is not None:
        return module
    if not native.NO_EXTENSIONS:
        raise RuntimeError("pmgfast.bayes._tokenizer is not built: run 'make build-python'")
    return _pure_twins()


def _messages(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix not in (".md", ".tsv"))


@pytest.fixture(scope="session")
def spamassassin(corpus) -> list[tuple[str, str, TokenizerInput]]:
    """Every message of the SpamAssassin corpus as ``(label, file, input)``, in index order."""
    root = corpus / "spamassassin"
    out = []
    for line in (root / "index.tsv").read_text().splitlines()[1:]:
        label, name = line.split("\t")[:2]
        out.append((label, name, stdlib_email.from_bytes((root / name).read_bytes())))
    return out


@pytest.fixture(scope="session")
def mime_edge_cases(corpus) -> list[tuple[str, TokenizerInput]]:
    """Every file of the MIME edge-case corpus (malformed ones included) as input."""
    root = corpus / "mime"
    return [
        (str(p.relative_to(root)), stdlib_email.from_bytes(p.read_bytes()))
        for p in _messages(root)
        if p.name != "COPYING"
    ]
