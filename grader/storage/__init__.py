"""Storage: one SQLAlchemy engine per app, a session per request, Alembic migrations."""
from __future__ import annotations

import fcntl
import os
import threading
import time
import weakref
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import g
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from grader import jsontext
from grader.storage import prepared

EXTENSION = "grader.storage"
MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(app) -> str:
    """GRADER_DATABASE_URL when set; else a SQLite file in the instance folder."""
    return app.config["DATABASE_URL"] or f"sqlite:///{Path(app.instance_path) / 'grader.sqlite'}"


def make_engine(url: str):
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, json_serializer=jsontext.dumps)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=jsontext.dumps)


def _sqlite_pragmas(dbapi_connection, _record):
    # WAL lets readers run beside the writer; synchronous=FULL makes each commit durable
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def init_app(app) -> None:
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    engine = make_engine(database_url(app))
    app.extensions[EXTENSION] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def insert_new(db, *objects) -> None:
    """INSERT new ORM objects in the session's transaction as prepared statements, without the unit
    of work (which cost more than the INSERT itself on the submission path). Only the attributes
    that were set are sent, with the columns' Python defaults for the rest (server defaults apply
    as usual); the objects stay transient (not in the session)."""
    cursor = prepared.Cursor(db)
    for obj in objects:
        table, values = type(obj).__table__, inspect(obj).dict
        params = {}
        for column in table.columns:
            if column.key in values:
                params[column.key] = values[column.key]
            elif column.default is not None and (column.default.is_scalar or column.default.is_callable):
                params[column.key] = column.default.arg(None) if column.default.is_callable else column.default.arg
        key = (table.name, tuple(params))
        statement = _INSERTS.get(key)
        if statement is None:
            statement = _INSERTS[key] = prepared.Prepared(table.insert(), columns=list(params))
        cursor.execute(statement, params)


_INSERTS: dict = {}  # (table, column keys) -> its prepared INSERT


_WRITERS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # SQLite engine -> _Writers
_WRITERS_LOCK = threading.Lock()


class _Writers:
    """One SQLite database's writers: a thread lock for this process's, and an flock on a file
    beside the database for the other processes' (gunicorn workers, a Celery worker)."""

    def __init__(self, database: str | None):
        self.thread_lock, self.pid = threading.Lock(), os.getpid()
        self.path = f"{database}.writers" if database and database != ":memory:" else None
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600) if self.path else None

    def close(self) -> None:
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


@contextmanager
def writing(db):
    """Around a short writing transaction. SQLite takes one writer at a time; a writer that finds it
    busy waits in SQLite's busy handler, which sleeps (up to 100 ms a try), so under load some
    requests waited far longer than any write. Here writers queue instead: on a lock in the process
    and on an flock across processes, woken as soon as the writer before them commits. PostgreSQL
    takes its row locks itself: nothing to do."""
    engine = db.get_bind()
    if engine.dialect.name != "sqlite":
        yield
        return
    with _WRITERS_LOCK:
        writers = _WRITERS.get(engine)
        if writers is None:
            writers = _WRITERS[engine] = _Writers(engine.url.database)
            if writers.fd is not None:
                weakref.finalize(engine, writers.close)  # the lock file's descriptor goes with the engine
    with writers.held():
        yield


def engine_of(app):
    return app.extensions[EXTENSION].kw["bind"]


def session(app) -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = app.extensions[EXTENSION]()
    return g.db_session


def _close_session(_exc=None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


def upgrade(app) -> None:
    """Bring the schema to the newest migration (alembic upgrade head)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine_of(app).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


HEARTBEAT = text("UPDATE heartbeats SET at = :at WHERE id = 1")
FIRST_HEARTBEAT = text("INSERT INTO heartbeats (id, at) VALUES (1, :at)")


def ping(app) -> None:
    """Raise if the database does not take a write: a heartbeat row is updated and committed, so a
    full disk or a read-only database fails here, not only in the next submission."""
    with engine_of(app).begin() as connection:
        if connection.execute(HEARTBEAT, {"at": time.time()}).rowcount == 0:
            connection.execute(FIRST_HEARTBEAT, {"at": time.time()})
