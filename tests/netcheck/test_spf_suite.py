"""The openspf RFC 7208 test suite (../shared/corpus/spf/rfc7208-tests.yml), every test, through
our SPF layer and a real unbound serving each scenario's zone data.

The suite's conventions, as its drivers implement them: an SPF-type record is also published
as TXT unless the name has TXT records of its own (``TXT: NONE`` means: none at all); a name
marked TIMEOUT answers the types it has records of and lets every other query time out; the
default explanation is the word ``DEFAULT``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from pmgfast.netcheck.resolver import Resolver
from pmgfast.netcheck.spf import SpfChecker
from tests.dns import UnboundServer, Zone, escape_name

SUITE = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "spf" / "rfc7208-tests.yml"


def _scenarios() -> list[dict]:
    if not SUITE.is_file():
        raise RuntimeError(f"the SPF test suite is missing at {SUITE}")
    with SUITE.open("rb") as f:
        return list(yaml.safe_load_all(f))


SCENARIOS = _scenarios()
CASES = [
    pytest.param(index, name, id=f"{index:02d}-{name}")
    for index, scenario in enumerate(SCENARIOS)
    for name in scenario["tests"]
]


def suite_zone(zonedata: dict) -> Zone:
    """The scenario's zone data as records for unbound (see the module docstring)."""
    zone = Zone(ttl=60)
    for name, records in zonedata.items():
        types = {k for r in records if isinstance(r, dict) for k in r}
        for record in records:
            if record == "TIMEOUT":
                zone.timeout(name)
                continue
            ((rtype, value),) = record.items()
            if rtype in ("SPF", "TXT"):
                if value == "NONE":
                    continue
                strings = value if isinstance(value, list) else [value]
                zone.txt(name, *strings, rtype=rtype)
                if rtype == "SPF" and "TXT" not in types:
                    zone.txt(name, *strings)
            elif rtype == "MX":
                preference, host = value
                zone.add(name, "MX", f"{preference} {escape_name(host)}")
            elif rtype in ("PTR", "CNAME"):
                zone.add(name, rtype, escape_name(value))
            else:
                zone.add(name, rtype, str(value))
    return zone


@pytest.fixture(scope="module")
def servers():
    started: dict[int, UnboundServer] = {}

    def get(index: int) -> UnboundServer:
        if index not in started:
            started[index] = UnboundServer.start(suite_zone(SCENARIOS[index]["zonedata"]))
        return started[index]

    yield get
    for server in started.values():
        server.stop()


def test_every_zone_record_loaded(servers):
    """The zone conversion loses nothing: unbound accepted every scenario's data."""
    for index in range(len(SCENARIOS)):
        assert servers(index).process.poll() is None


@pytest.mark.parametrize(("index", "name"), CASES)
def test_rfc7208(servers, index, name):
    case = SCENARIOS[index]["tests"][name]
    server = servers(index)

    async def run():
        resolver = Resolver(server.address, timeout=0.5)
        checker = SpfChecker(resolver, default_explanation="DEFAULT")
        try:
            return await checker.evaluate(case["host"], case["mailfrom"], case["helo"])
        finally:
            checker.close()

    result = asyncio.run(run())
    expected = case["result"] if isinstance(case["result"], list) else [case["result"]]
    assert result.result in expected, (case.get("description"), result)
    if "explanation" in case and result.result == "fail":
        assert result.explanation == case["explanation"]
