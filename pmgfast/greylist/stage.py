"""The milter's RCPT stage: PMG's SMTP policy (pmgpolicy) for every recipient of untrusted mail.

:meth:`RecipientStage.check` answers one ``RCPT TO``: ``None`` lets it through, a
:class:`Refusal` is the SMTP reply. In PMG's order:

1. mail on the trusted port, from an authenticated client or from a trusted network
   (``127.0.0.0/8``, ``::1``, the ``mynetworks`` list, the transport and relay hosts: Postfix's
   ``permit_mynetworks`` comes before the policy) is never checked;
2. the sender is normalised (:func:`~pmgfast.greylist.triple.normalize_sender`);
3. a client that is an MX host of the recipient's domain (a backup MX) passes;
4. the SMTP whitelist (the objects of the ``greylist`` class groups: sender, domain, regex,
   IP and network objects for the sender side; receiver objects for the recipient) passes;
5. anything that is not an IP address passes;
6. SPF (``mail.spf``): ``fail`` is refused with ``554 5.7.1`` and the domain's explanation (and
   counted through a short-lived greylist row); ``pass`` skips greylisting (pmgpolicy returns
   its ``prepend`` answer before greylisting); other results go on;
7. greylisting (``mail.greylist`` for IPv4, ``mail.greylist6`` for IPv6): a deferred attempt
   gets ``450 4.7.1 Service is unavailable (try later)``, the text the tracker looks for.

If the greylist table cannot be reached the recipient passes and the problem is logged, as
pmgpolicy answers ``dunno`` when its database is gone; DNS that does not answer in time means
"not a backup MX" and SPF ``temperror``.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from pmgfast.greylist.greylister import Greylister, GreylistUnavailable
from pmgfast.greylist.triple import IPAddress, Triple, normalize_sender, parse_client
from pmgfast.netcheck.spf import SpfOutcome

log = logging.getLogger(__name__)

DEFER_TEXT = "Service is unavailable (try later)"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Refusal:
    """The reply to one RCPT: a temporary (4xx) or permanent (5xx) refusal."""

    code: str
    xcode: str
    text: str

    @property
    def temporary(self) -> bool:
        return self.code.startswith("4")


GREYLISTED = Refusal("450", "4.7.1", DEFER_TEXT)


class Whitelist(Protocol):
    """The SMTP whitelist as the compiled rule set offers it (:class:`pmgfast.rules.RuleSet`)."""

    def greylist_match(self, sender: str, ip: str | None, ldap: Any) -> bool: ...

    def greylist_match_receiver(self, receiver: str, ldap: Any) -> bool: ...


class Dns(Protocol):
    def mx_addresses(self, domain: str) -> frozenset[str]: ...

    def spf(self, ip: str, helo: str, sender: str) -> SpfOutcome | None: ...


@dataclass(frozen=True)
class StageSettings:
    greylist: bool = True  # mail.greylist (IPv4)
    greylist6: bool = False  # mail.greylist6
    mask4: int = 24  # mail.greylistmask4
    mask6: int = 64  # mail.greylistmask6
    spf: bool = True  # mail.spf
    backup_mx: bool = True
    trusted_networks: tuple[Network, ...] = (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )

    @classmethod
    def from_config(cls, conf: Any, trusted: Iterable[str] = ()) -> StageSettings:
        """From a PmgConf; ``trusted``: the trusted networks as Postfix's mynetworks has them."""
        networks = []
        for text in ("127.0.0.0/8", "::1/128", *trusted):
            try:
                networks.append(ipaddress.ip_network(text.strip("[]").replace("]/", "/"), False))
            except ValueError:
                continue
        return cls(
            greylist=bool(conf.get("mail", "greylist")),
            greylist6=bool(conf.get("mail", "greylist6")),
            mask4=int(conf.get("mail", "greylistmask4")),
            mask6=int(conf.get("mail", "greylistmask6")),
            spf=bool(conf.get("mail", "spf")),
            trusted_networks=tuple(dict.fromkeys(networks)),
        )


