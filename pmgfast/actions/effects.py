"""What actions do to the world: re-inject through Postfix, store in the quarantine.

The pipeline calls an :class:`Effects` object; :class:`GatewayEffects` does it for real
(Postfix re-injection port, quarantine spool and database), :class:`DryRun` only records it
(``pmgfast scan``, which must give the same verdicts without sending or storing anything).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pmgfast.actions.reinject import Origin, Reinjector, Target
from pmgfast.quarantine.store import QuarantineStore


class Effects(Protocol):
    def reinject(
        self,
        sender: str,
        targets: Sequence[Target],
        data: bytes,
        sender_params: Mapping[str, str] | None = None,
        origin: Origin | None = None,
    ) -> str:
        """Hand ``data`` to Postfix; the new queue id (raises ReinjectError)."""
        ...

    def quarantine(
        self,
        qtype: str,
        data: bytes,
        sender: str,
        recipients: Sequence[str],
        spamlevel: int,
        info: str | None,
    ) -> str:
        """Store a copy; its uid (raises DatabaseUnavailable)."""
        ...


@dataclass
class GatewayEffects:
    reinjector: Reinjector
    store: QuarantineStore

    def reinject(
        self,
        sender: str,
        targets: Sequence[Target],
        data: bytes,
        sender_params: Mapping[str, str] | None = None,
        origin: Origin | None = None,
    ) -> str:
        smtputf8 = not (sender.isascii() and all(t.address.isascii() for t in targets))
        return self.reinjector.send(sender, targets, data, sender_params, origin, smtputf8)

    def quarantine(
        self,
        qtype: str,
        data: bytes,
        sender: str,
        recipients: Sequence[str],
        spamlevel: int,
        info: str | None,
    ) -> str:
        return self.store.store(qtype, data, sender, recipients, spamlevel, info).uid


@dataclass
class DryRun:
    """Records what would happen; queue ids and quarantine uids are placeholders."""

    sent: list[tuple[str, tuple[str, ...], int]] = field(default_factory=list)
    stored: list[tuple[str, tuple[str, ...], int]] = field(default_factory=list)

    def reinject(
        self,
        sender: str,
        targets: Sequence[Target],
        data: bytes,
        sender_params: Mapping[str, str] | None = None,
        origin: Origin | None = None,
    ) -> str:
        self.sent.append((sender, tuple(t.address for t in targets), len(data)))
        return "dry-run"

    def quarantine(
        self,
        qtype: str,
        data: bytes,
        sender: str,
        recipients: Sequence[str],
        spamlevel: int,
        info: str | None,
    ) -> str:
        self.stored.append((qtype, tuple(recipients), len(data)))
        return "dry-run"
