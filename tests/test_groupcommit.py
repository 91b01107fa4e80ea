"""Group commit on SQLite (grader.storage.writers): writes queued while a batch commits share the
next transaction; one that fails is rolled back alone (under a savepoint, or by running the others
again without it), a batch that cannot commit tells every writer, and a submission that turns out to
owe a grade passback is stored on its own path with it."""
import fcntl
import os
import threading
import time

import numpy as np
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from grader import ratelimit, service, storage
from grader.lti import passback
from grader.problems import TooManyRequests
from grader.storage import writers
from grader.storage.prepared import Prepared
from tests.conftest import count_submissions


def note(value):
    """A work that writes one row of its own (a rate counter named after value)."""
    def work(cursor):
        cursor.run(f"INSERT INTO rate_counters (bucket, window_start, count) VALUES ('note:{value}', 0, 1)")
        return value
    return work


def notes(app) -> list[str]:
    with storage.engine_of(app).connect() as connection:
        rows = connection.exec_driver_sql("SELECT bucket FROM rate_counters WHERE bucket LIKE 'note:%' ORDER BY 1")
        return [bucket.removeprefix("note:") for (bucket,) in rows]


def in_one_batch(app, works, *, clean=None, cleans=None):
    """Run works[0] as a batch of its own that waits until the rest are queued, so that the rest
    share the next batch; each work's (result or error) and the batch sizes seen. cleans: each
    work's own `clean` (else `clean` for all)."""
    with app.app_context():
        engine = storage.engine_of(app)
        db = storage.session(app)
        queue = writers._writers(engine).batches
        release, sizes, outcomes = threading.Event(), [], {}
        original = writers._commit

        def counted(engine_, batch, checkout):
            sizes.append(len(batch))
            return original(engine_, batch, checkout)

        def first(cursor):
            release.wait(30)
            return works[0](cursor)

        def submit(index, work):
            with app.app_context():
                try:
                    outcomes[index] = ("result", storage.group_commit(
                        storage.session(app), work, clean=cleans[index] if cleans else clean))
                except Exception as error:  # the outcome is what the test compares
                    outcomes[index] = ("error", error)

        writers._commit = counted
        try:
            threads = [threading.Thread(target=submit, args=(0, first))]
            threads[0].start()
            deadline = time.monotonic() + 30
            while not sizes and time.monotonic() < deadline:  # the first batch is under way
                time.sleep(0.01)
            threads += [threading.Thread(target=submit, args=(k, work)) for k, work in enumerate(works[1:], 1)]
            for thread in threads[1:]:
                thread.start()
            while len(queue.queued) < len(works) - 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            release.set()
            for thread in threads:
                thread.join(30)
        finally:
            writers._commit = original
        assert db is not None
    return outcomes, sizes


NOTE = Prepared(text("INSERT INTO rate_counters (bucket, window_start, count) VALUES (:bucket, 0, 1)"))
TALLY = Prepared(text("INSERT INTO rate_counters (bucket, window_start, count) VALUES ('note:tally', 0, :n) "
                      "ON CONFLICT (bucket, window_start) DO UPDATE SET count = rate_counters.count + excluded.count"))


def held_note(value, tally=0):
    """A work whose row is sent with a prepared INSERT (one that a batch may hold and merge), and
    with tally, an upsert adding it to one shared row."""
    def work(cursor):
        cursor.execute(NOTE, {"bucket": f"note:{value}"})
        if tally:
            cursor.execute(TALLY, {"n": tally})
        return value
    return work


def statements_sent(app, sent: list):
    """Record every SQL statement the driver runs on connections checked out from now on."""
    def trace(dbapi_connection, _record, _proxy):
        dbapi_connection.set_trace_callback(sent.append)
    event.listen(storage.engine_of(app), "checkout", trace)
    return lambda: event.remove(storage.engine_of(app), "checkout", trace)


