"""The SMTP whitelist (admin guide 4.7.11): entries that no SMTP-level check refuses.

PMG keeps the list as the objects of the ``greylist`` class object group (``GreyExclusion``) in
the rule database; pmgfast does the same, so the compiled rule set answers "is this sender /
client / recipient whitelisted" for the milter's RCPT stage (greylisting, SPF) and the network
checks (DNSBL), and ``pmgfast config sync`` renders the same entries into Postfix's tables.

| module | job |
|---|---|
| ``store`` | list, add and remove whitelist entries (objects of the greylist group) |
| ``maps`` | Postfix tables: sender/rcptaccess (regexp), client/postscreen_access (cidr) |
"""

from pmgfast.smtpwl.maps import WhitelistMaps, whitelist_maps
from pmgfast.smtpwl.store import ENTRY_TYPES, add, entries, make_entry, remove

__all__ = [
    "ENTRY_TYPES",
    "WhitelistMaps",
    "add",
    "entries",
    "make_entry",
    "remove",
    "whitelist_maps",
]
