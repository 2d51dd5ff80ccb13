"""pmgperf: how fast is this machine for mail filtering? (PMG's ``pmgperf``, plus pmgfast's own).

Each probe measures one figure for about three seconds and returns a :class:`Line`, printed with
PMG's labels padded to column 20 so the figures compare with PMG's tool line by line. How each is
measured (as PMG's pmgperf does it, pmg-behaviour.md section 6):

- CPU BOGOMIPS: the sum of the ``bogomips`` lines of /proc/cpuinfo.
- REGEX/SECOND: loop iterations in 3 s, each matching ``(.+)123.?123`` against
  ``int(rand*1e6) . time()``; the raw count in ~3 s (PMG's quirk: not divided by the time).
  Printed beside the same count from PMG's Perl one-liner when perl is installed.
- HD SIZE: the size of the file system holding the path, and its device.
- BUFFERED READS: sequential 2 MiB reads from the block device for 3 s (needs read access to
  the device; the page cache is dropped first where allowed).
- AVERAGE SEEK TIME: random 512-byte reads over the device for 3 s; 1000 / reads per second.
- FSYNCS/SECOND: write a 4001-byte file and fsync it, cycling over 300 names in
  ``<path>/ptest.<pid>``, for 3 s.
- DNS EXT: the average A lookup time of ``test<rand>.nonexistent<time><rand>.com`` (at most
  101 lookups or 3 s); DNS INT: the same for ``test<rand>.<search domain>``.

The DNS probes ask the configured resolver (``--nameserver``, else /etc/resolv.conf); with none
they are skipped with a note. pmgfast's own probes then measure its hot paths on a built-in
sample: MIME walk MB/s, Bayes tokens/s, rule evaluations/s, milter messages/s.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROBE_SECONDS = 3.0
RESOLV_CONF = Path("/etc/resolv.conf")
DNS_TIMEOUT = 10.0
LABEL_WIDTH = 19


@dataclass(frozen=True)
class Line:
    """One line of the report: ``LABEL:  value`` (value already formatted) and a note."""

    label: str
    value: str
    note: str = ""

    def render(self) -> str:
        text = f"{self.label + ':':<{LABEL_WIDTH}}{self.value}"
        return f"{text} ({self.note})" if self.note else text


def cpu_bogomips(cpuinfo: Path = Path("/proc/cpuinfo")) -> Line:
    total = 0.0
    for line in cpuinfo.read_text().splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "bogomips":
            total += float(value)
    return Line("CPU BOGOMIPS", f"{total:.2f}")


def regex_count(seconds: float = PROBE_SECONDS) -> int:
    """PMG's REGEX/SECOND loop in Python: iterations in ``seconds``, the raw count."""
    regex = re.compile(r"(.+)123.?123")
    start = time.perf_counter()
    count = 0
    while True:
        subject = f"{int(random.random() * 1000000)}{int(time.time())}"
        regex.search(subject)
        count += 1
        if time.perf_counter() - start > seconds:
            return count


PERL_REGEX_LOOP = (
    "use Time::HiRes qw(gettimeofday tv_interval); my $t0 = [gettimeofday]; my $count = 0; "
    "for (;; $count++) { my $str = int(rand(1000000)) . time(); if ($str =~ m/(.+)123.?123/) {} "
    'last if tv_interval($t0) > %s; } print "$count\\n";'
)


def perl_regex_count(seconds: float = PROBE_SECONDS) -> int | None:
    """The same count from PMG's own Perl loop, or None when perl is not installed."""
    perl = shutil.which("perl")
    if perl is None:
        return None
    out = subprocess.run(
        [perl, "-e", PERL_REGEX_LOOP % seconds],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    )
    return int(out.stdout.strip())


def regex_per_second(seconds: float = PROBE_SECONDS) -> Line:
    ours = regex_count(seconds)
    perl = perl_regex_count(seconds)
    note = f"perl, PMG's method: {perl}" if perl is not None else "perl not installed"
    return Line("REGEX/SECOND", str(ours), note)


