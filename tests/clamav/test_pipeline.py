"""A virus through the whole pipeline with PMG's factory rules and a real clamd.

Incoming virus mail is quarantined (virus quarantine, admin notified), outgoing virus mail is
blocked (sender and admin notified), as PMG's default rules "Block Viruses" and "Virus Alert"
do; clean mail is accepted; clamd down answers 451 unless the admin chose fail-open.
"""

from __future__ import annotations

from pathlib import Path

from pmgfast import pipeline, rules
from pmgfast.actions.effects import DryRun
from pmgfast.actions.log import ListSink
from pmgfast.clamav.scanner import ClamAVScanner, from_config
from pmgfast.config import pmgconf
from pmgfast.rules.outcome import SetHeader
from tests.clamav import mails
from tests.clamd import EICAR_NAME, ClamdServer

VINFO = f"{EICAR_NAME} (clamav)"


def run(
    server: ClamdServer,
    raw: bytes,
    trusted: bool,
    tmp_path: Path,
    conf_text: str = "",
) -> tuple[pipeline.Reply, DryRun, list[str]]:
    conf = pmgconf.parse(conf_text)
    settings = pipeline.Settings.from_config(conf, tmp_path, rules.HostInfo())
    scanner = from_config(conf, server.conf_path, fail_open="scanner" in settings.fail_open)
    assert isinstance(scanner, ClamAVScanner)
    server.clients.append(scanner.client)
    effects, sink = DryRun(), ListSink()
    pipe = pipeline.Pipeline(
        settings, rules.Generations(rules.factory()), (scanner,), effects=effects, sink=sink
    )
    sender, rcpt = ("user@example.com", "friend@example.net")
    if not trusted:
        sender, rcpt = rcpt, sender
    envelope = pipeline.Envelope(
        sender=sender,
        recipients=(pipeline.Recipient(rcpt),),
        client_address="192.0.2.7",
        trusted=trusted,
        mode="before-queue",
    )
    reply = pipe.process(pipeline.Mail(envelope, raw))
    return reply, effects, sink.lines


def test_incoming_virus_is_quarantined_with_admin_notification(clamd: ClamdServer, tmp_path):
    reply, effects, lines = run(clamd, mails.eicar_in_zip(), False, tmp_path)
    assert reply.analysis is not None
    facts = reply.analysis.facts
    assert facts.virus == VINFO
    [decision] = reply.analysis.outcome.decisions
    assert decision.action == "quarantine" and decision.quarantine == "V"
    assert decision.rule == "Block Viruses"
    assert [qtype for qtype, _, _ in effects.stored] == ["V"]
    assert any(to == ("admin@domain.tld",) for _, to, _ in effects.sent)  # Notify Admin
    assert any(f"virus detected: {VINFO}" in line for line in lines)
    assert SetHeader("X-Proxmox-VInfo", VINFO, VINFO) in reply.analysis.base_edits


def test_outgoing_virus_is_blocked_with_notifications(clamd: ClamdServer, tmp_path):
    reply, effects, _ = run(clamd, mails.eicar_attachment(), True, tmp_path)
    assert reply.analysis is not None
    [decision] = reply.analysis.outcome.decisions
    assert decision.action == "block" and decision.rule == "Virus Alert"
    assert reply.action == "reject"
    recipients = {to for _, to, _ in effects.sent}
    assert ("user@example.com",) in recipients  # Notify Sender
    assert ("admin@domain.tld",) in recipients  # Notify Admin
    assert effects.stored == []
    assert not any(isinstance(e, SetHeader) for e in reply.analysis.base_edits)


def test_clean_mail_is_accepted(clamd: ClamdServer, tmp_path):
    reply, effects, _ = run(clamd, mails.clean_mail(), False, tmp_path)
    assert reply.action == "accept"
    assert reply.analysis is not None and reply.analysis.facts.virus is None
    assert effects.stored == [] and effects.sent == []


def test_heuristic_is_spam_score_not_virus(clamd_encrypted: ClamdServer, tmp_path):
    reply, _, _ = run(clamd_encrypted, mails.eicar_encrypted_zip(), False, tmp_path)
    assert reply.analysis is not None
    facts = reply.analysis.facts
    assert facts.virus is None
    assert [h.rule for h in facts.spam.hits] == ["ClamAVHeuristics"]
    assert facts.spam.score == 3


