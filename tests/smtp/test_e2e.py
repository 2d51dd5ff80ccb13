"""End to end through a real Postfix configured only by ``pmgfast config sync`` (issue 11):
greylisting and its retry, the SMTP whitelist, relay refusal, receiver verification with the
configured code, TLS required for an inbound domain, SPF reject, DKIM-signed outgoing mail
verified against the record ``pmgfast dkim genkey`` printed, and Postfix reloaded only when a
rendered file changed. Clients pretend to come from outside addresses with XCLIENT."""

from __future__ import annotations

import time

import dkim
import dns.message
import dns.query
import dns.rdatatype
import psycopg

from pmgfast.greylist import store
from pmgfast.greylist.triple import Triple
from tests.e2e.conftest import text_mail
from tests.e2e.harness import wait_for
from tests.smtp.conftest import LOCAL, OUT, SELECTOR, UNKNOWN

DELAY = 3  # pmgfast.greylist_delay in the fixture


def retry_until_accepted(gw, raw, sender, rcpt, client_ip, attempts=5):
    replies = []
    for _ in range(attempts):
        sent = gw.send(raw, sender, [rcpt], client_ip=client_ip)
        replies.append(sent)
        if sent.reply.code == 250:
            return replies
        time.sleep(DELAY + 0.5)
    raise AssertionError(f"never accepted: {replies}")


def test_first_attempt_is_greylisted_and_the_retry_after_the_delay_passes(gateway):
    gw = gateway
    gw.wait_settled()
    gw.sink.clear()
    raw = text_mail("greylist me")
    rcpt = f"grey@{LOCAL}"
    first = gw.send(raw, "Some.One+list@ext.example", [rcpt], client_ip="192.0.2.10")
    assert first.rcpt_replies == [(450, "4.7.1 Service is unavailable (try later)")], first
    again = gw.send(raw, "some.one@ext.example", [rcpt], client_ip="192.0.2.99")
    assert again.rcpt_replies[0][0] == 450  # same /24, same normalised sender, still waiting
    with psycopg.connect(gw.dsn) as conn:
        row = store.lookup(conn, Triple("192.0.2.0/24", "some.one@ext.example", rcpt))
    assert row is not None and row.passed == 0 and row.blocked >= 1
    time.sleep(DELAY + 0.5)
    second = gw.send(raw, "some.one@ext.example", [rcpt], client_ip="192.0.2.10")
    assert second.reply.code == 250, second
    gw.wait_settled()
    assert [m.recipients for m in gw.sink.for_recipient(rcpt)] == [(rcpt,)]
    # the triple is known now: the next mail passes at once, from a neighbour address too
    third = gw.send(text_mail("known"), "some.one@ext.example", [rcpt], client_ip="192.0.2.77")
    assert third.reply.code == 250, third
    assert "Service is unavailable (try later)" in gw.postfix.log()


def test_a_whitelisted_sender_is_not_greylisted(gateway):
    gw = gateway
    before = gw.postfix.reloads()
    gw.pmgfast("greylist", "whitelist", "add", "email", "friend@friend.example")
    gw.pmgfast("greylist", "whitelist", "add", "network", "203.0.113.0/24")
    gw.pool.reload()  # the workers compile the rule set (with the whitelist) again
    out = gw.sync()
    assert "senderaccess: changed (reload postfix)" in out, out
    assert "postscreen_access: changed (reload postfix)" in out, out
    wait_for(lambda: gw.postfix.reloads() == before + 1, 20, "Postfix to reload")
    sender_table = (gw.postfix.etc / "pmgfast" / "senderaccess").read_text()
    assert "/^friend@friend\\.example$/ OK" in sender_table
    assert "203.0.113.0/24 permit" in (gw.postfix.etc / "pmgfast" / "postscreen_access").read_text()

    listed = gw.send(text_mail("friend"), "friend@friend.example", [f"user@{LOCAL}"],
                     client_ip="192.0.2.30")  # fmt: skip
    assert listed.reply.code == 250, listed
    by_network = gw.send(text_mail("network"), "x@ext.example", [f"user@{LOCAL}"],
                         client_ip="203.0.113.9")  # fmt: skip
    assert by_network.reply.code == 250, by_network
    stranger = gw.send(text_mail("stranger"), "stranger@friend.example", [f"user@{LOCAL}"],
                       client_ip="192.0.2.30")  # fmt: skip
    assert stranger.rcpt_replies[0][0] == 450, stranger


def test_mail_to_a_domain_that_is_not_relayed_is_refused(gateway):
    # Postfix's default smtpd_relay_restrictions (defer_unauth_destination) answers first, as
    # on PMG: 454; the milter never sees the recipient
    sent = gateway.send(text_mail("relay"), "a@ext.example", ["b@elsewhere.example"])
    code, text = sent.rcpt_replies[0]
    assert code == 454 and "Relay access denied" in text, sent
    assert sent.reply.code == 454


def _verified_answer(gw, rcpt: str, timeout: float = 60.0) -> tuple[int, str]:
    """The RCPT reply once Postfix's address verification of ``rcpt`` has finished."""
    deadline = time.monotonic() + timeout
    while True:
        sent = gw.send(text_mail("verify"), "v@ext.example", [rcpt], client_ip="192.0.2.40")
        reply = sent.rcpt_replies[0]
        if "verification in progress" not in reply[1]:
            return reply
        if time.monotonic() > deadline:
            raise AssertionError(f"address verification of {rcpt} never finished: {reply}")
        time.sleep(0.5)


