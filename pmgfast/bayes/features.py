"""What the Bayesian tokenizer reads from a message: :class:`TokenizerInput`.

The MIME walk (``pmgfast.mime``) fills this in: decoded text of text parts, plain text of HTML
parts, the URIs found in them, and a few header values. Both tokenizers (the pure twin in
:mod:`pmgfast.bayes.tokenizer` and the compiled ``pmgfast.bayes._tokenizer``) read only these
fields, so they can be built from any parser; :mod:`pmgfast.bayes.stdlib_email` builds them with
the standard library for tests and benchmarks.

Every field holds ``str`` values (decoded, any Unicode, lone surrogates allowed); nothing needs to
be normalised beforehand: the tokenizer lowercases, strips and caps lengths itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TokenizerInput:
    """The parts of one message the Bayesian tokenizer turns into tokens."""

    subject: str = ""
    """The decoded Subject header."""
    from_addr: str = ""
    """The From address (addr-spec, e.g. ``user@example.com``); empty when there is none."""
    from_name: str = ""
    """The decoded display name of the From header."""
    received: tuple[str, ...] = ()
    """The values of the Received headers, top (newest) first."""
    content_types: tuple[str, ...] = ()
    """The Content-Type of every MIME part (``text/plain``; parameters are ignored)."""
    charsets: tuple[str, ...] = ()
    """The declared charset of every part that has one."""
    header_names: tuple[str, ...] = ()
    """The names of the top-level headers (their presence is a token, not their value)."""
    texts: tuple[str, ...] = ()
    """Decoded text of text/plain parts and the plain text of text/html parts."""
    uris: tuple[str, ...] = ()
    """URIs found in the body (href/src attributes and bare URLs in text)."""
