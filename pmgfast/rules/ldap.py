"""How LDAP Group and LDAP User objects ask the directory: the :class:`LdapResolver` protocol.

The LDAP capability implements the protocol later. Until then :data:`NO_LDAP` answers every
question with "no" and says so, which is what PMG does when no LDAP profile is configured
(LDAP objects then match nothing, not even the "unknown address" mode).
"""

from __future__ import annotations

from typing import Protocol


class LdapResolver(Protocol):
    """The directory questions the rule objects ask; ``profile`` ``""`` means every profile."""

    @property
    def available(self) -> bool:
        """False when no LDAP profile is configured: LDAP objects then never match."""
        ...

    def mail_exists(self, address: str, profile: str) -> bool: ...

    def user_in_group(self, address: str, group: str, profile: str) -> bool: ...

    def account_has_address(self, account: str, address: str, profile: str) -> bool: ...


class NoLdap:
    """The resolver used while pmgfast has no LDAP capability: nothing is known."""

    available = False

    def mail_exists(self, address: str, profile: str) -> bool:
        return False

    def user_in_group(self, address: str, group: str, profile: str) -> bool:
        return False

    def account_has_address(self, account: str, address: str, profile: str) -> bool:
        return False


NO_LDAP: LdapResolver = NoLdap()
