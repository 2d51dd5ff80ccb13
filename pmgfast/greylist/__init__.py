"""Greylisting in the milter's RCPT stage, stored in PostgreSQL so cluster nodes share it.

| module | job |
|---|---|
| ``triple`` | the key: sender network (``greylistmask4``/``6``), normalised sender, recipient |
| ``policy`` | PMG's state machine for one triple as a pure function, and its constants |
| ``store`` | ``CGreylist``: the state machine as one upsert, batched merges, SPF reject rows |
| ``cache`` | the hot cache: answers without the database for triples it may answer |
| ``greylister`` | cache first, table when it must, cached answers written back in batches |
| ``expire`` | maintenance: expired never-passed triples into the statistics, then deleted |
| ``backupmx`` | "is the client an MX of the recipient's domain", cached per domain |
| ``stage`` | the RCPT stage: exemptions, SPF reject, greylisting, PMG's reply texts |
"""

from pmgfast.greylist.greylister import Answer, Greylister, GreylistUnavailable
from pmgfast.greylist.policy import Constants
from pmgfast.greylist.triple import Triple, normalize_sender

__all__ = [
    "Answer",
    "Constants",
    "GreylistUnavailable",
    "Greylister",
    "Triple",
    "normalize_sender",
]
