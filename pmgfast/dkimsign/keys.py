"""DKIM selector keys (PMG's ``PMG::DKIMSign::set_selector`` and ``get_selector_info``).

- :func:`generate_key`: an RSA key of at least 1024 bits at ``<config dir>/dkim/<selector>.
  private`` (mode 0600). An existing key of the same size is kept (PMG: a key of another size
  is an error unless forced).
- :func:`load_key`: the key as dkimpy wants it (PKCS#1 PEM); keys in PKCS#8 (what
  ``openssl genrsa`` writes since OpenSSL 3, e.g. keys brought over from PMG) are converted.
- :func:`dns_record`: the TXT record to publish, in PMG's layout: ``<selector>._domainkey IN TXT
  ( "v=DKIM1; h=sha256; k=rsa; " "p=<base64 in 250-byte pieces>" )``; :func:`record_value`
  joins such a record's strings back into the TXT value.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

MIN_BITS = 1024
SELECTOR = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]*")


class DkimKeyError(ValueError):
    """A selector or key that cannot be used; the message says why."""


def key_path(config_dir: Path, selector: str) -> Path:
    if not SELECTOR.fullmatch(selector) or ".." in selector:
        raise DkimKeyError(f"{selector!r} is not a valid DKIM selector")
    return config_dir / "dkim" / f"{selector}.private"


def _read(path: Path) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise DkimKeyError(f"{path}: no such DKIM key") from None
    except (ValueError, TypeError) as err:
        raise DkimKeyError(f"{path}: not a PEM private key ({err})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DkimKeyError(f"{path}: not an RSA key")
    return key


def generate_key(config_dir: Path, selector: str, bits: int, force: bool = False) -> Path:
    """Create (or keep) the selector's key; returns its path."""
    if bits < MIN_BITS:
        raise DkimKeyError(f"a DKIM key needs at least {MIN_BITS} bits (asked: {bits})")
    path = key_path(config_dir, selector)
    if path.exists() and not force:
        size = _read(path).key_size
        if size != bits:
            raise DkimKeyError(f"{path} already exists, but has a different size ({size} bits)")
        return path
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def load_key(config_dir: Path, selector: str) -> tuple[bytes, int]:
    """The selector's key as PKCS#1 PEM for dkimpy, and its size in bits."""
    key = _read(key_path(config_dir, selector))
    if key.key_size < MIN_BITS:
        raise DkimKeyError(f"the DKIM key of {selector!r} has {key.key_size} bits (minimum 1024)")
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return pem, key.key_size


def public_key_b64(config_dir: Path, selector: str) -> tuple[str, int]:
    key = _read(key_path(config_dir, selector))
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii"), key.key_size


def dns_record(config_dir: Path, selector: str) -> tuple[str, int]:
    """The TXT record to publish for ``selector`` (PMG's layout) and the key size."""
    pubkey, size = public_key_b64(config_dir, selector)
    pieces = [pubkey[i : i + 250] for i in range(0, len(pubkey), 250)]
    record = f'{selector}._domainkey\tIN\tTXT\t( "v=DKIM1; h=sha256; k=rsa; "\n\t  "p='
    record += '"\n\t  "'.join(pieces)
    record += f'" )  ; ----- DKIM key {selector}'
    return record, size


def record_value(record: str) -> str:
    """The TXT value of a record in zone-file syntax: its quoted strings joined."""
    return "".join(re.findall(r'"([^"]*)"', record))
