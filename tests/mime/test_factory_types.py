"""Detected types use PMG's names, so PMG's factory rules catch what they are meant to catch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(200)


@pytest.mark.parametrize("filename", ["setup.exe", "innocent.dat"])
def test_factory_rules_remove_a_windows_executable(tmp_path, filename):
    """Debian 12's shared-mime-info names it application/x-ms-dos-executable; PMG's rule
    "Block Dangerous Files" names application/vnd.microsoft.portable-executable. By magic alone
    (innocent.dat) or by name and magic, the attachment is removed."""
    message = EmailMessage()
    message["From"] = "a@example.com"
    message["To"] = "b@example.org"
    message["Subject"] = "report"
    message.set_content("see attached")
    message.add_attachment(MZ, maintype="application", subtype="octet-stream", filename=filename)
    mail = tmp_path / "exe.eml"
    mail.write_bytes(message.as_bytes())
    env = {**os.environ, "PMGFAST_STATE_DIR": str(tmp_path / "state")}
    for section, key in (("admin", "clamav"), ("pmgfast", "spam_network_tests")):
        subprocess.run(
            [str(BIN / "pmgfast"), "config", "set", section, key, "0"], env=env, check=True
        )
    out = subprocess.run(
        [str(BIN / "pmgfast"), "scan", "--factory-rules", "--json", str(mail)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out)
    assert result["reply"] == "accept"
    assert f"removed attachment 3 ('{filename}', rule: Block Dangerous Files)" in " ".join(
        line.split(": ", 1)[1] for line in result["log"]
    )
