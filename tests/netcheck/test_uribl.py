"""SURBL/URIBL against the real test server: a hit inside HTML (URIs from the MIME walk),
registered-domain reduction, bit-mask and exact-reply lists, IP literals, PMG's display."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pmgfast import mime
from pmgfast.netcheck import MessageContext
from pmgfast.netcheck.uribl import MAX_DOMAINS, host_of, targets
from tests.netcheck.conftest import run

HTML_MESSAGE = (
    b"From: a@nospf.example\r\nTo: c@recipient.example\r\nSubject: offer\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=BB\r\n\r\n"
    b"--BB\r\nContent-Type: text/plain\r\n\r\nSee http://clean.example/a\r\n"
    b"--BB\r\nContent-Type: text/html\r\n\r\n"
    b'<html><body><p>Click <a href="http://www.sub.evil.example/path?x=1">here</a>'
    b'<img src="https://cdn.phish.example/i.png"></p></body></html>\r\n--BB--\r\n'
)


def test_uribl_hit_inside_html(checks):
    walked = mime.walk(HTML_MESSAGE)
    assert "http://www.sub.evil.example/path?x=1" in walked.uris
    report = run(checks().check(MessageContext(raw=HTML_MESSAGE, uris=walked.uris)))
    hits = {h.name: h for h in report.hits if h.name.startswith("URIBL_")}
    assert set(hits) == {"URIBL_URIBL_EXAMPLE", "URIBL_PH_SURBL"}
    # PMG shows URIBL hits with the listed domains in brackets
    assert hits["URIBL_URIBL_EXAMPLE"].description.endswith("[evil.example]")
    assert hits["URIBL_URIBL_EXAMPLE"].score == 2.5
    assert hits["URIBL_PH_SURBL"].description.endswith("[phish.example]")
    assert report.uribl is not None
    assert report.uribl.listed == {
        "evil.example": ["URIBL_URIBL_EXAMPLE"],
        "phish.example": ["URIBL_PH_SURBL"],
    }


def test_bitmask_exact_and_address_lists(checks):
    result = run(
        checks().uribl(
            ["http://both.example/", "spammy.example", "http://203.0.113.7/x", "clean.example"]
        )
    )
    names = {h.name: h.description for h in result.hits}
    assert set(names) == {"URIBL_PH_SURBL", "URIBL_MW_SURBL", "URIBL_DBL_SPAM", "URIBL_CR_SURBL"}
    assert names["URIBL_CR_SURBL"].endswith("[203.0.113.7]")
    assert names["URIBL_DBL_SPAM"].endswith("[spammy.example]")
    assert result.unanswered == []


def test_registered_domain_reduction():
    got = [t.shown for t in targets([
        "http://a.b.evil.example.co.uk/x", "HTTPS://WWW.Example.COM:8080/",
        "mailto:x@mail.org.example",
        "www.foo.github.io", "user@sub.domain.example", "http://[::1]/", "http://co.uk/",
        "http://xn--bcher-kva.example/", "http://bücher.example/",
    ])]  # fmt: skip
    assert got == [
        "example.co.uk",
        "example.com",
        "org.example",
        "foo.github.io",
        "domain.example",
        "xn--bcher-kva.example",
    ]


def test_domain_cap():
    many = [f"http://d{i}.example/" for i in range(100)]
    assert len(targets(many)) == MAX_DOMAINS


@given(st.lists(st.text(max_size=80), max_size=20))
def test_any_text_is_handled(items):
    for item in items:
        host_of(item)
    for target in targets(items):
        assert (target.label and "." in target.label) or target.is_address
