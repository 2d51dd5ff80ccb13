"""The stdlib stand-in for the MIME walk: what it hands the tokenizer from a raw message."""

from __future__ import annotations

from pmgfast.bayes.stdlib_email import from_bytes

MESSAGE = b"""\
Received: from mail.example.com (mail.example.com [192.0.2.1])
\tby mx.example.org with ESMTP; Mon, 1 Jan 2024 00:00:00 +0000
Received: from localhost by mail.example.com
From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <Juergen@Example.COM>
Subject: =?utf-8?b?R3LDvMOfZSBhdXMgS8O2bG4=?=
X-Mailer: Test 1.0
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Gr=C3=BC=C3=9Fe! See http://www.example.net/offer?id=1 now.
--inner
Content-Type: text/html; charset=x-unknown-charset

<html><head><style>p { color: red }</style><script>var hidden = 1;</script></head>
<body><p>Visible &amp; <a href="https://click.example.org/track">click</a></p>
<img src="http://img.example.org/pixel.gif"></body></html>
--inner--
--outer
Content-Type: text/plain; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"

attached words are not body text
--outer--
"""


def test_headers_are_decoded():
    features = from_bytes(MESSAGE)
    assert features.subject == "Grüße aus Köln"
    assert features.from_name == "Jürgen Müller"
    assert features.from_addr == "Juergen@Example.COM"
    assert len(features.received) == 2
    assert features.received[0].startswith("from mail.example.com (mail.example.com [192.0.2.1])")
    assert [n.lower() for n in features.header_names] == [
        "received", "received", "from", "subject", "x-mailer", "mime-version", "content-type",
    ]  # fmt: skip


def test_parts_texts_and_uris():
    features = from_bytes(MESSAGE)
    assert features.content_types == (
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/plain",
    )  # fmt: skip
    assert features.charsets == ("utf-8", "x-unknown-charset")
    plain, html = features.texts  # the attachment is left out
    assert plain.startswith("Grüße! See http://www.example.net/offer?id=1 now.")
    assert "Visible & click" in " ".join(html.split())
    assert "hidden" not in html and "color" not in html
    assert features.uris == (
        "http://www.example.net/offer?id=1",
        "https://click.example.org/track",
        "http://img.example.org/pixel.gif",
    )


def test_garbage_does_not_raise():
    for raw in (b"", b"\x00\xff\xfe garbage", b"Subject: =?bogus?q?x?=\n\nbody", b"From:\n\n"):
        features = from_bytes(raw)
        assert isinstance(features.texts, tuple)
