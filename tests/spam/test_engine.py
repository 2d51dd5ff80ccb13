"""The score engine: settings from pmg.conf, scores, custom scores, the report and log line,
the scanner interface, AWL, autolearn, and the pipeline's user lists."""

from __future__ import annotations

import re
from pathlib import Path

from pmgfast.rules import MessageFacts, SpamHit, SpamResult
from pmgfast.rules.userlists import UserLists
from pmgfast.scan import ScanItem, run_scanners
from pmgfast.spam.awl import MemoryAWL, adjustment, network_of
from pmgfast.spam.bayes import AutolearnPolicy, BayesFilter, autolearn_decision
from pmgfast.spam.bayes_store import MemoryTokenStore
from pmgfast.spam.engine import SpamEngine, SpamSettings, load_rules, read_scores
from pmgfast.spam.scanner import SpamScanner
from pmgfast.spam.userprefs import sender_addresses
from pmgfast.spam.view import Envelope
from tests.spam.mails import ARRIVAL, PLAIN, mail


class Conf:
    def __init__(self, **values):
        self.values = {
            "maxspamsize": 262144,
            "bounce_score": 0,
            "use_bayes": 0,
            "use_awl": 0,
            "languages": "all",
            "wl_bounce_relays": None,
            "clamav_heuristic_score": 3,
        }
        self.values.update(values)

    def get(self, section, key):
        assert section == "spam"
        return self.values[key]


SPAMMY = mail(
    headers={"Subject": "FREE MONEY FOR YOU!!", "Date": None, "Message-ID": None},
    body=PLAIN + "\nYou have been selected. Act now, this is not spam! Earn $5,000 per week.\n",
)


def test_settings_from_pmg_conf():
    s = SpamSettings.from_config(
        Conf(
            languages="en de", wl_bounce_relays="a.example, b.example", use_bayes=1, bounce_score=7
        )
    )
    assert s.languages == ("en", "de") and s.wl_bounce_relays == ("a.example", "b.example")
    assert s.use_bayes and s.bounce_score == 7
    assert SpamSettings.from_config(Conf()).languages == ()


def test_score_is_the_sum_of_the_hits_and_the_report_formats_like_pmg():
    engine = SpamEngine()
    report = engine.check(SPAMMY, now=ARRIVAL)
    names = [h.name for h in report.hits]
    assert {"MISSING_DATE", "MISSING_MID", "PHRASE_NOT_SPAM", "MONEY_MAKING"} <= set(names)
    assert abs(report.score - sum(h.score for h in report.hits)) < 1e-9
    assert report.level == int(report.score) and report.required == 5
    assert all(h.description for h in report.hits)
    line = report.log_line("1A2B3C4D")
    assert re.fullmatch(
        r"1A2B3C4D: SA score=\d+/5 time=\d+\.\d{3} bayes=undefined autolearn=disabled "
        r"hits=([A-Z0-9_]+\(-?[\d.]+\),)*[A-Z0-9_]+\(-?[\d.]+\)",
        line,
    ), line
    assert engine.check(mail(), now=ARRIVAL).hits == []


def test_custom_scores_and_custom_rules(tmp_path: Path):
    (tmp_path / "customscores.cf").write_text("score PHRASE_NOT_SPAM 9.5\nscore MISSING_MID 0\n")
    (tmp_path / "custom.cf").write_text("body LOCAL_WORD /\\bplanning\\b/\nscore LOCAL_WORD 0.7\n")
    scores, errors = read_scores(tmp_path / "customscores.cf")
    assert not errors
    engine = SpamEngine(load_rules([tmp_path / "custom.cf"]), scores=scores)
    report = engine.check(SPAMMY, now=ARRIVAL)
    by_name = {h.name: h.score for h in report.hits}
    assert by_name["PHRASE_NOT_SPAM"] == 9.5 and "MISSING_MID" not in by_name
    assert engine.check(mail(), now=ARRIVAL).hits[0].name == "LOCAL_WORD"


def test_bounce_score_and_maxspamsize():
    bounce = mail(headers={"From": "MAILER-DAEMON@example.net", "Subject": "Undelivered Mail"})
    env = Envelope(sender="")
    assert SpamEngine().check(bounce, env, now=ARRIVAL).hits == []
    hits = SpamEngine(settings=SpamSettings(bounce_score=4)).check(bounce, env, now=ARRIVAL).hits
    assert [(h.name, h.score) for h in hits] == [("ANY_BOUNCE_MESSAGE", 4.0)]
    big = mail(body=PLAIN + "x" * 80_000 + "\nThis is not spam.\n")
    small = SpamEngine(settings=SpamSettings(maxspamsize=70_000)).check(big)
    assert small.truncated and "PHRASE_NOT_SPAM" not in {h.name for h in small.hits}
    assert "PHRASE_NOT_SPAM" in {h.name for h in SpamEngine().check(big, now=ARRIVAL).hits}
    # never below 64 KiB, as PMG
    assert SpamEngine(settings=SpamSettings(maxspamsize=10)).view(big).raw == big[:65536]


