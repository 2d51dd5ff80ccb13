"""The greylist table on real PostgreSQL: the SQL state machine against the pure one, the hot
cache's answers written back, SPF reject rows, and the expiry into the statistics."""

from __future__ import annotations

import ipaddress

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmgfast.greylist import store
from pmgfast.greylist.expire import expire
from pmgfast.greylist.greylister import Greylister
from pmgfast.greylist.policy import Constants, Row, step
from pmgfast.greylist.triple import Triple
from tests.greylist.timelines import BOUNCE, NORMAL, START

C = Constants()
T = Triple("1.2.3.0/24", "test1@test.domain.tld", "test1@proxmox.com")
BOUNCE_T = Triple("1.2.3.0/24", "", "test1@proxmox.com")


def test_pmg_timelines_in_sql(conn):
    for triple, timelines in ((T, NORMAL), (BOUNCE_T, BOUNCE)):
        for timeline in timelines:
            conn.execute("DELETE FROM CGreylist")
            model: Row | None = None
            for i, (offset, expected) in enumerate(timeline):
                now = START + offset
                row = store.decide(conn, triple, now, f"i{i}", C)
                model, passed = step(model, now, triple.sender == "", f"i{i}", C)
                assert passed == expected, (offset, row)
                assert row == model


def test_pmg_timelines_through_the_cache(pg_dsn):
    for triple, timelines in ((T, NORMAL), (BOUNCE_T, BOUNCE)):
        for timeline in timelines:
            with psycopg.connect(pg_dsn, autocommit=True) as c:
                c.execute("DELETE FROM CGreylist")
            gl = Greylister(lambda: psycopg.connect(pg_dsn))
            try:
                answers = [
                    gl.check(triple, f"i{i}", START + offset).passed
                    for i, (offset, _) in enumerate(timeline)
                ]
            finally:
                gl.close()
            assert answers == [expected for _, expected in timeline]


def test_cache_answers_known_triples_and_writes_them_back(pg_dsn, conn):
    gl = Greylister(lambda: psycopg.connect(pg_dsn))
    try:
        assert gl.check(T, "a", 1000).source == "table"  # new: deferred
        assert gl.check(T, "b", 1010).source == "cache"  # still within the delay
        first = gl.check(T, "c", 1000 + C.delay)  # the retry: only the table knows
        assert first.passed and first.source == "table"
        again = [gl.check(T, "d", 1000 + C.delay + k) for k in range(1, 6)]
        assert all(a.passed and a.source == "cache" for a in again)
        assert store.lookup(conn, T).passed == 1  # not written yet
        assert gl.flush() == 1
    finally:
        gl.close()
    row = store.lookup(conn, T)
    assert (row.blocked, row.passed, row.delay) == (2, 6, C.delay)
    assert row.extime == 1000 + C.delay + 5 + C.lifetime
    assert (row.rctime, row.instance) == (1000, "a")


def test_written_back_answers_merge_with_other_workers(pg_dsn, conn):
    a = Greylister(lambda: psycopg.connect(pg_dsn))
    b = Greylister(lambda: psycopg.connect(pg_dsn))
    try:
        a.check(T, "x", 0)
        assert a.check(T, "x", C.delay).passed  # passes through the table on worker a
        assert b.check(T, "y", C.delay + 1).passed  # worker b asks the table: passed already
        for k in range(3):
            assert a.check(T, "x", C.delay + 10 + k).source == "cache"
            assert b.check(T, "y", C.delay + 20 + k).source == "cache"
        b.flush()
        a.flush()
    finally:
        a.close()
        b.close()
    row = store.lookup(conn, T)
    assert row.passed == 2 + 6
    assert row.extime == C.delay + 22 + C.lifetime  # the latest pass wins, whoever wrote last


def test_answers_wait_while_the_database_is_down(pg_dsn, conn):
    up = {"ok": True}

    def connect():
        if not up["ok"]:
            raise psycopg.OperationalError("server is down")
        return psycopg.connect(pg_dsn)

    gl = Greylister(connect)
    try:
        gl.check(T, "x", 0)
        gl.check(T, "x", C.delay)
        gl.check(T, "x", C.delay + 1)
        gl._flush_db.close()
        up["ok"] = False
        assert gl.flush() == 0 and gl.cache.pending == 1
        gl.check(T, "x", C.delay + 2)  # still answered from the cache
        up["ok"] = True
        assert gl.flush() == 1
    finally:
        gl.close()
    assert store.lookup(conn, T).passed == 3


