"""Storage: one SQLAlchemy engine per app, a session per request, Alembic migrations."""
from __future__ import annotations

import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import g
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from grader import jsontext
from grader.storage import prepared
from grader.storage.writers import can_group, group_commit, writing  # noqa: F401 (used as storage.writing, ...)

EXTENSION = "grader.storage"
MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(app) -> str:
    """GRADER_DATABASE_URL when set; else a SQLite file in the instance folder."""
    return app.config["DATABASE_URL"] or f"sqlite:///{Path(app.instance_path) / 'grader.sqlite'}"


# connections kept open: a gthread worker's threads (8 by default) and a group commit's batch;
# SQLAlchemy's default of 5 closed and reopened a connection on most requests at 16 clients
POOL_SIZE = 10


def make_engine(url: str):
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, json_serializer=jsontext.dumps, pool_size=POOL_SIZE)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=jsontext.dumps, pool_size=POOL_SIZE)


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


def insertions(dialect, *objects) -> list[prepared.Bound]:
    """The INSERTs of new ORM objects as prepared statements with their parameters bound, to run
    without the unit of work (which cost more than the INSERT itself on the submission path). Only
    the attributes that were set are sent, with the columns' Python defaults for the rest (server
    defaults apply as usual); the objects stay transient (not in a session). A plain object with a
    __table__ and the columns as attributes (storage.models.NewSubmission) is inserted alike."""
    bound = []
    for obj in objects:
        values = inspect(obj).dict if hasattr(obj, "_sa_instance_state") else vars(obj)  # an ORM row, or a plain one
        key = (obj.__table__, tuple(values))
        insert = _INSERTS.get(key)
        if insert is None:
            insert = _INSERTS[key] = _Insert(obj.__table__, values)
        bound.append(insert.bind(dialect, values))
    return bound


class _Insert:
    """A table's INSERT for objects with the same attributes set: which columns they give, and the
    Python defaults of the others, found once (a submission's table has 27 columns to look through)."""

    def __init__(self, table, given):
        self.given = [column.key for column in table.columns if column.key in given]
        self.defaults = [(column.key, column.default) for column in table.columns if column.key not in given
                         and column.default is not None and (column.default.is_scalar or column.default.is_callable)]
        self.statement = prepared.Prepared(table.insert(), columns=self.given + [key for key, _ in self.defaults])

    def bind(self, dialect, values: dict) -> prepared.Bound:
        params = {key: values[key] for key in self.given}
        for key, default in self.defaults:
            params[key] = default.arg(None) if default.is_callable else default.arg
        return prepared.Bound(self.statement, dialect, params)


_INSERTS: dict = {}  # (table, the attributes set) -> its _Insert


def engine_of(app):
    return app.extensions[EXTENSION].kw["bind"]


def session(app) -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = app.extensions[EXTENSION]()
    return g.db_session


class LazySession:
    """A session opened on its first use. The numeric fast lane's requests often need none (the key
    cached, no course, a group commit on its own connection), and opening and closing one cost a
    few percent of such a request. get_bind, rollback and close need no session; anything else
    opens it and goes to it."""

    __slots__ = ("_factory", "_session")

    def __init__(self, factory: sessionmaker):
        self._factory, self._session = factory, None

    def get_bind(self):
        return self._factory.kw["bind"]

    def rollback(self) -> None:
        if self._session is not None:
            self._session.rollback()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def __getattr__(self, name):
        if self._session is None:
            self._session = self._factory()
        return getattr(self._session, name)


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
