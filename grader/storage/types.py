"""Column types that mean the same on every backend."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timezone-aware instant: converted to UTC on the way in, returned aware (UTC) on the way out.

    PostgreSQL's timestamptz does this itself; SQLite has no time zones and SQLAlchemy would store
    the wall-clock digits of any offset and read them back naive (a -05:00 deadline enforced five
    hours early). Here SQLite stores UTC digits and every value read is aware. A naive value is
    refused: its meaning is unknown.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime cannot be stored ({value!r}): give it a time zone")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