def test_the_rows_a_batch_inserts_go_as_one_statement_per_table(app):
    """Each INSERT statement is sent once for the whole batch, with a row per write, and an upsert
    of the same row by several writes adds them all, as one statement per write would."""
    sent = []
    stop = statements_sent(app, sent)
    try:
        outcomes, sizes = in_one_batch(app, [held_note("a", 1), held_note("b", 10), held_note("c", 100),
                                             held_note("d", 1000)], clean=(KeyError,))
    finally:
        stop()
    assert sizes == [1, 3]
    assert outcomes == {k: ("result", v) for k, v in enumerate("abcd")}
    assert notes(app) == ["a", "b", "c", "d", "tally"]
    with storage.engine_of(app).connect() as connection:
        assert connection.exec_driver_sql("SELECT count FROM rate_counters WHERE bucket = 'note:tally'").scalar() == 1111
    inserts = [sql for sql in sent if sql.startswith("INSERT INTO rate_counters")]
    assert len(inserts) == 4  # batch 1: its note and its tally; batch 2: three notes in one, three tallies in one
    assert all(f"'note:{v}'" in inserts[2] for v in "bcd") and inserts[3].count("excluded.count") == 1


def test_a_held_row_that_fails_is_told_apart_by_sending_each_on_its_own(app, caplog):
    """A merged INSERT that fails does not say whose row it was: the batch runs again with each
    statement on its own (and says so in the log), the failing write is set aside with its error
    and the others are stored."""
    with caplog.at_level("WARNING", logger="grader.storage.writers"):
        outcomes, sizes = in_one_batch(app, [held_note("a"), held_note("b"), held_note("a"), held_note("c")],
                                       clean=(KeyError,))
    assert [r.getMessage() for r in caplog.records] == ["a batch's merged rows failed; sent one by one"]
    assert isinstance(caplog.records[0].exc_info[1], IntegrityError)  # the merged statement's own error
    assert sizes == [1, 3]
    assert outcomes[1] == ("result", "b") and outcomes[3] == ("result", "c")
    assert isinstance(outcomes[2][1], IntegrityError)
    assert notes(app) == ["a", "b", "c"]


def test_a_write_under_a_savepoint_sees_the_held_rows_of_the_writes_before_it(app):
    """Rows held for merging are sent before a write that runs under its own savepoint, so it sees
    the batch as it would have without merging."""
    def counts(cursor):
        return cursor.execute(Prepared(text("SELECT count(*) FROM rate_counters WHERE bucket LIKE 'note:%'")), {})[0][0]
    outcomes, sizes = in_one_batch(app, [held_note("a"), held_note("b"), counts, held_note("d")],
                                   cleans=[(KeyError,), (KeyError,), None, (KeyError,)])
    assert sizes == [1, 3]
    assert outcomes[2] == ("result", 2) and notes(app) == ["a", "b", "d"]


def test_writes_queued_during_a_commit_share_the_next_one(app):
    outcomes, sizes = in_one_batch(app, [note("a"), note("b"), note("c"), note("d")])
    assert sizes == [1, 3]
    assert outcomes == {0: ("result", "a"), 1: ("result", "b"), 2: ("result", "c"), 3: ("result", "d")}
    assert notes(app) == ["a", "b", "c", "d"]


def test_a_failing_write_is_rolled_back_alone(app):
    def fails_after_writing(cursor):
        note("x")(cursor)
        raise ValueError("refused")
    outcomes, sizes = in_one_batch(app, [note("a"), note("b"), fails_after_writing, note("c")])
    assert sizes == [1, 3]
    assert isinstance(outcomes[2][1], ValueError) and outcomes[3] == ("result", "c")
    assert notes(app) == ["a", "b", "c"]


def test_a_clean_refusal_keeps_the_batch(app):
    def refuses(cursor):
        raise KeyError("nothing written")
    outcomes, _ = in_one_batch(app, [note("a"), note("b"), refuses], clean=(KeyError,))
    assert isinstance(outcomes[2][1], KeyError) and notes(app) == ["a", "b"]


def test_in_memory_databases_are_not_grouped(tmp_path):
    from grader import create_app
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "s"})
    with app.app_context():
        assert not storage.can_group(storage.session(app))


