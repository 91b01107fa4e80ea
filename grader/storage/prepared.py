"""Statements compiled once per dialect and run on the DBAPI cursor of the session's transaction.

A submission's writes are a few short statements; SQLAlchemy's execution layer (a context, a
result and its events per statement) cost more than the statements themselves. Here each one is
compiled once per dialect to the driver's own SQL and parameter style, its parameters go through
the same bind processors SQLAlchemy would apply (UTC timestamps, JSON, booleans), and the driver
runs it in the session's transaction, so it commits or rolls back with everything else. psycopg
prepares a statement on the server once it has run a few times.

A driver error is raised as SQLAlchemy's own exception (IntegrityError, OperationalError, ...), so
callers and the error handlers treat it as any other.
"""
from __future__ import annotations

import weakref

from sqlalchemy import exc


class Prepared:
    """One statement (text() or Core), compiled per dialect on first use.

    columns: for an INSERT of a table, the column keys it sends (the rest take their defaults)."""

    def __init__(self, statement, columns=None):
        self.statement, self.columns = statement, columns
        self._compiled = weakref.WeakKeyDictionary()  # per dialect: its paramstyle, its JSON serializer

    def compiled(self, dialect):
        entry = self._compiled.get(dialect)
        if entry is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=self.columns)
            processors = {}
            for bind, name in compiled.bind_names.items():
                processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if processor is not None:
                    processors[name] = processor
            entry = self._compiled[dialect] = (compiled.string, compiled.positiontup, processors)
        return entry


class Bound:
    """A statement with its parameters already in the driver's form: what a writer holding a lock
    only has to send."""

    __slots__ = ("sql", "values")

    def __init__(self, prepared: Prepared, dialect, params: dict):
        self.sql, order, processors = prepared.compiled(dialect)
        self.values = _values(params, order, processors)


def _values(params: dict, order, processors: dict):
    if processors:
        params = {name: (processors[name](value) if name in processors else value) for name, value in params.items()}
    return [params[name] for name in order] if order else params


class Cursor:
    """A transaction seen through its DBAPI cursor: a session's (Cursor.of) or a batch's."""

    def __init__(self, driver_connection, dialect):
        self.connection, self.dialect = driver_connection, dialect
        self.cursor = driver_connection.cursor()

    holds_rows = False  # a group commit's cursor may hold rows to send them together (storage.writers)

    @classmethod
    def of(cls, db) -> "Cursor":
        """The session's transaction (begun if it was not)."""
        connection = db.connection()
        return cls(connection.connection.driver_connection, connection.dialect)

    def run(self, sql: str) -> None:
        """A statement without parameters (BEGIN, SAVEPOINT, ...)."""
        self._call(self.cursor.execute, sql, ())

    def commit(self) -> None:
        self._call(lambda _sql, _values: self.connection.commit(), "COMMIT", ())

    def rollback(self) -> None:
        self._call(lambda _sql, _values: self.connection.rollback(), "ROLLBACK", ())

    def execute(self, prepared: Prepared, params: dict) -> list[tuple]:
        """Run one statement; its rows when it returns any."""
        return self.send(Bound(prepared, self.dialect, params))

    def send(self, bound: Bound) -> list[tuple]:
        return self._call(self._rows, bound.sql, bound.values)

    def _rows(self, sql, values) -> list[tuple]:
        self.cursor.execute(sql, values)
        return self.cursor.fetchall() if self.cursor.description else []

    def execute_many(self, prepared: Prepared, rows: list[dict]) -> None:
        sql, order, processors = prepared.compiled(self.dialect)
        self._call(self.cursor.executemany, sql, [_values(params, order, processors) for params in rows])

    def _call(self, method, sql, values):
        """method(sql, values), a driver error raised as SQLAlchemy's own exception."""
        try:
            return method(sql, values)
        except self.dialect.loaded_dbapi.Error as error:
            raise exc.DBAPIError.instance(sql, values, error, self.dialect.loaded_dbapi.Error,
                                          dialect=self.dialect) from error
