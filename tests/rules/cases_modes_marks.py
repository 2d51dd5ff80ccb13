"""Cases: any/all/invert at group and class level, and WHAT marks per part.

FROM cases use the sender ``sender@ext.example``; the marks cases use one mail with five parts
(1 multipart/mixed, 2 text body, 3 a.png, 4 b.pdf, 5 c.exe) and "remove matching attachments",
so the removed aids are the rule's marks (the top part is never removed).
"""

from __future__ import annotations

from pmgfast.rules.outcome import PrefixMessageId, RemoveAttachments
from tests.rules.dsl import (
    BLOCK,
    EXT,
    ME,
    OTHER,
    Case,
    P,
    cls,
    ct,
    domain,
    email,
    fname,
    group,
    mail,
    mixed,
    remove,
    rule,
    spam,
    time,
    virus,
)

NOBODY = "nobody@nowhere.example"
FIVE = mixed(
    P("image/png", name="a.png"),
    P("application/pdf", name="b.pdf"),
    P("application/x-msdownload", name="c.exe"),
)


def marks_case(case_id: str, what: object, removed: list[int], **extra: object) -> Case:
    return Case(
        case_id,
        [rule("R", what=what, action=remove())],
        mail(parts=FIVE, **extra),
        "accept default-accept",
        removed=removed,
    )


def _replacements(outcome):
    return [
        r for e in outcome.edits_for(ME) if isinstance(e, RemoveAttachments) for r in e.replacements
    ]


def _check_text(outcome) -> None:
    assert [r.text for r in _replacements(outcome)] == ["Removed c.exe by R"]


def _check_html(outcome) -> None:
    (replacement,) = _replacements(outcome)
    assert (replacement.content_type, replacement.filename) == (
        "text/html",
        "REMOVED_ATTACHMENT_5.html",
    )
    assert replacement.text == "<b>gone</b>: c.exe"


def _check_quarantine(outcome) -> None:
    edits = outcome.edits_for(ME)
    assert isinstance(edits[0], PrefixMessageId) and isinstance(edits[1], RemoveAttachments)
    assert edits[1].replacements[0].text == (
        "This attachment was removed: c.exe\n"
        "It was put into the Attachment Quarantine, please contact your Administrator\n"
    )
    assert outcome.steps[0].edits == ()  # the original, before the removal


def _check_multipart(outcome) -> None:
    (edit,) = [e for e in outcome.edits_for(ME) if isinstance(e, RemoveAttachments)]
    assert edit.make_multipart


