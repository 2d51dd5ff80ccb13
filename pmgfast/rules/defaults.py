"""PMG's factory rule set (``DBTools::init_ruledb``, pmg-behaviour.md section 3).

:func:`factory` builds it as a :class:`~pmgfast.rules.model.RuleDB` with ids in creation
order (groups, objects and rules each numbered from 1, the ``GreyExclusion`` greylist group
first when ``greylist`` is set, as on a new database). Thirteen rules; active: Blocklist,
Block Viruses, Virus Alert, Block Dangerous Files, Modify Header, Welcomelist and
Quarantine/Mark Spam (Level 3).
"""

from __future__ import annotations

from dataclasses import replace

from pmgfast.rules.model import BOTH, IN, OUT, ClassUse, Group, Rule, RuleDB
from pmgfast.rules.objects import RuleObject
from pmgfast.rules.objects.action import (
    Accept,
    Block,
    Disclaimer,
    ModField,
    Notify,
    Quarantine,
    Remove,
)
from pmgfast.rules.objects.what import ContentTypeFilter, MatchFilename, Spam, Virus
from pmgfast.rules.objects.when import TimeFrame
from pmgfast.rules.objects.who import EMail

# (key, name, info, class, objects)
_GROUPS: list[tuple[str, str, str, str, list[RuleObject]]] = [
    ("blocklist", "Blocklist", "Global blocklist", "who",
     [EMail(email="nomail@fromthisdomain.example")]),
    ("welcomelist", "Welcomelist", "Global welcomelist", "who",
     [EMail(email="mail@fromthisdomain.example")]),
    ("office_hours", "Office Hours", "Usual office hours", "when",
     [TimeFrame(start=8 * 60, end=16 * 60)]),
    ("images", "Images", "All kinds of graphic files", "what",
     [ContentTypeFilter(contenttype="image/.*")]),
    ("multimedia", "Multimedia", "Audio and Video", "what",
     [ContentTypeFilter(contenttype="audio/.*"), ContentTypeFilter(contenttype="video/.*")]),
    ("office", "Office Files", "Common Office Files", "what", [
        ContentTypeFilter(contenttype=r"application/vnd\.ms-excel"),
        ContentTypeFilter(contenttype=r"application/vnd\.ms-powerpoint"),
        ContentTypeFilter(contenttype="application/msword"),
        ContentTypeFilter(contenttype=r"application/vnd\.openxmlformats-officedocument\..*"),
        ContentTypeFilter(contenttype=r"application/vnd\.oasis\.opendocument\..*"),
        ContentTypeFilter(contenttype=r"application/vnd\.stardivision\..*"),
        ContentTypeFilter(contenttype=r"application/vnd\.sun\.xml\..*"),
    ]),
    ("dangerous", "Dangerous Content", "executable files and partial messages", "what", [
        ContentTypeFilter(contenttype=r"application/vnd\.microsoft\.portable-executable"),
        ContentTypeFilter(contenttype="application/x-msdownload"),
        ContentTypeFilter(contenttype="application/x-java"),
        ContentTypeFilter(contenttype="application/javascript"),
        ContentTypeFilter(contenttype="application/x-executable"),
        ContentTypeFilter(contenttype="message/partial"),
        MatchFilename(filename=r".*\.(vbs|pif|lnk|shs|shb)"),
        MatchFilename(filename=r".*\.\{.+\}"),
    ]),
    ("virus", "Virus", "Matches virus infected mail", "what", [Virus()]),
    ("spam3", "Spam (Level 3)", "Matches possible spam mail", "what", [Spam(level=3)]),
    ("spam5", "Spam (Level 5)", "Matches possible spam mail", "what", [Spam(level=5)]),
    ("spam10", "Spam (Level 10)", "Matches possible spam mail", "what", [Spam(level=10)]),
    ("mod_level", "Modify Spam Level", "Mark mail as spam by adding a header tag.", "action",
     [ModField(field="X-SPAM-LEVEL", value="__SPAM_INFO__")]),
    ("mod_subject", "Modify Spam Subject", "Mark mail as spam by modifying the subject.",
     "action", [ModField(field="subject", value="SPAM: __SUBJECT__")]),
    ("remove", "Remove attachments", "Remove matching attachments", "action",
     [Remove(all=False)]),
    ("remove_all", "Remove all attachments", "Remove all attachments", "action",
     [Remove(all=True)]),
    ("accept", "Accept", "Accept mail for Delivery", "action", [Accept()]),
    ("block", "Block", "Block mail", "action", [Block()]),
    ("quarantine", "Quarantine", "Move mail to quarantine", "action", [Quarantine()]),
    ("notify_admin", "Notify Admin", "Send notification", "action", [Notify(to="__ADMIN__")]),
    ("notify_sender", "Notify Sender", "Send notification", "action",
     [Notify(to="__SENDER__")]),
    ("disclaimer", "Disclaimer", "Add Disclaimer", "action", [Disclaimer()]),
    ("aquar", "Attachment Quarantine (remove matching)",
     "Remove matching attachments, keep the original in the attachment quarantine", "action",
     [Remove(all=False, quarantine=True)]),
    ("aquar_all", "Attachment Quarantine (remove all)",
     "Remove all attachments, keep the original in the attachment quarantine", "action",
     [Remove(all=True, quarantine=True)]),
]  # fmt: skip

