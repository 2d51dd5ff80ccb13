"""``pmgfast greylist``: expire, list and the whitelist commands against a real database."""

from __future__ import annotations

import psycopg

from pmgfast.cli import main
from pmgfast.greylist import store
from pmgfast.greylist.policy import Constants
from pmgfast.greylist.triple import Triple

C = Constants()


def base(tmp_path, pg_dsn) -> list[str]:
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    (config_dir / "pmg.conf").write_text(f"section: pmgfast\n\tdsn {pg_dsn}\n")
    return ["--state-dir", str(tmp_path / "state"), "--config-dir", str(config_dir)]


def test_expire_and_list(tmp_path, pg_dsn, capsys):
    args = base(tmp_path, pg_dsn)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        store.decide(conn, Triple("192.0.2.0/24", "a@ext.example", "u@local.example"), 100, "m", C)
        store.decide(conn, Triple("192.0.2.0/24", "a@ext.example", "v@local.example"), 100, "m", C)
    assert main([*args, "greylist", "list"]) == 0
    out = capsys.readouterr().out
    assert (
        "192.0.2.0/24 <a@ext.example> -> <u@local.example>" in out and "blocked 1 passed 0" in out
    )
    assert main([*args, "greylist", "list", "--count"]) == 0
    assert capsys.readouterr().out == "2\n"
    assert main([*args, "greylist", "expire", "--now", str(100 + C.retry_window + 1)]) == 0
    assert capsys.readouterr().out == (
        "found 1 expired mails in greylisting database (2 recipients); deleted 2 expired triples\n"
    )
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT Spamlevel, Sender FROM CStatistic").fetchall() == [
            (5.0, "a@ext.example")
        ]


def test_whitelist_commands(tmp_path, pg_dsn, capsys):
    args = base(tmp_path, pg_dsn)
    assert main([*args, "greylist", "whitelist", "add", "email", "friend@ext.example"]) == 0
    oid = int(capsys.readouterr().out)
    assert main([*args, "greylist", "whitelist", "add", "network", "198.51.100.0/24"]) == 0
    capsys.readouterr()
    assert main([*args, "greylist", "whitelist", "list"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"{oid}\temail\tfriend@ext.example"
    assert main([*args, "greylist", "whitelist", "add", "ip", "not-an-ip"]) == 1
    assert "not an IP address" in capsys.readouterr().err
    assert main([*args, "greylist", "whitelist", "remove", str(oid)]) == 0
    assert main([*args, "greylist", "whitelist", "remove", str(oid)]) == 1
    assert f"no whitelist entry has id {oid}" in capsys.readouterr().err
