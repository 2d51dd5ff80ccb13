"""Cases: WHAT objects, each alone (spam, user lists, virus, header, content type, filename,
archive). Part-based objects are shown through "remove matching attachments", which removes
exactly the marked parts.
"""

from __future__ import annotations

from tests.rules.dsl import (
    BLOCK,
    EXT,
    ME,
    OTHER,
    QUARANTINE,
    Case,
    P,
    archfn,
    archive,
    ct,
    fname,
    header,
    mail,
    mixed,
    remove,
    rule,
    spam,
    virus,
)

WELCOME_NOTE = f"sender in user ({ME}) welcomelist"
BLOCK_NOTE = f"sender in user ({ME}) blocklist"


def removing(*what: object, name: str = "R") -> list:
    return [rule(name, what=list(what), action=remove())]


CASES = [
    # --- spam and user lists ----------------------------------------------------------------
    Case(
        "spam-at-the-level-matches",
        [rule("S", what=spam(5), action=QUARANTINE)],
        mail(score=5),
        "quarantine S",
    ),
    Case(
        "spam-below-the-level-does-not",
        [rule("S", what=spam(5), action=QUARANTINE)],
        mail(score=4),
        "accept default-accept",
    ),
    Case(
        "spam-user-welcomelist-exempts-that-recipient",
        [rule("S", what=spam(3), action=QUARANTINE)],
        mail(to=[ME, OTHER], score=8, welcome={ME: "*@ext.example"}),
        {ME: "accept default-accept", OTHER: "quarantine S"},
        notes=[WELCOME_NOTE],
    ),
    Case(
        "spam-user-welcomelist-glob-question-mark",
        [rule("S", what=spam(3), action=QUARANTINE)],
        mail(score=8, welcome={ME: "s?nder@ext.*"}),
        "accept default-accept",
        notes=[WELCOME_NOTE],
    ),
    Case(
        "spam-user-welcomelist-checks-header-from-addresses",
        [rule("S", what=spam(3), action=QUARANTINE)],
        mail(
            sender="bounce@lists.example",
            from_addresses=["friend@ext.example"],
            score=8,
            welcome={ME: "friend@ext.example"},
        ),
        "accept default-accept",
    ),
    Case(
        "spam-user-blocklist-matches-below-the-level",
        [rule("S", what=spam(5), action=BLOCK)],
        mail(to=[ME, OTHER], score=0, block={ME: EXT}),
        {ME: "block S", OTHER: "accept default-accept"},
        notes=[BLOCK_NOTE],
    ),
    Case(
        "spam-user-blocklist-entries-are-lower-cased-globs",
        [rule("S", what=spam(5), action=BLOCK)],
        mail(score=1, block={ME: "*@EXT.EXAMPLE"}),
        "block S",
    ),
    # --- virus -----------------------------------------------------------------------------
    Case(
        "virus-matches-infected-mail",
        [rule("V", what=virus(), action=QUARANTINE)],
        mail(virus="Eicar-Signature (clamav)"),
        "quarantine V",
        steps=[f"quarantine-V {ME}"],
    ),
    Case(
        "virus-does-not-match-clean-mail",
        [rule("V", what=virus(), action=QUARANTINE)],
        mail(),
        "accept default-accept",
    ),
    # --- match field -------------------------------------------------------------------------
    Case(
        "header-is-searched-unanchored-ignoring-case",
        [rule("H", what=header("Subject", "viagra"), action=BLOCK)],
        mail(parts=[P(headers=(("Subject", "Buy VIAGRA now"),))]),
        "block H",
    ),
    Case(
        "header-field-name-ignores-case",
        [rule("H", what=header("SUBJECT", "^hello"), action=BLOCK)],
        mail(parts=[P(headers=(("subject", "hello world"),))]),
        "block H",
    ),
    Case(
        "header-marks-every-part-that-has-it",
        removing(header("Content-Disposition", "attachment")),
        mail(
            parts=mixed(
                P(
                    "application/pdf",
                    name="a.pdf",
                    headers=(("Content-Disposition", "attachment; filename=a.pdf"),),
                )
            )
        ),
        "accept default-accept",
        removed=[3],
    ),
    Case(
        "header-top-part-only-ignores-inner-parts",
        [rule("H", what=header("X-Flag", "yes", top=True), action=BLOCK)],
        mail(parts=mixed(P("text/plain", headers=(("X-Flag", "yes"),)))),
        "accept default-accept",
    ),
    Case(
        "header-top-part-only-sees-the-top",
        [rule("H", what=header("X-Flag", "yes", top=True), action=BLOCK)],
        mail(parts=[P("text/plain", headers=(("X-Flag", "yes"),))]),
        "block H",
    ),
    # --- content type ----------------------------------------------------------------------
    Case(
        "contenttype-matches-the-sniffed-type",
        removing(ct("application/x-msdownload")),
        mail(
            parts=mixed(
                P("application/octet-stream", magic="application/x-msdownload", name="c.bin")
            )
        ),
        "accept default-accept",
        removed=[3],
    ),
    Case(
        "contenttype-matches-the-header-type",
        removing(ct("image/.*")),
        mail(parts=mixed(P("image/png", magic="application/octet-stream"))),
        "accept default-accept",
        removed=[3],
    ),
    Case(
        "contenttype-matches-the-filename-type",
        removing(ct("application/pdf")),
        mail(
            parts=mixed(
                P(
                    "application/octet-stream",
                    magic="application/octet-stream",
                    glob="application/pdf",
                    name="x.pdf",
                )
            )
        ),
        "accept default-accept",
        removed=[3],
    ),
    Case(
        "contenttype-only-content-ignores-header-and-filename",
        removing(ct("image/png", only=True)),
        mail(
            parts=mixed(
                P("image/png", magic="application/octet-stream", glob="image/png", name="a.png")
            )
        ),
        "accept default-accept",
        removed=[],
    ),
    Case(
        "contenttype-is-case-sensitive",
        removing(ct("image/png")),
        mail(parts=mixed(P("IMAGE/PNG", magic="application/octet-stream"))),
        "accept default-accept",
        removed=[],
    ),
    Case(
        "contenttype-is-unanchored",
        removing(ct("x-java")),
        mail(parts=mixed(P("application/x-java-archive", name="a.jar"))),
        "accept default-accept",
        removed=[3],
    ),
    # --- filename ---------------------------------------------------------------------------
    Case(
        "filename-is-anchored-and-ignores-case",
        removing(fname(r".*\.EXE")),
        mail(
            parts=mixed(
                P("application/octet-stream", name="setup.exe"),
                P("application/octet-stream", name="setup.exe.txt"),
            )
        ),
        "accept default-accept",
        removed=[3],
    ),
    Case(
        "filename-needs-a-filename",
        removing(fname(".*")),
        mail(parts=mixed(P("application/octet-stream"))),
        "accept default-accept",
        removed=[],
    ),
    # --- archives ---------------------------------------------------------------------------
    Case(
        "archive-filter-sees-types-inside-the-archive",
        removing(archive("application/x-msdownload")),
        mail(
            parts=mixed(
                P(
                    "application/zip",
                    name="a.zip",
                    archive_types=("text/plain", "application/x-msdownload"),
                )
            )
        ),
        "accept default-accept",
        removed=[3],
    ),
    Case(
        "archive-filter-catches-unreadable-archives",
        removing(archive("proxmox/unreadable-archive")),
        mail(
            parts=mixed(
                P("application/zip", name="a.zip", archive_types=("proxmox/unreadable-archive",))
            )
        ),
        "accept default-accept",
        removed=[3],
    ),
    Case(
        "archive-filter-also-matches-plain-attachments",
        removing(archive("image/.*")),
        mail(parts=mixed(P("image/png", name="a.png"))),
        "accept default-accept",
        removed=[3],
    ),
    Case(
        "archive-filename-sees-member-names",
        removing(archfn(r".*\.js")),
        mail(
            parts=mixed(P("application/zip", name="a.zip", archive_names=("readme.txt", "evil.js")))
        ),
        "accept default-accept",
        removed=[3],
    ),
    Case(
        "archive-filename-also-matches-the-part-name",
        removing(archfn(r".*\.zip")),
        mail(parts=mixed(P("application/zip", name="a.zip"))),
        "accept default-accept",
        removed=[3],
    ),
]
