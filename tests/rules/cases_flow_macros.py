"""Cases: rule order, directions, final and non-final actions, recipient groups, every action
kind, and every macro (shown through a header the rule sets or a notification body).
"""

from __future__ import annotations

from pmgfast.rules.outcome import (
    AddDisclaimer,
    DeleteHeader,
    Deliver,
    Notify,
    Quarantine,
    SetHeader,
)
from tests.rules.dsl import (
    ACCEPT,
    BLOCK,
    EXT,
    ME,
    OTHER,
    QUARANTINE,
    Case,
    P,
    bcc,
    disclaimer,
    email,
    mail,
    notify,
    rule,
    setheader,
    spam,
    virus,
)

SPAM_HITS = [
    ("BAYES_99", 3.5, "Bayes spam probability is 99 to 100%"),
    ("URIBL_BLOCKED", 0.001, None),
]


def body_of(outcome, index: int = 0) -> str:
    return [s for s in outcome.steps if isinstance(s, Notify)][index].body


def expect_body(text: str):
    def check(outcome) -> None:
        assert body_of(outcome) == text, body_of(outcome)

    return check


def macro(case_id: str, value: str, expected: str, **mail_args: object) -> Case:
    """A case that sets ``X-M: <value>`` on every mail and expects ``expected``."""
    return Case(
        case_id,
        [rule("M", action=setheader("X-M", value))],
        mail(**mail_args),
        "accept default-accept",
        headers={"X-M": expected},
    )


def _quarantined_with_header(outcome) -> None:
    (step,) = [s for s in outcome.steps if isinstance(s, Quarantine)]
    assert SetHeader("X-Q", "1", "1") in step.edits


def _bcc_contents(outcome) -> None:
    original, copy_me, copy_other = outcome.steps[:3]
    assert [e.name for e in original.edits if isinstance(e, SetHeader)] == ["X-A"]
    assert [e.name for e in copy_me.edits if isinstance(e, SetHeader)] == ["X-A"]
    assert [e.name for e in copy_other.edits if isinstance(e, SetHeader)] == []


def _disclaimer_first_group_only(outcome) -> None:
    assert any(isinstance(e, AddDisclaimer) for e in outcome.edits_for(OTHER))
    assert not any(isinstance(e, AddDisclaimer) for e in outcome.edits_for(ME))


def _disclaimer_alternatives(outcome) -> None:
    (edit,) = [e for e in outcome.edits_for(ME) if isinstance(e, AddDisclaimer)]
    assert [(t.ref, t.kind, t.ok) for t in edit.targets] == [(3, "text", True), (4, "html", True)]
    assert edit.html == "<br>--<br>Legal <b>note</b>\n"
    assert edit.text == "\n--\nLegal note\n"
    assert edit.position == "end"


def _disclaimer_charset(outcome) -> None:
    (edit,) = [e for e in outcome.edits_for(ME) if isinstance(e, AddDisclaimer)]
    assert [(t.ref, t.charset, t.ok) for t in edit.targets] == [(1, "us-ascii", False)]
    assert edit.html == "Grüße<br>\n" and edit.position == "start"


def _strips_spoofed_header(outcome) -> None:
    assert outcome.edits_for(ME)[0] == DeleteHeader("X-Spam-Flag")


def _keeps_foreign_direction_header(outcome) -> None:
    assert not any(isinstance(e, DeleteHeader) for e in outcome.edits_for(ME))


def _dkim(outcome) -> None:
    delivers = [s for s in outcome.steps if isinstance(s, Deliver)]
    assert [d.dkim_sign for d in delivers] == [True, True]


def _matched(*ids: int):
    def check(outcome) -> None:
        assert outcome.matched_rules == ids, outcome.matched_rules

    return check


def _rule_info(outcome) -> None:
    assert body_of(outcome) == (
        "N|Rule: N\n  Receiver: user@local.example\n  Action: notify admin@x.example\n"
    )


