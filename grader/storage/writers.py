"""SQLite's writers: one at a time, queued instead of sleeping, and committed in groups.

SQLite takes one writer at a time; a writer that finds it busy waits in SQLite's busy handler,
which sleeps (up to 100 ms a try). Writers here queue instead: on a lock in the process and an
flock across processes (gunicorn workers, a Celery worker), woken as soon as the writer before
them commits (`writing`).

With synchronous=FULL every commit also waits for the disk, and the writers behind it wait too.
`group_commit` lets concurrent submissions share one transaction and one fsync: each request
queues its writes as a function of a cursor; the first to find no batch in progress leads: when
its process's turn among the writers comes, it takes every write queued so far (those queued while
another process committed included), runs each in turn, commits once and wakes the others. A write
that is refused (a rate limit passed, a duplicate Idempotency-Key) or fails is taken out alone and
its error goes back to its request: under its own SAVEPOINT, or, for a write that promises to be
refused only before it writes anything, by running the batch again without it. The rows of those
writes go as one multi-row INSERT per statement (_Merging). A request returns only after the commit
that holds its writes, so a response still means the submission is on disk. PostgreSQL runs its
writers side by side and groups their WAL flushes itself: there, both are plain transactions.
"""
from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
import weakref
from contextlib import contextmanager

from grader.storage.prepared import Bound, Cursor

logger = logging.getLogger(__name__)

_WRITERS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # SQLite engine -> _Writers
_WRITERS_LOCK = threading.Lock()


class _Writers:
    """One SQLite database's writers: a thread lock for this process's, and an flock on a file
    beside the database for the other processes'."""

    def __init__(self, database: str | None):
        self.thread_lock, self.pid = threading.Lock(), os.getpid()
        self.path = f"{database}.writers" if database and database != ":memory:" else None
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600) if self.path else None
        self.batches = _Batches(self)

    def close(self) -> None:
        self.batches.connection.close()
        if self.fd is not None and self.pid == os.getpid():  # after a fork the number is the parent's
            os.close(self.fd)
            self.fd = None

    @contextmanager
    def held(self):
        with self.thread_lock:
            if self.fd is None:
                yield
                return
            if self.pid != os.getpid():  # forked: an flock shared with the parent would exclude nobody
                os.close(self.fd)
                self.fd, self.pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
            fcntl.flock(self.fd, fcntl.LOCK_EX)  # the kernel wakes the next writer when this one is done
            try:
                yield
            finally:
                fcntl.flock(self.fd, fcntl.LOCK_UN)


def _writers(engine) -> _Writers:
    with _WRITERS_LOCK:
        writers = _WRITERS.get(engine)
        if writers is None:
            writers = _WRITERS[engine] = _Writers(engine.url.database)
            if writers.fd is not None:
                weakref.finalize(engine, writers.close)  # the lock file's descriptor goes with the engine
    return writers


@contextmanager
def writing(db):
    """Around a short writing transaction of the session: on SQLite, its turn among the writers."""
    engine = db.get_bind()
    if engine.dialect.name != "sqlite":
        yield
        return
    with _writers(engine).held():
        yield


def can_group(db) -> bool:
    """Whether group_commit shares transactions here: a SQLite file (each connection of an
    in-memory database is a database of its own)."""
    engine = db.get_bind()
    return engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")


def group_commit(db, work, *, clean: tuple[type[Exception], ...] | None = None):
    """Run work(cursor) in a transaction shared with the writes other threads queue meanwhile, on a
    connection of the session's engine (not the session's own); return its result once committed,
    or raise its error or the commit's. A work that fails is rolled back alone, under a savepoint.
    With clean=(exception types), the work promises to raise those only with nothing written, and
    runs without a savepoint (two statements fewer); any other error of it fails the whole batch.
    Such a work's single-row INSERTs are held and sent with the batch's others after every work
    ran (_Merging): its reads do not see the rows held before it, and a statement it sends at once
    goes ahead of them, so it reads only what the batch does not write (an LTI link, say)."""
    return _writers(db.get_bind()).batches.run(db.get_bind(), _Unit(work, clean))


class _Unit:
    __slots__ = ("work", "clean", "result", "error", "lead", "woken")

    def __init__(self, work, clean):
        self.work, self.clean, self.result, self.error = work, clean, None, None
        self.lead = False  # chosen to lead the next batch
        self.woken = threading.Lock()  # held until its thread is to return or to lead the next batch
        self.woken.acquire()


