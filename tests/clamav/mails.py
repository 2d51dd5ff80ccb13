"""Test messages that carry the EICAR test file in the ways mail carries malware.

Built at run time from the corpus' XOR-obfuscated eicar.com (nothing decoded is committed).
"""

from __future__ import annotations

import binascii
import io
import zipfile
from email.message import EmailMessage
from email.policy import SMTP

import pyzipper

from tests.clamd import eicar


def zipped(name: str, payload: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, payload)
    return out.getvalue()


def encrypted_zip(name: str, payload: bytes, password: bytes = b"infected") -> bytes:
    out = io.BytesIO()
    with pyzipper.AESZipFile(
        out, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as archive:
        archive.setpassword(password)
        archive.writestr(name, payload)
    return out.getvalue()


def uuencoded(name: str, payload: bytes) -> bytes:
    lines = [f"begin 644 {name}\n".encode()]
    for start in range(0, len(payload), 45):
        lines.append(binascii.b2a_uu(payload[start : start + 45]))
    lines.append(b"`\nend\n")
    return b"".join(lines)


def message(subject: str, text: str = "Hello,\nplease see the attachment.\n") -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "sender@example.org"
    msg["To"] = "rcpt@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{subject.replace(' ', '.')}@example.org>"
    msg.set_content(text)
    return msg


def with_attachment(subject: str, filename: str, payload: bytes) -> bytes:
    msg = message(subject)
    msg.add_attachment(payload, maintype="application", subtype="octet-stream", filename=filename)
    return msg.as_bytes()


def eicar_attachment() -> bytes:
    """eicar.com as a base64 application/octet-stream attachment."""
    return with_attachment("eicar attached", "eicar.com", eicar())


def eicar_in_zip() -> bytes:
    return with_attachment("eicar zipped", "eicar.zip", zipped("eicar.com", eicar()))


def eicar_in_zip_in_zip() -> bytes:
    inner = zipped("eicar.com", eicar())
    return with_attachment("eicar zip in zip", "outer.zip", zipped("inner.zip", inner))


def eicar_uuencoded() -> bytes:
    """eicar.com uuencoded inside a plain text body (old mailers, no MIME)."""
    body = b"Here it is:\n\n" + uuencoded("eicar.com", eicar())
    head = (
        b"From: sender@example.org\r\nTo: rcpt@example.com\r\nSubject: eicar uuencoded\r\n"
        b"Message-ID: <uu@example.org>\r\n\r\n"
    )
    return head + body.replace(b"\n", b"\r\n")


def eicar_encrypted_zip() -> bytes:
    return with_attachment("eicar encrypted", "secret.zip", encrypted_zip("eicar.com", eicar()))


def clean_mail() -> bytes:
    msg = message("quarterly report", "Numbers attached.\n")
    msg.add_attachment(
        zipped("report.txt", b"all fine\n" * 100),
        maintype="application",
        subtype="zip",
        filename="report.zip",
    )
    return msg.as_bytes()
