"""``pmgfast rules`` as an admin uses it, against a real PostgreSQL given by DSN."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def pmgfast(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "pmgfast"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PMGFAST_STATE_DIR": str(state)},
    )


@pytest.fixture
def state(pg_server):
    path = Path(tempfile.mkdtemp(prefix="pmgfast-rules-cli-"))
    os.chmod(path, 0o755)
    name = pg_server.create_database(migrated=False)
    ok = pmgfast(path, "config", "set", "pmgfast", "dsn", pg_server.tcp_dsn(name))
    assert ok.returncode == 0, ok.stderr
    yield path
    pg_server.drop_database(name)
    shutil.rmtree(path, ignore_errors=True)


def run(state: Path, *args: str) -> str:
    result = pmgfast(state, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_init_installs_the_factory_rules_and_list_shows_them_in_order(state):
    assert pmgfast(state, "rules", "list").returncode == 1  # no schema yet: a plain error
    assert "installed the factory mail filter rules" in run(state, "db", "init")
    assert "installed the factory" not in run(state, "db", "init")
    lines = run(state, "rules", "list").splitlines()
    assert lines[0].split() == ["ID", "PRIO", "ACTIVE", "DIR", "HITS", "NAME"]
    assert [line.split(None, 5)[5] for line in lines[1:4]] == [
        "Blocklist",
        "Virus Alert",
        "Block Viruses",
    ]
    assert len(lines) == 14


def test_show_names_groups_objects_and_modes(state):
    run(state, "db", "init")
    shown = run(state, "rules", "show", "Block Dangerous Files")
    assert "Rule 1: Block Dangerous Files" in shown
    assert "priority 93, active, direction in" in shown
    assert "what (any must match):" in shown
    assert "ContentType Filter: content-type=application/x-msdownload" in shown
    assert "Match Filename: filename=.*\\.(vbs|pif|lnk|shs|shb)" in shown
    assert "Remove attachments: remove matching attachments" in shown
    assert run(state, "rules", "show", "2").startswith("Rule 2: Block Viruses")
    missing = pmgfast(state, "rules", "show", "nope")
    assert missing.returncode == 1 and "no rule 'nope'" in missing.stderr


def test_export_import_round_trip_and_digest(state, tmp_path):
    run(state, "db", "init")
    exported = tmp_path / "rules.json"
    run(state, "rules", "export", "-o", str(exported))
    digest = run(state, "rules", "digest").strip()
    assert len(digest) == 40
    document = json.loads(exported.read_text())
    document["rules"][0]["priority"] = 11
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document))
    assert "imported 13 rules" in run(state, "rules", "import", str(changed))
    assert run(state, "rules", "digest").strip() != digest
    run(state, "rules", "import", str(exported))
    assert run(state, "rules", "digest").strip() == digest
    assert run(state, "rules", "export") == exported.read_text()


def test_a_faulty_import_changes_nothing_and_names_every_problem(state, tmp_path):
    run(state, "db", "init")
    digest = run(state, "rules", "digest")
    document = json.loads(run(state, "rules", "export"))
    document["rules"][0]["priority"] = 300
    document["groups"][7]["objects"][0]["contenttype"] = "image/[unclosed"
    document["rules"][1]["what"]["groups"] = [999]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    result = pmgfast(state, "rules", "import", str(bad))
    assert result.returncode == 1
    assert "3 problem(s)" in result.stderr
    assert "priority 300 is not within 0-100" in result.stderr
    assert "invalid regular expression 'image/[unclosed'" in result.stderr
    assert "group 999 does not exist" in result.stderr
    assert run(state, "rules", "digest") == digest
    check = pmgfast(state, "rules", "import", "--check", str(bad))
    assert check.returncode == 1


def test_reset_asks_and_then_restores_the_factory_rules(state, tmp_path):
    run(state, "db", "init")
    digest = run(state, "rules", "digest")
    document = json.loads(run(state, "rules", "export"))
    document["rules"] = document["rules"][:2]
    small = tmp_path / "small.json"
    small.write_text(json.dumps(document))
    assert "fine (2 rules" in run(state, "rules", "import", "--check", str(small))
    run(state, "rules", "import", str(small))
    assert len(run(state, "rules", "list").splitlines()) == 3
    assert pmgfast(state, "rules", "reset").returncode == 2
    assert "factory rules installed (13 rules)" in run(state, "rules", "reset", "--yes")
    assert len(run(state, "rules", "list").splitlines()) == 14
    # new ids, same content as the factory set: the digest differs only by ids
    assert run(state, "rules", "digest") != digest