def test_a_deleted_row_is_written_again(pg_dsn, conn):
    gl = Greylister(lambda: psycopg.connect(pg_dsn))
    try:
        gl.check(T, "x", 0)
        gl.check(T, "x", C.delay)
        conn.execute("DELETE FROM CGreylist")
        gl.check(T, "x", C.delay + 5)
        gl.flush()
    finally:
        gl.close()
    row = store.lookup(conn, T)
    assert row is not None and row.passed == 2 and row.extime == C.delay + 5 + C.lifetime


triples = st.builds(
    Triple,
    st.sampled_from(["192.0.2.0/24", "2001:db8::/64"]),
    st.sampled_from(["", "a@x.example", "b@y.example"]),
    st.sampled_from(["r@local.example", "s@local.example"]),
)
events = st.lists(
    st.tuples(triples, st.integers(min_value=0, max_value=3 * 24 * 3600)), min_size=1, max_size=25
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events)
def test_cache_and_table_agree_with_the_model(pg_dsn, attempts):
    """Random attempts in time order through the cache: every answer is the pure model's, and
    after a flush every row in the table is the model's row."""
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        c.execute("DELETE FROM CGreylist")
    gl = Greylister(lambda: psycopg.connect(pg_dsn), cache_size=3)
    model: dict[Triple, Row] = {}
    try:
        for i, (triple, now) in enumerate(sorted(attempts, key=lambda e: e[1])):
            row, expected = step(model.get(triple), now, triple.sender == "", f"i{i}", C)
            model[triple] = row
            assert gl.check(triple, f"i{i}", now).passed == expected
        gl.flush()
        with psycopg.connect(pg_dsn) as c:
            for triple, row in model.items():
                stored = store.lookup(c, triple)
                assert (stored.blocked, stored.passed, stored.extime, stored.rctime) == (
                    row.blocked, row.passed, row.extime, row.rctime,
                )  # fmt: skip
    finally:
        gl.close()


def test_spf_reject_row_and_expiry_into_statistics(conn):
    now = 10_000
    spf = Triple("198.51.100.0/24", "liar@spf.example", "r@local.example")
    store.record_spf_reject(conn, spf, now, "m1")
    # one greylisted mail to two recipients that never came back
    for rcpt in ("a@local.example", "b@local.example"):
        store.decide(conn, Triple("192.0.2.0/24", "s@ext.example", rcpt), now, "m2", C)
    # a triple that passed and is still valid, one that passed and expired
    ok = Triple("192.0.2.0/24", "ok@ext.example", "a@local.example")
    store.decide(conn, ok, now, "m3", C)
    store.decide(conn, ok, now + C.delay, "m4", C)
    old = Triple("192.0.2.0/24", "old@ext.example", "a@local.example")
    long_ago = now - C.lifetime - 1000
    store.decide(conn, old, long_ago, "m5", C)
    store.decide(conn, old, long_ago + C.delay, "m6", C)
    assert store.count(conn) == 5

    result = expire(conn, now + C.retry_window + 1)
    assert (result.mails, result.receivers) == (2, 3)
    assert result.deleted == 4  # the SPF row, both never-passed rows, the old passed one
    assert store.lookup(conn, ok) is not None
    rows = conn.execute(
        "SELECT s.Sender, s.Spamlevel, s.Bytes, s.Direction, s.PTime, s.Time,"
        " array_agg(r.Receiver ORDER BY r.Receiver), bool_and(r.Blocked)"
        " FROM CStatistic s JOIN CReceivers r ON r.CStatistic_RID = s.RID"
        " GROUP BY s.RID, s.Sender, s.Spamlevel, s.Bytes, s.Direction, s.PTime, s.Time"
        " ORDER BY s.Sender"
    ).fetchall()
    assert rows == [
        ("liar@spf.example", 4.0, 0, True, 0, now, ["r@local.example"], True),
        ("s@ext.example", 5.0, 0, True, 0, now, ["a@local.example", "b@local.example"], True),
    ]
    assert expire(conn, now + C.retry_window + 1).deleted == 0


def test_triple_networks_fit_the_column():
    for ip in ("255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"):
        t = Triple.make(ipaddress.ip_address(ip), "x" * 400, "y" * 400, 32, 128)
        assert len(t.ipnet) <= 49 and len(t.sender) == 255 and len(t.receiver) == 255
