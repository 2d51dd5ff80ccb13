"""The Bayes token store on a real PostgreSQL: counts, totals, seen messages, forgetting, the
worker cache, two workers at once (one after the other and truly at once), export/import; the
memory store as its twin; and the learning pipeline (:func:`learn_messages`) against learning
message by message."""

from __future__ import annotations

import random
import threading
from array import array
from collections import Counter

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmgfast.spam import learn
from pmgfast.spam.bayes import BayesFilter, key_of
from pmgfast.spam.bayes_store import MemoryTokenStore, PgTokenStore, message_key
from pmgfast.spam.corpus import labelled_corpus
from pmgfast.spam.engine import SpamEngine
from pmgfast.spam.learn import learn_messages
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


def test_two_learners_at_once(connect):
    """Two learners flush overlapping tokens at the same moment, round after round: the row
    locks of the merge make one wait for the other, and no count is lost (nor a deadlock)."""
    rng = random.Random(6)
    plans = [
        [
            [(ids(*rng.sample(range(3000), 300)), rng.random() < 0.5) for _ in range(15)]
            for _ in range(6)
        ]
        for _ in range(2)
    ]
    barrier = threading.Barrier(2, timeout=60)
    errors: list[BaseException] = []

    def learner(n: int) -> None:
        try:
            store = PgTokenStore(connect)
            for r, messages in enumerate(plans[n]):
                for m, (token_ids, spam) in enumerate(messages):
                    store.learn(token_ids, spam, f"learner{n}-{r}-{m}")
                barrier.wait()
                store.flush()
        except BaseException as err:
            errors.append(err)
            barrier.abort()

    threads = [threading.Thread(target=learner, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    mem = MemoryTokenStore()
    for plan in plans:
        for messages in plan:
            for token_ids, spam in messages:
                mem.learn(token_ids, spam)
    fresh = PgTokenStore(connect)
    assert list(fresh.dump()) == list(mem.dump())
    assert (
        fresh.totals()
        == mem.totals()
        == (
            sum(s for plan in plans for ms in plan for _, s in ms),
            sum(not s for plan in plans for ms in plan for _, s in ms),
        )
    )


def test_a_token_inserted_by_another_learner_meanwhile_is_merged(connect):
    """Learner A inserts token 7 and has not committed when learner B's MERGE reaches it: B
    waits for A, meets a unique violation, rolls back to its savepoint and merges the batch
    with INSERT ... ON CONFLICT, so both counts land."""
    a = connect()
    a.execute("INSERT INTO BayesToken (Token, Spam, Ham, ATime) VALUES (7, 1, 0, 0)")
    b = PgTokenStore(connect)
    b.learn(ids(5, 7, 9), True, "b")
    errors: list[BaseException] = []

    def flush() -> None:
        try:
            b.flush()
        except BaseException as err:
            errors.append(err)

    thread = threading.Thread(target=flush)
    thread.start()
    watcher = connect()
    for _ in range(600):  # until B waits for A's transaction (at most a minute)
        row = watcher.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()
        watcher.commit()
        if row and row[0]:
            break
        thread.join(0.1)
    else:
        raise AssertionError("learner B never waited for learner A")
    a.commit()
    thread.join()
    assert not errors and b.merge_fallbacks == 1
    spam, ham = PgTokenStore(connect).counts(ids(5, 7, 9))
    assert list(spam) == [1, 2, 1] and list(ham) == [0, 0, 0]
    assert PgTokenStore(connect).seen("b") == "S"


_TOKEN = st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(0, 40))  # small: overlaps

_OPS = st.lists(
    st.tuples(
        st.lists(_TOKEN, min_size=1, max_size=20, unique=True),
        st.booleans(),
        st.sampled_from([1, 1, 1, -1]),
    ),
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
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
    # relearning a message learned in an earlier batch moves its counts
    token_ids = bayes.token_ids(view)
    assert bayes.learn(view, False).status == "learned"
    store.flush()
    assert bayes.learn(view, True).status == "relearned"
    store.flush()
    fresh = PgTokenStore(connect)
    assert fresh.totals() == (1, 0) and fresh.seen(key_of(view)) == "S"
    spam, ham = fresh.counts(token_ids)
    assert set(spam) == {1} and set(ham) == {0}
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


def _stream(corpus) -> list[tuple[bytes, bool | None]]:
    """Corpus mail with everything learning meets: new messages of both classes, the same
    message again (already), with the other label (relearned), forgotten, and forgetting a
    message never learned (unknown)."""
    samples = labelled_corpus(corpus / "spamassassin")[::90]
    messages = [(s.path.read_bytes(), s.spam) for s in samples]
    never = labelled_corpus(corpus / "spamassassin")[1].path.read_bytes()
    stream: list[tuple[bytes, bool | None]] = list(messages)
    stream += messages[:4]
    stream += [(raw, not spam) for raw, spam in messages[4:8]]
    stream += [(raw, None) for raw, _ in messages[8:11]] + [(never, None)]
    stream += messages[9:10]  # forgotten, then learned again
    return stream


def _one_by_one(stream: list[tuple[bytes, bool | None]]) -> tuple[MemoryTokenStore, Counter[str]]:
    store = MemoryTokenStore()
    bayes = BayesFilter(store)
    engine = SpamEngine()
    statuses: Counter[str] = Counter()
    for raw, label in stream:
        view = engine.view(raw)
        result = bayes.forget(view) if label is None else bayes.learn(view, label)
        statuses[result.status] += 1
    return store, statuses


@pytest.mark.parametrize("batch", [7, 1000])
def test_learn_messages_matches_learning_one_by_one(connect, corpus, monkeypatch, batch):
    """The pipeline (reader thread, chunks, batched flushes, the token cap) learns what
    BayesFilter.learn/forget do message by message, into PostgreSQL and into memory."""
    monkeypatch.setattr(learn, "CHUNK", 5)
    stream = _stream(corpus)
    expected, statuses = _one_by_one(stream)
    assert set(statuses) == {"learned", "already", "relearned", "forgotten", "unknown"}
    pg = PgTokenStore(connect)
    summary = learn_messages(SpamEngine(), BayesFilter(pg), stream, batch, max_tokens=3000)
    assert summary.counts == statuses and summary.messages == len(stream)
    assert pg.pending_messages == 0
    assert PgTokenStore(connect).totals() == expected.totals()
    assert list(PgTokenStore(connect).dump()) == list(expected.dump())
    mem = MemoryTokenStore()
    assert learn_messages(SpamEngine(), BayesFilter(mem), stream, batch).counts == statuses
    assert list(mem.dump()) == list(expected.dump())


def test_two_pipelines_at_once(connect, corpus):
    """``pmgfast bayes learn --ham`` and ``--spam`` running at the same time on one database."""
    samples = labelled_corpus(corpus / "spamassassin")[::40]
    ham = [(s.path.read_bytes(), False) for s in samples if not s.spam]
    spam = [(s.path.read_bytes(), True) for s in samples if s.spam]
    errors: list[BaseException] = []

    def run(messages: list[tuple[bytes, bool | None]]) -> None:
        try:
            learn_messages(SpamEngine(), BayesFilter(PgTokenStore(connect)), messages, 9)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=run, args=(m,)) for m in (ham, spam)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    expected, _ = _one_by_one([*ham, *spam])
    fresh = PgTokenStore(connect)
    assert fresh.totals() == expected.totals() == (len(spam), len(ham))
    assert list(fresh.dump()) == list(expected.dump())


def _reader_alive() -> bool:
    return any(t.name == "bayes-reader" for t in threading.enumerate())


def test_learn_messages_raises_the_readers_error(monkeypatch):
    def messages():
        yield mail(), True
        raise OSError("disk gone")

    store = MemoryTokenStore()
    with pytest.raises(OSError, match="disk gone"):
        learn_messages(SpamEngine(), BayesFilter(store), messages())
    assert not _reader_alive()


def test_learn_messages_stops_the_reader_when_the_store_fails(monkeypatch):
    monkeypatch.setattr(learn, "CHUNK", 1)
    monkeypatch.setattr(learn, "AHEAD", 1)

    class Failing(MemoryTokenStore):
        pending_messages = 1

        def flush(self) -> None:
            raise psycopg.OperationalError("server closed the connection")

    endless = ((mail(body=f"message {i}\n"), bool(i % 2)) for i in range(10_000))
    with pytest.raises(psycopg.OperationalError):
        learn_messages(SpamEngine(), BayesFilter(Failing()), endless, batch=1)
    assert not _reader_alive()