def _device_of(path: Path) -> str:
    """The device named in /proc/mounts for the file system holding ``path``."""
    target = os.stat(path).st_dev
    best = ""
    for line in Path("/proc/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        try:
            if os.stat(fields[1]).st_dev == target:
                best = fields[0]
        except OSError:
            continue
    return best


def hd_size(path: Path) -> Line:
    vfs = os.statvfs(path)
    size_gb = vfs.f_frsize * vfs.f_blocks / 1000**3
    return Line("HD SIZE", f"{size_gb:.2f} GB", _device_of(path) or "unknown device")


def _block_device(path: Path) -> str | None:
    device = _device_of(path)
    if not device.startswith("/dev/"):
        return None
    try:
        return device if stat.S_ISBLK(os.stat(device).st_mode) else None
    except OSError:
        return None


def _open_device(path: Path, label: str) -> int | Line:
    """A read-only descriptor of the block device holding ``path``, or the ``skipped`` line
    saying why there is none."""
    device = _block_device(path)
    if device is None:
        return Line(label, "skipped", "the path is not on a block device")
    try:
        return os.open(device, os.O_RDONLY)
    except OSError as err:
        return Line(label, "skipped", f"cannot read {device}: {err.strerror}")


def buffered_reads(path: Path, seconds: float = PROBE_SECONDS) -> Line:
    fd = _open_device(path, "BUFFERED READS")
    if isinstance(fd, Line):
        return fd
    try:
        with suppress(OSError):  # not allowed in containers; the fadvise below still helps
            Path("/proc/sys/vm/drop_caches").write_text("3\n")
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        chunk = 2 * 1024 * 1024
        total = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            data = os.read(fd, chunk)
            if not data:
                break
            total += len(data)
        elapsed = time.perf_counter() - start
    finally:
        os.close(fd)
    return Line("BUFFERED READS", f"{total / elapsed / 1024**2:.2f} MB/sec")


def average_seek_time(path: Path, seconds: float = PROBE_SECONDS) -> Line:
    fd = _open_device(path, "AVERAGE SEEK TIME")
    if isinstance(fd, Line):
        return fd
    try:
        blocks = os.lseek(fd, 0, os.SEEK_END) // 512
        rng = random.Random()
        reads = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            os.pread(fd, 512, rng.randrange(blocks) * 512)
            reads += 1
        elapsed = time.perf_counter() - start
    finally:
        os.close(fd)
    return Line("AVERAGE SEEK TIME", f"{1000.0 / (reads / elapsed):.2f} ms")


def fsyncs_per_second(path: Path, seconds: float = PROBE_SECONDS) -> Line:
    directory = path / f"ptest.{os.getpid()}"
    directory.mkdir()
    payload = b"A" * 4000 + b"\n"
    count = 0
    try:
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            fd = os.open(
                directory / f"tf_{count % 300}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600
            )
            try:
                os.write(fd, payload)
                os.fsync(fd)
            finally:
                os.close(fd)
            count += 1
        elapsed = time.perf_counter() - start
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return Line("FSYNCS/SECOND", f"{count / elapsed:.2f}")


def _resolver(nameserver: str | None, resolv_conf: Path, timeout: float) -> Any:
    """A dnspython resolver: the given ``IP[:PORT]``, else the one ``resolv_conf`` names;
    None when there is none."""
    import dns.resolver

    if nameserver:
        resolver = dns.resolver.Resolver(configure=False)
        host, _, port = (
            nameserver.rpartition(":") if nameserver.count(":") == 1 else (nameserver, "", "")
        )
        resolver.nameservers = [host or nameserver]
        if port:
            resolver.port = int(port)
    else:
        try:
            resolver = dns.resolver.Resolver(filename=str(resolv_conf))
        except (dns.resolver.NoResolverConfiguration, OSError):
            return None
        if not resolver.nameservers:
            return None
    resolver.timeout = timeout
    resolver.lifetime = 2 * timeout  # PMG: 10 s timeout, one retry
    resolver.search = []
    return resolver


def _dns_average(resolver: Any, make_name: Callable[[], str], seconds: float) -> float:
    import dns.exception
    import dns.resolver

    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 101 and time.perf_counter() - start < seconds:
        began = time.perf_counter()
        try:
            resolver.resolve(make_name(), "A", search=False, raise_on_no_answer=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            pass
        except dns.exception.DNSException as err:
            raise RuntimeError(
                f"no answer from {', '.join(map(str, resolver.nameservers))}: {type(err).__name__}"
            ) from None
        times.append(time.perf_counter() - began)
    return 1000.0 * sum(times) / len(times)


def dns_lines(
    nameserver: str | None,
    search_domain: str | None,
    seconds: float = PROBE_SECONDS,
    resolv_conf: Path = RESOLV_CONF,
    timeout: float = DNS_TIMEOUT,
) -> list[Line]:
    resolver = _resolver(nameserver, resolv_conf, timeout)
    if resolver is None:
        return [
            Line("DNS EXT", "skipped", "no resolver configured"),
            Line("DNS INT", "skipped", "no resolver configured"),
        ]
    if search_domain is None and not nameserver:
        search_domain = _resolv_conf_search(resolv_conf)
    rng = random.Random()
    lines = []
    try:
        ext = _dns_average(
            resolver,
            lambda: (
                f"test{rng.randrange(1000000)}.nonexistent{int(time.time())}{rng.randrange(1000000)}.com"
            ),
            seconds,
        )
        lines.append(Line("DNS EXT", f"{ext:0.2f} ms"))
    except RuntimeError as err:
        lines.append(Line("DNS EXT", "failed", str(err)))
    if search_domain:
        try:
            internal = _dns_average(
                resolver, lambda: f"test{rng.randrange(1000000)}.{search_domain}", seconds
            )
            lines.append(Line("DNS INT", f"{internal:0.2f} ms", search_domain))
        except RuntimeError as err:
            lines.append(Line("DNS INT", "failed", str(err)))
    else:
        lines.append(Line("DNS INT", "skipped", "no search domain"))
    return lines


def _resolv_conf_search(path: Path) -> str | None:
    try:
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 2 and fields[0] in ("search", "domain"):
                return fields[1]
    except FileNotFoundError:
        pass
    return None


def report(
    path: Path,
    nameserver: str | None = None,
    search_domain: str | None = None,
    seconds: float = PROBE_SECONDS,
    own: bool = True,
    resolv_conf: Path = RESOLV_CONF,
) -> Iterator[Line]:
    """Every line of the report, in PMG's order, then pmgfast's own probes."""
    yield cpu_bogomips()
    yield regex_per_second(seconds)
    yield hd_size(path)
    yield buffered_reads(path, seconds)
    yield average_seek_time(path, seconds)
    yield fsyncs_per_second(path, seconds)
    yield from dns_lines(nameserver, search_domain, seconds, resolv_conf)
    if own:
        from pmgfast import perf_own

        yield from perf_own.lines(seconds)