def test_a_submission_linked_meanwhile_is_stored_with_its_passback(app, client, admin, fetch_instance, monkeypatch):
    """An LTI launch links the learner after the submission looked (owes_deliveries said no): the
    grouped write sees the link, steps back, and the submission is stored on the path that
    schedules its passback."""
    assert client.post("/api/v1/courses", json={"id": "c1", "title": "RNNs"}, headers=admin).status_code == 201
    ann = {"Authorization": "Bearer " + client.post("/api/v1/courses/c1/learners", json={"learners": ["ann"], "keys": True},
                                                    headers=admin).json[0]["key"]}
    assert client.post("/api/v1/courses/c1/assignments", json={"exercise_id": "linear-bptt"},
                       headers=admin).status_code == 201
    scheduled = []
    monkeypatch.setattr(service, "owes_deliveries", lambda db, row: False)
    monkeypatch.setattr(passback, "linked", lambda cursor, row: True)
    monkeypatch.setattr(service, "schedule_deliveries", lambda db, row: scheduled.append(row.id) or 0)
    instance = fetch_instance("linear-bptt", ann)
    answer = {k: np.asarray(v).tolist() for k, v in app.extensions["grader.context"].catalog["linear-bptt"]
              .solve(instance["arrays"]).items()}
    response = client.post("/api/v1/submissions", json={"exercise_id": "linear-bptt", "kind": "numeric",
                                                        "instance_token": instance["token"], "answer": answer},
                           headers=ann)
    assert response.status_code == 201, response.json
    assert response.json["assignment_id"] is not None
    assert scheduled == [response.json["id"]] and count_submissions(app) == 1


@pytest.mark.parametrize("clean", [None, (KeyError,)])
def test_a_commit_that_fails_stores_nothing_and_tells_every_writer(app, clean, monkeypatch):
    def commit(_cursor):
        raise OSError("disk full")
    monkeypatch.setattr(writers._Merging, "commit", commit)
    outcomes, sizes = in_one_batch(app, [note("a"), note("b"), note("c")], clean=clean)
    assert sizes == [1, 2]
    assert all(kind == "error" and isinstance(error, OSError) for kind, error in outcomes.values())
    assert notes(app) == []


def test_a_batch_that_gets_no_connection_stores_nothing_and_says_so(app, monkeypatch):
    """The batches' connection cannot be opened (the pool times out, no file descriptors): the
    batch's writer gets the error and nothing is stored; the next batch opens the connection."""
    from sqlalchemy.exc import TimeoutError as PoolTimeout
    engine = storage.engine_of(app)
    original, calls = engine.raw_connection, []

    def first_refused():
        calls.append(1)
        if len(calls) == 1:
            raise PoolTimeout("QueuePool limit reached")
        return original()
    monkeypatch.setattr(engine, "raw_connection", first_refused)
    with app.app_context():
        with pytest.raises(PoolTimeout):
            storage.group_commit(storage.session(app), note("a"))
        assert storage.group_commit(storage.session(app), note("b")) == "b"
        opened = len(calls)
    assert notes(app) == ["b"] and opened == 2


def test_batches_keep_one_connection_out_of_the_pool(app, monkeypatch):
    """A pool checkout and checkin per batch cost a tenth of it: the batches open their connection
    once and keep it, and the sessions' pool is left to the requests."""
    engine = storage.engine_of(app)
    original, calls = engine.raw_connection, []

    def counted():
        calls.append(1)
        return original()
    monkeypatch.setattr(engine, "raw_connection", counted)
    with app.app_context():
        for value in "abc":
            assert storage.group_commit(storage.session(app), note(value)) == value
        opened, checked_out = len(calls), engine.pool.checkedout()
    assert notes(app) == ["a", "b", "c"] and opened == 1 and checked_out == 1


def test_a_connection_that_cannot_roll_back_is_closed_and_replaced(app, monkeypatch):
    """A batch that did not commit rolls its transaction back on the kept connection; if even that
    fails, the connection is closed and the next batch opens another."""
    with app.app_context():
        assert storage.group_commit(storage.session(app), note("a")) == "a"
        kept = writers._writers(storage.engine_of(app)).batches.connection
        first = kept.connection

        def fails(*_self):
            raise OSError("disk gone")
        with monkeypatch.context() as patched:
            patched.setattr(writers._Merging, "commit", fails)
            patched.setattr(first, "rollback", fails)
            with pytest.raises(OSError):
                storage.group_commit(storage.session(app), note("x"))
        assert kept.connection is None and not first.is_valid
        assert storage.group_commit(storage.session(app), note("b")) == "b"
        assert kept.connection is not None and kept.connection is not first
    assert notes(app) == ["a", "b"]