def test_an_unverified_recipient_gets_the_configured_code(gateway):
    gw = gateway
    try:
        for code in ("550", "450"):
            gw.set("mail", "verifyreceivers", code)
            reloads = gw.postfix.reloads()
            assert "main.cf: changed (reload postfix)" in gw.sync()
            wait_for(lambda r=reloads: gw.postfix.reloads() > r, 20, "Postfix to reload")
            got, text = _verified_answer(gw, f"nobody@{UNKNOWN}")
            assert got == int(code), (code, text)
            assert "Recipient address rejected" in text and "said: 500" in text, text
    finally:
        gw.set("mail", "verifyreceivers", None)
        gw.sync()


def test_plaintext_mail_from_a_tls_inbound_domain_is_rejected(gateway):
    gw = gateway
    plain = gw.send(text_mail("tls"), "boss@secure.example", [f"user@{LOCAL}"])
    code, text = (
        plain.rcpt_replies[0] if plain.rcpt_replies else (plain.reply.code, plain.reply.text)
    )
    assert code == 450 and "Session encryption is required" in text, plain
    secure = gw.send(text_mail("tls"), "boss@secure.example", [f"user@{LOCAL}"], starttls=True)
    assert "Session encryption is required" not in str(secure), secure  # greylisted, not refused
    other = gw.send(text_mail("tls"), "someone@friend.example", [f"other@{LOCAL}"])
    assert "Session encryption is required" not in str(other)


def test_spf_fail_is_refused_at_rcpt_and_counted(gateway):
    gw = gateway
    sent = gw.send(text_mail("spf"), "liar@liar.example", [f"user@{LOCAL}"], client_ip="192.0.2.66")
    code, text = sent.rcpt_replies[0]
    assert code == 554 and text.startswith("5.7.1"), sent
    with psycopg.connect(gw.dsn) as conn:
        row = store.lookup(conn, Triple("192.0.2.0/24", "liar@liar.example", f"user@{LOCAL}"))
    assert row is not None and row.blocked == 100000


def _dns_txt(gw, name: str, timeout: int = 5) -> bytes | None:
    host, port = gw.dns.address.rsplit(":", 1)
    query = dns.message.make_query(name.decode() if isinstance(name, bytes) else name, "TXT")
    answer = dns.query.udp(query, host, port=int(port), timeout=timeout)
    for rrset in answer.answer:
        if rrset.rdtype == dns.rdatatype.TXT:
            return b"".join(b"".join(r.strings) for r in rrset)
    return None


def test_outgoing_mail_arrives_dkim_signed_and_verifies(gateway):
    gw = gateway
    gw.wait_settled()
    gw.sink.clear()
    raw = text_mail("signed")
    raw = raw.replace(b"From: sender@ext.example", f"From: Me <me@{OUT}>".encode())
    sent = gw.send(raw, f"me@{OUT}", ["friend@remote.example"], client_ip=None,
                   port=gw.ports.int)  # fmt: skip
    assert sent.reply.code == 250, sent
    gw.wait_settled()
    [mail] = gw.sink.for_recipient("friend@remote.example")
    signature = mail.header("DKIM-Signature")
    assert len(signature) == 1 and f"d={OUT};" in signature[0] and f"s={SELECTOR};" in signature[0]
    assert "a=rsa-sha256" in signature[0] and "c=relaxed/relaxed" in signature[0]
    # the key in DNS is the record 'pmgfast dkim genkey' printed (served by the test unbound)
    assert dkim.verify(mail.raw, dnsfunc=lambda name, timeout=5: _dns_txt(gw, name, timeout))
    # incoming mail is not signed
    gw.sink.clear()
    sent = gw.send(text_mail("incoming"), "friend@friend.example", [f"user@{LOCAL}"],
                   client_ip="192.0.2.30")  # fmt: skip
    assert sent.reply.code == 250, sent
    gw.wait_settled()
    assert not gw.sink.messages()[0].header("DKIM-Signature")


def test_sync_reloads_postfix_only_when_a_rendered_file_changed(gateway):
    gw = gateway
    before = gw.postfix.reloads()
    if "reload postfix" in gw.sync():  # an earlier test left a change behind: let it land
        wait_for(lambda: gw.postfix.reloads() > before, 20, "Postfix to reload")
    reloads = gw.postfix.reloads()
    out = gw.sync()
    assert out and all(line.endswith(": unchanged") for line in out.splitlines()), out
    time.sleep(2)
    assert gw.postfix.reloads() == reloads
    gw.set("mail", "banner", "ESMTP pmgfast test")
    try:
        assert "main.cf: changed (reload postfix)" in gw.sync()
        wait_for(lambda: gw.postfix.reloads() == reloads + 1, 20, "Postfix to reload")
        banner = _banner(gw)
        assert banner.endswith("ESMTP pmgfast test"), banner
    finally:
        gw.set("mail", "banner", None)
        gw.sync()


def _banner(gw) -> str:
    import socket

    with socket.create_connection(("127.0.0.1", gw.ports.int), timeout=10) as sock:
        return sock.recv(512).decode().strip()
