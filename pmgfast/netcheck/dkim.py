"""DKIM signature verification and ARC chain validation on inbound mail, with dkimpy.

dkimpy fetches keys through a synchronous callback; to keep the event loop free and the
lookups parallel, every key the message's DKIM-Signature, ARC-Message-Signature and ARC-Seal
headers name (``<s>._domainkey.<d>``) is fetched first, all at once, through the shared
resolver; dkimpy then verifies against those answers. A key that could not be fetched in time
makes its signature ``temperror`` (RFC 8601), one that does not exist ``permerror``.

Hits (SpamAssassin's names): DKIM_SIGNED, DKIM_VALID, DKIM_VALID_AU (signed by the From
domain), DKIM_VALID_EF (signed by the envelope sender's domain), DKIM_INVALID (signed, nothing
valid); ARC_SIGNED, ARC_VALID, ARC_INVALID.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import dkim as dkimpy
from dkim.util import InvalidTagValueList, parse_tag_value

from pmgfast.netcheck.hits import Hit, rule_hit
from pmgfast.netcheck.resolver import Budget, Lookup, Resolver

_quiet = logging.getLogger("pmgfast.netcheck.dkimpy")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False

_SIGNATURE_HEADERS = (b"dkim-signature", b"arc-message-signature", b"arc-seal")


@dataclass(frozen=True, slots=True)
class Signature:
    """One DKIM-Signature and what became of it."""

    domain: str
    selector: str
    result: str  # pass, fail, neutral, temperror, permerror (RFC 8601 dkim= values)
    detail: str = ""


@dataclass(slots=True)
class ArcOutcome:
    result: str  # none, pass, fail
    detail: str = ""
    instances: int = 0


@dataclass(slots=True)
class DkimOutcome:
    signatures: list[Signature] = field(default_factory=list)
    arc: ArcOutcome = field(default_factory=lambda: ArcOutcome("none"))

    @property
    def result(self) -> str:
        """The message's overall DKIM result: the best of its signatures, ``none`` if unsigned."""
        order = ("pass", "fail", "temperror", "permerror", "neutral")
        for wanted in order:
            if any(s.result == wanted for s in self.signatures):
                return wanted
        return "none"

    def passing_domains(self) -> list[str]:
        return list(dict.fromkeys(s.domain for s in self.signatures if s.result == "pass"))

    def hits(self, from_domain: str | None, envelope_domain: str | None) -> list[Hit]:
        found: list[Hit] = []
        if self.signatures:
            found.append(rule_hit("DKIM_SIGNED"))
            valid = self.passing_domains()
            if valid:
                found.append(rule_hit("DKIM_VALID", ", ".join(valid)))
                if from_domain and from_domain in valid:
                    found.append(rule_hit("DKIM_VALID_AU", from_domain))
                if envelope_domain and envelope_domain in valid:
                    found.append(rule_hit("DKIM_VALID_EF", envelope_domain))
            else:
                found.append(rule_hit("DKIM_INVALID"))
        if self.arc.result != "none":
            found.append(rule_hit("ARC_SIGNED"))
            found.append(rule_hit("ARC_VALID" if self.arc.result == "pass" else "ARC_INVALID"))
        return found


def _key_names(headers: list[tuple[bytes, bytes]]) -> dict[bytes, tuple[str, str]]:
    """Key record names of every signature header, with its (domain, selector)."""
    names: dict[bytes, tuple[str, str]] = {}
    for name, value in headers:
        if name.lower() not in _SIGNATURE_HEADERS:
            continue
        try:
            tags = parse_tag_value(value)
        except (InvalidTagValueList, ValueError, TypeError):
            continue
        domain, selector = tags.get(b"d"), tags.get(b"s")
        if not domain or not selector:
            continue
        record = selector + b"._domainkey." + domain
        names[record.lower()] = (
            domain.decode("ascii", "replace").lower(),
            selector.decode("ascii", "replace"),
        )
    return names


