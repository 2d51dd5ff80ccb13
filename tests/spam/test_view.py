"""What the content tests read of a message's headers (:class:`pmgfast.spam.view.MailView`)."""

from __future__ import annotations

from pmgfast.spam.view import MailView
from tests.spam.mails import raw_header_mail

KOREAN = "[광고] 요즘 뜨는 직종"


def view_with(extra: bytes, charset: str) -> MailView:
    raw = raw_header_mail(extra, drop=("Subject",))
    return MailView(raw.replace(b"charset=utf-8", f"charset={charset}".encode()))


def test_raw_8bit_header_is_read_in_the_charset_of_the_text():
    view = view_with(b"Subject: " + KOREAN.encode("euc-kr"), "euc-kr")
    assert view.subject == KOREAN
    assert view.header("Subject") == KOREAN


def test_raw_utf8_header_is_utf8_whatever_the_text_says():
    view = view_with(b"Subject: " + "Grüße aus Köln".encode(), "iso-8859-1")
    assert view.subject == "Grüße aus Köln"


def test_raw_8bit_header_without_a_better_reading_stays_latin1():
    view = view_with(b"Subject: caf\xe9 cr\xe8me", "us-ascii")
    assert view.subject == "caf\xe9 cr\xe8me"
    # bytes that are not valid in the text's charset either: left as the walk read them
    view = view_with(b"Subject: \xff\xfe\xff", "euc-kr")
    assert view.subject == "\xff\xfe\xff"


def test_encoded_words_are_not_read_again():
    view = view_with(b"Subject: =?iso-8859-1?q?caf=E9?= \xb1\xa4", "euc-kr")
    assert view.subject.startswith("café")