def test_an_unforeseen_error_sets_its_write_aside_and_the_others_are_stored(app):
    """A write that fails after writing, with no savepoint to take it back alone: the transaction is
    rolled back and run again without it."""
    def breaks_after_writing(cursor):
        note("y")(cursor)
        raise RuntimeError("unforeseen")
    outcomes, sizes = in_one_batch(app, [note("a"), note("b"), breaks_after_writing, note("c")], clean=(KeyError,))
    assert sizes == [1, 3]
    assert isinstance(outcomes[2][1], RuntimeError) and outcomes[1] == ("result", "b") and outcomes[3] == ("result", "c")
    assert notes(app) == ["a", "b", "c"]


def test_writes_queued_while_another_process_commits_share_the_next_batch(app):
    """Another process (a gunicorn worker) holds the writers' flock: the writes this process queues
    meanwhile wait for it together and share one transaction, one fsync, instead of the first
    leader's batch being fixed before the wait."""
    import fcntl
    import os
    with app.app_context():
        engine = storage.engine_of(app)
        queue = writers._writers(engine).batches
        other = os.open(f"{engine.url.database}.writers", os.O_RDWR)  # an open file of its own: another holder
        fcntl.flock(other, fcntl.LOCK_EX)
        sizes, original = [], writers._commit

        def counted(engine_, batch, checkout):
            sizes.append(len(batch))
            return original(engine_, batch, checkout)

        outcomes = {}

        def submit(index):
            with app.app_context():
                outcomes[index] = storage.group_commit(storage.session(app), note(str(index)))

        writers._commit = counted
        threads = [threading.Thread(target=submit, args=(k,)) for k in range(3)]
        try:
            threads[0].start()
            deadline = time.monotonic() + 30
            while not queue.leading and time.monotonic() < deadline:  # the first leads, and waits
                time.sleep(0.01)
            for thread in threads[1:]:
                thread.start()
            while len(queue.queued) + sum(sizes) < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            fcntl.flock(other, fcntl.LOCK_UN)
            os.close(other)
            for thread in threads:
                thread.join(30)
            writers._commit = original
    assert sizes == [3]
    assert outcomes == {0: "0", 1: "1", 2: "2"} and notes(app) == ["0", "1", "2"]


def test_a_batch_whose_turn_never_comes_stores_nothing_and_says_so(app, monkeypatch):
    """The writers' flock fails (say, the lock file's disk went away): the queued writers get the
    error, none is run, and the next batch takes its turn as usual."""
    real_flock, calls = writers.fcntl.flock, []
    lock_file = writers._writers(storage.engine_of(app)).fd

    def flock(fd, operation):
        if fd == lock_file:
            calls.append(operation)
            if len(calls) == 1:
                raise OSError("no lock")
        return real_flock(fd, operation)
    monkeypatch.setattr(writers.fcntl, "flock", flock)
    with app.app_context():
        with pytest.raises(OSError, match="no lock"):
            storage.group_commit(storage.session(app), note("a"))
        assert writers._writers(storage.engine_of(app)).batches.queued == []
        assert storage.group_commit(storage.session(app), note("b")) == "b"
    assert notes(app) == ["b"]


def test_a_batch_takes_its_connection_before_the_writers_lock(app, monkeypatch):
    """A solo writer (storage.writing) waits for the writers' lock holding a pooled connection; a
    leader that held the lock while it waited for a connection could stall both until the pool's
    timeout when the pool runs dry. The batch's connection is taken first, the lock after."""
    engine = storage.engine_of(app)
    lock, original, held_at_checkout = writers._writers(engine).thread_lock, engine.raw_connection, []

    def recorded():
        held_at_checkout.append(lock.locked())
        return original()
    monkeypatch.setattr(engine, "raw_connection", recorded)
    with app.app_context():
        assert storage.group_commit(storage.session(app), note("a")) == "a"
    assert held_at_checkout == [False] and notes(app) == ["a"]


