"""Cases: WHO objects (FROM and TO) and WHEN objects.

Each case reads: the rules, the mail, then the expected decision ("<action> <rule>") for
every recipient (or per recipient).
"""

from __future__ import annotations

from tests.rules.dsl import (
    BLOCK,
    EXT,
    ME,
    OTHER,
    Case,
    FakeLdap,
    domain,
    email,
    ip,
    ldap,
    ldapuser,
    mail,
    net,
    receiver,
    receiver_domain,
    receiver_regex,
    regex,
    rule,
    time,
)

NO_LDAP_NOTE = "LDAP object 1 ({}) cannot be resolved: no LDAP is configured, so it does not match"

CASES = [
    # --- mail address -----------------------------------------------------------------------
    Case(
        "email-matches-sender-ignoring-case",
        [rule("B", frm=email("Sender@EXT.example"), action=BLOCK)],
        mail(sender="sender@ext.example"),
        "block B",
    ),
    Case(
        "email-other-sender-does-not-match",
        [rule("B", frm=email("sender@ext.example"), action=BLOCK)],
        mail(sender="someone@ext.example"),
        "accept default-accept",
    ),
    # --- domain -----------------------------------------------------------------------------
    Case(
        "domain-is-the-part-after-the-last-at",
        [rule("B", frm=domain("EXT.example"), action=BLOCK)],
        mail(sender='"odd@local"@ext.example'),
        "block B",
    ),
    Case(
        "domain-does-not-match-subdomains",
        [rule("B", frm=domain("ext.example"), action=BLOCK)],
        mail(sender="x@mail.ext.example"),
        "accept default-accept",
    ),
    Case(
        "domain-needs-an-at",
        [rule("B", frm=domain("ext.example"), action=BLOCK)],
        mail(sender="ext.example"),
        "accept default-accept",
    ),
    # --- regular expression -----------------------------------------------------------------
    Case(
        "regex-is-anchored-at-both-ends",
        [rule("B", frm=regex(r".*@ext\.example"), action=BLOCK)],
        mail(sender="a@ext.example.evil.org"),
        "accept default-accept",
    ),
    Case(
        "regex-ignores-case",
        [rule("B", frm=regex(r"SENDER@.*"), action=BLOCK)],
        mail(sender="sender@ext.example"),
        "block B",
    ),
    Case(
        "regex-alternation-anchors-only-the-outer-ends-as-pmg",
        # PMG pastes the regex into m/^$re$/i, so "^a@x\.org" alone matches a prefix
        [rule("B", frm=regex(r"a@x\.org|.*@nowhere\.example"), action=BLOCK)],
        mail(sender="a@x.org.evil.net"),
        "block B",
    ),
    Case(
        "regex-matches-the-empty-sender-of-a-bounce",
        [rule("B", frm=regex(".*"), action=BLOCK)],
        mail(sender=""),
        "block B",
    ),
    # --- IP address and network ------------------------------------------------------------
    Case(
        "ip-matches-the-client-address",
        [rule("B", frm=ip("192.0.2.10"), action=BLOCK)],
        mail(client_ip="192.0.2.10"),
        "block B",
    ),
    Case(
        "ip-is-compared-as-text",
        [rule("B", frm=ip("192.0.2.10"), action=BLOCK)],
        mail(client_ip="192.0.2.11"),
        "accept default-accept",
    ),
    Case(
        "ipv6-prefix-of-postfix-is-dropped",
        [rule("B", frm=ip("2001:db8::1"), action=BLOCK)],
        mail(client_ip="IPv6:2001:db8::1"),
        "block B",
    ),
    Case(
        "network-v4-contains-the-client",
        [rule("B", frm=net("192.0.2.0/24"), action=BLOCK)],
        mail(client_ip="192.0.2.200"),
        "block B",
    ),
    Case(
        "network-v4-outside",
        [rule("B", frm=net("198.51.100.0/24"), action=BLOCK)],
        mail(client_ip="192.0.2.200"),
        "accept default-accept",
    ),
    Case(
        "network-v6-contains-the-client",
        [rule("B", frm=net("2001:db8::/32"), action=BLOCK)],
        mail(client_ip="IPv6:2001:db8:1::5"),
        "block B",
    ),
    Case(
        "network-without-client-ip-never-matches",
        [rule("B", frm=net("0.0.0.0/0"), action=BLOCK)],
        mail(client_ip=None),
        "accept default-accept",
    ),
    Case(
        "ip-objects-never-match-in-to",
        [rule("B", to=net("0.0.0.0/0"), action=BLOCK)],
        mail(),
        "accept default-accept",
    ),
    # --- TO -------------------------------------------------------------------------------
    Case(
        "to-decides-per-recipient",
        [rule("B", to=email(ME), action=BLOCK)],
        mail(to=[ME, OTHER]),
        {ME: "block B", OTHER: "accept default-accept"},
        steps=[f"block {ME}", f"deliver {OTHER}"],
    ),
    Case(
        "receiver-regex-behaves-like-regex-in-to",
        [rule("B", to=receiver_regex(r"other@.*"), action=BLOCK)],
        mail(to=[ME, OTHER]),
        {ME: "accept default-accept", OTHER: "block B"},
    ),
    Case(
        "receiver-and-receiver-domain-in-to",
        [rule("B", to=[receiver(ME), receiver_domain("nowhere.example")], action=BLOCK)],
        mail(to=[ME, OTHER]),
        {ME: "block B", OTHER: "accept default-accept"},
    ),
    Case(
        "from-and-to-are-both-needed",
        [rule("B", frm=domain("ext.example"), to=email(OTHER), action=BLOCK)],
        mail(to=[ME, OTHER]),
        {ME: "accept default-accept", OTHER: "block B"},
    ),
    # --- LDAP -----------------------------------------------------------------------------
    Case(
        "ldap-without-ldap-never-matches-and-says-so",
        [rule("B", frm=ldap("any"), action=BLOCK)],
        mail(),
        "accept default-accept",
        notes=[NO_LDAP_NOTE.format("Existing LDAP address, any profile")],
    ),
    Case(
        "ldap-unknown-address-mode-without-ldap-does-not-match-either",
        [rule("B", frm=ldap("none", profile="corp"), action=BLOCK)],
        mail(),
        "accept default-accept",
        notes=[NO_LDAP_NOTE.format("Unknown LDAP address, profile 'corp'")],
    ),
    Case(
        "ldap-existing-address",
        [rule("B", frm=ldap("any"), action=BLOCK)],
        mail(),
        "block B",
        ldap=FakeLdap(known={EXT}),
    ),
    Case(
        "ldap-unknown-address",
        [rule("B", to=ldap("none"), action=BLOCK)],
        mail(to=[ME, OTHER]),
        {ME: "accept default-accept", OTHER: "block B"},
        ldap=FakeLdap(known={ME}),
    ),
    Case(
        "ldap-group-member",
        [rule("B", to=ldap("group", "cn=staff", "corp"), action=BLOCK)],
        mail(to=[ME, OTHER]),
        {ME: "block B", OTHER: "accept default-accept"},
        ldap=FakeLdap(groups={"cn=staff": {ME}}),
    ),
    Case(
        "ldap-user-owns-the-address",
        [rule("B", to=ldapuser("jdoe", "corp"), action=BLOCK)],
        mail(to=[ME, OTHER]),
        {ME: "accept default-accept", OTHER: "block B"},
        ldap=FakeLdap(accounts={"jdoe": {OTHER}}),
    ),
    # --- WHEN -----------------------------------------------------------------------------
    Case(
        "timeframe-inside",
        [rule("B", when=time("08:00", "16:00"), action=BLOCK)],
        mail(at="12:00"),
        "block B",
    ),
    Case(
        "timeframe-outside",
        [rule("B", when=time("08:00", "16:00"), action=BLOCK)],
        mail(at="17:00"),
        "accept default-accept",
    ),
    Case(
        "timeframe-ends-are-inclusive",
        [rule("B", when=time("08:00", "16:00"), action=BLOCK)],
        mail(at="16:00"),
        "block B",
    ),
    Case(
        "timeframe-across-midnight-late",
        [rule("B", when=time("22:00", "06:00"), action=BLOCK)],
        mail(at="23:30"),
        "block B",
    ),
    Case(
        "timeframe-across-midnight-early",
        [rule("B", when=time("22:00", "06:00"), action=BLOCK)],
        mail(at="05:59"),
        "block B",
    ),
    Case(
        "timeframe-across-midnight-daytime-is-outside",
        [rule("B", when=time("22:00", "06:00"), action=BLOCK)],
        mail(at="12:00"),
        "accept default-accept",
    ),
    Case(
        "timeframes-of-a-group-any",
        [rule("B", when=[time("08:00", "09:00"), time("17:00", "18:00")], action=BLOCK)],
        mail(at="17:30"),
        "block B",
    ),
]
