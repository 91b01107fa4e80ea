"""Storage: one SQLAlchemy engine per app, a session per request, Alembic migrations."""
from __future__ import annotations

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

EXTENSION = "grader.storage"
MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(app) -> str:
    """GRADER_DATABASE_URL when set; else a SQLite file in the instance folder."""
    return app.config["DATABASE_URL"] or f"sqlite:///{Path(app.instance_path) / 'grader.sqlite'}"


def make_engine(url: str):
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


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
    """INSERT new ORM objects with Core statements in the session's transaction, without the unit of
    work (which cost more than the INSERT itself on the submission path). Only the attributes that
    were set are sent, so column defaults apply; the objects stay transient (not in the session)."""
    connection = db.connection()
    for obj in objects:
        table = type(obj).__table__
        values = inspect(obj).dict
        connection.execute(table.insert(), {column.key: values[column.key] for column in table.columns if column.key in values})


_WRITERS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # SQLite engine -> its writers' lock
_WRITERS_LOCK = threading.Lock()


@contextmanager
def writing(db):
    """Around a short writing transaction. SQLite takes one writer at a time; threads that find it
    busy wait in SQLite's busy handler, which sleeps up to 100 ms between tries, so under load a few
    requests waited far longer than the write itself. Here a process's writers queue on a lock
    instead (the other worker processes still meet the busy handler, rarely). PostgreSQL: no lock."""
    engine = db.get_bind()
    if engine.dialect.name != "sqlite":
        yield
        return
    with _WRITERS_LOCK:
        lock = _WRITERS.setdefault(engine, threading.Lock())
    with lock:
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
