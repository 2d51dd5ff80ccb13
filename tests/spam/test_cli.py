"""``pmgfast bayes`` as an admin uses it, against a real PostgreSQL given by DSN."""

from __future__ import annotations

import json
import mailbox
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.spam.mails import mail

BIN = Path(sys.executable).parent


def pmgfast(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "pmgfast"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PMGFAST_STATE_DIR": str(state)},
    )


@pytest.fixture
def state(pg_server):
    path = Path(tempfile.mkdtemp(prefix="pmgfast-bayes-cli-"))
    os.chmod(path, 0o755)
    name = pg_server.create_database()
    assert pmgfast(path, "config", "set", "pmgfast", "dsn", pg_server.tcp_dsn(name)).returncode == 0
    yield path
    pg_server.drop_database(name)
    shutil.rmtree(path, ignore_errors=True)


def run(state: Path, *args: str) -> str:
    result = pmgfast(state, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_learn_stats_export_import_forget(state: Path, tmp_path: Path):
    spam_dir = tmp_path / "spam"
    spam_dir.mkdir()
    for i in range(3):
        (spam_dir / f"{i}.eml").write_bytes(
            mail(headers={"Message-ID": f"<s{i}@x>"}, body=f"cheap pills casino {i}\n")
        )
    box = mailbox.mbox(str(tmp_path / "ham.mbox"))
    for i in range(2):
        box.add(mail(headers={"Message-ID": f"<h{i}@x>"}, body=f"meeting minutes {i}\n"))
    box.flush()
    maildir = mailbox.Maildir(str(tmp_path / "maildir"))
    maildir.add(mail(headers={"Message-ID": "<m1@x>"}, body="agenda for friday\n"))
    out = run(state, "bayes", "learn", "--spam", str(spam_dir))
    assert "3 messages (3 learned)" in out and "3 spam and 0 ham" in out
    run(state, "bayes", "learn", "--ham", str(tmp_path / "ham.mbox"), str(tmp_path / "maildir"))
    again = run(state, "bayes", "learn", "--ham", str(tmp_path / "ham.mbox"))
    assert "2 already" in again
    stats = json.loads(run(state, "bayes", "stats", "--json"))
    assert (stats["nspam"], stats["nham"]) == (3, 3) and stats["tokens"] > 10 and not stats["ready"]
    export = tmp_path / "bayes.txt"
    run(state, "bayes", "export", "-o", str(export))
    text = export.read_text()
    assert text.startswith("# pmgfast bayes export v1\nnspam\t3\nnham\t3\n")
    run(state, "bayes", "forget", str(spam_dir))
    assert json.loads(run(state, "bayes", "stats", "--json"))["nspam"] == 0
    assert "imported" in run(state, "bayes", "import", str(export))
    assert json.loads(run(state, "bayes", "stats", "--json"))["tokens"] == stats["tokens"]
    bad = tmp_path / "bad.txt"
    bad.write_text("nspam\t1\nnham\t1\n1\t2\n")
    failed = pmgfast(state, "bayes", "import", str(bad))
    assert failed.returncode == 1 and "line 3" in failed.stderr


def test_lint(state: Path):
    assert "0 problems" in run(state, "bayes", "lint")
    etc = state / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "custom.cf").write_text("body BROKEN /(/\n")
    (etc / "customscores.cf").write_text("score NO_SUCH_TEST 1\n")
    result = pmgfast(state, "bayes", "lint")
    assert result.returncode == 1
    assert "BROKEN: bad regex" in result.stdout and "unknown test NO_SUCH_TEST" in result.stdout


def test_rules_lists_the_scores_of_this_installation(tmp_path: Path):
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "customscores.cf").write_text("score FORGED_MUA_OUTLOOK 4.5\n")
    (etc / "custom.cf").write_text("body LOCAL_OFFER /cheap widgets/i\ndescribe LOCAL_OFFER Ours\n")
    result = pmgfast(tmp_path, "bayes", "rules")
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines()[:-1]}
    assert lines["FORGED_MUA_OUTLOOK"][1:3] == ["meta", "4.5"]
    assert lines["LOCAL_OFFER"][1:4] == ["body", "1", "Ours"]
    assert "__UNUSABLE_MSGID" not in lines  # sub-tests are building blocks, not listed
    assert result.stdout.splitlines()[-1] == f"{len(lines)} tests"


def test_rules_page_matches_the_committed_reference(tmp_path: Path):
    page = Path(__file__).resolve().parents[2] / "docs" / "spam-rules.md"
    result = pmgfast(tmp_path, "bayes", "rules", "--markdown")
    assert result.returncode == 0, result.stderr
    assert result.stdout == page.read_text(), (
        "docs/spam-rules.md is stale: regenerate with "
        "'pmgfast bayes rules --markdown > docs/spam-rules.md'"
    )
