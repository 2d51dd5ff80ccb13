"""Per-message latency of all network tests together (DNSBL, RBL scores, URIBL, SPF, DKIM,
DMARC) against a real unbound on loopback, with a cold and a warm resolver cache.

Each message is a real corpus body (SpamAssassin ham and spam) under headers of its own
domain ``dN.bench.example``, DKIM-signed with the corpus test key; that domain publishes an SPF
record with an include, the DKIM key and a DMARC policy; every linked URI the MIME walk finds
is asked of three URI lists, the client of three DNS lists (some clients are listed). Cold: a
fresh resolver cache per message (unbound answers from memory, so this is our own cost plus
loopback round trips). Warm: the same messages again through one shared cache. The baseline is
the same checks run one after another (no parallelism) with a cold cache; ``agreed`` says both
produced the same hits for every message. Targets (issue 7): p99 under 20 ms warm, 60 ms cold.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

import dkim

from bench.harness import Result, format_table
from pmgfast import mime
from pmgfast.netcheck import MessageContext, NetSettings, NetworkChecks
from pmgfast.netcheck.sites import parse_sites, reversed_ip
from tests.dns import UnboundServer, Zone

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
AREA = "netcheck"


def _bodies(count: int) -> list[bytes]:
    files = sorted((CORPUS / "spamassassin" / "ham").iterdir())[: count // 2]
    files += sorted((CORPUS / "spamassassin" / "spam").iterdir())[: count - len(files)]
    bodies = []
    for path in files:
        raw = path.read_bytes().replace(b"\r\n", b"\n")
        head, sep, body = raw.partition(b"\n\n")
        ctype = [line for line in head.split(b"\n") if line.lower().startswith(b"content-type:")]
        bodies.append((ctype[0] + b"\n" if ctype else b"") + b"\n" + (body if sep else raw))
    return bodies


def _setup(count: int) -> tuple[Zone, list[MessageContext]]:
    key = (CORPUS / "dkim" / "dkimpy" / "test.private").read_bytes()
    record = (CORPUS / "dkim" / "dkimpy" / "test.txt").read_text().strip()
    zone = Zone(ttl=3600)
    contexts = []
    for i, body in enumerate(_bodies(count)):
        domain = f"d{i}.bench.example"
        ip = f"198.51.100.{i % 250 + 1}"
        zone.txt(domain, f"v=spf1 include:_spf.{domain} -all")
        zone.txt(f"_spf.{domain}", f"v=spf1 ip4:{ip} ~all")
        zone.txt(f"sel._domainkey.{domain}", record)
        zone.txt(f"_dmarc.{domain}", "v=DMARC1; p=quarantine")
        if i % 5 == 0:
            zone.a(f"{reversed_ip(ip)}.bl1.bench.example", "127.0.0.2")
        headers = (
            f"From: Sender <news@{domain}>\nTo: rcpt@example.org\nSubject: message {i}\n"
            f"Date: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <{i}@{domain}>\n"
        ).encode()
        raw = (headers + body).replace(b"\n", b"\r\n")
        raw = (
            dkim.sign(raw, b"sel", domain.encode(), key, include_headers=[b"from", b"subject"])
            + raw
        )
        uris = mime.walk(raw).uris
        for j, uri in enumerate(uris[:3]):
            host = uri.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0]
            if i % 7 == 0 and j == 0 and host.count(".") >= 1:
                zone.a(f"{host}.uribl1.bench.example", "127.0.0.2")
        contexts.append(
            MessageContext(client_ip=ip, helo=f"mx.{domain}", sender=f"bounce@{domain}",
                           raw=raw, uris=uris)
        )  # fmt: skip
    return zone, contexts


def _settings(server: UnboundServer) -> NetSettings:
    lists = "bl1.bench.example*2, bl2.bench.example, bl3.bench.example=127.0.0.[2..11]"
    return NetSettings(
        nameservers=server.address,
        query_timeout=2.0,
        message_budget=5.0,
        dnsbl_sites=parse_sites(lists),
        dnsbl_threshold=2,
        uribl_sites=parse_sites(
            "uribl1.bench.example, uribl2.bench.example, uribl3.bench.example",
            integer_weights=False,
        ),
        authserv_id="mx.bench.example",
    )


async def _sequential(checks: NetworkChecks, ctx: MessageContext) -> set[str]:
    """The baseline: the same checks, one after another."""
    assert ctx.client_ip is not None and ctx.raw is not None
    hits = await checks.rbl(ctx.client_ip)
    await checks.dnsbl(ctx.client_ip)
    hits += (await checks.uribl(ctx.uris)).hits
    spf = await checks.spf(ctx.client_ip, ctx.helo, ctx.sender)
    hits += spf.hits()
    dkim_outcome = await checks.dkim(ctx.raw)
    dmarc = await checks.dmarc(ctx.raw, spf, dkim_outcome)
    hits += dkim_outcome.hits(dmarc.from_domain, ctx.sender.rpartition("@")[2])
    hits += dmarc.hits()
    return {h.name for h in hits}


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def _measure(settings: NetSettings, contexts: list[MessageContext]) -> dict[str, object]:
    """Cold: the long-lived checker with its cache emptied before each message (a worker's
    first sight of every name); warm: the same messages again; baseline: sequential, cold."""
    cold, warm, base = [], [], []
    names_parallel, names_sequential = [], []
    checks = NetworkChecks(settings)
    try:
        for ctx in contexts:
            checks.resolver.clear()
            started = time.perf_counter()
            report = await checks.check(ctx)
            cold.append(time.perf_counter() - started)
            names_parallel.append({h.name for h in report.hits})
        for ctx in contexts:
            await checks.check(ctx)  # every name of every message in the cache
        for ctx in contexts:
            started = time.perf_counter()
            await checks.check(ctx)
            warm.append(time.perf_counter() - started)
        in_flight = 16
        started = time.perf_counter()
        for i in range(0, len(contexts), in_flight):
            await asyncio.gather(*(checks.check(c) for c in contexts[i : i + in_flight]))
        throughput = len(contexts) / (time.perf_counter() - started)
        for ctx in contexts:
            checks.resolver.clear()
            started = time.perf_counter()
            names_sequential.append(await _sequential(checks, ctx))
            base.append(time.perf_counter() - started)
    finally:
        checks.close()
    return {
        "cold": cold,
        "warm": warm,
        "base": base,
        "agreed": names_parallel == names_sequential,
        "throughput": throughput,
    }


def run(quick: bool) -> list[Result]:
    count = 40 if quick else 300
    zone, contexts = _setup(count)
    server = UnboundServer.start(zone)
    try:
        settings = _settings(server)
        asyncio.run(_measure(settings, contexts[:5]))  # warm up imports and unbound
        m = asyncio.run(_measure(settings, contexts))
    finally:
        server.stop()
    cold, warm, base = m["cold"], m["warm"], m["base"]
    assert isinstance(cold, list) and isinstance(warm, list) and isinstance(base, list)
    agreed = bool(m["agreed"])
    results = []
    for label, values, target in (("cold cache", cold, 60.0), ("warm cache", warm, 20.0)):
        for pct in (50, 99):
            baseline = _percentile(base, pct) * 1000 if label == "cold cache" else None
            results.append(
                Result(
                    AREA,
                    f"all network tests per message, p{pct}, {label}",
                    "ms",
                    _percentile(values, pct) * 1000,
                    baseline=baseline,
                    baseline_name="sequential, cold" if baseline is not None else "",
                    agreed=agreed if baseline is not None else None,
                    higher_is_better=False,
                    extra={
                        "messages": len(values),
                        "mean_ms": statistics.fmean(values) * 1000,
                        "target_p99_ms": target,
                    },
                )
            )
    results.append(
        Result(AREA, "messages/s, 16 in flight, warm cache", "msg/s", float(m["throughput"]))  # type: ignore[arg-type]
    )
    return results


if __name__ == "__main__":
    print(format_table(run(quick="--quick" in sys.argv)))
