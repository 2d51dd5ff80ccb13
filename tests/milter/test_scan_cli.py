"""``pmgfast scan``: files, directories and mboxes through the pipeline offline, as a table or
JSON (its verdicts against the milter's are checked in test_pool.py)."""

from __future__ import annotations

import json
import mailbox
import subprocess
import sys
from pathlib import Path


def scan(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    etc = tmp_path / "state" / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "pmg.conf").write_text("section: admin\n    clamav 0\n")  # no clamd here
    return subprocess.run(
        [sys.executable, "-m", "pmgfast", "--state-dir", str(tmp_path / "state"), "scan",
         "--factory-rules", *args],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_json_per_message_with_verdicts_rules_and_log(tmp_path, corpus):
    ham = sorted((corpus / "spamassassin" / "ham").iterdir())[0]
    out = scan(
        tmp_path,
        "--json",
        "--from",
        "a@ext.example",
        "--to",
        "b@local.example",
        "--to",
        "c@local.example",
        str(ham),
    )
    assert out.returncode == 0, out.stderr
    (line,) = out.stdout.splitlines()
    result = json.loads(line)
    assert result["reply"] == "accept" and result["direction"] == "incoming"
    assert [r["address"] for r in result["recipients"]] == ["b@local.example", "c@local.example"]
    assert {r["verdict"] for r in result["recipients"]} == {"accept"}
    assert "Modify Header" in result["rules"]
    assert result["headers_changed"] == ["X-SPAM-LEVEL"]
    assert any(": processing time: " in x for x in result["log"])


def test_directories_and_mboxes_are_read_message_by_message(tmp_path, corpus):
    box = mailbox.mbox(str(tmp_path / "box.mbox"))
    for path in sorted((corpus / "spamassassin" / "spam").iterdir())[:3]:
        box.add(path.read_bytes())
    box.close()
    folder = tmp_path / "dir"
    folder.mkdir()
    for path in sorted((corpus / "mime" / "flanker").glob("*.eml"))[:4]:
        (folder / path.name).write_bytes(path.read_bytes())
    out = scan(tmp_path, "--json", str(tmp_path / "box.mbox"), str(folder))
    assert out.returncode == 0, out.stderr
    names = [json.loads(line)["file"] for line in out.stdout.splitlines()]
    assert names[:3] == [f"{tmp_path}/box.mbox#{i}" for i in (1, 2, 3)]
    assert len(names) == 7


def test_the_table_shows_each_recipient_and_what_the_actions_did(tmp_path):
    mail = tmp_path / "exe.eml"
    mail.write_bytes(
        b"From: a@ext.example\nTo: b@local.example\nSubject: x\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n"
        b"--b\nContent-Type: application/octet-stream; name=invoice.vbs\n\nMZ\n--b--\n"
    )
    out = scan(tmp_path, str(mail))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f"{mail}: accept"
    assert "rules: Block Dangerous Files, Modify Header" in lines[1]
    assert any(
        line.split() == ["b@local.example", "accept", "rule:", "default-accept"] for line in lines
    )
    assert any(
        "removed attachment 3 ('invoice.vbs', rule: Block Dangerous Files)" in line
        for line in lines
    )
