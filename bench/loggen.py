"""Synthetic mail logs: Postfix plus pmgfast's milter, N mails a day, deterministic from a seed.

The lines follow ``tracking/FORMAT.md`` and real Postfix 3.7 wording: postscreen, smtpd, cleanup,
qmgr, smtp, local, bounce, and pmgfast-milter. The mix of outcomes is a gateway's: delivered
inbound mail (one to five recipients), outbound mail, postscreen and smtpd rejects,
greylisting (mostly followed by a successful retry), quarantined spam, blocked viruses,
deliveries deferred and delivered later, bounces with their NDR, mixed outcomes for one mail,
and the occasional re-injected copy of part of a mail. Lines are written in time order, one file
per day, rotated like logrotate with ``delaycompress``: ``syslog`` (newest), ``syslog.1``, then
``syslog.2.gz`` and older.

Usage: ``python -m bench.loggen OUTDIR --mails-per-day 1000000 --days 7 --seed 1``
"""

# Log line templates are written out whole, as Postfix prints them: long lines are data here.
# ruff: noqa: E501

from __future__ import annotations

import argparse
import calendar
import gzip
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
HOST = "mx1"
INTERNAL = ("corp.example", "sales.corp.example", "lab.example")
RULES_SPAM = "Quarantine/Mark Spam (Level 5)"


@dataclass(frozen=True)
class Mix:
    """Probabilities of each kind of transaction (the rest is plain delivered inbound mail)."""

    postscreen_reject: float = 0.07
    smtpd_reject: float = 0.05
    greylist: float = 0.05
    quarantine: float = 0.07
    blocked: float = 0.02
    deferred: float = 0.03
    bounced: float = 0.01
    mixed: float = 0.02
    split: float = 0.01
    outbound: float = 0.08