class _Batches:
    def __init__(self, writers: _Writers):
        self.writers = writers  # whose lock a batch holds while it commits
        self.queued: list[_Unit] = []
        self.leading = False  # a thread is committing a batch
        self.connection = _Connection()  # used by the leading thread only
        self.lock = threading.Lock()  # guards queued and leading

    def run(self, engine, unit: _Unit):
        """Queue the unit; lead a batch when none is under way, else wait until one has taken and
        committed it. When a batch ends, the threads of its units wake together and return, and the
        first unit queued meanwhile wakes to lead the next batch; the others sleep on (a condition
        that woke every waiter cost each of them the GIL, the new leader included, to sleep again)."""
        with self.lock:
            self.queued.append(unit)
            lead, self.leading = not self.leading, True
        if not lead:
            try:
                unit.woken.acquire()  # released once: when its batch ended, or when it is to lead the next
            except BaseException:  # interrupted (a signal, a green thread's timeout) while it waited
                self._abandon(unit)
                raise
            lead = unit.lead
        if lead:
            taken: list[_Unit] = []
            try:
                self._lead(engine, taken)
            finally:
                self._wake(taken)
        if unit.error is not None:
            raise unit.error
        return unit.result

    def _wake(self, taken: list[_Unit]) -> None:
        """A batch ended: wake its units' threads, and the first queued unit's to lead the next."""
        with self.lock:
            following = self._hand_over()
        for unit in taken:
            unit.woken.release()
        if following is not None:
            following.woken.release()

    def _abandon(self, unit: _Unit) -> None:
        """A waiting thread gave up: its unit leaves the queue unrun (one a batch took already is
        committed or failed with it); if it had been chosen to lead the next batch, the lead passes
        on, else every later writer would wait forever for a batch nobody leads."""
        with self.lock:
            if unit in self.queued:
                self.queued.remove(unit)
            following = self._hand_over() if unit.lead else None
        if following is not None:
            following.woken.release()

    def _hand_over(self) -> _Unit | None:
        """With self.lock held: the first queued unit is to lead the next batch (the caller wakes it)."""
        following = self.queued[0] if self.queued else None
        self.leading = following is not None
        if following is not None:
            following.lead = True
        return following

    def _lead(self, engine, taken: list[_Unit]) -> None:
        """Commit what is queued once this process's turn among the writers comes: the writes that
        queue while another process commits join this batch instead of waiting for the next one.
        taken: the units this batch took, committed or failed."""
        try:
            self.connection.get(engine)  # opened before the lock: opening one may wait for a file
            with self.writers.held():
                taken += self._take()
                _commit(engine, taken, self.connection)
        except BaseException as error:  # no connection, the lock failed, or the commit was interrupted:
            rest = self._take()         # none of what is still queued was run
            for unit in rest:
                unit.error = error
            taken += rest
            if not isinstance(error, Exception):
                raise

    def _take(self) -> list[_Unit]:
        with self.lock:
            batch, self.queued = self.queued, []
        return batch


class _Connection:
    """The batches' own connection to the database, opened on the first batch and kept: a pool
    checkout and checkin per batch (the pool's events, its rollback on return) cost a tenth of a
    batch. It is given up after a batch whose transaction could not be rolled back, and a process
    forked from the one that opened it leaves the parent's alone and asks the engine for another
    (the engine's pool must then be the child's own: each gunicorn worker creates its app, and with
    it its engine, after the fork)."""

    def __init__(self):
        self.connection, self.pid = None, None

    def get(self, engine):
        if self.connection is None or self.pid != os.getpid():
            self.connection, self.pid = engine.raw_connection(), os.getpid()
        return self.connection

    def driver_connection(self):
        return self.connection.driver_connection

    def ended_uncommitted(self) -> None:
        """After a batch that did not commit: its transaction rolled back, or the connection closed."""
        try:
            self.connection.rollback()
        except Exception:  # a connection that cannot roll back is closed; the next batch opens one
            logger.warning("the batch connection could not roll back; it is closed", exc_info=True)
            self.close()

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None and self.pid == os.getpid():
            connection.invalidate()  # closed, not returned to the pool


def _commit(engine, batch: list[_Unit], connection: _Connection) -> None:
    """With the writers' lock held, run the batch's units in one transaction on the batches'
    connection and commit it. A unit whose unforeseen error spoils the transaction is set aside
    with its error and the others run again in a new one; a failed commit (or connection) is every
    remaining unit's error. The clean units' INSERTs go as one multi-row statement each (_Merging);
    if one of those fails, the batch runs again with every statement sent on its own, which tells
    whose it was."""
    remaining, committed = list(batch), False
    try:
        cursor = _Merging(connection.driver_connection(), engine.dialect)
        while remaining:
            cursor.run("BEGIN IMMEDIATE")  # the write lock now, not at the first write after a read
            try:
                spoiler = _run_all(cursor, remaining)
                if spoiler is None:
                    cursor.flush()
            except _Unmerged as failed:  # whose row failed is not known: once more, each statement on its own
                logger.warning("a batch's merged rows failed; sent one by one", exc_info=failed.__cause__)
                cursor.rollback()
                cursor.merging = False
                continue
            refused = cursor.run_checks() if spoiler is None else {}
            if refused:  # their rows are in the transaction: once more without them
                cursor.rollback()
                for unit, error in refused.items():
                    unit.error = error
                remaining = [unit for unit in remaining if unit not in refused]
                continue
            if spoiler is None:
                cursor.commit()
                committed = True
                break
            cursor.rollback()
            remaining = [unit for unit in remaining if unit is not spoiler]  # each decided anew
    except BaseException as error:  # not committed: nobody's writes are stored
        for unit in remaining:
            unit.error = unit.error or error
        if not isinstance(error, Exception):
            raise
    finally:
        if not committed:
            connection.ended_uncommitted()


