"""Benchmark of archive listing: the compiled lister against the pure twin.

Workloads: archives built in memory from corpus messages (a zip of 40 messages, the same as
tar.gz, tar.xz and a zip nested three deep) and the ClamAV test containers of the corpus
(decoded in memory). Both listers must give the same listing on every archive the twin can
read; the figures are archives listed per second.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.harness import Result, best_time, format_table
from pmgfast import native
from pmgfast.archive import list_archive, pure_list_archive
from tests.archive.build import clamav, make_cpio, make_tar, make_zip

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
CLAMAV = [
    "clam.zip",
    "clam.bz2.zip",
    "clam.tar.gz",
    "clam.exe_and_mail.tar.gz",
    "clam.exe.bz2",
    "clam.newc.cpio",
    "clam.odc.cpio",
    "clam_cache_emax.tgz",
]


def workloads() -> dict[str, list[tuple[str, bytes]]]:
    messages = sorted((CORPUS / "spamassassin" / "ham").iterdir())[:40]
    files = [(f"mail/{p.name}.eml", p.read_bytes()) for p in messages]
    nested = make_zip(files[:10])
    for level in range(3):
        nested = make_zip([(f"level{level}.zip", nested), ("readme.txt", b"nested\n")])
    return {
        "zip of 40 messages": [("mail.zip", make_zip(files))],
        "tar.gz of 40 messages": [("mail.tgz", make_tar(files, "gz"))],
        "tar.xz of 40 messages": [("mail.txz", make_tar(files, "xz"))],
        "cpio of 40 messages": [("mail.cpio", make_cpio(files))],
        "zip nested 4 deep": [("nested.zip", nested)],
        "ClamAV test containers": [(n, clamav(CORPUS, n)) for n in CLAMAV],
    }


def run(quick: bool) -> list[Result]:
    if native.rust() is None:
        raise RuntimeError("the archive benchmark needs the compiled extension")
    results = []
    for label, archives in workloads().items():
        agreed = all(list_archive(d, n) == pure_list_archive(d, n) for n, d in archives)

        def listed_native(archives=archives):
            for name, data in archives:
                list_archive(data, name)

        def listed_pure(archives=archives):
            for name, data in archives:
                pure_list_archive(data, name)

        repeat = 2 if quick else 5
        native_s = best_time(listed_native, repeat=repeat, min_seconds=0.1 if quick else 0.3)
        pure_s = best_time(listed_pure, repeat=repeat, min_seconds=0.1 if quick else 0.3)
        size = sum(len(d) for _, d in archives)
        members = sum(len(list_archive(d, n).members) for n, d in archives)
        results.append(
            Result(
                area="archive",
                name=f"list {label}",
                unit="archives/s",
                value=len(archives) / native_s,
                baseline=len(archives) / pure_s,
                baseline_name="zipfile/tarfile/gzip/bz2/lzma",
                agreed=agreed,
                extra={
                    "archives": len(archives),
                    "members": members,
                    "bytes": size,
                    "native_MB_per_s": size / native_s / 1e6,
                },
            )
        )
    return results


if __name__ == "__main__":
    print(format_table(run(quick="--quick" in sys.argv)))
