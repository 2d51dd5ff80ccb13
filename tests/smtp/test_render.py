"""The Postfix configuration ``pmgfast config sync`` renders: every option of the admin guide's
section 4.7 changes it (one test case per option, named after it), Postfix's own parser
(``postconf``) accepts every variant, and the sync writes only what changed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pmgfast.config import load_all
from pmgfast.postfix.config import PostfixLayout, postfix_context
from pmgfast.postfix.sync import postfix_targets, prepare, runner
from pmgfast.render import TemplateEngine, apply, plan, restart_services
from pmgfast.render.targets import Target
from pmgfast.rules.objects.who import EMail, IPAddress, IPNet, ReceiverDomain, WhoRegex
from pmgfast.smtpwl import whitelist_maps

DNS = {"hostname": "gw", "domain": "example.org", "fqdn": "gw.example.org"}


def render(
    tmp_path: Path,
    conf: str = "",
    lists: dict[str, str] | None = None,
    whitelist=(),
    node_ip: str = "",
) -> dict[str, str]:
    """Every Postfix file as text, keyed by file name (tables as 'pmgfast/<name>')."""
    config_dir = tmp_path / "etc"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "pmg.conf").write_text(conf)
    for name, text in (lists or {}).items():
        (config_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (config_dir / name).write_text(text)
    settings = load_all(config_dir)
    layout = PostfixLayout(
        tmp_path / "postfix", tmp_path / "queue", tmp_path / "data", config_dir / "pmg-tls.pem"
    )
    context = postfix_context(settings, layout, whitelist_maps(whitelist), node_ip, DNS)
    engine = TemplateEngine(config_dir)
    out = {}
    for item in plan(postfix_targets(layout), context, engine):
        out[str(item.path.relative_to(layout.config_dir))] = item.text
    return out


def section(**keys: str) -> str:
    by_section: dict[str, list[str]] = {}
    for name, value in keys.items():
        sec, key = name.split("__")
        by_section.setdefault(sec, []).append(f"\t{key.replace('_dash_', '-')} {value}")
    return "".join(f"section: {s}\n" + "\n".join(lines) + "\n\n" for s, lines in by_section.items())


# (option, pmg.conf keys, list files, file, text that must appear)
CASES = [
    ("relay", {"mail__relay": "mail.internal.example"}, {}, "main.cf",
     "relay_transport = smtp:mail.internal.example:25"),
    ("relayport", {"mail__relay": "mail.internal.example", "mail__relayport": "2525"}, {},
     "main.cf", "relay_transport = smtp:mail.internal.example:2525"),
    ("relayprotocol", {"mail__relay": "mail.internal.example", "mail__relayprotocol": "lmtp"},
     {}, "main.cf", "relay_transport = lmtp:inet:mail.internal.example:25"),
    ("relaynomx", {"mail__relay": "mail.internal.example", "mail__relaynomx": "1"}, {},
     "main.cf", "relay_transport = smtp:[mail.internal.example]:25"),
    ("smarthost", {"mail__smarthost": "smart.example.net"}, {}, "main.cf",
     "default_transport = smtp:smart.example.net:25"),
    ("smarthostport", {"mail__smarthost": "192.0.2.8", "mail__smarthostport": "587"}, {},
     "main.cf", "default_transport = smtp:[192.0.2.8]:587"),
    ("relay domains", {}, {"domains": "example.com\nexample.net\n"}, "pmgfast/relay_domains",
     "example.com OK\nexample.net OK\n"),
    ("transport smtp with MX", {}, {"transport": "a.example smtp:mx.a.example:25\n"},
     "pmgfast/transport", "a.example smtp:mx.a.example:25\n"),
    ("transport smtp without MX", {}, {"transport": "b.example smtp:[mx.b.example]:2525\n"},
     "pmgfast/transport", "b.example smtp:[mx.b.example]:2525\n"),
    ("transport lmtp", {}, {"transport": "c.example lmtp:store.c.example:24\n"},
     "pmgfast/transport", "c.example lmtp:inet:store.c.example:24\n"),
    ("transport address", {}, {"transport": "boss@d.example smtp:[192.0.2.44]:25\n"},
     "pmgfast/transport", "boss@d.example smtp:[192.0.2.44]:25\n"),
    ("transport host in mynetworks", {}, {"transport": "d.example smtp:[192.0.2.45]:25\n"},
     "main.cf", "mynetworks = 127.0.0.0/8 [::1]/128 192.0.2.45/32\n"),
    ("trusted networks", {}, {"mynetworks": "198.51.100.0/24\n2001:db8::/32\n"}, "main.cf",
     "mynetworks = 127.0.0.0/8 [::1]/128 198.51.100.0/24 [2001:db8::]/32\n"),
    ("ext_port", {"mail__ext_port": "2525"}, {}, "master.cf", "2525 inet n - n - 1 postscreen\n"),
    ("int_port", {"mail__int_port": "2626"}, {}, "master.cf", "2626 inet n - n - 100 smtpd\n"),
    ("banner", {"mail__banner": "ESMTP Gateway"}, {}, "main.cf",
     "smtpd_banner = $myhostname ESMTP Gateway\n"),
    ("maxsize", {"mail__maxsize": "2048000"}, {}, "main.cf", "message_size_limit = 2048000\n"),
    ("dwarning", {"mail__dwarning": "8"}, {}, "main.cf", "delay_warning_time = 8h\n"),
    ("conn_count_limit", {"mail__conn_count_limit": "7"}, {}, "main.cf",
     "smtpd_client_connection_count_limit = 7\n"),
    ("conn_rate_limit", {"mail__conn_rate_limit": "30"}, {}, "main.cf",
     "smtpd_client_connection_rate_limit = 30\n"),
    ("message_rate_limit", {"mail__message_rate_limit": "90"}, {}, "main.cf",
     "smtpd_client_message_rate_limit = 90\n"),
    ("helotests", {"mail__helotests": "1"}, {}, "main.cf",
     "smtpd_helo_required = yes\nsmtpd_helo_restrictions = permit_mynetworks "
     "reject_non_fqdn_helo_hostname reject_invalid_helo_hostname\n"),
    ("rejectunknown", {"mail__rejectunknown": "1"}, {}, "main.cf",
     " reject_unknown_client_hostname\n"),
    ("rejectunknownsender", {"mail__rejectunknownsender": "1"}, {}, "main.cf",
     " reject_unknown_sender_domain\n"),
    ("verifyreceivers 550", {"mail__verifyreceivers": "550"}, {}, "main.cf",
     "reject_unknown_recipient_domain reject_unverified_recipient\n\n"
     "unverified_recipient_reject_code = 550\n"),
    ("verifyreceivers 450", {"mail__verifyreceivers": "450"}, {}, "main.cf",
     "unverified_recipient_reject_code = 450\n"),
    ("dnsbl_sites", {"mail__dnsbl_sites": "zen.example*2; bl.example=127.0.0.[2..3]"}, {},
     "main.cf", "postscreen_dnsbl_sites = zen.example*2,bl.example=127.0.0.[2..3]\n"
     "postscreen_dnsbl_threshold = 1\n"),
    ("dnsbl_threshold", {"mail__dnsbl_sites": "zen.example", "mail__dnsbl_threshold": "3"}, {},
     "main.cf", "postscreen_dnsbl_threshold = 3\n"),
    ("smtputf8", {"mail__smtputf8": "0"}, {}, "main.cf", "smtputf8_enable = no\n"),
    ("hide_received", {"mail__hide_received": "1"}, {}, "main.cf",
     "unverified_recipient_reject_reason = Recipient address lookup failed\n"),
    ("filter-timeout", {"mail__filter_dash_timeout": "120"}, {}, "main.cf",
     "milter_content_timeout = 120s\n"),
    ("before-queue mode", {"mail__before_queue_filtering": "1"}, {}, "master.cf",
     "smtpd pass - - n - 100 smtpd\n  -o smtpd_milters=inet:127.0.0.1:10026\n"
     "  -o milter_macro_daemon_name=pmgfast-in\n"),
    ("tls", {"mail__tls": "1"}, {}, "main.cf",
     "smtpd_tls_security_level = may\nsmtpd_tls_cert_file = {etc}/pmg-tls.pem\n"
     "smtpd_tls_key_file = $smtpd_tls_cert_file\n"),
    ("tlslog", {"mail__tls": "1", "mail__tlslog": "1"}, {}, "main.cf",
     "smtpd_tls_loglevel = 1\nsmtp_tls_loglevel = 1\n"),
    ("tlsheader", {"mail__tls": "1", "mail__tlsheader": "1"}, {}, "main.cf",
     "smtpd_tls_received_header = yes\n"),
    ("tls_policy", {"mail__tls": "1"}, {"tls_policy": "bank.example encrypt\n"},
     "pmgfast/tls_policy", "bank.example encrypt\n"),
    ("tls_inbound_domains", {}, {"tls_inbound_domains": "secure.example\n"},
     "pmgfast/tls_inbound_domains", "secure.example reject_plaintext_session\n"),
    ("greylist and spf off", {"mail__greylist": "0", "mail__spf": "0",
                              "mail__before_queue_filtering": "0"}, {}, "master.cf", None),
    ("max_smtpd_in", {"mail__max_smtpd_in": "20"}, {}, "master.cf",
     "smtpd pass - - n - 20 smtpd\n"),
    ("max_smtpd_out", {"mail__max_smtpd_out": "30"}, {}, "master.cf",
     "26 inet n - n - 30 smtpd\n"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("option", "keys", "lists", "name", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_option_changes_the_rendered_configuration(tmp_path, option, keys, lists, name, expected):
    default = render(tmp_path / "default")
    changed = render(tmp_path / "changed", section(**keys), lists)
    assert changed[name] != default[name], option
    if expected is not None:
        expected = expected.format(etc=tmp_path / "changed" / "etc")
        assert expected in changed[name], (option, changed[name])
        assert expected not in default[name]


def test_after_queue_mode_filters_behind_the_queue_with_a_gate_in_front(tmp_path):
    after = render(tmp_path / "aq", section(mail__before_queue_filtering="0"))["master.cf"]
    before = render(tmp_path / "bq", section(mail__before_queue_filtering="1"))["master.cf"]
    assert (
        "smtpd pass - - n - 100 smtpd\n  -o content_filter=pmgfast-scan:[127.0.0.1]:10024\n"
        "  -o smtpd_milters=inet:127.0.0.1:10026\n  -o milter_macro_daemon_name=pmgfast-gate\n"
    ) in after
    assert "127.0.0.1:10024 inet n - n - - smtpd" in after
    assert "pmgfast-scan" not in before and "pmgfast-gate" not in before


def test_greylisting_off_removes_the_gate_and_the_policy_exemptions(tmp_path):
    on = render(tmp_path / "on", section(mail__before_queue_filtering="0"))
    off = render(
        tmp_path / "off",
        section(mail__before_queue_filtering="0", mail__greylist="0", mail__spf="0"),
    )
    assert "pmgfast-gate" in on["master.cf"] and "pmgfast-gate" not in off["master.cf"]
    assert "check_client_access cidr:" in on["main.cf"].split("smtpd_recipient_restrictions")[1]
    assert "check_client_access" not in off["main.cf"].split("smtpd_recipient_restrictions")[1]


def test_smtp_whitelist_tables(tmp_path):
    whitelist = [
        EMail(email="friend@ext.example"),
        IPAddress(ip="192.0.2.9"),
        IPNet(cidr="198.51.100.0/24"),
        WhoRegex(regex=r".*@news/letters\.example"),
        ReceiverDomain(domain="postmaster.example"),
    ]
    files = render(tmp_path, whitelist=whitelist)
    assert "/^friend@ext\\.example$/ OK\n" in files["pmgfast/senderaccess"]
    assert "/^.*@news\\/letters\\.example$/ OK\n" in files["pmgfast/senderaccess"]
    assert "/^.+@postmaster\\.example$/ OK\n" in files["pmgfast/rcptaccess"]
    assert "192.0.2.9 OK\n198.51.100.0/24 OK\n" in files["pmgfast/clientaccess"]
    assert "192.0.2.9 permit\n198.51.100.0/24 permit\n" in files["pmgfast/postscreen_access"]
    # Postfix's own lookups agree
    (tmp_path / "wl").mkdir()
    for table, kind, key, want in (
        ("senderaccess", "regexp", "FRIEND@ext.example", "OK"),
        ("senderaccess", "regexp", "x@news/letters.example", "OK"),
        ("senderaccess", "regexp", "friend@extXexample", None),
        ("rcptaccess", "regexp", "anyone@postmaster.example", "OK"),
        ("clientaccess", "cidr", "192.0.2.9", "OK"),
        ("clientaccess", "cidr", "198.51.100.77", "OK"),
        ("postscreen_access", "cidr", "198.51.100.77", "permit"),
        ("postscreen_access", "cidr", "192.0.2.10", None),
    ):
        path = tmp_path / "wl" / table
        path.write_text(files[f"pmgfast/{table}"])
        (tmp_path / "wl" / "main.cf").write_text("")
        got = subprocess.run(
            ["postmap", "-c", str(tmp_path / "wl"), "-q", key, f"{kind}:{path}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert (got.stdout.strip() or None) == want, (table, key, got)


def _postconf(directory: Path, files: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("main.cf", "master.cf"):
        (directory / name).write_text(files[name])
    return subprocess.run(
        ["postconf", "-c", str(directory), *args], capture_output=True, text=True, check=False
    )


VARIANTS = {
    "defaults": {},
    "everything on": {
        "mail__relay": "192.0.2.25", "mail__relaynomx": "1", "mail__smarthost": "smart.example",
        "mail__helotests": "1", "mail__rejectunknown": "1", "mail__rejectunknownsender": "1",
        "mail__verifyreceivers": "450", "mail__dnsbl_sites": "zen.example*2",
        "mail__tls": "1", "mail__tlslog": "1", "mail__tlsheader": "1", "mail__smtputf8": "0",
        "mail__hide_received": "1", "mail__before_queue_filtering": "1",
    },
    "lmtp relay after queue": {"mail__relay": "store.example", "mail__relayprotocol": "lmtp"},
}  # fmt: skip


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_postfix_accepts_the_rendered_configuration(tmp_path, variant):
    files = render(
        tmp_path,
        section(**VARIANTS[variant]) if VARIANTS[variant] else "",
        {"transport": "a.example lmtp:192.0.2.30:24\n", "mynetworks": "2001:db8::/32\n"},
    )
    main = _postconf(tmp_path / "pf", files, "-n")
    assert main.returncode == 0 and not main.stderr, main.stderr
    master = _postconf(tmp_path / "pf", files, "-M")
    assert master.returncode == 0 and not master.stderr, master.stderr
    services = {line.split()[0] for line in master.stdout.splitlines()}
    assert {"25", "smtpd", "26", "127.0.0.1:10025", "verify", "dnsblog", "tlsproxy"} <= services


def test_admin_templates_override_and_extend(tmp_path):
    templates = tmp_path / "etc" / "templates"
    templates.mkdir(parents=True)
    (templates / "main.cf.local.in").write_text("# local\nsoft_bounce = yes\n")
    (templates / "postfix-relay_domains.in").write_text(
        "{% for d in lists.domains %}{{ d }} RELAY\n{% endfor %}"
    )
    files = render(tmp_path, "", {"domains": "example.com\n"})
    assert files["main.cf"].endswith("# local\nsoft_bounce = yes\n")
    assert files["pmgfast/relay_domains"] == "example.com RELAY\n"


def _settings_dir(tmp_path: Path, conf: str) -> Path:
    config_dir = tmp_path / "etc"
    config_dir.mkdir(parents=True, exist_ok=True)
    postfix = tmp_path / "postfix"
    postfix.mkdir(exist_ok=True)
    (config_dir / "pmg.conf").write_text(
        conf + section(pmgfast__postfix_dir=str(postfix), pmgfast__postfix_queue_dir="/q")
    )
    return config_dir


def test_sync_writes_what_changed_and_reloads_postfix_once(tmp_path):
    config_dir = _settings_dir(tmp_path, section(mail__tls="1"))
    calls: list[tuple[str, str]] = []

    def sync() -> list[str]:
        settings = load_all(config_dir)
        prepared = prepare(settings, lambda: [EMail(email="a@b.example")])
        items = plan(prepared.targets, prepared.context, TemplateEngine(config_dir))
        changed = apply(items)
        restart_services(changed, lambda service, action: calls.append((service, action)))
        return [str(item.target.path.name) for item in changed]

    first = sync()
    assert "main.cf" in first and "senderaccess" in first and len(first) == 10
    assert calls == [("postfix", "reload")]
    assert sync() == [] and calls == [("postfix", "reload")]  # nothing changed: no reload
    (config_dir / "domains").write_text("example.com\n")
    assert sync() == ["relay_domains"] and calls == [("postfix", "reload")] * 2


def test_whitelist_tables_survive_a_database_outage(tmp_path):
    config_dir = _settings_dir(tmp_path, "")
    settings = load_all(config_dir)

    def down():
        raise OSError("database is down")

    fresh = prepare(settings, down)
    assert fresh.note and "database is down" in fresh.note
    names = {t.path.name for t in fresh.targets}
    assert "senderaccess" in names  # missing: created empty, since main.cf refers to it
    apply(plan(fresh.targets, fresh.context, TemplateEngine(config_dir)))
    senders = tmp_path / "postfix" / "pmgfast" / "senderaccess"
    senders.write_text("/^kept@example\\.com$/ OK\n")
    again = prepare(settings, down)
    assert "senderaccess" not in {t.path.name for t in again.targets}
    apply(plan(again.targets, again.context, TemplateEngine(config_dir)))
    assert senders.read_text() == "/^kept@example\\.com$/ OK\n"


def test_runner_reloads_only_a_running_postfix(tmp_path):
    layout = PostfixLayout(tmp_path / "not-running")
    layout.config_dir.mkdir()
    (layout.config_dir / "main.cf").write_text(f"queue_directory = {tmp_path}/q\n")
    other: list[tuple[str, str]] = []
    run = runner(layout, lambda s, a: other.append((s, a)))
    run("postfix", "reload")  # not running: nothing to do, no error
    run("clamav-daemon", "restart")
    assert other == [("clamav-daemon", "restart")]


def test_the_certificate_is_made_once(tmp_path):
    from cryptography import x509

    from pmgfast.postfix.sync import ensure_tls

    config_dir = _settings_dir(tmp_path, section(mail__tls="1"))
    settings = load_all(config_dir)
    layout = prepare(settings, lambda: []).layout
    assert ensure_tls(settings, layout)
    pem = layout.tls_cert.read_bytes()
    assert layout.tls_cert.stat().st_mode & 0o777 == 0o600
    assert b"PRIVATE KEY" in pem and x509.load_pem_x509_certificate(pem).not_valid_after_utc
    assert not ensure_tls(settings, layout) and layout.tls_cert.read_bytes() == pem
    off = load_all(_settings_dir(tmp_path / "off", ""))
    assert not ensure_tls(off, prepare(off, lambda: []).layout)


def test_targets_reload_postfix():
    layout = PostfixLayout(Path("/etc/postfix"))
    targets = postfix_targets(layout)
    assert all(isinstance(t, Target) and (t.service, t.action) == ("postfix", "reload")
               for t in targets)  # fmt: skip
    assert [t.path.name for t in targets][:2] == ["main.cf", "master.cf"]
