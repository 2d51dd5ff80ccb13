"""ClamAV: the clamd client, the meaning of its answers, and the signature database status.

- :mod:`~pmgfast.clamav.client`: INSTREAM over pooled IDSESSION connections, with a budget.
- :mod:`~pmgfast.clamav.protocol`: clamd's wire format, sans-IO.
- :mod:`~pmgfast.clamav.result`: clean / virus / heuristic / error, from clamd's reply.
- :mod:`~pmgfast.clamav.policy`: PMG's reading (vinfo, ClamAVHeuristics score, 451 on error).
- :mod:`~pmgfast.clamav.conf` and :mod:`~pmgfast.clamav.layout`: clamd.conf in and out.
- :mod:`~pmgfast.clamav.database`: the databases panel (``pmgfast virus status``).
"""

from pmgfast.clamav.address import ClamdAddress
from pmgfast.clamav.client import ClamdClient, ClamdUnavailable
from pmgfast.clamav.conf import ClamdConf, ClamdConfError, parse_clamd_conf, read_clamd_conf
from pmgfast.clamav.layout import ClamdLayout
from pmgfast.clamav.policy import VirusAssessment, assess
from pmgfast.clamav.result import ClamdResult, Verdict, parse_reply

__all__ = [
    "ClamdAddress",
    "ClamdClient",
    "ClamdConf",
    "ClamdConfError",
    "ClamdLayout",
    "ClamdResult",
    "ClamdUnavailable",
    "Verdict",
    "VirusAssessment",
    "assess",
    "parse_clamd_conf",
    "parse_reply",
    "read_clamd_conf",
]