class _Keys:
    """The prefetched key records, served to dkimpy as its ``dnsfunc``."""

    def __init__(self, answers: dict[bytes, Lookup]) -> None:
        self.answers = answers

    def __call__(self, name: bytes | str, timeout: float = 5) -> bytes | None:
        key = name.encode() if isinstance(name, str) else name
        answer = self.answers.get(key.lower().rstrip(b"."))
        if answer is None:
            return None
        if answer.temporary:
            raise dkimpy.DnsTimeoutError(f"key lookup {answer.status.value}")
        texts = answer.texts()
        return texts[0] if texts else None


async def _fetch_keys(
    resolver: Resolver, names: list[bytes], budget: Budget | None
) -> dict[bytes, Lookup]:
    answers = await asyncio.gather(
        *(resolver.query(n.decode("ascii", "replace"), "TXT", budget) for n in names)
    )
    return dict(zip(names, answers, strict=True))


def _signature_headers(message: dkimpy.DKIM) -> list[tuple[bytes, bytes]]:
    return [(n, v) for n, v in message.headers if n.lower() == b"dkim-signature"]


def _verify_one(message: dkimpy.DKIM, index: int, keys: _Keys, value: bytes) -> Signature:
    try:
        tags = parse_tag_value(value)
    except (InvalidTagValueList, ValueError, TypeError) as exc:
        return Signature("", "", "permerror", f"unparsable signature: {exc}")
    domain = (tags.get(b"d") or b"").decode("ascii", "replace").lower()
    selector = (tags.get(b"s") or b"").decode("ascii", "replace")
    answer = keys.answers.get((tags.get(b"s", b"") + b"._domainkey." + tags.get(b"d", b"")).lower())
    if answer is not None and answer.temporary:
        return Signature(domain, selector, "temperror", "key lookup failed")
    if answer is not None and not answer.texts():
        return Signature(domain, selector, "permerror", "no key")
    try:
        valid = message.verify(idx=index, dnsfunc=keys)
    except dkimpy.DnsTimeoutError:
        return Signature(domain, selector, "temperror", "key lookup failed")
    except dkimpy.ValidationError as exc:  # body hash mismatch, expired, bad tag values
        return Signature(domain, selector, "fail", str(exc))
    except Exception as exc:  # dkimpy on malformed input: record, never crash
        return Signature(domain, selector, "permerror", f"{type(exc).__name__}: {exc}")
    if valid:
        return Signature(domain, selector, "pass")
    return Signature(domain, selector, "fail", "signature did not verify")


async def verify(resolver: Resolver, raw: bytes, budget: Budget | None = None) -> DkimOutcome:
    """Verify every DKIM signature and the ARC chain of a raw message."""
    outcome = DkimOutcome()
    try:
        message = dkimpy.DKIM(raw, logger=_quiet, minkey=1024)
    except Exception as exc:  # headers dkimpy cannot parse at all
        outcome.signatures.append(Signature("", "", "permerror", f"unparsable message: {exc}"))
        return outcome
    names = _key_names(message.headers)
    if not names:
        return outcome
    keys = _Keys(await _fetch_keys(resolver, list(names), budget))
    for index, (_name, value) in enumerate(_signature_headers(message)):
        outcome.signatures.append(_verify_one(message, index, keys, value))
    if any(n.lower().startswith(b"arc-") for n, _ in message.headers):
        outcome.arc = _verify_arc(raw, keys)
    return outcome


def _verify_arc(raw: bytes, keys: _Keys) -> ArcOutcome:
    try:
        chain, results, comment = dkimpy.ARC(raw, logger=_quiet, minkey=1024).verify(dnsfunc=keys)
    except Exception as exc:  # malformed ARC sets
        return ArcOutcome("fail", f"{type(exc).__name__}: {exc}")
    result = chain.decode() if isinstance(chain, bytes) else str(chain)
    return ArcOutcome(result, str(comment or ""), len(results or []))
