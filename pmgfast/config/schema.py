"""Every key of ``pmg.conf``, declared once: section, name, type, default, range and help.

The declarations drive validation on load, ``pmgfast config get/set/dump`` and the generated
reference in docs/config.md. Keys and defaults follow PMG's admin guide (sections 4.5.2, 4.7,
4.8, 4.9) and PMG's source (pmg-behaviour.md); the ``pmgfast`` section holds what PMG has no
key for (the database DSN, the milter pool), and says so in its help texts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum


class Kind(Enum):
    BOOLEAN = "boolean"
    INTEGER = "integer"
    CHOICE = "choice"
    STRING = "string"


@dataclass(frozen=True)
class Key:
    """One configuration key with everything needed to check and explain a value."""

    section: str
    name: str
    kind: Kind
    default: bool | int | str | None
    help: str
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    deprecated: bool = False
    _regex: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.pattern is not None:
            object.__setattr__(self, "_regex", re.compile(self.pattern))

    @property
    def qualified(self) -> str:
        return f"{self.section}.{self.name}"

    def allowed(self) -> str:
        """The allowed values in words, PMG style: ``1024 - N``, ``0 | 1``, ``lmtp | smtp``."""
        if self.kind is Kind.BOOLEAN:
            return "0 | 1"
        if self.kind is Kind.INTEGER:
            low = "N" if self.minimum is None else str(self.minimum)
            high = "N" if self.maximum is None else str(self.maximum)
            return f"{low} - {high}"
        if self.kind is Kind.CHOICE:
            return " | ".join(self.choices)
        if self.pattern is not None:
            return f"text matching {self.pattern}"
        return "any text"

    def parse(self, raw: str) -> bool | int | str:
        """Turn the text of a value into its typed value, or raise ValueError saying why."""
        text = raw.strip()
        if self.kind is Kind.BOOLEAN:
            if text in ("1", "0"):
                return text == "1"
            raise ValueError(f"{text!r} is not a boolean (allowed: 0 | 1)")
        if self.kind is Kind.INTEGER:
            try:
                number = int(text, 10)
            except ValueError:
                raise ValueError(
                    f"{text!r} is not an integer (allowed: {self.allowed()})"
                ) from None
            if (self.minimum is not None and number < self.minimum) or (
                self.maximum is not None and number > self.maximum
            ):
                raise ValueError(f"{number} is out of range (allowed: {self.allowed()})")
            return number
        if self.kind is Kind.CHOICE:
            if text in self.choices:
                return text
            raise ValueError(f"{text!r} is not one of the allowed values ({self.allowed()})")
        if self._regex is not None and not self._regex.fullmatch(text):
            raise ValueError(f"{text!r} does not match the required format {self.pattern}")
        if "\n" in text or "\0" in text:
            raise ValueError("a value cannot contain a line break or a NUL byte")
        return text

    def format(self, value: bool | int | str | None) -> str:
        """The text of a typed value as pmg.conf stores it."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "1" if value else "0"
        return str(value)


def _boolean(section: str, name: str, default: bool, help: str, **kw: object) -> Key:
    return Key(section, name, Kind.BOOLEAN, default, help, **kw)  # type: ignore[arg-type]


def _integer(
    section: str,
    name: str,
    default: int | None,
    help: str,
    minimum: int | None = None,
    maximum: int | None = None,
) -> Key:
    return Key(section, name, Kind.INTEGER, default, help, minimum=minimum, maximum=maximum)


def _choice(
    section: str, name: str, default: str | None, choices: tuple[str, ...], help: str
) -> Key:
    return Key(section, name, Kind.CHOICE, default, help, choices=choices)


def _string(
    section: str, name: str, default: str | None, help: str, pattern: str | None = None
) -> Key:
    return Key(section, name, Kind.STRING, default, help, pattern=pattern)


PORT = {"minimum": 1, "maximum": 65535}