CASES = [
    # --- order, direction, final ------------------------------------------------------------
    Case(
        "higher-priority-runs-first",
        [rule("Low", 60, action=BLOCK), rule("High", 70, action=ACCEPT)],
        mail(),
        "accept High",
        check=_matched(2),
    ),
    Case(
        "equal-priority-higher-id-runs-first",
        [rule("First", 50, action=BLOCK), rule("Second", 50, action=ACCEPT)],
        mail(),
        "accept Second",
    ),
    Case(
        "inactive-rules-do-not-run",
        [rule("Off", 90, action=BLOCK, active=False)],
        mail(),
        "accept default-accept",
        check=_matched(),
    ),
    Case(
        "incoming-rules-skip-trusted-mail",
        [rule("In", action=BLOCK, direction="in")],
        mail(trusted=True),
        "accept default-accept",
    ),
    Case(
        "outgoing-rules-skip-untrusted-mail",
        [rule("Out", action=BLOCK, direction="out")],
        mail(),
        "accept default-accept",
    ),
    Case(
        "outgoing-rules-run-for-trusted-mail",
        [rule("Out", action=BLOCK, direction="out")],
        mail(trusted=True),
        "block Out",
    ),
    Case(
        "both-direction-rules-run-for-either",
        [rule("Both", action=BLOCK, direction="both")],
        mail(trusted=True),
        "block Both",
    ),
    Case(
        "non-final-rule-then-final-rule",
        [rule("Mark", 90, action=setheader("X-A", "1")), rule("Stop", 80, action=BLOCK)],
        mail(),
        "block Stop",
        headers={"X-A": "1"},
        check=_matched(1, 2),
    ),
    Case(
        "final-rule-hides-the-recipient-from-later-rules",
        [rule("Take", 90, action=ACCEPT), rule("Mark", 80, action=setheader("X-A", "1"))],
        mail(),
        "accept Take",
        headers={},
        check=_matched(1),
    ),
    Case(
        "later-rules-still-see-open-recipients",
        [
            rule("Stop", 90, to=email(ME), action=BLOCK),
            rule("Mark", 80, action=setheader("X-B", "1")),
        ],
        mail(to=[ME, OTHER]),
        {ME: "block Stop", OTHER: "accept default-accept"},
        headers={ME: {}, OTHER: {"X-B": "1"}},
        groups=[[OTHER], [ME]],
    ),
    Case(
        "actions-run-by-priority-final-last",
        [rule("Q", action=[QUARANTINE, notify("admin@x.example"), setheader("X-Q", "1")])],
        mail(),
        "quarantine Q",
        steps=["notify admin@x.example", f"quarantine-S {ME}"],
        check=_quarantined_with_header,
    ),
    Case(
        "first-final-action-ends-the-rule",
        [rule("BA", action=[ACCEPT, BLOCK])],
        mail(),
        "block BA",
        steps=[f"block {ME}"],
    ),
    Case(
        "rule-without-actions-matches-but-is-not-final",
        [rule("Empty", 90), rule("Stop", 80, action=BLOCK)],
        mail(),
        "block Stop",
        check=_matched(1, 2),
    ),
    Case(
        "no-rules-means-default-accept",
        [],
        mail(to=[ME, OTHER]),
        "accept default-accept",
        steps=[f"deliver {ME},{OTHER}"],
        check=_matched(),
    ),
    # --- action kinds ---------------------------------------------------------------------
    Case(
        "quarantine-goes-to-the-virus-quarantine-for-viruses",
        [rule("Q", what=virus(), action=QUARANTINE)],
        mail(virus="Eicar"),
        "quarantine Q",
        steps=[f"quarantine-V {ME}"],
    ),
    Case(
        "quarantine-goes-to-the-spam-quarantine-otherwise",
        [rule("Q", what=spam(3), action=QUARANTINE)],
        mail(score=3),
        "quarantine Q",
        steps=[f"quarantine-S {ME}"],
    ),
    Case(
        "notify-takes-comma-and-semicolon-lists-and-macros",
        [rule("N", action=notify("a@x.org; b@y.org, __SENDER__"))],
        mail(),
        "accept default-accept",
        steps=[f"notify a@x.org,b@y.org,{EXT}", f"deliver {ME}"],
    ),
    Case(
        "notify-to-an-empty-sender-is-ignored",
        [rule("N", action=notify("__SENDER__"))],
        mail(sender=""),
        "accept default-accept",
        steps=[f"deliver {ME}"],
        notes=["notify <> (rule: N, ignored)"],
    ),
    Case(
        "bcc-original-sends-the-first-copy-bcc-copies-send-each-group",
        [
            rule("A", 90, to=email(ME), action=setheader("X-A", "1")),
            rule("B", 80, action=bcc("arch@x.org")),
            rule("C", 70, action=bcc("copy@x.org", original=False)),
        ],
        mail(to=[ME, OTHER]),
        "accept default-accept",
        steps=[
            "bcc arch@x.org original",
            "bcc copy@x.org",
            "bcc copy@x.org",
            f"deliver {ME}",
            f"deliver {OTHER}",
        ],
        check=_bcc_contents,
    ),
    Case(
        "header-change-for-some-recipients-splits-the-mail",
        [rule("T", to=email(ME), action=setheader("X-Tag", "me"))],
        mail(to=[ME, OTHER]),
        "accept default-accept",
        headers={ME: {"X-Tag": "me"}, OTHER: {}},
        groups=[[ME], [OTHER]],
    ),
    Case(
        "disclaimer-goes-to-the-first-recipient-group-only-as-pmg",
        [
            rule("A", 90, to=email(OTHER), action=setheader("X-A", "1")),
            rule("D", 80, action=disclaimer()),
        ],
        mail(to=[ME, OTHER]),
        "accept default-accept",
        check=_disclaimer_first_group_only,
    ),
    Case(
        "disclaimer-goes-into-every-alternative",
        [rule("D", action=disclaimer())],
        mail(
            parts=[
                P("multipart/mixed"),
                P("multipart/alternative", parent=1),
                P("text/plain", parent=2),
                P("text/html", parent=2),
                P("application/pdf", name="a.pdf", parent=1),
            ]
        ),
        "accept default-accept",
        check=_disclaimer_alternatives,
    ),
    Case(
        "disclaimer-that-the-charset-cannot-hold-is-not-added",
        [rule("D", action=disclaimer("Grüße", position="start", separator=False))],
        mail(parts=[P("text/plain", charset="us-ascii")]),
        "accept default-accept",
        check=_disclaimer_charset,
    ),
    Case(
        "spoofed-x-headers-a-rule-would-set-are-deleted-first",
        [
            rule(
                "Never", frm=email("nobody@nowhere.example"), action=setheader("X-Spam-Flag", "YES")
            )
        ],
        mail(),
        "accept default-accept",
        check=_strips_spoofed_header,
    ),
    Case(
        "x-headers-of-the-other-direction-stay",
        [rule("Out", action=setheader("X-Spam-Flag", "YES"), direction="out")],
        mail(),
        "accept default-accept",
        check=_keeps_foreign_direction_header,
    ),
    Case(
        "accept-with-dkim-signing-splits-the-groups",
        [rule("A", to=email(ME), action=ACCEPT)],
        mail(to=[ME, OTHER], dkim=True),
        {ME: "accept A", OTHER: "accept default-accept"},
        groups=[[ME], [OTHER]],
        check=_dkim,
    ),
    # --- macros -----------------------------------------------------------------------------
    macro("macro-subject-keeps-the-header-newline-as-pmg", "[__SUBJECT__]", "[Hello\n\t]"),
    macro("macro-subject-default", "__SUBJECT__", "No Subject", subject=None),
    Case(
        "macro-subject-sees-earlier-subject-changes",
        [
            rule("A", 90, action=setheader("subject", "SPAM: __SUBJECT__")),
            rule("N", 80, action=notify("x@y.org", body="S=__SUBJECT__")),
        ],
        mail(),
        "accept default-accept",
        check=expect_body("S=SPAM: Hello\n"),
    ),
    Case(
        "macro-rule-and-rule-info",
        [rule("N", action=notify("admin@x.example", body="__RULE__|__RULE_INFO__"))],
        mail(),
        "accept default-accept",
        check=_rule_info,
    ),
    macro(
        "macro-sender-ip-and-receivers",
        "__SENDER__ __SENDER_IP__ __RECEIVERS__",
        f"{EXT} 192.0.2.10 {ME}, {OTHER}",
        to=[ME, OTHER],
    ),
    Case(
        "macro-targets-are-the-rules-recipients",
        [rule("T", to=email(OTHER), action=setheader("X-M", "__TARGETS__"))],
        mail(to=[ME, OTHER]),
        "accept default-accept",
        headers={ME: {}, OTHER: {"X-M": OTHER}},
    ),
    Case(
        "macro-spam-level-stars-and-hits",
        [
            rule(
                "S",
                what=spam(5),
                action=setheader("X-M", "__SPAMLEVEL__|__SPAMSTARS__|__SPAM_HITS__"),
            )
        ],
        mail(score=7, hits=SPAM_HITS),
        "accept default-accept",
        headers={"X-M": "7|*******|BAYES_99,URIBL_BLOCKED"},
    ),
    Case(
        "macro-spam-info-is-a-folded-header",
        [rule("S", what=spam(5), action=setheader("X-SPAM-LEVEL", "__SPAM_INFO__"))],
        mail(score=7, hits=SPAM_HITS),
        "accept default-accept",
        headers={
            "X-SPAM-LEVEL": "Spam detection results:  7\n"
            "\tBAYES_99                  3.5 "
            "Bayes spam probability is 99 to 100%\n"
            "\tURIBL_BLOCKED           0.001 -"
        },
    ),
    Case(
        "macro-spam-stars-stop-at-100",
        [rule("S", what=spam(5), action=setheader("X-M", "__SPAMSTARS__"))],
        mail(score=150),
        "accept default-accept",
        headers={"X-M": "*" * 100},
    ),
    macro(
        "macro-spam-values-without-spam-analysis",
        "[__SPAMLEVEL__][__SPAM_INFO__][__SPAMSTARS__]",
        "[__SPAMLEVEL__][][]",
        score=9,
    ),
    Case(
        "macro-spam-info-for-a-user-blocklist-hit",
        [rule("S", what=spam(5), action=setheader("X-SPAM-LEVEL", "__SPAM_INFO__"))],
        mail(score=0, block={ME: EXT}),
        "accept default-accept",
        headers={
            "X-SPAM-LEVEL": "Spam detection results:  100\n"
            "\tUSER_IN_BLOCKLIST         100 "
            "From: address is in the user block-list"
        },
    ),
    Case(
        "macro-spam-info-of-the-message-in-rules-without-spam-objects",
        [
            rule("S", 90, what=spam(3), action=setheader("X-A", "1")),
            rule("M", 80, action=setheader("X-M", "__SPAMLEVEL__")),
        ],
        mail(score=4),
        "accept default-accept",
        headers={"X-A": "1", "X-M": "4"},
    ),
    Case(
        "macro-virus-info",
        [rule("V", what=virus(), action=notify("x@y.org", body="__VIRUS_INFO__"))],
        mail(virus="Eicar-Test (clamav)"),
        "accept default-accept",
        check=expect_body("Virus Info: Eicar-Test (clamav)\n"),
    ),
    macro(
        "macro-host-values",
        "__ADMIN__ __HOST__ __DOMAIN__ __FQDN__ __VERSION__ __MSGID__",
        "postmaster@gw.example gw example.net gw.example.net pmgfast/test <id@ext.example>",
    ),
    macro(
        "macro-without-value-stays-as-written",
        "__NOPE__ __SENDER_IP__",
        "__NOPE__ __SENDER_IP__",
        client_ip=None,
    ),
    macro(
        "macro-header-value-is-mime-encoded",
        "Grüße __SENDER__",
        f"=?UTF-8?Q?Gr=C3=BC=C3=9Fe=20?={EXT}",
    ),
    macro("macro-header-value-lines-are-folded", "line1\n\n  line2  \n", "line1\n\tline2"),
    Case(
        "macro-default-notify-body",
        [
            rule(
                "N",
                what=spam(3),
                action=notify(
                    "__ADMIN__", body="Sender:   __SENDER__\nTargets:  __TARGETS__\n__SPAM_INFO__"
                ),
            )
        ],
        mail(score=3, hits=SPAM_HITS[:1]),
        "accept default-accept",
        steps=["notify postmaster@gw.example", f"deliver {ME}"],
        check=expect_body(
            f"Sender:   {EXT}\nTargets:  {ME}\nSpam detection results:  3\n"
            "BAYES_99                  3.5 Bayes spam probability is 99 to 100%\n"
        ),
    ),
]
