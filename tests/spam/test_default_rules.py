"""Every test of the default rule file hits a mail made for it and misses a near-miss ham.

The table below has one case per test; ``test_every_default_rule_has_a_case`` fails when a
rule is added without one. Mails come from :mod:`tests.spam.mails` (generated, no corpus
copies). The rules run through the compiled rule set with every test active, natively and (in
the ``PMGFAST_NO_EXTENSIONS=1`` run) on the pure pattern sets.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import pytest

from pmgfast.spam.engine import SpamEngine, SpamSettings
from pmgfast.spam.view import Envelope, MailView
from tests.spam.mails import (
    ARRIVAL,
    PDF,
    PLAIN,
    PNG,
    alternative,
    html_doc,
    html_only,
    mail,
    raw_header_mail,
    text_of,
    with_attachment,
)

ENGINE = SpamEngine(settings=SpamSettings(use_bayes=True), run_all=True)
RULES = ENGINE.rules


@dataclass(frozen=True)
class Case:
    name: str
    hit: bytes
    miss: bytes
    hit_kw: dict[str, Any] = field(default_factory=dict)
    miss_kw: dict[str, Any] = field(default_factory=dict)


def body(text: str) -> bytes:
    return mail(body=PLAIN + "\n" + text + "\n")


def subj(subject: str) -> bytes:
    return mail(headers={"Subject": subject})


def date(value: str) -> bytes:
    return mail(headers={"Date": value})


BASE = mail()


def forged_mua(name: str, mailer: str, genuine_id: str) -> Case:
    """The mail program's X-Mailer with the base mail's Message-ID (another generator's shape)
    hits; the same X-Mailer with a Message-ID of the program's own shape does not."""
    return Case(
        name,
        mail(headers={"X-Mailer": mailer}),
        mail(headers={"X-Mailer": mailer, "Message-ID": genuine_id}),
    )


HTML_PLAIN = alternative(PLAIN, html_doc("<p>" + PLAIN + "</p>"))
ADDRESSES = ", ".join(f"user{i}@example.net" for i in range(12))
DSN = (
    "--r1\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host mx.example.net.\r\n"
    "I'm sorry to have to inform you that your message could not be delivered.\r\n"
    "--r1\r\nContent-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mx.example.net\r\n\r\n"
    "Final-Recipient: rfc822; nobody@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    "--r1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    "Received: from relay.example.com (relay.example.com [198.51.100.7])\r\n"
    "From: someone@example.com\r\nSubject: hello\r\n--r1--\r\n"
)
BOUNCE = mail(
    headers={
        "From": "MAILER-DAEMON@mx.example.net (Mail Delivery System)",
        "Subject": "Undelivered Mail Returned to Sender",
        "X-Mailer": None,
    },
    body=DSN,
    ctype='multipart/report; report-type=delivery-status; boundary="r1"',
)
GERMAN = (
    "Sehr geehrte Damen und Herren, wir freuen uns, Ihnen mitteilen zu können, dass die "
    "Lieferung morgen bei Ihnen eintrifft. Bitte bestätigen Sie den Empfang der Ware und "
    "melden Sie sich bei Fragen jederzeit bei unserem Kundendienst in der Stadt."
)
OBFUSCATED = "".join(f"&#{ord(c)};" for c in "Buy cheap watches here today")

CASES = [
    # Bayes bands (the probability is what the engine sets from the combiner)
    Case("BAYES_00", BASE, BASE, {"bayes": 0.001}, {"bayes": 0.5}),
    Case("BAYES_000", BASE, BASE, {"bayes": 0.0005}, {"bayes": 0.001}),
    Case("BAYES_05", BASE, BASE, {"bayes": 0.03}, {"bayes": 0.001}),
    Case("BAYES_20", BASE, BASE, {"bayes": 0.1}, {"bayes": 0.3}),
    Case("BAYES_50", BASE, BASE, {"bayes": 0.5}, {"bayes": 0.9}),
    Case("BAYES_80", BASE, BASE, {"bayes": 0.85}, {"bayes": 0.5}),
    Case("BAYES_95", BASE, BASE, {"bayes": 0.97}, {"bayes": 0.9}),
    Case("BAYES_99", BASE, BASE, {"bayes": 0.995}, {"bayes": 0.97}),
    Case("BAYES_999", BASE, BASE, {"bayes": 0.9995}, {"bayes": 0.995}),
    Case("BAYES_9999", BASE, BASE, {"bayes": 0.99995}, {"bayes": 0.9995}),
    # the header view: each test reads its own view, not the text's
    Case("BAYES_HDR_00", BASE, BASE, {"bayes_header": 0.001}, {"bayes": 0.001}),
    Case("BAYES_HDR_000", BASE, BASE, {"bayes_header": 0.0005}, {"bayes_header": 0.001}),
    Case("BAYES_HDR_05", BASE, BASE, {"bayes_header": 0.03}, {"bayes": 0.03}),
    Case("BAYES_HDR_20", BASE, BASE, {"bayes_header": 0.1}, {"bayes_header": 0.3}),
    Case("BAYES_HDR_50", BASE, BASE, {"bayes": 0.9, "bayes_header": 0.5}, {"bayes_header": 0.9}),
    Case("BAYES_HDR_80", BASE, BASE, {"bayes_header": 0.85}, {"bayes": 0.85}),
    Case("BAYES_HDR_95", BASE, BASE, {"bayes_header": 0.97}, {"bayes_header": 0.9}),
    Case("BAYES_HDR_99", BASE, BASE, {"bayes_header": 0.995}, {"bayes": 0.995}),
    Case("BAYES_HDR_999", BASE, BASE, {"bayes_header": 0.9995}, {"bayes_header": 0.995}),
    Case("BAYES_HDR_9999", BASE, BASE, {"bayes_header": 0.99995}, {"bayes_header": 0.9995}),
    # missing and forged headers
    Case("MISSING_DATE", mail(headers={"Date": None}), BASE),
    Case("MISSING_MID", mail(headers={"Message-ID": None}), BASE),
    Case("MISSING_FROM", mail(headers={"From": None}), BASE),
    Case("MISSING_SUBJECT", mail(headers={"Subject": None}), BASE),
    Case(
        "MISSING_HEADERS",
        mail(headers={"To": None}),
        mail(headers={"To": None, "Cc": "bob@example.net"}),
    ),
    Case("INVALID_MSGID", mail(headers={"Message-ID": "<20250610.1234>"}), BASE),
    Case("FROM_NO_USER", mail(headers={"From": "alice"}), BASE),
    Case(
        "FROM_LOCAL_HEX",
        mail(headers={"From": "a3f9c0d2e4b6a8c1@example.org"}),
        mail(headers={"From": "alice.2025@example.org"}),
    ),
    Case(
        "FROM_EXCESS_BASE64",
        mail(headers={"From": "=?utf-8?B?QWxpY2UgRXhhbXBsZQ==?= <alice@example.org>"}),
        mail(headers={"From": "=?utf-8?B?SsO8cmdlbg==?= <juergen@example.org>"}),
    ),
    Case(
        "SUBJ_EXCESS_BASE64",
        subj("=?utf-8?B?TWludXRlcyBvZiB0aGUgbWVldGluZw==?="),
        subj("=?utf-8?B?R3LDvMOfZQ==?="),
    ),
    Case(
        "FROM_NAME_OTHER_ADDR",
        mail(headers={"From": '"service@bank.example" <alice@example.org>'}),
        mail(headers={"From": '"alice@example.org" <alice@example.org>'}),
    ),
    Case("MULTIPLE_FROM", mail(add=[("From", "mallory@example.com")]), BASE),
    Case("MULTIPLE_CTYPE", mail(add=[("Content-Type", "text/html")]), BASE),
    Case(
        "FAKE_REPLY",
        subj("Re: your invoice"),
        mail(headers={"Subject": "Re: your invoice", "In-Reply-To": "<1@example.net>"}),
    ),
    Case(
        "REPLYTO_FREEMAIL_DIFF",
        mail(add=[("Reply-To", "alice.private@gmail.com")]),
        mail(add=[("Reply-To", "team@example.org")]),
    ),
    Case("XMAILER_BULK", mail(headers={"X-Mailer": "Bulk Mailer Pro 3.2"}), BASE),
    Case(
        "XPRIO_HIGH_NO_MUA",
        mail(
            headers={"X-Mailer": None},
            add=[("X-Priority", "1 (Highest)"), ("X-MSMail-Priority", "High")],
        ),
        mail(add=[("X-Priority", "1 (Highest)"), ("X-MSMail-Priority", "High")]),
    ),
    Case("TO_UNDISCLOSED", mail(headers={"To": "undisclosed-recipients:;"}), BASE),
    Case(
        "MANY_RECIPIENTS",
        mail(headers={"To": ADDRESSES}),
        mail(headers={"To": "a@example.net, b@example.net, c@example.net"}),
    ),
    Case("TO_EQ_FROM", mail(headers={"To": "alice@example.org"}), BASE),
    Case(
        "RCVD_BAD_DATE",
        mail(headers={"Received": "from x (x [192.0.2.1]) by y; Jun, 10 2025 9:16:46 AM +0600"}),
        BASE,
    ),
    # dates
    Case(
        "BAYES_TEXT_OVER_HDR",
        BASE,
        BASE,
        {"bayes": 0.9995, "bayes_header": 0.005},
        {"bayes": 0.995, "bayes_header": 0.005},
    ),
    forged_mua(
        "FORGED_MUA_OUTLOOK",
        "Microsoft Outlook Express 6.00.2600.0000",
        "<000801c2a1b2$3c4d5e60$0a00a8c0@workstation>",
    ),
    forged_mua(
        "FORGED_MUA_IMS",
        "Internet Mail Service (5.5.2653.19)",
        "<F1C2D3E4A5B6C7D8E9F0A1B2C3D4E5F6A7B8@exchange.example.org>",
    ),
    forged_mua(
        "FORGED_MUA_OIMO",
        "Microsoft Outlook IMO, Build 9.0.2416 (9.0.2911.0)",
        "<ABCDEFGHIJKLMNOPABCDEFGHIJKL.alice@example.org>",
    ),
    Case(
        "RDNS_NONE",
        BASE,
        BASE,
        {"envelope": Envelope(client_ip="198.51.100.7", client_name="unknown")},
        {"envelope": Envelope(client_ip="198.51.100.7", client_name="mail.example.org")},
    ),
    Case(
        "FORGED_FREEMAIL_RCVD",
        mail(headers={"From": "Alice <alice.example@yahoo.com>"}),
        mail(
            headers={
                "From": "Alice <alice.example@yahoo.com>",
                "Received": "from sonic301-2.consmr.mail.ne1.yahoo.com "
                "(sonic301-2.consmr.mail.ne1.yahoo.com [198.51.100.20]) by mx.example.net "
                "(Postfix) with ESMTPS id 4AB12; Tue, 10 Jun 2025 10:00:00 +0000",
            }
        ),
    ),
    Case("INVALID_DATE", date("sometime yesterday"), BASE),
    Case("INVALID_DATE_TZ_ABSURD", date("Tue, 10 Jun 2025 09:58:00 +2300"), BASE),
    Case("DATE_IN_FUTURE_03_06", date("Tue, 10 Jun 2025 14:00:00 +0000"), BASE),
    Case(
        "DATE_IN_FUTURE_06_12",
        date("Tue, 10 Jun 2025 18:00:00 +0000"),
        date("Tue, 10 Jun 2025 14:00:00 +0000"),
    ),
    Case("DATE_IN_FUTURE_12_24", date("Wed, 11 Jun 2025 02:00:00 +0000"), BASE),
    Case("DATE_IN_FUTURE_24_XX", date("Sat, 14 Jun 2025 10:00:00 +0000"), BASE),
    Case("DATE_IN_PAST_06_12", date("Tue, 10 Jun 2025 02:00:00 +0000"), BASE),
    Case("DATE_IN_PAST_12_24", date("Mon, 09 Jun 2025 20:00:00 +0000"), BASE),
    Case("DATE_IN_PAST_24_96", date("Sun, 08 Jun 2025 10:00:00 +0000"), BASE),
    Case("DATE_IN_PAST_96_XX", date("Mon, 02 Jun 2025 10:00:00 +0000"), BASE),
    Case("DATE_STALE_30D", BASE, BASE, {"now": ARRIVAL + 40 * 86400}, {"now": ARRIVAL + 3600}),
    # HTML and images
    Case("HTML_MESSAGE", HTML_PLAIN, BASE),
    Case("MIME_HTML_ONLY", html_only(html_doc("<p>" + PLAIN + "</p>")), HTML_PLAIN),
    Case(
        "HTML_IMAGE_ONLY_04",
        html_only(html_doc('<img src="cid:1"><p>' + text_of(100) + "</p>")),
        html_only(html_doc('<img src="cid:1"><p>' + text_of(2000) + "</p>")),
    ),
    Case(
        "HTML_IMAGE_ONLY_08",
        html_only(html_doc('<img src="cid:1"><p>' + text_of(600) + "</p>")),
        html_only(html_doc('<img src="cid:1"><p>' + text_of(2000) + "</p>")),
    ),
    Case(
        "HTML_IMAGE_ONLY_16",
        html_only(html_doc('<img src="cid:1"><p>' + text_of(1200) + "</p>")),
        html_only(html_doc('<img src="cid:1"><p>' + text_of(2000) + "</p>")),
    ),
    Case(
        "IMAGE_ONLY_MAIL",
        with_attachment(None, "image/png", PNG, "photo.png"),
        with_attachment(PLAIN, "image/png", PNG, "photo.png"),
    ),
    Case(
        "HTML_IFRAME",
        html_only(html_doc('<iframe src="http://example.com/x"></iframe>' + PLAIN)),
        html_only(html_doc(PLAIN)),
    ),
    Case(
        "HTML_SCRIPT",
        html_only(html_doc("<script>var a = 1;</script>" + PLAIN)),
        html_only(html_doc(PLAIN)),
    ),
    Case(
        "HTML_FORM",
        html_only(html_doc('<form action="http://example.com/login">' + PLAIN + "</form>")),
        html_only(html_doc("<form>" + PLAIN + "</form>")),
    ),
    Case(
        "HTML_OBFUSCATE_30",
        html_only(html_doc("<p>" + OBFUSCATED + "</p>")),
        html_only(html_doc("<p>" + PLAIN + " Price: 10&#8364;</p>")),
    ),
    Case(
        "HTML_FONT_TINY",
        html_only(html_doc('<font size="1">' + PLAIN + "</font>")),
        html_only(html_doc('<font size="3">' + PLAIN + "</font>")),
    ),
    Case(
        "HTML_COMMENT_IN_WORD",
        html_only(html_doc("<p>cheap wat<!-- x -->ches</p>" + PLAIN)),
        html_only(html_doc("<!-- header -->\n<p>" + PLAIN + "</p>")),
    ),
    Case(
        "HTML_LINK_CLICK_HERE",
        html_only(html_doc('<a href="http://example.com/">click here</a>' + PLAIN)),
        html_only(html_doc('<a href="http://example.com/">the agenda</a>' + PLAIN)),
    ),
    # links
    Case(
        "URI_NUMERIC_IP",
        body("Log in at http://192.0.2.55/login today."),
        body("Log in at http://www.example.org/login today."),
    ),
    Case(
        "URI_DECIMAL_IP",
        body("See http://3221225985/offer now."),
        body("See http://example.org/3221225985 now."),
    ),
    Case(
        "URI_HOST_ESCAPED",
        body("See http://%65xample.com/page now."),
        body("See http://example.com/a%20b now."),
    ),
    Case(
        "URI_USERINFO_HOST",
        body("See http://www.bank.example@evil.example/ now."),
        body("See http://example.org/page?from=a@b.example now."),
    ),
    Case(
        "URI_SHORTENER",
        body("See https://bit.ly/3abcDEF now."),
        body("See https://www.example.org/bit.ly/ now."),
    ),
    Case(
        "URI_ODD_PORT",
        body("See http://example.com:8888/x now."),
        body("See http://example.com:8080/x now."),
    ),
    Case(
        "URI_EXECUTABLE",
        body("Get http://example.com/files/update.exe now."),
        body("Get http://example.com/files/update.exe.html now."),
    ),
    Case(
        "URI_DATA_LINK",
        html_only(html_doc('<a href="data:text/html;base64,PGI+">open</a>' + PLAIN)),
        html_only(html_doc('<a href="http://example.com/">open</a>' + PLAIN)),
    ),
    Case(
        "URI_JAVASCRIPT_LINK",
        html_only(html_doc('<a href="javascript:go()">open</a>' + PLAIN)),
        html_only(html_doc('<a href="http://example.com/">open</a>' + PLAIN)),
    ),
    Case(
        "CONTENT_AFTER_HTML",
        html_only(html_doc(PLAIN) + "\nquartz bicycle lantern meadow"),
        html_only(html_doc(PLAIN) + "\n<!-- end -->\n"),
    ),
    Case(
        "URI_TEXT_MISMATCH",
        html_only(html_doc('<a href="http://evil.example.net/">www.mybank.com</a>' + PLAIN)),
        html_only(html_doc('<a href="https://login.mybank.com/">www.mybank.com</a>' + PLAIN)),
    ),
    Case(
        "SHORT_BODY_WITH_URI",
        mail(body="see http://example.com/x\n"),
        body("Details at http://example.com/x"),
    ),
    # charsets and encodings
    Case(
        "MIME_BASE64_TEXT",
        mail(body=base64.b64encode(PLAIN.encode()).decode(), cte="base64"),
        mail(
            body=base64.b64encode("Grüße aus Köln, bis Donnerstag.".encode()).decode(), cte="base64"
        ),
    ),
    Case("MIME_CHARSET_UNKNOWN", mail(ctype="text/plain; charset=x-no-such-charset-42"), BASE),
    Case(
        "MIME_CHARSET_BROKEN", mail(body=PLAIN.encode() + b"caf\xe9 \xff\xfe\n", cte="8bit"), BASE
    ),
    Case(
        "MIME_BOUNDARY_BROKEN",
        mail(body="no boundary here\r\n" + PLAIN, ctype='multipart/mixed; boundary="zz"'),
        with_attachment(PLAIN, "application/pdf", PDF, "a.pdf"),
    ),
    Case(
        "MIME_BAD_BASE64",
        mail(body="SGVsbG8gd29ybGQgZnJvbSBBbGljZQ\r\n", cte="base64"),
        mail(body=base64.b64encode("Grüße".encode()).decode(), cte="base64"),
    ),
    Case(
        "MIME_QP_LONG_LINE",
        mail(body="a" * 120 + "\r\n", cte="quoted-printable"),
        mail(body="a" * 70 + "=\r\n" + "b" * 50 + "\r\n", cte="quoted-printable"),
    ),
    Case(
        "SUBJECT_NEEDS_ENCODING",
        raw_header_mail("Subject: Grüße".encode(), drop=["Subject"]),
        subj("=?utf-8?Q?Gr=C3=BC=C3=9Fe?="),
    ),
    Case(
        "FROM_NEEDS_ENCODING",
        raw_header_mail("From: Jürgen <j@example.org>".encode(), drop=["From"]),
        mail(headers={"From": "=?utf-8?Q?J=C3=BCrgen?= <j@example.org>"}),
    ),
    Case(
        "MIXED_SCRIPT_WORDS",
        body("Confirm your P\u0430ypal \u0430ccount and p\u0430ssword."),
        body("Привет, как дела? All good here, thanks."),
    ),
    Case(
        "ZERO_WIDTH_IN_WORDS",
        body("Che\u200bap wat\u200bches on sa\u200ble."),
        body("Cheap watches on sale.\u200b"),
    ),
    Case(
        "MIME_NO_TEXT",
        with_attachment(None, "application/pdf", PDF, "invoice.pdf"),
        with_attachment(PLAIN, "application/pdf", PDF, "invoice.pdf"),
    ),
    Case("EMPTY_MESSAGE", mail(body=""), BASE),
    # subject
    Case(
        "SUBJ_ALL_CAPS", subj("URGENT BUSINESS PROPOSAL"), subj("Meeting with NASA and ESA staff")
    ),
    Case("SUBJ_EXCLAIM_MANY", subj("Amazing offer!!"), subj("Thanks!")),
    Case("SUBJ_MONEY", subj("Get $500 today"), subj("Budget review")),
    Case("SUBJ_FREE", subj("Free tickets inside"), subj("Freedom of speech panel")),
    Case("SUBJ_PERCENT_OFF", subj("50% off everything"), subj("Sales up 50% this quarter")),
    Case("SUBJ_TRAILING_ID", subj("Your results       8472ab"), subj("Your results")),
    Case("SUBJ_OBFU_PUNCT", subj("V.i.a.g.r.a cheap"), subj("e.g. the U.S. plan")),
    # phrases
    Case(
        "GUARANTEED_100_PCT",
        body("Results are 100% guaranteed."),
        body("We are 100% sure the tests pass."),
    ),
    Case(
        "PHRASE_RISK_FREE",
        body("Try it risk-free for a month."),
        body("Please read the risk assessment."),
    ),
    Case(
        "PHRASE_ACT_NOW", body("Act now before it is gone."), body("We need to act soon on this.")
    ),
    Case(
        "PHRASE_LIMITED_TIME",
        body("This is a limited time offer."),
        body("For a limited time the office is closed."),
    ),
    Case("PHRASE_NOT_SPAM", body("This is not spam."), body("This is not a drill.")),
    Case(
        "PHRASE_REMOVE_ME",
        body("To be removed from our list, reply."),
        body("The removed files are listed."),
    ),
    Case(
        "PHRASE_SELECTED",
        body("You have been selected for a reward."),
        body("You have selected the files."),
    ),
    Case(
        "LOTTERY_WIN",
        body("You have won the lottery jackpot."),
        body("You have won the chess match."),
    ),
    Case(
        "ADVANCE_FEE",
        body(
            "I need your help to transfer the sum of 25 million US dollars. My late father left "
            "this fund; treat this in strict confidence."
        ),
        body("Our app passed a total of 2 million users, worth many dollars to us."),
    ),
    Case(
        "MILLIONS_OF_MONEY",
        body("It is worth 5 million US dollars."),
        body("It has 5 million users."),
    ),
    Case(
        "MONEY_MAKING",
        body("You can earn $5,000 per week."),
        body("You can earn interest on savings."),
    ),
    Case(
        "WORK_FROM_HOME", body("Work from home and relax."), body("Work from the office on Monday.")
    ),
    Case("PHARMA_NAMES", body("Cheap viagra here."), body("Cheap vitamins here.")),
    Case(
        "ONLINE_PHARMACY", body("No prescription needed."), body("My prescription glasses broke.")
    ),
    Case("WEIGHT_LOSS", body("Lose 20 pounds in a month."), body("Do not lose the keys.")),
    Case("CREDIT_DEBT", body("Bad credit? We help."), body("Your credit card statement is ready.")),
    Case(
        "MORTGAGE_OFFER",
        body("Refinance now at the lowest rates."),
        body("The mortgage paperwork is signed."),
    ),
    Case("CASINO_OFFER", body("Play at our online casino."), body("We watched Casino Royale.")),
    Case("FREE_OFFER", body("Claim your free gift."), body("I have some free time.")),
    Case(
        "ACCOUNT_VERIFY",
        body("Please verify your account information."),
        body("Please verify the build."),
    ),
    Case(
        "ACCOUNT_SUSPENDED",
        body("Your account has been suspended."),
        body("Your account has been created."),
    ),
    Case("URGENT_REPLY", body("Urgent response required."), body("Urgent fix merged.")),
    Case("DEAR_FRIEND", mail(body="Dear Friend,\n\n" + PLAIN), mail(body="Dear Bob,\n\n" + PLAIN)),
    Case(
        "DEAR_SOMETHING",
        mail(body="Dear Sir or Madam,\n\n" + PLAIN),
        mail(body="Dear Bob,\n\n" + PLAIN),
    ),
    Case("OPT_IN_CLAIM", body("You opted in to receive this."), body("We opted for plan B.")),
    Case(
        "REPLY_REMOVE_SUBJECT",
        body("Reply with REMOVE in the subject line."),
        body("Reply with your comments."),
    ),
    Case(
        "BUSINESS_OPPORTUNITY",
        body("A home-based business opportunity."),
        body("Our business plan is ready."),
    ),
    Case("CASH_BONUS", body("Get a cash bonus."), body("The cash register is broken.")),
    Case("TOLL_FREE_NUMBER", body("Call 1-800-555-1234."), body("Call 555-1234.")),
    Case("GUARANTEE", body("Satisfaction guaranteed."), BASE),
    Case("DOLLAR_AMOUNTS", body("Only $10, $20 or $30."), body("Only $10.")),
    Case("ADULT_CONTENT", body("Hardcore videos inside."), BASE),
    Case(
        "HTML_NO_MUA", alternative(PLAIN, html_doc(PLAIN), headers={"X-Mailer": None}), HTML_PLAIN
    ),
    Case("BODY_SHOUTING", body(" ".join(["AMAZING DEAL TODAY"] * 10)), BASE),
    Case("EXCESS_EXCLAIM", body("Wow!!!"), body("Wow!")),
    Case("CLICK_BELOW", body("Click here to start."), body("The click of a button.")),
    # bounces and languages
    Case("ANY_BOUNCE_MESSAGE", BOUNCE, BASE, {"envelope": Envelope(sender="")}),
    Case(
        "UNWANTED_LANGUAGE_BODY",
        mail(body=GERMAN),
        BASE,
        {"languages": ("en",)},
        {"languages": ("en",)},
    ),
]


def results(
    raw: bytes,
    bayes: float | None = None,
    bayes_header: float = 0.5,
    now: float = ARRIVAL + 60,
    envelope: Envelope = Envelope(),  # noqa: B008
    languages=(),
    relays=(),
) -> dict[str, float]:
    view = MailView(raw, envelope=envelope, now=now, languages=languages, bounce_relays=relays)
    if bayes is not None:
        view.bayes_probability = bayes
        view.bayes_views = {"text": bayes, "header": bayes_header}
    elif bayes_header is not None:
        view.bayes_views = {"header": bayes_header}
    return RULES.run(view)


def test_every_default_rule_has_a_case():
    shown = {name for name in RULES.rules if not name.startswith("__")}
    assert shown == {c.name for c in CASES}
    assert len(shown) >= 60
    assert not RULES.errors


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_rule_hits_its_mail_and_not_the_ham(case: Case):
    assert results(case.hit, **case.hit_kw)[case.name] == 1.0, "does not hit its test mail"
    assert results(case.miss, **case.miss_kw)[case.name] == 0.0, "hits the near-miss ham"


def test_the_base_ham_hits_nothing_that_scores():
    hit = {n for n, v in results(mail()).items() if v and RULES.rules[n].score}
    assert hit == set()


def test_a_bounce_of_our_own_mail_is_welcome():
    """wl_bounce_relays: a bounce returning mail that left through our relay is not scored."""
    envelope = Envelope(sender="")
    assert (
        results(BOUNCE, envelope=envelope, relays=("relay.example.com",))["ANY_BOUNCE_MESSAGE"] == 0
    )
    assert (
        results(BOUNCE, envelope=envelope, relays=("other.example.org",))["ANY_BOUNCE_MESSAGE"] == 1
    )