def _run_all(cursor: "_Merging", units: list[_Unit]):
    """Each unit in turn: its refusal or failure is its own (its writes gone, the others' kept); the
    unit whose unforeseen error leaves writes that cannot be taken back alone, or None."""
    cursor.held.clear()
    cursor.checks.clear()
    for unit in units:
        unit.result, unit.error = None, None
        if unit.clean is not None:
            held, checks = len(cursor.held), len(cursor.checks)
            cursor.unit = unit
            try:
                unit.result = unit.work(cursor)
            except unit.clean as refused:  # nothing of it was written
                unit.error = refused
                del cursor.held[held:], cursor.checks[checks:]
            except Exception as error:
                unit.error = error
                return unit
            continue
        cursor.flush()  # a unit under a savepoint sends its statements at once, after those held before it
        merging, cursor.merging = cursor.merging, False
        cursor.run("SAVEPOINT unit")
        try:
            unit.result = unit.work(cursor)
        except Exception as error:
            unit.error = error
            cursor.run("ROLLBACK TO unit")
        finally:
            cursor.merging = merging
        cursor.run("RELEASE unit")
    return None


class _Merging(Cursor):
    """A batch's cursor. While `merging`, an INSERT of one row that returns nothing is held instead
    of sent, and flush() sends the held ones as one multi-row INSERT per statement, in the order each
    statement was first held (a row that needs another's, a slug row its submission, comes after it,
    as long as each table's rows have one statement: a NewSubmission binds every column).
    SQLite runs the rows of one INSERT in order, an upsert's ON CONFLICT clause row by row, so that is
    what sending them one by one does, with a statement per table instead of one per row: each
    statement sent costs its thread the GIL back, and the other threads of the worker are grading."""

    def __init__(self, driver_connection, dialect):
        super().__init__(driver_connection, dialect)
        self.merging = True
        self.held: list[tuple[str, list]] = []  # (sql, its row's values), in the order sent
        self.checks: list[tuple] = []  # (check, item, unit): see check_later
        self.unit: _Unit | None = None  # the clean unit running

    @property
    def holds_rows(self) -> bool:
        return self.merging

    def check_later(self, check, item) -> None:
        """Once the batch's rows are sent, check(cursor, items) is called with the items of every
        unit (in the batch's order) and returns {position: error} of those refused: they are taken
        out of the batch with that error (one of their clean refusals) and the rest run again."""
        self.checks.append((check, item, self.unit))

    def run_checks(self) -> dict:
        """{unit: its refusal} of the checks held (each check called once, with all its items)."""
        by_check: dict = {}
        for check, item, unit in self.checks:
            by_check.setdefault(check, []).append((item, unit))
        self.checks.clear()
        refused = {}
        for check, entries in by_check.items():
            for position, error in check(self, [item for item, _ in entries]).items():
                refused[entries[position][1]] = error
        return refused

    def send(self, bound: Bound) -> list[tuple]:
        if self.merging and isinstance(bound.values, list) and _rows_of(bound.sql) is not None:
            self.held.append((bound.sql, bound.values))
            return []
        return super().send(bound)

    def execute_many(self, prepared, rows: list[dict]) -> None:
        if not self.merging:
            return super().execute_many(prepared, rows)
        for params in rows:
            self.send(Bound(prepared, self.dialect, params))

    def flush(self) -> None:
        """Send what is held; raise _Unmerged if that fails (a held row's error has no unit to go to)."""
        statements: dict[str, list[list]] = {}
        for sql, values in self.held:
            statements.setdefault(sql, []).append(values)
        self.held.clear()
        try:
            for sql, rows in statements.items():
                head, row, tail = _rows_of(sql)
                per_statement = max(1, MAX_PARAMETERS // max(1, len(rows[0])))
                for start in range(0, len(rows), per_statement):
                    chunk = rows[start:start + per_statement]
                    values = chunk[0] if len(chunk) == 1 else [value for values in chunk for value in values]
                    self._call(self.cursor.execute, head + ", ".join([row] * len(chunk)) + tail, values)
        except Exception as error:
            raise _Unmerged() from error


class _Unmerged(Exception):
    """Held rows failed when sent together."""


MAX_PARAMETERS = 999  # per statement: SQLite's smallest SQLITE_MAX_VARIABLE_NUMBER (3.32 and newer allow 32,766)
_ONE_ROW = re.compile(r"^(INSERT INTO .*? VALUES )(\([^()]*\))(.*)$", re.DOTALL)
_FORMS: dict[str, tuple[str, str, str] | None] = {}


def _rows_of(sql: str):
    """(head, the row's VALUES tuple, tail) of an INSERT of one row that returns nothing, else None."""
    form = _FORMS.get(sql, False)
    if form is False:
        match = _ONE_ROW.match(sql)
        mergeable = match and "RETURNING" not in match.group(3).upper() and "?" not in match.group(1) + match.group(3)
        form = _FORMS[sql] = match.groups() if mergeable else None  # parameters only in the row: rows can repeat
    return form
