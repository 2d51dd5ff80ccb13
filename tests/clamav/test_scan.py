"""Scans against a real clamd with the test-built signature database (tests/clamd.py)."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmgfast.clamav import ClamdClient, Verdict, assess
from tests.clamav import mails
from tests.clamd import AV, EICAR_NAME, TESTFILES, ClamdServer, eicar, xor_decode

CLAM_EXE = {"clam.exe.UNOFFICIAL", "ClamAV-Test-File.UNOFFICIAL"}
# Formats libclamav unpacks in Debian's build. Not here: RAR (Debian builds ClamAV without
# the non-free unrar), clam_cache_emax.tgz (a cache test, not a detection test) and the
# clam.mail-* MIME-parser differential cases (ClamAV's own parser misses several of them).
UNPACKED = sorted(
    path
    for path in (AV / "clamav").glob("*.xor")
    if ".rar" not in path.name
    and "cache_emax" not in path.name
    and not path.name.startswith("clam.mail-")
)


@pytest.mark.parametrize(
    "build",
    [
        mails.eicar_attachment,
        mails.eicar_in_zip,
        mails.eicar_in_zip_in_zip,
        mails.eicar_uuencoded,
    ],
)
def test_eicar_in_mail_is_a_virus(clamd: ClamdServer, build):
    result = clamd.client().scan(build())
    assert result.verdict is Verdict.VIRUS, result
    assert result.name == EICAR_NAME
    assert assess(result).virus == f"{EICAR_NAME} (clamav)"


def test_plain_eicar_and_corpus_eicar_mail(clamd: ClamdServer, corpus: Path):
    client = clamd.client()
    assert client.scan(eicar()).name == EICAR_NAME
    amavis = xor_decode(corpus / "av" / "eicar" / "docker-mailserver-amavis-virus.eml.xor")
    assert client.scan(amavis).name == EICAR_NAME


@pytest.mark.parametrize("path", UNPACKED, ids=lambda p: p.name)
def test_clam_exe_in_every_container_format(clamd: ClamdServer, path: Path):
    result = clamd.client().scan(xor_decode(path))
    assert result.verdict is Verdict.VIRUS and result.name in CLAM_EXE, result


def test_debian_testfiles_hash_signature(clamd: ClamdServer):
    result = clamd.client().scan((TESTFILES / "clam.exe").read_bytes())
    assert result.name in CLAM_EXE


def test_clean_mail(clamd: ClamdServer, corpus: Path):
    client = clamd.client()
    assert client.scan(mails.clean_mail()).verdict is Verdict.CLEAN
    hams = sorted((corpus / "spamassassin" / "ham").iterdir())[:20]
    for ham in hams:
        result = client.scan(ham.read_bytes())
        assert result.verdict is Verdict.CLEAN, (ham.name, result)
    assert client.scan(b"").verdict is Verdict.CLEAN


def test_encrypted_archive_is_heuristic_with_archiveblockencrypted(
    clamd: ClamdServer, clamd_encrypted: ClamdServer
):
    mail = mails.eicar_encrypted_zip()
    assert "AlertEncrypted true" in clamd_encrypted.conf_path.read_text()
    result = clamd_encrypted.client().scan(mail)
    assert result.verdict is Verdict.HEURISTIC
    assert result.name is not None and result.name.startswith("Heuristics.Encrypted")
    finding = assess(result, heuristic_score=3)
    assert finding.virus is None and finding.spam_score == 3
    assert finding.spam_rule == "ClamAVHeuristics"
    # Without the option the archive cannot be opened, so nothing is found.
    assert clamd.client().scan(mail).verdict is Verdict.CLEAN


def test_tcp_socket(clamd: ClamdServer):
    result = clamd.client(tcp=True).scan(mails.eicar_in_zip())
    assert result.name == EICAR_NAME


def test_streams_from_a_file(clamd: ClamdServer, tmp_path: Path):
    spill = tmp_path / "spill.eml"
    spill.write_bytes(mails.eicar_in_zip_in_zip())
    with open(spill, "rb") as handle:
        assert clamd.client(chunk_size=100).scan(handle).name == EICAR_NAME


def test_stream_max_length_truncates_instead_of_failing(tmp_path: Path):
    # pmg.conf mail.maxsize renders StreamMaxLength; the client reads it back from clamd.conf.
    server = ClamdServer.start_new(("mail maxsize 20000",), tcp=False)
    try:
        assert "StreamMaxLength 20000" in server.conf_path.read_text()
        client = server.client()
        assert client.stream_max_length == 20000
        padding = b"x" * 76 + b"\r\n"
        early = mails.eicar_attachment() + padding * 1000
        late = b"Subject: big\r\n\r\n" + padding * 300 + eicar()
        found = client.scan(early)
        assert found.verdict is Verdict.VIRUS and found.truncated
        missed = client.scan(late)
        assert missed.verdict is Verdict.CLEAN and missed.truncated
        assert "StreamMaxLength" in assess(missed).log[0]
        # A client that ignores the limit gets clamd's refusal as an error, not a crash.
        greedy = server.client(stream_max_length=10**6)
        refused = greedy.scan(late)
        assert refused.verdict is Verdict.ERROR
        assert assess(refused).tempfail
        assert client.scan(eicar()).name == EICAR_NAME
    finally:
        server.destroy()


def test_pool_reuses_connections(clamd: ClamdServer):
    client = clamd.client(pool_size=2, pooled=True)
    for _ in range(10):
        assert client.scan(eicar()).verdict is Verdict.VIRUS
    assert client.stats.connects == 1 and client.stats.reused == 9
    assert client.idle_connections == 1


def test_pooling_default_follows_the_measurements(clamd: ClamdServer):
    # Unix socket: a fresh connection is cheaper for clamd than a session (bench_clamav).
    assert not clamd.client().pooled
    assert clamd.client(tcp=True).pooled


def test_connect_per_message_baseline(clamd: ClamdServer):
    client = clamd.client(pooled=False)
    for _ in range(3):
        assert client.scan(eicar()).verdict is Verdict.VIRUS
    assert client.stats.connects == 3 and client.idle_connections == 0


def test_pool_is_thread_safe(clamd: ClamdServer):
    client = clamd.client(pool_size=4, pooled=True)
    payloads = [mails.eicar_in_zip(), mails.clean_mail()] * 20
    results: list[Verdict] = [Verdict.ERROR] * len(payloads)

    def work(offset: int) -> None:
        for index in range(offset, len(payloads), 4):
            results[index] = client.scan(payloads[index]).verdict

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [Verdict.VIRUS, Verdict.CLEAN] * 20
    assert client.stats.connects <= 4
    assert client.idle_connections <= 4


def test_forked_child_uses_its_own_connections(clamd: ClamdServer):
    client = clamd.client(pooled=True)
    assert client.scan(eicar()).verdict is Verdict.VIRUS
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: the parent's pooled socket must not be used here
        try:
            ok = client.scan(eicar()).name == EICAR_NAME and client.stats.connects == 2
            os.write(write_end, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write_end)
    answer = os.read(read_end, 1)
    os.close(read_end)
    os.waitpid(pid, 0)
    assert answer == b"1"
    # The parent's connection is still good.
    assert client.scan(eicar()).name == EICAR_NAME
    assert client.stats.connects == 1


def test_unseekable_stream_still_scans(clamd: ClamdServer):
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            return self._data.read(size)

    assert clamd.client().scan(Pipe(mails.eicar_in_zip())).name == EICAR_NAME  # type: ignore[arg-type]


def test_client_from_a_string_address(clamd: ClamdServer):
    client = ClamdClient(f"unix:{clamd.layout.local_socket}")
    try:
        assert client.ping() and client.version().startswith("ClamAV ")
    finally:
        client.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    before=st.binary(max_size=20_000),
    after=st.binary(max_size=2_000),
    infected=st.booleans(),
    chunk=st.integers(min_value=1, max_value=70_000),
)
def test_eicar_anywhere_in_random_data(clamd: ClamdServer, before, after, infected, chunk):
    # The EICAR body signature matches wherever the string sits, across any chunking; without
    # it random bytes are clean, never an error.
    data = before + (eicar() if infected else b"") + after
    result = clamd.client(chunk_size=chunk).scan(data)
    if infected:
        assert result.verdict is Verdict.VIRUS and result.name == EICAR_NAME
    else:
        assert result.verdict is not Verdict.ERROR
