"""DKIM signing of outgoing mail (admin guide 4.7.10), with dkimpy.

| module | job |
|---|---|
| ``keys`` | keys in ``<config dir>/dkim/<selector>.private``: generate, load, DNS record |
| ``signer`` | which mail is signed with which domain, PMG's header list and over-signing |

``pmgfast dkim genkey --selector S --bits 2048`` makes a key and prints the TXT record;
the milter pipeline signs accepted outgoing (trusted) mail with :class:`~pmgfast.dkimsign.
signer.Signer` when ``admin.dkim_sign`` is on.
"""

from pmgfast.dkimsign.keys import DkimKeyError, dns_record, generate_key, key_path, load_key
from pmgfast.dkimsign.signer import Signer, signed_headers

__all__ = [
    "DkimKeyError",
    "Signer",
    "dns_record",
    "generate_key",
    "key_path",
    "load_key",
    "signed_headers",
]
