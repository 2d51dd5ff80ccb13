"""clamd.conf and freshclam.conf from pmg.conf, template overrides, and ``pmgfast config sync``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pmgfast.clamav import read_clamd_conf
from pmgfast.clamav.layout import SYSTEM, ClamdLayout
from pmgfast.cli import main
from pmgfast.config import pmgconf
from pmgfast.render import (
    TemplateEngine,
    TemplateError,
    apply,
    build_context,
    default_targets,
    plan,
    restart_services,
)
from tests.clamd import ClamdServer


def rendered(lines: str = "", template: str = "clamd.conf.in", layout=SYSTEM) -> str:
    conf = pmgconf.parse(lines)
    return TemplateEngine(None).render(template, build_context(conf, layout))


def options(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition(" ")
            out[name] = value
    return out


def test_defaults_match_pmg():
    clamd = options(rendered())
    assert clamd["LocalSocket"] == "/var/run/clamav/clamd.ctl"
    assert clamd["User"] == "clamav"
    assert clamd["AlertEncrypted"] == "false"
    assert clamd["MaxRecursion"] == "5"
    assert clamd["MaxFiles"] == "1000"
    assert clamd["MaxFileSize"] == "25000000"
    assert clamd["MaxScanSize"] == "100000000"
    assert clamd["StreamMaxLength"] == "10485760"
    assert clamd["StructuredDataDetection"] == "false"
    assert "TCPSocket" not in clamd
    fresh = options(rendered(template="freshclam.conf.in"))
    assert fresh["DatabaseMirror"] == "database.clamav.net"
    assert fresh["ScriptedUpdates"] == "yes"
    assert fresh["NotifyClamd"] == "/etc/clamav/clamd.conf"
    assert "HTTPProxyServer" not in fresh


@pytest.mark.parametrize(
    ("setting", "template", "option", "value"),
    [
        ("clamav archiveblockencrypted 1", "clamd.conf.in", "AlertEncrypted", "true"),
        ("clamav archivemaxfiles 50", "clamd.conf.in", "MaxFiles", "50"),
        ("clamav archivemaxrec 9", "clamd.conf.in", "MaxRecursion", "9"),
        ("clamav archivemaxsize 2000000", "clamd.conf.in", "MaxFileSize", "2000000"),
        ("clamav maxscansize 3000000", "clamd.conf.in", "MaxScanSize", "3000000"),
        ("clamav maxcccount 4", "clamd.conf.in", "StructuredMinCreditCardCount", "4"),
        ("clamav maxcccount 4", "clamd.conf.in", "StructuredMinSSNCount", "4"),
        ("clamav maxcccount 4", "clamd.conf.in", "StructuredDataDetection", "true"),
        ("mail maxsize 20000", "clamd.conf.in", "StreamMaxLength", "20000"),
        (
            "clamav dbmirror db.local.example",
            "freshclam.conf.in",
            "DatabaseMirror",
            "db.local.example",
        ),
        ("clamav scriptedupdates 0", "freshclam.conf.in", "ScriptedUpdates", "no"),
    ],
)
def test_each_option_changes_the_rendering(setting, template, option, value):
    section, _, rest = setting.partition(" ")
    assert options(rendered(f"section: {section}\n\t{rest}\n", template))[option] == value


def test_proxy_goes_to_freshclam():
    fresh = options(
        rendered(
            "section: admin\n\thttp_proxy http://user:p%40ss@proxy.example:3128/\n",
            "freshclam.conf.in",
        )
    )
    assert fresh["HTTPProxyServer"] == "proxy.example"
    assert fresh["HTTPProxyPort"] == "3128"
    assert fresh["HTTPProxyUsername"] == "user"
    assert fresh["HTTPProxyPassword"] == "p@ss"


def test_every_option_set_is_accepted_by_a_real_clamd():
    # clamd refuses to start on an unknown or malformed option, so this checks the template.
    server = ClamdServer.start_new(
        (
            "clamav archiveblockencrypted 1",
            "clamav archivemaxfiles 50",
            "clamav archivemaxrec 9",
            "clamav archivemaxsize 2000000",
            "clamav maxscansize 3000000",
            "clamav maxcccount 4",
            "mail maxsize 20000",
        )
    )
    try:
        log = (server.root / "clamd.log").read_text()
        assert "Recursion level limit set to 9" in log
        assert "Files limit set to 50" in log
        assert "Alerting of encrypted archives _and_ documents enabled" in log
        assert server.client().ping()
    finally:
        server.destroy()


def test_layout_for_a_private_instance():
    layout = ClamdLayout(local_socket=None, tcp_port=3310, user=None, log_file="/x/clamd.log")
    clamd = options(rendered(layout=layout))
    assert clamd["TCPSocket"] == "3310" and clamd["TCPAddr"] == "127.0.0.1"
    assert "LocalSocket" not in clamd and "User" not in clamd
    assert clamd["LogFile"] == "/x/clamd.log" and "LogSyslog" not in clamd


def test_override_template_wins(tmp_path: Path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "clamd.conf.in").write_text(
        "LocalSocket /run/custom.sock\nMaxFiles {{ pmg.clamav.archivemaxfiles }}\n"
    )
    engine = TemplateEngine(tmp_path)
    assert engine.origin("clamd.conf.in") == tmp_path / "templates" / "clamd.conf.in"
    assert engine.origin("freshclam.conf.in").parent.name == "templates"
    text = engine.render("clamd.conf.in", build_context(pmgconf.parse("")))
    assert text == "LocalSocket /run/custom.sock\nMaxFiles 1000\n"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("MaxFiles {{ pmg.clamav.no_such_key }}\n", "no_such_key"),
        ("{% if %}\n", "clamd.conf.in:1"),
    ],
)
def test_broken_override_is_an_error_not_a_broken_file(tmp_path: Path, body: str, problem: str):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "clamd.conf.in").write_text(body)
    with pytest.raises(TemplateError, match=problem):
        TemplateEngine(tmp_path).render("clamd.conf.in", build_context(pmgconf.parse("")))


def _layout(root: Path) -> ClamdLayout:
    return ClamdLayout(
        conf_path=root / "etc" / "clamd.conf", freshclam_conf_path=root / "etc" / "freshclam.conf"
    )


def test_sync_writes_only_what_changed_and_restarts_once(tmp_path: Path):
    targets = default_targets(_layout(tmp_path))
    engine = TemplateEngine(tmp_path)
    calls: list[tuple[str, str]] = []

    def runner(service: str, action: str) -> None:
        calls.append((service, action))

    first = plan(targets, build_context(pmgconf.parse("")), engine)
    assert [item.status for item in first] == ["created", "created"]
    written = apply(first)
    assert restart_services(written, runner) == [
        ("clamav-daemon", "restart"),
        ("clamav-freshclam", "restart"),
    ]
    stamp = os.stat(targets[0].path).st_mtime_ns

    again = plan(targets, build_context(pmgconf.parse("")), engine)
    assert [item.status for item in again] == ["unchanged", "unchanged"]
    assert apply(again) == []
    assert os.stat(targets[0].path).st_mtime_ns == stamp

    calls.clear()
    changed = plan(
        targets, build_context(pmgconf.parse("section: clamav\n\tarchivemaxfiles 7\n")), engine
    )
    assert [item.status for item in changed] == ["changed", "unchanged"]
    assert "+MaxFiles 7" in changed[0].diff()
    restart_services(apply(changed), runner)
    assert calls == [("clamav-daemon", "restart")]
    assert read_clamd_conf(targets[0].path).address.path == "/var/run/clamav/clamd.ctl"


def test_config_sync_command(tmp_path: Path, capsys):
    config_dir = tmp_path / "etc-pmgfast"
    config_dir.mkdir()
    (config_dir / "pmg.conf").write_text("section: clamav\n\tarchivemaxrec 3\n")
    root = tmp_path / "root"
    base = ["--state-dir", str(tmp_path / "state"), "--config-dir", str(config_dir)]

    assert main([*base, "config", "sync", "--root", str(root), "--dry-run"]) == 0
    assert "clamd.conf: created" in capsys.readouterr().out
    assert not (root / "etc" / "clamav" / "clamd.conf").exists()

    assert main([*base, "config", "sync", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "clamd.conf: created (restart clamav-daemon)" in out
    assert "MaxRecursion 3\n" in (root / "etc" / "clamav" / "clamd.conf").read_text()

    assert main([*base, "config", "sync", "--root", str(root)]) == 0
    assert capsys.readouterr().out.count("unchanged") == 2

    (config_dir / "templates").mkdir()
    (config_dir / "templates" / "clamd.conf.in").write_text("LocalSocket {{ nothing }}\n")
    assert main([*base, "config", "sync", "--root", str(root)]) == 1
    assert "nothing" in capsys.readouterr().err


def test_clamd_conf_location_follows_pmg_conf(tmp_path: Path, capsys):
    config_dir = tmp_path / "etc-pmgfast"
    config_dir.mkdir()
    (config_dir / "pmg.conf").write_text("section: pmgfast\n\tclamd_conf /srv/clamav/clamd.conf\n")
    root = tmp_path / "root"
    base = ["--state-dir", str(tmp_path / "state"), "--config-dir", str(config_dir)]
    assert main([*base, "config", "sync", "--root", str(root)]) == 0
    assert (root / "srv" / "clamav" / "clamd.conf").is_file()
    fresh = options((root / "etc" / "clamav" / "freshclam.conf").read_text())
    assert fresh["NotifyClamd"] == "/srv/clamav/clamd.conf"


def test_clamconf_accepts_both_rendered_files(tmp_path: Path):
    # ClamAV's own parser (clamconf) names any unknown or malformed option as "ERROR: Parse".
    lines = (
        "section: admin\n\thttp_proxy http://user:secret@proxy.example:3128/\n"
        "section: clamav\n\tarchiveblockencrypted 1\n\tmaxcccount 2\n\tscriptedupdates 0\n"
        "\tdbmirror db.example\n"
    )
    layout = ClamdLayout(user=None, database_dir=str(tmp_path), log_file=str(tmp_path / "c.log"))
    for template, name in (
        ("clamd.conf.in", "clamd.conf"),
        ("freshclam.conf.in", "freshclam.conf"),
    ):
        (tmp_path / name).write_text(rendered(lines, template, layout))
    done = subprocess.run(
        [shutil.which("clamconf") or "/usr/bin/clamconf", "-c", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    output = done.stdout + done.stderr
    assert "Config file: freshclam.conf" in output and "Config file: clamd.conf" in output
    assert "ERROR" not in output, output[:2000]