CASES = [
    # --- group modes ----------------------------------------------------------------------
    Case(
        "group-any-one-object-is-enough",
        [rule("B", frm=group(email(NOBODY), email(EXT)), action=BLOCK)],
        mail(),
        "block B",
    ),
    Case(
        "group-all-needs-every-object",
        [rule("B", frm=group(email(EXT), domain("ext.example"), all=True), action=BLOCK)],
        mail(),
        "block B",
    ),
    Case(
        "group-all-fails-on-one-object",
        [rule("B", frm=group(email(EXT), email(NOBODY), all=True), action=BLOCK)],
        mail(),
        "accept default-accept",
    ),
    Case(
        "group-none-must-match-holds",
        [rule("B", frm=group(email(NOBODY), invert=True), action=BLOCK)],
        mail(),
        "block B",
    ),
    Case(
        "group-none-must-match-fails",
        [rule("B", frm=group(email(EXT), invert=True), action=BLOCK)],
        mail(),
        "accept default-accept",
    ),
    Case(
        "group-at-least-one-must-not-match-holds",
        [rule("B", frm=group(email(EXT), email(NOBODY), all=True, invert=True), action=BLOCK)],
        mail(),
        "block B",
    ),
    Case(
        "group-at-least-one-must-not-match-fails",
        [
            rule(
                "B",
                frm=group(email(EXT), domain("ext.example"), all=True, invert=True),
                action=BLOCK,
            )
        ],
        mail(),
        "accept default-accept",
    ),
    Case(
        "empty-group-any-never-matches",
        [rule("B", frm=group(), action=BLOCK)],
        mail(),
        "accept default-accept",
    ),
    Case(
        "empty-group-none-always-matches",
        [rule("B", frm=group(invert=True), action=BLOCK)],
        mail(),
        "block B",
    ),
    Case(
        "empty-group-all-always-matches",
        [rule("B", frm=group(all=True), action=BLOCK)],
        mail(),
        "block B",
    ),
    # --- class modes ----------------------------------------------------------------------
    Case(
        "class-any-one-group-is-enough",
        [rule("B", frm=cls(group(email(NOBODY)), group(domain("ext.example"))), action=BLOCK)],
        mail(),
        "block B",
    ),
    Case(
        "class-all-needs-every-group",
        [
            rule(
                "B",
                frm=cls(group(email(EXT)), group(domain("other.example")), all=True),
                action=BLOCK,
            )
        ],
        mail(),
        "accept default-accept",
    ),
    Case(
        "class-none-must-match",
        [
            rule(
                "B",
                frm=cls(group(email(NOBODY)), group(domain("other.example")), invert=True),
                action=BLOCK,
            )
        ],
        mail(),
        "block B",
    ),
    Case(
        "class-at-least-one-must-not-match",
        [
            rule(
                "B",
                frm=cls(group(email(EXT)), group(domain("other.example")), all=True, invert=True),
                action=BLOCK,
            )
        ],
        mail(),
        "block B",
    ),
    Case(
        "class-modes-apply-per-recipient-in-to",
        [rule("B", to=cls(group(email(ME)), invert=True), action=BLOCK)],
        mail(to=[ME, OTHER]),
        {ME: "accept default-accept", OTHER: "block B"},
    ),
    Case(
        "class-all-of-time-frames",
        [
            rule(
                "B",
                when=cls(group(time("08:00", "16:00")), group(time("12:00", "20:00")), all=True),
                action=BLOCK,
            )
        ],
        mail(at="13:00"),
        "block B",
    ),
    Case(
        "class-all-of-time-frames-fails-outside-one",
        [
            rule(
                "B",
                when=cls(group(time("08:00", "16:00")), group(time("12:00", "20:00")), all=True),
                action=BLOCK,
            )
        ],
        mail(at="09:00"),
        "accept default-accept",
    ),
    # --- marks: group level ------------------------------------------------------------------
    marks_case("marks-any-is-the-union", group(ct("image/.*"), ct("application/pdf")), [3, 4]),
    marks_case(
        "marks-all-is-the-intersection", group(ct("image/.*"), fname(r".*\.png"), all=True), [3]
    ),
    Case(
        "marks-all-without-common-part-does-not-match",
        [rule("R", what=group(ct("image/.*"), fname(r".*\.pdf"), all=True), action=BLOCK)],
        mail(parts=FIVE),
        "accept default-accept",
    ),
    marks_case(
        "marks-invert-is-the-complement-even-the-text-body",
        group(ct("image/.*"), invert=True),
        [2, 4, 5],
    ),
    Case(
        "marks-invert-of-all-but-one-part-is-no-match-as-pmg",
        [
            rule(
                "R",
                what=group(
                    ct("image/.*"),
                    ct("application/pdf"),
                    ct("application/x-msdownload"),
                    ct("text/plain"),
                    invert=True,
                ),
                action=BLOCK,
            )
        ],
        mail(parts=FIVE),
        "accept default-accept",
    ),
    Case(
        "marks-invert-of-whole-mail-is-no-match",
        [rule("R", what=group(spam(3), invert=True), action=BLOCK)],
        mail(parts=FIVE, score=5),
        "accept default-accept",
    ),
    marks_case(
        "marks-spam-and-filename-marks-the-file",
        group(spam(3), fname(r".*\.pdf"), all=True),
        [4],
        score=5,
    ),
    marks_case(
        "marks-all-of-whole-mail-objects-marks-every-part-as-pmg",
        group(spam(3), virus(), all=True),
        [2, 3, 4, 5],
        score=5,
        virus="X",
    ),
    Case(
        "marks-all-of-whole-mail-objects-is-whole-when-counts-agree",
        [rule("R", what=group(spam(3), virus(), all=True), action=remove())],
        mail(parts=[P("multipart/mixed"), P("text/plain", parent=1)], score=5, virus="X"),
        "accept default-accept",
        removed=[],
    ),
    # --- marks: class level -----------------------------------------------------------------
    marks_case(
        "marks-class-any-unions-the-groups",
        cls(group(ct("image/.*")), group(fname(r".*\.exe"))),
        [3, 5],
    ),
    marks_case(
        "marks-class-all-unions-when-every-group-matched",
        cls(group(ct("image/.*")), group(fname(r".*\.exe")), all=True),
        [3, 5],
    ),
    Case(
        "marks-class-all-fails-when-a-group-did-not-match",
        [
            rule(
                "R",
                what=cls(group(ct("image/.*")), group(fname(r".*\.zip")), all=True),
                action=BLOCK,
            )
        ],
        mail(parts=FIVE),
        "accept default-accept",
    ),
    Case(
        "marks-class-invert-matches-the-whole-mail",
        [rule("R", what=cls(group(ct("audio/.*")), invert=True), action=BLOCK)],
        mail(parts=FIVE),
        "block R",
    ),
    # --- remove attachments -----------------------------------------------------------------
    Case(
        "remove-all-removes-everything-after-the-body",
        [rule("R", action=remove(all=True))],
        mail(parts=FIVE),
        "accept default-accept",
        removed=[3, 4, 5],
    ),
    Case(
        "remove-all-keeps-text-alternatives",
        [rule("R", action=remove(all=True))],
        mail(
            parts=[
                P("multipart/mixed"),
                P("multipart/alternative", parent=1),
                P("text/plain", parent=2),
                P("text/html", parent=2),
                P("image/gif", parent=2),
                P("application/pdf", name="x.pdf", parent=1),
            ]
        ),
        "accept default-accept",
        removed=[5, 6],
    ),
    Case(
        "remove-single-part-mail-is-made-multipart-first",
        [rule("R", what=ct("application/pdf"), action=remove())],
        mail(parts=[P("application/pdf", name="x.pdf")]),
        "accept default-accept",
        removed=[1],
        check=_check_multipart,
    ),
    Case(
        "remove-all-leaves-a-single-text-part-alone",
        [rule("R", action=remove(all=True))],
        mail(parts=[P("text/plain")]),
        "accept default-accept",
        removed=[],
    ),
    Case(
        "remove-replaces-a-marked-container-whole",
        [rule("R", what=ct("message/rfc822"), action=remove())],
        mail(
            parts=[
                P("multipart/mixed"),
                P("text/plain", parent=1),
                P("message/rfc822", parent=1),
                P("text/plain", parent=3),
            ]
        ),
        "accept default-accept",
        removed=[3],
    ),
    Case(
        "remove-does-nothing-without-part-marks",
        [rule("R", what=spam(3), action=remove())],
        mail(parts=FIVE, score=5),
        "accept default-accept",
        removed=[],
    ),
    Case(
        "remove-text-expands-filename-and-macros",
        [rule("R", what=fname(r".*\.exe"), action=remove(text="Removed __FILENAME__ by __RULE__"))],
        mail(parts=FIVE),
        "accept default-accept",
        removed=[5],
        check=_check_text,
    ),
    Case(
        "remove-html-text-gives-an-html-replacement",
        [rule("R", what=fname(r".*\.exe"), action=remove(text="<b>gone</b>: __FILENAME__"))],
        mail(parts=FIVE),
        "accept default-accept",
        removed=[5],
        check=_check_html,
    ),
    Case(
        "remove-with-attachment-quarantine-keeps-the-original",
        [rule("R", what=fname(r".*\.exe"), action=remove(quarantine=True))],
        mail(parts=FIVE),
        "accept default-accept",
        removed=[5],
        steps=[f"attachment-quarantine {ME}", f"deliver {ME}"],
        check=_check_quarantine,
    ),
    Case(
        "remove-uses-each-recipients-own-marks",
        [rule("R", what=group(spam(3), fname(r".*\.pdf"), all=True), action=remove())],
        mail(to=[ME, OTHER], parts=FIVE, score=5, welcome={ME: EXT}),
        "accept default-accept",
        removed={ME: [], OTHER: [4]},
        groups=[[OTHER], [ME]],
    ),
]