def test_languages():
    german = mail(
        body="Sehr geehrte Damen und Herren, wir freuen uns, Ihnen mitteilen zu können, "
        "dass die Lieferung morgen bei Ihnen eintrifft und alles bereit ist.\n"
    )
    assert "UNWANTED_LANGUAGE_BODY" not in {h.name for h in SpamEngine().check(german).hits}
    only_en = SpamEngine(settings=SpamSettings(languages=("en",)))
    assert "UNWANTED_LANGUAGE_BODY" in {h.name for h in only_en.check(german).hits}
    both = SpamEngine(settings=SpamSettings(languages=("en", "de")))
    assert "UNWANTED_LANGUAGE_BODY" not in {h.name for h in both.check(german).hits}


def _trained(n: int = 5) -> tuple[SpamEngine, MemoryTokenStore]:
    store = MemoryTokenStore()
    bayes = BayesFilter(store, min_spam=n, min_ham=n)
    engine = SpamEngine(settings=SpamSettings(use_bayes=True), bayes=bayes)
    for i in range(n):
        bayes.learn(
            engine.view(
                mail(
                    headers={"Message-ID": f"<h{i}@x>"}, body=f"meeting minutes agenda review {i}\n"
                )
            ),
            False,
        )
        bayes.learn(
            engine.view(
                mail(
                    headers={"Message-ID": f"<s{i}@x>"},
                    body=f"cheap pills casino winner prize {i}\n",
                )
            ),
            True,
        )
    return engine, store


def test_bayes_in_the_engine_and_its_report():
    engine, store = _trained()
    assert store.totals() == (5, 5)
    spam = engine.check(mail(body="cheap pills casino winner prize\n"), learn=False)
    ham = engine.check(mail(body="meeting minutes agenda review\n"), learn=False)
    assert spam.bayes is not None and spam.bayes > 0.9 and ham.bayes is not None and ham.bayes < 0.1
    assert any(h.name.startswith("BAYES_9") for h in spam.hits)
    assert any(h.name == "BAYES_00" for h in ham.hits)
    assert "bayes=0.9" in spam.log_line("X") or "bayes=1" in spam.log_line("X")
    untrained = SpamEngine(
        settings=SpamSettings(use_bayes=True), bayes=BayesFilter(MemoryTokenStore())
    )
    report = untrained.check(mail(), learn=False, now=ARRIVAL)
    assert report.bayes is None and not any(h.name.startswith("BAYES") for h in report.hits)


def test_unsure_bayes_never_pushes_ham_up():
    engine = SpamEngine(
        settings=SpamSettings(use_bayes=True), bayes=BayesFilter(MemoryTokenStore())
    )
    for name in ("BAYES_50", "BAYES_HDR_50"):
        assert engine.rules.rules[name].score <= 0.01
    for prefix in ("BAYES_", "BAYES_HDR_"):
        assert all(engine.rules.rules[prefix + n].score <= 0 for n in ("00", "05", "20"))
    # neither view sure of spam (below 95 %): the Bayes points stay under PMG's quarantine
    # level (3), whatever the two views say
    view = engine.view(mail(), now=ARRIVAL)
    leaning = (0.0, 0.5, 0.7999, 0.8, 0.9, 0.9499)
    for text in leaning:
        for header in leaning:
            view.bayes_views = {"text": text, "header": header}
            infos = engine.rules.hits(engine.rules.run(view))
            points = sum(i.score for i in infos if i.name.startswith("BAYES_"))
            assert points < 3.0, (text, header, points)