class Names:
    """Pools of senders, recipients and hosts; a few senders send much more than others."""

    def __init__(self, rng: random.Random) -> None:
        syll = ("ka", "ro", "mi", "te", "lu", "sa", "no", "vi", "de", "pa", "zo", "ber", "lin")
        tld = ("com", "org", "net", "de", "at", "io", "example")

        def word(n: int) -> str:
            return "".join(rng.choice(syll) for _ in range(n))

        self.domains = [f"{word(rng.randint(2, 3))}.{rng.choice(tld)}" for _ in range(3000)]
        firsts = [word(2) for _ in range(400)]
        lasts = [word(rng.randint(2, 3)) for _ in range(600)]
        self.users = [
            f"{rng.choice(firsts)}.{rng.choice(lasts)}@{rng.choice(INTERNAL)}" for _ in range(20000)
        ]
        self.senders = [
            f"{rng.choice(('info', 'news', 'noreply', 'sales', word(2), word(3)))}"
            f"@{rng.choice(self.domains)}"
            for _ in range(50000)
        ]
        self.heavy = [f"newsletter@{d}" for d in rng.sample(self.domains, 30)]
        self.hosts = [
            (
                f"mail{rng.randint(1, 9)}.{d}",
                f"{rng.randint(11, 223)}.{rng.randint(0, 255)}."
                f"{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            )
            for d in rng.sample(self.domains, 2000)
        ]
        self.inside = [f"10.1.{rng.randint(0, 20)}.{rng.randint(2, 250)}" for _ in range(300)]
        self.downstream = ("10.0.0.5[10.0.0.5]:25", "10.0.0.6[10.0.0.6]:25")


class Ids:
    """Queue ids, filter ids and quarantine ids: unique, random-looking, from counters."""

    def __init__(self, seed: int) -> None:
        self.n = seed * 1_000_003 + 17

    def _next(self) -> int:
        self.n += 1
        return (self.n * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF

    def qid(self) -> str:
        return f"{self._next() & 0xFFFFFFFFFF:010X}"

    def fid(self) -> str:
        v = self._next()
        return f"{(v >> 8) & 0xFFFFFF:06X}{v & 0xFFFFFFFFFFFF:012X}"


class Writer:
    """Lines by second, flushed in time order into one file per local day."""

    def __init__(self, out: Path, base: str, days: int, start: int, gzip_from: int) -> None:
        self.out = out
        self.base = base
        self.days = days
        self.start = start
        self.gzip_from = gzip_from
        self.buckets: dict[int, list[str]] = {}
        self.flushed = start
        self.day = -1
        self.fh: IO[str] | None = None
        self.paths: list[Path] = []
        self.bytes = 0
        self.lines = 0
        self._prefix_sec = -1
        self._prefix = ""

    def at(self, sec: int, text: str) -> None:
        b = self.buckets.get(sec)
        if b is None:
            self.buckets[sec] = [text]
        else:
            b.append(text)

    def _open(self, day: int) -> None:
        if self.fh is not None:
            self.fh.close()
        index = self.days - 1 - day
        name = self.base if index == 0 else f"{self.base}.{index}"
        if index >= self.gzip_from:
            path = self.out / f"{name}.gz"
            # the day's file stays open across writes; closed when the day rotates
            self.fh = gzip.open(path, "wt", compresslevel=1, encoding="utf-8", newline="\n")  # noqa: SIM115
        else:
            path = self.out / name
            self.fh = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self.paths.append(path)
        self.day = day

    def flush_until(self, sec: int) -> None:
        """Writes every second before ``sec``."""
        for s in range(self.flushed, sec):
            lines = self.buckets.pop(s, None)
            if not lines:
                continue
            day = min((s - self.start) // 86400, self.days - 1)
            if day != self.day:
                self._open(day)
            if s != self._prefix_sec:
                t = time.gmtime(s)
                self._prefix = f"{MONTHS[t.tm_mon - 1]} {t.tm_mday:2d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} {HOST} "
                self._prefix_sec = s
            p = self._prefix
            chunk = "".join(p + line + "\n" for line in lines)
            assert self.fh is not None
            self.fh.write(chunk)
            self.bytes += len(chunk)
            self.lines += len(lines)
        self.flushed = max(self.flushed, sec)

    def close(self) -> None:
        if self.buckets:
            self.flush_until(max(self.buckets) + 1)
        if self.fh is not None:
            self.fh.close()


class Generator:
    """Writes the transactions of one mail at a time (see the module docs)."""

    def __init__(self, w: Writer, seed: int, mix: Mix) -> None:
        self.w = w
        self.rng = random.Random(seed)
        self.names = Names(random.Random(seed + 1))
        self.ids = Ids(seed)
        self.mix = mix
        self.n = 0

    # --- helpers ---------------------------------------------------------------------------

    def _recipients(self) -> list[str]:
        r = self.rng.random()
        k = 1 if r < 0.8 else 2 if r < 0.95 else self.rng.randint(3, 5)
        return self.rng.sample(self.names.users, k)

    def _sender(self) -> str:
        if self.rng.random() < 0.15:
            return self.rng.choice(self.names.heavy)
        return self.rng.choice(self.names.senders)

    def _msgid(self, domain: str) -> str:
        return f"<{self.rng.getrandbits(64):016x}.{self.rng.getrandbits(20):05x}@{domain}>"

    def _pids(self) -> tuple[int, int, int, int]:
        """smtpd, cleanup, milter worker and smtp process ids; an smtpd or smtp pid comes back
        only after thousands of mails (one process never runs two sessions at once)."""
        n = self.n
        return 20000 + n % 9973, 30000 + n % 53, 40000 + n % 8, 50000 + n % 997

    # --- transactions ----------------------------------------------------------------------

    def mail(self, t: int) -> None:
        self.n += 1
        m = self.mix
        r = self.rng.random()
        for kind, p in (
            ("postscreen", m.postscreen_reject),
            ("reject", m.smtpd_reject),
            ("greylist", m.greylist),
            ("quarantine", m.quarantine),
            ("blocked", m.blocked),
            ("deferred", m.deferred),
            ("bounced", m.bounced),
            ("mixed", m.mixed),
            ("split", m.split),
            ("outbound", m.outbound),
        ):
            if r < p:
                getattr(self, f"_{kind}")(t)
                return
            r -= p
        self._inbound(t, self._recipients(), {})

    def _postscreen(self, t: int) -> None:
        host, ip = self.rng.choice(self.names.hosts)
        to = self.rng.choice(self.names.users)
        self.w.at(
            t,
            f"postfix/postscreen[1001]: CONNECT from [{ip}]:{self.rng.randint(1024, 65535)} to [192.0.2.25]:25",
        )
        self.w.at(
            t + 1,
            f"postfix/postscreen[1001]: NOQUEUE: reject: RCPT from [{ip}]:{self.rng.randint(1024, 65535)}: 550 5.7.1 Service unavailable; client [{ip}] blocked using zen.spamhaus.org; from=<{self._sender()}>, to=<{to}>, proto=ESMTP, helo=<{host}>",
        )

    def _session_open(self, t: int, host: str, ip: str, pid: int) -> None:
        self.w.at(t, f"postfix/smtpd[{pid}]: connect from {host}[{ip}]")

    def _reject(self, t: int) -> None:
        host, ip = self.rng.choice(self.names.hosts)
        spid = self._pids()[0]
        self._session_open(t, host, ip, spid)
        sender = self._sender()
        to = f"{self.rng.choice(('nobody', 'admin', 'test', 'x'))}{self.rng.randint(1, 999)}@{self.rng.choice(INTERNAL)}"
        self.w.at(
            t + 1,
            f"postfix/smtpd[{spid}]: NOQUEUE: reject: RCPT from {host}[{ip}]: 550 5.1.1 <{to}>: Recipient address rejected: User unknown in relay recipient table; from=<{sender}> to=<{to}> proto=ESMTP helo=<{host}>",
        )
        self.w.at(
            t + 1,
            f"postfix/smtpd[{spid}]: disconnect from {host}[{ip}] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4",
        )

    def _greylist(self, t: int) -> None:
        host, ip = self.rng.choice(self.names.hosts)
        spid = self._pids()[0]
        self._session_open(t, host, ip, spid)
        sender = self._sender()
        rcpts = self._recipients()[:1]
        for to in rcpts:
            self.w.at(
                t,
                f"postfix/smtpd[{spid}]: NOQUEUE: milter-reject: RCPT from {host}[{ip}]: 450 4.7.1 <{to}>: Recipient address rejected: Service is unavailable (try later); from=<{sender}> to=<{to}> proto=ESMTP helo=<{host}>",
            )
        self.w.at(
            t + 1,
            f"postfix/smtpd[{spid}]: disconnect from {host}[{ip}] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4",
        )
        if self.rng.random() < 0.7:
            self.n += 1
            self._inbound(
                t + self.rng.randint(300, 900), rcpts, {}, sender=sender, client=(host, ip)
            )

    def _quarantine(self, t: int) -> None:
        rcpts = self._recipients()
        self._inbound(t, rcpts, {r: "Q" for r in rcpts}, score=self.rng.randint(6, 30))

    def _blocked(self, t: int) -> None:
        rcpts = self._recipients()
        self._inbound(t, rcpts, {r: "B" for r in rcpts}, virus=True)

    def _deferred(self, t: int) -> None:
        self._inbound(t, self._recipients(), {}, delivery="deferred")

    def _bounced(self, t: int) -> None:
        self._inbound(t, self._recipients(), {}, delivery="bounced")

    def _mixed(self, t: int) -> None:
        rcpts = self._recipients()
        while len(rcpts) < 3:
            rcpts.append(self.rng.choice(self.names.users))
        self._inbound(t, rcpts, {rcpts[1]: "Q", rcpts[2]: "B"}, score=6)

    def _split(self, t: int) -> None:
        rcpts = self._recipients()
        if len(rcpts) < 2:
            rcpts.append(self.rng.choice(self.names.users))
        self._inbound(t, rcpts, {rcpts[0]: "S"})

    def _outbound(self, t: int) -> None:
        ip = self.rng.choice(self.names.inside)
        user = self.rng.choice(self.names.users)
        rcpts = [
            f"{self.rng.choice(('info', 'team', 'office'))}@{d}"
            for d in self.rng.sample(self.names.domains, self.rng.choice((1, 1, 1, 2)))
        ]
        self._inbound(
            t,
            rcpts,
            {},
            sender=user,
            client=(f"pc{ip.rsplit('.', 1)[1]}.{user.split('@')[1]}", ip),
            outbound=True,
        )

    def _inbound(
        self,
        t: int,
        rcpts: list[str],
        fate: dict[str, str],
        *,
        sender: str | None = None,
        client: tuple[str, str] | None = None,
        score: int = 0,
        virus: bool = False,
        delivery: str = "sent",
        outbound: bool = False,
    ) -> None:
        """One mail through smtpd, the milter and delivery; ``fate`` maps recipients to
        ``Q`` (quarantine), ``B`` (block) or ``S`` (split: accepted onto a re-injected copy)."""
        rng = self.rng
        w = self.w
        spid, cpid, mpid, dpid = self._pids()
        host, ip = client or rng.choice(self.names.hosts)
        sender = sender or self._sender()
        qid = self.ids.qid()
        fid = self.ids.fid()
        size = rng.randint(1500, 60000)
        domain = sender.split("@")[1]
        msgid = self._msgid(domain)
        if outbound:
            w.at(t, f"postfix/smtpd[{spid}]: connect from {host}[{ip}]")
        else:
            self._session_open(t, host, ip, spid)
        w.at(t, f"postfix/smtpd[{spid}]: {qid}: client={host}[{ip}]")
        t1 = t + (rng.random() < 0.3)
        w.at(t1, f"postfix/cleanup[{cpid}]: {qid}: message-id={msgid}")
        w.at(t1, f"pmgfast-milter[{mpid}]: {fid}: new mail message-id={msgid}")
        w.at(
            t1,
            f"pmgfast-milter[{mpid}]: {fid}: queue={qid} client={host}[{ip}] from=<{sender}> size={size}",
        )
        spam_ms = rng.randint(40, 900)
        if not outbound:
            hits = (
                "BAYES_99(3.5),URIBL_BLACK(1.7)"
                if score >= 5
                else "SPF_PASS(-0.001),DKIM_VALID(-0.1)"
            )
            w.at(
                t1,
                f"pmgfast-milter[{mpid}]: {fid}: SA score={score}/5 time={spam_ms / 1000:.3f} hits={hits}",
            )
        if virus:
            w.at(t1, f"pmgfast-milter[{mpid}]: {fid}: virus detected: Eicar-Signature (clamav)")
        accepted = []
        copy = None
        for r in rcpts:
            f = fate.get(r)
            if f == "Q":
                w.at(
                    t1,
                    f"pmgfast-milter[{mpid}]: {fid}: moved mail for <{r}> to spam quarantine - {self.ids.fid()} (rule: {RULES_SPAM})",
                )
            elif f == "B":
                w.at(
                    t1, f"pmgfast-milter[{mpid}]: {fid}: block mail to <{r}> (rule: Block Viruses)"
                )
            elif f == "S":
                copy = copy or self.ids.qid()
                w.at(
                    t1,
                    f"pmgfast-milter[{mpid}]: {fid}: accept mail to <{r}> ({copy}) (rule: Remove Executables)",
                )
            else:
                accepted.append(r)
                w.at(
                    t1,
                    f"pmgfast-milter[{mpid}]: {fid}: accept mail to <{r}> ({qid}) (rule: default-accept)",
                )
        total = spam_ms + rng.randint(5, 60)
        w.at(
            t1,
            f"pmgfast-milter[{mpid}]: {fid}: processing time: {total / 1000:.3f} seconds ({spam_ms / 1000:.3f}, 0.010, 0)",
        )
        if copy is not None:
            rpid = 20000 + (self.n + 5000) % 9973
            w.at(t1, f"postfix/smtpd[{rpid}]: connect from localhost[127.0.0.1]")
            w.at(
                t1,
                f"postfix/smtpd[{rpid}]: {copy}: client=localhost[127.0.0.1], orig_client={host}[{ip}]",
            )
            w.at(t1, f"postfix/cleanup[{cpid}]: {copy}: message-id={msgid}")
            w.at(
                t1,
                f"postfix/qmgr[900]: {copy}: from=<{sender}>, size={size - 900}, nrcpt=1 (queue active)",
            )
            w.at(
                t1,
                f"postfix/smtpd[{rpid}]: disconnect from localhost[127.0.0.1] ehlo=1 xforward=1 mail=1 rcpt=1 data=1 quit=1 commands=6",
            )
            split = [r for r in rcpts if fate.get(r) == "S"]
            self._deliver(t1 + 1, copy, split, sender, "sent", dpid + 1, outbound)
        t2 = t1 + (rng.random() < 0.5)
        if not accepted:
            what = "milter-discard" if any(fate.get(r) == "Q" for r in rcpts) else "milter-reject"
            reply = (
                "milter triggers DISCARD action"
                if what == "milter-discard"
                else f"5.7.1 Rejected for policy reasons ({fid})"
            )
            w.at(
                t2,
                f"postfix/cleanup[{cpid}]: {qid}: {what}: END-OF-MESSAGE from {host}[{ip}]: {reply}; from=<{sender}> to=<{rcpts[0]}> proto=ESMTP helo=<{host}>",
            )
            w.at(
                t2,
                f"postfix/smtpd[{spid}]: disconnect from {host}[{ip}] ehlo=1 mail=1 rcpt={len(rcpts)} data=1 quit=1 commands={4 + len(rcpts)}",
            )
            return
        w.at(
            t2,
            f"postfix/qmgr[900]: {qid}: from=<{sender}>, size={size}, nrcpt={len(accepted)} (queue active)",
        )
        w.at(
            t2,
            f"postfix/smtpd[{spid}]: disconnect from {host}[{ip}] ehlo=2 starttls=1 mail=1 rcpt={len(rcpts)} data=1 quit=1 commands={5 + len(rcpts)}",
        )
        self._deliver(t2 + rng.randint(0, 2), qid, accepted, sender, delivery, dpid, outbound)

    def _deliver(
        self, t: int, qid: str, rcpts: list[str], sender: str, how: str, pid: int, outbound: bool
    ) -> None:
        rng = self.rng
        w = self.w
        if outbound:
            d = rcpts[0].split("@")[1]
            relay = f"mx.{d}[{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}]:25"
        else:
            relay = self.names.downstream[pid % 2]
        w.at(
            t,
            f"postfix/smtp[{pid}]: Trusted TLS connection established to {relay}: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
        )
        bounced: list[str] = []
        for r in rcpts:
            delay = rng.randint(1, 30) / 10
            if how == "deferred":
                w.at(
                    t,
                    f"postfix/smtp[{pid}]: {qid}: to=<{r}>, relay={relay}, delay={delay}, delays=0.1/0/0.5/{delay}, dsn=4.4.2, status=deferred (conversation with {relay.split(':')[0]} timed out while receiving the initial server greeting)",
                )
            elif how == "bounced" and not bounced:
                bounced.append(r)
                w.at(
                    t,
                    f"postfix/smtp[{pid}]: {qid}: to=<{r}>, relay={relay}, delay={delay}, delays=0.1/0/0.5/{delay}, dsn=5.1.1, status=bounced (host {relay.split(':')[0]} said: 550 5.1.1 <{r}>: Recipient address rejected: User unknown (in reply to RCPT TO command))",
                )
            else:
                w.at(
                    t,
                    f"postfix/smtp[{pid}]: {qid}: to=<{r}>, relay={relay}, delay={delay}, delays=0.1/0/0.5/{delay}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {rng.getrandbits(36):09X})",
                )
        if how == "deferred":
            later = t + rng.randint(600, 3600)
            for r in rcpts:
                w.at(
                    later,
                    f"postfix/smtp[{pid}]: {qid}: to=<{r}>, relay={relay}, delay={later - t}, delays={later - t - 1}/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {rng.getrandbits(36):09X})",
                )
            w.at(later, f"postfix/qmgr[900]: {qid}: removed")
            return
        if bounced:
            ndr = self.ids.qid()
            w.at(
                t,
                f"postfix/cleanup[{30000 + self.n % 53}]: {ndr}: message-id=<{t}.{ndr}@{HOST}.corp.example>",
            )
            w.at(
                t,
                f"postfix/bounce[{60000 + self.n % 31}]: {qid}: sender non-delivery notification: {ndr}",
            )
            w.at(t, f"postfix/qmgr[900]: {ndr}: from=<>, size=4021, nrcpt=1 (queue active)")
            w.at(
                t + 1,
                f"postfix/smtp[{pid}]: {ndr}: to=<{sender}>, relay=mx.{sender.split('@')[1]}[198.51.100.{rng.randint(1, 254)}]:25, delay=0.6, delays=0/0/0.3/0.3, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
            )
            w.at(t + 1, f"postfix/qmgr[900]: {ndr}: removed")
        w.at(t, f"postfix/qmgr[900]: {qid}: removed")


def generate(
    out: Path,
    *,
    mails_per_day: int,
    days: int = 1,
    seed: int = 1,
    start: str = "2024-03-11",
    base: str = "syslog",
    gzip_from: int = 2,
    mix: Mix | None = None,
) -> list[Path]:
    """Writes ``days`` files of logs (oldest first in the returned list). ``start`` is the first
    day (UTC midnight; stamps are written in UTC, so read them with ``TZ=UTC``)."""
    out.mkdir(parents=True, exist_ok=True)
    t0 = calendar.timegm(time.strptime(start, "%Y-%m-%d"))
    w = Writer(out, base, days, t0, gzip_from)
    g = Generator(w, seed, mix or Mix())
    rng = random.Random(seed + 7)
    span = 86400 * days
    # arrivals: sorted uniform times over the whole span, in steps so memory stays flat
    step = 3600
    per_step = mails_per_day / 86400 * step
    t = t0
    while t < t0 + span:
        n = int(per_step) + (rng.random() < per_step - int(per_step))
        times = sorted(t + rng.random() * step for _ in range(n))
        for x in times:
            sec = int(x)
            w.flush_until(sec)
            g.mail(sec)
        t += step
    w.close()
    return w.paths


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.loggen", description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path, help="directory to write the files into")
    p.add_argument("--mails-per-day", type=int, default=100_000)
    p.add_argument("--days", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", default="2024-03-11", help="first day, YYYY-MM-DD (UTC)")
    p.add_argument("--base", default="syslog")
    p.add_argument(
        "--gzip-from", type=int, default=2, help="rotation index from which files are gzipped"
    )
    a = p.parse_args(argv)
    clock = time.perf_counter()
    paths = generate(
        a.out,
        mails_per_day=a.mails_per_day,
        days=a.days,
        seed=a.seed,
        start=a.start,
        base=a.base,
        gzip_from=a.gzip_from,
    )
    size = sum(x.stat().st_size for x in paths)
    print(
        f"wrote {len(paths)} files, {size / 1e6:.1f} MB on disk, in {time.perf_counter() - clock:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
