"""WHO objects: who sends or receives the mail (PMG ``RuleDB/{WhoRegex,EMail,Domain,...}.pm``).

In FROM they see the envelope sender and the client IP, in TO each envelope recipient (and no
IP, so IP objects never match there). ``matches`` is the pure, one-object-at-a-time test the
pure engine uses; the compiled rule set answers the same questions in bulk.

- Regular expression: Perl ``m/^<re>$/i``. The regex is pasted between ``^`` and ``$`` without
  a group, exactly as PMG does, so an alternation ``a|b`` anchors only its outer ends.
- Mail address: equal ignoring case. Domain: the text after the last ``@``, equal ignoring
  case; subdomains do not match.
- IP address: the same text as the client IP. IP network: contains the client IP (v4/v6).
- LDAP group / LDAP user: asked through :class:`~pmgfast.rules.ldap.LdapResolver`.
- The receiver variants behave like their sender twins; PMG tells them apart only for the
  greylist exclusion list (they test the recipient there).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar, Self

from pmgfast.rules.ldap import LdapResolver
from pmgfast.rules.objects.base import Field, RuleObject, check_regex, text

EMAIL_PATTERN = re.compile(r"[^\s\\@]+@[^\s/\\@]+")


def domain_of(address: str) -> str | None:
    """The text after the last ``@`` (PMG ``m/.*@(.*)$/``), or None without one."""
    at = address.rfind("@")
    return address[at + 1 :] if at >= 0 else None


def parse_ip(ip: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not ip:
        return None
    try:
        return ipaddress.ip_address(ip)
    except ValueError:
        return None


@dataclass(frozen=True, kw_only=True)
class WhoObject(RuleObject):
    oclass: ClassVar[str] = "who"
    receiver_test: ClassVar[bool] = False

    def matches(self, address: str, ip: str | None, ldap: LdapResolver) -> bool:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class WhoRegex(WhoObject):
    otype: ClassVar[int] = 1000
    type_name: ClassVar[str] = "regex"
    title: ClassVar[str] = "Regular Expression"
    FIELDS = (Field("regex", "regex", str, max_length=1024),)

    regex: str = r".*@domain\.tld"

    @property
    def anchored_source(self) -> str:
        return f"^{self.regex}$"

    @cached_property
    def _compiled(self) -> re.Pattern[str] | None:
        try:
            return re.compile(self.anchored_source, re.IGNORECASE)
        except re.error:
            return None

    def validate(self) -> list[str]:
        problems: list[str] = []
        check_regex(self.anchored_source, "regex", problems)
        return problems

    def matches(self, address: str, ip: str | None, ldap: LdapResolver) -> bool:
        compiled = self._compiled
        return compiled is not None and compiled.search(address) is not None

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        return cls(id=object_id, regex=text(value))

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        return self.regex.encode(), {}

    def describe(self) -> str:
        return self.regex


@dataclass(frozen=True, kw_only=True)
class EMail(WhoObject):
    otype: ClassVar[int] = 1001
    type_name: ClassVar[str] = "email"
    title: ClassVar[str] = "Mail address"
    FIELDS = (Field("email", "email", str, max_length=512),)

    email: str = ""

    def validate(self) -> list[str]:
        if not EMAIL_PATTERN.fullmatch(self.email):
            return [f"email: {self.email!r} is not a mail address"]
        return []

    def matches(self, address: str, ip: str | None, ldap: LdapResolver) -> bool:
        return address.lower() == self.email.lower()

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        return cls(id=object_id, email=text(value))

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        return self.email.encode(), {}

    def describe(self) -> str:
        return self.email


@dataclass(frozen=True, kw_only=True)
class Domain(WhoObject):
    otype: ClassVar[int] = 1002
    type_name: ClassVar[str] = "domain"
    title: ClassVar[str] = "Domain"
    FIELDS = (Field("domain", "domain", str, max_length=255),)

    domain: str = ""

    def validate(self) -> list[str]:
        if not self.domain or re.search(r"[\s@]", self.domain):
            return [f"domain: {self.domain!r} is not a domain name"]
        return []

    def matches(self, address: str, ip: str | None, ldap: LdapResolver) -> bool:
        domain = domain_of(address)
        return domain is not None and domain.lower() == self.domain.lower()

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        return cls(id=object_id, domain=text(value))

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        return self.domain.encode(), {}

    def describe(self) -> str:
        return self.domain


@dataclass(frozen=True, kw_only=True)
class IPAddress(WhoObject):
    otype: ClassVar[int] = 1003
    type_name: ClassVar[str] = "ip"
    title: ClassVar[str] = "IP Address"
    FIELDS = (Field("ip", "ip", str, max_length=64),)

    ip: str = ""

    def validate(self) -> list[str]:
        if parse_ip(self.ip) is None:
            return [f"ip: {self.ip!r} is not an IP address"]
        return []

    def matches(self, address: str, ip: str | None, ldap: LdapResolver) -> bool:
        return ip is not None and ip == self.ip

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        return cls(id=object_id, ip=text(value))

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        return self.ip.encode(), {}

    def describe(self) -> str:
        return self.ip


@dataclass(frozen=True, kw_only=True)
class IPNet(WhoObject):
    otype: ClassVar[int] = 1004
    type_name: ClassVar[str] = "network"
    title: ClassVar[str] = "IP Network"
    FIELDS = (Field("cidr", "cidr", str, max_length=64),)

    cidr: str = ""

    @cached_property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
        try:
            return ipaddress.ip_network(self.cidr, strict=False)
        except ValueError:
            return None

    def validate(self) -> list[str]:
        if "/" not in self.cidr or self.network is None:
            return [f"cidr: {self.cidr!r} is not an IP network (address/prefix)"]
        return []

    def matches(self, address: str, ip: str | None, ldap: LdapResolver) -> bool:
        network = self.network
        parsed = parse_ip(ip)
        return network is not None and parsed is not None and parsed in network

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        return cls(id=object_id, cidr=text(value))

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        return self.cidr.encode(), {}

    def describe(self) -> str:
        return self.cidr


@dataclass(frozen=True, kw_only=True)
class LdapGroup(WhoObject):
    """``mode`` any: the address exists in LDAP; none: it does not; group: the user is a
    member of ``group`` (which needs a ``profile``; without one it never matches)."""

    otype: ClassVar[int] = 1005
    type_name: ClassVar[str] = "ldap"
    title: ClassVar[str] = "LDAP Group"
    FIELDS = (
        Field("mode", "mode", str),
        Field("group", "group", str, "", max_length=1024),
        Field("profile", "profile", str, "", max_length=64),
    )

    mode: str = "any"
    group: str = ""
    profile: str = ""

    def validate(self) -> list[str]:
        problems = []
        if self.mode not in ("any", "none", "group"):
            problems.append(f"mode: {self.mode!r} is not one of any, none, group")
        if self.mode == "group" and (not self.group or not self.profile):
            problems.append("group: mode 'group' needs a group and a profile")
        if self.mode != "group" and self.group:
            problems.append(f"group: not allowed with mode {self.mode!r}")
        if ":" in self.profile:
            problems.append("profile: must not contain ':'")
        return problems

    @property
    def stored_group(self) -> str:
        return {"any": "", "none": "-"}.get(self.mode, self.group)

    def matches(self, address: str, ip: str | None, ldap: LdapResolver) -> bool:
        if not ldap.available:
            return False
        if self.mode == "any":
            return ldap.mail_exists(address, self.profile)
        if self.mode == "none":
            return not ldap.mail_exists(address, self.profile)
        if self.profile:
            return ldap.user_in_group(address, self.group, self.profile)
        return False

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        raw = text(value)
        profile, sep, group = raw.partition(":")
        if not sep:
            profile, group = "", raw
        mode = {"": "any", "-": "none"}.get(group, "group")
        return cls(id=object_id, mode=mode, group=group if mode == "group" else "", profile=profile)

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        return f"{self.profile}:{self.stored_group}".encode(), {}

    def describe(self) -> str:
        scope = f"profile '{self.profile}'" if self.profile else "any profile"
        if self.mode == "any":
            return f"Existing LDAP address, {scope}"
        if self.mode == "none":
            return f"Unknown LDAP address, {scope}"
        if self.profile:
            return f"LDAP group '{self.group}', profile '{self.profile}'"
        return "LDAP group without profile - fail always"


@dataclass(frozen=True, kw_only=True)
class LdapUser(WhoObject):
    """The LDAP account ``account`` (in ``profile``) has the address."""

    otype: ClassVar[int] = 1006
    type_name: ClassVar[str] = "ldapuser"
    title: ClassVar[str] = "LDAP User"
    FIELDS = (
        Field("account", "account", str, max_length=1024),
        Field("profile", "profile", str, max_length=64),
    )

    account: str = ""
    profile: str = ""

    def validate(self) -> list[str]:
        problems = []
        if not self.account:
            problems.append("account: required")
        if not self.profile or ":" in self.profile:
            problems.append("profile: required, without ':'")
        return problems

    def matches(self, address: str, ip: str | None, ldap: LdapResolver) -> bool:
        if not ldap.available:
            return False
        return ldap.account_has_address(self.account, address, self.profile)

    @classmethod
    def from_db(cls, object_id: int, value: bytes, attrs: Mapping[str, bytes]) -> Self:
        profile, _, account = text(value).partition(":")
        return cls(id=object_id, account=account, profile=profile)

    def to_db(self) -> tuple[bytes, dict[str, bytes]]:
        return f"{self.profile}:{self.account}".encode(), {}

    def describe(self) -> str:
        return f"LDAP user '{self.account}', profile '{self.profile}'"


@dataclass(frozen=True, kw_only=True)
class Receiver(EMail):
    otype: ClassVar[int] = 1007
    type_name: ClassVar[str] = "receiver"
    title: ClassVar[str] = "Receiver"
    receiver_test: ClassVar[bool] = True


@dataclass(frozen=True, kw_only=True)
class ReceiverDomain(Domain):
    otype: ClassVar[int] = 1008
    type_name: ClassVar[str] = "receiver_domain"
    title: ClassVar[str] = "Receiver Domain"
    receiver_test: ClassVar[bool] = True


@dataclass(frozen=True, kw_only=True)
class ReceiverRegex(WhoRegex):
    otype: ClassVar[int] = 1009
    type_name: ClassVar[str] = "receiver_regex"
    title: ClassVar[str] = "Receiver Regular Expression"
    receiver_test: ClassVar[bool] = True


WHO_TYPES: tuple[type[WhoObject], ...] = (
    WhoRegex, EMail, Domain, IPAddress, IPNet, LdapGroup, LdapUser,
    Receiver, ReceiverDomain, ReceiverRegex,
)  # fmt: skip