def test_a_batch_at_a_rate_limit_stores_as_many_as_the_limit_in_its_order(app):
    """The counts of a batch's submissions are added with its rows and the limits checked once for
    the batch: the first ones within the limit are stored, the rest refused (429, Retry-After) and
    their rows and counts gone, as one upsert per submission decided."""
    limits = {"learner_exercise": {"count": 3, "window_s": 3600}}

    def counted(value):
        def work(cursor):
            ratelimit.count(cursor, limits, learner="max", exercise_id="e1", key_id=None)
            return held_note(value)(cursor)
        return work
    sent = []
    stop = statements_sent(app, sent)
    try:
        outcomes, sizes = in_one_batch(app, [counted(v) for v in "abcde"], clean=(TooManyRequests,))
    finally:
        stop()
    assert sizes == [1, 4]
    assert not any("RETURNING" in sql for sql in sent)  # no statement per submission to read its counts
    assert sum(sql.startswith("SELECT bucket, window_start, count") for sql in sent) == 3  # a; b-e; b-c again
    assert [outcomes[k] for k in range(3)] == [("result", "a"), ("result", "b"), ("result", "c")]
    for k in (3, 4):
        assert isinstance(outcomes[k][1], TooManyRequests) and int(outcomes[k][1].headers["Retry-After"]) >= 1
    assert notes(app) == ["a", "b", "c"]
    with storage.engine_of(app).connect() as connection:
        assert connection.exec_driver_sql("SELECT count FROM rate_counters WHERE bucket LIKE 'le:max%'").all() == [(3,)]


def test_a_write_returns_once_its_batch_is_committed_not_after_the_next_one(app):
    """A write whose batch another thread committed returns without waiting for the next batch,
    which a write queued meanwhile leads: here the next batch waits until that write has returned
    (a waiter woken only when the next batch ends would wait out the 30 s, and the test fail)."""
    engine = storage.engine_of(app)
    with app.app_context():
        queue = writers._writers(engine).batches
    original, sizes, outcomes, threads = writers._commit, [], {}, {}

    def gated(engine_, batch, checkout):
        sizes.append(len(batch))
        if len(sizes) == 1:  # a's batch, with b: committed, then c queues behind it and leads the next
            original(engine_, batch, checkout)
            threads["c"].start()
            deadline = time.monotonic() + 30
            while not queue.queued and time.monotonic() < deadline:
                time.sleep(0.01)
            return None
        threads["b"].join(30)
        outcomes["b had returned when the next batch ran"] = not threads["b"].is_alive()
        return original(engine_, batch, checkout)

    def submit(value):
        with app.app_context():
            outcomes[value] = storage.group_commit(storage.session(app), note(value))

    threads.update({value: threading.Thread(target=submit, args=(value,)) for value in "abc"})
    other = os.open(f"{engine.url.database}.writers", os.O_RDWR)  # holds a's batch back until b is queued
    fcntl.flock(other, fcntl.LOCK_EX)
    writers._commit = gated
    try:
        threads["a"].start()
        deadline = time.monotonic() + 30
        while not queue.leading and time.monotonic() < deadline:
            time.sleep(0.01)
        threads["b"].start()
        while len(queue.queued) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        fcntl.flock(other, fcntl.LOCK_UN)
        for value in "abc":
            threads[value].join(60)
    finally:
        os.close(other)
        writers._commit = original
    assert sizes == [2, 1]
    assert outcomes == {"a": "a", "b": "b", "c": "c", "b had returned when the next batch ran": True}
    assert notes(app) == ["a", "b", "c"]


def test_many_writers_at_once_all_return_with_their_writes_stored(app):
    """Twelve threads writing twenty times each, as gunicorn's threads do under load: every write
    returns its own result once stored, none waits forever (the batch's threads are woken, and one
    queued thread to lead the next), and the batches do group them."""
    sizes, original, results, lock = [], writers._commit, [], threading.Lock()

    def counted(engine_, batch, connection):
        sizes.append(len(batch))
        return original(engine_, batch, connection)

    def writer(k):
        with app.app_context():
            for n in range(20):
                value = f"{k:02d}-{n:02d}"
                result = storage.group_commit(storage.session(app), note(value))
                with lock:
                    results.append(result == value)

    writers._commit = counted
    try:
        threads = [threading.Thread(target=writer, args=(k,), daemon=True) for k in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)  # a liveness deadline, not a timing
        assert not any(thread.is_alive() for thread in threads)
    finally:
        writers._commit = original
    assert len(results) == 240 and all(results)
    assert len(notes(app)) == 240 and sum(sizes) == 240 and len(sizes) < 240


class Interrupted(BaseException):
    """What a signal's KeyboardInterrupt or a green thread's timeout raises in a waiting writer."""