class RecipientStage:
    def __init__(
        self,
        settings: StageSettings,
        greylister: Greylister | None,
        whitelist: Callable[[], Whitelist | None] = lambda: None,
        dns: Dns | None = None,
        no_ldap: Any = None,
    ) -> None:
        self.settings = settings
        self.greylister = greylister
        self.whitelist = whitelist
        self.dns = dns
        self._ldap = no_ldap
        self._spf: OrderedDict[tuple[str, str, str], SpfOutcome | None] = OrderedDict()
        self._spf_lock = threading.Lock()
        if self._ldap is None:
            from pmgfast.rules.ldap import NO_LDAP

            self._ldap = NO_LDAP

    def trusted_client(self, address: IPAddress) -> bool:
        return any(address in net for net in self.settings.trusted_networks)

    def check(
        self,
        client_ip: str | None,
        helo: str | None,
        sender: str,
        recipient: str,
        instance: str | None = None,
        trusted: bool = False,
        now: int | None = None,
    ) -> Refusal | None:
        """The answer to one RCPT TO (see the module docstring); None lets it through."""
        if trusted:
            return None
        address = parse_client(client_ip)
        if address is not None and self.trusted_client(address):
            return None
        sender = sender.lower()
        recipient = recipient.lower()
        normalized = normalize_sender(sender)
        ip = str(address) if address is not None else None
        if address is not None and self._backup_mx(address, recipient):
            log.info("accept mails from backup MX host - %s", ip)
            return None
        listed = self.whitelist()
        if listed is not None:
            if listed.greylist_match(sender, ip, self._ldap) or (
                normalized != sender and listed.greylist_match(normalized, ip, self._ldap)
            ):
                log.info("accept mails from whitelist - %s", ip)
                return None
            if listed.greylist_match_receiver(recipient, self._ldap):
                log.info("accept mails to whitelist - <%s>", recipient)
                return None
        if address is None:
            return None
        s = self.settings
        greylist = s.greylist if address.version == 4 else s.greylist6
        triple = Triple.make(address, sender, recipient, s.mask4, s.mask6)
        if s.spf and self.dns is not None:
            outcome = self._spf_result(str(address), (helo or "").lower(), sender, instance)
            if outcome is not None:
                action, text = outcome.smtp_action(True)
                if action == "reject":
                    log.info("SPF says fail - %s <%s>", ip, sender)
                    self._record_spf_reject(triple, instance, now)
                    return Refusal("554", "5.7.1", text)
                if outcome.deciding.result == "pass":
                    return None  # pmgpolicy answers 'prepend Received-SPF' before greylisting
        if not greylist or self.greylister is None:
            return None
        try:
            answer = self.greylister.check(triple, instance, now)
        except GreylistUnavailable as err:
            log.error("greylisting skipped, the database cannot be reached: %s", err)
            return None
        if answer.passed:
            return None
        log.info("defer greylisted mail - %s <%s> -> <%s>", ip, sender, recipient)
        return GREYLISTED

    # --- helpers ---------------------------------------------------------------------------
    def _backup_mx(self, address: IPAddress, recipient: str) -> bool:
        if not self.settings.backup_mx or self.dns is None:
            return False
        _, at, domain = recipient.rpartition("@")
        if not at or not domain:
            return False
        return any(_same(address, a) for a in self.dns.mx_addresses(domain))

    def _spf_result(
        self, ip: str, helo: str, sender: str, instance: str | None
    ) -> SpfOutcome | None:
        """SPF once per message (pmgpolicy caches it per instance)."""
        assert self.dns is not None
        key = (instance or "", ip, sender)
        with self._spf_lock:
            if instance and key in self._spf:
                return self._spf[key]
        outcome = self.dns.spf(ip, helo, sender)
        with self._spf_lock:
            self._spf[key] = outcome
            while len(self._spf) > 1000:
                self._spf.popitem(last=False)
        return outcome

    def _record_spf_reject(self, triple: Triple, instance: str | None, now: int | None) -> None:
        if self.greylister is None:
            return
        try:
            self.greylister.record_spf_reject(triple, instance, now)
        except GreylistUnavailable as err:
            log.error("SPF reject not counted, the database cannot be reached: %s", err)

    def close(self) -> None:
        if self.greylister is not None:
            self.greylister.close()
        closer = getattr(self.dns, "close", None)
        if closer is not None:
            closer()


def _same(address: IPAddress, text: str) -> bool:
    other = parse_client(text)
    return other is not None and other == address
