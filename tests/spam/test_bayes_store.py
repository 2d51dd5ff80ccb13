"""The Bayes token store on a real PostgreSQL: counts, totals, seen messages, forgetting, the
worker cache, two workers at once, export/import; and the memory store as its twin."""

from __future__ import annotations

from array import array

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmgfast.spam.bayes import BayesFilter
from pmgfast.spam.bayes_store import MemoryTokenStore, PgTokenStore, message_key
from pmgfast.spam.engine import SpamEngine
from pmgfast.spam.userprefs import UserPrefsCache, load_user_lists
from tests.spam.mails import mail


@pytest.fixture
def connect(pg_dsn):
    conns = []

    def make():
        conn = psycopg.connect(pg_dsn)
        conns.append(conn)
        return conn

    yield make
    for conn in conns:
        conn.close()


def ids(*values: int) -> array:
    return array("q", sorted(values))


def test_learn_flush_counts_and_totals(connect):
    store = PgTokenStore(connect)
    store.learn(ids(1, 2, 3), True, "k1")
    store.learn(ids(2, 3, 4), False, "k2")
    assert store.totals() == (1, 1)  # pending learning is visible at once
    store.flush()
    other = PgTokenStore(connect)  # another worker
    assert other.totals() == (1, 1)
    spam, ham = other.counts(ids(1, 2, 3, 4, 5))
    assert list(spam) == [1, 1, 1, 0, 0] and list(ham) == [0, 1, 1, 1, 0]
    assert other.seen("k1") == "S" and other.seen("k2") == "H" and other.seen("k3") is None
    assert other.token_count() == 4


def test_forget_clamps_and_deletes_empty_rows(connect):
    store = PgTokenStore(connect)
    store.learn(ids(1, 2), True, "k")
    store.flush()
    store.learn(ids(1, 2), True, "k", count=-1)
    store.learn(ids(9), True, None, count=-1)  # never learned: stays absent, no negative rows
    store.flush()
    assert store.token_count() == 0 and store.seen("k") is None
    assert store.totals() == (0, 0)


def test_cache_expires_after_ttl(connect):
    now = [0.0]
    reader = PgTokenStore(connect, ttl=10, clock=lambda: now[0])
    writer = PgTokenStore(connect)
    assert list(reader.counts(ids(7))[0]) == [0]
    writer.learn(ids(7), True)
    writer.flush()
    assert list(reader.counts(ids(7))[0]) == [0]  # cached
    now[0] = 11
    assert list(reader.counts(ids(7))[0]) == [1]
    assert reader.totals() == (1, 0)


def test_two_workers_learning_the_same_tokens(connect):
    a, b = PgTokenStore(connect), PgTokenStore(connect)
    for i in range(20):
        (a if i % 2 else b).learn(ids(*range(i, i + 50)), bool(i % 3), f"m{i}")
    a.flush()
    b.flush()
    mem = MemoryTokenStore()
    for i in range(20):
        mem.learn(ids(*range(i, i + 50)), bool(i % 3), f"m{i}")
    fresh = PgTokenStore(connect)
    assert list(fresh.dump()) == list(mem.dump())
    assert fresh.totals() == mem.totals()


_OPS = st.lists(
    st.tuples(
        st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=20, unique=True),
        st.booleans(),
        st.sampled_from([1, 1, 1, -1]),
    ),
    max_size=12,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_OPS)
def test_postgres_store_matches_the_memory_store(connect, ops):
    """Any sequence of learning and forgetting gives the same counts in both stores."""
    pg = PgTokenStore(connect)
    pg.clear()
    mem = MemoryTokenStore()
    learned: list[tuple[array, bool]] = []
    for values, spam, count in ops:
        token_ids = ids(*values)
        if count < 0:
            if not learned:
                continue
            token_ids, spam = learned.pop()
        else:
            learned.append((token_ids, spam))
        pg.learn(token_ids, spam, None, count)
        mem.learn(token_ids, spam, None, count)
    pg.flush()
    assert list(pg.dump()) == list(mem.dump())
    assert pg.totals() == mem.totals()


def test_export_import_round_trip(connect):
    store = PgTokenStore(connect)
    store.learn(ids(-5, 3, 2**62), True)
    store.learn(ids(3), False)
    store.flush()
    rows = list(store.dump())
    store.clear()
    assert store.token_count() == 0
    assert store.load(rows, 1, 1) == 3
    assert list(store.dump()) == rows and store.totals() == (1, 1)
    with pytest.raises(ValueError):
        store.load([(1, -1, 0)], 0, 0)


def test_filter_learns_a_message_once_and_relearns_it(connect):
    store = PgTokenStore(connect)
    bayes = BayesFilter(store, min_spam=1, min_ham=1)
    view = SpamEngine().view(mail())
    assert bayes.learn(view, True).status == "learned"
    assert bayes.learn(view, True).status == "already"
    assert bayes.learn(view, False).status == "relearned"
    store.flush()
    assert store.totals() == (0, 1)
    assert bayes.forget(view).status == "forgotten"
    store.flush()
    assert store.totals() == (0, 0) and store.token_count() == 0
    assert message_key(b"a\n\nbody", "<x>") != message_key(b"a\n\nother", "<x>")


def test_user_lists_from_userprefs(connect):
    conn = connect()
    conn.execute(
        "INSERT INTO UserPrefs (PMail, Name, Data, MTime) VALUES "
        "('bob@example.net', 'WL', 'friend@example.org,*@partner.example', 1), "
        "('bob@example.net', 'BL', 'spam?@bad.example', 1), "
        "('carol@example.net', 'BL', '*@bad.example', 1)"
    )
    conn.commit()
    lists = load_user_lists(conn, ["Bob@Example.net", "carol@example.net", "dave@example.net"])
    assert set(lists) == {"bob@example.net", "carol@example.net"}
    bob = lists["bob@example.net"]
    assert bob.welcome.matches(["x@PARTNER.example"]) and bob.welcome.matches(
        ["friend@example.org"]
    )
    assert bob.block.matches(["spam1@bad.example"]) and not bob.block.matches(
        ["spam12@bad.example"]
    )
    now = [0.0]
    cache = UserPrefsCache(connect, ttl=30, clock=lambda: now[0])
    assert set(cache.lists(["carol@example.net", "dave@example.net"])) == {"carol@example.net"}
    conn.execute("DELETE FROM UserPrefs WHERE PMail = 'carol@example.net'")
    conn.commit()
    assert "carol@example.net" in cache.lists(["carol@example.net"])  # cached
    now[0] = 31
    assert cache.lists(["carol@example.net"]) == {}