class InterruptedWait:
    """A unit's wake-up lock whose waiter is interrupted: while it waits ("waiting", once told to),
    or just as it is woken to lead the next batch ("woken")."""

    def __init__(self, lock, when: str, now: threading.Event):
        self.lock, self.when, self.now = lock, when, now

    def acquire(self):
        if self.when == "woken":
            self.lock.acquire()
        else:
            self.now.wait(30)
        raise Interrupted

    def release(self):
        self.lock.release()


@pytest.mark.parametrize("when", ["waiting", "woken"])
def test_a_writer_interrupted_while_it_waits_stores_nothing_and_the_others_go_on(app, monkeypatch, when):
    """b waits behind a's batch and c behind b; b is interrupted while it waits, or just as it is
    woken to lead the next batch. Its write is not stored, c's batch still runs and later writes
    too (a lead handed to an interrupted thread would leave every later writer waiting forever)."""
    engine = storage.engine_of(app)
    with app.app_context():
        queue = writers._writers(engine).batches
    original_unit, original_commit = writers._Unit, writers._commit
    works = {value: note(value) for value in "abcd"}
    now, outcomes, sizes = threading.Event(), {}, []

    def unit(work, clean):
        made = original_unit(work, clean)
        if work is works["b"]:
            made.woken = InterruptedWait(made.woken, when, now)
        return made

    def gated(engine_, batch, connection):
        sizes.append(len(batch))
        if len(sizes) == 1:  # a's batch: committed once b and c wait behind it (and b has given up)
            deadline = time.monotonic() + 30
            while len(queue.queued) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            if when == "waiting":
                now.set()
                threads["b"].join(30)
        return original_commit(engine_, batch, connection)

    def submit(value):
        with app.app_context():
            try:
                outcomes[value] = storage.group_commit(storage.session(app), works[value])
            except Interrupted:
                outcomes[value] = "interrupted"

    threads = {value: threading.Thread(target=submit, args=(value,), daemon=True) for value in "abcd"}
    monkeypatch.setattr(writers, "_Unit", unit)
    monkeypatch.setattr(writers, "_commit", gated)
    threads["a"].start()
    deadline = time.monotonic() + 30
    while not sizes and time.monotonic() < deadline:
        time.sleep(0.01)
    for waiting, value in enumerate("bc", 1):  # b queues first, then c
        threads[value].start()
        while len(queue.queued) < waiting and time.monotonic() < deadline:
            time.sleep(0.01)
    for value in "abc":
        threads[value].join(30)  # a liveness deadline, not a timing
    threads["d"].start()
    threads["d"].join(30)
    assert outcomes == {"a": "a", "b": "interrupted", "c": "c", "d": "d"}
    assert notes(app) == ["a", "c", "d"] and not queue.leading and queue.queued == []


def test_every_writer_queued_behind_a_batch_without_a_connection_gets_its_error(app, monkeypatch):
    """The connection cannot be opened while writers wait behind the batch: each of them gets the
    error (none is left waiting, none is told it was stored), and nothing is stored."""
    from sqlalchemy.exc import TimeoutError as PoolTimeout
    engine = storage.engine_of(app)
    with app.app_context():
        queue = writers._writers(engine).batches
    queue.connection.close()  # the next batch opens one
    queued, outcomes = threading.Event(), {}

    def refused():
        queued.wait(30)  # b and c have queued behind this batch
        raise PoolTimeout("QueuePool limit reached")

    def submit(value):
        with app.app_context():
            try:
                outcomes[value] = storage.group_commit(storage.session(app), note(value))
            except PoolTimeout as error:
                outcomes[value] = error

    monkeypatch.setattr(engine, "raw_connection", refused)
    threads = {value: threading.Thread(target=submit, args=(value,), daemon=True) for value in "abc"}
    threads["a"].start()
    deadline = time.monotonic() + 30
    while not queue.leading and time.monotonic() < deadline:
        time.sleep(0.01)
    for value in "bc":
        threads[value].start()
    while len(queue.queued) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    queued.set()
    for thread in threads.values():
        thread.join(30)  # a liveness deadline, not a timing
    assert sorted(outcomes) == ["a", "b", "c"]
    assert all(isinstance(outcome, PoolTimeout) for outcome in outcomes.values())
    monkeypatch.undo()
    assert notes(app) == [] and not queue.leading
