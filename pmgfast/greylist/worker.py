"""The SMTP-level parts a milter worker runs: the RCPT stage and the DKIM signer.

:func:`build_stage` makes the :class:`~pmgfast.greylist.stage.RecipientStage` of one worker
(its greylister with the hot cache and write-back thread, its DNS loop) or returns None when
nothing is checked at SMTP time (greylisting off for both address families and SPF off).
:func:`milter_check` adapts it to the milter's ``Runtime.recipient_check`` hook;
:func:`dkim_signer` makes the pipeline's DKIM signer (None when ``admin.dkim_sign`` is off).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from pmgfast.config import ConfigError, Settings
from pmgfast.dkimsign import DkimKeyError, Signer
from pmgfast.greylist.greylister import Greylister
from pmgfast.greylist.policy import DELAY, Constants
from pmgfast.greylist.smtpdns import SmtpDns
from pmgfast.greylist.stage import RecipientStage, StageSettings, Whitelist
from pmgfast.netcheck import NetSettings
from pmgfast.postfix.networks import host_address, trusted_networks


def constants(conf: Any) -> Constants:
    try:
        delay = conf.get("pmgfast", "greylist_delay")
    except KeyError:
        delay = None
    return Constants(delay=DELAY if delay is None else int(delay))


def build_stage(
    settings: Settings,
    connect: Callable[[], psycopg.Connection],
    whitelist: Callable[[], Whitelist | None],
    cid: int = 0,
) -> RecipientStage | None:
    conf = settings.pmg
    stage_settings = StageSettings.from_config(conf, trusted_networks(settings, host_address()))
    if not (stage_settings.greylist or stage_settings.greylist6 or stage_settings.spf):
        return None
    greylister = None
    if stage_settings.greylist or stage_settings.greylist6:
        greylister = Greylister(connect, constants(conf), cid=cid).start()
    dns = SmtpDns(NetSettings.from_config(conf))
    return RecipientStage(stage_settings, greylister, whitelist, dns)


def dkim_signer(settings: Settings) -> Signer | None:
    """The DKIM signer of outgoing mail (None: signing is off); a key that cannot be used is a
    configuration error naming the key."""
    try:
        return Signer.from_settings(settings)
    except DkimKeyError as err:
        where = settings.config_dir / "pmg.conf"
        raise ConfigError(where, None, "admin.dkim_selector", str(err)) from None


def milter_check(stage: RecipientStage) -> Callable[..., tuple[str, str, str] | None]:
    """``Runtime.recipient_check``: (connection, message, recipient, trusted) -> refusal."""

    def check(conn: Any, msg: Any, recipient: str, trusted: bool) -> tuple[str, str, str] | None:
        refusal = stage.check(
            conn.address, conn.helo, msg.sender, recipient, msg.filter_id, trusted
        )
        return None if refusal is None else (refusal.code, refusal.xcode, refusal.text)

    return check