def test_clamd_down_is_451_then_service_resumes(own_clamd: ClamdServer, tmp_path):
    own_clamd.stop()
    reply, effects, lines = run(own_clamd, mails.eicar_in_zip(), False, tmp_path)
    assert reply.action == "tempfail" and reply.cause == "scanner"
    assert reply.smtp is not None and reply.smtp[0] == "451"
    assert effects.stored == [] and effects.sent == []
    assert any("clamav" in line for line in lines)
    own_clamd.start()
    reply, effects, _ = run(own_clamd, mails.eicar_in_zip(), False, tmp_path)
    assert [qtype for qtype, _, _ in effects.stored] == ["V"]


def test_fail_open_accepts_unscanned_when_asked(own_clamd: ClamdServer, tmp_path):
    own_clamd.stop()
    reply, _, lines = run(
        own_clamd,
        mails.eicar_in_zip(),
        False,
        tmp_path,
        "section: pmgfast\n\tmilter_fail_open scanner\n",
    )
    assert reply.action == "accept"
    assert reply.analysis is not None and reply.analysis.facts.virus is None
    assert any("clamav" in line for line in lines)


def test_virus_names_reach_the_statistics(clamd: ClamdServer, pg_dsn: str, tmp_path: Path):
    """CStatistic.VirusInfo per message: what PMG's virus chart counts per name."""
    import psycopg

    from pmgfast.stats import StatsWriter
    from tests.clamd import AV, xor_decode

    conf = pmgconf.parse("")
    scanner = from_config(conf, clamd.conf_path)
    assert scanner is not None
    clamd.clients.append(scanner.client)
    stats = StatsWriter(lambda: psycopg.connect(pg_dsn), interval=0.05).start()
    pipe = pipeline.Pipeline(
        pipeline.Settings.from_config(conf, tmp_path, rules.HostInfo()),
        rules.Generations(rules.factory()),
        (scanner,),
        effects=DryRun(),
        sink=ListSink(),
        stats=stats,
    )
    clam_mail = mails.with_attachment(
        "clam", "clam.exe", xor_decode(AV / "clamav" / "clam.exe.xor")
    )
    for raw in (mails.eicar_in_zip(), mails.eicar_uuencoded(), clam_mail, mails.clean_mail()):
        envelope = pipeline.Envelope(
            "friend@example.net", (pipeline.Recipient("user@example.com"),), trusted=False
        )
        assert pipe.process(pipeline.Mail(envelope, raw)).action != "tempfail"
    assert stats.flush(10.0)
    stats.close()
    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute(
            "SELECT VirusInfo, count(*) FROM CStatistic GROUP BY VirusInfo"
        ).fetchall()
    counts = dict(rows)
    assert counts.pop(VINFO) == 2
    assert counts.pop(None) == 1
    [(name, count)] = counts.items()
    assert name.endswith(".UNOFFICIAL (clamav)") and count == 1


def test_pmgfast_scan_uses_clamav_as_the_milter_does(clamd: ClamdServer, tmp_path: Path, capsys):
    import orjson

    from pmgfast.cli import main

    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    (config_dir / "pmg.conf").write_text(f"section: pmgfast\n\tclamd_conf {clamd.conf_path}\n")
    (tmp_path / "virus.eml").write_bytes(mails.eicar_in_zip())
    (tmp_path / "clean.eml").write_bytes(mails.clean_mail())
    base = ["--state-dir", str(tmp_path / "state"), "--config-dir", str(config_dir)]
    args = ["scan", "--factory-rules", "--json", "--from", "a@ext.example", "--to", "u@local"]
    assert main([*base, *args, str(tmp_path / "virus.eml"), str(tmp_path / "clean.eml")]) == 0
    virus, clean = (orjson.loads(line) for line in capsys.readouterr().out.splitlines())
    assert virus["virus"] == VINFO
    assert virus["recipients"] == [
        {"address": "u@local", "verdict": "quarantine (V)", "rule": "Block Viruses"}
    ]
    assert clean["virus"] is None and clean["recipients"][0]["verdict"] == "accept"
    # clamd.conf missing: a plain configuration error, not a traceback and not a silent pass
    (config_dir / "pmg.conf").write_text("section: pmgfast\n\tclamd_conf /nonexistent.conf\n")
    assert main([*base, *args, str(tmp_path / "virus.eml")]) == 1
    assert "cannot read /nonexistent.conf" in capsys.readouterr().err