KEYS: tuple[Key, ...] = (
    # --- admin (admin guide 4.5.2, 4.7.10; pmg-behaviour 1.3, 2.6) -------------------------
    _boolean(
        "admin",
        "advfilter",
        False,
        "Enable advanced filters for statistic: receiver statistics "
        "are limited to active receivers (which also sent mail in the 90 days before).",
    ),
    _boolean("admin", "avast", False, "Use the Avast virus scanner (/usr/bin/scan)."),
    _boolean("admin", "clamav", True, "Use the ClamAV virus scanner."),
    _boolean("admin", "custom_check", False, "Run the custom check script (admin guide 4.11)."),
    _string(
        "admin",
        "custom_check_path",
        "/usr/local/bin/pmg-custom-check",
        "Absolute path of the custom check script.",
        pattern=r"/([^/\0]+/)+[^/\0]+",
    ),
    _boolean("admin", "dailyreport", True, "Send daily reports."),
    _boolean("admin", "demo", False, "Demo mode: do not start the SMTP filter."),
    _choice(
        "admin",
        "dkim-use-domain",
        "envelope",
        ("envelope", "header"),
        "Sign with the domain of the envelope sender or of the From header.",
    ),
    _string(
        "admin",
        "dkim_selector",
        None,
        "Default DKIM selector.",
        pattern=r"[a-zA-Z0-9][a-zA-Z0-9._-]*",
    ),
    _boolean("admin", "dkim_sign", False, "DKIM sign outbound mail with the configured selector."),
    _boolean(
        "admin",
        "dkim_sign_all_mail",
        False,
        "DKIM sign all outgoing mail irrespective of the envelope sender domain.",
    ),
    _string(
        "admin",
        "email",
        "admin@domain.tld",
        "Administrator e-mail address.",
        pattern=r"[^\s@]+@[^\s@]+",
    ),
    _string(
        "admin",
        "admin-mail-from",
        "Proxmox Mail Gateway <postmaster>",
        "From header of mail the gateway generates (notifications, NDRs, reports).",
    ),
    _string(
        "admin",
        "http_proxy",
        None,
        "External HTTP proxy for downloads (http://user:password@host:port/).",
        pattern=r"http://.*",
    ),
    _integer("admin", "statlifetime", 7, "User statistics lifetime (days).", minimum=1),
    # --- mail (admin guide 4.7; pmg-behaviour 1.1, 1.3) -----------------------------------
    _boolean(
        "mail",
        "accept-broken-mime",
        False,
        "Accept mail whose MIME structure cannot be "
        "parsed cleanly, marking it with X-Proxmox-Broken-Message.",
    ),
    _string("mail", "banner", "ESMTP Proxmox", "ESMTP banner."),
    _boolean(
        "mail", "before_queue_filtering", False, "Filter before queue (in the SMTP dialogue)."
    ),
    _integer(
        "mail",
        "conn_count_limit",
        50,
        "Simultaneous connections one client may make (0 disables the limit).",
        minimum=0,
    ),
    _integer(
        "mail",
        "conn_rate_limit",
        0,
        "Connection attempts one client may make per minute (0 disables the limit).",
        minimum=0,
    ),
    _string(
        "mail",
        "dnsbl_sites",
        None,
        "DNS white/blocklist domains (postscreen_dnsbl_sites), "
        "comma separated, with optional =filter and *weight.",
    ),
    _integer(
        "mail",
        "dnsbl_threshold",
        1,
        "Combined DNSBL score at which a client is blocked (postscreen_dnsbl_threshold).",
        minimum=0,
    ),
    _integer(
        "mail", "dwarning", 4, "SMTP delay warning time in hours (delay_warning_time).", minimum=0
    ),
    _integer(
        "mail",
        "ext_port",
        25,
        "SMTP port for incoming (untrusted) mail; must differ from int_port.",
        **PORT,
    ),
    _integer(
        "mail",
        "filter-timeout",
        600,
        "Timeout for processing one mail, in seconds "
        "(smtpd_proxy_timeout, lmtp_data_done_timeout).",
        minimum=2,
        maximum=86400,
    ),
    _boolean("mail", "greylist", True, "Use greylisting for IPv4."),
    _boolean("mail", "greylist6", False, "Use greylisting for IPv6."),
    _integer(
        "mail",
        "greylistmask4",
        24,
        "Netmask applied to IPv4 hosts for greylisting.",
        minimum=0,
        maximum=32,
    ),
    _integer(
        "mail",
        "greylistmask6",
        64,
        "Netmask applied to IPv6 hosts for greylisting.",
        minimum=0,
        maximum=128,
    ),
    _boolean("mail", "helotests", False, "Use SMTP HELO tests (smtpd_helo_restrictions)."),
    _boolean("mail", "hide_received", False, "Hide Received headers in outgoing mail."),
    _integer("mail", "int_port", 26, "SMTP port for outgoing (trusted) mail.", **PORT),
    _boolean(
        "mail",
        "log-headers",
        False,
        "Log envelope sender, recipients, From, To and Subject "
        "of every mail (a 'mail-headers' line).",
    ),
    _integer(
        "mail",
        "max_filters",
        None,
        "Maximum number of filter processes (default: from the memory size, as PMG computes it).",
        minimum=1,
        maximum=40,
    ),
    _integer(
        "mail",
        "max_policy",
        5,
        "Maximum number of policy service processes.",
        minimum=2,
        maximum=10,
    ),
    _integer(
        "mail",
        "max_smtpd_in",
        100,
        "Maximum number of SMTP daemon processes (in).",
        minimum=3,
        maximum=100,
    ),
    _integer(
        "mail",
        "max_smtpd_out",
        100,
        "Maximum number of SMTP daemon processes (out).",
        minimum=3,
        maximum=100,
    ),
    _integer(
        "mail",
        "maxsize",
        10485760,
        "Maximum mail size in bytes; larger mail is rejected (message_size_limit).",
        minimum=1024,
    ),
    _integer(
        "mail",
        "message_rate_limit",
        0,
        "Message delivery requests one client may make per minute (0 disables the limit).",
        minimum=0,
    ),
    _boolean("mail", "ndr_on_block", False, "Send an NDR when mail is blocked."),
    _boolean(
        "mail", "rejectunknown", False, "Reject unknown clients (reject_unknown_client_hostname)."
    ),
    _boolean(
        "mail",
        "rejectunknownsender",
        False,
        "Reject unknown senders (reject_unknown_sender_domain).",
    ),
    _string("mail", "relay", None, "Default mail delivery transport for incoming mail (host)."),
    _boolean("mail", "relaynomx", False, "Disable MX lookups for the default relay (SMTP only)."),
    _integer("mail", "relayport", 25, "SMTP/LMTP port of the relay host.", **PORT),
    _choice(
        "mail", "relayprotocol", "smtp", ("lmtp", "smtp"), "Transport protocol of the relay host."
    ),
    _string(
        "mail",
        "smarthost",
        None,
        "Deliver all outgoing mail to this smarthost (default_transport).",
    ),
    _integer("mail", "smarthostport", 25, "SMTP port of the smarthost.", **PORT),
    _boolean("mail", "smtputf8", True, "Enable SMTPUTF8 in Postfix and for generated mail."),
    _boolean("mail", "spf", True, "Use the Sender Policy Framework."),
    _boolean("mail", "tls", False, "Enable TLS."),
    _boolean("mail", "tlsheader", False, "Add TLS information to the Received header."),
    _boolean("mail", "tlslog", False, "Enable TLS logging."),
    _choice(
        "mail",
        "verifyreceivers",
        None,
        ("450", "550"),
        "Enable receiver verification; the value is the reply code for unverified recipients.",
    ),
    # --- spam (admin guide 4.8.1) ----------------------------------------------------------
    _integer(
        "spam", "bounce_score", 0, "Additional score for bounce mails.", minimum=0, maximum=1000
    ),
    _integer(
        "spam",
        "clamav_heuristic_score",
        3,
        "Score for ClamAV heuristics (encrypted archives, phishing URLs, ...).",
        minimum=0,
        maximum=1000,
    ),
    _boolean(
        "spam",
        "extract_text",
        False,
        "Extract text from attachments (doc, pdf, rtf, images) and scan it for spam.",
    ),
    _string(
        "spam",
        "languages",
        "all",
        "Languages considered OK for incoming mail ('all', or "
        "two-letter codes separated by spaces).",
        pattern=r"all|([a-z][a-z])+( ([a-z][a-z])+)*",
    ),
    _integer(
        "spam",
        "maxspamsize",
        262144,
        "Maximum size of mail scanned for spam, in bytes.",
        minimum=64,
    ),
    _boolean("spam", "rbl_checks", True, "Enable real-time blocklist (RBL) checks."),
    _boolean("spam", "use_awl", False, "Use the auto-welcomelist."),
    _boolean("spam", "use_bayes", False, "Use the Bayesian classifier."),
    _boolean("spam", "use_razor", True, "Use Razor2 if it is available."),
    _string("spam", "wl_bounce_relays", None, "Welcomelisted legitimate bounce relays."),
    # --- spamquar (admin guide 4.8.2) ------------------------------------------------------
    _boolean("spamquar", "allowhrefs", True, "Allow viewing hyperlinks."),
    _choice(
        "spamquar",
        "authmode",
        "ticket",
        ("ldap", "ldapticket", "ticket"),
        "Authentication mode of the quarantine interface.",
    ),
    _string("spamquar", "hostname", None, "Quarantine host (for links in spam reports)."),
    _integer("spamquar", "lifetime", 7, "Quarantine lifetime (days).", minimum=1),
    _string("spamquar", "mailfrom", None, "From header of daily spam report mails."),
    _integer("spamquar", "port", 8006, "Quarantine port (for links in spam reports).", **PORT),
    _choice(
        "spamquar", "protocol", "https", ("http", "https"), "Quarantine web interface protocol."
    ),
    _boolean(
        "spamquar",
        "quarantinelink",
        False,
        "Enable user self-service quarantine links (accessible without authentication).",
    ),
    _choice(
        "spamquar",
        "reportstyle",
        "verbose",
        ("custom", "none", "short", "verbose"),
        "Spam report style.",
    ),
    _boolean("spamquar", "viewimages", True, "Allow viewing images."),
    # --- clamav (admin guide 4.9.1) --------------------------------------------------------
    _boolean(
        "clamav",
        "archiveblockencrypted",
        False,
        "Mark encrypted archives and documents as heuristic virus match.",
    ),
    _integer(
        "clamav",
        "archivemaxfiles",
        1000,
        "Number of files scanned within an archive or other container.",
        minimum=0,
    ),
    _integer("clamav", "archivemaxrec", 5, "How deep nested archives are scanned.", minimum=1),
    _integer(
        "clamav",
        "archivemaxsize",
        25000000,
        "Files larger than this (bytes) are not scanned.",
        minimum=1000000,
    ),
    _string("clamav", "dbmirror", "database.clamav.net", "ClamAV database mirror server."),
    _integer(
        "clamav",
        "maxcccount",
        0,
        "Lowest number of credit card or social security numbers "
        "in a file that counts as a detection.",
        minimum=0,
    ),
    _integer(
        "clamav",
        "maxscansize",
        100000000,
        "Maximum amount of data (bytes) scanned per file.",
        minimum=1000000,
    ),
    _boolean(
        "clamav",
        "safebrowsing",
        False,
        "Google Safe Browsing (deprecated, ignored).",
        deprecated=True,
    ),
    _boolean("clamav", "scriptedupdates", True, "Incremental download of signatures."),
    # --- virusquar (admin guide 4.9.2) -----------------------------------------------------
    _boolean("virusquar", "allowhrefs", True, "Allow viewing hyperlinks."),
    _integer("virusquar", "lifetime", 7, "Quarantine lifetime (days).", minimum=1),
    _boolean("virusquar", "viewimages", True, "Allow viewing images."),
    # --- pmgfast (no PMG equivalent) -------------------------------------------------------
    _boolean(
        "pmgfast",
        "spam_scanner",
        True,
        "Score mail with the spam engine when a rule has a Spam object (off: Spam objects see "
        "score 0; for measurements without spam scanning).",
    ),
    _boolean(
        "pmgfast",
        "spam_network_tests",
        True,
        "Run the network tests (DNSBL, URIBL, SPF, DKIM, DMARC) as part of the spam score; they "
        "ask the resolvers of pmgfast.dns_nameservers.",
    ),
    _string(
        "pmgfast",
        "dsn",
        None,
        "PostgreSQL connection string (libpq DSN or URI) of an external "
        "server. Unset: pmgfast runs its own embedded PostgreSQL under the state directory.",
    ),
    # virus scanner (issue 8)
    _string(
        "pmgfast",
        "clamd_conf",
        "/etc/clamav/clamd.conf",
        "The clamd.conf that 'pmgfast config sync' writes and the virus scanner reads back "
        "(where clamd listens, its StreamMaxLength). PMG: /etc/clamav/clamd.conf.",
    ),
    # milter pool (issue 5; PMG's pmg-smtp-filter has these as constants)
    _string(
        "pmgfast",
        "milter_socket",
        "inet:10026@127.0.0.1",
        "Where the milter pool listens, in libmilter's notation: inet:PORT@HOST, "
        "inet6:PORT@HOST or unix:/PATH (Postfix: smtpd_milters = inet:HOST:PORT or unix:PATH).",
    ),
    _integer(
        "pmgfast",
        "milter_max_messages",
        10000,
        "A milter worker is replaced after filtering this many messages.",
        minimum=1,
    ),
    _integer(
        "pmgfast",
        "milter_max_growth",
        64,
        "A milter worker is replaced when its resident memory has grown by this many MiB "
        "since it started (PMG: 5 MiB).",
        minimum=1,
    ),
    _integer(
        "pmgfast",
        "milter_spill_size",
        1048576,
        "Message bodies up to this many bytes stay in memory; larger ones spill to a "
        "temporary file under the spool directory.",
        minimum=0,
    ),
    _string(
        "pmgfast",
        "milter_fail_open",
        "none",
        "Failures that let a message pass unfiltered (logged) instead of a 451 temporary "
        "failure: none, or a comma list of scanner (a scanner failed or ran out of time), "
        "database (quarantine or rules storage unreachable), internal (any other error).",
    ),
    _integer(
        "pmgfast",
        "reinject_port",
        10025,
        "Port of the Postfix smtpd on 127.0.0.1 without the milter, through which pmgfast "
        "re-injects split messages, BCC copies, notifications and NDRs (PMG: 10025).",
        **PORT,
    ),
    _string(
        "pmgfast",
        "log_file",
        None,
        "Write the filter's log lines (pmg-smtp-filter vocabulary) to this file instead of "
        "syslog (facility mail).",
    ),
    # housekeeping (issue 9: the tracking index grows with the log; greylist expiry)
    _string(
        "pmgfast",
        "tracking_log",
        "/var/log/syslog",
        "The mail log the tracking center reads and indexes: the base of its rotated series "
        "(BASE, BASE.1, BASE.2.gz, ...).",
        pattern=r"/([^/\0]+/)*[^/\0]+",
    ),
    _integer(
        "pmgfast",
        "housekeeping_index_interval",
        60,
        "Seconds between updates of the tracking index from pmgfast.tracking_log by the "
        "housekeeping process (low priority, beside the mail path); 0: never.",
        minimum=0,
        maximum=86400,
    ),
    _integer(
        "pmgfast",
        "housekeeping_greylist_interval",
        3600,
        "Seconds between greylist expiries (expired triples become statistics and are "
        "deleted) by the housekeeping process; 0: never.",
        minimum=0,
        maximum=86400,
    ),
    # network checks (issue 7: DNSBL, URIBL, SPF, DKIM, DMARC)
    _string(
        "pmgfast",
        "dns_nameservers",
        None,
        "Nameservers the network checks ask, ADDRESS[:PORT] separated by commas "
        "([v6]:PORT for IPv6). Unset: /etc/resolv.conf. Use a recursive resolver of your "
        "own (admin guide: DNS recommendations); public resolvers are refused by blocklists.",
    ),
    _integer(
        "pmgfast",
        "dns_timeout_ms",
        2000,
        "Time one DNS query of the network checks may take, in milliseconds.",
        minimum=10,
        maximum=60000,
    ),
    _integer(
        "pmgfast",
        "dns_budget_ms",
        5000,
        "Time all network checks of one message may take together, in milliseconds; "
        "checks still running then count as not answered (SPF: temperror).",
        minimum=10,
        maximum=120000,
    ),
    _string(
        "pmgfast",
        "rbl_sites",
        None,
        "DNS blocklists for the RCVD_IN_* spam scores, in mail.dnsbl_sites syntax "
        "(the weight is the score of a list SpamAssassin has no rule for). "
        "Unset: the mail.dnsbl_sites lists.",
    ),
    _string(
        "pmgfast",
        "uribl_sites",
        "multi.surbl.org, multi.uribl.com, dbl.spamhaus.org",
        "URI blocklists for the domains linked from a message (URIBL_* scores), "
        "domain[=d.d.d.d][*score] separated by commas; empty disables them.",
    ),
    _boolean(
        "pmgfast",
        "dmarc_reject",
        False,
        "Reject at SMTP time a message that fails DMARC under the sender's p=reject policy "
        "(off: DMARC only adds spam score, as in PMG).",
    ),
    # SMTP-level protection and the Postfix side (issue 11)
    _integer(
        "pmgfast",
        "greylist_delay",
        180,
        "Seconds a new greylist triple is deferred before a retry passes (PMG: 3 minutes, "
        "fixed; the retry window of 2 days and the 36-day lifetime are PMG's).",
        minimum=0,
        maximum=86400,
    ),
    _string(
        "pmgfast",
        "postfix_dir",
        "/etc/postfix",
        "Postfix configuration directory 'pmgfast config sync' writes main.cf, master.cf and "
        "the lookup tables into (tables under its pmgfast/ subdirectory), and whose Postfix "
        "'sync --restart' reloads (postfix -c DIR reload).",
        pattern=r"/([^/\0]+/)*[^/\0]+",
    ),
    _string(
        "pmgfast",
        "postfix_queue_dir",
        "/var/spool/postfix",
        "Postfix queue_directory in the rendered main.cf.",
        pattern=r"/([^/\0]+/)*[^/\0]+",
    ),
    _string(
        "pmgfast",
        "postfix_data_dir",
        "/var/lib/postfix",
        "Postfix data_directory in the rendered main.cf (caches, TLS session cache).",
        pattern=r"/([^/\0]+/)*[^/\0]+",
    ),
    _string(
        "pmgfast",
        "postfix_inet_interfaces",
        "all",
        "Postfix inet_interfaces: the addresses the SMTP ports listen on (PMG: all).",
    ),
    _string(
        "pmgfast",
        "postfix_filter_ports",
        "10024,10023",
        "After-queue filtering: the loopback ports of the filter smtpds that run the milter, "
        "incoming,outgoing (PMG's pmg-smtp-filter ports 10024 and 10023).",
        pattern=r"\d{1,5},\d{1,5}",
    ),
)

SECTIONS: dict[str, dict[str, Key]] = {}
for _key in KEYS:
    SECTIONS.setdefault(_key.section, {})[_key.name] = _key


def lookup(section: str, name: str) -> Key:
    """The declared key, or a KeyError whose message lists what exists."""
    keys = SECTIONS.get(section)
    if keys is None:
        raise KeyError(f"unknown section {section!r} (sections: {', '.join(SECTIONS)})")
    key = keys.get(name)
    if key is None:
        raise KeyError(f"unknown key {name!r} in section {section!r}")
    return key


def iter_keys() -> Iterator[Key]:
    """All keys, by section in declaration order then by name."""
    for section in SECTIONS.values():
        yield from sorted(section.values(), key=lambda k: k.name)
