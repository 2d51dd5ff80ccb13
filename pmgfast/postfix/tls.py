"""The self-signed certificate Postfix uses when ``mail.tls`` is on (PMG's ``pmg-tls.pem``).

PMG generates ``/etc/pmg/pmg-tls.pem`` (key and certificate in one file, Postfix reads both
from it) the first time TLS is enabled; pmgfast does the same under its config directory with
the ``cryptography`` package: RSA 2048, SHA-256, the node's name as CN and subject alternative
name, valid for ten years, mode 0600. An existing file is never replaced (an admin may have put
a real certificate there).
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

VALID_DAYS = 3650


def self_signed_pem(hostname: str, bits: int = 2048) -> bytes:
    """A private key and a self-signed certificate for ``hostname``, PEM, key first."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pmgfast"),
            x509.NameAttribute(NameOID.COMMON_NAME, hostname[:64] or "localhost"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return pem_key + cert.public_bytes(serialization.Encoding.PEM)


def ensure_certificate(path: Path, hostname: str) -> bool:
    """Write a new certificate to ``path`` unless one is there; True when it wrote one."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    data = self_signed_pem(hostname)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return True