def test_autolearn_policy():
    policy = AutolearnPolicy()
    assert autolearn_decision(policy, 0.0, 0, 0, None) == "ham"
    assert autolearn_decision(policy, 0.0, 0, 0, 0.95) is None  # Bayes says spam: no
    assert autolearn_decision(policy, 7.0, 3.0, 4.0, 0.99) == "spam"
    assert autolearn_decision(policy, 7.0, 0.0, 7.0, 0.99) is None  # body evidence alone
    assert autolearn_decision(policy, 7.0, 3.0, 4.0, 0.1) is None  # Bayes disagrees
    assert autolearn_decision(AutolearnPolicy(enabled=False), 0.0, 0, 0, None) is None
    engine, store = _trained()
    report = engine.check(
        mail(headers={"Message-ID": "<new@x>"}, body="meeting minutes agenda\n"), now=ARRIVAL
    )
    assert report.autolearn == "ham" and store.totals() == (5, 6)
    again = engine.check(
        mail(headers={"Message-ID": "<new@x>"}, body="meeting minutes agenda\n"), now=ARRIVAL
    )
    assert again.autolearn == "no" and store.totals() == (5, 6)


def test_awl_pulls_towards_the_senders_history():
    assert adjustment(4.0, 0, 0.0) == 0.0 and adjustment(4.0, 2, 0.0) == -2.0
    assert network_of("192.0.2.77") == "192.0.0.0/16" and network_of(None) == "none"
    awl = MemoryAWL()
    engine = SpamEngine(settings=SpamSettings(use_awl=True), awl=awl)
    env = Envelope(client_ip="192.0.2.10")
    first = engine.check(mail(), env, now=ARRIVAL)
    assert first.score == 0.0
    second = engine.check(SPAMMY, env, now=ARRIVAL)
    awl_hits = [h for h in second.hits if h.name == "AWL"]
    assert awl_hits and awl_hits[0].score < 0
    assert abs(second.score - sum(h.score for h in second.hits)) < 1e-9


def test_scanner_on_the_pipeline_interface(tmp_path: Path):
    scanner = SpamScanner(SpamEngine())
    item = ScanItem(
        "ABC1234", SPAMMY, "alice@example.org", ("bob@example.net",), False, "192.0.2.10", tmp_path
    )
    report = run_scanners([scanner], item)
    assert report.score == scanner.last.score > 3
    assert {h.rule for h in report.hits} == {h.name for h in scanner.last.hits}
    assert report.required == 5
    assert report.log[0][0].startswith("ABC1234: SA score=")


def test_the_smtp_client_reaches_the_content_tests(tmp_path: Path):
    """The client's reverse name travels from the pipeline's ScanItem to RDNS_NONE."""
    scanner = SpamScanner(SpamEngine())

    def hits(name: str | None, address: str) -> set[str]:
        item = ScanItem(
            "ABC1234",
            mail(),
            "alice@example.org",
            ("bob@example.net",),
            False,
            address,
            tmp_path,
            client_name=name,
            helo="mail.example.org",
        )
        run_scanners([scanner], item)
        return {h.name for h in scanner.last.hits}

    assert "RDNS_NONE" in hits("unknown", "198.51.100.7")
    assert "RDNS_NONE" in hits("[198.51.100.7]", "198.51.100.7")
    assert "RDNS_NONE" not in hits("mail.example.org", "198.51.100.7")
    assert "RDNS_NONE" not in hits("unknown", "10.1.2.3")  # own network
    assert "RDNS_NONE" not in hits(None, "198.51.100.7")  # not known: not judged


def test_user_lists_reach_the_spam_object():
    """Welcomelisted senders skip the verdict, blocklisted ones get USER_IN_BLOCKLIST."""
    from pmgfast.rules import HostInfo, compile_rules, evaluate, factory

    senders = sender_addresses(
        (("From", "Spammer <spam@bad.example>"), ("Reply-To", "x@y.example"))
    )
    assert senders == ("spam@bad.example",)
    assert sender_addresses((("From", "a@b.example"), ("Resent-From", "c@d.example"))) == (
        "c@d.example",
    )
    ruleset = compile_rules(factory())
    lists = {
        "bob@example.net": UserLists.parse(welcome="*@bad.example"),
        "carol@example.net": UserLists.parse(block="spam@bad.example"),
    }
    facts = MessageFacts(
        sender="bounce@bad.example",
        recipients=("bob@example.net", "carol@example.net", "dave@example.net"),
        spam=SpamResult(score=6, required=5, hits=(SpamHit("PHRASE_NOT_SPAM", 6.0, "x"),)),
        user_lists=lists,
        from_addresses=senders,
    )
    outcome = evaluate(ruleset, facts, HostInfo())
    assert outcome.decision("bob@example.net").action != "quarantine"
    assert outcome.decision("dave@example.net").action == "quarantine"
    low = MessageFacts(
        sender="bounce@bad.example",
        recipients=("carol@example.net",),
        spam=SpamResult(score=0),
        user_lists=lists,
        from_addresses=senders,
    )
    assert evaluate(ruleset, low, HostInfo()).decision("carol@example.net").action == "quarantine"
