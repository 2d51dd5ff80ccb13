"""PMG's unpack step in the pipeline: archives are listed only when a rule needs them.

Only when an active rule of the message's direction has an ArchiveFilter or
MatchArchiveFilename object, and only when no virus was found (pmg-behaviour.md 1.3 step 6).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pmgfast import pipeline, rules
from pmgfast.actions.effects import DryRun
from pmgfast.actions.log import ListSink
from pmgfast.clamav.scanner import from_config
from pmgfast.config import pmgconf
from tests.clamav import mails
from tests.clamd import ClamdServer, eicar
from tests.rules import dsl

EXE = b"MZ\x90\x00" + bytes(range(256)) * 4


def zip_of(*members: tuple[str, bytes]) -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


def run(
    db, raw: bytes, trusted: bool, tmp_path: Path, scanners=()
) -> tuple[pipeline.Reply, list[str]]:
    conf = pmgconf.parse("")
    settings = pipeline.Settings.from_config(conf, tmp_path, rules.HostInfo())
    sink = ListSink()
    pipe = pipeline.Pipeline(
        settings, rules.Generations(db), tuple(scanners), effects=DryRun(), sink=sink
    )
    envelope = pipeline.Envelope(
        "a@ext.example", (pipeline.Recipient("u@local.example"),), trusted=trusted
    )
    return pipe.process(pipeline.Mail(envelope, raw)), sink.lines


def exe_in_zip() -> bytes:
    inner = zip_of(("setup.exe", EXE), ("readme.txt", b"hello\n"))
    return mails.with_attachment("nested", "outer.zip", zip_of(("inner.zip", inner)))


@pytest.mark.parametrize(
    "what",
    [dsl.archfn(r".*\.exe"), dsl.archive(r"application/vnd\.microsoft\.portable-executable")],
    ids=["MatchArchiveFilename", "ArchiveFilter"],
)
def test_archive_rule_sees_inside_nested_zips(tmp_path: Path, what):
    db = dsl.build([dsl.rule("no exe in archives", 90, what=what, action=dsl.BLOCK)])
    reply, lines = run(db, exe_in_zip(), False, tmp_path)
    assert reply.analysis is not None
    [decision] = reply.analysis.outcome.decisions
    assert decision.action == "block" and decision.rule == "no exe in archives"
    assert any("found archive 'outer.zip' (application/zip)" in line for line in lines)
    assert any("unpack archive 'outer.zip' done (" in line for line in lines)
    [zipped] = [p for p in reply.analysis.facts.parts if p.archive_filenames]
    assert {"setup.exe", "readme.txt", "inner.zip"} <= set(zipped.archive_filenames)


def test_no_unpacking_for_a_direction_without_archive_rules(tmp_path: Path):
    db = dsl.build(
        [dsl.rule("in only", 90, what=dsl.archfn(r".*\.exe"), action=dsl.BLOCK, direction="in")]
    )
    reply, lines = run(db, exe_in_zip(), True, tmp_path)  # outgoing
    assert reply.action == "accept"
    assert not any("found archive" in line for line in lines)
    assert reply.analysis is not None
    assert all(not p.archive_filenames for p in reply.analysis.facts.parts)


def test_no_unpacking_without_archive_objects(tmp_path: Path):
    db = dsl.build([dsl.rule("exe by name", 90, what=dsl.fname(r".*\.exe"), action=dsl.BLOCK)])
    reply, lines = run(db, exe_in_zip(), False, tmp_path)
    assert reply.action == "accept"  # the exe is only inside the archive
    assert not any("found archive" in line for line in lines)


def test_no_unpacking_when_a_virus_was_found(clamd: ClamdServer, tmp_path: Path):
    scanner = from_config(pmgconf.parse(""), clamd.conf_path)
    assert scanner is not None
    clamd.clients.append(scanner.client)
    db = dsl.build([dsl.rule("no exe in archives", 90, what=dsl.archfn(r".*\.exe"),
                             action=dsl.BLOCK)])  # fmt: skip
    raw = mails.with_attachment(
        "both", "both.zip", zip_of(("eicar.com", eicar()), ("setup.exe", EXE))
    )
    reply, lines = run(db, raw, False, tmp_path, (scanner,))
    assert reply.analysis is not None and reply.analysis.facts.virus is not None
    assert not any("found archive" in line for line in lines)
    assert reply.action == "accept"  # no virus rule here, and the archive was never opened


def test_unreadable_archive_is_a_type(tmp_path: Path):
    db = dsl.build(
        [dsl.rule("unreadable", 90, what=dsl.archive("proxmox/unreadable-archive"),
                  action=dsl.BLOCK)]
    )  # fmt: skip
    broken = zip_of(("a.txt", b"x" * 1000))[:-40]  # central directory cut off
    raw = mails.with_attachment("broken", "broken.zip", broken)
    reply, lines = run(db, raw, False, tmp_path)
    assert any("found archive 'broken.zip'" in line for line in lines)
    assert reply.analysis is not None
    [decision] = reply.analysis.outcome.decisions
    assert decision.action == "block"
