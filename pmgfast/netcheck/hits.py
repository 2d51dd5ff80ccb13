"""What the network checks hand to the spam engine: :class:`Hit` records in SpamAssassin's
vocabulary (rule name, score, description), and the default score of each rule.

Rule names are SpamAssassin's (``RCVD_IN_*``, ``URIBL_*``, ``SPF_*``, ``SPF_HELO_*``,
``DKIM_*``, ``ARC_*``, ``DMARC_*``) so that PMG's spam info, custom scores and reports read the
same. The scores are in the range SpamAssassin 4 ships; the spam engine (issue 6) may override
any of them (PMG's ``customscores``). Where SpamAssassin has no rule (a DMARC DNS failure) the
name follows its ``T_`` convention for informational rules.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Hit:
    """One rule that fired: name, score and the description PMG shows."""

    name: str
    score: float
    description: str


RULES: dict[str, tuple[float, str]] = {
    # SPF on MAIL FROM (or postmaster@HELO for the null sender)
    "SPF_PASS": (-0.001, "SPF: sender matches SPF record"),
    "SPF_FAIL": (0.919, "SPF: sender does not match SPF record (fail)"),
    "SPF_SOFTFAIL": (0.665, "SPF: sender does not match SPF record (softfail)"),
    "SPF_NEUTRAL": (0.652, "SPF: sender does not match SPF record (neutral)"),
    "SPF_NONE": (0.001, "SPF: sender does not publish an SPF Record"),
    "T_SPF_TEMPERROR": (0.01, "SPF: test of record failed (temperror)"),
    "T_SPF_PERMERROR": (0.01, "SPF: test of record failed (permerror)"),
    # SPF on the HELO name
    "SPF_HELO_PASS": (-0.001, "SPF: HELO matches SPF record"),
    "SPF_HELO_FAIL": (0.001, "SPF: HELO does not match SPF record (fail)"),
    "SPF_HELO_SOFTFAIL": (0.732, "SPF: HELO does not match SPF record (softfail)"),
    "SPF_HELO_NEUTRAL": (0.001, "SPF: HELO does not match SPF record (neutral)"),
    "SPF_HELO_NONE": (0.001, "SPF: HELO does not publish an SPF Record"),
    "T_SPF_HELO_TEMPERROR": (0.01, "SPF: test of HELO record failed (temperror)"),
    "T_SPF_HELO_PERMERROR": (0.01, "SPF: test of HELO record failed (permerror)"),
    # DKIM and ARC
    "DKIM_SIGNED": (0.1, "Message has a DKIM or DK signature, not necessarily valid"),
    "DKIM_VALID": (-0.1, "Message has at least one valid DKIM or DK signature"),
    "DKIM_VALID_AU": (-0.1, "Message has a valid DKIM or DK signature from author's domain"),
    "DKIM_VALID_EF": (-0.1, "Message has a valid DKIM or DK signature from envelope-from domain"),
    "DKIM_INVALID": (0.1, "DKIM or DK signature exists, but is not valid"),
    "ARC_SIGNED": (0.001, "Message has a ARC signature"),
    "ARC_VALID": (-0.1, "Message has a valid ARC signature"),
    "ARC_INVALID": (0.1, "ARC signature exists, but is not valid"),
    # DMARC
    "DMARC_PASS": (-0.1, "DMARC pass policy"),
    "DMARC_NONE": (0.1, "DMARC fail with none policy"),
    "DMARC_QUAR": (0.2, "DMARC fail with quarantine policy"),
    "DMARC_REJECT": (0.3, "DMARC fail with reject policy"),
    "DMARC_MISSING": (0.0, "Missing DMARC policy"),
    "T_DMARC_TEMPERROR": (0.01, "DMARC: DNS lookup of the policy failed (temperror)"),
}


def rule_hit(name: str, detail: str = "") -> Hit:
    """The hit of a rule from :data:`RULES`, with ``detail`` appended in brackets."""
    score, description = RULES[name]
    return Hit(name, score, f"{description} [{detail}]" if detail else description)
