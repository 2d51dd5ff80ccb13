"""The Authentication-Results header (RFC 8601) for SPF, DKIM, ARC and DMARC, with ``authres``."""

from __future__ import annotations

import authres
import authres.arc
import authres.dmarc

from pmgfast.netcheck.dkim import DkimOutcome
from pmgfast.netcheck.dmarc import DmarcOutcome
from pmgfast.netcheck.spf import SpfOutcome


def header(
    authserv_id: str,
    spf: SpfOutcome | None,
    dkim: DkimOutcome | None,
    dmarc: DmarcOutcome | None,
    sender: str = "",
    helo: str = "",
) -> str:
    """``Authentication-Results: <authserv-id>; spf=...; dkim=...; arc=...; dmarc=...``."""
    results: list[authres.BaseAuthenticationResult] = []
    if spf is not None:
        m = spf.mailfrom
        if m.identity == "helo":
            results.append(authres.SPFAuthenticationResult(result=m.result, smtp_helo=helo))
        else:
            results.append(
                authres.SPFAuthenticationResult(result=m.result, smtp_mailfrom=sender or None)
            )
    if dkim is not None:
        if not dkim.signatures:
            results.append(authres.DKIMAuthenticationResult(result="none"))
        for sig in dkim.signatures:
            results.append(
                authres.DKIMAuthenticationResult(
                    result=sig.result,
                    result_comment=sig.detail or None,
                    header_d=sig.domain or None,
                    header_s=sig.selector or None,
                )
            )
        if dkim.arc.result != "none":
            results.append(authres.arc.ARCAuthenticationResult(result=dkim.arc.result))
    if dmarc is not None:
        record = dmarc.record
        results.append(
            authres.dmarc.DMARCAuthenticationResult(
                result=dmarc.result,
                result_comment=f"p={record.p} sp={record.sp}" if record else None,
                header_from=dmarc.from_domain,
                policy=dmarc.policy,
            )
        )
    return str(authres.AuthenticationResultsHeader(authserv_id=authserv_id, results=results))