# (name, priority, active, direction, {class: [group keys]})
_RULES: list[tuple[str, int, bool, int, dict[str, list[str]]]] = [
    ("Block Dangerous Files", 93, True, IN, {"what": ["dangerous"], "action": ["remove"]}),
    ("Block Viruses", 96, True, IN,
     {"what": ["virus"], "action": ["notify_admin", "quarantine"]}),
    ("Virus Alert", 96, True, OUT,
     {"what": ["virus"], "action": ["notify_sender", "notify_admin", "block"]}),
    ("Blocklist", 98, True, IN, {"from": ["blocklist"], "action": ["block"]}),
    ("Modify Header", 90, True, IN, {"action": ["mod_level"]}),
    ("Welcomelist", 85, True, IN, {"from": ["welcomelist"], "action": ["accept"]}),
    ("Quarantine/Mark Spam (Level 3)", 80, True, IN,
     {"what": ["spam3"], "action": ["mod_subject", "quarantine"]}),
    ("Quarantine/Mark Spam (Level 5)", 81, False, IN,
     {"what": ["spam5"], "action": ["mod_subject", "quarantine"]}),
    ("Block Spam (Level 10)", 82, False, IN, {"what": ["spam10"], "action": ["block"]}),
    ("Block outgoing Spam", 70, False, OUT,
     {"what": ["spam3"], "action": ["notify_admin", "notify_sender", "block"]}),
    ("Add Disclaimer", 60, False, OUT, {"action": ["disclaimer"]}),
    ("Block Multimedia Files", 87, False, BOTH, {"what": ["multimedia"], "action": ["remove"]}),
    ("Quarantine Office Files", 89, False, IN, {"what": ["office"], "action": ["aquar"]}),
]  # fmt: skip


def factory(greylist: bool = True) -> RuleDB:
    """The factory rule set; ``greylist`` adds the empty ``GreyExclusion`` group first."""
    groups = []
    keys: dict[str, int] = {}
    object_id = 0
    if greylist:
        groups.append(Group(1, "GreyExclusion", "greylist", info="-"))
    for key, name, info, cls, objs in _GROUPS:
        gid = len(groups) + 1
        numbered = []
        for obj in objs:
            object_id += 1
            numbered.append(replace(obj, id=object_id))
        groups.append(Group(gid, name, cls, info=info, objects=tuple(numbered)))
        keys[key] = gid
    rules = [
        Rule(
            rid,
            name,
            priority,
            active,
            direction,
            uses={cls: ClassUse(tuple(keys[k] for k in names)) for cls, names in uses.items()},
        )
        for rid, (name, priority, active, direction, uses) in enumerate(_RULES, start=1)
    ]
    return RuleDB(tuple(groups), tuple(rules))
