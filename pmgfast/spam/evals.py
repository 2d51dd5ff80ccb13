"""Built-in tests a regex cannot express, called from rule files as ``eval:name(args)``.

Each function takes the :class:`~pmgfast.spam.view.MailView` and the literal arguments of the
rule line and returns whether the test hits. They read only the view (no I/O, no clock but
``view.now``), never raise on odd input (a missing header is simply "no hit"), and are
registered by name in :data:`EVALS`. The rule-file reader reports an unknown name as a lint
error. Thresholds are arguments, so a rule file tunes them without code.
"""

from __future__ import annotations

import email.utils
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from publicsuffixlist import PublicSuffixList

from pmgfast.netcheck.received import is_internal
from pmgfast.spam.view import MailView

__all__ = ["EVALS", "EvalFunction", "registered_domain"]

EvalFunction = Callable[..., bool]
EVALS: dict[str, EvalFunction] = {}

_PSL = PublicSuffixList()
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}\Z")
_HOSTLIKE = re.compile(r"(?:https?://)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?:[:/?#]|\Z)", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_ENTITY = re.compile(r"&#(?:x[0-9a-f]+|\d+);", re.IGNORECASE)
_BASE64_WORD = re.compile(r"=\?[^?]+\?b\?", re.IGNORECASE)
_DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_BOUNCE_FROM = re.compile(
    r"^(?:mailer-daemon|postmaster|mail delivery (?:system|subsystem))\b", re.I
)
_BOUNCE_SUBJECT = re.compile(
    r"\b(?:undeliver(?:able|ed)|delivery (?:status notification|failure|has failed)|"
    r"returned mail|failure notice|mail delivery failed)\b",
    re.IGNORECASE,
)


def register(name: str) -> Callable[[EvalFunction], EvalFunction]:
    def wrap(fn: EvalFunction) -> EvalFunction:
        EVALS[name] = fn
        return fn

    return wrap


@lru_cache(maxsize=4096)
def registered_domain(host: str) -> str:
    """The registered domain of a host name (``www.example.co.uk`` -> ``example.co.uk``)."""
    host = host.lower().strip(".")
    if _IPV4.match(host):
        return host
    return _PSL.privatesuffix(host) or host


def _host_of(uri: str) -> str | None:
    low = uri.strip().lower()
    i = low.find("://")
    if i < 0:
        if low.startswith("www."):
            rest = low
        else:
            return None
    else:
        rest = low[i + 3 :]
    end = len(rest)
    for sep in "/?#\\":
        j = rest.find(sep)
        if 0 <= j < end:
            end = j
    host = rest[:end].rpartition("@")[2].partition(":")[0].strip(".")
    return host or None


# --- headers -------------------------------------------------------------------------------


@register("check_for_missing_header")
def missing_header(view: MailView, name: str) -> bool:
    return not view.header_values(str(name))


@register("missing_recipients_headers")
def missing_recipients(view: MailView) -> bool:
    """No To, Cc or Bcc header at all."""
    return not any(view.header_values(h) for h in ("to", "cc", "bcc"))


@register("header_count")
def header_count(view: MailView, name: str, at_least: int) -> bool:
    """The header appears at least ``at_least`` times."""
    return len(view.header_values(str(name), raw=True)) >= int(at_least)


@register("excess_base64")
def excess_base64(view: MailView, name: str) -> bool:
    """The header is base64 encoded although its text is plain ASCII (hides from filters)."""
    raw = view.header_values(str(name), raw=True)
    decoded = view.header_values(str(name))
    if not raw or not decoded or not _BASE64_WORD.search(raw[0]):
        return False
    return decoded[0].isascii()


@register("needs_encoding")
def needs_encoding(view: MailView, name: str) -> bool:
    """The raw header holds 8-bit bytes instead of RFC 2047 encoded words."""
    return any(not v.isascii() for v in view.header_values(str(name), raw=True))


@register("from_name_has_other_address")
def from_name_other_address(view: MailView) -> bool:
    """The From display name shows an address whose domain is not the sender's."""
    name, addr = view.from_address
    if "@" not in name or "@" not in addr:
        return False
    real = registered_domain(addr.rpartition("@")[2])
    for shown in view.addresses_in(name):
        domain = shown.rpartition("@")[2].strip(".>").lower()
        if domain and registered_domain(domain) != real:
            return True
    return False


@register("reply_to_freemail_differs")
def reply_to_freemail_differs(view: MailView, *freemail: str) -> bool:
    """Reply-To is at a free mail provider and From is at another domain."""
    reply = view.header("Reply-To:addr") or ""
    _, addr = view.from_address
    if "@" not in reply or "@" not in addr:
        return False
    reply_domain = registered_domain(reply.split("\n")[0].rpartition("@")[2])
    from_domain = registered_domain(addr.rpartition("@")[2])
    providers = {f.lower() for f in freemail}
    return reply_domain in providers and reply_domain != from_domain


FREEMAIL_RELAYS = {
    "yahoo.com": ("yahoo.com", "yahoo.net", "yahoodns.net"),
    "aol.com": ("aol.com", "yahoo.com", "yahoodns.net"),
    "hotmail.com": ("hotmail.com", "outlook.com", "msn.com", "live.com"),
    "msn.com": ("hotmail.com", "outlook.com", "msn.com", "live.com"),
    "live.com": ("hotmail.com", "outlook.com", "msn.com", "live.com"),
    "outlook.com": ("hotmail.com", "outlook.com", "msn.com", "live.com"),
    "gmail.com": ("google.com", "gmail.com"),
    "googlemail.com": ("google.com", "gmail.com"),
}
"""Free mail providers whose mail always leaves through their own relays, and the domains those
relays' names end in: a message From one of them carries a Received header naming one."""


@register("forged_freemail_received")
def forged_freemail_received(view: MailView) -> bool:
    """From a free mail provider of :data:`FREEMAIL_RELAYS`, but no Received header names one
    of its relays: the address was written by someone else's software (SpamAssassin's
    FORGED_YAHOO_RCVD, FORGED_HOTMAIL_RCVD2, FORGED_GMAIL_RCVD)."""
    _, addr = view.from_address
    if "@" not in addr:
        return False
    relays = FREEMAIL_RELAYS.get(registered_domain(addr.rpartition("@")[2]))
    if not relays:
        return False
    received = view.header_values("received")
    if not received:
        return False
    return not any(relay in hop.lower() for hop in received for relay in relays)


@register("client_without_rdns")
def client_without_rdns(view: MailView) -> bool:
    """The SMTP client that handed us the message has no verified reverse DNS name (Postfix's
    ``unknown``; ``[ip]`` from other MTAs), and its address is not an internal one
    (:func:`pmgfast.netcheck.received.is_internal`: a site's own hosts often have no name).
    Not judged when the client is not known (offline scans, the accuracy evaluation)."""
    envelope = view.envelope
    name = envelope.client_name
    if name is None or not envelope.client_ip:
        return False
    if name and name.lower() != "unknown" and not name.startswith("["):
        return False
    return not is_internal(envelope.client_ip.strip("[]"))


@register("subject_all_caps")
def subject_all_caps(view: MailView, min_letters: int = 10) -> bool:
    """The Subject has at least ``min_letters`` letters and none of them is lower-case."""
    letters = [c for c in view.subject if c.isalpha()]
    if len(letters) < int(min_letters):
        return False
    return not any(c.islower() for c in letters) and any(c.isupper() for c in letters)


@register("fake_reply")
def fake_reply(view: MailView) -> bool:
    """A Subject starting ``Re:`` without In-Reply-To or References: a forged reply."""
    if not re.match(r"\s*re\s*:", view.subject, re.IGNORECASE):
        return False
    return not (view.header_values("in-reply-to") or view.header_values("references"))


@register("many_recipients")
def many_recipients(view: MailView, at_least: int) -> bool:
    """At least ``at_least`` addresses in To: and Cc: together."""
    values = view.header_values("to") + view.header_values("cc")
    return len([a for _, a in email.utils.getaddresses(values) if a]) >= int(at_least)


@register("to_equals_from")
def to_equals_from(view: MailView) -> bool:
    """The only To: address is the From: address."""
    _, sender = view.from_address
    to = [a for _, a in email.utils.getaddresses(view.header_values("to")) if a]
    return bool(sender) and len(to) == 1 and to[0].lower() == sender.lower()


@register("received_bad_date")
def received_bad_date(view: MailView) -> bool:
    """A Received header whose date (after the last ``;``) is not an RFC 5322 date."""
    for value in view.header_values("received"):
        _, sep, stamp = value.rpartition(";")
        if not sep:
            continue
        try:
            if email.utils.parsedate_tz(stamp.strip()) is None:
                return True
        except (TypeError, ValueError, IndexError, OverflowError):
            return True
    return False


@register("body_count")
def body_count(view: MailView, regex: str, at_least: int) -> bool:
    """The body matches ``regex`` (Python syntax) at least ``at_least`` times."""
    pattern = _compiled(str(regex))
    return any(n >= int(at_least) for n, _ in enumerate(pattern.finditer(view.body), start=1))


@lru_cache(maxsize=256)
def _compiled(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


# --- dates ---------------------------------------------------------------------------------


@register("date_vs_received")
def date_vs_received(view: MailView, lo_hours: float, hi_hours: float) -> bool:
    """Date header minus arrival time (the newest Received date, else the scan time) lies in
    [lo_hours, hi_hours) hours: positive is the future, negative the past."""
    date, _ = view.date
    if date is None:
        return False
    arrived = view.received_time if view.received_time is not None else view.now
    diff = (date - arrived) / 3600.0
    lo, hi = float(lo_hours), float(hi_hours)
    return lo <= diff < hi


@register("date_older_than_scan")
def date_older_than_scan(view: MailView, days: float) -> bool:
    """The Date header lies more than ``days`` days before the time of scanning."""
    date, _ = view.date
    return date is not None and view.now - date > float(days) * 86400


@register("invalid_date")
def invalid_date(view: MailView) -> bool:
    """A Date header that cannot be read as an RFC 5322 date."""
    return bool(view.header_values("date")) and view.date[0] is None


@register("absurd_timezone")
def absurd_timezone(view: MailView) -> bool:
    """A Date zone offset beyond +-14 hours or not on a quarter hour."""
    _, zone = view.date
    if zone is None:
        return False
    return abs(zone) > 14 * 3600 or zone % 900 != 0


# --- MIME and HTML -------------------------------------------------------------------------


@register("html_message")
def html_message(view: MailView) -> bool:
    return bool(view.html_parts)


@register("mime_html_only")
def mime_html_only(view: MailView) -> bool:
    """HTML text parts and no plain-text alternative."""
    return bool(view.html_parts) and not view.plain_parts


@register("html_image_only")
def html_image_only(view: MailView, lo_chars: int, hi_chars: int) -> bool:
    """Images, and between ``lo_chars`` and ``hi_chars`` characters of visible text."""
    if not view.image_count or not view.html_parts:
        return False
    n = len("".join(view.visible_text.split()))
    return int(lo_chars) <= n < int(hi_chars)


@register("image_only")
def image_only(view: MailView, max_chars: int) -> bool:
    """Image attachments and at most ``max_chars`` characters of text (no HTML needed)."""
    has_image = any(p.is_leaf and p.content_type.startswith("image/") for p in view.message.parts)
    return has_image and len("".join(view.visible_text.split())) <= int(max_chars)


@register("html_obfuscation")
def html_obfuscation(view: MailView, min_ratio: float, min_entities: int = 10) -> bool:
    """At least ``min_ratio`` of the HTML text characters written as numeric entities."""
    source = view.html_source
    if not source:
        return False
    entities = _ENTITY.findall(source)
    if len(entities) < int(min_entities):
        return False
    letters = sum(1 for c in view.visible_text if c.isalnum())
    return letters > 0 and len(entities) / letters >= float(min_ratio)


_HTML_END = re.compile(r"</html\s*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_WORD3 = re.compile(r"[^\W\d_]{3,}")


@register("content_after_html")
def content_after_html(view: MailView) -> bool:
    """Words after the last closing ``</html>`` of an HTML part: no mail program writes text
    there; ratware hides word salad for Bayesian filters there (tags are not counted)."""
    for part in view.html_parts:
        text = part.text or ""
        ends = list(_HTML_END.finditer(text))
        if ends and _WORD3.search(_TAG.sub(" ", text[ends[-1].end() :])):
            return True
    return False


@register("uri_text_mismatch")
def uri_text_mismatch(view: MailView) -> bool:
    """A link whose visible text is a web address at another registered domain."""
    for href, text in view.anchors:
        target = _host_of(href)
        if target is None:
            continue
        m = _HOSTLIKE.match(text.strip())
        if m is None:
            continue
        shown = m.group(1).lower()
        if registered_domain(shown) != registered_domain(target):
            return True
    return False


@register("mime_defect")
def mime_defect(view: MailView, *kinds: str) -> bool:
    """The MIME walk recorded one of these defects."""
    return any(k in view.defects for k in kinds)


@register("base64_text")
def base64_text(view: MailView) -> bool:
    """A text part sent base64-encoded although it is plain 7-bit text."""
    for part in view.text_parts:
        if part.transfer_encoding == "base64" and part.text and part.text.isascii():
            return True
    return False


@register("qp_long_line")
def qp_long_line(view: MailView, max_len: int = 76) -> bool:
    """A quoted-printable part with a line longer than the 76 characters QP allows."""
    limit = int(max_len)
    qp = [p for p in view.text_parts if p.transfer_encoding == "quoted-printable"]
    if not qp:
        return False
    if all(p.body_start >= 0 for p in qp):
        bodies = [view.raw[p.body_start : p.body_end] for p in qp]
    else:  # the pure walk has no offsets: the stdlib parser gives the encoded bodies
        import email
        import email.policy

        msg = email.message_from_bytes(view.raw, policy=email.policy.compat32)
        bodies = [
            str(part.get_payload()).encode("latin-1", "replace")
            for part in msg.walk()
            if not part.is_multipart()
            and str(part.get("Content-Transfer-Encoding", "")).strip().lower() == "quoted-printable"
        ]
    return any(len(line) > limit for body in bodies for line in body.splitlines())


@register("no_text_parts")
def no_text_parts(view: MailView) -> bool:
    """Attachments only: no text part that is not an attachment."""
    leaves = [p for p in view.message.parts if p.is_leaf]
    return bool(leaves) and not view.text_parts and any(p.decoded_size for p in leaves)


@register("empty_body")
def empty_body(view: MailView) -> bool:
    """No visible text and nothing attached."""
    if view.visible_text.strip():
        return False
    return not any(
        p.is_leaf and p.decoded_size and not p.content_type.startswith("text/")
        for p in view.message.parts
    )


# --- text ----------------------------------------------------------------------------------


@register("mixed_scripts")
def mixed_scripts(view: MailView, min_words: int = 2) -> bool:
    """Words that mix Latin and Cyrillic or Greek letters (look-alike obfuscation)."""
    count = 0
    for word in _WORD.findall(view.body[:MAX_SCAN]):
        if word.isascii() or len(word) < 3:
            continue
        scripts = set()
        for c in word:
            if c.isascii():
                scripts.add("L")
            else:
                name = unicodedata.name(c, "")
                if name.startswith("CYRILLIC"):
                    scripts.add("C")
                elif name.startswith("GREEK"):
                    scripts.add("G")
                elif name.startswith("LATIN"):
                    scripts.add("L")
        if "L" in scripts and len(scripts) > 1:
            count += 1
            if count >= int(min_words):
                return True
    return False


MAX_SCAN = 50_000


@register("zero_width_in_words")
def zero_width_in_words(view: MailView, min_count: int = 3) -> bool:
    """Zero-width or soft-hyphen characters inside words (breaks words for filters)."""
    text = view.visible_text[:MAX_SCAN] + "\n" + view.subject
    n = 0
    for m in _ZERO_WIDTH.finditer(text):
        i = m.start()
        if 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum():
            n += 1
            if n >= int(min_count):
                return True
    return False


@register("body_caps_ratio")
def body_caps_ratio(view: MailView, min_ratio: float, min_words: int = 20) -> bool:
    """At least ``min_ratio`` of the words (3+ letters) are written in capitals."""
    words = [w for w in _WORD.findall(view.visible_text[:MAX_SCAN]) if len(w) >= 3]
    if len(words) < int(min_words):
        return False
    caps = sum(1 for w in words if w.isupper())
    return caps / len(words) >= float(min_ratio)


@register("short_body_with_uri")
def short_body_with_uri(view: MailView, max_chars: int) -> bool:
    """A link and hardly any text around it."""
    if not view.uris:
        return False
    return len("".join(view.visible_text.split())) <= int(max_chars)


# --- bounces and language -----------------------------------------------------------------


def _is_bounce(view: MailView) -> bool:
    if any(p.content_type in _DSN_TYPES for p in view.message.parts):
        return True
    sender = view.envelope.sender
    name, addr = view.from_address
    from_bounce = bool(_BOUNCE_FROM.match(addr) or _BOUNCE_FROM.match(name))
    return (sender == "" or from_bounce) and bool(_BOUNCE_SUBJECT.search(view.subject))


@register("bounce_message")
def bounce_message(view: MailView) -> bool:
    """A bounce (delivery status notification), unless it returns mail that went out through
    one of ``spam.wl_bounce_relays`` (then it answers our own mail and is welcome)."""
    if not _is_bounce(view):
        return False
    if not view.bounce_relays:
        return True
    text = (
        view.rawbody.lower()
        + "\n"
        + "\n".join(
            (p.text or "").lower()
            for p in view.message.parts
            if p.content_type.startswith("message/")
        )
    )
    for part in view.message.parts:
        if part.content_type.startswith("text/rfc822") or (part.parent and part.depth >= 2):
            for k, v in part.headers:
                if k.lower() == "received":
                    text += "\n" + v.lower()
    return not any(relay in text for relay in view.bounce_relays)


def detect_languages(text: str) -> list[str]:
    """Two-letter codes of the languages of ``text`` (CLD2), most likely first; [] if unsure."""
    import pycld2

    sample = text[:MAX_SCAN]
    if sum(1 for c in sample if c.isalpha()) < 40:
        return []
    try:
        reliable, _, details = pycld2.detect(sample)
    except pycld2.error:
        try:
            cleaned = "".join(c for c in sample if c.isprintable() or c in "\n\t")
            reliable, _, details = pycld2.detect(cleaned.encode("utf-8", "ignore").decode())
        except pycld2.error:
            return []
    if not reliable:
        return []
    return [code for _name, code, percent, _score in details if code != "un" and percent >= 20]


@register("unwanted_language")
def unwanted_language(view: MailView) -> bool:
    """The body is written in none of the ``spam.languages`` (never hits with ``all``)."""
    if not view.languages:
        return False
    found = detect_languages(view.visible_text)
    if not found:
        return False
    ok = set(view.languages)
    return not any(code.split("-")[0] in ok for code in found)


# --- Bayes ---------------------------------------------------------------------------------


@register("check_bayes")
def check_bayes(view: MailView, lo: float, hi: float, part: str = "text") -> bool:
    """The Bayesian probability of the message's ``text`` view (SpamAssassin's BAYES_*) or its
    ``header`` view lies in [lo, hi); never hits when Bayes has no opinion."""
    p = view.bayes_views.get(str(part))
    if p is None:
        return False
    return float(lo) <= p < float(hi) or (float(hi) >= 1.0 and p >= float(lo))
