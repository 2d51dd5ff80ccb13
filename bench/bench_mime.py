"""Benchmark of the MIME walk: the native walk against its pure twin (stdlib ``email``), same run.

Inputs: the corpus (``../shared/corpus/mime`` and ``spamassassin``), a synthetic set shaped
like peers.md section 3b (60 % plain text, 30 % text+HTML alternative, 10 % with a 20-200 KB
encoded attachment; 3-12 Received headers; ~21 KB on average), 20 KB text/plain messages,
and three large messages: a 10 MB base64
attachment, 1,000 parts, and nesting 60 levels deep. Each line gives msg/s or MB/s for the full
part table (types, file names, decoded text, HTML text, URIs) and whether both walks built
identical tables. Peak memory of a native walk of the 10 MB message is measured in a child
process and reported against the message size (target: below 3x).
"""

from __future__ import annotations

import base64
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.harness import Result, best_time, format_table
from pmgfast import native
from pmgfast.mime import Limits, walk_native, walk_pure
from pmgfast.mime.compare import differences

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
LIMITS = Limits(max_parts=0)
WORDS = [
    *("mail", "gateway", "spam", "filter", "rule", "quarantine", "postfix", "message"),
    *("attachment", "report", "delivery", "invoice", "meeting", "project", "update"),
    *("the", "of", "and", "to", "in", "for", "on", "with", "at", "by"),
]
URL_EVERY = 20  # one URL every 20 lines (about 10 per 20 KB message)


def _text(rng: random.Random, size: int) -> str:
    out, n = [], 0
    while n < size:
        line = " ".join(rng.choice(WORDS) for _ in range(12))
        if len(out) % URL_EVERY == URL_EVERY - 1:
            line += f" https://www{len(out)}.example.com/offer?id={n}"
        out.append(line)
        n += len(line) + 1
    return "\n".join(out)


