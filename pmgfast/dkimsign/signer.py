"""Which outgoing mail is DKIM signed, with which domain and headers (``PMG::DKIMSign``).

- Only with ``admin.dkim_sign`` and a selector (``admin.dkim_selector``) whose key exists.
- The signing domain comes from the envelope sender or, with ``admin.dkim-use-domain`` =
  ``header``, from the From header, which must then hold exactly one address (RFC 7489 6.6.1).
- ``admin.dkim_sign_all_mail`` signs with that domain whatever it is; otherwise the domain must
  be one of ``dkim/domains`` (the relay domains when that list is empty) or below one, and the
  signature names the listed domain (the longest that matches).
- rsa-sha256, relaxed/relaxed. Signed headers: Mail::DKIM::Signer's default list, every
  instance present, sorted by name; From, To, Cc, Reply-To and Subject are over-signed (one
  more than present, so none can be added later), and Content-Type too when present.

:meth:`Signer.signature` returns the header value for the milter to add (bytes after the
colon, ``\\n`` folded), :meth:`Signer.sign` the message with the header in front (for copies
pmgfast re-injects). Mail that is not to be signed gets None / stays as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.parser import BytesHeaderParser
from email.policy import SMTP
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import dkim

from pmgfast.dkimsign.keys import DkimKeyError, load_key

log = logging.getLogger(__name__)

DEFAULT_HEADERS = (
    "from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc", "mime-version",
    "content-type", "content-transfer-encoding", "content-id", "content-description",
    "resent-date", "resent-from", "resent-sender", "resent-to", "resent-cc",
    "resent-message-id", "in-reply-to", "references", "list-id", "list-help",
    "list-unsubscribe", "list-subscribe", "list-post", "list-owner", "list-archive",
)  # fmt: skip
OVERSIGNED = ("from", "to", "cc", "reply-to", "subject")
OVERSIGNED_IF_PRESENT = ("content-type",)


def header_names(raw: bytes) -> list[str]:
    """The field names of the top header block, lower-cased, in order."""
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    names = []
    for line in head.splitlines():
        if not line or line[:1] in (b" ", b"\t"):
            continue
        name, colon, _ = line.partition(b":")
        if colon and name.strip():
            names.append(name.strip().decode("ascii", "replace").lower())
    return names


def signed_headers(raw: bytes) -> list[str]:
    """The h= list for ``raw`` (module docstring): sorted names, repeated per instance."""
    counts: dict[str, int] = {}
    for name in header_names(raw):
        counts[name] = counts.get(name, 0) + 1
    wanted: dict[str, int] = {}
    for name in DEFAULT_HEADERS:
        wanted[name] = counts.get(name, 0)
    for name in OVERSIGNED:
        wanted[name] = counts.get(name, 0) + 1
    for name in OVERSIGNED_IF_PRESENT:
        if counts.get(name):
            wanted[name] = counts[name] + 1
    return [name for name in sorted(wanted) for _ in range(wanted[name])]


def from_header_domain(raw: bytes) -> str | None:
    """The domain of the single address in the From header(s), else None."""
    try:
        head = BytesHeaderParser(policy=SMTP.clone(refold_source="none")).parsebytes(raw)
        values = [str(v) for v in head.get_all("from", [])]
    except Exception:  # a header the parser cannot read: no usable From
        return None
    addresses = [a for _, a in getaddresses(values) if a]
    if len(addresses) != 1:
        return None
    try:
        domain = Address(addr_spec=addresses[0]).domain
    except (ValueError, IndexError):
        _, at, domain = addresses[0].rpartition("@")
        if not at:
            return None
    return domain.lower() or None


def _covers(listed: str, domain: str) -> bool:
    return domain == listed or domain.endswith("." + listed)


@dataclass
class Signer:
    selector: str
    key: bytes
    sign_all: bool = False
    use_header: bool = False
    domains: Sequence[str] = ()

    @classmethod
    def from_settings(cls, settings: Any) -> Signer | None:
        """From a :class:`pmgfast.config.Settings`; None when signing is off. A missing or
        unusable key raises :class:`~pmgfast.dkimsign.keys.DkimKeyError`."""
        conf = settings.pmg
        if not conf.get("admin", "dkim_sign"):
            return None
        selector = conf.get("admin", "dkim_selector")
        if not selector:
            raise DkimKeyError("admin.dkim_sign is on but admin.dkim_selector is not set")
        key, _ = load_key(Path(settings.config_dir), str(selector))
        domains = [e.domain for e in settings.dkim_domains] or [e.domain for e in settings.domains]
        return cls(
            selector=str(selector),
            key=key,
            sign_all=bool(conf.get("admin", "dkim_sign_all_mail")),
            use_header=conf.get("admin", "dkim-use-domain") == "header",
            domains=domains,
        )

    def signing_domain(self, sender: str, raw: bytes) -> str | None:
        if self.use_header:
            domain = from_header_domain(raw)
        else:
            _, at, domain = sender.rpartition("@")
            domain = domain.lower() if at else ""
        if not domain:
            return None
        domain = domain.rstrip(".")
        if self.sign_all:
            return domain
        for listed in sorted(self.domains, key=lambda d: (-len(d), d)):
            if _covers(listed.lower(), domain):
                return listed.lower()
        return None

    def signature(self, raw: bytes, sender: str) -> bytes | None:
        """The DKIM-Signature value for ``raw`` (after the colon, ``\\n`` folded), or None when
        this mail is not signed (or cannot be: logged)."""
        domain = self.signing_domain(sender, raw)
        if domain is None:
            log.info("not DKIM signing mail from <%s>", sender)
            return None
        try:
            header = dkim.sign(
                raw,
                self.selector.encode(),
                domain.encode("idna"),
                self.key,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=[h.encode() for h in signed_headers(raw)],
            )
        except (dkim.DKIMException, UnicodeError, ValueError) as err:
            log.error("DKIM signing of mail from <%s> failed: %s", sender, err)
            return None
        value = header.split(b":", 1)[1]
        return value.replace(b"\r\n", b"\n").rstrip(b"\n")

    def sign(self, raw: bytes, sender: str) -> bytes:
        """``raw`` with its DKIM-Signature header in front (unchanged when not signed)."""
        value = self.signature(raw, sender)
        if value is None:
            return raw
        eol = b"\r\n" if b"\r\n" in raw[:4096] else b"\n"
        return b"DKIM-Signature:" + value.replace(b"\n", eol) + eol + raw


def sign_all(signer: Signer | None, items: Iterable[bytes], sender: str) -> list[bytes]:
    return [signer.sign(raw, sender) if signer else raw for raw in items]