def synthetic(rng: random.Random, size: int = 12_000, kind: float | None = None) -> bytes:
    """One message mixed as in peers.md 3b: text parts of about ``size`` bytes; one in ten
    carries a 15-150 KB binary (20-200 KB once base64-encoded); about 21 KB on average."""
    received = "".join(
        f"Received: from relay{i}.example.net (relay{i}.example.net [192.0.2.{i}])\n"
        f"\tby mx.example.com (Postfix) with ESMTPS id 4B{i:03d}XYZ\n\tfor <user@example.com>; "
        "Tue, 24 Nov 2026 10:00:00 +0000\n"
        for i in range(rng.randint(3, 12))
    )
    head = (
        received + "From: Sender <sender@example.org>\nTo: user@example.com\n"
        "Subject: =?utf-8?q?Quarterly_r=C3=A9port?=\nMessage-ID: <x@example.org>\n"
        "MIME-Version: 1.0\n"
    )
    kind = rng.random() if kind is None else kind
    body_size = max(size - len(head) - 400, 1000)
    if kind < 0.6:
        return (
            head + "Content-Type: text/plain; charset=utf-8\n\n" + _text(rng, body_size) + "\n"
        ).encode()
    if kind < 0.9:
        plain = _text(rng, body_size // 3)
        html = "<html><body>" + "".join(
            f"<p>{line}</p>" for line in _text(rng, body_size * 2 // 3).split("\n")
        )
        return (
            head + 'Content-Type: multipart/alternative; boundary="alt"\n\n--alt\n'
            "Content-Type: text/plain; charset=utf-8\n\n" + plain + "\n--alt\n"
            "Content-Type: text/html; charset=utf-8\n"
            "Content-Transfer-Encoding: quoted-printable\n\n" + html + "</body></html>\n--alt--\n"
        ).encode()
    blob = base64.encodebytes(b"PK\x03\x04" + rng.randbytes(rng.randint(15_000, 150_000))).decode()
    return (
        head + 'Content-Type: multipart/mixed; boundary="mix"\n\n--mix\n'
        "Content-Type: text/plain; charset=utf-8\n\n" + _text(rng, 2000) + "\n--mix\n"
        'Content-Type: application/zip; name="report.zip"\nContent-Transfer-Encoding: base64\n'
        'Content-Disposition: attachment; filename="report.zip"\n\n' + blob + "--mix--\n"
    ).encode()


def big_attachment(mb: int = 10) -> bytes:
    blob = base64.encodebytes(b"%PDF-1.4\n" + random.Random(7).randbytes(mb * 1_000_000))
    return (
        b'Content-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nsee attached\n"
        b'--b\nContent-Type: application/pdf; name="big.pdf"\nContent-Transfer-Encoding: base64\n\n'
        + blob
        + b"--b--\n"
    )


def many_parts(n: int = 1000) -> bytes:
    parts = b"".join(
        b"--b\nContent-Type: text/plain; charset=utf-8\n"
        b'Content-Disposition: attachment; filename="f%d.txt"\n\n'
        b"part %d http://host%d.example.com/\n" % (i, i, i)
        for i in range(n)
    )
    return b'Content-Type: multipart/mixed; boundary="b"\n\n' + parts + b"--b--\n"


def deep(levels: int = 60) -> bytes:
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="d%d"\n\n--d%d\n' % (i, i) for i in range(levels)
    )
    tail = b"".join(b"\n--d%d--\n" % i for i in reversed(range(levels)))
    return head + b"Content-Type: text/plain\n\ninnermost\n" + tail


def _set(area: str, name: str, msgs: list[bytes], rust, quick: bool, unit: str = "msg/s") -> Result:
    total = sum(len(m) for m in msgs)
    t_native = best_time(
        lambda: [walk_native(m, LIMITS, rust) for m in msgs], repeat=2 if quick else 3
    )
    t_pure = best_time(
        lambda: [walk_pure(m, LIMITS) for m in msgs], repeat=1 if quick else 2, min_seconds=0
    )
    agreed = all(not differences(walk_native(m, LIMITS, rust), walk_pure(m, LIMITS)) for m in msgs)
    scale = len(msgs) if unit == "msg/s" else total / 1e6
    return Result(
        area,
        name,
        unit,
        scale / t_native,
        scale / t_pure,
        "stdlib email (pure twin)",
        agreed,
        extra={
            "messages": len(msgs),
            "bytes": total,
            "native_MB_s": total / 1e6 / t_native,
            "pure_MB_s": total / 1e6 / t_pure,
            "native_us_per_msg": t_native / len(msgs) * 1e6,
        },
    )


PEAK_SCRIPT = """
import os, sys
sys.path.insert(0, {root!r})
def hwm():  # peak RSS of this process image (ru_maxrss would include the parent's, see execve)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
from pmgfast.mime import Limits, walk_native
from pmgfast_native import _native as rust
fd = os.open({path!r}, os.O_RDONLY)
raw = os.read(fd, os.fstat(fd).st_size)  # one allocation: the baseline holds the message once
before = hwm()
m = walk_native(raw, Limits(max_parts=0), rust)
body = m.body(3)
print(len(raw), hwm() - before)
"""


def peak_memory() -> tuple[int, int]:
    """(message bytes, peak bytes above the loaded message) of a native walk of the 10 MB
    message plus fetching the attachment's decoded body, in a fresh child process."""
    root = str(Path(__file__).resolve().parent.parent)
    with tempfile.NamedTemporaryFile(suffix=".eml") as f:
        f.write(big_attachment())
        f.flush()
        script = PEAK_SCRIPT.format(root=root, path=f.name)
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        ).stdout.split()
    return int(out[0]), int(out[1])


def run(quick: bool) -> list[Result]:
    rust = native.rust()
    if rust is None:
        raise RuntimeError("bench_mime needs the native module (run 'make build')")
    rng = random.Random(1)
    files = sorted(
        p
        for d in ("mime", "spamassassin")
        for p in (CORPUS / d).rglob("*")
        if p.is_file() and p.name not in ("COPYING", "INDEX.md", "index.tsv")
    )
    if quick:
        files = files[::12]
    corpus = [p.read_bytes() for p in files]
    mail20k = [synthetic(rng) for _ in range(150 if quick else 1000)]
    text20k = [synthetic(rng, 20_000, kind=0.0) for _ in range(100 if quick else 500)]
    results = [
        _set("mime", "walk corpus", corpus, rust, quick),
        _set("mime", "walk corpus", corpus, rust, quick, unit="MB/s"),
        _set("mime", "walk peers-3b mix (~21 KB avg)", mail20k, rust, quick),
        _set("mime", "walk peers-3b mix (~21 KB avg)", mail20k, rust, quick, unit="MB/s"),
        _set("mime", "walk 20 KB text/plain mail", text20k, rust, quick),
        _set("mime", "10 MB base64 attachment", [big_attachment()], rust, quick, unit="MB/s"),
        _set("mime", "1,000 parts", [many_parts()], rust, quick),
        _set("mime", "nesting 60 deep", [deep()], rust, quick),
    ]
    size, extra = peak_memory()
    results.append(
        Result(
            "mime",
            "extra peak memory, 10 MB attachment",
            "x msg size",
            extra / size,
            higher_is_better=False,
            extra={"message_bytes": size, "extra_peak_bytes": extra},
        )
    )
    return results


if __name__ == "__main__":
    print(format_table(run(quick="--quick" in sys.argv)))
